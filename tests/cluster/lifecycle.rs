//! install → status → grafana-password → uninstall, on the real cluster, with both helms.

use crate::{Kube, kube_or_skip, run};
use eksmon::yaml::Value;

/// One `#[test]` per helm major for a scenario `fn(u8)`.
macro_rules! with_both_helms {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn helm3() {
                super::$scenario(3)
            }
            #[test]
            fn helm4() {
                super::$scenario(4)
            }
        }
    )*};
}
pub(crate) use with_both_helms;

with_both_helms!(
    alb_lifecycle,
    nlb_install,
    none_install,
    dry_run_against_the_cluster,
    storage_class_created_once,
    status_with_one_release_missing,
    without_grafana,
);

/// `grafana.enabled: false`: every command acts on the Prometheus release alone.
fn without_grafana(helm: u8) {
    let kube = kube_or_skip!(&format!("nograf{helm}"), helm);
    let off = ["--set", "grafana.enabled=false"];
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .args(off)
        .args(["--exposure", "none"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("for a Grafana of your own"), "{stderr}");
    let names: Vec<String> = kube.releases().into_iter().map(|r| r.0).collect();
    assert_eq!(names, std::slice::from_ref(&kube.prometheus));
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["status", "--output", "json"])
        .args(kube.profile())
        .args(off));
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["release"], kube.prometheus.as_str());
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("grafana-password")
        .args(kube.profile())
        .args(off));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("grafana.enabled is false"), "{stderr}");
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["uninstall", "--yes"])
        .args(kube.profile())
        .args(off));
    assert_eq!(code, 0, "{stderr}");
    assert!(kube.releases().is_empty());
}

