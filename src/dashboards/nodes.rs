//! The node boards, from node-exporter: every node by the USE method (utilisation,
//! saturation, errors), then one node in detail. Fargate nodes run no node-exporter and are
//! not on them.
//!
//! node-exporter's series carry the `node` they run on (the chart's service-endpoints job
//! copies the endpoint's node name), so the boards select and group by it.

use super::model::{Board, Link, Panel, Unit, Variable};
use super::{NODE_EXPORTER, uid};

/// Filesystems that hold data: not the kernel's memory-backed or read-only image mounts.
const REAL_FS: &str = r#"fstype!~"tmpfs|overlay|squashfs|ramfs|nsfs""#;
/// Block devices: EBS and instance store (nvme, xvd, sd) and virtio disks (vd, on hybrid and
/// other non-Nitro nodes); not loop or device-mapper layers.
const REAL_DISK: &str = r#"device=~"nvme.+|xvd.+|sd.+|vd.+""#;
/// Network interfaces that leave the node (not veths, the loopback or the CNI's bridges).
const REAL_NIC: &str = r#"device!~"lo|veth.+|eni.+|docker.+|cni.+|flannel.+|vxlan.+""#;

fn to_node() -> Link {
    Link {
        title: "Node detail",
        uid: uid::NODE,
        vars: vec![("node", "${__field.labels.node}")],
        column: None,
    }
}

pub(super) fn use_method() -> Board {
    let ne = NODE_EXPORTER;
    Board::new(
        uid::NODES,
        "Nodes / USE method",
        "Every node's utilisation and saturation of CPU, memory, network and disk (Brendan Gregg's USE method), to find the one that is short of something.",
    )
    .tag("nodes")
    .panel(
        Panel::timeseries("CPU utilisation", Unit::Ratio)
            .query(format!("1 - avg by (node) (rate(node_cpu_seconds_total{{{ne},mode=~\"idle|iowait|steal\"}}[5m]))"), "{{node}}")
            .range(0.0, 1.0)
            .link(to_node()),
    )
    .panel(
        Panel::timeseries("CPU saturation (load per core)", Unit::Short)
            .about("The 1-minute load average over the number of cores: above 1, runnable work waits for a CPU.")
            .query(format!("max by (node) (node_load1{{{ne}}}) / count by (node) (node_cpu_seconds_total{{{ne},mode=\"idle\"}})"), "{{node}}")
            .link(to_node()),
    )
    .panel(
        Panel::timeseries("Memory utilisation", Unit::Ratio)
            .query(format!("1 - max by (node) (node_memory_MemAvailable_bytes{{{ne}}}) / max by (node) (node_memory_MemTotal_bytes{{{ne}}})"), "{{node}}")
            .range(0.0, 1.0)
            .link(to_node()),
    )
    .panel(
        Panel::timeseries("Memory saturation (major page faults)", Unit::PerSecond)
            .about("Pages read back from disk because memory ran short.")
            .query(format!("max by (node) (rate(node_vmstat_pgmajfault{{{ne}}}[5m]))"), "{{node}}")
            .link(to_node()),
    )
    .panel(
        Panel::timeseries("Network utilisation", Unit::BytesPerSecond)
            .query(format!("sum by (node) (rate(node_network_receive_bytes_total{{{ne},{REAL_NIC}}}[5m]))"), "{{node}} received")
            .query(format!("sum by (node) (rate(node_network_transmit_bytes_total{{{ne},{REAL_NIC}}}[5m]))"), "{{node}} sent")
            .link(to_node()),
    )
    .panel(
        Panel::timeseries("Network saturation (drops)", Unit::PerSecond)
            .query(format!("sum by (node) (rate(node_network_receive_drop_total{{{ne},{REAL_NIC}}}[5m]) + rate(node_network_transmit_drop_total{{{ne},{REAL_NIC}}}[5m]))"), "{{node}}")
            .link(to_node()),
    )
    .panel(
        Panel::timeseries("Disk I/O utilisation", Unit::Ratio)
            .about("Share of time each node's busiest disk was busy.")
            .query(format!("max by (node) (rate(node_disk_io_time_seconds_total{{{ne},{REAL_DISK}}}[5m]))"), "{{node}}")
            .range(0.0, 1.0)
            .link(to_node()),
    )
    .panel(
        Panel::timeseries("Disk I/O saturation (queue)", Unit::Short)
            .about("Average number of I/O requests waiting on each node's busiest disk; for EBS, compare with the volume's IOPS.")
            .query(format!("max by (node) (rate(node_disk_io_time_weighted_seconds_total{{{ne},{REAL_DISK}}}[5m]))"), "{{node}}")
            .link(to_node()),
    )
    .panel(
        Panel::bargauge("Fullest filesystem", Unit::Ratio)
            .query(format!("max by (node) (1 - node_filesystem_avail_bytes{{{ne},{REAL_FS}}} / node_filesystem_size_bytes{{{ne},{REAL_FS}}})"), "{{node}}")
            .range(0.0, 1.0)
            .steps(&[(0.8, "orange"), (0.9, "red")]),
    )
    .panel(
        Panel::bargauge("Network errors", Unit::PerSecond)
            .query(format!("sum by (node) (rate(node_network_receive_errs_total{{{ne},{REAL_NIC}}}[5m]) + rate(node_network_transmit_errs_total{{{ne},{REAL_NIC}}}[5m]))"), "{{node}}")
            .steps(&[(1.0, "red")]),
    )
}

