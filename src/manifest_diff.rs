//! What an upgrade changes, object by object: the live manifest of a release against the one a
//! dry run of the upgrade renders. Objects are matched by kind, namespace and name; each changed
//! one gets a unified diff of its YAML. Secret values never reach the output (only which keys
//! changed), and changes Kubernetes refuses to apply in place are named with what to do instead.

use crate::yaml::{self, Mapping, Value};
use serde::Serialize;
use std::fmt;

/// Identifies an object within a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ObjectKey {
    pub kind: String,
    /// Empty for cluster-wide objects (null in JSON).
    #[serde(serialize_with = "empty_as_null")]
    pub namespace: String,
    pub name: String,
}

fn empty_as_null<S: serde::Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    if text.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.serialize_str(text)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Change {
    Added,
    Changed,
    Removed,
}

impl Change {
    pub(crate) fn sign(self) -> char {
        match self {
            Change::Added => '+',
            Change::Changed => '~',
            Change::Removed => '-',
        }
    }
}

/// Which keys of a Secret's `data`/`stringData` changed; their values are never shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SecretKeys {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl SecretKeys {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// One object that differs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectChange {
    pub change: Change,
    #[serde(flatten)]
    pub key: ObjectKey,
    /// A unified diff of the object's YAML (Secret values masked).
    pub diff: String,
    /// For a Secret: which keys changed (null for other kinds).
    pub secret_keys: Option<SecretKeys>,
}

/// A change Kubernetes will not apply to an existing object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Refusal {
    #[serde(flatten)]
    pub key: ObjectKey,
    /// The field path, e.g. `spec.volumeClaimTemplates`.
    pub field: String,
    pub why: String,
    pub instead: String,
}

/// Everything that differs between two manifests.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ManifestDiff {
    pub changes: Vec<ObjectChange>,
    pub unchanged: usize,
    pub refusals: Vec<Refusal>,
}

impl ManifestDiff {
    pub(crate) fn count(&self, change: Change) -> usize {
        self.changes.iter().filter(|c| c.change == change).count()
    }
}

/// The objects of a rendered manifest (`helm get manifest`, a dry run's `manifest`), in order.
pub(crate) fn objects(manifest: &str) -> anyhow::Result<Vec<(ObjectKey, Value)>> {
    let documents = yaml::parse_all(manifest)
        .map_err(|e| anyhow::anyhow!("cannot read a manifest helm printed: {e}"))?;
    Ok(documents
        .into_iter()
        .filter(serde_yaml::Value::is_mapping)
        .map(|doc| (key_of(&doc), doc))
        .collect())
}

/// The objects of a `kubectl get … --output json` list, keyed as in a manifest.
pub(crate) fn listed_objects(json: &str) -> anyhow::Result<Vec<(ObjectKey, Value)>> {
    let list = yaml::parse_all(json)
        .map_err(|e| anyhow::anyhow!("cannot read the object list kubectl printed: {e}"))?;
    let items = list
        .first()
        .and_then(|l| l.get("items"))
        .and_then(Value::as_sequence)
        .cloned()
        .unwrap_or_default();
    Ok(items
        .into_iter()
        .map(|item| (key_of(&item), item))
        .collect())
}

fn key_of(doc: &Value) -> ObjectKey {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let meta = doc.get("metadata");
    ObjectKey {
        kind: text(doc.get("kind")),
        namespace: text(meta.and_then(|m| m.get("namespace"))),
        name: text(meta.and_then(|m| m.get("name"))),
    }
}

/// Compares the live manifest (`None`: not installed) with the one an upgrade would apply.
///
/// `cluster` holds the objects as they are in the cluster (claims and StatefulSets): a failed
/// upgrade leaves a manifest that never took effect, so what Kubernetes would refuse is judged
/// against these, not against the manifest.
pub(crate) fn compare(
    live: Option<&str>,
    desired: &str,
    cluster: &[(ObjectKey, Value)],
) -> anyhow::Result<ManifestDiff> {
    let live = live.map(objects).transpose()?.unwrap_or_default();
    let desired = objects(desired)?;
    let mut diff = ManifestDiff::default();
    for (key, new) in &desired {
        let old = live.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let running = cluster.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        match old {
            Some(old) => {
                let old = &match running {
                    Some(running) => as_running(key, old, new, running),
                    None => old.clone(),
                };
                let new = &without_bound_volume(key, old, new);
                if old == new {
                    diff.unchanged += 1;
                    continue;
                }
                diff.refusals.extend(refusals(key, old, new, running));
                diff.changes.push(object_change(key, Some(old), Some(new)));
            }
            None => diff.changes.push(object_change(key, None, Some(new))),
        }
    }
    for (key, old) in &live {
        if !desired.iter().any(|(k, _)| k == key) {
            diff.changes.push(object_change(key, Some(old), None));
        }
    }
    Ok(diff)
}

