//! `render` output fed to real `helm template` over the real charts eksmon pins (subcharts
//! included), checking the objects helm would apply: Ingress, Services, PVCs, the alertmanager
//! claim, node-exporter placement.

use crate::common::{World, at, helm, real_chart, text};
use eksmon::yaml::{self, Value};
use std::process::Command;

/// Renders both values files with `args`, runs `helm template` for each chart, returns the
/// objects; `None` when the real charts are absent (skipped with one line).
fn manifests(world: &World, helm_major: u8, args: &[&str]) -> Option<Vec<Value>> {
    let mut objects = Vec::new();
    for text in templated(world, helm_major, args)? {
        objects.extend(yaml::parse_all(&text).unwrap());
    }
    Some(objects)
}

/// What `helm template` prints for each chart (prometheus, then grafana) over the values
/// `eksmon render ARGS` writes, into namespace `monitoring` (ARGS say `-n monitoring` for the
/// objects eksmon names itself); `None` when the real charts are absent.
pub(crate) fn templated(world: &World, helm_major: u8, args: &[&str]) -> Option<Vec<String>> {
    world
        .eksmon()
        .args(["render", "--out-dir", "values"])
        .args(args)
        .assert()
        .success();
    let mut texts = Vec::new();
    for chart in ["prometheus", "grafana"] {
        let archive = real_chart(chart)?;
        let output = Command::new(helm(helm_major))
            .args(["template", chart])
            .arg(archive)
            .args(["--namespace", "monitoring", "-f"])
            .arg(world.path().join(format!("values/{chart}-values.yaml")))
            .env("HELM_CACHE_HOME", world.path().join("helm/cache"))
            .env("HELM_CONFIG_HOME", world.path().join("helm/config"))
            .env("HELM_DATA_HOME", world.path().join("helm/data"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "helm {helm_major} template {chart}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        texts.push(String::from_utf8(output.stdout).unwrap());
    }
    Some(texts)
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| text(o, &["kind"]) == kind && text(o, &["metadata", "name"]) == name)
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

fn has(objects: &[Value], kind: &str) -> bool {
    objects.iter().any(|o| text(o, &["kind"]) == kind)
}

fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

/// The container of `workload` named `name`.
fn container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    at(workload, &["spec", "template", "spec", "containers"])
        .as_sequence()
        .unwrap()
        .iter()
        .find(|c| text(c, &["name"]) == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

/// What every exposure shares: volumes, resources, placement, datasource.
fn assert_common(objects: &[Value]) {
    let pvc = find(objects, "PersistentVolumeClaim", "prometheus-server");
    assert_eq!(text(pvc, &["spec", "storageClassName"]), "ebs-sc-gp3");
    assert_eq!(
        text(pvc, &["spec", "resources", "requests", "storage"]),
        "50Gi"
    );
    assert_eq!(annotation(pvc, "helm.sh/resource-policy"), Some("keep"));

    let grafana_pvc = find(objects, "PersistentVolumeClaim", "grafana");
    assert_eq!(
        text(grafana_pvc, &["spec", "resources", "requests", "storage"]),
        "100Gi"
    );
    assert_eq!(
        annotation(grafana_pvc, "helm.sh/resource-policy"),
        Some("keep")
    );
    assert_eq!(
        text(grafana_pvc, &["metadata", "finalizers", "0"]),
        "kubernetes.io/pvc-protection"
    );

    let alertmanager = find(objects, "StatefulSet", "prometheus-alertmanager");
    let claim = at(alertmanager, &["spec", "volumeClaimTemplates", "0", "spec"]);
    assert_eq!(text(claim, &["storageClassName"]), "ebs-sc-gp3");
    assert_eq!(text(claim, &["resources", "requests", "storage"]), "20Gi");

    let server = find(objects, "Deployment", "prometheus-server");
    // The real chart runs a config-reloader sidecar first: find the server by its name.
    let container = container(server, "prometheus-server");
    let args: Vec<&str> = at(container, &["args"])
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        args.contains(&"--storage.tsdb.retention.time=15d"),
        "{args:?}"
    );
    for side in ["requests", "limits"] {
        assert_eq!(text(container, &["resources", side, "cpu"]), "500m");
        assert_eq!(text(container, &["resources", side, "memory"]), "512Mi");
    }

    let node_exporter = find(objects, "DaemonSet", "prometheus-prometheus-node-exporter");
    let pod = at(node_exporter, &["spec", "template", "spec"]);
    let terms = at(
        pod,
        &[
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    );
    let expressions = at(terms, &["0", "matchExpressions"]).as_sequence().unwrap();
    let keys: Vec<(&str, &str, &str)> = expressions
        .iter()
        .map(|e| {
            (
                text(e, &["key"]),
                text(e, &["operator"]),
                text(e, &["values", "0"]),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("eks.amazonaws.com/compute-type", "NotIn", "fargate"),
            ("type", "NotIn", "virtual-kubelet"),
        ]
    );
    assert_eq!(
        text(pod, &["containers", "0", "resources", "limits", "memory"]),
        "64Mi"
    );

    let grafana = find(objects, "Deployment", "grafana");
    assert_eq!(text(grafana, &["spec", "strategy", "type"]), "Recreate");
    let config = find(objects, "ConfigMap", "grafana");
    let datasources = yaml::parse(text(config, &["data", "datasources.yaml"])).unwrap();
    let prometheus = at(&datasources, &["datasources", "0"]);
    assert_eq!(
        text(prometheus, &["url"]),
        "http://prometheus-server.monitoring.svc.cluster.local"
    );
    assert_eq!(at(prometheus, &["isDefault"]), &Value::Bool(true));
    let dashboards = find(objects, "ConfigMap", "grafana-dashboards-eksmon");
    assert!(text(dashboards, &["data", "api-endpoints.json"]).contains("kube_endpoint_address"));
    // Every dashboard ships in the values: nothing is downloaded at start.
    assert!(text(dashboards, &["data", "kubernetes-cluster.json"]).contains("eksmon-namespace"));
    assert!(!text(config, &["data", "download_dashboards.sh"]).contains("grafana.com/api"));
}

fn check_alb(helm_major: u8) {
    let world = World::new();
    let Some(objects) = manifests(
        &world,
        helm_major,
        &[
            "--profile",
            "example",
            "--exposure",
            "alb",
            "-n",
            "monitoring",
        ],
    ) else {
        return;
    };
    assert_common(&objects);
    for (name, host, health) in [
        (
            "prometheus-server",
            "prometheus-main.bys.world",
            "/-/healthy",
        ),
        ("grafana", "grafana-main.bys.world", "/api/health"),
    ] {
        let ingress = find(&objects, "Ingress", name);
        assert_eq!(text(ingress, &["spec", "ingressClassName"]), "alb");
        assert_eq!(text(ingress, &["spec", "rules", "0", "host"]), host);
        assert_eq!(text(ingress, &["spec", "tls", "0", "hosts", "0"]), host);
        let a = |key: &str| annotation(ingress, &format!("alb.ingress.kubernetes.io/{key}"));
        assert_eq!(a("healthcheck-path"), Some(health));
        assert_eq!(a("scheme"), Some("internet-facing"));
        assert_eq!(a("group.name"), Some("eks-monitoring"));
        assert_eq!(
            a("subnets"),
            Some("subnet-02e6d788fad8afdcf, subnet-020255d69e8c814da")
        );
        assert_eq!(a("security-groups"), Some("bys-dev-sg-alb-eks-monitoring"));
        assert_eq!(
            a("certificate-arn"),
            Some("arn:aws:acm:ap-northeast-2:558846430793:certificate/xxxxx")
        );
        assert_eq!(a("listen-ports"), Some(r#"[{"HTTP": 80}, {"HTTPS": 443}]"#));
        assert_eq!(a("ssl-redirect"), Some("443"));
        assert_eq!(a("target-type"), Some("ip"));
        assert_eq!(a("healthcheck-interval-seconds"), Some("15"));
        assert_eq!(a("success-codes"), Some("200,301,302"));
        assert_eq!(a("tags"), Some("auto-delete=no"));
        assert_eq!(
            a("actions.ssl-redirect"),
            None,
            "the old redirect form is gone"
        );
        assert_eq!(a("inbound-cidrs"), None, "unset fields leave no annotation");
        assert_eq!(a("wafv2-acl-arn"), None);
    }
    let service = find(&objects, "Service", "prometheus-server");
    assert_eq!(text(service, &["spec", "type"]), "ClusterIP");
    assert_eq!(
        at(service, &["spec", "ports", "0", "port"]),
        &Value::from(80)
    );
    let config = find(&objects, "ConfigMap", "grafana");
    assert!(
        text(config, &["data", "grafana.ini"])
            .contains("root_url = https://grafana-main.bys.world")
    );
}

fn check_nlb(helm_major: u8) {
    let world = World::new();
    let Some(objects) = manifests(
        &world,
        helm_major,
        &[
            "--profile",
            "example",
            "--exposure",
            "nlb",
            "-n",
            "monitoring",
            "--set",
            "nlb.sourceRanges=[203.0.113.0/24]",
        ],
    ) else {
        return;
    };
    assert_common(&objects);
    assert!(!has(&objects, "Ingress"));
    for (name, port, health) in [
        ("prometheus-server", 80, "/-/healthy"),
        ("grafana", 80, "/api/health"),
    ] {
        let service = find(&objects, "Service", name);
        assert_eq!(text(service, &["spec", "type"]), "LoadBalancer");
        assert_eq!(
            at(service, &["spec", "ports", "0", "port"]),
            &Value::from(port)
        );
        assert_eq!(
            text(service, &["spec", "loadBalancerSourceRanges", "0"]),
            "203.0.113.0/24"
        );
        let a = |key: &str| {
            annotation(
                service,
                &format!("service.beta.kubernetes.io/aws-load-balancer-{key}"),
            )
        };
        assert_eq!(a("type"), Some("external"));
        assert_eq!(a("nlb-target-type"), Some("ip"));
        assert_eq!(a("scheme"), Some("internet-facing"));
        assert_eq!(
            a("attributes"),
            Some("load_balancing.cross_zone.enabled=true")
        );
        assert_eq!(a("additional-resource-tags"), Some("auto-delete=no"));
        assert_eq!(a("healthcheck-path"), Some(health));
        assert_eq!(a("ssl-cert"), None, "no TLS without a certificate");
    }
    // Port 80 on the NLB reaches Grafana's 3000 through the chart's named port.
    let grafana = find(&objects, "Service", "grafana");
    assert_eq!(
        at(grafana, &["spec", "ports", "0", "port"]),
        &Value::from(80)
    );
    assert_eq!(
        text(grafana, &["spec", "ports", "0", "targetPort"]),
        "grafana"
    );
    let pod = container(find(&objects, "Deployment", "grafana"), "grafana");
    let named = at(pod, &["ports"])
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| text(p, &["name"]) == "grafana")
        .expect("the named port");
    assert_eq!(at(named, &["containerPort"]), &Value::from(3000));
    let prometheus = find(&objects, "Service", "prometheus-server");
    assert_eq!(
        annotation(
            prometheus,
            "service.beta.kubernetes.io/aws-load-balancer-name"
        ),
        Some("bys-dev-nlb-eks-prometheus")
    );
    assert_eq!(
        annotation(grafana, "service.beta.kubernetes.io/aws-load-balancer-name"),
        None
    );
}

#[test]
fn alb_on_helm4() {
    crate::skip_without_helm!();
    check_alb(4);
}

#[test]
fn alb_on_helm3() {
    crate::skip_without_helm!();
    check_alb(3);
}

#[test]
fn nlb_on_helm4() {
    crate::skip_without_helm!();
    check_nlb(4);
}

#[test]
fn nlb_on_helm3() {
    crate::skip_without_helm!();
    check_nlb(3);
}

#[test]
fn nlb_with_a_certificate_listens_on_443() {
    crate::skip_without_helm!();
    let world = World::new();
    let Some(objects) = manifests(
        &world,
        4,
        &[
            "--profile",
            "example",
            "--exposure",
            "nlb",
            "-n",
            "monitoring",
            "--set",
            "nlb.certificateArn=arn:aws:acm:us-east-1:123456789012:certificate/abc",
        ],
    ) else {
        return;
    };
    for name in ["prometheus-server", "grafana"] {
        let service = find(&objects, "Service", name);
        assert_eq!(
            at(service, &["spec", "ports", "0", "port"]),
            &Value::from(443)
        );
        let a = |key: &str| {
            annotation(
                service,
                &format!("service.beta.kubernetes.io/aws-load-balancer-{key}"),
            )
        };
        assert_eq!(
            a("ssl-cert"),
            Some("arn:aws:acm:us-east-1:123456789012:certificate/abc")
        );
        assert_eq!(a("ssl-ports"), Some("443"));
    }
    let config = find(&objects, "ConfigMap", "grafana");
    let datasources = yaml::parse(text(config, &["data", "datasources.yaml"])).unwrap();
    assert_eq!(
        text(&datasources, &["datasources", "0", "url"]),
        "http://prometheus-server.monitoring.svc.cluster.local:443"
    );
}

#[test]
fn none_is_cluster_internal() {
    crate::skip_without_helm!();
    let world = World::new();
    let Some(objects) = manifests(
        &world,
        4,
        &[
            "--profile",
            "example",
            "--exposure",
            "none",
            "-n",
            "monitoring",
        ],
    ) else {
        return;
    };
    assert_common(&objects);
    assert!(!has(&objects, "Ingress"));
    for name in ["prometheus-server", "grafana"] {
        let service = find(&objects, "Service", name);
        assert_eq!(text(service, &["spec", "type"]), "ClusterIP");
        assert!(
            service
                .get("metadata")
                .and_then(|m| m.get("annotations"))
                .is_none()
        );
    }
}

#[test]
fn optional_alb_annotations_when_set() {
    crate::skip_without_helm!();
    let world = World::new();
    let Some(objects) = manifests(
        &world,
        4,
        &[
            "--profile",
            "example",
            "--exposure",
            "alb",
            "-n",
            "monitoring",
            "--set",
            "alb.inboundCidrs=[10.0.0.0/8, 192.168.0.0/16]",
            "--set",
            "alb.wafv2AclArn=arn:aws:wafv2:ap-northeast-2:558846430793:regional/webacl/mon/0a1b",
            "--set",
            "alb.auth={type: oidc, issuer: 'https://idp.example.com', authorizationEndpoint: 'https://idp.example.com/auth', tokenEndpoint: 'https://idp.example.com/token', userInfoEndpoint: 'https://idp.example.com/userinfo', secretName: grafana-oidc}",
        ],
    ) else {
        return;
    };
    let ingress = find(&objects, "Ingress", "grafana");
    let a = |key: &str| annotation(ingress, &format!("alb.ingress.kubernetes.io/{key}"));
    assert_eq!(a("inbound-cidrs"), Some("10.0.0.0/8,192.168.0.0/16"));
    assert_eq!(
        a("wafv2-acl-arn"),
        Some("arn:aws:wafv2:ap-northeast-2:558846430793:regional/webacl/mon/0a1b")
    );
    assert_eq!(a("auth-type"), Some("oidc"));
    assert_eq!(a("auth-scope"), Some("openid"));
    assert_eq!(a("auth-on-unauthenticated-request"), Some("authenticate"));
    let idp: serde_json::Value = serde_json::from_str(a("auth-idp-oidc").unwrap()).unwrap();
    assert_eq!(idp["secretName"], "grafana-oidc");
    assert_eq!(idp["tokenEndpoint"], "https://idp.example.com/token");
}

#[test]
fn release_names_reach_the_datasource() {
    crate::skip_without_helm!();
    let Some(prometheus_chart) = real_chart("prometheus") else {
        return;
    };
    let world = World::new();
    world
        .eksmon()
        .args([
            "render",
            "--out-dir",
            "values",
            "-n",
            "obs",
            "--set",
            "prometheus.release=metrics",
        ])
        .assert()
        .success();
    let output = Command::new(helm(4))
        .args(["template", "metrics"])
        .arg(prometheus_chart)
        .args(["-n", "obs", "-f"])
        .arg(world.path().join("values/prometheus-values.yaml"))
        .output()
        .unwrap();
    let objects = yaml::parse_all(&String::from_utf8(output.stdout).unwrap()).unwrap();
    find(&objects, "Service", "metrics-prometheus-server");
    let grafana = std::fs::read_to_string(world.path().join("values/grafana-values.yaml")).unwrap();
    assert!(grafana.contains("http://metrics-prometheus-server.obs.svc.cluster.local"));
}

/// grafana.com dashboards come only when a profile names them by id; the chart's init
/// container then downloads exactly those, beside eksmon's own.
#[test]
fn grafana_com_dashboards_only_by_id() {
    crate::skip_without_helm!();
    let world = World::new();
    let Some(objects) = manifests(
        &world,
        4,
        &[
            "--set",
            "grafana.dashboards=[nodes, {gnetId: 1860, revision: 37}, {gnetId: 315}]",
        ],
    ) else {
        return;
    };
    let config = find(&objects, "ConfigMap", "grafana");
    let script = text(config, &["data", "download_dashboards.sh"]);
    assert!(
        script.contains("https://grafana.com/api/dashboards/1860/revisions/37/download"),
        "{script}"
    );
    assert!(
        script.contains("https://grafana.com/api/dashboards/315/revisions/"),
        "{script}"
    );
    let dashboards = find(&objects, "ConfigMap", "grafana-dashboards-eksmon");
    let shipped: Vec<&str> = dashboards["data"]
        .as_mapping()
        .unwrap()
        .keys()
        .filter_map(|k| k.as_str())
        .collect();
    assert_eq!(shipped, ["nodes.json"]);
}
