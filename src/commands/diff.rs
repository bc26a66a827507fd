//! `eksmon diff`: what `install` would change in the live releases, object by object, without
//! helm plugins. The live side is `helm get manifest`; the other side is a server-side dry run
//! of the very upgrade `install` runs, so templates that `lookup` live objects (Grafana's admin
//! password) render as they would for real instead of showing as changes.

use super::joined;
use crate::cli::{DiffArgs, OutputFormat};
use crate::context::Run;
use crate::error::{ReleaseFailure, ReleaseFailures};
use crate::exit::ExitStatus;
use crate::helm::{DryRun, Helm, ListedRelease, ReleaseOutcome, Upgrade};
use crate::manifest_diff::{self, Change, ManifestDiff, ObjectChange, Refusal};
use crate::render::values_document;
use crate::scratch::ScratchFile;
use crate::settings::{Chart, Settings};
use crate::tool::Invocation;
use crate::ui::Task;
use anyhow::{Context as _, Result};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// A server-side dry run reads from the cluster and applies nothing: it should be quick.
const DRY_RUN_DEADLINE: Duration = Duration::from_secs(300);

/// What installing one release would do.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReleaseReport {
    pub release: String,
    pub namespace: String,
    /// The chart install would use, `name-version`.
    pub chart: String,
    /// The release as it is now; `None` when it is not installed.
    pub installed: Option<Installed>,
    pub summary: Summary,
    pub changes: Vec<ObjectChange>,
    pub refusals: Vec<Refusal>,
    /// Which of the profile's charts this release is.
    #[serde(skip)]
    pub of: Chart,
}

#[derive(Debug, Serialize)]
pub(super) struct Installed {
    #[serde(serialize_with = "as_number")]
    pub revision: String,
    pub status: String,
    pub chart: String,
}

/// helm lists revisions as text; JSON readers get a number.
fn as_number<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    match text.parse::<u64>() {
        Ok(number) => serializer.serialize_u64(number),
        Err(_) => serializer.serialize_none(),
    }
}

#[derive(Debug, Serialize)]
pub(super) struct Summary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl ReleaseReport {
    fn new(
        chart: Chart,
        settings: &Settings,
        listed: Option<&ListedRelease>,
        diff: ManifestDiff,
    ) -> Self {
        let chart_ref = settings.chart_ref(chart);
        Self {
            release: settings.release(chart).to_string(),
            namespace: settings.namespace.to_string(),
            chart: format!("{}-{}", chart_ref.name, chart_ref.version),
            installed: listed.map(|r| Installed {
                revision: r.revision.clone(),
                status: r.status.clone(),
                chart: r.chart.clone(),
            }),
            summary: Summary {
                added: diff.count(Change::Added),
                changed: diff.count(Change::Changed),
                removed: diff.count(Change::Removed),
                unchanged: diff.unchanged,
            },
            changes: diff.changes,
            refusals: diff.refusals,
            of: chart,
        }
    }

    /// True when install would do something: change an object, or bring a release that is not
    /// deployed (failed, or never installed) to a deployed revision.
    pub(super) fn has_changes(&self) -> bool {
        !self.changes.is_empty()
            || self
                .installed
                .as_ref()
                .is_none_or(|i| i.status != "deployed")
    }

    /// The one-line summary: `grafana (mon, revision 3 deployed, grafana-12.11.1): 1 changed, 9
    /// unchanged`.
    fn headline(&self) -> String {
        let now = match &self.installed {
            None => format!("not installed → {}", self.chart),
            Some(i) if i.chart == self.chart => {
                format!("revision {} {}, {}", i.revision, i.status, i.chart)
            }
            Some(i) => format!(
                "revision {} {}, {} → {}",
                i.revision, i.status, i.chart, self.chart
            ),
        };
        let s = &self.summary;
        let counts: Vec<String> = [
            (s.added, "added"),
            (s.changed, "changed"),
            (s.removed, "removed"),
            (s.unchanged, "unchanged"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let counts = if self.changes.is_empty() {
            format!("no changes ({})", counts.join(", "))
        } else {
            counts.join(", ")
        };
        format!("{} ({}, {now}): {counts}", self.release, self.namespace)
    }
}

/// `ChangesFound` (exit 4) with `--exit-code` when install would change something.
pub(super) fn run(run: &Run, args: &DiffArgs) -> Result<ExitStatus> {
    let loaded = run.load(&args.profile, &super::selected(args.chart.map(Chart::from)))?;
    let charts = super::installed(&loaded, args.chart.map(Chart::from))?;
    let Compared { reports, failures } = compare(run, &loaded.settings, &charts)?;
    let text = match args.output {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Report<'a> {
                changed: bool,
                releases: &'a [ReleaseReport],
            }
            let report = Report {
                changed: reports.iter().any(ReleaseReport::has_changes),
                releases: &reports,
            };
            serde_json::to_string_pretty(&report)? + "\n"
        }
        OutputFormat::Text => text(
            &reports,
            crate::printer::colour(crate::printer::Stream::Stdout),
        ),
    };
    super::write_stdout(text.as_bytes())?;
    // A release that could not be compared is an error, also with --exit-code.
    ReleaseFailures::check(failures)?;
    if args.exit_code && reports.iter().any(ReleaseReport::has_changes) {
        return Ok(ExitStatus::ChangesFound);
    }
    Ok(ExitStatus::Success)
}

