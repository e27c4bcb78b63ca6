//! The single-threaded, resumable search, and path reconstruction.
//!
//! Every state is checked when it is first discovered, so in breadth-first order the first
//! violation of a property found is one of the shortest. The frontier holds the states (and
//! their fingerprints and depths) still to expand; the visited table holds only fingerprints and
//! origins. The search never reads a clock: [`Exploration::step`] does a bounded amount of work
//! and returns, so a Web Worker can interleave it with its message handling.

use crate::options::{ExploreError, Options, Search};
use crate::report::{Counterexample, MemoryEstimate, Progress, PropertyReport, Report, StopReason, Verdict};
use crate::visited::{Origin, Visited, INITIAL};
use crate::Model;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;

/// How often (in expanded states) the stop flag is read.
pub(crate) const STOP_CHECK_EVERY: usize = 1024;

/// A state waiting to be expanded.
pub(crate) struct Node<S> {
    pub(crate) state: S,
    pub(crate) fingerprint: u64,
    pub(crate) depth: u32,
}

/// The first violation found for a property (or liveness).
pub(crate) struct Found {
    pub(crate) fingerprint: u64,
    pub(crate) depth: u32,
    pub(crate) detail: String,
}

/// A path from an initial state: `states[0]` is initial, `actions[i]` leads from `states[i]` to
/// `states[i + 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path<S, A> {
    pub states: Vec<S>,
    pub actions: Vec<A>,
}

/// Why a path could not be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("no state with fingerprint {0:016x} was visited")]
    UnknownFingerprint(u64),
    #[error("the model has no initial state number {init} (it has {count})")]
    NoInitialState { init: u32, count: usize },
    #[error("step {step}: the state has no action number {choice} (it has {count})")]
    NoAction { step: usize, choice: u32, count: usize },
    #[error("step {step}: action {action} changes nothing in the replayed state")]
    NotEnabled { step: usize, action: String },
    #[error("the replayed path ends in a state with another fingerprint: the model is not deterministic")]
    FingerprintMismatch,
}

/// Rebuilds the states and actions of a path given as the index of its initial state and the
/// index of each action in its state's `actions()` (a [`Counterexample`]'s `init` and `choices`).
pub fn replay<M: Model>(model: &M, init: u32, choices: &[u32]) -> Result<Path<M::State, M::Action>, ReplayError> {
    let mut initial = model.init_states();
    let count = initial.len();
    let index = usize::try_from(init).ok().filter(|&index| index < count);
    let Some(index) = index else {
        return Err(ReplayError::NoInitialState { init, count });
    };
    let mut states = Vec::with_capacity(choices.len() + 1);
    states.push(initial.swap_remove(index));
    let mut actions = Vec::with_capacity(choices.len());
    let mut enabled = Vec::new();
    for (step, &choice) in choices.iter().enumerate() {
        let state = states.last().expect("a path starts with its initial state");
        enabled.clear();
        model.actions(state, &mut enabled);
        let action = usize::try_from(choice).ok().and_then(|choice| enabled.get(choice));
        let Some(action) = action else {
            return Err(ReplayError::NoAction { step, choice, count: enabled.len() });
        };
        let Some(next) = model.next_state(state, action) else {
            return Err(ReplayError::NotEnabled { step, action: format!("{action:?}") });
        };
        actions.push(action.clone());
        states.push(next);
    }
    Ok(Path { states, actions })
}

/// A single-threaded search that advances in slices: see [`Exploration::step`].
///
/// It owns its model: pass `&model` to borrow one (`&M` is a [`Model`] too), or an owned model or
/// an `Arc` when the search must live on its own, e.g. between a Web Worker's messages.
pub struct Exploration<M: Model> {
    pub(crate) model: M,
    actions: Vec<M::Action>,
    pub(crate) core: Core<M::State>,
}

/// Everything a search keeps but its model, so the search can be updated while the model is
/// borrowed.
pub(crate) struct Core<S> {
    pub(crate) options: Options,
    pub(crate) visited: Visited,
    pub(crate) frontier: VecDeque<Node<S>>,
    property_names: Vec<&'static str>,
    /// One slot per property, then one for liveness.
    pub(crate) found: Vec<Option<Found>>,
    found_count: usize,
    pub(crate) states: u64,
    pub(crate) edges: u64,
    pub(crate) max_depth: u32,
    pub(crate) depth_limited: bool,
    pub(crate) stop_reason: Option<StopReason>,
    /// The largest buffers the multi-threaded search held at once besides the frontier, in bytes.
    pub(crate) parallel_peak_bytes: u64,
    violations: Vec<(usize, String)>,
}

