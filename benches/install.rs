//! `eksmon install` against the manual helm sequence it replaces, side by side, with the same
//! Helm 4 binary and the same charts, both in client dry-run with the memory driver.
//!
//! A loopback server stands in for the chart repositories: it waits before every answer (a
//! distant CDN; `EKSMON_BENCH_DELAY_MS`, default 150) and serves indexes padded to a realistic
//! size (the prometheus-community index is several MB). The helm home already holds a few
//! unrelated repositories, as real users' do, so `helm repo update` has work to do.
//!
//! Run: `scripts/bench` (or `cargo bench --bench install`). Prints a Markdown report.

// Tests and benchmarks fail loudly: unwrapping is how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use eksmon_test_support::{pins, server};

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn helm4() -> PathBuf {
    let path = std::env::var_os("EKSMON_TEST_HELM4")
        .map_or_else(|| root().join("target/tools/helm4/helm"), PathBuf::from);
    assert!(
        path.is_file(),
        "helm 4 not found at {}: run scripts/fetch-tools",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) {
    let output = cmd.output().expect("spawn");
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Synthetic index entries: `charts` charts × `versions` versions, shaped like real ones.
fn padding_entries(prefix: &str, charts: usize, versions: usize) -> String {
    let mut out = String::new();
    for c in 0..charts {
        let _ = writeln!(out, "  {prefix}-chart-{c}:");
        for v in 0..versions {
            let _ = write!(
                out,
                "  - annotations:\n      artifacthub.io/license: Apache-2.0\n      artifacthub.io/links: |\n        - name: Chart Source\n          url: https://example.com/{prefix}/charts/{c}\n    apiVersion: v2\n    appVersion: v{v}.{c}.0\n    created: \"2025-0{m}-1{d}T10:00:00.000000000Z\"\n    description: A synthetic chart that pads this index to the size of a real repository's index, entry {c}-{v}.\n    digest: {digest:064x}\n    home: https://example.com/{prefix}/{c}\n    keywords:\n    - monitoring\n    - synthetic\n    maintainers:\n    - email: maintainer@example.com\n      name: maintainer-{c}\n    name: {prefix}-chart-{c}\n    sources:\n    - https://example.com/{prefix}/src/{c}\n    type: application\n    urls:\n    - https://example.com/{prefix}/releases/download/{prefix}-chart-{c}-{v}.0.0/{prefix}-chart-{c}-{v}.0.0.tgz\n    version: {v}.0.0\n",
                m = 1 + v % 9,
                d = v % 10,
                digest = (c * 7919 + v) as u128 * 0x9E37_79B9_7F4A_7C15,
            );
        }
    }
    out
}

/// A repository dir holding `charts` (the real archives from ../shared/charts, or
/// `$EKSMON_TEST_CHARTS`) with an index padded to about `megabytes`.
fn make_repo(dir: &Path, url: &str, charts: &[&str], megabytes: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let source = std::env::var_os("EKSMON_TEST_CHARTS")
        .map_or_else(|| root().join("../shared/charts"), PathBuf::from);
    for chart in charts {
        let version = if *chart == "prometheus" {
            crate::pins::version("prometheus")
        } else {
            crate::pins::version("grafana")
        };
        let name = format!("{chart}-{version}.tgz");
        std::fs::copy(source.join(&name), dir.join(&name))
            .unwrap_or_else(|e| panic!("{}: {e}", source.join(&name).display()));
    }
    run(Command::new(helm4())
        .args(["repo", "index"])
        .arg(dir)
        .args(["--url", url]));
    let index = std::fs::read_to_string(dir.join("index.yaml")).unwrap();
    // ~1.1 kB per entry.
    let entries = megabytes * 1024 * 1024 / 1100;
    let padding = padding_entries(charts.first().copied().unwrap_or("x"), entries / 40 + 1, 40);
    let padded = index.replacen("entries:\n", &format!("entries:\n{padding}"), 1);
    std::fs::write(dir.join("index.yaml"), padded).unwrap();
}

struct Fixture {
    dir: tempfile::TempDir,
    server: server::Server,
}

impl Fixture {
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn url(&self, repo: &str) -> String {
        format!("{}/{repo}", self.server.url)
    }
}

fn fixture(delay: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let server = server::Server::start_with_delay(dir.path().join("srv"), delay);
    let fx = Fixture { dir, server };
    make_repo(
        &fx.path().join("srv/prometheus-community"),
        &fx.url("prometheus-community"),
        &["prometheus"],
        3,
    );
    make_repo(
        &fx.path().join("srv/grafana"),
        &fx.url("grafana"),
        &["grafana"],
        1,
    );
    // The user's other repositories, already added and cached.
    let mut repositories =
        String::from("apiVersion: \"\"\ngenerated: \"0001-01-01T00:00:00Z\"\nrepositories:\n");
    for other in ["bitnami-like", "eks-charts-like", "jetstack-like"] {
        let repo = fx.path().join("srv").join(other);
        std::fs::create_dir_all(&repo).unwrap();
        let index = format!(
            "apiVersion: v1\nentries:\n{}generated: \"2025-01-01T00:00:00Z\"\n",
            padding_entries(other, 10, 40)
        );
        std::fs::write(repo.join("index.yaml"), &index).unwrap();
        let cache = fx.path().join("helm-template/cache/repository");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(cache.join(format!("{other}-index.yaml")), &index).unwrap();
        let _ = write!(
            repositories,
            "- caFile: \"\"\n  certFile: \"\"\n  insecure_skip_tls_verify: false\n  keyFile: \"\"\n  name: {other}\n  pass_credentials_all: false\n  password: \"\"\n  url: {}\n  username: \"\"\n",
            fx.url(other)
        );
    }
    let config = fx.path().join("helm-template/config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("repositories.yaml"), repositories).unwrap();
    std::fs::write(fx.path().join("memory-driver-data"), "").unwrap();
    std::fs::write(
        fx.path().join("bench.yaml"),
        format!(
            // The admin Secret is the profile's own: without a cluster (helm's memory driver)
            // eksmon cannot make one; benches/cluster.rs measures the path that does.
            "grafana: {{values: {{admin: {{existingSecret: grafana-admin}}}}}}\ncharts:\n  prometheus: {{repo: '{prometheus_repo}', name: prometheus, version: {prometheus_pin}}}\n  grafana: {{repo: '{grafana_repo}', name: grafana, version: {grafana_pin}}}\n",
            prometheus_repo = fx.url("prometheus-community"),
            grafana_repo = fx.url("grafana"),
            prometheus_pin = crate::pins::version("prometheus"),
            grafana_pin = crate::pins::version("grafana"),
        ),
    )
    .unwrap();
    run(Command::new(env!("CARGO_BIN_EXE_eksmon"))
        .args(["render", "--profile", "example", "--out-dir"])
        .arg(fx.path().join("values")));
    fx
}

/// A fresh copy of the seeded helm home (and an empty eksmon cache) named `name`.
fn fresh_home(fx: &Fixture, name: &str) -> PathBuf {
    let home = fx.path().join("homes").join(name);
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(fx.path().join("homes")).unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(fx.path().join("helm-template"))
        .arg(&home));
    home
}

fn helm_env(cmd: &mut Command, fx: &Fixture, home: &Path) {
    cmd.env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_DRIVER", "memory")
        .env(
            "HELM_MEMORY_DRIVER_DATA",
            fx.path().join("memory-driver-data"),
        )
        .env("EKSMON_CACHE_DIR", home.join("eksmon-cache"))
        .env("EKSMON_HELM", helm4())
        .env_remove("KUBECONFIG");
}

/// The seed's sequence: add, update, upgrade; add, update, upgrade.
fn manual(fx: &Fixture, home: &Path) -> Duration {
    let values = fx.path().join("values");
    let steps: Vec<Vec<String>> = vec![
        vec!["repo".into(), "add".into(), "prometheus-community".into(), fx.url("prometheus-community")],
        vec!["repo".into(), "update".into()],
        format!("upgrade -i prometheus prometheus-community/prometheus --version {prometheus_pin} -n prometheus --create-namespace -f {} --dry-run=client", values.join("prometheus-values.yaml").display(), prometheus_pin = crate::pins::version("prometheus"))
            .split(' ').map(str::to_owned).collect(),
        vec!["repo".into(), "add".into(), "grafana".into(), fx.url("grafana")],
        vec!["repo".into(), "update".into()],
        format!("upgrade -i grafana grafana/grafana --version {grafana_pin} -n prometheus -f {} --dry-run=client", values.join("grafana-values.yaml").display(), grafana_pin = crate::pins::version("grafana"))
            .split(' ').map(str::to_owned).collect(),
    ];
    let started = Instant::now();
    for step in steps {
        let mut cmd = Command::new(helm4());
        cmd.args(&step);
        helm_env(&mut cmd, fx, home);
        run(&mut cmd);
    }
    started.elapsed()
}

/// `eksmon install` in client dry-run against the benchmark's repositories.
fn install_command(fx: &Fixture, home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eksmon"));
    cmd.args(["install", "--dry-run", "--allow-public", "--quiet"])
        .args(["--profile", "example", "--profile"])
        .arg(fx.path().join("bench.yaml"))
        .stdout(std::process::Stdio::null());
    helm_env(&mut cmd, fx, home);
    cmd
}

fn eksmon_install(fx: &Fixture, home: &Path) -> Duration {
    let mut cmd = install_command(fx, home);
    let started = Instant::now();
    run(&mut cmd);
    started.elapsed()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn summary(samples: &mut [Duration]) -> String {
    let m = median(samples);
    format!(
        "{:.3} s (min {:.3}, max {:.3})",
        m.as_secs_f64(),
        samples[0].as_secs_f64(),
        samples[samples.len() - 1].as_secs_f64()
    )
}

fn time_command(runs: usize, args: &[&str]) -> Duration {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            run(Command::new(env!("CARGO_BIN_EXE_eksmon"))
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null()));
            started.elapsed()
        })
        .collect();
    median(&mut samples)
}

