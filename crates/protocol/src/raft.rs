//! Raft consensus as a pure state machine: event in, effects out, like the 2PC roles.
//!
//! One [`Raft`] is one replica of a group. It keeps the state the Raft paper's figure 2 calls
//! persistent (`term`, `voted_for`, the log) apart from the volatile state (role, commit index,
//! the leader's `next_index`/`match_index`), so a crash is modelled exactly: the world keeps
//! [`Durable`] and rebuilds the replica from it with [`Raft::restart`]. Durable writes happen as part
//! of the event that makes them, before any reply of that event leaves (the world performs effects
//! in order), so a vote or an acknowledged entry is never forgotten.
//!
//! The engine has no clock and no randomness. Time arrives with each event; the world draws the
//! randomized election timeout each time the engine asks for [`RaftEffect::ResetElectionTimer`].
//!
//! What it implements, by the paper's sections:
//! - **Elections (5.2, 5.4.1)**: RequestVote with the up-to-date check; one vote per term.
//! - **Log replication (5.3)**: AppendEntries with the consistency check on `(prev_log_index,
//!   prev_log_term)`; a conflicting suffix is truncated, matching entries are kept (a late,
//!   duplicated AppendEntries never removes what a newer one added).
//! - **Commit (5.4.2)**: a leader commits by counting replicas only for an entry of its own term;
//!   older entries commit with it. Each new leader appends a no-op entry of its term at once (8), so it
//!   learns what is committed without waiting for a client.
//! - **Pre-vote and check-quorum (9.6, the dissertation's 4.2.3 and 6.2)**: a replica first asks whether it
//!   could win before it raises its term, so one cut off by a partition does not depose a healthy
//!   leader when it returns; a replica that heard from a leader less than an election timeout ago
//!   refuses to vote (leader stickiness); a leader that has not heard from a majority for an election
//!   timeout steps down, so a leader in a minority stops acting as one and its clients look elsewhere.
//!
//! Two teaching bugs switch off one rule each, and the consensus invariants catch the result.

use crate::ids::{Millis, NodeId};
use crate::vec_map::{VecMap, VecSet};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A Raft term. Term 0 is before any election.
pub type Term = u64;
/// A position in the log, from 1. Index 0 is the empty prefix (term 0).
pub type LogIndex = u64;

/// What an entry carries: a no-op a new leader appends, or a command of the state machine.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Payload<C> {
    Noop,
    Command(C),
}

impl<C> Payload<C> {
    /// The command, unless this is a no-op.
    pub fn command(&self) -> Option<&C> {
        match self {
            Payload::Command(command) => Some(command),
            Payload::Noop => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry<C> {
    pub term: Term,
    pub payload: Payload<C>,
}

impl<C: fmt::Display> fmt::Display for Entry<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.payload {
            Payload::Noop => write!(f, "no-op@{}", self.term),
            Payload::Command(command) => write!(f, "{command}@{}", self.term),
        }
    }
}

/// The state that survives a crash: the Raft paper's persistent state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Durable<C> {
    pub term: Term,
    pub voted_for: Option<NodeId>,
    pub log: Vec<Entry<C>>,
}

impl<C> Default for Durable<C> {
    fn default() -> Self {
        Durable { term: 0, voted_for: None, log: Vec::new() }
    }
}

impl<C> Durable<C> {
    pub fn last_index(&self) -> LogIndex {
        self.log.len() as LogIndex
    }

    /// The term of the entry at `index`, 0 for index 0, `None` past the end.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == 0 {
            return Some(0);
        }
        self.log.get(index as usize - 1).map(|entry| entry.term)
    }

    pub fn entry(&self, index: LogIndex) -> Option<&Entry<C>> {
        index.checked_sub(1).and_then(|position| self.log.get(position as usize))
    }

    fn last_term(&self) -> Term {
        self.log.last().map_or(0, |entry| entry.term)
    }
}

/// Deliberate consensus bugs a teacher can switch on; each breaks a rule an invariant checks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftBugs {
    /// Grant votes without the up-to-date check (5.4.1): a replica missing committed entries can
    /// win an election and overwrite them. Caught by leader completeness.
    pub vote_without_log_check: bool,
    /// Commit an entry of an older term by counting replicas (the paper's figure 8): it can be
    /// overwritten after it was applied. Caught by state-machine safety.
    pub commit_old_term_by_count: bool,
}

