//! A log of every FIX message a session sends and receives — the audit trail
//! counterparties ask for — written off the hot path.
//!
//! The connection hands each message to [`MessageLog::record`], which copies it
//! into a lock-free single-producer ring of bytes (`rtrb`): no allocation, no
//! lock, no syscall. A thread of the log's own drains the ring into the file,
//! one line per message:
//!
//! ```text
//! 20261202-17:30:00.123456 IN  8=FIX.4.4␁9=63␁35=A␁…␁10=017␁
//! 20261202-17:30:00.123789 OUT 8=FIX.4.4␁9=63␁35=A␁…␁10=021␁
//! ```
//!
//! (the message as it was on the wire, SOH and all; the time is the gateway's
//! wall clock when the message was read or queued). If the disk falls so far
//! behind that the ring is full, a message is not waited for: it is counted,
//! and a line `… LOST n messages` is written in its place, so the file never
//! claims to be complete when it is not. Dropping the log drains what is in
//! the ring and closes the file.

use foxtrot_engine::format::calendar::utc_timestamp;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Received from the counterparty.
    In = 0,
    /// Sent to it.
    Out = 1,
    /// Not a message: the count of messages lost (in the length field).
    Lost = 2,
}

/// Bytes of the ring: a few seconds of a busy session.
const RING_BYTES: usize = 8 << 20;
/// A record's header: direction (1), time (8), length (4).
const HEAD: usize = 13;

/// See the module docs.
pub struct MessageLog {
    ring: rtrb::Producer<u8>,
    path: PathBuf,
    lost: u64,
    last_ns: u64,
    stop: Arc<AtomicBool>,
    writer: Option<JoinHandle<std::io::Result<()>>>,
}

impl MessageLog {
    /// Opens (appending) `<dir>/<name>.messages.log` and starts its writer thread.
    pub fn open(dir: &Path, name: &str) -> std::io::Result<MessageLog> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{name}.messages.log"));
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let (ring, rx) = rtrb::RingBuffer::new(RING_BYTES);
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let writer = std::thread::Builder::new()
            .name(format!("fix-log-{name}"))
            .spawn(move || drain(rx, BufWriter::with_capacity(1 << 16, file), &s))?;
        Ok(MessageLog {
            ring,
            path,
            lost: 0,
            last_ns: 0,
            stop,
            writer: Some(writer),
        })
    }

    /// The file it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs one message (or several back to back, as a connection queues
    /// them), copied; never blocks.
    pub fn record(&mut self, dir: Direction, now_ns: u64, msg: &[u8]) {
        self.last_ns = now_ns;
        if self.lost > 0 && self.put(Direction::Lost, now_ns, &[], self.lost as u32) {
            self.lost = 0;
        }
        if !self.put(dir, now_ns, msg, msg.len() as u32) {
            self.lost += 1;
        }
    }

    /// Messages not logged because the ring was full, and not yet reported.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    fn put(&mut self, dir: Direction, now_ns: u64, msg: &[u8], len: u32) -> bool {
        let Ok(mut chunk) = self.ring.write_chunk(HEAD + msg.len()) else {
            return false;
        };
        let mut head = [0u8; HEAD];
        head[0] = dir as u8;
        head[1..9].copy_from_slice(&now_ns.to_le_bytes());
        head[9..13].copy_from_slice(&len.to_le_bytes());
        let (a, b) = chunk.as_mut_slices();
        let mut src = head.iter().chain(msg.iter());
        for (d, s) in a.iter_mut().chain(b.iter_mut()).zip(&mut src) {
            *d = *s;
        }
        chunk.commit_all();
        true
    }
}

impl Drop for MessageLog {
    fn drop(&mut self) {
        if self.lost > 0 {
            // Best effort: the writer drains before it stops.
            let (t, n) = (self.last_ns, self.lost as u32);
            self.put(Direction::Lost, t, &[], n);
        }
        self.stop.store(true, Ordering::Release);
        if let Some(w) = self.writer.take() {
            match w.join() {
                Ok(Err(e)) => tracing::error!(file = %self.path.display(), error = %e, "FIX message log: write failed"),
                Err(_) => tracing::error!(file = %self.path.display(), "FIX message log: writer thread panicked"),
                Ok(Ok(())) => {}
            }
        }
    }
}

/// The writer thread: records out of the ring into lines of the file until
/// stopped and empty.
fn drain(mut rx: rtrb::Consumer<u8>, mut out: BufWriter<File>, stop: &AtomicBool) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    loop {
        let stopping = stop.load(Ordering::Acquire);
        let n = rx.slots();
        if n == 0 {
            out.flush()?;
            if stopping {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let chunk = rx.read_chunk(n).expect("slots() were available");
        buf.clear();
        let (a, b) = chunk.as_slices();
        buf.extend_from_slice(a);
        buf.extend_from_slice(b);
        chunk.commit_all();
        // Whole records only: the producer commits each record at once.
        let mut at = 0;
        while at + HEAD <= buf.len() {
            let dir = buf[at];
            let ts = u64::from_le_bytes(buf[at + 1..at + 9].try_into().expect("8 bytes"));
            let len = u32::from_le_bytes(buf[at + 9..at + 13].try_into().expect("4 bytes")) as usize;
            let stamp = utc_timestamp(ts, 6);
            if dir == Direction::Lost as u8 {
                writeln!(out, "{stamp} LOST {len} messages (the log fell behind)")?;
                at += HEAD;
                continue;
            }
            let body = &buf[at + HEAD..at + HEAD + len];
            // One line per message, even when several were queued together.
            crate::framing::split_frames(body, |m| {
                let _ = out.write_all(stamp.as_bytes());
                let _ = out.write_all(if dir == Direction::In as u8 { b" IN  " } else { b" OUT " });
                let _ = out.write_all(m);
                let _ = out.write_all(b"\n");
            });
            at += HEAD + len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::decode::tests::message as msg;

    #[test]
    fn every_message_becomes_one_line_in_order() {
        let dir = std::env::temp_dir().join(format!("foxtrot-msglog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (a, b) = (msg("35=A|34=1|"), msg("35=0|34=2|"));
        let path = {
            let mut log = MessageLog::open(&dir, "ISLD-TW").unwrap();
            log.record(Direction::In, 1_767_623_400_000_000_000, &a);
            let mut two = b.clone();
            two.extend_from_slice(&a);
            log.record(Direction::Out, 1_767_623_400_000_001_000, &two);
            log.path().to_path_buf()
        };
        let text = std::fs::read(&path).unwrap();
        let lines: Vec<&[u8]> = text.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with(b"20260105-14:30:00.000000 IN  8=FIX.4.4\x01"));
        assert!(lines[1].starts_with(b"20260105-14:30:00.000001 OUT ") && lines[1].ends_with(&b[b.len() - 7..]));
        assert!(lines[2].ends_with(&a[a.len() - 7..]));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
