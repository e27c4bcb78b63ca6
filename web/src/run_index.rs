//! What the views draw, derived once per computed run from the simulator's trace: one record per
//! message (sent, delivered or dropped), marks on the lanes (WAL writes, locks, crashes, restarts,
//! violations) and the phase bands of each transaction; in the replicated mode, the replication
//! rounds of each group's leader (seed 002's ACCEPT/COMMIT boxes). Pure data, no Yew.

use commitlab_protocol::paxos::{PaxosMessage, PaxosNote, PaxosRole};
use commitlab_protocol::raft::{Payload, RaftMessage, RaftNote, RaftRole};
use commitlab_protocol::VecMap;
use commitlab_protocol::{
    Decision, Endpoint, Message, MessageId, Millis, NodeId, Note, Phase, Record, Role, Timer, TxnId,
};
use commitlab_sim::{Simulation, TraceEvent};
use std::rc::Rc;

/// How a message's life ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    Delivered,
    /// Dropped, with the reason; `at_send` when it never left (lost or dropped by a fault).
    Dropped {
        reason: String,
        at_send: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageView {
    pub id: MessageId,
    pub from: Endpoint,
    pub to: Endpoint,
    /// The canonical description, `Prepare t1`.
    pub label: String,
    /// What the diagram writes on the arrow: the canonical description, but for consensus
    /// messages, which are many and long, a short form (`append 3 Commit(t1)`, `ok 3`).
    pub short: String,
    /// A heartbeat or a successful append reply: the consensus traffic that runs all the time.
    pub routine: bool,
    pub kind: &'static str,
    /// A consensus message (votes, AppendEntries and their replies), hidden on collapsed groups.
    pub consensus: bool,
    pub txn: Option<TxnId>,
    pub send_ms: Millis,
    pub send_step: u64,
    /// When it is (or was) due to arrive.
    pub due_ms: Millis,
    pub duplicate_of: Option<MessageId>,
    /// How and when it ended: (ending, time, step); `None` while the run has not ended it.
    pub end: Option<(Ending, Millis, u64)>,
}

impl MessageView {
    /// Sent at or before `step` and not yet delivered or dropped at `step`.
    pub fn in_flight_at(&self, step: u64) -> bool {
        self.send_step <= step && self.end.as_ref().is_none_or(|(_, _, end_step)| *end_step > step)
    }

    /// The ending as seen at `step` (nothing yet if it ends later).
    pub fn ending_at(&self, step: u64) -> Option<(&Ending, Millis)> {
        self.end.as_ref().filter(|(_, _, end_step)| *end_step <= step).map(|(ending, ms, _)| (ending, *ms))
    }

    /// The message's time on the wire as drawn: from send to its end (or its due time).
    pub fn last_ms(&self) -> Millis {
        self.end.as_ref().map_or(self.due_ms, |(_, ms, _)| *ms).max(self.due_ms)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Wal(String),
    LockTaken(String),
    LockReleased(String),
    Crash,
    Restart,
    /// A timeout that fired: vote timeout, decision resend, query, client retry.
    Timer(String),
    /// A consensus timer that fired (election timeout, heartbeat): shown on expanded groups only.
    ConsensusTimer(String),
    /// A replica became leader: `in term 2`, `with ballot b2.n4`.
    Leader(String),
    Violation(String),
}

/// Something that happened on one lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub endpoint: Endpoint,
    pub ms: Millis,
    pub step: u64,
    pub kind: MarkKind,
}

/// A transaction's phase at its coordinator, as the bands of seed 001's diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseBand {
    pub txn: TxnId,
    pub coordinator: Endpoint,
    /// `prepare`, `commit` or `abort`.
    pub phase: &'static str,
    pub start_ms: Millis,
    pub start_step: u64,
    pub end: Option<(Millis, u64)>,
}

