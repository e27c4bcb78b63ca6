//! Messages on the simulated bus and durable log records, with their one canonical description.
//!
//! The names follow the seeds: the client's TransactionRequest, the coordinator's PREPARE, the
//! participants' YES/NO votes, the decision (COMMIT or ABORT), the ACK, and a participant's query
//! for an outcome it is in doubt about. Log records are seed 000's `Prepared(t1, p1, p2)`,
//! `Commit(t1)`, `Aborted(t1)`, `Completed(t1)` on the coordinator, and on a participant its prepare
//! record and its outcome record. The prepare record is an undo record when writes are made in
//! place (seed 002's `twoPCWAL[t][1001] = 100`) and a redo record when they are deferred until
//! COMMIT (seed 004's "resources are locked but not changed").

use crate::ids::{AccountId, Millis, NodeId, RequestId, ShardId, TxnId};
use crate::paxos::{PaxosMessage, PAXOS_MESSAGE_KINDS};
use crate::raft::{RaftMessage, RAFT_MESSAGE_KINDS};
use crate::vec_map::VecMap;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Move `amount` from one account to another.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transfer {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: u64,
}

impl fmt::Display for Transfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{}:{}", self.from, self.to, self.amount)
    }
}

/// What the client asks for: transfers, and optionally shards that must durably journal the
/// transaction (seed 004's "log the transfer on database 3").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxnSpec {
    pub transfers: Vec<Transfer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journal: Vec<ShardId>,
    /// Run it as a saga (seed 004's alternative): one local transaction per participant in turn,
    /// compensated in reverse order when a step fails, instead of two-phase commit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub saga: bool,
}

impl fmt::Display for TxnSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, transfer) in self.transfers.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            transfer.fmt(f)?;
        }
        for shard in &self.journal {
            write!(f, " +journal {shard}")?;
        }
        if self.saga {
            f.write_str(" as saga")?;
        }
        Ok(())
    }
}

/// The part of a transaction one participant executes: balance changes on its accounts and
/// optionally a journal line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Work {
    pub deltas: Vec<(AccountId, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
}

/// A transaction's work by participant, in participant order: what the coordinator plans, keeps
/// in its table and logs in `Prepared(t)`. One shared (reference-counted) list serves all three,
/// so logging the plan copies nothing, and a log of thousands of transactions holds one small
/// list each. Serialized as a map from participant to work.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Plan(Option<Arc<[(NodeId, Work)]>>);

impl Plan {
    /// The plan of `parts`, which name each participant once, in order.
    pub fn new(parts: Vec<(NodeId, Work)>) -> Plan {
        assert!(parts.windows(2).all(|pair| pair[0].0 < pair[1].0), "a plan names each participant once, in order");
        Plan((!parts.is_empty()).then(|| parts.into()))
    }

    fn parts(&self) -> &[(NodeId, Work)] {
        self.0.as_deref().unwrap_or(&[])
    }

    /// The work of `participant`, if it has any.
    pub fn get(&self, participant: &NodeId) -> Option<&Work> {
        let parts = self.parts();
        parts.binary_search_by_key(participant, |(node, _)| *node).ok().map(|position| &parts[position].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &Work)> {
        self.parts().iter().map(|(node, work)| (node, work))
    }

    /// The participants, in order.
    pub fn keys(&self) -> impl Iterator<Item = &NodeId> {
        self.parts().iter().map(|(node, _)| node)
    }

    pub fn len(&self) -> usize {
        self.parts().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl<'a> IntoIterator for &'a Plan {
    type Item = (&'a NodeId, &'a Work);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (NodeId, Work)>, fn(&'a (NodeId, Work)) -> (&'a NodeId, &'a Work)>;

    fn into_iter(self) -> Self::IntoIter {
        self.parts().iter().map(|(node, work)| (node, work))
    }
}

impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Plan, D::Error> {
        let parts = VecMap::<NodeId, Work>::deserialize(deserializer)?;
        Ok(Plan::new(parts.into_iter().collect()))
    }
}

/// The outcome of a transaction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Decision {
    Commit,
    Abort,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Commit => "COMMIT",
            Decision::Abort => "ABORT",
        })
    }
}

