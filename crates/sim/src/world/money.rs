//! The money of the committed view, kept between steps for the conservation check.
//!
//! Conservation is checked after every event, over every node (a single node, or a replicated
//! group's committed state): its balances minus the changes of unresolved transactions not
//! decided COMMIT that they hold (writes in place), plus the changes of those decided COMMIT that
//! they do not hold yet (deferred writes), minus what the steps of open sagas changed
//! ([`Checker::committed_money`]). Counting that afresh at every event costs a walk of every
//! node's open transactions and a decision lookup for each. Instead each node's count is kept with
//! the list of its unresolved transactions (each with its change and whether it was decided
//! COMMIT), and it changes only three ways:
//! - the node's shard data changed (its participant counts such changes, saga steps included, see
//!   [`commitlab_protocol::participant::Participant::shard_changes`]): the node is recounted,
//!   walking its open transactions but looking up only those it has not seen before (a
//!   transaction decided COMMIT stays committed: the checker keeps the first decision);
//! - a transaction is first decided COMMIT: every node holding it unresolved gets its change back,
//!   found by a binary search in its list (in place its change was left out until now; deferred it
//!   was not in the balances and now counts: either way the view gains the change);
//! - a saga begins or ends (rare): the set of open sagas whose steps' changes are left out changed,
//!   so every node is recounted.
//!
//! In debug builds every step compares the counts with a full recount.

use crate::invariants::{committed_view_correction, Checker};
use commitlab_protocol::VecMap;
use commitlab_protocol::{Node, NodeId, TxnId};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct MoneyCount {
    nodes: VecMap<NodeId, NodeMoney>,
    /// Replicated groups whose committed state changed during this step.
    changed: Vec<NodeId>,
    /// Transactions first decided COMMIT during this step.
    committed: Vec<TxnId>,
    /// A saga began or ended during this step: every node is recounted.
    sagas_changed: bool,
    /// The list being rebuilt by a recount, kept to reuse its allocation.
    scratch: Vec<Unresolved>,
}

/// One node's count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NodeMoney {
    money: i64,
    /// The unresolved transactions, in order.
    unresolved: Vec<Unresolved>,
    /// The node's count of shard changes at the last recount; `None` when it must be recounted
    /// whatever its count says (its memory was rebuilt: a crash or a restart).
    shard_changes: Option<u64>,
}

/// A transaction prepared and not yet resolved at a node.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Unresolved {
    txn: TxnId,
    /// The sum of its changes at the node (whether the balances hold them yet or not).
    change: i64,
    /// Decided COMMIT: its change counts.
    committed: bool,
}

impl MoneyCount {
    /// Counts every node from scratch.
    pub(super) fn start<'a>(&mut self, checker: &Checker, nodes: impl IntoIterator<Item = (&'a NodeId, &'a Node)>) {
        self.nodes.clear();
        for (id, node) in nodes {
            let mut count = NodeMoney::default();
            count.recount(checker, node, &mut self.scratch);
            self.nodes.insert(*id, count);
        }
    }

    /// A replicated group's committed state changed during this step.
    pub(super) fn changed(&mut self, group: NodeId) {
        self.changed.push(group);
    }

    /// `txn` was decided COMMIT for the first time during this step.
    pub(super) fn committed(&mut self, txn: TxnId) {
        self.committed.push(txn);
    }

    /// A saga began or ended during this step: the changes its steps left at every node joined or
    /// left the committed view.
    pub(super) fn sagas_changed(&mut self) {
        self.sagas_changed = true;
    }

    /// A node's memory was rebuilt (a crash or a restart): its next count walks it whatever its
    /// count of shard changes says, since that count restarted with the memory.
    pub(super) fn rebuilt(&mut self, node: NodeId) {
        if let Some(count) = self.nodes.get_mut(&node) {
            count.shard_changes = None;
        }
    }

    /// The committed view's money after a step that changed `touched` (a single node) or the
    /// groups reported through `changed`; `node` finds a node (or group state) by address.
    pub(super) fn count<'a>(
        &mut self,
        checker: &Checker,
        node: impl Fn(NodeId) -> &'a Node,
        touched: Option<NodeId>,
    ) -> i64 {
        for txn in self.committed.drain(..) {
            for count in self.nodes.values_mut() {
                count.on_committed(txn);
            }
        }
        if std::mem::take(&mut self.sagas_changed) {
            for (id, count) in self.nodes.iter_mut() {
                count.recount(checker, node(*id), &mut self.scratch);
            }
        }
        let changed = std::mem::take(&mut self.changed);
        for id in touched.into_iter().chain(changed.iter().copied()) {
            let count = self.nodes.get_mut(&id).expect("a known node");
            let state = node(id);
            if count.shard_changes.is_none() || count.shard_changes != shard_changes(state) {
                count.recount(checker, state, &mut self.scratch);
            }
        }
        self.changed = changed;
        self.changed.clear();
        debug_assert!(
            self.nodes.iter().all(|(id, count)| count.money == checker.committed_money(node(*id))),
            "a node's money changed without the step touching it"
        );
        self.nodes.values().map(|count| count.money).sum()
    }
}

/// A node's count of changes to its shard data; zero for a node without a shard.
fn shard_changes(node: &Node) -> Option<u64> {
    Some(node.participant().map_or(0, |participant| participant.shard_changes()))
}

impl NodeMoney {
    /// Counts `node` again.
    fn recount(&mut self, checker: &Checker, node: &Node, scratch: &mut Vec<Unresolved>) {
        let mut money = node.balance_total() - checker.open_saga_money(node);
        let mut known = self.unresolved.iter().peekable();
        scratch.clear();
        for (txn, change, applied) in node.unresolved_changes() {
            while known.next_if(|seen| seen.txn < txn).is_some() {}
            // A transaction seen before keeps what was seen: its first COMMIT since was applied to
            // every list (`on_committed`) before this recount.
            let committed = match known.peek() {
                Some(seen) if seen.txn == txn => seen.committed,
                _ => checker.is_committed(txn),
            };
            money += committed_view_correction(change, applied, committed);
            scratch.push(Unresolved { txn, change, committed });
        }
        self.money = money;
        self.shard_changes = shard_changes(node);
        std::mem::swap(&mut self.unresolved, scratch);
        scratch.clear();
    }

    /// `txn` is now decided COMMIT: its change counts here if the node holds it unresolved.
    fn on_committed(&mut self, txn: TxnId) {
        if let Ok(position) = self.unresolved.binary_search_by_key(&txn, |entry| entry.txn) {
            let entry = &mut self.unresolved[position];
            if !entry.committed {
                entry.committed = true;
                self.money += entry.change;
            }
        }
    }
}
