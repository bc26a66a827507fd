//! `eksmon render`: the values, on stdout or as files.

use crate::cli::RenderArgs;
use crate::profile::{self, Lookup};
use crate::render::values_document;
use crate::settings::Chart;
use anyhow::{Context as _, Result};
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

pub fn run(args: &RenderArgs) -> Result<()> {
    let charts: Vec<Chart> = args.chart.map_or_else(|| Chart::ALL.to_vec(), |c| vec![c]);
    let loaded = profile::load(&super::request(&args.profile), &Lookup::from_env(), &charts)?;
    let documents = charts
        .iter()
        .map(|&chart| Ok((chart, values_document(&loaded.settings, chart)?)))
        .collect::<Result<Vec<_>>>()?;

    if let Some(dir) = &args.out_dir {
        return write_files(dir, &documents);
    }
    if documents.len() > 1 && stdout_is_file() {
        eprintln!(
            "hint: helm reads only the last document of a multi-document values file; \
             use `eksmon render prometheus > …` per chart, or --out-dir"
        );
    }
    let stream = documents
        .iter()
        .map(|(_, text)| text.as_str())
        .collect::<Vec<_>>()
        .join("---\n");
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(stream.as_bytes())
        .context("cannot write to stdout")?;
    stdout.flush().context("cannot write to stdout")
}

/// Writes every file to a temp file beside it first, then renames them all into place, so a
/// failure (or a concurrent run) never leaves a half-written values file.
fn write_files(dir: &Path, documents: &[(Chart, String)]) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory `{}`", dir.display()))?;
    let mut staged = Vec::new();
    for (chart, text) in documents {
        let target = dir.join(format!("{}-values.yaml", chart.name()));
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".{}-values.", chart.name()))
            .tempfile_in(dir)
            .with_context(|| format!("cannot write into `{}`", dir.display()))?;
        temp.write_all(text.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        set_readable(temp.path())?;
        staged.push((temp, target));
    }
    for (temp, target) in staged {
        temp.persist(&target)
            .with_context(|| format!("cannot write `{}`", target.display()))?;
        eprintln!("wrote {}", target.display());
    }
    Ok(())
}

/// Values files hold no secrets; give them the usual mode rather than the temp file's 0600.
fn set_readable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("cannot set permissions on `{}`", path.display()))
}

/// True when stdout is redirected into a regular file (where the multi-document hint matters).
fn stdout_is_file() -> bool {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        return false;
    }
    use std::os::fd::AsFd as _;
    stdout
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|file| file.metadata())
        .is_ok_and(|meta| meta.is_file())
}
