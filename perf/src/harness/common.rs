//! What every harness shares: percentiles, targets and pinning.

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

/// A figure's target, as an issue or the SLO states it, and whether a
/// measurement meets it. Harnesses print the verdict beside the figure and put
/// it in their JSON; with `--check` a missed target makes the process exit 2,
/// so a deployment gate or a script can act on it.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The figure must be at most this.
    AtMost(f64),
    /// The figure must be at least this.
    AtLeast(f64),
}

impl Target {
    /// Whether `value` meets the target.
    pub fn met(self, value: f64) -> bool {
        match self {
            Target::AtMost(t) => value <= t,
            Target::AtLeast(t) => value >= t,
        }
    }

    /// The bound itself, for the JSON and the text beside the verdict.
    pub fn bound(self) -> f64 {
        match self {
            Target::AtMost(t) | Target::AtLeast(t) => t,
        }
    }

    /// `"met"` or `"NOT met"`, for the text output.
    pub fn verdict(self, value: f64) -> &'static str {
        if self.met(value) {
            "met"
        } else {
            "NOT met"
        }
    }
}

/// Ends the process with status 2 when `check` is set and a target was missed.
pub fn exit_if_missed(check: bool, all_met: bool, what: &str) {
    if check && !all_met {
        eprintln!("foxtrot-perf {what}: a target was not met (--check)");
        std::process::exit(2);
    }
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

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn targets_hold_their_bound_inclusive() {
        let p50 = Target::AtMost(250.0);
        assert!(p50.met(250.0) && p50.met(12.0));
        assert!(!p50.met(251.0));
        assert_eq!(p50.verdict(671.0), "NOT met");
        let rate = Target::AtLeast(25e6);
        assert!(rate.met(25e6) && !rate.met(2.05e6));
        assert_eq!(rate.verdict(30e6), "met");
        assert_eq!((p50.bound(), rate.bound()), (250.0, 25e6));
    }
}
