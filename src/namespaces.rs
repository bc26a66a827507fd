//! The namespaces eksmon installs into, and their Pod Security labels: the releases' namespace
//! `restricted`, node-exporter's own `privileged` (it needs the host's network, processes and
//! paths). Pure decisions here; install runs kubectl.

use crate::settings::{Chart, Settings};
use std::collections::BTreeMap;

/// The label keys of the Pod Security admission, each set to the namespace's level.
const MODES: [&str; 3] = ["enforce", "warn", "audit"];

/// A namespace the install needs, at its Pod Security level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub name: String,
    pub level: &'static str,
}

/// What install does with one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Missing: created (with the labels, unless Pod Security is left alone).
    Create,
    /// There without Pod Security labels: they are added (said as a warning).
    Label,
    /// There at the wanted level already.
    Keep,
    /// There at another level someone chose: left as it is (said as a warning).
    Leave { found: String },
}

/// The namespaces the charts go into.
pub(crate) fn wanted(s: &Settings, charts: &[Chart]) -> Vec<Wanted> {
    let mut out = vec![Wanted {
        name: s.namespace.to_string(),
        level: "restricted",
    }];
    if charts.contains(&Chart::Prometheus) {
        out.push(Wanted {
            name: s.node_namespace(),
            level: "privileged",
        });
    }
    out
}

/// What to do with each wanted namespace, given the live ones (name → labels). With
/// `pod_security` false, existing namespaces are left as they are and missing ones are created
/// plain.
pub(crate) fn plan(
    wanted: &[Wanted],
    live: &BTreeMap<String, BTreeMap<String, String>>,
    pod_security: bool,
) -> Vec<(Wanted, Action)> {
    wanted
        .iter()
        .map(|w| {
            let action = match live.get(&w.name) {
                None => Action::Create,
                Some(_) if !pod_security => Action::Keep,
                Some(labels) => match labels.get("pod-security.kubernetes.io/enforce") {
                    None => Action::Label,
                    Some(level) if level == w.level => Action::Keep,
                    Some(level) => Action::Leave {
                        found: level.clone(),
                    },
                },
            };
            (w.clone(), action)
        })
        .collect()
}

/// The Namespace object to apply (server-side, as eksmon): its Pod Security labels when
/// `labelled`, and eksmon's own label when eksmon creates it.
pub(crate) fn manifest(w: &Wanted, labelled: bool, created: bool) -> serde_json::Value {
    let mut labels = serde_json::Map::new();
    if labelled {
        for mode in MODES {
            labels.insert(format!("pod-security.kubernetes.io/{mode}"), w.level.into());
        }
    }
    if created {
        labels.insert("app.kubernetes.io/managed-by".into(), "eksmon".into());
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": w.name, "labels": labels},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(entries: &[(&str, &[(&str, &str)])]) -> BTreeMap<String, BTreeMap<String, String>> {
        entries
            .iter()
            .map(|(name, labels)| {
                let labels = labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect();
                ((*name).to_owned(), labels)
            })
            .collect()
    }

    #[test]
    fn each_namespace_gets_its_level_unless_someone_chose_another() {
        let s = Settings::default();
        let wanted = wanted(&s, &Chart::ALL);
        assert_eq!(wanted[1].name, "prometheus-node");
        let enforce = "pod-security.kubernetes.io/enforce";
        let actions = |live| {
            plan(&wanted, &live, true)
                .into_iter()
                .map(|(_, a)| a)
                .collect::<Vec<_>>()
        };
        assert_eq!(actions(live(&[])), [Action::Create, Action::Create]);
        assert_eq!(
            actions(live(&[
                ("prometheus", &[]),
                ("prometheus-node", &[(enforce, "privileged")])
            ])),
            [Action::Label, Action::Keep]
        );
        assert_eq!(
            actions(live(&[("prometheus", &[(enforce, "baseline")])])),
            [
                Action::Leave {
                    found: "baseline".into()
                },
                Action::Create
            ]
        );
        let untouched = plan(&wanted, &live(&[("prometheus", &[])]), false);
        assert_eq!(untouched[0].1, Action::Keep);
        let object = manifest(&wanted[0], true, true);
        assert_eq!(object["metadata"]["labels"][enforce], "restricted");
        assert_eq!(
            object["metadata"]["labels"]["pod-security.kubernetes.io/audit"],
            "restricted"
        );
        assert_eq!(
            manifest(&wanted[1], false, true)["metadata"]["labels"]
                .as_object()
                .unwrap()
                .len(),
            1
        );
    }
}
