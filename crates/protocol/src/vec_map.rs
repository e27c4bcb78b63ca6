//! Ordered maps and sets kept as sorted vectors: `VecMap` and `VecSet`, with the part of
//! `BTreeMap`'s and `BTreeSet`'s interface this project uses and the same order everywhere (keys
//! ascending), so every trace, table and export is the same as with the B-trees.
//!
//! Why: the standard B-tree's code is instantiated once per key and value type (insert with its
//! node splits, remove with its rebalancing, iteration, clone, drop), about 3.5 KB of wasm each,
//! and the page holds some sixty such types: 210 KB, a sixth of the whole binary. A sorted
//! vector's code per type is a binary search and a `Vec` insert or remove.
//!
//! The cost model differs: lookups are a binary search (faster than a B-tree's for the small maps
//! here), appending in key order is amortised O(1), but inserting or removing in the middle moves
//! the tail. So these suit small maps and maps filled in key order (per-transaction tables,
//! per-node state, slots of a log). The tables that only grow through a run and would be copied
//! whole into every checkpoint (a coordinator's requests, a participant's finished transactions,
//! the checker's decisions) are [`ChunkMap`](crate::chunk_map::ChunkMap)s instead, whose copies
//! share their chunks.

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

/// A map ordered by key, stored as a vector of entries sorted by key.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> VecMap<K, V> {
    pub const fn new() -> Self {
        VecMap { entries: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter(self.entries.iter())
    }

    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut(self.entries.iter_mut())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, value)| value)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, value)| value)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator {
        self.entries.into_iter().map(|(key, _)| key)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, value)| value)
    }

    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(key, value)| (key, value))
    }

    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.entries.last().map(|(key, value)| (key, value))
    }

    pub fn pop_last(&mut self) -> Option<(K, V)> {
        self.entries.pop()
    }

    /// Keeps the entries for which `keep` returns true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(key, value)| keep(key, value));
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// Where `key` is (`Ok`) or would go (`Err`).
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(probe, _)| probe.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|index| &self.entries[index].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|index| &mut self.entries[index].1)
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Inserts or replaces `key`'s value (keeping the key), returning the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.slot(&key) {
            Ok(index) => Some(std::mem::replace(&mut self.entries[index].1, value)),
            Err(index) => {
                self.entries.insert(index, (key, value));
                None
            }
        }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|index| self.entries.remove(index).1)
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.slot(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { entries: &mut self.entries, index }),
            Err(index) => Entry::Vacant(VacantEntry { entries: &mut self.entries, index, key }),
        }
    }

    /// The entries whose keys fall in `range`, in order.
    pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> Iter<'_, K, V>
    where
        K: Borrow<Q>,
    {
        let (start, end) = self.bounds(range);
        Iter(self.entries[start..end].iter())
    }

    pub fn range_mut<Q: Ord + ?Sized, R: RangeBounds<Q>>(&mut self, range: R) -> IterMut<'_, K, V>
    where
        K: Borrow<Q>,
    {
        let (start, end) = self.bounds(range);
        IterMut(self.entries[start..end].iter_mut())
    }

    fn bounds<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> (usize, usize)
    where
        K: Borrow<Q>,
    {
        let start = match range.start_bound() {
            Bound::Included(key) => self.find(key).unwrap_or_else(|index| index),
            Bound::Excluded(key) => self.find(key).map_or_else(|index| index, |index| index + 1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(key) => self.find(key).map_or_else(|index| index, |index| index + 1),
            Bound::Excluded(key) => self.find(key).unwrap_or_else(|index| index),
            Bound::Unbounded => self.entries.len(),
        };
        (start, end.max(start))
    }

    /// Appends `entry`, returning whether the entries are still in key order (for `extend`; one
    /// copy per map type, not one per iterator extending it).
    #[inline(never)]
    fn push_entry(&mut self, entry: (K, V)) -> bool {
        let in_order = self.entries.last().is_none_or(|last| last.0 < entry.0);
        self.entries.push(entry);
        in_order
    }

    /// `find` with a fast path for the common case of keys arriving in order.
    fn slot(&self, key: &K) -> Result<usize, usize> {
        match self.entries.last() {
            Some((last, _)) if last < key => Err(self.entries.len()),
            None => Err(0),
            Some(_) => self.find(key),
        }
    }
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = VecMap::new();
        map.extend(iter);
        map
    }
}