/// How one replica is set up; shared by the replica across crashes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RaftConfig {
    pub id: NodeId,
    /// Every replica of the group, this one included, in id order.
    pub members: Vec<NodeId>,
    pub heartbeat_ms: Millis,
    /// The shortest election timeout: the leader lease of check-quorum and of leader stickiness.
    pub election_timeout_ms_min: Millis,
    /// At most this many entries travel in one AppendEntries.
    pub max_entries_per_message: usize,
    pub bugs: RaftBugs,
}

impl RaftConfig {
    fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.iter().copied().filter(move |member| *member != self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RaftMessage<C> {
    /// A (pre-)candidate asks for a vote. A pre-vote carries the term the candidate would take and
    /// changes nobody's term.
    RequestVote { term: Term, last_log_index: LogIndex, last_log_term: Term, pre_vote: bool },
    /// The answer. A granted pre-vote echoes the term asked for; otherwise the voter's term.
    Vote { term: Term, granted: bool, pre_vote: bool },
    /// The leader replicates entries after `prev_log_index` (none for a heartbeat).
    AppendEntries {
        term: Term,
        prev_log_index: LogIndex,
        prev_log_term: Term,
        entries: Vec<Entry<C>>,
        leader_commit: LogIndex,
    },
    /// Success: the follower's log matches the leader's up to `index`. Failure: it does not match
    /// at `prev_log_index`, and `index` is where the leader should try next (a hint).
    AppendReply { term: Term, success: bool, index: LogIndex },
}

impl<C> RaftMessage<C> {
    pub fn term(&self) -> Term {
        match self {
            RaftMessage::RequestVote { term, .. }
            | RaftMessage::Vote { term, .. }
            | RaftMessage::AppendEntries { term, .. }
            | RaftMessage::AppendReply { term, .. } => *term,
        }
    }

    /// The short kind name used by message filters (`"AppendEntries"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            RaftMessage::RequestVote { pre_vote: true, .. } => "PreVote",
            RaftMessage::RequestVote { pre_vote: false, .. } => "RequestVote",
            RaftMessage::Vote { pre_vote: true, .. } => "PreVoteReply",
            RaftMessage::Vote { pre_vote: false, .. } => "VoteReply",
            RaftMessage::AppendEntries { .. } => "AppendEntries",
            RaftMessage::AppendReply { .. } => "AppendReply",
        }
    }
}

/// Every Raft message kind a filter may name.
pub const RAFT_MESSAGE_KINDS: [&str; 6] =
    ["PreVote", "RequestVote", "PreVoteReply", "VoteReply", "AppendEntries", "AppendReply"];

impl<C: fmt::Display> fmt::Display for RaftMessage<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaftMessage::RequestVote { term, last_log_index, last_log_term, pre_vote } => {
                let name = if *pre_vote { "PreVote" } else { "RequestVote" };
                write!(f, "{name} term {term} last {last_log_index}@{last_log_term}")
            }
            RaftMessage::Vote { term, granted, pre_vote } => {
                let name = if *pre_vote { "PreVoteReply" } else { "VoteReply" };
                let answer = if *granted { "granted" } else { "refused" };
                write!(f, "{name} term {term} {answer}")
            }
            RaftMessage::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                write!(f, "AppendEntries term {term} prev {prev_log_index}@{prev_log_term}")?;
                if entries.is_empty() {
                    f.write_str(" heartbeat")?;
                } else {
                    f.write_str(" [")?;
                    for (offset, entry) in entries.iter().enumerate() {
                        if offset > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{}: {entry}", prev_log_index + 1 + offset as u64)?;
                    }
                    f.write_str("]")?;
                }
                write!(f, " commit {leader_commit}")
            }
            RaftMessage::AppendReply { term, success: true, index } => {
                write!(f, "AppendReply term {term} ok up to {index}")
            }
            RaftMessage::AppendReply { term, success: false, index } => {
                write!(f, "AppendReply term {term} mismatch, retry from {index}")
            }
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RaftRole {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

impl fmt::Display for RaftRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RaftRole::Follower => "follower",
            RaftRole::PreCandidate => "pre-candidate",
            RaftRole::Candidate => "candidate",
            RaftRole::Leader => "leader",
        })
    }
}

