//! A stand-in cluster for lifecycle tests: a chart repo and discovery stub on loopback, the
//! recording helm wrapper in front of real helm 3 or 4, and the memory driver (no kubectl:
//! everything that needs one runs against the real control plane in tests/cluster).

use crate::common::{World, helm, real_chart};
use crate::server::Server;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A chart repository with the two real charts eksmon pins, served on 127.0.0.1.
pub(crate) struct Repo {
    pub server: Server,
    pub dir: PathBuf,
}

impl Repo {
    /// A repository of its own (for tests that count requests). Callers skip first when the
    /// real charts are absent (`skip_without_helm!` does).
    pub(crate) fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap().keep();
        for chart in ["prometheus", "grafana"] {
            let archive = real_chart(chart).expect("the real charts (../shared/charts)");
            std::fs::copy(&archive, dir.join(archive.file_name().unwrap())).unwrap();
        }
        let server = Server::start(dir.clone());
        let status = Command::new(helm(4))
            .args(["repo", "index"])
            .arg(&dir)
            .args(["--url", &server.url])
            .output()
            .unwrap();
        assert!(status.status.success(), "helm repo index: {status:?}");
        Repo { server, dir }
    }

    /// One repository shared by the tests that do not count requests.
    pub(crate) fn shared() -> &'static Repo {
        static SHARED: OnceLock<Repo> = OnceLock::new();
        SHARED.get_or_init(Repo::new)
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cli/fixtures")
        .join(name)
}

/// A world wired to `repo` and helm `major` (3 or 4), with `eksmon.yaml` naming the repo.
pub(crate) struct Cluster {
    pub world: World,
    pub helm_major: u8,
}

impl Cluster {
    pub(crate) fn new(repo: &Repo, helm_major: u8) -> Cluster {
        let world = World::new();
        world.write(
            "eksmon.yaml",
            &format!(
                // Grafana's admin Secret is the profile's own here: making eksmon's needs
                // kubectl and a cluster (tests/cluster covers it).
                "namespace: monitoring\ngrafana: {{values: {{admin: {{existingSecret: grafana-admin}}}}}}\n{charts}",
                charts = crate::pins::charts_yaml(&repo.server.url)),
        );
        world.write(
            "kubeconfig",
            &format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: stub, cluster: {{server: '{}'}}}}]\nusers: [{{name: stub, user: {{}}}}]\ncontexts: [{{name: stub, context: {{cluster: stub, user: stub}}}}]\ncurrent-context: stub\n",
                repo.server.url
            ),
        );
        world.write("helm-memory-driver-data", "");
        world.write("calls.log", "");
        std::fs::create_dir_all(world.path().join("tmp")).unwrap();
        Cluster { world, helm_major }
    }

    /// `eksmon ARGS` against this stand-in cluster.
    pub(crate) fn eksmon(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_eksmon())
    }

    pub(crate) fn std_eksmon(&self) -> Command {
        let dir = self.world.path();
        let mut cmd = self.world.std_eksmon();
        cmd.env("EKSMON_HELM", fixture("recording-helm"))
            .env("EKSMON_KUBECTL", fixture("stand-in-kubectl"))
            .env("REAL_HELM", helm(self.helm_major))
            .env("EKSMON_TEST_LOG", dir.join("calls.log"))
            .env("HELM_CACHE_HOME", dir.join("helm/cache"))
            .env("HELM_CONFIG_HOME", dir.join("helm/config"))
            .env("HELM_DATA_HOME", dir.join("helm/data"))
            .env("HELM_DRIVER", "memory")
            .env(
                "HELM_MEMORY_DRIVER_DATA",
                dir.join("helm-memory-driver-data"),
            )
            .env("KUBECONFIG", dir.join("kubeconfig"))
            .env("TMPDIR", dir.join("tmp"));
        cmd
    }

    /// Files eksmon left in its temp dir (there should be none).
    pub(crate) fn temp_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.world.path().join("tmp"))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect()
    }

    /// Every recorded helm/kubectl call, one per line.
    pub(crate) fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.world.path().join("calls.log"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Recorded helm calls of one subcommand, as (start, end, values mode, argv).
    pub(crate) fn helm_calls(&self, subcommand: &str) -> Vec<HelmCall> {
        self.calls()
            .iter()
            .filter_map(|line| HelmCall::parse(line))
            .filter(|call| call.argv.first().map(String::as_str) == Some(subcommand))
            .collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct HelmCall {
    pub start: f64,
    pub end: f64,
    pub values_mode: String,
    pub argv: Vec<String>,
}

impl HelmCall {
    fn parse(line: &str) -> Option<HelmCall> {
        let mut words = line.split(' ');
        let start = words.next()?.parse().ok()?;
        let end = words.next()?.parse().ok()?;
        let _exit: i32 = words.next()?.parse().ok()?;
        let values_mode = words.next()?.strip_prefix("mode=")?.to_owned();
        Some(HelmCall {
            start,
            end,
            values_mode,
            argv: words.map(str::to_owned).collect(),
        })
    }

    pub(crate) fn has(&self, flag: &str) -> bool {
        self.argv.iter().any(|a| a == flag)
    }

    /// The value after `flag`.
    pub(crate) fn value_of(&self, flag: &str) -> Option<&str> {
        let at = self.argv.iter().position(|a| a == flag)?;
        self.argv.get(at + 1).map(String::as_str)
    }
}
