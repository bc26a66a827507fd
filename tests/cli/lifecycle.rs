//! `uninstall`, `status` and `grafana-password` with the recording helm and the fake kubectl.

use crate::fixture::{Cluster, Repo};
use predicates::prelude::PredicateBooleanExt as _;

fn cluster() -> Cluster {
    Cluster::new(Repo::shared(), 4)
}

#[test]
fn grafana_password_prints_only_the_password() {
    let cluster = cluster();
    cluster
        .eksmon()
        .env("FAKE_SECRET", "czNjcjN0IHcwcmQh") // "s3cr3t w0rd!"
        .args(["grafana-password", "--verbose"])
        .assert()
        .success()
        .stdout("s3cr3t w0rd!\n")
        .stderr(predicates::str::contains(
            "+ kubectl get secret grafana --namespace monitoring",
        ))
        .stderr(predicates::str::contains("s3cr3t").not());
    let calls = cluster.calls();
    assert_eq!(
        calls,
        [
            "kubectl get secret grafana --namespace monitoring --output jsonpath={.data.admin-password}"
        ]
    );
}

#[test]
fn grafana_password_follows_release_namespace_and_context() {
    let cluster = cluster();
    cluster
        .eksmon()
        .env("FAKE_SECRET", "eA==")
        .args([
            "grafana-password",
            "-n",
            "obs",
            "--release",
            "mon",
            "--kube-context",
            "prod",
        ])
        .assert()
        .success()
        .stdout("x\n");
    assert_eq!(
        cluster.calls(),
        [
            "kubectl get secret mon-grafana --context prod --namespace obs --output jsonpath={.data.admin-password}"
        ]
    );
}

#[test]
fn grafana_password_errors() {
    let cluster = cluster();
    let output = cluster.eksmon().arg("grafana-password").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error: cannot read Grafana's admin password from Secret `grafana` in namespace `monitoring`"), "{stderr}");
    assert!(
        stderr.contains("  | Error from server (NotFound): secrets \"grafana\" not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: is Grafana installed there?"),
        "{stderr}"
    );

    let output = cluster
        .eksmon()
        .env("FAKE_SECRET", "%%%not-base64")
        .arg("grafana-password")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("not valid base64"), "{stderr}");
    assert!(
        stderr.contains("hint: the Secret holds the password set at install"),
        "{stderr}"
    );
    assert!(!stderr.contains("%%%"), "the secret value is never echoed");

    let output = cluster
        .eksmon()
        .args(["grafana-password", "--release", "Bad_Name"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn uninstall_needs_yes_without_a_terminal() {
    let cluster = cluster();
    let output = cluster.eksmon().arg("uninstall").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no terminal to ask on; pass --yes"),
        "{stderr}"
    );
    assert!(cluster.calls().is_empty());
}

#[test]
fn uninstall_grafana_first_and_lists_kept_volumes() {
    let cluster = cluster();
    let pvcs = r#"{"items":[{"metadata":{"name":"prometheus-server"},"spec":{"storageClassName":"ebs-sc-gp3","resources":{"requests":{"storage":"50Gi"}}}}]}"#;
    let output = cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "uninstall")
        .env("EKSMON_TEST_NOT_FOUND", "grafana")
        .env("FAKE_PVCS_JSON", pvcs)
        .args(["uninstall", "--yes"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        stderr,
        "grafana: not installed\nprometheus: uninstalled\nkept: persistentvolumeclaim/prometheus-server (50Gi, ebs-sc-gp3)\n\
         (the monitoring data is on them; `eksmon uninstall --delete-data` deletes them)\n"
    );
    let order: Vec<String> = cluster
        .helm_calls("uninstall")
        .iter()
        .map(|c| c.argv[1].clone())
        .collect();
    assert_eq!(order, ["grafana", "prometheus"]);
    assert!(
        cluster
            .calls()
            .iter()
            .all(|c| !c.starts_with("kubectl delete"))
    );
}

#[test]
fn uninstall_delete_data_deletes_by_release_label() {
    let cluster = cluster();
    cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "uninstall")
        .args([
            "uninstall",
            "--yes",
            "--delete-data",
            "--only",
            "prometheus",
        ])
        .assert()
        .success();
    let deletes: Vec<String> = cluster
        .calls()
        .into_iter()
        .filter(|c| c.starts_with("kubectl delete"))
        .collect();
    assert_eq!(
        deletes,
        [
            "kubectl delete persistentvolumeclaims --namespace monitoring --selector app.kubernetes.io/instance=prometheus --wait=false"
        ]
    );
    assert_eq!(cluster.helm_calls("uninstall").len(), 1);
}

#[test]
fn status_as_json_and_table() {
    let cluster = cluster();
    let list = r#"[{"name":"prometheus","namespace":"monitoring","revision":"3","updated":"2026-11-26 10:00:00 +0000 UTC","status":"deployed","chart":"prometheus-29.27.0","app_version":"v3.0.0"}]"#;
    let endpoints = r#"{"items":[{"kind":"Service","metadata":{"name":"prometheus-server","labels":{"app.kubernetes.io/instance":"prometheus"}},"spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{"ingress":[{"hostname":"nlb-1.elb.amazonaws.com"}]}}}]}"#;
    let run = |format: &str| {
        cluster
            .eksmon()
            .env("EKSMON_TEST_FAKE", "list")
            .env("EKSMON_TEST_LIST_JSON", list)
            .env("FAKE_ENDPOINTS_JSON", endpoints)
            .args(["status", "--output", format])
            .output()
            .unwrap()
    };
    let output = run("json");
    assert!(output.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows[0]["release"], "prometheus");
    assert_eq!(rows[0]["revision"], "3");
    assert_eq!(rows[0]["chart"], "prometheus-29.27.0");
    assert_eq!(rows[0]["address"], "nlb-1.elb.amazonaws.com");
    assert_eq!(rows[1]["release"], "grafana");
    assert_eq!(rows[1]["status"], "not installed");
    let output = run("table");
    let table = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("RELEASE     CHART               APP VERSION  REVISION  STATUS"),
        "{table}"
    );
    assert!(
        lines[1].contains("deployed") && lines[1].ends_with("nlb-1.elb.amazonaws.com"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("grafana") && lines[2].contains("not installed"),
        "{table}"
    );
}
