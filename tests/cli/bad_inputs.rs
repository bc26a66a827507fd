//! The bad-input corpus in `tests/bad-inputs/`: every case exits 2 with one `error:` line naming
//! the field and its source, prints nothing on stdout, and starts no helm or kubectl process.
//!
//! A case file is the profile itself; YAML comments at its top say what to run and expect:
//! `# args: …` (default `install --profile {profile}`), `# error: <substring of the error line>`,
//! `# where: <source>` (the `(…)` at the line's end; `{profile}` is the case's file).

use crate::fixture::{Cluster, Repo};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Case {
    name: String,
    args: Vec<String>,
    error: String,
    source: Option<String>,
    profile: Vec<u8>,
}

fn directive<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("# {key}: ")))
        .map(str::trim_end)
}

fn load(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap();
    let args = directive(&text, "args").unwrap_or("install --profile {profile}");
    Case {
        name: path.file_stem().unwrap().to_string_lossy().into_owned(),
        args: args
            .split_whitespace()
            .map(|a| a.replace("{profile}", "profile.yaml"))
            .collect(),
        error: directive(&text, "error")
            .unwrap_or_else(|| panic!("{}: no `# error:` line", path.display()))
            .to_owned(),
        source: directive(&text, "where").map(|w| w.replace("{profile}", "profile.yaml")),
        profile: text.into_bytes(),
    }
}

/// Cases built in code: binary garbage and a 10 MB file.
fn generated() -> Vec<Case> {
    let install = || {
        vec![
            "install".to_owned(),
            "--profile".to_owned(),
            "profile.yaml".to_owned(),
        ]
    };
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
        .collect();
    vec![
        Case {
            name: "binary-garbage".into(),
            args: install(),
            error: "profile is not UTF-8 text".into(),
            source: Some("profile.yaml".into()),
            profile: garbage,
        },
        Case {
            name: "ten-megabytes".into(),
            args: install(),
            error: "profiles are YAML settings of at most 1 MiB".into(),
            source: Some("profile.yaml".into()),
            profile: "# padding\n".repeat(1_048_576).into_bytes(),
        },
    ]
}

fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    files.sort();
    let mut cases: Vec<Case> = files.iter().map(|p| load(p)).collect();
    cases.extend(generated());
    cases
}

#[test]
fn every_bad_input_is_refused_before_anything_runs() {
    crate::skip_without_helm!();
    let cases = corpus();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let cluster = Cluster::new(Repo::shared(), 4);
    let mut slowest = (Duration::ZERO, String::new());
    let mut failures = Vec::new();
    let mut transcript = String::new();
    for case in &cases {
        std::fs::write(cluster.world.path().join("profile.yaml"), &case.profile).unwrap();
        let started = Instant::now();
        let output = cluster.eksmon().args(&case.args).output().unwrap();
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, case.name.clone());
        }
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        transcript += &format!(
            "--- {} (exit {:?})\n{}",
            case.name,
            output.status.code(),
            stderr.replace(&cluster.world.path().display().to_string(), "<home>")
        );
        let error_line = stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        let mut problems = Vec::new();
        if output.status.code() != Some(2) {
            problems.push(format!("exit {:?}", output.status.code()));
        }
        if !output.stdout.is_empty() {
            problems.push("stdout is not empty".into());
        }
        if !stderr.starts_with("error: ") {
            problems.push("stderr does not start with `error: `".into());
        }
        if stderr.lines().filter(|l| l.starts_with("error: ")).count() != 1
            || !stderr.lines().skip(1).all(|l| l.starts_with("hint: "))
        {
            problems.push("not one error line followed by hints".into());
        }
        if !error_line.contains(&case.error) {
            problems.push(format!("expected `{}`", case.error));
        }
        if let Some(source) = &case.source
            && !error_line.contains(&format!("({source}"))
        {
            problems.push(format!("expected source `({source}…)`"));
        }
        if took > Duration::from_secs(5) {
            problems.push(format!("took {took:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n    stderr: {stderr}",
                case.name,
                problems.join("; ")
            ));
        }
    }
    let calls = cluster.calls();
    assert!(calls.is_empty(), "bad input started processes: {calls:?}");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // What a person sees for each case, reviewed as a whole (`cargo insta review` after a change).
    insta::assert_snapshot!("bad_input_errors", transcript);
    eprintln!(
        "{} bad inputs refused; slowest {:?} ({})",
        cases.len(),
        slowest.0,
        slowest.1
    );
}
