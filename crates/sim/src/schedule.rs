//! A scheduled run: what happens next is chosen, one step at a time, instead of following the clock.
//!
//! The explorer (`commitlab-explore`) walks every order in which a small scenario's events can
//! happen; a path it finds becomes a scenario whose `schedule` lists that path's steps, and the
//! simulator then plays exactly those steps (a share link like any other). Each step is one
//! [`Choice`], written in the scenario as short text:
//!
//! | text                         | what happens                                                  |
//! |------------------------------|---------------------------------------------------------------|
//! | `submit r1`                  | the client sends request r1 (requests go in their order)      |
//! | `deliver m3`                 | message m3 arrives (dropped if its receiver is down)          |
//! | `lose m3`                    | the network loses message m3                                  |
//! | `duplicate m3`               | the network copies message m3 (the copy gets the next id)     |
//! | `disk n4`                    | n4's oldest unwritten record becomes durable                  |
//! | `timer n7 vote-timeout t1`   | an armed timer fires (`timer client client-retry r1` too)     |
//! | `crash n4`, `restart n4`     | a node stops (losing memory, timers, unwritten records) or starts |
//!
//! Time plays no part in which step comes next. A scheduled run still shows times (each step is
//! [`STEP_MS`] after the one before) so that the page can draw it; the protocol only records
//! them, it decides nothing by them.

use commitlab_protocol::{Endpoint, MessageId, Millis, NodeId, ParseIdError, RequestId, Timer, TxnId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The virtual time between two steps of a scheduled run.
pub const STEP_MS: Millis = 10;

/// One step of a scheduled run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Choice {
    Submit(RequestId),
    Deliver(MessageId),
    Lose(MessageId),
    Duplicate(MessageId),
    Disk(NodeId),
    Timer(Endpoint, Timer),
    Crash(NodeId),
    Restart(NodeId),
}

impl Choice {
    /// Whether this step is a fault (what the explorer's bounds count).
    pub fn is_fault(self) -> bool {
        matches!(self, Choice::Lose(_) | Choice::Duplicate(_) | Choice::Crash(_) | Choice::Restart(_))
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Submit(request) => write!(f, "submit {request}"),
            Choice::Deliver(id) => write!(f, "deliver {id}"),
            Choice::Lose(id) => write!(f, "lose {id}"),
            Choice::Duplicate(id) => write!(f, "duplicate {id}"),
            Choice::Disk(node) => write!(f, "disk {node}"),
            Choice::Timer(at, timer) => write!(f, "timer {at} {timer}"),
            Choice::Crash(node) => write!(f, "crash {node}"),
            Choice::Restart(node) => write!(f, "restart {node}"),
        }
    }
}

/// Why a step's text does not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseChoiceError(String);

impl fmt::Display for ParseChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ParseIdError> for ParseChoiceError {
    fn from(error: ParseIdError) -> ParseChoiceError {
        ParseChoiceError(error.to_string())
    }
}

const EXPECTED: &str = "expected one of: submit r1, deliver m1, lose m1, duplicate m1, disk n1, \
                        timer n1 <timer>, crash n1, restart n1";

fn parse_timer(text: &str) -> Result<Timer, ParseChoiceError> {
    let unknown = || {
        ParseChoiceError(format!(
            "unknown timer '{text}' (expected vote-timeout t1, resend-decision t1, query-decision t1, \
             resend-prepare t1, resend-step t1 or client-retry r1)"
        ))
    };
    let (name, id) = text.split_once(' ').ok_or_else(unknown)?;
    let txn = || id.parse::<TxnId>();
    Ok(match name {
        "vote-timeout" => Timer::VoteTimeout(txn()?),
        "resend-decision" => Timer::ResendDecision(txn()?),
        "query-decision" => Timer::QueryDecision(txn()?),
        "resend-prepare" => Timer::ResendPrepare(txn()?),
        "resend-step" => Timer::ResendStep(txn()?),
        "client-retry" => Timer::ClientRetry(id.parse()?),
        _ => return Err(unknown()),
    })
}

impl FromStr for Choice {
    type Err = ParseChoiceError;

    fn from_str(text: &str) -> Result<Choice, ParseChoiceError> {
        let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
        Ok(match verb {
            "submit" => Choice::Submit(rest.parse()?),
            "deliver" => Choice::Deliver(rest.parse()?),
            "lose" => Choice::Lose(rest.parse()?),
            "duplicate" => Choice::Duplicate(rest.parse()?),
            "disk" => Choice::Disk(rest.parse()?),
            "crash" => Choice::Crash(rest.parse()?),
            "restart" => Choice::Restart(rest.parse()?),
            "timer" => {
                let (at, timer) =
                    rest.split_once(' ').ok_or_else(|| ParseChoiceError(format!("'{text}': {EXPECTED}")))?;
                Choice::Timer(at.parse()?, parse_timer(timer)?)
            }
            _ => return Err(ParseChoiceError(format!("'{text}': {EXPECTED}"))),
        })
    }
}

impl Serialize for Choice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Choice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Choice, D::Error> {
        commitlab_protocol::ids::deserialize_parsed(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_reads_back_from_its_text() {
        let choices = [
            Choice::Submit(RequestId(1)),
            Choice::Deliver(MessageId(3)),
            Choice::Lose(MessageId(12)),
            Choice::Duplicate(MessageId(1)),
            Choice::Disk(NodeId(4)),
            Choice::Timer(Endpoint::Node(NodeId(7)), Timer::VoteTimeout(TxnId(1))),
            Choice::Timer(Endpoint::Client, Timer::ClientRetry(RequestId(1))),
            Choice::Timer(Endpoint::Node(NodeId(1)), Timer::QueryDecision(TxnId(2))),
            Choice::Crash(NodeId(1)),
            Choice::Restart(NodeId(1)),
        ];
        for choice in choices {
            let text = choice.to_string();
            assert_eq!(text.parse::<Choice>(), Ok(choice), "{text}");
        }
        assert_eq!(
            Choice::Timer(Endpoint::Node(NodeId(7)), Timer::VoteTimeout(TxnId(1))).to_string(),
            "timer n7 vote-timeout t1"
        );
    }

    #[test]
    fn a_bad_step_says_what_was_expected() {
        let error = "fly m1".parse::<Choice>().unwrap_err().to_string();
        assert!(error.contains("'fly m1'") && error.contains("deliver m1"), "{error}");
        let error = "deliver n1".parse::<Choice>().unwrap_err().to_string();
        assert!(error.contains("message id"), "{error}");
        let error = "timer n1 election-timeout".parse::<Choice>().unwrap_err().to_string();
        assert!(error.contains("unknown timer 'election-timeout'"), "{error}");
    }
}
