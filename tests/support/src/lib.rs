//! What eksmon's CLI tests (`tests/cli`), cluster tests (`tests/cluster`) and benchmarks share:
//! a clean world to run the built binary in ([`common`]), a loopback chart server ([`server`]), a
//! real control plane ([`control_plane`]), one way to skip ([`skip`]) and the chart versions
//! eksmon pins ([`pins`]). A crate of its own, so that each user takes what it needs without
//! `#[path]` includes or dead-code allowances.

// Tests fail loudly: unwrapping is how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

pub mod common;
pub mod control_plane;
pub mod latency;
pub mod pins;
pub mod server;
pub mod skip;

use std::path::{Path, PathBuf};

/// The eksmon checkout (this crate lives in `tests/support`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `eksmon` binary cargo built for the running test or benchmark: beside the `deps` folder
/// the test binary runs from (`target/debug/deps/cli-…` → `target/debug/eksmon`).
pub fn eksmon_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    profile_dir.join("eksmon")
}
