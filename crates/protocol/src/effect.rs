//! What a node asks of the world around it, and the configuration it is built from.
//!
//! Event in, effects out: a handler never sends, writes or sleeps itself. It appends effects to an
//! output buffer and the world performs them. `Persist` is the one log abstraction both roles use
//! for their durable decisions: the world answers it with `on_persisted` once the record is
//! durable (a local WAL write today, an entry committed by a consensus group later).

use crate::ids::{AccountId, Endpoint, Millis, NodeId, RequestId, ShardId, TxnId};
use crate::message::{Decision, Message, Record, Seq, WriteMode};
use crate::paxos::{Ballot, PaxosNote};
use crate::phase::Phase;
use crate::raft::RaftNote;
use crate::vec_map::VecMap;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A timer a node (or the client) can set. Setting a timer again replaces it; a crash drops all.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Timer {
    /// Coordinator: stop waiting for votes and abort.
    VoteTimeout(TxnId),
    /// Coordinator: resend the decision to participants that have not acknowledged it.
    ResendDecision(TxnId),
    /// Participant in doubt: ask the coordinator for the outcome again.
    QueryDecision(TxnId),
    /// Client: no reply yet, send the same request again.
    ClientRetry(RequestId),
    /// Coordinator of a replicated group: send PREPARE again to participants that have not voted
    /// (the leader it went to may have crashed with it).
    ResendPrepare(TxnId),
    /// Saga orchestrator: send the step (or compensation) it waits on again.
    ResendStep(TxnId),
    /// Consensus: no leader heard from for a (random) election timeout.
    Election,
    /// Consensus: a leader's heartbeat (and check-quorum) period.
    Heartbeat,
}

impl Timer {
    /// True for the timers of the 2PC roles, which a replica drops when it stops leading.
    pub fn is_two_phase(self) -> bool {
        matches!(
            self,
            Timer::VoteTimeout(_)
                | Timer::ResendDecision(_)
                | Timer::QueryDecision(_)
                | Timer::ResendPrepare(_)
                | Timer::ResendStep(_)
        )
    }
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Timer::VoteTimeout(txn) => write!(f, "vote-timeout {txn}"),
            Timer::ResendDecision(txn) => write!(f, "resend-decision {txn}"),
            Timer::QueryDecision(txn) => write!(f, "query-decision {txn}"),
            Timer::ClientRetry(request) => write!(f, "client-retry {request}"),
            Timer::ResendPrepare(txn) => write!(f, "resend-prepare {txn}"),
            Timer::ResendStep(txn) => write!(f, "resend-step {txn}"),
            Timer::Election => f.write_str("election-timeout"),
            Timer::Heartbeat => f.write_str("heartbeat"),
        }
    }
}

/// Which role of a node a transaction row or a phase belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Coordinator,
    Participant,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Coordinator => "coordinator",
            Role::Participant => "participant",
        })
    }
}

