//! The deterministic world around the nodes: virtual clock, the one seeded PRNG, and the event loop
//! that hands each event to the node it is for and carries out the effects the node returns.
//!
//! The loop itself stays small on purpose; each concern it drives lives in its own module, so the
//! replicated mode can grow each of them without this file swelling:
//! - `queue`: the event queue, ordered by (time, class, sequence number), and the live timers;
//! - `network`: messages in flight, latency, loss, duplication, partitions, message faults;
//! - `disk`: each node's durable WAL, its unwritten records, and crash incarnations;
//! - `faults`: applying the scenario's fault schedule (crash, restart, partition, heal, ...);
//! - `hooks`: the invariant checker's view of the run, called at fixed points of every step.
//!
//! Determinism rests on the order of PRNG draws, sequence numbers and trace entries, so the order
//! in which the loop calls these modules is part of every pinned trace: changing it changes them all.

mod disk;
mod faults;
mod hooks;
mod money;
mod network;
mod queue;
mod scripted;

use crate::invariants::{Checker, Violation};
use crate::machine::Machine;
use crate::rng::Rng;
use crate::scenario::{NodeLayout, Scenario, WorkItem};
use crate::trace::{TraceEntry, TraceEvent};
use crate::wal::Wal;
use commitlab_protocol::route::{Groups, Router};
use commitlab_protocol::{
    AccountId, Client, Effect, Endpoint, Message, MessageId, Millis, Node, NodeConfig, NodeId, Record, RequestId,
    Timer, Transfer, TxnSpec,
};
use hooks::InvariantHooks;
use network::{Arrival, Network, NetworkContext};
use queue::{Class, Event, EventKey, EventQueue, Timers};
use std::sync::Arc;

/// A node's slot in the world: its durable WAL (a single node's; a replica keeps its Raft log),
/// the writes still on their way to disk, and what runs on it. While the node is down, `machine`
/// holds what a restart would rebuild.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSlot {
    pub label: String,
    pub config: Arc<NodeConfig>,
    pub up: bool,
    pub machine: Machine,
    pub wal: Wal,
    pub unwritten: Vec<Record>,
    incarnation: u32,
}

impl NodeSlot {
    /// The 2PC roles on this node.
    pub fn node(&self) -> &Node {
        self.machine.node()
    }
}

/// The nodes' slots by id, in id order: a list, with a table from id to position so the event
/// loop finds a node's slot with one index rather than a search.
#[derive(Clone, Debug, Default)]
pub struct Slots {
    slots: Vec<(NodeId, NodeSlot)>,
    /// The position of node `n` in `slots` is `positions[n]`; `NONE` for no such node.
    positions: Vec<u16>,
}

impl Slots {
    const NONE: u16 = u16::MAX;

    fn position(&self, id: &NodeId) -> Option<usize> {
        let position = *self.positions.get(usize::from(id.0))?;
        (position != Slots::NONE).then_some(usize::from(position))
    }

    pub fn get(&self, id: &NodeId) -> Option<&NodeSlot> {
        self.position(id).map(|position| &self.slots[position].1)
    }

    pub fn get_mut(&mut self, id: &NodeId) -> Option<&mut NodeSlot> {
        self.position(id).map(|position| &mut self.slots[position].1)
    }

    pub fn contains_key(&self, id: &NodeId) -> bool {
        self.position(id).is_some()
    }

