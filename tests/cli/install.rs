//! `eksmon install` against real helm 3 and 4 (client dry-run, memory driver), the loopback chart
//! repo, and the recording wrapper.

use crate::fixture::{Cluster, Repo};
use eksmon::yaml::{self, Value};

fn objects(stdout: &str) -> Vec<Value> {
    yaml::parse_all(stdout).unwrap()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"].as_str() == Some(kind) && o["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind}/{name} in the dry-run output"))
}

fn dry_run_end_to_end(helm_major: u8) {
    let cluster = Cluster::new(Repo::shared(), helm_major);
    let output = cluster
        .eksmon()
        .args([
            "install",
            "--dry-run",
            "--profile",
            "example",
            "--profile",
            "eksmon.yaml",
            "--exposure",
            "alb",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let objects = objects(&stdout);
    let ingress = find(&objects, "Ingress", "grafana");
    assert_eq!(
        ingress["spec"]["rules"][0]["host"].as_str(),
        Some("grafana-main.bys.world")
    );
    assert_eq!(
        ingress["metadata"]["namespace"].as_str(),
        Some("monitoring")
    );
    let ingress = find(&objects, "Ingress", "prometheus-server");
    assert_eq!(
        ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/healthcheck-path"].as_str(),
        Some("/-/healthy")
    );
    let pvc = find(&objects, "PersistentVolumeClaim", "grafana");
    assert_eq!(
        pvc["metadata"]["annotations"]["helm.sh/resource-policy"].as_str(),
        Some("keep")
    );
    // Grafana's env still names the Secret's key; the Secret itself (the value) is left out.
    assert!(
        !objects.iter().any(|o| o["kind"].as_str() == Some("Secret")),
        "Secrets stay out of dry-run output"
    );
    assert!(
        !stdout.contains("admin-password: "),
        "no generated password"
    );
    assert!(
        stderr.contains("prometheus: rendered prometheus (dry run: nothing applied)"),
        "{stderr}"
    );

    let upgrades = cluster.helm_calls("upgrade");
    assert_eq!(upgrades.len(), 2);
    for call in &upgrades {
        let dry_run = if helm_major == 4 {
            "--dry-run=client"
        } else {
            "--dry-run"
        };
        assert!(call.has(dry_run) && call.has("--hide-secret"), "{call:?}");
        assert!(call.has("--create-namespace"));
        assert_eq!(call.value_of("--namespace"), Some("monitoring"));
        assert_eq!(call.values_mode, "600", "values files are private");
    }
    assert!(
        cluster.temp_files().is_empty(),
        "values files survived the run"
    );
}

#[test]
fn dry_run_on_helm4() {
    crate::skip_without_helm!();
    dry_run_end_to_end(4);
}

#[test]
fn dry_run_on_helm3() {
    crate::skip_without_helm!();
    dry_run_end_to_end(3);
}

/// Runs a faked (no cluster) install with `flags` and returns the upgrade calls.
fn faked_install(helm_major: u8, flags: &[&str]) -> Vec<crate::fixture::HelmCall> {
    let cluster = Cluster::new(Repo::shared(), helm_major);
    cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "upgrade")
        .arg("install")
        .args(flags)
        .assert()
        .success();
    cluster.helm_calls("upgrade")
}

#[test]
fn argv_per_helm_major() {
    crate::skip_without_helm!();
    let flags = [
        "--wait",
        "--timeout",
        "10m",
        "--force",
        "--kube-context",
        "prod",
        "--kubeconfig",
        "/etc/kube/prod.yaml",
        "--only",
        "grafana",
    ];
    let helm4 = faked_install(4, &flags);
    assert_eq!(helm4.len(), 1);
    let tail: Vec<&str> = helm4[0].argv[9..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "--output",
            "json",
            "--kube-context",
            "prod",
            "--kubeconfig",
            "/etc/kube/prod.yaml",
            "--timeout",
            "600s",
            "--wait=watcher",
            "--rollback-on-failure",
            "--force-replace"
        ]
    );
    let helm3 = faked_install(3, &flags);
    let tail: Vec<&str> = helm3[0].argv[9..].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "--output",
            "json",
            "--kube-context",
            "prod",
            "--kubeconfig",
            "/etc/kube/prod.yaml",
            "--timeout",
            "600s",
            "--wait",
            "--atomic",
            "--force"
        ]
    );
    assert_eq!(&helm3[0].argv[..3], ["upgrade", "--install", "grafana"]);
    assert!(
        helm3[0].argv[3].ends_with(&format!("/{}", crate::pins::archive("grafana"))),
        "installs from the cached archive"
    );
}

