//! What a run cost, transaction by transaction, for comparing two runs side by side (the compare
//! view and `commitlab compare`): messages by kind, message delays to the decision, durable
//! writes, time in doubt and time blocked.
//!
//! Everything is read from the trace up to the cursor and the world at the cursor, so the numbers
//! grow as a run is played. Consensus messages count for the transaction whose record they carry
//! (an AppendEntries or ACCEPT for `Prepared(t1)`, its reply, the COMMIT that follows); heartbeats,
//! elections and no-ops belong to no transaction and are counted apart as background. A batched
//! AppendEntries counts for the first transaction it carries.
//!
//! - **Message delays to the decision**: the longest chain of messages between different nodes,
//!   each sent after the one before arrived, from the client's request to the coordinator's reply
//!   (which goes out once the decision is durable). Single-node 2PC: request, PREPARE, vote = 3.
//! - **Durable writes**: the transaction's records held durably at the cursor, on every copy: WAL
//!   records on a single node, log entries on every Raft replica, and under Multi-Paxos both the
//!   accepted value and the chosen mark, which an acceptor and a learner each write.
//! - **Time in doubt**: for each participant (group), from its YES vote to the first decision
//!   that reaches it; the longest one.
//! - **Time blocked**: how long the transaction's locks were held, summed over accounts: others
//!   cannot touch those accounts meanwhile.

use crate::simulation::Simulation;
use crate::trace::TraceEvent;
use commitlab_protocol::paxos::PaxosMessage;
use commitlab_protocol::raft::{Payload, RaftMessage};
use commitlab_protocol::{
    AccountId, Decision, Endpoint, Message, MessageId, Millis, NodeId, Note, Record, RequestId, TxnId, WriteMode,
};
use commitlab_protocol::{VecMap, VecSet};
use std::fmt::{self, Write as _};

/// One transaction's costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnSummary {
    pub txn: TxnId,
    /// The decision the client heard, if it has.
    pub decision: Option<Decision>,
    pub messages: VecMap<&'static str, u64>,
    pub delays_to_decision: Option<u32>,
    pub durable_writes: u64,
    pub in_doubt_ms: Millis,
    pub blocked_ms: Millis,
}

impl TxnSummary {
    fn new(txn: TxnId) -> TxnSummary {
        TxnSummary {
            txn,
            decision: None,
            messages: VecMap::new(),
            delays_to_decision: None,
            durable_writes: 0,
            in_doubt_ms: 0,
            blocked_ms: 0,
        }
    }

    /// Every message the transaction cost, 2PC and consensus.
    pub fn message_total(&self) -> u64 {
        self.messages.values().sum()
    }

    /// The messages of the commit protocol itself, two-phase commit or a saga's steps (and the
    /// client's request and reply): everything but consensus.
    pub fn two_phase_messages(&self) -> u64 {
        self.messages.iter().filter(|(kind, _)| is_two_phase_kind(kind)).map(|(_, count)| count).sum()
    }
}

fn is_two_phase_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Request"
            | "Reply"
            | "Prepare"
            | "VoteYes"
            | "VoteNo"
            | "Commit"
            | "Abort"
            | "Ack"
            | "Query"
            | "Refused"
            | "Step"
            | "StepOk"
            | "StepFailed"
            | "Compensate"
            | "Compensated"
    )
}

/// A run's costs at the cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub name: String,
    pub engine: &'static str,
    /// When participants' writes reach their balances (in place at PREPARE, or deferred to COMMIT).
    pub writes: WriteMode,
    pub now_ms: Millis,
    pub txns: Vec<TxnSummary>,
    /// Consensus messages no transaction caused: heartbeats, elections, no-ops.
    pub background: VecMap<&'static str, u64>,
}

