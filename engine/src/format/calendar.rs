//! UTC civil dates and timestamps: the proleptic Gregorian calendar of every
//! timestamp foxtrot reads or writes (FIX UTCTimestamp `YYYYMMDD-HH:MM:SS[.sss]`,
//! ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`), in integer arithmetic only.
//!
//! Time is `u64` nanoseconds since 1970-01-01T00:00:00Z everywhere; leap
//! seconds are not counted (`:60` parses as the next minute's `:00`).

use super::decimal::put_padded;

/// (year, month, day) to days since 1970-01-01, after H. Hinnant's
/// `days_from_civil`; the inverse of [`civil_from_days`].
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// [`days_from_civil`] for a year of at most four digits, in unsigned arithmetic:
/// what a decoder on the hot path calls. Years 1970–2225 are two table lookups
/// (the year's first day and leap flag, the month's first day); any other year
/// takes the formula, moved one 400-year era up so that nothing is negative and
/// every division is by a constant.
#[inline]
pub fn days_from_civil_u(y: u64, m: u64, d: u64) -> i64 {
    if let (Some(&e), Some(&before)) = (
        YEARS.get(y.wrapping_sub(1970) as usize),
        MONTHS.get(m.wrapping_sub(1) as usize),
    ) {
        let leap_day = (e & 1) as u64 & (m > 2) as u64;
        return ((e >> 1) as u64 + before as u64 + leap_day + d) as i64 - 1;
    }
    let y = y + 400 - (m <= 2) as u64;
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe) as i64 - 719_468 - 146_097
}

/// Per year from 1970: days from 1970-01-01 to its 1 January, shifted up one
/// bit, with the low bit set in leap years.
static YEARS: [u32; 256] = {
    let mut t = [0u32; 256];
    let (mut i, mut days) = (0, 0u32);
    while i < 256 {
        let y = 1970 + i as u32;
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        t[i] = days << 1 | leap as u32;
        days += if leap { 366 } else { 365 };
        i += 1;
    }
    t
};