/// One replication round of a group's log: from the leader's proposal of entry `index@term` to
/// the moment that leader's commit index reaches it (seed 002's ACCEPT then COMMIT box).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    pub leader: NodeId,
    pub index: u64,
    pub term: u64,
    /// The entry, short: `Prepared(t1)`, `PrepareVote(t1)`, `Commit(t1)`, `no-op`; empty until an
    /// AppendEntries carrying it is seen. Under Multi-Paxos seed 002's `seq 100 P`.
    pub entry: String,
    /// Multi-Paxos: the ballot (the round is `term`) and the whole value, for the tooltip.
    pub ballot: Option<String>,
    pub detail: String,
    pub start_ms: Millis,
    pub start_step: u64,
    /// When it ended, and whether by committing (or by the leader crashing or stepping down).
    pub end: Option<(Millis, u64, bool)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunIndex {
    /// Shared, so views can hand one record to a memoised component without copying it.
    pub messages: Vec<Rc<MessageView>>,
    pub marks: Vec<Rc<Mark>>,
    pub bands: Vec<PhaseBand>,
    /// Replication rounds in order of proposal.
    pub rounds: Vec<Rc<Round>>,
    /// The longest round, to bound window searches.
    pub longest_round_ms: Millis,
    /// The longest time any message spent from send to end, to bound window searches.
    pub longest_flight_ms: Millis,
    /// Each crash with its restart, if any.
    pub downtimes: Vec<Downtime>,
    /// Every invariant violation with its step and time, in trace order.
    pub violations: Vec<(u64, Millis, commitlab_sim::Violation)>,
}

/// The index while it is built from the trace: records are still being completed in place.
#[derive(Default)]
struct Builder {
    messages: Vec<MessageView>,
    marks: Vec<Mark>,
    bands: Vec<PhaseBand>,
    rounds: Vec<Round>,
    /// Open rounds by (leader, index): their position in `rounds`.
    open_rounds: VecMap<(NodeId, u64), usize>,
    /// Each transaction's decision, as the coordinator group's log replicates it.
    /// (A sorted list rather than a map: it costs the page's binary less.)
    decisions: Vec<(TxnId, Decision)>,
    /// The longest time any message spent from send to end, to bound window searches.
    longest_flight_ms: Millis,
    /// Each crash with its restart, if any.
    downtimes: Vec<Downtime>,
    /// Every invariant violation with its step and time, in trace order.
    violations: Vec<(u64, Millis, commitlab_sim::Violation)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Downtime {
    pub node: commitlab_protocol::NodeId,
    pub start_ms: Millis,
    pub start_step: u64,
    pub end: Option<(Millis, u64)>,
}

impl RunIndex {
    pub fn build(simulation: &Simulation) -> RunIndex {
        let index = Builder::from_trace(simulation);
        let last_ms = simulation.trace().last().map_or(0, |entry| entry.time_ms);
        RunIndex {
            messages: index.messages.into_iter().map(Rc::new).collect(),
            marks: index.marks.into_iter().map(Rc::new).collect(),
            bands: index.bands,
            // A round still open at the end of the run lasts to the end of the run.
            longest_round_ms: index
                .rounds
                .iter()
                .map(|round| round.end.map_or(last_ms, |(end_ms, _, _)| end_ms).saturating_sub(round.start_ms))
                .max()
                .unwrap_or(0),
            rounds: index.rounds.into_iter().map(Rc::new).collect(),
            longest_flight_ms: index.longest_flight_ms,
            downtimes: index.downtimes,
            violations: index.violations,
        }
    }

    pub fn message(&self, id: MessageId) -> Option<&Rc<MessageView>> {
        let position = self.messages.partition_point(|message| message.id < id);
        self.messages.get(position).filter(|message| message.id == id)
    }

