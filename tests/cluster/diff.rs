//! `diff`, `install --diff`, `charts outdated` and `charts bump` on the real cluster, with both
//! helms, the real charts, and a loopback repository that also holds a newer Grafana chart
//! (packaged here from a copy of the real one).

use crate::lifecycle::with_both_helms;
use crate::server::Server;
use crate::{Kube, chart_archive, common, kube_or_skip, run};
use std::path::Path;
use std::process::Command;

with_both_helms!(
    diff_after_install_and_after_a_change,
    refused_volume_resize,
    outdated_and_bump,
    install_diff_asks_on_a_terminal,
    diff_after_a_failed_upgrade,
    grafana_admin_secret_of_eksmon,
);

/// `helm template` of eksmon's Grafana values with the real chart, as a GitOps engine renders.
fn helm_template(kube: &Kube, values: &Path) -> String {
    let output = kube
        .helm()
        .args(["template", &kube.grafana])
        .arg(chart_archive(&crate::pins::archive("grafana")))
        .args(["--namespace", &kube.namespace, "--values"])
        .arg(values)
        .output()
        .expect("helm template");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A Grafana installed before eksmon kept its password: eksmon adopts it. Renders are
/// deterministic, diff is quiet after install, rotation sets a new password, uninstall keeps
/// the Secret with the volume and deletes it with the volume.
fn grafana_admin_secret_of_eksmon(helm: u8) {
    let kube = kube_or_skip!(&format!("admin{helm}"), helm);
    let (ns, grafana) = (kube.namespace.clone(), kube.grafana.clone());
    let admin = format!("{grafana}-admin");
    let read = |name: &str| {
        let secret = kube.kubectl_json(&["get", "secret", name, "-n", &ns]);
        eksmon::kube::decode_secret(secret["data"]["admin-password"].as_str().unwrap()).unwrap()
    };
    // The chart's own way: helm alone, a password the chart made. (Recreate as eksmon has it:
    // helm 4's server-side apply cannot move a Deployment off RollingUpdate.)
    let output = kube
        .helm()
        .args(["install", &grafana])
        .arg(chart_archive(&crate::pins::archive("grafana")))
        .args(["--namespace", &ns, "--create-namespace"])
        .args(["--set", "deploymentStrategy.type=Recreate"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let chart_made = read(&grafana);

    let only_grafana = ["--only", "grafana", "--exposure", "none"];
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .args(only_grafana));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "secret {ns}/{admin}: created for Grafana's admin password with the value of the chart's Secret `{grafana}`"
        )),
        "{stderr}"
    );
    assert_eq!(read(&admin), chart_made, "the password is kept");
    let (code, stdout, _) = run(kube.eksmon().arg("grafana-password").args(kube.profile()));
    assert_eq!((code, stdout), (0, format!("{chart_made}\n")));
    let (code, stdout, stderr) = diff(&kube, &["grafana", "--exit-code", "--exposure", "none"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_no_password(&[&stderr, &stdout], std::slice::from_ref(&chart_made));

    // Two renders without a cluster are the same, also with the image renderer on.
    for extra in [
        &[][..],
        &["--set", "grafana.values.imageRenderer.enabled=true"][..],
    ] {
        let values = kube.world.path().join("grafana-values.yaml");
        let (code, text, stderr) = run(kube
            .eksmon()
            .args(["render", "grafana"])
            .args(kube.profile())
            .args(extra));
        assert_eq!(code, 0, "{stderr}");
        std::fs::write(&values, text).unwrap();
        let first = helm_template(&kube, &values);
        assert_eq!(first, helm_template(&kube, &values), "{extra:?}");
        assert!(!first.contains("kind: Secret"), "{first}");
    }

    // The renderer's token gets a Secret of eksmon's too.
    let renderer = ["--set", "grafana.values.imageRenderer.enabled=true"];
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .args(only_grafana)
        .args(renderer));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "secret {ns}/{grafana}-image-renderer-token: created for the image renderer's token with a new random value"
        )),
        "{stderr}"
    );
    let (code, stdout, stderr) = diff(
        &kube,
        &[
            &["grafana", "--exit-code"][..],
            &only_grafana[2..],
            &renderer,
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{stdout}{stderr}");

    // A running Grafana gets the new password through `grafana cli` in its pod. No kubelet
    // here: a pod marked running (through its status) refuses the exec, and nothing changes.
    let pods = kube.kubectl_json(&[
        "get",
        "pods",
        "-n",
        &ns,
        "-l",
        &format!("app.kubernetes.io/instance={grafana}"),
    ]);
    let pod = pods["items"][0]["metadata"]["name"]
        .as_str()
        .expect("a Grafana pod")
        .to_owned();
    let status = r#"{"status":{"phase":"Running","containerStatuses":[{"name":"grafana","ready":true,"restartCount":0,"image":"grafana","imageID":"","state":{"running":{}}}]}}"#;
    kube.kubectl_ok(&[
        "patch",
        "pod",
        &pod,
        "-n",
        &ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        status,
    ]);
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["grafana-password", "--rotate"])
        .args(kube.profile()));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: cannot set the admin password in Grafana's pod `{pod}`"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("hint: nothing was changed"), "{stderr}");
    assert_eq!(read(&admin), chart_made, "the Secret is as it was");
    kube.kubectl_ok(&["delete", "pod", &pod, "-n", &ns, "--wait=false"]);

    // Rotation: Grafana never started here (its claim has no volume), so the Secret alone
    // changes, and Grafana is restarted to read it.
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["grafana-password", "--rotate"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    let rotated = read(&admin);
    assert_ne!(rotated, chart_made);
    assert!(stdout.is_empty(), "{stdout}");
    assert_no_password(&[&stderr], &[rotated.clone(), chart_made.clone()]);
    assert!(stderr.contains("a new admin password is set"), "{stderr}");
    let deployment = kube.kubectl_json(&["get", "deployment", &grafana, "-n", &ns]);
    assert!(
        deployment["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_string(),
        "{deployment}"
    );

    // Uninstall keeps the Secret with the volume, and deletes it with the volume.
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["uninstall", "--yes", "--only", "grafana"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("kept: secret/{admin}")),
        "{stderr}"
    );
    assert_eq!(read(&admin), rotated);
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["uninstall", "--yes", "--delete-data", "--only", "grafana"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("deleted: secret/{admin}")),
        "{stderr}"
    );
    let left = kube.kubectl_ok(&["get", "secrets", "-n", &ns, "-o", "name"]);
    assert!(!left.contains(&admin), "{left}");
}