pub(super) fn node() -> Board {
    let ne = format!("{NODE_EXPORTER},node=\"$node\"");
    let stat = |title, unit, query: String| Panel::stat(title, unit).query(query, "").size(4, 4);
    Board::new(
        uid::NODE,
        "Nodes / Node detail",
        "One node from node-exporter: CPU by mode, memory, disks, filesystems, network and the kernel's limits.",
    )
    .tag("nodes")
    .variable(Variable::one(
        "node",
        "Node",
        format!("label_values(node_uname_info{{{NODE_EXPORTER}}}, node)"),
    ))
    .panel(stat("Up for", Unit::Seconds, format!("max(time() - node_boot_time_seconds{{{ne}}})")))
    .panel(stat("Cores", Unit::Short, format!("count(node_cpu_seconds_total{{{ne},mode=\"idle\"}})")))
    .panel(stat("Memory", Unit::Bytes, format!("max(node_memory_MemTotal_bytes{{{ne}}})")))
    .panel(
        Panel::gauge("CPU busy", Unit::Ratio)
            .query(format!("1 - avg(rate(node_cpu_seconds_total{{{ne},mode=~\"idle|iowait|steal\"}}[5m]))"), "")
            .steps(&[(0.8, "orange"), (0.9, "red")]),
    )
    .panel(
        Panel::gauge("Memory used", Unit::Ratio)
            .query(format!("1 - max(node_memory_MemAvailable_bytes{{{ne}}}) / max(node_memory_MemTotal_bytes{{{ne}}})"), "")
            .steps(&[(0.8, "orange"), (0.9, "red")]),
    )
    .panel(
        Panel::gauge("Root filesystem used", Unit::Ratio)
            .query(format!("1 - max(node_filesystem_avail_bytes{{{ne},mountpoint=\"/\"}}) / max(node_filesystem_size_bytes{{{ne},mountpoint=\"/\"}})"), "")
            .steps(&[(0.8, "orange"), (0.9, "red")]),
    )
    .panel(
        Panel::timeseries("CPU by mode", Unit::Ratio)
            .query(format!("sum by (mode) (rate(node_cpu_seconds_total{{{ne},mode!=\"idle\"}}[5m])) / scalar(count(node_cpu_seconds_total{{{ne},mode=\"idle\"}}))"), "{{mode}}")
            .stacked(),
    )
    .panel(
        Panel::timeseries("Load average", Unit::Short)
            .query(format!("max(node_load1{{{ne}}})"), "1m")
            .query(format!("max(node_load5{{{ne}}})"), "5m")
            .query(format!("max(node_load15{{{ne}}})"), "15m")
            .query(format!("count(node_cpu_seconds_total{{{ne},mode=\"idle\"}})"), "cores"),
    )
    .panel(
        Panel::timeseries("Memory", Unit::Bytes)
            .query(format!("max(node_memory_MemTotal_bytes{{{ne}}} - node_memory_MemAvailable_bytes{{{ne}}})"), "used")
            .query(format!("max(node_memory_Buffers_bytes{{{ne}}} + node_memory_Cached_bytes{{{ne}}})"), "page cache and buffers")
            .query(format!("max(node_memory_MemFree_bytes{{{ne}}})"), "free")
            .query(format!("max(node_memory_MemTotal_bytes{{{ne}}})"), "total"),
    )
    .panel(
        Panel::timeseries("Disk throughput", Unit::BytesPerSecond)
            .query(format!("sum by (device) (rate(node_disk_read_bytes_total{{{ne},{REAL_DISK}}}[5m]))"), "{{device}} read")
            .query(format!("sum by (device) (rate(node_disk_written_bytes_total{{{ne},{REAL_DISK}}}[5m]))"), "{{device}} written"),
    )
    .panel(
        Panel::timeseries("Disk operations", Unit::PerSecond)
            .about("Compare with the EBS volume's provisioned IOPS (gp3: 3000 unless raised).")
            .query(format!("sum by (device) (rate(node_disk_reads_completed_total{{{ne},{REAL_DISK}}}[5m]))"), "{{device}} reads")
            .query(format!("sum by (device) (rate(node_disk_writes_completed_total{{{ne},{REAL_DISK}}}[5m]))"), "{{device}} writes"),
    )
    .panel(
        Panel::timeseries("Disk busy", Unit::Ratio)
            .query(format!("sum by (device) (rate(node_disk_io_time_seconds_total{{{ne},{REAL_DISK}}}[5m]))"), "{{device}}")
            .range(0.0, 1.0),
    )
    .panel(
        Panel::table("Filesystems", Unit::Bytes)
            .query(format!("max by (mountpoint, device, fstype) (node_filesystem_size_bytes{{{ne},{REAL_FS}}})"), "size")
            .query(format!("max by (mountpoint, device, fstype) (node_filesystem_avail_bytes{{{ne},{REAL_FS}}})"), "available")
            .size(12, 8),
    )
    .panel(
        Panel::timeseries("Network traffic", Unit::BytesPerSecond)
            .query(format!("sum by (device) (rate(node_network_receive_bytes_total{{{ne},{REAL_NIC}}}[5m]))"), "{{device}} received")
            .query(format!("sum by (device) (rate(node_network_transmit_bytes_total{{{ne},{REAL_NIC}}}[5m]))"), "{{device}} sent"),
    )
    .panel(
        Panel::timeseries("Network errors and drops", Unit::PerSecond)
            .query(format!("sum by (device) (rate(node_network_receive_errs_total{{{ne},{REAL_NIC}}}[5m]))"), "{{device}} receive errors")
            .query(format!("sum by (device) (rate(node_network_transmit_errs_total{{{ne},{REAL_NIC}}}[5m]))"), "{{device}} send errors")
            .query(format!("sum by (device) (rate(node_network_receive_drop_total{{{ne},{REAL_NIC}}}[5m]))"), "{{device}} receive drops"),
    )
    .panel(
        Panel::timeseries("File descriptors", Unit::Short)
            .query(format!("max(node_filefd_allocated{{{ne}}})"), "allocated")
            .query(format!("max(node_filefd_maximum{{{ne}}})"), "maximum"),
    )
    .panel(
        Panel::timeseries("Context switches and interrupts", Unit::PerSecond)
            .query(format!("max(rate(node_context_switches_total{{{ne}}}[5m]))"), "context switches")
            .query(format!("max(rate(node_intr_total{{{ne}}}[5m]))"), "interrupts"),
    )
}
