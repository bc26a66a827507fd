//! Errors that change the exit code, and the one place that prints errors.

use crate::exit::ExitStatus;
use std::fmt;
use std::io::Write as _;

/// The person at the terminal said no: not a failure and not bad input, just nothing done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declined {
    /// What was not done, as the one line says it (`nothing was uninstalled`).
    pub outcome: String,
    pub hints: Vec<String>,
}

impl Declined {
    pub fn new(outcome: impl Into<String>) -> Self {
        Self {
            outcome: outcome.into(),
            hints: Vec::new(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for Declined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cancelled; {}", self.outcome)
    }
}

impl std::error::Error for Declined {}

/// Where a setting came from, as error messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// eksmon's own defaults.
    Defaults,
    /// A profile file (`team.yaml`, `built-in example.yaml`), with the line when known.
    File { name: String, line: Option<usize> },
    /// One `--set key=value` argument.
    Set(String),
    /// A dedicated flag such as `--exposure`.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Defaults => f.write_str("built-in defaults"),
            Origin::File {
                name,
                line: Some(line),
            } => write!(f, "{name}:{line}"),
            Origin::File { name, line: None } => f.write_str(name),
            Origin::Set(arg) => write!(f, "--set {arg}"),
            Origin::Flag(flag) => f.write_str(flag),
        }
    }
}

/// Bad input: printed as one line naming what is wrong and where it came from; exit 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub message: String,
    pub origin: Option<Origin>,
    pub hints: Vec<String>,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            origin: None,
            hints: Vec::new(),
        }
    }

    pub fn at(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(origin) = &self.origin {
            write!(f, " ({origin})")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// A runtime error's context with `hint:` lines to print under it.
#[derive(Debug)]
pub struct Hinted {
    pub message: String,
    pub hints: Vec<String>,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

/// One release that failed, with what to do about it.
#[derive(Debug)]
pub struct ReleaseFailure {
    pub release: String,
    pub error: anyhow::Error,
    /// `hint:` lines under its error (how to recover what it left behind).
    pub hints: Vec<String>,
}

impl ReleaseFailure {
    pub fn new(release: &str, error: impl Into<anyhow::Error>) -> Self {
        Self {
            release: release.to_owned(),
            error: error.into(),
            hints: Vec::new(),
        }
    }
}

/// Several releases failed independently (each with its own cause); exit 1.
#[derive(Debug)]
pub struct ReleaseFailures(pub Vec<ReleaseFailure>);

impl fmt::Display for ReleaseFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .0
            .iter()
            .map(|failure| failure.release.as_str())
            .collect();
        write!(f, "failed: {}", names.join(", "))
    }
}

impl std::error::Error for ReleaseFailures {}

impl ReleaseFailures {
    /// Ok when nothing failed, else every failure as one error.
    pub fn check(failures: Vec<ReleaseFailure>) -> anyhow::Result<()> {
        if failures.is_empty() {
            Ok(())
        } else {
            Err(ReleaseFailures(failures).into())
        }
    }
}

/// Prints `error: …` (and any `hint:` or tool output lines) to stderr; how the run ends.
pub fn report(err: &anyhow::Error) -> ExitStatus {
    let mut stderr = std::io::stderr().lock();
    if let Some(ReleaseFailures(failures)) = err.downcast_ref::<ReleaseFailures>() {
        let described: Vec<(&ReleaseFailure, (Vec<String>, ExitStatus))> = failures
            .iter()
            .map(|failure| (failure, describe(&failure.error)))
            .collect();
        let hints = || {
            described
                .iter()
                .flat_map(|(failure, _)| failure.hints.iter().map(|h| format!("hint: {h}")))
        };
        // No cluster answered any of them: one cause, said once.
        let unreachable = |failure: &ReleaseFailure| {
            crate::kube::ApiFailure::of(&failure.error)
                == Some(crate::kube::ApiFailure::Unreachable)
        };
        if failures.iter().all(unreachable)
            && let Some((first, (lines, _))) = described.first()
        {
            if described.len() == 1 {
                let _ = writeln!(stderr, "error: {}: {}", first.release, lines[0]);
            } else {
                let _ = writeln!(stderr, "error: {}", lines[0]);
            }
            let mut said: Vec<String> = Vec::new();
            for line in lines[1..].iter().cloned().chain(hints()) {
                if !said.contains(&line) {
                    let _ = writeln!(stderr, "{line}");
                    said.push(line);
                }
            }
            return ExitStatus::Failure;
        }
        // An interrupt stopped them all: say so once, then what it left behind.
        if let Some((_, (lines, status))) = described
            .iter()
            .find(|(_, (_, status))| matches!(status, ExitStatus::Interrupted(_)))
        {
            let _ = writeln!(stderr, "error: {}", lines[0]);
            for line in hints() {
                let _ = writeln!(stderr, "{line}");
            }
            return *status;
        }
        for (failure, (lines, _)) in &described {
            let _ = writeln!(stderr, "error: {}: {}", failure.release, lines[0]);
            for line in lines[1..]
                .iter()
                .cloned()
                .chain(failure.hints.iter().map(|h| format!("hint: {h}")))
            {
                let _ = writeln!(stderr, "{line}");
            }
        }
        return ExitStatus::Failure;
    }
    let (lines, status) = describe(err);
    let _ = writeln!(stderr, "error: {}", lines[0]);
    for line in &lines[1..] {
        let _ = writeln!(stderr, "{line}");
    }
    status
}

/// The error line, the lines under it, and how the run ends, for one error.
fn describe(err: &anyhow::Error) -> (Vec<String>, ExitStatus) {
    let mut lines = vec![one_line(&format!("{err:#}"))];
    if let Some(input) = err.downcast_ref::<InputError>() {
        lines.extend(input.hints.iter().map(|h| format!("hint: {h}")));
        return (lines, ExitStatus::Usage);
    }
    if let Some(declined) = err.downcast_ref::<Declined>() {
        lines.extend(declined.hints.iter().map(|h| format!("hint: {h}")));
        return (lines, ExitStatus::Declined);
    }
    if let Some(interrupted) = crate::tool::interrupted(err) {
        return (vec!["interrupted".into()], interrupted.exit_status());
    }
    let tool = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<crate::tool::ToolError>());
    match tool {
        Some(crate::tool::ToolError::NotFound { kind, .. }) => {
            lines.push(match kind {
                crate::tool::ToolKind::Helm => "hint: install helm (3.8 or newer, or 4) and put it on PATH, or point eksmon at it with --helm PATH or EKSMON_HELM".to_owned(),
                crate::tool::ToolKind::Kubectl => "hint: install kubectl (within one minor version of the cluster's Kubernetes) and put it on PATH, or point eksmon at it with --kubectl PATH or EKSMON_KUBECTL".to_owned(),
            });
        }
        Some(tool) => {
            lines.extend(tool.stderr_tail());
            if let Some(hint) = tool.stderr().and_then(unreachable_hint) {
                lines.push(format!("hint: {hint}"));
            }
        }
        None => {}
    }
    if let Some(hinted) = err.downcast_ref::<Hinted>() {
        lines.extend(hinted.hints.iter().map(|h| format!("hint: {h}")));
    }
    (lines, ExitStatus::Failure)
}

