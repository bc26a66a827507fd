//! One module per subcommand, and the one place that dispatches to them.

mod grafana_password;
mod install;
mod profiles;
mod render;
mod status;
mod uninstall;

use crate::cli::{ClusterArgs, Command, ProfileArgs};
use crate::helm::Helm;
use crate::process::{Tool, ToolKind};
use crate::profile::{FlagValue, Request};
use crate::settings::{Chart, Settings};
use crate::yaml::Value;
use anyhow::Result;

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Render(args) => render::run(&args),
        Command::Install(args) => install::run(&args),
        Command::Uninstall(args) => uninstall::run(&args),
        Command::Status(args) => status::run(&args),
        Command::GrafanaPassword(args) => grafana_password::run(&args),
        Command::Profiles(command) => profiles::run(&command),
    }
}

/// What the profile options ask for, with dedicated flags turned into one-field layers.
fn request(args: &ProfileArgs) -> Request {
    let mut flags = Vec::new();
    if let Some(namespace) = &args.namespace {
        flags.push(FlagValue {
            flag: "--namespace",
            path: "namespace",
            value: Value::String(namespace.clone()),
        });
    }
    if let Some(exposure) = args.exposure {
        flags.push(FlagValue {
            flag: "--exposure",
            path: "exposure",
            value: crate::yaml::to_value(&exposure),
        });
    }
    Request {
        profiles: args.profiles.clone(),
        sets: args.sets.clone(),
        flags,
    }
}

/// Both charts, or the one `--only` names.
fn selected(only: Option<Chart>) -> Vec<Chart> {
    only.map_or_else(|| Chart::ALL.to_vec(), |chart| vec![chart])
}

/// The release name a chart is installed under.
fn release_of(settings: &Settings, chart: Chart) -> &str {
    match chart {
        Chart::Prometheus => settings.prometheus.release.as_str(),
        Chart::Grafana => settings.grafana.release.as_str(),
    }
}

/// helm from `--helm`/`EKSMON_HELM` or PATH, with its version detected (once per run).
fn find_helm(cluster: &ClusterArgs, echo: bool) -> Result<Helm> {
    let tool = Tool::find(ToolKind::Helm, cluster.helm.as_deref())?;
    Helm::detect(tool, echo)
}

/// kubectl from `--kubectl`/`EKSMON_KUBECTL` or PATH.
fn find_kubectl(cluster: &ClusterArgs) -> Result<Tool> {
    Ok(Tool::find(ToolKind::Kubectl, cluster.kubectl.as_deref())?)
}
