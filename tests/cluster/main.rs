//! Real-cluster tests: the built `eksmon` binary, real helm 3 and 4, the real upstream charts
//! (`../shared/charts`, served on 127.0.0.1) and a real control plane (`$KUBEBUILDER_ASSETS`).
//!
//! One control plane serves the whole binary; each test works in its own namespace with its own
//! release names (the prometheus chart's ClusterRoles are named after the release, so names are
//! cluster-wide in practice). Without the assets every test skips after one loud line; with
//! `EKSMON_REQUIRE_CLUSTER=1` (as `.ci/run` sets it) that is a failure instead.

// Tests and benchmarks fail loudly: unwrapping is how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario test reads top to bottom, as the steps a user takes"
)]
#![allow(private_interfaces, reason = "a test binary exports nothing")]

use eksmon_test_support::{common, control_plane, pins, server};

mod diff;
mod doctor;
mod export;
mod faults;
mod fleet;
mod lifecycle;
mod pod_security;

use common::World;
use control_plane::ControlPlane;
use eksmon::yaml::Value;
use server::Server;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The real chart archives eksmon pins, in a repository on 127.0.0.1.
struct ChartRepo {
    server: Server,
    _dir: tempfile::TempDir,
}

/// One of the real chart archives (`../shared/charts`, or `$EKSMON_TEST_CHARTS`).
pub fn chart_archive(name: &str) -> PathBuf {
    let source = std::env::var_os("EKSMON_TEST_CHARTS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/charts"),
        PathBuf::from,
    );
    let path = source.join(name);
    assert!(
        path.is_file(),
        "the real chart {name} is not in {}; set EKSMON_TEST_CHARTS",
        source.display()
    );
    path
}

fn chart_repo() -> &'static ChartRepo {
    static REPO: OnceLock<ChartRepo> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in [
            &*crate::pins::archive("prometheus"),
            &*crate::pins::archive("grafana"),
        ] {
            std::fs::copy(chart_archive(name), dir.path().join(name)).expect("copy chart");
        }
        let server = Server::start(dir.path().to_owned());
        let output = Command::new(common::helm(4))
            .args(["repo", "index"])
            .arg(dir.path())
            .args(["--url", &server.url])
            .output()
            .expect("helm repo index");
        assert!(output.status.success(), "helm repo index: {output:?}");
        ChartRepo { server, _dir: dir }
    })
}

/// Charts fetched once for the whole binary (eksmon's cache is safe for concurrent runs).
fn chart_cache() -> &'static Path {
    static CACHE: OnceLock<tempfile::TempDir> = OnceLock::new();
    CACHE
        .get_or_init(|| tempfile::tempdir().expect("temp dir"))
        .path()
}

/// One test's corner of the cluster: a namespace and release names of its own, helm `major`.
pub struct Kube {
    pub world: World,
    pub cluster: &'static ControlPlane,
    pub helm_major: u8,
    pub namespace: String,
    pub prometheus: String,
    pub grafana: String,
    kubeconfig: PathBuf,
}

/// `Kube::new` or return from the test (the skip line was printed).
#[macro_export]
macro_rules! kube_or_skip {
    ($name:expr, $major:expr) => {
        match $crate::Kube::new($name, $major) {
            Some(kube) => kube,
            None => return,
        }
    };
}

impl Kube {
    /// `name` must be unique in the binary: it names the namespace and both releases.
    pub fn new(name: &str, helm_major: u8) -> Option<Kube> {
        if !common::helm_available() {
            return None;
        }
        let cluster = ControlPlane::shared()?;
        Some(Kube::on(cluster, name, helm_major))
    }

    pub fn on(cluster: &'static ControlPlane, name: &str, helm_major: u8) -> Kube {
        let world = World::new();
        let kube = Kube {
            namespace: name.to_owned(),
            prometheus: format!("{name}-prometheus"),
            grafana: format!("{name}-grafana"),
            kubeconfig: cluster.kubeconfig.clone(),
            world,
            cluster,
            helm_major,
        };
        kube.world.write(
            "test.yaml",
            &format!(
                "namespace: {ns}\nprometheus: {{release: {p}}}\ngrafana: {{release: {g}}}\n{charts}",
                ns = kube.namespace,
                p = kube.prometheus,
                g = kube.grafana,
                charts = crate::pins::charts_yaml(&chart_repo().server.url)),
        );
        std::fs::create_dir_all(kube.world.path().join("tmp")).expect("tmp");
        kube
    }

    /// The same corner seen with another kubeconfig (another identity).
    pub fn with_identity(mut self, kubeconfig: PathBuf) -> Kube {
        self.kubeconfig = kubeconfig;
        self
    }

