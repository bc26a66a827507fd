//! Running helm and kubectl: an argv through duct (never a shell), output captured, a deadline,
//! and SIGINT/SIGTERM forwarded to the children, with scratch files removed on every way out.
//!
//! Children run in their own process group, so a Ctrl-C reaches them once, from us, rather than
//! twice (helm treats a second interrupt as "give up now").

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// A tool eksmon drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    Helm,
    Kubectl,
}

impl ToolKind {
    pub fn name(self) -> &'static str {
        match self {
            ToolKind::Helm => "helm",
            ToolKind::Kubectl => "kubectl",
        }
    }
}

/// A located executable.
#[derive(Debug, Clone)]
pub struct Tool {
    pub kind: ToolKind,
    pub path: PathBuf,
}

/// Why a tool did not do its job. All of these exit 1 (interrupts 128 + signal).
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
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
    #[error("interrupted")]
    Interrupted { signal: i32 },
}

impl ToolError {
    /// Lines worth showing under the error: the tool's stderr, or how to fix a missing tool.
    pub fn details(&self) -> Vec<String> {
        match self {
            ToolError::NotFound { kind, .. } => {
                let var = match kind {
                    ToolKind::Helm => "--helm PATH or EKSMON_HELM",
                    ToolKind::Kubectl => "--kubectl PATH or EKSMON_KUBECTL",
                };
                vec![format!(
                    "hint: install {} (helm 3.8+ / 4) and put it on PATH, or point eksmon at it with {var}",
                    kind.name()
                )]
            }
            ToolError::Failed { stderr, .. } => stderr_tail(stderr),
            _ => Vec::new(),
        }
    }

    /// The tool's own one-line reason, when it ran and failed.
    pub fn reason(&self) -> Option<&str> {
        self.stderr().and_then(reason)
    }

