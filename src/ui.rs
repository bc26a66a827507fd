//! What eksmon tells the person running it: progress (a spinner per release on a terminal, plain
//! lines otherwise), notes, and confirmations. Everything goes to stderr; stdout is for data.

use crate::error::InputError;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Ui {
    pub quiet: bool,
    pub verbose: bool,
    interactive: bool,
}

impl Ui {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::io::stdin().is_terminal();
        Self {
            quiet,
            verbose,
            interactive,
        }
    }

    /// True when there is a person at a terminal to ask.
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    /// A line of information, unless `--quiet`.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// A `hint:` line (what to do about what was just said), unless `--quiet`.
    pub fn hint(&self, line: &str) {
        if !self.quiet {
            eprintln!("hint: {line}");
        }
    }

    /// A warning, shown even with `--quiet`.
    pub fn warn(&self, line: &str) {
        eprintln!("warning: {line}");
    }

    /// Asks a yes/no question on the terminal (default no). Without a terminal there is no one
    /// to ask: `no_terminal` says what to do instead.
    pub fn confirm(&self, question: &str, no_terminal: InputError) -> anyhow::Result<bool> {
        if !self.interactive {
            return Err(no_terminal.into());
        }
        dialoguer::Confirm::new()
            .with_prompt(question)
            .default(false)
            .interact()
            .map_err(prompt_error)
    }

    /// Asks the person to type `expected` (a namespace name) before something that cannot be
    /// undone: one stray key press is not enough. True when they typed exactly that.
    pub fn confirm_by_typing(
        &self,
        question: &str,
        expected: &str,
        no_terminal: InputError,
    ) -> anyhow::Result<bool> {
        if !self.interactive {
            return Err(no_terminal.into());
        }
        let typed: String = dialoguer::Input::new()
            .with_prompt(question)
            .allow_empty(true)
            .interact_text()
            .map_err(prompt_error)?;
        Ok(typed.trim() == expected)
    }

    /// Progress for concurrent tasks: spinners on a terminal, plain lines otherwise.
    pub fn progress(&self) -> Progress {
        let multi = (self.interactive && !self.quiet).then(MultiProgress::new);
        Progress {
            multi,
            quiet: self.quiet,
        }
    }
}

pub struct Progress {
    multi: Option<MultiProgress>,
    quiet: bool,
}

impl Progress {
    /// One line of progress, e.g. for one release.
    pub fn task(&self, name: &str) -> Task {
        let bar = self.multi.as_ref().map(|multi| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:<12} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(name.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Task {
            name: name.to_owned(),
            bar,
            quiet: self.quiet,
            started: Instant::now(),
        }
    }
}

pub struct Task {
    name: String,
    bar: Option<ProgressBar>,
    quiet: bool,
    started: Instant,
}

impl Task {
    pub fn step(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_owned()),
            None if !self.quiet => eprintln!("{}: {message}", self.name),
            None => {}
        }
    }

    /// The last line for this task, with the time it took.
    pub fn finish(&self, message: &str) {
        let line = format!("{message} ({:.1}s)", self.started.elapsed().as_secs_f64());
        match &self.bar {
            Some(bar) => {
                bar.set_style(
                    ProgressStyle::with_template("  {prefix:<12} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.finish_with_message(line);
            }
            None if !self.quiet => eprintln!("{}: {line}", self.name),
            None => {}
        }
    }
}

/// A `--verbose` line: a command eksmon runs or a request it makes (`+ helm upgrade …`,
/// `+ GET URL`), or why it takes a fallback. Never holds a secret. The callers pass the
/// verbosity down as a plain `echo` flag (threads and tool runs have no `Ui`); this is the one
/// place that prints them.
pub fn echo(line: &str) {
    eprintln!("{line}");
}

/// Rows as aligned columns, two spaces apart, the last column unpadded (the first row may be a
/// header). One renderer for every table eksmon prints (`status`, `doctor`).
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out += line.join("  ").trim_end();
        out.push('\n');
    }
    out
}

/// A dialoguer failure: Ctrl-C (or a closed terminal) stops the prompt with nothing done; an
/// interrupt is the same typed error as an interrupted child.
pub fn prompt_error(err: dialoguer::Error) -> anyhow::Error {
    match err {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            // The prompt's line is still open; end it so the error starts a line of its own.
            eprintln!("\x1b[?25h");
            crate::signals::Interrupted {
                signal: libc::SIGINT,
            }
            .into()
        }
        dialoguer::Error::IO(io) => anyhow::Error::new(io).context("the terminal went away"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tables_align_and_trim() {
        let rows = vec![
            vec!["NAME".to_owned(), "STATUS".to_owned(), "NOTE".to_owned()],
            vec!["grafana".to_owned(), "ok".to_owned(), String::new()],
            vec!["p".to_owned(), "deployed".to_owned(), "fine".to_owned()],
        ];
        assert_eq!(
            super::table(&rows),
            "NAME     STATUS    NOTE\ngrafana  ok\np        deployed  fine\n"
        );
    }
}
