//! The coordinator role of two-phase commit (the transaction manager).
//!
//! On a client request it assigns a transaction id, routes the transfers to the shards that own
//! the accounts, durably logs `Prepared(t, participants)` and only then sends PREPARE to every
//! participant. Any NO, or a vote missing when the vote timeout fires, means ABORT; all YES means
//! COMMIT. The decision is logged before anyone hears of it: the durable `Commit(t)` record is the
//! point of no return. It then sends the decision and keeps resending it until every participant
//! has acknowledged, logs `Completed(t)` and forgets the transaction.
//!
//! Requests are idempotent: a repeated request id is answered from the cached result (or ignored
//! while still running). After a crash the coordinator rebuilds its table from the WAL, resends
//! the decisions it had logged, and aborts what it has no decision for (presumed abort). A query
//! about a transaction it does not know is answered ABORT for the same reason.
//!
//! In a replicated group a transaction is named after its request, so "not in the log" does not
//! mean "never will be": the client's retry runs the same transaction again. There a presumed
//! abort is a decision like any other: it is logged (`Aborted(t)` with no `Prepared(t)`) before
//! anyone hears it, and it answers the request, so a retry can no longer commit what a
//! participant was told to roll back.

use crate::chunk_map::ChunkMap;
use crate::context::Context;
use crate::effect::{Note, Recovery, Role, Timer, TxnNumbering};
use crate::fnv::Fnv64;
use crate::ids::{Endpoint, NodeId, RequestId, TxnId};
use crate::message::{Decision, Message, Plan, Record, TxnSpec, Work, Write};
use crate::participant::Participant;
use crate::phase::Phase;
use crate::vec_map::{VecMap, VecSet};
use std::sync::Arc;

pub mod saga;
use saga::Saga;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CoordinatorPhase {
    /// `Prepared(t, ...)` is being written.
    Logging,
    /// PREPARE sent; collecting votes.
    Voting,
    /// The decision record is being written.
    Deciding,
    /// The decision is durable and sent; waiting for every ACK.
    Resolving,
    /// Every ACK is in; `Completed(t)` is being written.
    Completing,
}

