//! `eksmon init`: asks for a profile's settings on the terminal, checking each answer with the
//! same typed values profiles use (a bad answer is asked again, with the reason), then writes it.
//!
//! The questions in [`ask`] edit a [`Settings`] directly; [`profile_text`] writes the asked parts
//! of it (their keys come from the settings' own serialization) over the `--from` profile.

use crate::error::UserError;
use crate::settings::{Dashboard, DashboardChoice, Exposure, Scheme, Settings};
use crate::ui::Prompter;
use crate::yaml::{self, Mapping, Value};
use std::fmt::Display;

/// The profile keys the wizard asks about for `exposure`, in the order they are written.
fn asked(exposure: Exposure) -> Vec<&'static str> {
    let mut paths = vec![
        "namespace",
        "exposure",
        "storageClass",
        "createStorageClass",
    ];
    match exposure {
        Exposure::Alb => paths.extend([
            "alb.scheme",
            "alb.certificateArn",
            "alb.inboundCidrs",
            "alb.groupName",
            "alb.subnets",
            "alb.securityGroups",
        ]),
        Exposure::Nlb => paths.extend(["nlb.scheme", "nlb.certificateArn", "nlb.sourceRanges"]),
        Exposure::None => {}
    }
    paths.extend([
        "prometheus.host",
        "prometheus.storageSize",
        "prometheus.retention",
        "prometheus.alertmanager.storageSize",
        "grafana.host",
        "grafana.storageSize",
        "grafana.dashboards",
    ]);
    paths
}

/// Every key the wizard may ask about, whatever the exposure.
fn ever_asked() -> Vec<&'static str> {
    let mut all = asked(Exposure::Alb);
    all.extend(asked(Exposure::Nlb));
    all.sort_unstable();
    all.dedup();
    all
}

/// The profile YAML for `settings`: the keys the wizard asked about (their values from the
/// settings' own serialization, so the keys are the profile's), over `base` (the `--from`
/// profile, kept where nothing was asked). An answer left empty removes the key.
pub(crate) fn profile_text(name: &str, settings: &Settings, base: Option<&Mapping>) -> String {
    let mut root = base.cloned().unwrap_or_default();
    let answered = yaml::to_value(settings);
    for path in asked(settings.exposure) {
        let keys: Vec<&str> = path.split('.').collect();
        let value = yaml::get(&answered, &keys).filter(|v| match v {
            Value::Null => false,
            Value::Sequence(items) => !items.is_empty(),
            _ => true,
        });
        yaml::set(&mut root, &keys, value.cloned());
    }
    format!(
        "# {name}: written by `eksmon init`\n{}",
        yaml::emit(&Value::Mapping(root))
    )
}

/// One answer as the typed value the profile holds, re-asked until it is one.
fn ask_typed<T>(
    p: &Prompter,
    prompt: &str,
    help: &str,
    default: Option<&T>,
    optional: bool,
) -> anyhow::Result<Option<T>>
where
    T: for<'a> TryFrom<&'a str, Error = String> + Display,
{
    ask_checked(p, prompt, help, default, optional, &|_| Ok(()))
}

/// [`ask_typed`] with one more rule (one that ties this answer to another).
fn ask_checked<T>(
    p: &Prompter,
    prompt: &str,
    help: &str,
    default: Option<&T>,
    optional: bool,
    also: &dyn Fn(&T) -> Result<(), String>,
) -> anyhow::Result<Option<T>>
where
    T: for<'a> TryFrom<&'a str, Error = String> + Display,
{
    let default = default.map(ToString::to_string);
    let check = |text: &str| T::try_from(text).and_then(|value| also(&value));
    let answer = p.text(prompt, help, default.as_deref(), optional, &check)?;
    answer
        .map(|text| T::try_from(text.as_str()).map_err(anyhow::Error::msg))
        .transpose()
}

/// A comma-separated list of typed values; `also` checks the whole list (rules between its
/// items and the other answers).
fn ask_list<T>(
    p: &Prompter,
    prompt: &str,
    help: &str,
    default: &[T],
    min: usize,
    also: &dyn Fn(Vec<T>) -> Result<(), String>,
) -> anyhow::Result<Vec<T>>
where
    T: for<'a> TryFrom<&'a str, Error = String> + Display,
{
    let default: Vec<String> = default.iter().map(ToString::to_string).collect();
    let whole = |items: &[String]| -> Result<(), String> {
        let typed = items
            .iter()
            .map(|item| T::try_from(item.as_str()))
            .collect::<Result<Vec<T>, String>>()?;
        also(typed)
    };
    let items = p.list(
        prompt,
        help,
        &default,
        &|item| T::try_from(item).map(|_| ()),
        min,
        &whole,
    )?;
    items
        .iter()
        .map(|item| T::try_from(item.as_str()).map_err(anyhow::Error::msg))
        .collect()
}

