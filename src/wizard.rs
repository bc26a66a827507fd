//! `eksmon init`: asks for a profile's settings on the terminal, checking each answer with the
//! same validators profiles use (a bad answer is asked again, with the reason), then writes it.
//!
//! The questions are in [`ask`]; turning answers into a profile is the pure [`profile_text`].

use crate::error::InputError;
use crate::settings::{Dashboard, DashboardSource, Exposure, Scheme, Settings};
use crate::ui::Prompter;
use crate::validate;
use crate::yaml::{self, Mapping, Value};

/// Everything the wizard asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Answers {
    pub namespace: String,
    pub exposure: Exposure,
    pub scheme: Scheme,
    pub prometheus_host: Option<String>,
    pub grafana_host: Option<String>,
    /// `alb.groupName`: both Ingresses on one ALB.
    pub group_name: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub certificate_arn: Option<String>,
    /// `alb.inboundCidrs` or `nlb.sourceRanges`.
    pub allowed_cidrs: Vec<String>,
    pub storage_class: String,
    pub create_storage_class: bool,
    pub prometheus_size: String,
    pub alertmanager_size: String,
    pub grafana_size: String,
    pub retention: String,
    pub dashboards: Vec<Dashboard>,
    pub dashboard_source: DashboardSource,
}

impl Answers {
    /// The answers a profile already gives, as the wizard's defaults.
    pub fn from_settings(s: &Settings) -> Self {
        let (scheme, allowed, certificate) = match s.exposure {
            Exposure::Nlb => (s.nlb.scheme, &s.nlb.source_ranges, &s.nlb.certificate_arn),
            _ => (s.alb.scheme, &s.alb.inbound_cidrs, &s.alb.certificate_arn),
        };
        Self {
            namespace: s.namespace.to_string(),
            exposure: s.exposure,
            scheme,
            prometheus_host: s.prometheus.host.as_ref().map(ToString::to_string),
            grafana_host: s.grafana.host.as_ref().map(ToString::to_string),
            group_name: s
                .alb
                .group_name
                .as_ref()
                .map_or_else(|| DEFAULT_GROUP_NAME.to_owned(), ToString::to_string),
            subnets: s.alb.subnets.iter().map(ToString::to_string).collect(),
            security_groups: s
                .alb
                .security_groups
                .iter()
                .map(ToString::to_string)
                .collect(),
            certificate_arn: certificate.as_ref().map(ToString::to_string),
            allowed_cidrs: allowed.iter().map(ToString::to_string).collect(),
            storage_class: s.storage_class.to_string(),
            create_storage_class: s.create_storage_class,
            prometheus_size: s.prometheus.storage_size.to_string(),
            alertmanager_size: s.prometheus.alertmanager.storage_size.to_string(),
            grafana_size: s.grafana.storage_size.to_string(),
            retention: s.prometheus.retention.to_string(),
            dashboards: s.grafana.dashboards.clone(),
            dashboard_source: s.grafana.dashboard_source,
        }
    }
}

