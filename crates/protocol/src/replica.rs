//! A replica of a group: two-phase commit over Raft, through the one seam the 2PC roles have.
//!
//! The 2PC roles write every durable decision with `Effect::Persist` and continue in
//! `on_persisted`. On a single node the world makes the record durable on its disk. Here the
//! replica turns it into a proposal to the group's Raft log instead, and calls `on_persisted` only
//! once a majority stores the entry and it commits. The 2PC code does not know which one it runs on.
//!
//! **Replicas apply, leaders act.** Every replica applies committed entries to its own copy of the
//! shard state: balances, locks, undo data (seed 002's twoPCWAL "on all nodes, not just the
//! leader") and the transaction table, so a follower shows the same "STATE AFTER PREPARE" as the
//! leader. Only the acting leader runs the 2PC roles and sends 2PC messages. A replica becomes the
//! acting leader when the no-op entry of its own term commits. Then every earlier entry is
//! committed too, and it rebuilds its roles from the committed log exactly as a single node recovers
//! from its WAL. It resends decisions and answers queries; a coordinator resumes a transaction still
//! collecting votes rather than presuming abort. A replica that stops leading drops its 2PC timers
//! and falls back to the committed state: whatever it had not committed was never promised.
//!
//! **Route by group.** The roles address groups, and the replica's [`Router`] resolves each send to
//! the replica believed to lead. A 2PC message that reaches a replica that is not acting is bounced
//! with `NotLeader` and a hint. While no leader is known, or this replica leads but has not taken
//! over yet, it is held instead (up to [`HELD_MAX`]) and handled or bounced once that is settled.

use crate::effect::{Effect, NodeConfig, Note, Timer};
use crate::ids::{Endpoint, Millis, NodeId, TxnId};
use crate::message::{Message, Record, Seq, Stamped};
use crate::node::Node;
use crate::paxos::{self, Paxos, PaxosConfig, PaxosEffect, PaxosRole, PaxosTimer, Slot};
use crate::raft::{self, LogIndex, Payload, Raft, RaftConfig, RaftEffect, RaftRole, RaftTimer};
use crate::route::{Groups, RouteConfig, Router};
use crate::vec_map::{VecMap, VecSet};
use std::sync::Arc;

/// At most this many 2PC messages wait at a replica for its group's leadership to settle.
pub const HELD_MAX: usize = 64;

/// The consensus engine of a group and its configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EngineConfig {
    Raft(Arc<RaftConfig>),
    /// Multi-Paxos, with the first sequence number this group gives a transaction (seed 002:
    /// 100 in C1, 200 in C2).
    Paxos {
        config: Arc<PaxosConfig>,
        first_seq: Seq,
    },
}

/// Everything a replica is built from; shared across its crashes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReplicaConfig {
    /// The 2PC roles of the group (shard and/or coordinator), as a single node would have them.
    pub node: Arc<NodeConfig>,
    pub engine: EngineConfig,
    pub groups: Arc<Groups>,
    pub route: RouteConfig,
}

/// What survives a replica's crash: its engine's durable state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReplicaDurable {
    Raft(raft::Durable<Record>),
    Paxos(paxos::Durable<Stamped>),
}

impl ReplicaDurable {
    /// The durable state of a replica that never ran.
    pub fn empty(engine: &EngineConfig) -> ReplicaDurable {
        match engine {
            EngineConfig::Raft(_) => ReplicaDurable::Raft(raft::Durable::default()),
            EngineConfig::Paxos { .. } => ReplicaDurable::Paxos(paxos::Durable::default()),
        }
    }
}

/// A replica's consensus engine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Raft(Raft<Record>),
    Paxos(Paxos<Stamped>),
}

impl Engine {
    pub fn as_raft(&self) -> Option<&Raft<Record>> {
        match self {
            Engine::Raft(raft) => Some(raft),
            Engine::Paxos(_) => None,
        }
    }

    pub fn as_paxos(&self) -> Option<&Paxos<Stamped>> {
        match self {
            Engine::Raft(_) => None,
            Engine::Paxos(paxos) => Some(paxos),
        }
    }

    pub fn id(&self) -> NodeId {
        match self {
            Engine::Raft(raft) => raft.id(),
            Engine::Paxos(paxos) => paxos.id(),
        }
    }

    /// The leader this replica believes in (itself when leading).
    pub fn leader(&self) -> Option<NodeId> {
        match self {
            Engine::Raft(raft) => raft.leader(),
            Engine::Paxos(paxos) => paxos.leader(),
        }
    }

