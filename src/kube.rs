//! kubectl: the argv for each query eksmon makes (pure, unit-tested) and the JSON it reads back.

use crate::target::Target;
use crate::yaml;
use base64::Engine as _;
use serde::Deserialize;
use std::ffi::OsString;

/// Why the API server said no, as helm and kubectl print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFailure {
    /// The object does not exist.
    NotFound,
    /// The identity may not do this (RBAC).
    Forbidden,
    /// No answer from the API server (down, wrong address, no network, expired credentials
    /// are not this: they are Unauthorized).
    Unreachable,
    /// The credentials were refused.
    Unauthorized,
}

impl ApiFailure {
    /// The kind of a failed helm or kubectl run, when its stderr says.
    pub fn of(err: &anyhow::Error) -> Option<ApiFailure> {
        ApiFailure::from_stderr(tool_stderr(err)?)
    }

    pub fn from_stderr(stderr: &str) -> Option<ApiFailure> {
        let text = stderr.to_ascii_lowercase();
        if text.contains("(forbidden)") || text.contains(" is forbidden: ") {
            Some(ApiFailure::Forbidden)
        } else if text.contains("(unauthorized)") || text.contains("must be logged in") {
            Some(ApiFailure::Unauthorized)
        } else if text.contains("unable to connect to the server")
            || text.contains("kubernetes cluster unreachable")
            || text.contains("connection refused")
            || text.contains("no such host")
            || text.contains("i/o timeout")
            || text.contains("was refused - did you specify")
        {
            Some(ApiFailure::Unreachable)
        } else if text.contains("(notfound)") {
            Some(ApiFailure::NotFound)
        } else {
            None
        }
    }
}

/// The stderr of the helm or kubectl run behind an error, when one ran and failed.
pub fn tool_stderr(err: &anyhow::Error) -> Option<&str> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<crate::tool::ToolError>())
        .and_then(crate::tool::ToolError::stderr)
}

/// `--context C --kubeconfig P` and `--namespace NS` in kubectl's spelling.
pub fn scope(namespace: Option<&str>, target: &Target) -> Vec<OsString> {
    let mut args = target.kubectl_flags();
    if let Some(namespace) = namespace {
        args.extend(["--namespace".into(), namespace.into()]);
    }
    args
}

fn instance_selector(releases: &[&str]) -> String {
    match releases {
        [one] => format!("app.kubernetes.io/instance={one}"),
        many => format!("app.kubernetes.io/instance in ({})", many.join(",")),
    }
}

/// One key of a Secret, base64 as stored (decoded in Rust, never by a shell pipe).
pub fn secret_key_args(namespace: &str, target: &Target, secret: &str, key: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), "secret".into(), secret.into()];
    args.extend(scope(Some(namespace), target));
    args.extend([
        "--output".into(),
        format!("jsonpath={{.data.{key}}}").into(),
    ]);
    args
}

/// `kubectl VERB RESOURCE` over the objects labelled with the given releases.
fn by_release(
    verb: &str,
    resource: &str,
    namespace: &str,
    target: &Target,
    releases: &[&str],
    tail: &[&str],
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![verb.into(), resource.into()];
    args.extend(scope(Some(namespace), target));
    args.extend(["--selector".into(), instance_selector(releases).into()]);
    args.extend(tail.iter().map(OsString::from));
    args
}

/// The PVCs the releases' pods claimed (server, grafana, alertmanager StatefulSet claims).
pub fn pvc_list_args(namespace: &str, target: &Target, releases: &[&str]) -> Vec<OsString> {
    by_release(
        "get",
        "persistentvolumeclaims",
        namespace,
        target,
        releases,
        &["--output", "json"],
    )
}

/// Deletes exactly these claims, by name (never by a selector that could match a claim made
/// after it was listed); prints one `persistentvolumeclaim/NAME` line per deleted claim.
pub fn pvc_delete_args(namespace: &str, target: &Target, names: &[&str]) -> Vec<OsString> {
    let objects: Vec<String> = names
        .iter()
        .map(|name| format!("persistentvolumeclaim/{name}"))
        .collect();
    let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
    delete_named_args(namespace, target, &objects)
}