impl<M: Model> Exploration<M> {
    /// Starts a single-threaded search: validates the options and discovers the initial states.
    /// `options.threads` must be 1 (use [`crate::explore`] for more).
    pub fn new(model: M, options: Options) -> Result<Self, ExploreError> {
        options.validate()?;
        if options.threads != 1 {
            return Err(ExploreError::InvalidOption {
                option: "threads",
                reason: format!(
                    "the resumable Exploration is single-threaded, but {} threads were asked for (use explore())",
                    options.threads
                ),
            });
        }
        Ok(Self::with_shards(model, options, 1))
    }

    /// Starts a search whose options were validated, with a visited table of `shard_count` shards.
    pub(crate) fn with_shards(model: M, options: Options, shard_count: usize) -> Self {
        let property_names = model.properties();
        let slots = property_names.len() + 1;
        let mut core = Core {
            options,
            visited: Visited::new(shard_count),
            frontier: VecDeque::new(),
            property_names,
            found: (0..slots).map(|_| None).collect(),
            found_count: 0,
            states: 0,
            edges: 0,
            max_depth: 0,
            depth_limited: false,
            stop_reason: None,
            parallel_peak_bytes: 0,
            violations: Vec::new(),
        };
        for (index, state) in (0..INITIAL).zip(model.init_states()) {
            let fingerprint = model.fingerprint(&state);
            core.discover(&model, state, fingerprint, Origin { parent: u64::from(index), action: INITIAL, depth: 0 });
            if core.stop_reason.is_some() {
                break;
            }
        }
        if core.stop_reason.is_none() && core.frontier.is_empty() {
            core.stop_reason = Some(StopReason::Exhausted);
        }
        Self { model, actions: Vec::new(), core }
    }

    /// The model being explored.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Expands up to `max_expansions` states and says how far the search is.
    pub fn step(&mut self, max_expansions: usize) -> Progress {
        let mut expanded = 0;
        while self.core.stop_reason.is_none() && expanded < max_expansions {
            if expanded % STOP_CHECK_EVERY == 0 && self.core.options.stop.load(Ordering::Relaxed) {
                self.core.stop_reason = Some(StopReason::StopRequested);
                break;
            }
            let node = match self.core.options.search {
                Search::BreadthFirst => self.core.frontier.pop_front(),
                Search::DepthFirst => self.core.frontier.pop_back(),
            };
            let Some(node) = node else {
                self.core.stop_reason = Some(StopReason::Exhausted);
                break;
            };
            self.expand(&node);
            expanded += 1;
        }
        if self.core.stop_reason.is_none() && self.core.frontier.is_empty() {
            self.core.stop_reason = Some(StopReason::Exhausted);
        }
        self.progress()
    }

    /// True once the search has stopped.
    pub fn is_done(&self) -> bool {
        self.core.stop_reason.is_some()
    }

    pub fn progress(&self) -> Progress {
        let core = &self.core;
        Progress {
            states: core.states,
            edges: core.edges,
            depth: core.max_depth,
            queue: core.frontier.len() as u64,
            done: self.is_done(),
        }
    }

    /// The path to a visited state, rebuilt by replaying the recorded actions.
    pub fn path(&self, fingerprint: u64) -> Result<Path<M::State, M::Action>, ReplayError> {
        let (init, choices) = self.core.choices(fingerprint)?;
        let path = replay(&self.model, init, &choices)?;
        let last = path.states.last().expect("a path starts with its initial state");
        if self.model.fingerprint(last) != fingerprint {
            return Err(ReplayError::FingerprintMismatch);
        }
        Ok(path)
    }

