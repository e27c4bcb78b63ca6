//! The closed fault vocabulary. Every fault is data in the scenario's schedule, whether it was
//! written there or injected by a click at the current time, so a scenario always describes its run.

use commitlab_protocol::{Endpoint, MessageId, Millis, NodeId, TxnId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A fault and when it happens. Faults at time T run after every other event at T.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    pub at_ms: Millis,
    pub fault: Fault,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The node stops: volatile memory, timers and unwritten WAL records are lost.
    Crash(NodeId),
    /// The node starts again and rebuilds its state from its durable WAL.
    Restart(NodeId),
    /// Messages between different groups are lost on arrival; endpoints in no group reach all.
    Partition(Vec<Vec<Endpoint>>),
    /// Remove the partition.
    Heal,
    /// Lose one message.
    Drop(MessageTarget),
    /// Deliver one message later.
    Delay { message: MessageTarget, by_ms: Millis },
    /// Deliver one message twice.
    Duplicate(MessageTarget),
}

/// Which message a message fault acts on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MessageTarget {
    /// The message with this id, which must be in flight when the fault happens.
    Id(MessageId),
    /// The next message sent (at or after the fault's time) that matches the filter.
    Next(MessageFilter),
}

/// Matches messages by sender, receiver, kind (`"Prepare"`, `"Commit"`, ...) and transaction;
/// every field left out matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn: Option<TxnId>,
}

impl MessageFilter {
    pub fn matches(&self, from: Endpoint, to: Endpoint, message: &commitlab_protocol::Message) -> bool {
        self.from.is_none_or(|want| want == from)
            && self.to.is_none_or(|want| want == to)
            && self.kind.as_deref().is_none_or(|want| want == message.kind())
            && self.txn.is_none_or(|want| Some(want) == message.txn())
    }
}

impl fmt::Display for MessageFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_deref().unwrap_or("message"))?;
        if let Some(txn) = self.txn {
            write!(f, " {txn}")?;
        }
        if let Some(from) = self.from {
            write!(f, " from {from}")?;
        }
        if let Some(to) = self.to {
            write!(f, " to {to}")?;
        }
        Ok(())
    }
}

impl fmt::Display for MessageTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageTarget::Id(id) => id.fmt(f),
            MessageTarget::Next(filter) => write!(f, "next {filter}"),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash(node) => write!(f, "crash {node}"),
            Fault::Restart(node) => write!(f, "restart {node}"),
            Fault::Partition(groups) => {
                f.write_str("partition ")?;
                for (index, group) in groups.iter().enumerate() {
                    if index > 0 {
                        f.write_str(" | ")?;
                    }
                    let names: Vec<String> = group.iter().map(|endpoint| endpoint.to_string()).collect();
                    write!(f, "{{{}}}", names.join(", "))?;
                }
                Ok(())
            }
            Fault::Heal => f.write_str("heal partition"),
            Fault::Drop(target) => write!(f, "drop {target}"),
            Fault::Delay { message, by_ms } => write!(f, "delay {message} by {by_ms} ms"),
            Fault::Duplicate(target) => write!(f, "duplicate {target}"),
        }
    }
}

impl fmt::Display for ScheduledFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {} ms: {}", self.at_ms, self.fault)
    }
}
