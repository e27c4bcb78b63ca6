//! The named invariants of atomic commit, checked after every event.
//!
//! Each check is incremental: it looks only at what the event changed (a record that became
//! durable, a vote sent, the nodes the event touched), so checking after every event stays cheap
//! on runs of hundreds of thousands of events.
//!
//! - **atomicity**: no transaction is committed at one participant and rolled back at another,
//!   and no participant applies an outcome other than the coordinator's logged decision.
//! - **decision-stability**: a logged decision never changes, and the client never hears two outcomes.
//! - **conservation**: the money in the committed view (every balance, with the changes of
//!   transactions not decided COMMIT taken back) is the money the scenario started with.
//! - **exclusive-locks**: no two unresolved transactions change the same account on one shard.
//! - **commit-needs-all-yes**: COMMIT is logged only after every participant voted YES.
//! - **wal-before-yes**: a participant votes YES only once its prepare record is durable.
//! - **commit-needs-decision**: a participant's commit becomes durable only after the coordinator's
//!   COMMIT decision is durable.
//! - **completed-needs-outcomes**: `Completed(t)` is logged only once every participant's outcome
//!   is durable (for COMMIT: every participant committed; for ABORT: no prepare record made before
//!   the decision is left without its rollback; one made after it, by a PREPARE that arrived late,
//!   is resolved by presumed abort when its participant asks).
//! - **reply-matches-decision**: the client hears COMMIT only for a durable COMMIT decision, and
//!   ABORT only for a transaction never logged COMMIT (presumed abort covers what was never logged).
//! - **journal-matches-commit**: a journal line exists exactly when its transaction committed.
//!
//! A saga's end record stands for its decision (stability and the client's reply are checked the
//! same way), and until it ends the changes its steps left are taken back from the committed view,
//! so **conservation** says the money is all there once the saga is over (committed, or every step
//! done compensated). One more property is checked when a scenario runs sagas, and breaks by design:
//!
//! - **isolation**: no transaction changes an account that an unfinished saga has changed (its
//!   half-done state). Two-phase commit keeps it with locks held to the decision; a saga's steps
//!   commit at once and hold nothing, so another transaction sees the money half moved.
//!
//! In the replicated mode a group stands for a node here: its committed entries are its durable
//! records, counted once per group, and the consensus properties are checked in `consensus.rs`.

use crate::scenario::{Engine, Scenario};
use commitlab_protocol::{AccountId, ChunkMap, Decision, Node, NodeId, Record, RequestId, TxnId, Write};
use commitlab_protocol::{VecMap, VecSet};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    Atomicity,
    DecisionStability,
    Conservation,
    ExclusiveLocks,
    CommitNeedsAllYes,
    WalBeforeYes,
    CommitNeedsDecision,
    CompletedNeedsOutcomes,
    ReplyMatchesDecision,
    JournalMatchesCommit,
    Isolation,
    ElectionSafety,
    LogMatching,
    LeaderCompleteness,
    StateMachineSafety,
    OneValuePerSlot,
    SeqAgreement,
    ChosenSurvives,
}

impl Invariant {
    /// The invariants of atomic commit, checked in every mode.
    pub const TWO_PHASE: [Invariant; 10] = [
        Invariant::Atomicity,
        Invariant::DecisionStability,
        Invariant::Conservation,
        Invariant::ExclusiveLocks,
        Invariant::CommitNeedsAllYes,
        Invariant::WalBeforeYes,
        Invariant::CommitNeedsDecision,
        Invariant::CompletedNeedsOutcomes,
        Invariant::ReplyMatchesDecision,
        Invariant::JournalMatchesCommit,
    ];

    /// The safety properties of consensus, checked in the replicated mode.
    pub const CONSENSUS: [Invariant; 4] = [
        Invariant::ElectionSafety,
        Invariant::LogMatching,
        Invariant::LeaderCompleteness,
        Invariant::StateMachineSafety,
    ];

    /// The safety properties of Multi-Paxos, checked when groups run it.
    pub const PAXOS: [Invariant; 3] = [Invariant::OneValuePerSlot, Invariant::SeqAgreement, Invariant::ChosenSurvives];

