//! Checks that span several fields, run once all layers are merged.

use super::Provenance;
use crate::error::UserError;
use crate::field_path::{FieldPath, Segment};
use crate::settings::{AmpAuth, Chart, Exposure, GrafanaDatasource, ReceiverType, Settings};
use crate::yaml;

/// Settings that still load but no longer do what they once did: one line each, with the
/// field's origin.
pub(super) fn warnings(s: &Settings, provenance: &Provenance) -> Vec<String> {
    let mut warnings = Vec::new();
    if s.grafana.dashboard_source.is_some() {
        let path = FieldPath::keys("grafana.dashboardSource");
        warnings.push(format!(
            "{path} is no longer used and is ignored ({}): eksmon's dashboards are always shipped in the binary; to have Grafana download one from grafana.com, list it in grafana.dashboards as {{gnetId: N}}",
            provenance.origin_of(&path)
        ));
    }
    for (index, name) in s.alerting.disabled.iter().enumerate() {
        let new = crate::rules::current_name(name.as_str());
        if new != name.as_str() {
            let mut path = FieldPath::keys("alerting.disabled");
            path.0.push(Segment::Index(index));
            warnings.push(format!(
                "{path}: `{name}` is now called `{new}` (its upstream name); it is disabled, but write `{new}` ({})",
                provenance.origin_of(&path)
            ));
        }
    }
    warnings
}

/// A rule's verdict: the first field that breaks it, named with its origin.
type Checked = Result<(), UserError>;

/// Fails on the first rule the merged settings break, naming the field and its origin.
pub(super) fn check(s: &Settings, charts: &[Chart], provenance: &Provenance) -> Checked {
    // A chart the profile leaves out needs none of its fields.
    let charts: Vec<Chart> = charts
        .iter()
        .copied()
        .filter(|&chart| s.installs(chart))
        .collect();
    let rules = Rules {
        settings: s,
        provenance,
    };
    if s.exposure == Exposure::Alb {
        rules.alb(&charts)?;
    }
    rules.node_namespace()?;
    if charts.contains(&Chart::Grafana) {
        rules.sso()?;
    }
    rules.alerting()?;
    rules.amp()?;
    rules.datasource()?;
    rules.no_credentials()?;
    rules.retention()?;
    rules.alb_auth()?;
    if s.exposure == Exposure::Nlb {
        rules.nlb()?;
    }
    Ok(())
}

/// The merged settings and where each field came from, for the rules to name.
struct Rules<'a> {
    settings: &'a Settings,
    provenance: &'a Provenance,
}

