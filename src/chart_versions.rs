//! Chart versions: which is newest in a repository, what a chart archive holds (its default
//! values, subcharts' included, and its README), which of the values eksmon writes a new chart
//! version no longer has, and the README's upgrade notes between two versions.

use crate::yaml::{self, Value};
use anyhow::{Context as _, Result};
use semver::Version;
use std::io::Read as _;
use std::path::Path;

/// One version of a chart in a repository index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub version: String,
    pub deprecated: bool,
}

/// The newest release (not a pre-release) among `versions`.
pub(crate) fn newest(versions: &[Listed]) -> Option<&Listed> {
    versions
        .iter()
        .filter_map(|listed| Some((Version::parse(&listed.version).ok()?, listed)))
        .filter(|(version, _)| version.pre.is_empty())
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, listed)| listed)
}

/// True when `to` has a higher major version than `from`.
pub(crate) fn is_new_major(from: &str, to: &str) -> bool {
    match (Version::parse(from), Version::parse(to)) {
        (Ok(from), Ok(to)) => to.major > from.major,
        _ => false,
    }
}

/// True when `candidate` is a higher SemVer version than `than` (unparsable: when they differ).
pub(crate) fn is_newer(candidate: &str, than: &str) -> bool {
    match (Version::parse(candidate), Version::parse(than)) {
        (Ok(candidate), Ok(than)) => candidate > than,
        _ => candidate != than,
    }
}

/// What eksmon reads from a chart archive.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChartContents {
    /// The chart's default values, each subchart's under its name (as the chart sees them).
    pub defaults: Value,
    pub readme: Option<String>,
}

/// Reads a chart archive (`.tgz`): `values.yaml`, `charts/*/values.yaml` and `README.md`.
pub(crate) fn read_archive(archive: &Path) -> Result<ChartContents> {
    let file = std::fs::File::open(archive)
        .with_context(|| format!("cannot read chart archive `{}`", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut values: Option<Value> = None;
    let mut subcharts: Vec<(String, Value)> = Vec::new();
    let mut readme = None;
    let bad = || format!("`{}` is not a readable chart archive", archive.display());
    for entry in tar.entries().with_context(bad)? {
        let mut entry = entry.with_context(bad)?;
        let path = entry
            .path()
            .with_context(bad)?
            .to_string_lossy()
            .into_owned();
        // `<chart>/values.yaml`, `<chart>/charts/<sub>/values.yaml`, `<chart>/README.md`.
        let parts: Vec<&str> = path.split('/').collect();
        let wanted = matches!(
            parts.as_slice(),
            [_, "values.yaml" | "README.md"] | [_, "charts", _, "values.yaml"]
        );
        if !wanted || entry.size() > 8 * 1024 * 1024 {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).with_context(bad)?;
        let parse = |text: &str| {
            yaml::parse(text)
                .map_err(|e| anyhow::anyhow!("{path} in the chart is not YAML: {}", e.message))
        };
        match parts.as_slice() {
            [_, "values.yaml"] => values = Some(parse(&text)?),
            [_, "README.md"] => readme = Some(text),
            [_, "charts", sub, _] => subcharts.push(((*sub).to_owned(), parse(&text)?)),
            _ => {}
        }
    }
    let mut defaults = Value::Mapping(crate::yaml::Mapping::new());
    for (name, sub) in subcharts {
        crate::yaml::merge(&mut defaults, crate::yaml::nest(vec![name], sub));
    }
    if let Some(values) = values {
        crate::yaml::merge(&mut defaults, values);
    }
    Ok(ChartContents { defaults, readme })
}

/// The values eksmon sets (dotted path, value) that the old chart's defaults have and the new
/// chart's do not: settings the new version no longer reads. Free-form maps (annotations, extra
/// args) are in neither and never reported.
pub(crate) fn dropped_paths(
    ours: &Value,
    old_defaults: &Value,
    new_defaults: &Value,
) -> Vec<(String, Value)> {
    let mut dropped = Vec::new();
    walk(ours, &mut Vec::new(), &mut |path, value| {
        if has_path(old_defaults, path) && !has_path(new_defaults, path) {
            dropped.push((path.join("."), value.clone()));
            return false;
        }
        true
    });
    dropped
}

/// Calls `visit` on the path of every mapping entry, deepest last; `visit` returning false
/// skips what is below.
fn walk(value: &Value, path: &mut Vec<String>, visit: &mut dyn FnMut(&[String], &Value) -> bool) {
    let Value::Mapping(map) = value else {
        return;
    };
    for (key, child) in map {
        let Some(key) = key.as_str() else { continue };
        path.push(key.to_owned());
        if visit(path, child) {
            walk(child, path, visit);
        }
        path.pop();
    }
}

/// True when `defaults` has `path` as a chart key: every step is a key of a non-empty mapping.
/// A step into an empty mapping, a list or a scalar is into free-form values: not a chart key.
fn has_path(defaults: &Value, path: &[String]) -> bool {
    let mut node = defaults;
    for key in path {
        match node {
            Value::Mapping(map) if !map.is_empty() => match map.get(key.as_str()) {
                Some(child) => node = child,
                None => return false,
            },
            _ => return false,
        }
    }
    true
}

/// One "To N.0" section of a chart README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpgradeNote {
    pub heading: String,
    pub body: String,
}

/// The README's upgrade sections ("## To 29.0", "### To 12.0.0") for versions after `from` up to
/// `to`, oldest first.
pub(crate) fn upgrade_notes(readme: &str, from: &str, to: &str) -> Vec<UpgradeNote> {
    let (Some(from), Some(to)) = (loose_version(from), loose_version(to)) else {
        return Vec::new();
    };
    let mut notes: Vec<(Version, UpgradeNote, usize)> = Vec::new();
    let mut open: Option<(Version, String, usize, Vec<&str>)> = None;
    let mut in_fence = false;
    let mut close = |open: &mut Option<(Version, String, usize, Vec<&str>)>| {
        if let Some((version, heading, level, body)) = open.take() {
            let body = body.join("\n").trim().to_owned();
            notes.push((version, UpgradeNote { heading, body }, level));
        }
    };
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let heading = (!in_fence).then(|| markdown_heading(line)).flatten();
        if let Some((level, title)) = heading {
            let ends_section = open
                .as_ref()
                .is_some_and(|(_, _, open_level, _)| level <= *open_level);
            if ends_section {
                close(&mut open);
            }
            let version = title
                .strip_prefix("To ")
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(loose_version);
            if let Some(version) = version {
                close(&mut open);
                open = Some((version, title.to_owned(), level, Vec::new()));
                continue;
            }
        }
        if let Some((_, _, _, body)) = open.as_mut() {
            body.push(line);
        }
    }
    close(&mut open);
    let mut notes: Vec<(Version, UpgradeNote)> = notes
        .into_iter()
        .filter(|(version, _, _)| *version > from && *version <= to)
        .map(|(version, note, _)| (version, note))
        .collect();
    notes.sort_by(|a, b| a.0.cmp(&b.0));
    notes.into_iter().map(|(_, note)| note).collect()
}

