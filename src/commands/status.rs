//! `eksmon status`: each release's chart, revision, status, and address.

use crate::cli::{OutputFormat, ReportArgs};
use crate::context::Run;
use crate::kube::{self, Address};
use crate::settings::Exposure;
use crate::tool::Invocation;
use anyhow::Result;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Serialize)]
struct Row {
    release: String,
    chart: String,
    app_version: String,
    revision: String,
    status: String,
    updated: String,
    address: Option<String>,
    url: Option<String>,
}

pub fn run(run: &Run, args: &ReportArgs) -> Result<()> {
    let loaded = run.load(&args.profile, &[])?;
    let settings = &loaded.settings;
    let namespace = settings.namespace.as_str();
    let helm = run.helm()?;
    let listed = helm.list(Some(namespace), &run.target, run.echo())?;

    let charts = super::installed(&loaded, None)?;
    let releases: Vec<&str> = charts
        .iter()
        .map(|&chart| settings.release(chart).as_str())
        .collect();
    let addresses = addresses(run, namespace, &releases);
    let rows: Vec<Row> = charts
        .iter()
        .map(|&chart| {
            let release = settings.release(chart).as_str();
            let url = (settings.exposure == Exposure::Alb)
                .then(|| settings.host(chart).map(|h| format!("https://{h}")))
                .flatten();
            let address = addresses
                .iter()
                .find(|a| a.release == release)
                .and_then(|a| a.address.clone());
            match listed.iter().find(|r| r.name == release) {
                Some(found) => Row {
                    release: release.to_owned(),
                    chart: found.chart.clone(),
                    app_version: found.app_version.clone(),
                    revision: found.revision.clone(),
                    status: found.status.clone(),
                    updated: found.updated.clone(),
                    address,
                    url,
                },
                None => Row {
                    release: release.to_owned(),
                    chart: String::new(),
                    app_version: String::new(),
                    revision: String::new(),
                    status: "not installed".into(),
                    updated: String::new(),
                    address: None,
                    url: None,
                },
            }
        })
        .collect();

    let text = match args.output {
        OutputFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        OutputFormat::Table => table(&rows),
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
            .echo(run.echo())
            .deadline(Duration::from_secs(60));
        kube::parse_addresses(&kubectl.run(&get)?.stdout)
    });
    found.unwrap_or_else(|err| {
        run.ui.warn(&format!("addresses unknown: {err:#}"));
        Vec::new()
    })
}

fn table(rows: &[Row]) -> String {
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    let header = [
        "RELEASE",
        "CHART",
        "APP VERSION",
        "REVISION",
        "STATUS",
        "UPDATED",
        "ADDRESS",
    ]
    .map(str::to_owned)
    .to_vec();
    let lines = rows.iter().map(|r| {
        let address = match (&r.url, &r.address) {
            (Some(url), Some(address)) => format!("{url} ({address})"),
            (Some(url), None) => url.clone(),
            (None, Some(address)) => address.clone(),
            (None, None) => "-".into(),
        };
        vec![
            r.release.clone(),
            dash(&r.chart),
            dash(&r.app_version),
            dash(&r.revision),
            r.status.clone(),
            dash(&r.updated),
            address,
        ]
    });
    crate::ui::table(&std::iter::once(header).chain(lines).collect::<Vec<_>>())
}