    /// Messages drawn in the time window `[from_ms, to_ms]` as seen at `step`.
    pub fn messages_in_window(
        &self,
        from_ms: Millis,
        to_ms: Millis,
        step: u64,
    ) -> impl Iterator<Item = &Rc<MessageView>> {
        let earliest = from_ms.saturating_sub(self.longest_flight_ms);
        let start = self.messages.partition_point(|message| message.send_ms < earliest);
        self.messages[start..]
            .iter()
            .take_while(move |message| message.send_ms <= to_ms)
            .filter(move |message| message.send_step <= step && message.last_ms() >= from_ms)
    }

    /// Replication rounds drawn in the time window as seen at `step`, with their position in
    /// `rounds` (a stable key). A round still open at `step` reaches the cursor.
    pub fn rounds_in_window(
        &self,
        from_ms: Millis,
        to_ms: Millis,
        step: u64,
    ) -> impl Iterator<Item = (usize, &Rc<Round>)> {
        let earliest = from_ms.saturating_sub(self.longest_round_ms);
        let start = self.rounds.partition_point(|round| round.start_ms < earliest);
        self.rounds[start..]
            .iter()
            .enumerate()
            .map(move |(offset, round)| (start + offset, round))
            .take_while(move |(_, round)| round.start_ms <= to_ms)
            .filter(move |(_, round)| {
                round.start_step <= step
                    && round.end.is_none_or(|(end_ms, end_step, _)| end_step > step || end_ms >= from_ms)
            })
    }

    /// Marks in the time window as seen at `step`, with their position in `marks` (a stable key).
    pub fn marks_in_window(
        &self,
        from_ms: Millis,
        to_ms: Millis,
        step: u64,
    ) -> impl Iterator<Item = (usize, &Rc<Mark>)> {
        let start = self.marks.partition_point(|mark| mark.ms < from_ms);
        self.marks[start..]
            .iter()
            .enumerate()
            .map(move |(offset, mark)| (start + offset, mark))
            .take_while(move |(_, mark)| mark.ms <= to_ms)
            .filter(move |(_, mark)| mark.step <= step)
    }
}

impl Builder {
    fn from_trace(simulation: &Simulation) -> Builder {
        let mut index = Builder::default();
        let mut positions: VecMap<MessageId, usize> = VecMap::new();
        let mut open_bands: VecMap<TxnId, usize> = VecMap::new();
        for entry in simulation.trace() {
            let (ms, step) = (entry.time_ms, entry.step);
            match &entry.event {
                TraceEvent::Send { id, from, to, message, deliver_ms } => {
                    index.on_sent(*from, message);
                    positions.insert(*id, index.messages.len());
                    index.messages.push(message_view(*id, *from, *to, message, ms, step, *deliver_ms, None));
                }
                TraceEvent::Duplicate { id, of, from, to, message, deliver_ms } => {
                    positions.insert(*id, index.messages.len());
                    index.messages.push(message_view(*id, *from, *to, message, ms, step, *deliver_ms, Some(*of)));
                }
                TraceEvent::Deliver { id, .. } => {
                    if let Some(&position) = positions.get(id) {
                        index.messages[position].end = Some((Ending::Delivered, ms, step));
                    }
                }
                TraceEvent::Drop { id, reason, .. } => {
                    if let Some(&position) = positions.get(id) {
                        let view = &mut index.messages[position];
                        let at_send = view.send_step == step && view.due_ms > ms;
                        view.end = Some((Ending::Dropped { reason: reason.to_string(), at_send }, ms, step));
                    }
                }
                TraceEvent::Delayed { id, deliver_ms } => {
                    if let Some(&position) = positions.get(id) {
                        index.messages[position].due_ms = *deliver_ms;
                    }
                }
                TraceEvent::WalAppend { node, record } => {
                    let endpoint = Endpoint::Node(*node);
                    index.marks.push(Mark { endpoint, ms, step, kind: MarkKind::Wal(record.to_string()) });
                    index.on_record(endpoint, record, ms, step, &mut open_bands);
                }
                TraceEvent::Note { at, note } => index.on_note(*at, note, ms, step, &mut open_bands),
                TraceEvent::Crash { node, .. } => {
                    index.close_rounds(*node, u64::MAX, ms, step, false);
                    index.marks.push(Mark { endpoint: Endpoint::Node(*node), ms, step, kind: MarkKind::Crash });
                    index.downtimes.push(Downtime { node: *node, start_ms: ms, start_step: step, end: None });
                }
                TraceEvent::Restart { node } => {
                    index.marks.push(Mark { endpoint: Endpoint::Node(*node), ms, step, kind: MarkKind::Restart });
                    if let Some(downtime) = index.downtimes.iter_mut().rev().find(|downtime| downtime.node == *node) {
                        downtime.end = Some((ms, step));
                    }
                }
                TraceEvent::Violation(violation) => {
                    index.violations.push((step, ms, (**violation).clone()));
                    for node in &violation.nodes {
                        let kind = MarkKind::Violation(violation.to_string());
                        index.marks.push(Mark { endpoint: Endpoint::Node(*node), ms, step, kind });
                    }
                }
                TraceEvent::TimerFired { at, timer } => {
                    let kind = match timer {
                        Timer::Election | Timer::Heartbeat => MarkKind::ConsensusTimer(timer.to_string()),
                        _ => MarkKind::Timer(timer.to_string()),
                    };
                    index.marks.push(Mark { endpoint: *at, ms, step, kind });
                }
                TraceEvent::Partition { .. } | TraceEvent::Heal | TraceEvent::FaultSkipped { .. } => {}
            }
        }
        index.longest_flight_ms =
            index.messages.iter().map(|message| message.last_ms() - message.send_ms).max().unwrap_or(0);
        index
    }