impl RunSummary {
    pub fn of(simulation: &Simulation) -> RunSummary {
        let scenario = simulation.scenario();
        let world = simulation.world();
        let mut builder = Builder::default();
        for entry in simulation.trace_to_cursor() {
            builder.on_event(&entry.event, entry.time_ms, |node| world.group_of(node));
        }
        for (request, count) in std::mem::take(&mut builder.requests) {
            match builder.request_txn.get(&request) {
                Some(txn) => *builder.messages.entry((*txn, "Request")).or_insert(0) += count,
                None => *builder.background.entry("Request").or_insert(0) += count,
            }
        }
        let now_ms = simulation.now_ms();
        let mut txns: VecMap<TxnId, TxnSummary> = VecMap::new();
        fn row(txns: &mut VecMap<TxnId, TxnSummary>, txn: TxnId) -> &mut TxnSummary {
            txns.entry(txn).or_insert_with(|| TxnSummary::new(txn))
        }
        for ((txn, kind), count) in builder.messages {
            row(&mut txns, txn).messages.insert(kind, count);
        }
        for (txn, decision) in &builder.decisions {
            row(&mut txns, *txn).decision = Some(*decision);
        }
        for (txn, delays) in &builder.reply_depth {
            row(&mut txns, *txn).delays_to_decision = Some(*delays);
        }
        for ((_, txn), (since, until)) in &builder.in_doubt {
            let doubt = until.unwrap_or(now_ms).saturating_sub(*since);
            let summary = row(&mut txns, *txn);
            summary.in_doubt_ms = summary.in_doubt_ms.max(doubt);
        }
        for ((_, _, txn), (since, until)) in &builder.locks {
            row(&mut txns, *txn).blocked_ms += until.unwrap_or(now_ms).saturating_sub(*since);
        }
        for (txn, writes) in durable_writes(simulation) {
            row(&mut txns, txn).durable_writes = writes;
        }
        RunSummary {
            name: scenario.name.clone(),
            engine: engine_name(scenario.replication.engine),
            writes: scenario.writes,
            now_ms,
            txns: txns.into_values().collect(),
            background: builder.background,
        }
    }

    pub fn txn(&self, txn: TxnId) -> Option<&TxnSummary> {
        self.txns.iter().find(|summary| summary.txn == txn)
    }
}

pub fn engine_name(engine: crate::scenario::Engine) -> &'static str {
    match engine {
        crate::scenario::Engine::None => "single node",
        crate::scenario::Engine::Raft => "Raft",
        crate::scenario::Engine::MultiPaxos => "Multi-Paxos",
    }
}

/// The records of each transaction held durably at the cursor, counted on every copy.
fn durable_writes(simulation: &Simulation) -> VecMap<TxnId, u64> {
    let mut writes: VecMap<TxnId, u64> = VecMap::new();
    let mut count = |record: &Record, copies: u64| *writes.entry(record.txn()).or_insert(0) += copies;
    for slot in simulation.world().slots().values() {
        match slot.machine.replica().map(|replica| replica.engine()) {
            None => slot.wal.iter().for_each(|record| count(record, 1)),
            Some(engine) => {
                if let Some(raft) = engine.as_raft() {
                    raft.durable()
                        .log
                        .iter()
                        .filter_map(|entry| entry.payload.command())
                        .for_each(|record| count(record, 1));
                }
                if let Some(paxos) = engine.as_paxos() {
                    let durable = paxos.durable();
                    let accepted = durable.accepted.values().map(|accepted| &accepted.value);
                    for value in accepted.chain(durable.chosen.values()) {
                        if let Some(stamped) = value.command() {
                            count(&stamped.record, 1);
                        }
                    }
                }
            }
        }
    }
    writes
}

