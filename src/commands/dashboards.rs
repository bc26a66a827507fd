//! `eksmon dashboards`: the Grafana dashboards a profile provisions (eksmon's own and the
//! grafana.com ones it names by id), as a table or JSON.

use crate::cli::{ListArgs, OutputFormat};
use crate::context::Run;
use crate::settings::DashboardChoice;
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    name: String,
    title: Option<&'static str>,
    description: Option<&'static str>,
    uid: Option<&'static str>,
    panels: Option<usize>,
    /// `eksmon` (shipped in the binary) or `grafana.com` (downloaded by Grafana at start).
    source: &'static str,
    gnet_id: Option<u32>,
    revision: Option<u32>,
}

fn row(choice: &DashboardChoice) -> Row {
    match choice {
        DashboardChoice::Bundled(which) => {
            let board = crate::dashboards::board(*which);
            Row {
                name: which.name().to_owned(),
                title: Some(board.title),
                description: Some(board.description),
                uid: Some(board.uid),
                panels: Some(board.panels.len()),
                source: "eksmon",
                gnet_id: None,
                revision: None,
            }
        }
        DashboardChoice::GrafanaCom(published) => Row {
            name: published.name(),
            title: None,
            description: None,
            uid: None,
            panels: None,
            source: "grafana.com",
            gnet_id: Some(published.gnet_id.get()),
            revision: published.revision.map(crate::settings::GnetId::get),
        },
    }
}

pub(super) fn run(run: &Run, args: &ListArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let rows: Vec<Row> = if loaded.settings.grafana.enabled {
        crate::dashboards::selected(&loaded.settings)
            .into_iter()
            .map(row)
            .collect()
    } else {
        run.ui
            .note("grafana.enabled is false: eksmon provisions no dashboards");
        Vec::new()
    };
    let text = match args.output {
        OutputFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        OutputFormat::Text => {
            let header = ["DASHBOARD", "TITLE", "PANELS", "UID"]
                .map(str::to_owned)
                .to_vec();
            let lines = rows.iter().map(|r| {
                let published = || match (r.gnet_id, r.revision) {
                    (Some(id), Some(rev)) => format!("grafana.com {id} (revision {rev})"),
                    (Some(id), None) => format!("grafana.com {id}"),
                    _ => String::new(),
                };
                vec![
                    r.name.clone(),
                    r.title.map_or_else(published, str::to_owned),
                    r.panels.map_or_else(String::new, |n| n.to_string()),
                    r.uid.unwrap_or_default().to_owned(),
                ]
            });
            crate::ui::table(&std::iter::once(header).chain(lines).collect::<Vec<_>>())
        }
    };
    super::write_stdout(text.as_bytes())
}
