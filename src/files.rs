//! Writing output files atomically: each is written to a temp file beside its target and renamed
//! into place, so a failure, a full disk or a concurrent run never leaves a half-written file.

use anyhow::{Context as _, Result};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A file written next to its target, not yet in place.
pub(crate) struct Staged {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

/// Writes `contents` beside `target` (creating its directory), with mode 0644: values files and
/// profiles hold no secrets.
pub(crate) fn stage(target: &Path, contents: &[u8]) -> Result<Staged> {
    stage_with_mode(target, contents, 0o644)
}

/// [`stage`] with the given permission bits (those of the file it replaces, say).
pub(crate) fn stage_with_mode(target: &Path, contents: &[u8], mode: u32) -> Result<Staged> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory `{}`", dir.display()))?;
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into `{}`", dir.display()))?;
    temp.write_all(contents)
        .and_then(|()| temp.as_file().sync_all())
        .and_then(|()| std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode)))
        .with_context(|| format!("cannot write `{}`", target.display()))?;
    Ok(Staged {
        temp,
        target: target.to_owned(),
    })
}

impl Staged {
    /// Renames the file into place.
    pub(crate) fn commit(self) -> Result<PathBuf> {
        self.temp
            .persist(&self.target)
            .with_context(|| format!("cannot write `{}`", self.target.display()))?;
        Ok(self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/values.yaml");
        let staged = stage(&target, b"a: 1\n").unwrap();
        assert!(!target.exists());
        drop(staged);
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            0,
            "a dropped stage leaves nothing"
        );
        stage(&target, b"a: 2\n").unwrap().commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "a: 2\n");
    }
}
