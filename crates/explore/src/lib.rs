//! Exhaustive state-space exploration for Commit Lab.
//!
//! A [`Model`] describes a transition system: its initial states, the actions enabled in a state,
//! the state each action leads to, and the safety properties every reachable state must satisfy.
//! The explorer visits every reachable state once (deduplicated by a 64-bit fingerprint, as TLC
//! and Stateright do), checks the properties on each, and reports for every property the first
//! counterexample it found — in breadth-first order the shortest one — as a path of actions from
//! an initial state.
//!
//! Why it is built this way:
//! - **Small visited table.** Only fingerprints are kept for visited states, each with its parent's
//!   fingerprint, the index of the action that led to it and its depth (24 bytes an entry). Paths are
//!   rebuilt on demand by replaying those action indices from the initial state, so no state is
//!   stored twice and counterexamples can travel as a handful of integers (see [`replay`]).
//! - **Resumable.** In the browser the explorer runs in a Web Worker that must answer messages, so
//!   the single-threaded [`Exploration`] advances in slices ([`Exploration::step`]) and never
//!   reads a clock: the caller measures time.
//! - **Deterministic.** Counts, the chosen counterexamples and their lengths do not depend on the
//!   number of threads: the multi-threaded breadth-first search reproduces the single-threaded
//!   discovery order exactly (see `parallel.rs`).
//!
//! [`spec`] holds Lamport's TwoPhase and TCommit specifications as models.

mod engine;
mod fingerprint;
pub mod implementation;
mod options;
#[cfg(not(target_arch = "wasm32"))]
mod parallel;
pub mod refinement;
mod report;
pub mod spec;
mod visited;

pub use engine::{explore, replay, Exploration, Path, ReplayError};
pub use fingerprint::{fingerprint_of, mix64, StableHasher};
pub use options::{ExploreError, Options, Search, MAX_THREADS};
pub use report::{grouped, Counterexample, MemoryEstimate, Progress, PropertyReport, Report, StopReason, Verdict};

/// A transition system the explorer can search.
///
/// Implementations must be deterministic: the same state gives the same actions in the same order
/// and the same successors, natively and in wasm. Counterexample paths are rebuilt by replaying
/// action indices, so a model that is not deterministic gets paths that cannot be replayed
/// (reported as such, never as a wrong path).
pub trait Model: Sync {
    type State: Clone + Send + Sync;
    type Action: Clone + Send + Sync + std::fmt::Debug;

    fn init_states(&self) -> Vec<Self::State>;

    /// Every action enabled in `state` (may include ones whose next_state is None).
    fn actions(&self, state: &Self::State, out: &mut Vec<Self::Action>);

    /// The state after `action`, or None if it changes nothing / is not enabled.
    fn next_state(&self, state: &Self::State, action: &Self::Action) -> Option<Self::State>;

    /// A 64-bit fingerprint of the state (after symmetry reduction, if the model does it).
    ///
    /// It must be deterministic across runs and platforms: use [`fingerprint_of`] or [`mix64`],
    /// never `RandomState`.
    fn fingerprint(&self, state: &Self::State) -> u64;

    /// Names of the safety properties, in a fixed order; `check` reports by index.
    fn properties(&self) -> Vec<&'static str>;

    /// Pushes (property index, detail) for each property `state` violates.
    fn check(&self, state: &Self::State, out: &mut Vec<(usize, String)>);

    /// For a state with no enabled successor: Some(detail) if it is a liveness failure (e.g. an
    /// unresolved transaction while nothing can happen any more). Default: None.
    fn terminal_failure(&self, _state: &Self::State) -> Option<String> {
        None
    }

    /// True if states own a lot of heap memory (the implementation's states are whole simulated
    /// worlds): the multi-threaded search then works in small batches. Default: false.
    fn large_states(&self) -> bool {
        false
    }
}

/// A borrowed model is a model: `Exploration::new(&model, options)` borrows it.
impl<M: Model> Model for &M {
    type State = M::State;
    type Action = M::Action;

    fn init_states(&self) -> Vec<Self::State> {
        (**self).init_states()
    }
    fn actions(&self, state: &Self::State, out: &mut Vec<Self::Action>) {
        (**self).actions(state, out)
    }
    fn next_state(&self, state: &Self::State, action: &Self::Action) -> Option<Self::State> {
        (**self).next_state(state, action)
    }
    fn fingerprint(&self, state: &Self::State) -> u64 {
        (**self).fingerprint(state)
    }
    fn properties(&self) -> Vec<&'static str> {
        (**self).properties()
    }
    fn check(&self, state: &Self::State, out: &mut Vec<(usize, String)>) {
        (**self).check(state, out)
    }
    fn terminal_failure(&self, state: &Self::State) -> Option<String> {
        (**self).terminal_failure(state)
    }

    fn large_states(&self) -> bool {
        (**self).large_states()
    }
}
