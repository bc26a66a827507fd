//! The rule set eksmon renders, checked by Prometheus's own tool: `promtool check rules` (syntax,
//! PromQL, annotation templates) and `promtool test rules` over `tests/rules/eks.test.yaml`, where
//! every alert fires on a failing series next to a healthy one that must stay quiet. And every
//! `job=` matcher names a scrape job the real chart renders.

use crate::common::{World, helm, real_chart, stdout_of};
use eksmon::yaml::{self, Mapping};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `promtool` or `amtool` from `scripts/fetch-tools` (Debian's packages; `$EKSMON_TEST_PROMTOOL`,
/// `$EKSMON_TEST_AMTOOL`), or `None` after one loud line (a failure when CI requires the tools).
pub(crate) fn prom_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os(format!("EKSMON_TEST_{}", name.to_ascii_uppercase())).map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/tools/prom")
                .join(name)
        },
        PathBuf::from,
    );
    if path.is_file() {
        return Some(path);
    }
    eksmon_test_support::skip::skip(
        &format!("no {name} at {}", path.display()),
        crate::common::REQUIRE_HELM_VAR,
    );
    None
}

fn promtool() -> Option<PathBuf> {
    prom_tool("promtool")
}

/// The `serverFiles` eksmon renders for the Prometheus chart with `args`.
fn server_files(world: &World, args: &[&str]) -> Mapping {
    let text = stdout_of(world.eksmon().args(["render", "prometheus"]).args(args));
    let values = yaml::parse(&text).expect("rendered values");
    values["serverFiles"]
        .as_mapping()
        .cloned()
        .expect("serverFiles")
}

/// Writes the two rule files into `dir`; without annotations when `bare` (promtool's unit tests
/// compare annotations too, and `check rules` covers their templates).
fn write_rule_files(dir: &Path, files: &Mapping, bare: bool) {
    for name in ["recording_rules.yml", "alerting_rules.yml"] {
        let mut doc = files[name].clone();
        if bare {
            for group in doc["groups"].as_sequence_mut().expect("groups") {
                for rule in group["rules"].as_sequence_mut().expect("rules") {
                    if let Some(rule) = rule.as_mapping_mut() {
                        rule.remove("annotations");
                    }
                }
            }
        }
        std::fs::write(dir.join(name), yaml::emit(&doc)).expect("write rules");
    }
}

/// Every rule (the control-plane ones included), written without annotations into a temp dir,
/// for `promtool test rules`; and the rendered files.
fn every_rule_bare() -> (tempfile::TempDir, Mapping) {
    let world = World::new();
    let files = server_files(&world, &["--set", "prometheus.eksControlPlane=true"]);
    let dir = tempfile::tempdir().unwrap();
    write_rule_files(dir.path(), &files, true);
    (dir, files)
}

fn alert_names(files: &Mapping) -> BTreeSet<String> {
    files["alerting_rules.yml"]["groups"]
        .as_sequence()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_sequence().cloned().unwrap_or_default())
        .filter_map(|r| r["alert"].as_str().map(str::to_owned))
        .collect()
}

fn promtool_ok(cmd: &mut Command) -> String {
    let output = cmd.output().expect("promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{cmd:?}:\n{text}");
    text
}

#[test]
fn promtool_checks_the_rendered_rules() {
    let Some(promtool) = promtool() else {
        return;
    };
    let world = World::new();
    for args in [
        &[][..],
        &["--set", "prometheus.alertmanager.enabled=false"],
        &["--set", "alerting.disabled=[Watchdog]"],
        &["--set", "prometheus.eksControlPlane=true"],
    ] {
        let files = server_files(&world, args);
        let dir = tempfile::tempdir().unwrap();
        write_rule_files(dir.path(), &files, false);
        let report = promtool_ok(
            Command::new(&promtool)
                .args(["check", "rules"])
                .arg(dir.path().join("recording_rules.yml"))
                .arg(dir.path().join("alerting_rules.yml")),
        );
        assert!(report.contains("SUCCESS"), "{report}");
    }
    // No rules at all: nothing for the chart's rule files.
    let text =
        stdout_of(
            world
                .eksmon()
                .args(["render", "prometheus", "--set", "alerting.rules=none"]),
        );
    assert!(!text.contains("serverFiles"), "{text}");
}