/// Observable facts a handler reports so the trace can show them; they change nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Note {
    LockTaken {
        account: AccountId,
        txn: TxnId,
    },
    LockReleased {
        account: AccountId,
        txn: TxnId,
    },
    Phase {
        txn: TxnId,
        role: Role,
        phase: Phase,
    },
    Balance {
        account: AccountId,
        before: i64,
        after: i64,
    },
    /// A decision reached the client, which records it.
    ClientOutcome {
        request: RequestId,
        decision: Decision,
    },
    /// Consensus: a role change, a commit, a truncation, a proposal.
    Raft(RaftNote),
    Paxos(PaxosNote),
    /// A Multi-Paxos replica became the acting leader of its group: every slot its phase 1 found
    /// open is chosen and its 2PC roles are rebuilt from the chosen log.
    TookOverBallot {
        ballot: Ballot,
    },
    /// A replica became the acting leader of its group: its no-op is committed and its 2PC roles
    /// are rebuilt from the committed log.
    TookOver {
        term: u64,
    },
    /// A replica keeps a 2PC message until its group's leadership is settled (no leader known yet,
    /// or it leads but has not taken over).
    Held {
        message: String,
    },
    /// A participant with no record of a transaction got its COMMIT: it cannot have voted YES,
    /// so it refuses to acknowledge (revision 2).
    UnknownCommit {
        txn: TxnId,
    },
    /// A saga step's compensation cannot run yet (its account is locked, or taking the step back
    /// would overdraw it: the money was spent meanwhile); the orchestrator asks again.
    CompensationWaits {
        txn: TxnId,
        step: u32,
        /// A boxed string, not a `String`: every trace entry holds a `Note`'s room, and this keeps
        /// a `Note` at 32 bytes.
        reason: Box<str>,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::LockTaken { account, txn } => write!(f, "lock {account} taken by {txn}"),
            Note::LockReleased { account, txn } => write!(f, "lock {account} released by {txn}"),
            Note::Phase { txn, role, phase } => write!(f, "{txn} {role} {phase}"),
            Note::Balance { account, before, after } => {
                write!(f, "balance[{account}] {before} -> {after}")
            }
            Note::ClientOutcome { request, decision } => write!(f, "outcome {request} {decision}"),
            Note::Raft(note) => note.fmt(f),
            Note::Paxos(note) => note.fmt(f),
            Note::TookOverBallot { ballot } => {
                write!(f, "takes over as leader of ballot {ballot}: 2PC roles rebuilt from the chosen log")
            }
            Note::TookOver { term } => {
                write!(f, "takes over as leader of term {term}: 2PC roles rebuilt from the committed log")
            }
            Note::Held { message } => write!(f, "holds {message} until its group's leadership is settled"),
            Note::UnknownCommit { txn } => {
                write!(f, "refuses COMMIT {txn}: no record of {txn} here, it never voted YES; no ACK")
            }
            Note::CompensationWaits { txn, step, reason } => {
                write!(f, "cannot compensate {txn}/{step} yet: {reason}")
            }
        }
    }
}

/// What a handler asks the world to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Send {
        to: Endpoint,
        message: Message,
    },
    /// Make the record durable, then call `on_persisted` with it.
    Persist(Record),
    SetTimer {
        timer: Timer,
        after_ms: Millis,
    },
    CancelTimer(Timer),
    /// Drop every armed 2PC timer of this node (a replica that stopped leading).
    CancelTwoPhaseTimers,
    /// Arm the election timer with a timeout the world draws from its seeded PRNG.
    ResetElectionTimer,
    /// A replica applied the committed entry at `index` (a no-op has no record). The world checks
    /// that every replica of a group applies the same entries, and counts each once per group.
    /// Under Multi-Paxos `index` is the slot, `term` is 0 (a chosen value has no term) and `seq` is
    /// the transaction's sequence number.
    Applied {
        index: u64,
        term: u64,
        seq: Option<Seq>,
        record: Option<Record>,
    },
    Note(Note),
}

/// Timeouts of the protocol, in virtual milliseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// How long the coordinator waits for all votes before aborting.
    pub vote_ms: Millis,
    /// How often the coordinator resends an unacknowledged decision.
    pub resend_ms: Millis,
    /// How often an in-doubt participant asks the coordinator for the outcome.
    pub query_ms: Millis,
    /// How long the client waits for a reply before sending the same request again.
    pub client_retry_ms: Millis,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { vote_ms: 100, resend_ms: 60, query_ms: 150, client_retry_ms: 400 }
    }
}

/// Deliberate protocol bugs a teacher can switch on to show why each rule exists. All off is the
/// correct protocol; each one breaks a rule that a named invariant checks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bugs {
    /// A participant votes YES before its prepare record is durable.
    pub vote_before_wal: bool,
    /// The coordinator sends its decision before the decision record is durable.
    pub decide_before_log: bool,
    /// A participant prepares without checking or taking locks.
    pub ignore_locks: bool,
    /// The coordinator commits when the vote timeout fires instead of aborting.
    pub commit_on_vote_timeout: bool,
    /// The coordinator answers the client when it decides, before the decision is durable: after
    /// a crash it presumes abort and the client, told COMMIT, hears ABORT.
    #[serde(skip_serializing_if = "is_false")]
    pub reply_before_log: bool,
    /// Replicated mode: senders always use each group's configured leader and ignore hints
    /// (seed 002's bug to fix). Left out of the JSON while off, like the two below, so links made
    /// before these switches existed encode exactly as they did.
    #[serde(skip_serializing_if = "is_false")]
    pub static_leader: bool,
    /// Raft: grant votes without the up-to-date check.
    #[serde(skip_serializing_if = "is_false")]
    pub vote_without_log_check: bool,
    /// Raft: commit an entry of an older term by counting replicas (the Raft paper's figure 8).
    #[serde(skip_serializing_if = "is_false")]
    pub commit_old_term_by_count: bool,
    /// Multi-Paxos: the leader sends COMMIT before a majority accepted.
    #[serde(skip_serializing_if = "is_false")]
    pub commit_before_quorum: bool,
    /// Multi-Paxos: a decision overwrites the prepare's entry at its sequence number in place,
    /// without an ACCEPT round (seed 002's reuse of the sequence number, done unsafely).
    #[serde(skip_serializing_if = "is_false")]
    pub update_in_place: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// What a coordinator does on recovery with a transaction that has no logged decision.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum Recovery {
    /// A single node that restarts has lost the votes: it aborts (presumed abort).
    #[default]
    PresumeAbort,
    /// A new leader of a replicated coordinator group resumes: it sends PREPARE again and
    /// collects the votes anew (participants answer a repeated PREPARE with the same vote).
    Resume,
}

