//! `eksmon render`: the values, on stdout or as files.

use crate::cli::RenderArgs;
use crate::context::Run;
use crate::render::values_document;
use crate::settings::Chart;
use crate::ui::Ui;
use anyhow::Result;
use std::io::IsTerminal as _;

pub(super) fn run(run: &Run, args: &RenderArgs) -> Result<()> {
    let charts: Vec<Chart> = super::selected(args.chart.map(Chart::from));
    let loaded = run.load(&args.profile, &charts)?;
    let charts = super::installed(&loaded, args.chart.map(Chart::from))?;
    warn_public(&run.ui, &loaded.settings, &charts);
    for placeholder in crate::guard::placeholders(&loaded.settings) {
        run.ui.warn(&placeholder);
    }
    let documents = charts
        .iter()
        .map(|&chart| Ok((chart, values_document(&loaded.settings, chart)?)))
        .collect::<Result<Vec<_>>>()?;

    if let Some(dir) = &args.out_dir {
        let named: Vec<(String, String)> = documents
            .iter()
            .map(|(chart, text)| (format!("{}-values.yaml", chart.name()), text.clone()))
            .collect();
        return super::write_files(&run.ui, dir, &named);
    }
    if documents.len() > 1 && stdout_is_file() {
        run.ui.hint(
            "helm reads only the last document of a multi-document values file; \
             use `eksmon render prometheus > …` per chart, or --out-dir",
        );
    }
    let stream = documents
        .iter()
        .map(|(_, text)| text.as_str())
        .collect::<Vec<_>>()
        .join("---\n");
    super::write_stdout(stream.as_bytes())
}

/// One warning line per component anyone on the internet could reach.
fn warn_public(ui: &Ui, settings: &crate::settings::Settings, charts: &[Chart]) {
    let public = crate::guard::public_endpoints(settings, charts);
    for endpoint in &public {
        ui.warn(&endpoint.warning);
    }
    if !public.is_empty() {
        ui.hint(crate::guard::how_to_restrict(settings));
    }
}

/// True when stdout is redirected into a regular file (where the multi-document hint matters).
fn stdout_is_file() -> bool {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        return false;
    }
    use std::os::fd::AsFd as _;
    stdout
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|file| file.metadata())
        .is_ok_and(|meta| meta.is_file())
}
