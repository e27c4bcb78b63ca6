//! The invariant checker's hooks into the world: the few fixed points of a step where the
//! [`Checker`] looks at what just happened.
//!
//! The checks are incremental (see [`crate::invariants`]), so the world must call them exactly
//! where the facts they track appear: a record becoming durable, a vote or reply leaving a node,
//! and the end of every step. Gathering the calls here keeps the event loop free of checker
//! details, and gives the replicated mode one place to count decisions and money per group: there
//! a group stands for a node, its first applied entries are its durable records, and the
//! consensus safety properties ([`crate::consensus`]) are checked beside the 2PC ones.

use super::money::MoneyCount;
use super::{NodeSlot, Slots, StepTrace};
use crate::consensus::ConsensusChecker;
use crate::invariants::{Checker, ViewChange};
use crate::machine::Machine;
use crate::scenario::{Engine, NodeLayout, Scenario};
use crate::trace::TraceEvent;
use commitlab_protocol::paxos::PaxosNote;
use commitlab_protocol::raft::{Entry, Payload, RaftNote, RaftRole};
use commitlab_protocol::route::Groups;
use commitlab_protocol::VecMap;
use commitlab_protocol::{AccountId, Endpoint, Message, Millis, Node, NodeId, Note, Record, Seq, TxnId};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct InvariantHooks {
    checker: Checker,
    /// The replicated mode's groups and consensus checks; `None` with single nodes.
    groups: Option<Arc<Groups>>,
    consensus: Option<ConsensusChecker>,
    money: MoneyCount,
    /// The lock check's list of owners, kept to reuse its allocation (empty between steps).
    lock_owners: Vec<(AccountId, TxnId)>,
    /// Each single node's count of shard changes when its locks were last checked: a node whose
    /// shard data did not change since holds the same locks. (A replica's 2PC roles are rebuilt
    /// inside it when it takes over or steps down, so its locks are checked at every event.)
    locks_checked: VecMap<NodeId, u64>,
    /// Some request writes a journal line (seed 004's log database): only then are journals checked.
    journals: bool,
}

impl InvariantHooks {
    /// Conservation compares every step against the money the shards start with.
    pub(super) fn new(scenario: &Scenario, layouts: &[NodeLayout], groups: Option<Arc<Groups>>) -> InvariantHooks {
        let initial_money: i64 =
            (0..scenario.topology.shards.len()).map(|index| scenario.shard_accounts(index).values().sum::<i64>()).sum();
        let consensus = groups.clone().map(|groups| {
            let configs = layouts
                .iter()
                .filter(|layout| groups.addressed(layout.id).is_some())
                .map(|layout| (layout.id, layout.config.clone()))
                .collect();
            ConsensusChecker::new(groups, configs, scenario.replication.engine == Engine::MultiPaxos)
        });
        InvariantHooks {
            checker: Checker::new(initial_money),
            groups,
            consensus,
            money: MoneyCount::default(),
            lock_owners: Vec::new(),
            locks_checked: VecMap::new(),
            journals: scenario.workload.requests.iter().any(|request| !request.journal.is_empty()),
        }
    }

    /// Counts every node's money once the world has its nodes; each step then recounts what it changed.
    pub(super) fn count_money(&mut self, slots: &Slots) {
        match &self.consensus {
            Some(consensus) => self.money.start(&self.checker, consensus.committed()),
            None => self.money.start(&self.checker, slots.iter().map(|(id, slot)| (id, slot.node()))),
        }
    }

    pub(super) fn checker(&self) -> &Checker {
        &self.checker
    }

    pub(super) fn groups(&self) -> Option<&Arc<Groups>> {
        self.groups.as_ref()
    }

    /// The group a node belongs to, named by its address; a single node is its own group.
    pub(super) fn group_of(&self, node: NodeId) -> NodeId {
        self.groups.as_ref().and_then(|groups| groups.of_member(node)).map_or(node, |group| group.address())
    }

    /// Each replicated group's committed state, by group address; `None` with single nodes.
    pub(super) fn committed_states(&self) -> Option<&VecMap<NodeId, Node>> {
        self.consensus.as_ref().map(ConsensusChecker::committed)
    }

    /// A replica applied a committed entry: the consensus checks compare it with its group's, and
    /// the first replica to apply a record makes it durable for the 2PC invariants, once per group.
    pub(super) fn after_applied(
        &mut self,
        now_ms: Millis,
        node: NodeId,
        (index, term, seq, record): (u64, u64, Option<Seq>, Option<Record>),
        step: &mut StepTrace,
    ) {
        let consensus = self.consensus.as_mut().expect("replicas run in the replicated mode");
        let payload = record.clone().map_or(Payload::Noop, Payload::Command);
        let first = consensus.on_applied(now_ms, node, (index, seq), &Entry { term, payload }, &mut step.violations);
        if let (true, Some(record)) = (first, record) {
            let group = self.group_of(node);
            self.money.changed(group);
            self.on_durable(group, &record, step);
        }
    }