/// The annotations of a live object, without the ones helm adds for its own bookkeeping.
fn live_annotations(object: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut annotations = object["metadata"]["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    annotations.retain(|key, _| !key.starts_with("meta.helm.sh/"));
    annotations
}

/// A rendered annotations map as JSON, to compare with the live object's.
fn rendered_annotations(
    values: &Value,
    path: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    let node = crate::common::at(values, path);
    let json = serde_json::to_value(node).expect("annotations as JSON");
    json.as_object().cloned().unwrap_or_default()
}

fn alb_lifecycle(helm: u8) {
    let kube = kube_or_skip!(&format!("alb{helm}"), helm);
    let ns = kube.namespace.clone();

    // First install: both releases deployed at revision 1.
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .arg("--allow-public"));
    assert_eq!(code, 0, "{stderr}");
    // Not run on a terminal, progress is plain lines: each release says it is installed.
    for release in [&kube.prometheus, &kube.grafana] {
        assert!(
            stderr.contains(&format!("{release}: installing with ")),
            "{stderr}"
        );
    }
    assert!(!stderr.contains("upgrading"), "{stderr}");
    let mut releases = kube.releases();
    releases.sort();
    assert_eq!(
        releases,
        [
            (kube.grafana.clone(), "1".into(), "deployed".into()),
            (kube.prometheus.clone(), "1".into(), "deployed".into()),
        ]
    );

    // The Ingresses in the cluster carry exactly the rendered annotations.
    let server = format!("{}-server", kube.prometheus);
    let prometheus_values = kube.rendered("prometheus", &[]);
    let grafana_values = kube.rendered("grafana", &[]);
    let ingress = kube.kubectl_json(&["get", "ingress", &server, "--namespace", &ns]);
    assert_eq!(
        live_annotations(&ingress),
        rendered_annotations(&prometheus_values, &["server", "ingress", "annotations"])
    );
    assert_eq!(ingress["spec"]["ingressClassName"], "alb");
    assert_eq!(
        ingress["spec"]["rules"][0]["host"],
        "prometheus-main.bys.world"
    );
    let grafana_ingress = kube.kubectl_json(&["get", "ingress", &kube.grafana, "--namespace", &ns]);
    assert_eq!(
        live_annotations(&grafana_ingress),
        rendered_annotations(&grafana_values, &["ingress", "annotations"])
    );

    // The data-holding claims are kept by helm on uninstall.
    for claim in [&server, &kube.grafana] {
        let pvc = kube.kubectl_json(&["get", "persistentvolumeclaim", claim, "--namespace", &ns]);
        assert_eq!(
            pvc["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
            "{claim}"
        );
        assert_eq!(pvc["spec"]["storageClassName"], "ebs-sc-gp3");
    }
    // eksmon's rules land in the chart's ConfigMap, and a full volume cannot stop Prometheus.
    let config = kube.kubectl_json(&["get", "configmap", &server, "--namespace", &ns]);
    let alerting = config["data"]["alerting_rules.yml"]
        .as_str()
        .expect("alerting rules");
    assert!(
        alerting.contains("alert: KubePodCrashLooping"),
        "{alerting}"
    );
    assert!(
        alerting.contains("{{ $labels.namespace }}"),
        "templates reach Prometheus intact"
    );
    let deployment = kube.kubectl_json(&["get", "deployment", &server, "--namespace", &ns]);
    let args = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "prometheus-server"))
        .map(|c| c["args"].to_string())
        .unwrap_or_default();
    assert!(
        args.contains("--storage.tsdb.retention.size=46080MB"),
        "{args}"
    );
    let alertmanager_claim = format!("storage-{}-alertmanager-0", kube.prometheus);
    wait_for(
        || kube.claims().contains(&alertmanager_claim),
        "the alertmanager claim",
    );

    // A second install with nothing changed leaves both releases alone: no new revision.
    let install = |extra: &[&str]| {
        let (code, _, stderr) = run(kube
            .eksmon()
            .arg("install")
            .args(kube.profile())
            .args(["--allow-public", "--kube-context", "test"])
            .args(extra));
        assert_eq!(code, 0, "{stderr}");
        stderr
    };
    let revision_of = |release: &str| -> String {
        let releases = kube.releases();
        let found = releases.iter().find(|(name, _, _)| name == release);
        found
            .map(|(_, revision, _)| revision.clone())
            .unwrap_or_default()
    };
    let revisions = || [revision_of(&kube.prometheus), revision_of(&kube.grafana)];
    let install_stderr = install(&[]);
    assert_eq!(revisions(), ["1", "1"], "{install_stderr}");
    for release in [&kube.prometheus, &kube.grafana] {
        assert!(
            install_stderr.contains(&format!("{release}: unchanged (revision 1)")),
            "{install_stderr}"
        );
    }
    // --reconcile upgrades anyway (helm repairs what was changed by hand): revision 2.
    let install_stderr = install(&["--reconcile"]);
    assert!(
        kube.releases()
            .iter()
            .all(|(_, revision, status)| revision == "2" && status == "deployed")
    );
    assert!(
        install_stderr.contains(&format!("{}: upgrading with cached chart", kube.grafana)),
        "{install_stderr}"
    );
    // An upgrade made by hand with other values is noticed: only that release is upgraded.
    let grafana_chart = crate::chart_archive(&crate::pins::archive("grafana"));
    let hand = kube
        .helm()
        .args(["upgrade", &kube.grafana])
        .arg(&grafana_chart)
        .args([
            "--namespace",
            &kube.namespace,
            "--reuse-values",
            "--set",
            "podLabels.by=hand",
        ])
        .output()
        .expect("helm upgrade");
    assert!(
        hand.status.success(),
        "{}",
        String::from_utf8_lossy(&hand.stderr)
    );
    let install_stderr = install(&[]);
    assert!(
        install_stderr.contains(&format!("{}: unchanged (revision 2)", kube.prometheus)),
        "{install_stderr}"
    );
    assert!(
        install_stderr.contains(&format!("{}: upgrading with cached chart", kube.grafana)),
        "{install_stderr}"
    );
    assert_eq!(revisions(), ["2", "4"], "{install_stderr}");

    // status: both releases, then the ALB's address once the controller would have set it.
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["status", "--output", "json"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(rows[0]["release"], kube.prometheus.as_str());
    assert_eq!(rows[0]["status"], "deployed");
    assert_eq!(rows[0]["revision"], 2);
    assert_eq!(
        rows[0]["chart"],
        &*format!(
            "prometheus-{prometheus_pin}",
            prometheus_pin = crate::pins::version("prometheus")
        )
    );
    assert_eq!(rows[0]["namespace"], ns.as_str());
    assert_eq!(rows[0]["exposed"]["kind"], "Ingress");
    assert_eq!(
        rows[0]["exposed"]["url"],
        "https://prometheus-main.bys.world"
    );
    assert_eq!(rows[0]["exposed"]["address"], serde_json::Value::Null);
    assert!(rows[0]["appVersion"].is_string(), "{rows}");
    // The previous release's keys stay for one release, with a warning; the rest keeps the
    // convention.
    assert_eq!(rows[0]["app_version"], rows[0]["appVersion"], "{rows}");
    assert_eq!(rows[0]["url"], rows[0]["exposed"]["url"], "{rows}");
    assert!(stderr.contains("warning: status --output json: the keys `app_version`, `url` and `address` are deprecated"), "{stderr}");
    let mut current = rows.clone();
    for row in current.as_array_mut().into_iter().flatten() {
        for old in ["app_version", "url", "address"] {
            row.as_object_mut().map(|r| r.remove(old));
        }
    }
    crate::common::assert_json_conventions(&current, &[]);
    assert_eq!(rows[1]["release"], kube.grafana.as_str());
    assert_eq!(rows[1]["status"], "deployed");
    let alb = "k8s-ekssmonitoring-0123456789.ap-northeast-2.elb.amazonaws.com";
    kube.kubectl_ok(&[
        "patch",
        "ingress",
        &server,
        "--namespace",
        &ns,
        "--subresource=status",
        "--type=merge",
        "--patch",
        &format!(r#"{{"status":{{"loadBalancer":{{"ingress":[{{"hostname":"{alb}"}}]}}}}}}"#),
    ]);
    // Global options go before the subcommand too; --kubeconfig instead of $KUBECONFIG.
    let (code, stdout, _) = run(kube
        .eksmon()
        .env_remove("KUBECONFIG")
        .arg("--kubeconfig")
        .arg(&kube.cluster.kubeconfig)
        .args(["--kube-context", "test", "status", "--output", "json"])
        .args(kube.profile()));
    assert_eq!(code, 0);
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(rows[0]["exposed"]["address"], alb);
    let (code, table, _) = run(kube.eksmon().arg("status").args(kube.profile()));
    assert_eq!(code, 0);
    let line = table
        .lines()
        .find(|l| l.starts_with(&kube.prometheus))
        .expect("a prometheus row");
    assert!(
        line.contains("deployed")
            && line.ends_with(&format!("https://prometheus-main.bys.world ({alb})")),
        "{table}"
    );

    // grafana-password: exactly what eksmon's Secret holds, which eksmon made at random.
    let admin = format!("{}-admin", kube.grafana);
    let secret = kube.kubectl_json(&["get", "secret", &admin, "--namespace", &ns]);
    assert_eq!(
        secret["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "eksmon"
    );
    let encoded = secret["data"]["admin-password"]
        .as_str()
        .expect("admin-password");
    let expected = eksmon::kube::decode_secret(encoded).expect("decoded");
    assert!(
        expected.len() == 40 && expected.chars().all(|c| c.is_ascii_alphanumeric()),
        "a generated password"
    );
    assert!(
        !install_stderr.contains(&expected),
        "the password is never printed by install"
    );
    let (code, stdout, stderr) = run(kube.eksmon().arg("grafana-password").args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("{expected}\n"));
    assert!(!stderr.contains(&expected));
    // The command install printed works as printed (same profiles, namespace and context).
    let printed = install_stderr
        .lines()
        .find_map(|l| l.split("admin password: ").nth(1))
        .unwrap_or_else(|| panic!("no password command in {install_stderr}"));
    assert!(
        printed.ends_with(&format!("-n {ns} --kube-context test")),
        "{printed}"
    );
    let words: Vec<&str> = printed.split(' ').collect();
    assert_eq!(words[..2], ["eksmon", "grafana-password"]);
    let (code, stdout, stderr) = run(kube.eksmon().args(&words[1..]));
    assert_eq!(code, 0, "{printed}: {stderr}");
    assert_eq!(stdout, format!("{expected}\n"));

    // uninstall keeps all three claims and says so; --delete-data then removes exactly those.
    let mut claims = vec![
        alertmanager_claim.clone(),
        server.clone(),
        kube.grafana.clone(),
    ];
    claims.sort();
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["uninstall", "--yes"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(kube.releases().is_empty(), "{:?}", kube.releases());
    assert_eq!(kube.claims(), claims);
    for claim in &claims {
        assert!(
            stderr.contains(&format!("kept: persistentvolumeclaim/{claim} (")),
            "{stderr}"
        );
    }
    kube.apply(&format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: unrelated, namespace: {ns}}}\nspec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
    ));
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["uninstall", "--yes", "--delete-data"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("{}: deleted 1 volume claim(s)", kube.grafana)),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}: deleted 2 volume claim(s)", kube.prometheus)),
        "{stderr}"
    );
    assert_eq!(kube.claims(), ["unrelated"]);
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["uninstall", "--yes", "--delete-data"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("{}: deleted 0 volume claim(s)", kube.grafana)),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}: deleted 0 volume claim(s)", kube.prometheus)),
        "{stderr}"
    );
}

