//! `eksmon grafana-password`: the admin password from Grafana's Secret, on stdout, alone.

use crate::cli::GrafanaPasswordArgs;
use crate::context::Run;
use crate::error::{Hinted, InputError, Origin};
use crate::field_path::FieldPath;
use crate::kube;
use crate::naming::grafana_fullname;
use crate::settings::ReleaseName;
use crate::tool::Invocation;
use anyhow::Result;
use std::time::Duration;

const STALE_HINT: &str = "the Secret holds the password set at install; if an admin changed it in \
    Grafana's UI since, the Secret is stale (reset it with `grafana cli admin reset-admin-password` in the pod)";

pub fn run(run: &Run, args: &GrafanaPasswordArgs) -> Result<()> {
    let loaded = run.load(&args.profile, None, &[])?;
    let mut settings = loaded.settings;
    if !settings.grafana.enabled && args.release.is_none() {
        return Err(InputError::new(
            "grafana.enabled is false: the profile installs no Grafana, so there is no admin password",
        )
        .at(loaded.provenance.origin_of(&FieldPath::keys("grafana.enabled")))
        .hint("Amazon Managed Grafana signs users in through IAM Identity Center or SAML; --release NAME reads another Grafana's")
        .into());
    }
    if let Some(release) = &args.release {
        settings.grafana.release = ReleaseName::try_from(release.as_str()).map_err(|why| {
            InputError::new(format!("--release: {why}")).at(Origin::Flag("--release".into()))
        })?;
    }
    let secret = grafana_fullname(&settings);
    let namespace = settings.namespace.as_str();
    let kubectl = run.kubectl()?;
    let get = Invocation::new(kube::secret_key_args(
        namespace,
        &run.target,
        &secret,
        "admin-password",
    ))
    .echo(run.echo())
    .deadline(Duration::from_secs(60));
    let where_ = format!("Secret `{secret}` in namespace `{namespace}`");
    let out = kubectl.run(&get).map_err(|err| {
        let reason = err.reason().unwrap_or_default().to_owned();
        let err = anyhow::Error::from(err);
        let (message, hint) = match kube::ApiFailure::of(&err) {
            Some(kube::ApiFailure::NotFound) => (
                format!("Grafana's admin Secret `{secret}` does not exist in namespace `{namespace}`"),
                "is Grafana installed there? `eksmon status` shows; -n and --release pick another".to_owned(),
            ),
            Some(kube::ApiFailure::Forbidden) => (
                format!("not allowed to read {where_}: {reason}"),
                format!("this identity needs `get` on secrets in `{namespace}` (kubectl auth can-i get secrets -n {namespace})"),
            ),
            Some(kube::ApiFailure::Unreachable | kube::ApiFailure::Unauthorized) => (
                format!("cannot reach the cluster to read {where_}: {reason}"),
                "check `kubectl config current-context` (or --kube-context) and your credentials (aws eks update-kubeconfig)".to_owned(),
            ),
            None => {
                return err.context(Hinted {
                    message: format!("cannot read Grafana's admin password from {where_}"),
                    hints: Vec::new(),
                });
            }
        };
        anyhow::Error::new(Hinted {
            message,
            hints: vec![hint],
        })
    })?;
    // The captured stdout is the secret: it goes to our stdout and nowhere else.
    let password = kube::decode_secret(&out.stdout).map_err(|why| {
        anyhow::Error::new(Hinted {
            message: format!("{where_}: {why}"),
            hints: vec![STALE_HINT.into()],
        })
    })?;
    super::write_stdout(format!("{password}\n").as_bytes())
}
