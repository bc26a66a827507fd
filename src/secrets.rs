//! The Secrets eksmon keeps for Grafana: the admin password and, when the renderer is switched
//! on, the image renderer's token. The chart would make both with `randAlphaNum` behind a
//! `lookup`, so every render without a cluster (GitOps engines, `helm template`) would differ
//! and the first upgrade would restart Grafana. eksmon makes them once, before the first install,
//! and hands them to the chart by name (`admin.existingSecret`, `imageRenderer.existingSecret`).
//!
//! Their values travel only between kubectl's stdout and stdin: never in argv, values, logs or
//! output. Nothing here prints; the callers say what was done.

use crate::kube::{self, ApiFailure};
use crate::naming;
use crate::settings::Settings;
use crate::target::Target;
use crate::tool::{Invocation, Tool};
use anyhow::{Context as _, Result};
use base64::Engine as _;
use std::collections::BTreeMap;
use std::time::Duration;

const KUBECTL_DEADLINE: Duration = Duration::from_secs(60);

/// Length of a generated password or token: as long as the chart's own.
const SECRET_LENGTH: usize = 40;

/// What a Secret is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    GrafanaAdmin,
    RendererToken,
}

impl Purpose {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Purpose::GrafanaAdmin => "Grafana's admin password",
            Purpose::RendererToken => "the image renderer's token",
        }
    }
}

/// One Secret of eksmon's, and where an install made before eksmon kept its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owned {
    pub name: String,
    pub purpose: Purpose,
    /// The chart's Secret of the same purpose, whose value is adopted when it exists.
    pub chart_secret: String,
    /// The key holding the random value, in both Secrets.
    pub key: &'static str,
}

/// The Secrets eksmon keeps for this profile's Grafana (none when Grafana is off or the raw
/// values manage them).
pub(crate) fn owned(s: &Settings) -> Vec<Owned> {
    if !s.grafana.enabled {
        return Vec::new();
    }
    let mut found = Vec::new();
    let admin = naming::grafana_admin_secret(s);
    if admin.owned {
        found.push(Owned {
            name: admin.name,
            purpose: Purpose::GrafanaAdmin,
            chart_secret: naming::grafana_chart_admin_secret(s),
            key: naming::ADMIN_PASSWORD_KEY,
        });
    }
    if let Some(name) = naming::renderer_token_secret(s) {
        found.push(Owned {
            name,
            purpose: Purpose::RendererToken,
            chart_secret: naming::renderer_chart_secret(s),
            key: naming::RENDERER_TOKEN_KEY,
        });
    }
    found
}

/// What [`ensure`] found or did for one Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Made {
    /// It was there already.
    Existing,
    /// Created with the value of the chart's Secret (an install made before eksmon).
    Adopted { from: String },
    /// Created with a new random value.
    Created,
    /// Not looked for (a dry run).
    NotLooked,
}

/// kubectl, for one cluster and namespace.
pub(crate) struct Kubectl<'a> {
    pub tool: &'a Tool,
    pub target: &'a Target,
    pub namespace: &'a str,
}

impl Kubectl<'_> {
    fn run(&self, args: Vec<std::ffi::OsString>, stdin: Option<Vec<u8>>) -> Result<String> {
        let mut invocation = Invocation::new(args).deadline(KUBECTL_DEADLINE);
        if let Some(bytes) = stdin {
            invocation = invocation.stdin(bytes);
        }
        Ok(self.tool.run(&invocation)?.stdout)
    }

    /// The named Secrets that exist, by name: their `data`, base64 as stored.
    fn secrets(&self, names: &[&str]) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        let stdout = self.run(
            kube::secrets_get_args(self.namespace, self.target, names),
            None,
        )?;
        parse_secret_list(&stdout)
    }

    /// Server-side apply of `manifest` (given on stdin); creates the namespace first when the
    /// API server says it is missing.
    fn apply(&self, manifest: String) -> Result<()> {
        let bytes = manifest.into_bytes();
        match self.run(kube::apply_args(self.target), Some(bytes.clone())) {
            Err(err) if ApiFailure::of(&err) == Some(ApiFailure::NotFound) => {
                self.run(
                    kube::namespace_create_args(self.namespace, self.target),
                    None,
                )?;
                self.run(kube::apply_args(self.target), Some(bytes))?;
                Ok(())
            }
            other => other.map(drop),
        }
    }
}

