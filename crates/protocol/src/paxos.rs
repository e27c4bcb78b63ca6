//! Multi-Paxos as a pure state machine: event in, effects out, like the Raft engine beside it.
//!
//! One [`Paxos`] is one replica of a group, in all three Paxos roles: acceptor, learner and, while
//! it leads, the distinguished proposer. The log is a sequence of *slots* (instances), each of
//! which chooses one value once, by its own round of Paxos:
//!
//! - **Phase 1** (`PHASE1A` / `PHASE1B`, named apart from two-phase commit's PREPARE): a replica
//!   that has not heard from a leader for an election timeout takes a ballot higher than any it
//!   has promised and asks the group to promise it. Each promise carries what the acceptor
//!   accepted (and knows chosen) past the candidate's chosen prefix. With a majority of promises
//!   the candidate leads: for every open slot it re-proposes the value accepted with the highest
//!   ballot (a value that may have been chosen must be the one chosen again), and it fills holes
//!   with a no-op. This is why a value a majority accepted survives its leader's crash.
//! - **Phase 2** (`ACCEPT`, `AcceptedReply`, `COMMIT`): the leader proposes a value in the next
//!   slot with its ballot; an acceptor accepts it unless it promised a higher ballot; once a
//!   majority (the leader included) has accepted, the value is chosen and the leader tells the
//!   learners with `COMMIT`. A leader skips phase 1 for every later slot: its ballot covers them.
//! - **Heartbeats** keep followers from campaigning and carry the leader's chosen prefix; a
//!   follower that missed a `COMMIT` answers with its own prefix and the leader sends what is missing.
//!   On each heartbeat the leader also sends its open `ACCEPT`s again to whoever has not accepted
//!   them (messages may be lost).
//! - **Leases** (as the Raft engine's check-quorum and leader stickiness): an acceptor that heard
//!   from its leader less than an election timeout ago refuses another candidate's phase 1, and a
//!   leader that has not heard from a majority for an election timeout steps down, so a leader cut
//!   off in a minority stops acting as one.
//!
//! Values are applied in slot order. Durable state (the promised ballot, what was accepted, what
//! is known chosen) is written as part of the event that changes it, before any reply leaves; the
//! world keeps [`Durable`] across crashes and rebuilds the replica with [`Paxos::restart`].
//!
//! One teaching bug: `commit_before_quorum` sends `COMMIT` with the `ACCEPT`, before any
//! acceptor answered. A follower then executes a value that a new leader may never learn of.

use crate::ids::{Millis, NodeId};
use crate::raft::Payload;
use crate::vec_map::{VecMap, VecSet};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A position in the log, from 1. Slot 0 is the empty prefix.
pub type Slot = u64;

/// A ballot: a round number and the replica that owns it, ordered by round, then by replica.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    pub round: u64,
    pub leader: NodeId,
}

impl Default for Ballot {
    /// Round 0: below every ballot a replica can take.
    fn default() -> Self {
        Ballot { round: 0, leader: NodeId(0) }
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}.{}", self.round, self.leader)
    }
}

/// A value an acceptor accepted, with the ballot it was accepted in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Accepted<C> {
    pub ballot: Ballot,
    pub value: Payload<C>,
}

/// The state that survives a crash: the acceptor's promise and accepted values, and what this
/// replica learned was chosen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Durable<C> {
    pub promised: Ballot,
    pub accepted: VecMap<Slot, Accepted<C>>,
    pub chosen: VecMap<Slot, Payload<C>>,
}

impl<C> Default for Durable<C> {
    fn default() -> Self {
        Durable { promised: Ballot::default(), accepted: VecMap::new(), chosen: VecMap::new() }
    }
}

impl<C> Durable<C> {
    /// The end of the prefix of slots all known chosen: every slot up to it is chosen here.
    pub fn chosen_through(&self) -> Slot {
        let mut through = 0;
        for slot in self.chosen.keys() {
            if *slot != through + 1 {
                break;
            }
            through = *slot;
        }
        through
    }
}

/// Deliberate consensus bugs a teacher can switch on; each breaks a rule an invariant checks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaxosBugs {
    /// The leader sends `COMMIT` with its `ACCEPT`, without waiting for a majority to accept:
    /// followers execute a value no majority holds, and a new leader can choose another one in
    /// its slot. Caught by the invariant that replicas never execute different values in one slot.
    pub commit_before_quorum: bool,
    /// The leader changes the value of a slot already chosen: it overwrites its own copy and sends
    /// `COMMIT` with the new value, which learners take in place of the old one, with no ACCEPT
    /// round and no majority (see [`Paxos::rewrite`]). Whoever misses that `COMMIT` keeps the old
    /// value, and so does a new leader's phase 1.
    pub update_in_place: bool,
}

