//! What eksmon tells the person running it: progress (a spinner per release on a terminal, plain
//! lines otherwise), notes, and confirmations. Everything goes to stderr; stdout is for data.

use crate::printer::Printer;
use crate::validate;
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, Input, MultiSelect, Select};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub(crate) struct Ui {
    pub quiet: bool,
    /// `--verbose`, handed to every tool the run context makes.
    pub printer: Printer,
    interactive: bool,
}

impl Ui {
    pub(crate) fn new(quiet: bool, verbose: bool) -> Self {
        let interactive = std::io::stderr().is_terminal() && std::io::stdin().is_terminal();
        Self {
            quiet,
            printer: Printer::new(verbose),
            interactive,
        }
    }

    /// True when there is a person at a terminal to ask.
    pub(crate) fn interactive(&self) -> bool {
        self.interactive
    }

    /// A line of information, unless `--quiet`.
    pub(crate) fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// A `hint:` line (what to do about what was just said), unless `--quiet`.
    pub(crate) fn hint(&self, line: &str) {
        if !self.quiet {
            eprintln!("hint: {line}");
        }
    }

    /// A warning, shown even with `--quiet`.
    pub(crate) fn warn(&self, line: &str) {
        eprintln!("warning: {line}");
    }

    /// Asks a yes/no question on the terminal (default no). Without a terminal there is no one
    /// to ask: `no_terminal` says what to do instead.
    pub(crate) fn confirm(
        &self,
        question: &str,
        no_terminal: impl Into<anyhow::Error>,
    ) -> anyhow::Result<bool> {
        if !self.interactive {
            return Err(no_terminal.into());
        }
        Prompter::new().confirm(question, false)
    }

    /// Asks the person to type a name (a namespace) before something that cannot be undone:
    /// one stray key press is not enough. What they typed (empty for nothing).
    pub(crate) fn ask_to_type(
        &self,
        question: &str,
        no_terminal: impl Into<anyhow::Error>,
    ) -> anyhow::Result<String> {
        if !self.interactive {
            return Err(no_terminal.into());
        }
        let prompter = Prompter::new();
        let prompt = lead_lines(question);
        let typed = prompter.text(&prompt, "", None, true, &|_| Ok(()))?;
        Ok(typed.unwrap_or_default())
    }

    /// Progress for concurrent tasks: spinners on a terminal, plain lines otherwise.
    pub(crate) fn progress(&self) -> Progress {
        let multi = (self.interactive && !self.quiet).then(MultiProgress::new);
        if let Some(multi) = &multi {
            // Printed above the bars, so a redraw never cuts the line.
            let bars = multi.clone();
            crate::signals::route_notices(Some(Box::new(move |line: &str| {
                let _ = bars.println(wrap(line, PROMPT_WIDTH).join("\n"));
            })));
        }
        Progress {
            multi,
            quiet: self.quiet,
        }
    }
}

pub(crate) struct Progress {
    multi: Option<MultiProgress>,
    quiet: bool,
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.multi.is_some() {
            crate::signals::route_notices(None);
        }
    }
}

impl Progress {
    /// True when the lines are drawn live (spinners on a terminal), not printed one by one.
    pub(crate) fn is_live(&self) -> bool {
        self.multi.is_some()
    }

    /// One line of progress, e.g. for one release.
    pub(crate) fn task(&self, name: &str) -> Task {
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

pub(crate) struct Task {
    name: String,
    bar: Option<ProgressBar>,
    quiet: bool,
    started: Instant,
}

impl Task {
    pub(crate) fn step(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_owned()),
            None if !self.quiet => eprintln!("{}: {message}", self.name),
            None => {}
        }
    }