/// The ALB group the wizard offers: without one, each Ingress gets an ALB of its own.
const DEFAULT_GROUP_NAME: &str = "eks-monitoring";

/// The StorageClass eksmon's profiles name by default; EKS has none of that name.
const DEFAULT_STORAGE_CLASS: &str = "ebs-sc-gp3";

/// The profile's own rule at `path` for the answers so far with this one in (`with` puts it in):
/// so a rule between answers is told at the question that breaks it.
fn rule_at<T, W: Fn(&mut Settings, T)>(
    so_far: &Settings,
    path: &'static str,
    with: W,
) -> impl Fn(T) -> Result<(), String> + use<T, W> {
    let so_far = so_far.clone();
    move |answer: T| {
        let mut candidate = so_far.clone();
        with(&mut candidate, answer);
        crate::profile::rule_broken_at(&candidate, path).map_or(Ok(()), Err)
    }
}

/// Asks every question, starting from `defaults`, and returns the settings they give. Rules that
/// tie answers together (two hosts must differ, a subnet listed twice) are checked at the
/// question that breaks them, not after the last one.
pub(crate) fn ask(p: &Prompter, defaults: &Settings) -> anyhow::Result<Settings> {
    let mut s = defaults.clone();
    s.namespace = required(ask_typed(
        p,
        "Namespace",
        "",
        Some(&defaults.namespace),
        false,
    )?)?;
    ask_exposure(p, defaults, &mut s)?;
    if s.exposure != Exposure::None {
        ask_load_balancer(p, defaults, &mut s)?;
    }
    if s.exposure == Exposure::Alb {
        ask_alb(p, defaults, &mut s)?;
    }
    if s.exposure != Exposure::None {
        ask_tls_and_clients(p, defaults, &mut s)?;
    }
    ask_storage(p, defaults, &mut s)?;
    ask_dashboards(p, defaults, &mut s)?;
    Ok(s)
}

/// How Prometheus and Grafana are reached.
fn ask_exposure(p: &Prompter, defaults: &Settings, s: &mut Settings) -> anyhow::Result<()> {
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
    s.exposure = [Exposure::Alb, Exposure::Nlb, Exposure::None]
        [p.choose("Exposure", &exposures, current)?];
    Ok(())
}

/// The load balancer's scheme, and the hosts it answers to.
fn ask_load_balancer(p: &Prompter, defaults: &Settings, s: &mut Settings) -> anyhow::Result<()> {
    let schemes = [
        "internal — reachable from the VPC only",
        "internet-facing — public",
    ];
    let was = match defaults.exposure {
        Exposure::Nlb => defaults.nlb.scheme,
        _ => defaults.alb.scheme,
    };
    let scheme = [Scheme::Internal, Scheme::InternetFacing][p.choose(
        "Load balancer scheme",
        &schemes,
        usize::from(was == Scheme::InternetFacing),
    )?];
    match s.exposure {
        Exposure::Nlb => s.nlb.scheme = scheme,
        _ => s.alb.scheme = scheme,
    }
    let alb = s.exposure == Exposure::Alb;
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
    s.prometheus.host = ask_typed(
        p,
        "Prometheus host",
        prometheus_help,
        defaults.prometheus.host.as_ref(),
        !alb,
    )?;
    let differs = rule_at(s, "grafana.host", |s, host| s.grafana.host = Some(host));
    s.grafana.host = ask_checked(
        p,
        "Grafana host",
        grafana_help,
        defaults.grafana.host.as_ref(),
        !alb,
        &|host| differs(host.clone()),
    )?;
    Ok(())
}

