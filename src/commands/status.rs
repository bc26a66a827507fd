//! `eksmon status`: each release's chart, revision, status, and address.

use crate::cli::{OutputFormat, ReportArgs};
use crate::context::Run;
use crate::kube::{self, Address};
use crate::tool::Invocation;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One release, as `status --output json` prints it (and a fleet's run reads it back).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    release: String,
    namespace: String,
    /// `name-version`; null when not installed.
    chart: Option<String>,
    app_version: Option<String>,
    revision: Option<u64>,
    /// helm's status, or `not installed`.
    status: String,
    updated: Option<String>,
    /// How it is reached, from its live Ingress or LoadBalancer Service; null: not exposed.
    exposed: Option<Exposed>,
    /// The keys of the previous release's JSON, kept for one release (with a warning):
    /// `appVersion`, `exposed.url` and `exposed.address` replace them.
    #[serde(rename = "app_version")]
    old_app_version: Option<String>,
    #[serde(rename = "url")]
    old_url: Option<String>,
    #[serde(rename = "address")]
    old_address: Option<String>,
}

/// Said once per `status --output json` while the old keys are still written.
const OLD_KEYS_WARNING: &str = "status --output json: the keys `app_version`, `url` and `address` are deprecated and go in the next release; read `appVersion`, `exposed.url` and `exposed.address`";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Exposed {
    /// `Ingress` or `Service`.
    kind: String,
    name: String,
    /// What to open; null until the load balancer's name is known (for a Service).
    url: Option<String>,
    /// The load balancer's DNS name; null until its controller has set it.
    address: Option<String>,
}

pub(super) fn run(run: &Run, args: &ReportArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let settings = &loaded.settings;
    let namespace = settings.namespace.as_str();
    let helm = run.helm()?;
    let listed = helm.list(Some(namespace), &run.target)?;

    let charts = super::installed(&loaded, None)?;
    let releases: Vec<&str> = charts
        .iter()
        .map(|&chart| settings.release(chart).as_str())
        .collect();
    let addresses = addresses(run, namespace, &releases);
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let rows: Vec<Row> = charts
        .iter()
        .map(|&chart| {
            let release = settings.release(chart).as_str();
            let found = listed.iter().find(|r| r.name == release);
            // The Ingress first: with both, it is the way in.
            let mut live: Vec<&Address> =
                addresses.iter().filter(|a| a.release == release).collect();
            live.sort_by_key(|a| a.kind != "Ingress");
            let exposed = found.and(live.first()).map(|a| Exposed {
                kind: a.kind.clone(),
                name: a.name.clone(),
                url: a.url.clone(),
                address: a.address.clone(),
            });
            let app_version = found.and_then(|r| non_empty(&r.app_version));
            Row {
                old_app_version: app_version.clone(),
                old_url: exposed.as_ref().and_then(|e| e.url.clone()),
                old_address: exposed.as_ref().and_then(|e| e.address.clone()),
                release: release.to_owned(),
                namespace: namespace.to_owned(),
                chart: found.and_then(|r| non_empty(&r.chart)),
                app_version,
                revision: found.and_then(|r| r.revision.parse().ok()),
                status: found.map_or_else(|| "not installed".to_owned(), |r| r.status.clone()),
                updated: found.and_then(|r| non_empty(&r.updated)),
                exposed,
            }
        })
        .collect();

    // A fleet's cluster answers the run that started it, in JSON; that run warns once.
    let text = match (args.output, run.member()) {
        (_, Some(_)) => serde_json::to_string_pretty(&rows)? + "\n",
        (OutputFormat::Json, None) => {
            run.ui.warn(OLD_KEYS_WARNING);
            serde_json::to_string_pretty(&rows)? + "\n"
        }
        (OutputFormat::Text, None) => table(&rows),
    };
    super::write_stdout(text.as_bytes())?;
    // Like `helm status`: a script can tell from the exit code alone that something is off.
    let unhealthy: Vec<String> = rows
        .iter()
        .filter(|r| r.status != "deployed")
        .map(|r| format!("{} is {}", r.release, r.status))
        .collect();
    if unhealthy.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "not every release is deployed: {}",
            unhealthy.join(", ")
        ))
    }
}

/// Ingress/LoadBalancer addresses from kubectl; empty (with a warning) when kubectl cannot tell.
fn addresses(run: &Run, namespace: &str, releases: &[&str]) -> Vec<Address> {
    let found = run.kubectl().and_then(|kubectl| {
        let get = Invocation::new(kube::endpoints_args(namespace, &run.target, releases))
            .deadline(Duration::from_secs(60));
        kube::parse_addresses(&kubectl.run(&get)?.stdout)
    });
    found.unwrap_or_else(|err| {
        run.ui.warn(&format!("addresses unknown: {err:#}"));
        Vec::new()
    })
}

const HEADER: [&str; 7] = [
    "RELEASE",
    "CHART",
    "APP VERSION",
    "REVISION",
    "STATUS",
    "UPDATED",
    "ADDRESS",
];

fn table(rows: &[Row]) -> String {
    let header = HEADER.map(str::to_owned).to_vec();
    crate::ui::table(
        &std::iter::once(header)
            .chain(cells(rows))
            .collect::<Vec<_>>(),
    )
}

/// `status --fleet`: the same table with each cluster's name in front; a cluster that could
/// not tell says why. `clusters` are `{name, releases, error}` as the fleet's JSON has them.
pub(super) fn fleet_table(clusters: &[serde_json::Value]) -> String {
    let mut lines = vec![
        std::iter::once("CLUSTER")
            .chain(HEADER)
            .map(str::to_owned)
            .collect(),
    ];
    for cluster in clusters {
        let name = cluster["name"].as_str().unwrap_or_default().to_owned();
        let rows: Vec<Row> =
            serde_json::from_value(cluster["releases"].clone()).unwrap_or_default();
        if rows.is_empty() {
            let why = cluster["error"].as_str().unwrap_or("no release");
            let mut line = vec![name.clone(), "-".to_owned()];
            line.extend(["-"; 3].map(str::to_owned));
            line.extend([format!("unknown: {why}"), "-".to_owned(), "-".to_owned()]);
            lines.push(line);
        }
        for cells in cells(&rows) {
            lines.push(std::iter::once(name.clone()).chain(cells).collect());
        }
    }
    crate::ui::table(&lines)
}

fn cells(rows: &[Row]) -> impl Iterator<Item = Vec<String>> + '_ {
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_owned());
    rows.iter().map(move |r| {
        let address = match &r.exposed {
            None if r.revision.is_none() => "-".to_owned(),
            None => "not exposed".to_owned(),
            Some(e) => match (&e.url, &e.address) {
                (Some(url), Some(address)) if !url.contains(address.as_str()) => {
                    format!("{url} ({address})")
                }
                (Some(url), None) if e.kind == "Ingress" => {
                    format!("{url} (load balancer pending)")
                }
                (Some(url), _) => url.clone(),
                (None, _) => format!("{} {} (address pending)", e.kind, e.name),
            },
        };
        vec![
            r.release.clone(),
            dash(&r.chart),
            dash(&r.app_version),
            r.revision.map_or_else(|| "-".to_owned(), |n| n.to_string()),
            r.status.clone(),
            dash(&r.updated),
            address,
        ]
    })
}
