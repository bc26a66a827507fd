//! The charts' own naming rules, which eksmon must follow to find what they create: the Service
//! Grafana's datasource points at, the admin Secret `grafana-password` reads, the names install
//! prints. One home, used by render, install and grafana-password.

use crate::settings::Settings;
use crate::yaml;

/// A string at `path` in a chart's raw values, when the profile overrides it there.
pub(crate) fn raw_string<'a>(values: &'a yaml::Mapping, path: &[&str]) -> Option<&'a str> {
    let (first, rest) = path.split_first()?;
    yaml::get(values.get(*first)?, rest)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Helm's `trunc 63 | trimSuffix "-"`.
fn helm_trunc(name: &str) -> String {
    let mut name: String = name.chars().take(63).collect();
    if name.ends_with('-') {
        name.pop();
    }
    name
}

/// The chart's fullname rule: the release name when it contains the chart name, else
/// `<release>-<chart>`; `fullnameOverride` wins.
fn chart_fullname(
    release: &str,
    chart_name: &str,
    values: &yaml::Mapping,
    fullname_override: Option<&str>,
) -> String {
    if let Some(name) = fullname_override {
        return helm_trunc(name);
    }
    let name = raw_string(values, &["nameOverride"]).unwrap_or(chart_name);
    if release.contains(name) {
        helm_trunc(release)
    } else {
        helm_trunc(&format!("{release}-{name}"))
    }
}

/// The Prometheus server's Service name, as the prometheus chart's `prometheus.server.fullname`.
pub(crate) fn prometheus_server_fullname(s: &Settings) -> String {
    let values = &s.prometheus.values;
    if let Some(name) = raw_string(values, &["server", "fullnameOverride"]) {
        return helm_trunc(name);
    }
    let component = raw_string(values, &["server", "name"]).unwrap_or("server");
    // Unlike the other charts, the server's name ignores the top-level fullnameOverride.
    let base = chart_fullname(
        s.prometheus.release.as_str(),
        s.charts.prometheus.name.as_str(),
        values,
        None,
    );
    helm_trunc(&format!("{base}-{component}"))
}

/// Grafana's fullname: its Deployment and Service (and the chart's own admin Secret) are named
/// this.
pub(crate) fn grafana_fullname(s: &Settings) -> String {
    chart_fullname(
        s.grafana.release.as_str(),
        s.charts.grafana.name.as_str(),
        &s.grafana.values,
        raw_string(&s.grafana.values, &["fullnameOverride"]),
    )
}

/// Where Grafana's admin password lives, and who keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AdminSecret {
    pub name: String,
    pub user_key: String,
    pub password_key: String,
    /// eksmon made it (and may rotate it); otherwise the profile's raw values chose it.
    pub owned: bool,
}

/// The keys the chart reads from an admin Secret.
pub(crate) const ADMIN_USER_KEY: &str = "admin-user";
pub(crate) const ADMIN_PASSWORD_KEY: &str = "admin-password";

/// A value the chart takes as given: present, not null and not empty.
fn is_set(values: &yaml::Mapping, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    values
        .get(*first)
        .and_then(|v| yaml::get(v, rest))
        .is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
}

/// Where the raw Grafana values write the admin password itself (a string or a number), as a
/// profile path; `None` when they do not.
pub(crate) fn admin_password_in_values(values: &yaml::Mapping) -> Option<&'static str> {
    [
        (&["adminPassword"][..], "grafana.values.adminPassword"),
        (
            &["env", "GF_SECURITY_ADMIN_PASSWORD"][..],
            "grafana.values.env.GF_SECURITY_ADMIN_PASSWORD",
        ),
    ]
    .into_iter()
    .find(|(path, _)| is_set(values, path))
    .map(|(_, field)| field)
}

/// Whether the profile's raw Grafana values set the admin password their own way (a Secret of
/// their own, a password in values or env, or no initial admin at all).
fn admin_set_by_values(values: &yaml::Mapping) -> bool {
    raw_string(values, &["admin", "existingSecret"]).is_some()
        || admin_password_in_values(values).is_some()
        || [
            "GF_SECURITY_ADMIN_PASSWORD__FILE",
            "GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION",
        ]
        .into_iter()
        .any(|key| is_set(values, &["env", key]))
}

/// Grafana's admin Secret: eksmon's own `<fullname>-admin`, unless the raw values chose one
/// (`admin.existingSecret`) or set the password another way (then the chart's `<fullname>`).
pub(crate) fn grafana_admin_secret(s: &Settings) -> AdminSecret {
    let values = &s.grafana.values;
    let key = |name: &str, default: &str| {
        raw_string(values, &["admin", name])
            .unwrap_or(default)
            .to_owned()
    };
    let fullname = grafana_fullname(s);
    match raw_string(values, &["admin", "existingSecret"]) {
        Some(theirs) => AdminSecret {
            name: theirs.to_owned(),
            user_key: key("userKey", ADMIN_USER_KEY),
            password_key: key("passwordKey", ADMIN_PASSWORD_KEY),
            owned: false,
        },
        None if admin_set_by_values(values) => AdminSecret {
            name: fullname,
            user_key: ADMIN_USER_KEY.into(),
            password_key: ADMIN_PASSWORD_KEY.into(),
            owned: false,
        },
        None => AdminSecret {
            name: helm_trunc(&format!("{fullname}-admin")),
            user_key: ADMIN_USER_KEY.into(),
            password_key: ADMIN_PASSWORD_KEY.into(),
            owned: true,
        },
    }
}

