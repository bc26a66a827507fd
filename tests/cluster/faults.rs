//! Faults on the real cluster: waits that time out (nothing ever becomes ready here), interrupts
//! during a wait, two installs at once, the API server going away, an identity limited by RBAC.

use crate::control_plane::{ControlPlane, LIMITED_USER};
use crate::lifecycle::{wait_for, with_both_helms};
use crate::{Kube, run};
use std::time::{Duration, Instant};

with_both_helms!(
    wait_timeout_lets_helm_roll_back,
    sigterm_during_wait,
    second_interrupt_leaves_a_pending_release_and_says_how_to_free_it,
    two_installs_at_once,
    one_failing_release_does_not_stop_the_other,
    identity_limited_to_one_namespace,
    api_server_stopped_mid_install,
    delete_data_keeps_every_volume_when_an_uninstall_fails,
    ctrl_c_on_a_terminal_keeps_the_notice_whole,
    same_release_names_in_another_namespace,
    raw_failures_are_explained,
);

/// The charts' ClusterRoles are named after the release: the same names in a second namespace
/// collide, and the hint names the namespace that holds them and the ways out.
fn same_release_names_in_another_namespace(helm: u8) {
    let kube = crate::kube_or_skip!(&format!("twice{helm}"), helm);
    let (code, _, stderr) = run(&mut install_grafana(&kube, &[]));
    assert_eq!(code, 0, "{stderr}");
    let elsewhere = format!("{}-b", kube.namespace);
    let (code, _, stderr) = run(kube
        .eksmon()
        .args([
            "-n",
            &elsewhere,
            "install",
            "--only",
            "grafana",
            "--exposure",
            "none",
        ])
        .args(kube.profile()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "hint: a release named `{}` exists in namespace `{}`",
            kube.grafana, kube.namespace
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`-n {}`", kube.namespace)),
        "{stderr}"
    );
    assert!(stderr.contains("--set grafana.release=NAME"), "{stderr}");
    assert!(!stderr.contains("eksmon install tries again"), "{stderr}");
}

/// helm's and kubectl's own failures get one error line and a hint that says what to do.
fn raw_failures_are_explained(helm: u8) {
    let Some(kube) = crate::Kube::new(&format!("raw{helm}"), helm) else {
        return;
    };
    let kubeconfig = kube.closed_kubeconfig();
    let missing = kube.world.path().join("no-such-kubeconfig");
    let gone = kube.with_identity(kubeconfig);
    let one_error = |stderr: &str| {
        assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
        assert!(!stderr.contains("memcache.go"), "{stderr}");
    };

    // An API server that does not answer.
    for command in [
        &["status"][..],
        &["grafana-password"],
        &["uninstall", "--yes"],
    ] {
        let (code, _, stderr) = run(gone.eksmon().args(command).args(gone.profile()));
        assert_eq!(code, 1, "{command:?}: {stderr}");
        one_error(&stderr);
        assert!(stderr.contains("hint: "), "{command:?}: {stderr}");
    }
    let (_, _, stderr) = run(gone.eksmon().arg("status").args(gone.profile()));
    assert!(
        stderr.contains("hint: the cluster did not answer"),
        "{stderr}"
    );
    // A dry run needs the cluster; render does not.
    let (code, _, stderr) = run(gone
        .eksmon()
        .args(["install", "--dry-run", "--exposure", "none"])
        .args(gone.profile()));
    assert_eq!(code, 1, "{stderr}");
    one_error(&stderr);
    assert!(
        stderr.contains("`eksmon render` prints the values"),
        "{stderr}"
    );

    // No kubeconfig at all: client-go falls back to localhost:8080.
    let (code, _, stderr) = run(gone
        .eksmon()
        .env("KUBECONFIG", &missing)
        .arg("status")
        .args(gone.profile()));
    assert_eq!(code, 1, "{stderr}");
    one_error(&stderr);
    assert!(stderr.contains("hint: no kubeconfig was found"), "{stderr}");

    // A context the kubeconfig does not have: bad input, nothing run.
    let (code, _, stderr) = run(gone
        .eksmon()
        .args(["--kube-context", "prod", "status"])
        .args(gone.profile()));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with("error: no context `prod` in ")
            && stderr.contains("(it has gone, spare)"),
        "{stderr}"
    );

    // No kubectl: the hint is about kubectl.
    let (code, _, stderr) = run(gone
        .eksmon()
        .env("EKSMON_KUBECTL", &missing)
        .arg("grafana-password")
        .args(gone.profile()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("hint: install kubectl"), "{stderr}");
    assert!(!stderr.contains("helm"), "{stderr}");
}

/// Ctrl-C during `install --wait` on a terminal: the notice stays on the screen whole, above the
/// progress lines of both releases (a vt100 screen replays what the terminal showed).
fn ctrl_c_on_a_terminal_keeps_the_notice_whole(helm: u8) {
    let kube = crate::kube_or_skip!(&format!("tty{helm}"), helm);
    let install = |extra: &[&str]| {
        let mut cmd = kube.std_eksmon();
        cmd.args(["install", "--exposure", "none"])
            .args(kube.profile())
            .args(extra);
        cmd
    };
    let (code, _, stderr) = run(&mut assert_cmd::Command::from_std(install(&[])));
    assert_eq!(code, 0, "{stderr}");
    // Nothing changed since the first install: --reconcile makes helm run (and wait).
    let mut cmd = install(&["--wait", "--timeout", "20s", "--reconcile"]);
    cmd.env("TERM", "xterm").env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(cmd, Some(90_000)).expect("spawn in a pty");
    let mut seen = p.exp_string(&kube.grafana).expect("the progress lines");
    wait_for(
        || status_of(&kube, &kube.grafana) == "pending-upgrade",
        "helm to start the upgrade",
    );
    // Some spinner frames first, so a redraw follows the notice.
    std::thread::sleep(Duration::from_millis(600));
    p.send_control('c').unwrap();
    seen += &p.exp_eof().expect("eksmon ends");
    // rexpect hands over each byte as a char.
    let bytes: Vec<u8> = seen
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a byte"))
        .collect();
    let size = |n| std::num::NonZeroU16::new(n).expect("a size");
    let mut screen = vt100::Parser::new(size(200), size(80), 0);
    screen.process(&bytes);
    let rows: Vec<String> = screen.screen().rows(0, 80).collect();
    let text = rows.join("\n");
    let notice = "interrupted: letting helm stop cleanly (helm rolls back what it started); interrupt again to stop at once";
    // The notice is wider than the screen: it takes two rows.
    let joined: String = rows
        .iter()
        .map(|r| r.trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains(notice), "the notice was cut:\n{text}");
    assert!(rows.iter().any(|r| r.starts_with("error: ")), "{text}");
    assert!(text.contains("error: "), "{text}");
}

/// `eksmon install --only grafana --exposure none EXTRA…` (Grafana is the quicker chart).
fn install_grafana(kube: &Kube, extra: &[&str]) -> assert_cmd::Command {
    assert_cmd::Command::from_std(install_grafana_std(kube, extra))
}

fn install_grafana_std(kube: &Kube, extra: &[&str]) -> std::process::Command {
    let mut cmd = kube.std_eksmon();
    cmd.args(["install", "--only", "grafana", "--exposure", "none"])
        .args(kube.profile())
        .args(extra);
    cmd
}

fn status_of(kube: &Kube, release: &str) -> String {
    kube.releases()
        .into_iter()
        .find(|(name, _, _)| name == release)
        .map(|(_, _, status)| status)
        .unwrap_or_default()
}

fn signal(child: &std::process::Child, signal: i32) {
    // SAFETY: signalling a child this test spawned and has not reaped.
    unsafe {
        libc::kill(i32::try_from(child.id()).expect("pid"), signal);
    }
}

fn temp_files(kube: &Kube) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(kube.world.path().join("tmp"))
        .expect("tmp")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect()
}

