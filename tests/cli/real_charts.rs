//! Every value path eksmon renders is one the real chart knows (the pinned archives in
//! `../shared/charts`, subcharts included): it is in the chart's values, or its templates read it
//! (`.Values.a.b`, for the options values.yaml only documents in a comment). A misspelt or moved
//! key would otherwise be ignored by helm without a word.

use crate::common::World;
use eksmon::yaml::Value;
use std::path::{Path, PathBuf};

/// Subtrees whose keys are the user's (or the application's) own, not the chart's.
const FREE_FORM: &[&str] = &[
    // Alertmanager's own configuration file, which the chart writes out as given.
    "alertmanager.config",
    "grafana.ini",
    "datasources",
    "dashboardProviders",
    "dashboards",
];

/// A chart as this test reads it: its values (each subchart's under its name, as helm merges
/// them) and the text of its templates, per subchart ("" for the chart itself).
struct Chart {
    values: Value,
    templates: std::collections::BTreeMap<String, String>,
}

impl Chart {
    /// True when the templates read `path` (`server.persistentVolume.storageClass`, or inside
    /// a subchart `alertmanager.persistence.storageClass`).
    fn reads(&self, path: &str) -> bool {
        let in_chart = |name: &str, rest: &str| {
            let needle = format!(".Values.{rest}");
            // `.Values.a.bc` does not read `a.b`: the match must end where the name ends.
            self.templates.get(name).is_some_and(|text| {
                text.match_indices(&needle).any(|(at, _)| {
                    !text[at + needle.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                })
            })
        };
        let subchart = path
            .split_once('.')
            .filter(|(first, _)| self.templates.contains_key(*first));
        in_chart("", path)
            || subchart.is_some_and(|(name, rest)| in_chart(name, rest))
            || self.ranges_over_a_parent_of(path)
    }

    /// True when a template ranges over a map that holds `path` (`scrapeConfigs.<job>`): any
    /// key there is the chart's to read.
    fn ranges_over_a_parent_of(&self, path: &str) -> bool {
        let text = self.templates.get("").map_or("", String::as_str);
        path.match_indices('.').any(|(at, _)| {
            let map = &path[..at];
            [
                format!(":= $root.Values.{map} }}}}"),
                format!(":= .Values.{map} }}}}"),
            ]
            .iter()
            .any(|needle| text.contains(needle.as_str()))
        })
    }
}

fn templates_text(dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_dir() {
            text += &templates_text(&path);
        } else if let Ok(content) = std::fs::read_to_string(&path) {
            text += &content;
        }
    }
    text
}

