//! `--help` of eksmon and of every subcommand, as snapshots: the help text is the interface
//! people read first, and a change to it should be a reviewed one.

use crate::common::World;

#[test]
fn help_texts() {
    let world = World::new();
    let mut pages = String::new();
    let commands = eksmon::command_paths();
    assert!(commands.len() > 15, "{commands:?}");
    for command in &commands {
        let output = world
            .eksmon()
            .args(command)
            .arg("--help")
            .env("COLUMNS", "100")
            .output()
            .expect("eksmon --help");
        assert!(output.status.success(), "{command:?}");
        let line: Vec<&str> = std::iter::once("eksmon")
            .chain(command.iter().map(String::as_str))
            .collect();
        pages += &format!(
            "=== {} --help\n{}",
            line.join(" "),
            String::from_utf8_lossy(&output.stdout)
        );
    }
    insta::assert_snapshot!("help", pages);
}

/// `-o json` on every command that reads a profile and can answer without a cluster: one set
/// of conventions (the cluster-side ones are checked in tests/cluster).
#[test]
fn json_outputs_keep_one_convention() {
    let world = crate::common::World::new();
    for args in [
        &["alerts", "--profile", "example"][..],
        &["dashboards", "--profile", "example"][..],
        &[
            "iam",
            "--profile",
            "example",
            "--set",
            "amp={workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef, region: eu-west-1, roleArn: 'arn:aws:iam::123456789012:role/w'}",
        ][..],
    ] {
        let output = world
            .eksmon()
            .args(args)
            .args(["--output", "json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        crate::common::assert_json_conventions(&json, &["permissionsPolicy", "trustPolicy"]);
    }
    // One name for the human format: `text` everywhere, `table` still understood.
    for command in ["alerts", "dashboards", "iam", "status", "doctor", "diff"] {
        let output = world.eksmon().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("[default: text]"), "{command}: {help}");
        assert!(!help.contains("- table"), "{command}: {help}");
    }
}

/// Every command that reads a profile takes the same profile options.
#[test]
fn every_profile_command_takes_the_profile_options() {
    let world = crate::common::World::new();
    for command in [
        &["render"][..],
        &["install"],
        &["diff"],
        &["uninstall"],
        &["status"],
        &["grafana-password"],
        &["doctor"],
        &["alerts"],
        &["dashboards"],
        &["iam"],
        &["charts", "outdated"],
        &["charts", "bump"],
        &["export"],
    ] {
        let output = world.eksmon().args(command).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        for option in [
            "--profile <NAME|PATH>",
            "--set <PATH=VALUE>",
            "--exposure <EXPOSURE>",
        ] {
            assert!(help.contains(option), "{command:?} lacks {option}");
        }
    }
}
