//! The scrape targets of a rendered `prometheus.yml`, and the labels their series carry.
//!
//! Each job's service discovery is fed the objects it would find on an EKS cluster: the
//! Services and pods the real chart renders (through `helm template`) and the objects EKS
//! itself runs (`eks-objects.yaml`: nodes, CoreDNS's Service, the aws-node pod, the API
//! server's Service). The job's own `relabel_configs` then run on them, with Prometheus's
//! semantics, so the labels come from the rendered configuration, not from a list kept by hand.

use eksmon::yaml::Value;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};

/// One scrape target after relabeling.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub job: String,
    /// The target's labels (job and instance included).
    pub labels: BTreeMap<String, String>,
    /// Which metric list (tests/metrics) its series come from.
    pub exporter: String,
    pub honor_labels: bool,
}

/// Prometheus's label-name sanitising for meta labels (`app.kubernetes.io/name` → `app_kubernetes_io_name`).
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn string_map(value: &Value) -> Vec<(String, String)> {
    value
        .as_mapping()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let value = match v {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    Some((k.as_str()?.to_owned(), value))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn add_meta(
    meta: &mut BTreeMap<String, String>,
    prefix: &str,
    pairs: &[(String, String)],
    with_present: bool,
) {
    for (k, v) in pairs {
        meta.insert(format!("{prefix}_{}", sanitize(k)), v.clone());
        if with_present {
            meta.insert(format!("{prefix}present_{}", sanitize(k)), "true".into());
        }
    }
}

/// What a Service's endpoints look like to `role: endpointslice`, one per port.
fn service_endpoints(service: &Value) -> Vec<(BTreeMap<String, String>, String)> {
    let namespace = service["metadata"]["namespace"]
        .as_str()
        .unwrap_or("prometheus");
    let name = service["metadata"]["name"].as_str().unwrap_or_default();
    let labels = string_map(&service["metadata"]["labels"]);
    let annotations = string_map(&service["metadata"]["annotations"]);
    let exporter = exporter_of(&labels, name);
    let ports = service["spec"]["ports"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    ports
        .iter()
        .map(|port| {
            let mut meta = BTreeMap::new();
            let number = port["targetPort"]
                .as_u64()
                .or(port["port"].as_u64())
                .unwrap_or(80);
            meta.insert("__address__".into(), format!("10.0.1.7:{number}"));
            meta.insert("__meta_kubernetes_namespace".into(), namespace.to_owned());
            meta.insert("__meta_kubernetes_service_name".into(), name.to_owned());
            meta.insert(
                "__meta_kubernetes_endpointslice_port_name".into(),
                port["name"].as_str().unwrap_or_default().to_owned(),
            );
            if name != "kubernetes" {
                meta.insert(
                    "__meta_kubernetes_pod_node_name".into(),
                    "ip-10-0-1-7.ec2.internal".into(),
                );
                meta.insert("__meta_kubernetes_pod_name".into(), format!("{name}-0"));
            }
            add_meta(&mut meta, "__meta_kubernetes_service_label", &labels, true);
            add_meta(
                &mut meta,
                "__meta_kubernetes_service_annotation",
                &annotations,
                true,
            );
            // kube-state-metrics serves its own health on a second port.
            let exporter = match (exporter.as_str(), port["name"].as_str()) {
                ("kube-state-metrics", Some("metrics")) => {
                    "kube-state-metrics-telemetry".to_owned()
                }
                _ => exporter.clone(),
            };
            (meta, exporter)
        })
        .collect()
}

fn exporter_of(labels: &[(String, String)], name: &str) -> String {
    let label = |key: &str| {
        labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    match (label("app.kubernetes.io/name"), label("k8s-app"), name) {
        (_, _, "kubernetes") => "kube-apiserver",
        (Some("prometheus-node-exporter"), _, _) => "node-exporter",
        (Some(other), _, _) => other,
        (_, Some("kube-dns"), _) => "coredns",
        (_, Some(other), _) => other,
        _ => "unknown",
    }
    .to_owned()
}

/// What a pod looks like to `role: pod`: one target per container port (or per container).
fn pod_targets(
    pod: &Value,
    namespace: &str,
    name: &str,
) -> Vec<(BTreeMap<String, String>, String)> {
    let labels = string_map(&pod["metadata"]["labels"]);
    let annotations = string_map(&pod["metadata"]["annotations"]);
    let exporter = exporter_of(&labels, name);
    let mut targets = Vec::new();
    for container in pod["spec"]["containers"]
        .as_sequence()
        .cloned()
        .unwrap_or_default()
    {
        let ports = container["ports"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        let ports: Vec<Option<u64>> = if ports.is_empty() {
            vec![None]
        } else {
            ports.iter().map(|p| p["containerPort"].as_u64()).collect()
        };
        for port in ports {
            let mut meta = BTreeMap::new();
            let address = port.map_or("10.0.2.9".to_owned(), |p| format!("10.0.2.9:{p}"));
            meta.insert("__address__".into(), address);
            meta.insert("__meta_kubernetes_namespace".into(), namespace.to_owned());
            meta.insert("__meta_kubernetes_pod_name".into(), format!("{name}-0"));
            meta.insert("__meta_kubernetes_pod_ip".into(), "10.0.2.9".into());
            meta.insert("__meta_kubernetes_pod_phase".into(), "Running".into());
            meta.insert(
                "__meta_kubernetes_pod_node_name".into(),
                "ip-10-0-1-7.ec2.internal".into(),
            );
            meta.insert(
                "__meta_kubernetes_pod_container_name".into(),
                container["name"].as_str().unwrap_or_default().to_owned(),
            );
            add_meta(&mut meta, "__meta_kubernetes_pod_label", &labels, true);
            add_meta(
                &mut meta,
                "__meta_kubernetes_pod_annotation",
                &annotations,
                true,
            );
            targets.push((meta, exporter.clone()));
        }
    }
    targets
}

/// What a node looks like to `role: node`.
fn node_target(node: &Value) -> BTreeMap<String, String> {
    let name = node["metadata"]["name"].as_str().unwrap_or_default();
    let mut meta = BTreeMap::new();
    meta.insert("__address__".into(), "10.0.1.7:10250".into());
    meta.insert("__meta_kubernetes_node_name".into(), name.to_owned());
    add_meta(
        &mut meta,
        "__meta_kubernetes_node_label",
        &string_map(&node["metadata"]["labels"]),
        true,
    );
    meta
}

/// Every workload's pod template, and bare pods, with their namespace and name.
fn pods(objects: &[Value]) -> Vec<(Value, String, String)> {
    objects
        .iter()
        .filter_map(|o| {
            let kind = o["kind"].as_str()?;
            let template = match kind {
                "Pod" => o.clone(),
                "Deployment" | "StatefulSet" | "DaemonSet" => o["spec"]["template"].clone(),
                _ => return None,
            };
            let namespace = o["metadata"]["namespace"]
                .as_str()
                .unwrap_or("prometheus")
                .to_owned();
            let name = o["metadata"]["name"].as_str()?.to_owned();
            Some((template, namespace, name))
        })
        .collect()
}

/// Runs one job's `relabel_configs` on a target's meta labels: `None` when dropped.
pub(super) fn relabel(
    rules: &Value,
    mut labels: BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    for rule in rules.as_sequence().cloned().unwrap_or_default() {
        let action = rule["action"].as_str().unwrap_or("replace");
        let pattern = match &rule["regex"] {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "(.*)".to_owned(),
            other => format!("{other:?}"),
        };
        let regex = Regex::new(&format!("^(?:{pattern})$")).expect("a relabel regex");
        let separator = rule["separator"].as_str().unwrap_or(";");
        let source: Vec<String> = rule["source_labels"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|l| l.as_str())
                    .map(|l| labels.get(l).cloned().unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        let joined = source.join(separator);
        let replacement = rule["replacement"].as_str().unwrap_or("$1").to_owned();
        match action {
            "keep" if !regex.is_match(&joined) => return None,
            "drop" if regex.is_match(&joined) => return None,
            "replace" => {
                let Some(captures) = regex.captures(&joined) else {
                    continue;
                };
                let target = rule["target_label"]
                    .as_str()
                    .expect("replace needs target_label");
                let mut value = String::new();
                captures.expand(&replacement, &mut value);
                if value.is_empty() {
                    labels.remove(target);
                } else {
                    labels.insert(target.to_owned(), value);
                }
            }
            "labelmap" => {
                let mapped: Vec<(String, String)> = labels
                    .iter()
                    .filter_map(|(name, value)| {
                        let captures = regex.captures(name)?;
                        let mut new_name = String::new();
                        captures.expand(&replacement, &mut new_name);
                        Some((new_name, value.clone()))
                    })
                    .collect();
                labels.extend(mapped);
            }
            "labeldrop" => labels.retain(|name, _| !regex.is_match(name)),
            "labelkeep" => labels.retain(|name, _| regex.is_match(name)),
            _ => {}
        }
    }
    Some(labels)
}

/// Every target of every job in `prometheus_yml`, fed the chart's objects and EKS's.
pub(super) fn targets(
    prometheus_yml: &Value,
    chart_objects: &[Value],
    eks_objects: &[Value],
) -> Vec<Target> {
    let objects: Vec<Value> = chart_objects.iter().chain(eks_objects).cloned().collect();
    let services: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "Service").collect();
    let nodes: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "Node").collect();
    let mut found = Vec::new();
    for job in prometheus_yml["scrape_configs"]
        .as_sequence()
        .cloned()
        .unwrap_or_default()
    {
        let name = job["job_name"].as_str().unwrap_or_default().to_owned();
        let metrics_path = job["metrics_path"]
            .as_str()
            .unwrap_or("/metrics")
            .to_owned();
        let mut candidates: Vec<(BTreeMap<String, String>, String)> = Vec::new();
        for sd in job["kubernetes_sd_configs"]
            .as_sequence()
            .cloned()
            .unwrap_or_default()
        {
            let namespaces: Option<BTreeSet<String>> =
                sd["namespaces"]["names"].as_sequence().map(|n| {
                    n.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                });
            let in_scope = |ns: &str| namespaces.as_ref().is_none_or(|n| n.contains(ns));
            match sd["role"].as_str().unwrap_or_default() {
                "endpointslice" | "endpoints" => {
                    for service in &services {
                        let ns = service["metadata"]["namespace"]
                            .as_str()
                            .unwrap_or("prometheus");
                        if in_scope(ns) {
                            candidates.extend(service_endpoints(service));
                        }
                    }
                }
                "node" => {
                    let exporter = if metrics_path.ends_with("/cadvisor") {
                        "cadvisor"
                    } else {
                        "kubelet"
                    };
                    candidates.extend(nodes.iter().map(|n| (node_target(n), exporter.to_owned())));
                }
                "pod" => {
                    for (pod, ns, pod_name) in pods(&objects) {
                        if in_scope(&ns) {
                            candidates.extend(pod_targets(&pod, &ns, &pod_name));
                        }
                    }
                }
                _ => {}
            }
        }
        for statics in job["static_configs"]
            .as_sequence()
            .cloned()
            .unwrap_or_default()
        {
            for address in statics["targets"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
            {
                let mut meta: BTreeMap<String, String> =
                    string_map(&statics["labels"]).into_iter().collect();
                meta.insert(
                    "__address__".into(),
                    address.as_str().unwrap_or_default().to_owned(),
                );
                candidates.push((meta, name.clone()));
            }
        }
        for (mut meta, mut exporter) in candidates {
            meta.insert("__metrics_path__".into(), metrics_path.clone());
            meta.entry("job".into()).or_insert_with(|| name.clone());
            let Some(mut labels) = relabel(&job["relabel_configs"], meta) else {
                continue;
            };
            if let Some(address) = labels.get("__address__").cloned() {
                labels.entry("instance".into()).or_insert(address);
            }
            labels.retain(|k, _| !k.starts_with("__"));
            if exporter == "kube-apiserver" {
                // EKS's control-plane metrics API: the same Service, other paths.
                if metrics_path.contains("/ksh/") {
                    exporter = "kube-scheduler".into();
                } else if metrics_path.contains("/kcm/") {
                    exporter = "kube-controller-manager".into();
                }
            }
            found.push(Target {
                job: name.clone(),
                labels,
                exporter,
                honor_labels: job["honor_labels"].as_bool().unwrap_or(false),
            });
        }
    }
    found
}