    /// The last line for this task, with the time it took.
    pub(crate) fn finish(&self, message: &str) {
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

/// The one prompt layer (the wizard's questions and every confirmation), with its theme.
pub(crate) struct Prompter {
    theme: Box<dyn Theme>,
}

impl Prompter {
    pub(crate) fn new() -> Self {
        let theme: Box<dyn Theme> = if crate::printer::colour(crate::printer::Stream::Stderr) {
            Box::new(ColorfulTheme::default())
        } else {
            Box::new(SimpleTheme)
        };
        Self { theme }
    }

    /// Lines between questions (a warning, what comes next), wrapped to the prompts' width;
    /// the lines after the first are indented under it.
    pub(crate) fn say(&self, text: &str) {
        eprintln!("{}", wrap(text, PROMPT_WIDTH).join("\n  "));
    }

    /// Text shown as it is (a profile to review before it is written).
    pub(crate) fn show(&self, text: &str) {
        eprintln!("{text}");
    }

    /// Help for the question below it, indented; nothing when empty.
    pub(crate) fn help(&self, help: &str) {
        for line in wrap(help, PROMPT_WIDTH - 2) {
            eprintln!("  {line}");
        }
    }

    /// A line of text, re-asked until `check` accepts it; `optional` accepts an empty answer.
    /// A rejected answer comes back as the text to edit (one typo is one fix, not a retype).
    /// `help`, when not empty, is a line shown above the prompt: prompts stay short, so they
    /// never wrap on a narrow terminal (dialoguer redraws a wrapped prompt badly).
    pub(crate) fn text(
        &self,
        prompt: &str,
        help: &str,
        default: Option<&str>,
        optional: bool,
        check: &dyn Fn(&str) -> validate::Check,
    ) -> anyhow::Result<Option<String>> {
        self.help(help);
        let default = default.filter(|d| !d.is_empty());
        let mut rejected: Option<String> = None;
        loop {
            // The answer is reported (✔) only once it is accepted, not before a ✘.
            let mut input = Input::<String>::with_theme(self.theme.as_ref())
                .with_prompt(prompt)
                .report(false)
                .allow_empty(true);
            match (&rejected, default) {
                (Some(typed), _) => input = input.with_initial_text(typed.clone()),
                (None, Some(default)) => input = input.default(default.to_owned()),
                (None, None) => {}
            }
            let answer = input.interact_text().map_err(prompt_error)?;
            let answer = answer.trim().to_owned();
            if answer.is_empty() {
                if optional {
                    self.report(prompt, "");
                    return Ok(None);
                }
                eprintln!("  ✘ an answer is needed here");
                rejected = None;
                continue;
            }
            match check(&answer) {
                Ok(()) => {
                    self.report(prompt, &answer);
                    return Ok(Some(answer));
                }
                Err(why) => {
                    eprintln!("  ✘ {why}");
                    rejected = Some(answer);
                }
            }
        }
    }

    /// A comma-separated list, each item checked, with at least `min` items unless empty, and
    /// then the whole list by `whole`.
    pub(crate) fn list(
        &self,
        prompt: &str,
        help: &str,
        default: &[String],
        check: &dyn Fn(&str) -> validate::Check,
        min: usize,
        whole: &dyn Fn(&[String]) -> validate::Check,
    ) -> anyhow::Result<Vec<String>> {
        let help = if help.is_empty() {
            "comma-separated; empty for none".to_owned()
        } else {
            format!("{help}; comma-separated")
        };
        let joined = default.join(", ");
        let check_all = move |answer: &str| -> validate::Check {
            let items = split_list(answer);
            items.iter().try_for_each(|item| check(item))?;
            if !items.is_empty() && items.len() < min {
                return Err(format!("give at least {min}, or none"));
            }
            whole(&items)
        };
        let answer = self.text(prompt, &help, Some(&joined), true, &check_all)?;
        Ok(answer.as_deref().map(split_list).unwrap_or_default())
    }

    pub(crate) fn choose(
        &self,
        prompt: &str,
        items: &[&str],
        default: usize,
    ) -> anyhow::Result<usize> {
        Select::with_theme(self.theme.as_ref())
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(prompt_error)
    }

    /// The accepted answer, as dialoguer would have shown it.
    fn report(&self, prompt: &str, answer: &str) {
        let mut line = String::new();
        if self
            .theme
            .format_input_prompt_selection(&mut line, prompt, answer)
            .is_ok()
        {
            eprintln!("{line}");
        }
    }

    /// A yes/no question, answered with Enter (a bare key press would leave the Enter meant
    /// for it to the next prompt). A long question is wrapped above a short prompt line.
    pub(crate) fn confirm(&self, prompt: &str, default: bool) -> anyhow::Result<bool> {
        let prompt = lead_lines(prompt);
        Confirm::with_theme(self.theme.as_ref())
            .with_prompt(prompt)
            .default(default)
            .wait_for_newline(true)
            .interact()
            .map_err(prompt_error)
    }

    pub(crate) fn pick(
        &self,
        prompt: &str,
        items: &[&str],
        chosen: &[bool],
    ) -> anyhow::Result<Vec<usize>> {
        MultiSelect::with_theme(self.theme.as_ref())
            .with_prompt(prompt)
            .items(items)
            .defaults(chosen)
            .interact()
            .map_err(prompt_error)
    }
}

impl Default for Prompter {
    fn default() -> Self {
        Self::new()
    }
}

/// The widest a prompt or help line may be: an 80-column terminal, less the room dialoguer's
/// `[y/N]`, `›` and the answer take.
pub(crate) const PROMPT_WIDTH: usize = 78;

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Prints all but the last line of a long prompt (wrapped), and returns the last one: the
/// prompt line stays short enough that dialoguer's redraw never wraps.
fn lead_lines(prompt: &str) -> String {
    let mut lines = wrap(prompt, PROMPT_WIDTH - 12);
    let last = lines.pop().unwrap_or_default();
    for line in lines {
        eprintln!("{line}");
    }
    last
}

fn split_list(answer: &str) -> Vec<String> {
    answer
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Rows as aligned columns, two spaces apart, the last column unpadded (the first row may be a
/// header). One renderer for every table eksmon prints (`status`, `doctor`).
pub(crate) fn table(rows: &[Vec<String>]) -> String {
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
pub(crate) fn prompt_error(err: dialoguer::Error) -> anyhow::Error {
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
    fn long_lines_wrap_at_spaces() {
        let text =
            "IDs or Name tags, at least 2; empty: the controller discovers them; comma-separated";
        let lines = super::wrap(text, 40);
        assert!(lines.iter().all(|l| l.len() <= 40), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(super::wrap("one-very-long-word", 5), ["one-very-long-word"]);
    }

    #[test]
    fn lists_are_split_on_commas() {
        assert_eq!(super::split_list(" a, b ,,c "), ["a", "b", "c"]);
        assert!(super::split_list("  ").is_empty());
    }

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
