//! Each node's disk: the durable WAL, the records on their way to it, and the incarnation number
//! that tells a write that finished from one a crash interrupted.
//!
//! A `Persist` effect is not durable at once. The record waits in `unwritten` for the scenario's
//! `disk.write_ms`; only then does it join the WAL and the node hear `on_persisted`. A crash in
//! between loses it, which is the window the "vote only after the WAL write" rule is about.
//! Every crash starts a new incarnation, and a disk completion carries the incarnation that
//! started the write, so a write the crash interrupted never lands, not even after a restart.

use super::queue::{Class, Event, EventQueue};
use super::NodeSlot;
use crate::machine::Machine;
use crate::wal::Wal;
use commitlab_protocol::{Effect, Millis, NodeConfig, NodeId, Record};
use std::sync::Arc;

impl NodeSlot {
    /// A node that is up, with an empty disk.
    pub(super) fn new(label: String, config: Arc<NodeConfig>, machine: Machine) -> NodeSlot {
        NodeSlot { label, config, up: true, machine, wal: Wal::default(), unwritten: Vec::new(), incarnation: 0 }
    }

    /// Hands `record` to the disk; it becomes durable at `done_ms` unless the node crashes first.
    pub(super) fn begin_write(&mut self, node: NodeId, record: Record, done_ms: Millis, queue: &mut EventQueue) {
        self.unwritten.push(record);
        queue.schedule(done_ms, Class::Event, Event::DiskDone { node, incarnation: self.incarnation });
    }

    /// Whether a completion of this incarnation's write still applies (no crash since).
    pub(super) fn is_current_write(&self, incarnation: u32) -> bool {
        self.incarnation == incarnation
    }

    /// The oldest unwritten record reaches the WAL: writes complete in the order they started.
    pub(super) fn finish_write(&mut self) -> Arc<Record> {
        let record = Arc::new(self.unwritten.remove(0));
        self.wal.push_shared(record.clone());
        record
    }

    /// A crash: the records not yet written are gone, and their completions become stale.
    pub(super) fn lose_unwritten(&mut self) -> Vec<Record> {
        self.incarnation += 1;
        std::mem::take(&mut self.unwritten)
    }

    /// Rebuilds the node's volatile state from its durable state alone (a single node's WAL, a
    /// replica's Raft term, vote and log); recovery's effects go to `effects`.
    pub(super) fn recover_from_disk(&mut self, now_ms: Millis, effects: &mut Vec<Effect>) {
        self.machine = self.machine.recovered(&self.wal, now_ms, effects);
    }
}
