//! The ITCH binary file format: each message preceded by its length as a 2-byte
//! big-endian integer (what NASDAQ's historical `*.NASDAQ_ITCH50` files hold).
//!
//! Every length prefix is checked against the length the specification gives the
//! message's type; a mismatch stops the iteration with an error naming the byte
//! offset, the type, and both lengths. Files written without prefixes (raw
//! messages back to back) are read with [`Framing::Inferred`], and files whose
//! prefixes are all zero (a real-world variant) with [`Framing::ZeroPrefixed`]:
//! either way each length comes from the type byte (every ITCH 5.0 type has a
//! fixed length). [`detect`] tells the three apart from the first bytes.

use super::msg::message_len;
use crate::Error;

/// How messages are delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A 2-byte big-endian length before each message (the standard file format).
    LengthPrefixed,
    /// No prefixes: each message's length comes from its type byte.
    Inferred,
    /// A 2-byte prefix before each message that is zero (or otherwise not its
    /// length): skipped, and the length taken from the type byte.
    ZeroPrefixed,
}

impl Framing {
    /// Bytes before each message.
    pub fn prefix_len(self) -> usize {
        match self {
            Framing::Inferred => 0,
            Framing::LengthPrefixed | Framing::ZeroPrefixed => 2,
        }
    }

    /// The framing a `--framing` option names for `bytes`: `auto` (detected),
    /// `prefixed`, `zero-prefixed` or `raw`.
    pub fn choose(name: &str, bytes: &[u8]) -> Option<Framing> {
        Some(match name {
            "auto" => detect(bytes),
            "prefixed" => Framing::LengthPrefixed,
            "zero-prefixed" => Framing::ZeroPrefixed,
            "raw" => Framing::Inferred,
            _ => return None,
        })
    }
}

/// The values a `--framing` option takes.
pub const FRAMING_NAMES: [&str; 4] = ["auto", "prefixed", "zero-prefixed", "raw"];

/// Guesses the framing of a file from its first bytes: a zero byte then a length
/// that matches the type byte after it means prefixed; two zero bytes then a
/// type byte, zero prefixes; a valid type byte first, raw messages. Anything
/// else is treated as prefixed, whose reader then reports exactly what it found.
pub fn detect(b: &[u8]) -> Framing {
    match b {
        [0, n, kind, ..] if message_len(*kind) == Some(*n as usize) => Framing::LengthPrefixed,
        [0, 0, kind, ..] if message_len(*kind).is_some() => Framing::ZeroPrefixed,
        [kind, ..] if message_len(*kind).is_some() => Framing::Inferred,
        _ => Framing::LengthPrefixed,
    }
}

/// Iterates over the messages of an in-memory (or memory-mapped) file, yielding
/// `(offset, message bytes)`; after an error it yields nothing more.
pub struct Frames<'a> {
    buf: &'a [u8],
    pos: usize,
    framing: Framing,
    failed: bool,
}

impl<'a> Frames<'a> {
    /// Frames `buf` with the given framing.
    pub fn new(buf: &'a [u8], framing: Framing) -> Self {
        Frames {
            buf,
            pos: 0,
            framing,
            failed: false,
        }
    }

    /// The offset of the next message (or prefix).
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }

    #[inline]
    fn fail(&mut self, e: Error) -> Option<Result<(u64, &'a [u8]), Error>> {
        self.failed = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<(u64, &'a [u8]), Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        if rest.is_empty() || self.failed {
            return None;
        }
        let at = self.pos as u64;
        let (skip, kind) = match self.framing {
            Framing::LengthPrefixed => match rest {
                [h, l, kind, ..] => (2, (*kind, Some(u16::from_be_bytes([*h, *l]) as usize))),
                _ => {
                    return self.fail(Error::Truncated {
                        offset: at,
                        what: "length prefix and type",
                        needed: 3,
                        found: rest.len(),
                    })
                }
            },
            Framing::Inferred => (0, (rest[0], None)),
            Framing::ZeroPrefixed => match rest {
                [_, _, kind, ..] => (2, (*kind, None)),
                _ => {
                    return self.fail(Error::Truncated {
                        offset: at,
                        what: "prefix and type",
                        needed: 3,
                        found: rest.len(),
                    })
                }
            },
        };
        let (kind, prefix) = kind;
        let Some(expected) = message_len(kind) else {
            return self.fail(match prefix {
                Some(prefix) => Error::NotAMessage {
                    offset: at,
                    prefix,
                    kind,
                },
                None => Error::At {
                    offset: at,
                    cause: Box::new(Error::UnknownType { kind }),
                },
            });
        };
        if let Some(found) = prefix {
            if found != expected {
                return self.fail(Error::LengthMismatch {
                    offset: at,
                    kind,
                    expected,
                    found,
                });
            }
        }
        let Some(msg) = rest.get(skip..skip + expected) else {
            return self.fail(Error::Truncated {
                offset: at,
                what: "message",
                needed: skip + expected,
                found: rest.len(),
            });
        };
        self.pos += skip + expected;
        Some(Ok((at, msg)))
    }
}

