//! Running helm and kubectl: an argv through duct (never a shell), output captured, a deadline.
//!
//! Children run in their own process group, so a Ctrl-C reaches them once, from us (see
//! [`crate::signals`]), rather than twice (helm treats a second interrupt as "give up now").

use crate::printer::Printer;
use crate::signals::{self, ChildGuard, Interrupted};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A tool eksmon drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolKind {
    Helm,
    Kubectl,
}

impl ToolKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ToolKind::Helm => "helm",
            ToolKind::Kubectl => "kubectl",
        }
    }
}

/// The interrupt behind an error, if it was one: a prompt's, or a signal while a tool ran.
pub(crate) fn interrupted(err: &anyhow::Error) -> Option<Interrupted> {
    err.chain().find_map(|cause| {
        cause.downcast_ref::<Interrupted>().copied().or_else(|| {
            match cause.downcast_ref::<ToolError>() {
                Some(ToolError::Interrupted(interrupted)) => Some(*interrupted),
                _ => None,
            }
        })
    })
}

/// A located executable.
#[derive(Debug, Clone)]
pub(crate) struct Tool {
    pub kind: ToolKind,
    pub path: PathBuf,
    /// Prints each command line first with `--verbose` (arguments never hold secrets).
    pub printer: Printer,
}

/// Why a tool did not do its job. All of these exit 1 (interrupts 128 + signal).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToolError {
    #[error("{} not found ({searched})", kind.name())]
    NotFound { kind: ToolKind, searched: String },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}){}", reason(stderr).map(|r| format!(": {r}")).unwrap_or_default())]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("`{command}` did not finish within {}s and was stopped", after.as_secs())]
    TimedOut { command: String, after: Duration },
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
}

impl ToolError {
    /// The tool's stderr under the error line (its reason is in the line already).
    pub(crate) fn stderr_tail(&self) -> Vec<String> {
        self.stderr().map(stderr_tail).unwrap_or_default()
    }

    /// The tool's own one-line reason, when it ran and failed.
    pub(crate) fn reason(&self) -> Option<&str> {
        self.stderr().and_then(reason)
    }

    /// The tool's stderr when it ran and failed.
    pub(crate) fn stderr(&self) -> Option<&str> {
        match self {
            ToolError::Failed { stderr, .. } => Some(stderr),
            _ => None,
        }
    }
}

/// The line that says why a tool failed: helm's and kubectl's own `Error…`/`error:` line (helm
/// prints warnings and progress before it), else the last line.
fn reason_line(stderr: &str) -> Option<&str> {
    let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| l.starts_with("Error") || l.starts_with("error:"))
        .or_else(|| lines().next_back())
}

/// [`reason_line`] without its `Error: ` prefix, for the error line.
fn reason(stderr: &str) -> Option<&str> {
    let line = reason_line(stderr)?;
    Some(
        line.strip_prefix("Error: ")
            .or_else(|| line.strip_prefix("error: "))
            .unwrap_or(line),
    )
}

/// client-go's log lines about API discovery and watches (`memcache.go … couldn't get current
/// server API group list`, `reflector.go … watch ended with error`): repeated on every failed
/// connection, while the error line already says the cluster did not answer.
fn is_discovery_noise(line: &str) -> bool {
    line.contains("memcache.go:")
        || line.contains("couldn't get current server API group list")
        || (line.contains("reflector.go:") && line.contains("watch ended with error"))
}

/// The rest of a tool's stderr (the reason is in the error line already), up to 20 lines,
/// indented under the error.
fn stderr_tail(stderr: &str) -> Vec<String> {
    let shown = reason_line(stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && Some(l.trim()) != shown && !is_discovery_noise(l))
        .collect();
    let skip = lines.len().saturating_sub(20);
    lines[skip..].iter().map(|l| format!("  | {l}")).collect()
}

impl Tool {
    /// The same tool, printing its command lines as `printer` says.
    pub(crate) fn with_printer(mut self, printer: Printer) -> Self {
        self.printer = printer;
        self
    }

