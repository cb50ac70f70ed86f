//! Tools from outside the project (Chromium, DuckDB, promtool) that some tests
//! drive. `.ci/run` installs them and sets `FOXTROT_REQUIRE_EXTERNAL=1`, which
//! turns a missing tool into a failure; elsewhere such a test says it was skipped.

#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;

/// A child process killed (and reaped) when the test ends, even by a panic.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The tool's path if it is on PATH (or can run as given); `None` — after saying
/// so on stderr — when it is absent and not required. Panics when it is required.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let required = std::env::var("FOXTROT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{name} is required (FOXTROT_REQUIRE_EXTERNAL=1) but not on PATH"
        );
        eprintln!("SKIPPED: {name} is not installed (bash .ci/run installs it)");
    }
    found
}

/// Whether `python3 -c "import <module>"` works; same rules as [`tool`].
pub fn python_module(module: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let required = std::env::var("FOXTROT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "python module {module} is required (FOXTROT_REQUIRE_EXTERNAL=1) but missing"
        );
        eprintln!("SKIPPED: python module {module} is not installed (bash .ci/run installs it)");
    }
    ok
}

/// The QuickFIX counterparty (`quickfix_peer.cpp` beside this file), compiled
/// once per test binary against Debian's libquickfix-dev; `None` when g++ or the
/// library is missing (same rules as [`tool`]).
pub fn quickfix_peer() -> Option<PathBuf> {
    static PEER: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PEER.get_or_init(|| {
        let required = std::env::var("FOXTROT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
        let flags = std::process::Command::new("pkg-config")
            .args(["--cflags", "--libs", "quickfix"])
            .output()
            .ok()
            .filter(|o| o.status.success());
        let (Some(flags), Some(gxx)) = (flags, tool("g++")) else {
            assert!(
                !required,
                "libquickfix-dev is required (FOXTROT_REQUIRE_EXTERNAL=1) but missing"
            );
            eprintln!("SKIPPED: libquickfix-dev is not installed (bash .ci/run installs it)");
            return None;
        };
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/external/quickfix_peer.cpp");
        let out = std::env::temp_dir().join(format!("foxtrot-quickfix-peer-{}", std::process::id()));
        let flags = String::from_utf8_lossy(&flags.stdout).into_owned();
        let st = std::process::Command::new(gxx)
            .args(["-std=c++14", "-O1", "-w", "-o"])
            .arg(&out)
            .arg(&src)
            .args(flags.split_whitespace())
            .arg("-lpthread")
            .output()
            .expect("run g++");
        assert!(
            st.status.success(),
            "compiling the QuickFIX peer failed:\n{}",
            String::from_utf8_lossy(&st.stderr)
        );
        Some(out)
    })
    .clone()
}

/// QuickFIX's own data dictionaries (`FIX42.xml`, `FIX44.xml`), for the QuickFIX
/// peer to check what foxtrot sends against: the directory named by
/// `FOXTROT_QUICKFIX_SPEC`, which `.ci/run` fills from the QuickFIX source
/// distribution on PyPI. `None` when it is not set (same rules as [`tool`]).
pub fn quickfix_spec() -> Option<PathBuf> {
    let dir = std::env::var_os("FOXTROT_QUICKFIX_SPEC").map(PathBuf::from);
    let found = dir.filter(|d| d.join("FIX42.xml").is_file() && d.join("FIX44.xml").is_file());
    if found.is_none() {
        let required = std::env::var("FOXTROT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "QuickFIX's data dictionaries are required (FOXTROT_REQUIRE_EXTERNAL=1): set FOXTROT_QUICKFIX_SPEC"
        );
        eprintln!("SKIPPED: QuickFIX's FIX42.xml/FIX44.xml not found (FOXTROT_QUICKFIX_SPEC; bash .ci/run sets it)");
    }
    found
}

/// A one-node Slurm cluster of a test's own (`tests/slurm/cluster.sh`),
/// stopped when the test ends, even by a panic.
pub struct SlurmCluster {
    dir: PathBuf,
}

impl SlurmCluster {
    fn script() -> PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm/cluster.sh")
    }

    /// Starts the cluster in `dir`; `None` (after saying why) when Slurm or
    /// munge is absent or this is not root, and neither is required.
    pub fn start(dir: &std::path::Path) -> Option<SlurmCluster> {
        tool("sbatch")?;
        tool("slurmctld")?;
        tool("munged")?;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            let required = std::env::var("FOXTROT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
            assert!(!required, "starting a Slurm cluster needs root (CI runs as root)");
            eprintln!("SKIPPED: starting a Slurm cluster needs root");
            return None;
        }
        let st = std::process::Command::new("bash")
            .arg(Self::script())
            .args(["start", dir.to_str().unwrap()])
            .status()
            .unwrap();
        let c = SlurmCluster { dir: dir.to_path_buf() };
        assert!(st.success(), "the cluster started (logs in {})", dir.display());
        Some(c)
    }

    /// Its `slurm.conf` (for `SLURM_CONF`).
    pub fn conf(&self) -> PathBuf {
        self.dir.join("slurm.conf")
    }
}

impl Drop for SlurmCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(Self::script())
            .args(["stop", self.dir.to_str().unwrap()])
            .status();
    }
}

impl SlurmCluster {
    /// Submits `script` as an array of `tasks` tasks and waits for it
    /// (`sbatch --wait`), each task's output in `logs/task-I.log`; panics with
    /// sbatch's words and the tasks' logs unless every task succeeded.
    /// Returns the tasks' logs, concatenated.
    pub fn run_array(&self, script: &std::path::Path, tasks: usize, logs: &std::path::Path) -> String {
        let out = std::process::Command::new("sbatch")
            .env("SLURM_CONF", self.conf())
            .args(["--wait", &format!("--array=0-{}", tasks - 1), "--time=10"])
            .arg(format!("--output={}/task-%a.log", logs.display()))
            .arg(script)
            .output()
            .unwrap();
        let text: String = (0..tasks)
            .map(|i| std::fs::read_to_string(logs.join(format!("task-{i}.log"))).unwrap_or_default())
            .collect();
        assert!(
            out.status.success(),
            "the array ran: {} {}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }
}