#[test]
fn every_alert_fires_on_its_case_and_stays_quiet_on_a_healthy_one() {
    let Some(promtool) = promtool() else {
        return;
    };
    let (dir, files) = every_rule_bare();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/eks.test.yaml");
    std::fs::copy(&tests, dir.path().join("eks.test.yaml")).unwrap();
    let report = promtool_ok(
        Command::new(&promtool)
            .args(["test", "rules"])
            .arg(dir.path().join("eks.test.yaml"))
            .current_dir(dir.path()),
    );
    assert!(report.contains("SUCCESS"), "{report}");

    // Every alert has a case where it fires (each case also feeds a healthy series).
    let cases = yaml::parse(&std::fs::read_to_string(&tests).unwrap()).unwrap();
    let fired: BTreeSet<String> = cases["tests"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|t| {
            t["alert_rule_test"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|case| {
            case["exp_alerts"]
                .as_sequence()
                .is_some_and(|a| !a.is_empty())
        })
        .filter_map(|case| case["alertname"].as_str().map(str::to_owned))
        .collect();
    let alerts = alert_names(&files);
    let untested: Vec<&String> = alerts.difference(&fired).collect();
    assert!(
        untested.is_empty(),
        "alerts without a firing case: {untested:?}"
    );
    let stale: Vec<&String> = fired.difference(&alerts).collect();
    assert!(
        stale.is_empty(),
        "cases for alerts that do not exist: {stale:?}"
    );
    assert!(alerts.len() >= 50, "{} alerts", alerts.len());
}

#[test]
fn every_job_matcher_names_a_job_the_chart_scrapes() {
    crate::skip_without_helm!();
    let world = World::new();
    let objects = prometheus_objects(&world, &["--set", "prometheus.eksControlPlane=true"]);
    let config = config_map(&objects);
    let prometheus_yml = yaml::parse(config_data(config, "prometheus.yml")).unwrap();
    let jobs: BTreeSet<&str> = prometheus_yml["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|c| c["job_name"].as_str())
        .collect();
    // The rules land in the chart's ConfigMap as the files its rule_files name.
    let rules = yaml::parse(config["data"]["alerting_rules.yml"].as_str().unwrap()).unwrap();
    let mut matchers = Vec::new();
    for group in rules["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            matchers.extend(job_matchers(rule["expr"].as_str().unwrap()));
        }
    }
    let recording = yaml::parse(config["data"]["recording_rules.yml"].as_str().unwrap()).unwrap();
    for group in recording["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            matchers.extend(job_matchers(rule["expr"].as_str().unwrap()));
        }
    }
    assert!(matchers.len() > 20, "{matchers:?}");

    let unknown: Vec<&String> = matchers
        .iter()
        .filter(|j| !jobs.contains(j.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "job matchers with no such scrape job: {unknown:?} (jobs: {jobs:?})"
    );
    // promtool checks the configuration too.
    check_config(&world, config, &prometheus_yml);
}

/// `promtool check config` on a rendered prometheus.yml. Debian's promtool has no Kubernetes
/// service discovery: the scrape jobs and Alertmanager discovery are set aside; the rest
/// (global and its external labels, remote write, the rule files as the chart mounts them) is
/// checked.
fn check_config(world: &World, config: &yaml::Value, prometheus_yml: &yaml::Value) {
    let Some(promtool) = promtool() else {
        return;
    };
    let dir = world.path().join("config");
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = prometheus_yml.as_mapping().cloned().unwrap();
    checked.remove("scrape_configs");
    checked.remove("alerting");
    let mut rule_files = Vec::new();
    for name in ["recording_rules.yml", "alerting_rules.yml"] {
        let path = dir.join(name);
        std::fs::write(&path, config_data(config, name)).unwrap();
        rule_files.push(yaml::Value::String(path.display().to_string()));
    }
    checked.insert("rule_files".into(), yaml::Value::Sequence(rule_files));
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, yaml::emit(&yaml::Value::Mapping(checked))).unwrap();
    let report = promtool_ok(Command::new(promtool).args(["check", "config"]).arg(&path));
    assert!(report.contains("SUCCESS"), "{report}");
}

/// The objects `helm template` makes of the real prometheus chart with eksmon's values for `args`.
pub(crate) fn prometheus_objects(world: &World, args: &[&str]) -> Vec<yaml::Value> {
    chart_objects(world, "prometheus", args)
}

/// The objects `helm template` makes of a real chart (`prometheus`, `grafana`) with eksmon's
/// values for `args`, released under the chart's own name as eksmon's defaults do.
pub(crate) fn chart_objects(world: &World, chart: &str, args: &[&str]) -> Vec<yaml::Value> {
    world
        .eksmon()
        .args(["render", chart, "--out-dir", "values"])
        .args(args)
        .assert()
        .success();
    let output = Command::new(helm(4))
        .args(["template", chart])
        .arg(real_chart(chart).unwrap())
        .arg("-f")
        .arg(world.path().join(format!("values/{chart}-values.yaml")))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    yaml::parse_all(&String::from_utf8_lossy(&output.stdout)).unwrap()
}

#[test]
fn amp_remote_write_through_the_real_chart() {
    crate::skip_without_helm!();
    let world = World::new();
    world.write(
        "amp.yaml",
        "cluster: {name: prod-eks}\namp:\n  workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef\n  region: eu-west-1\n  roleArn: arn:aws:iam::123456789012:role/amp-ingest\n  keepMetrics: ['kube_.*', up]\n",
    );
    let objects = prometheus_objects(&world, &["--profile", "amp.yaml"]);
    let config = config_map(&objects);
    let prometheus_yml = yaml::parse(config_data(config, "prometheus.yml")).unwrap();
    assert_eq!(
        prometheus_yml["global"]["external_labels"]["cluster"],
        "prod-eks"
    );
    let write = &prometheus_yml["remote_write"][0];
    assert_eq!(
        write["url"],
        "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write"
    );
    assert_eq!(write["sigv4"]["region"], "eu-west-1");
    assert_eq!(write["queue_config"]["max_shards"], yaml::Value::from(200));
    assert_eq!(write["write_relabel_configs"][0]["regex"], "kube_.*|up");
    let account = server_account(&objects);
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/amp-ingest"
    );
    check_config(&world, config, &prometheus_yml);

    // Pod Identity: no annotation, the account's name fixed for the association.
    world.write(
        "pod-identity.yaml",
        "amp: {workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef, region: eu-west-1, auth: podIdentity}\n",
    );
    let objects = prometheus_objects(&world, &["--profile", "pod-identity.yaml"]);
    let account = server_account(&objects);
    assert!(
        account["metadata"]
            .get("annotations")
            .is_none_or(|a| a.get("eks.amazonaws.com/role-arn").is_none())
    );
}