/// Takes every entry, then sorts once if they did not come in key order (a later value for a key
/// wins, as with inserts), so that even a large map read out of order costs O(n log n).
impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let mut in_order = true;
        for entry in iter {
            in_order &= self.push_entry(entry);
        }
        if !in_order {
            let entries = &mut self.entries;
            let kept = sort_and_dedup(entries.len(), &mut |left, right, step| match step {
                Step::Compare => entries[left].0.cmp(&entries[right].0),
                Step::Swap => {
                    entries.swap(left, right);
                    std::cmp::Ordering::Equal
                }
            });
            entries.truncate(kept);
        }
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for VecMap<K, V> {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for VecMap<K, V> {
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for the key in the VecMap")
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut VecMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// A map's entries by reference, in key order.
#[derive(Clone)]
pub struct Iter<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, value)| (key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(key, value)| (key, value))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

/// A map's entries with their values mutable, in key order.
pub struct IterMut<'a, K, V>(std::slice::IterMut<'a, (K, V)>);

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, value)| (&*key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(key, value)| (&*key, value))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}

/// One key's place in a map, from [`VecMap::entry`].
pub enum Entry<'a, K, V> {
    Occupied(OccupiedEntry<'a, K, V>),
    Vacant(VacantEntry<'a, K, V>),
}

pub struct OccupiedEntry<'a, K, V> {
    entries: &'a mut Vec<(K, V)>,
    index: usize,
}

pub struct VacantEntry<'a, K, V> {
    entries: &'a mut Vec<(K, V)>,
    index: usize,
    key: K,
}

impl<'a, K, V> Entry<'a, K, V> {
    pub fn or_insert(self, default: V) -> &'a mut V {
        self.or_insert_with(|| default)
    }

    pub fn or_insert_with(self, default: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(default()),
        }
    }

    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    pub fn and_modify(mut self, modify: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(entry) = &mut self {
            modify(entry.get_mut());
        }
        self
    }

    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(entry) => entry.key(),
            Entry::Vacant(entry) => &entry.key,
        }
    }
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.entries[self.index].0
    }

    pub fn get(&self) -> &V {
        &self.entries[self.index].1
    }

    pub fn get_mut(&mut self) -> &mut V {
        &mut self.entries[self.index].1
    }

    pub fn into_mut(self) -> &'a mut V {
        &mut self.entries[self.index].1
    }

    pub fn insert(&mut self, value: V) -> V {
        std::mem::replace(self.get_mut(), value)
    }

    pub fn remove(self) -> V {
        self.entries.remove(self.index).1
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.key
    }

    pub fn insert(self, value: V) -> &'a mut V {
        self.entries.insert(self.index, (self.key, value));
        &mut self.entries[self.index].1
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = VecMap<K, V>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

/// A set ordered by value, stored as a sorted vector.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VecSet<T> {
    items: Vec<T>,
}

impl<T> VecSet<T> {
    pub const fn new() -> Self {
        VecSet { items: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    pub fn first(&self) -> Option<&T> {
        self.items.first()
    }

    pub fn last(&self) -> Option<&T> {
        self.items.last()
    }

    pub fn pop_last(&mut self) -> Option<T> {
        self.items.pop()
    }

    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.items.retain(keep);
    }

    /// The items in order, as a slice.
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }
}

impl<T: Ord> VecSet<T> {
    fn find<Q: Ord + ?Sized>(&self, item: &Q) -> Result<usize, usize>
    where
        T: Borrow<Q>,
    {
        self.items.binary_search_by(|probe| probe.borrow().cmp(item))
    }

    pub fn contains<Q: Ord + ?Sized>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.find(item).is_ok()
    }

    /// Adds `item`; false if it was there already.
    pub fn insert(&mut self, item: T) -> bool {
        let slot = match self.items.last() {
            Some(last) if *last < item => Err(self.items.len()),
            None => Err(0),
            Some(_) => self.find(&item),
        };
        match slot {
            Ok(_) => false,
            Err(index) => {
                self.items.insert(index, item);
                true
            }
        }
    }

    /// Appends `item`, returning whether the items are still in order (see `VecMap::push_entry`).
    #[inline(never)]
    fn push_item(&mut self, item: T) -> bool {
        let in_order = self.items.last().is_none_or(|last| *last < item);
        self.items.push(item);
        in_order
    }

    /// Removes `item`; false if it was not there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, item: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        match self.find(item) {
            Ok(index) => {
                self.items.remove(index);
                true
            }
            Err(_) => false,
        }
    }

    /// The items in `range`, in order.
    pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> std::slice::Iter<'_, T>
    where
        T: Borrow<Q>,
    {
        let start = match range.start_bound() {
            Bound::Included(item) => self.find(item).unwrap_or_else(|index| index),
            Bound::Excluded(item) => self.find(item).map_or_else(|index| index, |index| index + 1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(item) => self.find(item).map_or_else(|index| index, |index| index + 1),
            Bound::Excluded(item) => self.find(item).unwrap_or_else(|index| index),
            Bound::Unbounded => self.items.len(),
        };
        self.items[start..end.max(start)].iter()
    }

    pub fn is_subset(&self, other: &VecSet<T>) -> bool {
        self.items.iter().all(|item| other.contains(item))
    }
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = VecSet::new();
        set.extend(iter);
        set
    }
}