/// Everything that travels between the client and the nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Message {
    /// Client to coordinator: run this transaction. Retries keep the request id.
    Request { request: RequestId, spec: TxnSpec },
    /// Coordinator to client: the outcome, with the reason for an abort.
    Reply { request: RequestId, txn: Option<TxnId>, decision: Decision, reason: Option<Arc<str>> },
    /// Coordinator to client: this request id already names another transfer; nothing ran
    /// (revision 2). Not an outcome: the first transfer's outcome stands.
    Refused { request: RequestId, reason: String },
    /// Coordinator to participant, phase 1: can you commit this work?
    Prepare { txn: TxnId, work: Work },
    /// Participant to coordinator: YES ("I can commit if asked") or NO with the reason.
    Vote { txn: TxnId, yes: bool, reason: Option<String> },
    /// Coordinator to participant, phase 2: the decision (also the answer to a query).
    Decide { txn: TxnId, decision: Decision },
    /// Participant to coordinator: the decision is applied and durable.
    Ack { txn: TxnId },
    /// In-doubt participant to coordinator: what was decided for this transaction?
    Query { txn: TxnId },
    /// Saga orchestrator to participant: run step `step` (numbered from 1) of saga `txn` as a
    /// local transaction that commits at once.
    Step { txn: TxnId, step: u32, work: Work },
    /// Participant to orchestrator: the step committed locally (`ok`), or was refused, with the
    /// reason; either way the answer is durable.
    StepDone { txn: TxnId, step: u32, ok: bool, reason: Option<String> },
    /// Orchestrator to participant: undo step `step` with its compensating local transaction.
    Compensate { txn: TxnId, step: u32 },
    /// Participant to orchestrator: the compensation of step `step` is durable.
    Compensated { txn: TxnId, step: u32 },
    /// Consensus traffic between the replicas of one group.
    Raft(RaftMessage<Record>),
    /// Multi-Paxos traffic between the replicas of one group: each value is a record stamped with
    /// its transaction's sequence number (seed 002's ACCEPT seq 100 phase P).
    Paxos(PaxosMessage<Stamped>),
    /// A replica that does not lead its group sends a 2PC message back to its sender, naming the
    /// leader it knows of, if any (seed 002's bug to fix: find the leader, do not assume it).
    NotLeader { hint: Option<NodeId>, bounced: Box<Message> },
}

impl Message {
    /// The short kind name used by message filters in scenarios (`"Prepare"`, `"Commit"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Request { .. } => "Request",
            Message::Reply { .. } => "Reply",
            Message::Refused { .. } => "Refused",
            Message::Prepare { .. } => "Prepare",
            Message::Vote { yes: true, .. } => "VoteYes",
            Message::Vote { yes: false, .. } => "VoteNo",
            Message::Decide { decision: Decision::Commit, .. } => "Commit",
            Message::Decide { decision: Decision::Abort, .. } => "Abort",
            Message::Ack { .. } => "Ack",
            Message::Query { .. } => "Query",
            Message::Step { .. } => "Step",
            Message::StepDone { ok: true, .. } => "StepOk",
            Message::StepDone { ok: false, .. } => "StepFailed",
            Message::Compensate { .. } => "Compensate",
            Message::Compensated { .. } => "Compensated",
            Message::Raft(message) => message.kind(),
            Message::Paxos(message) => message.kind(),
            Message::NotLeader { .. } => "NotLeader",
        }
    }

    /// The transaction this message is about, when it names one.
    pub fn txn(&self) -> Option<TxnId> {
        match self {
            Message::Request { .. } | Message::Refused { .. } => None,
            Message::Reply { txn, .. } => *txn,
            Message::Prepare { txn, .. }
            | Message::Vote { txn, .. }
            | Message::Decide { txn, .. }
            | Message::Ack { txn }
            | Message::Query { txn }
            | Message::Step { txn, .. }
            | Message::StepDone { txn, .. }
            | Message::Compensate { txn, .. }
            | Message::Compensated { txn, .. } => Some(*txn),
            Message::Raft(_) | Message::Paxos(_) => None,
            Message::NotLeader { bounced, .. } => bounced.txn(),
        }
    }

    /// True for the 2PC messages their sender waits on an answer to: a silent group is then
    /// presumed to have lost its leader.
    pub fn expects_answer(&self) -> bool {
        matches!(
            self,
            Message::Request { .. }
                | Message::Prepare { .. }
                | Message::Decide { .. }
                | Message::Query { .. }
                | Message::Step { .. }
                | Message::Compensate { .. }
        )
    }

    /// True for the messages of two-phase commit itself (not consensus, not routing).
    pub fn is_two_phase(&self) -> bool {
        !matches!(self, Message::Raft(_) | Message::Paxos(_) | Message::NotLeader { .. })
    }
}

