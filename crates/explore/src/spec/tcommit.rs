//! TCommit.tla: the Transaction Commit specification, the abstract protocol TwoPhase implements.
//!
//! The only variable is `rmState[rm]`. An RM may prepare while working (`Prepare(rm)`), and
//! `Decide(rm)` has two disjuncts: a prepared RM commits if every RM is prepared or committed
//! (`canCommit`), and a working or prepared RM aborts if no RM has committed (`notCommitted`).
//! The two disjuncts are separate actions here ([`TCommitAction::DecideCommit`] and
//! [`TCommitAction::DecideAbort`]); both are named "Decide".
//!
//! Packed into a `u32`: 2 bits per RM's state from bit 0, the number of RMs in bits 28..32.

use super::{check_rm_count, first_undecided, inconsistency, low_bits, sort_fields};
use super::{RmState, SpecError};
use crate::{mix64, Model};
use serde::{Serialize, Serializer};
use std::fmt;

const RM_COUNT_SHIFT: u32 = 28;

/// One step of TCommit.tla's next-state relation `TCNext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TCommitAction {
    /// `Prepare(rm)`.
    Prepare(usize),
    /// `Decide(rm)`, first disjunct: prepared → committed when `canCommit`.
    DecideCommit(usize),
    /// `Decide(rm)`, second disjunct: working or prepared → aborted when `notCommitted`.
    DecideAbort(usize),
}

impl TCommitAction {
    /// The action's name in TCommit.tla.
    pub fn name(self) -> &'static str {
        match self {
            TCommitAction::Prepare(_) => "Prepare",
            TCommitAction::DecideCommit(_) | TCommitAction::DecideAbort(_) => "Decide",
        }
    }
}

/// A state of TCommit.tla. It knows its number of RMs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TCommitState(u32);

impl TCommitState {
    /// `TCInit`: every RM working.
    pub fn initial(rm_count: usize) -> Result<Self, SpecError> {
        check_rm_count(rm_count)?;
        Ok(Self((rm_count as u32) << RM_COUNT_SHIFT))
    }

    /// The state with these RM states; the number of RMs is `rm_states.len()`.
    pub fn from_rm_states(rm_states: &[RmState]) -> Result<Self, SpecError> {
        let initial = Self::initial(rm_states.len())?;
        Ok(rm_states.iter().enumerate().fold(initial, |state, (rm, &rm_state)| state.with_rm_state(rm, rm_state)))
    }

    pub(crate) fn from_bits(rm_bits: u64, rm_count: usize) -> Self {
        Self(rm_bits as u32 | ((rm_count as u32) << RM_COUNT_SHIFT))
    }

    /// The packed representation.
    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn rm_count(self) -> usize {
        (self.0 >> RM_COUNT_SHIFT) as usize
    }

    /// `rmState[rm]`, or None if there is no such RM.
    pub fn rm_state(self, rm: usize) -> Option<RmState> {
        (rm < self.rm_count()).then(|| self.rm(rm))
    }

    /// `rmState`, indexed by RM.
    pub fn rm_states(self) -> Vec<RmState> {
        (0..self.rm_count()).map(|rm| self.rm(rm)).collect()
    }

    fn rm(self, rm: usize) -> RmState {
        RmState::from_bits(u64::from(self.0 >> (2 * rm)))
    }

    fn rm_bits(self) -> u64 {
        u64::from(self.0) & ((1 << (2 * self.rm_count())) - 1)
    }

    fn with_rm_state(self, rm: usize, rm_state: RmState) -> Self {
        let shift = 2 * rm as u32;
        Self((self.0 & !(0b11 << shift)) | ((rm_state as u32) << shift))
    }

    /// `canCommit`: every RM prepared (0b01) or committed (0b10), i.e. its two bits differ.
    fn can_commit(self) -> bool {
        let low = low_bits(self.rm_count());
        let bits = self.rm_bits();
        ((bits ^ (bits >> 1)) & low) == low
    }

    /// `notCommitted`: no RM committed (0b10).
    fn not_committed(self) -> bool {
        let low = low_bits(self.rm_count());
        let bits = self.rm_bits();
        ((bits >> 1) & !bits & low) == 0
    }
}

impl fmt::Debug for TCommitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rm_states: Vec<&str> = self.rm_states().into_iter().map(RmState::name).collect();
        f.debug_struct("TCommitState").field("rm_state", &rm_states).finish()
    }
}

impl Serialize for TCommitState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.rm_states().serialize(serializer)
    }
}

/// The TCommit specification for a number of RMs, optionally with symmetry reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TCommit {
    rm_count: usize,
    symmetry: bool,
}