fn server_account(objects: &[yaml::Value]) -> &yaml::Value {
    service_account(objects, "prometheus-server")
}

/// The ServiceAccount called `name` among a chart's objects.
pub(crate) fn service_account<'a>(objects: &'a [yaml::Value], name: &str) -> &'a yaml::Value {
    objects
        .iter()
        .find(|o| o["kind"] == "ServiceAccount" && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("the chart makes no service account {name}"))
}

/// `amp.agentMode` through the real chart: the agent's flags replace the TSDB ones, no rule
/// files, no Alertmanager, and promtool accepts the configuration as an agent's.
#[test]
fn agent_mode_through_the_real_chart() {
    crate::skip_without_helm!();
    let world = World::new();
    world.write(
        "agent.yaml",
        "amp:\n  workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef\n  region: eu-west-1\n  roleArn: arn:aws:iam::123456789012:role/amp-ingest\n  agentMode: true\ngrafana: {datasource: amp}\n",
    );
    let objects = prometheus_objects(&world, &["--profile", "agent.yaml"]);
    let server = objects
        .iter()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "prometheus-server")
        .expect("the server's Deployment");
    let containers = server["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .unwrap();
    let prometheus = containers
        .iter()
        .find(|c| c["name"] == "prometheus-server")
        .expect("the prometheus container");
    let args: Vec<&str> = prometheus["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(args.contains(&"--agent"), "{args:?}");
    assert!(args.contains(&"--storage.agent.path=/data"), "{args:?}");
    assert!(
        !args.iter().any(|a| a.starts_with("--storage.tsdb")),
        "{args:?}"
    );
    assert!(
        !objects.iter().any(|o| o["kind"] == "StatefulSet"
            && o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.contains("alertmanager"))),
        "no Alertmanager"
    );
    let config = config_map(&objects);
    let prometheus_yml = yaml::parse(config_data(config, "prometheus.yml")).unwrap();
    let rule_files = prometheus_yml.get("rule_files");
    assert!(
        rule_files.is_none_or(|files| files.as_sequence().is_some_and(Vec::is_empty)),
        "{rule_files:?}"
    );
    assert!(
        prometheus_yml.get("alerting").is_none(),
        "alerting in an agent's configuration"
    );
    assert_eq!(
        prometheus_yml["remote_write"][0]["sigv4"]["region"],
        "eu-west-1"
    );
    if let Some(promtool) = promtool() {
        let mut checked = prometheus_yml.as_mapping().cloned().unwrap();
        checked.remove("scrape_configs");
        let path = world.write(
            "agent/prometheus.yml",
            &yaml::emit(&yaml::Value::Mapping(checked)),
        );
        let report = promtool_ok(
            Command::new(promtool)
                .args(["check", "config", "--agent"])
                .arg(&path),
        );
        assert!(report.contains("SUCCESS"), "{report}");
    }
    // Grafana: AMP is the only source, under the uid eksmon's dashboards name.
    let grafana = crate::rules::chart_objects(&world, "grafana", &["--profile", "agent.yaml"]);
    let config = grafana
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "grafana")
        .expect("grafana's ConfigMap");
    let provisioned = yaml::parse(config_data(config, "datasources.yaml")).unwrap();
    let sources = provisioned["datasources"].as_sequence().unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["uid"], "prometheus");
    assert_eq!(sources[0]["type"], "grafana-amazonprometheus-datasource");
}

