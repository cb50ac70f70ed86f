//! The segment preparer: one helper thread that creates segments ahead of the
//! writer, and writes the index of and unmaps the ones it has finished with.
//!
//! Creating a segment is slow (allocate the file's blocks, bring every page into
//! the page cache, take every page's write fault: 12–30 ms for 64 MiB on ext4) and
//! so is unmapping a full one (~2.5 ms to tear down 16k dirty page-table entries).
//! Neither may happen on the appending thread, so both are jobs for this thread,
//! as Chronicle's pretoucher does the first.
//!
//! **Protocol.** The writer keeps `ahead` requests outstanding, always for
//! consecutive segment indices; the helper serves jobs in order, so the segments
//! come back in the order they were asked for. At a roll the writer takes the next
//! one (waiting only if the helper has fallen behind), asks for one more, and hands
//! the old segment back with its index entries, to write the index file and unmap
//! the segment. Nothing prepared is visible to readers: it has its name but a blank
//! header until the writer publishes it (a header write into memory, no system
//! call), and blank segments at a journal's end are not listed; a writer opening
//! the journal after a crash removes them. When the writer is dropped, the helper
//! is joined and any unused preparation is deleted.
//!
//! The writer and the helper talk through three lock-free SPSC rings (`rtrb`:
//! jobs, prepared segments, emptied index vectors), allocated once, so a roll
//! makes no system call and allocates nothing: the writer never wakes the
//! helper, which looks for jobs 1 ms after its last one, then less and less
//! often while none comes, down to every [`HELPER_IDLE_MAX`] (it works two
//! segments ahead, so it has time; and an idle journal's helper does not wake
//! a thousand times a second on a trading host's cores, preempting the threads
//! that spin there); the index entries travel to the helper in their
//! vector, which comes back empty for a later roll. Only a writer that has
//! outrun the helper waits, yielding, for its next segment.
//!
//! If the thread cannot be started (or `ahead` is 0) every job is done inline on
//! the writer's thread, which is correct but stalls the roll.

use super::index::{self, Entry};
use super::segment::WriteSegment;
use super::writer::JournalConfig;
use crate::ShmError;
use rtrb::{Consumer, Producer, RingBuffer};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

enum Job {
    Prepare(u64),
    /// A finished segment and its index entries.
    Retire(WriteSegment, Vec<Entry>),
}

/// Jobs the ring holds: the requests kept ahead plus retirements.
const JOBS: usize = 16;

/// How long the helper first sleeps when it finds no job…
const HELPER_IDLE: Duration = Duration::from_millis(1);
/// …doubling while it finds none, up to this. A segment is asked for two
/// segments ahead, so the helper starts on it within this time of the roll
/// that asked for it, plus its preparation (12–30 ms for 64 MiB), while the
/// writer fills the segment in between: at the fastest journal rate measured
/// here (the 10M-event adversarial run, ~0.1 GB/s) a 64 MiB segment takes
/// ~0.6 s. A writer that does outrun it wakes it (see `receive`).
const HELPER_IDLE_MAX: Duration = Duration::from_millis(32);

/// The helper's next sleep after one of `slept` that found no job.
fn next_idle(slept: Duration) -> Duration {
    (slept * 2).min(HELPER_IDLE_MAX)
}

/// Prepares segments ahead of a [`JournalWriter`](super::JournalWriter).
pub(crate) struct Preparer {
    dir: PathBuf,
    /// Segment sizes (by index) and mapping options.
    cfg: JournalConfig,
    jobs: Option<Producer<Job>>,
    ready: Option<Consumer<Result<WriteSegment, ShmError>>>,
    /// Emptied index vectors coming back from the helper.
    spares: Option<Consumer<Vec<Entry>>>,
    /// Empty index vectors ready for the next rolls (allocated at start: enough
    /// for the rolls that can happen before the helper gives one back).
    pool: Vec<Vec<Entry>>,
    thread: Option<JoinHandle<()>>,
    /// The next index to ask for.
    next_request: u64,
    /// Requests sent and not yet received.
    outstanding: usize,
    /// Results received by [`Preparer::wait_ready`] and not yet taken, in order
    /// (capacity `ahead`: filling it never allocates).
    received: VecDeque<Result<WriteSegment, ShmError>>,
}

