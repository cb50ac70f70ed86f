//! Which outside tools the tests that drive them will find, as `cfg`s
//! (`has_promtool`, `has_prometheus`, `has_chromium`, `has_slurm`,
//! `has_quickfix`, `has_py_duckdb`, `has_py_itch`, `has_py_dbn`, `has_py_hftbacktest`, `has_podman`,
//! `has_netns`: root with `ip`, `tc`, `ethtool` and `nft`, for the AF_XDP test bed;
//! `has_mount`: root with `mount` and `umount`, for a small tmpfs to fill): a test whose
//! tool is missing is marked ignored, with the reason, so the skip shows in
//! `cargo test`'s summary instead of passing silently. With
//! `FOXTROT_REQUIRE_EXTERNAL=1` (`.ci/run`) every one is set: such a test runs
//! and fails when its tool is missing.

use std::path::Path;
use std::process::Command;

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
}

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=FOXTROT_REQUIRE_EXTERNAL");
    println!("cargo:rerun-if-changed=build.rs");
    let required = std::env::var("FOXTROT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
    let quickfix = on_path("g++")
        && on_path("pkg-config")
        && Command::new("pkg-config")
            .args(["--exists", "quickfix"])
            .status()
            .is_ok_and(|s| s.success())
        || Path::new("/usr/include/quickfix/Application.h").exists() && on_path("g++");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let probes: [(&str, bool); 12] = [
        ("has_promtool", on_path("promtool")),
        ("has_prometheus", on_path("prometheus")),
        ("has_chromium", on_path("chromium")),
        (
            "has_slurm",
            on_path("sbatch") && on_path("slurmctld") && on_path("munged"),
        ),
        ("has_quickfix", quickfix),
        ("has_py_duckdb", python_has("duckdb")),
        ("has_py_itch", python_has("itch.parser")),
        ("has_py_dbn", python_has("databento_dbn")),
        ("has_py_hftbacktest", python_has("hftbacktest")),
        ("has_podman", on_path("buildah") && on_path("podman") && on_path("runc")),
        (
            "has_netns",
            root && ["ip", "tc", "ethtool", "nft"].iter().all(|t| on_path(t)),
        ),
        ("has_mount", root && on_path("mount") && on_path("umount")),
    ];
    for (cfg, found) in probes {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if found || required {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}
