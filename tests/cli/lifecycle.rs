//! `uninstall` refuses to run unattended without `--yes` (the rest of the lifecycle runs against
//! the real control plane: tests/cluster).

use crate::fixture::{Cluster, Repo};

#[test]
fn uninstall_needs_yes_without_a_terminal() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let output = cluster
        .eksmon()
        .args(["uninstall", "--profile", "eksmon.yaml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr,
        "error: uninstall asks before it removes anything, and there is no terminal to ask on\n\
         hint: pass --yes to uninstall without asking\n"
    );
    assert!(cluster.calls().is_empty());
}
