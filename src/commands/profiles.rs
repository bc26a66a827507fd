//! `eksmon profiles list|show`.

use crate::cli::ProfilesCommand;
use crate::context::Run;
use crate::profile::source::{BUILTIN, description, read_file};
use anyhow::Result;

pub(super) fn run(run: &Run, command: &ProfilesCommand) -> Result<()> {
    let lookup = &run.lookup;
    let mut out = String::new();
    match command {
        ProfilesCommand::List => {
            let mut rows: Vec<(String, &str, String)> = BUILTIN
                .iter()
                .map(|(name, text)| match lookup.user_profile(name) {
                    // The user's file of the same name is the one `--profile NAME` reads.
                    Some(path) => (
                        (*name).to_owned(),
                        "built-in",
                        format!("(not used: {} has this name)", path.display()),
                    ),
                    None => ((*name).to_owned(), "built-in", description(text)),
                })
                .collect();
            for (name, path) in lookup.user_profiles() {
                let about = read_file(&path, path.display().to_string()).map_or_else(
                    |e| format!("(unreadable: {})", e.message),
                    |p| description(&p.text),
                );
                rows.push((name, "user", about));
            }
            let width = rows.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
            for (name, kind, about) in rows {
                out += &format!("{name:<width$}  {kind:<8}  {about}\n");
            }
        }
        ProfilesCommand::Show { name } => {
            let profile = lookup.resolve(name)?;
            out = if profile.path.is_none() {
                // A built-in's description is about the built-in: a copy gets its own line.
                format!(
                    "# Based on eksmon's built-in profile `{name}`\n{}",
                    without_leading_comments(&profile.text)
                )
            } else {
                profile.text
            };
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    super::write_stdout(out.as_bytes())
}

/// The text after its first block of comment lines (and the blank lines after it).
fn without_leading_comments(text: &str) -> &str {
    let mut rest = text;
    while let Some(line) = rest.lines().next() {
        let trimmed = line.trim();
        if !(trimmed.starts_with('#') || trimmed.is_empty()) {
            break;
        }
        rest = rest[line.len()..].strip_prefix('\n').unwrap_or("");
    }
    rest
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_copy_leaves_the_description_behind() {
        let text = "# About the built-in\n#\n# Try it: …\n\nnamespace: x # kept\n# later comment\n";
        assert_eq!(
            super::without_leading_comments(text),
            "namespace: x # kept\n# later comment\n"
        );
    }
}