pub(crate) fn config_map(objects: &[yaml::Value]) -> &yaml::Value {
    objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "prometheus-server")
        .expect("the server's ConfigMap")
}

fn config_data<'a>(config: &'a yaml::Value, key: &str) -> &'a str {
    config["data"][key].as_str().unwrap_or_default()
}

/// The job names a PromQL expression selects: `job="a"` and each alternative of `job=~"a|b"`.
fn job_matchers(expr: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in expr.match_indices("job=") {
        // Not `…_job=` (another label that ends in "job").
        if expr[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &expr[at + 4..];
        let (regex, rest) = match rest.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let Some(value) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) else {
            continue;
        };
        if regex {
            found.extend(value.split('|').map(str::to_owned));
        } else {
            found.push(value.to_owned());
        }
    }
    found
}

/// Every alert rule, as `eksmon alerts -o json` lists them, the control-plane ones included.
fn every_alert(world: &World) -> serde_json::Value {
    let text = stdout_of(world.eksmon().args([
        "alerts",
        "-o",
        "json",
        "--set",
        "prometheus.eksControlPlane=true",
    ]));
    serde_json::from_str(&text).unwrap()
}

/// The README's alert table, as `eksmon alerts` lists them (the control-plane ones included):
/// each name links to its runbook.
fn alert_table(world: &World) -> String {
    let rows = every_alert(world);
    let mut out = String::from(
        "| alert | severity | for | summary | formerly |\n| --- | --- | --- | --- | --- |\n",
    );
    for row in rows.as_array().unwrap() {
        let text = |key: &str| row[key].as_str().unwrap_or_default().replace('|', "\\|");
        let name = if row["upstream"] == true {
            format!("[`{}`]({})", text("alert"), text("runbookUrl"))
        } else {
            format!(
                "[`{}`](#{})",
                text("alert"),
                text("alert").to_ascii_lowercase()
            )
        };
        let formerly = row["formerly"].as_str().map_or_else(String::new, |old| {
            old.split(", ")
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        out += &format!(
            "| {name} | {} | {} | {} | {formerly} |\n",
            text("severity"),
            text("for"),
            text("summary"),
        );
    }
    out
}

/// The README's runbooks for eksmon's own alerts: a heading each (the anchor their
/// `runbook_url` names), its severity and what it says.
fn runbooks(world: &World) -> String {
    let rows = every_alert(world);
    let mut out = String::new();
    for row in rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["upstream"] == false)
    {
        let name = row["alert"].as_str().unwrap();
        assert!(
            row["runbookUrl"]
                .as_str()
                .unwrap()
                .ends_with(&format!("#{}", name.to_ascii_lowercase())),
            "{row}"
        );
        out += &format!(
            "#### {name}\n\n**{}.** {} {}\n\n",
            row["severity"].as_str().unwrap(),
            row["summary"].as_str().unwrap(),
            row["description"].as_str().unwrap(),
        );
    }
    out
}

/// Replaces the text between `<!-- NAME:start -->` and `<!-- NAME:end -->` in the README, or
/// checks that it is `text`.
pub(crate) fn readme_section(name: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = (
        format!("<!-- {name}:start -->\n"),
        format!("<!-- {name}:end -->"),
    );
    let from = readme.find(&start).expect("the start marker") + start.len();
    let to = readme.find(&end).expect("the end marker");
    if std::env::var_os("EKSMON_UPDATE_README").is_some() {
        std::fs::write(&path, format!("{}{text}{}", &readme[..from], &readme[to..])).unwrap();
        return;
    }
    assert!(
        readme[from..to] == *text,
        "README's {name} section is out of date: EKSMON_UPDATE_README=1 cargo test --test cli readme_lists"
    );
}

/// The README's runbook section covers every alert of eksmon's own.
#[test]
fn readme_lists_every_runbook() {
    let world = World::new();
    readme_section("runbooks", &runbooks(&world));
}

/// The README lists every alert, generated from the rules so it cannot drift. After changing
/// the rules: `EKSMON_UPDATE_README=1 cargo test --test cli readme_lists`.
#[test]
fn readme_lists_every_alert() {
    let world = World::new();
    readme_section("alerts", &alert_table(&world));
}

#[test]
fn amtool_checks_the_rendered_alertmanager_config() {
    let Some(amtool) = prom_tool("amtool") else {
        return;
    };
    let world = World::new();
    // Debian's amtool (0.25) predates webhook `url_file`, which the chart's Alertmanager
    // (v0.34) reads; the webhook receiver is covered by the unit tests instead.
    world.write(
        "receivers.yaml",
        "alerting:\n  receivers:\n    - {name: oncall, type: slack, secretName: am-slack, channel: '#alerts', severities: [critical, warning]}\n    - {name: pager, type: pagerduty, secretName: am-pd, severities: [critical]}\n    - {name: aws, type: sns, topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts', roleArn: 'arn:aws:iam::123456789012:role/am-sns'}\n",
    );
    for args in [&[][..], &["--profile", "receivers.yaml"]] {
        let text = stdout_of(world.eksmon().args(["render", "prometheus"]).args(args));
        let values = yaml::parse(&text).unwrap();
        let config = &values["alertmanager"]["config"];
        let path = world.path().join("alertmanager.yml");
        std::fs::write(&path, yaml::emit(config)).unwrap();
        let report = promtool_ok(Command::new(&amtool).arg("check-config").arg(&path));
        assert!(report.contains("SUCCESS"), "{report}");
        // Names of Secrets and paths of files, never a secret.
        assert!(!text.contains("hooks.slack.com"), "{text}");
    }
}

/// Renamed alerts: the old name still disables the new one, with a warning, and both names are
/// listed for this release.
#[test]
fn an_old_alert_name_still_disables_it() {
    let world = World::new();
    let output = world
        .eksmon()
        .args([
            "alerts",
            "-o",
            "json",
            "--set",
            "alerting.disabled=[ContainerCPUThrottlingHigh]",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning: alerting.disabled[0]: `ContainerCPUThrottlingHigh` is now called `CPUThrottlingHigh`"),
        "{stderr}"
    );
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["alert"] != "CPUThrottlingHigh")
    );
    let all: serde_json::Value =
        serde_json::from_str(&stdout_of(world.eksmon().args(["alerts", "-o", "json"]))).unwrap();
    let renamed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["alert"] == "CPUThrottlingHigh")
        .unwrap();
    assert_eq!(renamed["formerly"], "ContainerCPUThrottlingHigh");
    assert_eq!(renamed["upstream"], true);
    assert_eq!(
        renamed["runbookUrl"],
        "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/cputhrottlinghigh"
    );
    let table = stdout_of(world.eksmon().arg("alerts"));
    assert!(
        table.lines().any(
            |l| l.starts_with("CPUThrottlingHigh ") && l.contains("ContainerCPUThrottlingHigh")
        ),
        "{table}"
    );
}

