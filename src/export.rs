//! `eksmon export`: the objects a GitOps engine installs the releases from — Argo CD
//! Applications, or Flux sources and HelmReleases — with exactly the values `render` prints.
//!
//! What goes to git must render the same every time without `lookup` (GitOps engines do not run
//! it) and must hold no secret. The Grafana admin password is in a Secret of eksmon's naming,
//! which the user brings with their secret tool; values that would put a password into git, or
//! make the chart generate a random one on each render, are refused as bad input.

use crate::error::UserError;
use crate::field_path::FieldPath;
use crate::profile::Provenance;
use crate::settings::{Chart, ChartRef, Namespace, Settings};
use crate::yaml::{self, Value};
use anyhow::Result;
use serde_json::json;

/// The engine the objects are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    ArgoCd,
    Flux,
}

impl Engine {
    /// Where the engine's objects live unless told otherwise.
    pub(crate) fn default_namespace(self) -> &'static str {
        match self {
            Engine::ArgoCd => "argocd",
            Engine::Flux => "flux-system",
        }
    }
}

/// The cluster Argo CD deploys to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// An API server URL (`https://kubernetes.default.svc`: the cluster Argo CD runs in).
    Server(String),
    /// A cluster registered with Argo CD, by name.
    Name(String),
}

/// How the objects are made, besides the settings.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub engine: Engine,
    /// The namespace of the Applications, or of the Flux objects.
    pub namespace: Namespace,
    pub destination: Destination,
    /// Argo CD syncs on its own (with pruning and self-heal); otherwise a person syncs.
    pub auto_sync: bool,
    /// The fleet cluster the objects are for: Applications are then named `CLUSTER-RELEASE`
    /// (one Argo CD holds every cluster's).
    pub cluster: Option<String>,
}

/// One exported object, with the file it goes into under `--out-dir`.
#[derive(Debug, Clone)]
pub(crate) struct Exported {
    pub file: String,
    pub object: Value,
}

/// The Secrets the exported objects name and a GitOps user must bring: (namespace, name, keys).
pub(crate) fn secrets_to_bring(
    s: &Settings,
    charts: &[Chart],
) -> Vec<(String, String, Vec<String>)> {
    if !charts.contains(&Chart::Grafana) {
        return Vec::new();
    }
    crate::secrets::owned(s)
        .into_iter()
        .map(|secret| {
            let mut keys = vec![secret.key.to_owned()];
            if secret.purpose == crate::secrets::Purpose::GrafanaAdmin {
                keys.insert(0, crate::naming::ADMIN_USER_KEY.to_owned());
            }
            (s.namespace.to_string(), secret.name, keys)
        })
        .collect()
}

/// Refuses values that would put a secret into git, or that the chart would fill with a random
/// value on every render (so the engine would see a change each time).
pub(crate) fn check_gitops_safe(
    s: &Settings,
    charts: &[Chart],
    provenance: &Provenance,
) -> Result<(), UserError> {
    if !charts.contains(&Chart::Grafana) {
        return Ok(());
    }
    if let Some(path) = crate::naming::admin_password_in_values(&s.grafana.values) {
        let field = FieldPath::keys(path);
        return Err(UserError::input(format!(
            "{path}: a password in the values would be written into git with them"
        ))
        .at(provenance.origin_of(&field))
        .hint("leave it out: eksmon names a Secret for Grafana's admin password (`eksmon export` says which), and your secret tool brings it; or name your own with grafana.values.admin.existingSecret"));
    }
    Ok(())
}

/// The objects for `charts`: the namespace, the StorageClass when the profile creates it, then
/// each release's source and release object.
pub(crate) fn objects(s: &Settings, charts: &[Chart], options: &Options) -> Result<Vec<Exported>> {
    // The namespaces with their Pod Security levels, as install makes them: the engine's own
    // CreateNamespace would make them unlabelled, and would not make node-exporter's at all.
    let mut out: Vec<Exported> = crate::namespaces::wanted(s, charts)
        .iter()
        .map(|namespace| Exported {
            file: if namespace.name == s.namespace.as_str() {
                "namespace.yaml".into()
            } else {
                "node-exporter-namespace.yaml".into()
            },
            object: yaml::to_value(&crate::namespaces::manifest(namespace, true, true)),
        })
        .collect();
    if s.create_storage_class {
        out.push(Exported {
            file: "storageclass.yaml".into(),
            object: yaml::parse_trusted(
                &crate::kube::storage_class_manifest(s.storage_class.as_str()),
                "the StorageClass",
            )?,
        });
    }
    for &chart in charts {
        let values = crate::render::values(s, chart)?;
        match options.engine {
            Engine::ArgoCd => out.push(application(s, chart, values, options)),
            Engine::Flux => out.extend(flux(s, chart, values, options)),
        }
    }
    Ok(out)
}

