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
use crate::ids::{Endpoint, Millis, NodeId};
use crate::message::{Message, Record};
use crate::node::Node;
use crate::raft::{Durable, LogIndex, Payload, Raft, RaftConfig, RaftEffect, RaftRole, RaftTimer};
use crate::route::{Groups, RouteConfig, Router};
use std::collections::BTreeSet;
use std::sync::Arc;

/// At most this many 2PC messages wait at a replica for its group's leadership to settle.
pub const HELD_MAX: usize = 64;

/// Everything a replica is built from; shared across its crashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// The 2PC roles of the group (shard and/or coordinator), as a single node would have them.
    pub node: Arc<NodeConfig>,
    pub raft: Arc<RaftConfig>,
    pub groups: Arc<Groups>,
    pub route: RouteConfig,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    config: Arc<ReplicaConfig>,
    raft: Raft<Record>,
    /// The 2PC roles: the live ones while acting, otherwise the committed log applied.
    node: Node,
    acting: bool,
    /// Entries this leader proposed since it took over, not yet committed.
    proposed: BTreeSet<LogIndex>,
    held: Vec<(Endpoint, Message)>,
    router: Router,
}

impl Replica {
    /// Builds a replica from its durable Raft state (empty at first start). It knows nothing
    /// committed until a leader tells it, so its shard state starts from the initial image.
    pub fn restart(
        config: Arc<ReplicaConfig>,
        durable: Durable<Record>,
        now_ms: Millis,
        out: &mut Vec<Effect>,
    ) -> Self {
        let mut raft_out = Vec::new();
        let raft = Raft::restart(config.raft.clone(), durable, &mut raft_out);
        let node = Node::recover(config.node.clone(), std::iter::empty(), now_ms, &mut Vec::new());
        let router = Router::new(config.groups.clone(), config.route);
        let replica =
            Replica { config, raft, node, acting: false, proposed: BTreeSet::new(), held: Vec::new(), router };
        replica.perform_raft(raft_out, out);
        replica
    }

    pub fn id(&self) -> NodeId {
        self.raft.id()
    }

    /// The address of this replica's group: its first member.
    pub fn group_address(&self) -> NodeId {
        self.config.raft.members[0]
    }

    pub fn config(&self) -> &Arc<ReplicaConfig> {
        &self.config
    }

    pub fn raft(&self) -> &Raft<Record> {
        &self.raft
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
        match (from, message) {
            (Endpoint::Node(from), Message::Raft(raft_message)) => {
                let mut raft_out = Vec::new();
                self.raft.on_message(now_ms, from, raft_message.clone(), &mut raft_out);
                self.after_raft(now_ms, raft_out, out);
            }
            (Endpoint::Node(from), Message::NotLeader { hint, bounced }) => {
                if let Some(next) = self.router.on_not_leader(from, *hint) {
                    out.push(Effect::Send { to: Endpoint::Node(next), message: (**bounced).clone() });
                }
            }
            (Endpoint::Client, Message::Raft(_) | Message::NotLeader { .. }) => {}
            _ if self.acting => self.deliver_two_phase(now_ms, from, message, out),
            _ => self.hold_or_bounce(from, message.clone(), out),
        }
    }

