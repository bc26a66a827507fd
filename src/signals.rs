//! Interrupts (SIGINT, SIGTERM): one handler, installed in `main` before any prompt or child
//! process, and one typed error, [`Interrupted`], whichever way an interrupt came (a prompt's
//! Ctrl-C or a signal while helm ran).

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

/// The run was interrupted by this signal: exit 128 + signal, after cleaning up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub(crate) struct Interrupted {
    pub signal: i32,
}

impl Interrupted {
    /// How the run ends: 128 + the signal.
    pub(crate) fn exit_status(self) -> crate::exit::ExitStatus {
        crate::exit::ExitStatus::Interrupted(self.signal)
    }
}

/// Signals each child's process group (each child leads its own), so anything the child
/// started (and that holds its output pipes) gets the signal too.
pub(crate) fn signal_all(pids: &[u32], signal: i32) {
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
static CANCELLED: AtomicI32 = AtomicI32::new(0);

fn running_tools() -> String {
    let mut names = lock(&RUNNING).clone();
    names.sort_unstable();
    names.dedup();
    names.join(" and ")
}

/// The interrupt that cancelled this run, if one did.
pub(crate) fn cancelled() -> Option<Interrupted> {
    match CANCELLED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(Interrupted { signal }),
    }
}

/// Registers a running child so that an interrupt reaches it; unregisters on drop.
pub(crate) struct ChildGuard {
    pids: Vec<u32>,
    tool: &'static str,
}

impl ChildGuard {
    pub(crate) fn register(pids: Vec<u32>, tool: &'static str) -> Self {
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

use crate::sync::lock;

/// Where the interrupt notices go while something else draws on the terminal (progress bars
/// redraw their lines, and would cut a line printed under them).
type NoticeSink = Box<dyn Fn(&str) + Send>;
static NOTICES: Mutex<Option<NoticeSink>> = Mutex::new(None);

/// Sends the interrupt notices to `sink` (the progress display) until called with `None`.
pub(crate) fn route_notices(sink: Option<NoticeSink>) {
    *lock(&NOTICES) = sink;
}

fn notice(line: &str) {
    match &*lock(&NOTICES) {
        Some(sink) => sink(line),
        None => eprintln!("\n{line}"),
    }
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
pub(crate) fn handle_signals() {
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
                        notice(&format!(
                            "interrupted: letting {} stop cleanly (helm rolls back what it started); interrupt again to stop at once",
                            running_tools()
                        ));
                        signal_all(&children, signal);
                    }
                    2 if !children.is_empty() => {
                        notice(&format!("interrupted again: stopping {} now", running_tools()));
                        signal_all(&children, libc::SIGKILL);
                    }
                    _ => {
                        signal_all(&children, libc::SIGKILL);
                        crate::scratch::remove_all();
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
