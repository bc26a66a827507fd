//! `eksmon uninstall`: both releases (Grafana first); volumes stay unless `--delete-data`.

use crate::cli::UninstallArgs;
use crate::context::{Run, Target};
use crate::error::{ReleaseFailure, ReleaseFailures, UserError};
use crate::helm::{self, Helm};
use crate::kube;
use crate::settings::Chart;
use crate::signals;
use crate::tool::Invocation;
use anyhow::{Context as _, Result};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(600);

pub(super) fn run(run: &Run, args: &UninstallArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let settings = &loaded.settings;
    let namespace = settings.namespace.as_str();
    let target = &run.target;
    let ui = &run.ui;
    // Grafana first: it reads from Prometheus, not the other way round.
    let releases: Vec<&str> = [Chart::Grafana, Chart::Prometheus]
        .into_iter()
        // An explicit --only grafana removes a release the profile has since left out.
        .filter(|chart| {
            args.only
                .map(Chart::from)
                .map_or(settings.installs(*chart), |only| only == *chart)
        })
        .map(|chart| settings.release(chart).as_str())
        .collect();
    let place = format!("namespace `{namespace}` ({})", target.describe());
    if !args.yes {
        let listed = releases.join(" and ");
        let no_terminal = || {
            UserError::input(
                "uninstall asks before it removes anything, and there is no terminal to ask on",
            )
            .hint("pass --yes to uninstall without asking")
        };
        let question = if args.delete_data {
            format!("Uninstall {listed} from {place}? Their volumes are deleted next")
        } else {
            format!("Uninstall {listed} from {place}? Volumes are kept")
        };
        if !ui.confirm(&question, no_terminal())? {
            return Err(UserError::declined("nothing was uninstalled").into());
        }
        if args.delete_data {
            let question = format!(
                "The stored metrics and dashboards of {listed} will be lost. Type the namespace name `{namespace}` to delete their volumes"
            );
            let typed = ui.ask_to_type(&question, no_terminal())?;
            if typed != namespace {
                return Err(UserError::declined("nothing was uninstalled")
                    .hint(format!(
                        "`{typed}` is not `{namespace}`: the volumes are only deleted when `{namespace}` is typed"
                    ))
                    .into());
            }
        }
    }
    let helm = run.helm()?;
    let mut failures = Vec::new();
    for release in &releases {
        match uninstall_one(&helm, release, namespace, target, args.wait) {
            Ok(true) => ui.note(&format!("{release}: uninstalled")),
            Ok(false) => ui.note(&format!("{release}: not installed")),
            Err(err) => failures.push(ReleaseFailure::new(release, err)),
        }
    }
    if let Some(interrupted) = signals::cancelled() {
        return Err(interrupted.into());
    }
    if !failures.is_empty() {
        // A release that is still there may still be writing to its volumes: keep them all.
        let kept = if args.delete_data {
            "no volume was deleted"
        } else {
            "volumes are kept"
        };
        for failure in &mut failures {
            let retry = helm::command_line(&["uninstall", &failure.release], namespace, target);
            failure.hint(format!("{kept}; once `{retry}` works, run this again"));
        }
        return Err(ReleaseFailures(failures).into());
    }
    volumes(run, args, &releases, namespace)
}

/// `Ok(false)` when the release was not there (not an error: the goal is reached).
fn uninstall_one(
    helm: &Helm,
    release: &str,
    namespace: &str,
    target: &Target,
    wait: bool,
) -> Result<bool> {
    let invocation =
        Invocation::new(helm.uninstall_args(release, namespace, target, wait)).deadline(DEADLINE);
    match helm.tool.run(&invocation) {
        Ok(_) => Ok(true),
        Err(err) if helm::is_release_not_found(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Deletes the releases' PVCs with `--delete-data`; otherwise lists the ones kept.
fn volumes(run: &Run, args: &UninstallArgs, releases: &[&str], namespace: &str) -> Result<()> {
    let (ui, target) = (&run.ui, &run.target);
    let kubectl = match run.kubectl() {
        Ok(kubectl) => kubectl,
        Err(err) if !args.delete_data => {
            ui.warn(&format!("{err:#}; cannot list the volumes that were kept"));
            return Ok(());
        }
        Err(err) => return Err(err),
    };
    let list = Invocation::new(kube::pvc_list_args(namespace, target, releases))
        .deadline(Duration::from_secs(60));
    let out = kubectl
        .run(&list)
        .context("cannot list the releases' volumes")?;
    let claims = kube::parse_pvcs(&out.stdout)?;
    // Grafana's admin password lives in its database on the volume too: the Secret goes with
    // the volume, or stays with it.
    let list = Invocation::new(kube::eksmon_secrets_args(namespace, target, releases))
        .deadline(Duration::from_secs(60));
    let secrets: Vec<String> = kubectl
        .run(&list)
        .context("cannot list the Secrets eksmon made")?
        .stdout
        .lines()
        .filter(|l| l.starts_with("secret/"))
        .map(str::to_owned)
        .collect();
    if args.delete_data {
        delete_claims(&kubectl, run, releases, &claims, namespace)?;
        return delete_secrets(&kubectl, run, &secrets, namespace);
    }
    for claim in &claims {
        ui.note(&format!(
            "kept: persistentvolumeclaim/{} ({}, {})",
            claim.name, claim.size, claim.storage_class
        ));
    }
    for secret in &secrets {
        ui.note(&format!(
            "kept: {secret} (Grafana's admin password, as the volume knows it)"
        ));
    }
    if !claims.is_empty() {
        ui.note("(the monitoring data is on them; `eksmon uninstall --delete-data` deletes them)");
    }
    Ok(())
}

/// Deletes eksmon's Secrets once the volumes they belong to are gone.
fn delete_secrets(
    kubectl: &crate::tool::Tool,
    run: &Run,
    secrets: &[String],
    namespace: &str,
) -> Result<()> {
    if secrets.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let delete =
        Invocation::new(kube::delete_named_args(namespace, &run.target, &names)).deadline(DEADLINE);
    kubectl
        .run(&delete)
        .context("cannot delete the Secrets eksmon made")?;
    for secret in secrets {
        run.ui.note(&format!("deleted: {secret}"));
    }
    Ok(())
}

/// Deletes the listed claims (the releases are confirmed gone) and reports how many went, per
/// release: counted from what kubectl says it deleted, not from its lines of text.
fn delete_claims(
    kubectl: &crate::tool::Tool,
    run: &Run,
    releases: &[&str],
    claims: &[kube::ClaimSummary],
    namespace: &str,
) -> Result<()> {
    let ui = &run.ui;
    for release in releases {
        let names: Vec<&str> = claims
            .iter()
            .filter(|c| c.release == *release)
            .map(|c| c.name.as_str())
            .collect();
        let deleted = if names.is_empty() {
            0
        } else {
            let delete = Invocation::new(kube::pvc_delete_args(namespace, &run.target, &names))
                .deadline(DEADLINE);
            let out = kubectl
                .run(&delete)
                .with_context(|| format!("cannot delete the volumes of {release}"))?;
            out.stdout
                .lines()
                .filter(|l| l.starts_with("persistentvolumeclaim/"))
                .count()
        };
        ui.note(&format!("{release}: deleted {deleted} volume claim(s)"));
    }
    Ok(())
}
