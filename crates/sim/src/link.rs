//! Share links: a scenario and the view on it (cursor, selection, zoom, speed) in a URL fragment,
//! compressed and versioned in the manner of mermaid.live's `#pako:` links:
//!
//! ```text
//! #s=1.<base64url(deflate(json))>
//! ```
//!
//! The JSON is `{"s": <scenario>, "v": <view>}` with the scenario's default-valued fields left
//! out to keep links short. Version 1 links decode with version 1's defaults; tests pin today's
//! link of every preset, so a later change of the format or of a default must keep decoding them.
//! Decoding never panics: every way a link can be wrong has its own message.

use crate::scenario::{Scenario, ScenarioError};
use commitlab_protocol::MessageId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The link format this build writes; it reads every version up to it.
pub const LINK_VERSION: u32 = 1;
/// The fragment key: `#s=...`.
pub const LINK_KEY: &str = "s=";
/// Longer links are refused when made; offer a file instead.
pub const LINK_MAX_CHARS: usize = 8 * 1024;
/// Longer fragments are refused when read, before any decoding.
pub const LINK_READ_MAX_CHARS: usize = 64 * 1024;
/// A link never inflates to more than this.
const INFLATED_MAX_BYTES: usize = crate::scenario::limits::JSON_BYTES;

/// How a shared run is being looked at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// The cursor: events applied.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "c")]
    pub step: Option<u64>,
    /// The selected message.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "m")]
    pub message: Option<MessageId>,
    /// The sequence diagram's visible span, in virtual ms.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "z")]
    pub span_ms: Option<u32>,
    /// Playback speed as tenths of log10 of the multiplier (10 = 10x).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "p")]
    pub speed_tenths: Option<i8>,
}

/// A scenario with its view: everything a link carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Shared {
    pub scenario: Scenario,
    pub view: View,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link holds no scenario (expected #s=1.<data>)")]
    Empty,
    #[error("the link is not a Commit Lab link: {0}")]
    Malformed(String),
    #[error("the link was made by a newer Commit Lab (link version {0}); this one reads versions 1 to {LINK_VERSION}")]
    FutureVersion(u32),
    #[error("the link is {length} characters long, more than the {max} this page reads")]
    TooLongToRead { length: usize, max: usize },
    #[error("the link is damaged or cut short: {0}")]
    Corrupt(String),
    #[error("the link's scenario is invalid: {0}")]
    Invalid(ScenarioError),
    #[error("this scenario makes a link of {length} characters, more than {max}: download it as a file instead")]
    TooLongToMake { length: usize, max: usize },
}

/// Encodes a shared run as the part after `#s=`: `1.<data>`.
pub fn encode(shared: &Shared) -> Result<String, LinkError> {
    let envelope = serde_json::json!({ "s": compact(&shared.scenario), "v": shared.view });
    let json = serde_json::to_vec(&envelope).expect("a scenario always serialises");
    let compressed = miniz_oxide::deflate::compress_to_vec(&json, 10);
    let link = format!("{LINK_VERSION}.{}", base64url::encode(&compressed));
    if link.len() > LINK_MAX_CHARS {
        return Err(LinkError::TooLongToMake { length: link.len(), max: LINK_MAX_CHARS });
    }
    Ok(link)
}

/// Decodes the part after `#s=` (a whole fragment `#s=...` or `s=...` is accepted too).
pub fn decode(link: &str) -> Result<Shared, LinkError> {
    let link = link.trim();
    let link = link.strip_prefix('#').unwrap_or(link);
    let link = link.strip_prefix(LINK_KEY).unwrap_or(link);
    if link.is_empty() {
        return Err(LinkError::Empty);
    }
    if link.len() > LINK_READ_MAX_CHARS {
        return Err(LinkError::TooLongToRead { length: link.len(), max: LINK_READ_MAX_CHARS });
    }
    let (version, data) = link
        .split_once('.')
        .ok_or_else(|| LinkError::Malformed("no version before the data (expected 1.<data>)".to_string()))?;
    let version: u32 = version
        .parse()
        .map_err(|_| LinkError::Malformed(format!("`{}` is not a link version", truncate(version, 12))))?;
    match version {
        0 => Err(LinkError::Malformed("there is no link version 0".to_string())),
        1 => decode_version_1(data),
        future => Err(LinkError::FutureVersion(future)),
    }
}

