//! Settings → templates → chart values.
//!
//! Templates (embedded from `templates/`) see only the validated [`Settings`] (`s`) and a few
//! values derived from it here (`d`). Their output is parsed back, the profile's raw `values`
//! escape hatch is deep-merged over it, and the result is written by our own YAML emitter, so the
//! bytes are the same on every run and mean the same to Helm's YAML 1.1 reader.

use crate::dashboards::AMP_PLUGIN;
use crate::naming::{prometheus_server_fullname, raw_string};
use crate::settings::{
    AlbAuth, AuthType, Chart, DashboardChoice, Exposure, GrafanaDatasource, HttpsUrl,
    OnUnauthenticated, SecretName, Settings, Tags, UserPoolArn, UserPoolClientId, UserPoolDomain,
};
use crate::yaml::{self, Value};
use anyhow::{Context as _, Result};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("aws.j2", include_str!("../templates/aws.j2")),
    ("security.j2", include_str!("../templates/security.j2")),
    ("network.j2", include_str!("../templates/network.j2")),
    (
        "prometheus.yaml.j2",
        include_str!("../templates/prometheus.yaml.j2"),
    ),
    (
        "grafana.yaml.j2",
        include_str!("../templates/grafana.yaml.j2"),
    ),
];

/// The values for one chart: a YAML document headed by `# eksmon: <chart> values`.
pub fn values_document(settings: &Settings, chart: Chart) -> Result<String> {
    Ok(document(settings, chart, &values(settings, chart)?))
}

/// `values` as the document [`values_document`] writes, for a caller that keeps the tree too.
pub fn document(settings: &Settings, chart: Chart, values: &Value) -> String {
    let source = settings.chart_ref(chart);
    format!(
        "# eksmon: {chart} values\n# chart: {name} {version} from {repo}\n{body}",
        chart = chart.name(),
        name = source.name,
        version = source.version,
        repo = source.repo,
        body = yaml::emit(values),
    )
}

/// The values for one chart, as a YAML tree.
pub fn values(settings: &Settings, chart: Chart) -> Result<Value> {
    let env = environment()?;
    let template = env.get_template(&format!("{}.yaml.j2", chart.name()))?;
    let context = minijinja::context! {
        s => minijinja::Value::from_serialize(settings),
        d => minijinja::Value::from_serialize(Derived::from(settings)),
    };
    let text = template
        .render(context)
        .with_context(|| format!("internal error: the {} template failed", chart.name()))?;
    let mut values =
        yaml::parse_trusted(&text, &format!("the rendered {} template", chart.name()))?;
    if chart == Chart::Grafana {
        fill_in_dashboards(settings, &mut values);
    }
    let overrides = settings.raw_values(chart);
    if !overrides.is_empty() {
        yaml::merge(&mut values, Value::Mapping(overrides.clone()));
    }
    Ok(values)
}

/// Puts each of eksmon's boards into the `json:` the template left empty for it. The JSON is
/// made by serde_json and goes into the tree whole: no template sees it (it holds nothing from
/// the profile but the data source, and is large enough that a trip through text would cost).
fn fill_in_dashboards(settings: &Settings, values: &mut Value) {
    let source = crate::dashboards::data_source(settings);
    let Some(provider) = values
        .get_mut("dashboards")
        .and_then(|d| d.get_mut("eksmon"))
        .and_then(Value::as_mapping_mut)
    else {
        return;
    };
    for choice in crate::dashboards::selected(settings) {
        if let DashboardChoice::Bundled(which) = choice
            && let Some(entry) = provider.get_mut(which.name())
            && let Some(entry) = entry.as_mapping_mut()
        {
            entry.insert(
                "json".into(),
                Value::String(crate::dashboards::json(*which, source)),
            );
        }
    }
}

/// The template environment, built (and the templates parsed) once per process.
fn environment() -> Result<&'static Environment<'static>> {
    static ENVIRONMENT: std::sync::OnceLock<Environment<'static>> = std::sync::OnceLock::new();
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let env = build_environment()?;
    Ok(ENVIRONMENT.get_or_init(|| env))
}

