//! The real implementation as a model: the simulator's world, with the same protocol code the
//! playground runs, explored step by step.
//!
//! A state is a whole [`World`]. The steps possible in it are the world's own
//! ([`World::choices`]): submit the next request, deliver any message in flight (in any order),
//! complete a node's next disk write, fire any armed timer, and, within the [`Bounds`], lose or
//! copy a message, crash or restart a node. Time is abstracted away: every armed timer may fire at
//! any moment, however long it was set for (see the README, "how the explorer treats time").
//!
//! The scenario's own randomness and fault schedule are left out: its network loses and copies
//! nothing unless a step says so, and its faults are replaced by the bounds. Every named invariant
//! the simulator checks is checked on every step, and one more property, `progress`, on every
//! quiescent state: when nothing is left to happen (nothing in flight, no disk write pending, no
//! timer armed, every node up), no transaction may be unresolved. And every step must map onto a
//! step of Lamport's TwoPhase specification, or change nothing in it (`refines-two-phase`, see
//! [`crate::refinement`]).
//!
//! A path the explorer finds becomes a scenario whose `schedule` is that path; the simulator plays
//! it step by step to the same violation, and it travels as a share link like any other run.

use crate::refinement::Refinement;
use crate::{Model, StableHasher};
use commitlab_sim::progress::unresolved;
use commitlab_sim::schedule::STEP_MS;
use commitlab_sim::{Choice, Invariant, Scenario, TraceEvent, World};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// How many faults a path may contain, and how many timer firings.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Bounds {
    pub losses: u32,
    pub duplicates: u32,
    pub crashes: u32,
    pub restarts: u32,
    pub timers: u32,
}

impl Default for Bounds {
    /// One lost message, one crash and its restart, two timer firings: enough to reach every
    /// teaching bug of the single-node mode.
    fn default() -> Bounds {
        Bounds { losses: 1, duplicates: 0, crashes: 1, restarts: 1, timers: 2 }
    }
}

impl Bounds {
    /// The most of any one kind: beyond it the space of even the smallest scenario is far too large.
    pub const MAX: u32 = 16;