    /// The slots in id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&NodeId, &NodeSlot)> + ExactSizeIterator + Clone {
        self.slots.iter().map(|(id, slot)| (id, slot))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &NodeId> + ExactSizeIterator + Clone {
        self.slots.iter().map(|(id, _)| id)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &NodeSlot> + ExactSizeIterator + Clone {
        self.slots.iter().map(|(_, slot)| slot)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Adds a node with an id greater than every other's.
    fn push(&mut self, id: NodeId, slot: NodeSlot) {
        assert!(self.slots.last().is_none_or(|(last, _)| *last < id), "nodes are added in id order");
        let index = usize::from(id.0);
        if self.positions.len() <= index {
            self.positions.resize(index + 1, Slots::NONE);
        }
        self.positions[index] = u16::try_from(self.slots.len()).expect("fewer than 65,535 nodes");
        self.slots.push((id, slot));
    }
}

impl<'a> IntoIterator for &'a Slots {
    type Item = (&'a NodeId, &'a NodeSlot);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (NodeId, NodeSlot)>, fn(&'a (NodeId, NodeSlot)) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.slots.iter().map(|(id, slot)| (id, slot))
    }
}

impl std::ops::Index<&NodeId> for Slots {
    type Output = NodeSlot;

    fn index(&self, id: &NodeId) -> &NodeSlot {
        self.get(id).expect("a known node")
    }
}

/// Why the run stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// Nothing left to happen.
    Quiescent,
    /// The scenario's `end_ms` was reached with events still pending.
    EndTime,
    /// The scenario's `max_steps` was reached.
    StepLimit,
}

#[derive(Clone, Debug)]
pub struct World {
    scenario: Arc<Scenario>,
    work: Arc<Vec<WorkItem>>,
    now_ms: Millis,
    steps: u64,
    queue: EventQueue,
    timers: Timers,
    rng: Rng,
    slots: Slots,
    client: Client,
    network: Network,
    hooks: InvariantHooks,
    /// The effects of the handler that ran last, kept between calls to reuse the allocation.
    effects: Vec<Effect>,
    stopped: Option<Stop>,
    /// A scheduled run: how many requests were submitted, and how many steps of the schedule taken.
    submitted: usize,
}

impl World {
    /// Builds the world at time zero from a validated scenario.
    pub fn new(scenario: Arc<Scenario>) -> World {
        let layouts = scenario.nodes();
        let groups = scenario.replication.is_replicated().then(|| Arc::new(scenario.groups()));
        let client = match &groups {
            Some(groups) => {
                Client::routed(scenario.timeouts.client_retry_ms, Router::new(groups.clone(), scenario.route_config()))
            }
            None => Client::new(scenario.timeouts.client_retry_ms),
        };
        let mut world = World {
            work: Arc::new(Vec::new()),
            now_ms: 0,
            steps: 0,
            queue: EventQueue::default(),
            timers: Timers::default(),
            rng: Rng::new(scenario.seed),
            slots: Slots::default(),
            client,
            network: Network::default(),
            hooks: InvariantHooks::new(&scenario, &layouts, groups),
            effects: Vec::new(),
            stopped: None,
            submitted: 0,
            scenario,
        };
        for NodeLayout { id, label, config, replica } in layouts {
            let machine = Machine::start(&config, replica.as_ref(), &mut world.effects);
            world.effects.clear();
            world.slots.push(id, NodeSlot::new(label, config, machine));
        }
        world.hooks.count_money(&world.slots);
        world.work = Arc::new(world.draw_work());
        world.arm_first_elections();
        for index in 0..world.scenario.faults.len() {
            let at_ms = world.scenario.faults[index].at_ms;
            world.queue.schedule(at_ms, Class::Fault, Event::Fault(index));
        }
        world.queue.schedule_submits(world.work.iter().map(|item| item.at_ms));
        world
    }