fn build_environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Quoting is done explicitly with `tojson`; the default would JSON-escape `*.yaml` templates.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

/// Values computed from the settings, so templates stay free of logic about names and URLs.
#[derive(Debug, Serialize)]
struct Derived {
    prometheus_url: String,
    prometheus_service_port: u16,
    grafana_service_port: u16,
    grafana_root_url: Option<String>,
    alb_tags: String,
    nlb_tags: String,
    alb_auth: Option<AuthAnnotations>,
    dashboards: Vec<DashboardValues>,
    /// `server.retentionSize` in Prometheus's units (`46080MB`).
    retention_size: String,
    /// The chart's `serverFiles` rule files, when rules are installed.
    server_files: Option<serde_json::Value>,
    /// Alertmanager's `config`, `extraSecretMounts`, `serviceAccount`, when it is installed.
    alertmanager: Option<serde_json::Value>,
    /// AMP's URLs and the keep rule for `keepMetrics`, when `amp` is set.
    amp: Option<AmpDerived>,
    /// The server's service account name (Pod Identity associates the role with it).
    server_account: String,
    /// Alertmanager is asked for and Prometheus is not an agent.
    alertmanager_installed: bool,
    /// Agent mode: the server's flags (they replace the chart's TSDB flags) and no rule files.
    agent_flags: Option<Vec<&'static str>>,
    /// The data source the dashboards name.
    dashboard_datasource: &'static str,
    /// Grafana queries AMP (`grafana.datasource: amp` with an `amp` block).
    amp_datasource: bool,
    /// The name and plugin of Grafana's AMP data source.
    amp_datasource_name: &'static str,
    amp_plugin: &'static str,
    /// The role Grafana's service account is annotated with, when it queries AMP with IRSA.
    grafana_role_arn: Option<String>,
    /// eksmon's own admin Secret, when the profile leaves the password to eksmon: the chart
    /// then makes no random one (which would differ on every render without `lookup`).
    grafana_admin_secret: Option<String>,
    /// eksmon's Secret for the image renderer's token, when the raw values switch it on.
    renderer_token_secret: Option<String>,
    /// What the NetworkPolicies need, when they are on.
    network: Option<NetworkDerived>,
    /// node-exporter's own namespace (privileged).
    node_namespace: String,
    /// Grafana's single sign-on, when the profile has it.
    sso: Option<SsoDerived>,
}

/// Grafana's SSO section (templates/grafana.yaml.j2), with the endpoints each provider type
/// implies.
#[derive(Debug, Serialize)]
struct SsoDerived {
    /// The grafana.ini section: `auth.generic_oauth`, or `auth.okta`.
    section: &'static str,
    /// The login button's text.
    name: &'static str,
    client_id: String,
    /// The Secret with `clientSecret`, mounted for Grafana to read as a file.
    secret_name: String,
    auth_url: String,
    token_url: String,
    api_url: String,
    scopes: &'static str,
    /// Where the groups are in the claims (JMESPath), for `allowed_groups`.
    groups_attribute_path: Option<&'static str>,
    role_attribute_path: Option<String>,
    /// Space-separated, as Grafana reads the list.
    allowed_groups: Option<String>,
    disable_login_form: bool,
}

