//! Lamport's specifications of transaction commit as explorer models.
//!
//! [`TCommit`] is the abstract Transaction Commit specification and [`TwoPhase`] the Two-Phase
//! Commit protocol that implements it, both from Gray and Lamport's "Consensus on Transaction
//! Commit" (the TLA+ modules TCommit.tla and TwoPhase.tla). The models follow the modules action
//! for action; states are bit fields (2 bits per resource manager's state, bitmasks for sets) so
//! the explorer copies and fingerprints a state as one integer. A resource manager is a number in
//! `0..rm_count`.
//!
//! Both support symmetry reduction over resource managers: with it, the fingerprint is that of a
//! canonical form (the per-RM parts sorted), so states that differ only by a renaming of the
//! resource managers count once. The reachable set is closed under renaming, so the reduced
//! count is the number of orbits of reachable states.

mod tcommit;
mod two_phase;

pub use tcommit::{TCommit, TCommitAction, TCommitState};
pub use two_phase::{Message, TmState, TwoPhase, TwoPhaseAction, TwoPhaseState};

use serde::Serialize;

/// The most resource managers a model supports (a TwoPhase state then fills 64 bits).
pub const MAX_RMS: usize = 14;

/// A resource manager's state, as in both modules. The discriminants are the 2-bit encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RmState {
    Working = 0,
    Prepared = 1,
    Committed = 2,
    Aborted = 3,
}

impl RmState {
    /// The name used in the TLA+ modules.
    pub fn name(self) -> &'static str {
        match self {
            RmState::Working => "working",
            RmState::Prepared => "prepared",
            RmState::Committed => "committed",
            RmState::Aborted => "aborted",
        }
    }

    fn from_bits(bits: u64) -> Self {
        match bits & 0b11 {
            0 => RmState::Working,
            1 => RmState::Prepared,
            2 => RmState::Committed,
            _ => RmState::Aborted,
        }
    }
}

/// Why a model or state could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("the number of resource managers must be between 1 and {MAX_RMS}, not {0}")]
    RmCount(usize),
    #[error("resource manager {rm} is out of range: there are {rm_count} (numbered from 0)")]
    RmOutOfRange { rm: usize, rm_count: usize },
    #[error("the state has {actual} resource managers, the model {expected}")]
    RmCountMismatch { expected: usize, actual: usize },
}

fn check_rm_count(rm_count: usize) -> Result<(), SpecError> {
    if (1..=MAX_RMS).contains(&rm_count) {
        Ok(())
    } else {
        Err(SpecError::RmCount(rm_count))
    }
}

/// `0b0101…01` over the 2-bit fields of `rm_count` resource managers: selects each field's low bit.
fn low_bits(rm_count: usize) -> u64 {
    0x5555_5555_5555_5555 & ((1u64 << (2 * rm_count)) - 1)
}

/// Bitmasks of the resource managers that are committed and that are aborted, from packed 2-bit
/// states (`Committed` is 0b10, `Aborted` 0b11); bit `2 * rm` stands for `rm`.
fn committed_and_aborted(rm_bits: u64, rm_count: usize) -> (u64, u64) {
    let low = rm_bits & low_bits(rm_count);
    let high = (rm_bits >> 1) & low_bits(rm_count);
    (high & !low, high & low)
}

/// "RM a committed while RM b aborted", for the first such pair, if any.
fn inconsistency(rm_bits: u64, rm_count: usize) -> Option<String> {
    let (committed, aborted) = committed_and_aborted(rm_bits, rm_count);
    if committed == 0 || aborted == 0 {
        return None;
    }
    let committed_rm = committed.trailing_zeros() / 2;
    let aborted_rm = aborted.trailing_zeros() / 2;
    Some(format!("RM {committed_rm} committed while RM {aborted_rm} aborted"))
}

/// The first resource manager neither committed nor aborted, if any.
fn first_undecided(rm_bits: u64, rm_count: usize) -> Option<usize> {
    let high = (rm_bits >> 1) & low_bits(rm_count);
    let undecided = !high & low_bits(rm_count);
    (undecided != 0).then(|| undecided.trailing_zeros() as usize / 2)
}

/// Sorts `count` fields of `width` bits (at most 4) taken from `fields` in ascending order and
/// packs them back from bit 0: the canonical form of a multiset of per-RM parts.
fn sort_fields(fields: u64, count: usize, width: u32) -> u64 {
    debug_assert!(width <= 4 && count <= 15);
    let field_mask = (1u64 << width) - 1;
    // A histogram of 4-bit counters: at most 15 fields of one kind fit.
    let mut histogram = [0u8; 16];
    for index in 0..count {
        histogram[((fields >> (width * index as u32)) & field_mask) as usize] += 1;
    }
    let mut sorted = 0u64;
    let mut shift = 0;
    for (kind, &times) in histogram.iter().enumerate().take(1 << width) {
        for _ in 0..times {
            sorted |= (kind as u64) << shift;
            shift += width;
        }
    }
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_fields_sorts() {
        // Fields 3, 1, 2, 1 (2 bits each, from bit 0) sort to 1, 1, 2, 3.
        let fields = 3 | (1 << 2) | (2 << 4) | (1 << 6);
        assert_eq!(sort_fields(fields, 4, 2), 1 | (1 << 2) | (2 << 4) | (3 << 6));
        assert_eq!(sort_fields(0xf0a5, 4, 4), 0xfa50);
    }

    #[test]
    fn consistency_helpers() {
        // RM 0 committed (10), RM 1 working, RM 2 aborted (11).
        let bits = 0b11_00_10;
        assert_eq!(inconsistency(bits, 3).as_deref(), Some("RM 0 committed while RM 2 aborted"));
        assert_eq!(inconsistency(0b11_01_11, 3), None);
        assert_eq!(first_undecided(bits, 3), Some(1));
        assert_eq!(first_undecided(0b11_10_11, 3), None);
    }

    #[test]
    fn rm_count_bounds() {
        assert!(check_rm_count(1).is_ok());
        assert!(check_rm_count(MAX_RMS).is_ok());
        assert_eq!(check_rm_count(0), Err(SpecError::RmCount(0)));
        assert_eq!(
            check_rm_count(MAX_RMS + 1).unwrap_err().to_string(),
            "the number of resource managers must be between 1 and 14, not 15"
        );
    }
}
