//! eksmon's alert and recording rules (`templates/rules/eks.yaml`, embedded), as the settings
//! select them: `alerting.rules`, `alerting.disabled`, and what is installed (no Alertmanager,
//! no alerts about it).
//!
//! Alerts that mean what an upstream mixin's alert means carry its name (kubernetes-mixin, and
//! the Prometheus, Alertmanager, kube-state-metrics and node mixins kube-prometheus ships), so
//! routes, silences and runbooks keyed by name carry over; their `runbook_url` is the
//! prometheus-operator runbook of that name. eksmon's own alerts link to its README.

use crate::settings::{RuleSet, Settings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const EKS_RULES: &str = include_str!("../templates/rules/eks.yaml");

/// The group about the scheduler and controller-manager, which EKS hides unless
/// `prometheus.eksControlPlane` scrapes its metrics API.
const CONTROL_PLANE_GROUP: &str = "eksmon.eks-control-plane";

/// Alerts about the path to Alertmanager: left out when Alertmanager is not installed.
const NEED_ALERTMANAGER: &[&str] = &[
    "PrometheusNotConnectedToAlertmanagers",
    "PrometheusErrorSendingAlertsToSomeAlertmanagers",
    "PrometheusNotificationQueueRunningFull",
    "AlertmanagerFailedReload",
    "AlertmanagerFailedToSendAlerts",
    "AlertmanagerDown",
];

/// Alerts renamed to their upstream name (old, new). For one release `alerting.disabled` still
/// takes the old name (with a warning), and `eksmon alerts` and the README show it.
pub(crate) const RENAMED: &[(&str, &str)] = &[
    ("NodeFilesystemAlmostFull", "NodeFilesystemAlmostOutOfSpace"),
    ("NodeFilesystemFull", "NodeFilesystemAlmostOutOfSpace"),
    ("NodeFilesystemFillingUp", "NodeFilesystemSpaceFillingUp"),
    (
        "NodeFilesystemFillingUpSoon",
        "NodeFilesystemSpaceFillingUp",
    ),
    (
        "NodeFilesystemInodesAlmostExhausted",
        "NodeFilesystemAlmostOutOfFiles",
    ),
    ("NodeCPUSaturated", "NodeCPUHighUsage"),
    ("NodeMemoryAlmostFull", "NodeMemoryHighUtilization"),
    ("NodeNetworkReceiveErrors", "NodeNetworkReceiveErrs"),
    ("NodeNetworkTransmitErrors", "NodeNetworkTransmitErrs"),
    (
        "NodeFileDescriptorsAlmostExhausted",
        "NodeFileDescriptorLimit",
    ),
    ("NodeDiskIOSaturated", "NodeDiskIOSaturation"),
    ("ContainerCPUThrottlingHigh", "CPUThrottlingHigh"),
    ("EKSNodePodCapacityNearlyFull", "KubeletTooManyPods"),
    (
        "KubePersistentVolumeFillingUpPredicted",
        "KubePersistentVolumeFillingUp",
    ),
    ("PrometheusTargetDown", "TargetDown"),
    ("PrometheusConfigReloadFailed", "PrometheusBadConfig"),
    ("PrometheusRuleEvaluationFailures", "PrometheusRuleFailures"),
    (
        "PrometheusErrorSendingAlerts",
        "PrometheusErrorSendingAlertsToSomeAlertmanagers",
    ),
    (
        "PrometheusRemoteWriteFailures",
        "PrometheusRemoteStorageFailures",
    ),
    ("AlertmanagerConfigReloadFailed", "AlertmanagerFailedReload"),
];

/// The upstream alerts eksmon's rules share a name (and meaning) with, by runbook group.
const UPSTREAM: &[(&str, &[&str])] = &[
    ("general", &["Watchdog", "TargetDown"]),
    (
        "node",
        &[
            "NodeFilesystemAlmostOutOfSpace",
            "NodeFilesystemSpaceFillingUp",
            "NodeFilesystemFilesFillingUp",
            "NodeFilesystemAlmostOutOfFiles",
            "NodeCPUHighUsage",
            "NodeMemoryHighUtilization",
            "NodeClockNotSynchronising",
            "NodeClockSkewDetected",
            "NodeNetworkReceiveErrs",
            "NodeNetworkTransmitErrs",
            "NodeFileDescriptorLimit",
            "NodeDiskIOSaturation",
        ],
    ),
    (
        "kubernetes",
        &[
            "KubeNodeNotReady",
            "KubeNodeUnreachable",
            "KubeNodePressure",
            "KubeNodeReadinessFlapping",
            "KubeNodeEviction",
            "KubeletDown",
            "KubeletInstanceUnreachable",
            "KubeletTooManyPods",
            "KubeletPlegDurationHigh",
            "KubeletPodStartUpLatencyHigh",
            "KubeletClientCertificateExpiration",
            "KubeletServerCertificateExpiration",
            "KubeletClientCertificateRenewalErrors",
            "KubeletServerCertificateRenewalErrors",
            "CPUThrottlingHigh",
            "KubeCPUOvercommit",
            "KubeMemoryOvercommit",
            "KubeCPUQuotaOvercommit",
            "KubeMemoryQuotaOvercommit",
            "KubeQuotaAlmostFull",
            "KubeQuotaFullyUsed",
            "KubeQuotaExceeded",
            "KubePodCrashLooping",
            "KubePodNotReady",
            "KubeContainerWaiting",
            "KubeDeploymentGenerationMismatch",
            "KubeDeploymentReplicasMismatch",
            "KubeDeploymentRolloutStuck",
            "KubeStatefulSetReplicasMismatch",
            "KubeStatefulSetGenerationMismatch",
            "KubeStatefulSetUpdateNotRolledOut",
            "KubeDaemonSetRolloutStuck",
            "KubeDaemonSetNotScheduled",
            "KubeDaemonSetMisScheduled",
            "KubeJobNotCompleted",
            "KubeJobFailed",
            "KubeHpaReplicasMismatch",
            "KubeHpaMaxedOut",
            "KubePdbNotEnoughHealthyPods",
            "KubePersistentVolumeFillingUp",
            "KubePersistentVolumeInodesFillingUp",
            "KubePersistentVolumeErrors",
            "KubeAPIDown",
            "KubeAPIInstanceUnreachable",
            "KubeAPITerminatedRequests",
            "KubeClientCertificateExpiration",
            "KubeAggregatedAPIDown",
            "KubeClientErrors",
            "KubeVersionMismatch",
            "KubeSchedulerDown",
            "KubeControllerManagerDown",
        ],
    ),
    (
        "kube-state-metrics",
        &["KubeStateMetricsListErrors", "KubeStateMetricsWatchErrors"],
    ),
    (
        "prometheus",
        &[
            "PrometheusBadConfig",
            "PrometheusRuleFailures",
            "PrometheusMissingRuleEvaluations",
            "PrometheusTSDBCompactionsFailing",
            "PrometheusTSDBReloadsFailing",
            "PrometheusNotificationQueueRunningFull",
            "PrometheusErrorSendingAlertsToSomeAlertmanagers",
            "PrometheusNotConnectedToAlertmanagers",
            "PrometheusRemoteWriteBehind",
            "PrometheusRemoteStorageFailures",
        ],
    ),
    (
        "alertmanager",
        &["AlertmanagerFailedReload", "AlertmanagerFailedToSendAlerts"],
    ),
];

/// Where eksmon's own alerts are explained unless `alerting.runbookBaseUrl` says otherwise: the
/// README's "Runbooks" section, one heading each.
pub(crate) const OWN_RUNBOOKS: &str = "https://github.com/eksmon/eksmon/blob/main/README.md";

/// The runbook for an alert: prometheus-operator's for upstream names, eksmon's README (at
/// `own`) else.
pub(crate) fn runbook_url(alert: &str, own: &str) -> String {
    match UPSTREAM.iter().find(|(_, names)| names.contains(&alert)) {
        Some((group, _)) => format!(
            "https://runbooks.prometheus-operator.dev/runbooks/{group}/{}",
            alert.to_ascii_lowercase()
        ),
        None => format!("{own}#{}", alert.to_ascii_lowercase()),
    }
}

/// Whether an alert carries an upstream mixin's name.
pub(crate) fn is_upstream(alert: &str) -> bool {
    UPSTREAM.iter().any(|(_, names)| names.contains(&alert))
}

/// The current name of an alert named `name` (itself, or what it was renamed to).
pub(crate) fn current_name(name: &str) -> &str {
    RENAMED
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| new)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    recording: Vec<Group>,
    alerting: Vec<Group>,
}