/// As for maps: take every item, then sort once if they did not come in order.
impl<T: Ord> Extend<T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let mut in_order = true;
        for item in iter {
            in_order &= self.push_item(item);
        }
        if !in_order {
            let items = &mut self.items;
            let kept = sort_and_dedup(items.len(), &mut |left, right, step| match step {
                Step::Compare => items[left].cmp(&items[right]),
                Step::Swap => {
                    items.swap(left, right);
                    std::cmp::Ordering::Equal
                }
            });
            items.truncate(kept);
        }
    }
}

impl<T: Ord, const N: usize> From<[T; N]> for VecSet<T> {
    fn from(items: [T; N]) -> Self {
        items.into_iter().collect()
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<T: Serialize> Serialize for VecSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de, T: Ord + Deserialize<'de>> Deserialize<'de> for VecSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetVisitor<T>(PhantomData<T>);

        impl<'de, T: Ord + Deserialize<'de>> Visitor<'de> for SetVisitor<T> {
            type Value = VecSet<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a sequence")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = access.next_element()? {
                    items.push(item);
                }
                Ok(items.into_iter().collect())
            }
        }

        deserializer.deserialize_seq(SetVisitor(PhantomData))
    }
}

/// What [`sort_and_dedup`] asks of the items: compare the keys at two positions, or swap them.
enum Step {
    Compare,
    Swap,
}

/// Sorts `len` items in place by key, through `access` (see [`Step`]), and moves the first of each
/// run of equal keys to the front: returns how many to keep. Among equal keys the one taken last
/// comes first, so a later value wins, as with inserts. Taking callbacks, not the items, keeps one
/// copy of this and of the standard sort in the wasm for every item type; it only runs when a map
/// or set is built from items out of order.
#[inline(never)]
fn sort_and_dedup(len: usize, access: &mut dyn FnMut(usize, usize, Step) -> std::cmp::Ordering) -> usize {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_unstable_by(|left, right| access(*left, *right, Step::Compare).then(right.cmp(left)));
    // Move the item at `order[i]` to `i` for every `i`, following each cycle of the permutation.
    for start in 0..len {
        let mut at = start;
        while order[at] != start {
            let from = order[at];
            access(at, from, Step::Swap);
            order[at] = at;
            at = from;
        }
        order[at] = at;
    }
    let mut kept = 0;
    for at in 0..len {
        if kept == 0 || access(kept - 1, at, Step::Compare).is_ne() {
            access(kept, at, Step::Swap);
            kept += 1;
        }
    }
    kept
}

