//! The platform boards: the API server (what EKS's managed control plane exposes), the
//! kubelets, pod networking, CoreDNS, the AWS VPC CNI, and the seed's API endpoints panel.

use super::model::{Board, Panel, Unit, Variable};
use super::{APISERVER, AWS_NODE, CADVISOR, COREDNS, KSM, KUBELET, uid};

/// The 99th percentile of a histogram `metric` (without `_bucket`) over 5 minutes, `by`.
fn p99(metric: &str, selector: &str, by: &str) -> String {
    let by = if by.is_empty() {
        "le".to_owned()
    } else {
        format!("{by}, le")
    };
    format!("histogram_quantile(0.99, sum by ({by}) (rate({metric}_bucket{{{selector}}}[5m])))")
}

pub(super) fn apiserver() -> Board {
    let api = APISERVER;
    Board::new(
        uid::APISERVER,
        "Kubernetes / API server",
        "The EKS API server from its own metrics: traffic, errors, latency, priority and fairness, admission webhooks and etcd. AWS runs it; these tell you whether it is your clients or AWS's side.",
    )
    .tag("kubernetes")
    .panel(
        Panel::stat("API servers answering", Unit::Short)
            .query(format!("sum(up{{{api}}}) or vector(0)"), "")
            .steps(&[])
            .size(6, 4),
    )
    .panel(
        Panel::stat("Requests", Unit::PerSecond)
            .query(format!("sum(rate(apiserver_request_total{{{api}}}[5m]))"), "")
            .size(6, 4),
    )
    .panel(
        Panel::stat("Errors (5xx)", Unit::Ratio)
            .query(format!("sum(rate(apiserver_request_total{{{api},code=~\"5..\"}}[5m])) / sum(rate(apiserver_request_total{{{api}}}[5m]))"), "")
            .steps(&[(0.01, "orange"), (0.03, "red")])
            .size(6, 4),
    )
    .panel(
        Panel::stat("Requests rejected by priority and fairness", Unit::PerSecond)
            .query(format!("sum(rate(apiserver_flowcontrol_rejected_requests_total{{{api}}}[5m])) or vector(0)"), "")
            .steps(&[(0.01, "orange")])
            .size(6, 4),
    )
    .panel(
        Panel::timeseries("Requests by code", Unit::PerSecond)
            .query(format!("sum by (code) (rate(apiserver_request_total{{{api}}}[5m]))"), "{{code}}")
            .stacked(),
    )
    .panel(
        Panel::timeseries("Requests by verb", Unit::PerSecond)
            .query(format!("sum by (verb) (rate(apiserver_request_total{{{api}}}[5m]))"), "{{verb}}")
            .stacked(),
    )
    .panel(
        Panel::timeseries("Latency by verb (p99)", Unit::Seconds)
            .about("Long-running requests (WATCH, CONNECT) are left out: they last as long as the client wants.")
            .query(p99("apiserver_request_duration_seconds", &format!("{api},verb!~\"WATCH|CONNECT\""), "verb"), "{{verb}}"),
    )
    .panel(
        Panel::timeseries("Slowest resources (p99)", Unit::Seconds)
            .query(format!("topk(10, {})", p99("apiserver_request_duration_seconds", &format!("{api},verb!~\"WATCH|CONNECT\""), "resource, verb")), "{{verb}} {{resource}}"),
    )
    .panel(
        Panel::timeseries("Requests in flight", Unit::Short)
            .query(format!("sum by (request_kind) (apiserver_current_inflight_requests{{{api}}})"), "{{request_kind}}"),
    )
    .panel(
        Panel::timeseries("Priority and fairness: queued and rejected", Unit::Short)
            .query(format!("sum by (priority_level) (apiserver_flowcontrol_current_inqueue_requests{{{api}}})"), "{{priority_level}} queued")
            .query(format!("sum by (priority_level) (rate(apiserver_flowcontrol_rejected_requests_total{{{api}}}[5m]))"), "{{priority_level}} rejected/s"),
    )
    .panel(
        Panel::timeseries("Admission webhook latency (p99)", Unit::Seconds)
            .about("A slow or failing webhook slows or fails every request it matches.")
            .query(p99("apiserver_admission_webhook_admission_duration_seconds", api, "name"), "{{name}}"),
    )
    .panel(
        Panel::timeseries("etcd request latency (p99)", Unit::Seconds)
            .query(p99("etcd_request_duration_seconds", api, "operation"), "{{operation}}"),
    )
    .panel(
        Panel::timeseries("Objects stored, by resource (top 10)", Unit::Short)
            .query(format!("topk(10, max by (resource) (apiserver_resource_objects{{{api}}}))"), "{{resource}}"),
    )
    .panel(
        Panel::timeseries("Watchers and long-running requests", Unit::Short)
            .query(format!("sum by (verb) (apiserver_longrunning_requests{{{api}}})"), "{{verb}}"),
    )
}

