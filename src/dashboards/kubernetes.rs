//! The Kubernetes boards: the cluster, then compute resources by namespace, workload and pod
//! (each linking to the next), and persistent volumes.
//!
//! CPU and memory come from cAdvisor (`container!=""` leaves out the pod-level cgroups, which
//! would count every container twice); requests, limits and states from kube-state-metrics.
//! kube-state-metrics series go through `max by` where a second replica would double them.

use super::model::{Board, Link, Panel, Unit, Variable};
use super::{CADVISOR, KSM, KUBELET, uid};

fn namespace_variable() -> Variable {
    Variable::one(
        "namespace",
        "Namespace",
        format!("label_values(kube_namespace_status_phase{{{KSM}}}, namespace)"),
    )
}

fn to_namespace(column: Option<&'static str>) -> Link {
    Link {
        title: "Namespace resources",
        uid: uid::NAMESPACE,
        vars: vec![("namespace", "${__data.fields.namespace}")],
        column,
    }
}

fn to_pod(column: Option<&'static str>) -> Link {
    Link {
        title: "Pod resources",
        uid: uid::POD,
        vars: vec![
            ("namespace", "${__data.fields.namespace}"),
            ("pod", "${__data.fields.pod}"),
        ],
        column,
    }
}

/// CPU cores in use by the containers that `selector` picks, summed `by`.
fn cpu_usage(selector: &str, by: &str) -> String {
    format!(
        "sum by ({by}) (rate(container_cpu_usage_seconds_total{{{CADVISOR},container!=\"\"{selector}}}[5m]))"
    )
}

fn memory_usage(selector: &str, by: &str) -> String {
    format!(
        "sum by ({by}) (container_memory_working_set_bytes{{{CADVISOR},container!=\"\"{selector}}})"
    )
}

/// Requests or limits (`kind`) of `resource`, from kube-state-metrics, for running pods only.
fn allotted(kind: &str, resource: &str, selector: &str, by: &str) -> String {
    format!(
        "sum by ({by}) (max by (namespace, pod, container) (kube_pod_container_resource_{kind}{{{KSM},resource=\"{resource}\"{selector}}}) \
         * on (namespace, pod) group_left () max by (namespace, pod) (kube_pod_status_phase{{{KSM},phase=\"Running\"}} == 1))"
    )
}

