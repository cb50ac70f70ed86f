//! Exact decimal text ↔ fixed-point integers, shared by every text format
//! (CSV, FIX, reports): no floating point, so `101.25` at four decimals is exactly
//! 1012500, and 1012500 at four decimals prints as `101.2500`.

/// [`fixed`]'s error for a decimal with more places than the scale that are
/// not all zeros (its value is not a whole number of units).
pub const MORE_DECIMALS: &str = "more decimals than the price/qty scale holds";

/// Parses a decimal into an integer scaled by 10^`decimals`, exactly.
#[inline(always)]
pub fn fixed(b: &[u8], decimals: u8) -> Result<i64, &'static str> {
    match fixed_fast(b, decimals) {
        Some(v) => Ok(v),
        None => fixed_checked(b, decimals),
    }
}

/// `v` units with `decimals` decimal places as text: `-` for negatives, no
/// exponent, exactly `decimals` digits after the point (none and no point at 0).
/// The inverse of [`fixed`] for every `i64`.
pub fn to_text(v: i64, decimals: u8) -> String {
    let mut out = Vec::with_capacity(24);
    push_fixed(&mut out, v, decimals);
    // Only ASCII digits, `-` and `.` were written.
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends [`to_text`]`(v, decimals)` without allocating.
#[inline]
pub fn push_fixed(out: &mut Vec<u8>, v: i64, decimals: u8) {
    if decimals == 0 {
        return push_int(out, v);
    }
    let w = decimals.min(18) as usize;
    let p = POW10[w];
    if v < 0 {
        out.push(b'-');
    }
    let u = v.unsigned_abs();
    push_uint(out, u / p);
    out.push(b'.');
    let mut frac = [0u8; 18];
    put_padded(&mut frac[..w], u % p);
    out.extend_from_slice(&frac[..w]);
}

/// Writes `v` right-aligned and zero-padded into all of `out` (digits that do
/// not fit are dropped).
#[inline]
pub fn put_padded(out: &mut [u8], mut v: u64) {
    for c in out.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Appends `v` in decimal (`-` for negatives), as `v.to_string()` writes it,
/// without allocating.
#[inline]
pub fn push_int(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_uint(out, v.unsigned_abs());
}

/// Appends `u` in decimal, as `u.to_string()` writes it, without allocating.
#[inline]
pub fn push_uint(out: &mut Vec<u8>, mut u: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// Powers of ten that fit an `i64` (the records' table).
pub use crate::records::POW10;

/// [`fixed`] for what prices and quantities nearly always are: unsigned, at most
/// 18 characters (so the digits cannot overflow), digits and at most one `.`.
/// `None` for anything else, which [`fixed_checked`] then answers (with the
/// same value or the error).
#[inline(always)]
fn fixed_fast(b: &[u8], decimals: u8) -> Option<i64> {
    let n = b.len();
    if n == 0 || n > 18 {
        return None;
    }
    // The digits before the '.', then those after it (one tight loop each).
    let (mut v, mut i) = (0u64, 0);
    while i < n {
        let d = b[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + d as u64;
        i += 1;
    }
    let mut frac = 0;
    if i < n {
        if b[i] != b'.' {
            return None;
        }
        frac = n - i - 1;
        i += 1;
        while i < n {
            let d = b[i].wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as u64;
            i += 1;
        }
    }
    scaled(v, frac, decimals)
}

/// The digits `v` of a decimal with `frac` of them after the point, in units
/// of 10^-`decimals`: `None` when that overflows an `i64`, or when more
/// decimals than the scale holds are not all zeros (the value would not be
/// exact). The arithmetic of [`fixed`]'s fast path, for readers that find the
/// digits their own way.
#[inline(always)]
pub fn scaled(v: u64, frac: usize, decimals: u8) -> Option<i64> {
    let scale = decimals as usize;
    if frac <= scale {
        let v = v.checked_mul(*POW10.get(scale - frac)?)?;
        return i64::try_from(v).ok();
    }
    // More decimals than the scale: exact only if the extra ones are zeros,
    // and then the value is the digits before them.
    let extra = *POW10.get(frac - scale)?;
    (v % extra == 0).then(|| (v / extra) as i64)
}

/// [`fixed`] byte by byte with every check: signs, overflow, and the errors.
#[cold]
#[inline(never)]
fn fixed_checked(b: &[u8], decimals: u8) -> Result<i64, &'static str> {
    let (neg, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if b.is_empty() {
        return Err("empty number");
    }
    let mut v: i64 = 0;
    let mut frac: Option<u8> = None;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                if let Some(f) = frac.as_mut() {
                    if *f == decimals {
                        if c != b'0' {
                            return Err(MORE_DECIMALS);
                        }
                        continue;
                    }
                    *f += 1;
                }
                v = v
                    .checked_mul(10)
                    .and_then(|v| v.checked_add((c - b'0') as i64))
                    .ok_or("number too large")?;
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return Err("not a decimal number"),
        }
    }
    for _ in frac.unwrap_or(0)..decimals {
        v = v.checked_mul(10).ok_or("number too large")?;
    }
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The fast path gives the checked parser's answer whenever it answers.
        #[test]
        fn fast_path_agrees_with_the_checked_parser(
            text in "[-+]?[0-9]{0,20}(\\.[0-9]{0,12})?|[0-9.]{1,6}|[0-9]{1,19}0{0,8}(\\.0{0,8})?",
            decimals in 0u8..22,
        ) {
            let b = text.as_bytes();
            if let Some(v) = fixed_fast(b, decimals) {
                prop_assert_eq!(Ok(v), fixed_checked(b, decimals), "{:?} at {}", text, decimals);
            }
            prop_assert_eq!(fixed(b, decimals), fixed_checked(b, decimals));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// Printing then parsing gives the value back, at every scale.
        #[test]
        fn text_round_trips(v in any::<i64>(), decimals in 0u8..=18) {
            prop_assume!(v != i64::MIN);
            prop_assert_eq!(fixed(to_text(v, decimals).as_bytes(), decimals), Ok(v));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// `push_int` writes what `to_string` writes, after what was there.
        #[test]
        fn push_int_writes_what_to_string_does(v in any::<i64>(), small in -1000i64..1000, u in any::<u64>()) {
            for x in [v, small, i64::MIN, i64::MAX, 0] {
                let mut out = b"x=".to_vec();
                push_int(&mut out, x);
                prop_assert_eq!(out, format!("x={x}").into_bytes());
            }
            for x in [u, u64::MAX, 0, 9, 10] {
                let mut out = b"x=".to_vec();
                push_uint(&mut out, x);
                prop_assert_eq!(out, format!("x={x}").into_bytes());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The text is the plain formatting of the integer and fraction parts.
        #[test]
        fn text_is_the_plain_formatting(v in any::<i64>(), decimals in 0u8..=22) {
            let want = if decimals == 0 {
                v.to_string()
            } else {
                let w = decimals.min(18) as u32;
                let p = 10u64.pow(w);
                let sign = if v < 0 { "-" } else { "" };
                format!("{sign}{}.{:0w$}", v.unsigned_abs() / p, v.unsigned_abs() % p, w = w as usize)
            };
            prop_assert_eq!(to_text(v, decimals), want);
        }
    }

    #[test]
    fn text_of_known_values() {
        assert_eq!(to_text(1_012_500, 4), "101.2500");
        assert_eq!(to_text(-5, 2), "-0.05");
        assert_eq!(to_text(300, 0), "300");
        assert_eq!(to_text(7, 1), "0.7");
    }

    #[test]
    fn fast_path_takes_the_usual_prices_and_quantities() {
        for (t, d, v) in [
            ("100.25", 4, 1_002_500),
            ("300", 0, 300),
            ("100.2500", 4, 1_002_500),
            ("7.50", 1, 75),
            (".5", 2, 50),
            ("1.", 0, 1),
        ] {
            assert_eq!(fixed_fast(t.as_bytes(), d), Some(v), "{t}");
        }
        for t in ["-1", "+1", "1.2.3", "", "1e5", "100.25"] {
            assert_eq!(fixed_fast(t.as_bytes(), if t == "100.25" { 1 } else { 2 }), None, "{t}");
        }
    }
}
