//! How much eksmon says besides its output, and whether it colours it. A leaf module: the run
//! context makes one [`Printer`] and hands copies to the tools and fetchers, which hold no `Ui`,
//! so that running a tool does not depend on the prompt layer.

use std::io::IsTerminal as _;

/// The verbosity, as a value small enough to copy into every tool and thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Printer {
    verbose: bool,
}

impl Printer {
    /// `--verbose`: print each command eksmon runs and each request it makes.
    pub(crate) fn new(verbose: bool) -> Self {
        Self { verbose }
    }

    /// A `--verbose` line: a command eksmon runs or a request it makes (`+ helm upgrade …`,
    /// `+ GET URL`), or why it takes a fallback. Never holds a secret. Made only when it is
    /// printed.
    pub(crate) fn verbose_line(self, line: impl FnOnce() -> String) {
        if self.verbose {
            eprintln!("{}", line());
        }
    }
}

/// The stream a coloured text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Colour only on a terminal, and never when `NO_COLOR` is set to anything but empty.
pub(crate) fn colour(stream: Stream) -> bool {
    let terminal = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
