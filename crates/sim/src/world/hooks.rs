//! The invariant checker's hooks into the world: the few fixed points of a step where the
//! [`Checker`] looks at what just happened.
//!
//! The checks are incremental (see [`crate::invariants`]), so the world must call them exactly
//! where the facts they track appear: a record becoming durable, a vote or reply leaving a node,
//! and the end of every step. Gathering the calls here keeps the event loop free of checker
//! details, and gives the replicated mode one place to count decisions and money per group.

use super::{NodeSlot, StepTrace};
use crate::invariants::Checker;
use crate::scenario::NodeLayout;
use crate::trace::TraceEvent;
use commitlab_protocol::{Endpoint, Message, NodeId, Record};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct InvariantHooks {
    checker: Checker,
}

impl InvariantHooks {
    /// Conservation compares every step against the money the nodes start with.
    pub(super) fn new(layouts: &[NodeLayout]) -> InvariantHooks {
        let initial_money: i64 =
            layouts.iter().map(|layout| layout.config.initial_balances.values().sum::<i64>()).sum();
        InvariantHooks { checker: Checker::new(initial_money) }
    }

    pub(super) fn checker(&self) -> &Checker {
        &self.checker
    }

    /// A record reached a node's WAL.
    pub(super) fn after_durable(&mut self, node: NodeId, record: &Record, step: &mut StepTrace) {
        self.checker.on_durable(node, record, &mut step.violations);
    }

    /// A message left `from`: YES votes and client replies are what the checks need to see.
    pub(super) fn after_send(&mut self, from: Endpoint, message: &Message, step: &mut StepTrace) {
        // The client's requests carry no vote or outcome.
        let Endpoint::Node(node) = from else { return };
        match message {
            Message::Vote { txn, yes: true, .. } => self.checker.on_yes_vote(node, *txn, &mut step.violations),
            Message::Reply { request, decision, .. } => {
                self.checker.on_reply(node, *request, *decision, &mut step.violations)
            }
            _ => {}
        }
    }

    /// The checks of the whole state after every step; every violation found during the step
    /// becomes a trace entry of that step.
    pub(super) fn after_step(
        &mut self,
        touched: Option<NodeId>,
        slots: &BTreeMap<NodeId, NodeSlot>,
        step: &mut StepTrace,
    ) {
        if let Some(node) = touched {
            self.checker.check_locks(&slots[&node].node, &mut step.violations);
        }
        self.checker.check_money(slots.values().map(|slot| &slot.node), &mut step.violations);
        for violation in std::mem::take(&mut step.violations) {
            step.push(TraceEvent::Violation(Box::new(violation)));
        }
    }
}
