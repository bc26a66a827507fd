//! eksmon's alert and recording rules (`templates/rules/eks.yaml`, embedded), as the settings
//! select them: `alerting.rules`, `alerting.disabled`, and what is installed (no Alertmanager,
//! no alerts about it).

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
    "PrometheusErrorSendingAlerts",
    "PrometheusNotificationQueueRunningFull",
    "AlertmanagerConfigReloadFailed",
    "AlertmanagerFailedToSendAlerts",
    "AlertmanagerDown",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    recording: Vec<Group>,
    alerting: Vec<Group>,
}

/// A rule group as Prometheus reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// One alerting or recording rule as Prometheus reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
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

/// Every alert eksmon's rule set has (for `alerting.disabled` and its suggestions).
pub fn alert_names() -> Vec<&'static str> {
    eks()
        .alerting
        .iter()
        .flat_map(|g| &g.rules)
        .filter_map(|r| r.alert.as_deref())
        .collect()
}

/// The recording and alerting groups the settings install (empty groups left out).
pub fn selected(s: &Settings) -> (Vec<Group>, Vec<Group>) {
    // An agent evaluates no rules.
    if s.alerting.rules == RuleSet::None || s.agent_mode() {
        return (Vec::new(), Vec::new());
    }
    let wanted = |rule: &Rule| {
        rule.alert.as_deref().is_none_or(|name| {
            !s.alerting.disabled.iter().any(|d| d == name)
                && (s.alertmanager_installed() || !NEED_ALERTMANAGER.contains(&name))
        })
    };
    let pick = |groups: &[Group]| -> Vec<Group> {
        groups
            .iter()
            .filter(|g| g.name != CONTROL_PLANE_GROUP || s.prometheus.eks_control_plane)
            .map(|g| Group {
                name: g.name.clone(),
                rules: g.rules.iter().filter(|r| wanted(r)).cloned().collect(),
            })
            .filter(|g| !g.rules.is_empty())
            .collect()
    };
    let rules = eks();
    (pick(&rules.recording), pick(&rules.alerting))
}

/// The chart's `serverFiles` entries for the selected rules, or `None` when there are none.
pub fn server_files(s: &Settings) -> Option<serde_json::Value> {
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
        let mut names: Vec<&str> = alerts.iter().filter_map(|r| r.alert.as_deref()).collect();
        assert_eq!(names.len(), alerts.len(), "every alerting rule is an alert");
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "alert names are unique");
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
        let all = alert_names().len();
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
}
