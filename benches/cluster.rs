//! `eksmon install` against a real API server (tests/cluster's control plane), side by side with
//! what a person runs by hand on the same cluster, with the same helm 4 and the real charts:
//!
//! - first install: the seed's sequence (`helm repo add` ×2, `helm repo update`, `helm upgrade -i`
//!   ×2, one after the other) in a fresh helm home, against `eksmon install` with a fresh cache;
//! - repeated install, nothing changed: `helm repo update` + the two upgrades, against
//!   `eksmon install` again;
//! - warm `install --dry-run` against its floor: the two `helm upgrade --install --dry-run=client`
//!   processes eksmon runs, started by hand in parallel (eksmon cannot beat helm itself).
//!
//! Interleaved runs, medians; `EKSMON_BENCH_RUNS` (5). Needs `$KUBEBUILDER_ASSETS` (scripts/bench
//! sets it) and the charts in ../shared/charts.

// Tests and benchmarks fail loudly: unwrapping is how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario or a table of cases reads top to bottom"
)]

use eksmon_test_support::latency::LatencyProxy;
use eksmon_test_support::{control_plane, pins, server};

use control_plane::ControlPlane;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The charts eksmon pins, with their versions.
fn charts() -> [(&'static str, &'static str); 2] {
    ["prometheus", "grafana"].map(|chart| (chart, crate::pins::version(chart)))
}

fn helm4() -> PathBuf {
    std::env::var_os("EKSMON_TEST_HELM4").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/helm4/helm"),
        PathBuf::from,
    )
}