/// The Secret the chart's own admin Secret is named (`<fullname>`), where installs made before
/// eksmon kept the password: adopted from there once.
pub(crate) fn grafana_chart_admin_secret(s: &Settings) -> String {
    grafana_fullname(s)
}

/// eksmon's Secret for the image renderer's token, when the raw values switch the renderer on
/// and give it neither a token nor a Secret (the chart would make a random one per render).
pub(crate) fn renderer_token_secret(s: &Settings) -> Option<String> {
    let values = &s.grafana.values;
    let renderer = values
        .get("imageRenderer")
        .and_then(yaml::Value::as_mapping)?;
    let on = |key: &str| renderer.get(key).and_then(yaml::Value::as_bool);
    let service_on = renderer
        .get("service")
        .and_then(yaml::Value::as_mapping)
        .and_then(|svc| svc.get("enabled"))
        .and_then(yaml::Value::as_bool)
        .unwrap_or(true);
    let chosen = raw_string(renderer, &["existingSecret"]).is_some()
        || raw_string(renderer, &["token"]).is_some();
    (on("enabled") == Some(true) && service_on && !chosen)
        .then(|| format!("{}-token", renderer_chart_secret(s)))
}

/// The chart's own Secret for the renderer's token: `grafana.imageRenderer.fullname` (the
/// fullname cut to 47 characters) and `-image-renderer`.
pub(crate) fn renderer_chart_secret(s: &Settings) -> String {
    let base: String = grafana_fullname(s).chars().take(47).collect();
    format!("{}-image-renderer", base.trim_end_matches('-'))
}

/// The key the renderer's Secret holds its token under (fixed by the chart).
pub(crate) const RENDERER_TOKEN_KEY: &str = "token";

/// The server's service account, as the chart's `prometheus.serviceAccountName.server`: the
/// server's fullname unless `serviceAccounts.server.name` says otherwise.
pub(crate) fn prometheus_server_account(s: &Settings) -> String {
    raw_string(&s.prometheus.values, &["serviceAccounts", "server", "name"])
        .map_or_else(|| prometheus_server_fullname(s), str::to_owned)
}

/// Grafana's service account: the chart names it after Grafana's fullname unless
/// `serviceAccount.name` is set.
pub(crate) fn grafana_account(s: &Settings) -> String {
    raw_string(&s.grafana.values, &["serviceAccount", "name"])
        .map_or_else(|| grafana_fullname(s), str::to_owned)
}

/// Alertmanager's service account: the alertmanager subchart's fullname (it names its account
/// after itself unless `alertmanager.serviceAccount.name` is set).
pub(crate) fn alertmanager_account(s: &Settings) -> String {
    let empty = yaml::Mapping::new();
    let values = s
        .prometheus
        .values
        .get("alertmanager")
        .and_then(yaml::Value::as_mapping)
        .unwrap_or(&empty);
    if let Some(name) = raw_string(values, &["serviceAccount", "name"]) {
        return name.to_owned();
    }
    chart_fullname(
        s.prometheus.release.as_str(),
        "alertmanager",
        values,
        raw_string(values, &["fullnameOverride"]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml_text: &str) -> Settings {
        crate::yaml::from_value(crate::yaml::parse(yaml_text).unwrap()).unwrap()
    }

    #[test]
    fn fullnames_follow_the_charts_rules() {
        let s = Settings::default();
        assert_eq!(prometheus_server_fullname(&s), "prometheus-server");
        assert_eq!(grafana_fullname(&s), "grafana");
        let s = settings("prometheus: {release: mon}\ngrafana: {release: mon}\n");
        assert_eq!(prometheus_server_fullname(&s), "mon-prometheus-server");
        assert_eq!(grafana_fullname(&s), "mon-grafana");
        let s = settings(
            "prometheus: {values: {server: {fullnameOverride: prom}}}\ngrafana: {values: {fullnameOverride: graf}}\n",
        );
        assert_eq!(prometheus_server_fullname(&s), "prom");
        assert_eq!(grafana_fullname(&s), "graf");
        let s = settings("prometheus: {values: {nameOverride: metrics, server: {name: main}}}\n");
        assert_eq!(prometheus_server_fullname(&s), "prometheus-metrics-main");
    }

    #[test]
    fn service_accounts_follow_the_charts_rules() {
        let s = Settings::default();
        assert_eq!(prometheus_server_account(&s), "prometheus-server");
        assert_eq!(alertmanager_account(&s), "prometheus-alertmanager");
        let s = settings(
            "prometheus: {release: mon, values: {serviceAccounts: {server: {name: writer}}, alertmanager: {fullnameOverride: am}}}\n",
        );
        assert_eq!(prometheus_server_account(&s), "writer");
        assert_eq!(alertmanager_account(&s), "am");
        let s = settings(
            "prometheus: {release: mon, values: {alertmanager: {serviceAccount: {name: sns}}}}\n",
        );
        assert_eq!(alertmanager_account(&s), "sns");
    }
}
