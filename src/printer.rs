//! The `--verbose` lines, printed from the tools and fetchers (which hold no `Ui`). A leaf
//! module, so that running a tool does not depend on the prompt layer.

/// A `--verbose` line: a command eksmon runs or a request it makes (`+ helm upgrade …`,
/// `+ GET URL`), or why it takes a fallback. Never holds a secret. The callers pass the
/// verbosity down as a plain `echo` flag; this is the one place that prints them.
pub fn echo(line: &str) {
    eprintln!("{line}");
}