    /// The invariants that apply to a run of `scenario`, in the order the page lists them.
    pub fn checked(scenario: &Scenario) -> Vec<Invariant> {
        let mut invariants = Invariant::TWO_PHASE.to_vec();
        if scenario.runs_sagas() {
            invariants.push(Invariant::Isolation);
        }
        match scenario.replication.engine {
            Engine::None => {}
            Engine::Raft => invariants.extend(Invariant::CONSENSUS),
            Engine::MultiPaxos => invariants.extend(Invariant::PAXOS),
        }
        invariants
    }

    pub fn name(self) -> &'static str {
        match self {
            Invariant::Atomicity => "atomicity",
            Invariant::DecisionStability => "decision-stability",
            Invariant::Conservation => "conservation",
            Invariant::ExclusiveLocks => "exclusive-locks",
            Invariant::CommitNeedsAllYes => "commit-needs-all-yes",
            Invariant::WalBeforeYes => "wal-before-yes",
            Invariant::CommitNeedsDecision => "commit-needs-decision",
            Invariant::CompletedNeedsOutcomes => "completed-needs-outcomes",
            Invariant::ReplyMatchesDecision => "reply-matches-decision",
            Invariant::JournalMatchesCommit => "journal-matches-commit",
            Invariant::Isolation => "isolation",
            Invariant::ElectionSafety => "election-safety",
            Invariant::LogMatching => "log-matching",
            Invariant::LeaderCompleteness => "leader-completeness",
            Invariant::StateMachineSafety => "state-machine-safety",
            Invariant::OneValuePerSlot => "one-value-per-slot",
            Invariant::SeqAgreement => "seq-agreement",
            Invariant::ChosenSurvives => "chosen-survives",
        }
    }

    /// One sentence for people: what the rule says.
    pub fn description(self) -> &'static str {
        match self {
            Invariant::Atomicity => {
                "no transaction is committed at one participant and rolled back at another, or against the logged decision"
            }
            Invariant::DecisionStability => "a logged decision never changes; the client never hears two outcomes",
            Invariant::Conservation => "the money in the committed view equals the money at the start",
            Invariant::ExclusiveLocks => "no two unresolved transactions change the same account",
            Invariant::CommitNeedsAllYes => "COMMIT is logged only after every participant voted YES",
            Invariant::WalBeforeYes => "a participant votes YES only after its prepare record is durable",
            Invariant::CommitNeedsDecision => "a participant commits only after the coordinator's COMMIT is durable",
            Invariant::CompletedNeedsOutcomes => "Completed is logged only once every participant's outcome is durable",
            Invariant::ReplyMatchesDecision => {
                "the client hears COMMIT only for a durable COMMIT, ABORT only for a transaction never committed"
            }
            Invariant::JournalMatchesCommit => "a journal line exists exactly when its transaction committed",
            Invariant::Isolation => {
                "no transaction changes what an unfinished saga changed (2PC's locks keep this; sagas do not, by design)"
            }
            Invariant::ElectionSafety => "at most one leader is elected in a term, in each group",
            Invariant::LogMatching => {
                "two logs with an entry of the same index and term hold the same entries up to it"
            }
            Invariant::LeaderCompleteness => "a leader's log holds every entry committed before its term",
            Invariant::StateMachineSafety => "no two replicas apply different entries at one index",
            Invariant::OneValuePerSlot => "at most one value is chosen in each Paxos slot: every replica learns the same",
            Invariant::SeqAgreement => "replicas never execute different values at one sequence number and phase",
            Invariant::ChosenSurvives => "a chosen value survives leader changes: a new leader's log holds it",
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A broken invariant: which, where, for which transaction, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Violation {
    pub invariant: Invariant,
    pub nodes: Vec<NodeId>,
    pub txn: Option<TxnId>,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VIOLATION {}", self.invariant)?;
        if let Some(txn) = self.txn {
            write!(f, " {txn}")?;
        }
        let nodes: Vec<String> = self.nodes.iter().map(|node| node.to_string()).collect();
        write!(f, " [{}]: {}", nodes.join(", "), self.detail)
    }
}

