//! What AWS needs for a profile, for `eksmon iam`: per role, the permissions policy, the trust
//! policy (IRSA or EKS Pod Identity) and the exact service account eksmon renders. eksmon never
//! calls AWS; these are documents to paste into the console, the CLI or IaC.

use crate::settings::{AmpAuth, ReceiverType, Settings};
use serde::Serialize;
use serde_json::{Value, json};

/// An IAM policy document, fields in the order AWS writes them (a JSON map would sort them).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    version: &'static str,
    statement: Vec<Statement>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'static str>,
    effect: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<Value>,
    action: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Value>,
}

impl Statement {
    fn allow(action: Value) -> Self {
        Self {
            sid: None,
            effect: "Allow",
            principal: None,
            action,
            resource: None,
            condition: None,
        }
    }
}

/// Written where a value is not in the profile; the note next to it says how to find it.
pub const ACCOUNT_PLACEHOLDER: &str = "<ACCOUNT_ID>";
pub const OIDC_PLACEHOLDER: &str = "<OIDC_PROVIDER>";
pub const CLUSTER_PLACEHOLDER: &str = "<CLUSTER_NAME>";
pub const ROLE_PLACEHOLDER: &str = "<ROLE_ARN>";

/// One IAM role a profile relies on.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleNeed {
    /// What assumes the role, in words.
    pub purpose: String,
    pub auth: AmpAuth,
    pub role_arn: Option<String>,
    pub namespace: String,
    pub service_account: String,
    pub permissions_policy: Policy,
    pub trust_policy: Policy,
    /// Pod Identity: the association to create (argv, for a shell or a runbook).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub association: Vec<String>,
}

