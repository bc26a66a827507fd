//! What every command runs with, built once in `main` from the global options and the
//! environment: how to talk to the person (`Ui`), which cluster (`Target`), which tools, and
//! where profiles are found. Commands read nothing from the environment themselves.

use crate::charts::ChartCache;
use crate::cli::{GlobalArgs, ProfileArgs};
use crate::helm::Helm;
use crate::printer::Printer;
use crate::profile::{self, FlagValue, Loaded, Lookup, Request};
use crate::settings::{Chart, Exposure};
use crate::tool::{Tool, ToolKind};
use crate::ui::Ui;
use crate::yaml::Value;
use anyhow::Result;
use std::path::PathBuf;

pub(crate) use crate::target::Target;

/// One run of eksmon: everything a command needs besides its own arguments.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub ui: Ui,
    pub target: Target,
    /// `-n`: the namespace, over every profile.
    pub namespace: Option<String>,
    pub lookup: Lookup,
    helm: Option<PathBuf>,
    kubectl: Option<PathBuf>,
    /// The kubeconfig files helm and kubectl read, as they find them.
    kubeconfig_files: Vec<PathBuf>,
    /// What [`Run::check_kube_context`] found, read once per run (every tool lookup asks).
    context_checked: std::sync::Arc<std::sync::OnceLock<Option<crate::error::UserError>>>,
    /// Where the context was named (`--kube-context`, or a fleet file's line).
    context_origin: crate::error::Origin,
    /// A fleet cluster's profile layers, in place of `--profile` (a member run's).
    member: Option<crate::fleet::Member>,
    /// The words after `eksmon` on the command line, to run each fleet cluster with the same ones.
    pub argv: Vec<std::ffi::OsString>,
    /// This eksmon binary, to run each fleet cluster with.
    pub exe: PathBuf,
}

/// The files kubectl reads: `--kubeconfig`, else each of `$KUBECONFIG`, else `~/.kube/config`.
fn kubeconfig_files(flag: Option<&std::path::Path>) -> Vec<PathBuf> {
    if let Some(path) = flag {
        return vec![path.to_owned()];
    }
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list).collect(),
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".kube/config"))
            .into_iter()
            .collect(),
    }
}

/// The context names in kubeconfig files; `None` when none of them can be read (then helm and
/// kubectl say what is wrong).
fn context_names(files: &[PathBuf]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut read_any = false;
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(config) = crate::yaml::parse(&text) else {
            continue;
        };
        read_any = true;
        let contexts = config
            .get("contexts")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        names.extend(
            contexts
                .iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned)),
        );
    }
    read_any.then_some(names)
}