/// What the checker remembers between events.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checker {
    initial_money: i64,
    /// The first durable decision of each transaction, with the node that logged it.
    decisions: ChunkMap<TxnId, (Decision, NodeId)>,
    /// What is known of each transaction while it runs (see [`LiveTxn`]).
    live: VecMap<TxnId, LiveTxn>,
    /// Every prepare record that ever became durable (one per participant and transaction), and
    /// whether it did so before the transaction's decision was durable.
    /// (Keyed by transaction first: the keys then mostly arrive in order.)
    durable_prepares: ChunkMap<(TxnId, NodeId), bool>,
    replies: ChunkMap<RequestId, Decision>,
    /// Whether money was conserved after the previous event, so a break is reported once.
    money_conserved: bool,
    /// Lock conflicts already reported (node, account, earlier holder, later holder).
    lock_conflicts: VecSet<(NodeId, AccountId, TxnId, TxnId)>,
    /// What the client was told of each transaction before its decision was durable, and by whom.
    replied: VecMap<TxnId, (Decision, NodeId)>,
    /// Durable prepare records that carry a journal line, until their outcome.
    journal_prepared: VecSet<(NodeId, TxnId)>,
    /// Committed with a journal line: the line must be in the node's journal.
    journal_due: VecSet<(NodeId, TxnId)>,
    /// Journal lines already reported.
    journal_reported: VecSet<(NodeId, TxnId)>,
    /// Sagas whose first record is durable and whose end is not.
    open_sagas: VecSet<TxnId>,
    /// Accounts a saga's durable step changed and no durable compensation took back yet, with
    /// the saga, while it is open.
    saga_touched: VecSet<(NodeId, AccountId, TxnId)>,
    /// Isolation breaks already reported: (the transaction, the saga it saw).
    isolation_reported: VecSet<(TxnId, TxnId)>,
}

impl Checker {
    pub fn new(initial_money: i64) -> Checker {
        Checker {
            initial_money,
            decisions: ChunkMap::new(),
            live: VecMap::new(),
            durable_prepares: ChunkMap::new(),
            replies: ChunkMap::new(),
            money_conserved: true,
            lock_conflicts: VecSet::new(),
            replied: VecMap::new(),
            journal_prepared: VecSet::new(),
            journal_due: VecSet::new(),
            journal_reported: VecSet::new(),
            open_sagas: VecSet::new(),
            saga_touched: VecSet::new(),
            isolation_reported: VecSet::new(),
        }
    }

    /// True while saga `txn` is open: its steps' changes are not yet part of the committed view.
    pub fn is_open_saga(&self, txn: TxnId) -> bool {
        self.open_sagas.contains(&txn)
    }

    pub fn open_sagas(&self) -> &VecSet<TxnId> {
        &self.open_sagas
    }

    /// A transaction's change to these accounts at `node` became durable: an open saga that
    /// changed one of them before is seen half done.
    fn check_isolation(&mut self, node: NodeId, txn: TxnId, writes: &[Write], violations: &mut Vec<Violation>) {
        if self.saga_touched.is_empty() {
            return;
        }
        for write in writes {
            let range = (node, write.account, TxnId(0))..=(node, write.account, TxnId(u32::MAX));
            let seen: Vec<TxnId> =
                self.saga_touched.range(range).map(|(_, _, saga)| *saga).filter(|saga| *saga != txn).collect();
            for saga in seen {
                if self.isolation_reported.insert((txn, saga)) {
                    violations.push(Violation {
                        invariant: Invariant::Isolation,
                        nodes: vec![node],
                        txn: Some(txn),
                        detail: format!(
                            "{txn} changed {} at {node}, which saga {saga} had changed and has not finished: it saw {saga} half done",
                            write.account
                        ),
                    });
                }
            }
        }
    }

    pub fn is_committed(&self, txn: TxnId) -> bool {
        matches!(self.decisions.get(&txn), Some((Decision::Commit, _)))
    }

