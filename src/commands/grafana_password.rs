//! `eksmon grafana-password`: the admin password from Grafana's Secret, on stdout, alone; with
//! `--rotate`, a new one, set in the running Grafana and in the Secret, then Grafana restarted.

use crate::cli::GrafanaPasswordArgs;
use crate::context::Run;
use crate::error::{Origin, UserError};
use crate::field_path::FieldPath;
use crate::kube;
use crate::naming::{self, grafana_fullname};
use crate::secrets::{self, Kubectl, Purpose};
use crate::settings::{ReleaseName, Settings};
use crate::tool::Invocation;
use anyhow::Result;
use std::time::Duration;

const STALE_HINT: &str = "the Secret holds the password set at install; if an admin changed it in \
    Grafana's UI since, the Secret is stale (`eksmon grafana-password --rotate` sets a new one in both)";

/// Grafana resets its admin password from stdin, so the password is never in an argv.
const RESET_COMMAND: &[&str] = &[
    "grafana",
    "cli",
    "admin",
    "reset-admin-password",
    "--password-from-stdin",
];

pub(super) fn run(run: &Run, args: &GrafanaPasswordArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let mut settings = loaded.settings;
    if !settings.grafana.enabled && args.release.is_none() {
        return Err(UserError::input(
            "grafana.enabled is false: the profile installs no Grafana, so there is no admin password",
        )
        .at(loaded.provenance.origin_of(&FieldPath::keys("grafana.enabled")))
        .hint("Amazon Managed Grafana signs users in through IAM Identity Center or SAML; --release NAME reads another Grafana's")
        .into());
    }
    if let Some(release) = &args.release {
        settings.grafana.release = ReleaseName::try_from(release.as_str()).map_err(|why| {
            UserError::input(format!("--release: {why}")).at(Origin::Flag("--release".into()))
        })?;
        settings.grafana.enabled = true;
    }
    let admin = naming::grafana_admin_secret(&settings);
    if args.rotate && !admin.owned {
        return Err(UserError::input(format!(
            "--rotate: the admin password is in Secret `{}`, which grafana.values chose; eksmon rotates only the Secret it keeps",
            admin.name
        ))
        .at(loaded.provenance.origin_of(&FieldPath::keys("grafana.values")))
        .hint("change the password where your Secret comes from, then restart Grafana")
        .into());
    }
    let tool = run.kubectl()?;
    let kubectl = Kubectl {
        tool: &tool,
        target: &run.target,
        namespace: settings.namespace.as_str(),
    };
    if args.rotate {
        return rotate(run, &kubectl, &settings);
    }
    // eksmon's Secret; for an install made before eksmon kept it, the chart's.
    let mut places = vec![(admin.name.clone(), admin.password_key.clone())];
    if admin.owned {
        places.push((
            naming::grafana_chart_admin_secret(&settings),
            naming::ADMIN_PASSWORD_KEY.to_owned(),
        ));
    }
    for (secret, key) in &places {
        if let Some(encoded) = read_key(&kubectl, secret, key)? {
            // The captured stdout is the secret: it goes to our stdout and nowhere else.
            let password = kube::decode_secret(&encoded).map_err(|why| {
                anyhow::Error::new(
                    UserError::runtime(format!(
                        "Secret `{secret}` in namespace `{}`: {why}",
                        kubectl.namespace
                    ))
                    .hint(STALE_HINT),
                )
            })?;
            return super::write_stdout(format!("{password}\n").as_bytes());
        }
    }
    Err(UserError::runtime(format!(
        "Grafana's admin Secret `{}` does not exist in namespace `{}`",
        admin.name, kubectl.namespace
    ))
    .hint("is Grafana installed there? `eksmon status` shows; -n and --release pick another")
    .into())
}

/// One key of a Secret, base64; `None` when the Secret does not exist.
fn read_key(kubectl: &Kubectl<'_>, secret: &str, key: &str) -> Result<Option<String>> {
    let get = Invocation::new(kube::secret_key_args(
        kubectl.namespace,
        kubectl.target,
        secret,
        key,
    ))
    .deadline(Duration::from_secs(60));
    let namespace = kubectl.namespace;
    let where_ = format!("Secret `{secret}` in namespace `{namespace}`");
    match kubectl.tool.run(&get) {
        Ok(out) => Ok(Some(out.stdout)),
        Err(err) => {
            let reason = err.reason().unwrap_or_default().to_owned();
            let err = anyhow::Error::from(err);
            let (message, hint) = match kube::ApiFailure::of(&err) {
                Some(kube::ApiFailure::NotFound) => return Ok(None),
                Some(kube::ApiFailure::Forbidden) => (
                    format!("not allowed to read {where_}: {reason}"),
                    format!("this identity needs `get` on secrets in `{namespace}` (kubectl auth can-i get secrets -n {namespace})"),
                ),
                Some(kube::ApiFailure::Unreachable | kube::ApiFailure::Unauthorized) => (
                    format!("cannot reach the cluster to read {where_}: {reason}"),
                    "check `kubectl config current-context` (or --kube-context) and your credentials (aws eks update-kubeconfig)".to_owned(),
                ),
                None => {
                    return Err(err.context(UserError::runtime(format!("cannot read Grafana's admin password from {where_}"))));
                }
            };
            Err(UserError::runtime(message).hint(hint).into())
        }
    }
}