    /// The explicit requests plus the random ones, drawn from the world's PRNG first of all.
    fn draw_work(&mut self) -> Vec<WorkItem> {
        let directory = self.scenario.directory();
        let mut work = self.scenario.explicit_work(&directory);
        let Some(random) = self.scenario.workload.random else { return work };
        let accounts: Vec<AccountId> = (0..self.scenario.topology.shards.len())
            .flat_map(|index| self.scenario.shard_accounts(index).into_keys())
            .collect();
        let first_id = work.iter().map(|item| item.request.0 + 1).max().unwrap_or(1);
        for index in 0..random.count {
            let from = accounts[self.rng.below(accounts.len() as u64) as usize];
            let mut to = accounts[self.rng.below(accounts.len() as u64 - 1) as usize];
            if to == from {
                to = *accounts.last().expect("at least two accounts");
            }
            let amount = self.rng.between(1, random.amount_max);
            let transfers = vec![Transfer { from, to, amount }];
            let spec = TxnSpec { transfers, journal: Vec::new(), saga: random.saga };
            let coordinator = self.scenario.coordinator_for(&spec, &directory).expect("drawn from known accounts");
            work.push(WorkItem {
                at_ms: random.start_ms + random.interval_ms * index as u64,
                request: RequestId(first_id + index as u32),
                spec,
                coordinator,
            });
        }
        work
    }

    /// At time zero the first replica of each group campaigns at once, so the leaders seed 002 draws
    /// (n1, n4, n7) are elected before the workload needs them; the others draw their timeouts.
    fn arm_first_elections(&mut self) {
        let Some(groups) = self.hooks.groups().cloned() else { return };
        for group in &groups.groups {
            for (position, member) in group.members.iter().enumerate() {
                let after_ms = if position == 0 { 0 } else { self.draw_election_timeout() };
                self.timers.set(&mut self.queue, Endpoint::Node(*member), Timer::Election, self.now_ms + after_ms);
            }
        }
    }

    /// An election timeout, drawn uniformly from the scenario's range by the world's one PRNG.
    fn draw_election_timeout(&mut self) -> Millis {
        let replication = self.scenario.replication;
        self.rng.between(replication.election_timeout_ms_min, replication.election_timeout_ms_max)
    }

    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.scenario
    }

    /// The groups of the replicated mode; `None` with single nodes.
    pub fn groups(&self) -> Option<&Arc<Groups>> {
        self.hooks.groups()
    }

    /// The group a node belongs to, named by its address; a single node is its own group.
    pub fn group_of(&self, node: NodeId) -> NodeId {
        self.hooks.group_of(node)
    }

    /// The 2PC state each group stands for, with whether any of its nodes is up: every single
    /// node's own memory, and each replicated group's committed state, by group address.
    pub fn group_states(&self) -> Vec<(NodeId, &Node, bool)> {
        let Some(committed) = self.hooks.committed_states() else {
            return self.slots.iter().map(|(id, slot)| (*id, slot.node(), slot.up)).collect();
        };
        let groups = self.hooks.groups().expect("replicated");
        committed
            .iter()
            .map(|(group, node)| {
                let members = &groups.addressed(*group).expect("a group").members;
                (*group, node, members.iter().any(|member| self.slots[member].up))
            })
            .collect()
    }