    /// A record became durable at `node`. Returns what it changed in the committed view beyond
    /// `node`'s own state (see [`ViewChange`]).
    pub fn on_durable(&mut self, node: NodeId, record: &Record, violations: &mut Vec<Violation>) -> ViewChange {
        match record {
            Record::Prepared { txn, participants, .. } => {
                self.live.entry(*txn).or_default().participants = Some(participants.clone());
            }
            Record::Decided { txn, decision, .. } => {
                if self.on_decision(node, *txn, *decision, violations) {
                    return ViewChange::FirstCommit;
                }
            }
            Record::PrepareVote { txn, journal, writes, .. } => {
                self.check_isolation(node, *txn, writes, violations);
                if !self.durable_prepares.contains_key(&(*txn, node)) {
                    let before_decision = !self.decisions.contains_key(txn);
                    self.durable_prepares.insert((*txn, node), before_decision);
                }
                if journal.is_some() {
                    self.journal_prepared.insert((node, *txn));
                }
            }
            Record::Outcome { txn, decision } => {
                let live = self.live.entry(*txn).or_default();
                live.of(node).durable_outcome = Some(*decision);
                if self.journal_prepared.remove(&(node, *txn)) && *decision == Decision::Commit {
                    self.journal_due.insert((node, *txn));
                }
                let logged = self.decisions.get(txn);
                if *decision == Decision::Commit && logged.is_none() {
                    violations.push(Violation {
                        invariant: Invariant::CommitNeedsDecision,
                        nodes: vec![node],
                        txn: Some(*txn),
                        detail: format!("{node} committed {txn} before any coordinator's COMMIT of {txn} was durable"),
                    });
                }
                // The prepare record stays known: a YES vote sent again later (a retransmission, or a
                // bounced vote a router forwards) still follows a durable prepare record.
                if let Some((logged, coordinator)) = logged {
                    if logged != decision {
                        violations.push(against_decision(*txn, node, *decision, *coordinator, *logged));
                    }
                }
                match &live.outcome {
                    Some((first, other)) if first != decision => violations.push(Violation {
                        invariant: Invariant::Atomicity,
                        nodes: vec![*other, node],
                        txn: Some(*txn),
                        detail: format!(
                            "{txn} {} at {other} but {} at {node}",
                            outcome_word(*first),
                            outcome_word(*decision)
                        ),
                    }),
                    Some(_) => {}
                    None => live.outcome = Some((*decision, node)),
                }
            }
            Record::Completed { txn } => {
                let mut live = self.live.remove(txn).unwrap_or_default();
                let participants = live.participants.take().unwrap_or_else(|| Arc::new([]));
                self.check_completed(node, *txn, &participants, &live, violations);
                live.forget(&participants);
                if !live.is_empty() {
                    self.live.insert(*txn, live);
                }
            }
            Record::SagaBegun { txn, .. } => {
                self.open_sagas.insert(*txn);
                return ViewChange::Sagas;
            }
            Record::SagaEnded { txn, decision, .. } => {
                self.on_decision(node, *txn, *decision, violations);
                self.open_sagas.remove(txn);
                self.saga_touched.retain(|(_, _, saga)| saga != txn);
                return ViewChange::Sagas;
            }
            Record::StepApplied { txn, writes, .. } => {
                self.check_isolation(node, *txn, writes, violations);
                if self.open_sagas.contains(txn) {
                    for write in writes.iter().filter(|write| write.after != write.before) {
                        self.saga_touched.insert((node, write.account, *txn));
                    }
                }
            }
            Record::StepCompensated { txn, writes, .. } => {
                for write in writes {
                    self.saga_touched.remove(&(node, write.account, *txn));
                }
            }
            Record::SagaStepDone { .. } | Record::SagaCompensated { .. } | Record::StepRefused { .. } => {}
        }
        ViewChange::None
    }

    /// `Completed(t)` became durable at `coordinator`: every participant's outcome must be.
    fn check_completed(
        &self,
        coordinator: NodeId,
        txn: TxnId,
        participants: &[NodeId],
        live: &LiveTxn,
        violations: &mut Vec<Violation>,
    ) {
        let decision = self.decisions.get(&txn).map(|(decision, _)| *decision);
        let missing: Vec<NodeId> = participants
            .iter()
            .copied()
            .filter(|participant| {
                let outcome = live.durable_outcome(*participant);
                match decision {
                    // Every participant voted YES and must have committed.
                    Some(Decision::Commit) => outcome != Some(Decision::Commit),
                    // A participant that never prepared has nothing to roll back. One that
                    // prepared only after the ABORT was durable got a late PREPARE (after its
                    // ABORT tombstone was lost in a crash): presumed abort answers its query.
                    _ => self.durable_prepares.get(&(txn, *participant)) == Some(&true) && outcome.is_none(),
                }
            })
            .collect();
        if missing.is_empty() {
            return;
        }
        let names: Vec<String> = missing.iter().map(|node| node.to_string()).collect();
        let mut nodes = vec![coordinator];
        nodes.extend(missing);
        violations.push(Violation {
            invariant: Invariant::CompletedNeedsOutcomes,
            nodes,
            txn: Some(txn),
            detail: format!("{coordinator} completed {txn} without a durable outcome at {}", names.join(", ")),
        });
    }

