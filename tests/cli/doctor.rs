//! `eksmon doctor` with the fake kubectl answering canned JSON for each case.

use crate::fixture::{Cluster, Repo};

const HEALTHY: &[(&str, &str)] = &[
    ("FAKE_NAMESPACE", "namespace/monitoring"),
    ("FAKE_INGRESSCLASS", "ingressclass.networking.k8s.io/alb"),
    ("FAKE_CSIDRIVER", "csidriver.storage.k8s.io/ebs.csi.aws.com"),
    (
        "FAKE_STORAGECLASS_JSON",
        r#"{"metadata":{"name":"ebs-sc-gp3"},"provisioner":"ebs.csi.aws.com"}"#,
    ),
    (
        "FAKE_LBC_JSON",
        r#"{"items":[{"metadata":{"name":"aws-load-balancer-controller"},"status":{"readyReplicas":2}}]}"#,
    ),
    (
        "FAKE_NODES_JSON",
        r#"{"items":[{"metadata":{"labels":{}}},{"metadata":{"labels":{"eks.amazonaws.com/compute-type":"fargate"}}}]}"#,
    ),
    ("EKSMON_TEST_FAKE", "list"),
    (
        "EKSMON_TEST_LIST_JSON",
        r#"[{"name":"grafana","namespace":"monitoring","revision":"1","updated":"x","status":"deployed","chart":"grafana-12.11.1","app_version":"12"}]"#,
    ),
];

fn doctor(overrides: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let cluster = Cluster::new(Repo::shared(), 4);
    let mut cmd = cluster.eksmon();
    for (key, value) in HEALTHY.iter().chain(overrides) {
        cmd.env(key, value);
    }
    let output = cmd
        .args(["doctor", "--profile", "example", "--profile", "eksmon.yaml"])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn healthy_alb_cluster() {
    let (code, stdout, stderr) = doctor(&[], &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("ok    helm           v4.1.4"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("ok    cluster        kubectl v1.35.2, cluster v1.31.4-eks"),
        "{stdout}"
    );
    for check in [
        "namespace",
        "storageclass",
        "ebs-csi",
        "nodes",
        "ingressclass",
        "lb-controller",
        "releases",
    ] {
        assert!(
            stdout.contains(&format!("ok    {check:<13}")),
            "{check}: {stdout}"
        );
    }
    assert!(
        !stdout.contains("warn") && !stdout.contains("fail"),
        "{stdout}"
    );
}

#[test]
fn broken_cluster_fails_with_hints() {
    let (code, stdout, stderr) = doctor(
        &[
            ("FAKE_NAMESPACE", ""),
            ("FAKE_INGRESSCLASS", ""),
            ("FAKE_CSIDRIVER", ""),
            ("FAKE_STORAGECLASS_JSON", ""),
            ("FAKE_LBC_JSON", r#"{"items":[]}"#),
            (
                "FAKE_NODES_JSON",
                r#"{"items":[{"metadata":{"labels":{"eks.amazonaws.com/compute-type":"fargate"}}}]}"#,
            ),
            (
                "EKSMON_TEST_LIST_JSON",
                r#"[{"name":"prometheus","namespace":"monitoring","revision":"4","updated":"x","status":"deployed","chart":"prometheus-25.0.0","app_version":"v2"}]"#,
            ),
        ],
        &["--output", "json"],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        "error: 4 check(s) failed: storageclass, ebs-csi, ingressclass, lb-controller\n"
    );
    let findings: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let level = |check: &str| -> Vec<String> {
        findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == check)
            .map(|f| f["level"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(level("namespace"), ["warn"]);
    assert_eq!(level("nodes"), ["warn"]);
    assert_eq!(level("releases"), ["warn", "ok"]);
    let storage = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "storageclass")
        .unwrap();
    assert!(
        storage["hint"]
            .as_str()
            .unwrap()
            .contains("createStorageClass: true")
    );
}

#[test]
fn unreachable_cluster_stops_early() {
    let (code, stdout, _) = doctor(&[("FAKE_UNREACHABLE", "1")], &[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("fail  cluster  cannot reach the cluster (current context)"),
        "{stdout}"
    );
    assert!(stdout.contains("no such host"), "{stdout}");
    assert!(!stdout.contains("storageclass"), "{stdout}");
}

#[test]
fn nlb_skips_ingress_class_and_missing_class_is_fine_when_created() {
    let (code, stdout, _) = doctor(
        &[("FAKE_INGRESSCLASS", ""), ("FAKE_STORAGECLASS_JSON", "")],
        &["--exposure", "nlb", "--set", "createStorageClass=true"],
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!stdout.contains("ingressclass"));
    assert!(
        stdout.contains("ebs-sc-gp3 is missing; install creates it"),
        "{stdout}"
    );
}