#[test]
fn alerts_lists_what_a_profile_installs() {
    let world = World::new();
    let all: serde_json::Value = serde_json::from_str(&stdout_of(
        world.eksmon().args(["alerts", "--output", "json"]),
    ))
    .unwrap();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alert"].as_str().unwrap())
        .collect();
    assert!(
        names.len() >= 50 && names.contains(&"KubePodCrashLooping"),
        "{names:?}"
    );
    assert_eq!(all[0]["severity"], "info");
    let fewer: serde_json::Value = serde_json::from_str(&stdout_of(world.eksmon().args([
        "alerts",
        "-o",
        "json",
        "--set",
        "alerting.disabled=[Watchdog]",
        "--set",
        "prometheus.alertmanager.enabled=false",
    ])))
    .unwrap();
    let fewer: Vec<&str> = fewer
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["alert"].as_str().unwrap())
        .collect();
    assert!(!fewer.contains(&"Watchdog") && !fewer.contains(&"AlertmanagerDown"));
    assert!(fewer.len() < names.len() - 2);
    let table = stdout_of(world.eksmon().arg("alerts"));
    assert!(table.starts_with("ALERT "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("KubePodCrashLooping") && l.contains("warning"))
    );
    let none = stdout_of(
        world
            .eksmon()
            .args(["alerts", "--set", "alerting.rules=none"]),
    );
    assert_eq!(none.lines().count(), 1, "only the header: {none}");
}