impl CoordinatorPhase {
    pub fn phase(self) -> Phase {
        match self {
            CoordinatorPhase::Logging => Phase::LoggingPrepared,
            CoordinatorPhase::Voting => Phase::CollectingVotes,
            CoordinatorPhase::Deciding => Phase::LoggingDecision,
            CoordinatorPhase::Resolving => Phase::AwaitingAcks,
            CoordinatorPhase::Completing => Phase::Completing,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoordinatorTxn {
    pub request: RequestId,
    pub participants: Arc<[NodeId]>,
    /// The work to send with PREPARE, kept in the `Prepared` record so a new leader can resend it.
    pub work: Plan,
    /// The participants that voted (bit `i` for `participants[i]`), and those that voted YES.
    voted: u32,
    voted_yes: u32,
    /// The participants that acknowledged the decision.
    acked: u32,
    pub phase: CoordinatorPhase,
    pub decision: Option<Decision>,
    /// Why it aborted (shared with its `Decided` record, the client's reply and the request's
    /// cached answer).
    pub reason: Option<Arc<str>>,
    /// True once the decision has gone out (early only with the `decide_before_log` bug).
    pub decision_sent: bool,
    /// True once PREPARE has gone out: early in a replicated group, where it travels while the
    /// group replicates `Prepared(t)` (seed 002's parallel flow).
    pub prepare_sent: bool,
    /// The co-located shard prepared at the request, before PREPARE went out (seed 002's phase 0
    /// on a single node, revision 2): PREPARE goes only to the others.
    pub prepared_locally: bool,
    /// No participant has heard of it (a single node's refusal at its own pre-check): its
    /// decision goes to nobody and it completes once the decision is durable.
    pub unheard: bool,
}

impl CoordinatorTxn {
    /// A transaction whose `Prepared(t)` record is being written: no votes, no decision yet.
    fn logging(request: RequestId, participants: Arc<[NodeId]>, work: Plan) -> CoordinatorTxn {
        assert!(participants.len() <= 32, "at most 32 participants");
        debug_assert!(participants.windows(2).all(|pair| pair[0] < pair[1]), "participants are named once, in order");
        CoordinatorTxn {
            request,
            participants,
            work,
            voted: 0,
            voted_yes: 0,
            acked: 0,
            phase: CoordinatorPhase::Logging,
            decision: None,
            reason: None,
            decision_sent: false,
            prepare_sent: false,
            prepared_locally: false,
            unheard: false,
        }
    }
}

impl CoordinatorTxn {
    /// The position of `node` among the participants.
    fn position(&self, node: NodeId) -> Option<usize> {
        self.participants.iter().position(|participant| *participant == node)
    }

    fn bit(&self, node: NodeId) -> u32 {
        self.position(node).map_or(0, |position| 1 << position)
    }

    /// The votes in, by participant, in participant order.
    pub fn votes(&self) -> impl Iterator<Item = (NodeId, bool)> + '_ {
        let (voted, yes) = (self.voted, self.voted_yes);
        self.participants
            .iter()
            .enumerate()
            .filter(move |(position, _)| voted >> position & 1 == 1)
            .map(move |(position, participant)| (*participant, yes >> position & 1 == 1))
    }

    pub fn has_voted(&self, node: NodeId) -> bool {
        self.voted & self.bit(node) != 0
    }

    /// The participants that acknowledged the decision, in participant order.
    pub fn acks(&self) -> impl Iterator<Item = NodeId> + '_ {
        let acked = self.acked;
        self.participants
            .iter()
            .enumerate()
            .filter(move |(position, _)| acked >> position & 1 == 1)
            .map(|(_, node)| *node)
    }

    pub fn has_acked(&self, node: NodeId) -> bool {
        self.acked & self.bit(node) != 0
    }

    /// Every participant voted, and YES.
    fn all_yes(&self) -> bool {
        self.voted.count_ones() as usize == self.participants.len() && self.voted_yes == self.voted
    }

    /// Every participant acknowledged.
    fn all_acked(&self) -> bool {
        self.acked.count_ones() as usize >= self.participants.len()
    }
}

/// What the coordinator remembers of a client request.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RequestState {
    Running(TxnId),
    Done { txn: Option<TxnId>, decision: Decision, reason: Option<Arc<str>> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coordinator {
    numbering: TxnNumbering,
    next_txn: u32,
    txns: VecMap<TxnId, CoordinatorTxn>,
    /// Every request seen (a table that only grows: shared between copies, see [`ChunkMap`]).
    requests: ChunkMap<RequestId, RequestState>,
    /// Transactions are named after their requests (a replicated group; see `new_txn`).
    by_request: bool,
    /// What each request asked for (the fingerprint of its planned work), so a request id reused
    /// for another transfer is refused (revision 2). Rebuilt from `Prepared` records that log
    /// their work.
    asked: ChunkMap<RequestId, u64>,
    /// The sagas this node orchestrates (requests run as sagas instead of 2PC).
    sagas: VecMap<TxnId, Saga>,
    /// Replicated groups: transactions queried about with no record in the log, whose presumed
    /// abort is being logged, with the participants to tell once it is durable.
    presuming: VecMap<TxnId, VecSet<NodeId>>,
    /// The decisions of completed transactions (a table that only grows), for late queries
    /// (revision 3).
    completed: ChunkMap<TxnId, Decision>,
}

impl Coordinator {
    /// Rebuilds the coordinator from its WAL (empty at first start), resending logged decisions and
    /// aborting undecided transactions.
    pub fn recover<'a>(
        numbering: TxnNumbering,
        log: impl Iterator<Item = &'a Record>,
        context: &mut Context,
    ) -> Coordinator {
        let mut coordinator = Coordinator {
            numbering,
            next_txn: numbering.first,
            txns: VecMap::new(),
            requests: ChunkMap::new(),
            by_request: context.config.recovery == Recovery::Resume,
            asked: ChunkMap::new(),
            sagas: VecMap::new(),
            presuming: VecMap::new(),
            completed: ChunkMap::new(),
        };
        for record in log {
            coordinator.replay(record);
        }
        coordinator.resume_sagas(context);
        let txns: Vec<TxnId> = coordinator.txns.keys().copied().collect();
        for txn in txns {
            let entry = &coordinator.txns[&txn];
            match entry.decision {
                None if context.config.recovery == Recovery::Resume => coordinator.resume(txn, context),
                None => {
                    let reason = "presumed abort: no decision logged before the coordinator crashed";
                    coordinator.decide(txn, Decision::Abort, Some(reason.to_string()), context);
                }
                Some(decision) => {
                    context.note(Note::Phase { txn, role: Role::Coordinator, phase: Phase::ResendingDecision });
                    coordinator.send_decision(txn, decision, context);
                }
            }
        }
        coordinator
    }

    /// Replays one durable record into the tables, with no effects: how a replica of a
    /// coordinator group keeps its copy of the transaction table.
    pub fn replay(&mut self, record: &Record) {
        match record {
            Record::Prepared { txn, request, participants, work } => {
                self.next_txn = self.next_txn.max(txn.0 + self.numbering.stride);
                self.requests.insert(*request, RequestState::Running(*txn));
                if !work.is_empty() {
                    self.asked.insert(*request, fingerprint(work));
                }
                self.txns.insert(
                    *txn,
                    CoordinatorTxn {
                        phase: CoordinatorPhase::Voting,
                        ..CoordinatorTxn::logging(*request, participants.clone(), work.clone())
                    },
                );
            }
            Record::Decided { txn, decision, reason } => {
                let done = RequestState::Done { txn: Some(*txn), decision: *decision, reason: reason.clone() };
                if let Some(entry) = self.txns.get_mut(txn) {
                    entry.decision = Some(*decision);
                    entry.reason = reason.clone();
                    entry.phase = CoordinatorPhase::Resolving;
                    self.requests.insert(entry.request, done);
                } else if self.by_request {
                    // `Aborted(t)` without its `Prepared(t)`: a presumed abort a leader logged
                    // before answering a query (see `presume_abort`), or, under Multi-Paxos, a
                    // slot chosen while an earlier one became a no-op (the old leader logged both,
                    // only the later reached a majority). The request is answered either way: run
                    // again, it would be decided a second time.
                    self.requests.insert(RequestId(txn.0), done);
                }
            }
            Record::Completed { txn } => {
                self.forget(*txn);
            }
            Record::SagaBegun { .. }
            | Record::SagaStepDone { .. }
            | Record::SagaCompensated { .. }
            | Record::SagaEnded { .. } => self.replay_saga(record),
            Record::PrepareVote { .. }
            | Record::Outcome { .. }
            | Record::StepApplied { .. }
            | Record::StepRefused { .. }
            | Record::StepCompensated { .. } => {}
        }
    }

    pub fn txns(&self) -> &VecMap<TxnId, CoordinatorTxn> {
        &self.txns
    }

    pub fn requests(&self) -> &ChunkMap<RequestId, RequestState> {
        &self.requests
    }

    /// A client request. On a single node: log `Prepared(t)`, and PREPARE once it is durable. In a
    /// replicated group, seed 002's flow: the co-located shard's pre-checks first (a failed one
    /// aborts before anyone hears of the transaction), then the group replicates `Prepared(t)` and
    /// the local prepare record while PREPARE is already on its way; the decision waits for both.
    pub fn on_request(
        &mut self,
        request: RequestId,
        spec: &TxnSpec,
        local: Option<&mut Participant>,
        context: &mut Context,
    ) {
        let revision = context.config.revision;
        let planned = plan(spec, context);
        let asked = planned.as_ref().ok().filter(|_| revision.refuses_reused_request()).map(fingerprint);
        if let Some(now) = asked {
            if let Some(first) = self.asked.get(&request) {
                if *first != now {
                    let reason = format!("{request} already names another transfer; a request id names one transfer");
                    context.send(Endpoint::Client, Message::Refused { request, reason });
                    return;
                }
            }
        }
        match self.requests.get(&request) {
            Some(RequestState::Done { txn, decision, reason }) => {
                let reply = Message::Reply { request, txn: *txn, decision: *decision, reason: reason.clone() };
                context.send(Endpoint::Client, reply);
                return;
            }
            Some(RequestState::Running(_)) => return,
            None => {}
        }
        if spec.saga {
            if let Some(asked) = asked {
                self.asked.insert(request, asked);
            }
            return self.begin_saga(request, spec, context);
        }
        let parallel = context.config.recovery == Recovery::Resume;
        let work = match planned {
            Ok(work) => work,
            Err(reason) => return self.refuse(request, reason, context),
        };
        if let Some(asked) = asked {
            self.asked.insert(request, asked);
        }
        let txn = self.new_txn(request, parallel);
        let locally_first = parallel || revision.checks_locally_first();
        let checked = match pre_check(&work, local.as_deref(), locally_first, context) {
            Ok(checked) => checked,
            Err(reason) => return self.abort_before_prepare(request, txn, work, reason, context),
        };
        let participants: Arc<[NodeId]> = work.keys().copied().collect();
        // A replicated coordinator resumes a transaction from its log, so it logs the work; from
        // revision 2 a single node logs it too, to know a reused request id after a restart.
        let logged_work = if parallel || revision.refuses_reused_request() { work.clone() } else { Plan::default() };
        context.persist(Record::Prepared { txn, request, participants: participants.clone(), work: logged_work });
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: CoordinatorPhase::Logging.phase() });
        self.requests.insert(request, RequestState::Running(txn));
        let entry = CoordinatorTxn::logging(request, participants, work);
        self.txns.insert(txn, entry);
        if parallel {
            self.prepare_in_parallel(txn, local, checked, context);
        } else if revision.checks_locally_first() {
            self.prepare_locally(txn, local, checked, context);
        }
    }

    /// Seed 002's phase 0 on a single node (revision 2): the co-located shard locks and logs its
    /// part now, beside `Prepared(t)`; PREPARE goes to the others once `Prepared(t)` is durable.
    /// `checked` is its pre-check's result, if it ran (the shard has not changed since).
    fn prepare_locally(
        &mut self,
        txn: TxnId,
        local: Option<&mut Participant>,
        checked: Option<Vec<Write>>,
        context: &mut Context,
    ) {
        let (Some(local), Some(own)) = (local, own_address(context)) else { return };
        let entry = self.txns.get_mut(&txn).expect("just inserted");
        if let Some(work) = entry.work.get(&own) {
            local.on_prepare_checked(own, txn, work, checked, context);
            entry.prepared_locally = true;
        }
    }

    /// Answers a request that cannot run: nothing was logged and nobody was asked.
    fn refuse(&mut self, request: RequestId, reason: String, context: &mut Context) {
        let reason = Some(Arc::from(reason));
        let reply = Message::Reply { request, txn: None, decision: Decision::Abort, reason: reason.clone() };
        context.send(Endpoint::Client, reply);
        self.requests.insert(request, RequestState::Done { txn: None, decision: Decision::Abort, reason });
    }

    /// A failed pre-check (in a replicated group, and from revision 2 on a single co-located
    /// coordinator too): no PREPARE goes out, and the refusal is logged
    /// (`Prepared(t)` for the whole transaction, then `Aborted(t)`) before the client hears it, so a
    /// new leader answers a retry the same way instead of running it again. Were `Aborted(t)` lost
    /// with the leader, the new one would resume the whole transaction, which nobody has been told
    /// anything about yet. In a group the ABORT then reaches every participant, as in seed 002's abort
    /// picture; a single node, which asked nobody, tells nobody.
    fn abort_before_prepare(
        &mut self,
        request: RequestId,
        txn: TxnId,
        work: Plan,
        reason: String,
        context: &mut Context,
    ) {
        let participants: Arc<[NodeId]> = work.keys().copied().collect();
        context.persist(Record::Prepared { txn, request, participants: participants.clone(), work: work.clone() });
        self.requests.insert(request, RequestState::Running(txn));
        // A replicated group's ABORT still reaches every participant, as seed 002 draws it; a single
        // node has told nobody and tells nobody.
        let unheard = context.config.recovery == Recovery::PresumeAbort;
        let entry = CoordinatorTxn { unheard, ..CoordinatorTxn::logging(request, participants, work) };
        self.txns.insert(txn, entry);
        self.decide(txn, Decision::Abort, Some(reason), context);
    }

    /// A single node numbers its transactions; a replicated group names each after its request, so
    /// an id is unique without being durable: a new leader that never saw an undurable
    /// `Prepared(t)` cannot give `t` to another transaction while a participant holds it in doubt,
    /// and a retried request runs again as the same transaction.
    fn new_txn(&mut self, request: RequestId, by_request: bool) -> TxnId {
        if by_request {
            return TxnId(request.0);
        }
        let txn = TxnId(self.next_txn);
        self.next_txn += self.numbering.stride;
        txn
    }

    /// Seed 002's parallel flow: the co-located shard prepares now (its record follows
    /// `Prepared(t)` in the group's log), and PREPARE goes to the other participants at once.
    fn prepare_in_parallel(
        &mut self,
        txn: TxnId,
        local: Option<&mut Participant>,
        checked: Option<Vec<Write>>,
        context: &mut Context,
    ) {
        let own = own_address(context);
        let entry = self.txns.get_mut(&txn).expect("just inserted");
        if let (Some(local), Some(own)) = (local, own) {
            if let Some(work) = entry.work.get(&own) {
                local.on_prepare_checked(own, txn, work, checked, context);
            }
        }
        for (participant, work) in &entry.work {
            if Some(*participant) != own {
                context.send(*participant, Message::Prepare { txn, work: work.clone() });
            }
        }
        entry.prepare_sent = true;
        context.set_timer(Timer::VoteTimeout(txn), context.config.timeouts.vote_ms);
        context.set_timer(Timer::ResendPrepare(txn), context.config.timeouts.resend_ms);
    }

    pub fn on_persisted(&mut self, record: &Record, context: &mut Context) {
        match record {
            Record::Prepared { txn, .. } => self.on_prepared_durable(*txn, context),
            Record::Decided { txn, decision, .. } => self.on_decision_durable(*txn, *decision, context),
            Record::Completed { txn } => {
                if self.forget(*txn) {
                    context.note(Note::Phase { txn: *txn, role: Role::Coordinator, phase: Phase::Completed });
                }
            }
            Record::SagaBegun { .. }
            | Record::SagaStepDone { .. }
            | Record::SagaCompensated { .. }
            | Record::SagaEnded { .. } => self.on_saga_persisted(record, context),
            Record::PrepareVote { .. }
            | Record::Outcome { .. }
            | Record::StepApplied { .. }
            | Record::StepRefused { .. }
            | Record::StepCompensated { .. } => {}
        }
    }

    /// `Completed(t)`: the transaction leaves the table; its decision stays for late queries.
    /// Returns whether it was in the table.
    fn forget(&mut self, txn: TxnId) -> bool {
        let Some(entry) = self.txns.remove(&txn) else { return false };
        if let Some(decision) = entry.decision {
            self.completed.insert(txn, decision);
        }
        true
    }

    fn on_prepared_durable(&mut self, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get_mut(&txn) else { return };
        if entry.phase != CoordinatorPhase::Logging {
            return;
        }
        entry.phase = CoordinatorPhase::Voting;
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: entry.phase.phase() });
        if entry.prepare_sent {
            // PREPARE went out with the proposal; the votes that came meanwhile may decide now.
            return self.decide_if_all_voted(txn, context);
        }
        entry.prepare_sent = true;
        let own = if entry.prepared_locally { own_address(context) } else { None };
        for (participant, work) in &entry.work {
            if Some(*participant) != own {
                context.send(*participant, Message::Prepare { txn, work: work.clone() });
            }
        }
        context.set_timer(Timer::VoteTimeout(txn), context.config.timeouts.vote_ms);
        if context.config.recovery == Recovery::Resume {
            context.set_timer(Timer::ResendPrepare(txn), context.config.timeouts.resend_ms);
        }
    }

    /// A new leader of a coordinator group found `txn` still collecting votes in the committed log:
    /// the votes went with the old leader, so it asks again instead of presuming abort.
    fn resume(&mut self, txn: TxnId, context: &mut Context) {
        let entry = self.txns.get_mut(&txn).expect("resume a known transaction");
        entry.phase = CoordinatorPhase::Logging;
        entry.prepare_sent = false;
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: Phase::Resuming });
        self.on_prepared_durable(txn, context);
    }

    /// Sends PREPARE again to the participants that have not voted yet.
    pub fn on_resend_prepare_timeout(&mut self, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get(&txn) else { return };
        if entry.phase != CoordinatorPhase::Voting {
            return;
        }
        for (participant, work) in &entry.work {
            if !entry.has_voted(*participant) {
                context.send(*participant, Message::Prepare { txn, work: work.clone() });
            }
        }
        context.set_timer(Timer::ResendPrepare(txn), context.config.timeouts.resend_ms);
    }

    pub fn on_vote(&mut self, from: NodeId, txn: TxnId, yes: bool, reason: Option<&str>, context: &mut Context) {
        let Some(entry) = self.txns.get_mut(&txn) else { return };
        // In seed 002's parallel flow votes may come while `Prepared(t)` is still replicating, and
        // from revision 2 the co-located shard's may come before PREPARE went to the others.
        let early = entry.prepare_sent || entry.prepared_locally;
        let collecting = entry.phase == CoordinatorPhase::Voting || entry.phase == CoordinatorPhase::Logging && early;
        let Some(position) = entry.position(from).filter(|_| collecting) else { return };
        entry.voted |= 1 << position;
        if yes {
            entry.voted_yes |= 1 << position;
        } else {
            entry.voted_yes &= !(1 << position);
        }
        if !yes {
            let reason = format!("{from} voted NO: {}", reason.unwrap_or("no reason given"));
            self.decide(txn, Decision::Abort, Some(reason), context);
        } else {
            self.decide_if_all_voted(txn, context);
        }
    }

    /// COMMIT once every participant voted YES and `Prepared(t)` is durable: both halves of the
    /// parallel flow must finish before the decision.
    fn decide_if_all_voted(&mut self, txn: TxnId, context: &mut Context) {
        let entry = &self.txns[&txn];
        if entry.phase == CoordinatorPhase::Voting && entry.all_yes() {
            self.decide(txn, Decision::Commit, None, context);
        }
    }

    pub fn on_vote_timeout(&mut self, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get(&txn) else { return };
        if entry.phase != CoordinatorPhase::Voting {
            return;
        }
        let missing: Vec<String> = entry
            .participants
            .iter()
            .filter(|participant| !entry.has_voted(**participant))
            .map(|participant| participant.to_string())
            .collect();
        let reason = format!("vote timeout: no vote from {}", missing.join(", "));
        let decision = if context.config.bugs.commit_on_vote_timeout { Decision::Commit } else { Decision::Abort };
        self.decide(txn, decision, Some(reason), context);
    }

    /// Logs the decision. Everyone hears of it only once it is durable (unless the bug is on).
    fn decide(&mut self, txn: TxnId, decision: Decision, reason: Option<String>, context: &mut Context) {
        let reason: Option<Arc<str>> = reason.map(Arc::from);
        let entry = self.txns.get_mut(&txn).expect("decide on a known transaction");
        assert!(entry.decision.is_none(), "{txn} decided twice");
        entry.phase = CoordinatorPhase::Deciding;
        entry.decision = Some(decision);
        entry.reason = reason.clone();
        context.cancel_timer(Timer::VoteTimeout(txn));
        if context.config.recovery == Recovery::Resume {
            context.cancel_timer(Timer::ResendPrepare(txn));
        }
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: entry.phase.phase() });
        context.persist(Record::Decided { txn, decision, reason: reason.clone() });
        if context.config.bugs.decide_before_log {
            self.send_decision(txn, decision, context);
        }
        if context.config.bugs.reply_before_log {
            let request = self.txns[&txn].request;
            context.send(Endpoint::Client, Message::Reply { request, txn: Some(txn), decision, reason });
        }
    }

    fn on_decision_durable(&mut self, txn: TxnId, decision: Decision, context: &mut Context) {
        if let Some(queriers) = self.presuming.remove(&txn) {
            return self.on_presumed_abort_durable(txn, queriers, context);
        }
        let Some(entry) = self.txns.get_mut(&txn) else { return };
        if entry.phase != CoordinatorPhase::Deciding {
            return;
        }
        entry.phase = CoordinatorPhase::Resolving;
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: entry.phase.phase() });
        let request = entry.request;
        let reason = entry.reason.clone();
        let already_sent = entry.decision_sent || entry.unheard;
        if !context.config.bugs.reply_before_log {
            let reply = Message::Reply { request, txn: Some(txn), decision, reason: reason.clone() };
            context.send(Endpoint::Client, reply);
        }
        self.requests.insert(request, RequestState::Done { txn: Some(txn), decision, reason });
        if !already_sent {
            self.send_decision(txn, decision, context);
        }
        self.complete_if_acknowledged(txn, context);
    }

    fn send_decision(&mut self, txn: TxnId, decision: Decision, context: &mut Context) {
        let entry = self.txns.get_mut(&txn).expect("send the decision of a known transaction");
        entry.decision_sent = true;
        for participant in entry.participants.iter() {
            if !entry.has_acked(*participant) {
                context.send(*participant, Message::Decide { txn, decision });
            }
        }
        context.set_timer(Timer::ResendDecision(txn), context.config.timeouts.resend_ms);
    }

    pub fn on_resend_timeout(&mut self, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get(&txn) else { return };
        let Some(decision) = entry.decision else { return };
        if entry.phase == CoordinatorPhase::Resolving
            || entry.decision_sent && entry.phase == CoordinatorPhase::Deciding
        {
            self.send_decision(txn, decision, context);
        }
    }

    pub fn on_ack(&mut self, from: NodeId, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get_mut(&txn) else { return };
        let Some(position) = entry.position(from).filter(|_| entry.decision.is_some()) else { return };
        entry.acked |= 1 << position;
        self.complete_if_acknowledged(txn, context);
    }

    fn complete_if_acknowledged(&mut self, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get_mut(&txn) else { return };
        let acknowledged = entry.unheard || entry.all_acked();
        if entry.phase != CoordinatorPhase::Resolving || !acknowledged {
            return;
        }
        entry.phase = CoordinatorPhase::Completing;
        context.cancel_timer(Timer::ResendDecision(txn));
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: entry.phase.phase() });
        context.persist(Record::Completed { txn });
    }

    pub fn on_query(&mut self, from: NodeId, txn: TxnId, context: &mut Context) {
        match self.txns.get(&txn) {
            Some(entry) => {
                let resolved = matches!(entry.phase, CoordinatorPhase::Resolving | CoordinatorPhase::Completing);
                if let (true, Some(decision)) = (resolved || entry.decision_sent, entry.decision) {
                    context.send(from, Message::Decide { txn, decision });
                }
            }
            // Completed: a late query (revision 3 answers it with the decision).
            None if context.config.revision.answers_late_queries() && self.completed.contains_key(&txn) => {
                let decision = *self.completed.get(&txn).expect("checked");
                context.send(from, Message::Decide { txn, decision });
            }
            None if self.by_request => self.on_query_not_in_log(from, txn, context),
            // Never logged, or completed and forgotten: presumed abort. Ids are never reused here.
            None => context.send(from, Message::Decide { txn, decision: Decision::Abort }),
        }
    }

    /// A replicated group is asked about a transaction it has no entry for. Never logged (its
    /// `Prepared(t)` was lost with an old leader, which had sent PREPARE while it replicated), it
    /// is presumed aborted; but the client's retry would run it again under the same name and
    /// could commit it after this answer, counting the YES the participant gave the first run. So
    /// the abort is logged before anyone hears it, and it answers the request.
    fn on_query_not_in_log(&mut self, from: NodeId, txn: TxnId, context: &mut Context) {
        match self.requests.get(&RequestId(txn.0)) {
            None => self.presume_abort(from, txn, context),
            // Its presumed abort is being logged: this participant hears it too once it is durable.
            Some(RequestState::Running(_)) if self.presuming.contains_key(&txn) => {
                self.presuming.get_mut(&txn).expect("presuming").insert(from);
            }
            // A presumed abort already logged; or completed and forgotten, which needs every
            // participant's outcome durable first, so a stale query the answer cannot change
            // (presumed abort, as it has always been answered).
            Some(_) => context.send(from, Message::Decide { txn, decision: Decision::Abort }),
        }
    }

    /// Logs the presumed abort of a transaction the group's log does not know, holding its request
    /// as running so a retry arriving meanwhile does not start it.
    fn presume_abort(&mut self, from: NodeId, txn: TxnId, context: &mut Context) {
        let reason = format!("presumed abort: the coordinator's log has no Prepared({txn})");
        self.requests.insert(RequestId(txn.0), RequestState::Running(txn));
        self.presuming.insert(txn, VecSet::from([from]));
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: CoordinatorPhase::Deciding.phase() });
        context.persist(Record::Decided { txn, decision: Decision::Abort, reason: Some(Arc::from(reason)) });
    }

    /// The presumed abort is durable: it answers the request and the participants that asked.
    /// Nothing to complete: the log never named the participants, and a participant still in
    /// doubt asks again and is answered from the request.
    fn on_presumed_abort_durable(&mut self, txn: TxnId, queriers: VecSet<NodeId>, context: &mut Context) {
        let request = RequestId(txn.0);
        let reason: Option<Arc<str>> =
            Some(format!("presumed abort: the coordinator's log has no Prepared({txn})").into());
        let done = RequestState::Done { txn: Some(txn), decision: Decision::Abort, reason: reason.clone() };
        self.requests.insert(request, done);
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: Phase::Completed });
        let reply = Message::Reply { request, txn: Some(txn), decision: Decision::Abort, reason };
        context.send(Endpoint::Client, reply);
        for querier in queriers {
            context.send(querier, Message::Decide { txn, decision: Decision::Abort });
        }
    }
}

