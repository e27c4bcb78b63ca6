//! Commit Lab's protocol core: the two-phase commit roles as pure state machines.
//!
//! A node is event in, effects out: `on_message`, `on_timer`, `on_persisted` and `recover` take the
//! current virtual time and append [`Effect`]s (send, persist, set a timer, report a fact) to an
//! output buffer. This crate has no I/O, no clock, no randomness and knows nothing of the simulator
//! that drives it or the web page that draws it.

pub mod bank;
pub mod chunk_map;
pub mod client;
pub mod context;
pub mod coordinator;
pub mod effect;
pub mod fnv;
pub mod ids;
pub mod message;
pub mod node;
pub mod participant;
pub mod paxos;
pub mod phase;
pub mod raft;
pub mod replica;
pub mod route;
pub mod vec_map;

pub use chunk_map::ChunkMap;
pub use client::Client;
pub use context::Context;
pub use effect::{
    Bugs, Directory, Effect, NodeConfig, Note, Recovery, Revision, Role, ShardEntry, Timeouts, Timer, TxnNumbering,
};
pub use ids::{AccountId, Endpoint, MessageId, Millis, NodeId, ParseIdError, RequestId, ShardId, TxnId};
pub use message::{
    Decision, Message, Plan, Record, SagaStep, Seq, Stamped, Transfer, TxnSpec, Work, Write, WriteMode, MESSAGE_KINDS,
};
pub use node::{Node, NodeView, SagaMark, StepMark, StepView, TxnView};
pub use phase::Phase;
pub use vec_map::{VecMap, VecSet};

#[cfg(test)]
mod tests;