pub(super) fn cluster() -> Board {
    let pods_in = |phases: &str| {
        format!(
            "count(max by (namespace, pod) (kube_pod_status_phase{{{KSM},phase=~\"{phases}\"}}) == 1) or vector(0)"
        )
    };
    Board::new(
        uid::CLUSTER,
        "Kubernetes / Cluster overview",
        "The whole cluster at a glance: nodes, pods, how much CPU and memory is used and promised, and where it goes by namespace.",
    )
    .tag("kubernetes")
    .panel(Panel::stat("Nodes", Unit::Short).query(format!("count(max by (node) (kube_node_info{{{KSM}}}))"), ""))
    .panel(
        Panel::stat("Nodes not ready", Unit::Short)
            .query(format!("count(max by (node) (kube_node_status_condition{{{KSM},condition=\"Ready\",status=\"true\"}}) == 0) or vector(0)"), "")
            .steps(&[(1.0, "red")]),
    )
    .panel(Panel::stat("Pods running", Unit::Short).query(pods_in("Running"), ""))
    .panel(
        Panel::stat("Pods pending or failed", Unit::Short)
            .query(pods_in("Pending|Failed"), "")
            .steps(&[(1.0, "orange")]),
    )
    .panel(
        Panel::gauge("CPU requested", Unit::Ratio)
            .about("CPU requests of running pods, over what the nodes can allocate. Above 100% new pods stay Pending.")
            .query(format!("{} / sum(kube_node_status_allocatable{{{KSM},resource=\"cpu\"}})", allotted("requests", "cpu", "", "")), "")
            .steps(&[(0.8, "orange"), (1.0, "red")]),
    )
    .panel(
        Panel::gauge("Memory requested", Unit::Ratio)
            .query(format!("{} / sum(kube_node_status_allocatable{{{KSM},resource=\"memory\"}})", allotted("requests", "memory", "", "")), "")
            .steps(&[(0.8, "orange"), (1.0, "red")]),
    )
    .panel(
        Panel::timeseries("CPU used by namespace", Unit::Cores)
            .query(cpu_usage("", "namespace"), "{{namespace}}")
            .stacked()
            .link(to_namespace(None)),
    )
    .panel(
        Panel::timeseries("Memory used by namespace", Unit::Bytes)
            .about("Working set: what the kernel cannot reclaim, and what the OOM killer compares with the limit.")
            .query(memory_usage("", "namespace"), "{{namespace}}")
            .stacked()
            .link(to_namespace(None)),
    )
    .panel(
        Panel::timeseries("CPU used and allocatable", Unit::Cores)
            .query(cpu_usage("", ""), "used")
            .query(allotted("requests", "cpu", "", ""), "requested")
            .query(format!("sum(kube_node_status_allocatable{{{KSM},resource=\"cpu\"}})"), "allocatable"),
    )
    .panel(
        Panel::timeseries("Memory used and allocatable", Unit::Bytes)
            .query(memory_usage("", ""), "used")
            .query(allotted("requests", "memory", "", ""), "requested")
            .query(format!("sum(kube_node_status_allocatable{{{KSM},resource=\"memory\"}})"), "allocatable"),
    )
    .panel(
        Panel::table("Namespaces", Unit::Short)
            .about("Select a namespace to see its pods.")
            .query(format!("count by (namespace) (max by (namespace, pod) (kube_pod_status_phase{{{KSM},phase=\"Running\"}}) == 1)"), "pods")
            .query(cpu_usage("", "namespace"), "CPU")
            .query(memory_usage("", "namespace"), "memory")
            .link(to_namespace(Some("namespace"))),
    )
    .panel(
        Panel::timeseries("Pods by phase", Unit::Short)
            .query(format!("sum by (phase) (max by (namespace, pod, phase) (kube_pod_status_phase{{{KSM}}}))"), "{{phase}}")
            .stacked(),
    )
    .panel(
        Panel::timeseries("Container restarts", Unit::Short)
            .about("Restarts in the last 10 minutes, by namespace.")
            .query(format!("sum by (namespace) (increase(kube_pod_container_status_restarts_total{{{KSM}}}[10m])) > 0"), "{{namespace}}"),
    )
}

pub(super) fn namespace() -> Board {
    let ns = ",namespace=\"$namespace\"";
    Board::new(
        uid::NAMESPACE,
        "Kubernetes / Compute resources / Namespace",
        "CPU, memory and network of every pod in one namespace, against their requests and limits.",
    )
    .tag("kubernetes")
    .variable(namespace_variable())
    .panel(Panel::stat("Pods running", Unit::Short).query(format!("count(max by (pod) (kube_pod_status_phase{{{KSM},phase=\"Running\"{ns}}}) == 1) or vector(0)"), ""))
    .panel(Panel::stat("CPU used", Unit::Cores).query(cpu_usage(ns, "namespace"), ""))
    .panel(Panel::stat("CPU requested", Unit::Cores).query(allotted("requests", "cpu", ns, "namespace"), ""))
    .panel(Panel::stat("Memory used", Unit::Bytes).query(memory_usage(ns, "namespace"), ""))
    .panel(Panel::stat("Memory requested", Unit::Bytes).query(allotted("requests", "memory", ns, "namespace"), ""))
    .panel(Panel::stat("Memory limits", Unit::Bytes).query(allotted("limits", "memory", ns, "namespace"), ""))
    .panel(
        Panel::timeseries("CPU by pod", Unit::Cores)
            .query(cpu_usage(ns, "namespace, pod"), "{{pod}}")
            .link(to_pod(None)),
    )
    .panel(
        Panel::timeseries("Memory by pod", Unit::Bytes)
            .query(memory_usage(ns, "namespace, pod"), "{{pod}}")
            .link(to_pod(None)),
    )
    .panel(
        Panel::table("Pods", Unit::Short)
            .about("Select a pod to see its containers.")
            .query(cpu_usage(ns, "namespace, pod"), "CPU")
            .query(allotted("requests", "cpu", ns, "namespace, pod"), "CPU requested")
            .query(memory_usage(ns, "namespace, pod"), "memory")
            .query(allotted("requests", "memory", ns, "namespace, pod"), "memory requested")
            .link(to_pod(Some("pod"))),
    )
    .panel(
        Panel::timeseries("Received by pod", Unit::BytesPerSecond)
            .query(format!("sum by (pod) (rate(container_network_receive_bytes_total{{{CADVISOR}{ns}}}[5m]))"), "{{pod}}"),
    )
    .panel(
        Panel::timeseries("Sent by pod", Unit::BytesPerSecond)
            .query(format!("sum by (pod) (rate(container_network_transmit_bytes_total{{{CADVISOR}{ns}}}[5m]))"), "{{pod}}"),
    )
}