/// Appends `msg` with its length prefix to `out`.
pub fn write_prefixed(out: &mut Vec<u8>, msg: &[u8]) {
    out.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    out.extend_from_slice(msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delete(order_ref: u64) -> Vec<u8> {
        let mut m = vec![b'D', 0, 1, 0, 0, 0, 0, 0, 0, 0, 9];
        m.extend_from_slice(&order_ref.to_be_bytes());
        m
    }

    #[test]
    fn prefixed_and_raw_files_frame_the_same_messages() {
        let (a, b) = (delete(1), delete(2));
        let mut prefixed = Vec::new();
        write_prefixed(&mut prefixed, &a);
        write_prefixed(&mut prefixed, &b);
        let raw: Vec<u8> = [a.clone(), b.clone()].concat();
        assert_eq!(detect(&prefixed), Framing::LengthPrefixed);
        assert_eq!(detect(&raw), Framing::Inferred);
        let p: Vec<_> = Frames::new(&prefixed, Framing::LengthPrefixed)
            .map(|r| r.unwrap())
            .collect();
        let r: Vec<_> = Frames::new(&raw, Framing::Inferred).map(|r| r.unwrap()).collect();
        assert_eq!(p, vec![(0, &a[..]), (21, &b[..])]);
        assert_eq!(r, vec![(0, &a[..]), (19, &b[..])]);
    }

    #[test]
    fn a_wrong_or_missing_prefix_names_offset_and_both_lengths() {
        let mut f = Vec::new();
        write_prefixed(&mut f, &delete(1));
        f.extend_from_slice(&[0, 23]);
        f.extend_from_slice(&delete(2));
        let got: Vec<_> = Frames::new(&f, Framing::LengthPrefixed).collect();
        assert_eq!(got.len(), 2);
        let e = got[1].as_ref().unwrap_err();
        assert_eq!(
            *e,
            Error::LengthMismatch {
                offset: 21,
                kind: b'D',
                expected: 19,
                found: 23
            }
        );
        assert!(e
            .to_string()
            .starts_with("offset 21: length prefix 23 but message type 'D' is 19 bytes"));
        // A raw file read as prefixed: the first "prefix" is the type byte and more.
        let raw = delete(7);
        let e = Frames::new(&raw, Framing::LengthPrefixed).next().unwrap().unwrap_err();
        assert_eq!(
            e,
            Error::NotAMessage {
                offset: 0,
                prefix: 0x4400,
                kind: 1
            }
        );
        assert!(e.to_string().contains("--framing raw"), "{e}");
        // A garbage byte in a raw file.
        let mut g = delete(1);
        g.push(b'!');
        let got: Vec<_> = Frames::new(&g, Framing::Inferred).collect();
        assert_eq!(
            got[1],
            Err(Error::At {
                offset: 19,
                cause: Box::new(Error::UnknownType { kind: b'!' })
            })
        );
        // Truncated at the end.
        let mut t = Vec::new();
        write_prefixed(&mut t, &delete(1));
        t.truncate(15);
        let e = Frames::new(&t, Framing::LengthPrefixed).next().unwrap().unwrap_err();
        assert!(
            matches!(
                e,
                Error::Truncated {
                    offset: 0,
                    needed: 21,
                    found: 15,
                    ..
                }
            ),
            "{e}"
        );
    }
}