fn decode_version_1(data: &str) -> Result<Shared, LinkError> {
    let compressed = base64url::decode(data).map_err(|error| match error {
        base64url::Error::CutShort => LinkError::Corrupt("the data is cut short".to_string()),
        base64url::Error::NotLinkData(detail) => LinkError::Malformed(detail),
    })?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, INFLATED_MAX_BYTES)
        .map_err(|error| LinkError::Corrupt(format!("the data does not inflate ({:?})", error.status)))?;
    // Read as text like every other JSON the page reads: one reader's code in the wasm, not two.
    let json = std::str::from_utf8(&json)
        .map_err(|error| LinkError::Corrupt(format!("the data is not a scenario ({error})")))?;
    let envelope: Value = serde_json::from_str(json)
        .map_err(|error| LinkError::Corrupt(format!("the data is not a scenario ({error})")))?;
    let Value::Object(mut envelope) = envelope else {
        return Err(LinkError::Corrupt("the data is not a scenario".to_string()));
    };
    let scenario = envelope.remove("s").ok_or_else(|| LinkError::Corrupt("the data holds no scenario".to_string()))?;
    let view = match envelope.remove("v") {
        Some(view) => serde_json::from_value(view).map_err(|error| LinkError::Corrupt(format!("bad view: {error}")))?,
        None => View::default(),
    };
    let scenario = serde_json::to_string(&scenario).expect("a JSON value always serialises");
    let scenario = Scenario::from_json(&scenario).map_err(LinkError::Invalid)?;
    Ok(Shared { scenario, view })
}

/// The fragment key of a comparison: `#c=...`.
pub const COMPARE_KEY: &str = "c=";

/// Two runs side by side and the shared cursor on virtual time: what a comparison link carries.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedPair {
    pub a: Shared,
    pub b: Shared,
    pub time_ms: u64,
}

/// Why a comparison link cannot be opened, naming the side at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error("the comparison link is not in the form #c=<run A>~<run B>~<time in ms>")]
    Shape,
    #[error("`{0}` is not a time in milliseconds")]
    Time(String),
    #[error("run {side}: {error}")]
    Side { side: char, error: LinkError },
}

/// Encodes a comparison as the part after `#c=`: both runs' links and the time, joined by `~`
/// (which no run link contains).
pub fn encode_pair(pair: &SharedPair) -> Result<String, PairError> {
    let side = |side: char, shared: &Shared| encode(shared).map_err(|error| PairError::Side { side, error });
    Ok(format!("{}~{}~{}", side('A', &pair.a)?, side('B', &pair.b)?, pair.time_ms))
}

/// Decodes the part after `#c=` (a whole fragment `#c=...` is accepted too).
pub fn decode_pair(link: &str) -> Result<SharedPair, PairError> {
    let link = link.trim();
    let link = link.strip_prefix('#').unwrap_or(link);
    let link = link.strip_prefix(COMPARE_KEY).unwrap_or(link);
    if link.len() > 2 * LINK_READ_MAX_CHARS {
        let error = LinkError::TooLongToRead { length: link.len(), max: 2 * LINK_READ_MAX_CHARS };
        return Err(PairError::Side { side: 'A', error });
    }
    let parts: Vec<&str> = link.split('~').collect();
    let [a, b, time] = parts.as_slice() else { return Err(PairError::Shape) };
    let time_ms = time.parse().map_err(|_| PairError::Time(truncate(time, 20)))?;
    let a = decode(a).map_err(|error| PairError::Side { side: 'A', error })?;
    let b = decode(b).map_err(|error| PairError::Side { side: 'B', error })?;
    Ok(SharedPair { a, b, time_ms })
}

