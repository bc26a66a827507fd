//! `--fleet FILE`: `install`, `diff`, `status` and `uninstall` over many clusters at once.
//!
//! Every cluster's profile (and context) is checked first; bad input stops the run before any
//! cluster is touched. Then each cluster runs in its own eksmon process, the same command line
//! with `--fleet-member NAME`, a few at a time: a cluster that hangs, fails or is unreachable
//! cannot stop or garble the others, and its output stays whole. What the person sees: a line
//! per cluster (a spinner on a terminal; each line prefixed with its cluster otherwise), then
//! a summary table, and the exit code of the worst outcome.

use crate::cli::{Command, FleetArgs, OutputFormat};
use crate::context::Run;
use crate::error::UserError;
use crate::exit::ExitStatus;
use crate::fleet::{Fleet, Member};
use crate::profile::Loaded;
use crate::settings::Chart;
use anyhow::Result;
use std::ffi::OsString;
use std::io::BufRead as _;
use std::time::{Duration, Instant};

/// The fleet options of a command that takes them, when `--fleet` is given.
pub(super) fn fleet_args(command: &Command) -> Option<&FleetArgs> {
    let args = match command {
        Command::Install(args) => &args.fleet,
        Command::Diff(args) => &args.fleet,
        Command::Status(args) => &args.fleet,
        Command::Uninstall(args) => &args.fleet,
        _ => return None,
    };
    args.fleet.is_some().then_some(args)
}

/// Runs `command` over the fleet `args` names: as one member (`--fleet-member`), or over every
/// cluster picked.
pub(super) fn run(run: &Run, command: Command, args: &FleetArgs) -> Result<ExitStatus> {
    if run.target.context.is_some() || run.target.kubeconfig.is_some() {
        return Err(UserError::input(
            "--kube-context and --kubeconfig name one cluster; with --fleet each cluster's entry names its own",
        )
        .at(crate::error::Origin::Flag("--fleet".into()))
        .into());
    }
    let path = args.fleet.as_deref().unwrap_or(std::path::Path::new(""));
    let fleet = crate::fleet::read(path)?;
    if let Some(name) = &args.fleet_member {
        let member_run = run.for_member(fleet.member(name)?);
        return super::dispatch(&member_run, command);
    }
    let members = fleet.pick(&args.clusters)?;
    let loaded = check_all(run, &command, &members)?;
    let extra = preflight(run, &command, &members, &loaded)?;
    let outcomes = run_all(run, &fleet, &members, &extra);
    report(run, &command, &outcomes)
}

/// Each cluster's settings, loaded and checked (and its context found in its kubeconfig)
/// before anything runs; the first bad one is the error, naming its cluster.
fn check_all(run: &Run, command: &Command, members: &[&Member]) -> Result<Vec<Loaded>> {
    let (profile, charts) = match command {
        Command::Install(args) => (&args.profile, super::selected(args.only.map(Chart::from))),
        Command::Diff(args) => (&args.profile, super::selected(args.chart.map(Chart::from))),
        Command::Status(args) => (&args.report.profile, Vec::new()),
        Command::Uninstall(args) => (&args.profile, Vec::new()),
        _ => unreachable!("only commands with fleet options get here"),
    };
    members
        .iter()
        .map(|member| {
            let member_run = run.for_member(member);
            let named = |err: anyhow::Error| in_cluster(member, err);
            let loaded = member_run.load(profile, &charts).map_err(named)?;
            if let Command::Install(args) = command {
                super::installed(&loaded, args.only.map(Chart::from))
                    .map_err(|err| named(err.into()))?;
            }
            member_run.check_kube_context().map_err(named)?;
            Ok(loaded)
        })
        .collect()
}

/// The error with its cluster named at the front.
pub(super) fn in_cluster(member: &Member, mut err: anyhow::Error) -> anyhow::Error {
    if let Some(user) = err.downcast_mut::<UserError>() {
        user.message = format!("cluster `{}`: {}", member.name, user.message);
        return err;
    }
    err.context(format!("cluster `{}`", member.name))
}

/// What must be settled once for the whole fleet before the clusters run (a question, a flag
/// that cannot work across clusters); the words added to each cluster's command line.
fn preflight(
    run: &Run,
    command: &Command,
    members: &[&Member],
    loaded: &[Loaded],
) -> Result<Vec<OsString>> {
    match command {
        Command::Install(args) if args.diff => Err(UserError::input(
            "install --diff asks about each release's changes, which cannot be done for many clusters at once",
        )
        .at(crate::error::Origin::Flag("--diff".into()))
        .hint("run `eksmon diff --fleet FILE` first, then `eksmon install --fleet FILE`")
        .into()),
        Command::Install(args) if !args.allow_public && !args.dry_run => {
            confirm_public(run, args.only.map(Chart::from), members, loaded)
        }
        Command::Uninstall(args) if !args.yes => confirm_uninstall(run, args, members, loaded),
        _ => Ok(Vec::new()),
    }
}