/// Every message kind a filter may name.
pub const MESSAGE_KINDS: [&str; 29] = [
    "Request",
    "Reply",
    "Refused",
    "Prepare",
    "VoteYes",
    "VoteNo",
    "Commit",
    "Abort",
    "Ack",
    "Query",
    "Step",
    "StepOk",
    "StepFailed",
    "Compensate",
    "Compensated",
    "NotLeader",
    RAFT_MESSAGE_KINDS[0],
    RAFT_MESSAGE_KINDS[1],
    RAFT_MESSAGE_KINDS[2],
    RAFT_MESSAGE_KINDS[3],
    RAFT_MESSAGE_KINDS[4],
    RAFT_MESSAGE_KINDS[5],
    PAXOS_MESSAGE_KINDS[0],
    PAXOS_MESSAGE_KINDS[1],
    PAXOS_MESSAGE_KINDS[2],
    PAXOS_MESSAGE_KINDS[3],
    PAXOS_MESSAGE_KINDS[4],
    PAXOS_MESSAGE_KINDS[5],
    PAXOS_MESSAGE_KINDS[6],
];

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Request { request, spec } => write!(f, "Request {request} {spec}"),
            Message::Refused { request, reason } => write!(f, "Refused {request} ({reason})"),
            Message::Reply { request, txn, decision, reason } => {
                write!(f, "Reply {request}")?;
                if let Some(txn) = txn {
                    write!(f, " {txn}")?;
                }
                let word = match decision {
                    Decision::Commit => "committed",
                    Decision::Abort => "aborted",
                };
                write!(f, " {word}")?;
                if let Some(reason) = reason {
                    write!(f, " ({reason})")?;
                }
                Ok(())
            }
            Message::Prepare { txn, .. } => write!(f, "Prepare {txn}"),
            Message::Vote { txn, yes: true, .. } => write!(f, "Vote {txn} YES"),
            Message::Vote { txn, yes: false, reason } => {
                write!(f, "Vote {txn} NO")?;
                if let Some(reason) = reason {
                    write!(f, " ({reason})")?;
                }
                Ok(())
            }
            Message::Decide { txn, decision: Decision::Commit } => write!(f, "Commit {txn}"),
            Message::Decide { txn, decision: Decision::Abort } => write!(f, "Abort {txn}"),
            Message::Ack { txn } => write!(f, "Ack {txn}"),
            Message::Query { txn } => write!(f, "Query {txn}"),
            Message::Step { txn, step, .. } => write!(f, "Step {txn}/{step}"),
            Message::StepDone { txn, step, ok: true, .. } => write!(f, "Step {txn}/{step} OK"),
            Message::StepDone { txn, step, ok: false, reason } => {
                write!(f, "Step {txn}/{step} FAILED")?;
                if let Some(reason) = reason {
                    write!(f, " ({reason})")?;
                }
                Ok(())
            }
            Message::Compensate { txn, step } => write!(f, "Compensate {txn}/{step}"),
            Message::Compensated { txn, step } => write!(f, "Compensated {txn}/{step}"),
            Message::Raft(message) => message.fmt(f),
            Message::Paxos(message) => message.fmt(f),
            Message::NotLeader { hint: Some(leader), bounced } => {
                write!(f, "NotLeader (leader {leader}) for {bounced}")
            }
            Message::NotLeader { hint: None, bounced } => write!(f, "NotLeader (leader unknown) for {bounced}"),
        }
    }
}

/// One account's change inside a prepared transaction: the undo image (`before`) and the redo
/// image (`after`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Write {
    pub account: AccountId,
    pub before: i64,
    pub after: i64,
}

/// When a participant's writes reach its balances: the two ways seeds 002 and 004 describe.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Seed 002: PREPARE changes the balances in place and logs the undo images (`before`); COMMIT
    /// keeps the changes, ABORT restores the undo images.
    #[default]
    InPlace,
    /// Seed 004: PREPARE locks but changes nothing and logs a redo record (the `after` images);
    /// COMMIT applies them, ABORT has nothing to undo and only releases the locks.
    Deferred,
}

impl std::str::FromStr for WriteMode {
    type Err = String;

    /// The scenario's spelling; anything else is refused with both values and what they mean.
    fn from_str(text: &str) -> Result<WriteMode, String> {
        match text {
            "in_place" => Ok(WriteMode::InPlace),
            "deferred" => Ok(WriteMode::Deferred),
            other => Err(format!(
                "`{other}` is not a write mode: use \"in_place\" (change balances at PREPARE, undo images in the WAL) or \"deferred\" (lock at PREPARE, apply a redo record at COMMIT)"
            )),
        }
    }
}