#[derive(Default)]
struct Builder {
    messages: VecMap<(TxnId, &'static str), u64>,
    background: VecMap<&'static str, u64>,
    requests: VecMap<RequestId, u64>,
    request_txn: VecMap<RequestId, TxnId>,
    /// (group, log index or slot) to the transaction whose record sits there.
    positions: VecMap<(NodeId, u64), TxnId>,
    /// (Raft follower, log index) already answered.
    answered: VecSet<(NodeId, u64)>,
    /// Messages in flight with the transaction and chain length they count for, and whether they
    /// carry a decision.
    in_flight: VecMap<MessageId, (TxnId, u32, bool)>,
    /// The longest chain of messages that has reached (node, transaction).
    depth: VecMap<(Endpoint, TxnId), u32>,
    reply_depth: VecMap<TxnId, u32>,
    decisions: VecMap<TxnId, Decision>,
    /// (participant group, transaction): YES sent, and when the first decision reached it.
    in_doubt: VecMap<(NodeId, TxnId), (Millis, Option<Millis>)>,
    /// (group, account, transaction): lock taken, and released.
    locks: VecMap<(NodeId, AccountId, TxnId), (Millis, Option<Millis>)>,
}

impl Builder {
    fn on_event(&mut self, event: &TraceEvent, ms: Millis, group_of: impl Fn(NodeId) -> NodeId) {
        match event {
            TraceEvent::Send { id, from, to, message, .. } | TraceEvent::Duplicate { id, from, to, message, .. } => {
                // A request has no transaction yet: its reply names it.
                if let Message::Request { request, .. } = message.as_ref() {
                    *self.requests.entry(*request).or_insert(0) += 1;
                    return;
                }
                if let Message::Reply { request, txn: Some(txn), .. } = message.as_ref() {
                    self.request_txn.insert(*request, *txn);
                }
                let Some(txn) = self.txn_of(*from, message, &group_of) else {
                    *self.background.entry(message.kind()).or_insert(0) += 1;
                    return;
                };
                *self.messages.entry((txn, message.kind())).or_insert(0) += 1;
                // The request starts every chain; a message to oneself adds no delay.
                let start = self.depth.get(&(*from, txn)).copied().unwrap_or(1);
                let depth = if from == to { start } else { start + 1 };
                self.in_flight.insert(*id, (txn, depth, matches!(message.as_ref(), Message::Decide { .. })));
                self.on_two_phase_send(*from, txn, message, start, ms, &group_of);
            }
            TraceEvent::Deliver { id, to, .. } => {
                let Some((txn, depth, decide)) = self.in_flight.remove(id) else { return };
                let reached = self.depth.entry((*to, txn)).or_insert(1);
                *reached = (*reached).max(depth);
                if let (true, Endpoint::Node(node)) = (decide, to) {
                    if let Some((_, until)) = self.in_doubt.get_mut(&(group_of(*node), txn)) {
                        until.get_or_insert(ms);
                    }
                }
            }
            TraceEvent::Drop { id, .. } => {
                self.in_flight.remove(id);
            }
            TraceEvent::Note { at: Endpoint::Node(node), note } => match note {
                Note::LockTaken { account, txn } => {
                    self.locks.entry((group_of(*node), *account, *txn)).or_insert((ms, None));
                }
                Note::LockReleased { account, txn } => {
                    if let Some((_, until)) = self.locks.get_mut(&(group_of(*node), *account, *txn)) {
                        until.get_or_insert(ms);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// YES votes start a participant's doubt; the reply ends the chain.
    fn on_two_phase_send(
        &mut self,
        from: Endpoint,
        txn: TxnId,
        message: &Message,
        depth: u32,
        ms: Millis,
        group_of: &impl Fn(NodeId) -> NodeId,
    ) {
        match (from, message) {
            (Endpoint::Node(node), Message::Vote { yes: true, .. }) => {
                self.in_doubt.entry((group_of(node), txn)).or_insert((ms, None));
            }
            (Endpoint::Node(_), Message::Reply { decision, .. }) => {
                self.decisions.entry(txn).or_insert(*decision);
                self.reply_depth.entry(txn).or_insert(depth);
            }
            _ => {}
        }
    }

    /// The transaction a message is for, if any; learns where consensus puts each record.
    fn txn_of(&mut self, from: Endpoint, message: &Message, group_of: &impl Fn(NodeId) -> NodeId) -> Option<TxnId> {
        if let Some(txn) = message.txn() {
            return Some(txn);
        }
        let Endpoint::Node(node) = from else { return None };
        let group = group_of(node);
        match message {
            Message::Raft(RaftMessage::AppendEntries { prev_log_index, entries, .. }) => {
                let mut first = None;
                for (offset, entry) in entries.iter().enumerate() {
                    if let Payload::Command(record) = &entry.payload {
                        self.positions.insert((group, prev_log_index + 1 + offset as u64), record.txn());
                        first = first.or(Some(record.txn()));
                    }
                }
                first
            }
            // A follower answers every AppendEntries, heartbeats too, with its last index: only
            // its first answer for an entry counts for that entry's transaction.
            Message::Raft(RaftMessage::AppendReply { success: true, index, .. }) => {
                let txn = self.positions.get(&(group, *index)).copied()?;
                self.answered.insert((node, *index)).then_some(txn)
            }
            Message::Paxos(PaxosMessage::Accept { slot, value, .. } | PaxosMessage::Commit { slot, value }) => {
                let txn = value.command().map(|stamped| stamped.record.txn())?;
                self.positions.insert((group, *slot), txn);
                Some(txn)
            }
            Message::Paxos(PaxosMessage::Accepted { slot, ok: true, .. }) => {
                self.positions.get(&(group, *slot)).copied()
            }
            _ => None,
        }
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&table(&[self]))
    }
}

/// The summaries of several runs as rows of one table: a label, then a cell per run; a block of
/// rows per transaction.
pub fn rows(runs: &[&RunSummary]) -> Vec<(String, Vec<String>)> {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    rows.push(("run".to_string(), runs.iter().map(|run| run.name.clone()).collect()));
    rows.push(("engine".to_string(), runs.iter().map(|run| run.engine.to_string()).collect()));
    // Only when some run defers its writes, so the tables of runs that all write in place stay as
    // they were.
    if runs.iter().any(|run| !run.writes.is_in_place()) {
        rows.push(("writes".to_string(), runs.iter().map(|run| run.writes.name().to_string()).collect()));
    }
    rows.push(("at (ms)".to_string(), runs.iter().map(|run| run.now_ms.to_string()).collect()));
    let txns: VecSet<TxnId> = runs.iter().flat_map(|run| run.txns.iter().map(|txn| txn.txn)).collect();
    for txn in txns {
        let cell = |value: &dyn Fn(&TxnSummary) -> String| -> Vec<String> {
            runs.iter().map(|run| run.txn(txn).map_or("-".to_string(), value)).collect()
        };
        rows.push((format!("{txn}"), cell(&|summary| summary.decision.map_or("open".to_string(), |d| d.to_string()))));
        rows.push(("  messages".to_string(), cell(&|summary| summary.message_total().to_string())));
        rows.push(("    2PC/saga and client".to_string(), cell(&|summary| summary.two_phase_messages().to_string())));
        let kinds: VecSet<&'static str> =
            runs.iter().filter_map(|run| run.txn(txn)).flat_map(|summary| summary.messages.keys().copied()).collect();
        for kind in kinds {
            rows.push((
                format!("    {kind}"),
                cell(&|summary| summary.messages.get(kind).copied().unwrap_or(0).to_string()),
            ));
        }
        rows.push((
            "  delays to decision".to_string(),
            cell(&|summary| summary.delays_to_decision.map_or("-".to_string(), |delays| delays.to_string())),
        ));
        rows.push(("  durable writes".to_string(), cell(&|summary| summary.durable_writes.to_string())));
        rows.push(("  in doubt (ms)".to_string(), cell(&|summary| summary.in_doubt_ms.to_string())));
        rows.push(("  blocked (ms)".to_string(), cell(&|summary| summary.blocked_ms.to_string())));
    }
    let background: Vec<String> = runs.iter().map(|run| run.background.values().sum::<u64>().to_string()).collect();
    rows.push(("background messages".to_string(), background));
    rows
}

/// The summaries of several runs as one text table: a column per run.
pub fn table(runs: &[&RunSummary]) -> String {
    let rows = rows(runs);
    let label_width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..runs.len())
        .map(|column| rows.iter().map(|(_, cells)| cells[column].len()).max().unwrap_or(0).max(8))
        .collect();
    let mut out = String::new();
    for (label, cells) in rows {
        let _ = write!(out, "{label:<label_width$}");
        for (cell, width) in cells.iter().zip(&widths) {
            let _ = write!(out, "  {cell:>width$}");
        }
        out.push('\n');
    }
    out
}