/// What to check when helm or kubectl got no answer from the cluster.
pub fn unreachable_hint(stderr: &str) -> Option<String> {
    if crate::kube::ApiFailure::from_stderr(stderr) != Some(crate::kube::ApiFailure::Unreachable) {
        return None;
    }
    Some(if stderr.contains("localhost:8080") {
        // client-go's fallback when it finds no kubeconfig at all.
        "no kubeconfig was found (helm and kubectl fell back to localhost:8080): `aws eks update-kubeconfig --name CLUSTER` writes one, or pass --kubeconfig PATH".to_owned()
    } else {
        "the cluster did not answer: check `kubectl config current-context` (or --kube-context), that the cluster is up, and your credentials (`aws eks update-kubeconfig --name CLUSTER`)".to_owned()
    })
}

/// A clap usage error in eksmon's shape: its `error:` line, then its tips as `hint:` lines
/// (the usage synopsis is left to `--help`).
pub fn report_usage(rendered: &str) {
    let mut stderr = std::io::stderr().lock();
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .peekable();
    if let Some(first) = lines.next() {
        // "…were not provided:" lists what on the lines below: keep it on the error line.
        let mut first = first.to_owned();
        let listing = first.ends_with(':');
        while listing
            && let Some(item) = lines.next_if(|l| {
                !l.starts_with("Usage:") && !l.starts_with("tip:") && !l.starts_with("For more")
            })
        {
            first = format!("{first} {item}");
        }
        // `[possible values: …]` under an invalid value belongs to its line.
        if let Some(values) = lines.next_if(|l| l.starts_with("[possible values:")) {
            first = format!("{first} {values}");
        }
        let _ = writeln!(stderr, "{first}");
        if let Some(value) = case_suggestion(&first) {
            let _ = writeln!(
                stderr,
                "hint: did you mean `{value}`? (values are lower case)"
            );
        }
    }
    for line in lines {
        if let Some(tip) = line.strip_prefix("tip: ") {
            let _ = writeln!(stderr, "hint: {tip}");
        } else if line.starts_with("For more information") {
            let _ = writeln!(stderr, "hint: {line}");
        }
    }
}

/// For `invalid value 'ALB' for … [possible values: alb, nlb, none]`: the value in the case
/// clap takes it (clap's own suggestion misses a value that differs only in case).
fn case_suggestion(error_line: &str) -> Option<String> {
    let (_, rest) = error_line.split_once("invalid value '")?;
    let (given, rest) = rest.split_once('\'')?;
    let (_, values) = rest.split_once("[possible values: ")?;
    let values = values.split(']').next()?;
    values
        .split(", ")
        .find(|value| value.eq_ignore_ascii_case(given) && *value != given)
        .map(str::to_owned)
}

/// Keeps the error on one line even when a value in it spans several.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// True when writing failed only because the reader went away (`eksmon render | head`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_errors_name_their_origin() {
        let err = InputError::new("alb.subnets[0]: bad").at(Origin::File {
            name: "team.yaml".into(),
            line: Some(7),
        });
        assert_eq!(err.to_string(), "alb.subnets[0]: bad (team.yaml:7)");
        let err = InputError::new("x").at(Origin::Set("a=b".into()));
        assert_eq!(err.to_string(), "x (--set a=b)");
    }

    #[test]
    fn control_characters_never_break_the_line() {
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a b [31m");
    }
}
