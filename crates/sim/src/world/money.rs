//! The money of the committed view, kept between steps for the conservation check.
//!
//! Conservation is checked after every event, over every node (a single node, or a replicated
//! group's committed state): its balances minus the changes of unresolved transactions not
//! decided COMMIT that they hold (writes in place), plus those decided COMMIT that they do not
//! hold yet (deferred writes) ([`Checker::committed_money`]). Counting that afresh costs a decision lookup per
//! unresolved transaction per node per event, which was a fifth of a step. Instead each node's
//! count is kept, and a step recounts only the node it changed (or the groups whose committed
//! state it applied to). A recount walks the node's unresolved transactions, which it must, but
//! looks up only those it has not seen decided: a transaction decided COMMIT stays committed (the
//! checker keeps the first decision), and one seen undecided can change only when a decision is
//! logged, so that recounts the undecided ones of every node. In debug builds every step compares
//! the counts with a full recount.

use crate::invariants::{committed_view_correction, Checker};
use commitlab_protocol::VecMap;
use commitlab_protocol::{Node, NodeId, TxnId};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct MoneyCount {
    nodes: VecMap<NodeId, NodeMoney>,
    /// The checker's count of logged decisions at the last step.
    decisions_logged: usize,
    /// Replicated groups whose committed state changed during this step.
    changed: Vec<NodeId>,
    /// The list being rebuilt by a recount, kept to reuse its allocation.
    scratch: Vec<(TxnId, bool)>,
}

/// One node's count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NodeMoney {
    money: i64,
    /// The unresolved transactions at the last recount, in order, each with whether it was
    /// decided COMMIT then.
    unresolved: Vec<(TxnId, bool)>,
}

impl MoneyCount {
    /// Counts every node from scratch.
    pub(super) fn start<'a>(&mut self, checker: &Checker, nodes: impl IntoIterator<Item = (&'a NodeId, &'a Node)>) {
        self.decisions_logged = checker.decisions_logged();
        self.nodes.clear();
        for (id, node) in nodes {
            let mut count = NodeMoney::default();
            count.recount(checker, node, &mut self.scratch, false);
            self.nodes.insert(*id, count);
        }
    }

    /// A replicated group's committed state changed during this step.
    pub(super) fn changed(&mut self, group: NodeId) {
        self.changed.push(group);
    }

    /// The committed view's money after a step that changed `touched` (a single node) or the
    /// groups reported through `changed`; `node` finds a node (or group state) by address.
    pub(super) fn count<'a>(
        &mut self,
        checker: &Checker,
        node: impl Fn(NodeId) -> &'a Node,
        touched: Option<NodeId>,
    ) -> i64 {
        let decided = checker.decisions_logged() != self.decisions_logged;
        self.decisions_logged = checker.decisions_logged();
        if decided {
            for (id, count) in &mut self.nodes {
                count.recount(checker, node(*id), &mut self.scratch, true);
            }
        } else {
            let changed = std::mem::take(&mut self.changed);
            for id in touched.into_iter().chain(changed.iter().copied()) {
                let count = self.nodes.get_mut(&id).expect("a known node");
                count.recount(checker, node(id), &mut self.scratch, false);
            }
            self.changed = changed;
        }
        self.changed.clear();
        debug_assert!(
            self.nodes.iter().all(|(id, count)| count.money == checker.committed_money(node(*id))),
            "a node's money changed without the step touching it"
        );
        self.nodes.values().map(|count| count.money).sum()
    }
}

impl NodeMoney {
    /// Counts `node` again; `decided` says whether a decision was logged since the last recount.
    fn recount(&mut self, checker: &Checker, node: &Node, scratch: &mut Vec<(TxnId, bool)>, decided: bool) {
        let mut money = node.balance_total() - checker.open_saga_money(node);
        let mut known = self.unresolved.iter().peekable();
        scratch.clear();
        for (txn, delta, applied) in node.unresolved_changes() {
            while known.next_if(|(seen, _)| *seen < txn).is_some() {}
            let committed = match known.peek() {
                Some((seen, committed)) if *seen == txn && (*committed || !decided) => *committed,
                _ => checker.is_committed(txn),
            };
            money += committed_view_correction(delta, applied, committed);
            scratch.push((txn, committed));
        }
        self.money = money;
        std::mem::swap(&mut self.unresolved, scratch);
        scratch.clear();
    }
}