fn sso(s: &Settings) -> Option<SsoDerived> {
    use crate::settings::SsoType;
    let sso = s.grafana.sso.as_ref()?;
    // Each type's own fields are there (the profile checks say so); unset ones read as "".
    fn shown<T: std::fmt::Display>(value: Option<&T>) -> String {
        value.map(ToString::to_string).unwrap_or_default()
    }
    let (section, name, [auth_url, token_url, api_url], scopes, groups) = match sso.kind {
        SsoType::Cognito => {
            let base = format!(
                "https://{}.auth.{}.amazoncognito.com/oauth2",
                shown(sso.user_pool_domain.as_ref()),
                shown(sso.region.as_ref()),
            );
            let urls = ["authorize", "token", "userInfo"].map(|path| format!("{base}/{path}"));
            // Cognito puts a user's groups in the `cognito:groups` claim.
            (
                "auth.generic_oauth",
                "Cognito",
                urls,
                "openid email profile",
                Some("\"cognito:groups\""),
            )
        }
        SsoType::Okta => {
            let base = format!("https://{}/oauth2/v1", shown(sso.domain.as_ref()));
            let urls = ["authorize", "token", "userinfo"].map(|path| format!("{base}/{path}"));
            (
                "auth.okta",
                "Okta",
                urls,
                "openid profile email groups",
                None,
            )
        }
        SsoType::Oidc => (
            "auth.generic_oauth",
            "SSO",
            [
                shown(sso.auth_url.as_ref()),
                shown(sso.token_url.as_ref()),
                shown(sso.api_url.as_ref()),
            ],
            "openid email profile",
            Some("groups"),
        ),
    };
    let groups_wanted = !sso.allowed_groups.is_empty();
    Some(SsoDerived {
        section,
        name,
        client_id: sso.client_id.to_string(),
        secret_name: sso.client_secret_name.to_string(),
        auth_url,
        token_url,
        api_url,
        scopes,
        groups_attribute_path: groups.filter(|_| groups_wanted),
        role_attribute_path: sso.role_attribute_path.as_ref().map(ToString::to_string),
        allowed_groups: groups_wanted.then(|| {
            sso.allowed_groups
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        }),
        disable_login_form: sso.disable_login_form,
    })
}

/// The NetworkPolicies' names, namespaces and address ranges (templates/network.j2).
#[derive(Debug, Serialize)]
struct NetworkDerived {
    namespace: String,
    /// Where node-exporter runs.
    node_namespace: String,
    /// The release names, which the charts' pods carry as `app.kubernetes.io/instance`.
    prometheus: String,
    grafana: String,
    /// Admitted to Prometheus's and Grafana's ports from outside the namespace: the private
    /// ranges a VPC's load balancers have their addresses in (when exposed), and the profile's.
    app_cidrs: Vec<String>,
    /// Grafana needs HTTPS out: AMP, SSO, or a board or plugin from grafana.com.
    grafana_https: bool,
    /// Alertmanager has receivers to call (over HTTPS).
    alertmanager_https: bool,
}

/// The private address ranges of a VPC (RFC 1918, and RFC 6598 for secondary CIDRs), where an
/// ALB's or NLB's own addresses are.
const VPC_RANGES: [&str; 4] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
];

fn network(s: &Settings, amp_datasource: bool) -> Option<NetworkDerived> {
    let policy = &s.network_policy;
    if !policy.enabled {
        return None;
    }
    let exposed = s.exposure != crate::settings::Exposure::None;
    let mut app_cidrs: Vec<String> = if exposed {
        VPC_RANGES.map(str::to_owned).to_vec()
    } else {
        Vec::new()
    };
    app_cidrs.extend(policy.extra_ingress_cidrs.iter().map(ToString::to_string));
    let downloads = s
        .grafana
        .dashboards
        .iter()
        .any(|d| matches!(d, crate::settings::DashboardChoice::GrafanaCom(_)));
    Some(NetworkDerived {
        namespace: s.namespace.to_string(),
        node_namespace: s.node_namespace(),
        prometheus: s.prometheus.release.to_string(),
        grafana: s.grafana.release.to_string(),
        app_cidrs,
        grafana_https: amp_datasource
            || downloads
            || s.grafana.sso.is_some()
            || s.grafana.values.contains_key("plugins"),
        alertmanager_https: !s.alerting.receivers.is_empty(),
    })
}

/// What the templates need of AMP besides the profile's own fields.
#[derive(Debug, Serialize)]
struct AmpDerived {
    /// The remote-write URL, from `remoteWriteUrl` or built from the workspace and region.
    url: String,
    /// The workspace's query endpoint (Grafana's data source).
    query_url: String,
    /// `keepMetrics` as one regex on the metric name, so only those series are sent (and paid
    /// for).
    keep_regex: Option<String>,
}

