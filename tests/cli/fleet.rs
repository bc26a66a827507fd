//! `--fleet FILE` without a cluster: export per cluster, and clusters that do not answer each
//! failing by name. (tests/cluster runs a fleet on two real control planes.)

use crate::common::World;
use eksmon::yaml::{self, Value};

/// Two clusters with the built-in example and each its own retention.
const FLEET: &str = "parallel: 2
clusters:
  - name: prod-eu
    context: eu
    profiles: [example]
    set:
      prometheus.retention: 30d
  - name: prod-us
    context: us
    profiles: [example]
    set: {prometheus.retention: 10d}
";

/// A kubeconfig whose contexts `eu` and `us` point at a port nothing listens on.
const NOWHERE: &str = "apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}]
users: [{name: u, user: {}}]
contexts:
  - {name: eu, context: {cluster: gone, user: u}}
  - {name: us, context: {cluster: gone, user: u}}
current-context: eu
";

fn read(world: &World, path: &str) -> Value {
    let text = std::fs::read_to_string(world.path().join(path)).expect(path);
    yaml::parse(&text).expect("YAML")
}

#[test]
fn export_writes_each_clusters_objects_with_its_own_values() {
    let world = World::new();
    world.write("ops/fleet.yaml", FLEET);
    let out = world
        .eksmon()
        .args([
            "export",
            "argocd",
            "--fleet",
            "ops/fleet.yaml",
            "--out-dir",
            "gitops",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prod-us: bring Secret `grafana-admin`"),
        "{stderr}"
    );
    for (cluster, retention) in [("prod-eu", "30d"), ("prod-us", "10d")] {
        let app = read(
            &world,
            &format!("gitops/{cluster}/prometheus.application.yaml"),
        );
        assert_eq!(
            crate::common::text(&app, &["metadata", "name"]),
            format!("{cluster}-prometheus")
        );
        assert_eq!(
            crate::common::text(&app, &["spec", "destination", "name"]),
            cluster
        );
        let rendered = crate::common::stdout_of(world.eksmon().args([
            "render",
            "prometheus",
            "--profile",
            "example",
            "--set",
            &format!("cluster.name={cluster}"),
            "--set",
            &format!("prometheus.retention={retention}"),
        ]));
        assert_eq!(
            crate::common::at(&app, &["spec", "source", "helm", "valuesObject"]),
            &yaml::parse(&rendered).unwrap(),
            "{cluster}"
        );
    }

    // Flux: each cluster reads its own directory; the objects keep their names.
    let out = world
        .eksmon()
        .args([
            "export",
            "flux",
            "--fleet",
            "ops/fleet.yaml",
            "--out-dir",
            "flux",
        ])
        .args(["--cluster", "prod-us"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let release = read(&world, "flux/prod-us/prometheus.helmrelease.yaml");
    assert_eq!(
        crate::common::text(&release, &["metadata", "name"]),
        "prometheus"
    );
    assert!(!world.path().join("flux/prod-eu").exists());
}

#[test]
fn clusters_that_do_not_answer_each_fail_by_name_and_nothing_else_stops() {
    crate::skip_without_helm!();
    let world = World::new();
    world.write("fleet.yaml", FLEET);
    let kubeconfig = world.write("kubeconfig", NOWHERE);
    let eksmon = |args: &[&str]| {
        world
            .eksmon()
            .env("EKSMON_HELM", crate::common::helm(4))
            .env("KUBECONFIG", &kubeconfig)
            .args(args)
            .output()
            .unwrap()
    };

    let out = eksmon(&["status", "--fleet", "fleet.yaml", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let clusters = status["clusters"].as_array().unwrap();
    let names: Vec<&str> = clusters
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod-eu", "prod-us"]);
    for cluster in clusters {
        assert!(
            cluster["error"]
                .as_str()
                .is_some_and(|e| e.contains("127.0.0.1:1")),
            "{cluster}"
        );
        assert_eq!(cluster["releases"], serde_json::json!([]));
    }
    assert_eq!(clusters[1]["context"], "us");

    let out = eksmon(&["uninstall", "--fleet", "fleet.yaml", "--yes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2 of 2 clusters failed: prod-eu, prod-us"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--cluster prod-eu --cluster prod-us"),
        "{stderr}"
    );
    // Without a terminal each cluster's lines are printed as they come, under its name, and a
    // table sums them up.
    assert!(stderr.contains("prod-us: error: "), "{stderr}");
    let table: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("CLUSTER"))
        .take_while(|l| !l.starts_with("error: "))
        .collect();
    assert_eq!(table.len(), 3, "{stderr}");
    assert!(
        table[1].starts_with("prod-eu") && table[1].contains("failed: "),
        "{stderr}"
    );

    // One picked cluster is the only one run.
    let out = eksmon(&["status", "--fleet", "fleet.yaml", "--cluster", "prod-us"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("CLUSTER") && stdout.contains("prod-us"),
        "{stdout}"
    );
    assert!(!stdout.contains("prod-eu"), "{stdout}");
}