    /// `explicit` (a flag or its environment variable) when given, else the first on PATH.
    pub(crate) fn find(kind: ToolKind, explicit: Option<&Path>) -> Result<Tool, ToolError> {
        if let Some(path) = explicit {
            return if is_executable(path) {
                Ok(Tool {
                    kind,
                    path: path.to_owned(),
                    printer: Printer::default(),
                })
            } else {
                Err(ToolError::NotFound {
                    kind,
                    searched: format!("`{}` is not an executable file", path.display()),
                })
            };
        }
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path_var)
            .map(|dir| dir.join(kind.name()))
            .find(|candidate| is_executable(candidate))
            .map(|path| Tool {
                kind,
                path,
                printer: Printer::default(),
            })
            .ok_or(ToolError::NotFound {
                kind,
                searched: "not on PATH".into(),
            })
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// One run of a tool.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    /// eksmon's own limit; past it the child gets SIGTERM, then SIGKILL.
    deadline: Option<Duration>,
    /// Run even after an interrupt (a short query that tells the user how to recover).
    after_interrupt: bool,
}

impl Invocation {
    pub(crate) fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            stdin: None,
            deadline: None,
            after_interrupt: false,
        }
    }

    /// Run even after an interrupt: for the short queries that say how to recover.
    pub(crate) fn after_interrupt(mut self) -> Self {
        self.after_interrupt = true;
        self
    }

    /// Stop the tool if it runs longer than this.
    pub(crate) fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// Feed these bytes to the tool's stdin.
    pub(crate) fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }
}

/// What a finished run printed.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

