//! The simulated network between the client and the nodes: messages in flight, latency, loss,
//! duplication, partitions, and the faults that drop, delay or duplicate one message.
//!
//! Every message gets an id and a due time when it is sent; its delivery is an event in the queue.
//! The PRNG draws for one send happen in a fixed order (loss, latency, then duplication with the
//! copy's own latency) and only for messages between different endpoints: that order is part of
//! every pinned trace. A partition is checked on arrival, not on sending, so a partition that
//! starts while a message is on its way still stops it, and a heal in time lets it through.
//!
//! A fault aimed at "the next matching message" waits here until a message matching its filter is
//! sent, so a scenario can name a message that does not exist yet.

use super::queue::{Class, Event, EventKey, EventQueue};
use super::StepTrace;
use crate::fault::{Fault, MessageTarget};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::trace::{DropReason, TraceEvent};
use commitlab_protocol::{Endpoint, Message, MessageId, Millis, NodeId};
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Network {
    in_flight: InFlightTable,
    /// The last message id handed out; ids start at 1.
    next_message: u32,
    /// Groups of endpoints that reach each other; empty when the network is whole.
    partition: Vec<Vec<Endpoint>>,
    /// "Next matching message" faults still waiting for their message, oldest first.
    message_faults: Vec<PendingMessageFault>,
}

/// What the network borrows from the world for one operation: the queue its deliveries go into,
/// the PRNG its draws come from, the time, and the scenario (network parameters, fault schedule).
pub(super) struct NetworkContext<'a> {
    pub(super) queue: &'a mut EventQueue,
    pub(super) rng: &'a mut Rng,
    pub(super) now_ms: Millis,
    pub(super) scenario: &'a Scenario,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct InFlight {
    from: Endpoint,
    to: Endpoint,
    message: Arc<Message>,
    /// The delivery event, so a fault can take it back or move it.
    key: EventKey,
}

/// A "next matching message" fault waiting for its message.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PendingMessageFault {
    fault_index: usize,
}

/// A message that reached its receiver.
pub(super) struct Arrival {
    pub(super) from: Endpoint,
    pub(super) to: Endpoint,
    pub(super) message: Arc<Message>,
}

impl Network {
    pub(super) fn partition(&self) -> &[Vec<Endpoint>] {
        &self.partition
    }

    /// Messages sent and not yet delivered or dropped, with their due times.
    pub(super) fn in_flight(&self) -> impl Iterator<Item = (MessageId, Endpoint, Endpoint, &Arc<Message>, Millis)> {
        self.in_flight.iter().map(|(id, flight)| (id, flight.from, flight.to, &flight.message, flight.key.at_ms))
    }

    pub(super) fn is_in_flight(&self, id: MessageId) -> bool {
        self.in_flight.contains_key(&id)
    }

    pub(super) fn set_partition(&mut self, groups: Vec<Vec<Endpoint>>) {
        self.partition = groups;
    }

    pub(super) fn heal(&mut self) {
        self.partition.clear();
    }

    /// Puts a message on the wire: lost, or due after a random latency (and maybe copied), then
    /// handed to the waiting message faults.
    pub(super) fn send(
        &mut self,
        context: &mut NetworkContext,
        from: Endpoint,
        to: Endpoint,
        message: Arc<Message>,
        step: &mut StepTrace,
    ) {
        let id = self.new_message_id();
        if from == to {
            // A node talking to its own other role: local, instant, beyond the network's reach.
            let key = context.queue.schedule(context.now_ms, Class::Event, Event::Deliver(id));
            step.push(TraceEvent::Send { id, from, to, message: message.clone(), deliver_ms: context.now_ms });
            self.in_flight.insert(id, InFlight { from, to, message, key });
            return;
        }
        let lost = context.rng.chance(context.scenario.network.loss);
        let deliver_ms = draw_deliver_ms(context);
        step.push(TraceEvent::Send { id, from, to, message: message.clone(), deliver_ms });
        if lost {
            step.push(TraceEvent::Drop { id, from, to, message, reason: DropReason::Lost });
            return;
        }
        let key = context.queue.schedule(deliver_ms, Class::Event, Event::Deliver(id));
        self.in_flight.insert(id, InFlight { from, to, message, key });
        if context.rng.chance(context.scenario.network.duplication) {
            self.duplicate(context, id, step);
        }
        if !self.message_faults.is_empty() {
            let message = self.in_flight.get(&id).expect("just sent").message.clone();
            self.apply_message_faults(context, id, from, to, &message, step);
        }
    }

    /// Takes message `id` off the wire at its due time. It arrives unless a partition separates
    /// its ends or its receiver is down (`is_up` says which nodes are up): a drop is traced here, an
    /// arrival by the caller.
    pub(super) fn arrive(
        &mut self,
        id: MessageId,
        is_up: impl Fn(NodeId) -> bool,
        step: &mut StepTrace,
    ) -> Option<Arrival> {
        let InFlight { from, to, message, .. } = self.in_flight.remove(&id).expect("checked not stale");
        let reason = if !self.connected(from, to) {
            Some(DropReason::Partitioned)
        } else if let Endpoint::Node(node) = to {
            (!is_up(node)).then_some(DropReason::ReceiverDown)
        } else {
            None
        };
        if let Some(reason) = reason {
            step.push(TraceEvent::Drop { id, from, to, message, reason });
            return None;
        }
        Some(Arrival { from, to, message })
    }

    /// Endpoints in no group of the partition reach everyone.
    fn connected(&self, from: Endpoint, to: Endpoint) -> bool {
        let group_of = |endpoint: Endpoint| self.partition.iter().position(|group| group.contains(&endpoint));
        match (group_of(from), group_of(to)) {
            (Some(left), Some(right)) => left == right,
            _ => true,
        }
    }

