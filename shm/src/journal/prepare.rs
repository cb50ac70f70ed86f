//! The segment preparer: one helper thread that creates segments ahead of the
//! writer and unmaps the ones it has finished with.
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
//! the old segment back to be unmapped. Nothing prepared is visible to readers: it
//! has no name (`O_TMPFILE`; a `.seg.tmp` name where the filesystem cannot do
//! that) until the writer publishes it, so a killed writer leaves nothing behind. When the writer is
//! dropped, the helper is joined and any unused preparation is deleted.
//!
//! If the thread cannot be started (or `ahead` is 0) every job is done inline on
//! the writer's thread, which is correct but stalls the roll.

use super::segment::{MapOptions, WriteSegment};
use crate::ShmError;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

enum Job {
    Prepare(u64),
    Retire(WriteSegment),
}

/// Prepares segments ahead of a [`JournalWriter`](super::JournalWriter).
pub(crate) struct Preparer {
    dir: PathBuf,
    size: u64,
    map: MapOptions,
    jobs: Option<Sender<Job>>,
    ready: Option<Receiver<Result<WriteSegment, ShmError>>>,
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
    /// Starts the helper and asks for segments `first .. first + ahead`.
    pub(crate) fn start(dir: &Path, size: u64, map: MapOptions, first: u64, ahead: usize) -> Self {
        let mut p = Preparer {
            dir: dir.to_path_buf(),
            size,
            map,
            jobs: None,
            ready: None,
            thread: None,
            next_request: first,
            outstanding: 0,
            received: VecDeque::with_capacity(ahead),
        };
        if ahead == 0 {
            return p;
        }
        let (jobs, job_rx) = channel::<Job>();
        let (ready_tx, ready) = channel();
        let (d, s, m) = (p.dir.clone(), size, map);
        let spawned = std::thread::Builder::new()
            .name("journal-prepare".into())
            .spawn(move || {
                for job in job_rx {
                    match job {
                        Job::Prepare(i) => {
                            if ready_tx.send(WriteSegment::prepare(&d, i, s, m)).is_err() {
                                return;
                            }
                        }
                        Job::Retire(seg) => drop(seg),
                    }
                }
            });
        if let Ok(t) = spawned {
            p.thread = Some(t);
            p.jobs = Some(jobs);
            p.ready = Some(ready);
            for _ in 0..ahead {
                p.request();
            }
        }
        p
    }

    fn request(&mut self) {
        if let Some(jobs) = &self.jobs {
            if jobs.send(Job::Prepare(self.next_request)).is_ok() {
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
        WriteSegment::prepare(&self.dir, index, self.size, self.map)
    }

    fn receive(&mut self) -> Option<Result<WriteSegment, ShmError>> {
        self.outstanding -= 1;
        self.ready.as_ref().and_then(|r| r.recv().ok())
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

    /// Hands a finished segment to the helper to unmap (or unmaps it here).
    pub(crate) fn retire(&mut self, seg: WriteSegment) {
        match &self.jobs {
            Some(jobs) => {
                if let Err(std::sync::mpsc::SendError(Job::Retire(seg))) = jobs.send(Job::Retire(seg)) {
                    drop(seg);
                }
            }
            None => drop(seg),
        }
    }
}

fn remove_unused(seg: WriteSegment) {
    let path = seg.unpublished_file().map(Path::to_path_buf);
    drop(seg);
    if let Some(p) = path {
        let _ = std::fs::remove_file(p);
    }
}

impl Drop for Preparer {
    fn drop(&mut self) {
        // Closing the job channel ends the helper's loop once it has finished its
        // current job; whatever it prepared and nobody took is deleted.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for seg in self.received.drain(..).flatten() {
            remove_unused(seg);
        }
        if let Some(ready) = self.ready.take() {
            for seg in ready.try_iter().flatten() {
                remove_unused(seg);
            }
        }
    }
}