/// The engine's timers. The world arms them: the election timer with a random timeout of its own
/// drawing, the heartbeat timer with `heartbeat_ms`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RaftTimer {
    Election,
    Heartbeat,
}

/// Facts the engine reports for the trace; they change nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RaftNote {
    Role {
        role: RaftRole,
        term: Term,
    },
    /// A leader stepped down because it heard from no majority for an election timeout.
    LostQuorum {
        term: Term,
    },
    /// Entries from `from` on were removed because they conflicted with the leader's.
    Truncated {
        from: LogIndex,
    },
    /// The commit index moved to `index`.
    Committed {
        index: LogIndex,
    },
    /// The leader appended an entry of its own: a proposal, or the no-op of its term.
    Proposed {
        index: LogIndex,
        term: Term,
    },
}

impl fmt::Display for RaftNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaftNote::Role { role, term } => write!(f, "{role} in term {term}"),
            RaftNote::LostQuorum { term } => write!(f, "leader of term {term} lost its majority: steps down"),
            RaftNote::Truncated { from } => write!(f, "log truncated from {from}"),
            RaftNote::Committed { index } => write!(f, "commit index {index}"),
            RaftNote::Proposed { index, term } => write!(f, "proposed {index}@{term}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RaftEffect<C> {
    Send {
        to: NodeId,
        message: RaftMessage<C>,
    },
    /// Arm the election timer again with a fresh random timeout.
    ResetElectionTimer,
    SetHeartbeatTimer {
        after_ms: Millis,
    },
    Note(RaftNote),
}

/// A proposal made to a replica that is not the leader: where to go instead, if it knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct NotLeader {
    pub hint: Option<NodeId>,
}

/// The leader's view of one follower.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Progress {
    pub next_index: LogIndex,
    pub match_index: LogIndex,
    /// When this follower last answered the current leader (check-quorum).
    pub last_heard_ms: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Raft<C> {
    config: Arc<RaftConfig>,
    durable: Durable<C>,
    role: RaftRole,
    leader: Option<NodeId>,
    commit_index: LogIndex,
    applied_index: LogIndex,
    /// When this replica last heard from the leader of its term (leader stickiness).
    leader_heard_ms: Option<Millis>,
    /// Votes (or pre-votes) granted to this (pre-)candidate, itself included.
    votes: VecSet<NodeId>,
    /// Leader only: one entry per peer.
    progress: VecMap<NodeId, Progress>,
    leader_since_ms: Millis,
}

impl<C: Clone> Raft<C> {
    /// Builds a replica from its durable state (empty at first start) as a follower that knows
    /// nothing committed yet. Asks for its election timer.
    pub fn restart(config: Arc<RaftConfig>, durable: Durable<C>, out: &mut Vec<RaftEffect<C>>) -> Raft<C> {
        assert!(config.members.contains(&config.id), "a replica is a member of its group");
        out.push(RaftEffect::ResetElectionTimer);
        Raft {
            config,
            durable,
            role: RaftRole::Follower,
            leader: None,
            commit_index: 0,
            applied_index: 0,
            leader_heard_ms: None,
            votes: VecSet::new(),
            progress: VecMap::new(),
            leader_since_ms: 0,
        }
    }

    pub fn config(&self) -> &Arc<RaftConfig> {
        &self.config
    }

    pub fn id(&self) -> NodeId {
        self.config.id
    }

    pub fn durable(&self) -> &Durable<C> {
        &self.durable
    }

    pub fn term(&self) -> Term {
        self.durable.term
    }

    pub fn role(&self) -> RaftRole {
        self.role
    }