/// How one replica is set up; shared by the replica across crashes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaxosConfig {
    pub id: NodeId,
    /// Every replica of the group, this one included, in id order.
    pub members: Vec<NodeId>,
    pub heartbeat_ms: Millis,
    /// The shortest election timeout: the length of both leases.
    pub election_timeout_ms_min: Millis,
    /// At most this many chosen slots travel to a lagging follower in one go.
    pub max_slots_per_message: usize,
    pub bugs: PaxosBugs,
}

impl PaxosConfig {
    fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.iter().copied().filter(move |member| *member != self.id)
    }
}

/// An entry a promise reports: what the acceptor accepted in a slot, and whether it knows it chosen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reported<C> {
    pub slot: Slot,
    pub accepted: Accepted<C>,
    pub chosen: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaxosMessage<C> {
    /// Phase 1a: promise `ballot`, and tell me what you accepted past my chosen prefix.
    Phase1a {
        ballot: Ballot,
        chosen_through: Slot,
    },
    /// Phase 1b: the promise with what was accepted; or a refusal naming the higher ballot promised.
    Phase1b {
        ballot: Ballot,
        promised: bool,
        entries: Vec<Reported<C>>,
    },
    /// Phase 2a: accept `value` in `slot` (seed 002's ACCEPT).
    Accept {
        ballot: Ballot,
        slot: Slot,
        value: Payload<C>,
    },
    /// Phase 2b (seed 002's AcceptedReply); a refusal names the higher ballot promised.
    Accepted {
        ballot: Ballot,
        slot: Slot,
        ok: bool,
    },
    /// The value in `slot` is chosen: learn and execute it (seed 002's COMMIT).
    Commit {
        slot: Slot,
        value: Payload<C>,
    },
    Heartbeat {
        ballot: Ballot,
        chosen_through: Slot,
    },
    /// A follower's answer, with its chosen prefix so the leader can fill it in; a refusal names
    /// the higher ballot promised.
    HeartbeatReply {
        ballot: Ballot,
        ok: bool,
        chosen_through: Slot,
    },
}

impl<C> PaxosMessage<C> {
    /// The short kind name used by message filters.
    pub fn kind(&self) -> &'static str {
        match self {
            PaxosMessage::Phase1a { .. } => "Phase1a",
            PaxosMessage::Phase1b { .. } => "Phase1b",
            PaxosMessage::Accept { .. } => "Accept",
            PaxosMessage::Accepted { .. } => "AcceptedReply",
            PaxosMessage::Commit { .. } => "PaxosCommit",
            PaxosMessage::Heartbeat { .. } => "PaxosHeartbeat",
            PaxosMessage::HeartbeatReply { .. } => "PaxosHeartbeatReply",
        }
    }
}

/// Every Multi-Paxos message kind, as [`PaxosMessage::kind`] names them.
pub const PAXOS_MESSAGE_KINDS: [&str; 7] =
    ["Phase1a", "Phase1b", "Accept", "AcceptedReply", "PaxosCommit", "PaxosHeartbeat", "PaxosHeartbeatReply"];

fn value_text<C: fmt::Display>(value: &Payload<C>) -> String {
    match value {
        Payload::Noop => "no-op".to_string(),
        Payload::Command(command) => command.to_string(),
    }
}

impl<C: fmt::Display> fmt::Display for PaxosMessage<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaxosMessage::Phase1a { ballot, chosen_through } => {
                write!(f, "PHASE1A {ballot} chosen through {chosen_through}")
            }
            PaxosMessage::Phase1b { ballot, promised: true, entries } => {
                write!(f, "PHASE1B {ballot} promised, {} accepted", entries.len())
            }
            PaxosMessage::Phase1b { ballot, promised: false, .. } => write!(f, "PHASE1B refused, promised {ballot}"),
            PaxosMessage::Accept { ballot, slot, value } => write!(f, "ACCEPT {ballot} #{slot} {}", value_text(value)),
            PaxosMessage::Accepted { ballot, slot, ok: true } => write!(f, "AcceptedReply {ballot} #{slot}"),
            PaxosMessage::Accepted { ballot, slot, ok: false } => {
                write!(f, "AcceptedReply #{slot} refused, promised {ballot}")
            }
            PaxosMessage::Commit { slot, value } => write!(f, "COMMIT #{slot} {}", value_text(value)),
            PaxosMessage::Heartbeat { ballot, chosen_through } => {
                write!(f, "Heartbeat {ballot} chosen through {chosen_through}")
            }
            PaxosMessage::HeartbeatReply { ballot, ok: true, chosen_through } => {
                write!(f, "HeartbeatReply {ballot} chosen through {chosen_through}")
            }
            PaxosMessage::HeartbeatReply { ballot, ok: false, .. } => {
                write!(f, "HeartbeatReply refused, promised {ballot}")
            }
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PaxosRole {
    Follower,
    /// Running phase 1 with its own ballot.
    Candidate,
    Leader,
}