/// The named Secrets that exist (one object, or a List for several), as JSON; missing ones
/// are left out.
pub fn secrets_get_args(namespace: &str, target: &Target, names: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), "secrets".into()];
    args.extend(names.iter().map(OsString::from));
    args.extend(scope(Some(namespace), target));
    args.extend([
        "--ignore-not-found".into(),
        "--output".into(),
        "json".into(),
    ]);
    args
}

/// `kubectl get namespace A B --ignore-not-found --output json`: the ones that exist.
pub fn namespaces_get_args(names: &[&str], target: &Target) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), "namespace".into()];
    args.extend(names.iter().map(OsString::from));
    args.extend(scope(None, target));
    args.extend([
        "--ignore-not-found".into(),
        "--output".into(),
        "json".into(),
    ]);
    args
}

/// The namespaces of a `kubectl get namespace --output json` list, each with its labels.
pub fn parse_namespaces(
    json: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>>
{
    if json.trim().is_empty() {
        // `--ignore-not-found` with nothing found prints nothing at all.
        return Ok(std::collections::BTreeMap::new());
    }
    // A List for several names; the object itself when one name was asked for.
    let found: serde_json::Value = serde_json::from_str(json)?;
    let items = match found.get("items").and_then(serde_json::Value::as_array) {
        Some(items) => items.clone(),
        None => vec![found],
    };
    Ok(items
        .iter()
        .filter_map(|item| {
            let name = item["metadata"]["name"].as_str()?.to_owned();
            let labels = item["metadata"]["labels"]
                .as_object()
                .map(|labels| {
                    labels
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            Some((name, labels))
        })
        .collect())
}

pub fn namespace_create_args(namespace: &str, target: &Target) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["create".into(), "namespace".into(), namespace.into()];
    args.extend(scope(None, target));
    args
}

/// The pods of one release's component (`app.kubernetes.io/name`), as JSON.
pub fn pods_args(namespace: &str, target: &Target, release: &str, name: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), "pods".into()];
    args.extend(scope(Some(namespace), target));
    args.extend([
        "--selector".into(),
        format!("app.kubernetes.io/instance={release},app.kubernetes.io/name={name}").into(),
        "--output".into(),
        "json".into(),
    ]);
    args
}

/// The first pod of a `kubectl get pods --output json` list that runs with `container` ready.
pub fn running_pod(json: &str, container: &str) -> anyhow::Result<Option<String>> {
    let list: List<serde_json::Value> = serde_json::from_str(json)?;
    Ok(list.items.iter().find_map(|pod| {
        let running =
            pod["status"]["phase"] == "Running" && pod["metadata"]["deletionTimestamp"].is_null();
        let ready = pod["status"]["containerStatuses"]
            .as_array()
            .is_some_and(|all| {
                all.iter()
                    .any(|c| c["name"] == container && c["ready"] == true)
            });
        (running && ready)
            .then(|| pod["metadata"]["name"].as_str().map(str::to_owned))
            .flatten()
    }))
}

/// `kubectl exec -i POD -c CONTAINER -- COMMAND…`: stdin is passed on (never the argv).
pub fn exec_args(
    namespace: &str,
    target: &Target,
    pod: &str,
    container: &str,
    command: &[&str],
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "exec".into(),
        "--stdin".into(),
        pod.into(),
        "--container".into(),
        container.into(),
    ];
    args.extend(scope(Some(namespace), target));
    args.push("--".into());
    args.extend(command.iter().map(OsString::from));
    args
}

/// `kubectl rollout restart RESOURCE`.
pub fn rollout_restart_args(namespace: &str, target: &Target, resource: &str) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["rollout".into(), "restart".into(), resource.into()];
    args.extend(scope(Some(namespace), target));
    args
}

/// The Secrets eksmon made for these releases, by name (`--output name`).
pub fn eksmon_secrets_args(namespace: &str, target: &Target, releases: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), "secrets".into()];
    args.extend(scope(Some(namespace), target));
    args.extend([
        "--selector".into(),
        format!(
            "app.kubernetes.io/managed-by=eksmon,{}",
            instance_selector(releases)
        )
        .into(),
        "--output".into(),
        "name".into(),
    ]);
    args
}