    /// The tool's stderr when it ran and failed.
    pub fn stderr(&self) -> Option<&str> {
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

/// The rest of a tool's stderr (the reason is in the error line already), up to 20 lines,
/// indented under the error.
fn stderr_tail(stderr: &str) -> Vec<String> {
    let shown = reason_line(stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && Some(l.trim()) != shown)
        .collect();
    let skip = lines.len().saturating_sub(20);
    lines[skip..].iter().map(|l| format!("  | {l}")).collect()
}

impl Tool {
    /// `explicit` (a flag or its environment variable) when given, else the first on PATH.
    pub fn find(kind: ToolKind, explicit: Option<&Path>) -> Result<Tool, ToolError> {
        if let Some(path) = explicit {
            return if is_executable(path) {
                Ok(Tool {
                    kind,
                    path: path.to_owned(),
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
            .map(|path| Tool { kind, path })
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
pub struct Invocation {
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    /// eksmon's own limit; past it the child gets SIGTERM, then SIGKILL.
    deadline: Option<Duration>,
    /// Print the argv to stderr first (`--verbose`). Arguments never hold secrets.
    echo: bool,
    /// Run even after an interrupt (a short query that tells the user how to recover).
    after_interrupt: bool,
}

impl Invocation {
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            args: args.into_iter().map(Into::into).collect(),
            stdin: None,
            deadline: None,
            echo: false,
            after_interrupt: false,
        }
    }

    /// Run even after an interrupt: for the short queries that say how to recover.
    pub fn after_interrupt(mut self) -> Self {
        self.after_interrupt = true;
        self
    }

    /// Print the argv first (`--verbose`).
    pub fn echo(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }

    /// Stop the tool if it runs longer than this.
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// Feed these bytes to the tool's stdin.
    pub fn stdin(mut self, bytes: Vec<u8>) -> Self {
        self.stdin = Some(bytes);
        self
    }
}

/// What a finished run printed.
#[derive(Debug, Clone)]
pub struct Captured {
    pub success: bool,
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

/// `tool args…` as one display line, with arguments quoted where a shell would need it.
pub fn display_command(tool: &Tool, args: &[OsString]) -> String {
    std::iter::once(tool.kind.name().to_owned())
        .chain(args.iter().map(|a| quote_arg(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote_arg(arg: &OsStr) -> String {
    quote(&arg.to_string_lossy())
}

/// One word as a POSIX shell reads it back: as it is when plain, else single-quoted.
pub fn quote(text: &str) -> String {
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
    pub fn run(&self, invocation: &Invocation) -> Result<Captured, ToolError> {
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
    pub fn run_unchecked(&self, invocation: &Invocation) -> Result<Captured, ToolError> {
        let command = display_command(self, &invocation.args);
        if invocation.echo {
            eprintln!("+ {command}");
        }
        if let Some(signal) = cancelled()
            && !invocation.after_interrupt
        {
            return Err(ToolError::Interrupted { signal });
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
                signal_all(&handle.pids(), libc::SIGTERM);
                stop(&handle, Duration::from_secs(5));
                return Err(ToolError::TimedOut {
                    command: short_command(self, &invocation.args),
                    after: limit,
                });
            }
        };
        // A child that stopped because of the signal we forwarded is an interrupt, not a failure.
        if let Some(signal) = cancelled()
            && !invocation.after_interrupt
        {
            return Err(ToolError::Interrupted { signal });
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
        signal_all(&handle.pids(), libc::SIGKILL);
        let _ = handle.kill();
        let _ = handle.wait();
    }
}

/// Signals each child's process group (each child leads its own), so anything the child
/// started (and that holds its output pipes) gets the signal too.
fn signal_all(pids: &[u32], signal: i32) {
    for &pid in pids {
        if let Ok(pid) = i32::try_from(pid) {
            // SAFETY: kill(2) on a process group we created, with a valid signal number.
            unsafe {
                libc::kill(-pid, signal);
            }
        }
    }
}

static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// The names of the tools running now, for the interrupt messages.
static RUNNING: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CANCELLED: AtomicI32 = AtomicI32::new(0);

fn running_tools() -> String {
    let mut names = lock(&RUNNING).clone();
    names.sort_unstable();
    names.dedup();
    names.join(" and ")
}

/// The signal that cancelled this run, if one did.
pub fn cancelled() -> Option<i32> {
    match CANCELLED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

struct ChildGuard {
    pids: Vec<u32>,
    tool: &'static str,
}

impl ChildGuard {
    fn register(pids: Vec<u32>, tool: &'static str) -> Self {
        lock(&CHILDREN).extend(&pids);
        lock(&RUNNING).push(tool);
        Self { pids, tool }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        lock(&CHILDREN).retain(|pid| !self.pids.contains(pid));
        let mut running = lock(&RUNNING);
        if let Some(at) = running.iter().position(|t| *t == self.tool) {
            running.remove(at);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How many interrupts (SIGINT/SIGTERM) this run has had.
static INTERRUPTS: AtomicI32 = AtomicI32::new(0);

/// Installs the interrupt handling, once, before any prompt or child process (`main` calls it).
///
/// 1st SIGINT/SIGTERM with a child running: forwarded to the children, which finish what they do
/// on a signal (helm rolls a release back); their callers then return
/// [`ToolError::Interrupted`] and may still run short recovery queries.
/// 2nd: the children are killed (the caller reports what that left behind).
/// With no child running, or a 3rd: scratch files are removed, the cursor is shown again,
/// and the process exits 128 + signal at once.
pub fn handle_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return;
        };
        std::thread::spawn(move || {
            for signal in signals.forever() {
                let _ = CANCELLED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
                let count = INTERRUPTS.fetch_add(1, Ordering::SeqCst) + 1;
                let children = lock(&CHILDREN).clone();
                match count {
                    1 if !children.is_empty() => {
                        eprintln!(
                            "\ninterrupted: letting {} stop cleanly (helm rolls back what it started); interrupt again to stop at once",
                            running_tools()
                        );
                        signal_all(&children, signal);
                    }
                    2 if !children.is_empty() => {
                        eprintln!("\ninterrupted again: stopping {} now", running_tools());
                        signal_all(&children, libc::SIGKILL);
                    }
                    _ => {
                        signal_all(&children, libc::SIGKILL);
                        remove_scratch_files();
                        // Leave the terminal tidy if a prompt or spinner had hidden the cursor.
                        eprint!("\x1b[?25h");
                        let code = 128 + CANCELLED.load(Ordering::SeqCst);
                        std::process::exit(code);
                    }
                }
            }
        });
    });
}

fn remove_scratch_files() {
    for path in lock(&SCRATCH).drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// A private temp file (mode 0600) that is removed when dropped, and by the signal handler.
pub struct ScratchFile {
    file: tempfile::NamedTempFile,
}

impl ScratchFile {
    pub fn with_contents(prefix: &str, contents: &[u8]) -> std::io::Result<Self> {
        use std::io::Write as _;
        let mut file = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(".yaml")
            .tempfile()?;
        lock(&SCRATCH).push(file.path().to_owned());
        file.write_all(contents)?;
        file.flush()?;
        Ok(Self { file })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let path = self.file.path().to_owned();
        lock(&SCRATCH).retain(|p| *p != path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> Tool {
        Tool {
            kind: ToolKind::Helm,
            path: "/bin/sh".into(),
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
    fn scratch_files_are_private_and_removed() {
        use std::os::unix::fs::PermissionsExt as _;
        let file = ScratchFile::with_contents("eksmon-test-", b"a: 1\n").unwrap();
        let path = file.path().to_owned();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(file);
        assert!(!path.exists());
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
