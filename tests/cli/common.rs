//! Shared helpers: a clean `eksmon` command, helm binaries, YAML lookups.

use assert_cmd::Command;
use eksmon::yaml::Value;
use std::path::{Path, PathBuf};

/// A test's private world: a temp dir used as cwd, HOME and config dir.
pub(crate) struct World {
    pub dir: tempfile::TempDir,
}

impl World {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `eksmon` with a scrubbed environment, run in this world's dir.
    pub(crate) fn eksmon(&self) -> Command {
        Command::from_std(self.std_eksmon())
    }

    /// The same as a plain `std::process::Command`, for redirects and signals.
    pub(crate) fn std_eksmon(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("eksmon"));
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
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
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
    from_env.unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/tools/helm{major}/helm"))
    })
}

/// A real helm binary of the given major version (3 or 4), as `scripts/fetch-tools` installs it.
pub(crate) fn helm(major: u8) -> PathBuf {
    let path = helm_path(major);
    assert!(
        path.is_file(),
        "helm {major} not found at {}: run scripts/fetch-tools (scripts/test does)",
        path.display()
    );
    path
}

/// Set (by `.ci/run`) to make missing helm binaries a failure instead of a skip.
pub(crate) const REQUIRE_HELM_VAR: &str = "EKSMON_REQUIRE_HELM";

/// True when both real helms are there. Otherwise false after one loud line (a plain
/// `cargo test` on a fresh checkout), or a panic when [`REQUIRE_HELM_VAR`] is set.
pub(crate) fn helm_available() -> bool {
    let missing: Vec<String> = [3, 4]
        .iter()
        .map(|&major| helm_path(major))
        .filter(|path| !path.is_file())
        .map(|path| path.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("no helm at {}", missing.join(", "));
    assert!(
        std::env::var_os(REQUIRE_HELM_VAR).is_none_or(|v| v.is_empty()),
        "tests with real helm required ({REQUIRE_HELM_VAR}) but {why}: run scripts/fetch-tools"
    );
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        // Straight to the process's stderr: the test harness captures eprintln!, not this.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "!!! SKIPPING THE TESTS THAT RUN REAL HELM: {why} (scripts/test fetches it; set {REQUIRE_HELM_VAR}=1 to fail instead)"
        );
    });
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
pub(crate) fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().expect("run");
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 stdout")
}

/// The value at a dotted path (`metadata.annotations`); keys with dots are given as `[key]`.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
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

pub(crate) fn text<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    at(value, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string"))
}

/// The folder with the real chart archives eksmon pins (`../shared/charts`, or
/// `$EKSMON_TEST_CHARTS`); `None` after one loud line when it is absent (a failure when
/// `EKSMON_REQUIRE_CLUSTER` is set, as in CI).
pub(crate) fn real_charts_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EKSMON_TEST_CHARTS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/charts"),
        PathBuf::from,
    );
    if dir.join("prometheus-29.27.0.tgz").is_file() && dir.join("grafana-12.11.1.tgz").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("EKSMON_REQUIRE_CLUSTER").is_none_or(|v| v.is_empty()),
        "the real charts are not in {} (set EKSMON_TEST_CHARTS)",
        dir.display()
    );
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "!!! SKIPPING THE TESTS WITH THE REAL CHARTS: none in {} (set EKSMON_TEST_CHARTS)",
            dir.display()
        );
    });
    None
}

/// The real archive of `chart` (`prometheus` or `grafana`), when the real charts are there.
pub(crate) fn real_chart(chart: &str) -> Option<PathBuf> {
    let version = match chart {
        "prometheus" => "29.27.0",
        _ => "12.11.1",
    };
    real_charts_dir().map(|dir| dir.join(format!("{chart}-{version}.tgz")))
}

/// The JSON conventions every `--output json` keeps: keys in camelCase, and no number written
/// as text. Values under a key in `opaque` (AWS policy documents, Kubernetes objects) are their
/// own format and left alone.
pub(crate) fn assert_json_conventions(json: &serde_json::Value, opaque: &[&str]) {
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