impl WriteMode {
    pub fn is_in_place(&self) -> bool {
        *self == WriteMode::InPlace
    }

    /// The scenario's spelling: `in_place` or `deferred`.
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::InPlace => "in_place",
            WriteMode::Deferred => "deferred",
        }
    }
}

/// A durable log record. Coordinator and participant records share one log per node (a node
/// can play both roles, as in seed 002), so each names its role.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Record {
    /// Coordinator: transaction `txn` for client `request` involves these participants, each with
    /// its work, so that a new leader of a coordinator group can send PREPARE again and resume.
    Prepared {
        txn: TxnId,
        request: RequestId,
        participants: Arc<[NodeId]>,
        #[serde(default, skip_serializing_if = "Plan::is_empty")]
        work: Plan,
    },
    /// Coordinator: the decision. `Commit` is the point of no return.
    Decided { txn: TxnId, decision: Decision, reason: Option<Arc<str>> },
    /// Coordinator: every participant acknowledged; the transaction may be forgotten.
    Completed { txn: TxnId },
    /// Participant: locks taken, written before voting YES. In place (`mode` left out of the
    /// JSON) the changes are made and this is the undo record; deferred, nothing is changed yet
    /// and this is the redo record COMMIT applies. `at_ms` is when it was written, so a restarted
    /// participant knows how long it has been in doubt.
    PrepareVote {
        txn: TxnId,
        coordinator: NodeId,
        writes: Vec<Write>,
        journal: Option<String>,
        at_ms: Millis,
        #[serde(default, skip_serializing_if = "WriteMode::is_in_place")]
        mode: WriteMode,
    },
    /// Participant: the decision applied locally.
    Outcome { txn: TxnId, decision: Decision },
    /// Saga orchestrator: saga `txn` for client `request`, with its steps in the order they run
    /// (the saga log's first record; a restarted orchestrator resumes from it).
    SagaBegun { txn: TxnId, request: RequestId, steps: Vec<SagaStep> },
    /// Saga orchestrator: step `step` answered: done, or refused with the reason (then the saga
    /// compensates the steps done, in reverse order).
    SagaStepDone { txn: TxnId, step: u32, ok: bool, reason: Option<String> },
    /// Saga orchestrator: step `step` is compensated.
    SagaCompensated { txn: TxnId, step: u32 },
    /// Saga orchestrator: the saga is over: COMMIT when every step is done, ABORT once every step
    /// done is compensated. The client hears the outcome once this is durable.
    SagaEnded { txn: TxnId, decision: Decision, reason: Option<String> },
    /// Participant: a saga step applied and committed locally, with its before and after images
    /// (and the journal line it wrote).
    StepApplied {
        txn: TxnId,
        step: u32,
        writes: Vec<Write>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        journal: Option<String>,
    },
    /// Participant: a saga step refused; nothing changed.
    StepRefused { txn: TxnId, step: u32, reason: String },
    /// Participant: a step's compensation applied and committed locally: the step's changes taken
    /// back as deltas (others may have changed the accounts since), and its journal line removed.
    StepCompensated { txn: TxnId, step: u32, writes: Vec<Write> },
}

/// One step of a saga: the work one participant does as a local transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SagaStep {
    pub node: NodeId,
    pub work: Work,
}

impl Record {
    pub fn txn(&self) -> TxnId {
        match self {
            Record::Prepared { txn, .. }
            | Record::Decided { txn, .. }
            | Record::Completed { txn }
            | Record::PrepareVote { txn, .. }
            | Record::Outcome { txn, .. }
            | Record::SagaBegun { txn, .. }
            | Record::SagaStepDone { txn, .. }
            | Record::SagaCompensated { txn, .. }
            | Record::SagaEnded { txn, .. }
            | Record::StepApplied { txn, .. }
            | Record::StepRefused { txn, .. }
            | Record::StepCompensated { txn, .. } => *txn,
        }
    }