fn nlb_install(helm: u8) {
    let kube = kube_or_skip!(&format!("nlb{helm}"), helm);
    let ns = kube.namespace.clone();
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .args(["--exposure", "nlb", "--allow-public"])
        .args(["--set", "prometheus.eksControlPlane=true"]));
    assert_eq!(code, 0, "{stderr}");
    // The server may read the EKS control-plane metrics API.
    let role = kube.kubectl_json(&[
        "get",
        "clusterrole",
        &format!("{}-server-eks-control-plane", kube.prometheus),
    ]);
    assert_eq!(
        role["rules"][0]["apiGroups"][0],
        "metrics.eks.amazonaws.com"
    );
    // The API itself exists only on EKS: ask RBAC directly whether the server may read it.
    let review = kube.world.write(
        "review.yaml",
        &format!(
            "apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec:\n  user: system:serviceaccount:{ns}:{}-server\n  resourceAttributes: {{group: metrics.eks.amazonaws.com, resource: ksh, subresource: metrics, verb: get}}\n",
            kube.prometheus
        ),
    );
    let answer = kube.kubectl_json(&["create", "--filename", &review.display().to_string()]);
    assert_eq!(answer["status"]["allowed"], true, "{answer}");
    let server = format!("{}-server", kube.prometheus);
    for (service, values, path) in [
        (
            &server,
            kube.rendered("prometheus", &["--exposure", "nlb"]),
            &["server", "service", "annotations"][..],
        ),
        (
            &kube.grafana,
            kube.rendered("grafana", &["--exposure", "nlb"]),
            &["service", "annotations"][..],
        ),
    ] {
        let live = kube.kubectl_json(&["get", "service", service, "--namespace", &ns]);
        assert_eq!(live["spec"]["type"], "LoadBalancer", "{service}");
        assert_eq!(
            live_annotations(&live),
            rendered_annotations(&values, path),
            "{service}"
        );
    }
    let ingresses = kube.kubectl_json(&["get", "ingresses", "--namespace", &ns]);
    assert_eq!(ingresses["items"].as_array().map(Vec::len), Some(0));

    let nlb = "bys-dev-nlb-eks-prometheus-0123456789.elb.ap-northeast-2.amazonaws.com";
    kube.kubectl_ok(&[
        "patch",
        "service",
        &server,
        "--namespace",
        &ns,
        "--subresource=status",
        "--type=merge",
        "--patch",
        &format!(r#"{{"status":{{"loadBalancer":{{"ingress":[{{"hostname":"{nlb}"}}]}}}}}}"#),
    ]);
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["status", "--output", "json", "--exposure", "nlb"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(rows[0]["exposed"]["address"], nlb);
    assert_eq!(rows[0]["exposed"]["url"], format!("http://{nlb}"));
    assert_eq!(rows[1]["exposed"]["kind"], "Service");
    assert_eq!(rows[1]["exposed"]["address"], serde_json::Value::Null);
    // A host in the profile is not an address: with an ALB host mixed in, still the NLB.
    let (code, table, stderr) = run(kube
        .eksmon()
        .args([
            "status",
            "--exposure",
            "nlb",
            "--set",
            "prometheus.host=prometheus.example.com",
        ])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(!table.contains("prometheus.example.com"), "{table}");
    assert!(table.contains(&format!("http://{nlb}")), "{table}");
}

fn none_install(helm: u8) {
    let kube = kube_or_skip!(&format!("none{helm}"), helm);
    let ns = kube.namespace.clone();
    // A Slack receiver whose URL stays in its Secret.
    let receiver = kube.world.write(
        "receiver.yaml",
        "alerting:\n  receivers:\n    - {name: oncall, type: slack, secretName: am-slack, channel: '#alerts'}\n\
         cluster: {name: bys-dev}\n\
         amp:\n  workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef\n  region: ap-northeast-2\n\
         \x20 roleArn: arn:aws:iam::123456789012:role/bys-dev-amp-writer\n\
         grafana: {datasource: amp}\n",
    );
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .arg("--profile")
        .arg(&receiver)
        .args(["--exposure", "none"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("warning:"), "nothing is public: {stderr}");
    let services = kube.kubectl_json(&["get", "services", "--namespace", &ns]);
    let items = services["items"].as_array().cloned().unwrap_or_default();
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|s| s["spec"]["type"] == "ClusterIP"),
        "{services}"
    );
    let ingresses = kube.kubectl_json(&["get", "ingresses", "--namespace", &ns]);
    assert_eq!(ingresses["items"].as_array().map(Vec::len), Some(0));
    // status: the profile's hosts are not addresses; nothing exposes these releases.
    let (code, table, status_stderr) = run(kube
        .eksmon()
        .args(["status", "--exposure", "none"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{status_stderr}");
    assert_eq!(table.matches("not exposed").count(), 2, "{table}");
    assert!(!table.contains("bys.world"), "{table}");
    let (_, json, _) = run(kube
        .eksmon()
        .args(["status", "--exposure", "none", "-o", "json"])
        .args(kube.profile()));
    let rows: serde_json::Value = serde_json::from_str(&json).expect("status JSON");
    assert!(
        rows[0]["exposed"].is_null() && rows[1]["exposed"].is_null(),
        "{rows}"
    );
    // Alertmanager reads the Slack URL from the mounted Secret: referenced, not copied.
    let alertmanager = format!("{}-alertmanager", kube.prometheus);
    let config = kube.kubectl_json(&["get", "configmap", &alertmanager, "--namespace", &ns]);
    let am_yml = config["data"]["alertmanager.yml"]
        .as_str()
        .expect("alertmanager.yml");
    assert!(
        am_yml.contains("api_url_file: /etc/alertmanager/secrets/oncall/url"),
        "{am_yml}"
    );
    let statefulset = kube.kubectl_json(&["get", "statefulset", &alertmanager, "--namespace", &ns]);
    let volumes = statefulset["spec"]["template"]["spec"]["volumes"].to_string();
    assert!(volumes.contains("\"secretName\":\"am-slack\""), "{volumes}");
    // AMP: the server's account carries the IRSA role; its config signs remote write in the
    // workspace's region and labels every series with the cluster.
    let server = format!("{}-server", kube.prometheus);
    let account = kube.kubectl_json(&["get", "serviceaccount", &server, "--namespace", &ns]);
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/bys-dev-amp-writer"
    );
    // Grafana queries AMP with the same role, on its own account.
    let grafana = kube.kubectl_json(&["get", "serviceaccount", &kube.grafana, "--namespace", &ns]);
    assert_eq!(
        grafana["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/bys-dev-amp-writer"
    );
    let config = kube.kubectl_json(&["get", "configmap", &server, "--namespace", &ns]);
    let prometheus_yml = config["data"]["prometheus.yml"]
        .as_str()
        .expect("prometheus.yml");
    let parsed: serde_json::Value =
        eksmon::yaml::from_str(prometheus_yml).expect("prometheus.yml is YAML");
    assert_eq!(parsed["global"]["external_labels"]["cluster"], "bys-dev");
    assert_eq!(
        parsed["remote_write"][0]["url"],
        "https://aps-workspaces.ap-northeast-2.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write"
    );
    assert_eq!(
        parsed["remote_write"][0]["sigv4"]["region"],
        "ap-northeast-2"
    );
    // The chart's own global settings survive next to the label.
    assert!(parsed["global"]["scrape_interval"].is_string(), "{parsed}");
    // The printed next steps work as printed: the namespace is in them.
    assert!(
        stderr.contains(&format!(
            "kubectl -n {ns} port-forward service/{}-server 9090:80",
            kube.prometheus
        )),
        "{stderr}"
    );
}

fn dry_run_against_the_cluster(helm: u8) {
    let kube = kube_or_skip!(&format!("dry{helm}"), helm);
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["install", "--dry-run"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("kind: StatefulSet"), "manifests on stdout");
    assert!(stdout.contains(&format!("name: {}-server", kube.prometheus)));
    assert!(!stdout.contains("admin-password:"), "Secrets are hidden");
    assert!(kube.releases().is_empty(), "nothing applied");
    assert!(
        stderr.contains(&format!(
            "secret dry{helm}/{}-admin: the values name it for Grafana's admin password; install makes it if it is missing",
            kube.grafana
        )),
        "{stderr}"
    );
    let namespaces = kube.kubectl_ok(&["get", "namespaces", "--output", "name"]);
    assert!(
        !namespaces.contains(&format!("namespace/{}\n", kube.namespace)),
        "{namespaces}"
    );
}

fn storage_class_created_once(helm: u8) {
    let kube = kube_or_skip!(&format!("sc{helm}"), helm);
    let class = format!("sc{helm}-gp3");
    let set = format!("storageClass={class}");
    let install_with = |kube: &Kube, extra: &[&str]| {
        run(kube
            .eksmon()
            .arg("install")
            .args(extra)
            .args(kube.profile())
            .args([
                "--exposure",
                "none",
                "--set",
                "createStorageClass=true",
                "--set",
                &set,
            ]))
    };
    let install = |kube: &Kube| install_with(kube, &[]);
    let dry_run = |kube: &Kube| install_with(kube, &["--dry-run"]);
    let (code, stdout, stderr) = dry_run(&kube);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("storageclass {class}: would be created (dry run)")),
        "{stderr}"
    );
    assert!(stdout.contains("kind: StorageClass"), "{stdout}");
    let (code, _, stderr) = install(&kube);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("storageclass {class}: created")),
        "{stderr}"
    );
    // Now it exists: a dry run says so, and shows no StorageClass to create.
    let (code, stdout, stderr) = dry_run(&kube);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("storageclass {class}: exists, left as it is")),
        "{stderr}"
    );
    assert!(!stderr.contains("would be created"), "{stderr}");
    assert!(!stdout.contains("kind: StorageClass"), "{stdout}");
    let created = kube.kubectl_json(&["get", "storageclass", &class]);
    assert_eq!(created["provisioner"], "ebs.csi.aws.com");
    assert_eq!(created["parameters"]["type"], "gp3");
    assert_eq!(created["parameters"]["encrypted"], "true");
    assert_eq!(created["volumeBindingMode"], "WaitForFirstConsumer");

    // Someone changes the class; the next install leaves it as it is.
    kube.kubectl_ok(&["label", "storageclass", &class, "owner=platform-team"]);
    kube.kubectl_ok(&[
        "annotate",
        "storageclass",
        &class,
        "storageclass.kubernetes.io/is-default-class=true",
    ]);
    let before = kube.kubectl_json(&["get", "storageclass", &class]);
    let (code, _, stderr) = install(&kube);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("storageclass {class}: exists, left as it is")),
        "{stderr}"
    );
    let after = kube.kubectl_json(&["get", "storageclass", &class]);
    assert_eq!(
        before["metadata"]["resourceVersion"],
        after["metadata"]["resourceVersion"]
    );
    assert_eq!(after["metadata"]["labels"]["owner"], "platform-team");
    kube.kubectl_ok(&["delete", "storageclass", &class]);
}

