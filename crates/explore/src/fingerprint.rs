//! Deterministic 64-bit fingerprints.
//!
//! The visited table trusts fingerprints as state identities, so they must be well mixed (a weak
//! hash merges distinct states and silently shrinks the explored space) and identical on every
//! platform (a share link replays a counterexample by fingerprint-checked action indices, natively
//! and in wasm). std's `RandomState` is neither, and `Hash for usize` writes 4 bytes on wasm32 but
//! 8 natively; [`StableHasher`] widens every integer to 64 bits so both agree.

use std::hash::{Hash, Hasher};

/// A bijective 64-bit mixer (the SplitMix64 finalizer). Distinct inputs give distinct outputs, so
/// a model whose state packs into a `u64` gets collision-free fingerprints from it.
#[inline]
pub fn mix64(value: u64) -> u64 {
    let mut x = value;
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The fingerprint of any `Hash` value, the same on every platform and in every run.
pub fn fingerprint_of<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = StableHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// A deterministic hasher for fingerprints: each 64-bit word is xored into the accumulator, which
/// then goes through the bijective [`mix64`]; `finish` salts it with the number of words.
#[derive(Debug, Clone)]
pub struct StableHasher {
    accumulator: u64,
    words: u64,
}

const SEED: u64 = 0x2d35_8dcc_aa6c_78a5;
const WORD_SALT: u64 = 0x9e37_79b9_7f4a_7c15;

impl StableHasher {
    pub fn new() -> Self {
        Self { accumulator: SEED, words: 0 }
    }

    #[inline]
    fn word(&mut self, word: u64) {
        self.accumulator = mix64(self.accumulator.rotate_left(23) ^ word);
        self.words = self.words.wrapping_add(WORD_SALT);
    }
}

impl Default for StableHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        mix64(self.accumulator ^ self.words)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.word(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        let mut word = [0u8; 8];
        word[..tail.len()].copy_from_slice(tail);
        // The tail length goes into the top byte so "ab" and "ab\0" differ.
        self.word(u64::from_le_bytes(word) ^ ((tail.len() as u64) << 56));
    }

    fn write_u8(&mut self, value: u8) {
        self.word(u64::from(value));
    }
    fn write_u16(&mut self, value: u16) {
        self.word(u64::from(value));
    }
    fn write_u32(&mut self, value: u32) {
        self.word(u64::from(value));
    }
    fn write_u64(&mut self, value: u64) {
        self.word(value);
    }
    fn write_u128(&mut self, value: u128) {
        self.word(value as u64);
        self.word((value >> 64) as u64);
    }
    fn write_usize(&mut self, value: usize) {
        self.word(value as u64);
    }
    fn write_i8(&mut self, value: i8) {
        self.word(value as i64 as u64);
    }
    fn write_i16(&mut self, value: i16) {
        self.word(value as i64 as u64);
    }
    fn write_i32(&mut self, value: i32) {
        self.word(value as i64 as u64);
    }
    fn write_i64(&mut self, value: i64) {
        self.word(value as u64);
    }
    fn write_isize(&mut self, value: isize) {
        self.word(value as i64 as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn mix64_is_pinned() {
        // Pinned so a change of mixer (which would change every stored fingerprint) is noticed.
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
    }

    #[test]
    fn fingerprints_are_stable_and_separate_values() {
        let a = fingerprint_of(&(1u8, "ab"));
        assert_eq!(a, fingerprint_of(&(1u8, "ab")));
        assert_ne!(a, fingerprint_of(&(1u8, "ab\0")));
        assert_ne!(fingerprint_of(&(1u32, 2u32)), fingerprint_of(&(2u32, 1u32)));
        assert_ne!(fingerprint_of(&vec![1u8]), fingerprint_of(&vec![1u8, 0]));
        // usize hashes as 64 bits everywhere, so this value is the same on wasm32.
        assert_eq!(fingerprint_of(&7usize), fingerprint_of(&7u64));
        let mut seen = BTreeSet::new();
        for x in 0u32..10_000 {
            assert!(seen.insert(fingerprint_of(&(x, x % 7))));
        }
    }
}
