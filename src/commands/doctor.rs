//! `eksmon doctor`: the preflight checks, as a table or JSON; exit 1 when any check fails.

use crate::cli::{OutputFormat, ReportArgs};
use crate::doctor::{self, Context, Level};
use crate::error::Hinted;
use crate::profile::{self, Lookup};
use crate::settings::Chart;
use anyhow::Result;

pub fn run(args: &ReportArgs) -> Result<()> {
    let loaded = profile::load(
        &super::request(&args.profile),
        &Lookup::from_env(),
        &Chart::ALL,
    )?;
    let findings = doctor::run(&Context {
        settings: &loaded.settings,
        kube_context: args.cluster.kube_context.as_deref(),
        helm_path: args.cluster.helm.as_deref(),
        kubectl_path: args.cluster.kubectl.as_deref(),
        echo: args.verbose,
    });
    let text = match args.output {
        OutputFormat::Json => serde_json::to_string_pretty(&findings)? + "\n",
        OutputFormat::Table => doctor::table(&findings),
    };
    super::write_stdout(text.as_bytes())?;
    let failed: Vec<&str> = findings
        .iter()
        .filter(|f| f.level == Level::Fail)
        .map(|f| f.check)
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Hinted {
        message: format!("{} check(s) failed: {}", failed.len(), failed.join(", ")),
        hints: Vec::new(),
    }
    .into())
}
