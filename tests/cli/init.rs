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

/// Answers a yes/no question: the key, then Enter (the question waits for it).
fn key(p: &mut PtySession, prompt: &str, key: &str) {
    answer(p, prompt, key);
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
    // The Enter after `n` is the yes/no's own: this answer lands here, not in the next one.
    answer(p, "Prometheus volume size", "75Gi");
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
    assert!(text.contains("storageSize: \"75Gi\""), "{text}");
    assert!(!text.contains("storageSize: \"50Gi\""), "{text}");
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
    key(&mut p, "exists. Overwrite", "n");
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
        // The first question says what comes next; `y` and Enter answer it, and only it.
        key(&mut p, "Their volumes are deleted next", "y");
        // A stray `y` + Enter (or a near miss) is not the namespace's name.
        answer(&mut p, "Type the namespace name `monitoring`", typed);
        p.exp_string("error: cancelled; nothing was uninstalled")
            .unwrap();
        p.exp_string(&format!("hint: `{typed}` is not `monitoring`"))
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
    p.exp_string("`mon.example.com` is also prometheus.host; each app needs its own host")
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

/// What a terminal shows of `raw`: each line as left after carriage returns and ANSI escapes.
fn screen_lines(raw: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .split('\n')
        .map(|line| {
            line.rsplit('\r')
                .find(|s| !s.is_empty())
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn the_wizard_checks_answers_together_at_the_question_and_fits_80_columns() {
    let world = World::new();
    let mut cmd = world.std_eksmon();
    // Colours on: the theme that marks accepted answers with ✔.
    cmd.args(["init", "--output", "-"])
        .env("TERM", "xterm")
        .env_remove("NO_COLOR");
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    let mut seen = String::new();
    let step = |p: &mut PtySession, seen: &mut String, prompt: &str, keys: &str| {
        *seen += &p
            .exp_string(prompt)
            .unwrap_or_else(|e| panic!("{prompt}: {e}"));
        *seen += prompt;
        p.send(keys).unwrap();
        p.send("\r").unwrap();
        p.flush().unwrap();
    };
    step(&mut p, &mut seen, "Profile name", "team");
    step(&mut p, &mut seen, "Namespace", "");
    step(&mut p, &mut seen, "Exposure", &format!("{UP}{UP}"));
    step(&mut p, &mut seen, "Load balancer scheme", DOWN);
    step(
        &mut p,
        &mut seen,
        "Prometheus host",
        "prometheus.example.com",
    );
    step(&mut p, &mut seen, "Grafana host", "grafana.example.com");
    step(&mut p, &mut seen, "ALB group name", "");
    step(
        &mut p,
        &mut seen,
        "Subnets",
        "subnet-0123abcd, subnet-0123abcd",
    );
    // The rule between items is told here, and the answer is never marked accepted first.
    let before = p.exp_string("`subnet-0123abcd` is listed twice").unwrap();
    assert!(!before.contains('✔'), "{before:?}");
    seen += &before;
    let fix = format!("{}4567abcd", "\u{7f}".repeat("0123abcd".len()));
    step(&mut p, &mut seen, "Subnets", &fix);
    step(&mut p, &mut seen, "Security groups", "");
    step(
        &mut p,
        &mut seen,
        "ACM certificate ARN",
        "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    );
    // The placeholder warning `render` gives.
    seen += &p
        .exp_string("placeholder? The load balancer controller")
        .unwrap();
    step(&mut p, &mut seen, "Allowed client CIDRs", "10.0.0.0/8");
    seen += &p.exp_string("StorageClass").unwrap();
    p.send_control('c').unwrap();
    seen += &p.exp_eof().unwrap();
    for line in screen_lines(&seen) {
        assert!(
            line.chars().count() <= 80,
            "wider than 80 columns: {line:?}"
        );
    }
    assert!(!seen.contains("your answers:"), "{seen}");
}
