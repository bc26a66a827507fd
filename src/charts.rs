//! eksmon's chart cache: a pinned chart version never changes, so each archive is fetched once
//! (directly from an HTTP repository, else with `helm pull`, which also covers OCI) and then
//! reused, checked against the digest recorded when it was fetched. Nothing touches the user's
//! `helm repo` list.

use crate::helm::Helm;
use crate::repo::{self, FetchError};
use crate::settings::ChartRef;
use crate::tool::{Invocation, Tool};
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long one `helm pull` may take.
const PULL_DEADLINE: Duration = Duration::from_secs(300);

/// eksmon's cache: `$EKSMON_CACHE_DIR`, else the user cache dir (`~/.cache/eksmon`).
pub(crate) fn cache_root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("EKSMON_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let dirs = directories::ProjectDirs::from("", "", "eksmon")
        .context("cannot find a cache directory (is HOME set?); set EKSMON_CACHE_DIR")?;
    Ok(dirs.cache_dir().to_owned())
}

#[derive(Debug, Clone)]
pub(crate) struct ChartCache {
    dir: PathBuf,
}

/// Where a chart came from: fetched now, or found in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fetched {
    Downloaded,
    Cached,
}

impl ChartCache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// `<cache root>/charts` (see [`cache_root`]).
    pub(crate) fn from_env() -> Result<Self> {
        Ok(Self::new(cache_root()?.join("charts")))
    }

    /// `<cache>/<repo as a file name>/<name>-<version>.tgz`.
    pub(crate) fn archive_path(&self, chart: &ChartRef) -> PathBuf {
        let repo: String = chart
            .repo
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir
            .join(repo)
            .join(format!("{}-{}.tgz", chart.name, chart.version))
    }

    /// The local archive for `chart`, fetching it when it is not cached (or no longer matches
    /// its recorded digest); `on_fetch` is called just before a fetch. `helm` is only run when
    /// the direct fetch cannot be used.
    pub(crate) fn ensure(
        &self,
        helm: &Tool,
        chart: &ChartRef,
        on_fetch: impl FnOnce(),
    ) -> Result<(PathBuf, Fetched)> {
        let archive = self.archive_path(chart);
        if verify(&archive)? {
            return Ok((archive, Fetched::Cached));
        }
        on_fetch();
        let parent = archive.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create chart cache `{}`", parent.display()))?;
        // Fetch into a private dir beside the archive, then rename: concurrent runs never see a
        // half-written file.
        let staging = tempfile::Builder::new()
            .prefix(".pull-")
            .tempdir_in(parent)
            .with_context(|| format!("cannot write into `{}`", parent.display()))?;
        let fetched = staging
            .path()
            .join(format!("{}-{}.tgz", chart.name, chart.version));
        let cannot_fetch = || {
            format!(
                "cannot fetch chart {} {} from {}",
                chart.name, chart.version, chart.repo
            )
        };
        match repo::fetch(chart, helm.printer) {
            Ok(bytes) => std::fs::write(&fetched, bytes)?,
            Err(mismatch @ FetchError::DigestMismatch { .. }) => {
                return Err(anyhow::Error::new(mismatch).context(cannot_fetch()));
            }
            Err(FetchError::Unsupported(why)) => {
                helm.printer
                    .verbose_line(|| format!("  ({why}; fetching with helm pull)"));
                let invocation = Invocation::new(Helm::pull_args(
                    chart.repo.as_str(),
                    chart.name.as_str(),
                    chart.version.as_str(),
                    staging.path(),
                ))
                .deadline(PULL_DEADLINE);
                helm.run(&invocation).with_context(cannot_fetch)?;
            }
        }
        anyhow::ensure!(
            fetched.is_file(),
            "helm pull did not produce `{}`",
            fetched.file_name().unwrap_or_default().to_string_lossy()
        );
        let digest = sha256_file(&fetched)?;
        std::fs::write(digest_path(&fetched), format!("{digest}\n"))?;
        std::fs::rename(digest_path(&fetched), digest_path(&archive))?;
        std::fs::rename(&fetched, &archive)
            .with_context(|| format!("cannot store `{}`", archive.display()))?;
        Ok((archive, Fetched::Downloaded))
    }
}

fn digest_path(archive: &Path) -> PathBuf {
    let mut name = archive.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// True when the archive exists and still has the digest recorded when it was fetched.
fn verify(archive: &Path) -> Result<bool> {
    if !archive.is_file() {
        return Ok(false);
    }
    let Ok(recorded) = std::fs::read_to_string(digest_path(archive)) else {
        return Ok(false);
    };
    Ok(recorded.trim() == sha256_file(archive)?)
}

fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok(repo::sha256_hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Charts;

    #[test]
    fn archive_paths_are_per_repo_name_and_version() {
        let cache = ChartCache::new("/c".into());
        let charts = Charts::default();
        assert_eq!(
            cache.archive_path(&charts.prometheus),
            Path::new(
                "/c/https___prometheus-community.github.io_helm-charts/prometheus-29.27.0.tgz"
            )
        );
    }

    #[test]
    fn a_changed_archive_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("a-1.0.0.tgz");
        std::fs::write(&archive, b"chart").unwrap();
        assert!(!verify(&archive).unwrap(), "no digest recorded yet");
        std::fs::write(digest_path(&archive), sha256_file(&archive).unwrap()).unwrap();
        assert!(verify(&archive).unwrap());
        std::fs::write(&archive, b"tampered").unwrap();
        assert!(!verify(&archive).unwrap());
    }
}
