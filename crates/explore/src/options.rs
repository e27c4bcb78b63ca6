//! What a search is asked to do, and the errors for options it cannot honour.

use serde::Serialize;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// The most threads [`Options::threads`] accepts.
pub const MAX_THREADS: usize = 256;

/// The order in which states are expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Search {
    /// Level by level: the first counterexample found for a property is a shortest one.
    BreadthFirst,
    /// Deepest first (single-threaded only): finds deep violations with a smaller frontier.
    DepthFirst,
}

/// Options of one search. `Options::default()` is an unbounded single-threaded breadth-first
/// search that runs until every property has a counterexample or the space is exhausted.
#[derive(Debug, Clone)]
pub struct Options {
    pub search: Search,
    /// Worker threads, at least 1. More than one needs breadth-first search and a native target.
    pub threads: usize,
    /// Stop (and report the search incomplete) once this many unique states were found.
    pub max_states: Option<u64>,
    /// Do not expand states at this depth (initial states have depth 0); the report says whether
    /// that cut anything off.
    pub max_depth: Option<u32>,
    /// Stop at the first violation of any property (or liveness failure). Otherwise the search
    /// goes on until every property and liveness has a counterexample or the space is exhausted.
    pub stop_at_first: bool,
    /// [`crate::explore`] calls its progress callback about every this many new states.
    pub progress_every: u64,
    /// Set it (from any thread) to stop the search; the report then says it is incomplete.
    pub stop: Arc<AtomicBool>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            search: Search::BreadthFirst,
            threads: 1,
            max_states: None,
            max_depth: None,
            stop_at_first: false,
            progress_every: 100_000,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Why a search could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExploreError {
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption { option: &'static str, reason: String },
}

fn invalid(option: &'static str, reason: impl Into<String>) -> ExploreError {
    ExploreError::InvalidOption { option, reason: reason.into() }
}

impl Options {
    /// Checks every option; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ExploreError> {
        if self.threads == 0 {
            return Err(invalid("threads", "must be at least 1"));
        }
        if self.threads > MAX_THREADS {
            return Err(invalid("threads", format!("{} is more than the limit of {MAX_THREADS}", self.threads)));
        }
        if self.threads > 1 && self.search == Search::DepthFirst {
            return Err(invalid(
                "threads",
                format!("depth-first search is single-threaded, but {} threads were asked for", self.threads),
            ));
        }
        if self.threads > 1 && cfg!(target_arch = "wasm32") {
            return Err(invalid("threads", "only 1 thread is available on wasm32"));
        }
        if self.max_states == Some(0) {
            return Err(invalid("max_states", "must be at least 1 (leave it unset for no limit)"));
        }
        if self.progress_every == 0 {
            return Err(invalid("progress_every", "must be at least 1"));
        }
        Ok(())
    }
}
