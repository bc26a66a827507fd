//! Helm: version detection, the argv for each operation (pure, unit-tested per major version),
//! and the JSON helm prints back.
//!
//! Helm 4 renamed flags that Helm 3 still requires: `--atomic` → `--rollback-on-failure`,
//! `--force` → `--force-replace`, and `--wait`/`--dry-run` take values. eksmon never passes a
//! flag the detected helm would reject.

use crate::target::Target;
use crate::tool::{Invocation, Tool, ToolError};
use serde::Deserialize;
use std::ffi::OsString;
use std::path::Path;

/// A helm release version such as `v3.17.2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// `v3.17.2`, `v4.1.4+g1234abc` (what `helm version` prints); the pre-release and build
    /// parts are not compared.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let parsed = semver::Version::parse(text.trim().trim_start_matches('v')).ok()?;
        Some(Self {
            major: u32::try_from(parsed.major).ok()?,
            minor: u32::try_from(parsed.minor).ok()?,
            patch: u32::try_from(parsed.patch).ok()?,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The oldest helm eksmon drives (OCI support without the experimental flag).
pub(crate) const MINIMUM: Version = Version {
    major: 3,
    minor: 8,
    patch: 0,
};

/// A helm binary whose version is known.
#[derive(Debug, Clone)]
pub(crate) struct Helm {
    pub tool: Tool,
    pub version: Version,
}

impl Helm {
    /// The binary's version: from `cache` (a file of eksmon's) when this very binary (same path,
    /// size and modification time) was asked before, else by asking it (`helm version`).
    pub(crate) fn detect(tool: Tool, cache: Option<&Path>) -> anyhow::Result<Helm> {
        let key = version_cache_key(&tool.path);
        let cached = cache
            .zip(key.as_deref())
            .and_then(|(cache, key)| cached_version(cache, key));
        let version = if let Some(version) = cached {
            version
        } else {
            let version = Helm::ask_version(&tool)?;
            if let Some((cache, key)) = cache.zip(key.as_deref()) {
                // A cache that cannot be written only costs the next run a `helm version`.
                let _ = remember_version(cache, key, version);
            }
            version
        };
        if version < MINIMUM {
            anyhow::bail!(
                "helm {version} at `{}` is too old; eksmon needs helm {MINIMUM} or newer (helm 4 works too)",
                tool.path.display()
            );
        }
        Ok(Helm { tool, version })
    }

    fn ask_version(tool: &Tool) -> anyhow::Result<Version> {
        let invocation = Invocation::new(["version", "--template", "{{.Version}}"])
            .deadline(std::time::Duration::from_secs(30));
        let out = tool.run(&invocation)?;
        Version::parse(&out.stdout).ok_or_else(|| {
            anyhow::anyhow!(
                "`{}` printed `{}` for its version; is it helm?",
                tool.path.display(),
                out.stdout.trim()
            )
        })
    }

    fn helm4(&self) -> bool {
        self.version.major >= 4
    }

    /// `helm upgrade --install` for one release from a local chart archive.
    pub(crate) fn upgrade_install_args(&self, req: &Upgrade<'_>) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "upgrade".into(),
            "--install".into(),
            req.release.into(),
            req.chart.into(),
            "--namespace".into(),
            req.namespace.into(),
            "--create-namespace".into(),
            "--values".into(),
            req.values.into(),
            "--output".into(),
            "json".into(),
        ];
        args.extend(req.target.helm_flags());
        if let Some(timeout) = req.timeout {
            args.extend(["--timeout".into(), go_duration(timeout).into()]);
        }
        if req.wait {
            if self.helm4() {
                args.extend(["--wait=watcher".into(), "--rollback-on-failure".into()]);
            } else {
                args.extend(["--wait".into(), "--atomic".into()]);
            }
        }
        if req.force {
            args.push(
                if self.helm4() {
                    "--force-replace"
                } else {
                    "--force"
                }
                .into(),
            );
        }
        match req.dry_run {
            DryRun::No => {}
            DryRun::Client => {
                args.push(
                    if self.helm4() {
                        "--dry-run=client"
                    } else {
                        "--dry-run"
                    }
                    .into(),
                );
                // The manifests are printed: keep Secrets (Grafana's admin password) out of them.
                if self.has_server_dry_run() {
                    args.push("--hide-secret".into());
                }
            }
            // Read by eksmon only, which masks Secret values itself (it must see which changed).
            DryRun::Server => args.push("--dry-run=server".into()),
        }
        args
    }

    /// `--dry-run=server` (templates' `lookup` sees the cluster) and `--hide-secret` came in
    /// helm 3.13.
    pub(crate) fn has_server_dry_run(&self) -> bool {
        self.helm4() || self.version.minor >= 13
    }

    /// `helm get manifest` of a release's current revision.
    pub(crate) fn get_manifest_args(
        &self,
        release: &str,
        namespace: &str,
        target: &Target,
    ) -> Vec<OsString> {
        get_args("manifest", release, namespace, target)
    }

    /// `helm get values` of a release's current revision: the values it was given, as JSON.
    pub(crate) fn get_values_args(
        &self,
        release: &str,
        namespace: &str,
        target: &Target,
    ) -> Vec<OsString> {
        let mut args = get_args("values", release, namespace, target);
        args.extend(["--output".into(), "json".into()]);
        args
    }

    /// The manifest a release's current revision applied; `None` when it is not installed.
    pub(crate) fn get_manifest(
        &self,
        release: &str,
        namespace: &str,
        target: &Target,
    ) -> anyhow::Result<Option<String>> {
        let invocation = Invocation::new(self.get_manifest_args(release, namespace, target))
            .deadline(std::time::Duration::from_secs(60));
        match self.tool.run(&invocation) {
            Ok(out) => Ok(Some(out.stdout)),
            Err(err) if is_release_not_found(&err) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// `helm show chart` of the newest version of a chart in a repository (HTTP or OCI): helm
    /// reads the index, or the registry's tags.
    pub(crate) fn show_chart_args(repo: &str, name: &str) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["show".into(), "chart".into()];
        if repo.starts_with("oci://") {
            args.push(format!("{}/{name}", repo.trim_end_matches('/')).into());
        } else {
            args.extend(["--repo".into(), repo.into(), name.into()]);
        }
        args
    }

    /// `helm pull` of one pinned chart version into `destination`.
    pub(crate) fn pull_args(
        repo: &str,
        name: &str,
        version: &str,
        destination: &Path,
    ) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["pull".into()];
        if repo.starts_with("oci://") {
            args.push(format!("{}/{name}", repo.trim_end_matches('/')).into());
        } else {
            args.extend(["--repo".into(), repo.into(), name.into()]);
        }
        args.extend([
            "--version".into(),
            version.into(),
            "--destination".into(),
            destination.into(),
        ]);
        args
    }

    /// `helm uninstall` for one release.
    pub(crate) fn uninstall_args(
        &self,
        release: &str,
        namespace: &str,
        target: &Target,
        wait: bool,
    ) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "uninstall".into(),
            release.into(),
            "--namespace".into(),
            namespace.into(),
        ];
        args.extend(target.helm_flags());
        if wait {
            args.push(
                if self.helm4() {
                    "--wait=watcher"
                } else {
                    "--wait"
                }
                .into(),
            );
        }
        args
    }

    /// `helm list` of the releases in a namespace (every status), as JSON; with `namespace`
    /// `None`, in every namespace. Helm 4 lists every status by default and has no `--all`;
    /// Helm 3 needs it, or it hides pending and superseded releases.
    pub(crate) fn list_args(&self, namespace: Option<&str>, target: &Target) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["list".into()];
        match namespace {
            Some(namespace) => args.extend(["--namespace".into(), namespace.into()]),
            None => args.push("--all-namespaces".into()),
        }
        if !self.helm4() {
            args.push("--all".into());
        }
        args.extend(["--output".into(), "json".into()]);
        args.extend(target.helm_flags());
        args
    }
}

