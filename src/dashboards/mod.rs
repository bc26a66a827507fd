//! eksmon's own Grafana dashboards, written as code in this folder and shipped in the binary:
//! nothing is downloaded at start-up, so they work on clusters without egress.
//!
//! Every query names the scrape jobs the prometheus chart renders with eksmon's values (the
//! selectors below) and the labels those jobs give their series; `tests/cli/contract.rs` checks
//! each one against the rendered `prometheus.yml` and the exporters' metric lists. The boards
//! query raw series only, never eksmon's recording rules, so they keep working with
//! `alerting.rules: none` and on an AMP workspace fed by an agent.

mod kubernetes;
pub(crate) mod model;
mod monitoring;
mod nodes;
mod platform;

use crate::settings::{Dashboard, DashboardChoice, GrafanaDatasource, Settings};
pub(crate) use model::{Board, DataSource};

/// Grafana's plugin for querying AMP with SigV4 (Grafana's core Prometheus data source dropped
/// SigV4).
pub(crate) const AMP_PLUGIN: &str = "grafana-amazonprometheus-datasource";
/// kube-state-metrics, scraped by the chart's service-endpoints job.
pub(crate) const KSM: &str =
    r#"job="kubernetes-service-endpoints",app_kubernetes_io_name="kube-state-metrics""#;
/// node-exporter, scraped by the chart's service-endpoints job.
pub(crate) const NODE_EXPORTER: &str =
    r#"job="kubernetes-service-endpoints",app_kubernetes_io_name="prometheus-node-exporter""#;
/// The kubelet's own metrics.
pub(crate) const KUBELET: &str = r#"job="kubernetes-nodes""#;
/// cAdvisor, inside the kubelet.
pub(crate) const CADVISOR: &str = r#"job="kubernetes-nodes-cadvisor""#;
/// The API server (EKS's managed one, through the `kubernetes` Service).
pub(crate) const APISERVER: &str = r#"job="kubernetes-api-servers""#;
/// CoreDNS: EKS's `kube-dns` Service carries the scrape annotations.
pub(crate) const COREDNS: &str = r#"job="kubernetes-service-endpoints",k8s_app="kube-dns""#;
/// The VPC CNI's ipamd, eksmon's own `aws-node` job.
pub(crate) const AWS_NODE: &str = r#"job="aws-node""#;
/// Prometheus itself.
pub(crate) const PROMETHEUS: &str = r#"job="prometheus""#;
/// Alertmanager's pods, through the chart's pods job (eksmon annotates them).
pub(crate) const ALERTMANAGER: &str =
    r#"job="kubernetes-pods",app_kubernetes_io_name="alertmanager""#;

/// Board uids, stable across releases: links and bookmarks name them.
pub(crate) mod uid {
    pub(crate) const CLUSTER: &str = "eksmon-cluster";
    pub(crate) const NAMESPACE: &str = "eksmon-namespace";
    pub(crate) const WORKLOAD: &str = "eksmon-workload";
    pub(crate) const POD: &str = "eksmon-pod";
    pub(crate) const NODES: &str = "eksmon-nodes";
    pub(crate) const NODE: &str = "eksmon-node";
    pub(crate) const VOLUMES: &str = "eksmon-volumes";
    pub(crate) const APISERVER: &str = "eksmon-apiserver";
    pub(crate) const KUBELET: &str = "eksmon-kubelet";
    pub(crate) const NETWORKING: &str = "eksmon-networking";
    pub(crate) const COREDNS: &str = "eksmon-coredns";
    pub(crate) const VPC_CNI: &str = "eksmon-vpc-cni";
    pub(crate) const PROMETHEUS: &str = "eksmon-prometheus";
    pub(crate) const ALERTMANAGER: &str = "eksmon-alertmanager";
    pub(crate) const API_ENDPOINTS: &str = "eksmon-api-endpoints";
}

/// The board for one of eksmon's dashboards.
pub(crate) fn board(which: Dashboard) -> Board {
    match which {
        Dashboard::KubernetesCluster => kubernetes::cluster(),
        Dashboard::NamespaceResources => kubernetes::namespace(),
        Dashboard::WorkloadResources => kubernetes::workload(),
        Dashboard::PodResources => kubernetes::pod(),
        Dashboard::PersistentVolumes => kubernetes::volumes(),
        Dashboard::Nodes => nodes::use_method(),
        Dashboard::NodeExporter => nodes::node(),
        Dashboard::Apiserver => platform::apiserver(),
        Dashboard::Kubelet => platform::kubelet(),
        Dashboard::Networking => platform::networking(),
        Dashboard::Coredns => platform::coredns(),
        Dashboard::AwsVpcCni => platform::vpc_cni(),
        Dashboard::ApiEndpoints => platform::api_endpoints(),
        Dashboard::Prometheus => monitoring::prometheus(),
        Dashboard::Alertmanager => monitoring::alertmanager(),
    }
}

/// What Grafana provisions for the settings: eksmon's boards (Alertmanager's only when it is
/// installed) and the grafana.com dashboards the profile names by id, in the profile's order.
pub(crate) fn selected(s: &Settings) -> Vec<&DashboardChoice> {
    s.grafana
        .dashboards
        .iter()
        .filter(|choice| {
            !matches!(choice, DashboardChoice::Bundled(Dashboard::Alertmanager))
                || s.alertmanager_installed()
        })
        .collect()
}

/// The data source the boards select by default, and the plugin their variable lists.
pub(crate) fn data_source(s: &Settings) -> DataSource<'static> {
    // An agent answers no queries: AMP is then the only source, under the uid `prometheus`.
    if s.grafana.datasource == GrafanaDatasource::Amp && s.agent_mode() {
        return DataSource {
            plugin: AMP_PLUGIN,
            uid: "prometheus",
        };
    }
    DataSource {
        plugin: "prometheus",
        uid: "prometheus",
    }
}

/// The dashboard JSON for one of eksmon's boards, compact (it goes into a ConfigMap). Made once
/// per board and data source in a process: the boards are fixed, and a render makes fifteen.
pub(crate) fn json(which: Dashboard, source: DataSource<'static>) -> String {
    type Made = std::collections::BTreeMap<(Dashboard, &'static str, &'static str), String>;
    static MADE: std::sync::Mutex<Made> = std::sync::Mutex::new(Made::new());
    let mut made = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    made.entry((which, source.plugin, source.uid))
        .or_insert_with(|| board(which).to_json(source).to_string())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_board_is_complete() {
        let mut uids = Vec::new();
        let mut panels = 0;
        for which in Dashboard::ALL {
            let board = board(which);
            assert!(board.uid.starts_with("eksmon-"), "{}", board.uid);
            assert!(!board.description.is_empty(), "{}", board.uid);
            uids.push(board.uid);
            for panel in &board.panels {
                assert!(
                    !panel.queries.is_empty(),
                    "{}: {} has no query",
                    board.uid,
                    panel.title
                );
            }
            panels += board.panels.len();
        }
        let count = uids.len();
        uids.sort_unstable();
        uids.dedup();
        assert_eq!(uids.len(), count, "uids are unique");
        assert!(panels >= 80, "{panels} panels");
    }

    #[test]
    fn links_point_at_boards_that_exist() {
        let uids: Vec<&str> = Dashboard::ALL.iter().map(|d| board(*d).uid).collect();
        for which in Dashboard::ALL {
            for panel in board(which).panels {
                for link in panel.links {
                    assert!(uids.contains(&link.uid), "{}: {}", panel.title, link.uid);
                }
            }
        }
    }
}
