//! Scheduled steps: the world takes the step it is told to take (see [`crate::schedule`]) instead of
//! the next event in time. The explorer lists the steps possible in a state ([`World::choices`]),
//! takes one on a copy ([`World::take`]), and tells states apart by [`World::fingerprint`]; a
//! scenario with a `schedule` plays its steps the same way.
//!
//! A scheduled world never reads its event queue: every send, timer and disk write still goes
//! through the same code as in a timed run (so the trace and the checks are the same), and its
//! queue discards what they schedule.

use super::queue::EventQueue;
use super::{StepTrace, Stop, World};
use crate::schedule::{Choice, STEP_MS};
use crate::trace::TraceEntry;
use commitlab_protocol::{Endpoint, Millis, NodeId, Timer};
use std::hash::{Hash, Hasher};

impl World {
    /// Every step possible now, in a fixed order: the next request, each message in flight (by
    /// id), each node's next disk write, each armed timer, then the faults (crash, restart, lose,
    /// duplicate). The explorer offers those its bounds allow.
    pub fn choices(&self, out: &mut Vec<Choice>) {
        if let Some(request) = self.next_scheduled_submit() {
            out.push(Choice::Submit(request));
        }
        let in_flight: Vec<_> = self.network.in_flight().map(|(id, ..)| id).collect();
        out.extend(in_flight.iter().map(|id| Choice::Deliver(*id)));
        for (id, slot) in &self.slots {
            if slot.up && !slot.unwritten.is_empty() {
                out.push(Choice::Disk(*id));
            }
        }
        out.extend(self.armed_timers().into_iter().map(|(at, timer)| Choice::Timer(at, timer)));
        for (id, slot) in &self.slots {
            out.push(if slot.up { Choice::Crash(*id) } else { Choice::Restart(*id) });
        }
        // A node's message to its own other role never leaves it: the network cannot touch it.
        let on_the_wire: Vec<_> =
            self.network.in_flight().filter(|(_, from, to, ..)| from != to).map(|(id, ..)| id).collect();
        out.extend(on_the_wire.iter().map(|id| Choice::Lose(*id)));
        out.extend(on_the_wire.iter().map(|id| Choice::Duplicate(*id)));
    }

    /// Nothing is left to happen without a fault: every request submitted, nothing in flight, no
    /// disk write waiting, no timer armed, every node up.
    pub fn is_quiescent(&self) -> bool {
        self.submitted == self.work.len()
            && self.network.in_flight().next().is_none()
            && self.timers.is_empty()
            && self.slots.values().all(|slot| slot.up && slot.unwritten.is_empty())
    }

    /// Armed timers, sorted.
    fn armed_timers(&self) -> Vec<(Endpoint, Timer)> {
        let mut armed = self.timers.armed();
        armed.sort_unstable();
        armed
    }

    /// The request a scheduled run submits next: requests go in the order a timed run would send them.
    fn next_scheduled_submit(&self) -> Option<commitlab_protocol::RequestId> {
        self.scheduled_submit_order().get(self.submitted).map(|index| self.work[*index].request)
    }