    /// What the search found so far (final once [`Exploration::is_done`]).
    pub fn report(&self) -> Report<M::Action> {
        let core = &self.core;
        let complete = core.stop_reason == Some(StopReason::Exhausted) && !core.depth_limited;
        let verdicts = core.found.iter().map(|found| match found {
            Some(found) => (Verdict::Violated, Some(self.counterexample(found))),
            None if complete => (Verdict::Holds, None),
            None => (Verdict::Unknown, None),
        });
        let names = core.property_names.iter().copied().chain(std::iter::once("liveness"));
        let mut properties: Vec<PropertyReport<M::Action>> = names
            .zip(verdicts)
            .map(|(name, (verdict, counterexample))| PropertyReport { name, verdict, counterexample })
            .collect();
        let liveness = properties.pop().expect("the liveness slot is always there");
        Report {
            search: core.options.search,
            threads: core.options.threads,
            states: core.states,
            edges: core.edges,
            max_depth: core.max_depth,
            complete,
            stop_reason: core.stop_reason,
            depth_limited: core.depth_limited,
            properties,
            liveness,
            memory: core.memory(),
        }
    }

    fn counterexample(&self, found: &Found) -> Counterexample<M::Action> {
        let mut counterexample = Counterexample {
            detail: found.detail.clone(),
            depth: found.depth,
            fingerprint: found.fingerprint,
            init: 0,
            choices: Vec::new(),
            actions: Vec::new(),
            steps: Vec::new(),
            replay_error: None,
        };
        match self.core.choices(found.fingerprint) {
            Ok((init, choices)) => {
                counterexample.init = init;
                counterexample.choices = choices;
            }
            Err(error) => {
                counterexample.replay_error = Some(error.to_string());
                return counterexample;
            }
        }
        match self.path(found.fingerprint) {
            Ok(path) => {
                counterexample.steps = path.actions.iter().map(|action| format!("{action:?}")).collect();
                counterexample.actions = path.actions;
            }
            Err(error) => counterexample.replay_error = Some(error.to_string()),
        }
        counterexample
    }

    fn expand(&mut self, node: &Node<M::State>) {
        let Self { model, actions, core } = self;
        let at_limit = core.options.max_depth.is_some_and(|limit| node.depth >= limit);
        let expansion = successors(model, node, actions, at_limit, |index, next, fingerprint| {
            let origin = Origin { parent: node.fingerprint, action: index, depth: node.depth + 1 };
            core.discover(model, next, fingerprint, origin);
            core.stop_reason.is_none()
        });
        core.edges += expansion.edges;
        core.depth_limited |= expansion.depth_limited;
        if !expansion.moved && core.found[core.found.len() - 1].is_none() {
            if let Some(detail) = model.terminal_failure(&node.state) {
                core.record_liveness(node.fingerprint, node.depth, detail);
            }
        }
    }
}

/// What expanding one state found, besides the successors themselves.
pub(crate) struct Expansion {
    /// Transitions generated, including those to states already visited (not self-loops).
    pub(crate) edges: u64,
    /// Whether some action leads to another state (a state that cannot move is terminal).
    pub(crate) moved: bool,
    /// At the depth limit: whether the limit kept a successor from being generated.
    pub(crate) depth_limited: bool,
}

/// The one expansion of a state, shared by the single- and multi-threaded searches: every
/// successor that leads elsewhere goes to `found` with its action's index and fingerprint, in
/// `actions()` order, until `found` returns false. At the depth limit no successor is handed on;
/// the expansion only learns whether one exists.
pub(crate) fn successors<M: Model>(
    model: &M,
    node: &Node<M::State>,
    actions: &mut Vec<M::Action>,
    at_limit: bool,
    mut found: impl FnMut(u32, M::State, u64) -> bool,
) -> Expansion {
    let mut expansion = Expansion { edges: 0, moved: false, depth_limited: false };
    actions.clear();
    model.actions(&node.state, actions);
    for (index, action) in (0..INITIAL).zip(actions.iter()) {
        let Some(next) = model.next_state(&node.state, action) else {
            continue;
        };
        let fingerprint = model.fingerprint(&next);
        if at_limit {
            if fingerprint != node.fingerprint {
                expansion.moved = true;
                expansion.depth_limited = true;
                break;
            }
            continue;
        }
        expansion.edges += 1;
        if fingerprint == node.fingerprint {
            continue;
        }
        expansion.moved = true;
        if !found(index, next, fingerprint) {
            break;
        }
    }
    expansion
}