impl fmt::Display for PaxosRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PaxosRole::Follower => "follower",
            PaxosRole::Candidate => "candidate",
            PaxosRole::Leader => "leader",
        })
    }
}

/// The engine's timers. The world arms them: the election timer with a random timeout of its own
/// drawing, the heartbeat timer with `heartbeat_ms`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PaxosTimer {
    Election,
    Heartbeat,
}

/// Facts the engine reports for the trace; they change nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaxosNote {
    Role {
        role: PaxosRole,
        ballot: Ballot,
    },
    /// A leader stepped down because it heard from no majority for an election timeout.
    LostQuorum {
        ballot: Ballot,
    },
    /// The leader proposed a value in a slot: a new one, or one phase 1 recovered.
    Proposed {
        slot: Slot,
        ballot: Ballot,
    },
    /// This replica learned the value of a slot chosen.
    Chosen {
        slot: Slot,
    },
    /// The leader knows every slot phase 1 found open chosen: it may act on the whole log.
    Ready {
        ballot: Ballot,
    },
}

impl fmt::Display for PaxosNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaxosNote::Role { role, ballot } => write!(f, "{role} with ballot {ballot}"),
            PaxosNote::LostQuorum { ballot } => write!(f, "leader of {ballot} lost its majority: steps down"),
            PaxosNote::Proposed { slot, ballot } => write!(f, "proposed #{slot} in {ballot}"),
            PaxosNote::Chosen { slot } => write!(f, "#{slot} chosen"),
            PaxosNote::Ready { ballot } => write!(f, "leader of {ballot} recovered the log"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PaxosEffect<C> {
    Send {
        to: NodeId,
        message: PaxosMessage<C>,
    },
    /// Arm the election timer again with a fresh random timeout.
    ResetElectionTimer,
    SetHeartbeatTimer {
        after_ms: Millis,
    },
    Note(PaxosNote),
}

/// A proposal made to a replica that does not lead: where to go instead, if it knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct NotLeader {
    pub hint: Option<NodeId>,
}

/// A slot the leader proposed and has not seen chosen yet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Open<C> {
    value: Payload<C>,
    /// Acceptors that accepted it in the leader's ballot, the leader included.
    accepted_by: VecSet<NodeId>,
    /// When its ACCEPTs last went out: a heartbeat sends them again only once they are overdue.
    sent_ms: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Paxos<C> {
    config: Arc<PaxosConfig>,
    durable: Durable<C>,
    role: PaxosRole,
    /// The leader this replica follows (itself when leading).
    leader: Option<NodeId>,
    /// When this replica last heard from its leader (the follower's lease).
    leader_heard_ms: Option<Millis>,
    applied: Slot,
    /// Candidate: the ballot it asks the group to promise. Its own acceptor promises it only when a
    /// majority has (and reports what it holds then), so a candidate the group refuses, because
    /// its leader is alive, keeps accepting from that leader and disrupts nothing.
    campaign: Option<Ballot>,
    /// Candidate: the promises gathered from peers, with what each reported.
    promises: VecMap<NodeId, Vec<Reported<C>>>,
    /// Leader: the next slot to propose in, the slots still open, and when each peer last answered.
    next_slot: Slot,
    open: VecMap<Slot, Open<C>>,
    /// Leader: the slots phase 1 found open that are not chosen yet.
    recovering: VecSet<Slot>,
    ready: bool,
    last_heard: VecMap<NodeId, Millis>,
    leader_since_ms: Millis,
    /// Leader: when it sent `COMMIT` for the slots it chose less than a heartbeat interval ago; a
    /// heartbeat answer that misses one of them is not filled in, the `COMMIT` is still on its way.
    recent_commits: VecMap<Slot, Millis>,
    /// With the `update_in_place` bug: chosen slots whose value was overwritten and that the
    /// state machine has applied already, to be applied again out of order.
    rewritten: Vec<Slot>,
}

