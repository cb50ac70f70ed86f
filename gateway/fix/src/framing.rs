//! Framing a TCP byte stream into FIX messages, and resynchronising after garbage.
//!
//! A frame starts at `8=FIX` (bytes before it are garbage and dropped). Its
//! length is found the way counterparties' engines find it: BodyLength (`9=`)
//! gives where the body should end, and the frame ends at the SOH after the first
//! `10=` field that starts at or after that point. So:
//! - a CheckSum field of any length (`10=0`, `10=2561`) ends the frame at its own
//!   SOH and never swallows the next message's `8=`;
//! - a BodyLength too short still frames the message up to its own CheckSum
//!   (which then fails its check: the message is garbled and dropped, nothing
//!   after it is lost);
//! - a BodyLength too long reaches into the next message and frames both
//!   together (dropped as one garbled frame, as counterparties do; the sender's
//!   next messages then show the gap, which a ResendRequest recovers).
//!
//! Whether the frame is a valid message — BodyLength exact, CheckSum right, the
//! first three fields in order — is for [`check_frame`] (and the session).

use crate::decode::SOH;

/// What the start of a buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A frame of this many bytes.
    Message(usize),
    /// This many bytes of garbage to drop before the next `8=FIX`.
    Skip(usize),
    /// Not enough bytes yet.
    Incomplete,
}

/// The longest frame looked for before its start is given up as garbage.
pub const MAX_FRAME: usize = 1 << 20;

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The next frame at the start of `buf`. See the module docs.
pub fn next_frame(buf: &[u8]) -> Frame {
    let Some(start) = find(buf, b"8=FIX", 0) else {
        // Keep a tail that may be the start of `8=FIX`.
        let keep = buf.len().min(4);
        return if buf.len() > keep {
            Frame::Skip(buf.len() - keep)
        } else {
            Frame::Incomplete
        };
    };
    if start > 0 {
        return Frame::Skip(start);
    }
    // Where the next message might start, if this one turns out not to be one.
    let resync = || Frame::Skip(find(buf, b"8=FIX", 1).unwrap_or(buf.len()));
    let Some(nine) = find(buf, b"\x019=", 0) else {
        return if buf.len() > 64 { resync() } else { Frame::Incomplete };
    };
    let digits = nine + 3;
    let Some(soh) = buf[digits..].iter().position(|&c| c == SOH).map(|p| p + digits) else {
        return if buf.len() - digits > 12 {
            resync()
        } else {
            Frame::Incomplete
        };
    };
    let len = match std::str::from_utf8(&buf[digits..soh])
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        Some(n) if n <= MAX_FRAME => n,
        _ => return resync(),
    };
    let body = soh + 1;
    let body_end = body + len;
    if buf.len() < body_end {
        return if body_end > MAX_FRAME {
            resync()
        } else {
            Frame::Incomplete
        };
    }
    let Some(ten) = find(buf, b"\x0110=", body_end.saturating_sub(1).max(body - 1)) else {
        return if buf.len() > MAX_FRAME {
            resync()
        } else {
            Frame::Incomplete
        };
    };
    match buf[ten + 4..].iter().position(|&c| c == SOH) {
        Some(p) => Frame::Message(ten + 4 + p + 1),
        None if buf.len() - (ten + 4) > 16 => resync(),
        None => Frame::Incomplete,
    }
}

/// Splits the complete frames off the front of `buf`, calling `f` with each;
/// garbage is skipped. Returns how many bytes were consumed.
pub fn split_frames(buf: &[u8], f: impl FnMut(&[u8])) -> usize {
    split_frames_counting(buf, f).0
}

/// As [`split_frames`], also returning how many bytes were skipped as no
/// message (garbage before a frame, a frame whose BodyLength is beyond
/// [`MAX_FRAME`]).
pub fn split_frames_counting(buf: &[u8], mut f: impl FnMut(&[u8])) -> (usize, usize) {
    let (mut at, mut skipped) = (0, 0);
    loop {
        match next_frame(&buf[at..]) {
            Frame::Message(n) => {
                f(&buf[at..at + n]);
                at += n;
            }
            Frame::Skip(n) => {
                at += n;
                skipped += n;
            }
            Frame::Incomplete => return (at, skipped),
        }
    }
}

/// The MsgType of a frame, if its third field is one.
pub fn msg_type(m: &[u8]) -> Option<&[u8]> {
    let mut it = m.split(|&c| c == SOH);
    let _ = (it.next(), it.next());
    it.next().and_then(|f| f.strip_prefix(b"35="))
}