/// `(level, title)` of an ATX heading.
fn markdown_heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    let title = line.get(level..)?.strip_prefix(' ')?;
    (1..=6).contains(&level).then_some((level, title.trim()))
}

/// `29.0`, `v12`, `4.0.0` as versions (missing parts are zero).
fn loose_version(text: &str) -> Option<Version> {
    let mut parts = text.trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let mut next = || parts.next().map_or(Some(0), |p| p.parse().ok());
    let (minor, patch) = (next()?, next()?);
    Some(Version::new(major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(versions: &[&str]) -> Vec<Listed> {
        versions
            .iter()
            .map(|v| Listed {
                version: (*v).into(),
                deprecated: false,
            })
            .collect()
    }

    #[test]
    fn the_newest_is_by_semver_without_prereleases() {
        let versions = listed(&["29.27.0", "29.100.0", "30.0.0-rc.1", "29.9.0", "garbage"]);
        assert_eq!(newest(&versions).unwrap().version, "29.100.0");
        assert!(is_new_major("29.27.0", "30.0.0"));
        assert!(!is_new_major("29.27.0", "29.28.0"));
        assert!(is_newer("29.100.0", "29.27.0") && !is_newer("29.27.0", "29.27.0"));
    }

    #[test]
    fn dropped_paths_are_chart_keys_only() {
        let ours = yaml::parse("server:\n  retention: 15d\n  ingress:\n    annotations: {a: b}\n  gone: 1\nalertmanager:\n  persistence:\n    size: 2Gi\nextra: 1\n").unwrap();
        let old = yaml::parse("server:\n  retention: ''\n  ingress:\n    annotations: {}\n  gone: 0\nalertmanager:\n  persistence:\n    size: 2Gi\n").unwrap();
        let new = yaml::parse("server:\n  retention: ''\n  ingress:\n    annotations: {}\nalertmanager:\n  storage:\n    size: 2Gi\n").unwrap();
        let dropped: Vec<String> = dropped_paths(&ours, &old, &new)
            .into_iter()
            .map(|(path, value)| format!("{path}: {}", serde_json::to_string(&value).unwrap()))
            .collect();
        assert_eq!(
            dropped,
            [
                r"server.gone: 1",
                r#"alertmanager.persistence: {"size":"2Gi"}"#
            ]
        );
    }

    const README: &str = "# Chart\n## Upgrading\n### To 13.0.0\nRenamed `a` to `b`.\n```console\n# not a heading\n```\n### To 12.0.0\nGrafana 13.\n### To 11.0.0\nOld.\n## Configuration\nx\n";

    #[test]
    fn upgrade_notes_between_two_versions() {
        let notes = upgrade_notes(README, "11.5.0", "13.0.0");
        let headings: Vec<&str> = notes.iter().map(|n| n.heading.as_str()).collect();
        assert_eq!(headings, ["To 12.0.0", "To 13.0.0"]);
        assert_eq!(
            notes[1].body,
            "Renamed `a` to `b`.\n```console\n# not a heading\n```"
        );
        assert_eq!(notes[0].body, "Grafana 13.");
        assert!(upgrade_notes(README, "13.0.0", "13.1.0").is_empty());
        let prometheus = "#### To 29.0\nendpointslice\n#### To 28.0\nmoved\n";
        assert_eq!(upgrade_notes(prometheus, "28.5.0", "29.27.0").len(), 1);
    }
}
