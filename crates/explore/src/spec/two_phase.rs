//! TwoPhase.tla: the Two-Phase Commit protocol, action for action.
//!
//! Variables: `rmState[rm]` ∈ {working, prepared, committed, aborted}, `tmState` ∈ {init,
//! committed, aborted}, `tmPrepared` ⊆ RM (the RMs whose Prepared message the TM received) and
//! `msgs`, the set of every message ever sent: `[type: {"Prepared"}, rm: RM]` ∪ `[type: {"Commit",
//! "Abort"}]`. Messages are never removed, so receiving one is enabled by its presence, and
//! receiving it twice changes nothing. RMs prepare spontaneously (the TM's Prepare messages are
//! not modelled) and choose to abort without telling anyone (the TM aborts spontaneously instead).
//!
//! Packed into one `u64`:
//!
//! | bits   | variable                                         |
//! |--------|--------------------------------------------------|
//! | 0..28  | `rmState`, 2 bits per RM ([`RmState`] encoding)  |
//! | 28..42 | `tmPrepared`, 1 bit per RM                       |
//! | 42..56 | Prepared messages in `msgs`, 1 bit per RM        |
//! | 56..58 | `tmState` ([`TmState`] encoding)                 |
//! | 58, 59 | Commit, Abort message in `msgs`                  |
//! | 60..64 | the number of RMs                                |

use super::{check_rm_count, first_undecided, inconsistency, sort_fields};
use super::{RmState, SpecError, MAX_RMS};
use crate::spec::tcommit::TCommitState;
use crate::{mix64, Model};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

const TM_PREPARED_SHIFT: u32 = 28;
const PREPARED_MSG_SHIFT: u32 = 42;
const TM_STATE_SHIFT: u32 = 56;
const COMMIT_MSG_BIT: u64 = 1 << 58;
const ABORT_MSG_BIT: u64 = 1 << 59;
const RM_COUNT_SHIFT: u32 = 60;
/// tmState, the Commit and Abort messages and the RM count: everything not per RM.
const GLOBAL_MASK: u64 = 0xff << TM_STATE_SHIFT;

/// The transaction manager's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TmState {
    Init = 0,
    Committed = 1,
    Aborted = 2,
}

impl TmState {
    /// The name used in TwoPhase.tla.
    pub fn name(self) -> &'static str {
        match self {
            TmState::Init => "init",
            TmState::Committed => "committed",
            TmState::Aborted => "aborted",
        }
    }
}

/// An element of `msgs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Message {
    /// `[type |-> "Prepared", rm |-> rm]`, from an RM to the TM.
    Prepared(usize),
    /// `[type |-> "Commit"]`, broadcast by the TM.
    Commit,
    /// `[type |-> "Abort"]`, broadcast by the TM.
    Abort,
}

/// One step of TwoPhase.tla's next-state relation `TPNext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TwoPhaseAction {
    TmRcvPrepared(usize),
    TmCommit,
    TmAbort,
    RmPrepare(usize),
    RmChooseToAbort(usize),
    RmRcvCommitMsg(usize),
    RmRcvAbortMsg(usize),
}

impl TwoPhaseAction {
    /// The action's name in TwoPhase.tla.
    pub fn name(self) -> &'static str {
        match self {
            TwoPhaseAction::TmRcvPrepared(_) => "TMRcvPrepared",
            TwoPhaseAction::TmCommit => "TMCommit",
            TwoPhaseAction::TmAbort => "TMAbort",
            TwoPhaseAction::RmPrepare(_) => "RMPrepare",
            TwoPhaseAction::RmChooseToAbort(_) => "RMChooseToAbort",
            TwoPhaseAction::RmRcvCommitMsg(_) => "RMRcvCommitMsg",
            TwoPhaseAction::RmRcvAbortMsg(_) => "RMRcvAbortMsg",
        }
    }
}

/// A state of TwoPhase.tla (see the module docs for the bit layout). It knows its number of RMs.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TwoPhaseState(u64);

impl TwoPhaseState {
    /// `TPInit`: every RM working, the TM in init, nothing prepared, no message.
    pub fn initial(rm_count: usize) -> Result<Self, SpecError> {
        check_rm_count(rm_count)?;
        Ok(Self((rm_count as u64) << RM_COUNT_SHIFT))
    }

