//! Integration tests: the built `eksmon` binary, real helm (3 and 4, from `scripts/fetch-tools`)
//! and the real charts eksmon pins (`../shared/charts`, or `$EKSMON_TEST_CHARTS`).
//!
//! Every test runs in its own temp dir with HOME/XDG_CONFIG_HOME pointing there and the
//! KUBECONFIG/HELM_*/AWS_*/EKSMON_* variables removed. To debug one: `cargo test --test cli NAME
//! -- --nocapture`. Snapshots live in `tests/cli/snapshots/` (`cargo insta review` to update).

// Tests and benchmarks fail loudly: unwrapping is how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario test reads top to bottom, as the steps a user takes"
)]

use eksmon_test_support::{common, pins, server, skip_without_helm};

mod bad_inputs;
mod contract;
mod dashboards;
mod diff;
mod export;
mod fixture;
mod fleet;
mod helm_template;
mod help;
mod iam;
mod init;
mod install;
mod lifecycle;
mod profiles;
mod real_charts;
mod real_data;
mod render;
mod render_errors;
mod rules;
mod security;
mod shell;
