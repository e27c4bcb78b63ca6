//! The consensus safety properties of the replicated mode (the Raft paper's figure 3), checked after
//! every event, incrementally, group by group:
//!
//! - **election-safety**: at most one leader is elected in a term.
//! - **log-matching**: two logs with an entry of the same index and term hold the same entries up to
//!   it. Checked in a form that costs one look per appended entry: every (index, term) fixes the
//!   entry and the term of the entry before it; by induction down the log that is the property.
//! - **leader-completeness**: a leader's log holds every entry committed before its term.
//! - **state-machine-safety**: no two replicas apply different entries at one index.
//!
//! Under Multi-Paxos, three properties instead (the engine has no terms or log matching):
//!
//! - **one-value-per-slot**: every replica that learns a slot chosen learns the same value.
//! - **seq-agreement**: replicas never execute different values at one sequence number: for each
//!   transaction's row and role, the prepare-phase record, the decision, and completion are each
//!   the same wherever they are executed. A phase change at a reused sequence number is a new
//!   chosen value, so this holds; changing the row in place (the `update_in_place` bug) breaks it.
//! - **chosen-survives**: a leader that has recovered its log (phase 1 done, its open slots
//!   chosen) holds every value chosen anywhere before it, as Raft's leader completeness.
//!
//! An entry counts as committed here when the first replica of its group applies it; the 2PC
//! invariants then see each committed record once per group, as a single node's WAL write.

use crate::invariants::{Invariant, Violation};
use commitlab_protocol::paxos::{Paxos, Slot};
use commitlab_protocol::raft::{Entry, LogIndex, Payload, Raft, Term};
use commitlab_protocol::route::Groups;
use commitlab_protocol::VecMap;
use commitlab_protocol::{Millis, Node, NodeConfig, NodeId, Record, Seq, Stamped};
use std::sync::Arc;

/// An entry as first seen at an (index, term): the term of the entry before it, the entry, and the
/// replica that held it.
type FirstSeen = (Term, Entry<Record>, NodeId);

/// What the checker records of every entry, slot or seq, one table per group (by group address):
/// each table grows at its end as its group's log does, where one table keyed by group first
/// would take every new row in its middle.
type PerGroup<K, V> = VecMap<NodeId, VecMap<K, V>>;

fn in_group<'a, K: Ord, V>(table: &'a PerGroup<K, V>, group: NodeId, key: &K) -> Option<&'a V> {
    table.get(&group).and_then(|rows| rows.get(key))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusChecker {
    groups: Arc<Groups>,
    /// Each group's committed state: its committed records applied once, in log order. Money and
    /// blocking are measured on it, so a group counts once whichever replicas are up or behind.
    committed: VecMap<NodeId, Node>,
    /// (group, term) to the replica elected in it.
    leaders: VecMap<(NodeId, Term), NodeId>,
    /// (group, index, term) to the term of the entry before it and the entry, as first seen.
    entries: PerGroup<(LogIndex, Term), FirstSeen>,
    /// How much of each replica's log has been checked against `entries`.
    checked_len: VecMap<NodeId, LogIndex>,
    /// (group, index) to the entry first applied there and the replica that applied it.
    applied: PerGroup<LogIndex, (Entry<Record>, NodeId)>,
    /// Multi-Paxos: (group, slot) to the value first learned chosen there and the replica.
    chosen: PerGroup<Slot, (Payload<Stamped>, NodeId)>,
    /// Multi-Paxos: (group, seq, coordinator record?, stage) to the record first executed there.
    executed: PerGroup<(Seq, bool, u8), (Record, NodeId)>,
    /// The groups run Multi-Paxos (else Raft).
    paxos: bool,
}

impl ConsensusChecker {
    /// `configs` holds the 2PC configuration of each group's first replica, by group address.
    pub fn new(groups: Arc<Groups>, configs: VecMap<NodeId, Arc<NodeConfig>>, paxos: bool) -> ConsensusChecker {
        let committed = configs
            .into_iter()
            .map(|(group, config)| (group, Node::recover(config, std::iter::empty(), 0, &mut Vec::new())))
            .collect();
        ConsensusChecker {
            groups,
            committed,
            leaders: VecMap::new(),
            entries: VecMap::new(),
            checked_len: VecMap::new(),
            applied: VecMap::new(),
            chosen: VecMap::new(),
            executed: VecMap::new(),
            paxos,
        }
    }