pub(super) fn kubelet() -> Board {
    let kubelet = format!("{KUBELET},node=~\"$node\"");
    Board::new(
        uid::KUBELET,
        "Kubernetes / Kubelet",
        "The kubelets of the EC2 nodes: pods and containers they run, how fast they start them, the container runtime, volume operations and evictions.",
    )
    .tag("kubernetes")
    .variable(Variable::many(
        "node",
        "Node",
        format!("label_values(kubelet_node_name{{{KUBELET}}}, node)"),
    ))
    .panel(Panel::stat("Kubelets up", Unit::Short).query(format!("sum(up{{{kubelet}}})"), "").size(6, 4))
    .panel(Panel::stat("Pods", Unit::Short).query(format!("sum(kubelet_running_pods{{{kubelet}}})"), "").size(6, 4))
    .panel(Panel::stat("Containers running", Unit::Short).query(format!("sum(kubelet_running_containers{{{kubelet},container_state=\"running\"}})"), "").size(6, 4))
    .panel(
        Panel::stat("Evictions (1h)", Unit::Short)
            .query(format!("sum(increase(kubelet_evictions{{{kubelet}}}[1h])) or vector(0)"), "")
            .steps(&[(1.0, "orange")])
            .size(6, 4),
    )
    .panel(
        Panel::timeseries("Pods by node", Unit::Short)
            .query(format!("sum by (node) (kubelet_running_pods{{{kubelet}}})"), "{{node}}"),
    )
    .panel(
        Panel::timeseries("Pod start (p99)", Unit::Seconds)
            .about("From the kubelet seeing a pod to its containers running, image pulls included.")
            .query(p99("kubelet_pod_start_duration_seconds", &kubelet, "node"), "{{node}}"),
    )
    .panel(
        Panel::timeseries("Container runtime operations", Unit::PerSecond)
            .query(format!("sum by (operation_type) (rate(kubelet_runtime_operations_total{{{kubelet}}}[5m]))"), "{{operation_type}}"),
    )
    .panel(
        Panel::timeseries("Container runtime errors", Unit::PerSecond)
            .query(format!("sum by (node, operation_type) (rate(kubelet_runtime_operations_errors_total{{{kubelet}}}[5m]))"), "{{node}} {{operation_type}}"),
    )
    .panel(
        Panel::timeseries("Pod lifecycle relist (p99)", Unit::Seconds)
            .about("How long the kubelet takes to see what its containers are doing; above 10s the node is marked not ready.")
            .query(p99("kubelet_pleg_relist_duration_seconds", &kubelet, "node"), "{{node}}"),
    )
    .panel(
        Panel::timeseries("Volume operations (p99)", Unit::Seconds)
            .query(p99("storage_operation_duration_seconds", &kubelet, "operation_name"), "{{operation_name}}"),
    )
    .panel(
        Panel::timeseries("Kubelet memory", Unit::Bytes)
            .query(format!("max by (node) (process_resident_memory_bytes{{{kubelet}}})"), "{{node}}"),
    )
    .panel(
        Panel::timeseries("Kubelet CPU", Unit::Cores)
            .query(format!("max by (node) (rate(process_cpu_seconds_total{{{kubelet}}}[5m]))"), "{{node}}"),
    )
}

/// A cAdvisor network counter's rate in the selected namespaces, summed `by`.
fn network_rate(metric: &str, by: &str) -> String {
    format!("sum by ({by}) (rate({metric}{{{CADVISOR},namespace=~\"$namespace\"}}[5m]))")
}

const RECEIVED: &str = "container_network_receive_bytes_total";
const SENT: &str = "container_network_transmit_bytes_total";
const RECEIVE_DROPS: &str = "container_network_receive_packets_dropped_total";
const SEND_DROPS: &str = "container_network_transmit_packets_dropped_total";

/// The networking board's first line: totals over the selected namespaces.
fn network_totals() -> Vec<Panel> {
    let drops = format!(
        "{} + {}",
        network_rate(RECEIVE_DROPS, ""),
        network_rate(SEND_DROPS, "")
    );
    vec![
        Panel::stat("Received", Unit::BytesPerSecond).query(network_rate(RECEIVED, ""), ""),
        Panel::stat("Sent", Unit::BytesPerSecond).query(network_rate(SENT, ""), ""),
        Panel::stat("Packets dropped", Unit::PerSecond)
            .query(drops, "")
            .steps(&[(1.0, "orange")]),
        Panel::stat("Receive errors", Unit::PerSecond)
            .query(
                network_rate("container_network_receive_errors_total", ""),
                "",
            )
            .steps(&[(1.0, "red")]),
    ]
    .into_iter()
    .map(|panel| panel.size(6, 4))
    .collect()
}