/// Why a frame is not a valid message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadFrame {
    /// BeginString, BodyLength, MsgType are not the first three fields.
    Header,
    /// BodyLength is not the length from after it to the CheckSum field.
    BodyLength,
    /// The CheckSum is not three digits giving the sum of the bytes before it.
    CheckSum,
}

/// Checks a frame [`next_frame`] found: the first three fields, BodyLength and
/// CheckSum.
pub fn check_frame(m: &[u8]) -> Result<(), BadFrame> {
    let field = |from: usize| -> Option<(&[u8], &[u8], usize)> {
        let eq = m[from..].iter().position(|&c| c == b'=')? + from;
        let soh = m[eq..].iter().position(|&c| c == SOH)? + eq;
        Some((&m[from..eq], &m[eq + 1..soh], soh + 1))
    };
    let (t8, _, at) = field(0).ok_or(BadFrame::Header)?;
    let (t9, v9, body) = field(at).ok_or(BadFrame::Header)?;
    let (t35, _, _) = field(body).ok_or(BadFrame::Header)?;
    if t8 != b"8" || t9 != b"9" || t35 != b"35" {
        return Err(BadFrame::Header);
    }
    let len: usize = std::str::from_utf8(v9)
        .ok()
        .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or(BadFrame::BodyLength)?;
    let ten = m
        .len()
        .checked_sub(1)
        .and_then(|e| m[..e].iter().rposition(|&c| c == SOH))
        .ok_or(BadFrame::BodyLength)?
        + 1;
    if !m[ten..].starts_with(b"10=") || ten != body + len {
        return Err(BadFrame::BodyLength);
    }
    let sum = &m[ten + 3..m.len() - 1];
    if sum.len() != 3 || !sum.iter().all(u8::is_ascii_digit) {
        return Err(BadFrame::CheckSum);
    }
    let want = (sum[0] - b'0') as u32 * 100 + (sum[1] - b'0') as u32 * 10 + (sum[2] - b'0') as u32;
    let got = m[..ten].iter().fold(0u32, |a, &c| a + c as u32) % 256;
    if want != got {
        return Err(BadFrame::CheckSum);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::decode::tests::message as msg;

    fn frames(buf: &[u8]) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        split_frames(buf, |f| v.push(f.to_vec()));
        v
    }

    /// Bytes that are no message — garbage before a frame, a frame whose
    /// BodyLength is beyond the largest — are skipped and counted; a partial
    /// message at the end is neither.
    #[test]
    fn skipped_bytes_are_counted() {
        let good = msg("35=0|34=3|");
        let junk = b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
        let huge = b"8=FIX.4.4\x019=99999999\x0135=8\x01";
        let partial = &good[..good.len() - 3];
        let buf = [&junk[..], &good, &huge[..], &good, partial].concat();
        let mut n = 0;
        let (used, skipped) = split_frames_counting(&buf, |_| n += 1);
        assert_eq!(n, 2);
        assert_eq!(used, buf.len() - partial.len());
        assert_eq!(skipped, junk.len() + huge.len());
        assert_eq!(split_frames_counting(&good, |_| {}), (good.len(), 0));
    }

    #[test]
    fn a_short_checksum_does_not_swallow_the_next_message() {
        let good = msg("35=0|34=3|");
        let mut buf = b"8=FIX.4.4\x019=15\x0135=0\x0134=2\x0149=X\x0110=0\x01".to_vec();
        buf.extend_from_slice(&good);
        let f = frames(&buf);
        assert_eq!(f.len(), 2);
        assert_eq!(check_frame(&f[0]), Err(BadFrame::CheckSum));
        assert_eq!(f[1], good);
        assert_eq!(check_frame(&f[1]), Ok(()));
    }

    #[test]
    fn garbage_is_skipped_to_the_next_message_and_lengths_are_checked() {
        let good = msg("35=0|34=3|");
        let mut buf = b"xx8=junk\x01".to_vec();
        buf.extend_from_slice(&good);
        assert_eq!(frames(&buf), vec![good.clone()]);
        // Too short a BodyLength: framed to its own CheckSum, then refused.
        let bad = String::from_utf8(good.clone())
            .unwrap()
            .replace("9=10", "9=5")
            .into_bytes();
        let f = frames(&bad);
        assert_eq!(f.len(), 1);
        assert_eq!(check_frame(&f[0]), Err(BadFrame::BodyLength));
        // Half a message waits for the rest.
        assert_eq!(next_frame(&good[..good.len() - 3]), Frame::Incomplete);
        // The first three fields in another order.
        let swapped = String::from_utf8(msg("34=3|35=0|")).unwrap().into_bytes();
        assert_eq!(check_frame(&swapped), Err(BadFrame::Header));
    }
}