    /// A state from plain values of the four variables (e.g. a refinement mapping from an
    /// implementation's state). The number of RMs is `rm_states.len()`.
    pub fn from_parts(
        rm_states: &[RmState],
        tm_state: TmState,
        tm_prepared: &BTreeSet<usize>,
        msgs: &BTreeSet<Message>,
    ) -> Result<Self, SpecError> {
        let rm_count = rm_states.len();
        let mut state = Self::initial(rm_count)?;
        let in_range = |rm: usize| if rm < rm_count { Ok(rm) } else { Err(SpecError::RmOutOfRange { rm, rm_count }) };
        for (rm, &rm_state) in rm_states.iter().enumerate() {
            state = state.with_rm_state(rm, rm_state);
        }
        state.0 |= (tm_state as u64) << TM_STATE_SHIFT;
        for &rm in tm_prepared {
            state.0 |= 1 << (TM_PREPARED_SHIFT + in_range(rm)? as u32);
        }
        for message in msgs {
            state.0 |= match *message {
                Message::Prepared(rm) => 1 << (PREPARED_MSG_SHIFT + in_range(rm)? as u32),
                Message::Commit => COMMIT_MSG_BIT,
                Message::Abort => ABORT_MSG_BIT,
            };
        }
        Ok(state)
    }

    /// The packed representation.
    pub fn bits(self) -> u64 {
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

    pub fn tm_state(self) -> TmState {
        match (self.0 >> TM_STATE_SHIFT) & 0b11 {
            0 => TmState::Init,
            1 => TmState::Committed,
            2 => TmState::Aborted,
            // No constructor writes 3: every state comes from `initial`, `from_parts` or a step.
            bits => unreachable!("tmState encoded as {bits}"),
        }
    }

    /// `rm \in tmPrepared`.
    pub fn is_tm_prepared(self, rm: usize) -> bool {
        rm < self.rm_count() && self.0 & (1 << (TM_PREPARED_SHIFT + rm as u32)) != 0
    }

    /// `tmPrepared`.
    pub fn tm_prepared(self) -> BTreeSet<usize> {
        (0..self.rm_count()).filter(|&rm| self.is_tm_prepared(rm)).collect()
    }

    /// `message \in msgs`.
    pub fn has_message(self, message: Message) -> bool {
        match message {
            Message::Prepared(rm) => rm < self.rm_count() && self.0 & (1 << (PREPARED_MSG_SHIFT + rm as u32)) != 0,
            Message::Commit => self.0 & COMMIT_MSG_BIT != 0,
            Message::Abort => self.0 & ABORT_MSG_BIT != 0,
        }
    }

    /// `msgs`.
    pub fn msgs(self) -> BTreeSet<Message> {
        let prepared = (0..self.rm_count()).map(Message::Prepared);
        prepared.chain([Message::Commit, Message::Abort]).filter(|&message| self.has_message(message)).collect()
    }

    /// The refinement mapping of `TPSpec => TC!TCSpec`: TCommit's `rmState` is TwoPhase's.
    pub fn to_tcommit(self) -> TCommitState {
        TCommitState::from_bits(self.rm_bits(), self.rm_count())
    }

    fn rm(self, rm: usize) -> RmState {
        RmState::from_bits(self.0 >> (2 * rm))
    }

    fn rm_bits(self) -> u64 {
        self.0 & ((1 << (2 * self.rm_count())) - 1)
    }

    fn with_rm_state(self, rm: usize, rm_state: RmState) -> Self {
        let shift = 2 * rm as u32;
        Self((self.0 & !(0b11 << shift)) | ((rm_state as u64) << shift))
    }

    fn all_mask(self) -> u64 {
        (1 << self.rm_count()) - 1
    }

    /// The per-RM parts (rmState, in tmPrepared, Prepared sent) as 4-bit fields, RM 0 at bit 0.
    fn per_rm_fields(self) -> u64 {
        let tm_prepared = self.0 >> TM_PREPARED_SHIFT;
        let prepared_msgs = self.0 >> PREPARED_MSG_SHIFT;
        (0..self.rm_count()).fold(0, |fields, rm| {
            let field =
                ((self.0 >> (2 * rm)) & 0b11) | (((tm_prepared >> rm) & 1) << 2) | (((prepared_msgs >> rm) & 1) << 3);
            fields | (field << (4 * rm))
        })
    }
}

impl fmt::Debug for TwoPhaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rm_states: Vec<&str> = self.rm_states().into_iter().map(RmState::name).collect();
        f.debug_struct("TwoPhaseState")
            .field("rm_state", &rm_states)
            .field("tm_state", &self.tm_state().name())
            .field("tm_prepared", &self.tm_prepared())
            .field("msgs", &self.msgs())
            .finish()
    }
}

impl Serialize for TwoPhaseState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("TwoPhaseState", 4)?;
        state.serialize_field("rm_state", &self.rm_states())?;
        state.serialize_field("tm_state", &self.tm_state())?;
        state.serialize_field("tm_prepared", &self.tm_prepared())?;
        state.serialize_field("msgs", &self.msgs())?;
        state.end()
    }
}

