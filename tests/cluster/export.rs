//! `eksmon export` against the real Argo CD and Flux CRDs (`../shared/crds`, or
//! `$EKSMON_TEST_CRDS`): the API server accepts every exported object in a server-side dry run
//! with strict field validation, and the objects carry the values `render` prints. No controller
//! runs here: the API server checks the objects' shape, not what Argo CD or Flux would do.

use crate::{Kube, kube_or_skip, run};
use eksmon::yaml::{self, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The CRDs' folder, or `None` after a counted skip line.
fn crds_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EKSMON_TEST_CRDS").map_or_else(
        || eksmon_test_support::repo_root().join("../shared/crds"),
        PathBuf::from,
    );
    if dir.join("argocd-application-crd.yaml").is_file() {
        return Some(dir);
    }
    eksmon_test_support::skip::skip(
        &format!("no GitOps CRDs in {} (set EKSMON_TEST_CRDS)", dir.display()),
        eksmon_test_support::skip::REQUIRE_CLUSTER_VAR,
    );
    None
}

/// Applies the CRDs once per test binary, and waits until the API server serves them.
fn install_crds(kube: &Kube, dir: &std::path::Path) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = dir.display().to_string();
        kube.kubectl_ok(&["apply", "--server-side", "--filename", &dir]);
        // `kubectl wait` gives up on a CRD whose status has no conditions yet: poll instead.
        let established = |crd: &str| {
            let status = kube.kubectl_json(&["get", "crd", crd]);
            status["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        };
        for crd in [
            "applications.argoproj.io",
            "helmreleases.helm.toolkit.fluxcd.io",
            "helmrepositories.source.toolkit.fluxcd.io",
            "ocirepositories.source.toolkit.fluxcd.io",
        ] {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !established(crd) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{crd} is not established"
                );
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        }
    });
}

/// The exported stream for `engine`, in the test's namespace.
fn export(kube: &Kube, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .arg("export")
        .args(args)
        .args(kube.profile())
        .args(["--gitops-namespace", &kube.namespace]));
    assert_eq!(code, 0, "{stderr}");
    stdout
}

/// A server-side dry run with strict validation: an unknown or misspelt field fails it.
fn server_accepts(kube: &Kube, name: &str, stream: &str) {
    let output = dry_run(kube, name, stream);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{name}: {stderr}");
    assert!(!stderr.contains("unknown field"), "{name}: {stderr}");
}

fn dry_run(kube: &Kube, name: &str, stream: &str) -> std::process::Output {
    let path = kube.world.write(name, stream);
    kube.kubectl()
        .args([
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
        ])
        .args(["--field-manager", "eksmon-export-test", "--filename"])
        .arg(&path)
        .output()
        .expect("kubectl")
}

fn release_of<'k>(kube: &'k Kube, chart: &str) -> &'k str {
    if chart == "prometheus" {
        &kube.prometheus
    } else {
        &kube.grafana
    }
}

#[test]
fn exported_objects_pass_the_real_crds() {
    let kube = kube_or_skip!("export", 4);
    let Some(crds) = crds_dir() else {
        return;
    };
    install_crds(&kube, &crds);
    // The dry run creates nothing, not even the Namespace it carries: the objects' namespace
    // must exist already.
    kube.kubectl_ok(&["create", "namespace", &kube.namespace]);
    let oci = [
        "--set",
        "charts.grafana.repo=oci://ghcr.io/grafana-community/helm-charts",
        "--set",
        "createStorageClass=true",
    ];
    for (engine, extra) in [
        ("argocd", &["--auto-sync"][..]),
        ("argocd", &["--destination-name", "prod-eu"][..]),
        ("flux", &[][..]),
        ("flux", &oci[..]),
    ] {
        let mut args = vec![engine];
        args.extend_from_slice(extra);
        let stream = export(&kube, &args);
        server_accepts(&kube, &format!("{engine}.yaml"), &stream);
        // The check can fail: one misspelt field and the API server refuses the stream.
        let misspelt = stream.replacen("releaseName:", "releseName:", 1);
        let refused = dry_run(&kube, &format!("{engine}-misspelt.yaml"), &misspelt);
        assert!(
            !refused.status.success(),
            "{engine}: a misspelt field passed strict validation"
        );
        assert!(
            !stream.contains("kind: Secret"),
            "{engine}: no Secret goes to git"
        );
        let docs = yaml::parse_all(&stream).unwrap();
        for chart in ["prometheus", "grafana"] {
            let release = docs
                .iter()
                .find(|d| {
                    let kind = d.get("kind").and_then(Value::as_str);
                    let name = yaml::get(d, &["metadata", "name"]).and_then(Value::as_str);
                    matches!(kind, Some("Application" | "HelmRelease"))
                        && name == Some(release_of(&kube, chart))
                })
                .unwrap_or_else(|| panic!("{engine}: no object for {chart}"));
            let values = yaml::get(release, &["spec", "source", "helm", "valuesObject"])
                .or_else(|| yaml::get(release, &["spec", "values"]))
                .unwrap();
            let render_args: Vec<&str> = extra
                .iter()
                .copied()
                .filter(|a| a.starts_with("--set") || a.contains('='))
                .collect();
            assert_eq!(
                values,
                &kube.rendered(chart, &render_args),
                "{engine} {chart}"
            );
        }
    }
}
