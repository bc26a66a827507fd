//! The node dashboards and node alerts on real data: Debian's node-exporter and Prometheus
//! (from scripts/fetch-tools) run on 127.0.0.1; Prometheus scrapes the exporter under the job
//! name and with the labels the chart's node-exporter job gives its targets (derived from the
//! rendered `prometheus.yml`, as the label contract does) and loads eksmon's recording rules.
//! Then every query of the node boards, and every node alert with its thresholds taken away,
//! must return series through Prometheus's HTTP API.

use crate::common::World;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server started for the test, stopped when dropped (also when an assertion fails).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(binary: &std::path::Path, args: &[String]) -> Server {
    Server(
        Command::new(binary)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("{}: {err}", binary.display())),
    )
}

/// The result vector of an instant query, or why there is none (the server not up yet).
fn try_query(port: u16, expr: &str) -> Result<Vec<serde_json::Value>, String> {
    let url = format!("http://127.0.0.1:{port}/api/v1/query");
    let mut answer = ureq::get(&url)
        .query("query", expr)
        .call()
        .map_err(|err| format!("{expr}: {err}"))?;
    let text = answer
        .body_mut()
        .read_to_string()
        .map_err(|err| err.to_string())?;
    let body: serde_json::Value = serde_json::from_str(&text).map_err(|err| err.to_string())?;
    assert_eq!(body["status"], "success", "{expr}: {body}");
    Ok(match &body["data"]["result"] {
        serde_json::Value::Array(series) => series.clone(),
        // A scalar or string result.
        other => vec![other.clone()],
    })
}

fn query(port: u16, expr: &str) -> Vec<serde_json::Value> {
    try_query(port, expr).unwrap_or_else(|err| panic!("{err}"))
}

/// `expr` with every comparison against a number made always true for a real value, so an
/// alert's expression returns every series it watches: what it returns once its threshold is
/// low enough.
fn without_thresholds(expr: &str) -> String {
    let comparison = regex::Regex::new(r"(==|!=|>=|<=|>|<)\s*-?[0-9][0-9.e+]*").unwrap();
    comparison.replace_all(expr, "> -Inf").into_owned()
}

fn wait_for(port: u16, expr: &str, deadline: Instant) {
    while try_query(port, expr).unwrap_or_default().is_empty() {
        assert!(Instant::now() < deadline, "no data for `{expr}` in time");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn node_dashboards_and_alerts_return_real_data() {
    let tool = crate::rules::prom_tool;
    let (Some(prometheus), Some(exporter)) = (tool("prometheus"), tool("prometheus-node-exporter"))
    else {
        return;
    };
    let world = World::new();
    let Some((labels, recording)) = crate::contract::node_exporter_target(&world) else {
        return;
    };
    let node = labels["node"].clone();
    let (exporter_port, prometheus_port) = (free_port(), free_port());
    // The loopback counts too (Debian leaves it out by default): this machine's only traffic
    // is the scrapes on it, and error ratios need packets to divide by.
    let _exporter = start(
        &exporter,
        &[
            format!("--web.listen-address=127.0.0.1:{exporter_port}"),
            "--collector.netdev.device-exclude=^$".to_owned(),
        ],
    );
    std::fs::write(world.path().join("recording_rules.yml"), recording).unwrap();
    let static_labels: BTreeMap<&str, &str> = labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let config = serde_json::json!({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [world.path().join("recording_rules.yml")],
        "scrape_configs": [{
            "job_name": "kubernetes-service-endpoints",
            "static_configs": [{"targets": [format!("127.0.0.1:{exporter_port}")], "labels": static_labels}],
        }],
    });
    // JSON is YAML: Prometheus reads it as its configuration file.
    std::fs::write(world.path().join("prometheus.yml"), config.to_string()).unwrap();
    let _prometheus = start(
        &prometheus,
        &[
            format!(
                "--config.file={}",
                world.path().join("prometheus.yml").display()
            ),
            format!(
                "--storage.tsdb.path={}",
                world.path().join("data").display()
            ),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    // Rates need two samples, deriv and predict_linear too; recording rules a few rounds.
    wait_for(
        prometheus_port,
        "count_over_time(up{job=\"kubernetes-service-endpoints\"}[1m]) >= 6",
        deadline,
    );
    wait_for(
        prometheus_port,
        "instance:node_cpu_utilisation:rate5m",
        deadline,
    );

    let mut empty = Vec::new();
    let mut checked = 0;
    let boards: Vec<serde_json::Value> = crate::contract::dashboards(&world)
        .into_iter()
        .filter(|b| matches!(b["uid"].as_str(), Some("eksmon-nodes" | "eksmon-node")))
        .collect();
    assert_eq!(boards.len(), 2);
    for board in &boards {
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap().replace("$node", &node);
                checked += 1;
                if query(prometheus_port, &expr).is_empty() {
                    empty.push(format!("{} / {}: {expr}", board["uid"], panel["title"]));
                }
            }
        }
    }
    let alerts = crate::contract::alerting_rules(&world);
    let node_alerts: Vec<&(String, String)> = alerts
        .iter()
        .filter(|(_, expr)| expr.contains("node_") && !expr.contains("kube_"))
        .collect();
    assert!(node_alerts.len() >= 15, "{node_alerts:?}");
    for (alert, expr) in node_alerts {
        checked += 1;
        let lowered = without_thresholds(expr);
        if query(prometheus_port, &lowered).is_empty() {
            empty.push(format!("{alert}: {lowered}"));
        }
    }
    assert!(checked >= 50, "{checked} queries");
    assert!(
        empty.is_empty(),
        "no data on a real node-exporter:\n{}",
        empty.join("\n")
    );
}

#[test]
fn thresholds_are_taken_away_only_from_comparisons() {
    assert_eq!(
        without_thresholds("rate(x[5m]) / rate(y[5m]) > 0.01 and on (a) z == 0"),
        "rate(x[5m]) / rate(y[5m]) > -Inf and on (a) z > -Inf"
    );
    assert_eq!(
        without_thresholds("(a * 100 < 15) and predict_linear(b[6h], 24 * 3600) < 0 or c < -0.05"),
        "(a * 100 > -Inf) and predict_linear(b[6h], 24 * 3600) > -Inf or c > -Inf"
    );
}
