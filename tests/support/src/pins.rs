//! The chart versions eksmon pins, read from its own defaults: a pin moves in one place
//! (`settings.rs`), and the tests follow.

use eksmon::settings::{ChartRef, Settings};
use std::sync::OnceLock;

fn defaults() -> &'static Settings {
    static DEFAULTS: OnceLock<Settings> = OnceLock::new();
    DEFAULTS.get_or_init(Settings::default)
}

/// The pinned `prometheus` or `grafana` chart.
pub fn chart(name: &str) -> &'static ChartRef {
    let charts = &defaults().charts;
    match name {
        "prometheus" => &charts.prometheus,
        "grafana" => &charts.grafana,
        other => panic!("eksmon pins no chart `{other}`"),
    }
}

/// The pinned version of `prometheus` or `grafana` (`29.27.0`).
pub fn version(name: &str) -> &'static str {
    chart(name).version.as_str()
}

/// The archive file name helm gives the pinned chart (`prometheus-29.27.0.tgz`).
pub fn archive(name: &str) -> String {
    format!("{name}-{}.tgz", version(name))
}

/// A profile's `charts:` block pointing both pinned charts at the repository `url`.
pub fn charts_yaml(url: &str) -> String {
    format!(
        "charts:\n  prometheus: {{repo: '{url}', name: prometheus, version: {}}}\n  grafana: {{repo: '{url}', name: grafana, version: {}}}\n",
        version("prometheus"),
        version("grafana")
    )
}
