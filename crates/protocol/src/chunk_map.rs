//! An ordered map for tables that only grow over a run (a coordinator's answered requests, a
//! participant's finished transactions, the checker's decisions), stored as sorted chunks that
//! copies share.
//!
//! The simulator keeps copies of the whole world as checkpoints, so seeking replays from a nearby
//! one. With a `BTreeMap` or a [`VecMap`](crate::vec_map::VecMap) every copy holds every entry:
//! late in a long run such tables are most of a world. Here a copy shares every full chunk with the original (a reference count each); a
//! chunk is copied only when one of them changes it (`Arc::make_mut`), which keys arriving in
//! order seldom do. The newest entries, where nearly every change and most lookups happen, are a
//! plain list of their own (the tail), copied with the map: changing them costs no reference
//! count, and a checkpoint costs its tail and the few chunks changed after it. Lookups are two
//! binary searches: the chunks' first keys, kept in a list of their own, then the chunk (or the
//! tail, first). Iteration is in key order, like a `BTreeMap`'s, so views and equality do not
//! depend on how the entries fell into chunks.

use std::fmt;
use std::sync::Arc;

/// Entries in a chunk or the tail, at most. Keys mostly arrive in increasing order, so a full tail
/// becomes a full chunk and the new key starts the next tail; a full chunk elsewhere splits in
/// halves.
const CHUNK_LEN: usize = 64;

#[derive(Clone)]
pub struct ChunkMap<K, V> {
    /// The first key of each chunk.
    firsts: Vec<K>,
    /// Non-empty shared chunks, sorted, each holding the keys from its first key to the next
    /// chunk's; every key in them is before every key in the tail.
    chunks: Vec<Arc<Vec<(K, V)>>>,
    /// The newest entries, sorted.
    tail: Vec<(K, V)>,
    len: usize,
}

impl<K, V> Default for ChunkMap<K, V> {
    fn default() -> ChunkMap<K, V> {
        ChunkMap { firsts: Vec::new(), chunks: Vec::new(), tail: Vec::new(), len: 0 }
    }
}

/// Where a key is, or would go.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum Place {
    Tail,
    Chunk(usize),
}

impl<K: Ord + Copy, V: Clone> ChunkMap<K, V> {
    pub fn new() -> ChunkMap<K, V> {
        ChunkMap::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The tail for a key from the tail's first key on (or after every chunk, when the tail is
    /// empty, and any key when there are no chunks); otherwise the last chunk whose first key is
    /// not after it (the first chunk for a key before every chunk).
    fn place(&self, key: &K) -> Place {
        let Some(last_chunk) = self.chunks.last() else { return Place::Tail };
        let in_tail = match self.tail.first() {
            Some((first, _)) => first <= key,
            None => last_chunk.last().is_some_and(|(last, _)| last < key),
        };
        if in_tail {
            return Place::Tail;
        }
        Place::Chunk(self.firsts.partition_point(|first| first <= key).saturating_sub(1))
    }

    fn entries(&self, place: Place) -> &[(K, V)] {
        match place {
            Place::Tail => &self.tail,
            Place::Chunk(chunk) => &self.chunks[chunk],
        }
    }

    /// The entries at `place` to change; a chunk is copied first if a copy of the map shares it.
    fn entries_mut(&mut self, place: Place) -> &mut Vec<(K, V)> {
        match place {
            Place::Tail => &mut self.tail,
            Place::Chunk(chunk) => Arc::make_mut(&mut self.chunks[chunk]),
        }
    }

    /// The place and position of `key`, if present.
    fn find(&self, key: &K) -> Option<(Place, usize)> {
        let place = self.place(key);
        let position = self.entries(place).binary_search_by(|(probe, _)| probe.cmp(key)).ok()?;
        Some((place, position))
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).map(|(place, position)| &self.entries(place)[position].1)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_some()
    }