/// The ALB group and where the ALB lives.
fn ask_alb(p: &Prompter, defaults: &Settings, s: &mut Settings) -> anyhow::Result<()> {
    let offered = defaults
        .alb
        .group_name
        .clone()
        .or_else(|| crate::settings::GroupName::try_from(DEFAULT_GROUP_NAME).ok());
    s.alb.group_name = ask_typed(
        p,
        "ALB group name",
        "both Ingresses join this group and share one ALB",
        offered.as_ref(),
        false,
    )?;
    s.alb.subnets = ask_list(
        p,
        "Subnets",
        "IDs or Name tags, at least 2; empty: the controller discovers them",
        &defaults.alb.subnets,
        2,
        &rule_at(s, "alb.subnets", |s, subnets| s.alb.subnets = subnets),
    )?;
    s.alb.security_groups = ask_list(
        p,
        "Security groups",
        "IDs or names; empty: the controller creates one",
        &defaults.alb.security_groups,
        1,
        &rule_at(s, "alb.securityGroups", |s, groups| {
            s.alb.security_groups = groups;
        }),
    )?;
    Ok(())
}

/// The certificate, and the clients an internet-facing load balancer lets in.
fn ask_tls_and_clients(p: &Prompter, defaults: &Settings, s: &mut Settings) -> anyhow::Result<()> {
    let (was_certificate, was_allowed, scheme) = match s.exposure {
        Exposure::Nlb => (
            &defaults.nlb.certificate_arn,
            &defaults.nlb.source_ranges,
            s.nlb.scheme,
        ),
        _ => (
            &defaults.alb.certificate_arn,
            &defaults.alb.inbound_cidrs,
            s.alb.scheme,
        ),
    };
    let certificate = ask_typed(
        p,
        "ACM certificate ARN",
        "optional; empty: the controller finds one by host",
        was_certificate.as_ref(),
        true,
    )?;
    // What `render` warns of, said here while the answer can still change.
    let mut with_certificate = s.clone();
    with_certificate
        .alb
        .certificate_arn
        .clone_from(&certificate);
    with_certificate
        .nlb
        .certificate_arn
        .clone_from(&certificate);
    for placeholder in crate::guard::placeholders(&with_certificate) {
        p.say(&format!("warning: {placeholder}"));
    }
    let cidrs = if s.exposure == Exposure::Nlb {
        "nlb.sourceRanges"
    } else {
        "alb.inboundCidrs"
    };
    let allowed = if scheme == Scheme::InternetFacing {
        let allowed = ask_list(
            p,
            "Allowed client CIDRs",
            "like 203.0.113.0/24; one address is 203.0.113.7/32",
            was_allowed,
            1,
            &rule_at(s, cidrs, |s, cidrs: Vec<crate::settings::Cidr>| {
                s.nlb.source_ranges.clone_from(&cidrs);
                s.alb.inbound_cidrs = cidrs;
            }),
        )?;
        if allowed.is_empty() {
            p.say("warning: open to the whole internet; Prometheus has no login of its own");
        }
        allowed
    } else {
        Vec::new()
    };
    if s.exposure == Exposure::Nlb {
        s.nlb.certificate_arn = certificate;
        s.nlb.source_ranges = allowed;
    } else {
        s.alb.certificate_arn = certificate;
        s.alb.inbound_cidrs = allowed;
    }
    Ok(())
}

/// The StorageClass, the volumes and how long metrics are kept.
fn ask_storage(p: &Prompter, defaults: &Settings, s: &mut Settings) -> anyhow::Result<()> {
    s.storage_class = required(ask_typed(
        p,
        "StorageClass",
        "for the Prometheus, Alertmanager and Grafana volumes",
        Some(&defaults.storage_class),
        false,
    )?)?;
    // EKS has no class of eksmon's default name: creating it is the likely answer there.
    let create_by_default =
        defaults.create_storage_class || s.storage_class.as_str() == DEFAULT_STORAGE_CLASS;
    s.create_storage_class = p.confirm(
        "Create it at install when missing (gp3, encrypted)?",
        create_by_default,
    )?;
    s.prometheus.storage_size = required(ask_typed(
        p,
        "Prometheus volume size",
        "",
        Some(&defaults.prometheus.storage_size),
        false,
    )?)?;
    s.prometheus.alertmanager.storage_size = required(ask_typed(
        p,
        "Alertmanager volume size",
        "",
        Some(&defaults.prometheus.alertmanager.storage_size),
        false,
    )?)?;
    s.grafana.storage_size = required(ask_typed(
        p,
        "Grafana volume size",
        "",
        Some(&defaults.grafana.storage_size),
        false,
    )?)?;
    s.prometheus.retention = required(ask_typed(
        p,
        "Metrics retention",
        "",
        Some(&defaults.prometheus.retention),
        false,
    )?)?;
    Ok(())
}

