//! The simulation as the command line and the web page use it: advance one event at a time,
//! seek to any step or time (deterministic replay from checkpoints), inject a fault at the cursor
//! (recorded into the scenario), and read the trace, node snapshots and invariant status.

use crate::fault::{Fault, ScheduledFault};
use crate::invariants::{Invariant, Violation};
use crate::scenario::{limits, Scenario, ScenarioError};
use crate::trace::{TraceEntry, TraceEvent};
use crate::world::{Stop, World};
use commitlab_protocol::paxos::PaxosRole;
use commitlab_protocol::raft::{Payload, RaftRole};
use commitlab_protocol::replica::Replica;
use commitlab_protocol::VecMap;
use commitlab_protocol::{AccountId, Millis, NodeId, NodeView, Record, Role, Seq, ShardId, TxnId};
use serde::Serialize;
use std::sync::Arc;

/// A checkpoint of the world is kept every `checkpoint_every` steps, so a seek replays at most
/// that many. It starts here and doubles whenever more than `MAX_CHECKPOINTS` would be kept,
/// which bounds their memory on long runs. A checkpoint is a copy of the world, but the tables
/// that grow with the run (requests, finished transactions, outcomes, decisions: [`ChunkMap`]s)
/// and the WAL's full chunks are shared with the other copies, so one costs what changed since
/// the previous one and the world's live state, about 70 KB late in the busy preset stretched to
/// 80,000 events: it keeps 39 checkpoints, 2,048 steps apart, and a seek there replays at most
/// 2,047 steps (in a 1,000,000-event run at most 16,383).
///
/// [`ChunkMap`]: commitlab_protocol::ChunkMap
pub const CHECKPOINT_EVERY: u64 = 1024;
pub const MAX_CHECKPOINTS: usize = 64;

#[derive(Clone, Debug)]
pub struct Simulation {
    scenario: Arc<Scenario>,
    /// The furthest point computed; the trace runs up to it.
    frontier: World,
    trace: Vec<TraceEntry>,
    /// `checkpoints[i]` is the world after `i * checkpoint_every` steps.
    checkpoints: Vec<World>,
    checkpoint_every: u64,
    /// The world at the cursor, where snapshots are read.
    cursor: World,
}

/// A node at the cursor: durable WAL next to volatile memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeSnapshot {
    pub id: NodeId,
    /// `C1`, `C2`, ... or `TM`.
    pub label: String,
    pub shard: Option<ShardId>,
    pub roles: Vec<Role>,
    pub up: bool,
    /// Volatile state; `None` while the node is down (it was lost in the crash).
    pub memory: Option<NodeView>,
    /// The durable log, from record `wal_first` on (all of it unless a tail was asked for).
    pub wal: Vec<Record>,
    /// How many earlier records `wal` leaves out.
    pub wal_first: usize,
    /// Records handed to the disk and not yet durable (lost if the node crashes now).
    pub unwritten: Vec<Record>,
    /// A Raft replica's consensus state: durable term, vote and log, volatile role and indexes.
    pub raft: Option<RaftView>,
    /// A Multi-Paxos replica's state, as seed 002's "STATE AFTER PREPARE" box draws it.
    pub paxos: Option<PaxosView>,
}

impl NodeSnapshot {
    /// A replica of a group, under either engine.
    pub fn is_replica(&self) -> bool {
        self.raft.is_some() || self.paxos.is_some()
    }

    /// Leads its group (it may not act yet).
    pub fn leads(&self) -> bool {
        self.raft.as_ref().is_some_and(|raft| raft.role == RaftRole::Leader)
            || self.paxos.as_ref().is_some_and(|paxos| paxos.role == PaxosRole::Leader)
    }

    /// Leads with its 2PC roles rebuilt: the replica the group's 2PC traffic goes to.
    pub fn acting(&self) -> bool {
        self.raft.as_ref().is_some_and(|raft| raft.acting) || self.paxos.as_ref().is_some_and(|paxos| paxos.acting)
    }

    /// The Raft term, or the round of the Paxos ballot: higher is newer.
    pub fn epoch(&self) -> Option<u64> {
        match (&self.raft, &self.paxos) {
            (Some(raft), _) => Some(raft.term),
            (_, Some(paxos)) => Some(paxos.round),
            _ => None,
        }
    }

