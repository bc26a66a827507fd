//! Shared helpers: a clean `eksmon` command, helm binaries, YAML lookups.

use assert_cmd::Command;
use eksmon::yaml::Value;
use std::path::{Path, PathBuf};

/// A test's private world: a temp dir used as cwd, HOME and config dir.
pub struct World {
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `eksmon` with a scrubbed environment, run in this world's dir.
    pub fn eksmon(&self) -> Command {
        Command::from_std(self.std_eksmon())
    }

    /// The same as a plain `std::process::Command`, for redirects and signals.
    pub fn std_eksmon(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(crate::eksmon_binary());
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            let scrub = ["HELM_", "AWS_", "EKSMON_", "KUBE", "XDG_", "INSTA_"]
                .iter()
                .any(|prefix| key_text.starts_with(prefix));
            if scrub {
                cmd.env_remove(&key);
            }
        }
        cmd.current_dir(self.path())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("NO_COLOR", "1");
        cmd
    }

    /// Writes a file under this world's dir and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }
}

/// Where a real helm of the given major version (3 or 4) is: `$EKSMON_TEST_HELM3/4`, else where
/// `scripts/fetch-tools` installs it.
fn helm_path(major: u8) -> PathBuf {
    let from_env = std::env::var_os(format!("EKSMON_TEST_HELM{major}")).map(PathBuf::from);
    from_env.unwrap_or_else(|| crate::repo_root().join(format!("target/tools/helm{major}/helm")))
}

/// A real helm binary of the given major version (3 or 4), as `scripts/fetch-tools` installs it.
pub fn helm(major: u8) -> PathBuf {
    let path = helm_path(major);
    assert!(
        path.is_file(),
        "helm {major} not found at {}: run scripts/fetch-tools (scripts/test does)",
        path.display()
    );
    path
}

pub use crate::skip::REQUIRE_HELM_VAR;

/// True when both real helms are there. Otherwise false after one loud line (a plain
/// `cargo test` on a fresh checkout), or a panic when [`REQUIRE_HELM_VAR`] is set.
pub fn helm_available() -> bool {
    let missing: Vec<String> = [3, 4]
        .iter()
        .map(|&major| helm_path(major))
        .filter(|path| !path.is_file())
        .map(|path| path.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    crate::skip::skip(
        &format!("no helm at {}", missing.join(", ")),
        REQUIRE_HELM_VAR,
    );
    false
}

/// Returns from the test (after one loud line) when real helm or the real charts are absent.
#[macro_export]
macro_rules! skip_without_helm {
    () => {
        if !$crate::common::helm_available() || $crate::common::real_charts_dir().is_none() {
            return;
        }
    };
}

/// stdout of a successful run, as text.
pub fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().expect("run");
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 stdout")
}

/// The value at a dotted path (`metadata.annotations`); keys with dots are given as `[key]`.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    let mut node = value;
    for key in path {
        node = match key.parse::<usize>() {
            Ok(index) => node.get(index),
            Err(_) => node.get(*key),
        }
        .unwrap_or_else(|| panic!("no `{key}` in path {path:?} of {node:?}"));
    }
    node
}

pub fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
}

/// The folder with the real chart archives eksmon pins (`../shared/charts`, or
/// `$EKSMON_TEST_CHARTS`); `None` after one loud line when it is absent (a failure when
/// `EKSMON_REQUIRE_CLUSTER` is set, as in CI).
pub fn real_charts_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EKSMON_TEST_CHARTS").map_or_else(
        || crate::repo_root().join("../shared/charts"),
        PathBuf::from,
    );
    let archives = [
        crate::pins::archive("prometheus"),
        crate::pins::archive("grafana"),
    ];
    if archives.iter().all(|archive| dir.join(archive).is_file()) {
        return Some(dir);
    }
    crate::skip::skip(
        &format!(
            "the real charts are not in {} (set EKSMON_TEST_CHARTS)",
            dir.display()
        ),
        crate::skip::REQUIRE_CLUSTER_VAR,
    );
    None
}

/// The real archive of `chart` (`prometheus` or `grafana`), when the real charts are there.
pub fn real_chart(chart: &str) -> Option<PathBuf> {
    real_charts_dir().map(|dir| dir.join(crate::pins::archive(chart)))
}

/// The JSON conventions every `--output json` keeps: keys in camelCase, and no number written
/// as text. Values under a key in `opaque` (AWS policy documents, Kubernetes objects) are their
/// own format and left alone.
pub fn assert_json_conventions(json: &serde_json::Value, opaque: &[&str]) {
    fn walk(value: &serde_json::Value, path: &str, opaque: &[&str]) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    let here = format!("{path}.{key}");
                    assert!(
                        key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                            && key.chars().all(|c| c.is_ascii_alphanumeric()),
                        "`{here}` is not camelCase"
                    );
                    if !opaque.contains(&key.as_str()) {
                        walk(inner, &here, opaque);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), opaque);
                }
            }
            serde_json::Value::String(text) => {
                let numeric = path.ends_with(".revision") || path.ends_with("Count");
                assert!(
                    !(numeric && text.parse::<f64>().is_ok()),
                    "`{path}` is a number written as text: {text:?}"
                );
            }
            _ => {}
        }
    }
    walk(json, "", opaque);
}
