//! `--help` of eksmon and of every subcommand, as snapshots: the help text is the interface
//! people read first, and a change to it should be a reviewed one.

use crate::common::World;

#[test]
fn help_texts() {
    let world = World::new();
    let mut pages = String::new();
    for command in [
        &[][..],
        &["render"],
        &["install"],
        &["diff"],
        &["charts", "outdated"],
        &["charts", "bump"],
        &["uninstall"],
        &["status"],
        &["grafana-password"],
        &["init"],
        &["doctor"],
        &["alerts"],
        &["profiles"],
        &["profiles", "list"],
        &["profiles", "show"],
        &["completions"],
        &["man"],
    ] {
        let output = world
            .eksmon()
            .args(command)
            .arg("--help")
            .env("COLUMNS", "100")
            .output()
            .expect("eksmon --help");
        assert!(output.status.success(), "{command:?}");
        let line: Vec<&str> = std::iter::once("eksmon")
            .chain(command.iter().copied())
            .collect();
        pages += &format!(
            "=== {} --help\n{}",
            line.join(" "),
            String::from_utf8_lossy(&output.stdout)
        );
    }
    insta::assert_snapshot!("help", pages);
}