/// The report as text: each release's headline and object list, what Kubernetes will refuse,
/// then a unified diff per object.
pub(super) fn text(reports: &[ReleaseReport], colour: bool) -> String {
    let mut out = String::new();
    for report in reports {
        out += &report.headline();
        out.push('\n');
        if let Some(installed) = &report.installed
            && installed.status != "deployed"
        {
            out += &format!(
                "  the release is {}: install upgrades it even where nothing changed\n",
                installed.status
            );
        }
        for change in &report.changes {
            out += &format!("  {} {}", change.change.sign(), change.key);
            if let Some(keys) = &change.secret_keys {
                let mut parts = Vec::new();
                for (what, names) in [
                    ("added", &keys.added),
                    ("changed", &keys.changed),
                    ("removed", &keys.removed),
                ] {
                    if !names.is_empty() {
                        parts.push(format!("{what} {}", names.join(", ")));
                    }
                }
                let parts = if parts.is_empty() {
                    "no value changed".to_owned()
                } else {
                    parts.join("; ")
                };
                out += &format!(" (secret keys: {parts}; values hidden)");
            }
            out.push('\n');
        }
        for refusal in &report.refusals {
            out += &format!(
                "  ! {} {}: {}\n    instead: {}\n",
                refusal.key, refusal.field, refusal.why, refusal.instead
            );
        }
    }
    for report in reports {
        for change in &report.changes {
            out.push('\n');
            out += &if colour {
                manifest_diff::colourize(&change.diff)
            } else {
                change.diff.clone()
            };
        }
    }
    out
}

/// What installing `charts` would change: for each release, its live manifest against a
/// server-side dry run of the same upgrade `install` runs.
/// What [`compare`] found: a report per release it could compare, and the releases it could not.
pub(super) struct Compared {
    pub reports: Vec<ReleaseReport>,
    pub failures: Vec<ReleaseFailure>,
}

/// A release ready to compare: its values file, its progress line and its chart archive.
type Ready<'a> = (Chart, &'a ScratchFile, Task, PathBuf);

/// A release whose chart is being fetched: what [`Ready`] holds, or why the archive is missing.
type Fetching<'a> = (Chart, &'a ScratchFile, Task, Result<PathBuf>);

/// Each release's live manifest (none when not installed) and the dry run's.
type Rendered = Result<(Option<String>, String)>;

pub(super) fn compare(run: &Run, settings: &Settings, charts: &[Chart]) -> Result<Compared> {
    // Rendered before any process starts: bad input stops the run here.
    let values = charts
        .iter()
        .map(|&chart| {
            let text = values_document(settings, chart)?;
            let file =
                ScratchFile::with_contents(&format!("eksmon-{}-", chart.name()), text.as_bytes())
                    .context("cannot write a temporary values file")?;
            Ok((chart, file))
        })
        .collect::<Result<Vec<_>>>()?;
    let progress = run.ui.progress();
    let (helm, fetched) = fetch_all(run, settings, &values, &progress)?;
    // A chart that could not be fetched fails its release alone.
    let mut failures = Vec::new();
    let fetched: Vec<Ready<'_>> = fetched
        .into_iter()
        .filter_map(|(chart, file, task, archive)| match archive {
            Ok(archive) => Some((chart, file, task, archive)),
            Err(err) => {
                failures.push(ReleaseFailure::new(settings.release(chart).as_str(), err));
                None
            }
        })
        .collect();
    if !helm.has_server_dry_run() {
        anyhow::bail!(
            "eksmon diff needs helm 3.13 or newer (for --dry-run=server); `{}` is helm {}",
            helm.tool.path.display(),
            helm.version
        );
    }
    let (listed, rendered) = render_all(run, &helm, settings, &fetched);
    // Judged by the manifests first; by the running objects only where that can differ.
    let mut diffs: Vec<Result<ManifestDiff>> = rendered
        .iter()
        .map(|rendered| match rendered {
            Ok((live, desired)) => manifest_diff::compare(live.as_deref(), desired, &[]),
            // Never shown: the render's own error is reported for this release.
            Err(_) => Err(anyhow::anyhow!("nothing to compare")),
        })
        .collect();
    let listed = match listed.and_then(|listed| {
        let running = running_if_needed(run, settings, &listed, &fetched, &diffs)?;
        Ok((listed, running))
    }) {
        Ok(listed) => listed,
        Err(err) => {
            for (_, _, task, _) in &fetched {
                task.finish("failed");
            }
            return Err(err);
        }
    };
    let (listed, running) = listed;
    if !running.is_empty() {
        for (diff, rendered) in diffs.iter_mut().zip(&rendered) {
            if let Ok((live, desired)) = rendered {
                *diff = manifest_diff::compare(live.as_deref(), desired, &running);
            }
        }
    }
    let mut reports = Vec::new();
    for ((chart, _, task, _), (rendered, diff)) in
        fetched.iter().zip(rendered.into_iter().zip(diffs))
    {
        let release = settings.release(*chart).as_str();
        let current = listed.iter().find(|r| r.name == release);
        let result = match current.filter(|r| r.is_pending()) {
            // helm refused the dry run ("another operation is in progress"): say why and how to
            // free the release instead.
            Some(pending) => Err(pending_error(&helm, run, pending)),
            None => rendered
                .and(diff)
                .map(|diff| ReleaseReport::new(*chart, settings, current, diff)),
        };
        match result {
            Ok(report) => {
                task.finish(&finished(&report));
                reports.push(report);
            }
            Err(err) => {
                task.finish("failed");
                failures.push(ReleaseFailure::new(release, err));
            }
        }
    }
    Ok(Compared { reports, failures })
}

