//! The engine's container image (`deploy/container/`), built with buildah and
//! run with podman: it runs as its non-root user, its health check passes
//! while an engine runs and fails where none does, and a run inside it
//! records and stops cleanly on SIGTERM.

use std::process::Command;

/// podman with what this kind of host needs: runc (crun refuses hybrid
/// cgroups) and rlimits under the host's hard limits.
fn podman(args: &[&str]) -> std::process::Output {
    Command::new("podman")
        .args(["--runtime", "runc"])
        .args(args)
        .output()
        .expect("run podman")
}

const RUN: [&str; 6] = [
    "run",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
    "--rm",
];

struct Remove(String);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = podman(&["rm", "-f", "-t", "1", &self.0]);
    }
}

#[test]
#[cfg_attr(
    not(has_podman),
    ignore = "needs buildah, podman and runc: bash .ci/run installs them"
)]
fn the_image_builds_runs_as_its_user_and_reports_health() {
    let tag = format!("localhost/foxtrot-test:{}", std::process::id());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(root.join("deploy/container/build.sh"))
        .arg(&tag)
        .env("FOXTROT_BIN", env!("CARGO_BIN_EXE_foxtrot"))
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "build: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _image = RemoveImage(tag.clone());
    let inspect = podman(&[
        "image",
        "inspect",
        &tag,
        "--format",
        "{{.Config.User}}|{{.Config.Healthcheck.Test}}",
    ]);
    let inspect = String::from_utf8_lossy(&inspect.stdout).to_string();
    assert!(
        inspect.starts_with("10001:10001|") && inspect.contains("stat --once"),
        "{inspect}"
    );

    // A short simulation inside it: the default configuration is in the image.
    let mut a = RUN.to_vec();
    a.extend([tag.as_str(), "sim", "--events", "5000", "--no-progress"]);
    let out = podman(&a);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("order hash"));

    // No engine, no health: the check fails and says why.
    let mut a = RUN.to_vec();
    a.extend([tag.as_str(), "stat", "--once"]);
    let out = podman(&a);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no stats file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A running engine is healthy, as user 10001; SIGTERM stops it cleanly.
    let name = format!("foxtrot-test-{}", std::process::id());
    let _c = Remove(name.clone());
    let mut a = RUN[..5].to_vec();
    a.extend([
        "-d",
        "--name",
        name.as_str(),
        tag.as_str(),
        "run",
        "--events",
        "2000000000",
        "--status-every",
        "0",
    ]);
    let out = podman(&a);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t0 = std::time::Instant::now();
    loop {
        if podman(&["healthcheck", "run", &name]).status.success() {
            break;
        }
        assert!(t0.elapsed().as_secs() < 60, "never healthy");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let top = podman(&["top", &name, "user", "comm"]);
    let top = String::from_utf8_lossy(&top.stdout).to_string();
    assert!(
        top.lines().any(|l| l.contains("10001") && l.contains("foxtrot")),
        "{top}"
    );
    assert!(podman(&["stop", "-t", "20", &name]).status.success());
    let code = podman(&["inspect", &name, "--format", "{{.State.ExitCode}}"]);
    assert_eq!(
        String::from_utf8_lossy(&code.stdout).trim(),
        "0",
        "exit code after SIGTERM"
    );
}

struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = podman(&["rmi", "-f", &self.0]);
    }
}