/// The chart's values with each subchart's own values under its name (what helm merges).
fn chart_values(archive: &Path, scratch: &Path) -> Chart {
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(scratch)
        .status()
        .expect("tar");
    assert!(status.success());
    let name = archive
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit_once('-'))
        .map(|(name, _)| name.to_owned())
        .expect("NAME-VERSION.tgz");
    let root = scratch.join(&name);
    let read = |path: PathBuf| {
        eksmon::yaml::parse(&std::fs::read_to_string(&path).expect("values.yaml")).expect("YAML")
    };
    let mut values = read(root.join("values.yaml"));
    let mut templates = std::collections::BTreeMap::new();
    templates.insert(String::new(), templates_text(&root.join("templates")));
    if let Ok(subcharts) = std::fs::read_dir(root.join("charts")) {
        for subchart in subcharts.filter_map(Result::ok) {
            let sub_values = subchart.path().join("values.yaml");
            if !sub_values.is_file() {
                continue;
            }
            let key = subchart.file_name().to_string_lossy().into_owned();
            templates.insert(
                key.clone(),
                templates_text(&subchart.path().join("templates")),
            );
            let mut merged = read(sub_values);
            if let Some(overrides) = values.get(key.as_str()) {
                merge(&mut merged, overrides);
            }
            if let Value::Mapping(map) = &mut values {
                map.insert(Value::String(key), merged);
            }
        }
    }
    Chart { values, templates }
}

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (key, value) in over {
                match base.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// The paths of `rendered` that the chart's values do not have.
fn missing(rendered: &Value, chart: &Value, path: &str, out: &mut Vec<String>) {
    let free = FREE_FORM
        .iter()
        .any(|f| path == *f || path.starts_with(&format!("{f}.")))
        || path.ends_with("annotations")
        || path.ends_with("labels")
        // Kubernetes objects the charts write out whole (`toYaml`), checked by the API server's
        // schema instead (tests/cluster, and kubernetes-validate).
        || ["securityContext", "SecurityContext", "resources"]
            .iter()
            .any(|object| path.ends_with(object));
    let Value::Mapping(rendered) = rendered else {
        return;
    };
    match chart {
        // An empty map or null default: the chart takes whatever is given here.
        Value::Mapping(chart) if chart.is_empty() => {}
        Value::Null => {}
        Value::Mapping(chart) => {
            for (key, value) in rendered {
                let key_text = key.as_str().unwrap_or_default();
                let child = if path.is_empty() {
                    key_text.to_owned()
                } else {
                    format!("{path}.{key_text}")
                };
                match chart.get(key) {
                    Some(default) => missing(value, default, &child, out),
                    None if free => {}
                    None => out.push(child),
                }
            }
        }
        other => out.push(format!(
            "{path} (a map here, but the chart's default is {other:?})"
        )),
    }
}

#[test]
fn every_rendered_value_path_exists_in_the_real_chart() {
    let Some(dir) = crate::common::real_charts_dir() else {
        return;
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let prometheus = chart_values(
        &dir.join(&*crate::pins::archive("prometheus")),
        scratch.path(),
    );
    let grafana = chart_values(&dir.join(&*crate::pins::archive("grafana")), scratch.path());
    let world = World::new();
    // Between them, these render every optional part eksmon writes.
    let variants: &[&[&str]] = &[
        &["--profile", "example", "--exposure", "alb"],
        &[
            "--profile",
            "example",
            "--exposure",
            "alb",
            "--set",
            "alb.inboundCidrs=[10.0.0.0/8]",
            "--set",
            "alb.wafv2AclArn=arn:aws:wafv2:ap-northeast-2:123456789012:regional/webacl/mon/0a1b2c3d-1111-2222-3333-444455556666",
            "--set",
            "alb.auth={type: cognito, userPoolArn: 'arn:aws:cognito-idp:ap-northeast-2:123456789012:userpool/ap-northeast-2_AbCdEfGhI', userPoolClientId: 1example23456789, userPoolDomain: mon-auth}",
        ],
        &[
            "--profile",
            "example",
            "--exposure",
            "nlb",
            "--set",
            "nlb.certificateArn=arn:aws:acm:ap-northeast-2:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666",
            "--set",
            "nlb.sourceRanges=[10.0.0.0/8]",
            "--set",
            "grafana.loadBalancerName=mon-grafana",
        ],
        &[
            "--profile",
            "small",
            "--set",
            "grafana.dashboardSource=bundled",
        ],
        // AMP with IRSA: remote write with a keep rule, the server's role annotation, and
        // Grafana querying the workspace (its plugin and role); the EKS control-plane jobs and
        // their RBAC.
        &[
            "--profile",
            "example",
            "--set",
            "amp={workspaceId: ws-0a1b2c3d-1111-2222-3333-444455556666, region: ap-northeast-2, roleArn: 'arn:aws:iam::123456789012:role/amp', keepMetrics: [up, 'node_.*']}",
            "--set",
            "grafana.datasource=amp",
            "--set",
            "prometheus.eksControlPlane=true",
        ],
        // An agent on Pod Identity: the agent's flags and no rules or Alertmanager, the fixed
        // service account name, and AMP as Grafana's only source.
        &[
            "--profile",
            "example",
            "--set",
            "amp={remoteWriteUrl: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0a1b2c3d-1111-2222-3333-444455556666/api/v1/remote_write', region: eu-west-1, auth: podIdentity, agentMode: true}",
            "--set",
            "grafana.datasource=amp",
            "--set",
            "alerting.receivers=[]",
        ],
    ];
    let mut problems = Vec::new();
    for args in variants {
        for (chart, values) in [("prometheus", &prometheus), ("grafana", &grafana)] {
            let output = world
                .eksmon()
                .args(["render", chart])
                .args(*args)
                .output()
                .expect("render");
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let rendered = eksmon::yaml::parse(&String::from_utf8_lossy(&output.stdout))
                .expect("rendered YAML");
            let mut out = Vec::new();
            missing(&rendered, &values.values, "", &mut out);
            problems.extend(
                out.into_iter()
                    .filter(|p| !values.reads(p))
                    .map(|p| format!("{chart}: {p} ({args:?})")),
            );
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "paths the real charts do not have:\n{}",
        problems.join("\n")
    );
}