/// No alert but the Watchdog fires on a healthy cluster (`tests/rules/healthy-cluster.yaml`),
/// evaluated every ten minutes over three hours.
#[test]
fn a_healthy_cluster_is_quiet() {
    let Some(promtool) = promtool() else {
        return;
    };
    let (dir, files) = every_rule_bare();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rules/healthy-cluster.yaml");
    let mut test = yaml::parse(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let mut cases = Vec::new();
    for alert in alert_names(&files).iter().filter(|a| *a != "Watchdog") {
        for minutes in (10..=170).step_by(10) {
            cases.push(
                yaml::parse(&format!(
                    "{{eval_time: {minutes}m, alertname: {alert}, exp_alerts: []}}"
                ))
                .unwrap(),
            );
        }
    }
    test.as_mapping_mut()
        .unwrap()
        .insert("alert_rule_test".into(), yaml::Value::Sequence(cases));
    let file = yaml::parse(
        "rule_files: [recording_rules.yml, alerting_rules.yml]\nevaluation_interval: 1m\n",
    )
    .unwrap();
    let mut file = file.as_mapping().cloned().unwrap();
    file.insert("tests".into(), yaml::Value::Sequence(vec![test]));
    std::fs::write(
        dir.path().join("healthy.test.yaml"),
        yaml::emit(&yaml::Value::Mapping(file)),
    )
    .unwrap();
    let report = promtool_ok(
        Command::new(&promtool)
            .args(["test", "rules", "healthy.test.yaml"])
            .current_dir(dir.path()),
    );
    assert!(report.contains("SUCCESS"), "{report}");
}