    /// Each group's committed state, by group address.
    pub fn committed(&self) -> &VecMap<NodeId, Node> {
        &self.committed
    }

    fn group(&self, replica: NodeId) -> NodeId {
        self.groups.of_member(replica).expect("replicas belong to groups").address()
    }

    fn label(&self, replica: NodeId) -> &str {
        &self.groups.of_member(replica).expect("replicas belong to groups").label
    }

    /// `replica` became leader of `term`: no one else may be, and it must hold every committed entry.
    pub fn on_elected(&mut self, replica: NodeId, term: Term, raft: &Raft<Record>, violations: &mut Vec<Violation>) {
        let group = self.group(replica);
        match self.leaders.get(&(group, term)) {
            Some(other) if *other != replica => violations.push(Violation {
                invariant: Invariant::ElectionSafety,
                nodes: vec![*other, replica],
                txn: None,
                detail: format!(
                    "{other} and {replica} were both elected leader of {} in term {term}",
                    self.label(replica)
                ),
            }),
            Some(_) => {}
            None => {
                self.leaders.insert((group, term), replica);
            }
        }
        let log = raft.durable();
        let mut applied = self.applied.get(&group).into_iter().flat_map(VecMap::iter);
        let missing = applied.find(|(index, (entry, _))| log.entry(**index) != Some(entry));
        if let Some((index, (entry, applier))) = missing {
            let found = log.entry(*index).map_or("nothing".to_string(), |found| found.to_string());
            violations.push(Violation {
                invariant: Invariant::LeaderCompleteness,
                nodes: vec![replica, *applier],
                txn: None,
                detail: format!(
                    "{replica} leads {} in term {term} without committed entry {index} ({entry}, applied at {applier}): its log has {found}",
                    self.label(replica)
                ),
            });
        }
    }

    /// `replica` truncated its log from `from` on: those entries must be checked again.
    pub fn on_truncated(&mut self, replica: NodeId, from: LogIndex) {
        let checked = self.checked_len.entry(replica).or_insert(0);
        *checked = (*checked).min(from.saturating_sub(1));
    }

    /// Checks the entries `replica` stored since the last check against the group's.
    pub fn check_log(&mut self, replica: NodeId, raft: &Raft<Record>, violations: &mut Vec<Violation>) {
        let group = self.group(replica);
        let log = raft.durable();
        let checked = self.checked_len.get(&replica).copied().unwrap_or(0).min(log.last_index());
        for index in checked + 1..=log.last_index() {
            let entry = log.entry(index).expect("within the log");
            let previous = log.term_at(index - 1).expect("within the log");
            match in_group(&self.entries, group, &(index, entry.term)) {
                None => {
                    self.entries
                        .entry(group)
                        .or_default()
                        .insert((index, entry.term), (previous, entry.clone(), replica));
                }
                Some((first_previous, first, other)) if (*first_previous, first) != (previous, entry) => {
                    violations.push(Violation {
                        invariant: Invariant::LogMatching,
                        nodes: vec![*other, replica],
                        txn: None,
                        detail: format!(
                            "entry {index} of term {} differs: {first} after a term-{first_previous} entry at {other}, {entry} after a term-{previous} entry at {replica}",
                            entry.term
                        ),
                    });
                }
                Some(_) => {}
            }
        }
        self.checked_len.insert(replica, log.last_index());
    }