    /// The value of `key` to change; its chunk is copied first if a copy of the map shares it.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let (place, position) = self.find(key)?;
        Some(&mut self.entries_mut(place)[position].1)
    }

    /// Inserts `value` at `key`, returning the value it replaces.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let place = self.place(&key);
        let entries = self.entries_mut(place);
        let position = match entries.binary_search_by(|(probe, _)| probe.cmp(&key)) {
            Ok(position) => return Some(std::mem::replace(&mut entries[position].1, value)),
            Err(position) => position,
        };
        if entries.len() == entries.capacity() {
            // Grow by doubling up to one over a full chunk, never past it: a chunk that stays
            // full (most of them, with keys that arrive in order) wastes no room.
            entries.reserve_exact(entries.len().clamp(1, CHUNK_LEN + 1 - entries.len()));
        }
        entries.insert(position, (key, value));
        let full = entries.len() > CHUNK_LEN;
        self.len += 1;
        if let (Place::Chunk(chunk), 0) = (place, position) {
            self.firsts[chunk] = key;
        }
        if full {
            self.split(place, position);
        }
        None
    }

    /// Splits the tail or a chunk that just went over `CHUNK_LEN` with an entry at `inserted`. A
    /// tail that grew at its end keeps only the new entry and becomes a full chunk; otherwise the
    /// first half becomes a chunk of its own.
    fn split(&mut self, place: Place, inserted: usize) {
        match place {
            Place::Tail => {
                let at = if inserted == self.tail.len() - 1 { self.tail.len() - 1 } else { self.tail.len() / 2 };
                // The map has filled a tail, so it will likely fill the next: room for a full one
                // at once (copies of the map take only the entries).
                let mut rest = Vec::with_capacity(CHUNK_LEN + 1);
                rest.extend(self.tail.drain(at..));
                let chunk = std::mem::replace(&mut self.tail, rest);
                self.firsts.push(chunk[0].0);
                self.chunks.push(Arc::new(chunk));
            }
            Place::Chunk(chunk) => {
                let entries = Arc::make_mut(&mut self.chunks[chunk]);
                let tail = entries.split_off(entries.len() / 2);
                self.firsts.insert(chunk + 1, tail[0].0);
                self.chunks.insert(chunk + 1, Arc::new(tail));
            }
        }
    }

    /// The value at `key`, inserted by `make` first if there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.contains_key(&key) {
            self.insert(key, make());
        }
        self.get_mut(&key).expect("present")
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let (place, position) = self.find(key)?;
        let entries = self.entries_mut(place);
        let (_, value) = entries.remove(position);
        let first = entries.first().map(|(first, _)| *first);
        self.len -= 1;
        if let Place::Chunk(chunk) = place {
            match first {
                None => {
                    self.firsts.remove(chunk);
                    self.chunks.remove(chunk);
                }
                Some(first) => self.firsts[chunk] = first,
            }
        }
        Some(value)
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter { chunks: self.chunks.iter(), entries: [].iter(), tail: Some(self.tail.iter()) }
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> + Clone {
        self.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> + Clone {
        self.iter().map(|(_, value)| value)
    }

    /// The entry with the greatest key.
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        let last = match self.tail.last() {
            Some(last) => Some(last),
            None => self.chunks.last().and_then(|chunk| chunk.last()),
        };
        last.map(|(key, value)| (key, value))
    }
}

/// The entries of a [`ChunkMap`] in key order.
#[derive(Clone)]
pub struct Iter<'a, K, V> {
    chunks: std::slice::Iter<'a, Arc<Vec<(K, V)>>>,
    entries: std::slice::Iter<'a, (K, V)>,
    /// The tail, until the chunks are done.
    tail: Option<std::slice::Iter<'a, (K, V)>>,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<(&'a K, &'a V)> {
        loop {
            if let Some((key, value)) = self.entries.next() {
                return Some((key, value));
            }
            self.entries = match self.chunks.next() {
                Some(chunk) => chunk.iter(),
                None => self.tail.take()?,
            };
        }
    }
}