    /// The role and its epoch in a few characters: `leader t2`, `follower b1.n4`.
    pub fn consensus_role(&self) -> Option<String> {
        match (&self.raft, &self.paxos) {
            (Some(raft), _) => Some(format!("{} t{}", raft.role, raft.term)),
            (_, Some(paxos)) => Some(format!("{} {}", paxos.role, paxos.ballot)),
            _ => None,
        }
    }
}

/// A Multi-Paxos replica at the cursor: the acceptor's promise, its slots, and the state machine's
/// `Log` by sequence number (seed 002: `Log[100] = {Phase:"P", executed}`, `PrepareSeq = 100`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaxosView {
    pub role: PaxosRole,
    /// The ballot it leads or campaigns with, or the highest it promised.
    pub ballot: String,
    /// The ballot's round.
    pub round: u64,
    pub promised: String,
    pub leader: Option<NodeId>,
    pub acting: bool,
    /// Every slot up to this one is known chosen here.
    pub chosen_through: u64,
    pub applied: u64,
    /// The slots from the first not applied on (and the last `log_tail` applied ones).
    pub slots: Vec<SlotRow>,
    /// The state machine's log, one row per sequence number, as those slots write it.
    pub log: Vec<SeqRow>,
    /// Each transaction's prepare record's sequence number in this group (`PrepareSeq`), from
    /// those slots.
    pub prepare_seq: Vec<(TxnId, Seq)>,
}

/// One Paxos slot at a replica.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlotRow {
    pub slot: u64,
    /// The ballot it was accepted in here, if this acceptor accepted it.
    pub ballot: Option<String>,
    pub value: String,
    pub chosen: bool,
}

/// One row of seed 002's `Log[seq]`: the transaction, the phase its latest value there says, and
/// whether this replica has executed that value (it is chosen and applied here).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeqRow {
    pub seq: Seq,
    pub txn: TxnId,
    pub phase: char,
    pub executed: bool,
    pub completed: bool,
}

impl PaxosView {
    fn of(replica: &Replica, up: bool, log_tail: usize) -> Option<PaxosView> {
        let paxos = replica.engine().as_paxos()?;
        let durable = paxos.durable();
        let applied = if up { paxos.applied() } else { 0 };
        // Only the last `log_tail` executed slots and everything after them: views that redraw at
        // every frame must not walk a long log.
        let first = applied.saturating_sub(log_tail as u64) + 1;
        let mut slots: VecMap<u64, SlotRow> = VecMap::new();
        for (slot, accepted) in durable.accepted.range(first..) {
            let value = accepted.value.command().map_or("no-op".to_string(), |stamped| stamped.to_string());
            slots.insert(
                *slot,
                SlotRow { slot: *slot, ballot: Some(accepted.ballot.to_string()), value, chosen: false },
            );
        }
        for (slot, value) in durable.chosen.range(first..) {
            let text = value.command().map_or("no-op".to_string(), |stamped| stamped.to_string());
            let row =
                slots.entry(*slot).or_insert(SlotRow { slot: *slot, ballot: None, value: String::new(), chosen: true });
            row.value = text;
            row.chosen = true;
        }
        let mut log: VecMap<Seq, SeqRow> = VecMap::new();
        let mut prepare_seq = Vec::new();
        // A chosen value is the slot's value; an accepted one stands until it is.
        let mut by_slot: VecMap<u64, _> =
            durable.accepted.range(first..).map(|(slot, accepted)| (*slot, &accepted.value)).collect();
        by_slot.extend(durable.chosen.range(first..).map(|(slot, value)| (*slot, value)));
        for (slot, value) in by_slot {
            let Some(stamped) = value.command() else { continue };
            let executed = durable.chosen.contains_key(&slot) && slot <= applied;
            let txn = stamped.record.txn();
            let row = log.entry(stamped.seq).or_insert(SeqRow {
                seq: stamped.seq,
                txn,
                phase: 'P',
                executed: false,
                completed: false,
            });
            match stamped.record.phase() {
                Some(phase) => {
                    row.phase = phase;
                    row.executed = executed;
                }
                None => row.completed = executed,
            }
            if let Record::PrepareVote { .. } = stamped.record {
                prepare_seq.push((txn, stamped.seq));
            }
        }
        Some(PaxosView {
            role: paxos.role(),
            ballot: paxos.ballot().to_string(),
            round: paxos.ballot().round,
            promised: durable.promised.to_string(),
            leader: if up { paxos.leader() } else { None },
            acting: up && replica.acting(),
            chosen_through: if up { paxos.chosen_through() } else { durable.chosen_through() },
            applied,
            slots: slots.into_values().collect(),
            log: log.into_values().collect(),
            prepare_seq,
        })
    }
}