    /// `replica` applied the committed entry at `index`. Returns true when it is the first replica
    /// of its group to apply it: the entry is then committed for the 2PC invariants.
    pub fn on_applied(
        &mut self,
        now_ms: Millis,
        replica: NodeId,
        (index, seq): (LogIndex, Option<Seq>),
        entry: &Entry<Record>,
        violations: &mut Vec<Violation>,
    ) -> bool {
        let group = self.group(replica);
        if let (Some(seq), Payload::Command(record)) = (seq, &entry.payload) {
            self.check_executed(group, replica, seq, record, violations);
        }
        match in_group(&self.applied, group, &index) {
            None => {
                self.applied.entry(group).or_default().insert(index, (entry.clone(), replica));
                if let Payload::Command(record) = &entry.payload {
                    self.committed.get_mut(&group).expect("every group has a state").apply(now_ms, record);
                }
                true
            }
            // Under Multi-Paxos a second value at one slot is a rewrite, which one-value-per-slot
            // and seq-agreement name.
            Some((first, other)) if first != entry && !self.paxos => {
                violations.push(Violation {
                    invariant: Invariant::StateMachineSafety,
                    nodes: vec![*other, replica],
                    txn: match &entry.payload {
                        Payload::Command(record) => Some(record.txn()),
                        Payload::Noop => None,
                    },
                    detail: format!("{other} applied {first} at index {index} but {replica} applied {entry}"),
                });
                false
            }
            // A Multi-Paxos slot executed with another value (the update_in_place bug): the replica
            // acts on it, so the 2PC checks see it as the group's record too.
            Some((first, _)) if first != entry => {
                self.applied.entry(group).or_default().insert(index, (entry.clone(), replica));
                if let Payload::Command(record) = &entry.payload {
                    self.committed.get_mut(&group).expect("every group has a state").apply(now_ms, record);
                }
                true
            }
            Some(_) => false,
        }
    }

    /// Multi-Paxos: `replica` executed `record` at sequence number `seq`.
    fn check_executed(
        &mut self,
        group: NodeId,
        replica: NodeId,
        seq: Seq,
        record: &Record,
        violations: &mut Vec<Violation>,
    ) {
        let stage = match record.phase() {
            Some('P') => 0,
            Some(_) => 1,
            None => 2,
        };
        let key = (seq, record.is_coordinator_record(), stage);
        match in_group(&self.executed, group, &key) {
            None => {
                self.executed.entry(group).or_default().insert(key, (record.clone(), replica));
            }
            Some((first, other)) if first != record => violations.push(Violation {
                invariant: Invariant::SeqAgreement,
                nodes: vec![*other, replica],
                txn: Some(record.txn()),
                detail: format!(
                    "{other} executed {first} at seq {seq} of {} but {replica} executed {record} there",
                    self.label(replica)
                ),
            }),
            Some(_) => {}
        }
    }

    /// Multi-Paxos: `replica` learned the value of `slot` chosen.
    pub fn on_chosen(&mut self, replica: NodeId, slot: Slot, paxos: &Paxos<Stamped>, violations: &mut Vec<Violation>) {
        let group = self.group(replica);
        let Some(value) = paxos.durable().chosen.get(&slot) else { return };
        match in_group(&self.chosen, group, &slot) {
            None => {
                self.chosen.entry(group).or_default().insert(slot, (value.clone(), replica));
            }
            Some((first, other)) if first != value => {
                let txn = value.command().map(|stamped| stamped.record.txn());
                let (group, first, value) = (self.label(replica), payload_text(first), payload_text(value));
                let detail = if *other == replica {
                    format!("slot {slot} of {group}: {replica} learned {first} chosen, then changed it to {value}")
                } else {
                    format!("slot {slot} of {group}: {other} learned {first} chosen but {replica} learned {value}")
                };
                violations.push(Violation {
                    invariant: Invariant::OneValuePerSlot,
                    nodes: if *other == replica { vec![replica] } else { vec![*other, replica] },
                    txn,
                    detail,
                });
            }
            Some(_) => {}
        }
    }

    /// Multi-Paxos: `replica` leads with its log recovered: it must hold every value chosen before.
    pub fn on_ready(&mut self, replica: NodeId, paxos: &Paxos<Stamped>, violations: &mut Vec<Violation>) {
        let group = self.group(replica);
        let chosen = &paxos.durable().chosen;
        let mut learned = self.chosen.get(&group).into_iter().flat_map(VecMap::iter);
        let missing = learned.find(|(slot, (value, _))| chosen.get(*slot) != Some(value));
        if let Some((slot, (value, learner))) = missing {
            let found = chosen.get(slot).map_or("nothing".to_string(), payload_text);
            violations.push(Violation {
                invariant: Invariant::ChosenSurvives,
                nodes: vec![replica, *learner],
                txn: value.command().map(|stamped| stamped.record.txn()),
                detail: format!(
                    "{replica} leads {} with ballot {} without the value chosen in slot {slot} ({}, learned at {learner}): it holds {found}",
                    self.label(replica),
                    paxos.ballot(),
                    payload_text(value)
                ),
            });
        }
    }
}

fn payload_text(value: &Payload<Stamped>) -> String {
    value.command().map_or("no-op".to_string(), Stamped::to_string)
}