/// The address of the coordinator's own shard (its group in the replicated mode), if it has one.
fn own_address(context: &Context) -> Option<NodeId> {
    let shard = context.config.shard?;
    context.config.directory.entry(shard).map(|entry| entry.node)
}

/// Seed 002's phase 0 in a replicated group: the co-located shard checks its own part (balance,
/// lock) before anyone else hears of the transaction; a failure ends it here. Returns the writes
/// the check found, if it ran, for the prepare that follows.
fn pre_check(
    work: &Plan,
    local: Option<&Participant>,
    locally_first: bool,
    context: &Context,
) -> Result<Option<Vec<Write>>, String> {
    let (true, Some(local), Some(own)) = (locally_first, local, own_address(context)) else { return Ok(None) };
    let Some(own_work) = work.get(&own) else { return Ok(None) };
    let ignore_locks = context.config.bugs.ignore_locks;
    local.check(own_work, ignore_locks).map(Some).map_err(|reason| format!("pre-check at {own}: {reason}"))
}

/// A stable fingerprint of a transaction's planned work, to tell a reused request id from a retry.
fn fingerprint(work: &Plan) -> u64 {
    let mut hash = Fnv64::default();
    for (node, part) in work {
        hash.write(&node.0.to_le_bytes());
        for (account, delta) in &part.deltas {
            hash.write(&account.0.to_le_bytes());
            hash.write(&delta.to_le_bytes());
        }
        if let Some(line) = &part.journal {
            hash.write(line.as_bytes());
        }
        hash.write(b";");
    }
    hash.finish()
}