impl From<&crate::settings::Amp> for AmpDerived {
    fn from(amp: &crate::settings::Amp) -> Self {
        let alternatives: Vec<&str> = amp
            .keep_metrics
            .iter()
            .map(super::settings::MetricRegex::as_str)
            .collect();
        Self {
            url: amp.url(),
            query_url: amp.query_url(),
            keep_regex: (!alternatives.is_empty()).then(|| alternatives.join("|")),
        }
    }
}

#[derive(Debug, Serialize)]
struct AuthAnnotations {
    r#type: &'static str,
    /// The JSON the `auth-idp-<type>` annotation takes; it names a Secret, never holds one.
    idp: String,
    scope: String,
    on_unauthenticated: &'static str,
}

#[derive(Debug, Serialize)]
struct DashboardValues {
    name: String,
    /// For grafana.com ones; eksmon's own get their JSON after the template (`fill_in_dashboards`).
    gnet_id: Option<u32>,
    revision: Option<u32>,
}

impl From<&Settings> for Derived {
    fn from(s: &Settings) -> Self {
        let nlb_tls = s.exposure == Exposure::Nlb && s.nlb.certificate_arn.is_some();
        let https_port = |tls| if tls { 443 } else { 80 };
        let prometheus_service_port = https_port(nlb_tls);
        let port_suffix = if prometheus_service_port == 80 {
            String::new()
        } else {
            format!(":{prometheus_service_port}")
        };
        let grafana_root_url = match (s.exposure, &s.grafana.host) {
            (Exposure::Alb, Some(host)) => Some(format!("https://{host}")),
            (Exposure::Nlb, Some(host)) if nlb_tls => Some(format!("https://{host}")),
            (Exposure::Nlb, Some(host)) => Some(format!("http://{host}")),
            _ => None,
        };
        let prometheus_url = format!(
            "http://{}.{}.svc.cluster.local{port_suffix}",
            prometheus_server_fullname(s),
            prometheus_namespace(s),
        );
        let amp_datasource = match (s.grafana.datasource, &s.amp) {
            (GrafanaDatasource::Amp, Some(amp)) => Some(amp),
            _ => None,
        };
        Self {
            alertmanager_installed: s.alertmanager_installed(),
            agent_flags: s.agent_mode().then(|| {
                vec![
                    "--agent",
                    "--config.file=/etc/config/prometheus.yml",
                    "--storage.agent.path=/data",
                ]
            }),
            dashboard_datasource: if s.agent_mode() && amp_datasource.is_some() {
                AMP_DATASOURCE_NAME
            } else {
                "Prometheus"
            },
            amp_datasource: amp_datasource.is_some(),
            amp_datasource_name: AMP_DATASOURCE_NAME,
            amp_plugin: AMP_PLUGIN,
            grafana_role_arn: amp_datasource
                .filter(|amp| amp.auth == crate::settings::AmpAuth::Irsa)
                .and_then(|amp| s.grafana.role_arn.as_ref().or(amp.role_arn.as_ref()))
                .map(|role| role.as_str().to_owned()),
            grafana_admin_secret: Some(crate::naming::grafana_admin_secret(s))
                .filter(|secret| secret.owned)
                .map(|secret| secret.name),
            renderer_token_secret: crate::naming::renderer_token_secret(s),
            network: network(s, amp_datasource.is_some()),
            node_namespace: s.node_namespace(),
            sso: sso(s),
            prometheus_url,
            prometheus_service_port,
            grafana_service_port: https_port(nlb_tls),
            grafana_root_url,
            alb_tags: tag_list(&s.alb.tags),
            nlb_tags: tag_list(&s.nlb.tags),
            alb_auth: s.alb.auth.as_ref().map(auth_annotations),
            dashboards: crate::dashboards::selected(s)
                .into_iter()
                .map(dashboard)
                .collect(),
            retention_size: retention_size(s),
            server_files: crate::rules::server_files(s),
            alertmanager: crate::alertmanager::values(s),
            amp: s.amp.as_ref().map(AmpDerived::from),
            server_account: crate::naming::prometheus_server_account(s),
        }
    }
}

