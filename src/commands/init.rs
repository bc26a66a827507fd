//! `eksmon init`: the profile wizard, and writing its result.

use crate::cli::InitArgs;
use crate::context::Run;
use crate::error::UserError;
use crate::files;
use crate::profile::{self, Lookup};
use crate::settings::{Chart, Settings};
use crate::ui::Prompter;
use crate::validate;
use crate::wizard;
use crate::yaml;
use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};

pub(super) fn run(run: &Run, args: &InitArgs) -> Result<()> {
    if !run.ui.interactive() {
        return Err(wizard::needs_terminal().into());
    }
    let lookup = &run.lookup;
    let (base, defaults, default_name) = match &args.from {
        Some(spec) => {
            let found = lookup.resolve(spec)?;
            let loaded = profile::check_text(&found.display, &found.text, &[])?;
            let base = yaml::parse(&found.text)
                .ok()
                .and_then(|v| v.as_mapping().cloned());
            let name = Path::new(spec)
                .file_stem()
                .map_or_else(|| spec.clone(), |s| s.to_string_lossy().into_owned());
            (base, loaded.settings, format!("{name}-copy"))
        }
        None => (None, Settings::default(), "default".to_owned()),
    };
    let prompter = Prompter::new();
    let name = prompter
        .text(
            "Profile name",
            "",
            Some(&default_name),
            false,
            &validate::dns_label,
        )?
        .unwrap_or(default_name);
    let target = target(args.output.as_deref(), lookup, &name)?;
    let shown = target
        .as_ref()
        .map_or_else(|| "stdout".to_owned(), |p| p.display().to_string());

    let mut answers = defaults;
    let text = loop {
        answers = wizard::ask(&prompter, &answers)?;
        let text = wizard::profile_text(&name, &answers, base.as_ref());
        // The questions check each answer and the rules that tie them together; this catches
        // what is left, named as the answers, not as a file that is not written yet.
        match profile::check_text("your answers", &text, &Chart::ALL) {
            Ok(_) => break text,
            // The field alone: the text is not a file anyone can open at a line.
            Err(err) => prompter.show(&format!(
                "error: {}\nLet's go through the questions again (your answers are the defaults).",
                err.message
            )),
        }
    };
    let carried = base.as_ref().map(wizard::carried_over).unwrap_or_default();
    prompter.show(&format!(
        "\n{text}\n{}",
        wizard::summary(&name, &shown, &answers, &carried)
    ));
    if !prompter.confirm("Write this profile?", true)? {
        return Err(UserError::declined("nothing was written").into());
    }

    let Some(path) = target else {
        return super::write_stdout(text.as_bytes());
    };
    if path.exists()
        && !prompter.confirm(&format!("{} exists. Overwrite it?", path.display()), false)?
    {
        return Err(UserError::declined(format!(
            "kept the existing {}; nothing was written",
            path.display()
        ))
        .into());
    }
    files::stage(&path, text.as_bytes())?.commit()?;
    let in_user_dir = lookup
        .user_dir
        .as_ref()
        .is_some_and(|dir| path.parent() == Some(dir.as_path()));
    let reference = if in_user_dir {
        name
    } else {
        path.display().to_string()
    };
    run.ui.note(&format!(
        "wrote {}\nnext:  eksmon render --profile {reference}\n       eksmon install --profile {reference}",
        path.display()
    ));
    Ok(())
}

/// `None` for stdout (`--output -`).
fn target(output: Option<&Path>, lookup: &Lookup, name: &str) -> Result<Option<PathBuf>> {
    match output {
        Some(path) if path == Path::new("-") => Ok(None),
        Some(path) => Ok(Some(path.to_owned())),
        None => {
            let dir = lookup
                .user_dir
                .as_ref()
                .context("cannot find the config directory (is HOME set?); use --output PATH")?;
            Ok(Some(dir.join(format!("{name}.yaml"))))
        }
    }
}