/// Asks once for every cluster whose endpoints would be open to the internet; its members are
/// then told `--allow-public` (they have no terminal to ask on).
fn confirm_public(
    run: &Run,
    only: Option<Chart>,
    members: &[&Member],
    loaded: &[Loaded],
) -> Result<Vec<OsString>> {
    let mut open = Vec::new();
    for (member, loaded) in members.iter().zip(loaded) {
        let charts = super::installed(loaded, only)?;
        for endpoint in crate::guard::public_endpoints(&loaded.settings, &charts) {
            run.ui
                .warn(&format!("{}: {}", member.name, endpoint.warning));
            open.push(member.name.as_str());
        }
    }
    if open.is_empty() {
        return Ok(Vec::new());
    }
    open.dedup();
    let no_terminal = UserError::input(format!(
        "refusing to open monitoring to the whole internet on {} without a terminal to confirm it; pass --allow-public to install anyway",
        open.join(", ")
    ));
    if run.ui.confirm(
        "Install with these endpoints open to the whole internet?",
        no_terminal,
    )? {
        Ok(vec!["--allow-public".into()])
    } else {
        Err(UserError::declined("nothing was installed").into())
    }
}

/// Asks once before uninstalling from every cluster; with `--delete-data`, the namespace must
/// be typed (one namespace for the fleet, or `--yes`).
fn confirm_uninstall(
    run: &Run,
    args: &crate::cli::UninstallArgs,
    members: &[&Member],
    loaded: &[Loaded],
) -> Result<Vec<OsString>> {
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let no_terminal = || {
        UserError::input(
            "uninstall asks before it removes anything, and there is no terminal to ask on",
        )
        .hint("pass --yes to uninstall without asking")
    };
    let kept = if args.delete_data {
        "Their volumes are deleted next"
    } else {
        "Volumes are kept"
    };
    let question = format!(
        "Uninstall the monitoring releases from {} cluster(s): {}? {kept}",
        names.len(),
        names.join(", ")
    );
    if !run.ui.confirm(&question, no_terminal())? {
        return Err(UserError::declined("nothing was uninstalled").into());
    }
    if args.delete_data {
        let mut namespaces: Vec<&str> = loaded
            .iter()
            .map(|l| l.settings.namespace.as_str())
            .collect();
        namespaces.dedup();
        let [namespace] = namespaces[..] else {
            return Err(UserError::input(
                "the clusters keep their releases in different namespaces, so there is no one name to type before deleting their data",
            )
            .hint("pass --yes to uninstall with --delete-data without asking")
            .into());
        };
        let typed = run.ui.ask_to_type(
            &format!("The stored metrics and dashboards on {} cluster(s) will be lost. Type the namespace name `{namespace}` to delete their volumes", names.len()),
            no_terminal(),
        )?;
        if typed != namespace {
            return Err(UserError::declined("nothing was uninstalled").into());
        }
    }
    Ok(vec!["--yes".into()])
}

/// How one cluster's process ended, with what it printed.
#[derive(Debug)]
struct Outcome {
    name: String,
    context: Option<String>,
    /// The exit code; `None` when it was killed by a signal or could not start.
    code: Option<i32>,
    stdout: String,
    /// What it said on stderr, line by line.
    said: Vec<String>,
    took: Duration,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    /// How it ended, in a word or a short line: `ok`, `changes`, `interrupted`, `failed: …`.
    fn result(&self) -> String {
        match self.code {
            Some(0) => "ok".to_owned(),
            Some(4) => "changes".to_owned(),
            Some(130 | 143) | None if self.said.iter().any(|l| l.contains("interrupted")) => {
                "interrupted".to_owned()
            }
            _ => format!("failed: {}", shortened(&self.error().unwrap_or_default())),
        }
    }

    /// Its first error line, without `error: `.
    fn error(&self) -> Option<String> {
        self.said
            .iter()
            .find_map(|line| line.strip_prefix("error: "))
            .map(str::to_owned)
            .or_else(|| {
                (!matches!(self.code, Some(0 | 4))).then(|| match self.code {
                    Some(code) => format!("eksmon exited {code}"),
                    None => "eksmon was stopped by a signal".to_owned(),
                })
            })
    }
}