const AMP_DATASOURCE_NAME: &str = "Amazon Managed Prometheus";

/// Prometheus's size limit for its data: the profile's `retentionSize`, else 90% of the volume,
/// so Prometheus deletes old blocks before a full volume stops it. Prometheus's `MB` is 2^20
/// bytes; whole MB, rounded down.
fn retention_size(s: &Settings) -> String {
    let bytes = match &s.prometheus.retention_size {
        Some(size) => crate::validate::quantity_bytes(size.as_str()),
        None => {
            crate::validate::quantity_bytes(s.prometheus.storage_size.as_str()).map(|b| b * 0.9)
        }
    };
    // Never `0MB`: Prometheus reads it as no limit at all.
    let megabytes = bytes.map_or(1.0, |b| (b / 1_048_576.0).floor().max(1.0));
    format!("{megabytes:.0}MB")
}

/// `k1=v1,k2=v2`, the form the load balancer controller's tag annotations take.
fn tag_list(tags: &Tags) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn auth_annotations(auth: &AlbAuth) -> AuthAnnotations {
    let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
    // `profile::checks` made sure the keys of the type are all set.
    let idp = match auth.r#type {
        AuthType::Oidc => serde_json::json!({
            "issuer": text(auth.issuer.as_ref().map(HttpsUrl::as_str)),
            "authorizationEndpoint": text(auth.authorization_endpoint.as_ref().map(HttpsUrl::as_str)),
            "tokenEndpoint": text(auth.token_endpoint.as_ref().map(HttpsUrl::as_str)),
            "userInfoEndpoint": text(auth.user_info_endpoint.as_ref().map(HttpsUrl::as_str)),
            "secretName": text(auth.secret_name.as_ref().map(SecretName::as_str)),
        }),
        AuthType::Cognito => serde_json::json!({
            "userPoolARN": text(auth.user_pool_arn.as_ref().map(UserPoolArn::as_str)),
            "userPoolClientID": text(auth.user_pool_client_id.as_ref().map(UserPoolClientId::as_str)),
            "userPoolDomain": text(auth.user_pool_domain.as_ref().map(UserPoolDomain::as_str)),
        }),
    };
    AuthAnnotations {
        r#type: auth.r#type.as_str(),
        idp: idp.to_string(),
        scope: auth
            .scope
            .as_ref()
            .map_or_else(|| "openid".to_owned(), ToString::to_string),
        on_unauthenticated: match auth.on_unauthenticated_request {
            Some(OnUnauthenticated::Allow) => "allow",
            Some(OnUnauthenticated::Deny) => "deny",
            Some(OnUnauthenticated::Authenticate) | None => "authenticate",
        },
    }
}

fn dashboard(choice: &DashboardChoice) -> DashboardValues {
    let published = match choice {
        DashboardChoice::GrafanaCom(published) => Some(published),
        DashboardChoice::Bundled(_) => None,
    };
    DashboardValues {
        name: choice.name(),
        gnet_id: published.map(|p| p.gnet_id.get()),
        revision: published
            .and_then(|p| p.revision)
            .map(crate::settings::GnetId::get),
    }
}

