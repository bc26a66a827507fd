//! Errors that change the exit code, and the one place that prints errors.

use crate::exit::ExitStatus;
use std::fmt;
use std::io::Write as _;

/// What kind of failure a [`UserError`] is: it decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input (a profile, `--set`, a flag): exit 2, and nothing was run.
    Input,
    /// The person at the terminal said no: not a failure, just nothing done; exit 3.
    Declined,
    /// Something failed while running (helm, kubectl, the cluster): exit 1.
    Runtime,
}

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

/// ` (team.yaml:7)` after a message, or nothing.
struct OriginNote<'a>(Option<&'a Origin>);

impl fmt::Display for OriginNote<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(origin) => write!(f, " ({origin})"),
            None => Ok(()),
        }
    }
}

/// The one error eksmon says to its user: one line (the message, and where the input came
/// from), then `hint:` lines that say what to do. As the context of another error it adds its
/// hints to that error's; with an empty message it adds nothing else to the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{}", .kind.lead(), .message, OriginNote(.origin.as_ref()))]
pub struct UserError {
    pub kind: ErrorKind,
    pub message: String,
    pub origin: Option<Origin>,
    pub hints: Vec<String>,
}

impl ErrorKind {
    fn lead(self) -> &'static str {
        match self {
            ErrorKind::Declined => "cancelled; ",
            ErrorKind::Input | ErrorKind::Runtime => "",
        }
    }
}

impl UserError {
    fn new(kind: ErrorKind, message: String) -> Self {
        Self {
            kind,
            message,
            origin: None,
            hints: Vec::new(),
        }
    }

    /// Bad input, named as `field: what is wrong`.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Input, message.into())
    }

    /// A prompt answered no; `outcome` says what was not done (`nothing was uninstalled`).
    pub fn declined(outcome: impl Into<String>) -> Self {
        Self::new(ErrorKind::Declined, outcome.into())
    }

    /// A failure while running.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message.into())
    }

    pub fn at(mut self, origin: Origin) -> Self {
        self.origin = Some(origin);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn hints(mut self, hints: impl IntoIterator<Item = String>) -> Self {
        self.hints.extend(hints);
        self
    }
}

/// Adds a `hint:` line to any error, keeping its message and its chain (the tool output and
/// interrupts under it stay readable).
pub(crate) fn with_hint(mut err: anyhow::Error, hint: impl Into<String>) -> anyhow::Error {
    if let Some(user) = err.downcast_mut::<UserError>() {
        user.hints.push(hint.into());
        return err;
    }
    err.context(UserError::runtime(String::new()).hint(hint))
}

/// One release that failed, with what to do about it.
#[derive(Debug)]
pub(crate) struct ReleaseFailure {
    pub release: String,
    pub error: anyhow::Error,
}

impl ReleaseFailure {
    pub(crate) fn new(release: &str, error: impl Into<anyhow::Error>) -> Self {
        Self {
            release: release.to_owned(),
            error: error.into(),
        }
    }

    /// A `hint:` line under its error (how to recover what it left behind).
    pub(crate) fn hint(&mut self, hint: impl Into<String>) {
        let error = std::mem::replace(&mut self.error, anyhow::Error::msg(String::new()));
        self.error = with_hint(error, hint);
    }
}

/// Several releases failed independently (each with its own cause); exit 1.
#[derive(Debug)]
pub(crate) struct ReleaseFailures(pub Vec<ReleaseFailure>);

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
    pub(crate) fn check(failures: Vec<ReleaseFailure>) -> anyhow::Result<()> {
        if failures.is_empty() {
            Ok(())
        } else {
            Err(ReleaseFailures(failures).into())
        }
    }
}

/// One error as it is said: its line, the tool's output under it, its hints, and how the run
/// ends.
struct Described {
    line: String,
    details: Vec<String>,
    hints: Vec<String>,
    status: ExitStatus,
}

impl Described {
    /// The lines under the error line: the tool's output, then `hint:` lines.
    fn under(&self) -> impl Iterator<Item = String> + '_ {
        let hints = self.hints.iter().map(|hint| format!("hint: {hint}"));
        self.details.iter().cloned().chain(hints)
    }
}

/// Prints `error: …` (and any `hint:` or tool output lines) to stderr; how the run ends.
pub(crate) fn report(err: &anyhow::Error) -> ExitStatus {
    let mut stderr = std::io::stderr().lock();
    let Some(ReleaseFailures(failures)) = err.downcast_ref::<ReleaseFailures>() else {
        let described = describe(err);
        let _ = writeln!(stderr, "error: {}", described.line);
        for line in described.under() {
            let _ = writeln!(stderr, "{line}");
        }
        return described.status;
    };
    let described: Vec<(&str, Described)> = failures
        .iter()
        .map(|failure| (failure.release.as_str(), describe(&failure.error)))
        .collect();
    let unreachable = |failure: &ReleaseFailure| {
        crate::kube::ApiFailure::of(&failure.error) == Some(crate::kube::ApiFailure::Unreachable)
    };
    let interrupt = described
        .iter()
        .find(|(_, d)| matches!(d.status, ExitStatus::Interrupted(_)));
    if failures.iter().all(unreachable)
        && let Some((release, first)) = described.first()
    {
        // No cluster answered any of them: one cause, said once.
        if described.len() == 1 {
            let _ = writeln!(stderr, "error: {release}: {}", first.line);
        } else {
            let _ = writeln!(stderr, "error: {}", first.line);
        }
        let mut said: Vec<String> = Vec::new();
        let under = first.details.iter().cloned().chain(
            described
                .iter()
                .flat_map(|(_, d)| d.hints.iter().map(|hint| format!("hint: {hint}"))),
        );
        for line in under {
            if !said.contains(&line) {
                let _ = writeln!(stderr, "{line}");
                said.push(line);
            }
        }
        return ExitStatus::Failure;
    }
    if let Some((_, stopped)) = interrupt {
        // An interrupt stopped them all: say so once, then what it left behind.
        let _ = writeln!(stderr, "error: {}", stopped.line);
        for (_, d) in &described {
            for hint in &d.hints {
                let _ = writeln!(stderr, "hint: {hint}");
            }
        }
        return stopped.status;
    }
    for (release, d) in &described {
        let _ = writeln!(stderr, "error: {release}: {}", d.line);
        for line in d.under() {
            let _ = writeln!(stderr, "{line}");
        }
    }
    ExitStatus::Failure
}