    fn on_note(&mut self, at: Endpoint, note: &Note, ms: Millis, step: u64, open: &mut VecMap<TxnId, usize>) {
        match note {
            Note::LockTaken { account, txn } => {
                let kind = MarkKind::LockTaken(format!("lock {account} taken by {txn}"));
                self.marks.push(Mark { endpoint: at, ms, step, kind });
            }
            Note::LockReleased { account, txn } => {
                let kind = MarkKind::LockReleased(format!("lock {account} released by {txn}"));
                self.marks.push(Mark { endpoint: at, ms, step, kind });
            }
            Note::Phase { txn, role: Role::Coordinator, phase } if phase.is_voting() => {
                // A new leader that resumes the transaction takes over its band.
                let open_here = open.get(txn).is_some_and(|position| {
                    let band = &self.bands[*position];
                    band.coordinator == at && band.phase == "prepare"
                });
                if !open_here {
                    self.open_band(*txn, at, "prepare", ms, step, open);
                }
            }
            Note::Phase { txn, role: Role::Coordinator, phase } if phase.is_resolving() => {
                // In a replicated group the decision is durable when its log entry commits (or
                // when a new leader finds it committed), which the trace shows as these phases,
                // not as a WAL write; a single node's band was already opened by its WAL write.
                let decided = open.get(txn).is_some_and(|position| self.bands[*position].phase != "prepare");
                let decision =
                    self.decisions.binary_search_by_key(txn, |(txn, _)| *txn).ok().map(|at| self.decisions[at].1);
                if let (false, Some(decision)) = (decided, decision) {
                    self.open_band(*txn, at, decision_phase(decision), ms, step, open);
                }
            }
            // A saga's forward band runs from its first record to a failed step, its compensation
            // band from there to its end.
            Note::Phase { txn, role: Role::Coordinator, phase } if phase.is_saga_forward() => {
                self.enter_band(*txn, at, "saga", ms, step, open);
            }
            Note::Phase { txn, role: Role::Coordinator, phase: Phase::Compensating } => {
                self.enter_band(*txn, at, "compensate", ms, step, open);
            }
            Note::Phase { txn, role: Role::Coordinator, phase: Phase::Completed | Phase::SagaEnded } => {
                if let Some(position) = open.remove(txn) {
                    self.bands[position].end = Some((ms, step));
                }
            }
            Note::Raft(raft) => self.on_raft_note(at, raft, ms, step),
            Note::Paxos(paxos) => self.on_paxos_note(at, paxos, ms, step),
            _ => {}
        }
    }