pub(super) fn networking() -> Board {
    let top = |metric: &str| format!("topk(10, {})", network_rate(metric, "namespace, pod"));
    Board::new(
        uid::NETWORKING,
        "Kubernetes / Networking",
        "Pod network traffic, packets and drops, by namespace and by pod, from cAdvisor.",
    )
    .tag("kubernetes")
    .variable(Variable::many(
        "namespace",
        "Namespace",
        format!("label_values(kube_namespace_status_phase{{{KSM}}}, namespace)"),
    ))
    .panels(network_totals())
    .panel(
        Panel::timeseries("Received by namespace", Unit::BytesPerSecond)
            .query(network_rate(RECEIVED, "namespace"), "{{namespace}}")
            .stacked(),
    )
    .panel(
        Panel::timeseries("Sent by namespace", Unit::BytesPerSecond)
            .query(network_rate(SENT, "namespace"), "{{namespace}}")
            .stacked(),
    )
    .panel(
        Panel::timeseries("Top pods received", Unit::BytesPerSecond)
            .query(top(RECEIVED), "{{namespace}}/{{pod}}"),
    )
    .panel(
        Panel::timeseries("Top pods sent", Unit::BytesPerSecond)
            .query(top(SENT), "{{namespace}}/{{pod}}"),
    )
    .panel(
        Panel::timeseries("Packets received by namespace", Unit::PerSecond).query(
            network_rate("container_network_receive_packets_total", "namespace"),
            "{{namespace}}",
        ),
    )
    .panel(
        Panel::timeseries("Packets dropped by namespace", Unit::PerSecond)
            .query(
                network_rate(RECEIVE_DROPS, "namespace"),
                "{{namespace}} received",
            )
            .query(network_rate(SEND_DROPS, "namespace"), "{{namespace}} sent"),
    )
}

pub(super) fn coredns() -> Board {
    let dns = COREDNS;
    Board::new(
        uid::COREDNS,
        "CoreDNS",
        "Cluster DNS (EKS's CoreDNS add-on): queries, answers by response code, latency, cache and upstream forwarding.",
    )
    .tag("kubernetes")
    .panel(Panel::stat("CoreDNS pods up", Unit::Short).query(format!("sum(up{{{dns}}}) or vector(0)"), "").size(6, 4))
    .panel(Panel::stat("Queries", Unit::PerSecond).query(format!("sum(rate(coredns_dns_requests_total{{{dns}}}[5m]))"), "").size(6, 4))
    .panel(
        Panel::stat("Answered SERVFAIL", Unit::Ratio)
            .query(format!("sum(rate(coredns_dns_responses_total{{{dns},rcode=\"SERVFAIL\"}}[5m])) / sum(rate(coredns_dns_responses_total{{{dns}}}[5m]))"), "")
            .steps(&[(0.01, "orange"), (0.05, "red")])
            .size(6, 4),
    )
    .panel(
        Panel::stat("Cache hit ratio", Unit::Ratio)
            .query(format!("sum(rate(coredns_cache_hits_total{{{dns}}}[5m])) / (sum(rate(coredns_cache_hits_total{{{dns}}}[5m])) + sum(rate(coredns_cache_misses_total{{{dns}}}[5m])))"), "")
            .size(6, 4),
    )
    .panel(Panel::timeseries("Queries by type", Unit::PerSecond).query(format!("sum by (type) (rate(coredns_dns_requests_total{{{dns}}}[5m]))"), "{{type}}").stacked())
    .panel(Panel::timeseries("Answers by code", Unit::PerSecond).query(format!("sum by (rcode) (rate(coredns_dns_responses_total{{{dns}}}[5m]))"), "{{rcode}}").stacked())
    .panel(
        Panel::timeseries("Latency (p99)", Unit::Seconds)
            .query(p99("coredns_dns_request_duration_seconds", dns, "server"), "{{server}}"),
    )
    .panel(
        Panel::heatmap("Latency distribution")
            .query(format!("sum by (le) (increase(coredns_dns_request_duration_seconds_bucket{{{dns}}}[5m]))"), "{{le}}"),
    )
    .panel(
        Panel::timeseries("Cache", Unit::PerSecond)
            .query(format!("sum by (type) (rate(coredns_cache_hits_total{{{dns}}}[5m]))"), "hits {{type}}")
            .query(format!("sum(rate(coredns_cache_misses_total{{{dns}}}[5m]))"), "misses"),
    )
    .panel(
        Panel::timeseries("Forwarded upstream (p99)", Unit::Seconds)
            .about("Queries CoreDNS could not answer itself, sent on to the VPC resolver.")
            .query(p99("coredns_proxy_request_duration_seconds", dns, "to"), "{{to}}"),
    )
}