/// A compared release's progress line.
fn finished(report: &ReleaseReport) -> String {
    match report.changes.len() {
        _ if !report.has_changes() => "no changes".to_owned(),
        0 => "no object changes".to_owned(),
        1 => "1 object differs".to_owned(),
        n => format!("{n} objects differ"),
    }
}

/// helm with its version, and each chart's archive (or why it could not be had), fetched side by
/// side.
fn fetch_all<'a>(
    run: &Run,
    settings: &Settings,
    values: &'a [(Chart, ScratchFile)],
    progress: &crate::ui::Progress,
) -> Result<(Helm, Vec<Fetching<'a>>)> {
    let helm_tool = run.helm_tool()?;
    let cache = run.chart_cache()?;
    let (helm, fetched) = std::thread::scope(|scope| {
        let version =
            scope.spawn(|| Helm::detect(helm_tool.clone(), run.helm_versions_cache().as_deref()));
        let fetching: Vec<_> = values
            .iter()
            .map(|(chart, file)| {
                let task = progress.task(settings.release(*chart).as_str());
                let chart_ref = settings.chart_ref(*chart);
                let (cache, helm_tool) = (&cache, &helm_tool);
                let fetch = scope.spawn(move || {
                    let archive = super::fetch_chart(cache, helm_tool, chart_ref, &task)
                        .map(|(archive, _)| archive);
                    (archive, task)
                });
                (*chart, file, fetch)
            })
            .collect();
        let fetched: Vec<_> = fetching
            .into_iter()
            .map(|(chart, file, fetch)| {
                let (archive, task) = fetch.join().unwrap_or_else(|_| {
                    (
                        Err(anyhow::anyhow!("internal error: a fetch thread panicked")),
                        progress.task(settings.release(chart).as_str()),
                    )
                });
                (chart, file, task, archive)
            })
            .collect();
        (joined(version.join()), fetched)
    });
    Ok((helm?, fetched))
}