/// Puts `value` at `path` in `root` (creating maps); `None` removes the key.
fn put(root: &mut Mapping, path: &[&str], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = root;
    for key in parents {
        let entry = map
            .entry(Value::String((*key).to_owned()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !entry.is_mapping() {
            *entry = Value::Mapping(Mapping::new());
        }
        let Some(inner) = entry.as_mapping_mut() else {
            return;
        };
        map = inner;
    }
    match value {
        Some(value) => {
            map.insert(Value::String((*last).to_owned()), value);
        }
        None => {
            map.remove(*last);
        }
    }
}

fn text(s: &str) -> Option<Value> {
    Some(Value::String(s.to_owned()))
}

fn list(items: &[String]) -> Option<Value> {
    (!items.is_empty())
        .then(|| Value::Sequence(items.iter().map(|i| Value::String(i.clone())).collect()))
}

/// The profile YAML for `answers`, over `base` (the `--from` profile's own keys, kept where the
/// wizard asked nothing).
pub fn profile_text(name: &str, answers: &Answers, base: Option<&Mapping>) -> String {
    let mut root = base.cloned().unwrap_or_default();
    let a = answers;
    put(&mut root, &["namespace"], text(&a.namespace));
    put(&mut root, &["exposure"], Some(yaml::to_value(&a.exposure)));
    put(&mut root, &["storageClass"], text(&a.storage_class));
    put(
        &mut root,
        &["createStorageClass"],
        Some(Value::Bool(a.create_storage_class)),
    );
    let lb = match a.exposure {
        Exposure::Nlb => "nlb",
        _ => "alb",
    };
    if a.exposure != Exposure::None {
        put(&mut root, &[lb, "scheme"], text(a.scheme.as_str()));
        put(
            &mut root,
            &[lb, "certificateArn"],
            a.certificate_arn.as_deref().and_then(text),
        );
        let allowed = if lb == "alb" {
            "inboundCidrs"
        } else {
            "sourceRanges"
        };
        put(&mut root, &[lb, allowed], list(&a.allowed_cidrs));
    }
    if a.exposure == Exposure::Alb {
        put(&mut root, &["alb", "groupName"], text(&a.group_name));
        put(&mut root, &["alb", "subnets"], list(&a.subnets));
        put(
            &mut root,
            &["alb", "securityGroups"],
            list(&a.security_groups),
        );
    }
    put(
        &mut root,
        &["prometheus", "host"],
        a.prometheus_host.as_deref().and_then(text),
    );
    put(
        &mut root,
        &["prometheus", "storageSize"],
        text(&a.prometheus_size),
    );
    put(&mut root, &["prometheus", "retention"], text(&a.retention));
    put(
        &mut root,
        &["prometheus", "alertmanager", "storageSize"],
        text(&a.alertmanager_size),
    );
    put(
        &mut root,
        &["grafana", "host"],
        a.grafana_host.as_deref().and_then(text),
    );
    put(
        &mut root,
        &["grafana", "storageSize"],
        text(&a.grafana_size),
    );
    let dashboards = a
        .dashboards
        .iter()
        .map(|d| Value::String(d.name().to_owned()))
        .collect();
    put(
        &mut root,
        &["grafana", "dashboards"],
        Some(Value::Sequence(dashboards)),
    );
    put(
        &mut root,
        &["grafana", "dashboardSource"],
        Some(yaml::to_value(&a.dashboard_source)),
    );
    format!(
        "# {name}: written by `eksmon init`\n{}",
        yaml::emit(&Value::Mapping(root))
    )
}

const DASHBOARDS: [Dashboard; 3] = [
    Dashboard::KubernetesCluster,
    Dashboard::NodeExporter,
    Dashboard::ApiEndpoints,
];

/// The ALB group the wizard offers: without one, each Ingress gets an ALB of its own.
const DEFAULT_GROUP_NAME: &str = "eks-monitoring";

/// The StorageClass eksmon's profiles name by default; EKS has none of that name.
const DEFAULT_STORAGE_CLASS: &str = "ebs-sc-gp3";

/// Asks every question, starting from `defaults`. Rules that tie answers together (two hosts
/// must differ) are checked at the question, not after the last one.
pub fn ask(p: &Prompter, defaults: &Answers) -> anyhow::Result<Answers> {
    let mut a = defaults.clone();
    a.namespace = p
        .text(
            "Namespace",
            "",
            Some(&defaults.namespace),
            false,
            &validate::dns_label,
        )?
        .unwrap_or_default();
    let exposures = [
        "alb — HTTPS Ingress on an ALB",
        "nlb — LoadBalancer Service on an NLB",
        "none — ClusterIP (kubectl port-forward)",
    ];
    let current = match defaults.exposure {
        Exposure::Alb => 0,
        Exposure::Nlb => 1,
        Exposure::None => 2,
    };
    a.exposure = [Exposure::Alb, Exposure::Nlb, Exposure::None]
        [p.choose("Exposure", &exposures, current)?];

    if a.exposure != Exposure::None {
        let schemes = [
            "internal — reachable from the VPC only",
            "internet-facing — public",
        ];
        let current = usize::from(defaults.scheme == Scheme::InternetFacing);
        a.scheme = [Scheme::Internal, Scheme::InternetFacing]
            [p.choose("Load balancer scheme", &schemes, current)?];
    }
    if a.exposure != Exposure::None {
        let alb = a.exposure == Exposure::Alb;
        let (prometheus_help, grafana_help) = if alb {
            (
                "the DNS name the Ingress routes to Prometheus",
                "the DNS name the Ingress routes to Grafana",
            )
        } else {
            (
                "optional: the DNS name you will point at the NLB",
                "optional: the DNS name you will point at the NLB; sets Grafana's root_url",
            )
        };
        a.prometheus_host = p.text(
            "Prometheus host",
            prometheus_help,
            defaults.prometheus_host.as_deref(),
            !alb,
            &validate::host,
        )?;
        let prometheus_host = a.prometheus_host.clone();
        let differs = move |host: &str| -> validate::Check {
            validate::host(host)?;
            if prometheus_host.as_deref() == Some(host) {
                return Err(format!(
                    "`{host}` is Prometheus's host already; each app needs its own"
                ));
            }
            Ok(())
        };
        a.grafana_host = p.text(
            "Grafana host",
            grafana_help,
            defaults.grafana_host.as_deref(),
            !alb,
            &differs,
        )?;
    }
    if a.exposure == Exposure::Alb {
        a.group_name = p
            .text(
                "ALB group name",
                "both Ingresses join this group and share one ALB",
                Some(&defaults.group_name),
                false,
                &validate::group_name,
            )?
            .unwrap_or_default();
        a.subnets = p.list(
            "Subnets",
            "IDs or Name tags, at least 2; empty: the controller discovers them",
            &defaults.subnets,
            validate::subnet,
            2,
        )?;
        a.security_groups = p.list(
            "Security groups",
            "IDs or names; empty: the controller creates one",
            &defaults.security_groups,
            validate::security_group,
            1,
        )?;
    }
    if a.exposure != Exposure::None {
        a.certificate_arn = p.text(
            "ACM certificate ARN",
            "optional; empty: the controller finds one by host",
            defaults.certificate_arn.as_deref(),
            true,
            &validate::certificate_arn,
        )?;
        if a.scheme == Scheme::InternetFacing {
            a.allowed_cidrs = p.list(
                "Allowed client CIDRs",
                "like 203.0.113.0/24; one address is 203.0.113.7/32",
                &defaults.allowed_cidrs,
                validate::cidr,
                1,
            )?;
            if a.allowed_cidrs.is_empty() {
                eprintln!(
                    "warning: open to the whole internet; Prometheus has no login of its own"
                );
            }
        } else {
            a.allowed_cidrs.clear();
        }
    }
    a.storage_class = p
        .text(
            "StorageClass",
            "for the Prometheus, Alertmanager and Grafana volumes",
            Some(&defaults.storage_class),
            false,
            &validate::storage_class,
        )?
        .unwrap_or_default();
    // EKS has no class of eksmon's default name: creating it is the likely answer there.
    let create_by_default =
        defaults.create_storage_class || a.storage_class == DEFAULT_STORAGE_CLASS;
    a.create_storage_class = p.confirm(
        "Create it at install when missing (gp3, encrypted)?",
        create_by_default,
    )?;
    let size = |prompt: &str, default: &str| -> anyhow::Result<String> {
        Ok(
            p.text(prompt, "", Some(default), false, &validate::size_quantity)?
                .unwrap_or_default(),
        )
    };
    a.prometheus_size = size("Prometheus volume size", &defaults.prometheus_size)?;
    a.alertmanager_size = size("Alertmanager volume size", &defaults.alertmanager_size)?;
    a.grafana_size = size("Grafana volume size", &defaults.grafana_size)?;
    a.retention = p
        .text(
            "Metrics retention",
            "",
            Some(&defaults.retention),
            false,
            &validate::retention,
        )?
        .unwrap_or_default();
    let names: Vec<&str> = DASHBOARDS.iter().map(|d| d.name()).collect();
    let chosen: Vec<bool> = DASHBOARDS
        .iter()
        .map(|d| defaults.dashboards.contains(d))
        .collect();
    eprintln!("  space toggles, enter accepts");
    a.dashboards = p
        .pick("Dashboards", &names, &chosen)?
        .into_iter()
        .map(|i| DASHBOARDS[i])
        .collect();
    let published = a.dashboards.iter().any(|d| *d != Dashboard::ApiEndpoints);
    if published {
        eprintln!("  no: Grafana uses the copies shipped with eksmon (no egress needed)");
        let egress = p.confirm(
            "Can Grafana download dashboards from grafana.com?",
            defaults.dashboard_source == DashboardSource::GrafanaCom,
        )?;
        a.dashboard_source = if egress {
            DashboardSource::GrafanaCom
        } else {
            DashboardSource::Bundled
        };
    }
    Ok(a)
}

/// Every profile key the wizard asks about (and writes); anything else in a `--from` profile is
/// carried over as it is, and the summary lists it.
const ASKED: &[&str] = &[
    "namespace",
    "exposure",
    "storageClass",
    "createStorageClass",
    "alb.scheme",
    "alb.certificateArn",
    "alb.inboundCidrs",
    "alb.groupName",
    "alb.subnets",
    "alb.securityGroups",
    "nlb.scheme",
    "nlb.certificateArn",
    "nlb.sourceRanges",
    "prometheus.host",
    "prometheus.storageSize",
    "prometheus.retention",
    "prometheus.alertmanager.storageSize",
    "grafana.host",
    "grafana.storageSize",
    "grafana.dashboards",
    "grafana.dashboardSource",
];

/// The settings of `base` (a `--from` profile) that the wizard never asked about.
pub fn carried_over(base: &Mapping) -> Vec<String> {
    fn walk(map: &Mapping, prefix: &str, out: &mut Vec<String>) {
        for (key, value) in map {
            let path = match (prefix, key.as_str()) {
                ("", Some(key)) => key.to_owned(),
                (prefix, Some(key)) => format!("{prefix}.{key}"),
                _ => continue,
            };
            match value.as_mapping() {
                // Raw chart values are one setting, however deep.
                Some(inner) if !path.ends_with("values") && !inner.is_empty() => {
                    walk(inner, &path, out)
                }
                _ if !ASKED.contains(&path.as_str()) => out.push(path),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(base, "", &mut out);
    out
}

/// A one-screen summary of what the profile does; `carried` lists the settings a `--from`
/// profile brings along unasked.
pub fn summary(name: &str, target: &str, a: &Answers, carried: &[String]) -> String {
    let mut lines = vec![format!("Profile `{name}` → {target}")];
    let mut row = |k: &str, v: String| lines.push(format!("  {k:<12} {v}"));
    row("namespace", a.namespace.clone());
    let exposure = match a.exposure {
        Exposure::None => "none (ClusterIP; kubectl port-forward)".to_owned(),
        other => format!(
            "{} ({})",
            yaml::to_value(&other).as_str().unwrap_or("?"),
            a.scheme.as_str()
        ),
    };
    row("exposure", exposure);
    let url = |host: &Option<String>| {
        host.as_ref()
            .map_or_else(|| "-".to_owned(), |h| format!("https://{h}"))
    };
    row(
        "prometheus",
        format!(
            "{}  {} volume, {} retention",
            url(&a.prometheus_host),
            a.prometheus_size,
            a.retention
        ),
    );
    row(
        "grafana",
        format!("{}  {} volume", url(&a.grafana_host), a.grafana_size),
    );
    if a.exposure == Exposure::Alb {
        let or = |l: &[String], otherwise: &str| {
            if l.is_empty() {
                otherwise.to_owned()
            } else {
                l.join(", ")
            }
        };
        row(
            "subnets",
            or(
                &a.subnets,
                "(discovered by the controller from subnet tags)",
            ),
        );
        row(
            "sec. groups",
            or(&a.security_groups, "(created by the controller)"),
        );
    }
    if a.exposure != Exposure::None {
        row(
            "certificate",
            a.certificate_arn
                .clone()
                .unwrap_or_else(|| "(discovered by host)".into()),
        );
        let access = if a.scheme == Scheme::Internal {
            "VPC only".to_owned()
        } else if a.allowed_cidrs.is_empty() {
            "the whole internet (!)".to_owned()
        } else {
            a.allowed_cidrs.join(", ")
        };
        row("access", access);
    }
    let create = if a.create_storage_class {
        " (created if missing)"
    } else {
        ""
    };
    row(
        "storage",
        format!(
            "{}{create}; alertmanager {}",
            a.storage_class, a.alertmanager_size
        ),
    );
    let dashboards: Vec<&str> = a.dashboards.iter().map(|d| d.name()).collect();
    row(
        "dashboards",
        if dashboards.is_empty() {
            "none".into()
        } else {
            dashboards.join(", ")
        },
    );
    if !carried.is_empty() {
        row("also kept", carried.join(", "));
    }
    lines.join("\n") + "\n"
}

/// The error for `eksmon init` without a terminal.
pub fn needs_terminal() -> InputError {
    InputError::new("`eksmon init` asks questions and needs a terminal (stdin and stderr)")
        .hint("write a profile by hand instead: `eksmon profiles show example > my.yaml`, edit it, then `eksmon render --profile my.yaml`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_a_profile_that_loads() {
        let mut a = Answers::from_settings(&Settings::default());
        a.exposure = Exposure::Alb;
        a.scheme = Scheme::InternetFacing;
        a.prometheus_host = Some("prometheus.example.com".into());
        a.grafana_host = Some("grafana.example.com".into());
        a.subnets = vec!["subnet-0123abcd".into(), "subnet-4567abcd".into()];
        a.allowed_cidrs = vec!["10.0.0.0/8".into()];
        a.dashboards = vec![Dashboard::ApiEndpoints];
        let text = profile_text("team", &a, None);
        assert!(
            text.starts_with("# team: written by `eksmon init`\n"),
            "{text}"
        );
        let loaded =
            crate::profile::check_text("team.yaml", &text, &crate::settings::Chart::ALL).unwrap();
        let s = loaded.settings;
        assert_eq!(s.alb.inbound_cidrs.len(), 1);
        assert_eq!(s.grafana.dashboards, [Dashboard::ApiEndpoints]);
        assert_eq!(Answers::from_settings(&s), a);
    }

    #[test]
    fn base_keys_survive_and_cleared_answers_are_removed() {
        let base = yaml::parse("alb:\n  certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x'\n  tags: {team: obs}\ncharts: {}\n").unwrap();
        let mut a = Answers::from_settings(&Settings::default());
        a.exposure = Exposure::Alb;
        a.prometheus_host = Some("p.example.com".into());
        a.grafana_host = Some("g.example.com".into());
        a.certificate_arn = None;
        let text = profile_text("x", &a, base.as_mapping());
        let doc = yaml::parse(&text).unwrap();
        assert_eq!(doc["alb"]["tags"]["team"].as_str(), Some("obs"));
        assert!(doc["alb"].get("certificateArn").is_none(), "{text}");
    }

    #[test]
    fn the_wizard_writes_only_what_it_asks_and_lists_the_rest() {
        let written = yaml::parse(&profile_text(
            "t",
            &Answers::from_settings(&Settings::default()),
            None,
        ))
        .unwrap();
        let written = written.as_mapping().unwrap();
        assert!(
            carried_over(written).is_empty(),
            "{:?}",
            carried_over(written)
        );
        let base = yaml::parse(
            "namespace: x\nalb: {tags: {team: a}, scheme: internal}\nprometheus: {resources: {cpu: 1}, values: {server: {x: 1}}}\n",
        )
        .unwrap();
        assert_eq!(
            carried_over(base.as_mapping().unwrap()),
            [
                "alb.tags.team",
                "prometheus.resources.cpu",
                "prometheus.values"
            ]
        );
    }
}