/// Makes each missing Secret of `secrets`: with the chart's value when an earlier install left
/// one, else with a new random value.
pub(crate) fn ensure(
    kubectl: &Kubectl<'_>,
    settings: &Settings,
    secrets: &[Owned],
) -> Result<Vec<(Owned, Made)>> {
    if secrets.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = secrets
        .iter()
        .flat_map(|s| [s.name.as_str(), s.chart_secret.as_str()])
        .collect();
    let existing = kubectl
        .secrets(&names)
        .context("cannot read the Secrets Grafana needs")?;
    let mut done = Vec::new();
    for secret in secrets {
        if existing.contains_key(&secret.name) {
            done.push((secret.clone(), Made::Existing));
            continue;
        }
        let adopted = existing
            .get(&secret.chart_secret)
            .and_then(|data| data.get(secret.key))
            .filter(|value| !value.is_empty());
        let (encoded, made) = match adopted {
            Some(value) => (
                value.clone(),
                Made::Adopted {
                    from: secret.chart_secret.clone(),
                },
            ),
            None => (encode(&random_text(SECRET_LENGTH)?), Made::Created),
        };
        let data = data_of(settings, secret, &existing, encoded);
        kubectl
            .apply(manifest(settings, secret, &data))
            .with_context(|| format!("cannot create Secret `{}`", secret.name))?;
        done.push((secret.clone(), made));
    }
    Ok(done)
}

/// Sets a new random value in an existing Secret of eksmon's; returns the old and new values
/// (plain text), for the caller to put into the running Grafana or to restore.
pub(crate) fn rotate(kubectl: &Kubectl<'_>, secret: &Owned) -> Result<Rotated> {
    let existing = kubectl.secrets(&[secret.name.as_str()])?;
    let Some(current) = existing.get(&secret.name) else {
        anyhow::bail!(
            "Secret `{}` does not exist in namespace `{}`",
            secret.name,
            kubectl.namespace
        );
    };
    let old = current
        .get(secret.key)
        .map(|v| kube::decode_secret(v))
        .transpose()
        .map_err(anyhow::Error::msg)?
        .unwrap_or_default();
    let new = random_text(SECRET_LENGTH)?;
    Ok(Rotated {
        old,
        new,
        data_base: current.clone(),
    })
}

/// A rotation under way: the values, and the Secret's other keys as they were.
pub(crate) struct Rotated {
    pub old: String,
    pub new: String,
    data_base: BTreeMap<String, String>,
}

impl Rotated {
    /// Writes `value` (one of [`Rotated::old`] or [`Rotated::new`]) into the Secret.
    pub(crate) fn write(
        &self,
        kubectl: &Kubectl<'_>,
        settings: &Settings,
        secret: &Owned,
        value: &str,
    ) -> Result<()> {
        let mut data = self.data_base.clone();
        data.insert(secret.key.to_owned(), encode(value));
        kubectl.apply(manifest(settings, secret, &data))
    }
}

/// The Secret's `data`: the random value, plus the admin user name for Grafana's.
fn data_of(
    settings: &Settings,
    secret: &Owned,
    existing: &BTreeMap<String, BTreeMap<String, String>>,
    encoded: String,
) -> BTreeMap<String, String> {
    let mut data = BTreeMap::from([(secret.key.to_owned(), encoded)]);
    if secret.purpose == Purpose::GrafanaAdmin {
        let user = existing
            .get(&secret.chart_secret)
            .and_then(|d| d.get(naming::ADMIN_USER_KEY))
            .cloned()
            .unwrap_or_else(|| encode(admin_user(settings)));
        data.insert(naming::ADMIN_USER_KEY.to_owned(), user);
    }
    data
}

