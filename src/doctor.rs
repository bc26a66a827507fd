//! `eksmon doctor`: what would break an install, found before it. Each check is ok, warn or
//! fail with a one-line hint; the cluster checks run concurrently (each is one kubectl call).

use crate::context::{Run, Target};
use crate::helm::Helm;
use crate::kube::{self, ApiFailure};
use crate::settings::{AmpAuth, Chart, Exposure, Settings};
use crate::tool::{Invocation, Tool};
use serde::Serialize;
use std::ffi::OsString;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Finding {
    pub check: &'static str,
    pub level: Level,
    pub message: String,
    pub hint: Option<String>,
}

impl Finding {
    fn ok(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            level: Level::Ok,
            message: message.into(),
            hint: None,
        }
    }
    fn warn(check: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            check,
            level: Level::Warn,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
    fn fail(check: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            check,
            level: Level::Fail,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

/// What the checks need to know.
struct Context<'a> {
    settings: &'a Settings,
    target: &'a Target,
}

/// The controller's Deployment, found by its chart's standard label in any namespace.
const LBC_SELECTOR: &str = "app.kubernetes.io/name=aws-load-balancer-controller";
const EBS_CSI_DRIVER: &str = "ebs.csi.aws.com";

/// Runs every check that applies to the settings, in a stable order.
pub(crate) fn run(run: &Run, settings: &Settings) -> Vec<Finding> {
    let cx = &Context {
        settings,
        target: &run.target,
    };
    let mut findings = Vec::new();
    let helm = match run.helm() {
        Ok(helm) => {
            let found = format!("{} ({})", helm.version, helm.tool.path.display());
            findings.push(if helm.has_server_dry_run() {
                Finding::ok("helm", found)
            } else {
                Finding::warn(
                    "helm",
                    format!("{found}: installs work; `eksmon diff` and `install --diff` need helm 3.13 or newer"),
                    "upgrade helm to 3.13+ (or 4) for server-side dry runs",
                )
            });
            Some(helm)
        }
        Err(err) => {
            findings.push(Finding::fail(
                "helm",
                format!("{err:#}"),
                "install helm 3.8+ or 4, or set --helm / EKSMON_HELM",
            ));
            None
        }
    };
    let kubectl = match run.kubectl() {
        Ok(kubectl) => kubectl,
        Err(err) => {
            findings.push(Finding::fail(
                "kubectl",
                err.to_string(),
                "install kubectl, or set --kubectl / EKSMON_KUBECTL",
            ));
            return findings;
        }
    };
    let reachable = cluster_version(cx, &kubectl);
    let reached = reachable.level == Level::Ok;
    findings.push(reachable);
    if !reached {
        return findings;
    }

    type CheckFn = fn(&Context<'_>, &Tool, Option<&Helm>) -> Vec<Finding>;
    let mut checks: Vec<CheckFn> = vec![namespace, storage_class, ebs_csi_driver, nodes];
    match cx.settings.exposure {
        Exposure::Alb => checks.extend([ingress_class as CheckFn, load_balancer_controller]),
        Exposure::Nlb => checks.push(load_balancer_controller),
        Exposure::None => {}
    }
    if cx.settings.network_policy.enabled {
        checks.push(network_policy_enforcer);
    }
    // Without AWS roles in the profile, aws_roles has nothing to check and reports nothing.
    checks.extend([aws_roles as CheckFn, existing_releases]);
    let results: Vec<Vec<Finding>> = std::thread::scope(|scope| {
        let running: Vec<_> = checks
            .iter()
            .map(|check| scope.spawn(|| check(cx, &kubectl, helm.as_ref())))
            .collect();
        running
            .into_iter()
            .map(|handle| handle.join().unwrap_or_default())
            .collect()
    });
    findings.extend(results.into_iter().flatten());
    findings
}

/// What enforces NetworkPolicies, from the cluster's DaemonSets: the VPC CNI's network policy
/// agent when it is switched on, Calico or Cilium; `None` when nothing does.
fn enforcer(daemonsets: &serde_json::Value) -> Option<String> {
    let items = daemonsets["items"].as_array()?;
    items.iter().find_map(|ds| {
        let name = ds["metadata"]["name"].as_str().unwrap_or_default();
        let containers = ds["spec"]["template"]["spec"]["containers"].as_array()?;
        let agent_on = containers.iter().any(|c| {
            c["name"] == "aws-eks-nodeagent"
                && c["args"].as_array().is_some_and(|args| {
                    args.iter()
                        .any(|a| a.as_str() == Some("--enable-network-policy=true"))
                })
        });
        if name == "aws-node" && agent_on {
            Some("the VPC CNI's network policy agent".to_owned())
        } else if name == "calico-node" || name.starts_with("cilium") {
            Some(name.to_owned())
        } else {
            None
        }
    })
}

/// The NetworkPolicies eksmon installs do nothing without an enforcer.
fn network_policy_enforcer(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let query = kube::list_args("daemonsets", None, cx.target);
    let json = match kubectl_out(kubectl, query) {
        Ok(json) => json,
        Err(why) => {
            return vec![Finding::warn(
                "network-policy",
                why,
                "can this identity list DaemonSets?",
            )];
        }
    };
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    vec![match enforcer(&parsed) {
        Some(what) => Finding::ok(
            "network-policy",
            format!("NetworkPolicies are enforced by {what}"),
        ),
        None => Finding::warn(
            "network-policy",
            "nothing enforces NetworkPolicies: the ones eksmon installs are stored and do nothing",
            "switch on the VPC CNI's network policy agent (the vpc-cni add-on's configuration `{\"enableNetworkPolicy\": \"true\"}`), or run Calico or Cilium",
        ),
    }]
}

/// One kubectl call; `Err` carries kubectl's last stderr line.
fn kubectl_out(kubectl: &Tool, args: Vec<OsString>) -> Result<String, String> {
    let invocation = Invocation::new(args).deadline(Duration::from_secs(30));
    kubectl
        .run(&invocation)
        .map(|out| out.stdout)
        .map_err(|err| err.to_string())
}

fn cluster_version(cx: &Context<'_>, kubectl: &Tool) -> Finding {
    let query = kube::version_args(cx.target);
    let context = cx.target.describe();
    match kubectl_out(kubectl, query) {
        Ok(json) => {
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            let client = parsed["clientVersion"]["gitVersion"]
                .as_str()
                .unwrap_or("?");
            let server = parsed["serverVersion"]["gitVersion"]
                .as_str()
                .unwrap_or("?");
            Finding::ok(
                "cluster",
                format!("kubectl {client}, cluster {server} ({context})"),
            )
        }
        Err(why) => Finding::fail(
            "cluster",
            format!("cannot reach the cluster ({context}): {why}"),
            "check `kubectl config current-context` and your AWS credentials (aws eks update-kubeconfig)",
        ),
    }
}

/// The annotation IRSA reads on a service account.
const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// Each service account `eksmon iam` names carries the role the profile gives it (IRSA), or no
/// IRSA annotation at all (Pod Identity: with both, the SDK takes the IRSA role). A wrong or
/// missing annotation is the usual "403 Missing Authentication Token" from AMP.
fn aws_roles(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for role in crate::iam::needs(cx.settings, None) {
        for account in &role.service_accounts {
            let name = format!("{}/{}", account.namespace, account.name);
            let query = kube::get_if_present_args(
                "serviceaccount",
                &account.name,
                Some(&account.namespace),
                "json",
                cx.target,
            );
            let live = match kubectl_out(kubectl, query) {
                Ok(out) if out.trim().is_empty() => {
                    findings.push(Finding::ok(
                        "aws-role",
                        format!("{name}: not installed yet (install annotates it)"),
                    ));
                    continue;
                }
                Ok(out) => serde_json::from_str::<serde_json::Value>(&out).unwrap_or_default(),
                Err(why) => {
                    findings.push(Finding::warn(
                        "aws-role",
                        why,
                        "can this identity read service accounts?",
                    ));
                    continue;
                }
            };
            let annotation = live["metadata"]["annotations"][IRSA_ANNOTATION].as_str();
            findings.push(match (role.auth, annotation, role.role_arn.as_deref()) {
                (AmpAuth::Irsa, Some(live), Some(want)) if live == want => {
                    Finding::ok("aws-role", format!("{name}: IRSA role {want}"))
                }
                (AmpAuth::Irsa, Some(live), want) => Finding::fail(
                    "aws-role",
                    format!(
                        "{name}: IRSA role {live}, the profile says {}",
                        want.unwrap_or("none")
                    ),
                    "run eksmon install again; pods pick up a new role when restarted",
                ),
                (AmpAuth::Irsa, None, _) => Finding::fail(
                    "aws-role",
                    format!("{name}: no {IRSA_ANNOTATION} annotation: AWS calls will be refused (403)"),
                    "run eksmon install again; pods pick up a new role when restarted",
                ),
                (AmpAuth::PodIdentity, Some(live), _) => Finding::warn(
                    "aws-role",
                    format!(
                        "{name}: auth is podIdentity but the account is annotated for IRSA ({live}); the SDK takes the IRSA role"
                    ),
                    "remove the annotation, or set amp.auth irsa",
                ),
                (AmpAuth::PodIdentity, None, _) => Finding::ok(
                    "aws-role",
                    format!("{name}: ready for a Pod Identity association (eksmon iam prints it)"),
                ),
            });
        }
    }
    findings
}

fn namespace(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let ns = cx.settings.namespace.as_str();
    let query = kube::get_if_present_args("namespace", ns, None, "name", cx.target);
    vec![match kubectl_out(kubectl, query) {
        Ok(out) if out.trim().is_empty() => Finding::warn(
            "namespace",
            format!("namespace {ns} does not exist yet"),
            "install creates it, enforcing Pod Security restricted",
        ),
        Ok(_) => Finding::ok("namespace", format!("namespace {ns} exists")),
        Err(why) => Finding::fail("namespace", why, "can this identity read namespaces?"),
    }]
}

fn storage_class(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let name = cx.settings.storage_class.as_str();
    let query = kube::get_if_present_args("storageclass", name, None, "json", cx.target);
    vec![match kubectl_out(kubectl, query) {
        Ok(out) if out.trim().is_empty() && cx.settings.create_storage_class => Finding::ok(
            "storageclass",
            format!("{name} is missing; install creates it (createStorageClass)"),
        ),
        Ok(out) if out.trim().is_empty() => Finding::fail(
            "storageclass",
            format!("StorageClass {name} not found"),
            "set `createStorageClass: true` in the profile, or `storageClass:` to an existing class",
        ),
        Ok(json) => {
            let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
            match parsed["provisioner"].as_str() {
                Some(EBS_CSI_DRIVER) => Finding::ok(
                    "storageclass",
                    format!("{name} (provisioner {EBS_CSI_DRIVER})"),
                ),
                other => Finding::warn(
                    "storageclass",
                    format!("{name} is provisioned by {}", other.unwrap_or("nothing")),
                    "the in-tree kubernetes.io/aws-ebs provisioner is gone on current EKS; use ebs.csi.aws.com",
                ),
            }
        }
        Err(why) => Finding::fail(
            "storageclass",
            why,
            "can this identity read StorageClasses?",
        ),
    }]
}

fn ebs_csi_driver(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let query = kube::get_if_present_args("csidriver", EBS_CSI_DRIVER, None, "name", cx.target);
    vec![match kubectl_out(kubectl, query) {
        Ok(out) if out.trim().is_empty() => Finding::fail(
            "ebs-csi",
            "the EBS CSI driver is not installed: no volume can be provisioned",
            "add the aws-ebs-csi-driver EKS add-on (with an IAM role for its service account)",
        ),
        Ok(_) => Finding::ok("ebs-csi", format!("CSIDriver {EBS_CSI_DRIVER} installed")),
        Err(why) => Finding::fail("ebs-csi", why, "can this identity read CSIDrivers?"),
    }]
}

fn nodes(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let query = kube::list_args("nodes", None, cx.target);
    let json = match kubectl_out(kubectl, query) {
        Ok(json) => json,
        Err(why) => return vec![Finding::warn("nodes", why, "can this identity list nodes?")],
    };
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let items = parsed["items"].as_array().cloned().unwrap_or_default();
    let fargate = items
        .iter()
        .filter(|n| n["metadata"]["labels"]["eks.amazonaws.com/compute-type"] == "fargate")
        .count();
    vec![if items.is_empty() {
        Finding::warn(
            "nodes",
            "no nodes yet",
            "the pods will stay Pending until nodes join",
        )
    } else if fargate == items.len() {
        Finding::warn(
            "nodes",
            format!(
                "all {fargate} nodes are Fargate: node-exporter schedules nowhere, and EBS volumes cannot attach"
            ),
            "add a managed node group (or Karpenter) for Prometheus and Grafana",
        )
    } else {
        Finding::ok(
            "nodes",
            format!("{} nodes ({fargate} Fargate)", items.len()),
        )
    }]
}

fn ingress_class(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let query = kube::get_if_present_args("ingressclass", "alb", None, "name", cx.target);
    vec![match kubectl_out(kubectl, query) {
        Ok(out) if out.trim().is_empty() => Finding::fail(
            "ingressclass",
            "IngressClass alb not found: the Ingresses would never get an ALB",
            "install the AWS Load Balancer Controller (it creates IngressClass alb)",
        ),
        Ok(_) => Finding::ok("ingressclass", "IngressClass alb exists"),
        Err(why) => Finding::fail(
            "ingressclass",
            why,
            "can this identity read IngressClasses?",
        ),
    }]
}

fn load_balancer_controller(cx: &Context<'_>, kubectl: &Tool, _: Option<&Helm>) -> Vec<Finding> {
    let query = kube::list_args("deployments", Some(LBC_SELECTOR), cx.target);
    let json = match kubectl_out(kubectl, query) {
        Ok(json) => json,
        Err(why) => {
            return vec![Finding::fail(
                "lb-controller",
                why,
                "can this identity list Deployments?",
            )];
        }
    };
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let items = parsed["items"].as_array().cloned().unwrap_or_default();
    let ready: i64 = items
        .iter()
        .map(|d| d["status"]["readyReplicas"].as_i64().unwrap_or(0))
        .sum();
    let needs = match cx.settings.exposure {
        Exposure::Alb => "the Ingress annotations",
        _ => "the Service annotations",
    };
    vec![if items.is_empty() {
        Finding::fail(
            "lb-controller",
            format!("the AWS Load Balancer Controller is not installed; {needs} need it"),
            "helm install aws-load-balancer-controller from the eks-charts repository (with its IAM role)",
        )
    } else if ready == 0 {
        Finding::fail(
            "lb-controller",
            "the AWS Load Balancer Controller has no ready pod",
            "kubectl -n kube-system logs deployment/aws-load-balancer-controller",
        )
    } else {
        Finding::ok(
            "lb-controller",
            format!("AWS Load Balancer Controller running ({ready} ready)"),
        )
    }]
}

fn existing_releases(cx: &Context<'_>, _: &Tool, helm: Option<&Helm>) -> Vec<Finding> {
    let Some(helm) = helm else {
        return Vec::new();
    };
    let namespace = cx.settings.namespace.as_str();
    let mut findings = Vec::new();
    // Every namespace first: a release of the same name elsewhere breaks the install too.
    let listed = match helm.list(None, cx.target) {
        Ok(listed) => listed,
        Err(everywhere) => {
            let why = match ApiFailure::of(&everywhere) {
                Some(ApiFailure::Forbidden) => {
                    "this identity may not list releases in every namespace".to_owned()
                }
                _ => format!("{everywhere:#}"),
            };
            findings.push(Finding::warn(
                "releases",
                format!("cannot look for same-named releases in other namespaces: {why}"),
                "a release of the same name in another namespace makes the install fail (its ClusterRoles are named after it)",
            ));
            match helm.list(Some(namespace), cx.target) {
                Ok(listed) => listed,
                Err(err) => {
                    let hint = match ApiFailure::of(&err) {
                        Some(ApiFailure::Forbidden) => format!(
                            "helm keeps releases as Secrets: this identity needs to list Secrets in namespace {namespace}"
                        ),
                        _ => "check the cluster connection (`eksmon doctor` above)".to_owned(),
                    };
                    findings.push(Finding::fail("releases", format!("{err:#}"), hint));
                    return findings;
                }
            }
        }
    };
    for chart in Chart::ALL.into_iter().filter(|&c| cx.settings.installs(c)) {
        let release = cx.settings.release(chart).as_str();
        let wanted = cx.settings.chart_ref(chart);
        let expected = format!("{}-{}", wanted.name, wanted.version);
        let here = listed
            .iter()
            .find(|r| r.name == release && r.namespace == namespace);
        for elsewhere in listed
            .iter()
            .filter(|r| r.name == release && r.namespace != namespace)
        {
            findings.push(Finding::fail(
                "releases",
                format!(
                    "{release} is also installed in namespace {}: its cluster-wide objects make an install into {namespace} fail",
                    elsewhere.namespace
                ),
                format!(
                    "install into that namespace (-n {}), pick another release name (--set {}.release=NAME), or remove it: {}",
                    elsewhere.namespace,
                    chart.name(),
                    crate::helm::command_line(&["uninstall", release], &elsewhere.namespace, cx.target)
                ),
            ));
        }
        findings.push(match here {
            None => Finding::ok("releases", format!("{release}: not installed yet")),
            Some(found) if found.is_pending() => Finding::fail(
                "releases",
                format!(
                    "{release} in namespace {namespace} is {} (revision {}): the next install fails with \"another operation is in progress\"",
                    found.status, found.revision
                ),
                match helm.recovery(found, cx.target) {
                    Some(command) => format!("if no helm runs on it any more: {command}"),
                    None => "wait for the running helm operation to finish".to_owned(),
                },
            ),
            Some(found) if found.chart != expected => Finding::warn(
                "releases",
                format!("{release} runs {}; install moves it to {expected}", found.chart),
                "`eksmon diff` shows what the move changes, and flags what Kubernetes would refuse (major versions can change values and selectors)",
            ),
            Some(found) if found.status == "failed" => Finding::warn(
                "releases",
                format!("{release}: the last operation failed (revision {})", found.revision),
                format!(
                    "{} says why; the next install tries again",
                    crate::helm::command_line(&["history", release], namespace, cx.target)
                ),
            ),
            Some(found) => Finding::ok("releases", format!("{release}: {} ({})", found.chart, found.status)),
        });
    }
    findings
}

/// The findings as a table of `ok / warn / fail` lines with hints under the non-ok ones.
pub(crate) fn table(findings: &[Finding]) -> String {
    let mut rows = Vec::new();
    for finding in findings {
        let level = match finding.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        };
        rows.push(vec![
            // Always four wide, so the checks line up the same way in every report.
            format!("{level:<4}"),
            finding.check.to_owned(),
            finding.message.clone(),
        ]);
        if let Some(hint) = &finding.hint {
            rows.push(vec![String::new(), String::new(), format!("hint: {hint}")]);
        }
    }
    crate::ui::table(&rows)
}

#[cfg(test)]
mod tests {
    use super::enforcer;

    fn daemonset(name: &str, container: &str, args: &[&str]) -> serde_json::Value {
        serde_json::json!({
            "metadata": {"name": name},
            "spec": {"template": {"spec": {"containers": [{"name": container, "args": args}]}}},
        })
    }

    #[test]
    fn the_vpc_cni_enforces_only_with_its_agent_switched_on() {
        let list = |items: Vec<serde_json::Value>| serde_json::json!({"items": items});
        let off = daemonset(
            "aws-node",
            "aws-eks-nodeagent",
            &["--enable-network-policy=false"],
        );
        let on = daemonset(
            "aws-node",
            "aws-eks-nodeagent",
            &["--enable-network-policy=true"],
        );
        assert_eq!(enforcer(&list(vec![off.clone()])), None);
        assert_eq!(
            enforcer(&list(vec![off, on])).as_deref(),
            Some("the VPC CNI's network policy agent")
        );
        let calico = daemonset("calico-node", "calico-node", &[]);
        assert_eq!(
            enforcer(&list(vec![calico])).as_deref(),
            Some("calico-node")
        );
        assert_eq!(enforcer(&list(vec![])), None);
    }
}
