//! The command line (clap derive). Doc comments are the help text.

use crate::settings::{Chart, Exposure};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "eksmon",
    version,
    about = "Prometheus + Grafana monitoring on Amazon EKS with Helm, from one validated profile",
    after_help = "Exit codes: 0 ok, 1 a tool or the cluster failed (status: a release is not deployed), 2 bad usage or input (nothing was run), 3 declined at a prompt (nothing was done), 4 `diff --exit-code` found changes, 130/143 interrupted."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after the subcommand (as helm's do).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Print only errors and warnings
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print each helm and kubectl command line (never a secret)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Namespace of both releases (profile key `namespace`)
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// The kubeconfig context to use (helm --kube-context, kubectl --context)
    #[arg(long, global = true, value_name = "CONTEXT")]
    pub kube_context: Option<String>,

    /// The kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The helm binary (default: helm on PATH)
    #[arg(long, global = true, env = "EKSMON_HELM", value_name = "PATH")]
    pub helm: Option<PathBuf>,

    /// The kubectl binary (default: kubectl on PATH)
    #[arg(long, global = true, env = "EKSMON_KUBECTL", value_name = "PATH")]
    pub kubectl: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the chart values a profile produces (for review, GitOps or `helm -f`)
    #[command(
        after_help = "Helm reads only the last document of a multi-document values file: \
        pipe one chart at a time (`eksmon render prometheus > prometheus-values.yaml`) or use --out-dir."
    )]
    Render(RenderArgs),
    /// Print the Argo CD Applications, or the Flux sources and HelmReleases, that install the
    /// releases with exactly the values `render` prints (for a GitOps repository)
    #[command(
        after_help = "The objects hold no secret: Grafana's admin password is in a Secret eksmon names, which \
        you bring with your secret tool (eksmon says which). Values that would put a password into git are refused."
    )]
    Export(ExportArgs),
    /// Install or upgrade both releases (helm upgrade --install, in parallel)
    Install(InstallArgs),
    /// Show what `install` would change in the live releases, object by object
    #[command(
        long_about = "Show what `install` would change in the live releases, object by object.\n\n\
        Compares each release's live manifest (helm get manifest) with a server-side dry run of the \
        same upgrade `install` runs, so values the charts look up in the cluster (Grafana's admin \
        password) do not show as changes. Secret values are never printed, only which keys change. \
        Changes Kubernetes refuses to make in place (a StatefulSet's volume claims, a volume shrink, \
        a selector) are flagged with what to do instead. Needs helm 3.13 or newer."
    )]
    Diff(DiffArgs),
    /// The pinned charts: newer versions in their repositories, and moving the pins
    #[command(subcommand)]
    Charts(ChartsCommand),
    /// Uninstall the releases; their volumes (the monitoring data) are kept unless --delete-data
    Uninstall(UninstallArgs),
    /// Show each release's chart, revision, status and address
    Status(StatusArgs),
    /// Print Grafana's admin password (from its Secret) and nothing else; --rotate sets a new one
    #[command(
        long_about = "Print Grafana's admin password (from its Secret) and nothing else.\n\n\
        eksmon makes the Secret before the first install, with a random password, and keeps it. \
        Once an admin changes the password in Grafana's UI (stored in grafana.db on the volume), \
        the Secret is stale; --rotate sets a new password in both and restarts Grafana."
    )]
    GrafanaPassword(GrafanaPasswordArgs),
    /// Create a profile by answering questions (needs a terminal)
    Init(InitArgs),
    /// Check what would break an install: tools, cluster access, controller, storage, nodes
    Doctor(ReportArgs),
    /// List the alerts a profile installs: name, severity, summary
    Alerts(ListArgs),
    /// List the Grafana dashboards a profile provisions: name, title, panels, uid
    Dashboards(ListArgs),
    /// Print the IAM policies, trust policies and Pod Identity associations a profile needs
    Iam(IamArgs),
    /// List the profiles or print one
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man pages (roff) for eksmon and its commands, or write them into a directory
    Man {
        /// Write `eksmon.1`, `eksmon-install.1`, … here instead of printing them
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Install only this release
    #[arg(long, value_enum, value_name = "CHART")]
    pub only: Option<ChartArg>,

    /// Render through helm (client side) and print the manifests; nothing is applied. Helm still
    /// asks the cluster for its version: offline, use `eksmon render`
    #[arg(long)]
    pub dry_run: bool,

    /// Wait until the resources are ready, and roll back a release that fails
    #[arg(long)]
    pub wait: bool,

    /// Time limit for each helm operation, e.g. `10m` (helm's default is 5m0s)
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Replace resources that cannot be updated in place (helm --force / --force-replace)
    #[arg(long)]
    pub force: bool,

    /// First show what the install changes (as `eksmon diff`), then ask before applying it (on a
    /// terminal; without one it goes ahead). Releases with nothing to change are left alone
    #[arg(long, conflicts_with = "dry_run")]
    pub diff: bool,

    /// Upgrade even a release whose chart and values are as deployed (helm then puts back what
    /// was changed in its objects by hand). Without it such a release is left alone: `unchanged`
    #[arg(long, conflicts_with = "dry_run")]
    pub reconcile: bool,

    /// Leave the namespaces' Pod Security labels as they are (missing namespaces are created
    /// without them). Without it the releases' namespace enforces `restricted` and
    /// node-exporter's own namespace is `privileged`
    #[arg(long)]
    pub no_pod_security: bool,

    /// Install even when Prometheus or Grafana would be open to the whole internet
    /// (internet-facing, no allowed CIDRs, no ALB authentication) without asking
    #[arg(long)]
    pub allow_public: bool,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// Only this release (default: every release the profile installs)
    #[arg(value_enum)]
    pub chart: Option<ChartArg>,

    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Exit 4 when install would change something (0 when not; 1 and 2 stay errors)
    #[arg(long)]
    pub exit_code: bool,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ChartsCommand {
    /// For each pinned chart: the pinned, installed and newest versions
    Outdated(OutdatedArgs),
    /// Move a chart pin in the profile file (in place, comments kept) after checking the new chart
    Bump(BumpArgs),
}

#[derive(Debug, Args)]
pub(crate) struct OutdatedArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub(crate) struct BumpArgs {
    /// The chart whose pin moves (default: every chart the profile installs)
    #[arg(value_enum)]
    pub chart: Option<ChartArg>,

    /// The version to move to (default: the newest in the chart's repository)
    #[arg(long, value_name = "VERSION", requires = "chart")]
    pub to: Option<String>,

    /// Check and report, but leave the profile file as it is
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Uninstall only this release
    #[arg(long, value_enum, value_name = "CHART")]
    pub only: Option<ChartArg>,

    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,

    /// Also delete the releases' PersistentVolumeClaims: the stored metrics and dashboards are lost
    #[arg(long)]
    pub delete_data: bool,

    /// Wait until the resources are gone
    #[arg(long)]
    pub wait: bool,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// For commands that report on the cluster (`status`, `doctor`).
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub report: ReportArgs,

    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Many clusters at once, from a fleet file.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Fleet options")]
pub(crate) struct FleetArgs {
    /// Run against every cluster of this fleet file (each with its context, profiles and
    /// `set`), in parallel; a failing cluster does not stop the others
    #[arg(long, value_name = "FILE", conflicts_with = "profiles")]
    pub fleet: Option<PathBuf>,

    /// Only this cluster of the fleet (repeatable)
    #[arg(long = "cluster", value_name = "NAME", requires = "fleet")]
    pub clusters: Vec<String>,

    /// Set by eksmon itself: run as this one cluster of the fleet, for the run that started it
    #[arg(long, value_name = "NAME", hide = true, requires = "fleet")]
    pub fleet_member: Option<String>,
}

/// A list a profile makes (`alerts`, `dashboards`), read without contacting anything.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub(crate) struct IamArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// The cluster's OIDC provider for IRSA trust policies (its issuer URL, with or without
    /// https://); unset: a placeholder
    #[arg(long, value_name = "ISSUER", value_parser = crate::iam::oidc_provider)]
    pub oidc_provider: Option<String>,

    /// Output format
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `--output`: one name for the human format on every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// For people: tables, summaries, diffs
    #[value(alias = "table")]
    Text,
    /// For programs: camelCase keys, numbers as numbers, null for what is missing
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Start from this profile's values (a name or path, as `--profile` takes it)
    #[arg(long, value_name = "NAME|PATH")]
    pub from: Option<String>,

    /// Write the profile here instead of `~/.config/eksmon/profiles/NAME.yaml`; `-` prints it
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct GrafanaPasswordArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Grafana's release name (default: the profile's `grafana.release`)
    #[arg(long, value_name = "RELEASE")]
    pub release: Option<String>,

    /// Set a new random password (in the running Grafana and in eksmon's Secret), restart
    /// Grafana, and print nothing
    #[arg(long)]
    pub rotate: bool,
}