/// A claim without a volume (always so here: no pod is ever scheduled) cannot grow: diff says
/// so before install runs into it, install's hint does not promise that trying again helps, and
/// after the failed upgrade diff judges by the claim as it runs, not by the failed revision.
fn diff_after_a_failed_upgrade(helm: u8) {
    let kube = kube_or_skip!(&format!("failup{helm}"), helm);
    install_prometheus(&kube);
    let server = format!("{}-server", kube.prometheus);
    let bigger = ["--set", "prometheus.storageSize=80Gi"];
    let (code, stdout, stderr) = diff(&kube, &[&bigger[..], &["prometheus"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "  ! PersistentVolumeClaim failup{helm}/{server} spec.resources.requests.storage: the claim is Pending"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("kubectl delete pvc {server} -n failup{helm}")),
        "{stdout}"
    );

    let (code, stderr) = install_prometheus_with(&kube, &bigger);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is immutable"), "{stderr}");
    assert!(
        stderr.contains("eksmon install would fail the same way again: `eksmon diff` names"),
        "{stderr}"
    );
    assert!(!stderr.contains("eksmon install tries again"), "{stderr}");
    assert_eq!(kube.releases()[0].2, "failed");

    // Back at the size the claim has: no refusal, no advice to delete the claim.
    let (code, stdout, stderr) = diff(&kube, &["prometheus"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("  ! "), "{stdout}");
    assert!(!stdout.contains("its data is lost"), "{stdout}");
    assert!(
        !stdout.contains(&format!("~ PersistentVolumeClaim failup{helm}/{server}")),
        "{stdout}"
    );
    let (code, _, stderr) = run(kube.eksmon().arg("install").args(kube.profile()).args([
        "--allow-public",
        "--only",
        "prometheus",
    ]));
    assert_eq!(code, 0, "{stderr}");
}

/// On a terminal, `install --diff` asks before applying (default no): no applies nothing and
/// exits 3, yes applies.
fn install_diff_asks_on_a_terminal(helm: u8) {
    let kube = kube_or_skip!(&format!("ask{helm}"), helm);
    install_prometheus(&kube);
    let spawn = || {
        let mut cmd = kube.std_eksmon();
        cmd.args([
            "install",
            "--diff",
            "--allow-public",
            "--only",
            "prometheus",
        ])
        .args(kube.profile())
        .args(["--set", "prometheus.retention=20d"])
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
        rexpect::session::spawn_command(cmd, Some(60_000)).expect("spawn in a pty")
    };
    for (answer, code, revision) in [("n", 3, "1"), ("y", 0, "2")] {
        let mut p = spawn();
        p.exp_string("+            - \"--storage.tsdb.retention.time=20d\"")
            .unwrap();
        p.exp_string(&format!("Apply these changes to {}?", kube.prometheus))
            .unwrap();
        p.send(answer).unwrap();
        p.send("\r").unwrap();
        p.flush().unwrap();
        p.exp_eof().unwrap();
        let status = format!("{:?}", p.process_mut().wait().unwrap());
        assert!(
            status.ends_with(&format!(", {code})")),
            "{answer}: {status}"
        );
        assert_eq!(kube.releases()[0].1, revision, "after {answer}");
    }
}

/// `eksmon diff ARGS` against this test's releases: (exit code, stdout, stderr).
fn diff(kube: &Kube, args: &[&str]) -> (i32, String, String) {
    run(kube.eksmon().arg("diff").args(kube.profile()).args(args))
}

/// The Grafana admin password as `grafana-password` prints it, and as base64 (as the Secret
/// and helm's manifests hold it).
fn passwords(kube: &Kube, profile: &[String]) -> [String; 2] {
    let (code, stdout, stderr) = run(kube.eksmon().arg("grafana-password").args(profile));
    assert_eq!(code, 0, "{stderr}");
    let plain = stdout.trim().to_owned();
    assert!(plain.len() >= 20, "{plain}");
    let admin = format!("{}-admin", kube.grafana);
    let encoded = kube.kubectl_json(&["get", "secret", &admin, "-n", &kube.namespace])
        ["data"]["admin-password"]
        .as_str()
        .expect("admin-password")
        .to_owned();
    [plain, encoded]
}

/// `eksmon install --only prometheus EXTRA…` with this test's profile: (exit code, stderr).
fn install_prometheus_with(kube: &Kube, extra: &[&str]) -> (i32, String) {
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .args(["--allow-public", "--only", "prometheus"])
        .args(extra));
    (code, stderr)
}

/// `eksmon install --only prometheus` with this test's profile.
fn install_prometheus(kube: &Kube) {
    let (code, stderr) = install_prometheus_with(kube, &[]);
    assert_eq!(code, 0, "{stderr}");
}

fn assert_no_password(outputs: &[&str], passwords: &[String]) {
    for output in outputs {
        for password in passwords {
            assert!(
                !output.contains(password.as_str()),
                "the password is in:\n{output}"
            );
        }
    }
}

/// The changed objects in `diff --output json`, as `~ Kind name` per release.
fn changed_objects(json: &str) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_str(json).expect("diff JSON");
    report["releases"]
        .as_array()
        .expect("releases")
        .iter()
        .flat_map(|release| release["changes"].as_array().cloned().unwrap_or_default())
        .map(|change| {
            let sign = match change["change"].as_str() {
                Some("added") => "+",
                Some("removed") => "-",
                _ => "~",
            };
            format!(
                "{sign} {} {}",
                change["kind"].as_str().unwrap_or_default(),
                change["name"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

fn diff_after_install_and_after_a_change(helm: u8) {
    let kube = kube_or_skip!(&format!("diff{helm}"), helm);
    let (grafana, prometheus) = (kube.grafana.clone(), kube.prometheus.clone());

    // Not installed yet: everything is added. The chart makes no Secret: eksmon's holds the
    // admin password, and diff neither makes nor shows it.
    let (code, stdout, stderr) = diff(&kube, &["--exit-code"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "{grafana} (diff{helm}, not installed → grafana-{grafana_pin})",
            grafana_pin = crate::pins::version("grafana")
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("  + Secret "), "{stdout}");
    assert!(!stdout.contains("  ~ "), "{stdout}");
    assert!(kube.releases().is_empty(), "diff installs nothing");

    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(kube.profile())
        .arg("--allow-public"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "secret diff{helm}/{grafana}-admin: created for Grafana's admin password with a new random value"
        )),
        "{stderr}"
    );
    let secrets = passwords(&kube, &kube.profile());
    assert_no_password(&[&stderr], &secrets);

    // Right after install nothing differs: no password made anew, no `checksum/secret`.
    let (code, stdout, stderr) = diff(&kube, &["--exit-code"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout.matches(": no changes (").count(), 2, "{stdout}");
    assert_no_password(&[&stdout, &stderr], &secrets);

    // install --diff without a terminal, after a change to Grafana alone: shows it, applies
    // Grafana only, leaves Prometheus be.
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["install", "--diff", "--allow-public"])
        .args(kube.profile())
        .args(["--set", "grafana.host=grafana-other.example.com"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("~ Ingress"), "{stdout}");
    assert!(
        stderr.contains(&format!("{prometheus}: nothing to change; left as it is")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "no terminal to ask: applying the changes to {grafana}"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("secret "), "the Secret exists: {stderr}");
    let mut releases = kube.releases();
    releases.sort();
    assert_eq!(
        releases,
        [
            (grafana.clone(), "2".into(), "deployed".into()),
            (prometheus.clone(), "1".into(), "deployed".into()),
        ]
    );
    assert_eq!(
        passwords(&kube, &kube.profile()),
        secrets,
        "the password stays"
    );
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["install", "--allow-public", "--only", "grafana"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");

    // Now nothing differs: diff says so (exit 0), install --diff runs no helm upgrade.
    let (code, stdout, stderr) = diff(&kube, &["--exit-code"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout.matches(": no changes (").count(), 2, "{stdout}");
    let (_, json, _) = diff(&kube, &["--output", "json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["changed"], false, "{json}");
    crate::common::assert_json_conventions(&report, &[]);
    assert_eq!(report["releases"][0]["installed"]["revision"], 1, "{json}");
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["install", "--diff", "--allow-public"])
        .args(kube.profile()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("nothing to change; helm was not run"),
        "{stderr}"
    );
    assert_eq!(
        kube.releases().iter().filter(|r| r.1 == "3").count(),
        1,
        "no new revision"
    );

    // A profile change: exactly the objects it touches, with the expected lines.
    let change = [
        "--set",
        "prometheus.retention=30d",
        "--set",
        "grafana.host=grafana-next.example.com",
        "--set",
        "grafana.storageSize=200Gi",
    ];
    let (code, stdout, stderr) = diff(&kube, &[&change[..], &["--exit-code"]].concat());
    assert_eq!(code, 4, "{stderr}");
    let (_, json, _) = diff(&kube, &[&change[..], &["--output", "json"]].concat());
    let mut objects = changed_objects(&json);
    objects.sort();
    assert_eq!(
        objects,
        [
            format!("~ ConfigMap {grafana}"),
            format!("~ Deployment {grafana}"),
            format!("~ Deployment {prometheus}-server"),
            format!("~ Ingress {grafana}"),
            format!("~ PersistentVolumeClaim {grafana}"),
        ]
    );
    for line in [
        "-            - \"--storage.tsdb.retention.time=15d\"\n+            - \"--storage.tsdb.retention.time=30d\"\n",
        "-    domain = grafana-main.bys.world\n",
        "+    domain = grafana-next.example.com\n",
        "+    root_url = https://grafana-next.example.com\n",
        "-    - host: grafana-main.bys.world\n+    - host: grafana-next.example.com\n",
        "-      storage: \"100Gi\"\n+      storage: \"200Gi\"\n",
    ] {
        assert!(stdout.contains(line), "{line} not in:\n{stdout}");
    }
    // Growing a bound claim is allowed; this one has no volume yet (no pod ever runs here).
    assert!(
        stdout.contains(&format!(
            "  ! PersistentVolumeClaim diff{helm}/{grafana} spec.resources.requests.storage: the claim is Pending"
        )) && stdout.matches("  ! ").count() == 1,
        "{stdout}"
    );
    assert_no_password(&[&stdout, &json, &stderr], &secrets);
    // A release that cannot be compared fails alone: the other's report is printed, exit 1.
    let (code, stdout, stderr) = diff(
        &kube,
        &["--set", "charts.grafana.version=99.0.0", "--exit-code"],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{prometheus} (diff{helm}, revision 1 deployed")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "error: {grafana}: cannot fetch chart grafana 99.0.0"
        )),
        "{stderr}"
    );

    // install --diff installs nothing unless every release could be compared.
    let before = kube.releases();
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["install", "--diff", "--allow-public"])
        .args(kube.profile())
        .args([
            "--set",
            "charts.grafana.version=99.0.0",
            "--set",
            "prometheus.retention=25d",
        ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("+            - \"--storage.tsdb.retention.time=25d\""),
        "{stdout}"
    );
    assert_eq!(kube.releases(), before, "nothing upgraded");

    // Only the Grafana release, when named.
    let (_, json, _) = diff(
        &kube,
        &[&change[..], &["grafana", "--output", "json"]].concat(),
    );
    assert!(
        changed_objects(&json)
            .iter()
            .all(|o| !o.contains(&prometheus)),
        "{json}"
    );
}

fn refused_volume_resize(helm: u8) {
    let kube = kube_or_skip!(&format!("resize{helm}"), helm);
    install_prometheus(&kube);
    let bigger = ["--set", "prometheus.alertmanager.storageSize=30Gi"];
    let (code, stdout, stderr) = diff(
        &kube,
        &[&bigger[..], &["prometheus", "--exit-code"]].concat(),
    );
    assert_eq!(code, 4, "{stderr}");
    let statefulset = format!("{}-alertmanager", kube.prometheus);
    assert!(
        stdout.contains(&format!(
            "  ! StatefulSet resize{helm}/{statefulset} spec.volumeClaimTemplates: "
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("kubectl patch pvc storage-{statefulset}-0 -n resize{helm} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"30Gi\"}}}}}}}}'")), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "kubectl delete statefulset {statefulset} -n resize{helm} --cascade=orphan"
        )),
        "{stdout}"
    );
    let (_, json, _) = diff(
        &kube,
        &[&bigger[..], &["prometheus", "--output", "json"]].concat(),
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        report["releases"][0]["refusals"][0]["field"], "spec.volumeClaimTemplates",
        "{json}"
    );

    // The API server does refuse it: what diff warned about is what install runs into.
    let (code, stderr) = install_prometheus_with(&kube, &bigger);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("Forbidden: updates to statefulset spec"),
        "{stderr}"
    );
}

/// A loopback repository with the real charts and Grafana 13.0.0 (the real 12.11.1 without its
/// `deploymentStrategy` value and with a "To 13.0.0" note) and 13.1.0 (whose values schema
/// refuses the `persistence.size` eksmon writes).
fn newer_grafana_repo(dir: &Path) -> Server {
    let helm = common::helm(4);
    for name in [
        &*crate::pins::archive("prometheus"),
        &*crate::pins::archive("grafana"),
    ] {
        std::fs::copy(chart_archive(name), dir.join(name)).unwrap();
    }
    let unpacked = dir.join("src");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(chart_archive(&crate::pins::archive("grafana")))
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    let chart = unpacked.join("grafana");
    let values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    let start = values
        .find("\ndeploymentStrategy:\n")
        .expect("the real chart has deploymentStrategy")
        + 1;
    let end = start + values[start..].find("\n\n").unwrap();
    std::fs::write(
        chart.join("values.yaml"),
        format!("{}{}", &values[..start], &values[end..]),
    )
    .unwrap();
    let readme = std::fs::read_to_string(chart.join("README.md")).unwrap();
    std::fs::write(
        chart.join("README.md"),
        readme.replacen(
            "### To 12.0.0",
            "### To 13.0.0\n\n`deploymentStrategy` is gone: use `strategy`.\n\n### To 12.0.0",
            1,
        ),
    )
    .unwrap();
    let package = |version: &str| {
        let output = Command::new(&helm)
            .args(["package", "--version", version, "--destination"])
            .arg(dir)
            .arg(&chart)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    };
    package("13.0.0");
    std::fs::write(
        chart.join("values.schema.json"),
        r#"{"type": "object", "properties": {"persistence": {"type": "object", "properties": {"size": {"type": "integer"}}}}}"#,
    )
    .unwrap();
    package("13.1.0");
    std::fs::remove_dir_all(&unpacked).unwrap();
    let server = Server::start(dir.to_owned());
    let output = Command::new(&helm)
        .args(["repo", "index"])
        .arg(dir)
        .args(["--url", &server.url])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    server
}

fn outdated_and_bump(helm: u8) {
    let kube = kube_or_skip!(&format!("bump{helm}"), helm);
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = newer_grafana_repo(repo_dir.path());
    // The team's profile, block style with comments: the pin moves, nothing else does.
    let team = format!(
        "# team monitoring\nnamespace: {ns}   # ours\nprometheus: {{release: {p}}}\ngrafana: {{release: {g}}}\ncharts:\n  prometheus:\n    repo: {url}\n    version: {prometheus_pin}\n  grafana:\n    repo: {url}  # loopback mirror\n    version: {grafana_pin}  # pinned by hand\n",
        ns = kube.namespace,
        p = kube.prometheus,
        g = kube.grafana,
        url = repo.url,
        prometheus_pin = crate::pins::version("prometheus"),
        grafana_pin = crate::pins::version("grafana")
    );
    // Kept in a dotfiles folder behind a symlink, private: both stay as they are.
    let real_path = kube.world.write("dotfiles/team.yaml", &team);
    std::fs::set_permissions(
        &real_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let team_path = kube.world.path().join("team.yaml");
    std::os::unix::fs::symlink(&real_path, &team_path).unwrap();
    let profile = [
        "--profile",
        "example",
        "--profile",
        team_path.to_str().unwrap(),
    ];
    let (code, _, stderr) = run(kube
        .eksmon()
        .arg("install")
        .args(profile)
        .arg("--allow-public"));
    assert_eq!(code, 0, "{stderr}");

    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["charts", "outdated", "--output", "json"])
        .args(profile));
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    crate::common::assert_json_conventions(&rows, &[]);
    assert_eq!(rows[0]["chart"], "prometheus");
    assert_eq!(
        (rows[0]["newest"].as_str(), rows[0]["upToDate"].as_bool()),
        (Some(crate::pins::version("prometheus")), Some(true))
    );
    assert_eq!(rows[1]["pinned"], crate::pins::version("grafana"));
    assert_eq!(rows[1]["installed"], crate::pins::version("grafana"));
    assert_eq!(rows[1]["newest"], "13.1.0");
    assert_eq!(rows[1]["newMajor"], true);
    let (code, table, _) = run(kube.eksmon().args(["charts", "outdated"]).args(profile));
    assert_eq!(code, 0);
    assert!(
        table.lines().any(|l| l.starts_with("grafana")
            && l.contains(&*format!(
                "{grafana_pin}  {grafana_pin}    13.1.0   new major",
                grafana_pin = crate::pins::version("grafana")
            ))),
        "{table}"
    );

    // 13.1.0's schema refuses eksmon's values: reported, nothing written, exit 1.
    let (code, stdout, stderr) = run(kube
        .eksmon()
        .args(["charts", "bump", "grafana"])
        .args(profile));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("grafana 13.1.0 rejects the values eksmon writes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("persistence") && stdout.contains("size"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&team_path).unwrap(), team);

    // --dry-run reports and writes nothing; then the real bump moves the pin in place.
    let bump = ["charts", "bump", "grafana", "--to", "13.0.0"];
    let (code, dry, stderr) = run(kube.eksmon().args(bump).arg("--dry-run").args(profile));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&team_path).unwrap(), team);
    let (code, stdout, stderr) = run(kube.eksmon().args(bump).args(profile));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, dry);
    assert_eq!(
        stdout,
        &*format!(
            "grafana: {grafana_pin} → 13.0.0 (new major)\n  grafana 13.0.0 renders the values eksmon writes\n  values eksmon writes that grafana 13.0.0 no longer has (they would be ignored):\n  - deploymentStrategy: {{\"type\":\"Recreate\"}}\n\n  grafana README, To 13.0.0:\n  | `deploymentStrategy` is gone: use `strategy`.\n",
            grafana_pin = crate::pins::version("grafana")
        )
    );
    assert_eq!(
        std::fs::read_to_string(&team_path).unwrap(),
        team.replace(
            &*format!(
                "version: {grafana_pin}  # pinned by hand",
                grafana_pin = crate::pins::version("grafana")
            ),
            "version: 13.0.0  # pinned by hand"
        )
    );
    assert!(
        std::fs::symlink_metadata(&team_path)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&real_path).unwrap().permissions()
        ) & 0o777,
        0o640
    );

    // The upgrade's diff: every Grafana object changes chart label; the password stays hidden.
    let profile_args: Vec<String> = profile.iter().map(|a| (*a).to_owned()).collect();
    let secrets = passwords(&kube, &profile_args);
    let (code, stdout, stderr) = run(kube.eksmon().args(["diff", "grafana"]).args(profile));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&*format!(
            "revision 1 deployed, grafana-{grafana_pin} → grafana-13.0.0",
            grafana_pin = crate::pins::version("grafana")
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&*format!(
            "-    helm.sh/chart: grafana-{grafana_pin}\n+    helm.sh/chart: grafana-13.0.0\n",
            grafana_pin = crate::pins::version("grafana")
        )),
        "{stdout}"
    );
    assert!(
        !stdout.contains(" Secret "),
        "eksmon's Secret is not the chart's: {stdout}"
    );
    let (_, json, _) = run(kube
        .eksmon()
        .args(["diff", "grafana", "--output", "json"])
        .args(profile));
    assert_no_password(&[&stdout, &json, &stderr], &secrets);

    // Already at the newest it accepts: nothing to do.
    let (code, _, stderr) = run(kube
        .eksmon()
        .args(["charts", "bump", "prometheus"])
        .args(profile));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&*format!(
            "prometheus: already at {prometheus_pin}; nothing to bump",
            prometheus_pin = crate::pins::version("prometheus")
        )),
        "{stderr}"
    );
}