/// A replica's Raft state at the cursor, as its table shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaftView {
    pub role: RaftRole,
    pub term: u64,
    pub voted_for: Option<NodeId>,
    pub leader: Option<NodeId>,
    /// Leading, with its no-op committed and its 2PC roles rebuilt.
    pub acting: bool,
    pub commit_index: u64,
    pub applied_index: u64,
    pub log: Vec<LogRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogRow {
    pub index: u64,
    pub term: u64,
    /// The entry's canonical description: a record, or `no-op`.
    pub entry: String,
}

impl RaftView {
    /// The view with the last `log_tail` log entries (rows keep their indexes).
    fn of(replica: &Replica, up: bool, log_tail: usize) -> Option<RaftView> {
        let raft = replica.raft()?;
        let durable = raft.durable();
        let first = durable.log.len().saturating_sub(log_tail);
        let log = durable
            .log
            .iter()
            .enumerate()
            .skip(first)
            .map(|(position, entry)| LogRow {
                index: position as u64 + 1,
                term: entry.term,
                entry: match &entry.payload {
                    Payload::Command(record) => record.to_string(),
                    Payload::Noop => "no-op".to_string(),
                },
            })
            .collect();
        Some(RaftView {
            role: raft.role(),
            term: durable.term,
            voted_for: durable.voted_for,
            leader: if up { raft.leader() } else { None },
            acting: up && replica.acting(),
            commit_index: if up { raft.commit_index() } else { 0 },
            applied_index: if up { raft.applied_index() } else { 0 },
            log,
        })
    }
}

/// A participant that voted YES and does not know the outcome: the blocking problem, measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InDoubt {
    pub node: NodeId,
    pub node_up: bool,
    pub txn: TxnId,
    pub since_ms: Millis,
    pub for_ms: Millis,
    pub locks: Vec<AccountId>,
}

/// An invariant at the cursor: holding, or the first violation so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InvariantStatus {
    pub invariant: Invariant,
    pub description: &'static str,
    pub violation: Option<(u64, Millis, Violation)>,
}