    /// The leader this replica believes in for its term (itself when leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    pub fn commit_index(&self) -> LogIndex {
        self.commit_index
    }

    pub fn applied_index(&self) -> LogIndex {
        self.applied_index
    }

    pub fn last_index(&self) -> LogIndex {
        self.durable.last_index()
    }

    pub fn progress(&self) -> &VecMap<NodeId, Progress> {
        &self.progress
    }

    pub fn votes(&self) -> &VecSet<NodeId> {
        &self.votes
    }

    /// The next committed entry not yet handed to the state machine, marking it applied.
    pub fn next_to_apply(&mut self) -> Option<(LogIndex, &Entry<C>)> {
        if self.applied_index >= self.commit_index {
            return None;
        }
        self.applied_index += 1;
        let index = self.applied_index;
        Some((index, self.durable.entry(index).expect("committed entries are in the log")))
    }

    /// Appends a command if this replica leads, and starts replicating it.
    pub fn propose(&mut self, now_ms: Millis, command: C, out: &mut Vec<RaftEffect<C>>) -> Result<LogIndex, NotLeader> {
        if self.role != RaftRole::Leader {
            return Err(NotLeader { hint: self.leader });
        }
        let index = self.append_own(Payload::Command(command), out);
        self.replicate_to_all(out);
        self.maybe_commit(now_ms, out);
        Ok(index)
    }

    pub fn on_timer(&mut self, now_ms: Millis, timer: RaftTimer, out: &mut Vec<RaftEffect<C>>) {
        match timer {
            RaftTimer::Election => self.on_election_timeout(now_ms, out),
            RaftTimer::Heartbeat => self.on_heartbeat_timeout(now_ms, out),
        }
    }

    fn on_election_timeout(&mut self, now_ms: Millis, out: &mut Vec<RaftEffect<C>>) {
        if self.role == RaftRole::Leader {
            return;
        }
        self.become_pre_candidate(now_ms, out);
    }

    fn on_heartbeat_timeout(&mut self, now_ms: Millis, out: &mut Vec<RaftEffect<C>>) {
        if self.role != RaftRole::Leader {
            return;
        }
        if !self.has_recent_quorum(now_ms) {
            out.push(RaftEffect::Note(RaftNote::LostQuorum { term: self.term() }));
            self.become_follower(self.term(), None, out);
            return;
        }
        self.replicate_to_all(out);
        out.push(RaftEffect::SetHeartbeatTimer { after_ms: self.config.heartbeat_ms });
    }

    /// Check-quorum: a leader keeps leading only while a majority (itself included) has answered
    /// within the last election timeout. A new leader gets one timeout of grace.
    fn has_recent_quorum(&self, now_ms: Millis) -> bool {
        let window = self.config.election_timeout_ms_min;
        if now_ms < self.leader_since_ms + window {
            return true;
        }
        let recent = self.progress.values().filter(|progress| now_ms < progress.last_heard_ms + window).count();
        recent + 1 >= self.config.majority()
    }

    pub fn on_message(&mut self, now_ms: Millis, from: NodeId, message: RaftMessage<C>, out: &mut Vec<RaftEffect<C>>) {
        if !self.config.members.contains(&from) || from == self.id() {
            return;
        }
        match message {
            RaftMessage::RequestVote { term, last_log_index, last_log_term, pre_vote } => {
                self.on_request_vote(now_ms, from, term, (last_log_index, last_log_term), pre_vote, out)
            }
            RaftMessage::Vote { term, granted, pre_vote } => self.on_vote(now_ms, from, term, granted, pre_vote, out),
            RaftMessage::AppendEntries { term, prev_log_index, prev_log_term, entries, leader_commit } => {
                self.on_append_entries(now_ms, from, term, (prev_log_index, prev_log_term), entries, leader_commit, out)
            }
            RaftMessage::AppendReply { term, success, index } => {
                self.on_append_reply(now_ms, from, term, success, index, out)
            }
        }
    }

    fn on_request_vote(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        term: Term,
        (last_log_index, last_log_term): (LogIndex, Term),
        pre_vote: bool,
        out: &mut Vec<RaftEffect<C>>,
    ) {
        if self.in_lease(now_ms, from) || term < self.term() || (pre_vote && term == self.term()) {
            out.push(self.send(from, RaftMessage::Vote { term: self.term(), granted: false, pre_vote }));
            return;
        }
        let up_to_date = self.config.bugs.vote_without_log_check
            || (last_log_term, last_log_index) >= (self.durable.last_term(), self.durable.last_index());
        if pre_vote {
            // A granted pre-vote echoes the term asked for; a refusal tells the voter's own term,
            // which never raises the pre-candidate's (it is lower than the one asked for).
            let reply_term = if up_to_date { term } else { self.term() };
            out.push(self.send(from, RaftMessage::Vote { term: reply_term, granted: up_to_date, pre_vote: true }));
            return;
        }
        if term > self.term() {
            self.become_follower(term, None, out);
        }
        let free = self.durable.voted_for.is_none_or(|voted| voted == from);
        let granted = free && up_to_date;
        if granted {
            self.durable.voted_for = Some(from);
            out.push(RaftEffect::ResetElectionTimer);
        }
        out.push(self.send(from, RaftMessage::Vote { term: self.term(), granted, pre_vote: false }));
    }

    /// Leader stickiness: while a leader is heard from (or, for a leader, while it hears from a
    /// majority), nobody is elected past it.
    fn in_lease(&self, now_ms: Millis, candidate: NodeId) -> bool {
        match self.role {
            RaftRole::Leader => self.has_recent_quorum(now_ms),
            RaftRole::Follower => {
                self.leader.is_some_and(|leader| leader != candidate)
                    && self.leader_heard_ms.is_some_and(|heard| now_ms < heard + self.config.election_timeout_ms_min)
            }
            RaftRole::PreCandidate | RaftRole::Candidate => false,
        }
    }

    fn on_vote(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        term: Term,
        granted: bool,
        pre_vote: bool,
        out: &mut Vec<RaftEffect<C>>,
    ) {
        if !granted {
            if term > self.term() {
                self.become_follower(term, None, out);
            }
            return;
        }
        let counts = match self.role {
            RaftRole::PreCandidate => pre_vote && term == self.term() + 1,
            RaftRole::Candidate => !pre_vote && term == self.term(),
            RaftRole::Follower | RaftRole::Leader => false,
        };
        if !counts {
            return;
        }
        self.votes.insert(from);
        if self.votes.len() >= self.config.majority() {
            match self.role {
                RaftRole::PreCandidate => self.become_candidate(now_ms, out),
                RaftRole::Candidate => self.become_leader(now_ms, out),
                RaftRole::Follower | RaftRole::Leader => unreachable!("only candidates count votes"),
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_append_entries(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        term: Term,
        (prev_log_index, prev_log_term): (LogIndex, Term),
        entries: Vec<Entry<C>>,
        leader_commit: LogIndex,
        out: &mut Vec<RaftEffect<C>>,
    ) {
        if term < self.term() {
            out.push(self.send(from, RaftMessage::AppendReply { term: self.term(), success: false, index: 0 }));
            return;
        }
        if term > self.term() || self.role != RaftRole::Follower || self.leader != Some(from) {
            self.become_follower(term, Some(from), out);
        } else {
            out.push(RaftEffect::ResetElectionTimer);
        }
        self.leader_heard_ms = Some(now_ms);
        match self.durable.term_at(prev_log_index) {
            None => {
                let index = self.durable.last_index() + 1;
                out.push(self.send(from, RaftMessage::AppendReply { term, success: false, index }));
                return;
            }
            Some(found) if found != prev_log_term => {
                let index = self.first_index_of_term_at(prev_log_index);
                out.push(self.send(from, RaftMessage::AppendReply { term, success: false, index }));
                return;
            }
            Some(_) => {}
        }
        let matched = prev_log_index + entries.len() as LogIndex;
        self.store(prev_log_index, entries, out);
        let commit = leader_commit.min(matched);
        if commit > self.commit_index {
            self.commit_index = commit;
            out.push(RaftEffect::Note(RaftNote::Committed { index: commit }));
        }
        out.push(self.send(from, RaftMessage::AppendReply { term, success: true, index: matched }));
    }

    /// Where a leader should retry after a mismatch at `index`: the first entry of the conflicting
    /// term here, so a whole stale term is skipped in one round trip.
    fn first_index_of_term_at(&self, index: LogIndex) -> LogIndex {
        let conflicting = self.durable.term_at(index);
        let mut first = index;
        while first > self.commit_index + 1 && self.durable.term_at(first - 1) == conflicting {
            first -= 1;
        }
        first.max(1)
    }

    /// Stores entries that follow `prev_log_index`: keeps those already here with the same term,
    /// truncates at the first conflict, appends the rest.
    fn store(&mut self, prev_log_index: LogIndex, entries: Vec<Entry<C>>, out: &mut Vec<RaftEffect<C>>) {
        for (offset, entry) in entries.into_iter().enumerate() {
            let index = prev_log_index + 1 + offset as LogIndex;
            match self.durable.term_at(index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    // Only ever uncommitted entries, unless a teaching bug let a stale leader win:
                    // then the consensus invariants report it, and the indexes stay in the log.
                    self.durable.log.truncate(index as usize - 1);
                    self.commit_index = self.commit_index.min(index - 1);
                    self.applied_index = self.applied_index.min(index - 1);
                    out.push(RaftEffect::Note(RaftNote::Truncated { from: index }));
                    self.durable.log.push(entry);
                }
                None => self.durable.log.push(entry),
            }
        }
    }

    fn on_append_reply(
        &mut self,
        now_ms: Millis,
        from: NodeId,
        term: Term,
        success: bool,
        index: LogIndex,
        out: &mut Vec<RaftEffect<C>>,
    ) {
        if term > self.term() {
            self.become_follower(term, None, out);
            return;
        }
        if self.role != RaftRole::Leader || term < self.term() {
            return;
        }
        let last_index = self.durable.last_index();
        let progress = self.progress.get_mut(&from).expect("a leader tracks every peer");
        progress.last_heard_ms = now_ms;
        if success {
            progress.match_index = progress.match_index.max(index);
            progress.next_index = progress.next_index.max(index + 1);
            self.maybe_commit(now_ms, out);
        } else {
            // Never below what is known to match, never past the end.
            progress.next_index = index.clamp(progress.match_index + 1, last_index + 1);
            self.replicate_to(from, out);
        }
    }

    /// Advances the commit index to the highest entry a majority stores, counting only entries of
    /// the leader's own term (unless the figure 8 bug is on).
    fn maybe_commit(&mut self, _now_ms: Millis, out: &mut Vec<RaftEffect<C>>) {
        let mut matches: Vec<LogIndex> = self.progress.values().map(|progress| progress.match_index).collect();
        matches.push(self.durable.last_index());
        // The majority-th highest match: the highest index at least a majority stores (3 or 5
        // replicas, so counting beats sorting, and keeps a sort out of the wasm).
        let majority = self.config.majority();
        let stored_by_majority = matches
            .iter()
            .copied()
            .filter(|candidate| matches.iter().filter(|index| *index >= candidate).count() >= majority)
            .max()
            .expect("the leader's own index is stored by a majority if any is");
        let mut candidate = stored_by_majority;
        while candidate > self.commit_index {
            let term = self.durable.term_at(candidate).expect("a majority stores it, the leader too");
            if term == self.term() || self.config.bugs.commit_old_term_by_count {
                self.commit_index = candidate;
                out.push(RaftEffect::Note(RaftNote::Committed { index: candidate }));
                return;
            }
            candidate -= 1;
        }
    }

    fn replicate_to_all(&mut self, out: &mut Vec<RaftEffect<C>>) {
        let peers: Vec<NodeId> = self.config.peers().collect();
        for peer in peers {
            self.replicate_to(peer, out);
        }
    }

    /// Sends the entries the peer is missing from `next_index` on (a heartbeat if none), and
    /// optimistically assumes they arrive: a loss shows up as a mismatch on the next heartbeat.
    fn replicate_to(&mut self, peer: NodeId, out: &mut Vec<RaftEffect<C>>) {
        let progress = self.progress.get_mut(&peer).expect("a leader tracks every peer");
        let prev_log_index = progress.next_index - 1;
        let prev_log_term = self.durable.term_at(prev_log_index).expect("next_index is at most last + 1");
        let end = self.durable.last_index().min(prev_log_index + self.config.max_entries_per_message as LogIndex);
        let entries = self.durable.log[prev_log_index as usize..end as usize].to_vec();
        progress.next_index = end + 1;
        let message = RaftMessage::AppendEntries {
            term: self.durable.term,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
        };
        out.push(self.send(peer, message));
    }

    fn append_own(&mut self, payload: Payload<C>, out: &mut Vec<RaftEffect<C>>) -> LogIndex {
        self.durable.log.push(Entry { term: self.durable.term, payload });
        let index = self.durable.last_index();
        out.push(RaftEffect::Note(RaftNote::Proposed { index, term: self.durable.term }));
        index
    }

    fn send(&self, to: NodeId, message: RaftMessage<C>) -> RaftEffect<C> {
        RaftEffect::Send { to, message }
    }

    fn note_role(&self, out: &mut Vec<RaftEffect<C>>) {
        out.push(RaftEffect::Note(RaftNote::Role { role: self.role, term: self.term() }));
    }

    /// Any role may fall back to follower; a higher term also clears the vote.
    fn become_follower(&mut self, term: Term, leader: Option<NodeId>, out: &mut Vec<RaftEffect<C>>) {
        assert!(term >= self.term(), "terms never go back");
        let changed = self.role != RaftRole::Follower || term > self.term() || leader != self.leader;
        if term > self.term() {
            self.durable.term = term;
            self.durable.voted_for = None;
        }
        self.role = RaftRole::Follower;
        self.leader = leader;
        self.votes.clear();
        self.progress.clear();
        out.push(RaftEffect::ResetElectionTimer);
        if changed {
            self.note_role(out);
        }
    }

    /// Pre-vote: ask whether an election could be won before raising the term.
    fn become_pre_candidate(&mut self, now_ms: Millis, out: &mut Vec<RaftEffect<C>>) {
        assert_ne!(self.role, RaftRole::Leader, "a leader does not campaign");
        self.role = RaftRole::PreCandidate;
        self.leader = None;
        self.leader_heard_ms = None;
        self.votes = VecSet::from([self.id()]);
        self.note_role(out);
        out.push(RaftEffect::ResetElectionTimer);
        if self.votes.len() >= self.config.majority() {
            self.become_candidate(now_ms, out);
            return;
        }
        self.request_votes(self.term() + 1, true, out);
    }

    fn become_candidate(&mut self, now_ms: Millis, out: &mut Vec<RaftEffect<C>>) {
        assert_eq!(self.role, RaftRole::PreCandidate, "a candidate has won its pre-vote first");
        self.role = RaftRole::Candidate;
        self.durable.term += 1;
        self.durable.voted_for = Some(self.id());
        self.votes = VecSet::from([self.id()]);
        self.note_role(out);
        out.push(RaftEffect::ResetElectionTimer);
        if self.votes.len() >= self.config.majority() {
            self.become_leader(now_ms, out);
            return;
        }
        self.request_votes(self.term(), false, out);
    }

    fn request_votes(&self, term: Term, pre_vote: bool, out: &mut Vec<RaftEffect<C>>) {
        for peer in self.config.peers() {
            let message = RaftMessage::RequestVote {
                term,
                last_log_index: self.durable.last_index(),
                last_log_term: self.durable.last_term(),
                pre_vote,
            };
            out.push(self.send(peer, message));
        }
    }

    /// Won the election: append the no-op of this term and start replicating.
    fn become_leader(&mut self, now_ms: Millis, out: &mut Vec<RaftEffect<C>>) {
        assert_eq!(self.role, RaftRole::Candidate, "only a candidate is elected");
        self.role = RaftRole::Leader;
        self.leader = Some(self.id());
        self.leader_since_ms = now_ms;
        self.votes.clear();
        let next_index = self.durable.last_index() + 1;
        self.progress = self
            .config
            .peers()
            .map(|peer| (peer, Progress { next_index, match_index: 0, last_heard_ms: now_ms }))
            .collect();
        self.note_role(out);
        self.append_own(Payload::Noop, out);
        self.replicate_to_all(out);
        self.maybe_commit(now_ms, out);
        out.push(RaftEffect::SetHeartbeatTimer { after_ms: self.config.heartbeat_ms });
    }
}

#[cfg(test)]
mod tests;
