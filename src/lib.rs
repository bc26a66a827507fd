//! eksmon: Prometheus + Grafana monitoring on Amazon EKS with Helm.
//!
//! One direction of data: profile files, `--set` and flags → [`settings::Settings`] (typed,
//! validated) → minijinja templates → chart values YAML → stdout, files, or helm.

mod alertmanager;
mod chart_versions;
mod charts;
mod cli;
mod commands;
mod context;
mod dashboards;
mod doctor;
mod error;
mod exit;
mod export;
mod field_path;
mod files;
mod fleet;
mod guard;
mod helm;
mod iam;
pub mod kube;
#[cfg(test)]
mod layers;
mod manifest_diff;
mod namespaces;
mod naming;
mod printer;
pub mod profile;
pub mod render;
mod repo;
mod rules;
mod scratch;
mod secrets;
pub mod settings;
mod signals;
mod sync;
mod target;
mod tool;
mod ui;
mod validate;
mod wizard;
pub mod yaml;

use clap::Parser as _;
use std::process::ExitCode;

/// Every command and subcommand, as the words that name it (`["charts", "bump"]`), in the order
/// `--help` lists them; for the help snapshot, so that a new command is in it.
#[doc(hidden)]
pub fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, above: &[String], paths: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = above.to_vec();
            path.push(sub.get_name().to_owned());
            paths.push(path.clone());
            walk(sub, &path, paths);
        }
    }
    let mut paths = vec![Vec::new()];
    walk(
        &<cli::Cli as clap::CommandFactory>::command(),
        &[],
        &mut paths,
    );
    paths
}

/// Parses the command line, runs the command and reports any error; the process's exit code.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            error::report_usage(&err.render().to_string());
            return exit::ExitStatus::Usage.into();
        }
    };
    // Before any prompt or child process: an interrupt is then always handled the same way.
    signals::handle_signals();
    let run = context::Run::new(&cli.global, std::env::args_os().skip(1).collect());
    let status = match commands::run(&run, cli.command) {
        Ok(status) => status,
        Err(err) if error::is_broken_pipe(&err) => exit::ExitStatus::Success,
        Err(err) => error::report(&err),
    };
    status.into()
}