#[test]
fn charts_are_fetched_once_and_releases_run_concurrently() {
    crate::skip_without_helm!();
    let repo = Repo::new();
    let cluster = Cluster::new(&repo, 4);
    let install = || {
        cluster
            .eksmon()
            .env("EKSMON_TEST_FAKE", "upgrade")
            .env("EKSMON_TEST_SLEEP", "1")
            .arg("install")
            .assert()
            .success()
    };
    install();
    // Fetched directly (index + archive), not by helm.
    assert_eq!(cluster.helm_calls("pull").len(), 0);
    assert_eq!(
        repo.server.hits("/index.yaml"),
        2,
        "one index read per chart"
    );
    assert_eq!(
        repo.server
            .hits(&format!("/{}", crate::pins::archive("prometheus"))),
        1
    );
    assert_eq!(
        repo.server
            .hits(&format!("/{}", crate::pins::archive("grafana"))),
        1
    );
    let upgrades = cluster.helm_calls("upgrade");
    assert_eq!(upgrades.len(), 2);
    let (a, b) = (&upgrades[0], &upgrades[1]);
    assert!(
        a.start < b.end && b.start < a.end,
        "upgrades did not overlap: {a:?} {b:?}"
    );

    install();
    assert_eq!(
        repo.server.hits("/index.yaml"),
        2,
        "the second install fetched again"
    );
    assert_eq!(
        repo.server
            .hits(&format!("/{}", crate::pins::archive("grafana"))),
        1
    );
    assert_eq!(
        cluster.helm_calls("version").len(),
        2,
        "helm version once per run"
    );
    assert_eq!(cluster.helm_calls("upgrade").len(), 4);
    // The user's helm repo list was never touched.
    assert!(
        !cluster
            .world
            .path()
            .join("helm/config/repositories.yaml")
            .exists()
    );
}

#[test]
fn a_chart_that_does_not_match_its_digest_is_refused() {
    crate::skip_without_helm!();
    let repo = Repo::new();
    let index = std::fs::read_to_string(repo.dir.join("index.yaml")).unwrap();
    let digest_at = index.find("digest: ").unwrap() + "digest: ".len();
    let tampered = format!(
        "{}{}{}",
        &index[..digest_at],
        "0".repeat(64),
        &index[digest_at + 64..]
    );
    std::fs::write(repo.dir.join("index.yaml"), tampered).unwrap();
    let cluster = Cluster::new(&repo, 4);
    let output = cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "upgrade")
        .arg("install")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("but the repository index says 0000000000"),
        "{stderr}"
    );
    assert!(stderr.contains("refusing it"), "{stderr}");
    assert_eq!(
        cluster.helm_calls("pull").len(),
        0,
        "a digest mismatch never falls back to helm"
    );
    let cached: Vec<String> = std::fs::read_dir(cluster.world.path().join(".cache/eksmon/charts"))
        .unwrap()
        .flatten()
        .flat_map(|repo_dir| std::fs::read_dir(repo_dir.path()).unwrap().flatten())
        .map(|file| file.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            std::path::Path::new(name)
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("tgz"))
        })
        .collect();
    // The index lists grafana first, so its digest is the one tampered with.
    assert_eq!(
        cached,
        [&*crate::pins::archive("prometheus")],
        "the tampered archive was not cached"
    );
}

