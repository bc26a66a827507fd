//! Bad input: exit 2, one `error:` line naming the field and its source, nothing on stdout.

use crate::common::World;

/// Runs `eksmon render ARGS` and returns stderr, checking the bad-input contract.
fn fails(world: &World, args: &[&str]) -> String {
    let output = world.eksmon().arg("render").args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "stdout must be empty: {output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{stderr}");
    assert!(
        stderr.lines().skip(1).all(|l| l.starts_with("hint: ")),
        "only hints may follow the error line: {stderr}"
    );
    stderr
}

#[test]
fn unknown_key_in_a_file_names_file_line_and_suggestion() {
    let world = World::new();
    world.write(
        "team.yaml",
        "namespace: team\nalb:\n  scheme: internal\n  subnet: [a, b]\n",
    );
    let err = fails(&world, &["--profile", "team.yaml"]);
    assert_eq!(
        err,
        "error: unknown key `alb.subnet` (did you mean `subnets`?) (team.yaml:4)\n"
    );
}

#[test]
fn bad_values_name_the_field() {
    let world = World::new();
    world.write("p.yaml", "prometheus:\n  storageSize: 50GB\n");
    let err = fails(&world, &["--profile", "p.yaml"]);
    assert_eq!(
        err,
        "error: prometheus.storageSize: `50GB` is not a Kubernetes quantity: unknown suffix `GB` (did you mean `50Gi`?) (p.yaml:2)\n"
    );
    let err = fails(
        &world,
        &["--set", "alb.subnets=[subnet-0123abcd, subnet-xyz]"],
    );
    assert!(
        err.starts_with("error: alb.subnets[1]: `subnet-xyz` is not a subnet ID"),
        "{err}"
    );
    assert!(
        err.contains("(--set alb.subnets=[subnet-0123abcd, subnet-xyz])"),
        "{err}"
    );
    let err = fails(&world, &["--namespace", "Monitoring"]);
    assert!(
        err.starts_with("error: namespace: `Monitoring` is not a DNS-1123 label"),
        "{err}"
    );
    assert!(err.trim_end().ends_with("(--namespace)"), "{err}");
}

#[test]
fn alb_without_hosts_says_what_to_set() {
    let world = World::new();
    let err = fails(&world, &["--exposure", "alb"]);
    assert!(
        err.starts_with("error: prometheus.host: required when exposure is alb"),
        "{err}"
    );
    assert!(err.contains("(--exposure)"), "{err}");
    assert!(
        err.contains("hint: set it in the profile or with --set prometheus.host="),
        "{err}"
    );
}

#[test]
fn malformed_yaml_reports_the_line() {
    let world = World::new();
    world.write("bad.yaml", "namespace: ok\nalb:\n  subnets: [a,\n");
    let err = fails(&world, &["--profile", "bad.yaml"]);
    assert!(err.starts_with("error: invalid YAML:"), "{err}");
    assert!(err.contains("(bad.yaml:4)"), "{err}");
    world.write("dup.yaml", "namespace: a\nnamespace: b\n");
    assert!(fails(&world, &["--profile", "dup.yaml"]).contains("duplicate"));
}

#[test]
fn set_syntax_errors() {
    let world = World::new();
    let err = fails(&world, &["--set", "alb.scheme"]);
    assert!(
        err.starts_with("error: `alb.scheme` is not key=value (--set alb.scheme)"),
        "{err}"
    );
    let err = fails(&world, &["--set", "alb.subnets[0]=subnet-0123abcd"]);
    assert!(err.contains("list indexes are not supported"), "{err}");
    let err = fails(&world, &["--set", "alb.sheme=internal"]);
    assert!(
        err.contains("unknown key `alb.sheme` (did you mean `scheme`?)"),
        "{err}"
    );
}

#[test]
fn missing_profile_suggests_names() {
    let world = World::new();
    let err = fails(&world, &["--profile", "exampel"]);
    assert!(
        err.starts_with("error: profile `exampel` not found\nhint: did you mean `example`?"),
        "{err}"
    );
}