    /// The same corner seen by [`control_plane::LIMITED_USER`], made admin of this namespace (and
    /// of nothing else) by a RoleBinding to the built-in `admin` ClusterRole.
    pub fn as_namespace_admin(self) -> Kube {
        let exists = self
            .kubectl()
            .args(["get", "namespace", &self.namespace])
            .output()
            .is_ok_and(|o| o.status.success());
        if !exists {
            self.kubectl_ok(&["create", "namespace", &self.namespace]);
        }
        self.kubectl_ok(&[
            "create",
            "rolebinding",
            "limited-admin",
            "--namespace",
            &self.namespace,
            "--clusterrole=admin",
            &format!("--user={}", control_plane::LIMITED_USER),
        ]);
        let limited = self.cluster.limited_kubeconfig();
        self.with_identity(limited)
    }

    /// `--profile example --profile test.yaml`: the seed's settings, then this test's names.
    pub fn profile(&self) -> [String; 4] {
        [
            "--profile".into(),
            "example".into(),
            "--profile".into(),
            self.world.path().join("test.yaml").display().to_string(),
        ]
    }

    /// `eksmon` against this cluster with the real helm and kubectl.
    pub fn eksmon(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.std_eksmon())
    }

    pub fn std_eksmon(&self) -> Command {
        let dir = self.world.path();
        let mut cmd = self.world.std_eksmon();
        cmd.env("EKSMON_HELM", common::helm(self.helm_major))
            .env("EKSMON_KUBECTL", control_plane::kubectl_path())
            .env("EKSMON_CACHE_DIR", chart_cache())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("TMPDIR", dir.join("tmp"));
        self.helm_env(&mut cmd);
        cmd
    }

    fn helm_env(&self, cmd: &mut Command) {
        let dir = self.world.path();
        cmd.env("HELM_CACHE_HOME", dir.join("helm/cache"))
            .env("HELM_CONFIG_HOME", dir.join("helm/config"))
            .env("HELM_DATA_HOME", dir.join("helm/data"));
    }

    /// The real helm of this test's major version, on this cluster.
    pub fn helm(&self) -> Command {
        let mut cmd = Command::new(common::helm(self.helm_major));
        cmd.env("KUBECONFIG", &self.kubeconfig);
        self.helm_env(&mut cmd);
        cmd
    }

    /// The real kubectl as the cluster's admin.
    pub fn kubectl(&self) -> Command {
        self.cluster.kubectl()
    }

    /// `kubectl ARGS --output json` as admin, parsed; panics on failure.
    pub fn kubectl_json(&self, args: &[&str]) -> serde_json::Value {
        let output = self
            .kubectl()
            .args(args)
            .args(["--output", "json"])
            .output()
            .expect("kubectl");
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("kubectl JSON")
    }

    /// `kubectl ARGS` as admin; panics on failure; stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl().args(args).output().expect("kubectl");
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `kubectl apply` of a manifest as admin.
    pub fn apply(&self, manifest: &str) {
        let path = self.world.write("manifest.yaml", manifest);
        self.kubectl_ok(&["apply", "--filename", &path.display().to_string()]);
    }

    /// One chart's values as `eksmon render` prints them for `extra` arguments.
    pub fn rendered(&self, chart: &str, extra: &[&str]) -> Value {
        let output = self
            .eksmon()
            .arg("render")
            .arg(chart)
            .args(self.profile())
            .args(extra)
            .output()
            .expect("render");
        assert!(output.status.success(), "{output:?}");
        eksmon::yaml::parse(&String::from_utf8_lossy(&output.stdout)).expect("rendered YAML")
    }

    /// `helm list --namespace NS --output json` (every status), as (name, revision, status).
    pub fn releases(&self) -> Vec<(String, String, String)> {
        let mut cmd = self.helm();
        cmd.args(["list", "--namespace", &self.namespace, "--output", "json"]);
        if self.helm_major == 3 {
            cmd.arg("--all");
        }
        let output = cmd.output().expect("helm list");
        assert!(output.status.success(), "{output:?}");
        let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        rows.as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                (field("name"), field("revision"), field("status"))
            })
            .collect()
    }

    /// A kubeconfig whose API server is gone (a port nothing listens on), with the contexts
    /// `gone` (current) and `spare`.
    pub fn closed_kubeconfig(&self) -> PathBuf {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        self.world.write(
            "closed-kubeconfig",
            &format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: gone, cluster: {{server: 'https://127.0.0.1:{closed}', insecure-skip-tls-verify: true}}}}]\nusers: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: gone, context: {{cluster: gone, user: u}}}}, {{name: spare, context: {{cluster: gone, user: u}}}}]\ncurrent-context: gone\n"
            ),
        )
    }

    /// Names of the PersistentVolumeClaims in the namespace, sorted.
    pub fn claims(&self) -> Vec<String> {
        let list = self.kubectl_json(&[
            "get",
            "persistentvolumeclaims",
            "--namespace",
            &self.namespace,
        ]);
        let mut names: Vec<String> = list["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|c| c["metadata"]["deletionTimestamp"].is_null())
            .map(|c| {
                c["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        names.sort();
        names
    }
}

/// Both helm majors, for tests that run once per major.
pub const HELMS: [u8; 2] = [3, 4];

/// A finished command's (exit code, stdout, stderr).
pub fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let output = cmd.output().expect("run eksmon");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