    fn new_message_id(&mut self) -> MessageId {
        self.next_message += 1;
        MessageId(self.next_message)
    }

    /// Parks the scenario's fault `fault_index` until a message matching its filter is sent.
    pub(super) fn wait_for_next(&mut self, fault_index: usize) {
        self.message_faults.push(PendingMessageFault { fault_index });
    }

    /// Applies waiting "next matching message" faults to a message just sent.
    fn apply_message_faults(
        &mut self,
        context: &mut NetworkContext,
        id: MessageId,
        from: Endpoint,
        to: Endpoint,
        message: &Message,
        step: &mut StepTrace,
    ) {
        let mut index = 0;
        while index < self.message_faults.len() {
            let fault = &context.scenario.faults[self.message_faults[index].fault_index].fault;
            let filter = match fault {
                Fault::Drop(MessageTarget::Next(filter))
                | Fault::Duplicate(MessageTarget::Next(filter))
                | Fault::Delay { message: MessageTarget::Next(filter), .. } => filter,
                _ => unreachable!("only message faults with filters wait"),
            };
            // An earlier fault may have dropped the message already; later ones keep waiting.
            if filter.matches(from, to, message) && self.in_flight.contains_key(&id) {
                self.message_faults.remove(index);
                self.act_on_message(context, fault, id, step);
            } else {
                index += 1;
            }
        }
    }

    /// Drop, delay or duplicate one in-flight message.
    pub(super) fn act_on_message(
        &mut self,
        context: &mut NetworkContext,
        fault: &Fault,
        id: MessageId,
        step: &mut StepTrace,
    ) {
        match fault {
            Fault::Drop(_) => {
                let flight = self.in_flight.remove(&id).expect("in flight");
                context.queue.cancel(flight.key);
                step.push(TraceEvent::Drop {
                    id,
                    from: flight.from,
                    to: flight.to,
                    message: flight.message,
                    reason: DropReason::Fault,
                });
            }
            Fault::Delay { by_ms, .. } => {
                let flight = self.in_flight.get_mut(&id).expect("in flight");
                let deliver_ms = flight.key.at_ms + by_ms;
                context.queue.cancel(flight.key);
                flight.key = context.queue.schedule(deliver_ms, Class::Event, Event::Deliver(id));
                step.push(TraceEvent::Delayed { id, deliver_ms });
            }
            Fault::Duplicate(_) => self.duplicate(context, id, step),
            Fault::Crash(_) | Fault::Restart(_) | Fault::Partition(_) | Fault::Heal => {
                unreachable!("not a message fault")
            }
        }
    }

    /// A second copy of message `of`, with a new id and its own latency.
    fn duplicate(&mut self, context: &mut NetworkContext, of: MessageId, step: &mut StepTrace) {
        let flight = self.in_flight.get(&of).expect("in flight").clone();
        let id = self.new_message_id();
        let deliver_ms = draw_deliver_ms(context);
        let key = context.queue.schedule(deliver_ms, Class::Event, Event::Deliver(id));
        step.push(TraceEvent::Duplicate {
            id,
            of,
            from: flight.from,
            to: flight.to,
            message: flight.message.clone(),
            deliver_ms,
        });
        self.in_flight.insert(id, InFlight { key, ..flight });
    }
}

/// A due time after the scenario's random latency: one PRNG draw.
fn draw_deliver_ms(context: &mut NetworkContext) -> Millis {
    let network = context.scenario.network;
    context.now_ms + context.rng.between(network.latency_ms_min, network.latency_ms_max)
}

/// The messages in flight by id. Ids are handed out in order and a message is on the wire for a
/// few milliseconds, so the table is a window of ids from the oldest one in flight on, indexed by
/// id (lost messages leave holes): no search and no allocation per message, and iteration in id
/// order, as views list them.
#[derive(Clone, Debug, Default)]
struct InFlightTable {
    /// The id of `window[0]`.
    first: u32,
    window: VecDeque<Option<InFlight>>,
}

impl InFlightTable {
    fn position(&self, id: MessageId) -> Option<usize> {
        let position = id.0.checked_sub(self.first)? as usize;
        (position < self.window.len()).then_some(position)
    }

    fn get(&self, id: &MessageId) -> Option<&InFlight> {
        self.window[self.position(*id)?].as_ref()
    }

    fn get_mut(&mut self, id: &MessageId) -> Option<&mut InFlight> {
        let position = self.position(*id)?;
        self.window[position].as_mut()
    }

    fn contains_key(&self, id: &MessageId) -> bool {
        self.get(id).is_some()
    }

    /// Adds a message with an id newer than every one in the table.
    fn insert(&mut self, id: MessageId, flight: InFlight) {
        if self.window.is_empty() {
            self.first = id.0;
        }
        let position = (id.0 - self.first) as usize;
        assert!(position >= self.window.len(), "message ids are handed out in order");
        self.window.resize_with(position, || None);
        self.window.push_back(Some(flight));
    }

    fn remove(&mut self, id: &MessageId) -> Option<InFlight> {
        let position = self.position(*id)?;
        let flight = self.window[position].take();
        while let Some(None) = self.window.front() {
            self.window.pop_front();
            self.first += 1;
        }
        flight
    }

    fn iter(&self) -> impl Iterator<Item = (MessageId, &InFlight)> {
        let first = self.first;
        self.window
            .iter()
            .enumerate()
            .filter_map(move |(position, flight)| Some((MessageId(first + position as u32), flight.as_ref()?)))
    }
}

impl PartialEq for InFlightTable {
    fn eq(&self, other: &InFlightTable) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for InFlightTable {}
