//! `eksmon charts outdated` and `eksmon charts bump`: the pinned charts against their
//! repositories, and moving a pin in the profile file after checking the new chart version
//! against the values eksmon writes.

use crate::chart_versions::{self, ChartContents, Listed};
use crate::cli::{BumpArgs, ChartsCommand, OutdatedArgs, OutputFormat};
use crate::context::Run;
use crate::error::{Origin, ReleaseFailure, ReleaseFailures, UserError};
use crate::field_path::FieldPath;
use crate::helm::Helm;
use crate::repo::{self, FetchError};
use crate::scratch::ScratchFile;
use crate::settings::{Chart, ChartRef, ChartVersion, Settings};
use crate::tool::{Invocation, Tool};
use anyhow::{Context as _, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How long asking a repository (through helm) may take.
const REPO_DEADLINE: Duration = Duration::from_secs(120);

pub(super) fn run(run: &Run, command: &ChartsCommand) -> Result<()> {
    match command {
        ChartsCommand::Outdated(args) => outdated(run, args),
        ChartsCommand::Bump(args) => bump(run, args),
    }
}

/// What a repository offers for one pinned chart.
#[derive(Debug, Clone)]
struct Available {
    newest: String,
    newest_deprecated: bool,
    /// `None` when the repository could not say (OCI: only the newest is asked for).
    pin_deprecated: Option<bool>,
}

/// The newest version of `chart` in its repository: from the index of an HTTP repository, else
/// (OCI, or an index eksmon cannot read) from helm.
fn available(helm: &Tool, chart: &ChartRef) -> Result<Available> {
    let repo_url = chart.repo.as_str();
    let cannot = || format!("cannot read the versions of {} in {repo_url}", chart.name);
    match repo::list_versions(repo_url, chart.name.as_str(), helm.printer) {
        Ok(versions) => {
            let newest = chart_versions::newest(&versions)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("the repository lists no release of {}", chart.name))
                .with_context(cannot)?;
            let pin = versions
                .iter()
                .find(|v| v.version == chart.version.as_str());
            Ok(Available {
                newest: newest.version,
                newest_deprecated: newest.deprecated,
                pin_deprecated: Some(pin.is_some_and(|v| v.deprecated)),
            })
        }
        Err(err @ FetchError::DigestMismatch { .. }) => {
            Err(anyhow::Error::new(err).context(cannot()))
        }
        Err(FetchError::Unsupported(_)) => {
            let show = |version: Option<&str>| -> Result<Listed> {
                let mut args = Helm::show_chart_args(repo_url, chart.name.as_str());
                if let Some(version) = version {
                    args.extend(["--version".into(), version.into()]);
                }
                let invocation = Invocation::new(args).deadline(REPO_DEADLINE);
                let out = helm.run(&invocation).with_context(cannot)?;
                #[derive(serde::Deserialize)]
                struct Metadata {
                    version: String,
                    #[serde(default)]
                    deprecated: bool,
                }
                let metadata: Metadata = crate::yaml::from_str(&out.stdout).map_err(|e| {
                    anyhow::anyhow!("helm show chart printed no chart metadata: {}", e.message)
                })?;
                Ok(Listed {
                    version: metadata.version,
                    deprecated: metadata.deprecated,
                })
            };
            let newest = show(None)?;
            let pin_deprecated = show(Some(chart.version.as_str()))
                .ok()
                .map(|pin| pin.deprecated);
            Ok(Available {
                newest: newest.version,
                newest_deprecated: newest.deprecated,
                pin_deprecated,
            })
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OutdatedRow {
    chart: String,
    release: String,
    repo: String,
    pinned: String,
    /// From the cluster; `None` when not installed or the cluster could not be asked.
    installed: Option<String>,
    newest: Option<String>,
    new_major: bool,
    pin_deprecated: bool,
    newest_deprecated: bool,
    up_to_date: bool,
    /// Why a newest version is unknown; null when nothing went wrong.
    error: Option<String>,
}

fn outdated(run: &Run, args: &OutdatedArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let settings = &loaded.settings;
    let charts = super::installed(&loaded, None)?;
    let helm_tool = run.helm_tool()?;
    let (found, installed) = std::thread::scope(|scope| {
        let asking: Vec<_> = charts
            .iter()
            .map(|&chart| {
                let helm_tool = &helm_tool;
                scope.spawn(move || available(helm_tool, settings.chart_ref(chart)))
            })
            .collect();
        // Installed versions are a bonus: an unreachable cluster only leaves them blank.
        let installed = Helm::detect(helm_tool.clone(), run.helm_versions_cache().as_deref())
            .and_then(|helm| helm.list(Some(settings.namespace.as_str()), &run.target));
        let found: Vec<Result<Available>> = asking
            .into_iter()
            .map(|job| super::joined(job.join()))
            .collect();
        (found, installed)
    });
    let installed = installed.unwrap_or_else(|err| {
        run.ui.warn(&format!(
            "cannot list the installed releases ({}); INSTALLED is left blank",
            first_line(&err)
        ));
        Vec::new()
    });
    let rows: Vec<OutdatedRow> = charts
        .iter()
        .zip(found)
        .map(|(&chart, available)| {
            let chart_ref = settings.chart_ref(chart);
            let release = settings.release(chart).as_str();
            let pinned = chart_ref.version.to_string();
            let installed = installed.iter().find(|r| r.name == release).map(|r| {
                r.chart
                    .strip_prefix(&format!("{}-", chart_ref.name))
                    .unwrap_or(&r.chart)
                    .to_owned()
            });
            let mut row = OutdatedRow {
                chart: chart_ref.name.to_string(),
                release: release.to_owned(),
                repo: chart_ref.repo.to_string(),
                up_to_date: false,
                new_major: false,
                pin_deprecated: false,
                newest_deprecated: false,
                newest: None,
                error: None,
                installed,
                pinned,
            };
            match available {
                Ok(found) => {
                    row.new_major = chart_versions::is_new_major(&row.pinned, &found.newest);
                    row.up_to_date = !chart_versions::is_newer(&found.newest, &row.pinned);
                    row.pin_deprecated = found.pin_deprecated.unwrap_or(false);
                    row.newest_deprecated = found.newest_deprecated;
                    row.newest = Some(found.newest);
                }
                Err(err) => row.error = Some(first_line(&err)),
            }
            row
        })
        .collect();
    let text = match args.output {
        OutputFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        OutputFormat::Text => outdated_table(&rows),
    };
    super::write_stdout(text.as_bytes())?;
    let failed: Vec<ReleaseFailure> = rows
        .iter()
        .filter_map(|row| {
            let error = row.error.as_ref()?;
            Some(ReleaseFailure::new(&row.chart, anyhow::anyhow!("{error}")))
        })
        .collect();
    ReleaseFailures::check(failed)
}

fn outdated_table(rows: &[OutdatedRow]) -> String {
    let mut table = vec![
        ["CHART", "PINNED", "INSTALLED", "NEWEST", "NOTES"]
            .map(String::from)
            .to_vec(),
    ];
    for row in rows {
        let mut notes = Vec::new();
        if row.pin_deprecated {
            notes.push("pin deprecated".to_owned());
        }
        if let Some(newest) = &row.newest {
            if row.up_to_date {
                notes.push("up to date".into());
            } else if row.new_major {
                notes.push(format!(
                    "new major: read the chart's upgrade notes (eksmon charts bump {} --dry-run)",
                    row.chart
                ));
            } else {
                notes.push(format!(
                    "eksmon charts bump {} moves the pin to {newest}",
                    row.chart
                ));
            }
        }
        if row.newest_deprecated {
            notes.push("the newest is deprecated: the chart may have moved".into());
        }
        if let Some(installed) = &row.installed
            && *installed != row.pinned
        {
            notes.push("installed differs from the pin: eksmon install".into());
        }
        if let Some(error) = &row.error {
            notes.push(error.clone());
        }
        table.push(vec![
            row.chart.clone(),
            row.pinned.clone(),
            row.installed.clone().unwrap_or_else(|| "-".into()),
            row.newest.clone().unwrap_or_else(|| "?".into()),
            notes.join("; "),
        ]);
    }
    crate::ui::table(&table)
}

/// What checking one chart's new version found.
struct Checked {
    chart: Chart,
    from: String,
    to: String,
    /// helm template's error when the new chart rejects the values (its schema, say).
    rejected: Option<anyhow::Error>,
    /// Values eksmon writes that the new chart no longer has: (dotted path, value).
    dropped: Vec<(String, crate::yaml::Value)>,
    notes: Vec<chart_versions::UpgradeNote>,
}

fn bump(run: &Run, args: &BumpArgs) -> Result<()> {
    let to = args
        .to
        .as_deref()
        .map(|v| {
            ChartVersion::try_from(v)
                .map_err(|why| UserError::input(why).at(Origin::Flag("--to".into())))
        })
        .transpose()?;
    let loaded = run.load(&args.profile, &super::selected(args.chart.map(Chart::from)))?;
    let settings = &loaded.settings;
    let charts = super::installed(&loaded, args.chart.map(Chart::from))?;
    // Where each pin is written, before anything is fetched: bad input stops the run here.
    let files = charts
        .iter()
        .map(|&chart| {
            let field = FieldPath::keys(&format!("charts.{}.version", chart.name()));
            loaded.provenance.writable_file_for(&field)
        })
        .collect::<std::result::Result<Vec<_>, UserError>>()?;
    let helm_tool = run.helm_tool()?;
    let checked = check_all(run, settings, &charts, to.as_ref(), &helm_tool)?;
    let mut out = String::new();
    let mut texts: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut written = Vec::new();
    for found in &checked {
        let name = settings.chart_ref(found.chart).name.to_string();
        out += &bump_report(&name, found);
        let file = &files[charts.iter().position(|c| *c == found.chart).unwrap_or(0)];
        if found.rejected.is_some() {
            failures.push(ReleaseFailure::new(
                &name,
                anyhow::anyhow!(
                    "not bumped: {name} {} rejects eksmon's values (see above)",
                    found.to
                ),
            ));
            continue;
        }
        let text = texts
            .entry(file.path.clone())
            .or_insert_with(|| file.text.clone());
        match crate::profile::pin::set_chart_version(text, found.chart.name(), &found.to) {
            Ok(edited) => {
                *text = edited;
                written.push(format!(
                    "{} (charts.{}.version: {})",
                    file.display,
                    found.chart.name(),
                    found.to
                ));
            }
            Err(why) => failures.push(ReleaseFailure::new(
                &name,
                UserError::input(format!("cannot move the pin in place: {why}")).at(Origin::File {
                    name: file.display.clone(),
                    line: None,
                }),
            )),
        }
    }
    if !checked.is_empty() {
        super::write_stdout(out.as_bytes())?;
    }
    if args.dry_run {
        for line in &written {
            run.ui
                .note(&format!("would write {line} (dry run: nothing written)"));
        }
    } else {
        for (path, text) in &texts {
            let read = files
                .iter()
                .find(|f| f.path == *path)
                .map(|f| f.text.as_str());
            write_in_place(path, read.unwrap_or_default(), text)?;
        }
        for line in &written {
            run.ui.note(&format!("wrote {line}"));
        }
        if !written.is_empty() {
            run.ui.hint("`eksmon diff` shows what the upgrade changes in the cluster; `eksmon install --diff` applies it");
        }
    }
    ReleaseFailures::check(failures)
}

/// Each chart whose pin moves (to `to`, else to the repository's newest), checked against
/// eksmon's values; a chart already there is only noted.
fn check_all(
    run: &Run,
    settings: &Settings,
    charts: &[Chart],
    to: Option<&ChartVersion>,
    helm_tool: &Tool,
) -> Result<Vec<Checked>> {
    let cache = run.chart_cache()?;
    let mut checked = Vec::new();
    for &chart in charts {
        let pinned = settings.chart_ref(chart);
        let target = if let Some(version) = to {
            version.clone()
        } else {
            let found = available(helm_tool, pinned)?;
            ChartVersion::try_from(found.newest.as_str()).map_err(|why| {
                anyhow::anyhow!(
                    "the repository's newest {} is not a version eksmon pins: {why}",
                    pinned.name
                )
            })?
        };
        if target == pinned.version {
            run.ui.note(&format!(
                "{}: already at {}; nothing to bump",
                pinned.name, target
            ));
            continue;
        }
        let mut moved = pinned.clone();
        moved.version = target;
        run.ui.note(&format!(
            "{}: checking {} against eksmon's values",
            pinned.name, moved.version
        ));
        checked.push(check(settings, chart, helm_tool, &cache, pinned, &moved)?);
    }
    Ok(checked)
}

/// What `charts bump` says of one chart: the move, whether the new chart takes eksmon's values,
/// the values it no longer has, and its README's upgrade notes.
fn bump_report(name: &str, found: &Checked) -> String {
    let mut out = String::new();
    let major = if chart_versions::is_new_major(&found.from, &found.to) {
        " (new major)"
    } else if chart_versions::is_newer(&found.from, &found.to) {
        " (older than the pin: a downgrade)"
    } else {
        ""
    };
    out += &format!("{name}: {} → {}{major}\n", found.from, found.to);
    match &found.rejected {
        Some(err) => {
            out += &format!(
                "  {name} {} rejects the values eksmon writes: {}\n",
                found.to,
                first_line(err)
            );
            let tail = err
                .chain()
                .find_map(|c| c.downcast_ref::<crate::tool::ToolError>())
                .map(crate::tool::ToolError::stderr_tail)
                .unwrap_or_default();
            for line in tail {
                out += &format!("  {line}\n");
            }
        }
        None => out += &format!("  {name} {} renders the values eksmon writes\n", found.to),
    }
    if !found.dropped.is_empty() {
        out += &format!(
            "  values eksmon writes that {name} {} no longer has (they would be ignored):\n",
            found.to
        );
        for (path, value) in &found.dropped {
            out += &format!("  - {path}: {}\n", one_line_value(value));
        }
    }
    for note in &found.notes {
        out += &format!("\n  {name} README, {}:\n", note.heading);
        for line in note.body.lines() {
            out += &format!("  | {line}\n");
        }
    }
    out
}

/// Fetches both chart versions, renders eksmon's values against the new one (`helm template`,
/// which also applies its values schema), and reads what changed between them.
fn check(
    settings: &Settings,
    chart: Chart,
    helm: &Tool,
    cache: &crate::charts::ChartCache,
    pinned: &ChartRef,
    moved: &ChartRef,
) -> Result<Checked> {
    let (old_archive, _) = cache.ensure(helm, pinned, || {})?;
    let (new_archive, _) = cache.ensure(helm, moved, || {})?;
    let old = chart_versions::read_archive(&old_archive)?;
    let new: ChartContents = chart_versions::read_archive(&new_archive)?;
    // The values as `install` would render them once the pin has moved.
    let mut moved_settings = settings.clone();
    match chart {
        Chart::Prometheus => moved_settings.charts.prometheus = moved.clone(),
        Chart::Grafana => moved_settings.charts.grafana = moved.clone(),
    }
    let values = crate::render::values_document(&moved_settings, chart)?;
    let ours = crate::yaml::parse_trusted(&values, "the rendered values")?;
    let file = ScratchFile::with_contents(&format!("eksmon-{}-", chart.name()), values.as_bytes())
        .context("cannot write a temporary values file")?;
    let template = Invocation::new([
        "template".into(),
        settings.release(chart).as_str().into(),
        new_archive.clone().into_os_string(),
        "--namespace".into(),
        settings.namespace.as_str().into(),
        "--values".into(),
        file.path().as_os_str().to_owned(),
    ])
    .deadline(REPO_DEADLINE);
    let rejected = helm.run(&template).err().map(anyhow::Error::from);
    let notes = new
        .readme
        .as_deref()
        .map(|readme| {
            chart_versions::upgrade_notes(readme, pinned.version.as_str(), moved.version.as_str())
        })
        .unwrap_or_default();
    Ok(Checked {
        chart,
        from: pinned.version.to_string(),
        to: moved.version.to_string(),
        rejected,
        dropped: chart_versions::dropped_paths(&ours, &old.defaults, &new.defaults),
        notes,
    })
}

/// Replaces a profile file's text, keeping its permissions and any symlink to it; refused when
/// the file no longer holds `read` (someone edited it meanwhile: their edit is not overwritten).
fn write_in_place(path: &std::path::Path, read: &str, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let target =
        std::fs::canonicalize(path).with_context(|| format!("cannot find `{}`", path.display()))?;
    let now = std::fs::read_to_string(&target)
        .with_context(|| format!("cannot read `{}`", target.display()))?;
    anyhow::ensure!(
        now == read,
        "`{}` changed while eksmon was checking the charts; nothing was written, run it again",
        path.display()
    );
    let mode = std::fs::metadata(&target)
        .with_context(|| format!("cannot read `{}`", target.display()))?
        .permissions()
        .mode()
        & 0o7777;
    crate::files::stage_with_mode(&target, text.as_bytes(), mode)?.commit()?;
    Ok(())
}

/// An error on one line, its causes included.
fn first_line(err: &anyhow::Error) -> String {
    crate::error::one_line(&format!("{err:#}"))
}

/// A value on one line (JSON), cut short when long.
fn one_line_value(value: &crate::yaml::Value) -> String {
    const MAX: usize = 100;
    let text = serde_json::to_string(value).unwrap_or_default();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(from: &str, to: &str) -> Checked {
        Checked {
            chart: Chart::Grafana,
            from: from.into(),
            to: to.into(),
            rejected: None,
            dropped: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_clean_minor_move_is_one_line_and_a_verdict() {
        assert_eq!(
            bump_report("grafana", &checked("12.1.0", "12.2.0")),
            "grafana: 12.1.0 → 12.2.0\n  grafana 12.2.0 renders the values eksmon writes\n"
        );
    }

    #[test]
    fn majors_downgrades_dropped_values_and_notes_are_said() {
        let mut found = checked("12.1.0", "13.0.0");
        found.rejected = Some(anyhow::anyhow!("values do not meet the schema"));
        found.dropped = vec![("sidecar.enabled".into(), crate::yaml::Value::Bool(true))];
        found.notes = vec![chart_versions::UpgradeNote {
            heading: "To 13.0.0".into(),
            body: "Rename x.\nThen y.".into(),
        }];
        let report = bump_report("grafana", &found);
        assert!(
            report.starts_with("grafana: 12.1.0 → 13.0.0 (new major)\n"),
            "{report}"
        );
        assert!(
            report.contains(
                "  grafana 13.0.0 rejects the values eksmon writes: values do not meet the schema\n"
            ),
            "{report}"
        );
        assert!(report.contains("  - sidecar.enabled: true\n"), "{report}");
        assert!(
            report.ends_with("\n  grafana README, To 13.0.0:\n  | Rename x.\n  | Then y.\n"),
            "{report}"
        );
        let down = bump_report("grafana", &checked("12.2.0", "12.1.0"));
        assert!(
            down.starts_with("grafana: 12.2.0 → 12.1.0 (older than the pin: a downgrade)\n"),
            "{down}"
        );
    }
}