    pub fn now_ms(&self) -> Millis {
        self.now_ms
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn stopped(&self) -> Option<Stop> {
        self.stopped
    }

    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn work(&self) -> &[WorkItem] {
        &self.work
    }

    pub fn partition(&self) -> &[Vec<Endpoint>] {
        self.network.partition()
    }

    /// Messages sent and not yet delivered or dropped, with their due times.
    pub fn in_flight(&self) -> impl Iterator<Item = (MessageId, Endpoint, Endpoint, &Arc<Message>, Millis)> {
        self.network.in_flight()
    }

    /// When `timer` at `endpoint` is due to fire, if it is armed (read only: for views that show a
    /// timer running down, such as a replica's election timeout).
    pub fn timer_due_ms(&self, endpoint: Endpoint, timer: Timer) -> Option<Millis> {
        self.timers.due_ms(endpoint, timer)
    }

    /// Time of the next event, if any.
    pub fn next_event_ms(&self) -> Option<Millis> {
        self.queue.peek().map(|next| next.key.at_ms)
    }

    pub fn checker(&self) -> &Checker {
        self.hooks.checker()
    }

    /// Adds a fault (already appended to the scenario as index `index`) to the queue.
    pub fn schedule_fault(&mut self, scenario: Arc<Scenario>, index: usize) {
        let at_ms = scenario.faults[index].at_ms;
        debug_assert!(at_ms >= self.now_ms, "a fault is scheduled in the past");
        self.scenario = scenario;
        self.stopped = None;
        self.queue.schedule(at_ms, Class::Fault, Event::Fault(index));
    }

    /// Processes the next event, appending what happened to `trace`. Returns false once stopped.
    pub fn step(&mut self, trace: &mut Vec<TraceEntry>) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if !self.scenario.schedule.is_empty() {
            return self.step_scheduled(trace);
        }
        loop {
            let Some(next) = self.queue.peek() else {
                self.stopped = Some(Stop::Quiescent);
                return false;
            };
            let key = next.key;
            if key.at_ms > self.scenario.end_ms {
                self.stopped = Some(Stop::EndTime);
                return false;
            }
            if self.steps >= self.scenario.max_steps {
                self.stopped = Some(Stop::StepLimit);
                return false;
            }
            let event = self.queue.pop(next);
            if self.is_stale(key, &event) {
                continue;
            }
            self.now_ms = key.at_ms;
            self.steps += 1;
            let mut step = StepTrace { step: self.steps, time_ms: self.now_ms, trace, violations: Vec::new() };
            let touched = self.handle(event, &mut step);
            self.hooks.after_step(touched, &self.slots, &mut step);
            return true;
        }
    }

    /// Timers that were replaced or cancelled, deliveries of messages a fault already took, and
    /// disk writes a crash interrupted: skipped without counting as a step.
    fn is_stale(&self, key: EventKey, event: &Event) -> bool {
        match event {
            Event::Timer { at, timer } => !self.timers.is_current(*at, *timer, key),
            Event::Deliver(id) => !self.network.is_in_flight(*id),
            Event::DiskDone { node, incarnation } => !self.slots[node].is_current_write(*incarnation),
            Event::Submit(_) | Event::Fault(_) => false,
        }
    }

    /// Runs one event; returns the node it touched, whose locks the invariants then check.
    fn handle(&mut self, event: Event, step: &mut StepTrace) -> Option<NodeId> {
        match event {
            Event::Submit(index) => {
                let item = self.work[index].clone();
                self.client.submit(self.now_ms, item.request, item.spec, item.coordinator, &mut self.effects);
                self.perform(Endpoint::Client, step);
                None
            }
            Event::Deliver(id) => self.deliver(id, step),
            Event::Timer { at, timer } => self.fire_timer(at, timer, step),
            Event::DiskDone { node, .. } => {
                self.on_disk_done(node, step);
                Some(node)
            }
            Event::Fault(index) => self.apply_fault(index, step),
        }
    }

    fn fire_timer(&mut self, at: Endpoint, timer: Timer, step: &mut StepTrace) -> Option<NodeId> {
        self.timers.cancel(at, timer);
        step.push(TraceEvent::TimerFired { at, timer });
        match at {
            Endpoint::Client => {
                if let Timer::ClientRetry(request) = timer {
                    self.client.on_retry_timeout(self.now_ms, request, &mut self.effects);
                }
                self.perform(at, step);
                None
            }
            Endpoint::Node(node) => {
                let slot = self.slots.get_mut(&node).expect("timers belong to known nodes");
                slot.machine.on_timer(self.now_ms, timer, &mut self.effects);
                self.perform(at, step);
                Some(node)
            }
        }
    }

    fn deliver(&mut self, id: MessageId, step: &mut StepTrace) -> Option<NodeId> {
        let slots = &self.slots;
        let Arrival { from, to, message } = self.network.arrive(id, |node| slots[&node].up, step)?;
        let touched = match to {
            Endpoint::Client => {
                if let Endpoint::Node(from) = from {
                    self.client.on_message(from, &message, &mut self.effects);
                }
                None
            }
            Endpoint::Node(node) => {
                let slot = self.slots.get_mut(&node).expect("known node");
                slot.machine.on_message(self.now_ms, from, &message, &mut self.effects);
                Some(node)
            }
        };
        // Traced here, before what the handler caused (it only queued effects), so the trace entry
        // takes the message rather than another reference to it.
        step.push(TraceEvent::Deliver { id, from, to, message });
        self.perform(to, step);
        touched
    }

