//! `eksmon doctor`: the preflight checks, as a table or JSON; exit 1 when any check fails.

use crate::cli::{OutputFormat, ReportArgs};
use crate::context::Run;
use crate::doctor::{self, Level};
use crate::error::UserError;
use crate::settings::Chart;
use anyhow::Result;

pub(super) fn run(run: &Run, args: &ReportArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &Chart::ALL)?;
    let findings = doctor::run(run, &loaded.settings);
    let text = match args.output {
        OutputFormat::Json => serde_json::to_string_pretty(&findings)? + "\n",
        OutputFormat::Text => doctor::table(&findings),
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
    Err(UserError::runtime(format!(
        "{} check(s) failed: {}",
        failed.len(),
        failed.join(", ")
    ))
    .into())
}
