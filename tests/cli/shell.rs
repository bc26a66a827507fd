//! `eksmon completions` and `eksmon man`.

use crate::common::{World, stdout_of};

#[test]
fn completions_for_every_shell() {
    let world = World::new();
    for (shell, marker) in [
        ("bash", "complete -F _eksmon"),
        ("zsh", "#compdef eksmon"),
        ("fish", "complete -c eksmon"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = stdout_of(world.eksmon().args(["completions", shell]));
        assert!(script.contains(marker), "{shell}");
        for command in ["install", "grafana-password", "doctor"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }
    let output = world
        .eksmon()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn man_pages_cover_every_command() {
    let world = World::new();
    let page = stdout_of(world.eksmon().arg("man"));
    for title in [
        ".TH eksmon 1",
        ".TH eksmon-install 1",
        ".TH eksmon-grafana-password 1",
    ] {
        assert!(page.contains(title), "{title}");
    }
    world
        .eksmon()
        .args(["man", "--out-dir", "man1"])
        .assert()
        .success();
    let install = std::fs::read_to_string(world.path().join("man1/eksmon-install.1")).unwrap();
    assert!(
        install.contains("roll back a release that fails"),
        "help text reaches the page"
    );
}
