//! `eksmon doctor` on real objects, in a control plane of its own: the checks look at
//! cluster-wide objects (Nodes, CSIDrivers, IngressClasses, Deployments in every namespace)
//! that the other tests must not see change under them.

use crate::control_plane::ControlPlane;
use crate::{Kube, run};

/// (level, check, message) rows of `doctor --output json`.
fn findings(kube: &Kube, extra: &[&str]) -> (i32, Vec<(String, String, String, String)>) {
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["doctor", "--output", "json"])
        .args(kube.profile())
        .args(extra));
    let rows: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    crate::common::assert_json_conventions(&rows, &[]);
    assert!(
        rows.as_array()
            .is_some_and(|all| all.iter().all(|f| f.get("hint").is_some())),
        "{rows}"
    );
    let rows = rows
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let field = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (
                field("level"),
                field("check"),
                field("message"),
                field("hint"),
            )
        })
        .collect();
    (code, rows)
}

fn level_of<'a>(rows: &'a [(String, String, String, String)], check: &str) -> Vec<&'a str> {
    rows.iter()
        .filter(|r| r.1 == check)
        .map(|r| r.0.as_str())
        .collect()
}

#[test]
fn doctor_on_real_objects() {
    if !crate::common::helm_available() {
        return;
    }
    let Some(cluster) = ControlPlane::start() else {
        return;
    };
    let cluster: &'static ControlPlane = Box::leak(Box::new(cluster));
    let kube = Kube::on(cluster, "doc", 4);

    // An empty cluster: everything an ALB install needs is missing.
    let (code, rows) = findings(&kube, &[]);
    assert_eq!(code, 1, "{rows:?}");
    for check in ["storageclass", "ebs-csi", "ingressclass", "lb-controller"] {
        assert_eq!(level_of(&rows, check), ["fail"], "{check}: {rows:?}");
    }
    assert_eq!(level_of(&rows, "namespace"), ["warn"]);
    assert_eq!(level_of(&rows, "nodes"), ["warn"]);
    assert_eq!(level_of(&rows, "network-policy"), ["warn"]);
    assert_eq!(level_of(&rows, "releases"), ["ok", "ok"]);
    let cluster_row = rows.iter().find(|r| r.1 == "cluster").expect("cluster row");
    assert!(cluster_row.2.contains("cluster v1.35.6"), "{cluster_row:?}");

    // What an EKS cluster with the add-ons has.
    kube.apply(concat!(
        "apiVersion: v1\nkind: Node\nmetadata: {name: ip-10-0-1-10.ec2.internal}\n---\n",
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: fargate-ip-10-0-2-20.ec2.internal\n  labels: {eks.amazonaws.com/compute-type: fargate}\n---\n",
        "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: ebs.csi.aws.com}\nspec: {attachRequired: true}\n---\n",
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: alb}\nspec: {controller: ingress.k8s.aws/alb}\n---\n",
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: ebs-sc-gp3}\nprovisioner: ebs.csi.aws.com\n---\n",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: aws-node, namespace: kube-system}\nspec:\n  selector: {matchLabels: {k8s-app: aws-node}}\n  template:\n    metadata: {labels: {k8s-app: aws-node}}\n    spec: {containers: [{name: aws-eks-nodeagent, image: nodeagent, args: [--enable-network-policy=true]}]}\n---\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: aws-load-balancer-controller\n  namespace: kube-system\n  labels: {app.kubernetes.io/name: aws-load-balancer-controller}\n",
        "spec:\n  replicas: 1\n  selector: {matchLabels: {app: lbc}}\n  template:\n    metadata: {labels: {app: lbc}}\n    spec: {containers: [{name: controller, image: public.ecr.aws/eks/aws-load-balancer-controller}]}\n",
    ));
    // The controller is there but not ready yet.
    let (code, rows) = findings(&kube, &[]);
    assert_eq!(code, 1);
    assert_eq!(level_of(&rows, "network-policy"), ["ok"], "{rows:?}");
    assert_eq!(level_of(&rows, "lb-controller"), ["fail"]);
    let lbc = rows.iter().find(|r| r.1 == "lb-controller").expect("row");
    assert!(lbc.2.contains("no ready pod"), "{lbc:?}");
    // No kubelet here: mark its pod Ready the way a kubelet would, and the Deployment follows.
    crate::lifecycle::wait_for(
        || {
            !kube
                .kubectl_ok(&[
                    "get",
                    "pods",
                    "--namespace",
                    "kube-system",
                    "--selector",
                    "app=lbc",
                    "--output",
                    "name",
                ])
                .is_empty()
        },
        "the controller's pod",
    );
    for pod in kube
        .kubectl_ok(&[
            "get",
            "pods",
            "--namespace",
            "kube-system",
            "--selector",
            "app=lbc",
            "--output",
            "name",
        ])
        .lines()
    {
        kube.kubectl_ok(&[
            "patch",
            pod,
            "--namespace",
            "kube-system",
            "--subresource=status",
            "--type=merge",
            "--patch",
            r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#,
        ]);
    }
    crate::lifecycle::wait_for(
        || {
            kube.kubectl_json(&[
                "get",
                "deployment",
                "aws-load-balancer-controller",
                "--namespace",
                "kube-system",
            ])["status"]["readyReplicas"]
                == 1
        },
        "the controller Deployment to be ready",
    );
    for helm in [3, 4] {
        let kube = Kube::on(cluster, "doc", helm);
        let (code, rows) = findings(&kube, &[]);
        assert_eq!(code, 0, "helm {helm}: {rows:?}");
        assert!(
            rows.iter().all(|r| r.0 == "ok" || r.1 == "namespace"),
            "helm {helm}: {rows:?}"
        );
        let nodes = rows.iter().find(|r| r.1 == "nodes").expect("nodes row");
        assert_eq!(nodes.2, "2 nodes (1 Fargate)");
    }

    // Only Fargate nodes: node-exporter and EBS volumes have nowhere to go.
    kube.kubectl_ok(&["delete", "node", "ip-10-0-1-10.ec2.internal"]);
    let (_, rows) = findings(&kube, &[]);
    assert_eq!(level_of(&rows, "nodes"), ["warn"]);
    assert!(
        rows.iter()
            .any(|r| r.1 == "nodes" && r.2.contains("all 1 nodes are Fargate")),
        "{rows:?}"
    );

    // NLB needs no IngressClass; a missing class is fine when install creates it.
    kube.kubectl_ok(&["delete", "ingressclass", "alb"]);
    kube.kubectl_ok(&["delete", "storageclass", "ebs-sc-gp3"]);
    let (_, rows) = findings(
        &kube,
        &["--exposure", "nlb", "--set", "createStorageClass=true"],
    );
    assert!(level_of(&rows, "ingressclass").is_empty(), "{rows:?}");
    assert_eq!(level_of(&rows, "storageclass"), ["ok"]);
    assert_eq!(level_of(&rows, "lb-controller"), ["ok"]);

    aws_roles(&kube);

    // A release left pending by a killed helm, and a same-named release in another namespace.
    for helm in [3, 4] {
        pending_and_elsewhere(cluster, helm);
    }
    cluster.shutdown();
}

