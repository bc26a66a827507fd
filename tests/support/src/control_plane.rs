//! A real Kubernetes control plane for the tests: etcd, kube-apiserver and kube-controller-manager
//! from `$KUBEBUILDER_ASSETS` (the envtest convention), on free loopback ports in a temp dir.
//!
//! No kubelet and no scheduler: Pods and PVCs stay Pending, which is what the timeout and
//! rollback tests need. One shared instance per test binary ([`ControlPlane::shared`]); tests
//! isolate themselves by namespace and release names. A test that breaks the API server starts
//! its own ([`ControlPlane::start`]).
//!
//! Stopping: a dropped instance stops its processes; the shared one (a static, never dropped) is
//! stopped by an `atexit` hook when the test binary exits, and every process also gets
//! `PR_SET_PDEATHSIG`, so even a killed test binary leaves nothing running.

use std::io::Read as _;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use crate::skip::REQUIRE_CLUSTER_VAR as REQUIRE_VAR;

pub struct ControlPlane {
    dir: tempfile::TempDir,
    /// The admin's kubeconfig (group system:masters).
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub server: String,
    ca_pem: String,
    processes: Mutex<Vec<(&'static str, Child)>>,
}

/// The shared instance, or why it could not start (reported by every test, started once).
static SHARED: OnceLock<Result<Option<ControlPlane>, String>> = OnceLock::new();

/// A second identity with no rights until a test grants some (RBAC tests).
pub const LIMITED_USER: &str = "limited";

impl ControlPlane {
    /// The instance shared by this test binary, started on first use; `None` (after one loud
    /// line) when the assets are absent and the cluster is not required.
    pub fn shared() -> Option<&'static ControlPlane> {
        let shared = SHARED.get_or_init(|| {
            let Some(assets) = assets() else {
                return Ok(None);
            };
            // Started from a thread that never ends: PR_SET_PDEATHSIG fires when the
            // spawning *thread* exits, and test threads end with their test.
            let (send, receive) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let started = std::panic::catch_unwind(|| ControlPlane::start_in(&assets));
                let _ = send.send(started);
                loop {
                    std::thread::park();
                }
            });
            match receive.recv() {
                Ok(Ok(control_plane)) => {
                    // SAFETY: registering a plain extern "C" function with atexit(3).
                    unsafe { libc::atexit(stop_shared) };
                    Ok(Some(control_plane))
                }
                Ok(Err(panic)) => Err(panic
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "the control plane did not start".into())),
                Err(_) => Err("the control plane thread died".into()),
            }
        });
        match shared {
            Ok(control_plane) => control_plane.as_ref(),
            Err(why) => panic!("{why}"),
        }
    }

    /// A control plane of the caller's own (for tests that stop or break it); `None` as for
    /// [`ControlPlane::shared`].
    pub fn start() -> Option<ControlPlane> {
        Some(ControlPlane::start_in(&assets()?))
    }

    fn start_in(assets: &Path) -> ControlPlane {
        let dir = tempfile::Builder::new()
            .prefix("eksmon-kcp-")
            .tempdir()
            .expect("temp dir");
        let at = |name: &str| dir.path().join(name);

        let serving =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
                .expect("serving certificate");
        let ca_pem = serving.cert.pem();
        write_private(&at("apiserver.crt"), &ca_pem);
        write_private(&at("apiserver.key"), &serving.signing_key.serialize_pem());
        let service_accounts = rcgen::KeyPair::generate().expect("service-account key");
        write_private(&at("sa.key"), &service_accounts.serialize_pem());
        // The API server reads PKCS#8 private keys, but verifies with a public key file.
        write_private(&at("sa.pub"), &service_accounts.public_key_pem());
        let admin_token = random_token();
        let limited_token = random_token();
        write_private(
            &at("tokens.csv"),
            &format!(
                "{admin_token},admin,admin,\"system:masters\"\n{limited_token},{LIMITED_USER},{LIMITED_USER}\n"
            ),
        );

        let (etcd_port, peer_port, api_port) = (free_port(), free_port(), free_port());
        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let server = format!("https://127.0.0.1:{api_port}");
        let control_plane = ControlPlane {
            kubeconfig: at("kubeconfig"),
            server,
            ca_pem,
            processes: Mutex::new(Vec::new()),
            dir,
        };
        control_plane.write_kubeconfig(&control_plane.kubeconfig, "admin", &admin_token);
        control_plane.write_kubeconfig(
            &control_plane.limited_kubeconfig(),
            LIMITED_USER,
            &limited_token,
        );

        let path = |name: &str| control_plane.dir.path().join(name);
        control_plane.spawn(
            "etcd",
            assets,
            &[
                "--name=eksmon-test",
                &format!("--data-dir={}", path("etcd").display()),
                &format!("--listen-client-urls={etcd_url}"),
                &format!("--advertise-client-urls={etcd_url}"),
                &format!("--listen-peer-urls={peer_url}"),
                &format!("--initial-advertise-peer-urls={peer_url}"),
                &format!("--initial-cluster=eksmon-test={peer_url}"),
                // Test data: speed over durability on a shared, noisy disk.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        );
        control_plane.spawn(
            "kube-apiserver",
            assets,
            &[
                &format!("--etcd-servers={etcd_url}"),
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                &format!("--secure-port={api_port}"),
                &format!("--tls-cert-file={}", path("apiserver.crt").display()),
                &format!("--tls-private-key-file={}", path("apiserver.key").display()),
                &format!("--token-auth-file={}", path("tokens.csv").display()),
                "--authorization-mode=RBAC",
                "--allow-privileged",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                &format!("--service-account-key-file={}", path("sa.pub").display()),
                &format!(
                    "--service-account-signing-key-file={}",
                    path("sa.key").display()
                ),
                "--service-cluster-ip-range=10.0.0.0/24",
                "--endpoint-reconciler-type=none",
                &format!("--cert-dir={}", path("apiserver-certs").display()),
            ],
        );
        control_plane.wait_until("the API server is ready", || {
            control_plane.kubectl_quiet(&["get", "--raw", "/readyz"])
        });
        control_plane.spawn(
            "kube-controller-manager",
            assets,
            &[
                &format!("--kubeconfig={}", control_plane.kubeconfig.display()),
                "--leader-elect=false",
                // No serving port: readiness is the default ServiceAccount appearing.
                "--secure-port=0",
                &format!(
                    "--service-account-private-key-file={}",
                    path("sa.key").display()
                ),
                &format!("--root-ca-file={}", path("apiserver.crt").display()),
                &format!("--flex-volume-plugin-dir={}", path("flexvolume").display()),
                // The OpenShift-built binary's extra controller; see ../shared/tools/k8s.
                "--controllers=*,-service-ca-certificate-publisher-controller",
            ],
        );
        control_plane.wait_until(
            "the controller-manager made the default ServiceAccount",
            || {
                control_plane.kubectl_quiet(&[
                    "get",
                    "serviceaccount",
                    "default",
                    "--namespace",
                    "default",
                ])
            },
        );
        control_plane
    }

    fn write_kubeconfig(&self, path: &Path, user: &str, token: &str) {
        use base64::Engine as _;
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        write_private(
            path,
            &format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: test\n  context: {{cluster: test, user: {user}, namespace: default}}\ncurrent-context: test\n",
                self.server
            ),
        );
    }

    /// A kubeconfig for [`LIMITED_USER`], who may do only what a test grants.
    pub fn limited_kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig-limited")
    }

    fn spawn(&self, name: &'static str, assets: &Path, args: &[&str]) {
        let log =
            std::fs::File::create(self.dir.path().join(format!("{name}.log"))).expect("log file");
        let mut command = Command::new(assets.join(name));
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        // SAFETY: prctl(2) only, between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", assets.join(name).display()));
        self.processes.lock().unwrap().push((name, child));
    }

    /// Polls `ready` (up to 60 s); on failure, shows the logs and stops everything.
    fn wait_until(&self, what: &str, ready: impl Fn() -> bool) {
        let started = Instant::now();
        while !ready() {
            let exited = self
                .processes
                .lock()
                .unwrap()
                .iter_mut()
                .find_map(|(name, child)| {
                    child
                        .try_wait()
                        .ok()
                        .flatten()
                        .map(|status| (*name, status))
                });
            if exited.is_some() || started.elapsed() > Duration::from_secs(60) {
                let logs = self.log_tails();
                self.stop();
                panic!("control plane: waiting until {what}: {exited:?}\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tails(&self) -> String {
        let mut out = String::new();
        for name in ["etcd", "kube-apiserver", "kube-controller-manager"] {
            let mut text = String::new();
            if let Ok(mut file) = std::fs::File::open(self.dir.path().join(format!("{name}.log"))) {
                let _ = file.read_to_string(&mut text);
            }
            let lines: Vec<&str> = text.lines().collect();
            out += &format!(
                "--- {name}.log\n{}\n",
                lines[lines.len().saturating_sub(15)..].join("\n")
            );
        }
        out
    }

    /// The real kubectl with the admin kubeconfig.
    pub fn kubectl(&self) -> Command {
        let mut command = Command::new(kubectl_path());
        command.env("KUBECONFIG", &self.kubeconfig);
        command
    }

    fn kubectl_quiet(&self, args: &[&str]) -> bool {
        self.kubectl()
            .args(args)
            .args(["--request-timeout=5s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Stops the API server alone (etcd and the controller-manager keep running).
    pub fn stop_apiserver(&self) {
        let mut processes = self.processes.lock().unwrap();
        for (name, child) in processes.iter_mut() {
            if *name == "kube-apiserver" {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// Stops a control plane that a test started and leaked (to hand out `'static` borrows).
    pub fn shutdown(&self) {
        self.stop();
    }

    /// Stops every process, newest first (controller-manager, API server, etcd).
    fn stop(&self) {
        let mut processes = self
            .processes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((_, mut child)) = processes.pop() {
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: kill(2) on a child we started and have not reaped.
                unsafe { libc::kill(pid, libc::SIGTERM) };
            }
            let started = Instant::now();
            while matches!(child.try_wait(), Ok(None)) && started.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

extern "C" fn stop_shared() {
    if let Some(Ok(Some(control_plane))) = SHARED.get() {
        control_plane.stop();
        // The temp dir belongs to a static, which is never dropped: remove it here.
        let _ = std::fs::remove_dir_all(control_plane.dir.path());
    }
}

/// `$KUBEBUILDER_ASSETS` when it holds the three binaries; otherwise `None` with one loud line,
/// or a panic when [`REQUIRE_VAR`] is set.
fn assets() -> Option<PathBuf> {
    let dir = std::env::var_os("KUBEBUILDER_ASSETS").map(PathBuf::from);
    let missing: Vec<String> = match &dir {
        None => vec!["KUBEBUILDER_ASSETS is not set".into()],
        Some(dir) => ["etcd", "kube-apiserver", "kube-controller-manager"]
            .iter()
            .filter(|b| !dir.join(b).is_file())
            .map(|b| format!("{} is missing", dir.join(b).display()))
            .collect(),
    };
    if missing.is_empty() {
        return dir;
    }
    crate::skip::skip(
        &format!("no control plane: {}", missing.join("; ")),
        REQUIRE_VAR,
    );
    None
}

/// The real kubectl (`scripts/fetch-tools` puts it beside helm 4).
pub fn kubectl_path() -> PathBuf {
    std::env::var_os("EKSMON_TEST_KUBECTL").map_or_else(
        || crate::repo_root().join("target/tools/helm4/kubectl"),
        PathBuf::from,
    )
}

fn free_port() -> u16 {
    // Bound and released at once: another process could take it in between, which on a
    // test machine is rare enough (the start then fails loudly).
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom");
    bytes.iter().fold(String::new(), |mut hex, byte| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

fn write_private(path: &Path, text: &str) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .expect("write private file");
    file.write_all(text.as_bytes()).expect("write private file");
}
