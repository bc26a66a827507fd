//! What every command runs with, built once in `main` from the global options and the
//! environment: how to talk to the person (`Ui`), which cluster (`Target`), which tools, and
//! where profiles are found. Commands read nothing from the environment themselves.

use crate::charts::ChartCache;
use crate::cli::{GlobalArgs, ProfileArgs};
use crate::helm::Helm;
use crate::profile::{self, FlagValue, Loaded, Lookup, Request};
use crate::settings::Chart;
use crate::tool::{Tool, ToolKind};
use crate::ui::Ui;
use crate::yaml::Value;
use anyhow::Result;
use std::ffi::OsString;
use std::path::PathBuf;

/// Which cluster helm and kubectl talk to: a kubeconfig file and a context in it (each
/// defaulting as kubectl's do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub context: Option<String>,
    pub kubeconfig: Option<PathBuf>,
}

impl Target {
    /// `--kube-context C --kubeconfig P`, in helm's spelling.
    pub fn helm_flags(&self) -> Vec<OsString> {
        self.flags("--kube-context")
    }

    /// `--context C --kubeconfig P`, in kubectl's spelling.
    pub fn kubectl_flags(&self) -> Vec<OsString> {
        self.flags("--context")
    }

    fn flags(&self, context_flag: &str) -> Vec<OsString> {
        let mut flags = Vec::new();
        if let Some(context) = &self.context {
            flags.extend([context_flag.into(), context.into()]);
        }
        if let Some(kubeconfig) = &self.kubeconfig {
            flags.extend(["--kubeconfig".into(), kubeconfig.into()]);
        }
        flags
    }

    /// The helm (and eksmon) flags as words for a command line printed for the person, each
    /// after a space, quoted for a shell.
    pub fn printed_helm_flags(&self) -> String {
        printed(&self.helm_flags())
    }

    /// The kubectl flags, likewise.
    pub fn printed_kubectl_flags(&self) -> String {
        printed(&self.kubectl_flags())
    }

    /// `context `prod``, or `current context`, for messages.
    pub fn describe(&self) -> String {
        match &self.context {
            Some(context) => format!("context `{context}`"),
            None => "current context".to_owned(),
        }
    }
}

fn printed(flags: &[OsString]) -> String {
    flags
        .iter()
        .map(|f| format!(" {}", crate::tool::quote(&f.to_string_lossy())))
        .collect()
}

/// One run of eksmon: everything a command needs besides its own arguments.
#[derive(Debug, Clone)]
pub struct Run {
    pub ui: Ui,
    pub target: Target,
    /// `-n`: the namespace, over every profile.
    pub namespace: Option<String>,
    pub lookup: Lookup,
    helm: Option<PathBuf>,
    kubectl: Option<PathBuf>,
}

impl Run {
    pub fn new(global: &GlobalArgs) -> Self {
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
        }
    }

    /// True when helm and kubectl command lines are printed (`--verbose`).
    pub fn echo(&self) -> bool {
        self.ui.verbose
    }

    /// The settings for `charts` from the profile options, `-n` and `--exposure`.
    pub fn load(&self, profile: &ProfileArgs, charts: &[Chart]) -> Result<Loaded> {
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
                value: crate::yaml::to_value(&exposure),
            });
        }
        let request = Request {
            profiles: profile.profiles.clone(),
            sets: profile.sets.clone(),
            flags,
        };
        let loaded = profile::load(&request, &self.lookup, charts)?;
        for warning in &loaded.warnings {
            self.ui.warn(warning);
        }
        Ok(loaded)
    }

    /// helm from `--helm`/`EKSMON_HELM` or PATH (not yet asked for its version).
    pub fn helm_tool(&self) -> Result<Tool> {
        Ok(Tool::find(ToolKind::Helm, self.helm.as_deref())?)
    }

    /// helm with its version known.
    pub fn helm(&self) -> Result<Helm> {
        Helm::detect(self.helm_tool()?, self.echo())
    }

    /// kubectl from `--kubectl`/`EKSMON_KUBECTL` or PATH.
    pub fn kubectl(&self) -> Result<Tool> {
        Ok(Tool::find(ToolKind::Kubectl, self.kubectl.as_deref())?)
    }

    /// eksmon's chart cache (`$EKSMON_CACHE_DIR`, else the user cache dir).
    pub fn chart_cache(&self) -> Result<ChartCache> {
        ChartCache::from_env()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_in_each_tools_spelling() {
        let target = Target {
            context: Some("prod".into()),
            kubeconfig: Some("/home/me/kube config".into()),
        };
        let words = |flags: Vec<OsString>| {
            flags
                .iter()
                .map(|f| f.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            words(target.helm_flags()),
            "--kube-context prod --kubeconfig /home/me/kube config"
        );
        assert_eq!(
            words(target.kubectl_flags()),
            "--context prod --kubeconfig /home/me/kube config"
        );
        assert_eq!(
            target.printed_helm_flags(),
            " --kube-context prod --kubeconfig '/home/me/kube config'"
        );
        assert!(Target::default().helm_flags().is_empty());
    }
}
