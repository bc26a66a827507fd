//! Which cluster helm and kubectl talk to, in each tool's spelling. Below everything that takes
//! a `Target` (helm, kubectl, the run context): it uses only the tools' shell quoting.

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
        .map(|f| [" ", &crate::tool::quote(&f.to_string_lossy())].concat())
        .collect()
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
