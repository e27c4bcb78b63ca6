//! Numbers as text for the SVG views, without `core::fmt`'s float printing: the shortest
//! round-trip digits of an `f64` (Grisu, Dragon4 and their tables) cost the wasm several KB, and
//! coordinates such as `412.73333333333335` cost the page as much again in attribute text at
//! every frame. A coordinate needs one decimal at most in an 860-unit view box.
//!
//! And back: [`parse`] reads the few decimals the page takes in (a slider's value, `?speed=2.5`)
//! without `f64::from_str`, whose exact algorithm and its 10 KB table of powers of five cost
//! the wasm 13 KB gzip for three inputs.

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

/// A decimal as a slider or an address writes it: `2`, `-0.7`, `.5`, `1.5e-3`, `+3`. Exact (the
/// nearest `f64`) up to 15 significant digits and exponents within 10^±22, close beyond; `None`
/// for anything else (including `inf` and `NaN`, which no input of the page needs).
pub fn parse(text: &str) -> Option<f64> {
    let (negative, text) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (number, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut scale = exponent;
    for (position, byte) in whole.bytes().chain(fraction.bytes()).enumerate() {
        if !byte.is_ascii_digit() {
            return None;
        }
        if mantissa < 1_000_000_000_000_000_000 {
            mantissa = mantissa * 10 + u64::from(byte - b'0');
            scale -= i32::from(position >= whole.len());
        } else {
            // Digits past the 19th only move the decimal point.
            scale += i32::from(position < whole.len());
        }
    }
    // 10^k is exact in an f64 for k <= 22, so one multiplication or division rounds once.
    let power = |k: i32| (0..k.min(308)).fold(1.0_f64, |power, _| power * 10.0);
    let value = match scale {
        0.. => mantissa as f64 * power(scale),
        _ => mantissa as f64 / power(-scale),
    };
    Some(if negative { -value } else { value })
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
    fn parse_reads_what_sliders_and_addresses_write() {
        for text in [
            "0",
            "2",
            "-0.7",
            "0.3",
            "1.3",
            "-1",
            "100",
            "0.1",
            "2.5",
            "0.30102999566398120",
            "1e-7",
            "1.5E3",
            "+3",
            ".5",
            "5.",
        ] {
            assert_eq!(parse(text), text.parse::<f64>().ok(), "{text}");
        }
        for text in ["", "-", ".", "x", "1.2.3", "1e", "--1", "1 ", "inf", "NaN", "0x10", "1,5"] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(parse("12345678901234567890123"), Some(1.2345678901234568e22));
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
