//! Scratch files: private (mode 0600) temp files for values handed to helm, removed when
//! dropped, and by the interrupt handler when the process exits at once.

use crate::sync::lock;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Every scratch file alive now, for the interrupt handler.
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every scratch file (the process is about to exit without running destructors).
pub(crate) fn remove_all() {
    for path in lock(&SCRATCH).drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// A private temp file (mode 0600) that is removed when dropped, and by the signal handler.
pub(crate) struct ScratchFile {
    file: tempfile::NamedTempFile,
}

impl ScratchFile {
    pub(crate) fn with_contents(prefix: &str, contents: &[u8]) -> std::io::Result<Self> {
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

    pub(crate) fn path(&self) -> &Path {
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
}