impl<C: Clone + PartialEq> Paxos<C> {
    /// Builds a replica from its durable state (empty at first start) as a follower. What it knew
    /// chosen it applies again from slot 1. Asks for its election timer.
    pub fn restart(config: Arc<PaxosConfig>, durable: Durable<C>, out: &mut Vec<PaxosEffect<C>>) -> Paxos<C> {
        assert!(config.members.contains(&config.id), "a replica is a member of its group");
        out.push(PaxosEffect::ResetElectionTimer);
        Paxos {
            config,
            durable,
            role: PaxosRole::Follower,
            leader: None,
            leader_heard_ms: None,
            applied: 0,
            campaign: None,
            promises: VecMap::new(),
            next_slot: 1,
            open: VecMap::new(),
            recovering: VecSet::new(),
            ready: false,
            last_heard: VecMap::new(),
            leader_since_ms: 0,
            recent_commits: VecMap::new(),
            rewritten: Vec::new(),
        }
    }

    pub fn config(&self) -> &Arc<PaxosConfig> {
        &self.config
    }

    pub fn id(&self) -> NodeId {
        self.config.id
    }

    pub fn durable(&self) -> &Durable<C> {
        &self.durable
    }

    pub fn role(&self) -> PaxosRole {
        self.role
    }

    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The ballot this replica campaigns for, or else the highest it promised (its own when leading).
    pub fn ballot(&self) -> Ballot {
        self.campaign.unwrap_or(self.durable.promised)
    }

    /// Leading, with every slot phase 1 found open chosen: the whole log is known.
    pub fn is_ready(&self) -> bool {
        self.role == PaxosRole::Leader && self.ready
    }

    pub fn applied(&self) -> Slot {
        self.applied
    }

    pub fn chosen_through(&self) -> Slot {
        self.durable.chosen_through()
    }

    /// The next chosen value not yet handed to the state machine, in slot order, marking it applied.
    pub fn next_to_apply(&mut self) -> Option<(Slot, &Payload<C>)> {
        let slot = self.applied + 1;
        let value = self.durable.chosen.get(&slot)?;
        self.applied = slot;
        Some((slot, value))
    }

    /// With the `update_in_place` bug: the slots overwritten since the last call that had been
    /// applied before, with their new values.
    pub fn take_rewritten(&mut self) -> Vec<(Slot, Payload<C>)> {
        std::mem::take(&mut self.rewritten)
            .into_iter()
            .filter_map(|slot| self.durable.chosen.get(&slot).map(|value| (slot, value.clone())))
            .collect()
    }

    /// The `update_in_place` bug: the leader overwrites the value of chosen `slot` in its own log
    /// and tells the learners with `COMMIT`, without an ACCEPT round. Refused (`false`) without the
    /// bug, when not leading, or when the slot is not chosen here: a chosen value never changes.
    pub fn rewrite(&mut self, slot: Slot, command: C, out: &mut Vec<PaxosEffect<C>>) -> bool {
        let allowed = self.config.bugs.update_in_place && self.role == PaxosRole::Leader;
        if !allowed || !self.durable.chosen.contains_key(&slot) {
            return false;
        }
        let value = Payload::Command(command);
        let ballot = self.durable.promised;
        self.durable.accepted.insert(slot, Accepted { ballot, value: value.clone() });
        self.durable.chosen.insert(slot, value.clone());
        for peer in self.config.peers() {
            out.push(self.send(peer, PaxosMessage::Commit { slot, value: value.clone() }));
        }
        out.push(PaxosEffect::Note(PaxosNote::Chosen { slot }));
        true
    }