/// The pods (value 1, by namespace and pod) that the `$kind` named `$workload` owns: directly,
/// or through its ReplicaSets for a Deployment.
fn workload_pods() -> String {
    let ns = "namespace=\"$namespace\"";
    format!(
        "max by (namespace, pod) (\
         label_replace(kube_pod_owner{{{KSM},{ns},owner_kind=\"ReplicaSet\"}}, \"replicaset\", \"$1\", \"owner_name\", \"(.+)\") \
         * on (namespace, replicaset) group_left () max by (namespace, replicaset) (kube_replicaset_owner{{{KSM},{ns},owner_kind=\"$kind\",owner_name=\"$workload\"}}) \
         or kube_pod_owner{{{KSM},{ns},owner_kind=\"$kind\",owner_name=\"$workload\"}})"
    )
}

pub(super) fn workload() -> Board {
    let of_workload = |metric_query: String| {
        format!(
            "{metric_query} * on (namespace, pod) group_left () {}",
            workload_pods()
        )
    };
    let ns = ",namespace=\"$namespace\"";
    Board::new(
        uid::WORKLOAD,
        "Kubernetes / Compute resources / Workload",
        "One Deployment, StatefulSet, DaemonSet or Job: its pods' CPU, memory and network, and its replicas.",
    )
    .tag("kubernetes")
    .variable(namespace_variable())
    .variable(Variable::custom("kind", "Kind", &["Deployment", "StatefulSet", "DaemonSet", "Job"]))
    .variable(Variable::one(
        "workload",
        "Workload",
        format!("label_values({{__name__=~\"kube_replicaset_owner|kube_pod_owner\",{KSM}{ns},owner_kind=\"$kind\"}}, owner_name)"),
    ))
    .panel(Panel::stat("Pods", Unit::Short).query(format!("count({})", workload_pods()), ""))
    .panel(Panel::stat("Ready pods", Unit::Short).query(format!("sum({})", of_workload(format!("max by (namespace, pod) (kube_pod_status_ready{{{KSM},condition=\"true\"{ns}}})"))), ""))
    .panel(
        Panel::stat("Restarts (1h)", Unit::Short)
            .query(format!("sum({}) or vector(0)", of_workload(format!("sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{{{KSM}{ns}}}[1h]))"))), "")
            .steps(&[(1.0, "orange")]),
    )
    .panel(
        Panel::timeseries("CPU by pod", Unit::Cores)
            .query(of_workload(cpu_usage(ns, "namespace, pod")), "{{pod}}")
            .link(to_pod(None)),
    )
    .panel(
        Panel::timeseries("Memory by pod", Unit::Bytes)
            .query(of_workload(memory_usage(ns, "namespace, pod")), "{{pod}}")
            .link(to_pod(None)),
    )
    .panel(
        Panel::timeseries("Received by pod", Unit::BytesPerSecond)
            .query(of_workload(format!("sum by (namespace, pod) (rate(container_network_receive_bytes_total{{{CADVISOR}{ns}}}[5m]))")), "{{pod}}"),
    )
    .panel(
        Panel::timeseries("Sent by pod", Unit::BytesPerSecond)
            .query(of_workload(format!("sum by (namespace, pod) (rate(container_network_transmit_bytes_total{{{CADVISOR}{ns}}}[5m]))")), "{{pod}}"),
    )
}

