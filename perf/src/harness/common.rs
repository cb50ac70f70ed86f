//! What every harness shares: percentiles and pinning.

use hdrhistogram::Histogram;

/// p50, p99, p99.9 and max of a histogram.
pub fn pct(h: &Histogram<u64>) -> [u64; 4] {
    [
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
    ]
}

/// Pins the current thread to `core`. `core_affinity` is not enough here: it only
/// offers the cores of the current mask, and a child process inherits its parent's
/// (already pinned) mask — so it could never move a child to another core.
pub fn pin(core: Option<usize>) {
    let Some(c) = core else { return };
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and
    // sched_setaffinity(0, …) act on this thread only, with a correctly sized set.
    let ok = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(c, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    };
    if !ok {
        eprintln!(
            "foxtrot-perf: could not pin to core {c}: {}",
            std::io::Error::last_os_error()
        );
    }
}
