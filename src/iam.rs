//! What AWS needs for a profile, for `eksmon iam`: per role, the permissions policy, the trust
//! policy (IRSA or EKS Pod Identity) and the exact service account eksmon renders. eksmon never
//! calls AWS; these are documents to paste into the console, the CLI or IaC.

use crate::settings::{AmpAuth, GrafanaDatasource, ReceiverType, Settings};
use serde::Serialize;
use serde_json::{Value, json};

/// An IAM policy document, fields in the order AWS writes them (a JSON map would sort them).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Policy {
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
pub(crate) const ACCOUNT_PLACEHOLDER: &str = "<ACCOUNT_ID>";
pub(crate) const OIDC_PLACEHOLDER: &str = "<OIDC_PROVIDER>";
pub(crate) const CLUSTER_PLACEHOLDER: &str = "<CLUSTER_NAME>";
pub(crate) const ROLE_PLACEHOLDER: &str = "<ROLE_ARN>";

/// One IAM role a profile relies on.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoleNeed {
    /// What assumes the role, in words.
    pub purpose: String,
    pub auth: AmpAuth,
    pub role_arn: Option<String>,
    /// The accounts that assume it, exactly as the charts name them.
    pub service_accounts: Vec<ServiceAccount>,
    pub permissions_policy: Policy,
    pub trust_policy: Policy,
    /// Pod Identity: the associations to create (argv, for a shell or a runbook); empty for
    /// IRSA.
    pub associations: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ServiceAccount {
    pub namespace: String,
    pub name: String,
}

/// One use of a role by one service account, before uses of the same role are merged.
struct Use {
    purposes: Vec<&'static str>,
    auth: AmpAuth,
    role: Option<String>,
    /// Where placeholders cannot stand in: the role's, else the workspace's.
    partition: String,
    account: String,
    accounts: Vec<ServiceAccount>,
    statements: Vec<Statement>,
}

/// AMP query actions Grafana's data source calls.
const AMP_QUERY_ACTIONS: [&str; 4] = [
    "aps:QueryMetrics",
    "aps:GetSeries",
    "aps:GetLabels",
    "aps:GetMetricMetadata",
];

/// Every role the profile needs: AMP remote write for the server, AMP queries for Grafana,
/// SNS publish for Alertmanager. Uses of one role ARN become one role: its policy holds every
/// statement and its trust every account.
pub(crate) fn needs(s: &Settings, oidc_provider: Option<&str>) -> Vec<RoleNeed> {
    let mut uses = amp_uses(s);
    uses.extend(sns_use(s));
    merge(uses)
        .into_iter()
        .map(|m| RoleNeed {
            purpose: m.purposes.join("; "),
            trust_policy: trust(m.auth, &m.partition, &m.account, oidc_provider, &m.accounts),
            associations: m
                .accounts
                .iter()
                .filter_map(|a| association(s, m.auth, m.role.as_deref(), a))
                .collect(),
            permissions_policy: Policy {
                version: "2012-10-17",
                statement: m.statements,
            },
            auth: m.auth,
            role_arn: m.role,
            service_accounts: m.accounts,
        })
        .collect()
}