    pub fn on_timer(&mut self, now_ms: Millis, timer: Timer, out: &mut Vec<Effect>) {
        let raft_timer = match timer {
            Timer::Election => RaftTimer::Election,
            Timer::Heartbeat => RaftTimer::Heartbeat,
            _ if timer.is_two_phase() && self.acting => {
                let mut node_out = Vec::new();
                self.node.on_timer(now_ms, timer, &mut node_out);
                self.perform_node(now_ms, node_out, out);
                self.apply_committed(now_ms, out);
                return;
            }
            _ => return,
        };
        let mut raft_out = Vec::new();
        self.raft.on_timer(now_ms, raft_timer, &mut raft_out);
        self.after_raft(now_ms, raft_out, out);
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
        match self.raft.leader() {
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

    fn after_raft(&mut self, now_ms: Millis, raft_out: Vec<RaftEffect<Record>>, out: &mut Vec<Effect>) {
        self.perform_raft(raft_out, out);
        if self.acting && self.raft.role() != RaftRole::Leader {
            self.step_down(now_ms, out);
        }
        self.apply_committed(now_ms, out);
        if let Some(leader) = self.raft.leader().filter(|leader| *leader != self.id()) {
            for (from, message) in std::mem::take(&mut self.held) {
                out.push(bounce(from, Some(leader), message));
            }
        }
    }

    /// Hands newly committed entries to the state machine: the acting leader continues its roles
    /// on its own proposals; everyone else applies the record to its copy.
    fn apply_committed(&mut self, now_ms: Millis, out: &mut Vec<Effect>) {
        while let Some((index, entry)) = self.raft.next_to_apply() {
            let (term, payload) = (entry.term, entry.payload.clone());
            let record = match &payload {
                Payload::Command(record) => Some(record.clone()),
                Payload::Noop => None,
            };
            out.push(Effect::Applied { index, term, record: record.clone() });
            match record {
                None => {
                    if self.raft.role() == RaftRole::Leader && term == self.raft.term() && !self.acting {
                        self.take_over(now_ms, out);
                    }
                }
                Some(record) if self.acting && self.proposed.remove(&index) => {
                    let mut node_out = Vec::new();
                    self.node.on_persisted(now_ms, &record, &mut node_out);
                    self.perform_node(now_ms, node_out, out);
                }
                Some(record) => self.node.apply(now_ms, &record),
            }
        }
    }

    /// The no-op of this leader's term committed: everything before it is committed too. Rebuild
    /// the roles from the committed log, as a single node recovers from its WAL, and act.
    fn take_over(&mut self, now_ms: Millis, out: &mut Vec<Effect>) {
        let mut node_out = Vec::new();
        let records: Vec<Record> = self.applied_records().cloned().collect();
        self.node = Node::recover(self.config.node.clone(), records.iter(), now_ms, &mut node_out);
        self.acting = true;
        out.push(Effect::Note(Note::TookOver { term: self.raft.term() }));
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
        for record in self.applied_records() {
            node.apply(now_ms, record);
        }
        self.node = node;
    }

    fn applied_records(&self) -> impl Iterator<Item = &Record> {
        let applied = self.raft.applied_index() as usize;
        self.raft.durable().log[..applied].iter().filter_map(|entry| match &entry.payload {
            Payload::Command(record) => Some(record),
            Payload::Noop => None,
        })
    }

    /// Carries out what the acting leader's roles asked: records become proposals, messages to a
    /// group go to the replica believed to lead it.
    fn perform_node(&mut self, now_ms: Millis, node_out: Vec<Effect>, out: &mut Vec<Effect>) {
        for effect in node_out {
            match effect {
                Effect::Persist(record) => {
                    let mut raft_out = Vec::new();
                    let index = self.raft.propose(now_ms, record, &mut raft_out).expect("an acting replica leads");
                    self.proposed.insert(index);
                    self.perform_raft(raft_out, out);
                }
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

    fn perform_raft(&self, raft_out: Vec<RaftEffect<Record>>, out: &mut Vec<Effect>) {
        for effect in raft_out {
            out.push(match effect {
                RaftEffect::Send { to, message } => {
                    Effect::Send { to: Endpoint::Node(to), message: Message::Raft(message) }
                }
                RaftEffect::ResetElectionTimer => Effect::ResetElectionTimer,
                RaftEffect::SetHeartbeatTimer { after_ms } => Effect::SetTimer { timer: Timer::Heartbeat, after_ms },
                RaftEffect::Note(note) => Effect::Note(Note::Raft(note)),
            });
        }
    }
}

fn bounce(to: Endpoint, hint: Option<NodeId>, message: Message) -> Effect {
    Effect::Send { to, message: Message::NotLeader { hint, bounced: Box::new(message) } }
}

#[cfg(test)]
mod tests;