/// An error's line: its message and its causes', as anyhow's `{:#}` joins them, leaving out
/// the layers that only add hints.
pub(crate) fn line(err: &anyhow::Error) -> String {
    let messages: Vec<String> = err
        .chain()
        .map(ToString::to_string)
        .filter(|message| !message.is_empty())
        .collect();
    one_line(&messages.join(": "))
}

/// Every hint in the error's chain, the outermost first; and the kind of the first user error
/// that is not a runtime one.
fn hints_and_kind(err: &anyhow::Error) -> (Vec<String>, ErrorKind) {
    // A user error added as context is seen only by anyhow's own downcast (a cause in the
    // chain is the context wrapper); one made into an error is seen in the chain.
    let mut found: Vec<&UserError> = err.downcast_ref::<UserError>().into_iter().collect();
    for user in err
        .chain()
        .filter_map(|cause| cause.downcast_ref::<UserError>())
    {
        if !found.iter().any(|seen| std::ptr::eq(*seen, user)) {
            found.push(user);
        }
    }
    let mut hints = Vec::new();
    let mut kind = ErrorKind::Runtime;
    for user in found {
        hints.extend(user.hints.iter().cloned());
        if kind == ErrorKind::Runtime {
            kind = user.kind;
        }
    }
    (hints, kind)
}

/// The error line, the lines under it, and how the run ends, for one error.
fn describe(err: &anyhow::Error) -> Described {
    let (mut hints, kind) = hints_and_kind(err);
    let mut described = Described {
        line: line(err),
        details: Vec::new(),
        hints: Vec::new(),
        status: ExitStatus::Failure,
    };
    match kind {
        ErrorKind::Input => described.status = ExitStatus::Usage,
        ErrorKind::Declined => described.status = ExitStatus::Declined,
        ErrorKind::Runtime => {
            if let Some(interrupted) = crate::tool::interrupted(err) {
                described.line = "interrupted".into();
                described.status = interrupted.exit_status();
            } else {
                let (details, tool_hint) = tool_lines(err);
                described.details = details;
                hints.splice(0..0, tool_hint);
            }
        }
    }
    described.hints = hints;
    described
}

/// The tail of a failed tool's stderr, and a hint for a missing tool or an unreachable cluster.
fn tool_lines(err: &anyhow::Error) -> (Vec<String>, Option<String>) {
    let tool = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<crate::tool::ToolError>());
    match tool {
        Some(crate::tool::ToolError::NotFound { kind, .. }) => (Vec::new(), Some(match kind {
            crate::tool::ToolKind::Helm => "install helm (3.8 or newer, or 4) and put it on PATH, or point eksmon at it with --helm PATH or EKSMON_HELM".to_owned(),
            crate::tool::ToolKind::Kubectl => "install kubectl (within one minor version of the cluster's Kubernetes) and put it on PATH, or point eksmon at it with --kubectl PATH or EKSMON_KUBECTL".to_owned(),
        })),
        Some(tool) => (
            tool.stderr_tail(),
            tool.stderr().and_then(unreachable_hint),
        ),
        None => (Vec::new(), None),
    }
}

/// What to check when helm or kubectl got no answer from the cluster.
pub(crate) fn unreachable_hint(stderr: &str) -> Option<String> {
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
pub(crate) fn report_usage(rendered: &str) {
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
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// True when writing failed only because the reader went away (`eksmon render | head`).
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
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
        let err = UserError::input("alb.subnets[0]: bad").at(Origin::File {
            name: "team.yaml".into(),
            line: Some(7),
        });
        assert_eq!(err.to_string(), "alb.subnets[0]: bad (team.yaml:7)");
        let err = UserError::input("x").at(Origin::Set("a=b".into()));
        assert_eq!(err.to_string(), "x (--set a=b)");
        assert_eq!(
            UserError::declined("nothing was done").to_string(),
            "cancelled; nothing was done"
        );
    }

    #[test]
    fn hints_are_found_on_the_error_in_its_context_and_in_its_causes() {
        let tool = anyhow::Error::new(UserError::runtime("inner").hint("first"));
        let err = with_hint(tool.context("outer"), "second");
        let err = with_hint(err, "third");
        assert_eq!(line(&err), "outer: inner");
        let (hints, kind) = hints_and_kind(&err);
        assert_eq!(hints, ["first", "second", "third"]);
        assert_eq!(kind, ErrorKind::Runtime);
        let input = anyhow::Error::new(UserError::input("bad")).context("while loading");
        assert_eq!(hints_and_kind(&input).1, ErrorKind::Input);
        let mut failure = ReleaseFailure::new("r", anyhow::anyhow!("helm failed"));
        failure.hint("a");
        failure.hint("b");
        assert_eq!(line(&failure.error), "helm failed");
        assert_eq!(hints_and_kind(&failure.error).0, ["a", "b"]);
    }

    #[test]
    fn control_characters_never_break_the_line() {
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a b [31m");
    }
}
