//! The world's one pseudo-random generator: SplitMix64, seeded by the scenario. Pure integer
//! arithmetic, so the same seed gives the same numbers natively and in WebAssembly.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (bound > 0), without modulo bias.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "below(0)");
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let value = self.next_u64();
            if value < zone {
                return value % bound;
            }
        }
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "between({low}, {high})");
        if low == high {
            return low;
        }
        low + self.below(high - low + 1)
    }

    /// True with probability `ratio`. Draws nothing for a ratio of zero, so that turning a
    /// probability off does not shift every later random choice.
    pub fn chance(&mut self, ratio: Ratio) -> bool {
        if ratio.numerator == 0 {
            return false;
        }
        self.below(u64::from(ratio.denominator)) < u64::from(ratio.numerator)
    }
}

/// A probability as an integer ratio, written `"1/20"` in scenario files.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ratio {
    pub numerator: u32,
    pub denominator: u32,
}

impl Ratio {
    pub const ZERO: Ratio = Ratio { numerator: 0, denominator: 1 };

    /// Whether this ratio never happens.
    pub fn is_zero(self) -> bool {
        self.numerator == 0
    }

    pub fn parse(text: &str) -> Result<Ratio, String> {
        let error = || format!("`{text}` is not a probability: write a fraction such as \"1/20\"");
        let (numerator, denominator) = text.split_once('/').ok_or_else(error)?;
        let numerator: u32 = numerator.trim().parse().map_err(|_| error())?;
        let denominator: u32 = denominator.trim().parse().map_err(|_| error())?;
        if denominator == 0 {
            return Err(format!("`{text}` divides by zero"));
        }
        if numerator > denominator {
            return Err(format!("`{text}` is more than 1"));
        }
        Ok(Ratio { numerator, denominator })
    }
}

impl Default for Ratio {
    fn default() -> Self {
        Ratio::ZERO
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::str::FromStr for Ratio {
    type Err = String;
    fn from_str(text: &str) -> Result<Ratio, String> {
        Ratio::parse(text)
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        commitlab_protocol::ids::deserialize_parsed(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        assert_ne!(Rng::new(7).next_u64(), Rng::new(8).next_u64());
    }

    #[test]
    fn between_stays_in_range() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let value = rng.between(5, 9);
            assert!((5..=9).contains(&value));
        }
    }

    #[test]
    fn ratios_parse_and_reject() {
        assert_eq!(Ratio::parse("1/20"), Ok(Ratio { numerator: 1, denominator: 20 }));
        assert!(Ratio::parse("1/0").is_err());
        assert!(Ratio::parse("3/2").is_err());
        assert!(Ratio::parse("half").is_err());
        let mut rng = Rng::new(3);
        assert!(!rng.chance(Ratio::ZERO));
        assert!(rng.chance(Ratio { numerator: 1, denominator: 1 }));
    }
}