/// `helm list` of the namespace, and each release's live manifest and dry run, all at once.
fn render_all(
    run: &Run,
    helm: &Helm,
    settings: &Settings,
    fetched: &[Ready<'_>],
) -> (Result<Vec<ListedRelease>>, Vec<Rendered>) {
    let namespace = settings.namespace.as_str();
    // Each release's live manifest and dry run start at once, beside `helm list` (its status
    // is only needed afterwards): one helm round trip less.
    std::thread::scope(|scope| {
        let listing = scope.spawn(|| helm.list(Some(namespace), &run.target));
        let jobs: Vec<_> = fetched
            .iter()
            .map(|(chart, file, task, archive)| {
                let helm = &helm;
                let release = settings.release(*chart).as_str();
                scope.spawn(move || -> Result<(Option<String>, String)> {
                    task.step("comparing with a server-side dry run");
                    let upgrade = Upgrade {
                        release,
                        chart: archive.as_path(),
                        namespace,
                        values: file.path(),
                        target: &run.target,
                        timeout: None,
                        wait: false,
                        force: false,
                        dry_run: DryRun::Server,
                    };
                    let invocation = Invocation::new(helm.upgrade_install_args(&upgrade))
                        .deadline(DRY_RUN_DEADLINE);
                    let (live, desired) = std::thread::scope(|inner| {
                        let live =
                            inner.spawn(|| helm.get_manifest(release, namespace, &run.target));
                        let desired = helm
                            .tool
                            .run(&invocation)
                            .map_err(anyhow::Error::from)
                            .and_then(|out| ReleaseOutcome::parse(&out.stdout));
                        (joined(live.join()), desired)
                    });
                    Ok((live?, desired?.manifest.unwrap_or_default()))
                })
            })
            .collect();
        let listed = joined(listing.join());
        let rendered: Vec<_> = jobs.into_iter().map(|job| joined(job.join())).collect();
        (listed, rendered)
    })
}

/// The claims and StatefulSets as they run, when what Kubernetes refuses depends on them: a claim
/// or StatefulSet changes, or a release is not deployed (its manifest may never have taken
/// effect). Otherwise none, and no kubectl runs.
fn running_if_needed(
    run: &Run,
    settings: &Settings,
    listed: &[ListedRelease],
    fetched: &[(Chart, &ScratchFile, crate::ui::Task, std::path::PathBuf)],
    diffs: &[Result<ManifestDiff>],
) -> Result<Vec<(manifest_diff::ObjectKey, crate::yaml::Value)>> {
    let needed = fetched.iter().zip(diffs).any(|((chart, ..), diff)| {
        let name = settings.release(*chart).as_str();
        let release = listed.iter().find(|r| r.name == name);
        let not_deployed = release.is_some_and(|r| r.status != "deployed");
        let volumes_change = diff.as_ref().is_ok_and(|diff| {
            diff.changes.iter().any(|c| {
                c.change == Change::Changed
                    && matches!(c.key.kind.as_str(), "PersistentVolumeClaim" | "StatefulSet")
            })
        });
        not_deployed || volumes_change
    });
    if !needed {
        return Ok(Vec::new());
    }
    running_volumes(&run.kubectl()?, settings.namespace.as_str(), run)
}

/// The namespace's claims and StatefulSets as the cluster has them.
fn running_volumes(
    kubectl: &crate::tool::Tool,
    namespace: &str,
    run: &Run,
) -> Result<Vec<(manifest_diff::ObjectKey, crate::yaml::Value)>> {
    let invocation = Invocation::new(crate::kube::volumes_args(namespace, &run.target))
        .deadline(DRY_RUN_DEADLINE);
    let listed = kubectl.run(&invocation)?;
    manifest_diff::listed_objects(&listed.stdout)
}

/// A release left `pending-*`, with the command that frees it.
fn pending_error(helm: &Helm, run: &Run, pending: &ListedRelease) -> anyhow::Error {
    let hints: Vec<String> = helm
        .recovery(pending, &run.target)
        .map(|command| format!("when no other helm works on it, free it with `{command}`"))
        .into_iter()
        .collect();
    crate::error::UserError::runtime(format!(
        "{} is {} (revision {}): an operation on it has not finished",
        pending.name, pending.status, pending.revision
    ))
    .hints(hints)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(live: Option<&str>, desired: &str, status: Option<&str>) -> ReleaseReport {
        let settings = Settings::default();
        let listed = status.map(|status| ListedRelease {
            name: "grafana".into(),
            namespace: "monitoring".into(),
            revision: "3".into(),
            updated: String::new(),
            status: status.into(),
            chart: "grafana-12.0.0".into(),
            app_version: String::new(),
        });
        let diff = manifest_diff::compare(live, desired, &[]).unwrap();
        ReleaseReport::new(Chart::Grafana, &settings, listed.as_ref(), diff)
    }

    const SECRET: &str = "kind: Secret\nmetadata: {name: grafana, namespace: monitoring}\ndata: {admin-password: YQ==}\n";

    #[test]
    fn the_text_report_names_releases_objects_and_secret_keys() {
        let changed = SECRET.replace("YQ==", "Yg==");
        let text = text(&[report(Some(SECRET), &changed, Some("deployed"))], false);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "grafana (prometheus, revision 3 deployed, grafana-12.0.0 → grafana-12.11.1): 1 changed"
            )
        );
        assert_eq!(
            lines.next(),
            Some(
                "  ~ Secret monitoring/grafana (secret keys: changed admin-password; values hidden)"
            )
        );
        assert!(!text.contains("YQ==") && !text.contains("Yg=="), "{text}");
    }

    #[test]
    fn a_release_that_is_not_deployed_is_a_change() {
        let same = report(Some(SECRET), SECRET, Some("deployed"));
        assert!(!same.has_changes());
        let failed = report(Some(SECRET), SECRET, Some("failed"));
        assert!(failed.has_changes());
        assert!(
            text(&[failed], false)
                .contains("the release is failed: install upgrades it even where nothing changed")
        );
        let fresh = report(None, SECRET, None);
        assert!(fresh.has_changes());
        assert!(
            text(&[fresh], false)
                .starts_with("grafana (prometheus, not installed → grafana-12.11.1): 1 added\n")
        );
    }
}