    /// Under Multi-Paxos a round is one slot's ACCEPT round: it opens when the leader proposes
    /// and ends when the slot is chosen there (slots are chosen in any order).
    fn on_paxos_note(&mut self, at: Endpoint, note: &PaxosNote, ms: Millis, step: u64) {
        let Endpoint::Node(node) = at else { return };
        match note {
            PaxosNote::Proposed { slot, ballot } => {
                if let Some(position) = self.open_rounds.insert((node, *slot), self.rounds.len()) {
                    self.rounds[position].end = Some((ms, step, false));
                }
                self.rounds.push(Round {
                    leader: node,
                    index: *slot,
                    term: ballot.round,
                    entry: String::new(),
                    ballot: Some(ballot.to_string()),
                    detail: String::new(),
                    start_ms: ms,
                    start_step: step,
                    end: None,
                });
            }
            PaxosNote::Chosen { slot } => {
                if let Some(position) = self.open_rounds.remove(&(node, *slot)) {
                    self.rounds[position].end = Some((ms, step, true));
                }
            }
            PaxosNote::Role { role: PaxosRole::Leader, ballot } => {
                let kind = MarkKind::Leader(format!("with ballot {ballot}"));
                self.marks.push(Mark { endpoint: at, ms, step, kind });
            }
            PaxosNote::Role { .. } | PaxosNote::LostQuorum { .. } => self.close_rounds(node, u64::MAX, ms, step, false),
            PaxosNote::Ready { .. } => {}
        }
    }

    /// Opens a round at a proposal, closes rounds at a commit, a step-down or a truncation.
    fn on_raft_note(&mut self, at: Endpoint, note: &RaftNote, ms: Millis, step: u64) {
        let Endpoint::Node(node) = at else { return };
        match note {
            RaftNote::Proposed { index, term } => {
                // A leader that proposes at an index again had its earlier entry there replaced.
                if let Some(position) = self.open_rounds.insert((node, *index), self.rounds.len()) {
                    self.rounds[position].end = Some((ms, step, false));
                }
                let round = Round {
                    leader: node,
                    index: *index,
                    term: *term,
                    entry: String::new(),
                    ballot: None,
                    detail: String::new(),
                    start_ms: ms,
                    start_step: step,
                    end: None,
                };
                self.rounds.push(round);
            }
            RaftNote::Committed { index } => self.close_rounds(node, *index, ms, step, true),
            RaftNote::Role { role: RaftRole::Leader, term } => {
                let kind = MarkKind::Leader(format!("in term {term}"));
                self.marks.push(Mark { endpoint: at, ms, step, kind });
            }
            RaftNote::Role { .. } | RaftNote::LostQuorum { .. } => self.close_rounds(node, u64::MAX, ms, step, false),
            RaftNote::Truncated { .. } => {}
        }
    }

    /// Ends the open rounds of `leader` up to entry `through`.
    fn close_rounds(&mut self, leader: NodeId, through: u64, ms: Millis, step: u64, committed: bool) {
        let closing: Vec<(NodeId, u64)> =
            self.open_rounds.range((leader, 0)..=(leader, through)).map(|(key, _)| *key).collect();
        for key in closing {
            let position = self.open_rounds.remove(&key).expect("an open round");
            self.rounds[position].end = Some((ms, step, committed));
        }
    }