/// Runs every picked cluster, `fleet.parallel` at a time; their outcomes in the fleet's order.
fn run_all(run: &Run, fleet: &Fleet, members: &[&Member], extra: &[OsString]) -> Vec<Outcome> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let progress = run.ui.progress();
    let tasks: Vec<crate::ui::Task> = members.iter().map(|m| progress.task(&m.name)).collect();
    let next = AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Outcome>>> =
        std::sync::Mutex::new(members.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..fleet.parallel.min(members.len()) {
            scope.spawn(|| {
                // After an interrupt no further cluster is started.
                while crate::signals::cancelled().is_none() {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let (Some(member), Some(task)) = (members.get(index), tasks.get(index)) else {
                        break;
                    };
                    let outcome = run_one(run, member, extra, task, progress.is_live());
                    task.finish(&outcome.result());
                    crate::sync::lock(&results)[index] = Some(outcome);
                }
            });
        }
    });
    drop(progress);
    let outcomes: Vec<Outcome> = crate::sync::lock(&results).drain(..).flatten().collect();
    outcomes
}

/// One cluster's process: the same command line, as that member.
fn run_one(
    run: &Run,
    member: &Member,
    extra: &[OsString],
    task: &crate::ui::Task,
    drawn: bool,
) -> Outcome {
    let started = Instant::now();
    let mut args = run.argv.clone();
    args.extend(["--fleet-member".into(), member.name.clone().into()]);
    args.extend(extra.iter().cloned());
    let mut said = Vec::new();
    let (code, stdout) = match spawn(&run.exe, &args) {
        Ok((handle, stderr)) => {
            let _registered = crate::signals::ChildGuard::register(handle.pids(), "eksmon");
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                show(task, drawn, &member.name, &line);
                said.push(line);
            }
            match handle.wait() {
                Ok(output) => (
                    output.status.code(),
                    String::from_utf8_lossy(&output.stdout).into_owned(),
                ),
                Err(err) => {
                    said.push(format!("error: cannot wait for eksmon: {err}"));
                    (None, String::new())
                }
            }
        }
        Err(err) => {
            said.push(format!("error: cannot start {}: {err}", run.exe.display()));
            (None, String::new())
        }
    };
    Outcome {
        name: member.name.clone(),
        context: member.context.clone(),
        code,
        stdout,
        said,
        took: started.elapsed(),
    }
}

/// Starts eksmon with `args`, stdout captured and stderr to a pipe read line by line.
fn spawn(
    exe: &std::path::Path,
    args: &[OsString],
) -> std::io::Result<(duct::Handle, std::io::PipeReader)> {
    let (reader, writer) = std::io::pipe()?;
    // The expression (holding the pipe's write end) ends with this block, so the reader sees
    // the end of the stream when the child exits.
    let handle = duct::cmd(exe, args)
        .stdout_capture()
        .stderr_file(writer)
        .stdin_null()
        .unchecked()
        .before_spawn(|cmd| {
            use std::os::unix::process::CommandExt as _;
            // Its own process group: an interrupt reaches it once, from our signal handler.
            cmd.process_group(0);
            Ok(())
        })
        .start()?;
    Ok((handle, reader))
}

/// One line a cluster said: its progress line on a terminal (what must be read is said again
/// at the end), else printed with the cluster's name in front. A `--quiet` run's clusters are
/// quiet too: what they say then is only warnings and errors.
fn show(task: &crate::ui::Task, drawn: bool, cluster: &str, line: &str) {
    if drawn {
        // The hints and tool output under an error wait for the end; a long line is cut to fit.
        if !line.starts_with("hint:") && !line.starts_with(char::is_whitespace) {
            task.step(&shortened(line));
        }
    } else {
        eprintln!("{cluster}: {line}");
    }
}

/// What a person must read of a cluster's lines when its progress line showed only the latest:
/// the warnings, and everything from its first error on (the tool's output and the hints).
fn worth_reading(said: &[String]) -> impl Iterator<Item = &String> {
    let first_error = said
        .iter()
        .position(|l| l.starts_with("error:"))
        .unwrap_or(said.len());
    said.iter()
        .enumerate()
        .filter(move |(i, l)| *i >= first_error || l.starts_with("warning:"))
        .map(|(_, l)| l)
}

