//! One module per subcommand, and the one place that dispatches to them.

mod alerts;
mod charts;
mod dashboards;
mod diff;
mod doctor;
mod export;
mod fleet;
mod grafana_password;
mod iam;
mod init;
mod install;
mod profiles;
mod render;
mod status;
mod uninstall;

use crate::cli::Command;
use crate::context::Run;
use crate::exit::ExitStatus;
use crate::settings::Chart;
use anyhow::Result;

/// Runs one command with the run context `main` built; how the run ends when nothing failed.
pub(crate) fn run(run: &Run, command: Command) -> Result<ExitStatus> {
    if let Some(args) = fleet::fleet_args(&command) {
        let args = args.clone();
        return fleet::run(run, command, &args);
    }
    dispatch(run, command)
}

/// Runs one command against the one cluster `run` is for.
fn dispatch(run: &Run, command: Command) -> Result<ExitStatus> {
    if let Command::Diff(args) = &command {
        return diff::run(run, args);
    }
    finish(run, command).map(|()| ExitStatus::Success)
}

/// Every command but `diff`: done, or an error.
fn finish(run: &Run, command: Command) -> Result<()> {
    match command {
        Command::Render(args) => render::run(run, &args),
        Command::Export(args) => export::run(run, &args),
        Command::Install(args) => install::run(run, &args),
        Command::Diff(args) => diff::run(run, &args).map(drop),
        Command::Charts(command) => charts::run(run, &command),
        Command::Uninstall(args) => uninstall::run(run, &args),
        Command::Status(args) => status::run(run, &args.report),
        Command::GrafanaPassword(args) => grafana_password::run(run, &args),
        Command::Doctor(args) => doctor::run(run, &args),
        Command::Alerts(args) => alerts::run(run, &args),
        Command::Dashboards(args) => dashboards::run(run, &args),
        Command::Iam(args) => iam::run(run, &args),
        Command::Init(args) => init::run(run, &args),
        Command::Profiles(command) => profiles::run(run, &command),
        Command::Completions { shell } => {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command, "eksmon", &mut out);
            write_stdout(&out)
        }
        Command::Man { out_dir } => man(out_dir.as_deref()),
    }
}

/// The main page and one page per subcommand, to stdout or as `DIR/eksmon[-sub].1`.
fn man(out_dir: Option<&std::path::Path>) -> Result<()> {
    use anyhow::Context as _;
    let command = <crate::cli::Cli as clap::CommandFactory>::command();
    let mut pages = vec![("eksmon".to_owned(), command.clone())];
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("eksmon-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    let mut stream = Vec::new();
    for (name, page) in pages {
        let mut roff = Vec::new();
        clap_mangen::Man::new(page).render(&mut roff)?;
        match out_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create `{}`", dir.display()))?;
                let path = dir.join(format!("{name}.1"));
                std::fs::write(&path, roff)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
            }
            None => stream.extend(roff),
        }
    }
    write_stdout(&stream)
}

/// Writes a command's data to stdout (errors, hints and progress go to stderr).
fn write_stdout(bytes: &[u8]) -> Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).context("cannot write to stdout")?;
    stdout.flush().context("cannot write to stdout")
}

/// A scoped thread's result, with a panic turned into an error.
fn joined<T>(result: std::thread::Result<Result<T>>) -> Result<T> {
    result.unwrap_or_else(|_| Err(anyhow::anyhow!("internal error: a worker thread panicked")))
}

/// A chart's archive from the cache (fetched when missing), saying so on its progress line; the
/// line ends `failed` when it cannot be had.
fn fetch_chart(
    cache: &crate::charts::ChartCache,
    helm: &crate::tool::Tool,
    chart: &crate::settings::ChartRef,
    task: &crate::ui::Task,
) -> Result<(std::path::PathBuf, crate::charts::Fetched)> {
    cache
        .ensure(helm, chart, || {
            task.step(&format!("fetching chart {} {}", chart.name, chart.version));
        })
        .inspect_err(|_| task.finish("failed"))
}

/// Writes each `(file name, text)` into `dir`, saying so. Every file is staged first, then all are
/// renamed into place: a failure (or a concurrent run) never leaves a half-written set.
fn write_files(
    ui: &crate::ui::Ui,
    dir: &std::path::Path,
    named: &[(String, String)],
) -> Result<()> {
    let staged = named
        .iter()
        .map(|(name, text)| crate::files::stage(&dir.join(name), text.as_bytes()))
        .collect::<Result<Vec<_>>>()?;
    for file in staged {
        ui.note(&format!("wrote {}", file.commit()?.display()));
    }
    Ok(())
}

/// Both charts, or the one `--only` names.
fn selected(only: Option<Chart>) -> Vec<Chart> {
    only.map_or_else(|| Chart::ALL.to_vec(), |chart| vec![chart])
}

/// The charts to act on: the one named, else every chart the profile installs. Naming one the
/// profile leaves out is bad input, pointed at where it was left out.
fn installed(
    loaded: &crate::profile::Loaded,
    only: Option<Chart>,
) -> std::result::Result<Vec<Chart>, crate::error::UserError> {
    let settings = &loaded.settings;
    match only {
        Some(chart) if !settings.installs(chart) => {
            let enabled = crate::field_path::FieldPath::keys(&format!("{}.enabled", chart.name()));
            Err(crate::error::UserError::input(format!(
                "{}: the profile leaves it out ({enabled}: false)",
                chart.name()
            ))
            .at(loaded.provenance.origin_of(&enabled)))
        }
        _ => Ok(selected(only)
            .into_iter()
            .filter(|&chart| settings.installs(chart))
            .collect()),
    }
}
