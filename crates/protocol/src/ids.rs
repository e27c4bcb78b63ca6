//! Identifiers shared by every role, with the one canonical text form each has in traces, links and
//! scenario files: `n4` for a node, `t1` for a transaction, `r1` for a client request, `C2` for a
//! shard and plain digits for an account.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Virtual time in milliseconds. The protocol never reads a clock: time arrives with each event.
pub type Millis = u64;

/// Why a piece of text is not a valid identifier.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParseIdError {
    pub kind: &'static str,
    pub text: String,
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a valid {}", self.text, self.kind)
    }
}

impl std::error::Error for ParseIdError {}

/// Reads a value written as text (an id, a ratio) through its `FromStr`. The text is parsed inside
/// the deserializer's own `visit_str`, so a reader that knows positions (serde_json) places a bad
/// value's error at that value, and the scenario reader can name its field from there.
pub fn deserialize_parsed<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    deserializer.deserialize_str(ParsedVisitor(std::marker::PhantomData))
}

struct ParsedVisitor<T>(std::marker::PhantomData<T>);

impl<T> serde::de::Visitor<'_> for ParsedVisitor<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }
}

/// Defines a numeric id written with a fixed prefix (`n4`, `t1`, `r7`) and serialised as that text.
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal, $kind:literal, $first:literal) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0 as u64 + $first)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(text: &str) -> Result<Self, ParseIdError> {
                let error = || ParseIdError { kind: $kind, text: text.to_string() };
                let digits = text.strip_prefix($prefix).ok_or_else(error)?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(error());
                }
                let number: u64 = digits.parse().map_err(|_| error())?;
                let value = number.checked_sub($first).ok_or_else(error)?;
                <$inner>::try_from(value).map(Self).map_err(|_| error())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_parsed(deserializer)
            }
        }
    };
}

prefixed_id!(
    /// A node of the cluster, `n1` upwards. Numbering follows seed 002: shard k's nodes are
    /// n(3k+1)..n(3k+3), so the single-node mode uses n1, n4, n7 and the replicated mode fills in.
    NodeId(u16), "n", "node id (expected n1, n2, ...)", 0
);
prefixed_id!(
    /// A transaction id assigned by a coordinator: `t1` upwards.
    TxnId(u32), "t", "transaction id (expected t1, t2, ...)", 0
);
prefixed_id!(
    /// A client request id; a retried or duplicated request keeps its id: `r1` upwards.
    RequestId(u32), "r", "request id (expected r1, r2, ...)", 0
);
prefixed_id!(
    /// One message on the simulated bus, numbered in the order it was sent: `m1` upwards.
    MessageId(u32), "m", "message id (expected m1, m2, ...)", 0
);
prefixed_id!(
    /// A shard (a database, a cluster in seed 002): `C1` upwards, numbered from 1.
    ShardId(u16), "C", "shard id (expected C1, C2, ...)", 1
);

/// An account (an item in seed 002), written as its number: `1001`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub u64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a message comes from or goes to: the (single, simulated) client or a node.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Client,
    Node(NodeId),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Client => f.write_str("client"),
            Endpoint::Node(node) => node.fmt(f),
        }
    }
}

impl FromStr for Endpoint {
    type Err = ParseIdError;
    fn from_str(text: &str) -> Result<Self, ParseIdError> {
        if text == "client" {
            return Ok(Endpoint::Client);
        }
        text.parse()
            .map(Endpoint::Node)
            .map_err(|_| ParseIdError { kind: "endpoint (expected client, n1, n2, ...)", text: text.to_string() })
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Endpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_parsed(deserializer)
    }
}

impl From<NodeId> for Endpoint {
    fn from(node: NodeId) -> Self {
        Endpoint::Node(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text() {
        assert_eq!(NodeId(3).to_string(), "n3");
        assert_eq!("n3".parse::<NodeId>(), Ok(NodeId(3)));
        assert_eq!(ShardId(0).to_string(), "C1");
        assert_eq!("C1".parse::<ShardId>(), Ok(ShardId(0)));
        assert_eq!("client".parse::<Endpoint>(), Ok(Endpoint::Client));
        assert_eq!("t12".parse::<TxnId>(), Ok(TxnId(12)));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for text in ["", "n", "x3", "n-1", "n99999999", "C0", "n 3", "n3a"] {
            assert!(text.parse::<NodeId>().is_err(), "{text}");
            assert!(text.parse::<ShardId>().is_err(), "{text}");
        }
    }
}