    fn on_disk_done(&mut self, node: NodeId, step: &mut StepTrace) {
        let slot = self.slots.get_mut(&node).expect("known node");
        let record = slot.finish_write();
        self.hooks.after_durable(node, &record, step);
        slot.machine.on_persisted(self.now_ms, &record, &mut self.effects);
        // Traced before what the node does next (the checks only note violations for the step's
        // end), so the trace entry takes the record rather than another reference to it.
        step.push(TraceEvent::WalAppend { node, record });
        self.perform(Endpoint::Node(node), step);
    }

    /// Carries out the effects the last handler produced at `at`.
    fn perform(&mut self, at: Endpoint, step: &mut StepTrace) {
        let mut effects = std::mem::take(&mut self.effects);
        for effect in effects.drain(..) {
            match effect {
                Effect::Send { to, message } => self.send(at, to, message, step),
                Effect::Persist(record) => {
                    let Endpoint::Node(node) = at else { unreachable!("the client has no WAL") };
                    let done_ms = self.now_ms + self.scenario.disk.write_ms;
                    let slot = self.slots.get_mut(&node).expect("known node");
                    slot.begin_write(node, record, done_ms, &mut self.queue);
                }
                Effect::SetTimer { timer, after_ms } => {
                    self.timers.set(&mut self.queue, at, timer, self.now_ms + after_ms);
                }
                Effect::CancelTimer(timer) => self.timers.cancel(at, timer),
                Effect::CancelTwoPhaseTimers => self.timers.cancel_two_phase(at),
                Effect::ResetElectionTimer => {
                    let due_ms = self.now_ms + self.draw_election_timeout();
                    self.timers.set(&mut self.queue, at, Timer::Election, due_ms);
                }
                Effect::Applied { index, term, seq, record } => {
                    let Endpoint::Node(node) = at else { unreachable!("only replicas apply entries") };
                    self.hooks.after_applied(self.now_ms, node, (index, term, seq, record), step);
                }
                Effect::Note(note) => {
                    self.hooks.after_note(at, &note, &self.slots, step);
                    step.push(TraceEvent::Note { at, note });
                }
            }
        }
        // Handing the emptied buffer back keeps its capacity for the next handler.
        self.effects = effects;
    }

    fn send(&mut self, from: Endpoint, to: Endpoint, message: Message, step: &mut StepTrace) {
        // The checker only reads the message and reports at the step's end; the network then takes
        // it, so it is not copied (its reference count is touched once per trace entry).
        self.hooks.after_send(from, &message, step);
        let (network, mut context) = self.network_and_context();
        network.send(&mut context, from, to, Arc::new(message), step);
    }

    /// The network and what it borrows from the rest of the world, split so both can be used at once.
    fn network_and_context(&mut self) -> (&mut Network, NetworkContext<'_>) {
        let context = NetworkContext {
            queue: &mut self.queue,
            rng: &mut self.rng,
            now_ms: self.now_ms,
            scenario: &self.scenario,
        };
        (&mut self.network, context)
    }
}

/// Collects the trace entries of one step, and the violations found during it, which become
/// trace entries at the step's end.
struct StepTrace<'a> {
    step: u64,
    time_ms: Millis,
    trace: &'a mut Vec<TraceEntry>,
    violations: Vec<Violation>,
}

impl StepTrace<'_> {
    fn push(&mut self, event: TraceEvent) {
        self.trace.push(TraceEntry { step: self.step, time_ms: self.time_ms, event });
    }
}
