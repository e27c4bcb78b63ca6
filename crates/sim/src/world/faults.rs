//! Applying the scenario's fault schedule: crash, restart, partition, heal, and the message faults.
//!
//! A fault that cannot apply when its time comes (a crash of a node already down, a drop of a
//! message no longer in flight) is skipped with a trace entry saying why, never an error: a
//! schedule written or injected for one run must still play when other faults change that run.
//! A crash keeps the node's durable state (a single node's WAL, a replica's Raft term, vote and log)
//! and loses everything else: volatile memory, timers and unwritten records. A restart rebuilds the
//! node from the durable state alone.

use super::{StepTrace, World};
use crate::fault::{Fault, MessageTarget};
use crate::trace::TraceEvent;
use commitlab_protocol::{Endpoint, NodeId};

impl World {
    /// Applies the scenario's fault `index`; returns the node it touched.
    pub(super) fn apply_fault(&mut self, index: usize, step: &mut StepTrace) -> Option<NodeId> {
        let fault = self.scenario.faults[index].fault.clone();
        match &fault {
            Fault::Crash(node) if !self.slots[node].up => skip(step, &fault, format!("{node} is already down")),
            Fault::Crash(node) => {
                self.crash(*node, step);
                Some(*node)
            }
            Fault::Restart(node) if self.slots[node].up => skip(step, &fault, format!("{node} is up")),
            Fault::Restart(node) => {
                self.restart(*node, step);
                Some(*node)
            }
            Fault::Partition(groups) => {
                self.network.set_partition(groups.clone());
                step.push(TraceEvent::Partition { groups: groups.clone() });
                None
            }
            Fault::Heal => {
                self.network.heal();
                step.push(TraceEvent::Heal);
                None
            }
            Fault::Drop(target) | Fault::Duplicate(target) | Fault::Delay { message: target, .. } => {
                self.apply_message_fault(index, &fault, target, step);
                None
            }
        }
    }

    /// A fault naming a message id acts now; one with a filter waits for the next matching send.
    fn apply_message_fault(&mut self, index: usize, fault: &Fault, target: &MessageTarget, step: &mut StepTrace) {
        match target {
            MessageTarget::Id(id) if self.network.is_in_flight(*id) => {
                let (network, mut context) = self.network_and_context();
                network.act_on_message(&mut context, fault, *id, step);
            }
            MessageTarget::Id(id) => {
                skip(step, fault, format!("{id} is not in flight"));
            }
            MessageTarget::Next(_) => self.network.wait_for_next(index),
        }
    }

    pub(super) fn crash(&mut self, node: NodeId, step: &mut StepTrace) {
        let slot = self.slots.get_mut(&node).expect("known node");
        slot.up = false;
        let lost_records = slot.lose_unwritten();
        // What a restart would rebuild: the invariants and the tables of a down node use it.
        slot.recover_from_disk(self.now_ms, &mut self.effects);
        self.hooks.after_rebuilt(node);
        // A down node acts on nothing, so recovery's effects wait for the restart to redo them.
        self.effects.clear();
        self.timers.cancel_all(Endpoint::Node(node));
        step.push(TraceEvent::Crash { node, lost_records });
    }

    pub(super) fn restart(&mut self, node: NodeId, step: &mut StepTrace) {
        step.push(TraceEvent::Restart { node });
        let slot = self.slots.get_mut(&node).expect("known node");
        slot.up = true;
        slot.recover_from_disk(self.now_ms, &mut self.effects);
        self.hooks.after_rebuilt(node);
        self.perform(Endpoint::Node(node), step);
    }
}

/// Records a fault that does not apply at its time, and why; it touched no node.
fn skip(step: &mut StepTrace, fault: &Fault, reason: String) -> Option<NodeId> {
    step.push(TraceEvent::FaultSkipped { fault: Box::new(fault.clone()), reason });
    None
}
