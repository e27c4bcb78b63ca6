//! The deterministic world around the nodes: virtual clock, event queue, the one seeded PRNG,
//! network (latency, loss, duplication, partitions), disks, crashes and restarts, the fault
//! schedule, and the invariant checks after every event.
//!
//! Events are ordered by (time, class, sequence number). Faults have the later class, so a fault
//! at time T happens after every other event at T: injecting a fault while paused anywhere inside
//! millisecond T and replaying the scenario with that fault in its schedule give the same run.

use crate::consensus::ConsensusChecker;
use crate::fault::{Fault, MessageTarget, ScheduledFault};
use crate::invariants::{Checker, Violation};
use crate::machine::Machine;
use crate::rng::Rng;
use crate::scenario::{NodeLayout, Scenario, WorkItem};
use crate::trace::{DropReason, TraceEntry, TraceEvent};
use crate::wal::Wal;
use commitlab_protocol::raft::{Entry, Payload, RaftNote, RaftRole};
use commitlab_protocol::route::{Groups, Router};
use commitlab_protocol::{
    AccountId, Client, Effect, Endpoint, Message, MessageId, Millis, Node, NodeConfig, NodeId, Note, Record, RequestId,
    Timer, Transfer, TxnSpec,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Ordering of events inside one millisecond: ordinary events first, then faults.
const CLASS_EVENT: u8 = 0;
const CLASS_FAULT: u8 = 1;

type EventKey = (Millis, u8, u64);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    Submit(usize),
    Deliver(MessageId),
    Timer { at: Endpoint, timer: Timer },
    DiskDone { node: NodeId, incarnation: u32 },
    Fault(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct InFlight {
    from: Endpoint,
    to: Endpoint,
    message: Arc<Message>,
    key: EventKey,
}

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

/// A "next matching message" fault waiting for its message.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PendingMessageFault {
    fault_index: usize,
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
    next_seq: u64,
    queue: BTreeMap<EventKey, Event>,
    rng: Rng,
    slots: BTreeMap<NodeId, NodeSlot>,
    client: Client,
    in_flight: BTreeMap<MessageId, InFlight>,
    next_message: u32,
    timers: BTreeMap<(Endpoint, Timer), u64>,
    partition: Vec<Vec<Endpoint>>,
    message_faults: Vec<PendingMessageFault>,
    checker: Checker,
    /// The replicated mode's groups and consensus checks; `None` with single nodes.
    groups: Option<Arc<Groups>>,
    consensus: Option<ConsensusChecker>,
    effects: Vec<Effect>,
    stopped: Option<Stop>,
}

impl World {
    /// Builds the world at time zero from a validated scenario.
    pub fn new(scenario: Arc<Scenario>) -> World {
        let layouts = scenario.nodes();
        let initial_money: i64 =
            (0..scenario.topology.shards.len()).map(|index| scenario.shard_accounts(index).values().sum::<i64>()).sum();
        let replicated = scenario.replication.is_replicated();
        let groups = replicated.then(|| Arc::new(scenario.groups()));
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
            next_seq: 0,
            queue: BTreeMap::new(),
            rng: Rng::new(scenario.seed),
            slots: BTreeMap::new(),
            client,
            in_flight: BTreeMap::new(),
            next_message: 0,
            timers: BTreeMap::new(),
            partition: Vec::new(),
            message_faults: Vec::new(),
            checker: Checker::new(initial_money),
            consensus: groups.clone().map(|groups| {
                let configs = layouts
                    .iter()
                    .filter(|layout| groups.addressed(layout.id).is_some())
                    .map(|layout| (layout.id, layout.config.clone()))
                    .collect();
                ConsensusChecker::new(groups, configs)
            }),
            groups,
            effects: Vec::new(),
            stopped: None,
            scenario,
        };
        for NodeLayout { id, label, config, replica } in layouts {
            let machine = Machine::start(&config, replica.as_ref(), &mut world.effects);
            world.effects.clear();
            let slot = NodeSlot {
                label,
                config,
                up: true,
                machine,
                wal: Wal::default(),
                unwritten: Vec::new(),
                incarnation: 0,
            };
            world.slots.insert(id, slot);
        }
        world.work = Arc::new(world.draw_work());
        world.arm_first_elections();
        for index in 0..world.scenario.faults.len() {
            let at_ms = world.scenario.faults[index].at_ms;
            world.schedule(at_ms, CLASS_FAULT, Event::Fault(index));
        }
        for index in 0..world.work.len() {
            world.schedule(world.work[index].at_ms, CLASS_EVENT, Event::Submit(index));
        }
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
            let spec = TxnSpec { transfers: vec![Transfer { from, to, amount }], journal: Vec::new() };
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
        let Some(groups) = self.groups.clone() else { return };
        for group in &groups.groups {
            for (position, member) in group.members.iter().enumerate() {
                let after_ms = if position == 0 { 0 } else { self.draw_election_timeout() };
                self.set_timer(Endpoint::Node(*member), Timer::Election, after_ms);
            }
        }
    }

    fn draw_election_timeout(&mut self) -> Millis {
        let replication = self.scenario.replication;
        self.rng.between(replication.election_timeout_ms_min, replication.election_timeout_ms_max)
    }

    fn set_timer(&mut self, at: Endpoint, timer: Timer, after_ms: Millis) {
        let key = self.schedule(self.now_ms + after_ms, CLASS_EVENT, Event::Timer { at, timer });
        self.timers.insert((at, timer), key.2);
    }

    /// The group a node belongs to, named by its address; a single node is its own group.
    pub fn group_of(&self, node: NodeId) -> NodeId {
        self.groups.as_ref().and_then(|groups| groups.of_member(node)).map_or(node, |group| group.address())
    }

    pub fn groups(&self) -> Option<&Arc<Groups>> {
        self.groups.as_ref()
    }

    /// The 2PC state each group stands for: every single node's own, and each replicated group's
    /// committed state (its committed records applied once), by group address.
    pub fn group_states(&self) -> Box<dyn Iterator<Item = (NodeId, &Node, bool)> + '_> {
        match &self.consensus {
            None => Box::new(self.slots.iter().map(|(id, slot)| (*id, slot.node(), slot.up))),
            Some(consensus) => Box::new(consensus.committed().iter().map(|(group, node)| {
                let members = &self.groups.as_ref().expect("replicated").addressed(*group).expect("a group").members;
                (*group, node, members.iter().any(|member| self.slots[member].up))
            })),
        }
    }

    fn schedule(&mut self, at_ms: Millis, class: u8, event: Event) -> EventKey {
        let key = (at_ms, class, self.next_seq);
        self.next_seq += 1;
        self.queue.insert(key, event);
        key
    }

    pub fn scenario(&self) -> &Arc<Scenario> {
        &self.scenario
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

    pub fn slots(&self) -> &BTreeMap<NodeId, NodeSlot> {
        &self.slots
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn work(&self) -> &[WorkItem] {
        &self.work
    }

    pub fn partition(&self) -> &[Vec<Endpoint>] {
        &self.partition
    }

    /// Messages sent and not yet delivered or dropped, with their due times.
    pub fn in_flight(&self) -> impl Iterator<Item = (MessageId, Endpoint, Endpoint, &Arc<Message>, Millis)> {
        self.in_flight.iter().map(|(id, flight)| (*id, flight.from, flight.to, &flight.message, flight.key.0))
    }

    /// Time of the next event, if any.
    pub fn next_event_ms(&self) -> Option<Millis> {
        self.queue.keys().next().map(|key| key.0)
    }

    /// Adds a fault (already appended to the scenario as index `index`) to the queue.
    pub fn schedule_fault(&mut self, scenario: Arc<Scenario>, index: usize) {
        let at_ms = scenario.faults[index].at_ms;
        debug_assert!(at_ms >= self.now_ms, "a fault is scheduled in the past");
        self.scenario = scenario;
        self.stopped = None;
        self.schedule(at_ms, CLASS_FAULT, Event::Fault(index));
    }

    /// Processes the next event, appending what happened to `trace`. Returns false once stopped.
    pub fn step(&mut self, trace: &mut Vec<TraceEntry>) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        loop {
            let Some((&key, _)) = self.queue.first_key_value() else {
                self.stopped = Some(Stop::Quiescent);
                return false;
            };
            if key.0 > self.scenario.end_ms {
                self.stopped = Some(Stop::EndTime);
                return false;
            }
            if self.steps >= self.scenario.max_steps {
                self.stopped = Some(Stop::StepLimit);
                return false;
            }
            let (_, event) = self.queue.pop_first().expect("peeked");
            if self.is_stale(key, &event) {
                continue;
            }
            self.now_ms = key.0;
            self.steps += 1;
            let mut step = StepTrace { step: self.steps, time_ms: self.now_ms, trace, violations: Vec::new() };
            let touched = self.handle(event, &mut step);
            self.check_after(touched, &mut step);
            return true;
        }
    }

    /// Timers that were replaced or cancelled, and deliveries of messages a fault already took.
    fn is_stale(&self, key: EventKey, event: &Event) -> bool {
        match event {
            Event::Timer { at, timer } => self.timers.get(&(*at, *timer)) != Some(&key.2),
            Event::Deliver(id) => !self.in_flight.contains_key(id),
            Event::DiskDone { node, incarnation } => self.slots[node].incarnation != *incarnation,
            Event::Submit(_) | Event::Fault(_) => false,
        }
    }

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
                self.complete_write(node, step);
                Some(node)
            }
            Event::Fault(index) => self.apply_fault(index, step),
        }
    }

    fn fire_timer(&mut self, at: Endpoint, timer: Timer, step: &mut StepTrace) -> Option<NodeId> {
        self.timers.remove(&(at, timer));
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
                let now = self.now_ms;
                let slot = self.slots.get_mut(&node).expect("timers belong to known nodes");
                slot.machine.on_timer(now, timer, &mut self.effects);
                self.perform(at, step);
                Some(node)
            }
        }
    }

    fn deliver(&mut self, id: MessageId, step: &mut StepTrace) -> Option<NodeId> {
        let flight = self.in_flight.remove(&id).expect("checked not stale");
        let InFlight { from, to, message, .. } = flight;
        let reason = if !self.connected(from, to) {
            Some(DropReason::Partitioned)
        } else if let Endpoint::Node(node) = to {
            (!self.slots[&node].up).then_some(DropReason::ReceiverDown)
        } else {
            None
        };
        if let Some(reason) = reason {
            step.push(TraceEvent::Drop { id, from, to, message, reason });
            return None;
        }
        step.push(TraceEvent::Deliver { id, from, to, message: message.clone() });
        match to {
            Endpoint::Client => {
                if let Endpoint::Node(from) = from {
                    self.client.on_message(from, &message, &mut self.effects);
                }
                self.perform(to, step);
                None
            }
            Endpoint::Node(node) => {
                let now = self.now_ms;
                let slot = self.slots.get_mut(&node).expect("known node");
                slot.machine.on_message(now, from, &message, &mut self.effects);
                self.perform(to, step);
                Some(node)
            }
        }
    }

    fn complete_write(&mut self, node: NodeId, step: &mut StepTrace) {
        let now = self.now_ms;
        let slot = self.slots.get_mut(&node).expect("known node");
        let record = slot.unwritten.remove(0);
        slot.wal.push(record.clone());
        step.push(TraceEvent::WalAppend { node, record: Arc::new(record.clone()) });
        self.checker.on_durable(node, &record, &mut step.violations);
        let slot = self.slots.get_mut(&node).expect("known node");
        slot.machine.on_persisted(now, &record, &mut self.effects);
        self.perform(Endpoint::Node(node), step);
    }

    /// Carries out the effects the last handler produced at `at`.
    fn perform(&mut self, at: Endpoint, step: &mut StepTrace) {
        let effects = std::mem::take(&mut self.effects);
        for effect in &effects {
            match effect {
                Effect::Send { to, message } => self.send(at, *to, message.clone(), step),
                Effect::Persist(record) => {
                    let Endpoint::Node(node) = at else { unreachable!("the client has no WAL") };
                    let incarnation = {
                        let slot = self.slots.get_mut(&node).expect("known node");
                        slot.unwritten.push(record.clone());
                        slot.incarnation
                    };
                    let done_ms = self.now_ms + self.scenario.disk.write_ms;
                    self.schedule(done_ms, CLASS_EVENT, Event::DiskDone { node, incarnation });
                }
                Effect::SetTimer { timer, after_ms } => self.set_timer(at, *timer, *after_ms),
                Effect::CancelTimer(timer) => {
                    self.timers.remove(&(at, *timer));
                }
                Effect::CancelTwoPhaseTimers => {
                    self.timers.retain(|(endpoint, timer), _| *endpoint != at || !timer.is_two_phase());
                }
                Effect::ResetElectionTimer => {
                    let after_ms = self.draw_election_timeout();
                    self.set_timer(at, Timer::Election, after_ms);
                }
                Effect::Applied { index, term, record } => self.on_applied(at, *index, *term, record, step),
                Effect::Note(note) => {
                    self.on_consensus_note(at, note, step);
                    step.push(TraceEvent::Note { at, note: note.clone() });
                }
            }
        }
        let mut effects = effects;
        effects.clear();
        self.effects = effects;
    }

    /// A replica applied a committed entry: the consensus checks compare it with its group's, and
    /// the first replica to apply a record makes it durable for the 2PC invariants.
    fn on_applied(&mut self, at: Endpoint, index: u64, term: u64, record: &Option<Record>, step: &mut StepTrace) {
        let Endpoint::Node(node) = at else { unreachable!("only replicas apply entries") };
        let consensus = self.consensus.as_mut().expect("replicas run in the replicated mode");
        let payload = record.clone().map_or(Payload::Noop, Payload::Command);
        let first = consensus.on_applied(self.now_ms, node, index, &Entry { term, payload }, &mut step.violations);
        if let (true, Some(record)) = (first, record) {
            let group = self.group_of(node);
            self.checker.on_durable(group, record, &mut step.violations);
        }
    }

    fn on_consensus_note(&mut self, at: Endpoint, note: &Note, step: &mut StepTrace) {
        let (Endpoint::Node(node), Note::Raft(note), Some(consensus)) = (at, note, &mut self.consensus) else { return };
        match note {
            RaftNote::Role { role: RaftRole::Leader, term } => {
                let replica = self.slots[&node].machine.replica().expect("a replica");
                consensus.on_elected(node, *term, replica.raft(), &mut step.violations);
            }
            RaftNote::Truncated { from } => consensus.on_truncated(node, *from),
            _ => {}
        }
    }

    fn send(&mut self, from: Endpoint, to: Endpoint, message: Message, step: &mut StepTrace) {
        let id = self.new_message_id();
        let message = Arc::new(message);
        if let (Endpoint::Node(node), Message::Vote { txn, yes: true, .. }) = (from, &*message) {
            let group = self.group_of(node);
            self.checker.on_yes_vote(group, *txn, &mut step.violations);
        }
        if let (Endpoint::Node(node), Message::Reply { request, decision, .. }) = (from, &*message) {
            let group = self.group_of(node);
            self.checker.on_reply(group, *request, *decision, &mut step.violations);
        }
        if from == to {
            // A node talking to its own other role: local, instant, beyond the network's reach.
            let key = self.schedule(self.now_ms, CLASS_EVENT, Event::Deliver(id));
            step.push(TraceEvent::Send { id, from, to, message: message.clone(), deliver_ms: self.now_ms });
            self.in_flight.insert(id, InFlight { from, to, message, key });
            return;
        }
        let network = self.scenario.network;
        let lost = self.rng.chance(network.loss);
        let deliver_ms = self.now_ms + self.rng.between(network.latency_ms_min, network.latency_ms_max);
        step.push(TraceEvent::Send { id, from, to, message: message.clone(), deliver_ms });
        if lost {
            step.push(TraceEvent::Drop { id, from, to, message, reason: DropReason::Lost });
            return;
        }
        let key = self.schedule(deliver_ms, CLASS_EVENT, Event::Deliver(id));
        self.in_flight.insert(id, InFlight { from, to, message: message.clone(), key });
        if self.rng.chance(network.duplication) {
            self.duplicate(id, step);
        }
        self.apply_message_faults(id, from, to, &message, step);
    }

    fn new_message_id(&mut self) -> MessageId {
        self.next_message += 1;
        MessageId(self.next_message)
    }

    /// Applies waiting "next matching message" faults to a message just sent.
    fn apply_message_faults(
        &mut self,
        id: MessageId,
        from: Endpoint,
        to: Endpoint,
        message: &Message,
        step: &mut StepTrace,
    ) {
        let scenario = self.scenario.clone();
        let mut index = 0;
        while index < self.message_faults.len() {
            let fault = &scenario.faults[self.message_faults[index].fault_index].fault;
            let filter = match fault {
                Fault::Drop(MessageTarget::Next(filter))
                | Fault::Duplicate(MessageTarget::Next(filter))
                | Fault::Delay { message: MessageTarget::Next(filter), .. } => filter,
                _ => unreachable!("only message faults with filters wait"),
            };
            if filter.matches(from, to, message) && self.in_flight.contains_key(&id) {
                self.message_faults.remove(index);
                self.act_on_message(fault, id, step);
            } else {
                index += 1;
            }
        }
    }

    fn duplicate(&mut self, of: MessageId, step: &mut StepTrace) {
        let flight = self.in_flight[&of].clone();
        let id = self.new_message_id();
        let network = self.scenario.network;
        let deliver_ms = self.now_ms + self.rng.between(network.latency_ms_min, network.latency_ms_max);
        let key = self.schedule(deliver_ms, CLASS_EVENT, Event::Deliver(id));
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

    /// Drop, delay or duplicate one in-flight message.
    fn act_on_message(&mut self, fault: &Fault, id: MessageId, step: &mut StepTrace) {
        match fault {
            Fault::Drop(_) => {
                let flight = self.in_flight.remove(&id).expect("in flight");
                self.queue.remove(&flight.key);
                step.push(TraceEvent::Drop {
                    id,
                    from: flight.from,
                    to: flight.to,
                    message: flight.message,
                    reason: DropReason::Fault,
                });
            }
            Fault::Delay { by_ms, .. } => {
                let flight = self.in_flight.get(&id).expect("in flight");
                let old_key = flight.key;
                let deliver_ms = old_key.0 + by_ms;
                self.queue.remove(&old_key);
                let key = self.schedule(deliver_ms, CLASS_EVENT, Event::Deliver(id));
                self.in_flight.get_mut(&id).expect("in flight").key = key;
                step.push(TraceEvent::Delayed { id, deliver_ms });
            }
            Fault::Duplicate(_) => self.duplicate(id, step),
            Fault::Crash(_) | Fault::Restart(_) | Fault::Partition(_) | Fault::Heal => {
                unreachable!("not a message fault")
            }
        }
    }

    fn connected(&self, from: Endpoint, to: Endpoint) -> bool {
        let group_of = |endpoint: Endpoint| self.partition.iter().position(|group| group.contains(&endpoint));
        match (group_of(from), group_of(to)) {
            (Some(left), Some(right)) => left == right,
            _ => true,
        }
    }

    fn apply_fault(&mut self, index: usize, step: &mut StepTrace) -> Option<NodeId> {
        let ScheduledFault { fault, .. } = self.scenario.faults[index].clone();
        let skip = |step: &mut StepTrace, reason: String| {
            step.push(TraceEvent::FaultSkipped { fault: Box::new(fault.clone()), reason });
        };
        match &fault {
            Fault::Crash(node) => {
                if !self.slots[node].up {
                    skip(step, format!("{node} is already down"));
                    return None;
                }
                self.crash(*node, step);
                Some(*node)
            }
            Fault::Restart(node) => {
                if self.slots[node].up {
                    skip(step, format!("{node} is up"));
                    return None;
                }
                self.restart(*node, step);
                Some(*node)
            }
            Fault::Partition(groups) => {
                self.partition = groups.clone();
                step.push(TraceEvent::Partition { groups: groups.clone() });
                None
            }
            Fault::Heal => {
                self.partition.clear();
                step.push(TraceEvent::Heal);
                None
            }
            Fault::Drop(target) | Fault::Duplicate(target) | Fault::Delay { message: target, .. } => {
                match target {
                    MessageTarget::Id(id) if self.in_flight.contains_key(id) => self.act_on_message(&fault, *id, step),
                    MessageTarget::Id(id) => skip(step, format!("{id} is not in flight")),
                    MessageTarget::Next(_) => self.message_faults.push(PendingMessageFault { fault_index: index }),
                }
                None
            }
        }
    }

    fn crash(&mut self, node: NodeId, step: &mut StepTrace) {
        let slot = self.slots.get_mut(&node).expect("known node");
        slot.up = false;
        slot.incarnation += 1;
        let lost_records = std::mem::take(&mut slot.unwritten);
        // What a restart would rebuild: the invariants and the tables of a down node use it.
        slot.machine = slot.machine.recovered(&slot.wal, self.now_ms, &mut self.effects);
        self.effects.clear();
        self.timers.retain(|(at, _), _| *at != Endpoint::Node(node));
        step.push(TraceEvent::Crash { node, lost_records });
    }

    fn restart(&mut self, node: NodeId, step: &mut StepTrace) {
        step.push(TraceEvent::Restart { node });
        let slot = self.slots.get_mut(&node).expect("known node");
        slot.up = true;
        slot.machine = slot.machine.recovered(&slot.wal, self.now_ms, &mut self.effects);
        self.perform(Endpoint::Node(node), step);
    }

    fn check_after(&mut self, touched: Option<NodeId>, step: &mut StepTrace) {
        if let Some(node) = touched {
            let slot = &self.slots[&node];
            self.checker.check_locks(slot.node(), &mut step.violations);
            if let (Some(consensus), Some(replica)) = (&mut self.consensus, slot.machine.replica()) {
                consensus.check_log(node, replica.raft(), &mut step.violations);
            }
        }
        let World { checker, consensus, slots, .. } = self;
        match consensus {
            Some(consensus) => checker.check_money(consensus.committed().values(), &mut step.violations),
            None => checker.check_money(slots.values().map(NodeSlot::node), &mut step.violations),
        }
        for violation in std::mem::take(&mut step.violations) {
            step.push(TraceEvent::Violation(Box::new(violation)));
        }
    }

    pub fn checker(&self) -> &Checker {
        &self.checker
    }
}

/// Collects the trace entries of one step.
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