    /// The client heard `decision` of `txn`: COMMIT needs a durable COMMIT, and ABORT must never
    /// meet one (checked again when a decision becomes durable).
    pub fn on_reply_of(&mut self, node: NodeId, txn: TxnId, decision: Decision, violations: &mut Vec<Violation>) {
        let logged = self.decisions.get(&txn).map(|(decision, _)| *decision);
        let broken = match decision {
            Decision::Commit => logged != Some(Decision::Commit),
            Decision::Abort => logged == Some(Decision::Commit),
        };
        if broken {
            let logged = logged.map_or("nothing durable yet".to_string(), |logged| format!("{logged} logged"));
            violations.push(Violation {
                invariant: Invariant::ReplyMatchesDecision,
                nodes: vec![node],
                txn: Some(txn),
                detail: format!("{node} told the client {} of {txn} with {logged}", outcome_word_client(decision)),
            });
        }
        // Only a reply ahead of the durable decision can be contradicted by it later.
        if logged.is_none() {
            self.replied.entry(txn).or_insert((decision, node));
        }
    }

    /// Journal lines at `node` (a single node, or a group's committed state) match the commits.
    pub fn check_journal(&mut self, key: NodeId, node: &Node, violations: &mut Vec<Violation>) {
        let Some(participant) = node.participant() else { return };
        let journal = participant.bank().journal();
        if journal.is_empty() && self.journal_due.is_empty() {
            return;
        }
        for (txn, _) in journal {
            let open = self.open_sagas.contains(txn);
            if !self.is_committed(*txn) && !open && self.journal_reported.insert((key, *txn)) {
                violations.push(Violation {
                    invariant: Invariant::JournalMatchesCommit,
                    nodes: vec![key],
                    txn: Some(*txn),
                    detail: format!("{key} holds a journal line of {txn}, which has no durable COMMIT"),
                });
            }
        }
        let due: Vec<TxnId> =
            self.journal_due.range((key, TxnId(0))..=(key, TxnId(u32::MAX))).map(|(_, txn)| *txn).collect();
        for txn in due {
            self.journal_due.remove(&(key, txn));
            if !journal.iter().any(|(line_txn, _)| *line_txn == txn) && self.journal_reported.insert((key, txn)) {
                violations.push(Violation {
                    invariant: Invariant::JournalMatchesCommit,
                    nodes: vec![key],
                    txn: Some(txn),
                    detail: format!("{key} committed {txn} but its journal line is missing"),
                });
            }
        }
    }

    /// A decision became durable; returns true when it is the transaction's first, and COMMIT.
    fn on_decision(&mut self, node: NodeId, txn: TxnId, decision: Decision, violations: &mut Vec<Violation>) -> bool {
        if let Some((first, _)) = self.decisions.get(&txn) {
            if *first != decision {
                violations.push(Violation {
                    invariant: Invariant::DecisionStability,
                    nodes: vec![node],
                    txn: Some(txn),
                    detail: format!("{node} logged {decision} for {txn} after logging {first}"),
                });
            }
            return false;
        }
        self.decisions.insert(txn, (decision, node));
        // The client was told the other outcome before this decision was durable.
        if let Some((told, coordinator)) = self.replied.get(&txn).filter(|(told, _)| *told != decision) {
            violations.push(Violation {
                invariant: Invariant::ReplyMatchesDecision,
                nodes: vec![*coordinator, node],
                txn: Some(txn),
                detail: format!(
                    "the client was told {} of {txn}, then {node} logged {decision}",
                    outcome_word_client(*told)
                ),
            });
        }
        let live = self.live.get(&txn);
        if let Some((outcome, participant)) = live.and_then(|live| live.outcome) {
            if outcome != decision {
                violations.push(against_decision(txn, participant, outcome, node, decision));
            }
        }
        if decision == Decision::Commit {
            let participants = live.and_then(|live| live.participants.as_deref()).unwrap_or(&[]);
            let voted_yes = |participant: &NodeId| live.is_some_and(|live| live.voted_yes(*participant));
            let missing: Vec<NodeId> =
                participants.iter().copied().filter(|participant| !voted_yes(participant)).collect();
            if !missing.is_empty() {
                let names: Vec<String> = missing.iter().map(|node| node.to_string()).collect();
                let mut nodes = vec![node];
                nodes.extend(missing);
                violations.push(Violation {
                    invariant: Invariant::CommitNeedsAllYes,
                    nodes,
                    txn: Some(txn),
                    detail: format!("{node} logged COMMIT for {txn} without a YES vote from {}", names.join(", ")),
                });
            }
        }
        decision == Decision::Commit
    }