impl Preparer {
    /// Starts the helper and asks for segments `first .. first + ahead`; index
    /// vectors of `index_capacity` entries are allocated for the rolls.
    pub(crate) fn start(dir: &Path, cfg: JournalConfig, first: u64, ahead: usize, index_capacity: usize) -> Self {
        let mut p = Preparer {
            dir: dir.to_path_buf(),
            cfg,
            jobs: None,
            ready: None,
            spares: None,
            pool: Vec::new(),
            thread: None,
            next_request: first,
            outstanding: 0,
            received: VecDeque::with_capacity(ahead),
        };
        let circulating = ahead + 3;
        p.pool = (0..circulating).map(|_| Vec::with_capacity(index_capacity)).collect();
        if ahead == 0 {
            return p;
        }
        let (jobs, mut job_rx) = RingBuffer::<Job>::new(JOBS.max(ahead + 4));
        let (mut ready_tx, ready) = RingBuffer::new(ahead + 1);
        let (mut spare_tx, spares) = RingBuffer::new(circulating);
        let (d, c) = (p.dir.clone(), cfg);
        let spawned = std::thread::Builder::new()
            .name("journal-prepare".into())
            .spawn(move || {
                let mut idle = HELPER_IDLE;
                loop {
                    let mut worked = false;
                    while let Ok(job) = job_rx.pop() {
                        worked = true;
                        match job {
                            // Once the writer is gone nobody takes a segment:
                            // none is begun, and one under way is cut short.
                            Job::Prepare(_) if job_rx.is_abandoned() => {}
                            Job::Prepare(i) => {
                                let gone = || job_rx.is_abandoned();
                                let seg = WriteSegment::prepare_unless(&d, i, c.segment_size_of(i), c.map, &gone);
                                // Room for every outstanding request; if the writer
                                // is gone, the preparation is removed.
                                if let Err(rtrb::PushError::Full(Ok(seg))) = ready_tx.push(seg) {
                                    remove_unused(seg);
                                }
                            }
                            Job::Retire(seg, mut entries) => {
                                retire_here(seg, &entries);
                                entries.clear();
                                let _ = spare_tx.push(entries);
                            }
                        }
                    }
                    if job_rx.is_abandoned() && job_rx.is_empty() {
                        return;
                    }
                    if worked {
                        idle = HELPER_IDLE;
                    } else {
                        std::thread::park_timeout(idle);
                        idle = next_idle(idle);
                    }
                }
            });
        if let Ok(t) = spawned {
            p.thread = Some(t);
            p.jobs = Some(jobs);
            p.ready = Some(ready);
            p.spares = Some(spares);
            for _ in 0..ahead {
                p.request();
            }
        }
        p
    }

    fn request(&mut self) {
        if let Some(jobs) = &mut self.jobs {
            if jobs.push(Job::Prepare(self.next_request)).is_ok() {
                self.next_request += 1;
                self.outstanding += 1;
            }
        }
    }

    /// The prepared segment `index`: from the helper if it was asked for (waiting
    /// for it if need be), else prepared here. Asks for one more.
    pub(crate) fn take(&mut self, index: u64) -> Result<WriteSegment, ShmError> {
        let got = match self.received.pop_front() {
            Some(r) => Some(Some(r)),
            None if self.outstanding > 0 => Some(self.receive()),
            None => None,
        };
        if let Some(got) = got {
            self.request();
            match got {
                Some(Ok(seg)) if seg.header.index == index => return Ok(seg),
                Some(Ok(other)) => remove_unused(other),
                // A failure on the helper (disk full, say) is retried here, so the
                // error the caller sees is current.
                Some(Err(_)) | None => {}
            }
        }
        WriteSegment::prepare(&self.dir, index, self.cfg.segment_size_of(index), self.cfg.map)
    }