impl Helm {
    /// The releases in `namespace` (every namespace with `None`), every status.
    pub(crate) fn list(
        &self,
        namespace: Option<&str>,
        target: &Target,
    ) -> anyhow::Result<Vec<ListedRelease>> {
        let invocation = Invocation::new(self.list_args(namespace, target))
            .deadline(std::time::Duration::from_secs(60))
            .after_interrupt();
        parse_list(&self.tool.run(&invocation)?.stdout)
    }
}

/// `helm get WHAT RELEASE --namespace NS` and the cluster's flags.
fn get_args(what: &str, release: &str, namespace: &str, target: &Target) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "get".into(),
        what.into(),
        release.into(),
        "--namespace".into(),
        namespace.into(),
    ];
    args.extend(target.helm_flags());
    args
}

/// `helm WORDS… --namespace NS [--kube-context C] [--kubeconfig P]`, quoted for a shell: a
/// command for the person to run, as printed in hints.
pub(crate) fn command_line(words: &[&str], namespace: &str, target: &Target) -> String {
    use crate::tool::quote;
    let mut line = vec!["helm".to_owned()];
    line.extend(words.iter().map(|w| quote(w)));
    line.extend(["--namespace".to_owned(), quote(namespace)]);
    line.join(" ") + &target.printed_helm_flags()
}