pub(super) fn pod() -> Board {
    let pod = ",namespace=\"$namespace\",pod=\"$pod\"";
    let by_container = |kind: &str, resource: &str| {
        format!(
            "max by (container) (kube_pod_container_resource_{kind}{{{KSM},resource=\"{resource}\"{pod}}})"
        )
    };
    Board::new(
        uid::POD,
        "Kubernetes / Compute resources / Pod",
        "One pod's containers: CPU against requests and limits, throttling, memory, network and restarts.",
    )
    .tag("kubernetes")
    .variable(namespace_variable())
    .variable(Variable::one(
        "pod",
        "Pod",
        format!("label_values(kube_pod_info{{{KSM},namespace=\"$namespace\"}}, pod)"),
    ))
    .panel(Panel::stat("Node", Unit::Short).query(format!("max by (node) (kube_pod_info{{{KSM}{pod}}})"), "{{node}}").size(6, 4))
    .panel(Panel::stat("Ready", Unit::Short).query(format!("max(kube_pod_status_ready{{{KSM},condition=\"true\"{pod}}})"), "").steps(&[]).size(6, 4))
    .panel(Panel::stat("Restarts", Unit::Short).query(format!("sum(max by (container) (kube_pod_container_status_restarts_total{{{KSM}{pod}}}))"), "").steps(&[(1.0, "orange")]).size(6, 4))
    .panel(Panel::stat("Running for", Unit::Seconds).query(format!("time() - max(kube_pod_start_time{{{KSM}{pod}}})"), "").size(6, 4))
    .panel(
        Panel::timeseries("CPU by container", Unit::Cores)
            .query(cpu_usage(pod, "container"), "{{container}}")
            .query(by_container("requests", "cpu"), "{{container}} requested")
            .query(by_container("limits", "cpu"), "{{container}} limit"),
    )
    .panel(
        Panel::timeseries("CPU throttled", Unit::Ratio)
            .about("Share of CFS periods in which a container wanted more CPU than its limit allowed.")
            .query(format!(
                "sum by (container) (increase(container_cpu_cfs_throttled_periods_total{{{CADVISOR},container!=\"\"{pod}}}[5m])) \
                 / sum by (container) (increase(container_cpu_cfs_periods_total{{{CADVISOR},container!=\"\"{pod}}}[5m]))"
            ), "{{container}}")
            .range(0.0, 1.0),
    )
    .panel(
        Panel::timeseries("Memory by container", Unit::Bytes)
            .query(memory_usage(pod, "container"), "{{container}} working set")
            .query(format!("sum by (container) (container_memory_rss{{{CADVISOR},container!=\"\"{pod}}})"), "{{container}} RSS")
            .query(by_container("requests", "memory"), "{{container}} requested")
            .query(by_container("limits", "memory"), "{{container}} limit"),
    )
    .panel(
        Panel::timeseries("Network", Unit::BytesPerSecond)
            .query(format!("sum(rate(container_network_receive_bytes_total{{{CADVISOR}{pod}}}[5m]))"), "received")
            .query(format!("sum(rate(container_network_transmit_bytes_total{{{CADVISOR}{pod}}}[5m]))"), "sent"),
    )
    .panel(
        Panel::table("Containers", Unit::Short)
            .about("Why each container last stopped, and how often it restarted.")
            .query(format!("max by (container) (kube_pod_container_status_restarts_total{{{KSM}{pod}}})"), "restarts")
            .query(format!("max by (container, reason) (kube_pod_container_status_last_terminated_reason{{{KSM}{pod}}})"), "last stop")
            .query(format!("max by (container, reason) (kube_pod_container_status_waiting_reason{{{KSM}{pod}}})"), "waiting"),
    )
    .panel(
        Panel::timeseries("Disk I/O", Unit::BytesPerSecond)
            .query(format!("sum by (container) (rate(container_fs_reads_bytes_total{{{CADVISOR},container!=\"\"{pod}}}[5m]))"), "{{container}} read")
            .query(format!("sum by (container) (rate(container_fs_writes_bytes_total{{{CADVISOR},container!=\"\"{pod}}}[5m]))"), "{{container}} written")
            .size(24, 8),
    )
}