    pub fn leads(&self) -> bool {
        match self {
            Engine::Raft(raft) => raft.role() == RaftRole::Leader,
            Engine::Paxos(paxos) => paxos.role() == PaxosRole::Leader,
        }
    }

    pub fn durable(&self) -> ReplicaDurable {
        match self {
            Engine::Raft(raft) => ReplicaDurable::Raft(raft.durable().clone()),
            Engine::Paxos(paxos) => ReplicaDurable::Paxos(paxos.durable().clone()),
        }
    }

    /// The committed records this replica has applied, in order.
    fn applied_records(&self) -> Vec<&Record> {
        match self {
            Engine::Raft(raft) => {
                let applied = raft.applied_index() as usize;
                raft.durable().log[..applied].iter().filter_map(|entry| entry.payload.command()).collect()
            }
            Engine::Paxos(paxos) => paxos
                .durable()
                .chosen
                .range(..=paxos.applied())
                .filter_map(|(_, value)| value.command().map(|stamped| &stamped.record))
                .collect(),
        }
    }

    /// The sequence numbers of the transactions this replica has applied.
    fn applied_seqs(&self) -> VecMap<TxnId, Seq> {
        let Engine::Paxos(paxos) = self else { return VecMap::new() };
        paxos
            .durable()
            .chosen
            .range(..=paxos.applied())
            .filter_map(|(_, value)| value.command().map(|stamped| (stamped.record.txn(), stamped.seq)))
            .collect()
    }
}

/// A committed entry handed to the state machine: where it sits, and what it holds.
struct ToApply {
    index: u64,
    term: u64,
    seq: Option<Seq>,
    record: Option<Record>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    config: Arc<ReplicaConfig>,
    engine: Engine,
    /// The 2PC roles: the live ones while acting, otherwise the committed log applied.
    node: Node,
    acting: bool,
    /// Entries this leader proposed since it took over, not yet committed.
    proposed: VecSet<LogIndex>,
    /// Multi-Paxos: each transaction's sequence number, as applied (and, while acting, proposed),
    /// and the number the next new transaction gets.
    seqs: VecMap<TxnId, Seq>,
    next_seq: Seq,
    held: Vec<(Endpoint, Message)>,
    router: Router,
}

impl Replica {
    /// Builds a replica from its durable state (empty at first start). It knows nothing
    /// committed until a leader tells it, so its shard state starts from the initial image.
    pub fn restart(config: Arc<ReplicaConfig>, durable: ReplicaDurable, now_ms: Millis, out: &mut Vec<Effect>) -> Self {
        let node = Node::recover(config.node.clone(), std::iter::empty(), now_ms, &mut Vec::new());
        let router = Router::new(config.groups.clone(), config.route);
        let (engine, effects) = match (&config.engine, durable) {
            (EngineConfig::Raft(raft_config), ReplicaDurable::Raft(durable)) => {
                let mut raft_out = Vec::new();
                let raft = Raft::restart(raft_config.clone(), durable, &mut raft_out);
                (Engine::Raft(raft), EngineEffects::Raft(raft_out))
            }
            (EngineConfig::Paxos { config: paxos_config, .. }, ReplicaDurable::Paxos(durable)) => {
                let mut paxos_out = Vec::new();
                let paxos = Paxos::restart(paxos_config.clone(), durable, &mut paxos_out);
                (Engine::Paxos(paxos), EngineEffects::Paxos(paxos_out))
            }
            _ => panic!("a replica restarts with its own engine's durable state"),
        };
        let replica = Replica {
            config,
            engine,
            node,
            acting: false,
            proposed: VecSet::new(),
            seqs: VecMap::new(),
            next_seq: 0,
            held: Vec::new(),
            router,
        };
        effects.perform(out);
        replica
    }

    pub fn id(&self) -> NodeId {
        self.engine.id()
    }

    /// The address of this replica's group: its first member.
    pub fn group_address(&self) -> NodeId {
        match &self.config.engine {
            EngineConfig::Raft(config) => config.members[0],
            EngineConfig::Paxos { config, .. } => config.members[0],
        }
    }