    /// Names the entries of the leader's open rounds from the AppendEntries that carry them.
    fn on_sent(&mut self, from: Endpoint, message: &Message) {
        if let (Endpoint::Node(leader), Message::Paxos(PaxosMessage::Accept { slot, value, ballot })) = (from, message)
        {
            if let Payload::Command(stamped) = value {
                self.learn_decision(&stamped.record);
            }
            let Some(&position) = self.open_rounds.get(&(leader, *slot)) else { return };
            let round = &mut self.rounds[position];
            if round.entry.is_empty() && round.term == ballot.round {
                (round.entry, round.detail) = match value {
                    Payload::Noop => ("no-op".to_string(), "no-op".to_string()),
                    Payload::Command(stamped) => match stamped.record.phase() {
                        Some(phase) => (format!("seq {} {phase}", stamped.seq), stamped.to_string()),
                        None => (format!("seq {} done", stamped.seq), stamped.to_string()),
                    },
                };
            }
            return;
        }
        let (Endpoint::Node(leader), Message::Raft(RaftMessage::AppendEntries { prev_log_index, entries, .. })) =
            (from, message)
        else {
            return;
        };
        for (offset, entry) in entries.iter().enumerate() {
            if let Payload::Command(record) = &entry.payload {
                self.learn_decision(record);
            }
            let index = prev_log_index + 1 + offset as u64;
            let Some(&position) = self.open_rounds.get(&(leader, index)) else { continue };
            let round = &mut self.rounds[position];
            if round.entry.is_empty() && round.term == entry.term {
                round.entry = match &entry.payload {
                    Payload::Noop => "no-op".to_string(),
                    Payload::Command(record) => short_record(record),
                };
            }
        }
    }

    /// A coordinator's decision seen on its way through consensus, for the band it opens later.
    fn learn_decision(&mut self, record: &Record) {
        if let Record::Decided { txn, decision, .. } = record {
            match self.decisions.binary_search_by_key(txn, |(txn, _)| *txn) {
                Ok(at) => self.decisions[at].1 = *decision,
                Err(at) => self.decisions.insert(at, (*txn, *decision)),
            }
        }
    }

    /// A durable decision closes the prepare band and opens the commit or abort band.
    fn on_record(&mut self, at: Endpoint, record: &Record, ms: Millis, step: u64, open: &mut VecMap<TxnId, usize>) {
        let Record::Decided { txn, decision, .. } = record else { return };
        self.open_band(*txn, at, decision_phase(*decision), ms, step, open);
    }

    /// Ends the transaction's open band, if any, and opens `phase`.
    /// Opens a band of `phase` for `txn` unless the open one already is.
    fn enter_band(
        &mut self,
        txn: TxnId,
        at: Endpoint,
        phase: &'static str,
        ms: Millis,
        step: u64,
        open: &mut VecMap<TxnId, usize>,
    ) {
        if open.get(&txn).is_none_or(|position| self.bands[*position].phase != phase) {
            self.open_band(txn, at, phase, ms, step, open);
        }
    }

    fn open_band(
        &mut self,
        txn: TxnId,
        at: Endpoint,
        phase: &'static str,
        ms: Millis,
        step: u64,
        open: &mut VecMap<TxnId, usize>,
    ) {
        if let Some(position) = open.insert(txn, self.bands.len()) {
            self.bands[position].end = Some((ms, step));
        }
        self.bands.push(PhaseBand { txn, coordinator: at, phase, start_ms: ms, start_step: step, end: None });
    }
}

fn decision_phase(decision: Decision) -> &'static str {
    match decision {
        Decision::Commit => "commit",
        Decision::Abort => "abort",
    }
}

#[allow(clippy::too_many_arguments)]
fn message_view(
    id: MessageId,
    from: Endpoint,
    to: Endpoint,
    message: &commitlab_protocol::Message,
    send_ms: Millis,
    send_step: u64,
    due_ms: Millis,
    duplicate_of: Option<MessageId>,
) -> MessageView {
    MessageView {
        id,
        from,
        to,
        label: message.to_string(),
        short: short_label(message),
        routine: matches!(
            message,
            Message::Raft(
                RaftMessage::AppendEntries { entries, .. }) if entries.is_empty()
        ) || matches!(message, Message::Raft(RaftMessage::AppendReply { success: true, .. }))
            || matches!(
                message,
                Message::Paxos(PaxosMessage::Heartbeat { .. } | PaxosMessage::HeartbeatReply { ok: true, .. })
            ),
        kind: message.kind(),
        consensus: matches!(message, Message::Raft(_) | Message::Paxos(_)),
        txn: message.txn(),
        send_ms,
        send_step,
        due_ms,
        duplicate_of,
        end: None,
    }
}