    /// True for the records written by the coordinator role (a saga's orchestrator included).
    pub fn is_coordinator_record(&self) -> bool {
        matches!(
            self,
            Record::Prepared { .. }
                | Record::Decided { .. }
                | Record::Completed { .. }
                | Record::SagaBegun { .. }
                | Record::SagaStepDone { .. }
                | Record::SagaCompensated { .. }
                | Record::SagaEnded { .. }
        )
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Record::Prepared { txn, participants, .. } => {
                write!(f, "Prepared({txn}")?;
                for participant in participants.iter() {
                    write!(f, ", {participant}")?;
                }
                f.write_str(")")
            }
            Record::Decided { txn, decision: Decision::Commit, .. } => write!(f, "Commit({txn})"),
            Record::Decided { txn, decision: Decision::Abort, .. } => write!(f, "Aborted({txn})"),
            Record::Completed { txn } => write!(f, "Completed({txn})"),
            Record::PrepareVote { txn, writes, journal, mode, .. } => {
                // In place the record has always read `3001: 50->60` (pinned in every trace);
                // a redo record says so before its images.
                write!(f, "PrepareVote({txn}")?;
                let deferred = *mode == WriteMode::Deferred;
                let mut separator = if deferred { ", redo " } else { ", " };
                for write in writes {
                    write!(f, "{separator}{}: {}->{}", write.account, write.before, write.after)?;
                    separator = ", ";
                }
                if deferred && writes.is_empty() {
                    f.write_str(", redo")?;
                }
                if journal.is_some() {
                    f.write_str(", journal")?;
                }
                f.write_str(")")
            }
            Record::Outcome { txn, decision: Decision::Commit } => write!(f, "Committed({txn})"),
            Record::Outcome { txn, decision: Decision::Abort } => write!(f, "RolledBack({txn})"),
            Record::SagaBegun { txn, steps, .. } => {
                write!(f, "Saga({txn}")?;
                for step in steps {
                    write!(f, ", {}", step.node)?;
                }
                f.write_str(")")
            }
            Record::SagaStepDone { txn, step, ok: true, .. } => write!(f, "StepDone({txn}/{step})"),
            Record::SagaStepDone { txn, step, ok: false, .. } => write!(f, "StepFailed({txn}/{step})"),
            Record::SagaCompensated { txn, step } => write!(f, "Compensated({txn}/{step})"),
            Record::SagaEnded { txn, decision: Decision::Commit, .. } => write!(f, "SagaCommitted({txn})"),
            Record::SagaEnded { txn, decision: Decision::Abort, .. } => write!(f, "SagaAborted({txn})"),
            Record::StepApplied { txn, step, writes, journal } => {
                write!(f, "Step({txn}/{step}")?;
                for write in writes {
                    write!(f, ", {}: {}->{}", write.account, write.before, write.after)?;
                }
                if journal.is_some() {
                    f.write_str(", journal")?;
                }
                f.write_str(")")
            }
            Record::StepRefused { txn, step, .. } => write!(f, "StepRefused({txn}/{step})"),
            Record::StepCompensated { txn, step, writes } => {
                write!(f, "Compensation({txn}/{step}")?;
                for write in writes {
                    write!(f, ", {}: {}->{}", write.account, write.before, write.after)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A transaction's sequence number in a Multi-Paxos group (seed 002's `seq 100`): the row of the
/// group's `Log` table the transaction's phases are written to.
pub type Seq = u64;

/// A record as a Multi-Paxos group chooses it: stamped with its transaction's sequence number.
/// The first record of a transaction in a group gets a new number; its later records (the
/// decision, the outcome, completion) reuse it, as seed 002's COMMIT reuses the prepare's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stamped {
    pub seq: Seq,
    pub record: Record,
}

impl Record {
    /// Seed 002's phase marker: `P` for the records of the prepare phase, `C` or `A` for the
    /// decision and outcome, and none for completion, which changes no phase.
    pub fn phase(&self) -> Option<char> {
        match self {
            Record::Prepared { .. } | Record::PrepareVote { .. } => Some('P'),
            Record::Decided { decision, .. } | Record::Outcome { decision, .. } => Some(match decision {
                Decision::Commit => 'C',
                Decision::Abort => 'A',
            }),
            // Sagas run on single nodes only: their records are never stamped.
            Record::Completed { .. }
            | Record::SagaBegun { .. }
            | Record::SagaStepDone { .. }
            | Record::SagaCompensated { .. }
            | Record::SagaEnded { .. }
            | Record::StepApplied { .. }
            | Record::StepRefused { .. }
            | Record::StepCompensated { .. } => None,
        }
    }
}

impl fmt::Display for Stamped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record.phase() {
            Some(phase) => write!(f, "seq {} {phase} {}", self.seq, self.record),
            None => write!(f, "seq {} {}", self.seq, self.record),
        }
    }
}
