//! Exact decimal text → fixed-point integers, shared by every text format
//! (CSV, FIX): no floating point, so `101.25` at four decimals is exactly 1012500.

/// Parses a decimal into an integer scaled by 10^`decimals`, exactly.
#[inline]
pub fn fixed(b: &[u8], decimals: u8) -> Result<i64, &'static str> {
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
                            return Err("more decimals than the price/qty scale holds");
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
