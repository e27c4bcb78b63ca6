//! What runs in a node's slot: a single 2PC node, whose durable state is the WAL the world keeps
//! on its disk, or a replica of a group, whose durable state is its consensus engine's (Raft's term, vote and log; Paxos's promise,
//! accepted and chosen values). The
//! world drives both through this one interface. Crashing either keeps only what is durable.

use crate::wal::Wal;
use commitlab_protocol::replica::{Replica, ReplicaConfig, ReplicaDurable};
use commitlab_protocol::{Effect, Endpoint, Message, Millis, Node, NodeConfig, Record, Timer};
use std::sync::Arc;

// A single node stays inline: it is every event's machine in the single-node mode, where a box
// would cost an indirection per event; a replica, far larger, is boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Machine {
    Single(Node),
    Replica(Box<Replica>),
}

impl Machine {
    /// A node or replica at its first start.
    pub fn start(config: &Arc<NodeConfig>, replica: Option<&Arc<ReplicaConfig>>, out: &mut Vec<Effect>) -> Machine {
        match replica {
            None => Machine::Single(Node::recover(config.clone(), std::iter::empty(), 0, out)),
            Some(replica) => {
                let durable = ReplicaDurable::empty(&replica.engine);
                Machine::Replica(Box::new(Replica::restart(replica.clone(), durable, 0, out)))
            }
        }
    }

    /// What a restart rebuilds from the durable state alone.
    pub fn recovered(&self, wal: &Wal, now_ms: Millis, out: &mut Vec<Effect>) -> Machine {
        match self {
            Machine::Single(node) => Machine::Single(Node::recover(node.config().clone(), wal.iter(), now_ms, out)),
            Machine::Replica(replica) => {
                let durable = replica.engine().durable();
                Machine::Replica(Box::new(Replica::restart(replica.config().clone(), durable, now_ms, out)))
            }
        }
    }

    /// The 2PC roles: a single node's, or a replica's (live when it acts, else its applied state).
    pub fn node(&self) -> &Node {
        match self {
            Machine::Single(node) => node,
            Machine::Replica(replica) => replica.node(),
        }
    }

    pub fn replica(&self) -> Option<&Replica> {
        match self {
            Machine::Single(_) => None,
            Machine::Replica(replica) => Some(replica),
        }
    }

    pub fn on_message(&mut self, now_ms: Millis, from: Endpoint, message: &Message, out: &mut Vec<Effect>) {
        match self {
            Machine::Single(node) => node.on_message(now_ms, from, message, out),
            Machine::Replica(replica) => replica.on_message(now_ms, from, message, out),
        }
    }

    pub fn on_timer(&mut self, now_ms: Millis, timer: Timer, out: &mut Vec<Effect>) {
        match self {
            Machine::Single(node) => node.on_timer(now_ms, timer, out),
            Machine::Replica(replica) => replica.on_timer(now_ms, timer, out),
        }
    }

    /// A WAL write of a single node became durable (replicas write through consensus instead).
    pub fn on_persisted(&mut self, now_ms: Millis, record: &Record, out: &mut Vec<Effect>) {
        match self {
            Machine::Single(node) => node.on_persisted(now_ms, record, out),
            Machine::Replica(_) => unreachable!("replicas never ask the disk to persist"),
        }
    }
}
