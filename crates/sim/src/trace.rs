//! The trace: every send, delivery, drop, timer, crash, restart, WAL append, lock, state change,
//! client outcome and invariant violation, with its virtual time and one canonical description.

use crate::fault::Fault;
use crate::invariants::Violation;
use commitlab_protocol::{Endpoint, Message, MessageId, Millis, NodeId, Note, Record, Timer};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// One line of the trace. `step` counts world events: one event can produce several entries.
/// Large payloads are behind pointers, so a 100,000-event run's trace stays small.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    pub step: u64,
    pub time_ms: Millis,
    pub event: TraceEvent,
}

/// Why a message never arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Lost by the network (the scenario's loss probability).
    Lost,
    /// A partition separated sender and receiver when it arrived.
    Partitioned,
    /// The receiver was down.
    ReceiverDown,
    /// Dropped by a fault in the schedule.
    Fault,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::Lost => "lost by the network",
            DropReason::Partitioned => "partitioned",
            DropReason::ReceiverDown => "receiver down",
            DropReason::Fault => "dropped by fault",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TraceEvent {
    /// A message leaves its sender; `deliver_ms` is when it is due to arrive.
    Send {
        id: MessageId,
        from: Endpoint,
        to: Endpoint,
        message: Arc<Message>,
        deliver_ms: Millis,
    },
    /// A copy of message `of` made by the network or a fault, due at `deliver_ms`.
    Duplicate {
        id: MessageId,
        of: MessageId,
        from: Endpoint,
        to: Endpoint,
        message: Arc<Message>,
        deliver_ms: Millis,
    },
    Deliver {
        id: MessageId,
        from: Endpoint,
        to: Endpoint,
        message: Arc<Message>,
    },
    Drop {
        id: MessageId,
        from: Endpoint,
        to: Endpoint,
        message: Arc<Message>,
        reason: DropReason,
    },
    /// A message fault moved a delivery later.
    Delayed {
        id: MessageId,
        deliver_ms: Millis,
    },
    TimerFired {
        at: Endpoint,
        timer: Timer,
    },
    /// The record is durable in the node's WAL.
    WalAppend {
        node: NodeId,
        record: Arc<Record>,
    },
    Note {
        at: Endpoint,
        note: Note,
    },
    /// A node crashed, losing the WAL records it had not finished writing.
    Crash {
        node: NodeId,
        lost_records: Vec<Record>,
    },
    Restart {
        node: NodeId,
    },
    Partition {
        groups: Vec<Vec<Endpoint>>,
    },
    Heal,
    /// A scheduled fault that could not apply (its message was not in flight, its node already down).
    FaultSkipped {
        fault: Box<Fault>,
        reason: String,
    },
    Violation(Box<Violation>),
}

impl TraceEvent {
    /// The node or client an event happens at, for per-lane views.
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self {
            TraceEvent::Send { from, .. } => Some(*from),
            TraceEvent::Duplicate { to, .. } | TraceEvent::Deliver { to, .. } | TraceEvent::Drop { to, .. } => {
                Some(*to)
            }
            TraceEvent::TimerFired { at, .. } | TraceEvent::Note { at, .. } => Some(*at),
            TraceEvent::WalAppend { node, .. } | TraceEvent::Crash { node, .. } | TraceEvent::Restart { node } => {
                Some(Endpoint::Node(*node))
            }
            _ => None,
        }
    }
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEvent::Send { id, from, to, message, deliver_ms } => {
                write!(f, "send {id} {from} -> {to} {message} (due {deliver_ms} ms)")
            }
            TraceEvent::Duplicate { id, of, from, to, message, .. } => {
                write!(f, "duplicate {id} of {of} {from} -> {to} {message}")
            }
            TraceEvent::Deliver { id, from, to, message } => write!(f, "recv {id} {from} -> {to} {message}"),
            TraceEvent::Drop { id, from, to, message, reason } => {
                write!(f, "drop {id} {from} -> {to} {message} ({reason})")
            }
            TraceEvent::Delayed { id, deliver_ms } => write!(f, "delay {id} until {deliver_ms} ms"),
            TraceEvent::TimerFired { at, timer } => write!(f, "{at} timer {timer}"),
            TraceEvent::WalAppend { node, record } => write!(f, "{node} WAL {record}"),
            TraceEvent::Note { at, note } => write!(f, "{at} {note}"),
            TraceEvent::Crash { node, lost_records } => {
                write!(f, "CRASH {node}")?;
                if !lost_records.is_empty() {
                    let lost: Vec<String> = lost_records.iter().map(|record| record.to_string()).collect();
                    write!(f, " (unwritten WAL records lost: {})", lost.join(", "))?;
                }
                Ok(())
            }
            TraceEvent::Restart { node } => write!(f, "RESTART {node}"),
            TraceEvent::Partition { groups } => {
                write!(f, "{}", Fault::Partition(groups.clone()))
            }
            TraceEvent::Heal => f.write_str("heal partition"),
            TraceEvent::FaultSkipped { fault, reason } => write!(f, "fault skipped: {fault}: {reason}"),
            TraceEvent::Violation(violation) => violation.fmt(f),
        }
    }
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>7} ms  {}", self.time_ms, self.event)
    }
}