/// A rule group as Prometheus reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// One alerting or recording rule as Prometheus reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    pub expr: String,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

fn eks() -> &'static RuleFile {
    static PARSED: std::sync::OnceLock<RuleFile> = std::sync::OnceLock::new();
    PARSED.get_or_init(|| {
        // The file ships in the binary and a unit test parses it: it cannot fail here.
        crate::yaml::from_str(EKS_RULES).unwrap_or(RuleFile {
            recording: Vec::new(),
            alerting: Vec::new(),
        })
    })
}

/// Every alert eksmon's rule set has, once each (a name may have a warning and a critical
/// rule), for `alerting.disabled` and its suggestions.
pub(crate) fn alert_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = eks()
        .alerting
        .iter()
        .flat_map(|g| &g.rules)
        .filter_map(|r| r.alert.as_deref())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|name| seen.insert(*name));
    names
}

/// The recording and alerting groups the settings install (empty groups left out).
pub(crate) fn selected(s: &Settings) -> (Vec<Group>, Vec<Group>) {
    // An agent evaluates no rules.
    if s.alerting.rules == RuleSet::None || s.agent_mode() {
        return (Vec::new(), Vec::new());
    }
    let wanted = |rule: &Rule| {
        rule.alert.as_deref().is_none_or(|name| {
            !s.alerting
                .disabled
                .iter()
                .any(|d| current_name(d.as_str()) == name)
                && (s.alertmanager_installed() || !NEED_ALERTMANAGER.contains(&name))
        })
    };
    let own_runbooks = s
        .alerting
        .runbook_base_url
        .as_ref()
        .map_or(OWN_RUNBOOKS, |url| url.as_str());
    let with_runbook = |rule: &Rule| {
        let mut rule = rule.clone();
        if let Some(name) = &rule.alert {
            rule.annotations
                .insert("runbook_url".to_owned(), runbook_url(name, own_runbooks));
        }
        rule
    };
    let pick = |groups: &[Group]| -> Vec<Group> {
        groups
            .iter()
            .filter(|g| g.name != CONTROL_PLANE_GROUP || s.prometheus.eks_control_plane)
            .map(|g| Group {
                name: g.name.clone(),
                rules: g
                    .rules
                    .iter()
                    .filter(|r| wanted(r))
                    .map(with_runbook)
                    .collect(),
            })
            .filter(|g| !g.rules.is_empty())
            .collect()
    };
    let rules = eks();
    (pick(&rules.recording), pick(&rules.alerting))
}