/// The released object with the fields Kubernetes keeps immutable (sizes, classes, selectors)
/// taken from the running object, where the upgrade sets them: after a failed upgrade the
/// release's manifest says what was asked, the cluster what is.
fn as_running(key: &ObjectKey, released: &Value, new: &Value, running: &Value) -> Value {
    let mut judged = released.clone();
    match key.kind.as_str() {
        "PersistentVolumeClaim" => claim_spec_as_running(&mut judged, new, running),
        "StatefulSet" => {
            for field in ["selector", "serviceName", "podManagementPolicy"] {
                copy_if_set(&mut judged, new, running, &["spec", field]);
            }
            let templates = |v: &Value| {
                yaml::get(v, &["spec", "volumeClaimTemplates"])
                    .and_then(Value::as_sequence)
                    .cloned()
                    .unwrap_or_default()
            };
            let (wanted, running_templates) = (templates(new), templates(running));
            let name = |t: &Value| yaml::get(t, &["metadata", "name"]).cloned();
            if let Some(Value::Sequence(released_templates)) = judged
                .get_mut("spec")
                .and_then(|s| s.get_mut("volumeClaimTemplates"))
            {
                for template in released_templates.iter_mut() {
                    let by_name =
                        |list: &[Value]| list.iter().find(|t| name(t) == name(template)).cloned();
                    if let (Some(wanted), Some(running)) =
                        (by_name(&wanted), by_name(&running_templates))
                    {
                        claim_spec_as_running(template, &wanted, &running);
                    }
                }
            }
        }
        _ => {}
    }
    judged
}

/// A claim (or claim template) spec's size, class, access and volume modes as running.
fn claim_spec_as_running(judged: &mut Value, new: &Value, running: &Value) {
    let storage = ["spec", "resources", "requests", "storage"];
    let bytes = |v: &Value| {
        yaml::get(v, &storage)
            .and_then(Value::as_str)
            .and_then(crate::validate::quantity_bytes)
    };
    if bytes(judged) != bytes(running) {
        copy_if_set(judged, running, running, &storage);
    }
    for field in ["storageClassName", "accessModes", "volumeMode"] {
        copy_if_set(judged, new, running, &["spec", field]);
    }
}