fn pending_and_elsewhere(cluster: &'static ControlPlane, helm: u8) {
    let kube = Kube::on(cluster, &format!("pend{helm}"), helm);
    let grafana_chart = crate::chart_archive(&crate::pins::archive("grafana"));
    let mut install = kube.helm();
    install
        .args(["upgrade", "--install", &kube.grafana])
        .arg(&grafana_chart)
        .args([
            "--namespace",
            &kube.namespace,
            "--create-namespace",
            "--wait",
            "--timeout",
            "120s",
        ]);
    let mut helm_process = install
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("helm");
    crate::lifecycle::wait_for(
        || {
            kube.releases()
                .iter()
                .any(|(_, _, status)| status == "pending-install")
        },
        "helm to record the release as pending-install",
    );
    helm_process.kill().expect("kill helm");
    let _ = helm_process.wait();
    let other = format!("other{helm}");
    let output = kube
        .helm()
        .args(["install", &kube.prometheus])
        .arg(&grafana_chart)
        .args(["--namespace", &other, "--create-namespace"])
        .output()
        .expect("helm install");
    assert!(output.status.success(), "{output:?}");

    let (code, rows) = findings(&kube, &["--exposure", "none"]);
    assert_eq!(code, 1, "helm {helm}: {rows:?}");
    let releases: Vec<_> = rows.iter().filter(|r| r.1 == "releases").collect();
    let pending = releases
        .iter()
        .find(|r| r.2.contains("pending-install"))
        .unwrap_or_else(|| panic!("helm {helm}: no pending finding in {releases:?}"));
    assert_eq!(pending.0, "fail");
    assert!(
        pending.2.contains(&format!("namespace {}", kube.namespace)),
        "{pending:?}"
    );
    let recovery = format!(
        "helm uninstall {} --namespace {}",
        kube.grafana, kube.namespace
    );
    assert!(pending.3.contains(&recovery), "{pending:?}");
    let elsewhere = releases
        .iter()
        .find(|r| {
            r.2.contains(&format!("is also installed in namespace {other}"))
        })
        .unwrap_or_else(|| panic!("helm {helm}: no finding for {other} in {releases:?}"));
    assert_eq!(elsewhere.0, "fail");
    assert!(
        elsewhere.3.contains(&format!(
            "helm uninstall {} --namespace {other}",
            kube.prometheus
        )),
        "{elsewhere:?}"
    );

    // diff says the same instead of failing on helm's "another operation is in progress".
    let (code, _, stderr) = crate::run(
        kube.eksmon()
            .args(["diff", "grafana", "--exposure", "none"])
            .args(kube.profile()),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: {}: {} is pending-install (revision 1)",
            kube.grafana, kube.grafana
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "hint: when no other helm works on it, free it with `{recovery}`"
        )),
        "{stderr}"
    );

    // The printed recovery works as printed.
    let words: Vec<&str> = recovery.split(' ').collect();
    let output = kube
        .helm()
        .args(&words[1..])
        .output()
        .expect("helm uninstall");
    assert!(output.status.success(), "{output:?}");
    let (_, rows) = findings(&kube, &["--exposure", "none"]);
    assert!(
        rows.iter().any(|r| r.1 == "releases"
            && r.0 == "ok"
            && r.2 == format!("{}: not installed yet", kube.grafana)),
        "{rows:?}"
    );
}

