//! The command line (clap derive). Doc comments are the help text.

use crate::settings::{Chart, Exposure};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "eksmon",
    version,
    about = "Prometheus + Grafana monitoring on Amazon EKS with Helm, from one validated profile",
    after_help = "Exit codes: 0 ok, 1 a tool or the cluster failed, 2 bad usage or input (nothing was run)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the chart values a profile produces (for review, GitOps or `helm -f`)
    #[command(
        after_help = "Helm reads only the last document of a multi-document values file: \
        pipe one chart at a time (`eksmon render prometheus > prometheus-values.yaml`) or use --out-dir."
    )]
    Render(RenderArgs),
    /// List the profiles or print one
    #[command(subcommand)]
    Profiles(ProfilesCommand),
}

/// Where settings come from; every command that reads a profile takes these.
#[derive(Debug, Clone, Default, Args)]
pub struct ProfileArgs {
    /// A built-in profile, one in the config dir (`~/.config/eksmon/profiles/NAME.yaml`), or a
    /// path; repeat to layer them (later wins). Without it: $EKSMON_PROFILE, else ./eksmon.yaml
    #[arg(long = "profile", value_name = "NAME|PATH")]
    pub profiles: Vec<String>,

    /// Override one setting, e.g. `--set alb.scheme=internal` or
    /// `--set alb.subnets=[subnet-a,subnet-b]` (VALUE is YAML; repeatable)
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,

    /// Namespace for both releases (profile key `namespace`)
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// How Prometheus and Grafana are reached (profile key `exposure`)
    #[arg(long, value_enum)]
    pub exposure: Option<Exposure>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Only this chart's values (default: both, as a two-document YAML stream)
    #[arg(value_enum)]
    pub chart: Option<Chart>,

    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Write `prometheus-values.yaml` and `grafana-values.yaml` into DIR instead of stdout
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Built-in and user profiles, each with its one-line description
    List,
    /// Print a profile's YAML
    Show {
        /// A profile name or path, as `--profile` takes it
        name: String,
    },
}
