//! What a security team's scanner says about what eksmon installs: checkov's Kubernetes checks
//! and strict schema validation (kubernetes-validate, for the Kubernetes versions EKS supports)
//! over the objects of every built-in profile and both load-balancer exposures, through the
//! real charts. `scripts/fetch-checkers` installs both (`scripts/test` runs it).

use crate::common::World;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The checks that stay failed on purpose: (check, a part of the resource's id, why).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "CKV_K8S_17",
        "DaemonSet.monitoring-node.prometheus-prometheus-node-exporter",
        "node-exporter reads every process of its node: it needs the host's process namespace",
    ),
    (
        "CKV_K8S_19",
        "DaemonSet.monitoring-node.prometheus-prometheus-node-exporter",
        "node-exporter reports the node's own network interfaces: it needs the host's network",
    ),
    (
        "CKV_K8S_38",
        "Deployment.monitoring.prometheus-server",
        "Prometheus discovers its targets through the API: it needs its service-account token",
    ),
    (
        "CKV_K8S_38",
        "Deployment.monitoring.prometheus-kube-state-metrics",
        "kube-state-metrics lists and watches objects through the API: it needs its token",
    ),
    (
        "CKV_K8S_43",
        "",
        "images are pinned by the charts' tags; digests are a registry mirror's policy (set them in `values`)",
    ),
    (
        "CKV_K8S_15",
        "",
        "IfNotPresent with pinned tags pulls each image once; Always adds a registry round trip to every start",
    ),
];

/// The Kubernetes versions the objects must be valid for (EKS's standard and extended support).
const KUBERNETES_VERSIONS: &[&str] = &["1.31.0", "1.32.0", "1.33.0", "1.34.0", "1.35.0"];

fn checker(var: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if path.is_none() {
        eksmon_test_support::skip::skip(
            &format!("{var} is not set to an installed checker (scripts/fetch-checkers)"),
            eksmon_test_support::skip::REQUIRE_HELM_VAR,
        );
    }
    path
}

/// Every built-in profile with each load-balancer exposure (an ALB needs hosts where the
/// profile has none), and one with single sign-on.
fn variants() -> Vec<(String, Vec<&'static str>)> {
    let hosts = [
        "--set",
        "prometheus.host=prometheus.example.com",
        "--set",
        "grafana.host=grafana.example.com",
    ];
    let mut out = Vec::new();
    for profile in ["example", "internal", "small"] {
        let mut alb = vec![
            "-n",
            "monitoring",
            "--profile",
            profile,
            "--exposure",
            "alb",
        ];
        if profile != "example" {
            alb.extend(hosts);
        }
        out.push((format!("{profile}-alb"), alb));
        out.push((
            format!("{profile}-nlb"),
            vec![
                "-n",
                "monitoring",
                "--profile",
                profile,
                "--exposure",
                "nlb",
            ],
        ));
    }
    // Single sign-on mounts one more Secret and opens HTTPS out.
    out.push((
        "example-alb-sso".to_owned(),
        vec![
            "-n",
            "monitoring",
            "--profile",
            "example",
            "--set",
            "grafana.sso={type: okta, clientId: 0oa1example, clientSecretName: grafana-oauth, domain: example.okta.com}",
        ],
    ));
    out
}

/// The objects of every variant, one directory each, as `helm template` prints them.
fn write_objects(world: &World, root: &Path) -> Option<Vec<PathBuf>> {
    let mut files = Vec::new();
    for (name, args) in variants() {
        let texts = crate::helm_template::templated(world, 4, &args)?;
        let dir = root.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        for (chart, text) in ["prometheus", "grafana"].iter().zip(texts) {
            let path = dir.join(format!("{chart}.yaml"));
            std::fs::write(&path, text).unwrap();
            files.push(path);
        }
    }
    Some(files)
}

/// checkov's failed checks over `root`, as (check, resource, file).
fn checkov_failures(checkov: &Path, root: &Path) -> (usize, Vec<(String, String, String)>) {
    let output = Command::new(checkov)
        .args(["--framework", "kubernetes", "--quiet", "--compact"])
        // Offline: no guideline download from the vendor's service.
        .args(["--skip-download", "--output", "json", "--directory"])
        .arg(root)
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "checkov printed no JSON: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let passed = report["summary"]["passed"].as_u64().unwrap_or_default();
    let failed = report["results"]["failed_checks"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let field = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (field("check_id"), field("resource"), field("file_path"))
        })
        .collect();
    (usize::try_from(passed).unwrap_or_default(), failed)
}