/// helm's duration syntax for a timeout (`300s`, or `1500ms` when not whole seconds).
fn go_duration(timeout: std::time::Duration) -> String {
    if timeout.subsec_millis() == 0 {
        format!("{}s", timeout.as_secs())
    } else {
        format!("{}ms", timeout.as_millis())
    }
}

/// What identifies one helm binary: its resolved path, size and modification time (a new
/// helm at the same path differs in at least one of them).
/// `None` for a script: a wrapper or version-manager shim (asdf, mise) can run another helm
/// each time without changing itself.
fn version_cache_key(path: &Path) -> Option<String> {
    let resolved = std::fs::canonicalize(path).ok()?;
    let mut magic = [0u8; 2];
    std::io::Read::read_exact(&mut std::fs::File::open(&resolved).ok()?, &mut magic).ok()?;
    if &magic == b"#!" {
        return None;
    }
    let meta = std::fs::metadata(&resolved).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{}\t{}\t{}",
        resolved.display(),
        meta.len(),
        modified.as_nanos()
    ))
}

/// The cache is a text file of `path<TAB>size<TAB>mtime<TAB>version` lines.
fn cached_version(cache: &Path, key: &str) -> Option<Version> {
    let text = std::fs::read_to_string(cache).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix('\t'))
        .and_then(Version::parse)
}

fn remember_version(cache: &Path, key: &str, version: Version) -> std::io::Result<()> {
    let mut lines: Vec<String> = std::fs::read_to_string(cache)
        .unwrap_or_default()
        .lines()
        // Other binaries stay; an older entry for this path (a replaced helm) goes.
        .filter(|line| {
            let path = key.split('\t').next().unwrap_or_default();
            line.split('\t').next() != Some(path)
        })
        .map(str::to_owned)
        .collect();
    lines.push(format!("{key}\t{version}"));
    let dir = cache.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Written beside and renamed over: concurrent runs never read half a file.
    let mut staged = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut staged, (lines.join("\n") + "\n").as_bytes())?;
    staged.persist(cache).map_err(|e| e.error)?;
    Ok(())
}

/// What `upgrade_install_args` needs.
#[derive(Debug, Clone)]
pub(crate) struct Upgrade<'a> {
    pub release: &'a str,
    pub chart: &'a Path,
    pub namespace: &'a str,
    pub values: &'a Path,
    pub target: &'a Target,
    pub timeout: Option<std::time::Duration>,
    pub wait: bool,
    pub force: bool,
    pub dry_run: DryRun,
}

/// Whether (and how) an upgrade is only rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DryRun {
    No,
    /// Rendered without the cluster (Helm 3 still asks it for its version).
    Client,
    /// Rendered with the cluster's help: `lookup` sees live objects, nothing is applied.
    Server,
}

/// The part of `helm upgrade --output json` eksmon reports.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReleaseOutcome {
    pub name: String,
    #[serde(default)]
    pub version: u32,
    pub info: ReleaseInfo,
    #[serde(default)]
    pub manifest: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReleaseInfo {
    pub status: String,
}