impl<S> Core<S> {
    fn memory(&self) -> MemoryEstimate {
        let visited_bytes = self.visited.bytes();
        let frontier_bytes = (self.frontier.capacity() * std::mem::size_of::<Node<S>>()) as u64;
        let frontier_peak_bytes = frontier_bytes + self.parallel_peak_bytes;
        let bytes_per_state =
            if self.states == 0 { 0.0 } else { (visited_bytes + frontier_peak_bytes) as f64 / self.states as f64 };
        MemoryEstimate { visited_bytes, frontier_peak_bytes, bytes_per_state }
    }

    /// The initial state's index and the action indices that lead to `fingerprint`.
    fn choices(&self, fingerprint: u64) -> Result<(u32, Vec<u32>), ReplayError> {
        let mut choices = Vec::new();
        let mut current = fingerprint;
        loop {
            let origin = self.visited.get(current).ok_or(ReplayError::UnknownFingerprint(current))?;
            if origin.action == INITIAL {
                choices.reverse();
                let init = u32::try_from(origin.parent).expect("an initial state's index fits in u32");
                return Ok((init, choices));
            }
            choices.push(origin.action);
            // Depths strictly decrease along parents, so this ends; guard against a corrupt table.
            assert!(choices.len() as u64 <= self.states, "the parent chain of {fingerprint:016x} has a cycle");
            current = origin.parent;
        }
    }

    fn discover<M: Model<State = S>>(&mut self, model: &M, state: S, fingerprint: u64, origin: Origin) {
        if !self.visited.insert_new(fingerprint, origin) {
            return;
        }
        self.states += 1;
        self.max_depth = self.max_depth.max(origin.depth);
        let mut violations = std::mem::take(&mut self.violations);
        violations.clear();
        model.check(&state, &mut violations);
        for (property, detail) in violations.drain(..) {
            self.record_violation(property, fingerprint, origin.depth, detail);
        }
        self.violations = violations;
        self.frontier.push_back(Node { state, fingerprint, depth: origin.depth });
        if self.stop_reason.is_none() && self.options.max_states.is_some_and(|max| self.states >= max) {
            self.stop_reason = Some(StopReason::MaxStates);
        }
    }

    pub(crate) fn record_violation(&mut self, property: usize, fingerprint: u64, depth: u32, detail: String) {
        let count = self.property_names.len();
        assert!(property < count, "Model::check reported property {property}, but properties() names only {count}");
        if self.found[property].is_none() {
            self.record(property, fingerprint, depth, detail);
        }
    }

    pub(crate) fn record_liveness(&mut self, fingerprint: u64, depth: u32, detail: String) {
        let slot = self.found.len() - 1;
        if self.found[slot].is_none() {
            self.record(slot, fingerprint, depth, detail);
        }
    }

    fn record(&mut self, slot: usize, fingerprint: u64, depth: u32, detail: String) {
        debug_assert!(self.found[slot].is_none());
        self.found[slot] = Some(Found { fingerprint, depth, detail });
        self.found_count += 1;
        if self.stop_reason.is_some() {
            return;
        }
        if self.options.stop_at_first {
            self.stop_reason = Some(StopReason::FirstViolation);
        } else if self.found_count == self.found.len() {
            self.stop_reason = Some(StopReason::AllViolated);
        }
    }

    /// Whether recording `new_slots` more first violations would end the search.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn would_settle(&self, new_slots: usize) -> bool {
        if new_slots == 0 {
            return false;
        }
        self.options.stop_at_first || self.found_count + new_slots == self.found.len()
    }
}

/// Runs a search to the end. With `threads == 1` it drives an [`Exploration`]; with more (native
/// only, breadth-first) it expands batches of the frontier on scoped threads, and its report is
/// identical but for `threads` and `memory` (unless the stop flag, which is asynchronous, stops
/// it). `on_progress` is called about every `options.progress_every` states and once at the end;
/// set `options.stop` to stop early.
pub fn explore<M: Model>(
    model: &M,
    options: Options,
    mut on_progress: impl FnMut(Progress),
) -> Result<Report<M::Action>, ExploreError> {
    options.validate()?;
    #[cfg(not(target_arch = "wasm32"))]
    if options.threads > 1 {
        return Ok(crate::parallel::explore(model, options, &mut on_progress));
    }
    let slice = usize::try_from(options.progress_every).unwrap_or(usize::MAX);
    let mut run = Exploration::new(model, options)?;
    loop {
        let progress = run.step(slice);
        on_progress(progress);
        if progress.done {
            return Ok(run.report());
        }
    }
}
