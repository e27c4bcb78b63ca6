//! A node: the roles it plays (coordinator, participant or both, as in seed 002 where the
//! sender's shard coordinates) behind one interface the world drives. Its fields are volatile
//! memory; the durable WAL lives in the world, and `recover` rebuilds a node from it.

use crate::context::Context;
use crate::coordinator::saga::{Saga, SagaPhase};
use crate::coordinator::{Coordinator, CoordinatorPhase, RequestState};
use crate::effect::{Effect, NodeConfig, Role, Timer};
use crate::ids::{AccountId, Endpoint, Millis, NodeId, RequestId, TxnId};
use crate::message::{Decision, Message, Record, Write, WriteMode};
use crate::participant::Participant;
use crate::phase::Phase;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    config: Arc<NodeConfig>,
    coordinator: Option<Coordinator>,
    participant: Option<Participant>,
}

/// Hashes what changes, the roles' state. A node's configuration is fixed for its whole life, so
/// its id stands for it (equal nodes have equal ids, as `Hash` must keep).
impl std::hash::Hash for Node {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.config.id.hash(state);
        self.coordinator.hash(state);
        self.participant.hash(state);
    }
}

impl Node {
    /// Builds the node's volatile state from its durable log; an empty log is a first start.
    pub fn recover<'a, L>(config: Arc<NodeConfig>, log: L, now_ms: Millis, out: &mut Vec<Effect>) -> Node
    where
        L: IntoIterator<Item = &'a Record>,
        L::IntoIter: Clone,
    {
        let log = log.into_iter();
        let mut context = Context { config: &config, now_ms, out };
        let participant = config.shard.map(|_| Participant::recover(log.clone(), &mut context));
        let coordinator =
            config.coordinator.map(|numbering| Coordinator::recover(numbering, log.clone(), &mut context));
        Node { config: config.clone(), coordinator, participant }
    }

    pub fn id(&self) -> NodeId {
        self.config.id
    }