/// AMP: remote write for the server, and queries for Grafana when it reads AMP.
fn amp_uses(s: &Settings) -> Vec<Use> {
    let namespace = s.namespace.as_str().to_owned();
    let mut uses = Vec::new();
    if let Some(amp) = &s.amp {
        let role = amp.role_arn.as_ref().map(|r| r.as_str().to_owned());
        let account = role
            .as_deref()
            .and_then(account_of)
            .unwrap_or(ACCOUNT_PLACEHOLDER)
            .to_owned();
        let partition = partition_of(amp.region.as_str());
        let workspace = match (&amp.workspace_id, &amp.remote_write_url) {
            (Some(id), _) => id.as_str().to_owned(),
            (None, Some(url)) => crate::validate::amp_url_parts(url.as_str())
                .map(|(_, id)| id.to_owned())
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        let workspace_arn = format!(
            "arn:{partition}:aps:{}:{account}:workspace/{workspace}",
            amp.region
        );
        uses.push(Use {
            purposes: vec!["Prometheus server: remote write to AMP"],
            auth: amp.auth,
            role: role.clone(),
            partition: partition.to_owned(),
            account: account.clone(),
            accounts: vec![ServiceAccount {
                namespace: namespace.clone(),
                name: crate::naming::prometheus_server_account(s),
            }],
            statements: vec![Statement {
                sid: Some("AmpRemoteWrite"),
                resource: Some(json!(workspace_arn)),
                ..Statement::allow(json!(["aps:RemoteWrite"]))
            }],
        });
        if s.grafana.datasource == GrafanaDatasource::Amp {
            let role = s
                .grafana
                .role_arn
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .or(role);
            uses.push(Use {
                purposes: vec!["Grafana: query AMP"],
                auth: amp.auth,
                account: role
                    .as_deref()
                    .and_then(account_of)
                    .unwrap_or(ACCOUNT_PLACEHOLDER)
                    .to_owned(),
                role,
                partition: partition.to_owned(),
                accounts: vec![ServiceAccount {
                    namespace: namespace.clone(),
                    name: crate::naming::grafana_account(s),
                }],
                statements: vec![Statement {
                    sid: Some("AmpQuery"),
                    resource: Some(json!(workspace_arn)),
                    ..Statement::allow(json!(AMP_QUERY_ACTIONS))
                }],
            });
        }
    }
    uses
}

/// SNS publish for Alertmanager. It has one service account, so one role: the first receiver
/// that names it.
fn sns_use(s: &Settings) -> Option<Use> {
    let sns: Vec<_> = s
        .alerting
        .receivers
        .iter()
        .filter(|r| r.r#type == ReceiverType::Sns)
        .collect();
    let role = sns.iter().find_map(|r| r.role_arn.as_ref())?;
    let topics: Vec<&str> = sns
        .iter()
        .filter_map(|r| {
            r.topic_arn
                .as_ref()
                .map(super::settings::SnsTopicArn::as_str)
        })
        .collect();
    Some(Use {
        purposes: vec!["Alertmanager: publish alerts to SNS"],
        auth: AmpAuth::Irsa,
        role: Some(role.as_str().to_owned()),
        partition: role.as_str().split(':').nth(1).unwrap_or("aws").to_owned(),
        account: account_of(role.as_str())
            .unwrap_or(ACCOUNT_PLACEHOLDER)
            .to_owned(),
        accounts: vec![ServiceAccount {
            namespace: s.namespace.as_str().to_owned(),
            name: crate::naming::alertmanager_account(s),
        }],
        statements: vec![Statement {
            sid: Some("AlertmanagerSnsPublish"),
            resource: Some(json!(topics)),
            ..Statement::allow(json!(["sns:Publish"]))
        }],
    })
}

/// Uses of one named role become one (unnamed ones stay apart: they may be different roles).
fn merge(uses: Vec<Use>) -> Vec<Use> {
    let mut merged: Vec<Use> = Vec::new();
    for one in uses {
        let same = merged
            .iter_mut()
            .find(|m| one.role.is_some() && m.role == one.role && m.auth == one.auth);
        match same {
            Some(m) => {
                m.purposes.extend(one.purposes);
                m.statements.extend(one.statements);
                for account in one.accounts {
                    if !m.accounts.contains(&account) {
                        m.accounts.push(account);
                    }
                }
            }
            None => merged.push(one),
        }
    }
    merged
}

fn policy(statement: Statement) -> Policy {
    Policy {
        version: "2012-10-17",
        statement: vec![statement],
    }
}

/// IRSA: the cluster's OIDC provider may assume the role for exactly these service accounts.
/// Pod Identity: the EKS Pod Identity service may, and the associations narrow it.
fn trust(
    auth: AmpAuth,
    partition: &str,
    account: &str,
    oidc_provider: Option<&str>,
    accounts: &[ServiceAccount],
) -> Policy {
    match auth {
        AmpAuth::Irsa => {
            let provider = oidc_provider.unwrap_or(OIDC_PLACEHOLDER);
            let subjects: Vec<String> = accounts
                .iter()
                .map(|a| format!("system:serviceaccount:{}:{}", a.namespace, a.name))
                .collect();
            // One subject as a string, several as a list: how AWS writes them.
            let subjects = match &subjects[..] {
                [one] => json!(one),
                _ => json!(subjects),
            };
            policy(Statement {
                principal: Some(json!({
                    "Federated": format!("arn:{partition}:iam::{account}:oidc-provider/{provider}")
                })),
                condition: Some(json!({"StringEquals": {
                    format!("{provider}:sub"): subjects,
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
    account: &ServiceAccount,
) -> Option<Vec<String>> {
    if auth != AmpAuth::PodIdentity {
        return None;
    }
    let cluster = s
        .cluster
        .name
        .as_ref()
        .map_or(CLUSTER_PLACEHOLDER, |c| c.as_str());
    Some(
        [
            "aws",
            "eks",
            "create-pod-identity-association",
            "--cluster-name",
            cluster,
            "--namespace",
            &account.namespace,
            "--service-account",
            &account.name,
            "--role-arn",
            role.unwrap_or(ROLE_PLACEHOLDER),
        ]
        .map(str::to_owned)
        .to_vec(),
    )
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
pub(crate) fn oidc_provider(s: &str) -> Result<String, String> {
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
        assert!(roles[0].associations.is_empty());
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