    /// Each bound by its command-line name, for messages.
    fn named(&self) -> [(&'static str, u32); 5] {
        [
            ("lose", self.losses),
            ("duplicate", self.duplicates),
            ("crash", self.crashes),
            ("restart", self.restarts),
            ("timers", self.timers),
        ]
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in self.named() {
            if value > Bounds::MAX {
                return Err(format!("--{name} {value}: at most {} (the state space grows exponentially)", Bounds::MAX));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Bounds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.named().iter().map(|(name, value)| format!("{name} {value}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// What a path has used of its bounds (part of the state: the same world with less left to spend
/// is a different state).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Used {
    losses: u8,
    duplicates: u8,
    crashes: u8,
    restarts: u8,
    timers: u8,
}

/// One explored state: the world, what its path used of the bounds, and what the step into it
/// broke.
#[derive(Clone, Debug)]
pub struct ImplState {
    pub world: World,
    used: Used,
    /// The run so far mapped onto TwoPhase (a history: part of the state).
    refinement: Refinement,
    found: Vec<(usize, String)>,
}

/// The implementation of one scenario, ready to explore.
pub struct Implementation {
    scenario: Arc<Scenario>,
    bounds: Bounds,
    invariants: Vec<Invariant>,
}

/// The name of the liveness property checked on quiescent states.
pub const PROGRESS: &str = "progress";

/// The name of the refinement check: every step is a TwoPhase step or a stutter (see `refinement`).
pub const REFINES: &str = "refines-two-phase";

impl Implementation {
    /// The scenario as the explorer runs it: its topology, workload, protocol revision, bugs and
    /// timeouts; without its fault schedule or random loss and copies (the bounds stand for them).
    pub fn new(scenario: &Scenario, bounds: Bounds) -> Result<Implementation, String> {
        bounds.validate()?;
        scenario.validate().map_err(|error| error.to_string())?;
        if scenario.replication.is_replicated() {
            return Err("the explorer runs single-node 2PC scenarios for now: this one replicates its groups".into());
        }
        let mut explored = scenario.clone();
        explored.version = explored.version.max(2);
        explored.faults.clear();
        explored.schedule.clear();
        explored.network.loss = commitlab_sim::Ratio::ZERO;
        explored.network.duplication = commitlab_sim::Ratio::ZERO;
        let invariants = Invariant::checked(&explored);
        Ok(Implementation { scenario: Arc::new(explored), bounds, invariants })
    }

    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// The scenario explored (faults and random loss left out).
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The scenario that plays `path` step by step: a share link's worth.
    pub fn scheduled(&self, path: &[Choice]) -> Scenario {
        let mut scenario = (*self.scenario).clone();
        scenario.schedule = path.to_vec();
        let needed_ms = (path.len() as u64 + 1) * STEP_MS;
        scenario.end_ms = scenario.end_ms.max(needed_ms);
        scenario.max_steps = scenario.max_steps.max(path.len() as u64);
        scenario
    }

    fn allowed(&self, used: &Used, choice: &Choice) -> bool {
        let left = |used: u8, bound: u32| u32::from(used) < bound;
        match choice {
            Choice::Lose(_) => left(used.losses, self.bounds.losses),
            Choice::Duplicate(_) => left(used.duplicates, self.bounds.duplicates),
            Choice::Crash(_) => left(used.crashes, self.bounds.crashes),
            Choice::Restart(_) => left(used.restarts, self.bounds.restarts),
            Choice::Timer(..) => left(used.timers, self.bounds.timers),
            Choice::Submit(_) | Choice::Deliver(_) | Choice::Disk(_) => true,
        }
    }
}

impl Implementation {
    /// The `progress` property: in a quiescent world, every transaction must be resolved.
    pub fn progress_failure(world: &World) -> Option<String> {
        if !world.is_quiescent() {
            return None;
        }
        let open = unresolved(world, 0);
        if open.is_empty() {
            return None;
        }
        let list: Vec<String> = open
            .iter()
            .map(|stuck| {
                let what = stuck.txn.map(|txn| txn.to_string()).or(stuck.request.map(|r| r.to_string()));
                let nodes: Vec<String> = stuck.nodes.iter().map(|node| node.to_string()).collect();
                match nodes.is_empty() {
                    true => format!("{}: the client has no reply", what.unwrap_or_default()),
                    false => format!("{} at {}", what.unwrap_or_default(), nodes.join(", ")),
                }
            })
            .collect();
        Some(format!("nothing is left to happen and {} is unresolved", list.join("; ")))
    }
}

impl Model for Implementation {
    type State = ImplState;
    type Action = Choice;

    fn init_states(&self) -> Vec<ImplState> {
        vec![ImplState {
            world: World::new(self.scenario.clone()),
            used: Used::default(),
            refinement: Refinement::new(),
            found: Vec::new(),
        }]
    }

    fn actions(&self, state: &ImplState, out: &mut Vec<Choice>) {
        let mut choices = Vec::new();
        state.world.choices(&mut choices);
        out.extend(choices.into_iter().filter(|choice| self.allowed(&state.used, choice)));
    }

    fn next_state(&self, state: &ImplState, choice: &Choice) -> Option<ImplState> {
        let mut world = state.world.clone();
        let mut trace = Vec::new();
        world.take(*choice, 0, &mut trace).ok()?;
        let mut used = state.used;
        match choice {
            Choice::Lose(_) => used.losses += 1,
            Choice::Duplicate(_) => used.duplicates += 1,
            Choice::Crash(_) => used.crashes += 1,
            Choice::Restart(_) => used.restarts += 1,
            Choice::Timer(..) => used.timers += 1,
            Choice::Submit(_) | Choice::Deliver(_) | Choice::Disk(_) => {}
        }
        let mut found = Vec::new();
        for entry in &trace {
            if let TraceEvent::Violation(violation) = &entry.event {
                if let Some(index) = self.invariants.iter().position(|invariant| *invariant == violation.invariant) {
                    found.push((index, violation.to_string()));
                }
            }
        }
        let mut refinement = state.refinement.clone();
        if let Some(broken) = refinement.observe_step(&trace) {
            found.push((self.invariants.len() + 1, format!("{broken} (after {choice})")));
        }
        if let Some(detail) = Implementation::progress_failure(&world) {
            found.push((self.invariants.len(), detail));
        }
        Some(ImplState { world, used, refinement, found })
    }

    fn fingerprint(&self, state: &ImplState) -> u64 {
        let mut hasher = StableHasher::new();
        state.world.fingerprint(&mut hasher);
        state.used.hash(&mut hasher);
        state.refinement.hash(&mut hasher);
        hasher.finish()
    }

    fn properties(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.invariants.iter().map(|invariant| invariant.name()).collect();
        names.push(PROGRESS);
        names.push(REFINES);
        names
    }

    fn check(&self, state: &ImplState, out: &mut Vec<(usize, String)>) {
        out.extend(state.found.iter().cloned());
    }

    fn large_states(&self) -> bool {
        true
    }
}