/// The TwoPhase specification for a number of RMs, optionally with symmetry reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoPhase {
    rm_count: usize,
    symmetry: bool,
}

impl TwoPhase {
    pub const PROPERTIES: [&'static str; 2] = ["TPTypeOK", "TCConsistent"];

    /// The spec with `RM = 0..rm_count`; 1 ≤ rm_count ≤ [`MAX_RMS`].
    pub fn new(rm_count: usize) -> Result<Self, SpecError> {
        check_rm_count(rm_count)?;
        Ok(Self { rm_count, symmetry: false })
    }

    /// With symmetry reduction over RMs (fingerprints of a canonical form).
    pub fn with_symmetry(self, symmetry: bool) -> Self {
        Self { symmetry, ..self }
    }

    pub fn rm_count(&self) -> usize {
        self.rm_count
    }

    pub fn symmetry(&self) -> bool {
        self.symmetry
    }

    pub fn initial_state(&self) -> TwoPhaseState {
        TwoPhaseState((self.rm_count as u64) << RM_COUNT_SHIFT)
    }

    /// The canonical form used for fingerprints with symmetry: the per-RM parts sorted.
    pub fn canonical(&self, state: &TwoPhaseState) -> u64 {
        (state.0 & GLOBAL_MASK) | sort_fields(state.per_rm_fields(), state.rm_count(), 4)
    }

    /// The spec action that takes `from` to `to` in one step, if any (the first in `TPNext`'s
    /// order when several do). None also when the states have another number of RMs.
    pub fn step_action(&self, from: &TwoPhaseState, to: &TwoPhaseState) -> Option<TwoPhaseAction> {
        if from.rm_count() != self.rm_count || to.rm_count() != self.rm_count {
            return None;
        }
        let mut actions = Vec::new();
        self.actions(from, &mut actions);
        actions.into_iter().find(|action| self.next_state(from, action).as_ref() == Some(to))
    }

    /// The name of the spec action that takes `from` to `to` ("stutter" if they are equal), or
    /// None if no single step of TwoPhase does: a refinement check maps an implementation's
    /// consecutive states to TwoPhase states and asks this of each pair.
    pub fn step_name(&self, from: &TwoPhaseState, to: &TwoPhaseState) -> Option<&'static str> {
        if from == to && from.rm_count() == self.rm_count {
            return Some("stutter");
        }
        self.step_action(from, to).map(TwoPhaseAction::name)
    }

    /// Checks that `state` has this model's number of RMs.
    pub fn check_state(&self, state: &TwoPhaseState) -> Result<(), SpecError> {
        if state.rm_count() == self.rm_count {
            Ok(())
        } else {
            Err(SpecError::RmCountMismatch { expected: self.rm_count, actual: state.rm_count() })
        }
    }
}

impl Model for TwoPhase {
    type State = TwoPhaseState;
    type Action = TwoPhaseAction;

    fn init_states(&self) -> Vec<TwoPhaseState> {
        vec![self.initial_state()]
    }

    /// Only the actions whose guard holds and that change the state, in `TPNext`'s order.
    fn actions(&self, state: &TwoPhaseState, out: &mut Vec<TwoPhaseAction>) {
        let tm_init = state.tm_state() == TmState::Init;
        let tm_prepared = (state.0 >> TM_PREPARED_SHIFT) & state.all_mask();
        let prepared_msgs = (state.0 >> PREPARED_MSG_SHIFT) & state.all_mask();
        if tm_init && tm_prepared == state.all_mask() {
            out.push(TwoPhaseAction::TmCommit);
        }
        if tm_init {
            out.push(TwoPhaseAction::TmAbort);
        }
        let commit = state.0 & COMMIT_MSG_BIT != 0;
        let abort = state.0 & ABORT_MSG_BIT != 0;
        for rm in 0..self.rm_count {
            if tm_init && (prepared_msgs >> rm) & 1 == 1 && (tm_prepared >> rm) & 1 == 0 {
                out.push(TwoPhaseAction::TmRcvPrepared(rm));
            }
            let rm_state = state.rm(rm);
            if rm_state == RmState::Working {
                out.push(TwoPhaseAction::RmPrepare(rm));
                out.push(TwoPhaseAction::RmChooseToAbort(rm));
            }
            if commit && rm_state != RmState::Committed {
                out.push(TwoPhaseAction::RmRcvCommitMsg(rm));
            }
            if abort && rm_state != RmState::Aborted {
                out.push(TwoPhaseAction::RmRcvAbortMsg(rm));
            }
        }
    }

