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

use commitlab_protocol::VecSet;
use commitlab_protocol::{Endpoint, MessageId, Millis, NodeId, Timer};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

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

/// The events to come: a min-heap of the events caused during the run, beside the client's
/// requests, which are all known at the start and wait in a list sorted by key rather than fill
/// the heap (and every checkpoint's copy of it) from the first step. Taking the earlier of the two
/// gives the same order as one queue holding both.
#[derive(Clone, Debug, Default)]
pub(super) struct EventQueue {
    heap: BinaryHeap<Reverse<Queued>>,
    /// Sequence numbers of events taken back (a delivery a fault dropped or moved) that are still
    /// in the heap; never the heap's top, which is always a live event.
    cancelled: VecSet<u64>,
    /// The requests: (due time, work index), sorted; request `index` has sequence number
    /// `first_submit_sequence + index`, reserved when the list is made.
    submits: Arc<[(Millis, usize)]>,
    next_submit: usize,
    first_submit_sequence: u64,
    next_sequence: u64,
}

/// An event in the heap, ordered by its key alone (keys are unique), packed into one integer so
/// the heap compares keys without branching: time, then class, then sequence number.
#[derive(Clone, Debug)]
struct Queued {
    order: u128,
    event: Event,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Queued) -> bool {
        self.order == other.order
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Queued) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Queued) -> Ordering {
        self.order.cmp(&other.order)
    }
}

impl EventKey {
    fn packed(self) -> u128 {
        debug_assert!(self.sequence < 1 << 63, "sequence numbers fit in 63 bits");
        (u128::from(self.at_ms) << 64) | (u128::from(self.class == Class::Fault) << 63) | u128::from(self.sequence)
    }

    fn unpacked(order: u128) -> EventKey {
        let class = if order >> 63 & 1 == 1 { Class::Fault } else { Class::Event };
        EventKey { at_ms: (order >> 64) as Millis, class, sequence: (order as u64) & !(1 << 63) }
    }
}

impl EventQueue {
    pub(super) fn schedule(&mut self, at_ms: Millis, class: Class, event: Event) -> EventKey {
        let key = EventKey { at_ms, class, sequence: self.next_sequence };
        self.next_sequence += 1;
        self.heap.push(Reverse(Queued { order: key.packed(), event }));
        key
    }

    /// Schedules the client's requests, one per due time in `due_ms` (by work index), as if each
    /// were scheduled in turn now.
    pub(super) fn schedule_submits(&mut self, due_ms: impl Iterator<Item = Millis>) {
        debug_assert!(self.submits.is_empty(), "the requests are scheduled once");
        let mut submits: Vec<(Millis, usize)> = due_ms.enumerate().map(|(index, at_ms)| (at_ms, index)).collect();
        submits.sort_unstable();
        self.first_submit_sequence = self.next_sequence;
        self.next_sequence += submits.len() as u64;
        self.submits = submits.into();
    }

    fn next_submit_key(&self) -> Option<EventKey> {
        let (at_ms, index) = *self.submits.get(self.next_submit)?;
        Some(EventKey { at_ms, class: Class::Event, sequence: self.first_submit_sequence + index as u64 })
    }

    pub(super) fn peek(&self) -> Option<EventKey> {
        let heap = self.heap.peek().map(|Reverse(queued)| EventKey::unpacked(queued.order));
        match (heap, self.next_submit_key()) {
            (Some(heap), Some(submit)) => Some(heap.min(submit)),
            (heap, submit) => heap.or(submit),
        }
    }

    pub(super) fn pop(&mut self) -> Option<(EventKey, Event)> {
        let submit = self.next_submit_key();
        let heap = self.heap.peek().map(|Reverse(queued)| EventKey::unpacked(queued.order));
        if let Some(submit) = submit.filter(|submit| heap.is_none_or(|heap| *submit < heap)) {
            self.next_submit += 1;
            return Some((submit, Event::Submit(self.submits[self.next_submit - 1].1)));
        }
        let Reverse(Queued { order, event }) = self.heap.pop()?;
        self.drop_cancelled_top();
        Some((EventKey::unpacked(order), event))
    }

    /// Takes an event back out, for a message fault that drops or moves a delivery.
    pub(super) fn cancel(&mut self, key: EventKey) {
        self.cancelled.insert(key.sequence);
        self.drop_cancelled_top();
    }

    /// Keeps a live event at the heap's top.
    fn drop_cancelled_top(&mut self) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if !self.cancelled.remove(&EventKey::unpacked(top.order).sequence) {
                return;
            }
            self.heap.pop();
        }
    }
}

/// The live scheduled event of every armed timer: the sequence number of its key and its due
/// time (kept only so views can show a timer running down; the queue alone decides when it fires).
///
/// A hash table: it is looked up for every timer event and never iterated where the order could
/// show (cancelling keeps or removes entries whatever their order).
#[derive(Clone, Debug, Default)]
pub(super) struct Timers {
    armed: HashMap<(Endpoint, Timer), (u64, Millis), BuildHasherDefault<FxHasher>>,
}

/// rustc's Fx hash: a multiply and a rotate per word, fixed (no per-process seed), fast on the
/// timer table's small keys.
#[derive(Clone, Copy, Default)]
pub(super) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.add(u64::from(*byte));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn write_isize(&mut self, value: isize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
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