    /// A participant sent a YES vote.
    pub fn on_yes_vote(&mut self, node: NodeId, txn: TxnId, violations: &mut Vec<Violation>) {
        self.live.entry(txn).or_default().of(node).voted_yes = true;
        if !self.durable_prepares.contains_key(&(txn, node)) {
            violations.push(Violation {
                invariant: Invariant::WalBeforeYes,
                nodes: vec![node],
                txn: Some(txn),
                detail: format!("{node} voted YES on {txn} before its prepare record was durable"),
            });
        }
    }

    /// A coordinator told the client an outcome.
    pub fn on_reply(&mut self, node: NodeId, request: RequestId, decision: Decision, violations: &mut Vec<Violation>) {
        match self.replies.get(&request) {
            Some(first) if *first != decision => violations.push(Violation {
                invariant: Invariant::DecisionStability,
                nodes: vec![node],
                txn: None,
                detail: format!(
                    "the client was told {request} {} and then {}",
                    outcome_word(*first),
                    outcome_word(decision)
                ),
            }),
            Some(_) => {}
            None => {
                self.replies.insert(request, decision);
            }
        }
    }

    /// Checks a node the event touched for two transactions changing one account; each conflict
    /// is reported once.
    ///
    pub fn check_locks(&mut self, node: &Node, violations: &mut Vec<Violation>) {
        self.check_locks_with(node, &mut Vec::new(), violations);
    }

    /// `check_locks` with the list of owners to use: it runs after every event, so the owners are
    /// a sorted list, which a caller can keep between events, rather than a map built each time.
    pub fn check_locks_with(
        &mut self,
        node: &Node,
        owners: &mut Vec<(AccountId, TxnId)>,
        violations: &mut Vec<Violation>,
    ) {
        lock_conflicts(node, owners, |account, other, txn| {
            if self.lock_conflicts.insert((node.id(), account, other, txn)) {
                violations.push(Violation {
                    invariant: Invariant::ExclusiveLocks,
                    nodes: vec![node.id()],
                    txn: Some(txn),
                    detail: format!("{other} and {txn} both hold changes to {account} at {}", node.id()),
                });
            }
        });
    }

    /// Whether checking `node`'s locks now would report nothing new (for debug assertions of
    /// callers that skip the check when a node's shard data did not change).
    pub fn locks_reported(&self, node: &Node) -> bool {
        let mut reported = true;
        lock_conflicts(node, &mut Vec::new(), |account, other, txn| {
            reported &= self.lock_conflicts.contains(&(node.id(), account, other, txn));
        });
        reported
    }

    /// The committed view of one node: its balances minus the changes they hold that are not
    /// decided COMMIT (writes made in place), plus the changes decided COMMIT they do not hold
    /// yet (deferred writes waiting for the outcome record).
    pub fn committed_money(&self, node: &Node) -> i64 {
        let mut money = node.balance_total() - self.open_saga_money(node);
        for (txn, delta, applied) in node.unresolved_changes() {
            money += committed_view_correction(delta, applied, self.is_committed(txn));
        }
        money
    }

    /// What the steps of open sagas changed in `node`'s balances: not yet in the committed view.
    pub fn open_saga_money(&self, node: &Node) -> i64 {
        self.open_sagas.iter().map(|txn| node.saga_net(*txn)).sum()
    }