/// `tool args…` as one display line, with arguments quoted where a shell would need it.
pub(crate) fn display_command(tool: &Tool, args: &[OsString]) -> String {
    std::iter::once(tool.kind.name().to_owned())
        .chain(args.iter().map(|a| quote_arg(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_arg(arg: &OsStr) -> String {
    quote(&arg.to_string_lossy())
}

/// One word as a POSIX shell reads it back: as it is when plain, else single-quoted.
pub(crate) fn quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

impl Tool {
    /// Runs and fails unless the tool exits 0.
    pub(crate) fn run(&self, invocation: &Invocation) -> Result<Captured, ToolError> {
        let captured = self.run_unchecked(invocation)?;
        if captured.success {
            Ok(captured)
        } else {
            Err(ToolError::Failed {
                command: short_command(self, &invocation.args),
                status: captured.status,
                stderr: captured.stderr,
            })
        }
    }

    /// Runs and returns the output whatever the exit status.
    pub(crate) fn run_unchecked(&self, invocation: &Invocation) -> Result<Captured, ToolError> {
        let command = display_command(self, &invocation.args);
        self.printer.verbose_line(|| format!("+ {command}"));
        if let Some(interrupted) = signals::cancelled()
            && !invocation.after_interrupt
        {
            return Err(interrupted.into());
        }
        let mut expression = duct::cmd(&self.path, &invocation.args)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .before_spawn(|cmd| {
                use std::os::unix::process::CommandExt as _;
                cmd.process_group(0);
                Ok(())
            });
        expression = match &invocation.stdin {
            Some(bytes) => expression.stdin_bytes(bytes.clone()),
            None => expression.stdin_null(),
        };
        let handle = expression.start().map_err(|source| ToolError::Spawn {
            command: short_command(self, &invocation.args),
            source,
        })?;
        let _registered = ChildGuard::register(handle.pids(), self.kind.name());
        let started = Instant::now();
        // An interrupt reaches the child from the signal thread; the child then gets to finish
        // what it does on a signal (helm rolls back), within the deadline.
        let output = loop {
            match handle.wait_timeout(Duration::from_millis(200)) {
                Ok(Some(output)) => break output.clone(),
                Ok(None) => {}
                Err(source) => {
                    return Err(ToolError::Spawn {
                        command: short_command(self, &invocation.args),
                        source,
                    });
                }
            }
            if let Some(limit) = invocation.deadline
                && started.elapsed() > limit
            {
                signals::signal_all(&handle.pids(), libc::SIGTERM);
                stop(&handle, Duration::from_secs(5));
                return Err(ToolError::TimedOut {
                    command: short_command(self, &invocation.args),
                    after: limit,
                });
            }
        };
        // A child that stopped because of the signal we forwarded is an interrupt, not a failure.
        if let Some(interrupted) = signals::cancelled()
            && !invocation.after_interrupt
        {
            return Err(interrupted.into());
        }
        Ok(Captured {
            success: output.status.success(),
            status: describe_status(output.status),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// The command as an error names it: the subcommand and its positional words (`helm uninstall
/// grafana`), plus the namespace and context flags with their values; not chart paths, values
/// files or other flags.
fn short_command(tool: &Tool, args: &[OsString]) -> String {
    const SCOPE: [&str; 4] = ["--namespace", "--kube-context", "--context", "-n"];
    let mut words: Vec<OsString> = Vec::new();
    let mut flags_started = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if SCOPE.contains(&text.as_ref()) {
            flags_started = true;
            if let Some(value) = iter.next() {
                words.extend([arg.clone(), value.clone()]);
            }
        } else if text.starts_with('-') && text != "--install" {
            flags_started = true;
        } else if !flags_started && !text.contains('/') {
            words.push(arg.clone());
        }
    }
    display_command(tool, &words)
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => "unknown status".into(),
    }
}

/// Waits up to `grace` for the child to finish, then kills its whole process group.
fn stop(handle: &duct::Handle, grace: Duration) {
    if !matches!(handle.wait_timeout(grace), Ok(Some(_))) {
        signals::signal_all(&handle.pids(), libc::SIGKILL);
        let _ = handle.kill();
        let _ = handle.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> Tool {
        Tool {
            kind: ToolKind::Helm,
            path: "/bin/sh".into(),
            printer: Printer::default(),
        }
    }

    #[test]
    fn captures_output_and_status() {
        let ok = sh()
            .run(&Invocation::new(["-c", "echo out; echo err >&2"]))
            .unwrap();
        assert_eq!((ok.stdout.as_str(), ok.stderr.as_str()), ("out\n", "err\n"));
        let err = sh()
            .run(&Invocation::new(["-c", "echo boom >&2; exit 3"]))
            .unwrap_err();
        assert_eq!(err.to_string(), "`helm` failed (exit 3): boom");
    }

    #[test]
    fn the_error_line_names_the_command_and_the_tools_reason() {
        let helm = |args: &[&str]| {
            short_command(&sh(), &args.iter().map(OsString::from).collect::<Vec<_>>())
        };
        assert_eq!(
            helm(&[
                "uninstall",
                "grafana",
                "--namespace",
                "mon",
                "--kube-context",
                "prod",
                "--wait"
            ]),
            "helm uninstall grafana --namespace mon --kube-context prod"
        );
        assert_eq!(
            helm(&[
                "upgrade",
                "--install",
                "prometheus",
                "/cache/p.tgz",
                "--namespace",
                "mon",
                "--values",
                "/tmp/v.yaml"
            ]),
            "helm upgrade --install prometheus --namespace mon"
        );
        // helm's warnings and progress come first; its `Error:` line says why.
        let stderr = "level=WARN msg=\"upgrade failed\"\nError: UPGRADE FAILED: resource not ready\nresource Deployment/mon/grafana not ready\ncontext deadline exceeded\n";
        assert_eq!(reason(stderr), Some("UPGRADE FAILED: resource not ready"));
        assert_eq!(
            stderr_tail(stderr),
            [
                "  | level=WARN msg=\"upgrade failed\"",
                "  | resource Deployment/mon/grafana not ready",
                "  | context deadline exceeded"
            ]
        );
        assert_eq!(reason("just one line\n"), Some("just one line"));
        assert_eq!(reason(""), None);
    }

    #[test]
    fn deadline_stops_a_hung_child() {
        // The shell forks `sleep`, which holds the output pipe: the whole group must go.
        let invocation =
            Invocation::new(["-c", "sleep 30; echo never"]).deadline(Duration::from_millis(300));
        let started = Instant::now();
        let err = sh().run(&invocation).unwrap_err();
        assert!(matches!(err, ToolError::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn stdin_is_passed_through() {
        let invocation = Invocation::new(["-c", "cat"]).stdin(b"kind: StorageClass\n".to_vec());
        assert_eq!(
            sh().run(&invocation).unwrap().stdout,
            "kind: StorageClass\n"
        );
    }

    #[test]
    fn commands_display_quoted() {
        let args: Vec<OsString> = ["upgrade", "--install", "a b", "it's"]
            .map(Into::into)
            .to_vec();
        assert_eq!(
            display_command(&sh(), &args),
            r"helm upgrade --install 'a b' 'it'\''s'"
        );
    }
}
