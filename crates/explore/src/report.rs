//! What a search found, and how far along it is.

use crate::options::Search;
use serde::{Serialize, Serializer};

/// A snapshot of a running search, cheap to make and to send to a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Unique states found so far.
    pub states: u64,
    /// Transitions generated so far, including those to states already visited.
    pub edges: u64,
    /// The greatest depth of a state found so far.
    pub depth: u32,
    /// States found but not expanded yet.
    pub queue: u64,
    /// True once the search has stopped, for whatever reason.
    pub done: bool,
}

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StopReason {
    /// Every reachable state (within `max_depth`, if set) was expanded.
    Exhausted,
    /// Every property and liveness had a counterexample: nothing more to learn.
    AllViolated,
    /// `stop_at_first` was set and a violation was found.
    FirstViolation,
    /// `max_states` unique states were found.
    MaxStates,
    /// The stop flag was set.
    StopRequested,
}

/// A property's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Checked on every reachable state: never violated.
    Holds,
    /// A counterexample was found.
    Violated,
    /// Not violated in the states visited, but the search was incomplete.
    Unknown,
}

/// A path from an initial state to a state that violates a property.
#[derive(Debug, Clone, PartialEq, Serialize)]
// Actions serialize as their `Debug` text, so `A` needs no `Serialize`.
#[serde(bound(serialize = ""))]
pub struct Counterexample<A> {
    /// What the model said about the violation.
    pub detail: String,
    /// The number of actions on the path.
    pub depth: u32,
    #[serde(serialize_with = "hex")]
    pub fingerprint: u64,
    /// The index of the initial state in `init_states()`.
    pub init: u32,
    /// The index of each action in its state's `actions()`: with `init`, all [`crate::replay`]
    /// needs to rebuild the states and actions (a compact form for links).
    pub choices: Vec<u32>,
    /// The actions of the path (empty if it could not be replayed).
    #[serde(skip)]
    pub actions: Vec<A>,
    /// The actions' `Debug` texts, for printing and for JSON.
    pub steps: Vec<String>,
    /// Set if the path could not be replayed (the model is not deterministic).
    pub replay_error: Option<String>,
}

/// One property's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
// Actions serialize as their `Debug` text, so `A` needs no `Serialize`.
#[serde(bound(serialize = ""))]
pub struct PropertyReport<A> {
    pub name: &'static str,
    pub verdict: Verdict,
    pub counterexample: Option<Counterexample<A>>,
}

/// How much memory the search held at its peak, as estimated from container capacities. States
/// that own heap memory (a `Vec` inside) cost more than counted here.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryEstimate {
    /// The visited table(s) at the end of the search.
    pub visited_bytes: u64,
    /// The largest frontier (plus, with threads, the largest batch's buffers).
    pub frontier_peak_bytes: u64,
    /// (visited + frontier peak) / unique states.
    pub bytes_per_state: f64,
}

/// The result of a search. `A` is the model's action type; actions serialize as their `Debug` text.
#[derive(Debug, Clone, PartialEq, Serialize)]
// Actions serialize as their `Debug` text, so `A` needs no `Serialize`.
#[serde(bound(serialize = ""))]
pub struct Report<A> {
    pub search: Search,
    pub threads: usize,
    /// Unique states found.
    pub states: u64,
    /// Transitions generated, including those to states already visited.
    pub edges: u64,
    /// The greatest depth of a state found.
    pub max_depth: u32,
    /// True if every reachable state was expanded: then a property that was not violated holds.
    pub complete: bool,
    /// Why the search stopped; None in a report of a search still running.
    pub stop_reason: Option<StopReason>,
    /// True if `max_depth` kept some state from being expanded.
    pub depth_limited: bool,
    /// The safety properties in the model's order.
    pub properties: Vec<PropertyReport<A>>,
    /// Terminal states that the model calls a liveness failure.
    pub liveness: PropertyReport<A>,
    pub memory: MemoryEstimate,
}

impl<A> Report<A> {
    /// True if no property was violated and no liveness failure found.
    pub fn all_hold(&self) -> bool {
        self.properties
            .iter()
            .chain(std::iter::once(&self.liveness))
            .all(|property| property.verdict != Verdict::Violated)
    }

    /// The report of the property with this name (or "liveness").
    pub fn property(&self, name: &str) -> Option<&PropertyReport<A>> {
        self.properties.iter().chain(std::iter::once(&self.liveness)).find(|property| property.name == name)
    }
}

fn hex<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    // As text: JavaScript numbers lose the low bits of a 64-bit fingerprint.
    serializer.serialize_str(&format!("{value:016x}"))
}

/// A count as people read it: 1234567 as 1,234,567 (the command line and the page print counts so).
pub fn grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
