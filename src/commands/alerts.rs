//! `eksmon alerts`: the alerts a profile installs (after `alerting.rules`, `alerting.disabled`
//! and what is installed), as a table or JSON.

use crate::cli::{ListArgs, OutputFormat};
use crate::context::Run;
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row<'a> {
    alert: &'a str,
    severity: &'a str,
    group: &'a str,
    summary: &'a str,
    description: &'a str,
    #[serde(rename = "for")]
    for_: Option<&'a str>,
    runbook_url: &'a str,
    /// The name is an upstream mixin's (routes and silences keyed by it carry over).
    upstream: bool,
    /// Its names before it took the upstream one, for one release (two rules of eksmon's may
    /// have become the warning and critical variants of one).
    formerly: Option<String>,
}

fn formerly(alert: &str) -> Option<String> {
    let old: Vec<&str> = crate::rules::RENAMED
        .iter()
        .filter(|(_, new)| *new == alert)
        .map(|(old, _)| *old)
        .collect();
    (!old.is_empty()).then(|| old.join(", "))
}

pub(super) fn run(run: &Run, args: &ListArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let (_, groups) = crate::rules::selected(&loaded.settings);
    let rows: Vec<Row<'_>> = groups
        .iter()
        .flat_map(|group| {
            group.rules.iter().filter_map(move |rule| {
                let alert = rule.alert.as_deref()?;
                Some(Row {
                    alert,
                    severity: rule.labels.get("severity").map_or("", String::as_str),
                    group: &group.name,
                    summary: rule.annotations.get("summary").map_or("", String::as_str),
                    description: rule
                        .annotations
                        .get("description")
                        .map_or("", String::as_str),
                    for_: rule.for_.as_deref(),
                    runbook_url: rule
                        .annotations
                        .get("runbook_url")
                        .map_or("", String::as_str),
                    upstream: crate::rules::is_upstream(alert),
                    formerly: formerly(alert),
                })
            })
        })
        .collect();
    let text = match args.output {
        OutputFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        OutputFormat::Text => {
            let header = ["ALERT", "SEVERITY", "FORMERLY", "SUMMARY"]
                .map(str::to_owned)
                .to_vec();
            let lines = rows.iter().map(|r| {
                vec![
                    r.alert.to_owned(),
                    r.severity.to_owned(),
                    r.formerly.clone().unwrap_or_default(),
                    r.summary.to_owned(),
                ]
            });
            crate::ui::table(&std::iter::once(header).chain(lines).collect::<Vec<_>>())
        }
    };
    super::write_stdout(text.as_bytes())
}