/// One shard's place in the partition map: its node and its account range. In the replicated
/// mode `node` is the address of the shard's group (its first replica); senders resolve it to the
/// current leader when they send.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ShardEntry {
    pub shard: ShardId,
    pub node: NodeId,
    pub first_account: AccountId,
    pub last_account: AccountId,
}

/// The partition map every coordinator uses to route work: accounts by id range.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Directory {
    pub shards: Vec<ShardEntry>,
}

impl Directory {
    pub fn shard_of(&self, account: AccountId) -> Option<&ShardEntry> {
        self.shards.iter().find(|entry| entry.first_account <= account && account <= entry.last_account)
    }

    pub fn entry(&self, shard: ShardId) -> Option<&ShardEntry> {
        self.shards.iter().find(|entry| entry.shard == shard)
    }
}

/// How a coordinator numbers its transactions so that ids stay unique when several nodes
/// coordinate: the k-th of `stride` coordinators uses first, first + stride, ...
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct TxnNumbering {
    pub first: u32,
    pub stride: u32,
}

/// Everything a node is built from. Shared (behind an `Arc`) by the node across crashes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeConfig {
    pub id: NodeId,
    /// The shard this node stores, if it is a participant.
    pub shard: Option<ShardId>,
    /// Present if this node coordinates transactions.
    pub coordinator: Option<TxnNumbering>,
    pub directory: Directory,
    /// The durable data image at time zero; the WAL is replayed over it on recovery.
    pub initial_balances: VecMap<AccountId, i64>,
    pub timeouts: Timeouts,
    pub bugs: Bugs,
    pub recovery: Recovery,
    pub revision: Revision,
    /// When a participant's writes reach its balances: in place at PREPARE, or deferred to COMMIT.
    pub writes: WriteMode,
}

/// The protocol revision a scenario runs. Fixes that change a run go behind a new revision, so a
/// link or file made before keeps its exact run (it reads as revision 1) while new scenarios get
/// the fix. The README lists what each revision changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(pub u32);

impl Revision {
    /// The protocol of every link and file made before revisions existed.
    pub const FIRST: Revision = Revision(1);
    /// What new scenarios run.
    pub const CURRENT: Revision = Revision(3);

    /// Revision 2: a co-located coordinator runs seed 002's phase 0 on a single node too: its own
    /// shard checks, locks and logs its part before PREPARE goes out, and a failed check sends
    /// no PREPARE at all.
    pub fn checks_locally_first(self) -> bool {
        self.0 >= 2
    }

    /// Revision 2: a participant with no record of a transaction refuses to acknowledge its
    /// COMMIT (it cannot have voted YES), instead of acknowledging what it never did.
    pub fn refuses_unknown_commit(self) -> bool {
        self.0 >= 2
    }

    /// Revision 2: a request id reused with another transfer is refused, not answered with the
    /// first transfer's result.
    pub fn refuses_reused_request(self) -> bool {
        self.0 >= 2
    }

    /// Revision 3: a coordinator that completed a transaction answers a late query about it with
    /// its decision, instead of presuming abort. A participant's query can arrive after the
    /// coordinator forgot (the answer it was waiting for overtook it): it changes nothing at a
    /// participant that already knows, but an ABORT sent for a committed transaction is a message
    /// no correct run of TwoPhase sends, and the explorer's refinement check finds it.
    pub fn answers_late_queries(self) -> bool {
        self.0 >= 3
    }
}

impl Default for Revision {
    fn default() -> Self {
        Revision::FIRST
    }
}
