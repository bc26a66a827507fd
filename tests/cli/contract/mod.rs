//! One label contract between eksmon's scrape jobs, rules and dashboards, checked on the real
//! chart: `helm template` renders `prometheus.yml` with eksmon's values; its jobs' relabeling
//! runs on the objects of an EKS cluster (`targets`); the exporters' metric lists
//! (`tests/metrics`, each naming its source) say what each target exposes. Then every alert,
//! recording rule, dashboard panel and dashboard variable must:
//! - name only rendered jobs, and metrics those jobs' exporters expose;
//! - group, join and relabel only on labels its input has (`by`, `on`, `group_left`, …);
//! - print only labels its result has (`$labels.x` in annotations, `{{x}}` in legends).

mod promql;
mod targets;

use crate::common::{World, real_chart};
use eksmon::yaml::{self, Value};
use promql::{Metric, Shape};
use std::collections::BTreeMap;
use std::path::Path;

/// tests/metrics: exporter → metric → its labels (`?`: labels not seen, none assumed).
fn catalogs() -> BTreeMap<String, BTreeMap<String, Metric>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/metrics");
    let mut catalogs: BTreeMap<String, BTreeMap<String, Metric>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let exporter = stem.split('.').next().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# "),
            "{}: the first line names the source",
            path.display()
        );
        let metrics = catalogs.entry(exporter).or_default();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let mut words = line.split_whitespace();
            let name = words.next().unwrap().to_owned();
            let labels = words.filter(|w| *w != "?").map(str::to_owned).collect();
            metrics.insert(name, Metric { labels });
        }
    }
    catalogs
}

/// The chart's objects with eksmon's values for `args`, and the rendered `prometheus.yml`.
fn rendered(world: &World, args: &[&str]) -> (Vec<Value>, Value, Value) {
    let objects = crate::rules::prometheus_objects(world, args);
    let config = crate::rules::config_map(&objects).clone();
    let prometheus_yml = yaml::parse(config["data"]["prometheus.yml"].as_str().unwrap()).unwrap();
    (objects, prometheus_yml, config)
}

fn eks_objects() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/contract/eks-objects.yaml");
    yaml::parse_all(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every dashboard eksmon provisions by default, as Grafana reads it from the values.
pub(crate) fn dashboards(world: &World) -> Vec<serde_json::Value> {
    let text = crate::common::stdout_of(world.eksmon().args(["render", "grafana"]));
    let values = yaml::parse(&text).unwrap();
    values["dashboards"]["eksmon"]
        .as_mapping()
        .unwrap()
        .values()
        .map(|d| serde_json::from_str(d["json"].as_str().unwrap()).unwrap())
        .collect()
}

/// Walks the rules in order (recording rules register their series), returning problems.
fn check_rules(world: &mut promql::World<'_>, config: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for file in ["recording_rules.yml", "alerting_rules.yml"] {
        let rules = yaml::parse(config["data"][file].as_str().unwrap_or("{}")).unwrap();
        for group in rules["groups"].as_sequence().cloned().unwrap_or_default() {
            for rule in group["rules"].as_sequence().cloned().unwrap_or_default() {
                let expr = rule["expr"].as_str().unwrap();
                let name = rule["alert"]
                    .as_str()
                    .or(rule["record"].as_str())
                    .unwrap()
                    .to_owned();
                let mut found = Vec::new();
                let shape = world.shape_of(expr, &mut found);
                if let Some(record) = rule["record"].as_str()
                    && let Shape::Vector(sets) = &shape
                {
                    world
                        .recorded
                        .entry(record.to_owned())
                        .or_default()
                        .extend(sets.clone());
                }
                for (key, text) in yaml_strings(&rule["annotations"]) {
                    let lacking = promql::missing(&shape, &promql::referenced(&text, true));
                    if !lacking.is_empty() {
                        found.push(format!(
                            "annotation {key} prints {lacking:?}, which the result lacks"
                        ));
                    }
                }
                problems.extend(found.into_iter().map(|p| format!("{name}: {p}")));
            }
        }
    }
    problems
}

