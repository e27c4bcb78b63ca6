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

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
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

/// The events to come. Most are caused during the run and due within a few hundred milliseconds:
/// they wait in a [`Window`], one list per millisecond. The rest wait beside it, each source
/// already in order: events due beyond the window in a heap (they move into the window as time
/// reaches them), scheduled faults in a heap of their own, and the client's requests, all known at
/// the start, in a list sorted by key (not in every checkpoint's copy of a heap). Taking the
/// earliest of the four gives the same order as one queue holding all.
#[derive(Clone, Debug)]
pub(super) struct EventQueue {
    window: Window,
    /// Events (class `Event`) due at or after the window's end when they were scheduled.
    later: BinaryHeap<Reverse<Queued>>,
    /// Scheduled faults (class `Fault`).
    faults: BinaryHeap<Reverse<Queued>>,
    /// The requests: (due time, work index), sorted; request `index` has sequence number
    /// `first_submit_sequence + index`, reserved when the list is made.
    submits: Arc<[(Millis, usize)]>,
    next_submit: usize,
    first_submit_sequence: u64,
    next_sequence: u64,
    /// A scheduled run's queue: events get their keys but are not kept (the schedule, not the
    /// clock, says what happens next), so it stays empty and costs nothing to copy.
    discarding: bool,
}

impl Default for EventQueue {
    fn default() -> EventQueue {
        EventQueue {
            window: Window::new(),
            later: BinaryHeap::new(),
            faults: BinaryHeap::new(),
            submits: Arc::new([]),
            next_submit: 0,
            first_submit_sequence: 0,
            next_sequence: 0,
            discarding: false,
        }
    }
}

/// An event in a heap, ordered by its key alone (keys are unique), packed into one integer so
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

/// The next event's key, and where it waits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) struct Next {
    pub(super) key: EventKey,
    source: Source,
}

impl Next {
    fn of(queued: &Queued, source: Source) -> Next {
        Next { key: EventKey::unpacked(queued.order), source }
    }

    fn earlier(next: Option<Next>, other: Next) -> Option<Next> {
        match next {
            Some(next) if next.key < other.key => Some(next),
            _ => Some(other),
        }
    }
}

/// Where an event waits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Source {
    Window,
    Later,
    Fault,
    Submit,
}

impl EventQueue {
    /// The queue of a scheduled run (see `discarding`), holding nothing.
    pub(super) fn discarding() -> EventQueue {
        EventQueue { window: Window::empty(), discarding: true, ..EventQueue::default() }
    }

    pub(super) fn is_discarding(&self) -> bool {
        self.discarding
    }