/// Days before each month's first in a common year.
static MONTHS: [u16; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/// Days since 1970-01-01 to (year, month, day), after H. Hinnant's `civil_from_days`.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYYMMDD-HH:MM:SS` of a Unix second: a FIX UTCTimestamp without fraction.
pub fn fix_second(unix_sec: u64) -> [u8; 17] {
    let (y, m, d) = civil_from_days((unix_sec / 86_400) as i64);
    let sod = unix_sec % 86_400;
    let mut t = *b"00000000-00:00:00";
    put_padded(&mut t[0..4], y as u64);
    put_padded(&mut t[4..6], m as u64);
    put_padded(&mut t[6..8], d as u64);
    put_padded(&mut t[9..11], sod / 3600);
    put_padded(&mut t[12..14], sod / 60 % 60);
    put_padded(&mut t[15..17], sod % 60);
    t
}

/// A FIX UTCTimestamp of `ns` with `frac` fractional digits (0, 3 for
/// milliseconds, 6 for microseconds, 9 for nanoseconds; others are clamped to 9).
pub fn utc_timestamp(ns: u64, frac: u32) -> String {
    let mut t = Vec::with_capacity(27);
    push_utc_timestamp(&mut t, ns, frac);
    String::from_utf8_lossy(&t).into_owned()
}

/// Appends [`utc_timestamp`]`(ns, frac)` without allocating.
pub fn push_utc_timestamp(out: &mut Vec<u8>, ns: u64, frac: u32) {
    let mut t = [0u8; 27];
    t[..17].copy_from_slice(&fix_second(ns / 1_000_000_000));
    let mut len = 17;
    if frac > 0 {
        let frac = frac.min(9) as usize;
        t[17] = b'.';
        put_padded(&mut t[18..18 + frac], ns % 1_000_000_000 / 10u64.pow(9 - frac as u32));
        len = 18 + frac;
    }
    out.extend_from_slice(&t[..len]);
}

/// `ns` as ISO 8601 UTC with nanoseconds: `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
pub fn iso8601(ns: u64) -> String {
    let (secs, frac) = ((ns / 1_000_000_000) as i64, ns % 1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        rem / 3_600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A UTC offset `±HH:MM`, `±HHMM` or `±HH` as signed seconds (local time
/// minus UTC); `None` when it is none of those.
fn utc_offset(o: &[u8]) -> Option<i64> {
    let sign = match o.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let d = |c: &u8| c.is_ascii_digit().then(|| (c - b'0') as i64);
    let (h, m) = match &o[1..] {
        [a, b] => (d(a)? * 10 + d(b)?, 0),
        [a, b, c, e] | [a, b, b':', c, e] => (d(a)? * 10 + d(b)?, d(c)? * 10 + d(e)?),
        _ => return None,
    };
    (h <= 23 && m <= 59).then_some(sign * (h * 3_600 + m * 60))
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM|±HHMM|±HH]` as ns since
/// the epoch (UTC when no offset is given: a time with an offset is that
/// local time, converted).
pub fn parse_iso8601(b: &[u8]) -> Result<u64, &'static str> {
    const BAD: &str = "not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM])";
    // An offset follows the seconds (and fraction), after the date's dashes;
    // `Z` is the offset zero, not a suffix of another.
    let (b, offset) = match b.get(19..).and_then(|t| t.iter().position(|&c| c == b'+' || c == b'-')) {
        Some(i) => (&b[..19 + i], utc_offset(&b[19 + i..]).ok_or(BAD)?),
        None => (b.strip_suffix(b"Z").unwrap_or(b), 0),
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(BAD);
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, &'static str> {
        b[r].iter().try_fold(0i64, |a, &c| {
            if c.is_ascii_digit() {
                Ok(a * 10 + (c - b'0') as i64)
            } else {
                Err(BAD)
            }
        })
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err("timestamp field out of range");
    }
    let mut ns = 0i64;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() > 29 || b.len() == 20 {
            return Err(BAD);
        }
        let f = &b[20..];
        ns = num(20..b.len())? * 10i64.pow(9 - f.len() as u32);
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + s - offset;
    if secs < 0 {
        return Err("timestamp before 1970");
    }
    (secs as u64)
        .checked_mul(1_000_000_000)
        .and_then(|t| t.checked_add(ns as u64))
        .ok_or("timestamp after 2554, beyond u64 nanoseconds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_civil_dates_are_inverse() {
        for z in (-800_000i64..800_000).step_by(37) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m as i64, d as i64), z);
        }
    }

    #[test]
    fn civil_dates_known_values() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_458), (2026, 1, 5));
        assert_eq!(&fix_second(1_767_623_400), b"20260105-14:30:00");
        assert_eq!(utc_timestamp(1_767_623_400_123_456_789, 3), "20260105-14:30:00.123");
        // Every fraction width, against the plain formatting of the same digits.
        for ns in [
            0,
            1_767_623_400_123_456_789,
            1_767_623_400_000_000_007,
            4_102_444_799_999_999_999,
        ] {
            for frac in 0..=12u32 {
                let w = frac.min(9);
                let mut want = String::from_utf8_lossy(&fix_second(ns / 1_000_000_000)).into_owned();
                if w > 0 {
                    want += &format!(".{:0w$}", ns % 1_000_000_000 / 10u64.pow(9 - w), w = w as usize);
                }
                assert_eq!(utc_timestamp(ns, frac), want, "{ns} {frac}");
            }
        }
        assert_eq!(iso8601(1_767_623_400_000_000_001), "2026-01-05T14:30:00.000000001Z");
    }

    #[test]
    fn unsigned_days_agree_for_every_date_of_four_digit_years() {
        for y in 0..=9999u64 {
            for m in 1..=12u64 {
                for d in [1u64, 2, 15, 28, 29, 30, 31] {
                    assert_eq!(
                        days_from_civil_u(y, m, d),
                        days_from_civil(y as i64, m as i64, d as i64),
                        "{y}-{m}-{d}"
                    );
                }
            }
        }
    }

    #[test]
    fn iso_timestamps() {
        assert_eq!(parse_iso8601(b"1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_iso8601(b"2026-01-05T14:30:00Z"), Ok(1_767_623_400_000_000_000));
        assert_eq!(parse_iso8601(b"2026-01-05 14:30:00.5"), Ok(1_767_623_400_500_000_000));
        assert_eq!(
            parse_iso8601(b"2026-01-05T14:30:00.000000001"),
            Ok(1_767_623_400_000_000_001)
        );
        assert!(parse_iso8601(b"2026-13-05T14:30:00").is_err());
        assert!(parse_iso8601(b"2026/01/05T14:30:00").is_err());
        assert!(parse_iso8601(b"2026-01-05T14:30:00.").is_err());
        // UTC offsets (pandas writes `+00:00`): the local time, converted;
        // `None`: refused.
        let utc = Some(1_767_623_400_123_456_000);
        let cases: [(&[u8], Option<u64>); 12] = [
            (b"2026-01-05 14:30:00.123456+00:00", utc),
            (b"2026-01-05T09:30:00.123456-05:00", utc),
            (b"2026-01-05T09:30:00.123456-0500", utc),
            (b"2026-01-05T19:30:00.123456+05", utc),
            (b"2026-01-05T20:00:00.123456+05:30", utc),
            (b"2026-01-05T14:30:00+00:00", Some(1_767_623_400_000_000_000)),
            (b"2026-01-05T14:30:00+24:00", None),
            (b"2026-01-05T14:30:00+05:60", None),
            (b"2026-01-05T14:30:00+5", None),
            (b"2026-01-05T14:30:00.5-", None),
            (b"2026-01-05T14:30:00+05:00Z", None),
            (b"1970-01-01T00:00:00+01:00", None),
        ];
        for (t, want) in cases {
            assert_eq!(parse_iso8601(t).ok(), want, "{}", String::from_utf8_lossy(t));
        }
        // Found by the fuzzer: years past 2554 overflowed u64 nanoseconds.
        assert!(parse_iso8601(b"9999-12-31T23:59:59").is_err());
        let ns = 1_767_623_400_123_456_789;
        assert_eq!(parse_iso8601(iso8601(ns).as_bytes()), Ok(ns));
    }
}
