//! Commit Lab's deterministic simulator: the world around the protocol's nodes.
//!
//! A [`Scenario`] (versioned JSON) describes a run completely; a [`Simulation`] runs it event by
//! event in virtual time with one seeded PRNG, records a [`TraceEntry`] for everything that
//! happens, checks the named [`Invariant`]s after every event, and can seek to any point by
//! replaying from checkpoints. It knows nothing of the web page that draws it.

pub mod consensus;
pub mod export;
pub mod fault;
pub mod invariants;
pub mod json_path;
pub mod link;
pub mod machine;
pub mod presets;
pub mod progress;
pub mod rng;
pub mod scenario;
pub mod schedule;
pub mod simulation;
pub mod stats;
pub mod summary;
pub mod trace;
pub mod wal;
pub mod world;

pub use fault::{Fault, MessageFilter, MessageTarget, ScheduledFault};
pub use invariants::{Invariant, Violation};
pub use link::{LinkError, PairError, Shared, SharedPair, View};
pub use presets::{comparison, preset, Comparison, Preset, COMPARISONS, PRESETS};
pub use progress::{Progress, Stuck};
pub use rng::{Ratio, Rng};
pub use scenario::{limits, CoordinatorPlacement, Engine, Replication, Scenario, ScenarioError, SCENARIO_VERSION};
pub use schedule::Choice;
pub use simulation::{
    InDoubt, InvariantStatus, LogRow, NodeSnapshot, PaxosView, RaftView, SeqRow, Simulation, SlotRow, CHECKPOINT_EVERY,
};
pub use trace::{DropReason, TraceEntry, TraceEvent};
pub use world::{NodeSlot, Slots, Stop, World};