    pub(super) fn schedule(&mut self, at_ms: Millis, class: Class, event: Event) -> EventKey {
        let key = EventKey { at_ms, class, sequence: self.next_sequence };
        self.next_sequence += 1;
        if self.discarding {
            return key;
        }
        match class {
            Class::Fault => self.faults.push(Reverse(Queued { order: key.packed(), event })),
            Class::Event if self.window.holds(at_ms) => self.window.push(at_ms, key.sequence, event),
            Class::Event => self.later.push(Reverse(Queued { order: key.packed(), event })),
        }
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

    /// The earliest event: its key, and where it waits.
    pub(super) fn peek(&self) -> Option<Next> {
        // An event beyond the window is later than every event in it.
        let mut next = match self.window.peek() {
            Some(key) => Some(Next { key, source: Source::Window }),
            None => self.later.peek().map(|Reverse(queued)| Next::of(queued, Source::Later)),
        };
        if let Some(Reverse(queued)) = self.faults.peek() {
            next = Next::earlier(next, Next::of(queued, Source::Fault));
        }
        if let Some(key) = self.next_submit_key() {
            next = Next::earlier(next, Next { key, source: Source::Submit });
        }
        next
    }

    /// Takes the event `peek` returned.
    pub(super) fn pop(&mut self, next: Next) -> Event {
        let event = match next.source {
            Source::Window => self.window.pop_first(),
            Source::Later => self.later.pop().expect("peeked").0.event,
            Source::Fault => self.faults.pop().expect("peeked").0.event,
            Source::Submit => {
                self.next_submit += 1;
                Event::Submit(self.submits[self.next_submit - 1].1)
            }
        };
        self.advance(next.key.at_ms);
        event
    }

    /// Time reached `now_ms`: the window starts there, and takes in the events now due within it.
    /// They were all scheduled before any event the window holds for their millisecond (which
    /// could only be scheduled once the window reached it), so each joins the end of its list.
    fn advance(&mut self, now_ms: Millis) {
        self.window.start_at(now_ms);
        while let Some(Reverse(queued)) = self.later.peek() {
            let key = EventKey::unpacked(queued.order);
            if !self.window.holds(key.at_ms) {
                return;
            }
            let Reverse(Queued { event, .. }) = self.later.pop().expect("peeked");
            self.window.push(key.at_ms, key.sequence, event);
        }
    }

    /// Takes an event back out, for a message fault that drops or moves a delivery.
    pub(super) fn cancel(&mut self, key: EventKey) {
        debug_assert_eq!(key.class, Class::Event, "only deliveries are taken back");
        if self.discarding {
            return;
        }
        if !self.window.remove(key) {
            let order = key.packed();
            self.later.retain(|Reverse(queued)| queued.order != order);
        }
    }
}

/// The events due within `WINDOW_MS` of the window's start (the time of the last event taken), one
/// list per millisecond, in the order they were scheduled (which is their sequence order), the
/// lists' entries in one slab: scheduling and taking an event are a few array operations, and a
/// copy of the whole window (for a checkpoint) is three.
#[derive(Clone, Debug)]
struct Window {
    start_ms: Millis,
    /// The first and last entry of each millisecond's list, by due time modulo `WINDOW_MS`.
    heads: Vec<u32>,
    tails: Vec<u32>,
    /// One bit per millisecond whose list is not empty.
    occupied: [u64; WINDOW_MS / 64],
    slab: Vec<Slot>,
    /// The first free slot of the slab (`NONE` when full).
    free: u32,
}

/// A span of due times the window covers: most events of the presets (latency, disk, timeouts of
/// up to a few hundred milliseconds) fall inside it.
const WINDOW_MS: usize = 512;
const NONE: u32 = u32::MAX;

/// The list of the millisecond `at_ms`.
fn bucket_of(at_ms: Millis) -> usize {
    (at_ms % WINDOW_MS as u64) as usize
}

#[derive(Copy, Clone, Debug)]
struct Slot {
    sequence: u64,
    event: Event,
    /// The next entry of the same list, or of the free list.
    next: u32,
}

impl Window {
    fn new() -> Window {
        Window {
            start_ms: 0,
            heads: vec![NONE; WINDOW_MS],
            tails: vec![NONE; WINDOW_MS],
            occupied: [0; WINDOW_MS / 64],
            slab: Vec::new(),
            free: NONE,
        }
    }

    /// A window that holds nothing and never will (a discarding queue's): no lists allocated.
    fn empty() -> Window {
        Window {
            start_ms: 0,
            heads: Vec::new(),
            tails: Vec::new(),
            occupied: [0; WINDOW_MS / 64],
            slab: Vec::new(),
            free: NONE,
        }
    }

    fn holds(&self, at_ms: Millis) -> bool {
        debug_assert!(at_ms >= self.start_ms, "an event is scheduled in the past");
        at_ms - self.start_ms < WINDOW_MS as u64
    }

    fn start_at(&mut self, now_ms: Millis) {
        debug_assert!(now_ms >= self.start_ms, "time goes forward");
        self.start_ms = now_ms;
    }

    /// Appends an event due at `at_ms` (inside the window) to its millisecond's list.
    fn push(&mut self, at_ms: Millis, sequence: u64, event: Event) {
        let bucket = bucket_of(at_ms);
        let slot = Slot { sequence, event, next: NONE };
        let index = match self.free {
            NONE => {
                self.slab.push(slot);
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 events pending")
            }
            free => {
                self.free = self.slab[free as usize].next;
                self.slab[free as usize] = slot;
                free
            }
        };
        match self.tails[bucket] {
            NONE => {
                self.heads[bucket] = index;
                self.occupied[bucket / 64] |= 1 << (bucket % 64);
            }
            tail => {
                debug_assert!(self.slab[tail as usize].sequence < sequence, "lists stay in sequence order");
                self.slab[tail as usize].next = index;
            }
        }
        self.tails[bucket] = index;
    }

    /// The millisecond list holding the earliest event: the first occupied one from the start.
    fn first_bucket(&self) -> Option<usize> {
        let start = bucket_of(self.start_ms);
        let words = WINDOW_MS / 64;
        let (first_word, first_bit) = (start / 64, start % 64);
        // The start's word from its bit on, the other words in turn, then the start's word before its bit.
        let masked = self.occupied[first_word] & (u64::MAX << first_bit);
        if masked != 0 {
            return Some(first_word * 64 + masked.trailing_zeros() as usize);
        }
        for offset in 1..=words {
            let word = (first_word + offset) % words;
            let bits =
                if offset == words { self.occupied[word] & !(u64::MAX << first_bit) } else { self.occupied[word] };
            if bits != 0 {
                return Some(word * 64 + bits.trailing_zeros() as usize);
            }
        }
        None
    }

