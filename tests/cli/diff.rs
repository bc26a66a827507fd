//! `eksmon diff` without a cluster: what it refuses before asking one. Its real behaviour is
//! tested against the real control plane in tests/cluster/diff.rs.

use crate::fixture::{Cluster, Repo};

/// Helm 3.12 and older have no server-side dry run; there is no such helm binary here, so a
/// script stands in for its `helm version` answer (the one thing this test needs from it).
#[test]
fn helm_older_than_3_13_is_refused_with_its_version() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 3);
    let old_helm = cluster.world.write(
        "old-helm",
        "#!/bin/sh\nif [ \"$1\" = version ]; then printf v3.12.3; exit 0; fi\necho \"unexpected: $*\" >&2\nexit 1\n",
    );
    std::fs::set_permissions(
        &old_helm,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let output = cluster
        .eksmon()
        .args(["diff", "--profile", "example", "--profile", "eksmon.yaml"])
        .env("EKSMON_HELM", &old_helm)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: eksmon diff needs helm 3.13 or newer (for --dry-run=server); `{}` is helm v3.12.3",
            old_helm.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("unexpected"), "{stderr}");
    assert!(output.stdout.is_empty());
}

/// `charts outdated` reads the repository even when the cluster cannot be asked: INSTALLED is
/// blank, a warning says why, and the report is still printed (exit 0).
#[test]
fn outdated_without_a_cluster() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let output = cluster
        .eksmon()
        .args([
            "charts",
            "outdated",
            "--profile",
            "example",
            "--profile",
            "eksmon.yaml",
        ])
        .env(
            "KUBECONFIG",
            cluster.world.path().join("no-such-kubeconfig"),
        )
        .env("EKSMON_HELM", crate::common::helm(4))
        // helm's Secret driver: the one that needs a cluster.
        .env_remove("HELM_DRIVER")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        &*format!(
            "CHART       PINNED   INSTALLED  NEWEST   NOTES\nprometheus  {prometheus_pin}  -          {prometheus_pin}  up to date\ngrafana     {grafana_pin}  -          {grafana_pin}  up to date\n",
            prometheus_pin = crate::pins::version("prometheus"),
            grafana_pin = crate::pins::version("grafana")
        )
    );
    assert!(
        stderr.starts_with("warning: cannot list the installed releases ("),
        "{stderr}"
    );
    assert!(stderr.contains("INSTALLED is left blank"), "{stderr}");
}
