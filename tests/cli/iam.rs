//! `eksmon iam`: golden output, and the service accounts it names are the ones the real chart
//! creates (and, for IRSA, annotates with the same role).

use crate::common::World;
use crate::rules::{chart_objects, prometheus_objects, service_account};
use eksmon::yaml;

const IRSA_AND_SNS: &str = "cluster: {name: prod-eks}\n\
    amp:\n  workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef\n  region: eu-west-1\n  roleArn: arn:aws:iam::123456789012:role/amp-ingest\n\
    alerting:\n  receivers:\n    - {name: aws, type: sns, topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts', roleArn: 'arn:aws:iam::123456789012:role/am-sns'}\n";

const POD_IDENTITY: &str = "amp:\n  remoteWriteUrl: https://aps-workspaces.us-gov-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write\n  region: us-gov-west-1\n  auth: podIdentity\n";

const OIDC: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

/// stdout and stderr of a successful `eksmon iam` with these arguments.
fn iam(world: &World, args: &[&str]) -> String {
    let output = world.eksmon().arg("iam").args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    format!(
        "{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `eksmon iam --output json` for a profile in the world.
fn iam_json(world: &World, profile: &str) -> serde_json::Value {
    let printed = world
        .eksmon()
        .args(["iam", "--profile", profile, "--output", "json"])
        .output()
        .unwrap();
    assert!(printed.status.success(), "{printed:?}");
    serde_json::from_slice(&printed.stdout).unwrap()
}

#[test]
fn golden_output() {
    let world = World::new();
    world.write("irsa.yaml", IRSA_AND_SNS);
    world.write("pod-identity.yaml", POD_IDENTITY);
    let transcript = [
        (
            "irsa and sns, text",
            iam(&world, &["--profile", "irsa.yaml", "--oidc-provider", OIDC]),
        ),
        (
            "irsa, no OIDC provider: a placeholder and how to fill it",
            iam(&world, &["--profile", "irsa.yaml"]),
        ),
        (
            "pod identity, json",
            iam(
                &world,
                &["--profile", "pod-identity.yaml", "--output", "json"],
            ),
        ),
        (
            "grafana queries with the server's role: one role, two accounts",
            {
                world.write(
                    "shared.yaml",
                    &format!("{IRSA_AND_SNS}grafana: {{datasource: amp}}\n"),
                );
                iam(
                    &world,
                    &["--profile", "shared.yaml", "--oidc-provider", OIDC],
                )
            },
        ),
        ("nothing to do", iam(&world, &[])),
    ]
    .map(|(title, out)| format!("=== {title}\n{out}"))
    .join("\n");
    insta::assert_snapshot!("iam", transcript);
}

#[test]
fn a_bad_oidc_provider_is_refused() {
    let world = World::new();
    let output = world
        .eksmon()
        .args(["iam", "--oidc-provider", "oidc.eks.eu-west-1.amazonaws.com"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not an EKS OIDC issuer"), "{stderr}");
}

#[test]
fn the_named_accounts_are_the_charts() {
    crate::skip_without_helm!();
    for profile in [IRSA_AND_SNS, POD_IDENTITY] {
        let world = World::new();
        world.write("p.yaml", profile);
        let roles = iam_json(&world, "p.yaml");
        let objects = prometheus_objects(&world, &["--profile", "p.yaml"]);
        for (role, account) in roles["roles"].as_array().unwrap().iter().flat_map(|role| {
            role["serviceAccounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |account| (role, account))
        }) {
            let name = account["name"].as_str().unwrap();
            let account = service_account(&objects, name);
            let annotation = account["metadata"]["annotations"]
                .get("eks.amazonaws.com/role-arn")
                .and_then(|a| a.as_str());
            match role["auth"].as_str() {
                Some("irsa") => assert_eq!(annotation, role["roleArn"].as_str(), "{name}"),
                _ => assert_eq!(annotation, None, "{name}"),
            }
        }
    }
}

/// `grafana.datasource: amp` through the real grafana chart: the plugin, the SigV4 data source as
/// default with the local one kept for the dashboards, and the role on Grafana's account — the
/// one `eksmon iam` names.
#[test]
fn grafana_queries_amp_through_the_real_chart() {
    crate::skip_without_helm!();
    let world = World::new();
    world.write(
        "p.yaml",
        &format!("{IRSA_AND_SNS}grafana: {{datasource: amp, roleArn: 'arn:aws:iam::123456789012:role/amp-query'}}\n"),
    );
    let objects = chart_objects(&world, "grafana", &["--profile", "p.yaml"]);
    let config = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "grafana")
        .expect("grafana's ConfigMap");
    let provisioned = yaml::parse(config["data"]["datasources.yaml"].as_str().unwrap()).unwrap();
    let sources = provisioned["datasources"].as_sequence().unwrap();
    assert_eq!(sources.len(), 2);
    let amp = &sources[0];
    assert_eq!(amp["type"], "grafana-amazonprometheus-datasource");
    assert_eq!(amp["isDefault"], true);
    assert_eq!(
        amp["url"],
        "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef"
    );
    assert_eq!(amp["jsonData"]["sigV4Auth"], true);
    assert_eq!(amp["jsonData"]["sigV4Region"], "eu-west-1");
    assert_eq!(sources[1]["uid"], "prometheus");
    assert_eq!(sources[1]["isDefault"], false);
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("grafana's Deployment");
    // The chart installs the plugin at start from its ConfigMap's `plugins` key.
    let env = yaml::emit(&deployment["spec"]["template"]["spec"]["containers"][0]["env"]);
    assert!(env.contains("GF_PLUGINS_PREINSTALL_SYNC"), "{env}");
    assert_eq!(
        config["data"]["plugins"].as_str(),
        Some("grafana-amazonprometheus-datasource")
    );

    let roles = iam_json(&world, "p.yaml");
    let grafana = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roleArn"] == "arn:aws:iam::123456789012:role/amp-query")
        .expect("a role for Grafana");
    let name = grafana["serviceAccounts"][0]["name"].as_str().unwrap();
    let account = service_account(&objects, name);
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/amp-query"
    );
}