fn wait_timeout_lets_helm_roll_back(helm: u8) {
    let kube = crate::kube_or_skip!(&format!("wt{helm}"), helm);
    let (code, _, stderr) = run(&mut install_grafana(&kube, &[]));
    assert_eq!(code, 0, "{stderr}");

    // The upgrade waits 5 s for a pod that never starts, then helm rolls back (another 5 s
    // wait): eksmon lets it finish and shows helm's reason.
    let started = Instant::now();
    let (code, _, stderr) = run(&mut install_grafana(
        &kube,
        &["--wait", "--timeout", "5s", "--reconcile"],
    ));
    assert_eq!(code, 1, "{stderr}");
    assert!(started.elapsed() >= Duration::from_secs(5), "helm waited");
    assert!(
        !stderr.contains("did not finish within"),
        "eksmon stopped helm: {stderr}"
    );
    let first = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("an error line");
    assert!(
        first.starts_with(&format!("error: {}: `helm upgrade --install {} --namespace {}` failed (exit 1): UPGRADE FAILED:", kube.grafana, kube.grafana, kube.namespace)),
        "{stderr}"
    );
    assert!(
        stderr.contains("not ready") || stderr.contains("context deadline exceeded"),
        "helm's reason: {stderr}"
    );
    let status = status_of(&kube, &kube.grafana);
    assert_eq!(status, "failed", "never left pending: {stderr}");
    assert!(stderr.contains("(failed); `helm history"), "{stderr}");

    // Nothing is left holding the release: the next install goes through.
    let (code, _, stderr) = run(&mut install_grafana(&kube, &[]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(status_of(&kube, &kube.grafana), "deployed");
}

/// Starts `install --wait` on an installed Grafana and waits until helm holds the release.
fn upgrade_in_wait(kube: &Kube, timeout: &str) -> std::process::Child {
    let (code, _, stderr) = run(&mut install_grafana(kube, &[]));
    assert_eq!(code, 0, "{stderr}");
    // Nothing changed since the first install: --reconcile makes helm run (and wait).
    let child = install_grafana_std(kube, &["--wait", "--timeout", timeout, "--reconcile"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("eksmon");
    wait_for(
        || status_of(kube, &kube.grafana) == "pending-upgrade",
        "helm to start the upgrade",
    );
    child
}

fn sigterm_during_wait(helm: u8) {
    let kube = crate::kube_or_skip!(&format!("term{helm}"), helm);
    let child = upgrade_in_wait(&kube, "8s");
    assert_eq!(
        temp_files(&kube).len(),
        1,
        "the values file exists mid-install"
    );
    signal(&child, libc::SIGTERM);
    let signalled = Instant::now();
    let output = child.wait_with_output().expect("eksmon");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(signalled.elapsed() < Duration::from_secs(40), "{stderr}");
    assert!(
        stderr.contains("interrupted: letting helm stop cleanly"),
        "{stderr}"
    );
    assert!(stderr.contains("error: interrupted"), "{stderr}");
    // helm rolled back in its own time: the release is not left pending.
    assert_eq!(status_of(&kube, &kube.grafana), "failed", "{stderr}");
    assert!(temp_files(&kube).is_empty(), "{:?}", temp_files(&kube));
    let (code, _, stderr) = run(&mut install_grafana(&kube, &[]));
    assert_eq!(code, 0, "{stderr}");
}

fn second_interrupt_leaves_a_pending_release_and_says_how_to_free_it(helm: u8) {
    let kube = crate::kube_or_skip!(&format!("int{helm}"), helm);
    let child = upgrade_in_wait(&kube, "60s");
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().expect("eksmon");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted again: stopping helm now"),
        "{stderr}"
    );
    let status = status_of(&kube, &kube.grafana);
    assert!(status.starts_with("pending-"), "{status}: {stderr}");
    let hint = stderr
        .lines()
        .find(|l| l.starts_with("hint: ") && l.contains("free it with `"))
        .unwrap_or_else(|| panic!("no recovery hint: {stderr}"));
    let command = hint.split('`').nth(1).expect("a quoted command");
    assert!(
        command.starts_with(&format!(
            "helm rollback {} 1 --namespace {}",
            kube.grafana, kube.namespace
        )),
        "{hint}"
    );
    assert!(temp_files(&kube).is_empty(), "{:?}", temp_files(&kube));

    // The printed command frees the release, and the next install goes through.
    let words: Vec<&str> = command.split(' ').collect();
    let output = kube
        .helm()
        .args(&words[1..])
        .output()
        .expect("helm rollback");
    assert!(output.status.success(), "{output:?}");
    let (code, _, stderr) = run(&mut install_grafana(&kube, &[]));
    assert_eq!(code, 0, "{stderr}");
}

fn two_installs_at_once(helm: u8) {
    let kube = crate::kube_or_skip!(&format!("twice{helm}"), helm);
    let spawn = || {
        install_grafana_std(&kube, &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("eksmon")
    };
    let (first, second) = (spawn(), spawn());
    let outputs = [
        first.wait_with_output().expect("eksmon"),
        second.wait_with_output().expect("eksmon"),
    ];
    let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
    assert!(codes.contains(&Some(0)), "{outputs:?}");
    for output in &outputs {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() != Some(0) {
            // The loser says why, in helm's words, and nothing is left half-done.
            assert_eq!(output.status.code(), Some(1), "{stderr}");
            assert!(
                stderr.contains("another operation (install/upgrade/rollback) is in progress")
                    || stderr.contains("already exists")
                    || stderr.contains("the object has been modified"),
                "{stderr}"
            );
        }
    }
    wait_for(
        || status_of(&kube, &kube.grafana) == "deployed",
        "the release to be deployed",
    );
    let (code, _, stderr) = run(&mut install_grafana(&kube, &[]));
    assert_eq!(code, 0, "{stderr}");
}

fn one_failing_release_does_not_stop_the_other(helm: u8) {
    let kube = crate::kube_or_skip!(&format!("half{helm}"), helm);
    // A ClusterRole of Grafana's name that helm does not own: its install must fail.
    kube.apply(&format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {}-clusterrole}}\nrules: []\n",
        kube.grafana
    ));
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["install", "--exposure", "none"])
        .args(kube.profile()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{}: deployed, revision 1", kube.prometheus)),
        "{stderr}"
    );
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .expect("error line");
    assert!(
        error.starts_with(&format!(
            "error: {}: `helm upgrade --install {} --namespace {}` failed (exit 1): ",
            kube.grafana, kube.grafana, kube.namespace
        )),
        "{stderr}"
    );
    assert!(
        error.contains("invalid ownership metadata")
            || error.contains("exists and cannot be imported"),
        "{stderr}"
    );
    let statuses: Vec<(String, String)> = kube
        .releases()
        .into_iter()
        .map(|(n, _, s)| (n, s))
        .collect();
    assert!(
        statuses.contains(&(kube.prometheus.clone(), "deployed".into())),
        "{statuses:?}"
    );
    kube.kubectl_ok(&[
        "delete",
        "clusterrole",
        &format!("{}-clusterrole", kube.grafana),
    ]);
}