fn yaml_strings(value: &Value) -> Vec<(String, String)> {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Every panel query and variable query of `board`.
fn check_board(world: &promql::World<'_>, board: &serde_json::Value) -> Vec<String> {
    let uid = board["uid"].as_str().unwrap_or_default();
    let mut problems = Vec::new();
    for panel in board["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap();
            let mut found = Vec::new();
            let shape = world.shape_of(expr, &mut found);
            let legend = target["legendFormat"].as_str().unwrap_or_default();
            let lacking = promql::missing(&shape, &promql::referenced(legend, false));
            if !lacking.is_empty() {
                found.push(format!("legend prints {lacking:?}, which the result lacks"));
            }
            let title = panel["title"].as_str().unwrap_or_default();
            problems.extend(
                found
                    .into_iter()
                    .map(|p| format!("{uid} / {title}: {p} in `{expr}`")),
            );
        }
    }
    for variable in board["templating"]["list"].as_array().unwrap() {
        let Some(query) = variable["query"]["query"].as_str() else {
            continue;
        };
        let Some(inner) = query
            .strip_prefix("label_values(")
            .and_then(|q| q.strip_suffix(')'))
        else {
            problems.push(format!(
                "{uid}: variable query `{query}` is not label_values(…)"
            ));
            continue;
        };
        let (selector, label) = inner.rsplit_once(',').unwrap();
        let mut found = Vec::new();
        let shape = world.shape_of(selector.trim(), &mut found);
        let lacking = promql::missing(&shape, &[label.trim().to_owned()]);
        if !lacking.is_empty() {
            found.push(format!("its series lack `{}`", label.trim()));
        }
        let name = variable["name"].as_str().unwrap_or_default();
        problems.extend(
            found
                .into_iter()
                .map(|p| format!("{uid}: variable {name}: {p}")),
        );
    }
    problems
}