    pub fn config(&self) -> &Arc<NodeConfig> {
        &self.config
    }

    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.coordinator.as_ref()
    }

    pub fn participant(&self) -> Option<&Participant> {
        self.participant.as_ref()
    }

    /// Whether a message this node sent is still worth sending again after a replica bounced it
    /// with `NotLeader`. A PREPARE is, only while its transaction still collects votes: once the
    /// decision is made, a PREPARE that reaches a participant late would lock and log a prepare
    /// record for a transaction that is already over (and, if it was already acknowledged as
    /// aborted, that the coordinator is about to forget). Everything else stays current.
    pub fn still_wants(&self, message: &Message) -> bool {
        match message {
            Message::Prepare { txn, .. } => self.coordinator.as_ref().is_some_and(|coordinator| {
                coordinator.txns().get(txn).is_some_and(|entry| entry.phase == CoordinatorPhase::Voting)
            }),
            _ => true,
        }
    }

    pub fn on_message(&mut self, now_ms: Millis, from: Endpoint, message: &Message, out: &mut Vec<Effect>) {
        let mut context = Context { config: &self.config, now_ms, out };
        let (coordinator, participant) = (self.coordinator.as_mut(), self.participant.as_mut());
        match (message, from) {
            (Message::Request { request, spec }, Endpoint::Client) => {
                if let Some(coordinator) = coordinator {
                    coordinator.on_request(*request, spec, participant, &mut context);
                }
            }
            (Message::Vote { txn, yes, reason }, Endpoint::Node(from)) => {
                if let Some(coordinator) = coordinator {
                    coordinator.on_vote(from, *txn, *yes, reason.as_deref(), &mut context);
                }
            }
            (Message::Ack { txn }, Endpoint::Node(from)) => {
                if let Some(coordinator) = coordinator {
                    coordinator.on_ack(from, *txn, &mut context);
                }
            }
            (Message::Query { txn }, Endpoint::Node(from)) => {
                if let Some(coordinator) = coordinator {
                    coordinator.on_query(from, *txn, &mut context);
                }
            }
            (Message::Prepare { txn, work }, Endpoint::Node(from)) => {
                if let Some(participant) = participant {
                    participant.on_prepare(from, *txn, work, &mut context);
                }
            }
            (Message::Decide { txn, decision }, Endpoint::Node(from)) => {
                if let Some(participant) = participant {
                    participant.on_decide(*txn, *decision, from, &mut context);
                }
            }
            (Message::Step { txn, step, work }, Endpoint::Node(from)) => {
                if let Some(participant) = participant {
                    participant.on_step(from, *txn, *step, work, &mut context);
                }
            }
            (Message::Compensate { txn, step }, Endpoint::Node(from)) => {
                if let Some(participant) = participant {
                    participant.on_compensate(from, *txn, *step, &mut context);
                }
            }
            (Message::StepDone { txn, step, ok, reason }, Endpoint::Node(from)) => {
                if let Some(coordinator) = coordinator {
                    coordinator.on_step_done(from, *txn, *step, *ok, reason.as_deref(), &mut context);
                }
            }
            (Message::Compensated { txn, step }, Endpoint::Node(from)) => {
                if let Some(coordinator) = coordinator {
                    coordinator.on_compensated(from, *txn, *step, &mut context);
                }
            }
            // Replies go to the client, and nodes do not take requests from nodes.
            _ => {}
        }
    }

    pub fn on_timer(&mut self, now_ms: Millis, timer: Timer, out: &mut Vec<Effect>) {
        let mut context = Context { config: &self.config, now_ms, out };
        match timer {
            Timer::VoteTimeout(txn) => {
                if let Some(coordinator) = &mut self.coordinator {
                    coordinator.on_vote_timeout(txn, &mut context);
                }
            }
            Timer::ResendDecision(txn) => {
                if let Some(coordinator) = &mut self.coordinator {
                    coordinator.on_resend_timeout(txn, &mut context);
                }
            }
            Timer::QueryDecision(txn) => {
                if let Some(participant) = &mut self.participant {
                    participant.on_query_timeout(txn, &mut context);
                }
            }
            Timer::ResendPrepare(txn) => {
                if let Some(coordinator) = &mut self.coordinator {
                    coordinator.on_resend_prepare_timeout(txn, &mut context);
                }
            }
            Timer::ResendStep(txn) => {
                if let Some(coordinator) = &mut self.coordinator {
                    coordinator.on_resend_step_timeout(txn, &mut context);
                }
            }
            Timer::ClientRetry(_) | Timer::Election | Timer::Heartbeat => {}
        }
    }

    /// Applies a committed record to this node's tables with no effects: a follower replica keeps
    /// its copy of the shard state and the transaction table this way.
    pub fn apply(&mut self, now_ms: Millis, record: &Record) {
        let mut discarded = Vec::new();
        let mut context = Context { config: &self.config, now_ms, out: &mut discarded };
        if record.is_coordinator_record() {
            if let Some(coordinator) = &mut self.coordinator {
                coordinator.replay(record);
            }
        } else if let Some(participant) = &mut self.participant {
            participant.replay(record, &mut context);
        }
    }

    pub fn on_persisted(&mut self, now_ms: Millis, record: &Record, out: &mut Vec<Effect>) {
        let mut context = Context { config: &self.config, now_ms, out };
        if record.is_coordinator_record() {
            if let Some(coordinator) = &mut self.coordinator {
                coordinator.on_persisted(record, &mut context);
            }
        } else if let Some(participant) = &mut self.participant {
            participant.on_persisted(record, &mut context);
        }
    }

    /// Sum of this node's balances (zero for a node without a shard).
    pub fn balance_total(&self) -> i64 {
        self.participant.as_ref().map_or(0, |participant| participant.bank().total())
    }

    /// Changes of transactions that are prepared here but not yet resolved here.
    pub fn unresolved_writes(&self) -> impl Iterator<Item = (TxnId, &[Write])> {
        self.participant
            .iter()
            .flat_map(|participant| participant.txns().iter().map(|(txn, entry)| (*txn, entry.writes.as_slice())))
    }

    /// The change saga `txn`'s steps leave in this node's balances now (zero without a shard).
    pub fn saga_net(&self, txn: TxnId) -> i64 {
        self.participant.as_ref().map_or(0, |participant| participant.saga_net(txn))
    }

    /// The transactions prepared here and not yet resolved, each with the money its writes move
    /// and whether the balances already hold that change (in place) or not yet (deferred): what
    /// the committed view needs to count this node's money in either mode.
    pub fn unresolved_changes(&self) -> impl Iterator<Item = (TxnId, i64, bool)> + '_ {
        self.participant.iter().flat_map(|participant| {
            participant.txns().iter().map(|(txn, entry)| (*txn, entry.delta(), entry.applied()))
        })
    }

    /// The node's volatile state, in the shape of seed 002's "STATE AFTER PREPARE" tables.
    pub fn view(&self) -> NodeView {
        let mut view = NodeView::default();
        if let Some(participant) = &self.participant {
            let bank = participant.bank();
            view.balances = bank.balances().iter().map(|(account, value)| (*account, *value)).collect();
            view.locks = bank.locks().iter().map(|(account, txn)| (*account, *txn)).collect();
            view.journal = bank.journal().to_vec();
            for (txn, entry) in participant.txns() {
                view.txns.push(TxnView {
                    txn: *txn,
                    role: Role::Participant,
                    phase: entry.phase.phase(),
                    peers: vec![entry.coordinator],
                    votes: Vec::new(),
                    acks: Vec::new(),
                    decision: match entry.phase {
                        crate::participant::ParticipantPhase::Deciding(decision) => Some(decision),
                        _ => None,
                    },
                    in_doubt_since_ms: entry.in_doubt_since_ms,
                    locks: entry.writes.iter().map(|write| write.account).collect(),
                    undo: match entry.mode {
                        WriteMode::InPlace => entry.writes.iter().map(|write| (write.account, write.before)).collect(),
                        WriteMode::Deferred => Vec::new(),
                    },
                    redo: match entry.mode {
                        WriteMode::InPlace => Vec::new(),
                        WriteMode::Deferred => entry.writes.iter().map(|write| (write.account, write.after)).collect(),
                    },
                    steps: Vec::new(),
                });
            }
            for ((txn, step), entry) in participant.steps() {
                let changes = entry.writes.iter().map(|write| (write.account, write.after - write.before)).collect();
                view.steps.push(StepView { txn: *txn, step: *step, phase: entry.phase(), changes });
                if entry.holds_locks() {
                    view.txns.push(TxnView {
                        txn: *txn,
                        role: Role::Participant,
                        phase: entry.phase(),
                        peers: Vec::new(),
                        votes: Vec::new(),
                        acks: Vec::new(),
                        decision: None,
                        in_doubt_since_ms: None,
                        locks: entry.writes.iter().map(|write| write.account).collect(),
                        undo: Vec::new(),
                        redo: Vec::new(),
                        steps: Vec::new(),
                    });
                }
            }
        }
        if let Some(coordinator) = &self.coordinator {
            for (txn, entry) in coordinator.txns() {
                view.txns.push(TxnView {
                    txn: *txn,
                    role: Role::Coordinator,
                    phase: entry.phase.phase(),
                    peers: entry.participants.to_vec(),
                    votes: entry.votes().collect(),
                    acks: entry.acks().collect(),
                    decision: entry.decision,
                    in_doubt_since_ms: None,
                    locks: Vec::new(),
                    undo: Vec::new(),
                    redo: Vec::new(),
                    steps: Vec::new(),
                });
            }
            for (txn, saga) in coordinator.sagas() {
                view.txns.push(TxnView {
                    txn: *txn,
                    role: Role::Coordinator,
                    phase: saga.table_phase(),
                    peers: saga.steps.iter().map(|step| step.node).collect(),
                    votes: Vec::new(),
                    acks: Vec::new(),
                    decision: match saga.phase {
                        SagaPhase::Ending(decision) => Some(decision),
                        _ => None,
                    },
                    in_doubt_since_ms: None,
                    locks: Vec::new(),
                    undo: Vec::new(),
                    redo: Vec::new(),
                    steps: saga_marks(saga),
                });
            }
            for (request, state) in coordinator.requests() {
                if let RequestState::Done { txn, decision, .. } = state {
                    view.cached_replies.push((*request, *txn, *decision));
                }
            }
        }
        crate::vec_map::sort_small_by_key(&mut view.txns, |row| (row.txn, row.role));
        view
    }
}