fn identity_limited_to_one_namespace(helm: u8) {
    let Some(admin) = Kube::new(&format!("rbac{helm}"), helm) else {
        return;
    };
    let kube = admin.as_namespace_admin();

    // The charts need cluster-wide rights: helm's refusal is shown with what to do.
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["install", "--exposure", "none"])
        .args(kube.profile()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("forbidden"), "{stderr}");
    assert!(
        stderr.contains(&format!("User \"{LIMITED_USER}\" cannot")),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: this identity may not create cluster-wide objects"),
        "{stderr}"
    );

    // Reading what it may read works; what it may not is said plainly.
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["status", "--output", "json", "--exposure", "none"])
        .args(kube.profile()));
    assert_eq!(code, 1, "the failed installs show: {stderr}");
    assert!(stderr.contains("not every release is deployed"), "{stderr}");
    assert!(stdout.contains(&kube.prometheus), "{stdout}");
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["grafana-password", "-n", "default"])
        .args(kube.profile()));
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with(&format!(
            "error: not allowed to read Secret `{}-admin` in namespace `default`",
            kube.grafana
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: this identity needs `get` on secrets"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["doctor", "--exposure", "none"])
        .args(kube.profile()));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("cannot look for same-named releases in other namespaces"),
        "{stdout}"
    );
}