#[test]
fn rules_and_dashboards_keep_the_label_contract_of_the_real_chart() {
    crate::skip_without_helm!();
    if real_chart("prometheus").is_none() {
        return;
    }
    let world = World::new();
    let (objects, prometheus_yml, config) =
        rendered(&world, &["--set", "prometheus.eksControlPlane=true"]);
    let targets = targets::targets(&prometheus_yml, &objects, &eks_objects());
    let catalogs = catalogs();
    for exporter in [
        "kube-state-metrics",
        "node-exporter",
        "kubelet",
        "cadvisor",
        "kube-apiserver",
        "coredns",
        "aws-node",
        "prometheus",
        "alertmanager",
    ] {
        assert!(
            targets.iter().any(|t| t.exporter == exporter),
            "no target scrapes {exporter}: {targets:#?}"
        );
    }
    for target in &targets {
        assert!(
            catalogs.contains_key(&target.exporter),
            "no metric list for {} (job {}): add tests/metrics/{}.txt",
            target.exporter,
            target.job,
            target.exporter
        );
    }
    let mut contract = promql::World {
        targets: &targets,
        catalogs: &catalogs,
        recorded: BTreeMap::new(),
    };
    let mut problems = check_rules(&mut contract, &config);
    let boards = dashboards(&world);
    assert!(boards.len() >= 14, "{} dashboards", boards.len());
    for board in &boards {
        problems.extend(check_board(&contract, board));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The checker itself: what it must catch.
#[test]
fn the_contract_check_catches_what_it_is_for() {
    let mut labels = BTreeMap::new();
    labels.insert("job".to_owned(), "kubernetes-nodes".to_owned());
    labels.insert("instance".to_owned(), "n1".to_owned());
    let targets = vec![targets::Target {
        job: "kubernetes-nodes".into(),
        labels,
        exporter: "kubelet".into(),
        honor_labels: false,
    }];
    let catalogs = catalogs();
    let world = promql::World {
        targets: &targets,
        catalogs: &catalogs,
        recorded: BTreeMap::new(),
    };
    let problems = |expr: &str| {
        let mut found = Vec::new();
        world.shape_of(expr, &mut found);
        found
    };
    assert!(
        problems("sum by (instance) (kubelet_running_pods{job=\"kubernetes-nodes\"})").is_empty()
    );
    assert!(
        !problems("kubelet_running_pods{job=\"kubelet\"}").is_empty(),
        "an unrendered job"
    );
    assert!(
        !problems("sum by (node) (kubelet_running_pods)").is_empty(),
        "a label the series lack"
    );
    assert!(!problems("kubelet_running_pods * on (pod) kubelet_running_pods").is_empty());
    assert!(!problems("no_such_metric").is_empty());
    assert!(
        !problems("rate(kubelet_running_pods[5m]").is_empty(),
        "bad syntax"
    );
    let mut found = Vec::new();
    let shape = world.shape_of("sum by (instance) (kubelet_running_pods) > 3", &mut found);
    assert_eq!(
        promql::missing(&shape, &["node".into()]),
        vec!["node".to_owned()]
    );
    assert!(promql::missing(&shape, &["instance".into()]).is_empty());
    let rules = r#"relabel: [{source_labels: [__meta_x], regex: "a;?(.*)", target_label: y, replacement: "v-$1"}, {action: keep, source_labels: [y], regex: v-.*}]"#;
    let rules = yaml::parse(rules).unwrap();
    let mut meta = BTreeMap::new();
    meta.insert("__meta_x".to_owned(), "a;b".to_owned());
    let out = targets::relabel(&rules["relabel"], meta.clone()).unwrap();
    assert_eq!(out["y"], "v-b");
    meta.insert("__meta_x".to_owned(), "zzz".to_owned());
    assert!(
        targets::relabel(&rules["relabel"], meta).is_none(),
        "keep drops"
    );
}

/// The labels the chart's job gives node-exporter's targets (from the rendered `prometheus.yml`),
/// job and instance left out; and the rendered recording rules. `None` without helm or the
/// real chart.
pub(crate) fn node_exporter_target(world: &World) -> Option<(BTreeMap<String, String>, String)> {
    if !crate::common::helm_available() || real_chart("prometheus").is_none() {
        return None;
    }
    let (objects, prometheus_yml, config) = rendered(world, &[]);
    let target = targets::targets(&prometheus_yml, &objects, &eks_objects())
        .into_iter()
        .find(|t| t.exporter == "node-exporter")
        .expect("a node-exporter target");
    assert_eq!(target.job, "kubernetes-service-endpoints");
    let mut labels = target.labels;
    labels.remove("job");
    labels.remove("instance");
    let recording = config["data"]["recording_rules.yml"]
        .as_str()
        .unwrap()
        .to_owned();
    Some((labels, recording))
}

/// Every alert eksmon renders by default: (name, expression).
pub(crate) fn alerting_rules(world: &World) -> Vec<(String, String)> {
    let text = crate::common::stdout_of(world.eksmon().args(["render", "prometheus"]));
    let values = yaml::parse(&text).unwrap();
    let groups = &values["serverFiles"]["alerting_rules.yml"]["groups"];
    groups
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_sequence().cloned().unwrap_or_default())
        .map(|r| {
            (
                r["alert"].as_str().unwrap().to_owned(),
                r["expr"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Prometheus's own parser has the last word on syntax: every panel query, written as a
/// recording rule, passes `promtool check rules`.
#[test]
fn promtool_parses_every_dashboard_query() {
    let Some(promtool) = crate::rules::prom_tool("promtool") else {
        return;
    };
    let world = World::new();
    let mut rules = Vec::new();
    for board in dashboards(&world) {
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                rules.push(serde_json::json!({
                    "record": format!("dashboard:query:{}", rules.len()),
                    "expr": target["expr"],
                }));
            }
        }
    }
    assert!(rules.len() >= 150, "{} queries", rules.len());
    let file = world.path().join("dashboard-queries.yml");
    let doc = serde_json::json!({"groups": [{"name": "dashboards", "rules": rules}]});
    std::fs::write(&file, doc.to_string()).unwrap();
    let output = std::process::Command::new(promtool)
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