    /// Proposes a command in the next slot if this replica leads.
    pub fn propose(&mut self, now_ms: Millis, command: C, out: &mut Vec<PaxosEffect<C>>) -> Result<Slot, NotLeader> {
        if self.role != PaxosRole::Leader {
            return Err(NotLeader { hint: self.leader.filter(|leader| *leader != self.id()) });
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        self.propose_in(now_ms, slot, Payload::Command(command), out);
        Ok(slot)
    }

    pub fn on_timer(&mut self, now_ms: Millis, timer: PaxosTimer, out: &mut Vec<PaxosEffect<C>>) {
        match timer {
            PaxosTimer::Election if self.role != PaxosRole::Leader => self.campaign(now_ms, out),
            PaxosTimer::Election => {}
            PaxosTimer::Heartbeat => self.on_heartbeat_timeout(now_ms, out),
        }
    }

    pub fn on_message(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        message: PaxosMessage<C>,
        out: &mut Vec<PaxosEffect<C>>,
    ) {
        if !self.config.members.contains(&from) || from == self.id() {
            return;
        }
        match message {
            PaxosMessage::Phase1a { ballot, chosen_through } => {
                self.on_phase1a(now_ms, from, ballot, chosen_through, out)
            }
            PaxosMessage::Phase1b { ballot, promised, entries } => {
                self.on_phase1b(now_ms, from, ballot, promised, entries, out)
            }
            PaxosMessage::Accept { ballot, slot, value } => self.on_accept(now_ms, from, ballot, slot, value, out),
            PaxosMessage::Accepted { ballot, slot, ok } => self.on_accepted(now_ms, from, ballot, slot, ok, out),
            PaxosMessage::Commit { slot, value } => self.learn(slot, value, out),
            PaxosMessage::Heartbeat { ballot, chosen_through: _ } => self.on_heartbeat(now_ms, from, ballot, out),
            PaxosMessage::HeartbeatReply { ballot, ok, chosen_through } => {
                self.on_heartbeat_reply(now_ms, from, ballot, ok, chosen_through, out)
            }
        }
    }

    // Acceptor.

    fn on_phase1a(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        ballot: Ballot,
        chosen_through: Slot,
        out: &mut Vec<PaxosEffect<C>>,
    ) {
        let higher = ballot > self.durable.promised;
        if !(higher || ballot == self.durable.promised) || (higher && self.in_lease(now_ms, from)) {
            let refusal = PaxosMessage::Phase1b { ballot: self.durable.promised, promised: false, entries: Vec::new() };
            out.push(self.send(from, refusal));
            return;
        }
        if higher {
            self.follow(ballot, None, out);
        }
        let entries = self.report_after(chosen_through);
        out.push(self.send(from, PaxosMessage::Phase1b { ballot, promised: true, entries }));
    }

    /// What this acceptor holds past `chosen_through`: each accepted value, and each value it knows
    /// chosen (reported as accepted in the highest possible ballot, since it is final).
    fn report_after(&self, chosen_through: Slot) -> Vec<Reported<C>> {
        let mut entries: VecMap<Slot, Reported<C>> = self
            .durable
            .accepted
            .range(chosen_through + 1..)
            .map(|(slot, accepted)| (*slot, Reported { slot: *slot, accepted: accepted.clone(), chosen: false }))
            .collect();
        for (slot, value) in self.durable.chosen.range(chosen_through + 1..) {
            let ballot = self.durable.accepted.get(slot).map_or(Ballot::default(), |accepted| accepted.ballot);
            let accepted = Accepted { ballot, value: value.clone() };
            entries.insert(*slot, Reported { slot: *slot, accepted, chosen: true });
        }
        entries.into_values().collect()
    }

    /// Leader stickiness: while its leader is heard from, a follower elects nobody else; a leader
    /// that hears from a majority refuses too.
    fn in_lease(&self, now_ms: Millis, candidate: NodeId) -> bool {
        match self.role {
            PaxosRole::Leader => self.has_recent_quorum(now_ms),
            PaxosRole::Follower => {
                self.leader.is_some_and(|leader| leader != candidate)
                    && self.leader_heard_ms.is_some_and(|heard| now_ms < heard + self.config.election_timeout_ms_min)
            }
            PaxosRole::Candidate => false,
        }
    }

    fn on_accept(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        ballot: Ballot,
        slot: Slot,
        value: Payload<C>,
        out: &mut Vec<PaxosEffect<C>>,
    ) {
        if ballot < self.durable.promised {
            let refusal = PaxosMessage::Accepted { ballot: self.durable.promised, slot, ok: false };
            out.push(self.send(from, refusal));
            return;
        }
        self.heard_from_leader(now_ms, ballot, from, out);
        if !self.durable.chosen.contains_key(&slot) {
            self.durable.accepted.insert(slot, Accepted { ballot, value });
        }
        out.push(self.send(from, PaxosMessage::Accepted { ballot, slot, ok: true }));
    }

    fn on_heartbeat(&mut self, now_ms: Millis, from: NodeId, ballot: Ballot, out: &mut Vec<PaxosEffect<C>>) {
        if ballot < self.durable.promised {
            let refusal = PaxosMessage::HeartbeatReply { ballot: self.durable.promised, ok: false, chosen_through: 0 };
            out.push(self.send(from, refusal));
            return;
        }
        self.heard_from_leader(now_ms, ballot, from, out);
        let chosen_through = self.chosen_through();
        out.push(self.send(from, PaxosMessage::HeartbeatReply { ballot, ok: true, chosen_through }));
    }

    /// A message from the leader of `ballot` (at least the promised one): follow it.
    fn heard_from_leader(&mut self, now_ms: Millis, ballot: Ballot, leader: NodeId, out: &mut Vec<PaxosEffect<C>>) {
        if ballot > self.durable.promised || self.role != PaxosRole::Follower || self.leader != Some(leader) {
            self.follow(ballot, Some(leader), out);
        } else {
            out.push(PaxosEffect::ResetElectionTimer);
        }
        self.leader_heard_ms = Some(now_ms);
    }

    // Learner.

    fn learn(&mut self, slot: Slot, value: Payload<C>, out: &mut Vec<PaxosEffect<C>>) {
        if let Some(known) = self.durable.chosen.get(&slot) {
            if self.config.bugs.update_in_place && *known != value {
                // The bug: a learner takes a new value for a slot it knows chosen.
                self.durable.chosen.insert(slot, value);
                if slot <= self.applied {
                    self.rewritten.push(slot);
                }
                out.push(PaxosEffect::Note(PaxosNote::Chosen { slot }));
            }
            return;
        }
        self.durable.chosen.insert(slot, value);
        self.open.remove(&slot);
        out.push(PaxosEffect::Note(PaxosNote::Chosen { slot }));
        if self.role == PaxosRole::Leader && self.recovering.remove(&slot) {
            self.ready_if_recovered(out);
        }
    }

    // Candidate.

    /// No leader heard from for an election timeout: take a ballot above every one promised or
    /// tried here and ask the group to promise it.
    fn campaign(&mut self, now_ms: Millis, out: &mut Vec<PaxosEffect<C>>) {
        let round = self.durable.promised.round.max(self.campaign.map_or(0, |ballot| ballot.round)) + 1;
        let ballot = Ballot { round, leader: self.id() };
        self.role = PaxosRole::Candidate;
        self.campaign = Some(ballot);
        self.leader = None;
        self.leader_heard_ms = None;
        self.promises.clear();
        self.note_role(out);
        out.push(PaxosEffect::ResetElectionTimer);
        let chosen_through = self.chosen_through();
        for peer in self.config.peers() {
            out.push(self.send(peer, PaxosMessage::Phase1a { ballot, chosen_through }));
        }
        self.lead_if_promised(now_ms, out);
    }

    fn on_phase1b(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        ballot: Ballot,
        promised: bool,
        entries: Vec<Reported<C>>,
        out: &mut Vec<PaxosEffect<C>>,
    ) {
        if !promised {
            if ballot > self.durable.promised {
                self.follow(ballot, None, out);
            }
            return;
        }
        if self.role != PaxosRole::Candidate || Some(ballot) != self.campaign {
            return;
        }
        self.promises.insert(from, entries);
        self.lead_if_promised(now_ms, out);
    }

    fn lead_if_promised(&mut self, now_ms: Millis, out: &mut Vec<PaxosEffect<C>>) {
        let Some(ballot) = self.campaign else { return };
        if self.promises.len() + 1 < self.config.majority() {
            return;
        }
        self.campaign = None;
        if ballot <= self.durable.promised {
            // Meanwhile this acceptor promised a higher ballot: the campaign is over.
            self.follow(self.durable.promised, None, out);
            return;
        }
        // Its own promise, now, with what its acceptor holds now.
        self.durable.promised = ballot;
        let own = self.report_after(self.chosen_through());
        self.promises.insert(self.id(), own);
        // For every slot a promise reports: a value known chosen is final; otherwise the value
        // accepted in the highest ballot is the only one that may have been chosen.
        let mut recovered: VecMap<Slot, (Accepted<C>, bool)> = VecMap::new();
        for entry in std::mem::take(&mut self.promises).into_values().flatten() {
            let keep = match recovered.get(&entry.slot) {
                None => true,
                Some((_, true)) => false,
                Some((held, false)) => entry.chosen || entry.accepted.ballot > held.ballot,
            };
            if keep {
                recovered.insert(entry.slot, (entry.accepted, entry.chosen));
            }
        }
        self.role = PaxosRole::Leader;
        self.leader = Some(self.id());
        self.leader_since_ms = now_ms;
        self.last_heard = self.config.peers().map(|peer| (peer, now_ms)).collect();
        self.open.clear();
        self.ready = false;
        self.note_role(out);
        let from = self.chosen_through() + 1;
        let last = recovered.keys().next_back().copied().unwrap_or(0).max(from - 1);
        self.next_slot = last + 1;
        // Every slot past the chosen prefix is settled before the leader acts: re-propose what
        // may have been chosen, fill holes with a no-op.
        self.recovering = (from..=last).filter(|slot| !self.durable.chosen.contains_key(slot)).collect();
        for slot in from..=last {
            if self.durable.chosen.contains_key(&slot) {
                continue;
            }
            match recovered.remove(&slot) {
                Some((accepted, true)) => self.learn(slot, accepted.value, out),
                Some((accepted, false)) => self.propose_in(now_ms, slot, accepted.value, out),
                None => self.propose_in(now_ms, slot, Payload::Noop, out),
            }
        }
        self.ready_if_recovered(out);
        self.send_heartbeats(out);
        out.push(PaxosEffect::SetHeartbeatTimer { after_ms: self.config.heartbeat_ms });
    }

    fn ready_if_recovered(&mut self, out: &mut Vec<PaxosEffect<C>>) {
        if self.role == PaxosRole::Leader && !self.ready && self.recovering.is_empty() {
            self.ready = true;
            out.push(PaxosEffect::Note(PaxosNote::Ready { ballot: self.durable.promised }));
        }
    }

    // Leader.

    /// Accepts `value` in `slot` itself and asks every peer to accept it.
    fn propose_in(&mut self, now_ms: Millis, slot: Slot, value: Payload<C>, out: &mut Vec<PaxosEffect<C>>) {
        let ballot = self.durable.promised;
        self.durable.accepted.insert(slot, Accepted { ballot, value: value.clone() });
        let open = Open { value: value.clone(), accepted_by: VecSet::from([self.id()]), sent_ms: now_ms };
        self.open.insert(slot, open);
        out.push(PaxosEffect::Note(PaxosNote::Proposed { slot, ballot }));
        for peer in self.config.peers() {
            out.push(self.send(peer, PaxosMessage::Accept { ballot, slot, value: value.clone() }));
        }
        if self.config.bugs.commit_before_quorum {
            // The bug: everyone executes the value before any acceptor has answered.
            self.choose(now_ms, slot, out);
            return;
        }
        self.choose_if_accepted(now_ms, slot, out);
    }

    fn on_accepted(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        ballot: Ballot,
        slot: Slot,
        ok: bool,
        out: &mut Vec<PaxosEffect<C>>,
    ) {
        if !self.counts_as_answer(now_ms, from, ballot, ok, out) {
            return;
        }
        if let Some(open) = self.open.get_mut(&slot) {
            open.accepted_by.insert(from);
            self.choose_if_accepted(now_ms, slot, out);
        }
    }

    fn choose_if_accepted(&mut self, now_ms: Millis, slot: Slot, out: &mut Vec<PaxosEffect<C>>) {
        let accepted = self.open.get(&slot).map_or(0, |open| open.accepted_by.len());
        if accepted >= self.config.majority() {
            self.choose(now_ms, slot, out);
        }
    }

    /// A majority accepted the value in `slot`: it is chosen. Learn it and tell the learners.
    fn choose(&mut self, now_ms: Millis, slot: Slot, out: &mut Vec<PaxosEffect<C>>) {
        let Some(open) = self.open.get(&slot) else { return };
        self.recent_commits.insert(slot, now_ms);
        let value = open.value.clone();
        for peer in self.config.peers() {
            out.push(self.send(peer, PaxosMessage::Commit { slot, value: value.clone() }));
        }
        self.learn(slot, value, out);
    }

    fn on_heartbeat_timeout(&mut self, now_ms: Millis, out: &mut Vec<PaxosEffect<C>>) {
        if self.role != PaxosRole::Leader {
            return;
        }
        if !self.has_recent_quorum(now_ms) {
            out.push(PaxosEffect::Note(PaxosNote::LostQuorum { ballot: self.durable.promised }));
            self.follow(self.durable.promised, None, out);
            return;
        }
        let recent = now_ms.saturating_sub(self.config.heartbeat_ms);
        self.recent_commits.retain(|_, sent| *sent > recent);
        // Messages get lost: the open ACCEPTs that have waited a heartbeat interval go again to
        // whoever has not accepted them.
        let ballot = self.durable.promised;
        let overdue = now_ms.saturating_sub(self.config.heartbeat_ms);
        let mut resends: Vec<(NodeId, Slot, Payload<C>)> = Vec::new();
        for (slot, open) in self.open.iter_mut().filter(|(_, open)| open.sent_ms <= overdue) {
            open.sent_ms = now_ms;
            let peers = self.config.members.iter().filter(|peer| **peer != self.config.id);
            for peer in peers.filter(|peer| !open.accepted_by.contains(peer)) {
                resends.push((*peer, *slot, open.value.clone()));
            }
        }
        for (peer, slot, value) in resends {
            out.push(self.send(peer, PaxosMessage::Accept { ballot, slot, value }));
        }
        self.send_heartbeats(out);
        out.push(PaxosEffect::SetHeartbeatTimer { after_ms: self.config.heartbeat_ms });
    }

    fn send_heartbeats(&self, out: &mut Vec<PaxosEffect<C>>) {
        let (ballot, chosen_through) = (self.durable.promised, self.chosen_through());
        for peer in self.config.peers() {
            out.push(self.send(peer, PaxosMessage::Heartbeat { ballot, chosen_through }));
        }
    }

    fn on_heartbeat_reply(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        ballot: Ballot,
        ok: bool,
        chosen_through: Slot,
        out: &mut Vec<PaxosEffect<C>>,
    ) {
        if !self.counts_as_answer(now_ms, from, ballot, ok, out) {
            return;
        }
        // Fill in the follower's chosen prefix: the next few slots it has not learned, but for
        // those whose COMMIT went out less than a heartbeat interval ago.
        let recent = now_ms.saturating_sub(self.config.heartbeat_ms);
        let missing: Vec<(Slot, Payload<C>)> = self
            .durable
            .chosen
            .range(chosen_through + 1..)
            .take(self.config.max_slots_per_message)
            .filter(|(slot, _)| self.recent_commits.get(slot).is_none_or(|sent| *sent <= recent))
            .map(|(slot, value)| (*slot, value.clone()))
            .collect();
        for (slot, value) in missing {
            out.push(self.send(from, PaxosMessage::Commit { slot, value }));
        }
    }

    /// Whether a peer's answer counts for this leader: a refusal naming a higher ballot ends its
    /// leadership, and an answer in its own ballot renews its lease.
    fn counts_as_answer(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        ballot: Ballot,
        ok: bool,
        out: &mut Vec<PaxosEffect<C>>,
    ) -> bool {
        if !ok {
            if ballot > self.durable.promised {
                self.follow(ballot, None, out);
            }
            return false;
        }
        if self.role != PaxosRole::Leader || ballot != self.durable.promised {
            return false;
        }
        self.last_heard.insert(from, now_ms);
        true
    }

    /// The leader's lease: it keeps leading only while a majority (itself included) has answered
    /// within the last election timeout. A new leader gets one timeout of grace.
    fn has_recent_quorum(&self, now_ms: Millis) -> bool {
        let window = self.config.election_timeout_ms_min;
        if now_ms < self.leader_since_ms + window {
            return true;
        }
        let recent = self.last_heard.values().filter(|heard| now_ms < **heard + window).count();
        recent + 1 >= self.config.majority()
    }

    // Any role.

    /// Promises `ballot` (at least the one promised) and follows its owner, or nobody yet.
    fn follow(&mut self, ballot: Ballot, leader: Option<NodeId>, out: &mut Vec<PaxosEffect<C>>) {
        assert!(ballot >= self.durable.promised, "promises never go back");
        let changed = self.role != PaxosRole::Follower || ballot != self.durable.promised || leader != self.leader;
        self.durable.promised = ballot;
        self.role = PaxosRole::Follower;
        self.leader = leader;
        self.campaign = None;
        self.promises.clear();
        self.open.clear();
        self.recovering.clear();
        self.ready = false;
        self.last_heard.clear();
        self.recent_commits.clear();
        out.push(PaxosEffect::ResetElectionTimer);
        if changed {
            self.note_role(out);
        }
    }

    fn note_role(&self, out: &mut Vec<PaxosEffect<C>>) {
        out.push(PaxosEffect::Note(PaxosNote::Role { role: self.role, ballot: self.ballot() }));
    }

    fn send(&self, to: NodeId, message: PaxosMessage<C>) -> PaxosEffect<C> {
        PaxosEffect::Send { to, message }
    }
}

#[cfg(test)]
mod tests;