/// Where Grafana stands: the password lives in its database too, once it has started.
enum Grafana {
    /// A pod runs: the password is reset in it.
    Running { pod: String },
    /// Its volume is not bound: it never started, so it takes the Secret's password at its
    /// first start.
    NeverStarted,
    /// Its volume holds a database, and no pod runs to change the password in it.
    Stopped,
}

fn rotate(run: &Run, kubectl: &Kubectl<'_>, settings: &Settings) -> Result<()> {
    let Some(secret) = secrets::owned(settings)
        .into_iter()
        .find(|s| s.purpose == Purpose::GrafanaAdmin)
    else {
        anyhow::bail!("internal error: no admin Secret of eksmon's for this profile");
    };
    let rotated = secrets::rotate(kubectl, &secret).map_err(|err| {
        UserError::runtime(format!("--rotate: {err:#}"))
            .hint("eksmon install makes it; then rotate")
    })?;
    let fullname = grafana_fullname(settings);
    match grafana_state(kubectl, settings, &fullname)? {
        Grafana::Running { pod } => {
            reset_in(kubectl, &pod, &rotated.new)?;
            if let Err(err) = rotated.write(kubectl, settings, &secret, &rotated.new) {
                // Put the old password back, so the Secret tells the truth again.
                let restored = reset_in(kubectl, &pod, &rotated.old).is_ok();
                return Err(err.context(UserError::runtime(format!("cannot write the new password into Secret `{}`", secret.name)).hint(if restored {
                        "Grafana keeps its old password, which the Secret still holds".into()
                    } else {
                        format!("Grafana has the new password but the Secret the old one: run `eksmon grafana-password --rotate` again once `{}` can be written", secret.name)
                    })));
            }
        }
        Grafana::NeverStarted => rotated.write(kubectl, settings, &secret, &rotated.new)?,
        Grafana::Stopped => {
            return Err(UserError::runtime(format!(
                    "--rotate: no pod of Grafana (`{fullname}`) is running, and its database on the volume keeps the current password"
                )).hint(format!(
                    "start Grafana (`kubectl rollout status deployment/{fullname} -n {}` shows when it runs), then rotate",
                    kubectl.namespace
                ))
            .into());
        }
    }
    let restart = Invocation::new(kube::rollout_restart_args(
        kubectl.namespace,
        kubectl.target,
        &format!("deployment/{fullname}"),
    ))
    .deadline(Duration::from_secs(60));
    kubectl.tool.run(&restart)?;
    run.ui.note(&format!(
        "secret {}/{}: a new admin password is set; Grafana (deployment/{fullname}) restarts; `eksmon grafana-password` prints it",
        kubectl.namespace, secret.name
    ));
    Ok(())
}

fn grafana_state(kubectl: &Kubectl<'_>, settings: &Settings, fullname: &str) -> Result<Grafana> {
    let pods = Invocation::new(kube::pods_args(
        kubectl.namespace,
        kubectl.target,
        settings.grafana.release.as_str(),
        "grafana",
    ))
    .deadline(Duration::from_secs(60));
    let listed = kubectl.tool.run(&pods)?;
    if let Some(pod) = kube::running_pod(&listed.stdout, "grafana")? {
        return Ok(Grafana::Running { pod });
    }
    let claim = Invocation::new(kube::get_if_present_args(
        "persistentvolumeclaim",
        fullname,
        Some(kubectl.namespace),
        "jsonpath={.status.phase}",
        kubectl.target,
    ))
    .deadline(Duration::from_secs(60));
    let phase = kubectl.tool.run(&claim)?.stdout;
    Ok(if phase.trim() == "Bound" {
        Grafana::Stopped
    } else {
        Grafana::NeverStarted
    })
}

/// `grafana cli admin reset-admin-password` in the pod, the password on stdin.
fn reset_in(kubectl: &Kubectl<'_>, pod: &str, password: &str) -> Result<()> {
    let exec = Invocation::new(kube::exec_args(
        kubectl.namespace,
        kubectl.target,
        pod,
        "grafana",
        RESET_COMMAND,
    ))
    .stdin(format!("{password}\n").into_bytes())
    .deadline(Duration::from_secs(120));
    kubectl.tool.run(&exec).map(drop).map_err(|err| {
        anyhow::Error::from(err).context(
            UserError::runtime(format!(
                "cannot set the admin password in Grafana's pod `{pod}`"
            ))
            .hint("nothing was changed; `kubectl logs` of the pod may say why"),
        )
    })
}