/// eksmon's dashboards to ship (grafana.com ones the defaults name are kept).
fn ask_dashboards(p: &Prompter, defaults: &Settings, s: &mut Settings) -> anyhow::Result<()> {
    let names: Vec<&str> = Dashboard::ALL.iter().map(|d| d.name()).collect();
    let chosen: Vec<bool> = Dashboard::ALL
        .iter()
        .map(|d| {
            defaults
                .grafana
                .dashboards
                .contains(&DashboardChoice::Bundled(*d))
        })
        .collect();
    p.help("space toggles, enter accepts; all are shipped with eksmon (no egress needed)");
    let mut picked: Vec<DashboardChoice> = p
        .pick("Dashboards", &names, &chosen)?
        .into_iter()
        .map(|i| DashboardChoice::Bundled(Dashboard::ALL[i]))
        .collect();
    // grafana.com dashboards the defaults name by id are not in the list: keep them.
    picked.extend(
        defaults
            .grafana
            .dashboards
            .iter()
            .filter(|d| matches!(d, DashboardChoice::GrafanaCom(_)))
            .cloned(),
    );
    s.grafana.dashboards = picked;
    Ok(())
}

/// A required question always has an answer (the prompt re-asks an empty one).
fn required<T>(answer: Option<T>) -> anyhow::Result<T> {
    answer.ok_or_else(|| anyhow::anyhow!("internal error: a required question had no answer"))
}