#[test]
fn injection_attempts_are_refused() {
    let world = World::new();
    for set in [
        "grafana.host=a.example.com\n  evil: true",
        "grafana.host=\"a.example.com\\n  evil: true\"",
        "alb.tags.team=\"it's \\\"quoted\\\"\"",
        "alb.tags.team=\"a,b=c\"",
        "alb.subnets=[\"subnet-0123abcd, sg-x\", subnet-4567abcd]",
        "grafana.host={{ .Release.Name }}.example.com",
    ] {
        let err = fails(&world, &["--profile", "example", "--set", set]);
        assert!(err.contains("--set"), "{set}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let world = World::new();
    let output = world
        .eksmon()
        .args(["render", "--exposure", "elb"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    world.eksmon().args(["render", "--help"]).assert().success();
}

#[test]
fn empty_binary_and_huge_profiles() {
    let world = World::new();
    world.write("empty.yaml", "");
    assert!(
        fails(&world, &["--profile", "empty.yaml"])
            .starts_with("error: profile is empty (empty.yaml)")
    );
    std::fs::write(world.path().join("bin.yaml"), [0xffu8, 0x00, 0x13, 0x37]).unwrap();
    assert!(fails(&world, &["--profile", "bin.yaml"]).contains("not UTF-8"));
    std::fs::write(world.path().join("huge.yaml"), vec![b'#'; 10 * 1024 * 1024]).unwrap();
    assert!(fails(&world, &["--profile", "huge.yaml"]).contains("at most 1 MiB"));
}

/// Runtime failures while writing: exit 1, one error line, no partial file.
#[test]
fn unwritable_out_dir_and_full_disk() {
    let world = World::new();
    world.write("not-a-dir", "x");
    let output = world
        .eksmon()
        .args(["render", "--out-dir", "not-a-dir/values"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: cannot create directory `not-a-dir/values`"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = world
        .std_eksmon()
        .args(["render", "--profile", "small"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("error: cannot write to stdout: No space left on device"),
        "{stderr}"
    );
}

/// Several renders into one directory at once: every file ends up whole, from one run.
#[test]
fn concurrent_renders_never_corrupt_files() {
    let world = World::new();
    let expected: Vec<String> = (1..=6)
        .map(|days| {
            let out = world
                .eksmon()
                .args([
                    "render",
                    "prometheus",
                    "--set",
                    &format!("prometheus.retention={days}d"),
                ])
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    for _ in 0..3 {
        let children: Vec<_> = (1..=6)
            .map(|days| {
                world
                    .std_eksmon()
                    .args(["render", "prometheus", "--out-dir", "out"])
                    .args(["--set", &format!("prometheus.retention={days}d")])
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let written =
            std::fs::read_to_string(world.path().join("out/prometheus-values.yaml")).unwrap();
        assert!(expected.contains(&written), "a torn file:\n{written}");
        let leftovers = std::fs::read_dir(world.path().join("out")).unwrap().count();
        assert_eq!(leftovers, 1, "temp files were left behind");
    }
}

#[test]
fn a_value_in_the_wrong_case_gets_a_suggestion() {
    let world = World::new();
    let err = fails(&world, &["--exposure", "ALB"]);
    assert!(
        err.starts_with("error: invalid value 'ALB' for '--exposure <EXPOSURE>' [possible values: alb, nlb, none]\nhint: did you mean `alb`?"),
        "{err}"
    );
}

#[test]
fn a_missing_path_is_named_as_given() {
    let world = World::new();
    let err = fails(&world, &["--profile", "./nope.yaml"]);
    assert!(err.contains("also looked for ./nope.yaml\n"), "{err}");
    assert!(!err.contains("././"), "{err}");
}

#[test]
fn picking_up_eksmon_yaml_is_said_once_unless_quiet() {
    let world = World::new();
    world.write("eksmon.yaml", "namespace: picked\n");
    let output = world.eksmon().args(["render", "grafana"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr, "using profile eksmon.yaml (no --profile given)\n");
    let quiet = world
        .eksmon()
        .args(["-q", "render", "grafana"])
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty(), "{quiet:?}");
}
