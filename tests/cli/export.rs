//! `eksmon export argocd|flux`: the objects carry exactly the values `render` prints, the pins,
//! and no secret. (tests/cluster checks them against the real CRDs.)

use crate::common::World;
use eksmon::yaml::{self, Value};

fn documents(stream: &str) -> Vec<Value> {
    yaml::parse_all(stream).expect("a YAML stream")
}

fn rendered(world: &World, chart: &str, extra: &[&str]) -> Value {
    let out = crate::common::stdout_of(
        world
            .eksmon()
            .args(["render", chart, "--profile", "example"])
            .args(extra),
    );
    yaml::parse(&out).expect("rendered values")
}

/// `eksmon export ARGS`, which must succeed: its stdout and stderr.
fn export(world: &World, args: &[&std::ffi::OsStr]) -> (String, String) {
    let out = world.eksmon().arg("export").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

fn kind(doc: &Value) -> &str {
    doc.get("kind").and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn argo_cd_applications_hold_the_rendered_values_and_the_pins() {
    let world = World::new();
    let args = ["argocd", "--profile", "example", "--auto-sync"].map(std::ffi::OsStr::new);
    let (stream, stderr) = export(&world, &args);
    let docs = documents(&stream);
    let kinds: Vec<&str> = docs.iter().map(kind).collect();
    assert_eq!(
        kinds,
        ["Namespace", "Namespace", "Application", "Application"]
    );
    let enforce = |doc: &Value| {
        crate::common::text(
            doc,
            &["metadata", "labels", "pod-security.kubernetes.io/enforce"],
        )
        .to_owned()
    };
    assert_eq!(enforce(&docs[0]), "restricted");
    assert_eq!(enforce(&docs[1]), "privileged");
    for (app, chart) in docs[2..].iter().zip(["prometheus", "grafana"]) {
        let source = crate::common::at(app, &["spec", "source"]);
        assert_eq!(crate::common::text(source, &["chart"]), chart);
        assert_eq!(
            crate::common::text(source, &["targetRevision"]),
            crate::pins::version(chart)
        );
        assert_eq!(
            crate::common::at(source, &["helm", "valuesObject"]),
            &rendered(&world, chart, &[]),
            "{chart}"
        );
        assert_eq!(
            crate::common::at(app, &["spec", "syncPolicy", "automated", "selfHeal"]),
            &Value::Bool(true)
        );
    }
    assert!(
        stderr.contains("bring Secret `grafana-admin` in namespace `prometheus` (keys admin-user, admin-password)"),
        "{stderr}"
    );
    assert!(!stream.contains("kind: Secret"), "no Secret is exported");
}

#[test]
fn flux_objects_land_one_per_file() {
    let world = World::new();
    let dir = world.path().join("gitops");
    let args = [
        "flux".as_ref(),
        "--profile".as_ref(),
        "example".as_ref(),
        "--out-dir".as_ref(),
        dir.as_os_str(),
        "--set".as_ref(),
        "createStorageClass=true".as_ref(),
    ];
    let (stdout, _) = export(&world, &args);
    assert!(stdout.is_empty());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "grafana.helmrelease.yaml",
            "grafana.helmrepository.yaml",
            "namespace.yaml",
            "node-exporter-namespace.yaml",
            "prometheus.helmrelease.yaml",
            "prometheus.helmrepository.yaml",
            "storageclass.yaml",
        ]
    );
    for chart in ["prometheus", "grafana"] {
        let text = std::fs::read_to_string(dir.join(format!("{chart}.helmrelease.yaml"))).unwrap();
        let release = yaml::parse(&text).unwrap();
        assert_eq!(
            crate::common::text(&release, &["spec", "chart", "spec", "version"]),
            crate::pins::version(chart)
        );
        assert_eq!(
            crate::common::text(&release, &["spec", "targetNamespace"]),
            "prometheus"
        );
        assert_eq!(
            crate::common::at(&release, &["spec", "values"]),
            &rendered(&world, chart, &["--set", "createStorageClass=true"]),
            "{chart}"
        );
    }
}

#[test]
fn export_is_the_same_every_time() {
    let world = World::new();
    let once =
        crate::common::stdout_of(
            world
                .eksmon()
                .args(["export", "flux", "--profile", "example"]),
        );
    let again =
        crate::common::stdout_of(
            world
                .eksmon()
                .args(["export", "flux", "--profile", "example"]),
        );
    assert_eq!(once, again);
}