    /// Compares the money of the committed view with the start; reports only a new break.
    pub fn check_money<'a>(&mut self, nodes: impl Iterator<Item = &'a Node> + Clone, violations: &mut Vec<Violation>) {
        let money = nodes.clone().map(|node| self.committed_money(node)).sum();
        self.check_counted_money(money, nodes, violations);
    }

    /// `check_money` with the committed view's money already counted (the world keeps each node's
    /// count between events and recounts only what an event changed); `nodes` are named by a break.
    pub fn check_counted_money<'a>(
        &mut self,
        money: i64,
        nodes: impl Iterator<Item = &'a Node>,
        violations: &mut Vec<Violation>,
    ) {
        let conserved = money == self.initial_money;
        if !conserved && self.money_conserved {
            let holders = nodes.filter(|node| node.participant().is_some()).map(Node::id).collect();
            violations.push(Violation {
                invariant: Invariant::Conservation,
                nodes: holders,
                txn: None,
                detail: format!("the committed view holds {money} but the run started with {}", self.initial_money),
            });
        }
        self.money_conserved = conserved;
    }
}

/// What a durable record changed in the committed view (see [`Checker::committed_money`]) beyond
/// the state of the node that logged it, for a caller that keeps each node's count of that view.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ViewChange {
    /// Nothing beyond the node's own state.
    None,
    /// The transaction's first decision, and COMMIT: its changes now count as committed at every
    /// node that holds them unresolved.
    FirstCommit,
    /// A saga began or ended: the set of open sagas, whose steps' changes every node's committed
    /// view leaves out, changed.
    Sagas,
}

/// Calls `conflict(account, earlier holder, later holder)` for every account two unresolved
/// transactions at `node` change, using `owners` as its sorted list of owners.
fn lock_conflicts(
    node: &Node,
    owners: &mut Vec<(AccountId, TxnId)>,
    mut conflict: impl FnMut(AccountId, TxnId, TxnId),
) {
    owners.clear();
    for (txn, writes) in node.unresolved_writes() {
        for write in writes {
            let other = match owners.binary_search_by_key(&write.account, |(account, _)| *account) {
                Ok(position) => std::mem::replace(&mut owners[position].1, txn),
                Err(position) => {
                    owners.insert(position, (write.account, txn));
                    continue;
                }
            };
            if other != txn {
                conflict(write.account, other, txn);
            }
        }
    }
}

/// What the checker knows of a transaction while it runs, in one entry so that each fact costs one
/// lookup: from its first fact (a prepare record, a vote, an outcome) until `Completed(t)` is
/// durable, when what concerns its participants is dropped (what concerns other nodes stays).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct LiveTxn {
    /// The participants its durable `Prepared` record names.
    participants: Option<Arc<[NodeId]>>,
    /// What each node did: voted YES, made its outcome durable.
    nodes: Vec<NodeFacts>,
    /// Its first participant outcome, with the participant.
    outcome: Option<(Decision, NodeId)>,
}

/// What one node did for a running transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct NodeFacts {
    node: NodeId,
    voted_yes: bool,
    durable_outcome: Option<Decision>,
}

impl LiveTxn {
    /// What `node` did, to record more.
    fn of(&mut self, node: NodeId) -> &mut NodeFacts {
        let position = match self.nodes.iter().position(|facts| facts.node == node) {
            Some(position) => position,
            None => {
                self.nodes.push(NodeFacts { node, voted_yes: false, durable_outcome: None });
                self.nodes.len() - 1
            }
        };
        &mut self.nodes[position]
    }

    fn voted_yes(&self, node: NodeId) -> bool {
        self.nodes.iter().any(|facts| facts.node == node && facts.voted_yes)
    }

    fn durable_outcome(&self, node: NodeId) -> Option<Decision> {
        self.nodes.iter().find(|facts| facts.node == node).and_then(|facts| facts.durable_outcome)
    }

    /// Every participant has acknowledged (`Completed` is durable): no COMMIT record can follow, so
    /// the votes are no longer needed, and later participant outcomes are still checked against the
    /// decision, which is kept. (A participant may still prepare later, when the ABORT overtook the
    /// PREPARE: its prepare records are forgotten only with its own outcome.)
    fn forget(&mut self, participants: &[NodeId]) {
        self.nodes.retain(|facts| !participants.contains(&facts.node));
        self.outcome = None;
    }

    fn is_empty(&self) -> bool {
        self.participants.is_none() && self.nodes.is_empty() && self.outcome.is_none()
    }
}