/// helm processes one install spawns, counted with the tests' recording wrapper.
fn helm_processes(fx: &Fixture) -> (usize, usize) {
    let home = fresh_home(fx, "count");
    let log = fx.path().join("count.log");
    let wrapper = root().join("tests/cli/fixtures/recording-helm");
    let count = |fx: &Fixture| {
        std::fs::write(&log, "").unwrap();
        let mut cmd = install_command(fx, &home);
        cmd.env("EKSMON_HELM", &wrapper)
            .env("REAL_HELM", helm4())
            .env("EKSMON_TEST_LOG", &log);
        run(&mut cmd);
        let text = std::fs::read_to_string(&log).unwrap();
        if std::env::var_os("EKSMON_BENCH_TRACE").is_some() {
            eprintln!("{text}");
        }
        text.lines().count()
    };
    (count(fx), count(fx))
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument would select nothing here.
    let delay = Duration::from_millis(env_number("EKSMON_BENCH_DELAY_MS", 150));
    let runs = usize::try_from(env_number("EKSMON_BENCH_RUNS", 7))
        .unwrap_or(7)
        .max(1);
    let fx = fixture(delay);
    let (mut manual_first, mut manual_repeat, mut ours_first, mut ours_repeat) =
        (vec![], vec![], vec![], vec![]);
    for i in 0..runs {
        // Interleaved, so both sides see the same machine noise.
        let home = fresh_home(&fx, &format!("manual-{i}"));
        manual_first.push(manual(&fx, &home));
        manual_repeat.push(manual(&fx, &home));
        let home = fresh_home(&fx, &format!("eksmon-{i}"));
        ours_first.push(eksmon_install(&fx, &home));
        ours_repeat.push(eksmon_install(&fx, &home));
    }
    let ratio = |ours: &mut [Duration], theirs: &mut [Duration]| {
        median(ours).as_secs_f64() / median(theirs).as_secs_f64()
    };
    let first_ratio = ratio(&mut ours_first, &mut manual_first);
    let repeat_ratio = ratio(&mut ours_repeat, &mut manual_repeat);
    let many = runs * 7;
    let render = time_command(many, &["render", "--profile", "example"]);
    // The same without the fifteen shipped dashboards: what they cost a render.
    let bare = time_command(
        many,
        &[
            "render",
            "--profile",
            "example",
            "--set",
            "grafana.dashboards=[]",
        ],
    );
    let startup = time_command(many, &["--version"]);
    let (spawned_first, spawned_repeat) = helm_processes(&fx);
    let index_mb =
        std::fs::metadata(fx.path().join("srv/prometheus-community/index.yaml")).map_or(0.0, |m| {
            #[allow(
                clippy::cast_precision_loss,
                reason = "a file size in megabytes, for a report"
            )]
            let bytes = m.len() as f64;
            bytes / 1e6
        });

    println!("## install: eksmon vs the manual helm sequence\n");
    println!(
        "Helm {}, delay {} ms per request, prometheus-community index {index_mb:.1} MB, 3 unrelated repos in the helm home, {runs} runs each (median, min–max).\n",
        String::from_utf8_lossy(
            &Command::new(helm4())
                .args(["version", "--template", "{{.Version}}"])
                .output()
                .unwrap()
                .stdout
        ),
        delay.as_millis()
    );
    println!("| case | manual sequence (a) | eksmon install (b) | b/a | goal |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| first install | {} | {} | **{first_ratio:.2}** | ≤ 0.35 |",
        summary(&mut manual_first),
        summary(&mut ours_first)
    );
    println!(
        "| repeated install | {} | {} | **{repeat_ratio:.2}** | ≤ 0.10 |",
        summary(&mut manual_repeat),
        summary(&mut ours_repeat)
    );
    println!("\n| other | value |\n| --- | --- |");
    println!(
        "| `eksmon render --profile example` (both charts, whole process, median of {many}) | {:.1} ms |",
        render.as_secs_f64() * 1e3
    );
    println!(
        "| the same with no dashboard (`--set grafana.dashboards=[]`) | {:.1} ms (dashboards: **{:.2}×**) |",
        bare.as_secs_f64() * 1e3,
        render.as_secs_f64() / bare.as_secs_f64()
    );
    println!(
        "| `eksmon --version` (process start-up, median of {many}) | {:.1} ms |",
        startup.as_secs_f64() * 1e3
    );
    println!(
        "| helm processes per install: manual / eksmon first / eksmon repeated | 6 / {spawned_first} / {spawned_repeat} |"
    );
}
