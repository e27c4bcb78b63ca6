//! Numbers as text for the SVG views, without `core::fmt`'s float printing: the shortest
//! round-trip digits of an `f64` (Grisu, Dragon4 and their tables) cost the wasm several KB, and
//! coordinates such as `412.73333333333335` cost the page as much again in attribute text at
//! every frame. A coordinate needs one decimal at most in an 860-unit view box.

/// An `f64` written with the fewest of `decimals` places it needs: `12`, `12.5`, `-0.3`.
pub trait Decimal {
    /// One decimal at most: SVG coordinates, lengths and the like.
    fn dec(&self) -> String;
}

impl Decimal for f64 {
    fn dec(&self) -> String {
        short(*self, 1)
    }
}

/// `value` rounded to `decimals` places (at most 3), trailing zeros left out.
pub fn short(value: f64, decimals: u32) -> String {
    let (negative, whole, fraction) = split(value, decimals);
    let mut text = String::new();
    if negative {
        text.push('-');
    }
    text.push_str(&whole.to_string());
    if fraction != 0 {
        let mut digits = format!("{fraction:0width$}", width = decimals as usize);
        while digits.ends_with('0') {
            digits.pop();
        }
        text.push('.');
        text.push_str(&digits);
    }
    text
}

/// `value` with exactly `decimals` places (at most 3): `1.0`, `0.5`, `3`.
pub fn fixed(value: f64, decimals: u32) -> String {
    let (negative, whole, fraction) = split(value, decimals);
    let sign = if negative { "-" } else { "" };
    match decimals {
        0 => format!("{sign}{whole}"),
        _ => format!("{sign}{whole}.{fraction:0width$}", width = decimals as usize),
    }
}

/// The sign, whole part and fraction (in units of 10^-decimals) of `value` rounded half away
/// from zero; anything not finite reads as 0.
fn split(value: f64, decimals: u32) -> (bool, u64, u64) {
    assert!(decimals <= 3, "at most 3 decimals, asked for {decimals}");
    let unit = 10_u64.pow(decimals);
    let scaled = (value.abs() * unit as f64).round();
    if !scaled.is_finite() || scaled == 0.0 {
        return (false, 0, 0);
    }
    // Saturates far beyond any coordinate of the views.
    let scaled = scaled as u64;
    (value < 0.0, scaled / unit, scaled % unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_drops_trailing_zeros_and_rounds_half_away_from_zero() {
        assert_eq!(412.733_333_333_333_35_f64.dec(), "412.7");
        assert_eq!(12.0_f64.dec(), "12");
        assert_eq!(12.05_f64.dec(), "12.1");
        assert_eq!((-0.25_f64).dec(), "-0.3");
        assert_eq!((-0.04_f64).dec(), "0");
        assert_eq!(0.0_f64.dec(), "0");
        assert_eq!(f64::NAN.dec(), "0");
        assert_eq!(short(1.5, 0), "2");
        assert_eq!(short(1.2345, 3), "1.235");
        assert_eq!(short(1.2, 3), "1.2");
    }

    #[test]
    fn fixed_keeps_every_place() {
        assert_eq!(fixed(1.0, 1), "1.0");
        assert_eq!(fixed(0.30000000000000004, 1), "0.3");
        assert_eq!(fixed(-1.0, 1), "-1.0");
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(2.6, 0), "3");
        assert_eq!(fixed(0.05, 2), "0.05");
    }
}