/// The admin's login: the chart's `adminUser` (default `admin`).
fn admin_user(settings: &Settings) -> &str {
    naming::raw_string(&settings.grafana.values, &["adminUser"]).unwrap_or("admin")
}

fn encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The Secret as JSON for kubectl's stdin.
fn manifest(settings: &Settings, secret: &Owned, data: &BTreeMap<String, String>) -> String {
    let component = match secret.purpose {
        Purpose::GrafanaAdmin => "admin-secret",
        Purpose::RendererToken => "image-renderer-token",
    };
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret.name,
            "namespace": settings.namespace.as_str(),
            "labels": {
                "app.kubernetes.io/managed-by": "eksmon",
                "app.kubernetes.io/name": "grafana",
                "app.kubernetes.io/instance": settings.grafana.release.as_str(),
                "app.kubernetes.io/component": component,
            },
        },
        "type": "Opaque",
        "data": data,
    })
    .to_string()
}

/// `length` letters and digits from the operating system's CSPRNG, without modulo bias.
pub(crate) fn random_text(length: usize) -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // The largest multiple of the alphabet's size that fits a byte: bytes above it are drawn
    // again, so every character is equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    let mut text = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while text.len() < length {
        getrandom::fill(&mut buffer)
            .map_err(|e| anyhow::anyhow!("the system's random number generator failed: {e}"))?;
        for byte in buffer {
            let byte = usize::from(byte);
            if byte < limit && text.len() < length {
                text.push(char::from(ALPHABET[byte % ALPHABET.len()]));
            }
        }
    }
    Ok(text)
}

/// `kubectl get secret … --output json`: each Secret's name and `data`.
fn parse_secret_list(json: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    if json.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    #[derive(serde::Deserialize)]
    struct List {
        #[serde(default)]
        items: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        metadata: Meta,
        #[serde(default)]
        data: BTreeMap<String, String>,
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        name: String,
    }
    let value: serde_json::Value =
        serde_json::from_str(json).context("cannot read the Secrets kubectl printed")?;
    // One name gives the object itself, several a List.
    let items = if value.get("items").is_some() {
        serde_json::from_value::<List>(value)?.items
    } else {
        vec![serde_json::from_value::<Item>(value)?]
    };
    Ok(items
        .into_iter()
        .map(|item| (item.metadata.name, item.data))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_text_is_alphanumeric_and_differs() {
        let a = random_text(SECRET_LENGTH).unwrap();
        let b = random_text(SECRET_LENGTH).unwrap();
        assert_eq!(a.len(), SECRET_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn eksmon_keeps_the_admin_secret_unless_the_values_do() {
        let settings = |values: &str| -> Settings {
            crate::yaml::from_value(
                crate::yaml::parse(&format!("grafana: {{values: {values}}}")).unwrap(),
            )
            .unwrap()
        };
        let mine = owned(&settings("{}"));
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].name, "grafana-admin");
        assert_eq!(mine[0].chart_secret, "grafana");
        for theirs in [
            "{admin: {existingSecret: mine}}",
            "{adminPassword: hunter2hunter2}",
            "{env: {GF_SECURITY_ADMIN_PASSWORD__FILE: /run/pw}}",
        ] {
            assert!(owned(&settings(theirs)).is_empty(), "{theirs}");
        }
        let renderer = owned(&settings("{imageRenderer: {enabled: true}}"));
        assert_eq!(renderer[1].name, "grafana-image-renderer-token");
        assert_eq!(renderer[1].chart_secret, "grafana-image-renderer");
        let token_given = owned(&settings("{imageRenderer: {enabled: true, token: t}}"));
        assert_eq!(token_given.len(), 1);
    }

    #[test]
    fn secret_lists_are_read_by_name() {
        let list = r#"{"kind":"List","items":[{"metadata":{"name":"a"},"data":{"k":"dg=="}},{"metadata":{"name":"b"}}]}"#;
        let found = parse_secret_list(list).unwrap();
        assert_eq!(found["a"]["k"], "dg==");
        assert!(found["b"].is_empty());
        assert!(parse_secret_list("").unwrap().is_empty());
    }
}