fn managed_by() -> serde_json::Value {
    json!({"app.kubernetes.io/managed-by": "eksmon"})
}

/// An `oci://` repository, without its scheme.
fn oci_path(chart: &ChartRef) -> Option<&str> {
    chart.repo.as_str().strip_prefix("oci://")
}

/// An Argo CD Application for one release. An OCI chart takes Argo CD's Helm form: the
/// registry path without its scheme as `repoURL`, and the chart's name.
fn application(s: &Settings, chart: Chart, values: Value, options: &Options) -> Exported {
    let pinned = s.chart_ref(chart);
    let release = s.release(chart).as_str();
    let repo = oci_path(pinned).unwrap_or(pinned.repo.as_str());
    let name = match &options.cluster {
        Some(cluster) => format!("{cluster}-{release}"),
        None => release.to_owned(),
    };
    let destination = match &options.destination {
        Destination::Server(url) => json!({"server": url, "namespace": s.namespace.as_str()}),
        Destination::Name(name) => json!({"name": name, "namespace": s.namespace.as_str()}),
    };
    let mut sync_policy = json!({
        // ServerSideApply: the dashboards' ConfigMaps outgrow the annotation client-side apply
        // keeps.
        "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
    });
    if options.auto_sync {
        sync_policy["automated"] = json!({"prune": true, "selfHeal": true});
    }
    let mut object = yaml::to_value(&json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": options.namespace.as_str(),
            "labels": managed_by(),
        },
        "spec": {
            "project": "default",
            "source": {
                "repoURL": repo,
                "chart": pinned.name.as_str(),
                "targetRevision": pinned.version.as_str(),
                "helm": {"releaseName": release},
            },
            "destination": destination,
            "syncPolicy": sync_policy,
        },
    }));
    put(
        &mut object,
        &["spec", "source", "helm", "valuesObject"],
        values,
    );
    Exported {
        file: format!("{release}.application.yaml"),
        object,
    }
}

/// Flux's source for one release (a HelmRepository, or an OCIRepository for an `oci://` pin) and
/// its HelmRelease; the source is named after the release.
fn flux(s: &Settings, chart: Chart, values: Value, options: &Options) -> Vec<Exported> {
    let pinned = s.chart_ref(chart);
    let release = s.release(chart).as_str();
    let namespace = options.namespace.as_str();
    let metadata = json!({"name": release, "namespace": namespace, "labels": managed_by()});
    let (source, chart_spec) = match oci_path(pinned) {
        Some(path) => (
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "OCIRepository",
                "metadata": metadata,
                "spec": {
                    "interval": "1h",
                    "url": format!("oci://{}/{}", path.trim_end_matches('/'), pinned.name),
                    "ref": {"tag": pinned.version.as_str()},
                    "layerSelector": {
                        "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                        "operation": "copy",
                    },
                },
            }),
            json!({"chartRef": {"kind": "OCIRepository", "name": release}}),
        ),
        None => (
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "HelmRepository",
                "metadata": metadata,
                "spec": {"interval": "1h", "url": pinned.repo.as_str()},
            }),
            json!({"chart": {"spec": {
                "chart": pinned.name.as_str(),
                "version": pinned.version.as_str(),
                "sourceRef": {"kind": "HelmRepository", "name": release},
            }}}),
        ),
    };
    let source_kind = source["kind"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut spec = json!({
        "interval": "10m",
        "releaseName": release,
        "targetNamespace": s.namespace.as_str(),
        "install": {"createNamespace": true, "remediation": {"retries": 3}},
        "upgrade": {"remediation": {"retries": 3}},
        "driftDetection": {"mode": "enabled"},
    });
    if let (Some(spec), Some(chart)) = (spec.as_object_mut(), chart_spec.as_object()) {
        spec.extend(chart.clone());
    }
    let mut helm_release = yaml::to_value(&json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": metadata,
        "spec": spec,
    }));
    put(&mut helm_release, &["spec", "values"], values);
    vec![
        Exported {
            file: format!("{release}.{source_kind}.yaml"),
            object: yaml::to_value(&source),
        },
        Exported {
            file: format!("{release}.helmrelease.yaml"),
            object: helm_release,
        },
    ]
}

