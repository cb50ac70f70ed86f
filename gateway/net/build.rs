//! `has_netns`: whether the AF_XDP tests can build their test bed (root, with
//! `ip`, `tc`, `ethtool` and `nft` on the PATH). Without it those tests are
//! marked ignored, with the reason; with `FOXTROT_REQUIRE_EXTERNAL=1` it is set
//! regardless, so a missing piece fails the test instead.

use std::process::Command;

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
}

fn main() {
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=FOXTROT_REQUIRE_EXTERNAL");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(has_netns)");
    let required = std::env::var("FOXTROT_REQUIRE_EXTERNAL").is_ok_and(|v| v == "1");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if required || root && ["ip", "tc", "ethtool", "nft"].iter().all(|t| on_path(t)) {
        println!("cargo:rustc-cfg=has_netns");
    }
}