    fn scheduled_submit_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.work.len()).collect();
        order.sort_by_key(|index| (self.work[*index].at_ms, *index));
        order
    }

    /// Why `choice` cannot be taken now, if it cannot.
    pub fn refuses(&self, choice: Choice) -> Option<String> {
        let in_flight = |id| self.network.is_in_flight(id);
        let node_up = |node: NodeId| self.slots.get(&node).map(|slot| slot.up);
        match choice {
            Choice::Submit(request) => match self.next_scheduled_submit() {
                Some(next) if next == request => None,
                Some(next) => Some(format!("the next request to submit is {next}, not {request}")),
                None => Some(format!("every request was submitted already ({request} is not left)")),
            },
            Choice::Deliver(id) => (!in_flight(id)).then(|| format!("{id} is not in flight")),
            Choice::Lose(id) | Choice::Duplicate(id) => {
                match self.network.in_flight().find(|(flying, ..)| *flying == id) {
                    None => Some(format!("{id} is not in flight")),
                    Some((_, from, to, ..)) if from == to => {
                        Some(format!("{id} goes from {from} to itself: the network cannot lose or copy it"))
                    }
                    Some(_) => None,
                }
            }
            Choice::Disk(node) => match self.slots.get(&node) {
                None => Some(format!("there is no node {node}")),
                Some(slot) if !slot.up => Some(format!("{node} is down")),
                Some(slot) if slot.unwritten.is_empty() => Some(format!("{node} has nothing waiting for its disk")),
                Some(_) => None,
            },
            Choice::Timer(at, timer) => {
                (self.timers.due_ms(at, timer).is_none()).then(|| format!("{at} has no {timer} timer armed"))
            }
            Choice::Crash(node) => match node_up(node) {
                None => Some(format!("there is no node {node}")),
                Some(false) => Some(format!("{node} is already down")),
                Some(true) => None,
            },
            Choice::Restart(node) => match node_up(node) {
                None => Some(format!("there is no node {node}")),
                Some(true) => Some(format!("{node} is up")),
                Some(false) => None,
            },
        }
    }

    /// Takes `choice` at virtual time `now_ms`, appending what happened (with any violation) to
    /// `trace`; a choice that is not possible now changes nothing and says why.
    pub fn take(&mut self, choice: Choice, now_ms: Millis, trace: &mut Vec<TraceEntry>) -> Result<(), String> {
        if let Some(reason) = self.refuses(choice) {
            return Err(reason);
        }
        if !self.queue.is_discarding() {
            self.queue = EventQueue::discarding();
        }
        self.now_ms = now_ms;
        self.steps += 1;
        let mut step = StepTrace { step: self.steps, time_ms: now_ms, trace, violations: Vec::new() };
        let touched = match choice {
            Choice::Submit(_) => {
                let index = self.scheduled_submit_order()[self.submitted];
                self.submitted += 1;
                let item = self.work[index].clone();
                self.client.submit(self.now_ms, item.request, item.spec, item.coordinator, &mut self.effects);
                self.perform(Endpoint::Client, &mut step);
                None
            }
            Choice::Deliver(id) => self.deliver(id, &mut step),
            Choice::Lose(id) => {
                self.message_fault(&crate::fault::Fault::Drop(crate::fault::MessageTarget::Id(id)), id, &mut step);
                None
            }
            Choice::Duplicate(id) => {
                self.message_fault(&crate::fault::Fault::Duplicate(crate::fault::MessageTarget::Id(id)), id, &mut step);
                None
            }
            Choice::Disk(node) => {
                self.on_disk_done(node, &mut step);
                Some(node)
            }
            Choice::Timer(at, timer) => self.fire_timer(at, timer, &mut step),
            Choice::Crash(node) => {
                self.crash(node, &mut step);
                Some(node)
            }
            Choice::Restart(node) => {
                self.restart(node, &mut step);
                Some(node)
            }
        };
        self.hooks.after_step(touched, &self.slots, &mut step);
        Ok(())
    }

    /// The next step of the scenario's schedule (validated with the scenario, so every step can
    /// be taken); the run ends with the schedule.
    pub(super) fn step_scheduled(&mut self, trace: &mut Vec<TraceEntry>) -> bool {
        let index = self.steps as usize;
        let Some(choice) = self.scenario.schedule.get(index).copied() else {
            self.stopped = Some(Stop::Quiescent);
            return false;
        };
        let at_ms = (index as u64 + 1) * STEP_MS;
        if self.take(choice, at_ms, trace).is_err() {
            debug_assert!(false, "a validated schedule's step {index} was refused");
            self.stopped = Some(Stop::Quiescent);
            return false;
        }
        true
    }

    fn message_fault(&mut self, fault: &crate::fault::Fault, id: commitlab_protocol::MessageId, step: &mut StepTrace) {
        let (network, mut context) = self.network_and_context();
        network.act_on_message(&mut context, fault, id, step);
    }

    /// Feeds into `hasher` everything that decides what can happen from here and what the checks
    /// will say: each node's memory, disk and unwritten records and whether it is up, the client,
    /// the messages in flight (as a multiset: their ids and send order do not count), the armed
    /// timers, the requests not yet submitted, and the checker's memory of the run. Left out: the
    /// clock, the PRNG and message ids, which a scheduled run never decides anything by.
    pub fn fingerprint<H: Hasher + Default>(&self, hasher: &mut H) {
        for (id, slot) in &self.slots {
            id.hash(hasher);
            slot.up.hash(hasher);
            slot.node().hash(hasher);
            slot.wal.len().hash(hasher);
            for record in slot.wal.iter() {
                record.hash(hasher);
            }
            slot.unwritten.hash(hasher);
        }
        self.client.hash(hasher);
        let mut messages: Vec<u64> = self
            .network
            .in_flight()
            .map(|(_, from, to, message, _)| {
                let mut one = H::default();
                (from, to, &**message).hash(&mut one);
                one.finish()
            })
            .collect();
        messages.sort_unstable();
        messages.hash(hasher);
        self.armed_timers().hash(hasher);
        self.submitted.hash(hasher);
        self.hooks.checker().hash(hasher);
    }
}