/// Every role the profile needs: AMP remote write for the server, SNS publish for Alertmanager.
pub fn needs(s: &Settings, oidc_provider: Option<&str>) -> Vec<RoleNeed> {
    let namespace = s.namespace.as_str().to_owned();
    let mut roles = Vec::new();
    if let Some(amp) = &s.amp {
        let role = amp.role_arn.as_ref().map(|r| r.as_str());
        let account = role.and_then(account_of).unwrap_or(ACCOUNT_PLACEHOLDER);
        let partition = partition_of(amp.region.as_str());
        let workspace = match (&amp.workspace_id, &amp.remote_write_url) {
            (Some(id), _) => id.as_str().to_owned(),
            (None, Some(url)) => crate::validate::amp_url_parts(url.as_str())
                .map(|(_, id)| id.to_owned())
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        let service_account = crate::naming::prometheus_server_account(s);
        roles.push(RoleNeed {
            purpose: "Prometheus server: remote write to AMP".into(),
            auth: amp.auth,
            role_arn: role.map(str::to_owned),
            permissions_policy: policy(Statement {
                sid: Some("AmpRemoteWrite"),
                resource: Some(json!(format!(
                    "arn:{partition}:aps:{}:{account}:workspace/{workspace}",
                    amp.region
                ))),
                ..Statement::allow(json!(["aps:RemoteWrite"]))
            }),
            trust_policy: trust(
                amp.auth,
                partition,
                account,
                oidc_provider,
                &namespace,
                &service_account,
            ),
            association: association(s, amp.auth, role, &namespace, &service_account),
            namespace: namespace.clone(),
            service_account,
        });
    }
    let sns: Vec<_> = s
        .alerting
        .receivers
        .iter()
        .filter(|r| r.r#type == ReceiverType::Sns)
        .collect();
    // Alertmanager has one service account, so one role: the first receiver that names it.
    if let Some(role) = sns.iter().find_map(|r| r.role_arn.as_ref()) {
        let topics: Vec<&str> = sns
            .iter()
            .filter_map(|r| r.topic_arn.as_ref().map(|t| t.as_str()))
            .collect();
        let account = account_of(role.as_str()).unwrap_or(ACCOUNT_PLACEHOLDER);
        let partition = role.as_str().split(':').nth(1).unwrap_or("aws");
        let service_account = crate::naming::alertmanager_account(s);
        roles.push(RoleNeed {
            purpose: "Alertmanager: publish alerts to SNS".into(),
            auth: AmpAuth::Irsa,
            role_arn: Some(role.as_str().to_owned()),
            permissions_policy: policy(Statement {
                sid: Some("AlertmanagerSnsPublish"),
                resource: Some(json!(topics)),
                ..Statement::allow(json!(["sns:Publish"]))
            }),
            trust_policy: trust(
                AmpAuth::Irsa,
                partition,
                account,
                oidc_provider,
                &namespace,
                &service_account,
            ),
            association: Vec::new(),
            namespace: namespace.clone(),
            service_account,
        });
    }
    roles
}

fn policy(statement: Statement) -> Policy {
    Policy {
        version: "2012-10-17",
        statement: vec![statement],
    }
}

/// IRSA: the cluster's OIDC provider may assume the role for exactly this service account.
/// Pod Identity: the EKS Pod Identity service may, and the association narrows it.
fn trust(
    auth: AmpAuth,
    partition: &str,
    account: &str,
    oidc_provider: Option<&str>,
    namespace: &str,
    service_account: &str,
) -> Policy {
    match auth {
        AmpAuth::Irsa => {
            let provider = oidc_provider.unwrap_or(OIDC_PLACEHOLDER);
            policy(Statement {
                principal: Some(json!({
                    "Federated": format!("arn:{partition}:iam::{account}:oidc-provider/{provider}")
                })),
                condition: Some(json!({"StringEquals": {
                    format!("{provider}:sub"): format!("system:serviceaccount:{namespace}:{service_account}"),
                    format!("{provider}:aud"): "sts.amazonaws.com",
                }})),
                ..Statement::allow(json!("sts:AssumeRoleWithWebIdentity"))
            })
        }
        AmpAuth::PodIdentity => policy(Statement {
            principal: Some(json!({"Service": "pods.eks.amazonaws.com"})),
            ..Statement::allow(json!(["sts:AssumeRole", "sts:TagSession"]))
        }),
    }
}

fn association(
    s: &Settings,
    auth: AmpAuth,
    role: Option<&str>,
    namespace: &str,
    service_account: &str,
) -> Vec<String> {
    if auth != AmpAuth::PodIdentity {
        return Vec::new();
    }
    let cluster = s
        .cluster
        .name
        .as_ref()
        .map_or(CLUSTER_PLACEHOLDER, |c| c.as_str());
    [
        "aws",
        "eks",
        "create-pod-identity-association",
        "--cluster-name",
        cluster,
        "--namespace",
        namespace,
        "--service-account",
        service_account,
        "--role-arn",
        role.unwrap_or(ROLE_PLACEHOLDER),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The account of an ARN (`arn:aws:iam::123456789012:role/x` → `123456789012`).
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The ARN partition of a region: China and GovCloud have their own.
fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// An OIDC provider as IAM names it: the issuer URL without `https://`.
pub fn oidc_provider(s: &str) -> Result<String, String> {
    let provider = s
        .strip_prefix("https://")
        .unwrap_or(s)
        .trim_end_matches('/');
    let ok = provider.split_once("/id/").is_some_and(|(host, id)| {
        crate::validate::host(host).is_ok()
            && !id.is_empty()
            && id.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if ok {
        Ok(provider.to_owned())
    } else {
        Err(format!(
            "`{s}` is not an EKS OIDC issuer (oidc.eks.REGION.amazonaws.com/id/ID, from `aws eks describe-cluster --query cluster.identity.oidc.issuer`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml_text: &str) -> Settings {
        crate::yaml::from_value(crate::yaml::parse(yaml_text).unwrap()).unwrap()
    }

    #[test]
    fn nothing_without_amp_or_sns() {
        assert!(needs(&Settings::default(), None).is_empty());
    }

    #[test]
    fn irsa_trusts_exactly_the_server_account() {
        let json = |p: &Policy| serde_json::to_value(p).unwrap();
        let s = settings(
            "namespace: monitoring\namp: {workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef, region: cn-north-1, roleArn: 'arn:aws-cn:iam::123456789012:role/w'}\n",
        );
        let roles = needs(&s, Some("oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"));
        let trust = &json(&roles[0].trust_policy)["Statement"][0];
        assert_eq!(
            trust["Condition"]["StringEquals"]["oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC:sub"],
            "system:serviceaccount:monitoring:prometheus-server"
        );
        assert_eq!(
            json(&roles[0].permissions_policy)["Statement"][0]["Resource"],
            "arn:aws-cn:aps:cn-north-1:123456789012:workspace/ws-0123abcd-4567-89ef-0123-456789abcdef"
        );
        assert!(roles[0].association.is_empty());
    }

    #[test]
    fn oidc_providers() {
        assert_eq!(
            oidc_provider("https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B7/"),
            Ok("oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B7".into())
        );
        for bad in [
            "",
            "oidc.eks.eu-west-1.amazonaws.com",
            "x/id/",
            "a b/id/X",
            "h.io/id/X\"y",
        ] {
            assert!(oidc_provider(bad).is_err(), "{bad}");
        }
    }
}