/// What an unresolved transaction's change adds to a node's balances to give the committed view:
/// a change the balances hold (in place) counts only once decided COMMIT, and a change they do not
/// hold yet (deferred) counts as soon as it is.
pub fn committed_view_correction(delta: i64, applied: bool, committed: bool) -> i64 {
    match (applied, committed) {
        (true, false) => -delta,
        (false, true) => delta,
        (true, true) | (false, false) => 0,
    }
}

/// A participant applied an outcome other than the coordinator's logged decision.
fn against_decision(
    txn: TxnId,
    participant: NodeId,
    outcome: Decision,
    coordinator: NodeId,
    logged: Decision,
) -> Violation {
    Violation {
        invariant: Invariant::Atomicity,
        nodes: vec![participant, coordinator],
        txn: Some(txn),
        detail: format!("{txn} {} at {participant} but {coordinator} logged {logged}", outcome_word(outcome)),
    }
}

fn outcome_word_client(decision: Decision) -> &'static str {
    match decision {
        Decision::Commit => "COMMITTED",
        Decision::Abort => "ABORTED",
    }
}

fn outcome_word(decision: Decision) -> &'static str {
    match decision {
        Decision::Commit => "committed",
        Decision::Abort => "rolled back",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commitlab_protocol::{Plan, WriteMode};
    use std::sync::Arc;

    const TM: NodeId = NodeId(7);
    const EARLY: NodeId = NodeId(1);
    const LATE: NodeId = NodeId(4);

    fn prepared() -> Record {
        Record::Prepared {
            txn: TxnId(1),
            request: RequestId(1),
            participants: Arc::from([EARLY, LATE]),
            work: Plan::default(),
        }
    }

    fn prepare_vote() -> Record {
        Record::PrepareVote {
            txn: TxnId(1),
            coordinator: TM,
            writes: Vec::new(),
            journal: None,
            at_ms: 0,
            mode: WriteMode::InPlace,
        }
    }

    fn decided(decision: Decision) -> Record {
        Record::Decided { txn: TxnId(1), decision, reason: None }
    }

    fn completed_needs_outcomes(records: &[(NodeId, Record)]) -> Vec<String> {
        let mut checker = Checker::new(0);
        let mut violations = Vec::new();
        for (node, record) in records {
            checker.on_durable(*node, record, &mut violations);
        }
        violations
            .iter()
            .filter(|v| v.invariant == Invariant::CompletedNeedsOutcomes)
            .map(|v| v.detail.clone())
            .collect()
    }

    #[test]
    fn completing_an_abort_needs_the_rollback_of_every_prepare_made_before_it() {
        let found = completed_needs_outcomes(&[
            (TM, prepared()),
            (EARLY, prepare_vote()),
            (LATE, prepare_vote()),
            (TM, decided(Decision::Abort)),
            (EARLY, Record::Outcome { txn: TxnId(1), decision: Decision::Abort }),
            (TM, Record::Completed { txn: TxnId(1) }),
        ]);
        assert_eq!(found, ["n7 completed t1 without a durable outcome at n4"]);
    }

    #[test]
    fn a_prepare_made_after_the_abort_is_left_to_presumed_abort() {
        // n4's PREPARE arrived after the decision (its ABORT tombstone lost in a crash): the TM may
        // forget, and n4's query will be answered ABORT by presumption.
        let found = completed_needs_outcomes(&[
            (TM, prepared()),
            (EARLY, prepare_vote()),
            (TM, decided(Decision::Abort)),
            (EARLY, Record::Outcome { txn: TxnId(1), decision: Decision::Abort }),
            (LATE, prepare_vote()),
            (TM, Record::Completed { txn: TxnId(1) }),
        ]);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn completing_a_commit_needs_every_participant_committed() {
        let found = completed_needs_outcomes(&[
            (TM, prepared()),
            (EARLY, prepare_vote()),
            (LATE, prepare_vote()),
            (TM, decided(Decision::Commit)),
            (LATE, Record::Outcome { txn: TxnId(1), decision: Decision::Commit }),
            (TM, Record::Completed { txn: TxnId(1) }),
        ]);
        assert_eq!(found, ["n7 completed t1 without a durable outcome at n1"]);
    }
}