    /// The next prepared segment, waiting (yielding, the helper woken) if the
    /// helper has not finished it; `None` if the helper is gone.
    fn receive(&mut self) -> Option<Result<WriteSegment, ShmError>> {
        self.outstanding -= 1;
        let ready = self.ready.as_mut()?;
        let mut spins = 0u32;
        loop {
            if let Ok(r) = ready.pop() {
                return Some(r);
            }
            if ready.is_abandoned() {
                return None;
            }
            if spins % 64 == 0 {
                if let Some(t) = &self.thread {
                    t.thread().unpark();
                }
            }
            spins = spins.wrapping_add(1);
            std::thread::yield_now();
        }
    }

    /// Blocks until every segment asked for has been prepared.
    pub(crate) fn wait_ready(&mut self) {
        while self.outstanding > 0 {
            match self.receive() {
                Some(r) => self.received.push_back(r),
                None => break,
            }
        }
    }

    /// Hands a finished segment and its index entries to the helper, which
    /// writes the index file and unmaps the segment (done here if the helper is
    /// not running or its queue is full).
    pub(crate) fn retire(&mut self, seg: WriteSegment, entries: Vec<Entry>) {
        let job = Job::Retire(seg, entries);
        let job = match &mut self.jobs {
            Some(jobs) => match jobs.push(job) {
                Ok(()) => return,
                Err(rtrb::PushError::Full(j)) => j,
            },
            None => job,
        };
        if let Job::Retire(seg, mut entries) = job {
            retire_here(seg, &entries);
            entries.clear();
            self.pool.push(entries);
        }
    }

    /// An empty index vector for the next segment, of at least `capacity`: from
    /// the pool (refilled with those the helper gave back), or — only if the
    /// helper holds them all, having fallen far behind — a new one.
    pub(crate) fn spare_index(&mut self, capacity: usize) -> Vec<Entry> {
        if self.pool.is_empty() {
            if let Some(r) = &mut self.spares {
                while let Ok(v) = r.pop() {
                    self.pool.push(v);
                }
            }
        }
        match self.pool.pop() {
            Some(v) if v.capacity() >= capacity => v,
            _ => Vec::with_capacity(capacity),
        }
    }
}

/// What retiring a segment does: its index written beside it (a failure is
/// only a slower seek later: the index is a hint), then the mapping dropped.
fn retire_here(seg: WriteSegment, entries: &[Entry]) {
    if let Err(e) = index::write(&seg.path, entries) {
        report_index_failure(&e);
    }
    drop(seg);
}

/// A failed index write, in one line on standard error with its path (this
/// crate has no logger; the append that rolled has long returned).
fn report_index_failure(e: &ShmError) {
    eprintln!("journal: {e} (the index is a hint: seeks in that segment scan instead)");
}

/// Removes a prepared segment that was never published (its file is blank).
fn remove_unused(seg: WriteSegment) {
    let path = seg.is_unpublished().then(|| seg.path.clone());
    drop(seg);
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        // Abandoning the job ring ends the helper's loop once it has done the
        // jobs left; whatever it prepared and nobody took is deleted.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        for seg in self.received.drain(..).flatten() {
            remove_unused(seg);
        }
        if let Some(mut ready) = self.ready.take() {
            while let Ok(r) = ready.pop() {
                if let Ok(seg) = r {
                    remove_unused(seg);
                }
            }
        }
    }
}

#[cfg(test)]
mod prepare_tests {
    use super::*;

    /// An idle helper looks for jobs 1, 2, 4 … ms apart, never more than
    /// `HELPER_IDLE_MAX`: about 30 wake-ups a second once idle, not 1,000.
    #[test]
    fn an_idle_helper_backs_off_to_its_longest_sleep() {
        let mut sleeps = vec![HELPER_IDLE];
        for _ in 0..8 {
            sleeps.push(next_idle(*sleeps.last().unwrap()));
        }
        let ms: Vec<u128> = sleeps.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [1, 2, 4, 8, 16, 32, 32, 32, 32]);
    }
}