/// Where each step of a saga stands, as its orchestrator's row shows it.
fn saga_marks(saga: &Saga) -> Vec<SagaMark> {
    let running = match saga.phase {
        SagaPhase::Running(step) | SagaPhase::Compensating(step) => Some(step),
        _ => None,
    };
    let undone_from = saga.done - saga.compensated;
    (1..=saga.steps.len() as u32)
        .map(|step| {
            let node = saga.steps[step as usize - 1].node;
            let state = if step <= saga.done {
                if step > undone_from {
                    StepMark::Compensated
                } else if running == Some(step) && saga.failure.is_some() {
                    StepMark::Compensating
                } else {
                    StepMark::Done
                }
            } else if step == saga.done + 1 && saga.failure.is_some() {
                StepMark::Failed
            } else if running == Some(step) {
                StepMark::Running
            } else {
                StepMark::Pending
            };
            SagaMark { step, node, state }
        })
        .collect()
}

/// One step on a saga orchestrator's row.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SagaMark {
    pub step: u32,
    pub node: NodeId,
    pub state: StepMark,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepMark {
    Pending,
    Running,
    Done,
    Failed,
    Compensating,
    Compensated,
}

impl StepMark {
    pub fn name(self) -> &'static str {
        match self {
            StepMark::Pending => "pending",
            StepMark::Running => "running",
            StepMark::Done => "done",
            StepMark::Failed => "failed",
            StepMark::Compensating => "compensating",
            StepMark::Compensated => "compensated",
        }
    }
}