impl Simulation {
    pub fn new(scenario: Scenario) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let scenario = Arc::new(scenario);
        let world = World::new(scenario.clone());
        Ok(Simulation {
            scenario,
            frontier: world.clone(),
            trace: Vec::new(),
            checkpoints: vec![world.clone()],
            checkpoint_every: CHECKPOINT_EVERY,
            cursor: world,
        })
    }

    pub fn from_json(text: &str) -> Result<Simulation, ScenarioError> {
        Simulation::new(Scenario::from_json(text)?)
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Computes up to `count` more steps past the frontier; returns how many it did.
    pub fn extend(&mut self, count: u64) -> u64 {
        let mut done = 0;
        while done < count && self.frontier.step(&mut self.trace) {
            done += 1;
            if self.frontier.steps().is_multiple_of(self.checkpoint_every) {
                self.checkpoints.push(self.frontier.clone());
                if self.checkpoints.len() > MAX_CHECKPOINTS {
                    self.thin_checkpoints();
                }
            }
        }
        if self.frontier.stopped().is_some() {
            // The run is complete: the trace grows no more, so the room kept for its growth goes.
            self.trace.shrink_to_fit();
        }
        done
    }

    /// Doubles the checkpoint interval, keeping every other checkpoint.
    fn thin_checkpoints(&mut self) {
        self.checkpoint_every *= 2;
        let every = self.checkpoint_every;
        self.checkpoints.retain(|world| world.steps().is_multiple_of(every));
    }

    /// Computes the whole run (to quiescence, `end_ms` or `max_steps`).
    pub fn run_to_end(&mut self) {
        while self.extend(u64::MAX) > 0 {}
    }

    /// Why the run stopped, once it has been computed to its end.
    pub fn stop(&self) -> Option<Stop> {
        self.frontier.stopped()
    }

    /// Steps computed so far (all of them once `stop()` is `Some`).
    pub fn total_steps(&self) -> u64 {
        self.frontier.steps()
    }

    /// Virtual time of the frontier.
    pub fn frontier_ms(&self) -> Millis {
        self.frontier.now_ms()
    }

    pub fn cursor_step(&self) -> u64 {
        self.cursor.steps()
    }

    pub fn now_ms(&self) -> Millis {
        self.cursor.now_ms()
    }

    /// The world at the cursor, for views that need more than the snapshots.
    pub fn world(&self) -> &World {
        &self.cursor
    }

    /// Every trace entry computed so far (past the cursor too).
    pub fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }

    /// The trace entries up to and including the cursor's step.
    pub fn trace_to_cursor(&self) -> &[TraceEntry] {
        let step = self.cursor.steps();
        let end = self.trace.partition_point(|entry| entry.step <= step);
        &self.trace[..end]
    }

    /// Moves the cursor to just after step `step` (computing the run that far if needed).
    pub fn seek_step(&mut self, step: u64) {
        if step > self.frontier.steps() {
            self.extend(step - self.frontier.steps());
        }
        let step = step.min(self.frontier.steps());
        let current = self.cursor.steps();
        if step < current || step - current >= self.checkpoint_every {
            let index = (step / self.checkpoint_every) as usize;
            self.cursor = self.checkpoints[index.min(self.checkpoints.len() - 1)].clone();
        }
        let mut discard = Vec::new();
        while self.cursor.steps() < step {
            self.cursor.step(&mut discard);
            discard.clear();
        }
    }

    /// Moves the cursor to the end of virtual millisecond `time_ms`: after every event up to it.
    pub fn seek_time(&mut self, time_ms: Millis) {
        while self.frontier.stopped().is_none() && self.frontier.next_event_ms().is_some_and(|next| next <= time_ms) {
            self.extend(self.checkpoint_every);
        }
        let end = self.trace.partition_point(|entry| entry.time_ms <= time_ms);
        let step = end.checked_sub(1).map_or(0, |last| self.trace[last].step);
        self.seek_step(step);
    }

    pub fn step_forward(&mut self) -> bool {
        let before = self.cursor.steps();
        self.seek_step(before + 1);
        self.cursor.steps() > before
    }

    pub fn step_back(&mut self) -> bool {
        let before = self.cursor.steps();
        if before == 0 {
            return false;
        }
        self.seek_step(before - 1);
        true
    }

    /// Adds a fault at the cursor's time to the scenario: the run from the cursor on is recomputed,
    /// and replaying the new scenario from scratch gives the same run.
    pub fn inject(&mut self, fault: Fault) -> Result<(), ScenarioError> {
        self.inject_at(self.cursor.now_ms(), fault)
    }

    /// Adds a fault at `at_ms`, which must not be before the cursor's time (the page's playback
    /// position may be a few milliseconds past the last event). The fault happens after every
    /// other event of that millisecond, as in any replay.
    pub fn inject_at(&mut self, at_ms: Millis, fault: Fault) -> Result<(), ScenarioError> {
        if at_ms < self.cursor.now_ms() {
            return Err(ScenarioError::Invalid {
                field: "faults".to_string(),
                reason: format!("a fault at {at_ms} ms is before the cursor at {} ms", self.cursor.now_ms()),
            });
        }
        let mut scenario = (*self.scenario).clone();
        scenario.faults.push(ScheduledFault { at_ms, fault });
        if scenario.faults.len() > limits::FAULTS {
            return Err(ScenarioError::Invalid {
                field: "faults".to_string(),
                reason: format!("at most {} faults", limits::FAULTS),
            });
        }
        scenario.validate()?;
        let index = scenario.faults.len() - 1;
        let scenario = Arc::new(scenario);
        let step = self.cursor.steps();
        self.checkpoints.truncate((step / self.checkpoint_every) as usize + 1);
        for checkpoint in &mut self.checkpoints {
            checkpoint.schedule_fault(scenario.clone(), index);
        }
        self.cursor.schedule_fault(scenario.clone(), index);
        self.frontier = self.cursor.clone();
        let end = self.trace.partition_point(|entry| entry.step <= step);
        self.trace.truncate(end);
        self.scenario = scenario;
        Ok(())
    }

    pub fn snapshots(&self) -> Vec<NodeSnapshot> {
        self.snapshots_with_wal_tail(usize::MAX)
    }

    /// Snapshots that carry only the last `wal_tail` WAL records (and Raft log entries) of each
    /// node, for views that redraw at every animation frame.
    pub fn snapshots_with_wal_tail(&self, wal_tail: usize) -> Vec<NodeSnapshot> {
        self.cursor
            .slots()
            .iter()
            .map(|(id, slot)| {
                let mut roles = Vec::new();
                if slot.config.coordinator.is_some() {
                    roles.push(Role::Coordinator);
                }
                if slot.config.shard.is_some() {
                    roles.push(Role::Participant);
                }
                NodeSnapshot {
                    id: *id,
                    label: slot.label.clone(),
                    shard: slot.config.shard,
                    roles,
                    up: slot.up,
                    memory: slot.up.then(|| slot.node().view()),
                    wal: slot.wal.iter().skip(slot.wal.len().saturating_sub(wal_tail)).cloned().collect(),
                    wal_first: slot.wal.len().saturating_sub(wal_tail),
                    unwritten: slot.unwritten.clone(),
                    raft: slot.machine.replica().and_then(|replica| RaftView::of(replica, slot.up, wal_tail)),
                    paxos: slot.machine.replica().and_then(|replica| PaxosView::of(replica, slot.up, wal_tail)),
                }
            })
            .collect()
    }

    pub fn snapshot(&self, node: NodeId) -> Option<NodeSnapshot> {
        self.snapshots().into_iter().find(|snapshot| snapshot.id == node)
    }

    /// Participants in doubt at the cursor, with how long and which locks they hold.
    pub fn in_doubt(&self) -> Vec<InDoubt> {
        let now = self.cursor.now_ms();
        let mut rows = Vec::new();
        for (id, node, up) in self.cursor.group_states() {
            let Some(participant) = node.participant() else { continue };
            for (txn, entry) in participant.txns() {
                let Some(since_ms) = entry.in_doubt_since_ms else { continue };
                rows.push(InDoubt {
                    node: id,
                    node_up: up,
                    txn: *txn,
                    since_ms,
                    for_ms: now.saturating_sub(since_ms),
                    locks: entry.writes.iter().map(|write| write.account).collect(),
                });
            }
        }
        rows
    }

    /// Each invariant with its first violation up to the cursor.
    pub fn invariants(&self) -> Vec<InvariantStatus> {
        let violations: Vec<&TraceEntry> =
            self.trace_to_cursor().iter().filter(|entry| matches!(entry.event, TraceEvent::Violation(_))).collect();
        Invariant::checked(&self.scenario)
            .iter()
            .map(|invariant| InvariantStatus {
                invariant: *invariant,
                description: invariant.description(),
                violation: violations.iter().find_map(|entry| match &entry.event {
                    TraceEvent::Violation(violation) if violation.invariant == *invariant => {
                        Some((entry.step, entry.time_ms, (**violation).clone()))
                    }
                    _ => None,
                }),
            })
            .collect()
    }

    /// Every violation in the computed trace.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.trace.iter().filter_map(|entry| match &entry.event {
            TraceEvent::Violation(violation) => Some(&**violation),
            _ => None,
        })
    }

    /// A 64-bit FNV-1a hash of the canonical trace text: equal runs have equal hashes.
    pub fn trace_hash(&self) -> u64 {
        trace_hash(&self.trace)
    }
}

pub fn trace_hash(trace: &[TraceEntry]) -> u64 {
    use std::fmt::Write;
    let mut hash = commitlab_protocol::fnv::Fnv64::default();
    let mut line = String::new();
    for entry in trace {
        line.clear();
        writeln!(line, "{}#{}", entry.step, entry).expect("writing to a String");
        hash.write(line.as_bytes());
    }
    hash.finish()
}