impl<'a, K: Ord + Copy, V: Clone> IntoIterator for &'a ChunkMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<K: Ord + Copy, V: Clone> FromIterator<(K, V)> for ChunkMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> ChunkMap<K, V> {
        let mut map = ChunkMap::new();
        for (key, value) in entries {
            map.insert(key, value);
        }
        map
    }
}

/// Hashes the entries in key order, like `PartialEq` compares them: two maps that hold the same
/// entries hash alike however they fell into chunks (the explorer fingerprints states with it).
impl<K: Ord + Copy + std::hash::Hash, V: Clone + std::hash::Hash> std::hash::Hash for ChunkMap<K, V> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.len);
        for (key, value) in self.iter() {
            key.hash(state);
            value.hash(state);
        }
    }
}

impl<K: Ord + Copy, V: Clone + PartialEq> PartialEq for ChunkMap<K, V> {
    fn eq(&self, other: &ChunkMap<K, V>) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<K: Ord + Copy, V: Clone + Eq> Eq for ChunkMap<K, V> {}

impl<K: Ord + Copy + fmt::Debug, V: Clone + fmt::Debug> fmt::Debug for ChunkMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A small deterministic generator for the test's keys and choices.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *state >> 33
    }

    #[test]
    fn behaves_as_a_btree_map_through_inserts_removals_and_copies() {
        for seed in 0..20 {
            let mut state = seed;
            let mut map: ChunkMap<u32, u64> = ChunkMap::new();
            let mut expected: BTreeMap<u32, u64> = BTreeMap::new();
            let mut copies = Vec::new();
            for step in 0..3_000u64 {
                // Keys mostly increase, as request and transaction ids do, with some anywhere.
                let key = if next(&mut state).is_multiple_of(4) { next(&mut state) % 2_000 } else { step / 2 } as u32;
                match next(&mut state) % 10 {
                    0..=5 => assert_eq!(map.insert(key, step), expected.insert(key, step)),
                    6 => assert_eq!(map.remove(&key), expected.remove(&key)),
                    7 => {
                        if let Some(value) = map.get_mut(&key) {
                            *value += 1;
                        }
                        if let Some(value) = expected.get_mut(&key) {
                            *value += 1;
                        }
                    }
                    8 => copies.push((map.clone(), expected.clone())),
                    _ => assert_eq!(*map.get_or_insert_with(key, || step), *expected.entry(key).or_insert(step)),
                }
                assert_eq!(map.get(&key), expected.get(&key));
                assert_eq!(map.contains_key(&key), expected.contains_key(&key));
                assert_eq!(map.len(), expected.len());
            }
            assert!(map.iter().eq(expected.iter()), "seed {seed}");
            assert!(map.chunks.iter().all(|chunk| !chunk.is_empty() && chunk.len() <= CHUNK_LEN));
            assert!(map.tail.len() <= CHUNK_LEN);
            assert!(map.chunks.iter().zip(&map.firsts).all(|(chunk, first)| chunk[0].0 == *first));
            for (copy, expected) in copies {
                assert!(copy.iter().eq(expected.iter()), "a copy keeps its entries after the original changed");
            }
        }
    }

    #[test]
    fn a_copy_shares_the_chunks_it_does_not_change() {
        let mut map: ChunkMap<u32, u32> = (0..1_000).map(|key| (key, key)).collect();
        assert!(map.chunks.iter().all(|chunk| chunk.len() == CHUNK_LEN), "appends fill chunks");
        assert_eq!(map.tail.len(), 1_000 % CHUNK_LEN);
        let copy = map.clone();
        map.insert(1_000, 0);
        *map.get_mut(&3).expect("present") = 7;
        let shared = map.chunks.iter().zip(&copy.chunks).filter(|(a, b)| Arc::ptr_eq(a, b)).count();
        assert_eq!(shared, copy.chunks.len() - 1, "only the first chunk was copied (the tail is the map's own)");
        assert_eq!(copy.get(&3), Some(&3));
        assert_eq!(map.get(&3), Some(&7));
    }
}