impl Rules<'_> {
    /// node-exporter's own namespace is a valid name, and not the releases' one (that one is
    /// `restricted`, which node-exporter cannot run under).
    fn node_namespace(&self) -> Checked {
        let s = self.settings;
        let field = FieldPath::keys("prometheus.nodeExporter.namespace");
        let name = s.node_namespace();
        if name == s.namespace.as_str() {
            return self.fail(
                field,
                format!("`{name}` is the releases' namespace, which is restricted; node-exporter needs one of its own (it runs privileged)"),
            );
        }
        if let Err(why) = crate::validate::namespace(&name) {
            return self.fail(
                field,
                format!("`{name}` (made from namespace) {why}; name one that fits"),
            );
        }
        Ok(())
    }

    /// SSO: each type's own fields, and no other type's; a host for the callback.
    fn sso(&self) -> Checked {
        use crate::settings::SsoType;
        let s = self.settings;
        let Some(sso) = &s.grafana.sso else {
            return Ok(());
        };
        let at = |key: &str| FieldPath::keys(&format!("grafana.sso.{key}"));
        if s.grafana.host.is_none() || s.exposure == Exposure::None {
            return self.fail(
                at("type"),
                "needs grafana.host and an alb or nlb exposure: the identity provider sends the browser back to Grafana's root_url (https://HOST/login/…), which must be that host".into(),
            );
        }
        let given = [
            ("userPoolDomain", sso.user_pool_domain.is_some()),
            ("region", sso.region.is_some()),
            ("domain", sso.domain.is_some()),
            ("issuer", sso.issuer.is_some()),
            ("authUrl", sso.auth_url.is_some()),
            ("tokenUrl", sso.token_url.is_some()),
            ("apiUrl", sso.api_url.is_some()),
        ];
        let (name, needed, allowed): (&str, &[&str], &[&str]) = match sso.kind {
            SsoType::Cognito => (
                "cognito",
                &["userPoolDomain", "region"],
                &["userPoolDomain", "region"],
            ),
            SsoType::Okta => ("okta", &["domain"], &["domain"]),
            SsoType::Oidc => (
                "oidc",
                &["authUrl", "tokenUrl", "apiUrl"],
                &["issuer", "authUrl", "tokenUrl", "apiUrl"],
            ),
        };
        for (key, set) in given {
            if needed.contains(&key) && !set {
                let why = if sso.kind == SsoType::Oidc {
                    "required for oidc: eksmon renders offline and reads no discovery document; copy it from the issuer's /.well-known/openid-configuration".to_owned()
                } else {
                    format!("required for {name}")
                };
                return self.fail(at(key), why);
            }
            if set && !allowed.contains(&key) {
                return self.fail(at(key), format!("not a {name} setting"));
            }
        }
        Ok(())
    }

    #[allow(
        clippy::needless_pass_by_value,
        reason = "each rule builds its path and message for this one call"
    )]
    fn fail(&self, path: FieldPath, message: String) -> Checked {
        let origin = self.provenance.origin_of(&path);
        Err(UserError::input(format!("{path}: {message}")).at(origin))
    }

    /// An ALB: hosts, subnets, lists without repeats, and health checks within its limits.
    fn alb(&self, charts: &[Chart]) -> Checked {
        let s = self.settings;
        let wanted = |chart| charts.contains(&chart);
        for chart in Chart::ALL {
            if wanted(chart) && s.host(chart).is_none() {
                let path = FieldPath::keys(&format!("{}.host", chart.name()));
                let cause = self.provenance.origin_of(&FieldPath::keys("exposure"));
                return Err(UserError::input(format!(
                    "{path}: required when exposure is alb (the Ingress routes by host)"
                ))
                .at(cause)
                .hint(format!(
                    "set it in the profile or with --set {path}=NAME.example.com"
                )));
            }
        }
        if let (Some(p), Some(g)) = (&s.prometheus.host, &s.grafana.host)
            && p == g
            && charts.len() == Chart::ALL.len()
        {
            return self.fail(
                FieldPath::keys("grafana.host"),
                format!("`{g}` is also prometheus.host; each app needs its own host"),
            );
        }
        if s.alb.subnets.len() == 1 {
            return self.fail(
                FieldPath::keys("alb.subnets"),
                "an ALB needs at least 2 subnets in different Availability Zones".into(),
            );
        }
        for (name, list) in [
            (
                "alb.subnets",
                s.alb
                    .subnets
                    .iter()
                    .map(super::super::settings::SubnetRef::as_str)
                    .collect::<Vec<_>>(),
            ),
            (
                "alb.securityGroups",
                s.alb
                    .security_groups
                    .iter()
                    .map(super::super::settings::SecurityGroupRef::as_str)
                    .collect(),
            ),
            (
                "alb.inboundCidrs",
                s.alb
                    .inbound_cidrs
                    .iter()
                    .map(super::super::settings::Cidr::as_str)
                    .collect(),
            ),
        ] {
            if let Some(index) = first_repeat(&list) {
                let mut path = FieldPath::keys(name);
                path.0.push(Segment::Index(index));
                return self.fail(path, format!("`{}` is listed twice", list[index]));
            }
        }
        let hc = &s.alb.healthcheck;
        if hc.timeout_seconds >= hc.interval_seconds {
            return self.fail(
                FieldPath::keys("alb.healthcheck.timeoutSeconds"),
                format!(
                    "{}s must be shorter than intervalSeconds ({}s)",
                    hc.timeout_seconds, hc.interval_seconds
                ),
            );
        }
        for (field, value, range) in [
            ("intervalSeconds", hc.interval_seconds, 5..=300),
            ("timeoutSeconds", hc.timeout_seconds, 2..=120),
            (
                "healthyThresholdCount",
                u16::from(hc.healthy_threshold_count),
                2..=10,
            ),
            (
                "unhealthyThresholdCount",
                u16::from(hc.unhealthy_threshold_count),
                2..=10,
            ),
        ] {
            if !range.contains(&value) {
                return self.fail(
                    FieldPath::keys(&format!("alb.healthcheck.{field}")),
                    format!(
                        "{value} is outside {}..={} (the ALB's limits)",
                        range.start(),
                        range.end()
                    ),
                );
            }
        }

        Ok(())
    }

    /// Alerts to silence exist; receivers have unique names, their Secret, and one role.
    fn alerting(&self) -> Checked {
        let s = self.settings;
        let mut known = crate::rules::alert_names();
        known.extend(crate::rules::RENAMED.iter().map(|(old, _)| *old));
        for (index, name) in s.alerting.disabled.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                let mut path = FieldPath::keys("alerting.disabled");
                path.0.push(Segment::Index(index));
                let mut message = format!("`{name}` is not an alert of eksmon's rule set");
                if let Some(close) = crate::profile::suggest(name, known.iter().copied()) {
                    message += &format!(" (did you mean `{close}`?)");
                }
                return self.fail(path, message);
            }
        }
        let mut names = Vec::new();
        let mut roles = Vec::new();
        for (index, receiver) in s.alerting.receivers.iter().enumerate() {
            let at = |key: &str| {
                let mut path = FieldPath::keys("alerting.receivers");
                path.0.push(Segment::Index(index));
                if !key.is_empty() {
                    path.0.push(Segment::Key(key.to_owned()));
                }
                path
            };
            let kind = yaml::to_value(&receiver.r#type);
            let kind = kind.as_str().unwrap_or("?");
            if names.contains(&receiver.name.as_str()) {
                return self.fail(
                    at("name"),
                    format!("`{}` names two receivers", receiver.name),
                );
            }
            names.push(receiver.name.as_str());
            if receiver.name.as_str() == "null" {
                return self.fail(
                    at("name"),
                    "`null` is eksmon's receiver for unrouted alerts".into(),
                );
            }
            let sns = receiver.r#type == ReceiverType::Sns;
            let needs_secret = !sns;
            if needs_secret && receiver.secret_name.is_none() {
                return self.fail(
                    at(""),
                    format!(
                        "missing key `secretName`: a {kind} receiver reads its URL or key from a Secret in the namespace (mounted as a file, never copied into values)"
                    ),
                );
            }
            for (key, present, allowed) in [
                ("secretName", receiver.secret_name.is_some(), needs_secret),
                ("secretKey", receiver.secret_key.is_some(), needs_secret),
                (
                    "channel",
                    receiver.channel.is_some(),
                    receiver.r#type == ReceiverType::Slack,
                ),
                ("topicArn", receiver.topic_arn.is_some(), sns),
                ("roleArn", receiver.role_arn.is_some(), sns),
            ] {
                if present && !allowed {
                    return self.fail(at(key), format!("is not used with type {kind}"));
                }
            }
            if sns && receiver.topic_arn.is_none() {
                return self.fail(at(""), "missing key `topicArn` (type sns needs it)".into());
            }
            if let Some(role) = &receiver.role_arn {
                roles.push((index, role.as_str()));
            }
        }
        if let Some(&(index, other)) = roles.iter().find(|(_, r)| *r != roles[0].1) {
            let mut path = FieldPath::keys("alerting.receivers");
            path.0.push(Segment::Index(index));
            path.0.push(Segment::Key("roleArn".into()));
            return self.fail(
                path,
                format!(
                    "`{other}` differs from {}: Alertmanager has one service account, so one role",
                    roles[0].1
                ),
            );
        }
        Ok(())
    }

    /// An AMP workspace: one way to name it, a region that signs, a working queue, a role.
    fn amp(&self) -> Checked {
        let s = self.settings;
        let Some(amp) = &s.amp else {
            return Ok(());
        };
        match (&amp.workspace_id, &amp.remote_write_url) {
            (None, None) => {
                return self.fail(
                    FieldPath::keys("amp"),
                    "give `workspaceId` or `remoteWriteUrl` (the workspace to write to)".into(),
                );
            }
            (Some(_), Some(_)) => {
                return self.fail(
                    FieldPath::keys("amp.remoteWriteUrl"),
                    "give `workspaceId` or `remoteWriteUrl`, not both".into(),
                );
            }
            (None, Some(url)) => {
                if let Ok((region, _)) = crate::validate::amp_url_parts(url.as_str())
                    && region != amp.region.as_str()
                {
                    return self.fail(
                        FieldPath::keys("amp.region"),
                        format!(
                            "`{}` differs from the URL's region `{region}`: SigV4 signatures would not match (403)",
                            amp.region
                        ),
                    );
                }
            }
            (Some(_), None) => {}
        }
        if amp.agent_mode {
            if !s.alerting.receivers.is_empty() {
                return self.fail(
                    FieldPath::keys("amp.agentMode"),
                    "an agent evaluates no rules, so alerting.receivers would never get an alert; alert from AMP's ruler instead, or turn agentMode off".into(),
                );
            }
            if s.grafana.enabled && s.grafana.datasource == GrafanaDatasource::Local {
                return self.fail(
                    FieldPath::keys("amp.agentMode"),
                    "an agent answers no queries, so Grafana's local data source would stay empty; set grafana.datasource amp (or none, or grafana.enabled false)".into(),
                );
            }
        }
        let queue = &amp.queue;
        for (key, value) in [
            ("maxSamplesPerSend", queue.max_samples_per_send),
            ("maxShards", queue.max_shards),
            ("capacity", queue.capacity),
        ] {
            if value == 0 {
                return self.fail(
                    FieldPath::keys(&format!("amp.queue.{key}")),
                    "must be at least 1: with 0 Prometheus would send nothing".into(),
                );
            }
        }
        // Prometheus's guidance: a shard's buffer holds at least one full batch.
        if queue.capacity < queue.max_samples_per_send {
            return self.fail(
                FieldPath::keys("amp.queue.capacity"),
                format!(
                    "{} is below maxSamplesPerSend ({}): a shard could never fill a batch",
                    queue.capacity, queue.max_samples_per_send
                ),
            );
        }
        if amp.auth == AmpAuth::Irsa && amp.role_arn.is_none() {
            return self.fail(
                FieldPath::keys("amp"),
                "missing key `roleArn`: with auth irsa the role annotates Prometheus's service account".into(),
            );
        }

        Ok(())
    }

    /// Grafana's data source has what it queries.
    fn datasource(&self) -> Checked {
        let s = self.settings;
        match (s.grafana.datasource, &s.amp) {
            (GrafanaDatasource::Amp, None) => {
                return self.fail(
                    FieldPath::keys("grafana.datasource"),
                    "`amp` needs the `amp` block (the workspace to query)".into(),
                );
            }
            (GrafanaDatasource::Amp, _) if !s.grafana.enabled => {
                return self.fail(
                    FieldPath::keys("grafana.datasource"),
                    "is for the Grafana eksmon installs, and grafana.enabled is false (Amazon Managed Grafana sets up its own data sources)".into(),
                );
            }
            (GrafanaDatasource::Amp, _) => {}
            _ if s.grafana.role_arn.is_some() => {
                return self.fail(
                    FieldPath::keys("grafana.roleArn"),
                    "is only used with `grafana.datasource: amp`".into(),
                );
            }
            _ => {}
        }
        Ok(())
    }

    /// No AWS keys anywhere, raw chart values included.
    fn no_credentials(&self) -> Checked {
        let s = self.settings;
        if let Some(path) = find_access_key(&yaml::to_value(s), &mut FieldPath(Vec::new())) {
            return Err(UserError::input(format!(
                "{path}: holds AWS credentials; eksmon never takes them (they would be readable by anyone who can `helm get values`)"
            ))
            .at(self.provenance.origin_of(&path))
            .hint("give the pods a role instead: amp.auth irsa (with amp.roleArn) or podIdentity; `eksmon iam` prints its policies"));
        }
        Ok(())
    }

    /// Prometheus's retention size fits on its volume.
    fn retention(&self) -> Checked {
        let s = self.settings;
        if let Some(size) = &s.prometheus.retention_size {
            let limit = crate::validate::quantity_bytes(size.as_str());
            let volume = crate::validate::quantity_bytes(s.prometheus.storage_size.as_str());
            if let (Some(limit), Some(volume)) = (limit, volume)
                && limit > volume
            {
                return self.fail(
                    FieldPath::keys("prometheus.retentionSize"),
                    format!(
                        "`{size}` is more than the volume ({}): Prometheus would fill it and stop; leave it unset for 90% of the volume",
                        s.prometheus.storage_size
                    ),
                );
            }
        }
        Ok(())
    }

    /// The ALB's authentication has the keys its type needs, and no others.
    fn alb_auth(&self) -> Checked {
        let Some(auth) = &self.settings.alb.auth else {
            return Ok(());
        };
        let (needed, foreign) = auth.r#type.keys();
        let kind = auth.r#type.as_str();
        if let Some(key) = needed.iter().find(|k| !auth.has(k)) {
            return self.fail(
                FieldPath::keys("alb.auth"),
                format!(
                    "missing key `{key}` (type {kind} needs {})",
                    needed.join(", ")
                ),
            );
        }
        if let Some(key) = foreign.iter().find(|k| auth.has(k)) {
            return self.fail(
                FieldPath::keys(&format!("alb.auth.{key}")),
                format!("is not used with type {kind}"),
            );
        }

        Ok(())
    }

    /// NLBs: unique names, and source ranges without repeats.
    fn nlb(&self) -> Checked {
        let s = self.settings;
        if let (Some(p), Some(g)) = (
            &s.prometheus.load_balancer_name,
            &s.grafana.load_balancer_name,
        ) && p == g
        {
            return self.fail(
                FieldPath::keys("grafana.loadBalancerName"),
                format!(
                    "`{g}` is also prometheus.loadBalancerName; load balancer names are unique per region"
                ),
            );
        }
        if let Some(index) = first_repeat(
            &s.nlb
                .source_ranges
                .iter()
                .map(super::super::settings::Cidr::as_str)
                .collect::<Vec<_>>(),
        ) {
            let mut path = FieldPath::keys("nlb.sourceRanges");
            path.0.push(Segment::Index(index));
            return self.fail(path, "listed twice".into());
        }

        Ok(())
    }
}

