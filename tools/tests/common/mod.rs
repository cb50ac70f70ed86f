//! Helpers shared by the command-line tests: a fresh directory per test and the
//! `foxtrot` binary, run to completion or built up as a `Command`.

#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;
use std::process::{Command, Output};

/// A new, empty directory for one test, named after the test file and `name`.
pub fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "foxtrot-{}-{name}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary, to add arguments to.
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_foxtrot"))
}

/// Runs `foxtrot ARGS` to completion, whatever its outcome.
pub fn foxtrot(args: &[&str]) -> Output {
    command().args(args).output().expect("run foxtrot")
}

/// Runs the command, which must succeed; its standard output.
pub fn ok_cmd(c: &mut Command) -> String {
    let out = c.output().expect("run foxtrot");
    assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Runs `foxtrot ARGS`, which must succeed; its standard output.
pub fn ok(args: &[&str]) -> String {
    ok_cmd(command().args(args))
}

/// Removes a test's directory when dropped — unless the test is failing, when
/// the journals and logs are worth keeping (recorded runs preallocate their
/// segments, so a passing test should not leave them behind).
pub struct RemoveOnSuccess(pub PathBuf);

impl Drop for RemoveOnSuccess {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