    pub fn config(&self) -> &Arc<ReplicaConfig> {
        &self.config
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The Raft engine, when the group runs Raft.
    pub fn raft(&self) -> Option<&Raft<Record>> {
        self.engine.as_raft()
    }

    /// The 2PC roles: live on the acting leader, the applied committed state elsewhere.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// True once this replica leads and has taken over the 2PC roles.
    pub fn acting(&self) -> bool {
        self.acting
    }

    pub fn held(&self) -> &[(Endpoint, Message)] {
        &self.held
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    pub fn on_message(&mut self, now_ms: Millis, from: Endpoint, message: &Message, out: &mut Vec<Effect>) {
        match (from, message, &mut self.engine) {
            (Endpoint::Node(from), Message::Raft(raft_message), Engine::Raft(raft)) => {
                let mut raft_out = Vec::new();
                raft.on_message(now_ms, from, raft_message.clone(), &mut raft_out);
                self.after_engine(now_ms, EngineEffects::Raft(raft_out), out);
            }
            (Endpoint::Node(from), Message::Paxos(paxos_message), Engine::Paxos(paxos)) => {
                let mut paxos_out = Vec::new();
                paxos.on_message(now_ms, from, paxos_message.clone(), &mut paxos_out);
                self.after_engine(now_ms, EngineEffects::Paxos(paxos_out), out);
            }
            (Endpoint::Node(from), Message::NotLeader { hint, bounced }, _) => {
                if let Some(next) = self.router.on_not_leader(from, *hint) {
                    if self.node.still_wants(bounced) {
                        out.push(Effect::Send { to: Endpoint::Node(next), message: (**bounced).clone() });
                    }
                }
            }
            (_, Message::Raft(_) | Message::Paxos(_) | Message::NotLeader { .. }, _) => {}
            _ if self.acting => self.deliver_two_phase(now_ms, from, message, out),
            _ => self.hold_or_bounce(from, message.clone(), out),
        }
    }

    pub fn on_timer(&mut self, now_ms: Millis, timer: Timer, out: &mut Vec<Effect>) {
        let effects = match (timer, &mut self.engine) {
            (Timer::Election | Timer::Heartbeat, Engine::Raft(raft)) => {
                let raft_timer = if timer == Timer::Election { RaftTimer::Election } else { RaftTimer::Heartbeat };
                let mut raft_out = Vec::new();
                raft.on_timer(now_ms, raft_timer, &mut raft_out);
                EngineEffects::Raft(raft_out)
            }
            (Timer::Election | Timer::Heartbeat, Engine::Paxos(paxos)) => {
                let paxos_timer = if timer == Timer::Election { PaxosTimer::Election } else { PaxosTimer::Heartbeat };
                let mut paxos_out = Vec::new();
                paxos.on_timer(now_ms, paxos_timer, &mut paxos_out);
                EngineEffects::Paxos(paxos_out)
            }
            _ if timer.is_two_phase() && self.acting => {
                let mut node_out = Vec::new();
                self.node.on_timer(now_ms, timer, &mut node_out);
                self.perform_node(now_ms, node_out, out);
                self.apply_committed(now_ms, out);
                return;
            }
            _ => return,
        };
        self.after_engine(now_ms, effects, out);
    }

    /// A 2PC message for the acting leader: the roles see the sender's group, not the replica.
    fn deliver_two_phase(&mut self, now_ms: Millis, from: Endpoint, message: &Message, out: &mut Vec<Effect>) {
        let from = match from {
            Endpoint::Node(member) => Endpoint::Node(self.router.heard_from(member, false)),
            Endpoint::Client => Endpoint::Client,
        };
        let mut node_out = Vec::new();
        self.node.on_message(now_ms, from, message, &mut node_out);
        self.perform_node(now_ms, node_out, out);
        self.apply_committed(now_ms, out);
    }

    fn hold_or_bounce(&mut self, from: Endpoint, message: Message, out: &mut Vec<Effect>) {
        match self.engine.leader() {
            Some(leader) if leader != self.id() => out.push(bounce(from, Some(leader), message)),
            // A resend of a message already waiting here adds nothing.
            _ if self.held.iter().any(|(held_from, held)| *held_from == from && *held == message) => {}
            _ if self.held.len() < HELD_MAX => {
                out.push(Effect::Note(Note::Held { message: message.to_string() }));
                self.held.push((from, message));
            }
            _ => out.push(bounce(from, None, message)),
        }
    }

    fn after_engine(&mut self, now_ms: Millis, effects: EngineEffects, out: &mut Vec<Effect>) {
        effects.perform(out);
        if self.acting && !self.engine.leads() {
            self.step_down(now_ms, out);
        }
        self.apply_committed(now_ms, out);
        if let Some(leader) = self.engine.leader().filter(|leader| *leader != self.id()) {
            for (from, message) in std::mem::take(&mut self.held) {
                out.push(bounce(from, Some(leader), message));
            }
        }
    }

    /// The next committed entry for the state machine, in log order, marked applied.
    fn next_to_apply(&mut self) -> Option<ToApply> {
        match &mut self.engine {
            Engine::Raft(raft) => raft.next_to_apply().map(|(index, entry)| ToApply {
                index,
                term: entry.term,
                seq: None,
                record: entry.payload.command().cloned(),
            }),
            Engine::Paxos(paxos) => paxos.next_to_apply().map(|(slot, value)| ToApply {
                index: slot,
                term: 0,
                seq: value.command().map(|stamped| stamped.seq),
                record: value.command().map(|stamped| stamped.record.clone()),
            }),
        }
    }

    /// Hands newly committed entries to the state machine: the acting leader continues its roles
    /// on its own proposals; everyone else applies the record to its copy. A Raft leader takes over
    /// when the no-op of its term commits; a Paxos leader once phase 1's open slots are chosen.
    fn apply_committed(&mut self, now_ms: Millis, out: &mut Vec<Effect>) {
        while let Some(ToApply { index, term, seq, record }) = self.next_to_apply() {
            out.push(Effect::Applied { index, term, seq, record: record.clone() });
            if let (Some(seq), Some(record)) = (seq, &record) {
                self.seqs.insert(record.txn(), seq);
                self.next_seq = self.next_seq.max(seq + 1);
            }
            match (record, &self.engine) {
                (None, Engine::Raft(raft)) => {
                    if raft.role() == RaftRole::Leader && term == raft.term() && !self.acting {
                        self.take_over(now_ms, out);
                    }
                }
                (None, Engine::Paxos(_)) => {}
                (Some(record), _) if self.acting && self.proposed.remove(&index) => {
                    let mut node_out = Vec::new();
                    self.node.on_persisted(now_ms, &record, &mut node_out);
                    self.perform_node(now_ms, node_out, out);
                }
                (Some(record), _) => self.node.apply(now_ms, &record),
            }
        }
        let Engine::Paxos(paxos) = &mut self.engine else { return };
        // The update_in_place bug: a chosen slot was overwritten under a follower's feet.
        for (slot, value) in paxos.take_rewritten() {
            if let Payload::Command(Stamped { seq, record }) = value {
                out.push(Effect::Applied { index: slot, term: 0, seq: Some(seq), record: Some(record.clone()) });
                self.node.apply(now_ms, &record);
            }
        }
        if !self.acting && self.engine.as_paxos().is_some_and(Paxos::is_ready) {
            self.take_over(now_ms, out);
        }
    }

    /// Everything before this leader is committed and applied: rebuild the roles from the
    /// committed log, as a single node recovers from its WAL, and act.
    fn take_over(&mut self, now_ms: Millis, out: &mut Vec<Effect>) {
        let mut node_out = Vec::new();
        self.node = Node::recover(self.config.node.clone(), self.engine.applied_records(), now_ms, &mut node_out);
        self.reset_seqs();
        self.acting = true;
        out.push(Effect::Note(match &self.engine {
            Engine::Raft(raft) => Note::TookOver { term: raft.term() },
            Engine::Paxos(paxos) => Note::TookOverBallot { ballot: paxos.ballot() },
        }));
        self.perform_node(now_ms, node_out, out);
        for (from, message) in std::mem::take(&mut self.held) {
            self.deliver_two_phase(now_ms, from, &message, out);
        }
    }

    /// No longer leading: what was not committed was never promised to anyone.
    fn step_down(&mut self, now_ms: Millis, out: &mut Vec<Effect>) {
        self.acting = false;
        self.proposed.clear();
        out.push(Effect::CancelTwoPhaseTimers);
        let mut node = Node::recover(self.config.node.clone(), std::iter::empty(), now_ms, &mut Vec::new());
        for record in self.engine.applied_records() {
            node.apply(now_ms, record);
        }
        self.node = node;
        self.reset_seqs();
    }

    /// The sequence numbers the chosen log has given, and the next one after them.
    fn reset_seqs(&mut self) {
        self.seqs = self.engine.applied_seqs();
        self.next_seq = self.seqs.values().max().map_or(0, |last| last + 1);
    }

    /// Carries out what the acting leader's roles asked: records become proposals, messages to a
    /// group go to the replica believed to lead it.
    fn perform_node(&mut self, now_ms: Millis, node_out: Vec<Effect>, out: &mut Vec<Effect>) {
        for effect in node_out {
            match effect {
                Effect::Persist(record) => self.propose(now_ms, record, out),
                Effect::Send { to: Endpoint::Node(address), message } => {
                    // The acting leader is its own group's leader: a co-located role is local.
                    let to = if address == self.group_address() {
                        self.id()
                    } else {
                        self.router.target(now_ms, address, message.expects_answer())
                    };
                    out.push(Effect::Send { to: Endpoint::Node(to), message });
                }
                other => out.push(other),
            }
        }
    }

    /// A durable record of the acting leader's roles becomes a proposal to the group. Under
    /// Multi-Paxos it is stamped with its transaction's sequence number: a new one for the
    /// transaction's first record here, the same one for its later records.
    fn propose(&mut self, now_ms: Millis, record: Record, out: &mut Vec<Effect>) {
        let (index, effects) = match &mut self.engine {
            Engine::Raft(raft) => {
                let mut raft_out = Vec::new();
                let index = raft.propose(now_ms, record, &mut raft_out).expect("an acting replica leads");
                (index, EngineEffects::Raft(raft_out))
            }
            Engine::Paxos(paxos) => {
                let EngineConfig::Paxos { first_seq, .. } = &self.config.engine else {
                    unreachable!("a Paxos replica")
                };
                let seq = match self.seqs.get(&record.txn()) {
                    Some(seq) => *seq,
                    None => {
                        let seq = self.next_seq.max(*first_seq);
                        self.seqs.insert(record.txn(), seq);
                        self.next_seq = seq + 1;
                        seq
                    }
                };
                let mut paxos_out = Vec::new();
                // Only the update_in_place bug looks for the prepare's slot to overwrite.
                let in_place = paxos.config().bugs.update_in_place.then(|| first_slot_of(paxos, &record)).flatten();
                if let Some(slot) = in_place {
                    let stamped = Stamped { seq, record: record.clone() };
                    if paxos.rewrite(slot, stamped, &mut paxos_out) {
                        // The update_in_place bug: the phase changes here with no agreement at all.
                        EngineEffects::Paxos(paxos_out).perform(out);
                        out.push(Effect::Applied {
                            index: slot,
                            term: 0,
                            seq: Some(seq),
                            record: Some(record.clone()),
                        });
                        let mut node_out = Vec::new();
                        self.node.on_persisted(now_ms, &record, &mut node_out);
                        self.perform_node(now_ms, node_out, out);
                        return;
                    }
                }
                let slot =
                    paxos.propose(now_ms, Stamped { seq, record }, &mut paxos_out).expect("an acting replica leads");
                (slot, EngineEffects::Paxos(paxos_out))
            }
        };
        self.proposed.insert(index);
        effects.perform(out);
    }
}

/// The slot holding the prepare-phase record of `record`'s transaction and role, for a decision
/// record (the row seed 002's COMMIT changes in place).
fn first_slot_of(paxos: &Paxos<Stamped>, record: &Record) -> Option<Slot> {
    if !matches!(record.phase(), Some('C' | 'A')) {
        return None;
    }
    paxos.durable().chosen.iter().find_map(|(slot, value)| {
        let first = value.command()?;
        let same = first.record.txn() == record.txn()
            && first.record.is_coordinator_record() == record.is_coordinator_record()
            && first.record.phase() == Some('P');
        same.then_some(*slot)
    })
}

/// What an engine asked for, turned into the world's effects.
enum EngineEffects {
    Raft(Vec<RaftEffect<Record>>),
    Paxos(Vec<PaxosEffect<Stamped>>),
}

impl EngineEffects {
    fn perform(self, out: &mut Vec<Effect>) {
        match self {
            EngineEffects::Raft(effects) => out.extend(effects.into_iter().map(|effect| match effect {
                RaftEffect::Send { to, message } => {
                    Effect::Send { to: Endpoint::Node(to), message: Message::Raft(message) }
                }
                RaftEffect::ResetElectionTimer => Effect::ResetElectionTimer,
                RaftEffect::SetHeartbeatTimer { after_ms } => Effect::SetTimer { timer: Timer::Heartbeat, after_ms },
                RaftEffect::Note(note) => Effect::Note(Note::Raft(note)),
            })),
            EngineEffects::Paxos(effects) => out.extend(effects.into_iter().map(|effect| match effect {
                PaxosEffect::Send { to, message } => {
                    Effect::Send { to: Endpoint::Node(to), message: Message::Paxos(message) }
                }
                PaxosEffect::ResetElectionTimer => Effect::ResetElectionTimer,
                PaxosEffect::SetHeartbeatTimer { after_ms } => Effect::SetTimer { timer: Timer::Heartbeat, after_ms },
                PaxosEffect::Note(note) => Effect::Note(Note::Paxos(note)),
            })),
        }
    }
}

fn bounce(to: Endpoint, hint: Option<NodeId>, message: Message) -> Effect {
    Effect::Send { to, message: Message::NotLeader { hint, bounced: Box::new(message) } }
}

#[cfg(test)]
mod tests;