fn status_with_one_release_missing(helm: u8) {
    let kube = kube_or_skip!(&format!("one{helm}"), helm);
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["install", "--only", "prometheus", "--exposure", "none"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["status", "--output", "json", "--exposure", "none"])
        .args(kube.profile()));
    // The report is printed, and the exit code says not everything is deployed (as helm's).
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "\nerror: not every release is deployed: {} is not installed\n",
            kube.grafana
        )),
        "{stderr}"
    );
    assert_eq!(stderr.matches("error: ").count(), 1, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(rows[0]["status"], "deployed");
    assert_eq!(rows[1]["release"], kube.grafana.as_str());
    assert_eq!(rows[1]["status"], "not installed");
    let (code, table, _) = run(kube
        .eksmon()
        .args(["status", "--exposure", "none"])
        .args(kube.profile()));
    assert_eq!(code, 1);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(&kube.grafana) && l.contains("not installed")),
        "{table}"
    );

    // grafana-password on a missing Grafana says so, without kubectl's noise on top.
    let (code, stdout, stderr) = run(kube.eksmon().arg("grafana-password").args(kube.profile()));
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with(&format!(
            "error: Grafana's admin Secret `{}-admin` does not exist in namespace `{}`",
            kube.grafana, kube.namespace
        )),
        "{stderr}"
    );
    assert!(stderr.lines().count() <= 3, "{stderr}");
}

/// Polls `done` for up to 30 s.
pub(crate) fn wait_for(done: impl Fn() -> bool, what: &str) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed().as_secs() < 30,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