/// Deletes exactly these objects (`kind/name`), by name.
pub fn delete_named_args(namespace: &str, target: &Target, names: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["delete".into()];
    args.extend(names.iter().map(OsString::from));
    args.extend(scope(Some(namespace), target));
    args.extend(["--wait=false".into(), "--output".into(), "name".into()]);
    args
}

/// The namespace's claims and StatefulSets as they run: what `diff` judges refused changes by.
pub fn volumes_args(namespace: &str, target: &Target) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), "persistentvolumeclaims,statefulsets".into()];
    args.extend(scope(Some(namespace), target));
    args.extend(["--output".into(), "json".into()]);
    args
}

/// Ingresses and Services of the releases, to report their addresses.
pub fn endpoints_args(namespace: &str, target: &Target, releases: &[&str]) -> Vec<OsString> {
    by_release(
        "get",
        "ingresses,services",
        namespace,
        target,
        releases,
        &["--output", "json"],
    )
}

pub fn storage_class_get_args(target: &Target, name: &str) -> Vec<OsString> {
    get_if_present_args("storageclass", name, None, "name", target)
}

/// Server-side apply of a manifest given on stdin.
pub fn apply_args(target: &Target) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "apply".into(),
        "--server-side".into(),
        "--field-manager=eksmon".into(),
        "--filename".into(),
        "-".into(),
    ];
    args.extend(scope(None, target));
    args
}

/// `kubectl version`, client and server, with a short timeout (the reachability check).
pub fn version_args(target: &Target) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "version".into(),
        "--output".into(),
        "json".into(),
        "--request-timeout=10s".into(),
    ];
    args.extend(scope(None, target));
    args
}

/// One object by name (namespaced when `namespace` is given); prints nothing when it does not
/// exist.
pub fn get_if_present_args(
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    output: &str,
    target: &Target,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), kind.into(), name.into()];
    args.extend(scope(namespace, target));
    args.extend([
        "--ignore-not-found".into(),
        "--output".into(),
        output.into(),
    ]);
    args
}

/// Every object of a kind, in every namespace for namespaced kinds, as JSON.
pub fn list_args(kind: &str, selector: Option<&str>, target: &Target) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["get".into(), kind.into(), "--all-namespaces".into()];
    if let Some(selector) = selector {
        args.extend(["--selector".into(), selector.into()]);
    }
    args.extend(["--output".into(), "json".into()]);
    args.extend(scope(None, target));
    args
}

/// A gp3 StorageClass for the EBS CSI driver: encrypted, bound when a pod is scheduled (so the
/// volume lands in the pod's zone), expandable. `name` is a checked StorageClass name.
pub fn storage_class_manifest(name: &str) -> String {
    let manifest = serde_json::json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "eksmon"},
        },
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true"},
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": true,
    });
    yaml::emit(&yaml::to_value(&manifest))
}

/// Decodes a Secret value as kubectl prints it (base64 of UTF-8 text).
pub fn decode_secret(encoded: &str) -> Result<String, String> {
    let encoded = encoded.trim();
    if encoded.is_empty() {
        return Err("the Secret has no such key, or it is empty".into());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the Secret value is not valid base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the Secret value is not UTF-8 text".into())
}

#[derive(Debug, Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    name: String,
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Pvc {
    metadata: Meta,
    #[serde(default)]
    spec: PvcSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PvcSpec {
    #[serde(default)]
    storage_class_name: Option<String>,
    #[serde(default)]
    resources: Option<serde_json::Value>,
}

/// A PVC as `uninstall` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimSummary {
    pub name: String,
    /// The release it belongs to (its `app.kubernetes.io/instance` label).
    pub release: String,
    pub size: String,
    pub storage_class: String,
}

pub fn parse_pvcs(json: &str) -> anyhow::Result<Vec<ClaimSummary>> {
    let list: List<Pvc> = serde_json::from_str(json)?;
    Ok(list
        .items
        .into_iter()
        .map(|pvc| ClaimSummary {
            release: pvc
                .metadata
                .labels
                .get("app.kubernetes.io/instance")
                .cloned()
                .unwrap_or_default(),
            name: pvc.metadata.name,
            size: pvc
                .spec
                .resources
                .as_ref()
                .and_then(|r| r.pointer("/requests/storage"))
                .and_then(|s| s.as_str())
                .unwrap_or("?")
                .to_owned(),
            storage_class: pvc.spec.storage_class_name.unwrap_or_default(),
        })
        .collect())
}

/// How a release is reached from outside, as its live Ingress or LoadBalancer Service says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub release: String,
    /// `Ingress` or `Service`.
    pub kind: String,
    pub name: String,
    /// What to open: the Ingress's host (https when it has TLS, or the ALB listens on 443), or
    /// the load balancer's own name and port; `None` until that is known.
    pub url: Option<String>,
    /// The load balancer's DNS name (or IP), once its controller has set it.
    pub address: Option<String>,
}