/// The settings of `base` (a `--from` profile) that the wizard never asked about.
pub(crate) fn carried_over(base: &Mapping) -> Vec<String> {
    fn walk(map: &Mapping, prefix: &str, asked: &[&str], out: &mut Vec<String>) {
        for (key, value) in map {
            let path = match (prefix, key.as_str()) {
                ("", Some(key)) => key.to_owned(),
                (prefix, Some(key)) => format!("{prefix}.{key}"),
                _ => continue,
            };
            match value.as_mapping() {
                // Raw chart values are one setting, however deep.
                Some(inner) if !path.ends_with("values") && !inner.is_empty() => {
                    walk(inner, &path, asked, out);
                }
                _ if !asked.contains(&path.as_str()) => out.push(path),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(base, "", &ever_asked(), &mut out);
    out
}

/// A one-screen summary of what the profile does; `carried` lists the settings a `--from`
/// profile brings along unasked.
pub(crate) fn summary(name: &str, target: &str, s: &Settings, carried: &[String]) -> String {
    let url = |host: &Option<crate::settings::Host>| {
        host.as_ref()
            .map_or_else(|| "-".to_owned(), |h| format!("https://{h}"))
    };
    let mut rows = vec![
        ("namespace", s.namespace.to_string()),
        ("exposure", exposure_line(s)),
        (
            "prometheus",
            format!(
                "{}  {} volume, {} retention",
                url(&s.prometheus.host),
                s.prometheus.storage_size,
                s.prometheus.retention
            ),
        ),
        (
            "grafana",
            format!(
                "{}  {} volume",
                url(&s.grafana.host),
                s.grafana.storage_size
            ),
        ),
    ];
    rows.extend(network_rows(s));
    let create = if s.create_storage_class {
        " (created if missing)"
    } else {
        ""
    };
    rows.push((
        "storage",
        format!(
            "{}{create}; alertmanager {}",
            s.storage_class, s.prometheus.alertmanager.storage_size
        ),
    ));
    let dashboards = s.grafana.dashboards.iter().map(DashboardChoice::name);
    rows.push(("dashboards", listed_or(dashboards, "none")));
    if !carried.is_empty() {
        rows.push(("also kept", carried.join(", ")));
    }
    let mut lines = vec![format!("Profile `{name}` → {target}")];
    lines.extend(rows.iter().map(|(k, v)| format!("  {k:<12} {v}")));
    lines.join("\n") + "\n"
}

/// The load balancer, and its scheme.
fn exposure_line(s: &Settings) -> String {
    match s.exposure {
        Exposure::None => "none (ClusterIP; kubectl port-forward)".to_owned(),
        Exposure::Nlb => format!("nlb ({})", s.nlb.scheme.as_str()),
        Exposure::Alb => format!("alb ({})", s.alb.scheme.as_str()),
    }
}

/// Where the load balancer lives, its certificate and who may reach it.
fn network_rows(s: &Settings) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    let (scheme, certificate, allowed) = match s.exposure {
        Exposure::None => return rows,
        Exposure::Nlb => (s.nlb.scheme, &s.nlb.certificate_arn, &s.nlb.source_ranges),
        Exposure::Alb => (s.alb.scheme, &s.alb.certificate_arn, &s.alb.inbound_cidrs),
    };
    if s.exposure == Exposure::Alb {
        rows.push((
            "subnets",
            listed_or(
                s.alb.subnets.iter(),
                "(discovered by the controller from subnet tags)",
            ),
        ));
        rows.push((
            "sec. groups",
            listed_or(s.alb.security_groups.iter(), "(created by the controller)"),
        ));
    }
    rows.push((
        "certificate",
        certificate
            .as_ref()
            .map_or_else(|| "(discovered by host)".into(), ToString::to_string),
    ));
    let access = if scheme == Scheme::Internal {
        "VPC only".to_owned()
    } else {
        listed_or(allowed.iter(), "the whole internet (!)")
    };
    rows.push(("access", access));
    rows
}

/// The items, comma-separated, or `otherwise` when there are none.
fn listed_or<T: std::fmt::Display>(items: impl Iterator<Item = T>, otherwise: &str) -> String {
    let items: Vec<String> = items.map(|item| item.to_string()).collect();
    if items.is_empty() {
        otherwise.to_owned()
    } else {
        items.join(", ")
    }
}

/// The error for `eksmon init` without a terminal.
pub(crate) fn needs_terminal() -> UserError {
    UserError::input("`eksmon init` asks questions and needs a terminal (stdin and stderr)")
        .hint("write a profile by hand instead: `eksmon profiles show example > my.yaml`, edit it, then `eksmon render --profile my.yaml`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed<T: for<'a> TryFrom<&'a str, Error = String>>(text: &str) -> T {
        T::try_from(text).unwrap()
    }

    #[test]
    fn answers_become_a_profile_that_loads() {
        let mut s = Settings {
            exposure: Exposure::Alb,
            ..Settings::default()
        };
        s.alb.scheme = Scheme::InternetFacing;
        s.prometheus.host = Some(typed("prometheus.example.com"));
        s.grafana.host = Some(typed("grafana.example.com"));
        s.alb.group_name = Some(typed("eks-monitoring"));
        s.alb.subnets = vec![typed("subnet-0123abcd"), typed("subnet-4567abcd")];
        s.alb.inbound_cidrs = vec![typed("10.0.0.0/8")];
        s.grafana.dashboards = vec![DashboardChoice::Bundled(Dashboard::ApiEndpoints)];
        let text = profile_text("team", &s, None);
        assert!(
            text.starts_with("# team: written by `eksmon init`\n"),
            "{text}"
        );
        assert!(
            text.contains("inboundCidrs:"),
            "keys are the profile's own: {text}"
        );
        let loaded =
            crate::profile::check_text("team.yaml", &text, &crate::settings::Chart::ALL).unwrap();
        assert_eq!(loaded.settings, s);
    }

    #[test]
    fn base_keys_survive_and_cleared_answers_are_removed() {
        let base = yaml::parse("alb:\n  certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x'\n  tags: {team: obs}\ncharts: {}\n").unwrap();
        let mut s = Settings {
            exposure: Exposure::Alb,
            ..Settings::default()
        };
        s.prometheus.host = Some(typed("p.example.com"));
        s.grafana.host = Some(typed("g.example.com"));
        s.alb.certificate_arn = None;
        let text = profile_text("x", &s, base.as_mapping());
        let doc = yaml::parse(&text).unwrap();
        assert_eq!(doc["alb"]["tags"]["team"].as_str(), Some("obs"));
        assert!(doc["alb"].get("certificateArn").is_none(), "{text}");
    }

    #[test]
    fn the_wizard_writes_only_what_it_asks_and_lists_the_rest() {
        for exposure in [Exposure::Alb, Exposure::Nlb, Exposure::None] {
            let s = Settings {
                exposure,
                ..Settings::default()
            };
            let written = yaml::parse(&profile_text("t", &s, None)).unwrap();
            let written = written.as_mapping().unwrap();
            assert!(
                carried_over(written).is_empty(),
                "{:?}",
                carried_over(written)
            );
        }
        // Every asked key is one the settings have (a typo would write a dead key).
        let all = yaml::to_value(&Settings::default());
        for path in ever_asked() {
            assert!(
                yaml::get(&all, &path.split('.').collect::<Vec<_>>()).is_some(),
                "{path}"
            );
        }
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
