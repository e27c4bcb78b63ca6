//! A node: the roles it plays (coordinator, participant or both, as in seed 002 where the
//! sender's shard coordinates) behind one interface the world drives. Its fields are volatile
//! memory; the durable WAL lives in the world, and `recover` rebuilds a node from it.

use crate::context::Context;
use crate::coordinator::{Coordinator, RequestState};
use crate::effect::{Effect, NodeConfig, Role, Timer};
use crate::ids::{AccountId, Endpoint, Millis, NodeId, RequestId, TxnId};
use crate::message::{Decision, Message, Record, Write};
use crate::participant::Participant;
use crate::phase::Phase;
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    config: Arc<NodeConfig>,
    coordinator: Option<Coordinator>,
    participant: Option<Participant>,
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

    pub fn on_message(&mut self, now_ms: Millis, from: Endpoint, message: &Message, out: &mut Vec<Effect>) {
        let config = self.config.clone();
        let mut context = Context { config: &config, now_ms, out };
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
            // Replies go to the client, and nodes do not take requests from nodes.
            _ => {}
        }
    }

    pub fn on_timer(&mut self, now_ms: Millis, timer: Timer, out: &mut Vec<Effect>) {
        let config = self.config.clone();
        let mut context = Context { config: &config, now_ms, out };
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
            Timer::ClientRetry(_) | Timer::Election | Timer::Heartbeat => {}
        }
    }

    /// Applies a committed record to this node's tables with no effects: a follower replica keeps
    /// its copy of the shard state and the transaction table this way.
    pub fn apply(&mut self, now_ms: Millis, record: &Record) {
        let config = self.config.clone();
        let mut discarded = Vec::new();
        let mut context = Context { config: &config, now_ms, out: &mut discarded };
        if record.is_coordinator_record() {
            if let Some(coordinator) = &mut self.coordinator {
                coordinator.replay(record);
            }
        } else if let Some(participant) = &mut self.participant {
            participant.replay(record, &mut context);
        }
    }

    pub fn on_persisted(&mut self, now_ms: Millis, record: &Record, out: &mut Vec<Effect>) {
        let config = self.config.clone();
        let mut context = Context { config: &config, now_ms, out };
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

    /// Changes made by transactions that are prepared here but not yet resolved here.
    pub fn unresolved_writes(&self) -> impl Iterator<Item = (TxnId, &[Write])> {
        self.participant
            .iter()
            .flat_map(|participant| participant.txns().iter().map(|(txn, entry)| (*txn, entry.writes.as_slice())))
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
                    undo: entry.writes.iter().map(|write| (write.account, write.before)).collect(),
                });
            }
        }
        if let Some(coordinator) = &self.coordinator {
            for (txn, entry) in coordinator.txns() {
                view.txns.push(TxnView {
                    txn: *txn,
                    role: Role::Coordinator,
                    phase: entry.phase.phase(),
                    peers: entry.participants.clone(),
                    votes: entry.votes.iter().map(|(node, yes)| (*node, *yes)).collect(),
                    acks: entry.acks.iter().copied().collect(),
                    decision: entry.decision,
                    in_doubt_since_ms: None,
                    locks: Vec::new(),
                    undo: Vec::new(),
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

/// One row of a node's transaction table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
}

/// A node's volatile state at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize)]
pub struct NodeView {
    pub txns: Vec<TxnView>,
    pub locks: Vec<(AccountId, TxnId)>,
    pub balances: Vec<(AccountId, i64)>,
    pub journal: Vec<(TxnId, String)>,
    pub cached_replies: Vec<(RequestId, Option<TxnId>, Decision)>,
}
