//! `eksmon dashboards`: what a profile provisions, as a table and JSON; and the README's
//! dashboard table, generated from it so it cannot drift.

use crate::common::{World, stdout_of};

fn listed(world: &World, args: &[&str]) -> Vec<serde_json::Value> {
    let text = stdout_of(world.eksmon().args(["dashboards", "-o", "json"]).args(args));
    serde_json::from_str::<serde_json::Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn dashboards_lists_what_a_profile_provisions() {
    let world = World::new();
    let all = listed(&world, &[]);
    assert_eq!(all.len(), 15);
    let panels: u64 = all.iter().map(|d| d["panels"].as_u64().unwrap()).sum();
    assert!(panels >= 80, "{panels} panels");
    assert!(all.iter().all(|d| d["source"] == "eksmon"));
    assert_eq!(all[0]["uid"], "eksmon-cluster");

    let chosen = listed(
        &world,
        &[
            "--set",
            "grafana.dashboards=[nodes, {gnetId: 1860, revision: 37}]",
        ],
    );
    assert_eq!(chosen.len(), 2);
    assert_eq!(chosen[1]["source"], "grafana.com");
    assert_eq!(chosen[1]["gnetId"], 1860);
    assert_eq!(chosen[1]["revision"], 37);
    assert!(chosen[1]["uid"].is_null(), "null for what is not known");

    let without_alertmanager = listed(&world, &["--set", "prometheus.alertmanager.enabled=false"]);
    assert!(
        without_alertmanager
            .iter()
            .all(|d| d["name"] != "alertmanager")
    );

    let table = stdout_of(world.eksmon().arg("dashboards"));
    assert!(table.starts_with("DASHBOARD "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("nodes ") && l.contains("Nodes / USE method")),
        "{table}"
    );
    let output = world
        .eksmon()
        .args(["dashboards", "--set", "grafana.enabled=false"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("grafana.enabled is false"));
}

#[test]
fn an_old_dashboard_source_is_ignored_with_a_warning() {
    let world = World::new();
    let output = world
        .eksmon()
        .args([
            "render",
            "grafana",
            "--set",
            "grafana.dashboardSource=grafana.com",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: grafana.dashboardSource is no longer used and is ignored (--set grafana.dashboardSource=grafana.com)"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("gnetId"));
}

/// The README's dashboard table, as `eksmon dashboards` lists them.
fn dashboard_table(world: &World) -> String {
    let mut out =
        String::from("| dashboard | title | panels | what it shows |\n| --- | --- | --- | --- |\n");
    for d in listed(world, &[]) {
        out += &format!(
            "| `{}` | {} | {} | {} |\n",
            d["name"].as_str().unwrap(),
            d["title"].as_str().unwrap(),
            d["panels"],
            d["description"].as_str().unwrap().replace('|', "\\|"),
        );
    }
    out
}

/// After changing the dashboards: `EKSMON_UPDATE_README=1 cargo test --test cli readme_lists`.
#[test]
fn readme_lists_every_dashboard() {
    let world = World::new();
    crate::rules::readme_section("dashboards", &dashboard_table(&world));
}
