//! `eksmon profiles list|show`.

use crate::common::{World, stdout_of};

#[test]
fn list_shows_builtin_and_user_profiles() {
    let world = World::new();
    world.write(
        "config/eksmon/profiles/team.yaml",
        "# Our team's cluster\nnamespace: team\n",
    );
    let out = stdout_of(world.eksmon().args(["profiles", "list"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("example   built-in  The blog post's setup"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("team      user      Our team's cluster"),
        "{out}"
    );
}

#[test]
fn show_prints_the_yaml() {
    let world = World::new();
    let out = stdout_of(world.eksmon().args(["profiles", "show", "example"]));
    assert_eq!(out, include_str!("../../profiles/example.yaml"));
    let err = world
        .eksmon()
        .args(["profiles", "show", "nope"])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
}