    /// The earliest event's key.
    fn peek(&self) -> Option<EventKey> {
        let bucket = self.first_bucket()?;
        let distance = (bucket + WINDOW_MS - bucket_of(self.start_ms)) % WINDOW_MS;
        let sequence = self.slab[self.heads[bucket] as usize].sequence;
        Some(EventKey { at_ms: self.start_ms + distance as u64, class: Class::Event, sequence })
    }

    /// Takes the earliest event.
    fn pop_first(&mut self) -> Event {
        let bucket = self.first_bucket().expect("peeked");
        let index = self.heads[bucket];
        self.unlink(bucket, NONE, index)
    }

    /// Takes out the event with `key` if the window holds it.
    fn remove(&mut self, key: EventKey) -> bool {
        if !self.holds(key.at_ms) {
            return false;
        }
        let bucket = bucket_of(key.at_ms);
        let (mut previous, mut index) = (NONE, self.heads[bucket]);
        while index != NONE {
            if self.slab[index as usize].sequence == key.sequence {
                self.unlink(bucket, previous, index);
                return true;
            }
            (previous, index) = (index, self.slab[index as usize].next);
        }
        false
    }

    /// Takes entry `index` (after `previous`, or first) out of `bucket`'s list onto the free list.
    fn unlink(&mut self, bucket: usize, previous: u32, index: u32) -> Event {
        let Slot { event, next, .. } = self.slab[index as usize];
        match previous {
            NONE => self.heads[bucket] = next,
            previous => self.slab[previous as usize].next = next,
        }
        if next == NONE {
            self.tails[bucket] = previous;
        }
        if self.heads[bucket] == NONE {
            self.occupied[bucket / 64] &= !(1 << (bucket % 64));
        }
        self.slab[index as usize].next = self.free;
        self.free = index;
        event
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

    pub(super) fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    /// Every armed timer, in no particular order.
    pub(super) fn armed(&self) -> Vec<(Endpoint, Timer)> {
        self.armed.keys().copied().collect()
    }

    /// When the armed `timer` at `at` is due, if it is armed.
    pub(super) fn due_ms(&self, at: Endpoint, timer: Timer) -> Option<Millis> {
        self.armed.get(&(at, timer)).map(|(_, due_ms)| *due_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use commitlab_protocol::MessageId;
    use std::collections::BTreeMap;

    /// The queue gives the order of one sorted map of every event, through random schedules
    /// (near, far beyond the window, faults, requests), cancellations and clones.
    #[test]
    fn takes_events_in_key_order() {
        for seed in 0..40 {
            let mut rng = Rng::new(seed);
            let mut queue = EventQueue::default();
            let mut expected: BTreeMap<EventKey, Event> = BTreeMap::new();
            let submits: Vec<Millis> = (0..20).map(|_| rng.below(3_000)).collect();
            let first_submit = queue.next_sequence;
            queue.schedule_submits(submits.iter().copied());
            for (index, at_ms) in submits.iter().enumerate() {
                let key = EventKey { at_ms: *at_ms, class: Class::Event, sequence: first_submit + index as u64 };
                expected.insert(key, Event::Submit(index));
            }
            let mut now_ms = 0;
            let mut next_id = 0;
            for _ in 0..2_000 {
                match rng.below(10) {
                    0..=4 => {
                        let after_ms = if rng.below(8) == 0 { rng.below(5_000) } else { rng.below(40) };
                        let class = if rng.below(20) == 0 { Class::Fault } else { Class::Event };
                        next_id += 1;
                        let event = Event::Deliver(MessageId(next_id));
                        expected.insert(queue.schedule(now_ms + after_ms, class, event), event);
                    }
                    5 => {
                        let deliveries: Vec<EventKey> =
                            expected.keys().copied().filter(|key| key.class == Class::Event).collect();
                        if let Some(key) = deliveries.get(rng.below(deliveries.len() as u64 + 1) as usize) {
                            if matches!(expected[key], Event::Deliver(_)) {
                                queue.cancel(*key);
                                expected.remove(key);
                            }
                        }
                    }
                    6 => queue = queue.clone(),
                    _ => {
                        let next = queue.peek();
                        assert_eq!(next.map(|next| next.key), expected.keys().next().copied());
                        let Some(next) = next else { continue };
                        let (key, event) = (next.key, queue.pop(next));
                        assert_eq!(expected.pop_first(), Some((key, event)), "seed {seed}");
                        now_ms = key.at_ms;
                    }
                }
            }
            while let Some(next) = queue.peek() {
                let (key, event) = (next.key, queue.pop(next));
                assert_eq!(expected.pop_first(), Some((key, event)), "seed {seed}");
            }
            assert!(expected.is_empty());
        }
    }
}