#[test]
fn what_the_direct_fetch_cannot_find_falls_back_to_helm_pull() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let output = cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "upgrade")
        .args([
            "install",
            "--only",
            "grafana",
            "--set",
            "charts.grafana.version=9.9.9",
            "--verbose",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("grafana 9.9.9 is not in the repository index; fetching with helm pull"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: grafana: cannot fetch chart grafana 9.9.9 from"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            r#"`helm pull` failed (exit 1): chart "grafana" version "9.9.9" not found in"#
        ),
        "helm's own message is shown: {stderr}"
    );
    assert_eq!(cluster.helm_calls("pull").len(), 1);
}

#[test]
fn helm_missing() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let output = cluster
        .eksmon()
        .env("EKSMON_HELM", "/nonexistent/helm")
        .args(["-q", "install", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: helm not found (`/nonexistent/helm` is not an executable file)"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: install helm"), "{stderr}");
    let output = cluster
        .eksmon()
        .env_remove("EKSMON_HELM")
        .env("PATH", "/nonexistent")
        .args(["install", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("helm not found (not on PATH)"));
}

#[test]
fn repo_unreachable() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = cluster
        .eksmon()
        .args([
            "install",
            "--dry-run",
            "--set",
            &format!("charts.grafana.repo=http://{closed}"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "error: grafana: cannot fetch chart grafana {grafana_pin} from http://{closed}",
            grafana_pin = crate::pins::version("grafana")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("prometheus: rendered"),
        "the other release still ran: {stderr}"
    );
}

#[test]
fn bad_input_starts_no_process() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    for args in [
        vec!["install", "--set", "alb.subnets=[bad]", "--exposure", "alb"],
        vec!["install", "--timeout", "ten minutes"],
        vec!["install", "--exposure", "alb"],
    ] {
        let output = cluster.eksmon().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty());
    }
    assert!(cluster.calls().is_empty(), "{:?}", cluster.calls());
}

#[test]
fn public_endpoints_need_allow_public_without_a_terminal() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let public = [
        "install",
        "--profile",
        "example",
        "--profile",
        "eksmon.yaml",
    ];
    let output = cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "upgrade")
        .args(public)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("warning: prometheus is open to the whole internet"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: refusing to open monitoring to the whole internet"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --allow-public"), "{stderr}");
    assert!(
        cluster.calls().is_empty(),
        "nothing ran: {:?}",
        cluster.calls()
    );
    cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "upgrade")
        .args(public)
        .arg("--allow-public")
        .assert()
        .success();
    assert_eq!(cluster.helm_calls("upgrade").len(), 2);
}

/// A double: a real helm on the real cluster always ends at its own timeout; only a stand-in
/// can hang past it (as helm can on a half-open connection) to show eksmon's backstop.
#[test]
fn a_hung_helm_is_stopped_at_the_deadline() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let started = std::time::Instant::now();
    let output = cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "upgrade")
        .env("EKSMON_TEST_HANG", "grafana")
        .args(["install", "--timeout", "1s"])
        .output()
        .unwrap();
    assert!(
        started.elapsed().as_secs() < 30,
        "the deadline did not stop helm"
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error: grafana: `helm upgrade --install grafana --namespace monitoring` did not finish within 11s and was stopped"), "{stderr}");
    assert!(
        stderr.contains("prometheus: deployed"),
        "the other release is still reported: {stderr}"
    );
    assert!(cluster.temp_files().is_empty());
}

/// A double: a helm that crashes cannot be had from the real one.
#[test]
fn helm_killed_by_a_signal() {
    crate::skip_without_helm!();
    let cluster = Cluster::new(Repo::shared(), 4);
    let output = cluster
        .eksmon()
        .env("EKSMON_TEST_FAKE", "upgrade")
        .env("EKSMON_TEST_KILL", "prometheus")
        .arg("install")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "error: prometheus: `helm upgrade --install prometheus --namespace monitoring` failed (killed by signal 9)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("grafana: deployed"), "{stderr}");
    assert!(cluster.temp_files().is_empty());
}
