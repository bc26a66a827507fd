//! Pod Security, enforced by the real API server: the controller-manager creates every pod the
//! releases ask for, and admission judges each one against its namespace's level. On a control
//! plane of this test's own, with one Node object (no kubelet), so that node-exporter's
//! DaemonSet has somewhere to put its pod.

use crate::Kube;
use crate::control_plane::ControlPlane;
use crate::lifecycle::wait_for;

/// Stops this test's control plane however the test ends.
struct Owned(&'static ControlPlane);

impl Drop for Owned {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

fn labels(kube: &Kube, namespace: &str) -> serde_json::Value {
    kube.kubectl_json(&["get", "namespace", namespace])["metadata"]["labels"].clone()
}

/// The pods in `namespace`, and every event there that says a pod was refused.
fn pods_and_refusals(kube: &Kube, namespace: &str) -> (usize, Vec<String>) {
    let pods = kube.kubectl_json(&["get", "pods", "--namespace", namespace]);
    let events = kube.kubectl_json(&["get", "events", "--namespace", namespace]);
    let refusals = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.contains("violates PodSecurity"))
        .map(str::to_owned)
        .collect();
    (pods["items"].as_array().map_or(0, Vec::len), refusals)
}

#[test]
fn every_pod_is_admitted_under_restricted_and_node_exporter_under_privileged() {
    if !crate::common::helm_available() {
        return;
    }
    let Some(cluster) = ControlPlane::start() else {
        return;
    };
    let owned = Owned(Box::leak(Box::new(cluster)));
    let kube = Kube::on(owned.0, "psa", 4);
    let node_namespace = "psa-node";
    kube.kubectl_ok(&["create", "namespace", &kube.namespace]);
    kube.apply(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: fake-node\n  labels: {kubernetes.io/os: linux, kubernetes.io/hostname: fake-node}\n",
    );

    let output = kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .args(["--allow-public", "--timeout", "60s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // The namespace that was there gets the labels, with a warning; node-exporter's is made.
    assert!(
        stderr.contains("warning: namespace psa has no Pod Security labels"),
        "{stderr}"
    );
    assert!(
        stderr.contains("namespace psa-node: created, Pod Security privileged"),
        "{stderr}"
    );
    let restricted = labels(&kube, &kube.namespace);
    for mode in ["enforce", "warn", "audit"] {
        assert_eq!(
            restricted[format!("pod-security.kubernetes.io/{mode}")],
            "restricted"
        );
    }
    assert_eq!(
        labels(&kube, node_namespace)["pod-security.kubernetes.io/enforce"],
        "privileged"
    );

    // server, kube-state-metrics, Grafana (Deployments), Alertmanager (StatefulSet), and
    // node-exporter (DaemonSet, in its own namespace): all created, none refused.
    let all_there = || {
        pods_and_refusals(&kube, &kube.namespace).0 >= 4
            && pods_and_refusals(&kube, node_namespace).0 >= 1
    };
    let refused = || {
        let mut refusals = pods_and_refusals(&kube, &kube.namespace).1;
        refusals.extend(pods_and_refusals(&kube, node_namespace).1);
        refusals
    };
    wait_for(
        || all_there() || !refused().is_empty(),
        "the controllers to create the pods",
    );
    assert_eq!(refused(), Vec::<String>::new());
    assert!(all_there());
    for kind in ["replicasets", "statefulsets"] {
        let list = kube.kubectl_json(&["get", kind, "--namespace", &kube.namespace]);
        for item in list["items"].as_array().into_iter().flatten() {
            let conditions = item["status"]["conditions"].to_string();
            assert!(!conditions.contains("PodSecurity"), "{kind}: {conditions}");
        }
    }

    // --no-pod-security leaves an existing namespace as it is.
    let plain = Kube::on(owned.0, "psaoff", 4);
    plain.kubectl_ok(&["create", "namespace", &plain.namespace]);
    let output = plain
        .eksmon()
        .args(["install", "--only", "grafana", "--no-pod-security"])
        .args(plain.profile())
        .args(["--allow-public"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let untouched = labels(&plain, &plain.namespace);
    assert!(
        untouched
            .get("pod-security.kubernetes.io/enforce")
            .is_none(),
        "{untouched}"
    );
}