impl Run {
    pub(crate) fn new(global: &GlobalArgs, argv: Vec<std::ffi::OsString>) -> Self {
        Self {
            ui: Ui::new(global.quiet, global.verbose),
            target: Target {
                context: global.kube_context.clone(),
                kubeconfig: global.kubeconfig.clone(),
            },
            namespace: global.namespace.clone(),
            lookup: Lookup::from_env(),
            helm: global.helm.clone(),
            kubectl: global.kubectl.clone(),
            kubeconfig_files: kubeconfig_files(global.kubeconfig.as_deref()),
            context_checked: std::sync::Arc::default(),
            context_origin: crate::error::Origin::Flag("--kube-context".into()),
            member: None,
            argv,
            exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("eksmon")),
        }
    }

    /// The run for one cluster of a fleet: its context and kubeconfig, its profile layers.
    pub(crate) fn for_member(&self, member: &crate::fleet::Member) -> Self {
        Self {
            target: Target {
                context: member.context.clone(),
                kubeconfig: member.kubeconfig.clone(),
            },
            kubeconfig_files: kubeconfig_files(member.kubeconfig.as_deref()),
            context_checked: std::sync::Arc::default(),
            context_origin: member.context_origin.clone(),
            member: Some(member.clone()),
            ..self.clone()
        }
    }

    /// The fleet cluster this run is for, when it is one.
    pub(crate) fn member(&self) -> Option<&crate::fleet::Member> {
        self.member.as_ref()
    }

    /// A `--kube-context` the kubeconfig does not have is bad input: said before any helm or
    /// kubectl runs, with the contexts there are.
    pub(crate) fn check_kube_context(&self) -> Result<()> {
        match self
            .context_checked
            .get_or_init(|| self.unknown_kube_context())
        {
            Some(err) => Err(err.clone().into()),
            None => Ok(()),
        }
    }

    fn unknown_kube_context(&self) -> Option<crate::error::UserError> {
        let context = self.target.context.as_ref()?;
        let names = context_names(&self.kubeconfig_files)?;
        if names.contains(context) {
            return None;
        }
        let files: Vec<String> = self
            .kubeconfig_files
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        let known = if names.is_empty() {
            "it has none".to_owned()
        } else {
            format!("it has {}", names.join(", "))
        };
        Some(crate::error::UserError::input(format!(
            "no context `{context}` in {} ({known})",
            files.join(":")
        ))
        .at(self.context_origin.clone())
        .hint("`kubectl config get-contexts` lists them; `aws eks update-kubeconfig --name CLUSTER` adds an EKS cluster's"))
    }

    /// How much the tools and fetchers print (`--verbose`).
    pub(crate) fn printer(&self) -> Printer {
        self.ui.printer
    }

    /// The settings for `charts` from the profile options, `-n` and `--exposure`.
    pub(crate) fn load(&self, profile: &ProfileArgs, charts: &[Chart]) -> Result<Loaded> {
        let mut flags = Vec::new();
        if let Some(namespace) = &self.namespace {
            flags.push(FlagValue {
                flag: "--namespace",
                path: "namespace",
                value: Value::String(namespace.clone()),
            });
        }
        if let Some(exposure) = profile.exposure {
            flags.push(FlagValue {
                flag: "--exposure",
                path: "exposure",
                value: crate::yaml::to_value(&Exposure::from(exposure)),
            });
        }
        let request = Request {
            profiles: self
                .member
                .as_ref()
                .map_or_else(|| profile.profiles.clone(), |m| m.profiles.clone()),
            placed: self
                .member
                .as_ref()
                .map(|m| m.layers.clone())
                .unwrap_or_default(),
            sets: profile.sets.clone(),
            flags,
        };
        let loaded = profile::load(&request, &self.lookup, charts)?;
        if self.member.is_none()
            && let Some(picked) = self.lookup.picked_up(&profile.profiles)
        {
            self.ui
                .note(&format!("using {picked} (no --profile given)"));
        }
        for warning in &loaded.warnings {
            self.ui.warn(warning);
        }
        Ok(loaded)
    }

    /// helm from `--helm`/`EKSMON_HELM` or PATH (not yet asked for its version).
    pub(crate) fn helm_tool(&self) -> Result<Tool> {
        self.check_kube_context()?;
        Ok(Tool::find(ToolKind::Helm, self.helm.as_deref())?.with_printer(self.printer()))
    }

    /// helm with its version known.
    pub(crate) fn helm(&self) -> Result<Helm> {
        Helm::detect(self.helm_tool()?, self.helm_versions_cache().as_deref())
    }

    /// kubectl from `--kubectl`/`EKSMON_KUBECTL` or PATH.
    pub(crate) fn kubectl(&self) -> Result<Tool> {
        self.check_kube_context()?;
        Ok(Tool::find(ToolKind::Kubectl, self.kubectl.as_deref())?.with_printer(self.printer()))
    }

    /// Where helm binaries' versions are remembered (beside the chart cache); `None` when there is
    /// no cache directory (then each run asks helm).
    pub(crate) fn helm_versions_cache(&self) -> Option<PathBuf> {
        crate::charts::cache_root()
            .ok()
            .map(|root| root.join("helm-versions"))
    }

    /// eksmon's chart cache (`$EKSMON_CACHE_DIR`, else the user cache dir).
    pub(crate) fn chart_cache(&self) -> Result<ChartCache> {
        ChartCache::from_env()
    }
}