fn prometheus_namespace(s: &Settings) -> String {
    raw_string(&s.prometheus.values, &["forceNamespace"])
        .map_or_else(|| s.namespace.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(yaml_text: &str) -> Settings {
        crate::yaml::from_value(crate::yaml::parse(yaml_text).unwrap()).unwrap()
    }

    #[test]
    fn datasource_follows_release_namespace_and_port() {
        let s = settings("namespace: mon\nprometheus: {release: metrics}\n");
        assert_eq!(
            Derived::from(&s).prometheus_url,
            "http://metrics-prometheus-server.mon.svc.cluster.local"
        );
        let s = settings(
            "exposure: nlb\nnlb: {certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc'}\n",
        );
        assert_eq!(
            Derived::from(&s).prometheus_url,
            "http://prometheus-server.prometheus.svc.cluster.local:443"
        );
    }

    #[test]
    fn raw_values_merge_last() {
        let s = settings(
            "prometheus:\n  values:\n    server:\n      retention: 30d\n      extraFlags: [web.enable-lifecycle]\n",
        );
        let values = values(&s, Chart::Prometheus).unwrap();
        let server = values.get("server").unwrap();
        assert_eq!(server.get("retention").unwrap().as_str(), Some("30d"));
        assert!(
            server.get("persistentVolume").is_some(),
            "merge keeps rendered keys"
        );
    }

    #[test]
    fn dashboards_are_shipped_and_grafana_com_only_by_id() {
        let shipped = |s: &Settings| {
            let values = values(s, Chart::Grafana).unwrap();
            let provider = values
                .get("dashboards")
                .unwrap()
                .get("eksmon")
                .unwrap()
                .clone();
            provider.as_mapping().unwrap().clone()
        };
        let default = shipped(&Settings::default());
        assert_eq!(default.len(), crate::settings::Dashboard::ALL.len());
        for (name, entry) in &default {
            let json = entry.get("json").unwrap().as_str().unwrap();
            let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
            assert!(
                parsed["panels"].as_array().is_some_and(|p| !p.is_empty()),
                "{name:?}"
            );
            assert!(entry.get("gnetId").is_none());
        }
        let s = settings("grafana: {dashboards: [nodes, {gnetId: 1860, revision: 37}]}\n");
        let chosen = shipped(&s);
        assert_eq!(chosen.len(), 2);
        let published = chosen.get("grafana-com-1860").unwrap();
        assert_eq!(published.get("gnetId").unwrap().as_u64(), Some(1860));
        assert_eq!(published.get("revision").unwrap().as_u64(), Some(37));
        // Without Alertmanager its board goes too: it would have no data.
        let mut s = Settings::default();
        s.prometheus.alertmanager.enabled = false;
        assert!(!shipped(&s).contains_key("alertmanager"));
    }

    /// The boards' data source variable lists the plugin of the source they default to: the
    /// in-cluster Prometheus, or AMP when an agent leaves Grafana nothing else.
    #[test]
    fn dashboards_follow_the_data_source() {
        let variable = |s: &Settings| {
            let values = values(s, Chart::Grafana).unwrap();
            let json = values["dashboards"]["eksmon"]["nodes"]["json"]
                .as_str()
                .unwrap()
                .to_owned();
            let board: serde_json::Value = serde_json::from_str(&json).unwrap();
            board["templating"]["list"][0].clone()
        };
        let local = variable(&Settings::default());
        assert_eq!(local["query"], "prometheus");
        assert_eq!(local["current"]["value"], "prometheus");
        let agent = settings(
            "amp:\n  workspaceId: ws-0123abcd-4567-89ef-0123-456789abcdef\n  region: eu-west-1\n  roleArn: arn:aws:iam::123456789012:role/amp-ingest\n  agentMode: true\ngrafana: {datasource: amp}\n",
        );
        let amp = variable(&agent);
        assert_eq!(amp["query"], AMP_PLUGIN);
        assert_eq!(
            amp["current"]["value"], "prometheus",
            "the AMP source takes that uid"
        );
        let sources = values(&agent, Chart::Grafana).unwrap();
        let source = &sources["datasources"]["datasources.yaml"]["datasources"][0];
        assert_eq!(source["type"].as_str(), Some(AMP_PLUGIN));
        assert_eq!(source["uid"].as_str(), Some("prometheus"));
    }

    #[test]
    fn rendering_is_deterministic() {
        let s = settings("exposure: nlb\nnlb: {tags: {b: '2', a: '1'}}\n");
        let first = values_document(&s, Chart::Grafana).unwrap();
        for _ in 0..5 {
            assert_eq!(values_document(&s, Chart::Grafana).unwrap(), first);
        }
        assert!(
            first.contains("additional-resource-tags: \"a=1,b=2\""),
            "{first}"
        );
    }
}