/// Splits a transaction into the work of each participant, by the directory's account ranges.
fn plan(spec: &TxnSpec, context: &Context) -> Result<Plan, String> {
    let directory = &context.config.directory;
    let mut work: Vec<(NodeId, Work)> = Vec::new();
    for transfer in &spec.transfers {
        let amount = i64::try_from(transfer.amount).map_err(|_| format!("amount {} too large", transfer.amount))?;
        for (account, delta) in [(transfer.from, -amount), (transfer.to, amount)] {
            let entry = directory.shard_of(account).ok_or_else(|| format!("no shard holds account {account}"))?;
            let deltas = &mut work_of(&mut work, entry.node).deltas;
            match deltas.iter_mut().find(|(existing, _)| *existing == account) {
                Some((_, total)) => *total += delta,
                None => deltas.push((account, delta)),
            }
        }
    }
    for shard in &spec.journal {
        let entry = directory.entry(*shard).ok_or_else(|| format!("no shard {shard}"))?;
        work_of(&mut work, entry.node).journal = Some(spec.to_string());
    }
    if work.is_empty() {
        return Err("empty transaction".to_string());
    }
    Ok(Plan::new(work))
}

/// The work of `participant` in a plan being built (sorted by participant), added if new.
fn work_of(work: &mut Vec<(NodeId, Work)>, participant: NodeId) -> &mut Work {
    let position = match work.binary_search_by_key(&participant, |(node, _)| *node) {
        Ok(position) => position,
        Err(position) => {
            work.insert(position, (participant, Work::default()));
            position
        }
    };
    &mut work[position].1
}
