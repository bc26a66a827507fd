//! `eksmon init` driven through a pseudo-terminal (rexpect): a full ALB run with a re-asked
//! subnet, a refused overwrite, Ctrl-C, and no terminal at all.

use crate::common::World;
use rexpect::session::PtySession;

const DOWN: &str = "\x1b[B";
const UP: &str = "\x1b[A";

fn spawn(world: &World, args: &[&str]) -> PtySession {
    let mut cmd = world.std_eksmon();
    cmd.arg("init")
        .args(args)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn eksmon init in a pty")
}

fn answer(p: &mut PtySession, prompt: &str, keys: &str) {
    p.exp_string(prompt)
        .unwrap_or_else(|e| panic!("waiting for `{prompt}`: {e}"));
    p.send(keys).unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
}

/// Answers a yes/no question: one key, no Enter (dialoguer takes `y`/`n` at once).
fn key(p: &mut PtySession, prompt: &str, key: &str) {
    p.exp_string(prompt)
        .unwrap_or_else(|e| panic!("waiting for `{prompt}`: {e}"));
    p.send(key).unwrap();
    p.flush().unwrap();
}

/// Answers every question for an internet-facing ALB profile named `name`.
fn alb_answers(p: &mut PtySession, name: &str) {
    answer(p, "Profile name", name);
    answer(p, "Namespace", "");
    answer(p, "Exposure", &format!("{UP}{UP}"));
    answer(p, "Load balancer scheme", DOWN);
    answer(p, "Prometheus host", "prometheus.example.com");
    answer(p, "Grafana host", "grafana.example.com");
    answer(p, "ALB group name", "");
    answer(p, "Subnets", "subnet-123, subnet-0123abcd");
    p.exp_string("`subnet-123` is not a subnet ID").unwrap();
    // The rejected text comes back to edit: fix the typo, keep the rest.
    let fix = format!(
        "{}4567abcd, subnet-0123abcd",
        "\u{7f}".repeat("123, subnet-0123abcd".len())
    );
    answer(p, "Subnets", &fix);
    answer(p, "Security groups", "");
    answer(
        p,
        "ACM certificate ARN",
        "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    );
    answer(p, "Allowed client CIDRs", "10.0.0.0/8");
    answer(p, "StorageClass", "");
    key(p, "Create it", "n");
    answer(p, "Prometheus volume size", "");
    answer(p, "Alertmanager volume size", "");
    answer(p, "Grafana volume size", "");
    answer(p, "Metrics retention", "30d");
    answer(p, "Dashboards", "");
    p.exp_string("access       10.0.0.0/8").unwrap();
    p.exp_string("storage      ebs-sc-gp3; alertmanager 20Gi")
        .unwrap();
    key(p, "Write this profile?", "y");
}

#[test]
fn full_alb_run_writes_a_profile_that_renders() {
    let world = World::new();
    let mut p = spawn(&world, &[]);
    alb_answers(&mut p, "team");
    p.exp_string("next:  eksmon render --profile team").unwrap();
    p.exp_eof().unwrap();
    let written = world.path().join("config/eksmon/profiles/team.yaml");
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(
        text.contains("subnets: [subnet-4567abcd, subnet-0123abcd]")
            || text.contains("- subnet-4567abcd\n    - subnet-0123abcd"),
        "{text}"
    );
    assert!(text.contains("groupName: eks-monitoring"), "{text}");
    assert!(text.contains("retention: \"30d\""), "{text}");
    assert!(text.contains("createStorageClass: false"), "{text}");
    assert!(!text.contains("dashboardSource"), "{text}");
    assert!(text.contains("- aws-vpc-cni"), "{text}");
    let output = world
        .eksmon()
        .args(["render", "grafana", "--profile", "team"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let rendered = String::from_utf8(output.stdout).unwrap();
    assert!(
        rendered.contains("alb.ingress.kubernetes.io/inbound-cidrs: \"10.0.0.0/8\""),
        "{rendered}"
    );
    assert!(rendered.contains("grafana.example.com"));
}

#[test]
fn refusing_to_overwrite_keeps_the_file() {
    let world = World::new();
    let existing = world.write("config/eksmon/profiles/team.yaml", "namespace: keep-me\n");
    let mut p = spawn(&world, &[]);
    alb_answers(&mut p, "team");
    key(&mut p, "exists. Overwrite it?", "n");
    p.exp_string("nothing was written").unwrap();
    p.exp_eof().unwrap();
    let status = format!("{:?}", p.process_mut().wait().unwrap());
    assert!(status.ends_with(", 3)"), "declined is exit 3: {status}");
    assert_eq!(
        std::fs::read_to_string(existing).unwrap(),
        "namespace: keep-me\n"
    );
}

#[test]
fn ctrl_c_writes_nothing_and_exits_130() {
    let world = World::new();
    let mut p = spawn(&world, &["--output", "out.yaml"]);
    answer(&mut p, "Profile name", "team");
    p.exp_string("Namespace").unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
    let status = format!("{:?}", p.process_mut().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 130)"),
        "{status}"
    );
    assert!(!world.path().join("out.yaml").exists());
}

#[test]
fn without_a_terminal_init_says_what_to_do() {
    let world = World::new();
    let output = world.eksmon().arg("init").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: `eksmon init` asks questions and needs a terminal"),
        "{stderr}"
    );
    assert!(stderr.contains(
        "hint: write a profile by hand instead: `eksmon profiles show example > my.yaml`"
    ));
}

#[test]
fn install_asks_before_opening_monitoring_to_the_internet() {
    crate::skip_without_helm!();
    use crate::fixture::{Cluster, Repo};
    let cluster = Cluster::new(Repo::shared(), 4);
    let mut cmd = cluster.std_eksmon();
    cmd.args([
        "install",
        "--profile",
        "example",
        "--profile",
        "eksmon.yaml",
    ])
    .env("EKSMON_TEST_FAKE", "upgrade")
    .env("TERM", "xterm")
    .env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    p.exp_string("warning: prometheus is open to the whole internet")
        .unwrap();
    key(
        &mut p,
        "Install with these endpoints open to the whole internet?",
        "n",
    );
    p.exp_string("error: cancelled; nothing was installed")
        .unwrap();
    p.exp_eof().unwrap();
    let status = format!("{:?}", p.process_mut().wait().unwrap());
    assert!(status.ends_with(", 3)"), "declined is exit 3: {status}");
    assert!(
        cluster.helm_calls("upgrade").is_empty(),
        "nothing was installed"
    );
}

#[test]
fn ctrl_c_at_a_confirmation_exits_130_and_shows_the_cursor() {
    crate::skip_without_helm!();
    use crate::fixture::{Cluster, Repo};
    let cluster = Cluster::new(Repo::shared(), 4);
    for (args, prompt) in [
        (
            &[
                "install",
                "--profile",
                "example",
                "--profile",
                "eksmon.yaml",
            ][..],
            "Install with these endpoints open to the whole internet?",
        ),
        (&["uninstall"][..], "Uninstall grafana and prometheus"),
    ] {
        let mut cmd = cluster.std_eksmon();
        cmd.args(args)
            .env("EKSMON_TEST_FAKE", "upgrade")
            .env("TERM", "xterm")
            .env("NO_COLOR", "1");
        let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        p.exp_string(prompt).unwrap();
        p.send_control('c').unwrap();
        let rest = p.exp_eof().unwrap();
        let status = format!("{:?}", p.process_mut().wait().unwrap());
        assert!(
            status.starts_with("Exited(") && status.ends_with(", 130)"),
            "{args:?}: {status} (not killed by the raw signal)"
        );
        assert!(
            rest.contains("\u{1b}[?25h"),
            "{args:?}: the cursor is shown again: {rest:?}"
        );
    }
    assert!(
        cluster.calls().is_empty(),
        "nothing ran: {:?}",
        cluster.calls()
    );
}

#[test]
fn deleting_data_needs_the_namespace_typed() {
    crate::skip_without_helm!();
    use crate::fixture::{Cluster, Repo};
    let cluster = Cluster::new(Repo::shared(), 4);
    for typed in ["y", "monitorin"] {
        let mut cmd = cluster.std_eksmon();
        cmd.args(["uninstall", "--delete-data"])
            .env("TERM", "xterm")
            .env("NO_COLOR", "1");
        let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        // The first question says what comes next; one key answers it.
        key(&mut p, "Their volumes are deleted next", "y");
        // A stray `y` + Enter (or a near miss) is not the namespace's name.
        answer(
            &mut p,
            "Type the namespace name `monitoring` to delete their volumes",
            typed,
        );
        p.exp_string("error: cancelled; nothing was uninstalled")
            .unwrap();
        p.exp_eof().unwrap();
        let status = format!("{:?}", p.process_mut().wait().unwrap());
        assert!(status.ends_with(", 3)"), "{typed}: {status}");
    }
    assert!(
        cluster.calls().is_empty(),
        "nothing ran: {:?}",
        cluster.calls()
    );
}

#[test]
fn the_same_host_twice_is_refused_at_the_question() {
    let world = World::new();
    let mut p = spawn(&world, &["--output", "-"]);
    answer(&mut p, "Profile name", "team");
    answer(&mut p, "Namespace", "");
    answer(&mut p, "Exposure", &format!("{UP}{UP}"));
    answer(&mut p, "Load balancer scheme", "");
    answer(&mut p, "Prometheus host", "mon.example.com");
    answer(&mut p, "Grafana host", "mon.example.com");
    p.exp_string("`mon.example.com` is Prometheus's host already")
        .unwrap();
    // Still at the same question, with the text to edit.
    answer(
        &mut p,
        "Grafana host",
        &format!("{}g.example.com", "\u{7f}".repeat("mon.example.com".len())),
    );
    p.exp_string("ALB group name").unwrap();
    p.send_control('c').unwrap();
    p.exp_eof().unwrap();
}