/// The chart's `serverFiles` entries for the selected rules, or `None` when there are none.
pub(crate) fn server_files(s: &Settings) -> Option<serde_json::Value> {
    let (recording, alerting) = selected(s);
    if recording.is_empty() && alerting.is_empty() {
        return None;
    }
    Some(serde_json::json!({
        "recording_rules.yml": {"groups": recording},
        "alerting_rules.yml": {"groups": alerting},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_set_is_complete_and_well_formed() {
        let rules: RuleFile = crate::yaml::from_str(EKS_RULES).expect("eks.yaml parses");
        let alerts: Vec<&Rule> = rules.alerting.iter().flat_map(|g| &g.rules).collect();
        assert!(alerts.len() >= 50, "{} alerts", alerts.len());
        let mut names: Vec<(&str, Option<&String>)> = alerts
            .iter()
            .filter_map(|r| Some((r.alert.as_deref()?, r.labels.get("severity"))))
            .collect();
        assert_eq!(names.len(), alerts.len(), "every alerting rule is an alert");
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "one rule per alert and severity");
        for (old, new) in RENAMED {
            assert!(alert_names().contains(new), "{old} → {new}");
            assert!(!alert_names().contains(old), "{old} is gone");
        }
        for (_, upstream) in UPSTREAM {
            for name in *upstream {
                assert!(alert_names().contains(name), "{name} is not a rule");
            }
        }
        for rule in &alerts {
            let name = rule.alert.as_deref().unwrap_or_default();
            let severity = rule.labels.get("severity").map(String::as_str);
            assert!(
                matches!(severity, Some("critical" | "warning" | "info")),
                "{name}: severity {severity:?}"
            );
            for key in ["summary", "description"] {
                assert!(rule.annotations.contains_key(key), "{name}: no {key}");
            }
        }
        let recording: Vec<&Rule> = rules.recording.iter().flat_map(|g| &g.rules).collect();
        assert!(
            recording
                .iter()
                .all(|r| r.record.is_some() && r.alert.is_none())
        );
    }

    #[test]
    fn selection_follows_the_settings() {
        let mut s = Settings::default();
        let all = eks().alerting.iter().map(|g| g.rules.len()).sum::<usize>();
        let count = |s: &Settings| selected(s).1.iter().map(|g| g.rules.len()).sum::<usize>();
        let control_plane = eks()
            .alerting
            .iter()
            .filter(|g| g.name == CONTROL_PLANE_GROUP)
            .map(|g| g.rules.len())
            .sum::<usize>();
        assert!(control_plane >= 2);
        assert_eq!(count(&s), all - control_plane, "EKS hides it by default");
        s.prometheus.eks_control_plane = true;
        assert_eq!(count(&s), all);
        s.alerting.disabled = vec!["Watchdog".into(), "KubeJobFailed".into()];
        assert_eq!(count(&s), all - 2);
        let (_, alerting) = selected(&s);
        assert!(
            alerting.iter().all(|g| g.name != "eksmon.watchdog"),
            "empty groups go"
        );
        s.prometheus.alertmanager.enabled = false;
        assert_eq!(count(&s), all - 2 - NEED_ALERTMANAGER.len());
        s.alerting.rules = RuleSet::None;
        assert_eq!(server_files(&s), None);
    }

    #[test]
    fn old_names_still_disable_and_every_alert_has_a_runbook() {
        let mut s = Settings::default();
        s.alerting.disabled = vec!["ContainerCPUThrottlingHigh".into()];
        let (_, alerting) = selected(&s);
        let alerts: Vec<&Rule> = alerting.iter().flat_map(|g| &g.rules).collect();
        assert!(
            alerts
                .iter()
                .all(|r| r.alert.as_deref() != Some("CPUThrottlingHigh"))
        );
        for rule in &alerts {
            let url = &rule.annotations["runbook_url"];
            assert!(url.starts_with("https://"), "{url}");
        }
        assert_eq!(
            runbook_url("KubePodCrashLooping", OWN_RUNBOOKS),
            "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"
        );
        assert_eq!(
            runbook_url("TargetDown", OWN_RUNBOOKS),
            "https://runbooks.prometheus-operator.dev/runbooks/general/targetdown"
        );
        assert_eq!(
            runbook_url(
                "AwsVpcCniIpAddressesNearlyExhausted",
                "https://wiki.example.com/eksmon"
            ),
            "https://wiki.example.com/eksmon#awsvpccniipaddressesnearlyexhausted"
        );
        assert_eq!(current_name("PrometheusTargetDown"), "TargetDown");
        assert_eq!(current_name("Watchdog"), "Watchdog");
    }
}