    /// The checker sees a durable record; the money count hears of a transaction's first COMMIT
    /// and of a saga beginning or ending.
    fn on_durable(&mut self, node: NodeId, record: &Record, step: &mut StepTrace) {
        match self.checker.on_durable(node, record, &mut step.violations) {
            ViewChange::None => {}
            ViewChange::FirstCommit => self.money.committed(record.txn()),
            ViewChange::Sagas => self.money.sagas_changed(),
        }
    }

    /// A node's memory was rebuilt from its durable state (a crash or a restart).
    pub(super) fn after_rebuilt(&mut self, node: NodeId) {
        self.money.rebuilt(node);
        self.locks_checked.remove(&node);
    }

    /// A replica's consensus note: an election to check, or a truncation to check again after.
    pub(super) fn after_note(&mut self, at: Endpoint, note: &Note, slots: &Slots, step: &mut StepTrace) {
        let (Endpoint::Node(node), Some(consensus)) = (at, &mut self.consensus) else { return };
        let engine = || slots[&node].machine.replica().expect("a replica").engine();
        match note {
            Note::Raft(RaftNote::Role { role: RaftRole::Leader, term }) => {
                let raft = engine().as_raft().expect("a Raft replica");
                consensus.on_elected(node, *term, raft, &mut step.violations);
            }
            Note::Raft(RaftNote::Truncated { from }) => consensus.on_truncated(node, *from),
            Note::Paxos(PaxosNote::Chosen { slot }) => {
                let paxos = engine().as_paxos().expect("a Paxos replica");
                consensus.on_chosen(node, *slot, paxos, &mut step.violations);
            }
            Note::Paxos(PaxosNote::Ready { .. }) => {
                let paxos = engine().as_paxos().expect("a Paxos replica");
                consensus.on_ready(node, paxos, &mut step.violations);
            }
            _ => {}
        }
    }

    /// A record reached a node's WAL.
    pub(super) fn after_durable(&mut self, node: NodeId, record: &Record, step: &mut StepTrace) {
        self.on_durable(node, record, step);
    }

    /// A message left `from`: YES votes and client replies are what the checks need to see.
    pub(super) fn after_send(&mut self, from: Endpoint, message: &Message, step: &mut StepTrace) {
        // The client's requests carry no vote or outcome.
        let Endpoint::Node(node) = from else { return };
        // A replica votes and replies for its group.
        let node = self.group_of(node);
        match message {
            Message::Vote { txn, yes: true, .. } => self.checker.on_yes_vote(node, *txn, &mut step.violations),
            Message::Reply { request, txn, decision, .. } => {
                self.checker.on_reply(node, *request, *decision, &mut step.violations);
                if let Some(txn) = txn {
                    self.checker.on_reply_of(node, *txn, *decision, &mut step.violations);
                }
            }
            _ => {}
        }
    }

    /// The lock check of a node an event touched, unless its shard data is as it was at its last check.
    fn check_locks(&mut self, id: NodeId, slot: &NodeSlot, step: &mut StepTrace) {
        let node = slot.node();
        if let (Machine::Single(_), Some(participant)) = (&slot.machine, node.participant()) {
            let changes = participant.shard_changes();
            if self.locks_checked.insert(id, changes) == Some(changes) {
                debug_assert!(self.checker.locks_reported(node), "{id}'s locks changed without a shard change");
                return;
            }
        }
        self.checker.check_locks_with(node, &mut self.lock_owners, &mut step.violations);
        self.lock_owners.clear();
    }

    /// The checks of the whole state after every step; every violation found during the step
    /// becomes a trace entry of that step.
    pub(super) fn after_step(&mut self, touched: Option<NodeId>, slots: &Slots, step: &mut StepTrace) {
        if let Some(node) = touched {
            let slot = &slots[&node];
            self.check_locks(node, slot, step);
            if self.journals {
                // A group's journal is its committed state's; a single node's is its own.
                let group = self.group_of(node);
                match self.consensus.as_ref().and_then(|consensus| consensus.committed().get(&group)) {
                    Some(committed) => self.checker.check_journal(group, committed, &mut step.violations),
                    None if slot.up => self.checker.check_journal(node, slot.node(), &mut step.violations),
                    None => {}
                }
            }
            if let (Some(consensus), Some(raft)) =
                (&mut self.consensus, slot.machine.replica().and_then(|replica| replica.raft()))
            {
                consensus.check_log(node, raft, &mut step.violations);
            }
        }
        // Money is counted once per group: a single node's memory, a group's committed state.
        match &self.consensus {
            Some(consensus) => {
                let committed = consensus.committed();
                let money = self.money.count(&self.checker, |group| &committed[&group], None);
                self.checker.check_counted_money(money, committed.values(), &mut step.violations);
            }
            None => {
                let money = self.money.count(&self.checker, |node| slots[&node].node(), touched);
                self.checker.check_counted_money(money, slots.values().map(NodeSlot::node), &mut step.violations);
            }
        }
        for violation in std::mem::take(&mut step.violations) {
            step.push(TraceEvent::Violation(Box::new(violation)));
        }
    }
}