impl ReleaseOutcome {
    pub(crate) fn parse(stdout: &str) -> anyhow::Result<Self> {
        serde_json::from_str(stdout.trim()).map_err(|e| {
            anyhow::anyhow!("helm printed something other than its JSON release summary: {e}")
        })
    }
}

/// One row of `helm list --output json`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub(crate) struct ListedRelease {
    pub name: String,
    pub namespace: String,
    pub revision: String,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
}

impl ListedRelease {
    /// True while an operation holds the release (`pending-install`, `pending-upgrade`,
    /// `pending-rollback`): helm refuses the next one with "another operation is in progress".
    pub(crate) fn is_pending(&self) -> bool {
        self.status.starts_with("pending-")
    }
}

impl Helm {
    /// The helm command that frees a release left pending (helm refuses every later operation
    /// on it until then): uninstall when nothing was ever deployed, else a rollback to the last
    /// revision that was deployed. `None` when the release needs nothing.
    pub(crate) fn recovery(&self, release: &ListedRelease, target: &Target) -> Option<String> {
        let name = release.name.as_str();
        let command = |words: &[&str]| command_line(words, &release.namespace, target);
        match release.status.as_str() {
            "pending-install" => Some(command(&["uninstall", name])),
            "pending-upgrade" | "pending-rollback" => {
                let revision = self
                    .last_deployed_revision(release, target)
                    .map(|r| r.to_string());
                let mut words = vec!["rollback", name];
                words.extend(revision.as_deref());
                Some(command(&words))
            }
            _ => None,
        }
    }

    /// The newest revision that was deployed (and perhaps superseded since), from `helm history`.
    fn last_deployed_revision(&self, release: &ListedRelease, target: &Target) -> Option<u32> {
        #[derive(Deserialize)]
        struct Revision {
            revision: u32,
            status: String,
        }
        let mut args: Vec<OsString> = vec![
            "history".into(),
            release.name.as_str().into(),
            "--namespace".into(),
            release.namespace.as_str().into(),
            "--output".into(),
            "json".into(),
        ];
        args.extend(target.helm_flags());
        let invocation = Invocation::new(args)
            .deadline(std::time::Duration::from_secs(30))
            .after_interrupt();
        let out = self.tool.run(&invocation).ok()?;
        let history: Vec<Revision> = serde_json::from_str(out.stdout.trim()).ok()?;
        let newest = |status: &str| {
            history
                .iter()
                .filter(|r| r.status == status)
                .map(|r| r.revision)
                .max()
        };
        newest("deployed").or_else(|| newest("superseded"))
    }
}

pub(crate) fn parse_list(stdout: &str) -> anyhow::Result<Vec<ListedRelease>> {
    let text = stdout.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|e| anyhow::anyhow!("cannot read `helm list` output: {e}"))
}