fn ok(cmd: &mut Command) {
    let output = cmd.output().expect("run");
    assert!(
        output.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

struct Bench {
    dir: tempfile::TempDir,
    repo_url: String,
    kubeconfig: PathBuf,
}

impl Bench {
    fn helm(&self, home: &Path) -> Command {
        let mut cmd = Command::new(helm4());
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .stdout(Stdio::null());
        cmd
    }

    /// A profile for releases `NAME-prometheus`, `NAME-grafana` in namespace NAME.
    fn profile(&self, name: &str) -> PathBuf {
        let profile = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &profile,
            format!(
                "namespace: {name}\nexposure: none\nprometheus: {{release: {name}-prometheus}}\ngrafana: {{release: {name}-grafana}}\n{charts}",
                charts = crate::pins::charts_yaml(&self.repo_url)),
        )
        .expect("profile");
        profile
    }

    /// `eksmon install` for `name`'s releases.
    fn eksmon(&self, home: &Path, name: &str) -> Command {
        self.eksmon_command(home, name, "install")
    }

    fn eksmon_command(&self, home: &Path, name: &str, command: &str) -> Command {
        let mut cmd = self.eksmon_in(home, command);
        cmd.arg("--profile")
            .arg(self.profile(name))
            .env("KUBECONFIG", &self.kubeconfig);
        cmd
    }

    /// `eksmon COMMAND --quiet` with this bench's helm and caches under `home`.
    fn eksmon_in(&self, home: &Path, command: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_eksmon"));
        cmd.args([command, "--quiet"])
            .env("EKSMON_HELM", helm4())
            .env("EKSMON_CACHE_DIR", home.join("eksmon"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .stdout(Stdio::null());
        cmd
    }

    /// `eksmon install` of `name`'s releases on the cluster `kubeconfig` reaches.
    fn install_on(&self, home: &Path, name: &str, kubeconfig: &Path) -> Command {
        let mut cmd = self.eksmon_in(home, "install");
        cmd.arg("--profile")
            .arg(self.profile(name))
            .env("KUBECONFIG", kubeconfig);
        cmd
    }

    /// `eksmon install --fleet` of `name`'s releases on the clusters `one` and `two` reach
    /// (`extra` after it, e.g. `--cluster one`).
    fn fleet_install(
        &self,
        home: &Path,
        name: &str,
        [one, two]: [&Path; 2],
        extra: &[&str],
    ) -> Command {
        let fleet = self.dir.path().join(format!("{name}.fleet.yaml"));
        std::fs::write(
            &fleet,
            format!(
                "clusters:\n  - {{name: one, kubeconfig: {one}, profiles: [{p}]}}\n  - {{name: two, kubeconfig: {two}, profiles: [{p}]}}\n",
                one = one.display(),
                two = two.display(),
                p = self.profile(name).display(),
            ),
        )
        .expect("fleet file");
        let mut cmd = self.eksmon_in(home, "install");
        cmd.arg("--fleet").arg(&fleet).args(extra);
        cmd
    }

    /// A copy of `cluster`'s kubeconfig that reaches it through a proxy `one_way` late each way.
    fn distant(
        &self,
        cluster: &ControlPlane,
        one_way: Duration,
        name: &str,
    ) -> (LatencyProxy, PathBuf) {
        let upstream = cluster.server.trim_start_matches("https://");
        let proxy = LatencyProxy::start(upstream, one_way);
        let text = std::fs::read_to_string(&cluster.kubeconfig).expect("kubeconfig");
        let path = self.dir.path().join(format!("{name}.kubeconfig"));
        std::fs::write(&path, text.replace(upstream, &proxy.addr)).expect("kubeconfig copy");
        (proxy, path)
    }

    /// The values eksmon renders for `name`, as files for the manual sequence.
    fn values(&self, home: &Path, name: &str) -> [PathBuf; 2] {
        let out = home.join("values");
        ok(Command::new(env!("CARGO_BIN_EXE_eksmon"))
            .args(["render", "--profile"])
            .arg(self.profile(name))
            .arg("--out-dir")
            .arg(&out));
        [
            out.join("prometheus-values.yaml"),
            out.join("grafana-values.yaml"),
        ]
    }

    /// The seed's sequence: repo add ×2, repo update, upgrade -i ×2.
    fn manual_first(&self, home: &Path, name: &str) {
        ok(self
            .helm(home)
            .args(["repo", "add", "prometheus-community", &self.repo_url]));
        ok(self
            .helm(home)
            .args(["repo", "add", "grafana-community", &self.repo_url]));
        ok(self.helm(home).args(["repo", "update"]));
        self.manual_upgrades(home, name);
    }

    fn manual_repeat(&self, home: &Path, name: &str) {
        ok(self.helm(home).args(["repo", "update"]));
        self.manual_upgrades(home, name);
    }

    fn manual_upgrades(&self, home: &Path, name: &str) {
        let values = self.values(home, name);
        for ((chart, version), values) in charts().iter().zip(&values) {
            let repo = if *chart == "grafana" {
                "grafana-community"
            } else {
                "prometheus-community"
            };
            ok(self
                .helm(home)
                .args([
                    "upgrade",
                    "-i",
                    &format!("{name}-{chart}"),
                    &format!("{repo}/{chart}"),
                ])
                .args([
                    "--version",
                    version,
                    "--namespace",
                    name,
                    "--create-namespace",
                    "--values",
                ])
                .arg(values));
        }
    }

    /// The two dry-run upgrades eksmon runs, started by hand in parallel: the floor.
    fn dry_run_floor(&self, home: &Path, name: &str, archives: &[PathBuf; 2]) {
        let values = self.values(home, name);
        let children: Vec<_> = charts()
            .iter()
            .zip(archives)
            .zip(&values)
            .map(|(((chart, _), archive), values)| {
                self.helm(home)
                    .args(["upgrade", "--install", &format!("{name}-{chart}")])
                    .arg(archive)
                    .args(["--namespace", name, "--create-namespace", "--values"])
                    .arg(values)
                    .args(["--output", "json", "--dry-run=client", "--hide-secret"])
                    .spawn()
                    .expect("helm")
            })
            .collect();
        for mut child in children {
            assert!(child.wait().expect("helm").success());
        }
    }
}

impl Bench {
    /// Two real `helm upgrade --install`s of the same charts and values, in parallel: what a
    /// no-change install cost before eksmon left such releases alone.
    fn bare_upgrades(
        &self,
        home: &Path,
        name: &str,
        archives: &[PathBuf; 2],
        values: &[PathBuf; 2],
    ) {
        let children: Vec<_> = charts()
            .iter()
            .zip(archives)
            .zip(values)
            .map(|(((chart, _), archive), values)| {
                self.helm(home)
                    .args(["upgrade", "--install", &format!("{name}-{chart}")])
                    .arg(archive)
                    .args(["--namespace", name, "--values"])
                    .arg(values)
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("helm")
            })
            .collect();
        for mut child in children {
            assert!(child.wait().expect("helm").success());
        }
    }

    /// The revision of each of `name`'s releases.
    fn revisions(&self, home: &Path, name: &str) -> String {
        let output = self
            .helm(home)
            .args(["list", "--namespace", name, "--output", "json"])
            .stdout(Stdio::piped())
            .output()
            .expect("helm list");
        let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        rows.as_array()
            .into_iter()
            .flatten()
            .map(|r| format!("{}={}", r["name"], r["revision"]))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// What `eksmon diff` asks helm, started by hand all at once: the live manifest of each
    /// release and a server-side dry run of each upgrade. The floor for `eksmon diff`.
    fn diff_floor(&self, home: &Path, name: &str, archives: &[PathBuf; 2]) {
        let values = self.values(home, name);
        let mut children = Vec::new();
        for (((chart, _), archive), values) in charts().iter().zip(archives).zip(&values) {
            let release = format!("{name}-{chart}");
            children.push(
                self.helm(home)
                    .args(["get", "manifest", &release, "--namespace", name])
                    .spawn()
                    .expect("helm"),
            );
            children.push(
                self.helm(home)
                    .args(["upgrade", "--install", &release])
                    .arg(archive)
                    .args(["--namespace", name, "--create-namespace", "--values"])
                    .arg(values)
                    .args(["--output", "json", "--dry-run=server"])
                    .spawn()
                    .expect("helm"),
            );
        }
        for mut child in children {
            assert!(child.wait().expect("helm").success());
        }
    }
}

fn main() {
    let runs: usize = std::env::var("EKSMON_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let cluster = ControlPlane::shared().expect("set KUBEBUILDER_ASSETS (scripts/bench does)");
    let dir = tempfile::tempdir().expect("temp dir");
    let repo_dir = dir.path().join("repo");
    std::fs::create_dir_all(&repo_dir).expect("repo dir");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/charts");
    for (chart, version) in charts() {
        let name = format!("{chart}-{version}.tgz");
        std::fs::copy(shared.join(&name), repo_dir.join(&name))
            .expect("the real charts in ../shared/charts");
    }
    let server = server::Server::start_with_delay(repo_dir.clone(), Duration::ZERO);
    ok(Command::new(helm4())
        .args(["repo", "index"])
        .arg(&repo_dir)
        .args(["--url", &server.url]));
    let bench = Bench {
        dir,
        repo_url: server.url.clone(),
        kubeconfig: cluster.kubeconfig.clone(),
    };
    let archives = charts().map(|(chart, version)| repo_dir.join(format!("{chart}-{version}.tgz")));

    let (mut manual_first, mut eksmon_first, mut manual_repeat, mut eksmon_repeat) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let (manual, ours) = (format!("m{run}"), format!("e{run}"));
        let (manual_home, our_home) =
            (bench.dir.path().join(&manual), bench.dir.path().join(&ours));
        // The values put node-exporter in a namespace of its own, which eksmon install makes;
        // by hand it is made once beforehand (untimed), as a cluster admin would.
        ok(cluster
            .kubectl()
            .args(["create", "namespace", &format!("{manual}-node")])
            .stdout(Stdio::null()));
        manual_first.push(timed(|| bench.manual_first(&manual_home, &manual)));
        eksmon_first.push(timed(|| ok(&mut bench.eksmon(&our_home, &ours))));
        manual_repeat.push(timed(|| bench.manual_repeat(&manual_home, &manual)));
        eksmon_repeat.push(timed(|| ok(&mut bench.eksmon(&our_home, &ours))));
    }
    // Warm dry runs: eksmon's cache and version cache are filled by the runs above.
    let (mut floor, mut dry, mut uncached) = (Vec::new(), Vec::new(), Vec::new());
    let home = bench.dir.path().join("e0");
    for _ in 0..=(runs * 2) {
        floor.push(timed(|| bench.dry_run_floor(&home, "e0", &archives)));
        dry.push(timed(|| ok(bench.eksmon(&home, "e0").arg("--dry-run"))));
        // The same without the helm version cache (what every run paid before it).
        let _ = std::fs::remove_file(home.join("eksmon/helm-versions"));
        uncached.push(timed(|| ok(bench.eksmon(&home, "e0").arg("--dry-run"))));
    }
    let mut floor_again = floor.clone(); // `row` sorts its samples
    // `eksmon diff` on installed, unchanged releases, against its helm calls by hand.
    let (mut diff_floor, mut diff) = (Vec::new(), Vec::new());
    for _ in 0..=(runs * 2) {
        diff_floor.push(timed(|| bench.diff_floor(&home, "e0", &archives)));
        diff.push(timed(|| ok(&mut bench.eksmon_command(&home, "e0", "diff"))));
    }
    // A repeated install with nothing to change: plain, and with --diff (which then skips helm).
    let (mut again, mut again_diff) = (Vec::new(), Vec::new());
    for _ in 0..=(runs * 2) {
        again.push(timed(|| ok(&mut bench.eksmon(&home, "e0"))));
        again_diff.push(timed(|| ok(bench.eksmon(&home, "e0").arg("--diff"))));
    }
    // The same no-change install against two bare helm upgrades of the same charts and values,
    // and it must leave no new revision.
    let (mut bare, mut unchanged) = (Vec::new(), Vec::new());
    let values = bench.values(&home, "e0");
    for _ in 0..=(runs * 2) {
        bare.push(timed(|| {
            bench.bare_upgrades(&home, "e0", &archives, &values);
        }));
        let before = bench.revisions(&home, "e0");
        unchanged.push(timed(|| ok(&mut bench.eksmon(&home, "e0"))));
        assert_eq!(
            bench.revisions(&home, "e0"),
            before,
            "a no-change install made a revision"
        );
    }

    // A fleet of two clusters against one cluster's install, each a first install of new
    // releases: on loopback (bound by the two cores, which both API servers share), a fleet of
    // one (what the fleet's own processes cost), and with each API server 25 ms away (bound by
    // round trips, as a real cluster is). The second control plane is this bench's own.
    let second = ControlPlane::start().expect("a second control plane");
    let here = [cluster.kubeconfig.as_path(), second.kubeconfig.as_path()];
    let far = Duration::from_millis(25);
    let ((_near_proxy, far_one), (_far_proxy, far_two)) = (
        bench.distant(cluster, far, "one"),
        bench.distant(&second, far, "two"),
    );
    let (mut single, mut fleet, mut fleet_of_one) = (Vec::new(), Vec::new(), Vec::new());
    let (mut single_far, mut fleet_far) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let mut install = bench.install_on(&home, &format!("s{run}"), here[0]);
        single.push(timed(|| ok(&mut install)));
        let mut install = bench.fleet_install(&home, &format!("f{run}"), here, &[]);
        fleet.push(timed(|| ok(&mut install)));
        let mut install =
            bench.fleet_install(&home, &format!("g{run}"), here, &["--cluster", "one"]);
        fleet_of_one.push(timed(|| ok(&mut install)));
        let mut install = bench.install_on(&home, &format!("t{run}"), &far_one);
        single_far.push(timed(|| ok(&mut install)));
        let mut install = bench.fleet_install(&home, &format!("h{run}"), [&far_one, &far_two], &[]);
        fleet_far.push(timed(|| ok(&mut install)));
    }
    let mut single_again = single.clone(); // `row` sorts its samples
    second.shutdown();

    let secs = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    let row = |case: &str, a: &mut Vec<Duration>, b: &mut Vec<Duration>, goal: &str| {
        let (a, b) = (median(a), median(b));
        println!(
            "| {case} | {} | {} | **{:.2}** | {goal} |",
            secs(a),
            secs(b),
            b.as_secs_f64() / a.as_secs_f64()
        );
    };
    println!(
        "Real kube-apiserver v1.35.6 on loopback, Helm 4.1.4, real charts, {runs} interleaved runs (medians).\n"
    );
    println!("| case | by hand (a) | eksmon (b) | b/a | goal |\n| --- | --- | --- | --- | --- |");
    row(
        "first install (seed's sequence vs `eksmon install`)",
        &mut manual_first,
        &mut eksmon_first,
        "",
    );
    row(
        "repeated install, no change",
        &mut manual_repeat,
        &mut eksmon_repeat,
        "",
    );
    row(
        "warm `install --dry-run` vs two parallel `helm upgrade --install --dry-run=client` (the floor)",
        &mut floor,
        &mut dry,
        "≤ 1.10",
    );
    row(
        "the same, without the helm version cache",
        &mut floor_again,
        &mut uncached,
        "",
    );
    row(
        "warm `eksmon diff`, nothing changed, vs its helm calls by hand all at once (get manifest ×2, upgrade --dry-run=server ×2)",
        &mut diff_floor,
        &mut diff,
        "≤ 1.10",
    );
    row(
        "repeated install, nothing to change: `eksmon install` (a) vs `eksmon install --diff` (b)",
        &mut again,
        &mut again_diff,
        "",
    );
    row(
        "no-change install: two bare parallel `helm upgrade`s of the same charts and values (a) vs `eksmon install` (b), no new revision",
        &mut bare,
        &mut unchanged,
        "≤ 0.35",
    );
    row(
        "first install on loopback: one cluster's `eksmon install` (a) vs `install --fleet` of 2 clusters (b)",
        &mut single,
        &mut fleet,
        "≤ 1.5",
    );
    row(
        "the same, `install --fleet` of 1 cluster (b): what the fleet's processes add",
        &mut single_again,
        &mut fleet_of_one,
        "",
    );
    row(
        "first install, each API server 25 ms away: one cluster (a) vs `install --fleet` of 2 (b)",
        &mut single_far,
        &mut fleet_far,
        "≤ 1.5",
    );
    cluster.shutdown();
}