impl TCommit {
    pub const PROPERTIES: [&'static str; 2] = ["TCTypeOK", "TCConsistent"];

    /// The spec with `RM = 0..rm_count`; 1 ≤ rm_count ≤ [`super::MAX_RMS`].
    pub fn new(rm_count: usize) -> Result<Self, SpecError> {
        check_rm_count(rm_count)?;
        Ok(Self { rm_count, symmetry: false })
    }

    /// With symmetry reduction over RMs (fingerprints of the sorted RM states).
    pub fn with_symmetry(self, symmetry: bool) -> Self {
        Self { symmetry, ..self }
    }

    pub fn rm_count(&self) -> usize {
        self.rm_count
    }

    pub fn symmetry(&self) -> bool {
        self.symmetry
    }

    pub fn initial_state(&self) -> TCommitState {
        TCommitState((self.rm_count as u32) << RM_COUNT_SHIFT)
    }

    /// The canonical form used for fingerprints with symmetry: the RM states sorted.
    pub fn canonical(&self, state: &TCommitState) -> u64 {
        let count = u64::from(state.0 >> RM_COUNT_SHIFT) << RM_COUNT_SHIFT;
        count | sort_fields(state.rm_bits(), state.rm_count(), 2)
    }

    /// The spec action that takes `from` to `to` in one step, if any.
    pub fn step_action(&self, from: &TCommitState, to: &TCommitState) -> Option<TCommitAction> {
        if from.rm_count() != self.rm_count || to.rm_count() != self.rm_count {
            return None;
        }
        let mut actions = Vec::new();
        self.actions(from, &mut actions);
        actions.into_iter().find(|action| self.next_state(from, action).as_ref() == Some(to))
    }

    /// The name of the spec action that takes `from` to `to` ("stutter" if they are equal), or
    /// None if no single step of TCommit does.
    pub fn step_name(&self, from: &TCommitState, to: &TCommitState) -> Option<&'static str> {
        if from == to && from.rm_count() == self.rm_count {
            return Some("stutter");
        }
        self.step_action(from, to).map(TCommitAction::name)
    }
}

impl Model for TCommit {
    type State = TCommitState;
    type Action = TCommitAction;

    fn init_states(&self) -> Vec<TCommitState> {
        vec![self.initial_state()]
    }

    /// Only the actions whose guard holds, for each RM: Prepare, then Decide's two disjuncts.
    fn actions(&self, state: &TCommitState, out: &mut Vec<TCommitAction>) {
        let can_commit = state.can_commit();
        let not_committed = state.not_committed();
        for rm in 0..self.rm_count {
            let rm_state = state.rm(rm);
            if rm_state == RmState::Working {
                out.push(TCommitAction::Prepare(rm));
            }
            if rm_state == RmState::Prepared && can_commit {
                out.push(TCommitAction::DecideCommit(rm));
            }
            if matches!(rm_state, RmState::Working | RmState::Prepared) && not_committed {
                out.push(TCommitAction::DecideAbort(rm));
            }
        }
    }

    fn next_state(&self, state: &TCommitState, action: &TCommitAction) -> Option<TCommitState> {
        let (rm, guard, to) = match *action {
            TCommitAction::Prepare(rm) => (rm, state.rm_state(rm) == Some(RmState::Working), RmState::Prepared),
            TCommitAction::DecideCommit(rm) => {
                (rm, state.rm_state(rm) == Some(RmState::Prepared) && state.can_commit(), RmState::Committed)
            }
            TCommitAction::DecideAbort(rm) => {
                let undecided = matches!(state.rm_state(rm), Some(RmState::Working | RmState::Prepared));
                (rm, undecided && state.not_committed(), RmState::Aborted)
            }
        };
        guard.then(|| state.with_rm_state(rm, to))
    }

    fn fingerprint(&self, state: &TCommitState) -> u64 {
        if self.symmetry {
            mix64(self.canonical(state))
        } else {
            mix64(u64::from(state.0))
        }
    }

    fn properties(&self) -> Vec<&'static str> {
        Self::PROPERTIES.to_vec()
    }

    fn check(&self, state: &TCommitState, out: &mut Vec<(usize, String)>) {
        // TCTypeOK: rmState is a function from RM to the four states; the encoding gives the
        // values, so only the domain (the number of RMs, no stray bits) can be wrong.
        let stray = u64::from(state.0 & ((1 << RM_COUNT_SHIFT) - 1)) >> (2 * self.rm_count) != 0;
        if state.rm_count() != self.rm_count || stray {
            out.push((0, format!("not well typed for {} RMs: {:#010x}", self.rm_count, state.0)));
        }
        if let Some(detail) = inconsistency(state.rm_bits(), self.rm_count) {
            out.push((1, detail));
        }
    }

    /// TCommit specifies only safety; as a liveness check, a state where nothing can happen
    /// while some RM is still working or prepared is a failure.
    fn terminal_failure(&self, state: &TCommitState) -> Option<String> {
        let rm = first_undecided(state.rm_bits(), state.rm_count())?;
        Some(format!("RM {rm} is still {} and no step is enabled", state.rm(rm).name()))
    }
}

impl std::fmt::Display for TCommitAction {
    /// The action as TCommit.tla writes it, RMs numbered from 1, with the disjunct of `Decide`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TCommitAction::Prepare(rm) => write!(f, "Prepare(rm{})", rm + 1),
            TCommitAction::DecideCommit(rm) => write!(f, "Decide(rm{}) -> committed", rm + 1),
            TCommitAction::DecideAbort(rm) => write!(f, "Decide(rm{}) -> aborted", rm + 1),
        }
    }
}
