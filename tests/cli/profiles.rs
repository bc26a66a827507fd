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
    // The YAML as shipped, under a line of its own instead of the built-in's description.
    let shipped = include_str!("../../profiles/example.yaml");
    let body = shipped
        .split_once("\nnamespace:")
        .map(|(_, rest)| format!("namespace:{rest}"))
        .unwrap();
    assert_eq!(
        out,
        format!("# Based on eksmon's built-in profile `example`\n{body}")
    );
    // Saved as a profile of one's own, it does not pass for the built-in.
    world.write("config/eksmon/profiles/mine.yaml", &out);
    let listed = stdout_of(world.eksmon().args(["profiles", "list"]));
    assert!(
        listed.contains("mine      user      Based on eksmon's built-in profile `example`"),
        "{listed}"
    );
    assert!(
        !listed.contains("mine      user      The blog post's setup"),
        "{listed}"
    );
    let err = world
        .eksmon()
        .args(["profiles", "show", "nope"])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
}

#[test]
fn a_user_profile_named_like_a_builtin_wins_and_list_says_so() {
    let world = World::new();
    world.write(
        "config/eksmon/profiles/small.yaml",
        "# Our small clusters\nnamespace: tiny\n",
    );
    let out = stdout_of(world.eksmon().args(["profiles", "list"]));
    assert!(
        out.contains("small     built-in  (not used: ")
            && out.contains("config/eksmon/profiles/small.yaml has this name)"),
        "{out}"
    );
    assert!(
        out.contains("small     user      Our small clusters"),
        "{out}"
    );
    let shown = stdout_of(world.eksmon().args(["profiles", "show", "small"]));
    assert!(shown.contains("namespace: tiny"), "{shown}");
    let values = stdout_of(
        world
            .eksmon()
            .args(["render", "grafana", "--profile", "small"]),
    );
    assert!(values.contains("prometheus-server.tiny.svc"), "{values}");
}
