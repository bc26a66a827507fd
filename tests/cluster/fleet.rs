//! `--fleet` on two real control planes at once: the shared one and one of this test's own,
//! which it stops half-way through a run.

use crate::control_plane::ControlPlane;
use crate::lifecycle::wait_for;
use crate::{Kube, kube_or_skip};
use std::path::Path;

/// Stops this test's own control plane however the test ends.
struct Owned(&'static ControlPlane);

impl Drop for Owned {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// A fleet of `one` (the shared control plane) and `two` (the test's own), each with the test's
/// profile; `two_set` is added to `two`'s entry.
fn fleet_file(kube: &Kube, two: &ControlPlane, name: &str, two_set: &str) -> String {
    let profile = kube.world.path().join("test.yaml");
    let text = format!(
        "clusters:\n  - name: one\n    kubeconfig: {one}\n    context: test\n    profiles: [example, {p}]\n  - name: two\n    kubeconfig: {two}\n    profiles: [example, {p}]\n{two_set}",
        one = kube.cluster.kubeconfig.display(),
        two = two.kubeconfig.display(),
        p = profile.display(),
    );
    kube.world.write(name, &text).display().to_string()
}

fn helm_status(kube: &Kube, kubeconfig: &Path, release: &str) -> String {
    let output = kube
        .helm()
        .env("KUBECONFIG", kubeconfig)
        .args([
            "status",
            release,
            "--namespace",
            &kube.namespace,
            "--output",
            "json",
        ])
        .output()
        .expect("helm status");
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    status["info"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_fleet_runs_both_clusters_and_one_lost_half_way_fails_alone() {
    let kube = kube_or_skip!("fleet", 4);
    let Some(own) = ControlPlane::start() else {
        return;
    };
    let two = Owned(Box::leak(Box::new(own)));
    let fleet = fleet_file(&kube, two.0, "fleet.yaml", "");
    let one_config = kube.cluster.kubeconfig.clone();
    let two_config = two.0.kubeconfig.clone();

    // Both installed, in parallel, each into its own cluster.
    let output = kube
        .eksmon()
        .args(["install", "--fleet", &fleet, "--allow-public"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("CLUSTER") && stderr.contains("one: "),
        "{stderr}"
    );
    for config in [&one_config, &two_config] {
        for release in [&kube.prometheus, &kube.grafana] {
            assert_eq!(helm_status(&kube, config, release), "deployed", "{release}");
        }
    }
    // The cluster label is each cluster's name.
    for (config, name) in [(&one_config, "one"), (&two_config, "two")] {
        let output = kube
            .helm()
            .env("KUBECONFIG", config)
            .args([
                "get",
                "values",
                &kube.prometheus,
                "--namespace",
                &kube.namespace,
            ])
            .args(["--output", "json"])
            .output()
            .unwrap();
        let values: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            values["server"]["global"]["external_labels"]["cluster"],
            name
        );
    }

    // Status across both, one JSON document.
    let output = kube
        .eksmon()
        .args(["status", "--fleet", &fleet, "-o", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let clusters = status["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2, "{status}");
    for (cluster, name) in clusters.iter().zip(["one", "two"]) {
        assert_eq!(cluster["name"], name);
        assert!(cluster["error"].is_null(), "{cluster}");
        let releases = cluster["releases"].as_array().unwrap();
        assert_eq!(releases.len(), 2, "{cluster}");
        assert!(
            releases.iter().all(|r| r["status"] == "deployed"),
            "{cluster}"
        );
    }
    assert_eq!(clusters[0]["context"], "test");

    // Diff across both: nothing, then a change on every cluster.
    let diff = |extra: &[&str]| {
        kube.eksmon()
            .args(["diff", "--fleet", &fleet, "--exit-code"])
            .args(extra)
            .output()
            .unwrap()
    };
    let unchanged = diff(&["-o", "json"]);
    assert_eq!(unchanged.status.code(), Some(0), "{unchanged:?}");
    let report: serde_json::Value = serde_json::from_slice(&unchanged.stdout).unwrap();
    for (cluster, name) in report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["one", "two"])
    {
        assert_eq!(cluster["name"], name);
        assert_eq!(cluster["diff"]["changed"], false, "{cluster}");
        assert!(cluster["error"].is_null(), "{cluster}");
    }
    let changed = diff(&["--set", "prometheus.retention=3d", "--cluster", "two"]);
    assert_eq!(changed.status.code(), Some(4), "{changed:?}");
    let text = String::from_utf8_lossy(&changed.stdout);
    assert!(
        text.contains("=== cluster two ===") && !text.contains("cluster one"),
        "{text}"
    );

    // `two` stalls in a pre-upgrade hook (a Pod that never runs: there is no kubelet; restricted,
    // as its namespace enforces); its API server is stopped half-way. `one` finishes, `two` is named, the run exits 1.
    let stall = "    set:\n      prometheus.values.extraManifests:\n        - |\n          apiVersion: v1\n          kind: Pod\n          metadata:\n            name: fleet-stall\n            annotations: {\"helm.sh/hook\": \"pre-install,pre-upgrade\"}\n          spec:\n            securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}\n            containers: [{name: stall, image: busybox, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]\n";
    let stalling = fleet_file(&kube, two.0, "stall.yaml", stall);
    let run = kube
        .std_eksmon()
        .args([
            "install",
            "--fleet",
            &stalling,
            "--allow-public",
            "--reconcile",
        ])
        .args(["--timeout", "10s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let hook_exists = || {
        two.0
            .kubectl()
            .args(["get", "pod", "fleet-stall", "--namespace", &kube.namespace])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    wait_for(hook_exists, "two's upgrade to reach its hook");
    two.0.stop_apiserver();
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 of 2 clusters failed: two"), "{stderr}");
    assert!(stderr.contains("--cluster two"), "{stderr}");
    assert_eq!(
        helm_status(&kube, &one_config, &kube.prometheus),
        "deployed"
    );

    // Status still answers for the cluster that is there, and names the one that is not.
    let output = kube
        .eksmon()
        .args(["status", "--fleet", &fleet, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(status["clusters"][0]["error"].is_null(), "{status}");
    assert!(status["clusters"][1]["error"].is_string(), "{status}");
    assert_eq!(status["clusters"][0]["releases"][0]["status"], "deployed");
}
