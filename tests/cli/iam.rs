//! `eksmon iam`: golden output, and the service accounts it names are the ones the real chart
//! creates (and, for IRSA, annotates with the same role).

use crate::common::World;
use crate::rules::prometheus_objects;

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
        let printed = world
            .eksmon()
            .args(["iam", "--profile", "p.yaml", "--output", "json"])
            .output()
            .unwrap();
        let roles: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
        let objects = prometheus_objects(&world, &["--profile", "p.yaml"]);
        for role in roles["roles"].as_array().unwrap() {
            let name = role["serviceAccount"].as_str().unwrap();
            let account = objects
                .iter()
                .find(|o| o["kind"] == "ServiceAccount" && o["metadata"]["name"] == name)
                .unwrap_or_else(|| panic!("the chart makes no service account {name}"));
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