pub fn parse_addresses(json: &str) -> anyhow::Result<Vec<Address>> {
    let list: List<serde_json::Value> = serde_json::from_str(json)?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let mut found = Vec::new();
    for item in list.items {
        let kind = item["kind"].as_str().unwrap_or_default().to_owned();
        let ingress = &item["status"]["loadBalancer"]["ingress"][0];
        let address = text(&ingress["hostname"]).or_else(|| text(&ingress["ip"]));
        let url = match kind.as_str() {
            "Ingress" => ingress_url(&item),
            _ if item["spec"]["type"] == "LoadBalancer" => address.as_ref().map(|lb| {
                let port = item["spec"]["ports"][0]["port"].as_u64().unwrap_or(80);
                match port {
                    443 => format!("https://{lb}"),
                    80 => format!("http://{lb}"),
                    port => format!("http://{lb}:{port}"),
                }
            }),
            _ => continue,
        };
        found.push(Address {
            release: text(&item["metadata"]["labels"]["app.kubernetes.io/instance"])
                .unwrap_or_default(),
            kind,
            name: text(&item["metadata"]["name"]).unwrap_or_default(),
            url,
            address,
        });
    }
    Ok(found)
}

/// An Ingress's first host as a URL: https when the Ingress has TLS or the ALB listens on
/// HTTPS, else http.
fn ingress_url(item: &serde_json::Value) -> Option<String> {
    let host = item["spec"]["rules"]
        .as_array()?
        .iter()
        .find_map(|rule| rule["host"].as_str())?;
    let has_tls = item["spec"]["tls"]
        .as_array()
        .is_some_and(|tls| !tls.is_empty());
    let listens_https = item["metadata"]["annotations"]["alb.ingress.kubernetes.io/listen-ports"]
        .as_str()
        .is_some_and(|ports| ports.contains("HTTPS"));
    let scheme = if has_tls || listens_https {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(args: &[OsString]) -> String {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn context(name: &str) -> Target {
        Target {
            context: Some(name.into()),
            kubeconfig: None,
        }
    }

    #[test]
    fn argv() {
        let none = Target::default();
        assert_eq!(
            joined(&secret_key_args(
                "mon",
                &context("prod"),
                "grafana",
                "admin-password"
            )),
            "get secret grafana --context prod --namespace mon --output jsonpath={.data.admin-password}"
        );
        assert_eq!(
            joined(&pvc_list_args("mon", &none, &["grafana", "prometheus"])),
            "get persistentvolumeclaims --namespace mon --selector app.kubernetes.io/instance in (grafana,prometheus) --output json"
        );
        assert_eq!(
            joined(&pvc_delete_args("mon", &none, &["grafana", "storage-am-0"])),
            "delete persistentvolumeclaim/grafana persistentvolumeclaim/storage-am-0 --namespace mon --wait=false --output name"
        );
        assert_eq!(
            joined(&storage_class_get_args(&none, "ebs-sc-gp3")),
            "get storageclass ebs-sc-gp3 --ignore-not-found --output name"
        );
        assert_eq!(
            joined(&apply_args(&context("c"))),
            "apply --server-side --field-manager=eksmon --filename - --context c"
        );
    }

    #[test]
    fn classifies_api_failures() {
        let cases = [
            (
                r#"Error from server (NotFound): secrets "grafana" not found"#,
                Some(ApiFailure::NotFound),
            ),
            (
                r#"Error from server (Forbidden): secrets "grafana" is forbidden: User "dev" cannot get resource "secrets""#,
                Some(ApiFailure::Forbidden),
            ),
            (
                r#"Error: list: failed to list: secrets is forbidden: User "dev" cannot list resource "secrets""#,
                Some(ApiFailure::Forbidden),
            ),
            (
                "E1127 memcache.go:265] couldn't get current server API group list\nThe connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?",
                Some(ApiFailure::Unreachable),
            ),
            (
                r#"Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:1/version": dial tcp 127.0.0.1:1: connect: connection refused"#,
                Some(ApiFailure::Unreachable),
            ),
            (
                "error: You must be logged in to the server (Unauthorized)",
                Some(ApiFailure::Unauthorized),
            ),
            ("Error: UPGRADE FAILED: boom", None),
        ];
        for (stderr, kind) in cases {
            assert_eq!(ApiFailure::from_stderr(stderr), kind, "{stderr}");
        }
    }

    #[test]
    fn decodes_secrets() {
        assert_eq!(decode_secret("czNjcjN0\n"), Ok("s3cr3t".into()));
        assert!(decode_secret("").is_err());
        assert!(decode_secret("not base64!").unwrap_err().contains("base64"));
        assert!(decode_secret("//79").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn storage_class_is_gp3_encrypted_and_late_binding() {
        let manifest = yaml::parse(&storage_class_manifest("ebs-sc-gp3")).unwrap();
        assert_eq!(manifest["metadata"]["name"].as_str(), Some("ebs-sc-gp3"));
        assert_eq!(manifest["provisioner"].as_str(), Some("ebs.csi.aws.com"));
        assert_eq!(manifest["parameters"]["type"].as_str(), Some("gp3"));
        assert_eq!(manifest["parameters"]["encrypted"].as_str(), Some("true"));
        assert_eq!(
            manifest["volumeBindingMode"].as_str(),
            Some("WaitForFirstConsumer")
        );
        assert_eq!(manifest["allowVolumeExpansion"].as_bool(), Some(true));
    }

    #[test]
    fn reads_pvcs_and_addresses() {
        let pvcs = parse_pvcs(r#"{"items":[{"metadata":{"name":"grafana","labels":{"app.kubernetes.io/instance":"grafana"}},"spec":{"storageClassName":"gp3","resources":{"requests":{"storage":"100Gi"}}}}]}"#).unwrap();
        assert_eq!(
            pvcs[0],
            ClaimSummary {
                name: "grafana".into(),
                release: "grafana".into(),
                size: "100Gi".into(),
                storage_class: "gp3".into()
            }
        );
        let addresses = parse_addresses(r#"{"items":[
            {"kind":"Ingress","metadata":{"name":"grafana","labels":{"app.kubernetes.io/instance":"grafana"}},"spec":{"rules":[{"host":"g.example.com"}],"tls":[{"hosts":["g.example.com"]}]},"status":{"loadBalancer":{"ingress":[{"hostname":"k8s-x.elb.amazonaws.com"}]}}},
            {"kind":"Service","metadata":{"name":"grafana"},"spec":{"type":"ClusterIP"}},
            {"kind":"Service","metadata":{"name":"prometheus-server","labels":{"app.kubernetes.io/instance":"prometheus"}},"spec":{"type":"LoadBalancer","ports":[{"port":443}]},"status":{}},
            {"kind":"Service","metadata":{"name":"p2"},"spec":{"type":"LoadBalancer","ports":[{"port":9090}]},"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.9"}]}}}
        ]}"#).unwrap();
        assert_eq!(addresses.len(), 3);
        assert_eq!(
            addresses[0].address.as_deref(),
            Some("k8s-x.elb.amazonaws.com")
        );
        assert_eq!(addresses[0].url.as_deref(), Some("https://g.example.com"));
        assert_eq!(
            (addresses[1].address.as_deref(), addresses[1].url.as_deref()),
            (None, None)
        );
        assert_eq!(addresses[2].url.as_deref(), Some("http://10.0.0.9:9090"));
    }
}