pub(super) fn vpc_cni() -> Board {
    let cni = AWS_NODE;
    Board::new(
        uid::VPC_CNI,
        "AWS VPC CNI",
        "The aws-node plugin's IP address management on each node: addresses assigned to pods, the warm pool, ENIs and the EC2 API calls behind them. When a node runs out, new pods there stay in ContainerCreating.",
    )
    .tag("aws")
    .panel(
        Panel::gauge("Pod IP addresses in use", Unit::Ratio)
            .about("Addresses assigned to pods over all addresses the nodes hold.")
            .query(format!("sum(awscni_assigned_ip_addresses{{{cni}}}) / sum(awscni_total_ip_addresses{{{cni}}})"), "")
            .steps(&[(0.8, "orange"), (0.9, "red")]),
    )
    .panel(Panel::stat("Addresses assigned", Unit::Short).query(format!("sum(awscni_assigned_ip_addresses{{{cni}}})"), ""))
    .panel(Panel::stat("Warm pool", Unit::Short).about("Addresses held but not yet given to a pod.").query(format!("sum(awscni_total_ip_addresses{{{cni}}} - awscni_assigned_ip_addresses{{{cni}}})"), ""))
    .panel(Panel::stat("ENIs attached", Unit::Short).query(format!("sum(awscni_eni_allocated{{{cni}}})"), ""))
    .panel(
        Panel::stat("EC2 API errors (1h)", Unit::Short)
            .query(format!("sum(increase(awscni_aws_api_error_count{{{cni}}}[1h])) or vector(0)"), "")
            .steps(&[(1.0, "orange")]),
    )
    .panel(Panel::stat("aws-node pods scraped", Unit::Short).query(format!("sum(up{{{cni}}}) or vector(0)"), ""))
    .panel(
        Panel::timeseries("Addresses by node", Unit::Short)
            .query(format!("max by (node) (awscni_assigned_ip_addresses{{{cni}}})"), "{{node}} assigned")
            .query(format!("max by (node) (awscni_total_ip_addresses{{{cni}}})"), "{{node}} held"),
    )
    .panel(
        Panel::timeseries("Warm pool by node", Unit::Short)
            .query(format!("max by (node) (awscni_total_ip_addresses{{{cni}}} - awscni_assigned_ip_addresses{{{cni}}})"), "{{node}}"),
    )
    .panel(
        Panel::bargauge("Addresses in use against the instance's maximum", Unit::Ratio)
            .about("When a node reaches its instance type's limit, only prefix delegation or a bigger instance gives it more.")
            .query(format!("max by (node) (awscni_assigned_ip_addresses{{{cni}}} / awscni_ip_max{{{cni}}})"), "{{node}}")
            .range(0.0, 1.0)
            .steps(&[(0.8, "orange"), (0.95, "red")]),
    )
    .panel(
        Panel::bargauge("ENIs against the instance's maximum", Unit::Ratio)
            .query(format!("max by (node) (awscni_eni_allocated{{{cni}}} / awscni_eni_max{{{cni}}})"), "{{node}}")
            .range(0.0, 1.0)
            .steps(&[(0.8, "orange"), (1.0, "red")]),
    )
    .panel(
        Panel::timeseries("EC2 API calls and errors", Unit::PerSecond)
            .query(format!("sum by (api) (rate(awscni_aws_api_latency_ms_count{{{cni}}}[5m]))"), "{{api}}")
            .query(format!("sum by (api) (rate(awscni_aws_api_error_count{{{cni}}}[5m]))"), "{{api}} errors"),
    )
    .panel(
        Panel::timeseries("ipamd errors", Unit::PerSecond)
            .query(format!("sum by (fn) (rate(awscni_ipamd_error_count{{{cni}}}[5m]))"), "{{fn}}"),
    )
}

pub(super) fn api_endpoints() -> Board {
    let endpoints = format!(
        "sum(kube_endpoint_address{{{KSM},namespace=\"default\",endpoint=\"kubernetes\"}})"
    );
    Board::new(
        uid::API_ENDPOINTS,
        "Kubernetes / API server endpoints",
        "Addresses behind the default/kubernetes Endpoints: one per API server instance EKS advertises to the cluster (the seed's panel).",
    )
    .tag("kubernetes")
    .panel(
        Panel::stat("API server endpoints", Unit::Short)
            .query(endpoints.clone(), "")
            .steps(&[(0.0, "red"), (2.0, "green")])
            .size(6, 8),
    )
    .panel(
        Panel::timeseries("API server endpoints over time", Unit::Short)
            .query(endpoints, "endpoints")
            .size(18, 8),
    )
}
