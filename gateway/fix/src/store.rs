//! A [`MessageStore`] kept in a journal, so a restarted process resumes its FIX
//! session: same sequence numbers, and every application message it sent still
//! there to be resent.
//!
//! Records: kind 200 — an application message sent: its MsgSeqNum (u64,
//! little-endian) then its bytes; kind 201 — the sequence numbers, 16 bytes
//! (`next_out u64 | next_in u64`, little-endian), written on every change; kind
//! 202 — a reset (everything before it is void). Opening replays the journal
//! (the last 201 wins), and the journal's own crash recovery means a `kill -9`
//! loses at most the record being written.

use super::session::{MemoryStore, MessageStore};
use foxtrot_shm::journal::writer_lock::WriterLock;
use foxtrot_shm::{JournalConfig, JournalReader, JournalWriter, ShmError};
use std::path::Path;

use foxtrot_engine::journal::kinds::{
    KIND_FIX_RESET as KIND_RESET, KIND_FIX_SENT as KIND_SENT, KIND_FIX_SEQS as KIND_SEQS,
};

/// The segment size of [`JournalStore::open`]: 16 MiB.
pub const DEFAULT_SEGMENT: u64 = 16 << 20;

/// See the module docs.
pub struct JournalStore {
    mem: MemoryStore,
    w: JournalWriter,
    n: u64,
    error: Option<ShmError>,
    /// Scratch for a sent record's payload (reused: storing allocates nothing).
    scratch: Vec<u8>,
}

impl JournalStore {
    /// Opens (or creates) the store in `dir`, replaying what is there, with
    /// segments of [`DEFAULT_SEGMENT`] bytes.
    pub fn open(dir: &Path) -> Result<Self, ShmError> {
        Self::open_sized(dir, DEFAULT_SEGMENT)
    }

    /// [`open`](Self::open) with new segments of `segment_size` bytes.
    pub fn open_sized(dir: &Path, segment_size: u64) -> Result<Self, ShmError> {
        let mut mem = MemoryStore::default();
        let mut n = 0u64;
        std::fs::create_dir_all(dir).map_err(|cause| ShmError::Io {
            path: dir.to_path_buf(),
            op: "create the session store",
            cause,
        })?;
        // Taken before the store is read: another process writing it (a
        // second engine on the same session) is refused, not read mid-record.
        let lock = WriterLock::acquire(dir)?;
        // A store killed after its directory was made but before its first
        // segment was (a kill in the first milliseconds of a run) recorded
        // nothing: it opens as a new one, where a reader would say "not a
        // journal" and the restart would never start (found by the kill loop).
        let recorded = match JournalReader::open(dir) {
            Ok(r) => Some(r),
            Err(ShmError::NotAJournal(_)) => None,
            Err(e) => return Err(e),
        };
        if let Some(mut r) = recorded {
            while let Some(rec) = r.next()? {
                n += 1;
                match rec.kind {
                    KIND_SENT if rec.payload.len() > 8 => {
                        let mut s = [0u8; 8];
                        s.copy_from_slice(&rec.payload[..8]);
                        mem.put(u64::from_le_bytes(s), &rec.payload[8..]);
                    }
                    KIND_SEQS if rec.payload.len() == 16 => {
                        let mut a = [0u8; 8];
                        let mut b = [0u8; 8];
                        a.copy_from_slice(&rec.payload[..8]);
                        b.copy_from_slice(&rec.payload[8..]);
                        mem.set_seqs(u64::from_le_bytes(a), u64::from_le_bytes(b));
                    }
                    KIND_RESET => mem.reset(),
                    _ => {}
                }
            }
            // A message is journalled before the sequence numbers that count it
            // (`put`, then `set_seqs`): a process killed between the two left a
            // message its numbers do not cover. Going on from those numbers would
            // give the next message (a Logon, say, which is not stored) the same
            // MsgSeqNum, and the peer would never be sent the stored one. Resume
            // after the last message kept instead; a resend delivers it.
            if let Some((last, _)) = mem.sent().last() {
                let (out, inn) = mem.seqs();
                if out <= last {
                    mem.set_seqs(last + 1, inn);
                }
            }
        }
        let cfg = JournalConfig {
            segment_size,
            // Full size from the start: the store is written on the session's
            // thread while it trades, and no growing segment should be made then.
            first_segment_size: 0,
            prepare_ahead: 1,
            ..JournalConfig::default()
        };
        Ok(JournalStore {
            mem,
            w: JournalWriter::open_locked(dir, cfg, lock)?,
            n,
            error: None,
            scratch: Vec::with_capacity(4096),
        })
    }

    /// Every application message this store holds, ascending by seq.
    pub fn sent(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.mem.sent()
    }

    /// The first journal error met since opening (appends after it are lost).
    pub fn error(&self) -> Option<&ShmError> {
        self.error.as_ref()
    }

    /// Appends a record unless an earlier append failed; whether it is in
    /// the journal.
    fn append(&mut self, kind: u16, seq: u64, payload: &[u8]) -> bool {
        self.n += 1;
        if self.error.is_none() {
            self.error = self.w.append(kind, 0, seq, 0, payload).err();
            return self.error.is_none();
        }
        false
    }

    /// Journals an application message sent as `seq`; whether it is in the journal.
    fn append_sent(&mut self, seq: u64, msg: &[u8]) -> bool {
        let mut p = std::mem::take(&mut self.scratch);
        p.clear();
        p.extend_from_slice(&seq.to_le_bytes());
        p.extend_from_slice(msg);
        let n = self.n + 1;
        let kept = self.append(KIND_SENT, n, &p);
        self.scratch = p;
        kept
    }
}

impl MessageStore for JournalStore {
    fn seqs(&self) -> (u64, u64) {
        self.mem.seqs()
    }

    fn set_seqs(&mut self, next_out: u64, next_in: u64) {
        if self.mem.seqs() == (next_out, next_in) {
            return;
        }
        self.mem.set_seqs(next_out, next_in);
        let mut p = [0u8; 16];
        p[..8].copy_from_slice(&next_out.to_le_bytes());
        p[8..].copy_from_slice(&next_in.to_le_bytes());
        let n = self.n + 1;
        self.append(KIND_SEQS, n, &p);
    }

    fn put(&mut self, seq: u64, msg: &[u8]) {
        self.mem.put(seq, msg);
        self.append_sent(seq, msg);
    }

    fn keep(&mut self, seq: u64, msg: &[u8]) -> bool {
        if self.error.is_some() || !self.append_sent(seq, msg) {
            return false;
        }
        self.mem.put(seq, msg);
        true
    }

    fn get(&self, seq: u64) -> Option<&[u8]> {
        self.mem.get(seq)
    }

    fn reset(&mut self) {
        self.mem.reset();
        let n = self.n + 1;
        self.append(KIND_RESET, n, &[]);
    }
}