/// The index of the first item that repeats an earlier one.
fn first_repeat(items: &[&str]) -> Option<usize> {
    (1..items.len()).find(|&i| items[..i].contains(&items[i]))
}

/// The first place in the settings, raw chart values included, that holds AWS keys: a string
/// that looks like an access key ID (`AKIA…`, `ASIA…`), a key named like an AWS key
/// (`secretAccessKey`, `aws_secret_access_key`, sigv4's `secret_key`), or an `env` entry setting
/// `AWS_SECRET_ACCESS_KEY` or `AWS_SESSION_TOKEN` to a literal value.
fn find_access_key(value: &yaml::Value, path: &mut FieldPath) -> Option<FieldPath> {
    let flat = |text: &str| text.to_ascii_lowercase().replace(['_', '-'], "");
    match value {
        yaml::Value::String(text) => text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| {
                word.len() == 20
                    && (word.starts_with("AKIA") || word.starts_with("ASIA"))
                    && word
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            })
            .then(|| path.clone()),
        yaml::Value::Mapping(map) => {
            let env_name = map.get("name").and_then(yaml::Value::as_str).map(flat);
            if matches!(
                env_name.as_deref(),
                Some("awssecretaccesskey" | "awssessiontoken")
            ) && map.get("value").is_some_and(|v| !v.is_null())
            {
                path.0.push(Segment::Key("value".into()));
                let found = path.clone();
                path.0.pop();
                return Some(found);
            }
            map.iter().find_map(|(key, child)| {
                let key = key.as_str().unwrap_or_default();
                path.0.push(Segment::Key(key.to_owned()));
                let name = flat(key);
                // Prometheus's sigv4 takes `access_key`/`secret_key`; AWS config files spell
                // `aws_secret_access_key`.
                let aws_key =
                    name.contains("secretaccesskey") || name == "secretkey" || name == "accesskey";
                let found = if aws_key && !child.is_null() {
                    Some(path.clone())
                } else {
                    find_access_key(child, path)
                };
                path.0.pop();
                found
            })
        }
        yaml::Value::Sequence(items) => items.iter().enumerate().find_map(|(index, child)| {
            path.0.push(Segment::Index(index));
            let found = find_access_key(child, path);
            path.0.pop();
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Lookup, Request, load};

    fn load_sets(sets: &[&str], charts: &[Chart]) -> Result<Settings, String> {
        let lookup = Lookup {
            user_dir: None,
            env_profile: None,
            local_file: "/nonexistent/eksmon.yaml".into(),
        };
        let request = Request {
            profiles: Vec::new(),
            sets: sets.iter().map(|s| (*s).to_owned()).collect(),
            flags: Vec::new(),
            ..Request::default()
        };
        load(&request, &lookup, charts)
            .map(|l| l.settings)
            .map_err(|e| e.to_string())
    }

    const HOSTS: [&str; 2] = [
        "prometheus.host=p.example.com",
        "grafana.host=g.example.com",
    ];

    #[test]
    fn alb_needs_hosts_for_the_charts_rendered() {
        let err = load_sets(&["exposure=alb"], &Chart::ALL).unwrap_err();
        assert_eq!(
            err,
            "prometheus.host: required when exposure is alb (the Ingress routes by host) (--set exposure=alb)"
        );
        assert!(load_sets(&["exposure=alb", HOSTS[1]], &[Chart::Grafana]).is_ok());
        assert!(load_sets(&["exposure=nlb"], &Chart::ALL).is_ok());
    }

    #[test]
    fn alb_rules() {
        let with = |extra: &str| {
            let mut sets = vec!["exposure=alb", HOSTS[0], HOSTS[1]];
            sets.push(extra);
            load_sets(&sets, &Chart::ALL)
        };
        assert!(
            with("alb.subnets=[subnet-0123abcd]")
                .unwrap_err()
                .contains("at least 2 subnets")
        );
        assert!(
            with("alb.subnets=[subnet-0123abcd, subnet-0123abcd]")
                .unwrap_err()
                .contains("alb.subnets[1]")
        );
        assert!(with("alb.subnets=[subnet-0123abcd, subnet-4567abcd]").is_ok());
        assert!(
            with("alb.healthcheck.timeoutSeconds=20")
                .unwrap_err()
                .contains("shorter than intervalSeconds")
        );
        assert!(
            with("alb.healthcheck.healthyThresholdCount=11")
                .unwrap_err()
                .contains("2..=10")
        );
        assert!(
            with("grafana.host=p.example.com")
                .unwrap_err()
                .contains("each app needs its own host")
        );
    }

    #[test]
    fn nlb_names_are_unique() {
        let err = load_sets(
            &[
                "exposure=nlb",
                "prometheus.loadBalancerName=mon",
                "grafana.loadBalancerName=mon",
            ],
            &Chart::ALL,
        )
        .unwrap_err();
        assert!(err.starts_with("grafana.loadBalancerName:"), "{err}");
    }
}
