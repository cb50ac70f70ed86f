//! Fixed-point prices and quantities.
//!
//! Every record and journal carries prices and quantities as `i64` integers in the
//! instrument's own scale: a price of `1234500` with `price_decimals = 4` is
//! `123.4500`. Floating point is used only inside sensory and belief computations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Per-instrument scales and tick/lot sizes. All prices an instrument's records carry
/// are multiples of `tick` (in price units); all quantities multiples of `lot`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    /// Symbol as sent in FIX tag 55 (ASCII, at most [`MAX_SYMBOL_LEN`] bytes).
    #[schemars(length(min = 1, max = 12))]
    pub symbol: String,
    /// Number of decimal places in a price integer (price units = 10^-decimals).
    #[schemars(range(max = 9))]
    pub price_decimals: u8,
    /// Tick size in price units (> 0).
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub tick: i64,
    /// Number of decimal places in a quantity integer.
    #[serde(default)]
    #[schemars(range(max = 9))]
    pub qty_decimals: u8,
    /// Lot size in quantity units (> 0).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 1_000_000_000_000_i64))]
    pub lot: i64,
    /// Initial reference price in price units, used by generators and the price band
    /// before the first trade.
    #[schemars(range(min = 1, max = 1_000_000_000_000_000_i64))]
    pub ref_price: i64,
}

fn one() -> i64 {
    1
}

/// Longest symbol the FIX templates reserve room for.
pub const MAX_SYMBOL_LEN: usize = 12;

/// Whether byte `b` may stand in a symbol: printable ASCII other than `|`
/// (a symbol is 1 to [`MAX_SYMBOL_LEN`] of these, a letter among them).
pub const fn symbol_byte(b: u8) -> bool {
    b.is_ascii_graphic() && b != b'|'
}

/// 10^n for n ≤ 18, read from [`POW10`] (a runtime `n` costs one load, not
/// a loop of multiplies). Past 18 it does not fit: the product wraps.
pub const fn pow10(n: u8) -> i64 {
    if (n as usize) < POW10.len() {
        return POW10[n as usize] as i64;
    }
    let mut v = POW10[POW10.len() - 1] as i64;
    let mut i = POW10.len() - 1;
    while i < n as usize {
        v = v.wrapping_mul(10);
        i += 1;
    }
    v
}

/// 10^0 … 10^18, every power of ten an `i64` holds: the one table of them
/// (`format::decimal` reads it too).
pub const POW10: [u64; 19] = {
    let mut t = [1u64; 19];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow10_matches_float() {
        for n in 0..=18u8 {
            assert_eq!(pow10(n) as f64, 10f64.powi(n as i32));
        }
        // Past the table, the wrapping product (what the loop it replaced gave).
        assert_eq!(pow10(19), 1_000_000_000_000_000_000i64.wrapping_mul(10));
    }
}