fn put(object: &mut Value, keys: &[&str], value: Value) {
    if let Some(map) = object.as_mapping_mut() {
        yaml::set(map, keys, Some(value));
    }
}

/// The objects as one YAML stream.
pub(crate) fn stream(exported: &[Exported]) -> String {
    exported
        .iter()
        .map(|e| yaml::emit(&e.object))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(engine: Engine) -> Options {
        Options {
            engine,
            namespace: Namespace::try_from(engine.default_namespace()).unwrap(),
            destination: Destination::Server("https://kubernetes.default.svc".into()),
            cluster: None,
            auto_sync: false,
        }
    }

    #[test]
    fn an_application_carries_the_rendered_values_and_the_pin() {
        let s = Settings::default();
        let exported = objects(&s, &Chart::ALL, &options(Engine::ArgoCd)).unwrap();
        let files: Vec<&str> = exported.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "namespace.yaml",
                "node-exporter-namespace.yaml",
                "prometheus.application.yaml",
                "grafana.application.yaml"
            ]
        );
        let app = &exported[2].object;
        let source = yaml::get(app, &["spec", "source"]).unwrap();
        assert_eq!(
            source.get("chart").and_then(Value::as_str),
            Some("prometheus")
        );
        assert_eq!(
            source.get("targetRevision").and_then(Value::as_str),
            Some(s.charts.prometheus.version.as_str())
        );
        assert_eq!(
            yaml::get(source, &["helm", "valuesObject"]),
            Some(&crate::render::values(&s, Chart::Prometheus).unwrap())
        );
        assert!(yaml::get(app, &["spec", "syncPolicy", "automated"]).is_none());
    }

    #[test]
    fn a_password_in_the_values_is_refused_as_a_string_or_a_number() {
        let provenance = crate::profile::check_text("t.yaml", "namespace: mon\n", &Chart::ALL)
            .unwrap()
            .provenance;
        for password in ["hunter2", "123456"] {
            let mut s = Settings::default();
            s.grafana.values = yaml::parse(&format!("adminPassword: {password}\n"))
                .unwrap()
                .as_mapping()
                .cloned()
                .unwrap();
            let err = check_gitops_safe(&s, &Chart::ALL, &provenance).unwrap_err();
            assert!(
                err.message.starts_with("grafana.values.adminPassword:"),
                "{err}"
            );
        }
        assert!(check_gitops_safe(&Settings::default(), &Chart::ALL, &provenance).is_ok());
    }

    #[test]
    fn flux_gets_a_source_per_release_and_oci_its_own_kind() {
        let mut s = Settings::default();
        s.charts.grafana.repo =
            crate::settings::ChartRepo::try_from("oci://ghcr.io/grafana/helm-charts").unwrap();
        let exported = objects(&s, &Chart::ALL, &options(Engine::Flux)).unwrap();
        let files: Vec<&str> = exported.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "namespace.yaml",
                "node-exporter-namespace.yaml",
                "prometheus.helmrepository.yaml",
                "prometheus.helmrelease.yaml",
                "grafana.ocirepository.yaml",
                "grafana.helmrelease.yaml",
            ]
        );
        let oci = &exported[4].object;
        assert_eq!(
            yaml::get(oci, &["spec", "url"]).and_then(Value::as_str),
            Some("oci://ghcr.io/grafana/helm-charts/grafana")
        );
        let release = &exported[5].object;
        assert_eq!(
            yaml::get(release, &["spec", "chartRef", "kind"]).and_then(Value::as_str),
            Some("OCIRepository")
        );
        assert_eq!(
            yaml::get(release, &["spec", "driftDetection", "mode"]).and_then(Value::as_str),
            Some("enabled")
        );
    }
}
