//! The event queue and the timers that are still armed.
//!
//! Events are ordered by (time, class, sequence number). The sequence number counts every event
//! ever scheduled, so events of the same millisecond run in the order they were caused, the same
//! way on every platform. Faults have the later class, so a fault at time T happens after every
//! other event at T: injecting a fault while paused anywhere inside millisecond T and replaying
//! the scenario with that fault in its schedule give the same run.
//!
//! A replaced or cancelled timer stays in the queue: [`Timers`] remembers which scheduled event
//! is the live one for each timer, and the world skips the others when they come up, so replacing
//! or cancelling a timer never searches the queue.

use commitlab_protocol::{Endpoint, MessageId, Millis, NodeId, Timer};
use std::collections::BTreeMap;

/// Where an event sorts among the events of its millisecond.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Class {
    /// Deliveries, timers, disk completions, client requests.
    Event,
    /// Scheduled faults: after everything else of the same millisecond.
    Fault,
}

/// The total order of events; the field order is the sort order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct EventKey {
    pub(super) at_ms: Millis,
    pub(super) class: Class,
    pub(super) sequence: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Event {
    /// The client submits the work item with this index.
    Submit(usize),
    Deliver(MessageId),
    Timer {
        at: Endpoint,
        timer: Timer,
    },
    /// A WAL write finished, unless the node crashed after starting it (another incarnation).
    DiskDone {
        node: NodeId,
        incarnation: u32,
    },
    /// The scenario's fault with this index.
    Fault(usize),
}

#[derive(Clone, Debug, Default)]
pub(super) struct EventQueue {
    events: BTreeMap<EventKey, Event>,
    next_sequence: u64,
}

impl EventQueue {
    pub(super) fn schedule(&mut self, at_ms: Millis, class: Class, event: Event) -> EventKey {
        let key = EventKey { at_ms, class, sequence: self.next_sequence };
        self.next_sequence += 1;
        self.events.insert(key, event);
        key
    }

    pub(super) fn peek(&self) -> Option<EventKey> {
        self.events.keys().next().copied()
    }

    pub(super) fn pop(&mut self) -> Option<(EventKey, Event)> {
        self.events.pop_first()
    }

    /// Takes an event back out, for a message fault that drops or moves a delivery.
    pub(super) fn cancel(&mut self, key: EventKey) {
        self.events.remove(&key);
    }
}

/// The live scheduled event of every armed timer: the sequence number of its key and its due
/// time (kept only so views can show a timer running down; the queue alone decides when it fires).
#[derive(Clone, Debug, Default)]
pub(super) struct Timers {
    armed: BTreeMap<(Endpoint, Timer), (u64, Millis)>,
}

impl Timers {
    /// Arms `timer` at `at` for `due_ms`, replacing any earlier arming of the same timer.
    pub(super) fn set(&mut self, queue: &mut EventQueue, at: Endpoint, timer: Timer, due_ms: Millis) {
        let key = queue.schedule(due_ms, Class::Event, Event::Timer { at, timer });
        self.armed.insert((at, timer), (key.sequence, due_ms));
    }

    /// Disarms a timer because it fired or its owner cancelled it.
    pub(super) fn cancel(&mut self, at: Endpoint, timer: Timer) {
        self.armed.remove(&(at, timer));
    }

    /// A replica that stops leading drops the timers of its 2PC roles; its consensus timers stay.
    pub(super) fn cancel_two_phase(&mut self, at: Endpoint) {
        self.armed.retain(|(owner, timer), _| *owner != at || !timer.is_two_phase());
    }

    /// A crashed node loses every timer it had set.
    pub(super) fn cancel_all(&mut self, at: Endpoint) {
        self.armed.retain(|(owner, _), _| *owner != at);
    }

    /// Whether the timer event with `key` is the live arming of `timer` at `at`.
    pub(super) fn is_current(&self, at: Endpoint, timer: Timer, key: EventKey) -> bool {
        self.armed.get(&(at, timer)).is_some_and(|(sequence, _)| *sequence == key.sequence)
    }

    /// When the armed `timer` at `at` is due, if it is armed.
    pub(super) fn due_ms(&self, at: Endpoint, timer: Timer) -> Option<Millis> {
        self.armed.get(&(at, timer)).map(|(_, due_ms)| *due_ms)
    }
}