/// True when helm's error says the release does not exist (not an error for uninstall). Helm 3
/// and 4 both say `Release not loaded: NAME: release: not found`; other "not found" errors (a
/// missing kube context, say) are real failures.
pub(crate) fn is_release_not_found(err: &ToolError) -> bool {
    matches!(err, ToolError::Failed { stderr, .. } if stderr.contains("release: not found"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::ToolKind;

    fn helm(version: &str) -> Helm {
        Helm {
            tool: Tool {
                kind: ToolKind::Helm,
                path: "/usr/bin/helm".into(),
                printer: crate::printer::Printer::default(),
            },
            version: Version::parse(version).unwrap(),
        }
    }

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn context(name: &str) -> Target {
        Target {
            context: Some(name.into()),
            kubeconfig: None,
        }
    }

    fn upgrade(target: &Target, wait: bool, force: bool, dry_run: DryRun) -> Upgrade<'_> {
        Upgrade {
            release: "prometheus",
            chart: Path::new("/cache/prometheus-29.27.0.tgz"),
            namespace: "mon",
            values: Path::new("/tmp/v.yaml"),
            target,
            timeout: Some(std::time::Duration::from_secs(600)),
            wait,
            force,
            dry_run,
        }
    }

    #[test]
    fn the_detected_version_is_cached_per_binary() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("helm");
        std::fs::copy("/bin/true", &binary).unwrap();
        let key = version_cache_key(&binary).expect("a binary is cached");
        let cache = dir.path().join("cache/helm-versions");
        assert_eq!(cached_version(&cache, &key), None);
        remember_version(&cache, &key, Version::parse("v3.17.2").unwrap()).unwrap();
        assert_eq!(cached_version(&cache, &key), Version::parse("v3.17.2"));

        // Another binary at the same path (another size) is another key, and replaces the entry.
        let mut bytes = std::fs::read(&binary).unwrap();
        bytes.push(0);
        std::fs::write(&binary, bytes).unwrap();
        let new_key = version_cache_key(&binary).unwrap();
        assert_ne!(new_key, key);
        assert_eq!(cached_version(&cache, &new_key), None);
        remember_version(&cache, &new_key, Version::parse("v4.1.4").unwrap()).unwrap();
        assert_eq!(cached_version(&cache, &new_key), Version::parse("v4.1.4"));
        assert_eq!(std::fs::read_to_string(&cache).unwrap().lines().count(), 1);

        // A script (a wrapper, a version manager's shim) is asked every time.
        let shim = dir.path().join("shim");
        std::fs::write(&shim, "#!/bin/sh\nexec helm \"$@\"\n").unwrap();
        assert_eq!(version_cache_key(&shim), None);
    }

    #[test]
    fn timeouts_reach_helm_exactly() {
        use std::time::Duration;
        assert_eq!(go_duration(Duration::from_secs(5400)), "5400s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn printed_commands_keep_their_scope() {
        assert_eq!(
            command_line(
                &["rollback", "grafana", "3"],
                "mon",
                &context("arn:aws:eks:eu-west-1:1:cluster/a b")
            ),
            "helm rollback grafana 3 --namespace mon --kube-context 'arn:aws:eks:eu-west-1:1:cluster/a b'"
        );
        assert_eq!(
            command_line(&["history", "g"], "mon", &Target::default()),
            "helm history g --namespace mon"
        );
    }

    #[test]
    fn parses_versions() {
        assert_eq!(
            Version::parse("v4.1.4"),
            Some(Version {
                major: 4,
                minor: 1,
                patch: 4
            })
        );
        assert_eq!(
            Version::parse("v3.17.2+gabc"),
            Some(Version {
                major: 3,
                minor: 17,
                patch: 2
            })
        );
        assert!(Version::parse("v3.7.0").unwrap() < MINIMUM);
        assert_eq!(Version::parse("garbage"), None);
    }

    #[test]
    fn helm4_argv() {
        let args = strings(&helm("v4.1.4").upgrade_install_args(&upgrade(
            &context("prod"),
            true,
            true,
            DryRun::Client,
        )));
        assert_eq!(
            args.join(" "),
            "upgrade --install prometheus /cache/prometheus-29.27.0.tgz --namespace mon --create-namespace \
             --values /tmp/v.yaml --output json --kube-context prod --timeout 600s --wait=watcher \
             --rollback-on-failure --force-replace --dry-run=client --hide-secret"
        );
    }

    #[test]
    fn helm3_argv() {
        let args = strings(&helm("v3.17.2").upgrade_install_args(&upgrade(
            &context("prod"),
            true,
            true,
            DryRun::Client,
        )));
        assert_eq!(
            args.join(" "),
            "upgrade --install prometheus /cache/prometheus-29.27.0.tgz --namespace mon --create-namespace \
             --values /tmp/v.yaml --output json --kube-context prod --timeout 600s --wait --atomic --force \
             --dry-run --hide-secret"
        );
        let old = strings(&helm("v3.8.0").upgrade_install_args(&upgrade(
            &context("prod"),
            false,
            false,
            DryRun::Client,
        )));
        assert!(
            old.ends_with(&["--dry-run".to_owned()]),
            "no --hide-secret before 3.13: {old:?}"
        );
        assert!(!old.contains(&"--wait".to_owned()));
    }

    #[test]
    fn server_dry_run_and_get_manifest_argv() {
        for version in ["v3.17.2", "v4.1.4"] {
            let helm = helm(version);
            let args = strings(&helm.upgrade_install_args(&upgrade(
                &Target::default(),
                false,
                false,
                DryRun::Server,
            )));
            assert_eq!(
                args[args.len() - 3..],
                ["--timeout", "600s", "--dry-run=server"],
                "{version}: Secrets stay in (eksmon masks them): {args:?}"
            );
            assert_eq!(
                strings(&helm.get_manifest_args("grafana", "mon", &context("c"))).join(" "),
                "get manifest grafana --namespace mon --kube-context c"
            );
        }
        assert!(helm("v3.13.0").has_server_dry_run());
        assert!(!helm("v3.12.3").has_server_dry_run());
        assert_eq!(
            strings(&Helm::show_chart_args("oci://ghcr.io/x/charts/", "grafana")).join(" "),
            "show chart oci://ghcr.io/x/charts/grafana"
        );
        assert_eq!(
            strings(&Helm::show_chart_args(
                "https://charts.example.com",
                "grafana"
            ))
            .join(" "),
            "show chart --repo https://charts.example.com grafana"
        );
    }

    #[test]
    fn pull_argv_for_http_and_oci() {
        let dest = Path::new("/cache/tmp");
        assert_eq!(
            strings(&Helm::pull_args(
                "https://charts.example.com",
                "grafana",
                "12.11.1",
                dest
            ))
            .join(" "),
            "pull --repo https://charts.example.com grafana --version 12.11.1 --destination /cache/tmp"
        );
        assert_eq!(
            strings(&Helm::pull_args(
                "oci://ghcr.io/grafana-community/helm-charts/",
                "grafana",
                "12.11.1",
                dest
            ))
            .join(" "),
            "pull oci://ghcr.io/grafana-community/helm-charts/grafana --version 12.11.1 --destination /cache/tmp"
        );
    }

    #[test]
    fn uninstall_and_list_argv() {
        assert_eq!(
            strings(&helm("v4.1.4").uninstall_args("grafana", "mon", &Target::default(), true))
                .join(" "),
            "uninstall grafana --namespace mon --wait=watcher"
        );
        assert_eq!(
            strings(&helm("v3.17.2").uninstall_args("grafana", "mon", &context("c"), true))
                .join(" "),
            "uninstall grafana --namespace mon --kube-context c --wait"
        );
        assert_eq!(
            strings(&helm("v3.17.2").list_args(Some("mon"), &Target::default())).join(" "),
            "list --namespace mon --all --output json"
        );
        assert_eq!(
            strings(&helm("v4.1.4").list_args(Some("mon"), &context("c"))).join(" "),
            "list --namespace mon --output json --kube-context c"
        );
        assert_eq!(
            strings(&helm("v4.1.4").list_args(None, &Target::default())).join(" "),
            "list --all-namespaces --output json"
        );
    }

    #[test]
    fn only_a_missing_release_is_not_found() {
        let failed = |stderr: &str| ToolError::Failed {
            command: "helm uninstall".into(),
            status: "exit 1".into(),
            stderr: stderr.into(),
        };
        assert!(is_release_not_found(&failed(
            "Error: uninstall: Release not loaded: grafana: release: not found"
        )));
        assert!(!is_release_not_found(&failed(
            "Error: kube context \"prod\" not found"
        )));
    }

    #[test]
    fn reads_release_json() {
        let outcome = ReleaseOutcome::parse(
            r#"{"name":"grafana","info":{"status":"deployed","description":"x"},"version":3,"manifest":"---\nkind: Service\n"}"#,
        )
        .unwrap();
        assert_eq!(
            (outcome.version, outcome.info.status.as_str()),
            (3, "deployed")
        );
        let listed = parse_list(
            r#"[{"name":"grafana","namespace":"mon","revision":"2","updated":"2026-01-01 00:00:00 +0000 UTC","status":"deployed","chart":"grafana-12.11.1","app_version":"12.0.0"}]"#,
        )
        .unwrap();
        assert_eq!(listed[0].chart, "grafana-12.11.1");
        assert!(parse_list("").unwrap().is_empty());
    }
}