/// Sets `path` in `judged` to its value in `running`, when both `wanted` and `running` have it.
fn copy_if_set(judged: &mut Value, wanted: &Value, running: &Value, path: &[&str]) {
    let (Some(value), Some(_)) = (yaml::get(running, path), yaml::get(wanted, path)) else {
        return;
    };
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = judged;
    for parent in parents {
        let Some(map) = node.as_mapping_mut() else {
            return;
        };
        node = map
            .entry(Value::String((*parent).to_owned()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
    }
    if let Some(map) = node.as_mapping_mut() {
        map.insert(Value::String((*last).to_owned()), value.clone());
    }
}

/// A claim's `spec.volumeName` as the chart copies it from the live claim (Grafana's
/// `persistence.lookupVolumeName`): the volume the claim is already bound to, or null while it
/// is pending. Applying it changes nothing, so it is not shown as a change.
fn without_bound_volume(key: &ObjectKey, old: &Value, new: &Value) -> Value {
    let mut new = new.clone();
    let absent_before = yaml::get(old, &["spec", "volumeName"]).is_none();
    if key.kind == "PersistentVolumeClaim"
        && absent_before
        && let Some(spec) = new.get_mut("spec").and_then(Value::as_mapping_mut)
    {
        spec.remove("volumeName");
    }
    new
}

fn object_change(key: &ObjectKey, old: Option<&Value>, new: Option<&Value>) -> ObjectChange {
    let (mut old, mut new) = (old.cloned(), new.cloned());
    let secret_keys = (key.kind == "Secret").then(|| mask_secret(old.as_mut(), new.as_mut()));
    let text = |v: &Option<Value>| v.as_ref().map(yaml::emit).unwrap_or_default();
    let (old_text, new_text) = (text(&old), text(&new));
    let change = match (&old, &new) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        _ => Change::Changed,
    };
    let diff = similar::TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{key} (live)"), &format!("{key} (after install)"))
        .to_string();
    ObjectChange {
        change,
        key: key.clone(),
        diff,
        secret_keys: secret_keys.filter(|keys| !keys.is_empty() || change == Change::Changed),
    }
}

const HIDDEN: &str = "(hidden)";

/// Replaces every value under a Secret's `data` and `stringData` with a marker that shows only
/// whether it changed, and says which keys did.
fn mask_secret(old: Option<&mut Value>, new: Option<&mut Value>) -> SecretKeys {
    let mut keys = SecretKeys::default();
    let (mut old, mut new) = (old, new);
    for field in ["data", "stringData"] {
        // Not a mapping (not a valid Secret, but possible in a manifest): hide it whole.
        for side in [old.as_deref_mut(), new.as_deref_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(value) = side.get_mut(field)
                && !value.is_mapping()
                && !value.is_null()
            {
                *value = Value::String(HIDDEN.into());
            }
        }
        let old_map = old
            .as_deref_mut()
            .and_then(|v| v.get_mut(field))
            .and_then(Value::as_mapping_mut);
        let before: Mapping = old_map.as_ref().map(|m| (*m).clone()).unwrap_or_default();
        let new_map = new
            .as_deref_mut()
            .and_then(|v| v.get_mut(field))
            .and_then(Value::as_mapping_mut);
        let after: Mapping = new_map.as_ref().map(|m| (*m).clone()).unwrap_or_default();
        let name = |k: &Value| k.as_str().unwrap_or_default().to_owned();
        if let Some(map) = new_map {
            for (k, v) in map.iter_mut() {
                *v = Value::String(match before.get(k) {
                    None => {
                        keys.added.push(name(k));
                        HIDDEN.into()
                    }
                    Some(old) if old == &*v => HIDDEN.into(),
                    Some(_) => {
                        keys.changed.push(name(k));
                        format!("{HIDDEN} changed")
                    }
                });
            }
        }
        if let Some(map) = old_map {
            for (k, v) in map.iter_mut() {
                if !after.contains_key(k) {
                    keys.removed.push(name(k));
                }
                *v = Value::String(match after.get(k) {
                    Some(new) if new != &*v => format!("{HIDDEN} before"),
                    _ => HIDDEN.into(),
                });
            }
        }
    }
    keys
}

/// The fields Kubernetes will not change on an existing object, that this upgrade changes.
fn refusals(key: &ObjectKey, old: &Value, new: &Value, running: Option<&Value>) -> Vec<Refusal> {
    let differs = |path: &[&str]| yaml::get(old, path) != yaml::get(new, path);
    let refusal = |field: &str, why: &str, instead: String| Refusal {
        key: key.clone(),
        field: field.to_owned(),
        why: why.to_owned(),
        instead,
    };
    let kind = key.kind.to_lowercase();
    let ns = if key.namespace.is_empty() {
        String::new()
    } else {
        format!(" -n {}", key.namespace)
    };
    let recreate = format!(
        "delete it keeping its pods and volumes (`kubectl delete {kind} {}{ns} --cascade=orphan`), then install again",
        key.name
    );
    let mut found = Vec::new();
    match key.kind.as_str() {
        "StatefulSet" => {
            if differs(&["spec", "volumeClaimTemplates"]) {
                let (claim, size) = first_claim_template(new);
                let resize = format!(
                    "to resize, first grow each existing claim (`kubectl patch pvc {claim}-{}-0{ns} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{size}\"}}}}}}}}'`, one per replica; the StorageClass must allow expansion), then {recreate}",
                    key.name
                );
                found.push(refusal(
                    "spec.volumeClaimTemplates",
                    "a StatefulSet's volumeClaimTemplates cannot change (a volume size included); helm's upgrade would fail",
                    resize,
                ));
            }
            for field in ["selector", "serviceName", "podManagementPolicy"] {
                if differs(&["spec", field]) {
                    found.push(refusal(
                        &format!("spec.{field}"),
                        &format!(
                            "a StatefulSet's {field} cannot change; helm's upgrade would fail"
                        ),
                        recreate.clone(),
                    ));
                }
            }
        }
        "Deployment" | "DaemonSet" | "ReplicaSet" if differs(&["spec", "selector"]) => {
            found.push(refusal(
                "spec.selector",
                &format!(
                    "a {}'s selector cannot change; helm's upgrade would fail",
                    key.kind
                ),
                format!(
                    "delete it (`kubectl delete {kind} {}{ns}`), then install again; or install --force",
                    key.name
                ),
            ));
        }
        "PersistentVolumeClaim" => {
            let storage = &["spec", "resources", "requests", "storage"];
            let bytes = |v: &Value| {
                yaml::get(v, storage)
                    .and_then(Value::as_str)
                    .and_then(crate::validate::quantity_bytes)
            };
            let phase = running
                .and_then(|r| yaml::get(r, &["status", "phase"]))
                .and_then(Value::as_str);
            match (bytes(old), bytes(new)) {
                (Some(before), Some(after)) if after < before => found.push(refusal(
                    "spec.resources.requests.storage",
                    "a volume cannot shrink; helm's upgrade would fail",
                    "keep the size; or back up, delete the claim (its data is lost) and install again".into(),
                )),
                (Some(before), Some(after)) if after > before && phase.is_some_and(|p| p != "Bound") => {
                    found.push(refusal(
                        "spec.resources.requests.storage",
                        &format!("the claim is {} (no volume yet): Kubernetes resizes only bound claims; helm's upgrade would fail", phase.unwrap_or_default()),
                        format!(
                            "keep the size until a pod has mounted the claim; or, as a claim without a volume holds no data, delete it (`kubectl delete pvc {}{ns}`) and install again",
                            key.name
                        ),
                    ));
                }
                _ => {}
            }
            for field in ["storageClassName", "accessModes", "volumeMode"] {
                if differs(&["spec", field]) {
                    found.push(refusal(
                        &format!("spec.{field}"),
                        &format!("a claim's {field} cannot change once it exists; helm's upgrade would fail"),
                        "keep it; or back up, delete the claim (its data is lost) and install again".into(),
                    ));
                }
            }
        }
        _ => {}
    }
    found
}

/// The first volume claim template's name and requested size, for the printed commands.
fn first_claim_template(statefulset: &Value) -> (String, String) {
    let first = yaml::get(statefulset, &["spec", "volumeClaimTemplates"])
        .and_then(Value::as_sequence)
        .and_then(|templates| templates.first());
    let text = |path: &[&str], default: &str| {
        first
            .and_then(|t| yaml::get(t, path))
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    (
        text(&["metadata", "name"], "CLAIM"),
        text(&["spec", "resources", "requests", "storage"], "SIZE"),
    )
}

/// ANSI colours for a diff on a terminal.
pub(crate) fn colourize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 8);
    for line in diff.split_inclusive('\n') {
        let colour = if line.starts_with("+++") || line.starts_with("---") {
            Some("1")
        } else if line.starts_with('+') {
            Some("32")
        } else if line.starts_with('-') {
            Some("31")
        } else if line.starts_with("@@") {
            Some("36")
        } else {
            None
        };
        match colour {
            Some(code) => {
                let body = line.trim_end_matches('\n');
                out.push_str(&format!("\x1b[{code}m{body}\x1b[0m"));
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: &str = "---\n# Source: x/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: mon\ndata:\n  retention: 15d\n  other: same\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: grafana\n  namespace: mon\ndata:\n  admin-user: YWRtaW4=\n  admin-password: c2VjcmV0LW9uZQ==\n  gone: eA==\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: old\n  namespace: mon\n";

    fn desired() -> String {
        LIVE.replace("retention: 15d", "retention: 30d")
            .replace("c2VjcmV0LW9uZQ==", "c2VjcmV0LXR3bw==")
            .replace("  gone: eA==\n", "  new-key: eQ==\n")
            .replace(
                "kind: Service\nmetadata:\n  name: old",
                "kind: Service\nmetadata:\n  name: new",
            )
    }

    #[test]
    fn objects_are_matched_by_kind_namespace_and_name() {
        let diff = compare(Some(LIVE), &desired(), &[]).unwrap();
        let summary: Vec<String> = diff
            .changes
            .iter()
            .map(|c| format!("{} {}", c.change.sign(), c.key))
            .collect();
        assert_eq!(
            summary,
            [
                "~ ConfigMap mon/cfg",
                "~ Secret mon/grafana",
                "+ Service mon/new",
                "- Service mon/old"
            ]
        );
        assert_eq!(diff.unchanged, 1, "the ClusterRole");
        let config = &diff.changes[0].diff;
        assert!(
            config.contains("-  retention: \"15d\"\n+  retention: \"30d\"\n"),
            "{config}"
        );
        assert!(
            config.contains("   other: same\n"),
            "context lines: {config}"
        );
    }

    #[test]
    fn secret_values_never_appear_only_their_keys() {
        let diff = compare(Some(LIVE), &desired(), &[]).unwrap();
        let secret = &diff.changes[1];
        for value in [
            "c2VjcmV0LW9uZQ==",
            "c2VjcmV0LXR3bw==",
            "YWRtaW4=",
            "eA==",
            "eQ==",
        ] {
            assert!(!secret.diff.contains(value), "{value} in {}", secret.diff);
            let json = serde_json::to_string(&diff).unwrap();
            assert!(!json.contains(value), "{value} in {json}");
        }
        assert_eq!(
            secret.secret_keys,
            Some(SecretKeys {
                added: vec!["new-key".into()],
                changed: vec!["admin-password".into()],
                removed: vec!["gone".into()],
            })
        );
        for line in [
            "-  admin-password: \"(hidden) before\"\n",
            "+  admin-password: \"(hidden) changed\"\n",
            "-  gone: \"(hidden)\"\n",
            "+  new-key: \"(hidden)\"\n",
        ] {
            assert!(secret.diff.contains(line), "{line} in {}", secret.diff);
        }
        assert!(
            secret.diff.contains("   admin-user: \"(hidden)\"\n"),
            "{}",
            secret.diff
        );

        // A new release: everything added, Secrets still masked.
        let fresh = compare(None, LIVE, &[]).unwrap();
        assert_eq!(fresh.count(Change::Added), 4);
        assert!(!fresh.changes[1].diff.contains("c2VjcmV0LW9uZQ=="));
    }

    #[test]
    fn secret_data_that_is_not_a_mapping_is_hidden_whole() {
        let odd = "kind: Secret\nmetadata: {name: s}\nstringData: 'password=hunter2'\n";
        let diff = compare(None, odd, &[]).unwrap();
        assert!(
            !diff.changes[0].diff.contains("hunter2"),
            "{}",
            diff.changes[0].diff
        );
    }

    #[test]
    fn identical_manifests_have_no_changes() {
        let diff = compare(Some(LIVE), LIVE, &[]).unwrap();
        assert!(diff.changes.is_empty() && diff.refusals.is_empty());
        assert_eq!(diff.unchanged, 4);
    }

    #[test]
    fn refused_changes_are_named_with_what_to_do() {
        let sts = |size: &str, selector: &str| {
            format!(
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: am\n  namespace: mon\nspec:\n  selector:\n    matchLabels: {{app: {selector}}}\n  serviceName: am-headless\n  volumeClaimTemplates:\n  - metadata:\n      name: storage\n    spec:\n      resources:\n        requests:\n          storage: {size}\n"
            )
        };
        let diff = compare(Some(&sts("2Gi", "am")), &sts("5Gi", "am"), &[]).unwrap();
        assert_eq!(diff.refusals.len(), 1);
        let refusal = &diff.refusals[0];
        assert_eq!(refusal.field, "spec.volumeClaimTemplates");
        assert!(
            refusal.instead.contains(
                r#"kubectl patch pvc storage-am-0 -n mon -p '{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}'"#
            ),
            "{refusal:?}"
        );
        assert!(
            refusal
                .instead
                .contains("kubectl delete statefulset am -n mon --cascade=orphan")
        );
        let diff = compare(Some(&sts("2Gi", "am")), &sts("2Gi", "other"), &[]).unwrap();
        assert_eq!(diff.refusals[0].field, "spec.selector");

        let pvc = |size: &str| {
            format!(
                "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: mon\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: {size}\n"
            )
        };
        assert!(
            compare(Some(&pvc("8Gi")), &pvc("20Gi"), &[])
                .unwrap()
                .refusals
                .is_empty(),
            "growing is allowed"
        );
        let shrink = compare(Some(&pvc("8Gi")), &pvc("4000Mi"), &[]).unwrap();
        assert_eq!(shrink.refusals[0].field, "spec.resources.requests.storage");
    }

    fn claim(size: &str, phase: &str) -> String {
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: server\n  namespace: mon\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: gp3\n  volumeMode: Filesystem\n  resources:\n    requests:\n      storage: {size}\nstatus:\n  phase: {phase}\n"
        )
    }

    fn running(manifest: &str) -> Vec<(ObjectKey, Value)> {
        objects(manifest).unwrap()
    }

    #[test]
    fn after_a_failed_upgrade_the_running_claim_is_what_counts() {
        // The failed revision asked for 80Gi; the claim still has 50Gi; the profile is back at
        // 50Gi: nothing to change, nothing refused, no advice to delete data.
        let manifest = |size: &str| {
            format!(
                "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: server\n  namespace: mon\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: {size}\n"
            )
        };
        let cluster = running(&claim("50Gi", "Bound"));
        let diff = compare(Some(&manifest("80Gi")), &manifest("50Gi"), &cluster).unwrap();
        assert!(diff.refusals.is_empty(), "{:?}", diff.refusals);
        assert!(diff.changes.is_empty(), "{:?}", diff.changes);
        // Against the manifest alone, the same change looked like a shrink.
        let blind = compare(Some(&manifest("80Gi")), &manifest("50Gi"), &[]).unwrap();
        assert_eq!(blind.refusals.len(), 1);
        // A real shrink of the running claim is still refused.
        let shrink = compare(Some(&manifest("80Gi")), &manifest("40Gi"), &cluster).unwrap();
        assert!(
            shrink.refusals[0].why.contains("cannot shrink"),
            "{shrink:?}"
        );
    }

    #[test]
    fn growing_a_claim_that_is_not_bound_is_refused() {
        let manifest = claim("50Gi", "Pending").replace("status:\n  phase: Pending\n", "");
        let bigger = manifest.replace("50Gi", "80Gi");
        let pending = compare(
            Some(&manifest),
            &bigger,
            &running(&claim("50Gi", "Pending")),
        )
        .unwrap();
        assert_eq!(pending.refusals.len(), 1, "{pending:?}");
        let refusal = &pending.refusals[0];
        assert!(
            refusal.why.starts_with("the claim is Pending"),
            "{refusal:?}"
        );
        assert!(
            refusal.instead.contains("kubectl delete pvc server -n mon"),
            "{refusal:?}"
        );
        let bound = compare(Some(&manifest), &bigger, &running(&claim("50Gi", "Bound"))).unwrap();
        assert!(bound.refusals.is_empty(), "{bound:?}");
    }

    #[test]
    fn a_statefulset_template_is_judged_as_running() {
        let sts = |size: &str| {
            format!(
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: am\n  namespace: mon\nspec:\n  serviceName: am-headless\n  volumeClaimTemplates:\n  - metadata:\n      name: storage\n    spec:\n      resources:\n        requests:\n          storage: {size}\n"
            )
        };
        let cluster = running(&sts("2Gi"));
        let back = compare(Some(&sts("5Gi")), &sts("2Gi"), &cluster).unwrap();
        assert!(
            back.refusals.is_empty() && back.changes.is_empty(),
            "{back:?}"
        );
        let grow = compare(Some(&sts("5Gi")), &sts("5Gi"), &cluster).unwrap();
        assert_eq!(
            grow.refusals[0].field, "spec.volumeClaimTemplates",
            "{grow:?}"
        );
    }

    #[test]
    fn a_claim_keeps_the_volume_it_is_bound_to() {
        let pvc = |extra: &str| {
            format!(
                "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: grafana\n  namespace: mon\nspec:\n  resources:\n    requests:\n      storage: 10Gi\n{extra}"
            )
        };
        for bound in ["  volumeName: pvc-0a1b\n", "  volumeName: null\n"] {
            let diff = compare(Some(&pvc("")), &pvc(bound), &[]).unwrap();
            assert!(diff.changes.is_empty(), "{bound}: {:?}", diff.changes);
        }
        let moved = compare(
            Some(&pvc("  volumeName: a\n")),
            &pvc("  volumeName: b\n"),
            &[],
        )
        .unwrap();
        assert_eq!(moved.changes.len(), 1);
    }

    #[test]
    fn colour_marks_only_diff_lines() {
        let coloured = colourize("--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n");
        assert!(coloured.contains("\x1b[31m-x\x1b[0m\n"));
        assert!(coloured.contains("\x1b[32m+y\x1b[0m\n"));
        assert!(coloured.ends_with(" z\n"));
    }
}