/// Sorts a short list by `key`, stably: an insertion sort, whose code is a fraction of the standard
/// sort's (which, like the B-tree, is instantiated per element type), for lists of tens of items.
pub fn sort_small_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    for sorted in 1..items.len() {
        let mut at = sorted;
        while at > 0 && key(&items[at - 1]) > key(&items[at]) {
            items.swap(at - 1, at);
            at -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// A small deterministic generator of operations (no dependency on the simulator's PRNG).
    fn numbers(seed: u64, count: usize, max: u64) -> Vec<u64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 33) % max
            })
            .collect()
    }

    #[test]
    fn behaves_like_a_btree_map_through_random_operations() {
        for seed in 0..20 {
            let mut map = VecMap::new();
            let mut model = BTreeMap::new();
            let ops = numbers(seed, 600, 1000);
            for (step, op) in ops.iter().enumerate() {
                let key = op % 50;
                match op % 7 {
                    0..=2 => assert_eq!(map.insert(key, step), model.insert(key, step)),
                    3 => assert_eq!(map.remove(&key), model.remove(&key)),
                    4 => {
                        *map.entry(key).or_insert(0) += 1;
                        *model.entry(key).or_insert(0) += 1;
                    }
                    5 => {
                        map.retain(|k, _| k % 11 != step as u64 % 11);
                        model.retain(|k, _| k % 11 != step as u64 % 11);
                    }
                    _ => assert_eq!(map.get(&key), model.get(&key)),
                }
                assert_eq!(map.len(), model.len());
                assert!(map.iter().eq(model.iter()));
                let (low, high) = (key.min(op % 37), key.max(op % 37));
                assert!(map.range(low..high).eq(model.range(low..high)));
                assert!(map.range(low..=high).eq(model.range(low..=high)));
                assert!(map.range(..high).rev().eq(model.range(..high).rev()));
                assert!(map
                    .range((Bound::Excluded(low), Bound::Unbounded))
                    .eq(model.range((Bound::Excluded(low), Bound::Unbounded))));
            }
            assert_eq!(format!("{map:?}"), format!("{model:?}"));
            assert_eq!(map.first_key_value(), model.first_key_value());
            assert_eq!(map.last_key_value(), model.last_key_value());
            let collected: VecMap<u64, usize> = model.clone().into_iter().rev().collect();
            assert!(collected.into_iter().eq(model.into_iter()));
        }
    }

    #[test]
    fn behaves_like_a_btree_set_through_random_operations() {
        let mut set = VecSet::new();
        let mut model = BTreeSet::new();
        for (step, value) in numbers(7, 800, 120).into_iter().enumerate() {
            match step % 3 {
                0 | 1 => assert_eq!(set.insert(value), model.insert(value)),
                _ => assert_eq!(set.remove(&value), model.remove(&value)),
            }
            assert!(set.iter().eq(model.iter()));
            assert!(set.range(value / 2..value).eq(model.range(value / 2..value)));
            assert_eq!(set.contains(&value), model.contains(&value));
        }
        assert_eq!(format!("{set:?}"), format!("{model:?}"));
        assert_eq!(set.first(), model.first());
    }

    #[test]
    fn collecting_out_of_order_sorts_once_and_the_last_value_wins() {
        let pairs: Vec<(u64, usize)> = numbers(11, 5000, 700).into_iter().enumerate().map(|(at, n)| (n, at)).collect();
        let map: VecMap<u64, usize> = pairs.iter().copied().collect();
        let model: BTreeMap<u64, usize> = pairs.iter().copied().collect();
        assert!(map.iter().eq(model.iter()));
        let mut extended = map.clone();
        extended.extend((0..2000).rev().map(|n| (n, n as usize)));
        let mut model_extended = model.clone();
        model_extended.extend((0..2000).rev().map(|n| (n, n as usize)));
        assert!(extended.iter().eq(model_extended.iter()));
        let set: VecSet<u64> = (0..100_000).rev().chain(5..10).collect();
        assert!(set.iter().copied().eq(0..100_000));
        let read: VecMap<u32, u32> = serde_json::from_str(&format!(
            "{{{}}}",
            (0..50_000).rev().map(|n| format!("\"{n}\":{n}")).collect::<Vec<_>>().join(",")
        ))
        .expect("a map");
        assert!(read.keys().copied().eq(0..50_000));
    }

    #[test]
    fn the_small_sort_is_stable() {
        let mut items: Vec<(u64, usize)> = numbers(3, 60, 9).into_iter().enumerate().map(|(at, n)| (n, at)).collect();
        let mut expected = items.clone();
        expected.sort_by_key(|(n, _)| *n);
        sort_small_by_key(&mut items, |(n, _)| *n);
        assert_eq!(items, expected);
    }

    #[test]
    fn serialises_as_the_btree_types_do() {
        let map: VecMap<String, u32> = [("b".to_string(), 2), ("a".to_string(), 1)].into();
        let model: BTreeMap<String, u32> = [("b".to_string(), 2), ("a".to_string(), 1)].into();
        assert_eq!(serde_json::to_string(&map).ok(), serde_json::to_string(&model).ok());
        let read: VecMap<String, u32> = serde_json::from_str(r#"{"z":1,"a":2,"z":3}"#).expect("a map");
        let model: BTreeMap<String, u32> = serde_json::from_str(r#"{"z":1,"a":2,"z":3}"#).expect("a map");
        assert!(read.iter().eq(model.iter()));
        let set: VecSet<u8> = serde_json::from_str("[3,1,3,2]").expect("a set");
        assert_eq!(serde_json::to_string(&set).ok(), Some("[1,2,3]".to_string()));
    }
}
