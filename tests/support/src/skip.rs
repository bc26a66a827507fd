//! One way to skip: a test whose tools or assets are absent says so on one line, and the lines
//! are counted. With the variable that requires the tools set (`.ci/run` sets them all) a skip
//! is a failure instead: in CI nothing skips.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Makes missing helm binaries, promtool, amtool and the real charts a failure.
pub const REQUIRE_HELM_VAR: &str = "EKSMON_REQUIRE_HELM";
/// Makes a missing control plane (or the real charts) a failure.
pub const REQUIRE_CLUSTER_VAR: &str = "EKSMON_REQUIRE_CLUSTER";

static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// How many skips this test binary has said so far.
pub fn count() -> usize {
    SKIPPED.load(Ordering::Relaxed)
}

/// Says on stderr that the running test skips because `why`, with the running count; or fails
/// it when `require_var` is set.
pub fn skip(why: &str, require_var: &str) {
    assert!(
        std::env::var_os(require_var).is_none_or(|v| v.is_empty()),
        "required by {require_var}, but {why}: run scripts/fetch-tools (scripts/test does)"
    );
    let skipped = SKIPPED.fetch_add(1, Ordering::Relaxed) + 1;
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    // Straight to the process's stderr: the test harness captures eprintln!, not this.
    let _ = writeln!(
        std::io::stderr(),
        "!!! SKIPPED {test} ({skipped} so far): {why}; scripts/fetch-tools fetches it, and {require_var}=1 makes this a failure"
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn skips_are_counted() {
        let before = super::count();
        super::skip(
            "nothing is missing, this only counts",
            "EKSMON_TEST_NEVER_SET_VARIABLE",
        );
        assert_eq!(super::count(), before + 1);
    }
}