/// A consensus message as its arrow names it; any other message by its canonical description.
fn short_label(message: &Message) -> String {
    if let Message::Paxos(paxos) = message {
        return short_paxos_label(paxos);
    }
    let Message::Raft(raft) = message else { return message.to_string() };
    match raft {
        RaftMessage::RequestVote { term, pre_vote, .. } => {
            format!("{} t{term}", if *pre_vote { "PreVote" } else { "RequestVote" })
        }
        RaftMessage::Vote { term, granted, pre_vote } => {
            format!("{} t{term} {}", if *pre_vote { "pre-vote" } else { "vote" }, if *granted { "yes" } else { "no" })
        }
        RaftMessage::AppendEntries { term, entries, .. } if entries.is_empty() => format!("heartbeat t{term}"),
        RaftMessage::AppendEntries { prev_log_index, entries, .. } if entries.len() == 1 => {
            let entry = match &entries[0].payload {
                Payload::Noop => "no-op".to_string(),
                Payload::Command(record) => short_record(record),
            };
            format!("append {} {entry}", prev_log_index + 1)
        }
        RaftMessage::AppendEntries { prev_log_index, entries, .. } => {
            format!("append {}-{}", prev_log_index + 1, *prev_log_index + entries.len() as u64)
        }
        RaftMessage::AppendReply { success: true, index, .. } => format!("ok {index}"),
        RaftMessage::AppendReply { success: false, index, .. } => format!("retry from {index}"),
    }
}

/// A Multi-Paxos message as seed 002 names it on an arrow: `ACCEPT seq 100 P`, `AcceptedReply`,
/// `COMMIT seq 100 P`.
fn short_paxos_label(message: &PaxosMessage<commitlab_protocol::Stamped>) -> String {
    let value = |value: &Payload<commitlab_protocol::Stamped>| match value {
        Payload::Noop => "no-op".to_string(),
        Payload::Command(stamped) => match stamped.record.phase() {
            Some(phase) => format!("seq {} {phase}", stamped.seq),
            None => format!("seq {} done", stamped.seq),
        },
    };
    match message {
        PaxosMessage::Phase1a { ballot, .. } => format!("PHASE1A {ballot}"),
        PaxosMessage::Phase1b { ballot, promised: true, entries } if entries.is_empty() => format!("PHASE1B {ballot}"),
        PaxosMessage::Phase1b { ballot, promised: true, entries } => format!("PHASE1B {ballot} +{}", entries.len()),
        PaxosMessage::Phase1b { promised: false, .. } => "PHASE1B refused".to_string(),
        PaxosMessage::Accept { value: accepted, .. } => format!("ACCEPT {}", value(accepted)),
        PaxosMessage::Accepted { slot, ok: true, .. } => format!("AcceptedReply #{slot}"),
        PaxosMessage::Accepted { slot, ok: false, .. } => format!("refused #{slot}"),
        PaxosMessage::Commit { value: chosen, .. } => format!("COMMIT {}", value(chosen)),
        PaxosMessage::Heartbeat { ballot, .. } => format!("heartbeat {ballot}"),
        PaxosMessage::HeartbeatReply { ok: true, chosen_through, .. } => format!("ok {chosen_through}"),
        PaxosMessage::HeartbeatReply { ok: false, .. } => "refused".to_string(),
    }
}

/// A record as a replication round names it: its kind and transaction, `Prepared(t1)`.
fn short_record(record: &Record) -> String {
    let text = record.to_string();
    match text.split_once(", ") {
        Some((head, _)) => format!("{head})"),
        None => text,
    }
}