/// Where settings come from; every command that reads a profile takes these.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ProfileArgs {
    /// A built-in profile, one in the config dir (`~/.config/eksmon/profiles/NAME.yaml`), or a
    /// path; repeat to layer them (later wins). Without it: $EKSMON_PROFILE, else ./eksmon.yaml
    #[arg(long = "profile", value_name = "NAME|PATH")]
    pub profiles: Vec<String>,

    /// Override one setting, e.g. `--set alb.scheme=internal` or
    /// `--set alb.subnets=[subnet-0a1b2c3d,subnet-4e5f6a7b]` (VALUE is YAML; repeatable)
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,

    /// How Prometheus and Grafana are reached (profile key `exposure`)
    #[arg(long, value_enum)]
    pub exposure: Option<ExposureArg>,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// Only this chart's values (default: both, as a two-document YAML stream)
    #[arg(value_enum)]
    pub chart: Option<ChartArg>,

    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Write `prometheus-values.yaml` and `grafana-values.yaml` into DIR instead of stdout
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The GitOps engine the objects are for
    #[arg(value_enum)]
    pub engine: EngineArg,

    /// Only this release (default: every release the profile installs)
    #[arg(value_enum)]
    pub chart: Option<ChartArg>,

    #[command(flatten)]
    pub profile: ProfileArgs,

    /// Write one file per object into DIR (`prometheus.application.yaml`, …) instead of a YAML
    /// stream on stdout
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Write every cluster's objects of this fleet file, each cluster in its own directory
    /// under --out-dir (Argo CD: each Application named and sent to its cluster)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profiles", "destination_server", "destination_name"], requires = "out_dir")]
    pub fleet: Option<PathBuf>,

    /// With --fleet: only this cluster (repeatable)
    #[arg(long = "cluster", value_name = "NAME", requires = "fleet")]
    pub clusters: Vec<String>,

    /// The namespace the Applications or the Flux objects live in [default: argocd, or
    /// flux-system]
    #[arg(long, value_name = "NAMESPACE")]
    pub gitops_namespace: Option<String>,

    /// Argo CD: sync on its own, pruning and healing drift (default: a person syncs)
    #[arg(long)]
    pub auto_sync: bool,

    /// Argo CD: the API server of the cluster to deploy to [default: https://kubernetes.default.svc,
    /// the cluster Argo CD runs in]
    #[arg(long, value_name = "URL", conflicts_with = "destination_name")]
    pub destination_server: Option<String>,

    /// Argo CD: the cluster to deploy to, by the name it is registered under
    #[arg(long, value_name = "NAME")]
    pub destination_name: Option<String>,
}