    /// The action's guard and effect as in TwoPhase.tla; None if the guard is false or the step
    /// would change nothing (a stutter) or the RM does not exist.
    fn next_state(&self, state: &TwoPhaseState, action: &TwoPhaseAction) -> Option<TwoPhaseState> {
        let tm_init = state.tm_state() == TmState::Init;
        let exists = |rm: usize| rm < state.rm_count();
        let next = match *action {
            TwoPhaseAction::TmRcvPrepared(rm) => {
                if !(tm_init && exists(rm) && state.has_message(Message::Prepared(rm))) {
                    return None;
                }
                TwoPhaseState(state.0 | (1 << (TM_PREPARED_SHIFT + rm as u32)))
            }
            TwoPhaseAction::TmCommit => {
                let all_prepared = (state.0 >> TM_PREPARED_SHIFT) & state.all_mask() == state.all_mask();
                if !(tm_init && all_prepared) {
                    return None;
                }
                TwoPhaseState(state.0 | ((TmState::Committed as u64) << TM_STATE_SHIFT) | COMMIT_MSG_BIT)
            }
            TwoPhaseAction::TmAbort => {
                if !tm_init {
                    return None;
                }
                TwoPhaseState(state.0 | ((TmState::Aborted as u64) << TM_STATE_SHIFT) | ABORT_MSG_BIT)
            }
            TwoPhaseAction::RmPrepare(rm) => {
                if !(exists(rm) && state.rm(rm) == RmState::Working) {
                    return None;
                }
                let prepared = state.with_rm_state(rm, RmState::Prepared);
                TwoPhaseState(prepared.0 | (1 << (PREPARED_MSG_SHIFT + rm as u32)))
            }
            TwoPhaseAction::RmChooseToAbort(rm) => {
                if !(exists(rm) && state.rm(rm) == RmState::Working) {
                    return None;
                }
                state.with_rm_state(rm, RmState::Aborted)
            }
            TwoPhaseAction::RmRcvCommitMsg(rm) => {
                if !(exists(rm) && state.has_message(Message::Commit)) {
                    return None;
                }
                state.with_rm_state(rm, RmState::Committed)
            }
            TwoPhaseAction::RmRcvAbortMsg(rm) => {
                if !(exists(rm) && state.has_message(Message::Abort)) {
                    return None;
                }
                state.with_rm_state(rm, RmState::Aborted)
            }
        };
        (next != *state).then_some(next)
    }

    fn fingerprint(&self, state: &TwoPhaseState) -> u64 {
        if self.symmetry {
            mix64(self.canonical(state))
        } else {
            mix64(state.0)
        }
    }

    fn properties(&self) -> Vec<&'static str> {
        Self::PROPERTIES.to_vec()
    }

    fn check(&self, state: &TwoPhaseState, out: &mut Vec<(usize, String)>) {
        // TPTypeOK: every field holds a value of its type and names only existing RMs. The
        // encoding makes rmState and message types well typed by construction.
        let rm_count = self.rm_count;
        let unused_rm_bits = !state.all_mask() & ((1 << MAX_RMS) - 1);
        let stray = (state.0 >> (2 * rm_count)) & ((1 << (2 * (MAX_RMS - rm_count))) - 1) != 0
            || (state.0 >> TM_PREPARED_SHIFT) & unused_rm_bits != 0
            || (state.0 >> PREPARED_MSG_SHIFT) & unused_rm_bits != 0;
        if state.rm_count() != rm_count || (state.0 >> TM_STATE_SHIFT) & 0b11 == 0b11 || stray {
            out.push((0, format!("not well typed for {rm_count} RMs: {:#018x}", state.0)));
        }
        // TCConsistent: no RM committed while another aborted.
        if let Some(detail) = inconsistency(state.rm_bits(), rm_count) {
            out.push((1, detail));
        }
    }

    /// TwoPhase specifies only safety; as a liveness check, a state where nothing can happen
    /// while some RM is still working or prepared is a failure.
    fn terminal_failure(&self, state: &TwoPhaseState) -> Option<String> {
        let rm = first_undecided(state.rm_bits(), state.rm_count())?;
        Some(format!("RM {rm} is still {} and no step is enabled", state.rm(rm).name()))
    }
}

impl std::fmt::Display for TwoPhaseAction {
    /// The action as TwoPhase.tla writes it, RMs numbered from 1: `RMPrepare(rm2)`, `TMCommit`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TwoPhaseAction::TmRcvPrepared(rm)
            | TwoPhaseAction::RmPrepare(rm)
            | TwoPhaseAction::RmChooseToAbort(rm)
            | TwoPhaseAction::RmRcvCommitMsg(rm)
            | TwoPhaseAction::RmRcvAbortMsg(rm) => write!(f, "{}(rm{})", self.name(), rm + 1),
            TwoPhaseAction::TmCommit | TwoPhaseAction::TmAbort => f.write_str(self.name()),
        }
    }
}
