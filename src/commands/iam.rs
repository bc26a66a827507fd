//! `eksmon iam`: the AWS side of a profile, ready to paste. Nothing is sent to AWS.

use crate::cli::{IamArgs, OutputFormat};
use crate::context::Run;
use crate::iam::{self, RoleNeed};
use crate::settings::AmpAuth;
use anyhow::Result;
use std::fmt::Write as _;

pub(super) fn run(run: &Run, args: &IamArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let settings = &loaded.settings;
    let roles = iam::needs(settings, args.oidc_provider.as_deref());
    let text = match args.output {
        OutputFormat::Json => {
            // Through a struct, not a JSON map: policies keep AWS's field order.
            #[derive(serde::Serialize)]
            struct Printed<'a> {
                roles: &'a [RoleNeed],
            }
            serde_json::to_string_pretty(&Printed { roles: &roles })? + "\n"
        }
        OutputFormat::Text => roles
            .iter()
            .map(as_text)
            .collect::<Result<Vec<_>>>()?
            .join("\n"),
    };
    if roles.is_empty() {
        run.ui
            .note("this profile needs no AWS role (set `amp`, or an sns receiver with `roleArn`)");
    }
    let printed = serde_json::to_string(&roles)?;
    let cluster = settings
        .cluster
        .name
        .as_ref()
        .map_or("<cluster>", |c| c.as_str());
    if printed.contains(iam::OIDC_PLACEHOLDER) {
        run.ui.hint(&format!(
            "fill {} with --oidc-provider \"$(aws eks describe-cluster --name {cluster} --query cluster.identity.oidc.issuer --output text)\"",
            iam::OIDC_PLACEHOLDER
        ));
    }
    if printed.contains(iam::ACCOUNT_PLACEHOLDER) || printed.contains(iam::ROLE_PLACEHOLDER) {
        run.ui
            .hint("set amp.roleArn to fill in the account and role (`aws sts get-caller-identity` shows the account)");
    }
    if printed.contains(iam::CLUSTER_PLACEHOLDER) {
        run.ui
            .hint("set cluster.name to fill in the cluster of the Pod Identity association");
    }
    super::write_stdout(text.as_bytes())
}

fn as_text(role: &RoleNeed) -> Result<String> {
    let auth = match role.auth {
        AmpAuth::Irsa => "IRSA",
        AmpAuth::PodIdentity => "EKS Pod Identity",
    };
    let mut out = String::new();
    writeln!(out, "# {}", role.purpose)?;
    writeln!(
        out,
        "#   role:            {} ({auth})",
        role.role_arn.as_deref().unwrap_or(iam::ROLE_PLACEHOLDER)
    )?;
    for account in &role.service_accounts {
        writeln!(
            out,
            "#   service account: {}/{}",
            account.namespace, account.name
        )?;
    }
    writeln!(out, "\n# permissions policy")?;
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&role.permissions_policy)?
    )?;
    writeln!(out, "\n# trust policy")?;
    writeln!(out, "{}", serde_json::to_string_pretty(&role.trust_policy)?)?;
    if !role.associations.is_empty() {
        writeln!(out, "\n# Pod Identity associations")?;
        for association in &role.associations {
            writeln!(out, "{}", association.join(" "))?;
        }
    }
    Ok(out)
}