/// The fleet's output, summary and exit status, by command.
fn report(run: &Run, command: &Command, outcomes: &[Outcome]) -> Result<ExitStatus> {
    if run.ui.interactive() && !run.ui.quiet {
        // The progress lines showed only the latest line: what needs reading comes now.
        for outcome in outcomes {
            for line in worth_reading(&outcome.said) {
                eprintln!("{}: {line}", outcome.name);
            }
        }
    }
    match command {
        Command::Status(args) => status_output(args.report.output, outcomes)?,
        Command::Diff(args) => diff_output(args.output, outcomes)?,
        _ => {
            for outcome in outcomes.iter().filter(|o| !o.stdout.is_empty()) {
                super::write_stdout(
                    format!("# cluster: {}\n{}", outcome.name, outcome.stdout).as_bytes(),
                )?;
            }
        }
    }
    if !matches!(command, Command::Status(_)) && !run.ui.quiet {
        eprintln!("{}", summary(outcomes));
    }
    exit_status(outcomes)
}

/// CLUSTER, CONTEXT, RESULT and TIME of each cluster.
fn summary(outcomes: &[Outcome]) -> String {
    let mut rows = vec![
        ["CLUSTER", "CONTEXT", "RESULT", "TIME"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for outcome in outcomes {
        let result = outcome.result();
        rows.push(vec![
            outcome.name.clone(),
            outcome
                .context
                .clone()
                .unwrap_or_else(|| "(current)".to_owned()),
            result,
            format!("{:.1}s", outcome.took.as_secs_f64()),
        ]);
    }
    crate::ui::table(&rows).trim_end().to_owned()
}

/// An error line cut to fit a table cell (the whole line was shown above the table).
fn shortened(line: &str) -> String {
    const WIDTH: usize = 72;
    if line.chars().count() <= WIDTH {
        return line.to_owned();
    }
    let cut: String = line.chars().take(WIDTH - 1).collect();
    format!("{}…", cut.trim_end())
}

/// Success when every cluster succeeded; 4 when `diff --exit-code` found changes on any; else
/// an error naming each failed cluster (an interrupt ends the run as one).
fn exit_status(outcomes: &[Outcome]) -> Result<ExitStatus> {
    if let Some(interrupted) = crate::signals::cancelled() {
        return Err(interrupted.into());
    }
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !matches!(o.code, Some(0 | 4)))
        .collect();
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|o| o.name.as_str()).collect();
        let err = UserError::runtime(format!(
            "{} of {} clusters failed: {}",
            failed.len(),
            outcomes.len(),
            names.join(", ")
        ));
        let again: Vec<String> = names.iter().map(|n| format!("--cluster {n}")).collect();
        return Err(err
            .hint(format!(
                "once fixed, run only those again with {}",
                again.join(" ")
            ))
            .into());
    }
    if outcomes.iter().any(|o| o.code == Some(4)) {
        return Ok(ExitStatus::ChangesFound);
    }
    Ok(ExitStatus::Success)
}

/// `status --fleet`: one table with a CLUSTER column, or `{clusters: [{name, context,
/// releases, error}]}`.
fn status_output(format: OutputFormat, outcomes: &[Outcome]) -> Result<()> {
    let clusters: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let releases = serde_json::from_str::<serde_json::Value>(&o.stdout)
                .unwrap_or_else(|_| serde_json::json!([]));
            let error = (!o.succeeded()).then(|| o.error()).flatten();
            serde_json::json!({"name": o.name, "context": o.context, "releases": releases, "error": error})
        })
        .collect();
    let text = match format {
        OutputFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({"clusters": clusters}))? + "\n"
        }
        OutputFormat::Text => super::status::fleet_table(&clusters),
    };
    super::write_stdout(text.as_bytes())
}

/// `diff --fleet`: each cluster's report under its name, or `{clusters: [{name, context,
/// diff, error}]}`.
fn diff_output(format: OutputFormat, outcomes: &[Outcome]) -> Result<()> {
    let text = match format {
        OutputFormat::Json => {
            let clusters: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|o| {
                    let diff = serde_json::from_str::<serde_json::Value>(&o.stdout).ok();
                    let error = (!matches!(o.code, Some(0 | 4))).then(|| o.error()).flatten();
                    serde_json::json!({"name": o.name, "context": o.context, "diff": diff, "error": error})
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({"clusters": clusters}))? + "\n"
        }
        OutputFormat::Text => outcomes
            .iter()
            .map(|o| {
                let body = if o.stdout.is_empty() && !matches!(o.code, Some(0 | 4)) {
                    format!("(failed: {})\n", o.error().unwrap_or_default())
                } else {
                    o.stdout.clone()
                };
                format!("=== cluster {} ===\n{body}", o.name)
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    super::write_stdout(text.as_bytes())
}
