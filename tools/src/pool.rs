//! Independent jobs on a pool of threads, their results kept by job index —
//! so what a sweep or an evolution writes never depends on which thread
//! finished first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `job(0..n)` on up to `threads` threads (at least one), each taking the
/// next index from one counter; the results in index order, or the first
/// error in index order.
pub fn map<T: Send, E: Send>(
    n: usize,
    threads: usize,
    job: impl Fn(usize) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<T, E>>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, n.max(1)) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    return;
                }
                let r = job(k);
                results.lock().expect("no thread panics holding it")[k] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .expect("no thread panicked holding it")
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_their_index_and_the_first_error_wins() {
        let r: Result<Vec<usize>, usize> = super::map(100, 4, |k| Ok(k * k));
        assert_eq!(r.unwrap(), (0..100).map(|k| k * k).collect::<Vec<_>>());
        let r: Result<Vec<usize>, usize> = super::map(50, 3, |k| if k % 7 == 3 { Err(k) } else { Ok(k) });
        assert_eq!(r, Err(3));
        assert_eq!(super::map::<u8, ()>(0, 8, |_| Ok(1)), Ok(vec![]));
    }
}