/// The scenario as JSON without the fields that equal version 1's defaults.
fn compact(scenario: &Scenario) -> Value {
    let defaults = Scenario::from_json(r#"{"version":1,"topology":{"shards":[{"accounts":{"1":0}}]}}"#)
        .expect("the minimal scenario is valid");
    let defaults = defaults.to_value();
    let mut value = scenario.to_value();
    if let (Value::Object(fields), Value::Object(default_fields)) = (&mut value, &defaults) {
        fields.retain(|key, field| key == "version" || key == "topology" || default_fields.get(key) != Some(field));
        if let Some(Value::Object(topology)) = fields.get_mut("topology") {
            if topology.get("coordinator").and_then(Value::as_str) == Some("colocated") {
                topology.remove("coordinator");
            }
        }
    }
    value
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Base64 with the URL-safe alphabet and no padding, as links use it.
mod base64url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(bytes: &[u8]) -> String {
        let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let word =
                chunk.iter().enumerate().fold(0u32, |word, (index, byte)| word | u32::from(*byte) << (16 - 8 * index));
            for position in 0..=chunk.len() {
                text.push(ALPHABET[(word >> (18 - 6 * position) & 63) as usize] as char);
            }
        }
        text
    }

    #[derive(Debug, PartialEq)]
    pub enum Error {
        NotLinkData(String),
        CutShort,
    }

    pub fn decode(text: &str) -> Result<Vec<u8>, Error> {
        let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
        let (mut word, mut bits) = (0u32, 0u32);
        for (position, character) in text.bytes().enumerate() {
            let value = match character {
                b'A'..=b'Z' => character - b'A',
                b'a'..=b'z' => character - b'a' + 26,
                b'0'..=b'9' => character - b'0' + 52,
                b'-' | b'+' => 62,
                b'_' | b'/' => 63,
                b'=' => break,
                other => {
                    let shown =
                        if other.is_ascii_graphic() { format!("`{}`", other as char) } else { format!("byte {other}") };
                    return Err(Error::NotLinkData(format!("{shown} at position {position} is not link data")));
                }
            };
            word = word << 6 | u32::from(value);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                bytes.push((word >> bits) as u8);
                word &= (1 << bits) - 1;
            }
        }
        if bits >= 6 {
            return Err(Error::CutShort);
        }
        Ok(bytes)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn round_trips_every_length() {
            for length in 0..40 {
                let bytes: Vec<u8> = (0..length).map(|index| (index * 37 + 11) as u8).collect();
                assert_eq!(super::decode(&super::encode(&bytes)), Ok(bytes));
            }
            assert_eq!(super::encode(b"Man"), "TWFu");
            assert_eq!(super::encode(b"Ma"), "TWE");
            assert!(super::decode("TWFu!").is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(name: &str) -> Shared {
        let scenario = (crate::preset(name).expect("preset").build)();
        Shared { scenario, view: View { step: Some(7), ..View::default() } }
    }

    #[test]
    fn a_link_round_trips_with_its_view() {
        let original = shared("lost-commit");
        let link = encode(&original).expect("short enough");
        assert!(link.starts_with("1."));
        assert_eq!(decode(&link), Ok(original.clone()));
        assert_eq!(decode(&format!("#s={link}")), Ok(original));
    }

    #[test]
    fn a_comparison_link_round_trips_and_names_the_side_at_fault() {
        let pair = SharedPair { a: shared("raft-seed-002"), b: shared("paxos-seed-002"), time_ms: 158 };
        let link = encode_pair(&pair).expect("short enough");
        assert_eq!(decode_pair(&link), Ok(pair.clone()));
        assert_eq!(decode_pair(&format!("#c={link}")), Ok(pair));
        let (a, rest) = link.split_once('~').expect("three parts");
        let (b, _) = rest.split_once('~').expect("three parts");
        assert_eq!(decode_pair(a), Err(PairError::Shape));
        assert_eq!(decode_pair(&format!("{a}~{b}~soon")), Err(PairError::Time("soon".to_string())));
        let damaged = format!("{a}~{}~0", &b[..b.len() / 2]);
        assert!(matches!(decode_pair(&damaged), Err(PairError::Side { side: 'B', error: LinkError::Corrupt(_) })));
        let message = decode_pair(&format!("7.x~{b}~0")).unwrap_err().to_string();
        assert!(message.starts_with("run A: the link was made by a newer Commit Lab"), "{message}");
    }

    #[test]
    fn every_way_a_link_can_be_wrong_has_its_message() {
        let link = encode(&shared("happy-path")).expect("short enough");
        assert_eq!(decode(""), Err(LinkError::Empty));
        assert_eq!(decode("#s="), Err(LinkError::Empty));
        assert!(matches!(decode("hello"), Err(LinkError::Malformed(_))));
        assert!(matches!(decode("x.abc"), Err(LinkError::Malformed(_))));
        assert_eq!(decode(&link.replacen("1.", "7.", 1)), Err(LinkError::FutureVersion(7)));
        for cut in [link.len() / 2, link.len() - 1, link.len() - 2] {
            assert!(
                matches!(decode(&link[..cut]), Err(LinkError::Corrupt(_))),
                "cut at {cut}: {:?}",
                decode(&link[..cut])
            );
        }
        assert!(matches!(decode(&format!("{link}!")), Err(LinkError::Malformed(_))));
        let huge = format!("1.{}", "A".repeat(LINK_READ_MAX_CHARS));
        assert!(matches!(decode(&huge), Err(LinkError::TooLongToRead { .. })));
        let not_a_scenario =
            format!("1.{}", base64url::encode(&miniz_oxide::deflate::compress_to_vec(b"{\"s\":{\"version\":1}}", 6)));
        assert!(matches!(decode(&not_a_scenario), Err(LinkError::Invalid(_))), "{:?}", decode(&not_a_scenario));
    }

    #[test]
    fn scenarios_too_big_for_a_link_are_refused() {
        let mut scenario = (crate::preset("busy").expect("preset").build)();
        scenario.workload.requests = (0..2000)
            .map(|index| crate::scenario::RequestSpec {
                at_ms: index * 7 % 1000,
                request: None,
                transfers: vec![commitlab_protocol::Transfer {
                    from: commitlab_protocol::AccountId(1001 + index % 8),
                    to: commitlab_protocol::AccountId(3001 + index * 3 % 8),
                    amount: 1 + index * 13 % 97,
                }],
                journal: Vec::new(),
                saga: false,
            })
            .collect();
        let result = encode(&Shared { scenario, view: View::default() });
        assert!(matches!(result, Err(LinkError::TooLongToMake { .. })), "{result:?}");
    }
}