/// A GitOps engine on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EngineArg {
    /// Argo CD: one Application per release
    Argocd,
    /// Flux: a HelmRepository (or OCIRepository) and a HelmRelease per release
    Flux,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProfilesCommand {
    /// Built-in and user profiles, each with its one-line description
    List,
    /// Print a profile's YAML
    Show {
        /// A profile name or path, as `--profile` takes it
        name: String,
    },
}

/// A chart on the command line; the settings' [`Chart`] stays free of clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChartArg {
    Prometheus,
    Grafana,
}

impl From<ChartArg> for Chart {
    fn from(arg: ChartArg) -> Self {
        match arg {
            ChartArg::Prometheus => Chart::Prometheus,
            ChartArg::Grafana => Chart::Grafana,
        }
    }
}

/// `--exposure`, with the settings' [`Exposure`]'s help on each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExposureArg {
    /// An ALB per Ingress (shared through `alb.groupName`), via the AWS Load Balancer Controller.
    Alb,
    /// A Service of type LoadBalancer backed by an NLB.
    Nlb,
    /// ClusterIP only; reach them with `kubectl port-forward`.
    None,
}

impl From<ExposureArg> for Exposure {
    fn from(arg: ExposureArg) -> Self {
        match arg {
            ExposureArg::Alb => Exposure::Alb,
            ExposureArg::Nlb => Exposure::Nlb,
            ExposureArg::None => Exposure::None,
        }
    }
}