#[test]
fn checkov_finds_nothing_but_the_allowlist_and_the_objects_fit_strict_schemas() {
    crate::skip_without_helm!();
    let (Some(checkov), Some(validate)) = (
        checker("EKSMON_TEST_CHECKOV"),
        checker("EKSMON_TEST_KUBERNETES_VALIDATE"),
    ) else {
        return;
    };
    let world = World::new();
    // checkov skips hidden directories, and temp dirs are named `.tmp…`.
    let scratch = tempfile::Builder::new()
        .prefix("eksmon-checkov-")
        .tempdir()
        .unwrap();
    let root = scratch.path().join("objects");
    let Some(files) = write_objects(&world, &root) else {
        return;
    };

    // The schema checks run beside checkov: each takes seconds.
    let validations: Vec<(&str, std::process::Child)> = KUBERNETES_VERSIONS
        .iter()
        .map(|version| {
            let child = Command::new(&validate)
                .args(["--strict", "--quiet", "--kubernetes-version", version])
                .args(&files)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (*version, child)
        })
        .collect();
    let (passed, failed) = checkov_failures(&checkov, &root);
    let mut allowed_counts: BTreeMap<&str, usize> = BTreeMap::new();
    let unexpected: Vec<String> = failed
        .iter()
        .filter(|(check, resource, _)| {
            let allowed = ALLOWED
                .iter()
                .find(|(id, part, _)| id == check && resource.contains(part));
            if let Some((id, _, _)) = allowed {
                *allowed_counts.entry(id).or_default() += 1;
            }
            allowed.is_none()
        })
        .map(|(check, resource, file)| format!("{check} {resource} ({file})"))
        .collect();
    println!(
        "checkov: {passed} passed, {} failed, all on the allowlist: {allowed_counts:?}",
        failed.len()
    );
    assert!(
        unexpected.is_empty(),
        "checkov checks failing outside the allowlist:\n{}",
        unexpected.join("\n")
    );
    assert!(passed > 300, "checkov ran too few checks: {passed}");

    for (version, child) in validations {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "kubernetes-validate --strict for {version}:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
/// The pod labels of each workload (`Kind/name` → labels), and the NetworkPolicies, of the
/// objects `eksmon render ARGS` makes through the real charts.
fn workloads_and_policies(
    world: &World,
    args: &[&str],
) -> Option<(BTreeMap<String, serde_json::Value>, Vec<serde_json::Value>)> {
    let mut workloads = BTreeMap::new();
    let mut policies = Vec::new();
    for text in crate::helm_template::templated(world, 4, args)? {
        for object in eksmon::yaml::parse_all(&text).unwrap() {
            let object: serde_json::Value = serde_json::to_value(&object).unwrap();
            let kind = object["kind"].as_str().unwrap_or_default().to_owned();
            match kind.as_str() {
                "Deployment" | "StatefulSet" | "DaemonSet" => {
                    let name = format!("{kind}/{}", object["metadata"]["name"].as_str().unwrap());
                    let pod = serde_json::json!({
                        "labels": object["spec"]["template"]["metadata"]["labels"],
                        "namespace": object["metadata"]["namespace"],
                    });
                    workloads.insert(name, pod);
                }
                "NetworkPolicy" => policies.push(object),
                _ => {}
            }
        }
    }
    Some((workloads, policies))
}

/// A `podSelector`'s matchLabels all on `labels`.
fn selects(selector: &serde_json::Value, labels: &serde_json::Value) -> bool {
    selector["matchLabels"]
        .as_object()
        .is_some_and(|wanted| wanted.iter().all(|(k, v)| &labels[k] == v))
}

/// Whether a rule's peer (`podSelector`, with a `namespaceSelector` by name or else the
/// policy's own namespace) is `pod` (`{labels, namespace}`).
fn peer_is(
    peer: &serde_json::Value,
    policy_namespace: &serde_json::Value,
    pod: &serde_json::Value,
) -> bool {
    let namespace_ok = match peer.get("namespaceSelector") {
        Some(selector) => {
            selector["matchLabels"]["kubernetes.io/metadata.name"] == pod["namespace"]
        }
        None => policy_namespace == &pod["namespace"],
    };
    namespace_ok
        && peer
            .get("podSelector")
            .is_some_and(|s| selects(s, &pod["labels"]))
}

/// Whether the policies let pod `from` reach pod `to` on TCP `port` (pods as `{labels,
/// namespace}`; only the kinds of rule eksmon writes are read).
fn admits(
    policies: &[serde_json::Value],
    from: &serde_json::Value,
    to: &serde_json::Value,
    port: u64,
) -> bool {
    let rule_admits =
        |policy: &serde_json::Value, rules: &str, peers: &str, peer: &serde_json::Value| {
            let namespace = &policy["metadata"]["namespace"];
            policy["spec"][rules]
                .as_array()
                .into_iter()
                .flatten()
                .any(|rule| {
                    let open = rule.as_object().is_some_and(serde_json::Map::is_empty);
                    let peer_ok = rule[peers]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| peer_is(p, namespace, peer));
                    let port_ok = rule["ports"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["port"] == port && p["protocol"] == "TCP");
                    open || (peer_ok && port_ok)
                })
        };
    let chooses = |policy: &serde_json::Value, pod: &serde_json::Value| {
        policy["metadata"]["namespace"] == pod["namespace"]
            && selects(&policy["spec"]["podSelector"], &pod["labels"])
    };
    let ingress = policies
        .iter()
        .filter(|p| chooses(p, to))
        .any(|p| rule_admits(p, "ingress", "from", from));
    let egress = policies
        .iter()
        .filter(|p| chooses(p, from))
        .any(|p| rule_admits(p, "egress", "to", to));
    ingress && egress
}

#[test]
fn network_policies_admit_only_the_real_callers() {
    crate::skip_without_helm!();
    let world = World::new();
    let Some((workloads, policies)) =
        workloads_and_policies(&world, &["-n", "monitoring", "--profile", "small"])
    else {
        return;
    };
    // Every pod is chosen by exactly one policy, which denies both ways unless it says so.
    for (name, pod) in &workloads {
        let chosen = policies
            .iter()
            .filter(|p| {
                p["metadata"]["namespace"] == pod["namespace"]
                    && selects(&p["spec"]["podSelector"], &pod["labels"])
            })
            .count();
        assert_eq!(chosen, 1, "{name} is chosen by {chosen} policies");
    }
    let pod = |name: &str| &workloads[name];
    let (server, grafana, alertmanager, ksm, node) = (
        pod("Deployment/prometheus-server"),
        pod("Deployment/grafana"),
        pod("StatefulSet/prometheus-alertmanager"),
        pod("Deployment/prometheus-kube-state-metrics"),
        pod("DaemonSet/prometheus-prometheus-node-exporter"),
    );
    for (from, to, port, expected, what) in [
        (grafana, server, 9090, true, "Grafana queries Prometheus"),
        (server, alertmanager, 9093, true, "Prometheus sends alerts"),
        (
            server,
            ksm,
            8080,
            true,
            "Prometheus scrapes kube-state-metrics",
        ),
        (server, node, 9100, true, "Prometheus scrapes node-exporter"),
        (server, grafana, 3000, true, "Prometheus scrapes Grafana"),
        (
            grafana,
            alertmanager,
            9093,
            false,
            "Grafana has no business with Alertmanager",
        ),
        (
            alertmanager,
            server,
            9090,
            false,
            "Alertmanager does not query Prometheus",
        ),
        (
            ksm,
            server,
            9090,
            false,
            "kube-state-metrics does not query Prometheus",
        ),
        (node, grafana, 3000, false, "node-exporter reaches nothing"),
    ] {
        assert_eq!(admits(&policies, from, to, port), expected, "{what}");
    }
    // Not exposed, no extra ranges: nothing from outside the namespace reaches Grafana, and it
    // needs no HTTPS out (no AMP, no board to download).
    let grafana_policy = policies
        .iter()
        .find(|p| p["metadata"]["name"] == "grafana")
        .unwrap();
    let text = grafana_policy.to_string();
    assert!(!text.contains("ipBlock"), "{text}");
}

/// A profile layer that signs in to Grafana through `sso` (YAML for `grafana.sso`).
fn with_sso(world: &World, name: &str, sso: &str) -> String {
    let path = world.write(
        name,
        &format!("grafana:\n  host: grafana.example.com\n  sso: {sso}\n"),
    );
    path.display().to_string()
}

#[test]
fn sso_renders_each_provider_with_its_client_secret_read_from_a_file() {
    crate::skip_without_helm!();
    let world = World::new();
    let cases = [
        (
            "{type: cognito, clientId: 1example23456789, clientSecretName: grafana-oauth, userPoolDomain: mon-auth, region: eu-west-1, allowedGroups: [admins]}",
            "auth.generic_oauth",
            "https://mon-auth.auth.eu-west-1.amazoncognito.com/oauth2/token",
        ),
        (
            "{type: okta, clientId: 0oa1example, clientSecretName: grafana-oauth, domain: example.okta.com, roleAttributePath: \"contains(groups[*], 'admins') && 'Admin' || 'Viewer'\"}",
            "auth.okta",
            "https://example.okta.com/oauth2/v1/token",
        ),
        (
            "{type: oidc, clientId: grafana, clientSecretName: grafana-oauth, issuer: 'https://login.example.com', authUrl: 'https://login.example.com/authorize', tokenUrl: 'https://login.example.com/token', apiUrl: 'https://login.example.com/userinfo'}",
            "auth.generic_oauth",
            "https://login.example.com/token",
        ),
    ];
    for (index, (sso, section, token_url)) in cases.into_iter().enumerate() {
        let layer = with_sso(&world, &format!("sso{index}.yaml"), sso);
        let args = [
            "-n",
            "monitoring",
            "--profile",
            "example",
            "--profile",
            &layer,
        ];
        let values =
            crate::common::stdout_of(world.eksmon().args(["render", "grafana"]).args(args));
        let values = eksmon::yaml::parse(&values).unwrap();
        let ini = crate::common::at(&values, &["grafana.ini", section]);
        assert_eq!(
            crate::common::text(ini, &["token_url"]),
            token_url,
            "{section}"
        );
        assert_eq!(
            crate::common::text(ini, &["client_secret"]),
            "$__file{/etc/secrets/grafana-sso/clientSecret}"
        );
        // The chart's objects: the Secret is mounted, and no ConfigMap holds a secret.
        let texts = crate::helm_template::templated(&world, 4, &args).unwrap();
        let objects = eksmon::yaml::parse_all(&texts[1]).unwrap();
        let deployment = objects
            .iter()
            .find(|o| crate::common::text(o, &["kind"]) == "Deployment")
            .unwrap();
        let volumes = serde_json::to_string(crate::common::at(
            deployment,
            &["spec", "template", "spec", "volumes"],
        ))
        .unwrap();
        assert!(
            volumes.contains("\"secretName\":\"grafana-oauth\""),
            "{volumes}"
        );
        for config_map in objects
            .iter()
            .filter(|o| crate::common::text(o, &["kind"]) == "ConfigMap")
        {
            let text = serde_json::to_string(config_map).unwrap();
            assert!(!text.to_lowercase().contains("password="), "{text}");
            if text.contains("client_secret") {
                assert!(
                    text.contains("client_secret = $__file{/etc/secrets/grafana-sso/clientSecret}"),
                    "{text}"
                );
            }
        }
    }
}

#[test]
fn a_credential_in_an_sso_url_is_refused_and_never_repeated() {
    let world = World::new();
    for url in [
        "https://grafana:s3cr3t-Pa55@login.example.com/token",
        "https://login.example.com/token?access_token=s3cr3t-Pa55",
    ] {
        let layer = with_sso(
            &world,
            "leak.yaml",
            &format!(
                "{{type: oidc, clientId: grafana, clientSecretName: grafana-oauth, authUrl: 'https://login.example.com/a', apiUrl: 'https://login.example.com/u', tokenUrl: '{url}'}}"
            ),
        );
        let out = world
            .eksmon()
            .args([
                "render",
                "grafana",
                "--profile",
                "example",
                "--profile",
                &layer,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("grafana.sso.tokenUrl"), "{stderr}");
        assert!(
            !stderr.contains("s3cr3t"),
            "the secret was repeated: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}