#[test]
fn unreachable_cluster_stops_early() {
    let Some(kube) = Kube::new("unreach", 4) else {
        return;
    };
    let kubeconfig = kube.closed_kubeconfig();
    let kube = kube.with_identity(kubeconfig);
    let (code, stdout, _) = run(kube.eksmon().arg("doctor").args(kube.profile()));
    assert_eq!(code, 1);
    assert!(
        stdout.contains("fail  cluster  cannot reach the cluster (current context)"),
        "{stdout}"
    );
    assert!(stdout.contains("refused"), "{stdout}");
    assert!(!stdout.contains("storageclass"), "{stdout}");
}

/// With AMP, doctor reads the annotations of the accounts `eksmon iam` names.
fn aws_roles(kube: &Kube) {
    let ns = &kube.namespace;
    let role = "arn:aws:iam::123456789012:role/amp-ingest";
    let irsa = kube.world.write(
        "amp.yaml",
        &format!("amp: {{workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef, region: eu-west-1, roleArn: '{role}'}}\n"),
    );
    let irsa = irsa.display().to_string();
    let aws_role = |extra: &[&str]| {
        let (_, rows) = findings(kube, extra);
        rows.into_iter()
            .filter(|r| r.1 == "aws-role")
            .map(|r| (r.0, r.2))
            .collect::<Vec<_>>()
    };
    // Before install: nothing to read yet.
    let rows = aws_role(&["--profile", &irsa]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "ok", "{rows:?}");
    // The account without its annotation: the 403 to come.
    let server = format!("{}-server", kube.prometheus);
    kube.kubectl_ok(&["create", "namespace", ns]);
    kube.kubectl_ok(&["create", "serviceaccount", &server, "--namespace", ns]);
    let rows = aws_role(&["--profile", &irsa]);
    assert_eq!(rows[0].0, "fail", "{rows:?}");
    assert!(rows[0].1.contains("403"), "{rows:?}");
    // Another role: named in the message.
    let annotate = |value: &str| {
        kube.kubectl_ok(&[
            "annotate",
            "serviceaccount",
            &server,
            "--namespace",
            ns,
            "--overwrite",
            &format!("eks.amazonaws.com/role-arn={value}"),
        ]);
    };
    annotate("arn:aws:iam::123456789012:role/other");
    let rows = aws_role(&["--profile", &irsa]);
    assert_eq!(rows[0].0, "fail", "{rows:?}");
    assert!(rows[0].1.contains("role/other"), "{rows:?}");
    annotate(role);
    let rows = aws_role(&["--profile", &irsa]);
    assert_eq!(rows[0].0, "ok", "{rows:?}");
    // Pod Identity with an IRSA annotation left over: half set.
    let rows = aws_role(&["--profile", &irsa, "--set", "amp.auth=podIdentity"]);
    assert_eq!(rows[0].0, "warn", "{rows:?}");
    kube.kubectl_ok(&["delete", "namespace", ns, "--wait=false"]);
}
