//! `eksmon render`: output shape, snapshots, files, layering from the environment.

use crate::common::{World, at, stdout_of, text};
use eksmon::yaml;

fn render(world: &World, args: &[&str]) -> String {
    stdout_of(world.eksmon().arg("render").args(args))
}

#[test]
fn snapshots_of_the_example_profile() {
    let world = World::new();
    for exposure in ["alb", "nlb", "none"] {
        for chart in ["prometheus", "grafana"] {
            let out = render(
                &world,
                &[chart, "--profile", "example", "--exposure", exposure],
            );
            // The dashboards are checked on their own (tests/cli/contract): here one line each.
            let out = out
                .lines()
                .map(|line| match line.trim_start().strip_prefix("json: ") {
                    Some(json) => format!(
                        "{}json: <dashboard JSON, {} bytes>",
                        &line[..line.len() - line.trim_start().len()],
                        json.len()
                    ),
                    None => line.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            insta::assert_snapshot!(format!("example_{exposure}_{chart}"), out);
        }
    }
}

#[test]
fn without_grafana_only_prometheus_is_rendered() {
    let world = World::new();
    // ALB without grafana.host: Grafana is not installed, so its host is not needed.
    let args = [
        "--set",
        "grafana.enabled=false",
        "--exposure",
        "alb",
        "--set",
        "prometheus.host=p.example.com",
    ];
    let out = render(&world, &args);
    assert_eq!(yaml::parse_all(&out).unwrap().len(), 1, "{out}");
    assert!(out.starts_with("# eksmon: prometheus values\n"), "{out}");
    let refused = world
        .eksmon()
        .args(["render", "grafana"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("grafana: the profile leaves it out (grafana.enabled: false)"),
        "{stderr}"
    );
    assert!(refused.stdout.is_empty());
}

#[test]
fn both_charts_make_a_two_document_stream() {
    let world = World::new();
    let out = render(&world, &["--profile", "example"]);
    assert!(out.starts_with("# eksmon: prometheus values\n"), "{out}");
    let docs = yaml::parse_all(&out).unwrap();
    assert_eq!(docs.len(), 2);
    assert!(docs[0].get("server").is_some());
    assert!(docs[1].get("persistence").is_some());
    let grafana_at = out
        .find("---\n# eksmon: grafana values\n")
        .expect("second header");
    let prometheus_alone = render(&world, &["prometheus", "--profile", "example"]);
    assert_eq!(&out[..grafana_at], prometheus_alone);
}

#[test]
fn output_is_byte_identical_across_runs() {
    let world = World::new();
    let args = [
        "--profile",
        "example",
        "--set",
        "alb.tags={z: last, a: first}",
    ];
    let first = render(&world, &args);
    for _ in 0..3 {
        assert_eq!(render(&world, &args), first);
    }
}

#[test]
fn defaults_alone_render_cluster_internal_values() {
    let world = World::new();
    let out = render(&world, &[]);
    let docs = yaml::parse_all(&out).unwrap();
    assert_eq!(text(&docs[0], &["server", "service", "type"]), "ClusterIP");
    assert_eq!(
        at(&docs[0], &["server", "ingress", "enabled"]),
        &yaml::Value::Bool(false)
    );
    assert_eq!(
        text(&docs[0], &["server", "persistentVolume", "size"]),
        "50Gi"
    );
    assert_eq!(
        text(&docs[0], &["alertmanager", "persistence", "size"]),
        "20Gi"
    );
    assert_eq!(text(&docs[1], &["persistence", "size"]), "100Gi");
    assert_eq!(
        text(&docs[1], &["persistence", "storageClassName"]),
        "ebs-sc-gp3"
    );
    assert!(
        crate::common::at(&docs[1], &["grafana.ini"])
            .get("server")
            .is_none(),
        "no root_url without a host"
    );
}

#[test]
fn out_dir_writes_both_files_atomically() {
    let world = World::new();
    let out = world.path().join("deploy/values");
    world
        .eksmon()
        .args(["render", "--profile", "example", "--out-dir"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["grafana-values.yaml", "prometheus-values.yaml"],
        "no temp files left"
    );
    for chart in ["prometheus", "grafana"] {
        let file = out.join(format!("{chart}-values.yaml"));
        let written = std::fs::read_to_string(&file).unwrap();
        assert_eq!(written, render(&world, &[chart, "--profile", "example"]));
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
}

#[test]
fn one_chart_to_out_dir_writes_one_file() {
    let world = World::new();
    world
        .eksmon()
        .args(["render", "grafana", "--out-dir", "out"])
        .assert()
        .success();
    assert!(world.path().join("out/grafana-values.yaml").is_file());
    assert!(!world.path().join("out/prometheus-values.yaml").exists());
}

#[test]
fn hint_when_both_documents_go_to_a_file() {
    let world = World::new();
    let file = std::fs::File::create(world.path().join("values.yaml")).unwrap();
    let output = world
        .std_eksmon()
        .args(["render", "--profile", "small"])
        .stdout(file)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("hint: helm reads only the last document"),
        "{stderr}"
    );
    // Piped (not a file): no hint.
    world
        .eksmon()
        .args(["render", "--profile", "small"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn local_eksmon_yaml_and_env_profile() {
    let world = World::new();
    world.write("eksmon.yaml", "namespace: from-local\n");
    let ns = |out: &str| {
        let docs = yaml::parse_all(out).unwrap();
        text(
            &docs[1],
            &["datasources", "datasources.yaml", "datasources", "0", "url"],
        )
        .to_owned()
    };
    assert!(ns(&render(&world, &[])).contains(".from-local."));
    let env = world.write("env.yaml", "namespace: from-env\n");
    let out = stdout_of(world.eksmon().env("EKSMON_PROFILE", &env).arg("render"));
    assert!(ns(&out).contains(".from-env."));
    // An explicit --profile replaces both.
    let out = stdout_of(world.eksmon().env("EKSMON_PROFILE", &env).args([
        "render",
        "--profile",
        "small",
    ]));
    assert!(ns(&out).contains(".prometheus."));
}

#[test]
fn user_profiles_come_from_the_config_dir() {
    let world = World::new();
    world.write(
        "config/eksmon/profiles/team.yaml",
        "# Team\nnamespace: team-mon\n",
    );
    let out = render(&world, &["grafana", "--profile", "team"]);
    assert!(
        out.contains("prometheus-server.team-mon.svc.cluster.local"),
        "{out}"
    );
}

#[test]
fn layering_order_profiles_then_set_then_flags() {
    let world = World::new();
    let out = render(
        &world,
        &[
            "prometheus",
            "--profile",
            "example",
            "--profile",
            "small",
            "--set",
            "prometheus.storageSize=9Gi",
            "--set",
            "exposure=alb",
            "--exposure",
            "none",
        ],
    );
    let doc = &yaml::parse_all(&out).unwrap()[0];
    assert_eq!(text(doc, &["server", "persistentVolume", "size"]), "9Gi");
    assert_eq!(
        text(doc, &["server", "retention"]),
        "3d",
        "small overrides example"
    );
    assert_eq!(
        text(doc, &["server", "service", "type"]),
        "ClusterIP",
        "the flag wins"
    );
}

#[test]
fn raw_values_are_merged_last() {
    let world = World::new();
    let out = render(
        &world,
        &[
            "grafana",
            "--set",
            "grafana.values.persistence.size=1Gi",
            "--set",
            r"grafana.values.podAnnotations.example\.com/team=obs",
        ],
    );
    let doc = &yaml::parse_all(&out).unwrap()[0];
    assert_eq!(text(doc, &["persistence", "size"]), "1Gi");
    assert_eq!(text(doc, &["persistence", "type"]), "pvc");
    assert_eq!(text(doc, &["podAnnotations", "example.com/team"]), "obs");
}

#[test]
fn strange_but_valid_values_survive_intact() {
    let world = World::new();
    let tag = "a b:c/d=e+f@g_h.i-j";
    let out = render(
        &world,
        &[
            "prometheus",
            "--profile",
            "example",
            "--set",
            &format!("alb.tags.team={tag}"),
            "--set",
            "alb.tags.yes=no",
        ],
    );
    let doc = &yaml::parse_all(&out).unwrap()[0];
    let annotations = at(doc, &["server", "ingress", "annotations"]);
    assert_eq!(
        text(annotations, &["alb.ingress.kubernetes.io/tags"]),
        format!("auto-delete=no,team={tag},yes=no")
    );
}

#[test]
fn public_endpoints_are_warned_about() {
    let world = World::new();
    let output = world
        .eksmon()
        .args(["render", "--profile", "example"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(lines[0].starts_with("warning: prometheus is open to the whole internet on an internet-facing ALB, with no authentication at all"), "{stderr}");
    assert!(lines[1].starts_with("warning: grafana is open to the whole internet on an internet-facing ALB, protected only by its own login"), "{stderr}");
    assert!(
        lines[2].starts_with("hint: restrict it with alb.inboundCidrs"),
        "{stderr}"
    );
    let output = world
        .eksmon()
        .args([
            "render",
            "grafana",
            "--profile",
            "example",
            "--exposure",
            "nlb",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.lines().count(),
        2,
        "one warning for the one chart rendered: {stderr}"
    );
    assert!(stderr.contains("internet-facing NLB"));
    for restricted in [
        vec!["--set", "alb.inboundCidrs=[10.0.0.0/8]"],
        vec!["--set", "alb.scheme=internal"],
        vec!["--exposure", "none"],
    ] {
        world
            .eksmon()
            .args(["render", "--profile", "example", "--set", REAL_CERTIFICATE])
            .args(&restricted)
            .assert()
            .success()
            .stderr("");
    }
}

#[test]
fn broken_pipe_is_not_an_error() {
    let world = World::new();
    let mut child = world
        .std_eksmon()
        .args([
            "render",
            "--profile",
            "example",
            "--set",
            "alb.inboundCidrs=[10.0.0.0/8]",
            "--set",
            REAL_CERTIFICATE,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");
}

/// A certificate ARN that is not the example profile's placeholder.
const REAL_CERTIFICATE: &str = "alb.certificateArn=arn:aws:acm:ap-northeast-2:558846430793:certificate/0a1b2c3d-1111-2222-3333-444455556666";

#[test]
fn placeholders_from_the_example_are_warned_about() {
    let world = World::new();
    let output = world
        .eksmon()
        .args([
            "render",
            "prometheus",
            "--profile",
            "example",
            "--set",
            "alb.scheme=internal",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "warning: alb.certificateArn `arn:aws:acm:ap-northeast-2:558846430793:certificate/xxxxx` does not end in a certificate ID (a UUID such as 0a1b2c3d-1111-2222-3333-444455556666): a placeholder? The load balancer controller will fail to use it\n"
    );
}

#[test]
fn global_options_work_before_or_after_the_subcommand() {
    let world = World::new();
    let before = stdout_of(world.eksmon().args(["-n", "obs", "render", "grafana"]));
    let after = stdout_of(world.eksmon().args(["render", "grafana", "-n", "obs"]));
    assert_eq!(before, after);
    assert!(before.contains("prometheus-server.obs.svc"), "{before}");
    // -q quiets notes on every command, render's too.
    let dir = world.path().join("out");
    let output = world
        .eksmon()
        .args(["-q", "render", "--out-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stderr.is_empty(), "{output:?}");
    let output = world
        .eksmon()
        .args(["render", "--out-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("wrote "));
}
