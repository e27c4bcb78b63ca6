//! The visited table: fingerprint → how the state was first reached.
//!
//! It is the one unordered map in Commit Lab, kept deterministic: it is never iterated (only
//! looked up and inserted into, in an order the search fixes), and its hasher has no random keys.
//!
//! Keys are fingerprints, already well mixed, so the table's hasher passes them through unchanged.
//! The table is split into shards by bits that the hash table itself does not use for bucket or tag
//! selection, so the multi-threaded search can give each thread exclusive shards to insert into.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// `action` value of an initial state's entry; its `parent` then holds the initial state's index.
pub(crate) const INITIAL: u32 = u32::MAX;

/// How a state was first reached: 16 bytes, 24 with its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The parent's fingerprint, or the index in `init_states()` for an initial state.
    pub(crate) parent: u64,
    /// The index of the action in the parent's `actions()`, or [`INITIAL`].
    pub(crate) action: u32,
    pub(crate) depth: u32,
}

/// Passes a `u64` key through as its own hash.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; fold anything else in rather than lose it.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

pub(crate) type Shard = HashMap<u64, Origin, BuildHasherDefault<KeyHasher>>;

/// Shard selection uses bits 40.. of the fingerprint: the hash table takes bucket indices from the
/// low bits and its 7-bit tags from the top bits, so these stay independent of both for any table
/// below 2^40 buckets.
const SHARD_SHIFT: u32 = 40;

pub(crate) struct Visited {
    pub(crate) shards: Vec<Shard>,
    mask: u64,
}

impl Visited {
    /// `shard_count` must be a power of two.
    pub(crate) fn new(shard_count: usize) -> Self {
        assert!(shard_count.is_power_of_two(), "shard count {shard_count} is not a power of two");
        Self { shards: (0..shard_count).map(|_| Shard::default()).collect(), mask: shard_count as u64 - 1 }
    }

    #[inline]
    pub(crate) fn shard_of(&self, fingerprint: u64) -> usize {
        ((fingerprint >> SHARD_SHIFT) & self.mask) as usize
    }

    /// Inserts `origin` unless the fingerprint is known; true if it was new.
    #[inline]
    pub(crate) fn insert_new(&mut self, fingerprint: u64, origin: Origin) -> bool {
        let shard = self.shard_of(fingerprint);
        insert_new(&mut self.shards[shard], fingerprint, origin)
    }

    pub(crate) fn get(&self, fingerprint: u64) -> Option<Origin> {
        self.shards[self.shard_of(fingerprint)].get(&fingerprint).copied()
    }

    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn remove(&mut self, fingerprint: u64) {
        let shard = self.shard_of(fingerprint);
        self.shards[shard].remove(&fingerprint);
    }

    /// Bytes the tables hold: buckets of (key, origin) plus one control byte each.
    pub(crate) fn bytes(&self) -> u64 {
        self.shards.iter().map(|shard| table_bytes(shard.capacity())).sum()
    }
}

#[inline]
pub(crate) fn insert_new(shard: &mut Shard, fingerprint: u64, origin: Origin) -> bool {
    match shard.entry(fingerprint) {
        MapEntry::Occupied(_) => false,
        MapEntry::Vacant(vacant) => {
            vacant.insert(origin);
            true
        }
    }
}

/// The memory of a swiss table that can hold `capacity` items without growing: it has a power of
/// two of buckets, filled to at most 7/8.
fn table_bytes(capacity: usize) -> u64 {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity as u64 * 8).div_ceil(7).next_power_of_two();
    let entry = std::mem::size_of::<(u64, Origin)>() as u64 + 1;
    buckets * entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_24_bytes() {
        assert_eq!(std::mem::size_of::<(u64, Origin)>(), 24);
    }

    #[test]
    fn insert_is_first_wins_and_shards_partition() {
        let mut visited = Visited::new(8);
        let origin = Origin { parent: 1, action: 2, depth: 3 };
        let later = Origin { parent: 9, action: 9, depth: 9 };
        for fingerprint in 0..1000u64 {
            let fingerprint = crate::mix64(fingerprint);
            assert!(visited.insert_new(fingerprint, origin));
            assert!(!visited.insert_new(fingerprint, later));
            assert_eq!(visited.get(fingerprint), Some(origin));
        }
        let total: usize = visited.shards.iter().map(|shard| shard.len()).sum();
        assert_eq!(total, 1000);
        assert!(visited.shards.iter().all(|shard| !shard.is_empty()));
        assert!(visited.bytes() >= 1000 * 25);
    }
}