impl fmt::Display for SagaMark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {} {}", self.step, self.node, self.state.name())
    }
}

impl fmt::Display for StepView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.txn, self.step)?;
        for (account, delta) in &self.changes {
            write!(f, " {account} {delta:+}")?;
        }
        write!(f, ": {}", self.phase)
    }
}

/// A saga step a participant ran: its state and the changes it made (account, delta).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct StepView {
    pub txn: TxnId,
    pub step: u32,
    pub phase: Phase,
    pub changes: Vec<(AccountId, i64)>,
}

/// One row of a node's transaction table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TxnView {
    pub txn: TxnId,
    pub role: Role,
    pub phase: Phase,
    /// The participants (on the coordinator's row) or the coordinator (on a participant's row).
    pub peers: Vec<NodeId>,
    pub votes: Vec<(NodeId, bool)>,
    pub acks: Vec<NodeId>,
    pub decision: Option<Decision>,
    pub in_doubt_since_ms: Option<Millis>,
    pub locks: Vec<AccountId>,
    /// A participant's undo images while the transaction is open: seed 002's
    /// `twoPCWAL[t1][1001] = 100`, kept on every replica, deleted at COMMIT, rolled back from at ABORT.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undo: Vec<(AccountId, i64)>,
    /// A saga orchestrator's row: where each step stands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<SagaMark>,
    /// A participant's redo images while the transaction is open, when writes are deferred: the
    /// balances are not changed yet and COMMIT sets these (an ABORT drops them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redo: Vec<(AccountId, i64)>,
}

/// A node's volatile state at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct NodeView {
    pub txns: Vec<TxnView>,
    pub locks: Vec<(AccountId, TxnId)>,
    pub balances: Vec<(AccountId, i64)>,
    pub journal: Vec<(TxnId, String)>,
    pub cached_replies: Vec<(RequestId, Option<TxnId>, Decision)>,
    /// Saga steps this participant ran, committed or not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepView>,
}