fn api_server_stopped_mid_install(helm: u8) {
    if !crate::common::helm_available() {
        return;
    }
    let Some(cluster) = ControlPlane::start() else {
        return;
    };
    let cluster: &'static ControlPlane = Box::leak(Box::new(cluster));
    let kube = Kube::on(cluster, "gone", helm);
    let child = install_grafana_std(&kube, &["--wait", "--timeout", "10s"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("eksmon");
    wait_for(
        || status_of(&kube, &kube.grafana) == "pending-install",
        "helm to start the install",
    );
    cluster.stop_apiserver();
    let stopped = Instant::now();
    let output = child.wait_with_output().expect("eksmon");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stopped.elapsed() < Duration::from_secs(60), "{stderr}");
    assert!(!stderr.contains("did not finish within"), "{stderr}");
    assert!(
        stderr.contains("refused") || stderr.contains("unreachable"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: once the cluster answers, `eksmon status` shows"),
        "{stderr}"
    );
    assert!(temp_files(&kube).is_empty());
    cluster.shutdown();
}

fn delete_data_keeps_every_volume_when_an_uninstall_fails(helm: u8) {
    let Some(admin) = Kube::new(&format!("keep{helm}"), helm) else {
        return;
    };
    let (code, _, stderr) = run(admin
        .eksmon()
        .args(["install", "--exposure", "none"])
        .args(admin.profile()));
    assert_eq!(code, 0, "{stderr}");
    let alertmanager_claim = format!("storage-{}-alertmanager-0", admin.prometheus);
    wait_for(
        || admin.claims().contains(&alertmanager_claim),
        "the alertmanager claim",
    );
    let claims = admin.claims();
    assert_eq!(claims.len(), 3, "{claims:?}");
    let kube = admin.as_namespace_admin();

    // This identity cannot delete the releases' ClusterRoles: helm uninstall fails.
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["uninstall", "--yes", "--delete-data"])
        .args(kube.profile()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no volume was deleted"), "{stderr}");
    assert!(
        !stderr.contains("deleted 1") && !stderr.contains("deleted 2"),
        "{stderr}"
    );
    assert_eq!(kube.claims(), claims, "every claim is kept");
}