pub(super) fn volumes() -> Board {
    let claim = ",namespace=\"$namespace\"";
    Board::new(
        uid::VOLUMES,
        "Kubernetes / Persistent volumes",
        "How full the claims of a namespace are, in bytes and inodes, and claims or volumes stuck in a bad phase.",
    )
    .tag("kubernetes")
    .variable(namespace_variable())
    .panel(
        Panel::stat("Claims not bound", Unit::Short)
            .query(format!("count(max by (namespace, persistentvolumeclaim) (kube_persistentvolumeclaim_status_phase{{{KSM},phase!=\"Bound\"}}) == 1) or vector(0)"), "")
            .steps(&[(1.0, "orange")])
            .size(6, 4),
    )
    .panel(
        Panel::stat("Volumes failed or pending", Unit::Short)
            .query(format!("count(max by (persistentvolume) (kube_persistentvolume_status_phase{{{KSM},phase=~\"Failed|Pending\"}}) == 1) or vector(0)"), "")
            .steps(&[(1.0, "red")])
            .size(6, 4),
    )
    .panel(
        Panel::stat("Requested in the namespace", Unit::Bytes)
            .query(format!("sum(max by (persistentvolumeclaim) (kube_persistentvolumeclaim_resource_requests_storage_bytes{{{KSM}{claim}}}))"), "")
            .size(6, 4),
    )
    .panel(
        Panel::stat("Claims in the namespace", Unit::Short)
            .query(format!("count(max by (persistentvolumeclaim) (kube_persistentvolumeclaim_info{{{KSM}{claim}}}))"), "")
            .size(6, 4),
    )
    .panel(
        Panel::bargauge("Space used", Unit::Ratio)
            .query(format!("max by (persistentvolumeclaim) (1 - kubelet_volume_stats_available_bytes{{{KUBELET}{claim}}} / kubelet_volume_stats_capacity_bytes{{{KUBELET}{claim}}})"), "{{persistentvolumeclaim}}")
            .range(0.0, 1.0)
            .steps(&[(0.8, "orange"), (0.95, "red")]),
    )
    .panel(
        Panel::bargauge("Inodes used", Unit::Ratio)
            .query(format!("max by (persistentvolumeclaim) (kubelet_volume_stats_inodes_used{{{KUBELET}{claim}}} / kubelet_volume_stats_inodes{{{KUBELET}{claim}}})"), "{{persistentvolumeclaim}}")
            .range(0.0, 1.0)
            .steps(&[(0.8, "orange"), (0.95, "red")]),
    )
    .panel(
        Panel::timeseries("Space used over time", Unit::Bytes)
            .query(format!("max by (persistentvolumeclaim) (kubelet_volume_stats_used_bytes{{{KUBELET}{claim}}})"), "{{persistentvolumeclaim}} used")
            .query(format!("max by (persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes{{{KUBELET}{claim}}})"), "{{persistentvolumeclaim}} capacity"),
    )
    .panel(
        Panel::table("Claims", Unit::Short)
            .query(format!("max by (persistentvolumeclaim, storageclass, volumename) (kube_persistentvolumeclaim_info{{{KSM}{claim}}})"), "claim")
            .query(format!("max by (persistentvolumeclaim, phase) (kube_persistentvolumeclaim_status_phase{{{KSM}{claim}}} == 1)"), "phase")
            .size(12, 8),
    )
}
