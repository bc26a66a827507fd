//! The public-endpoint guard: a component on an internet-facing load balancer with no source
//! restriction and no ALB authentication is reachable by anyone. Prometheus has no login at all;
//! Grafana has its own. `render` warns; `install` asks (or refuses without `--allow-public`).

use crate::settings::{Chart, Exposure, Scheme, Settings};

/// One component anyone on the internet can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicEndpoint {
    pub chart: Chart,
    pub warning: String,
}

/// The components among `charts` that the settings make public.
pub(crate) fn public_endpoints(s: &Settings, charts: &[Chart]) -> Vec<PublicEndpoint> {
    let (kind, open) = match s.exposure {
        Exposure::Alb => (
            "ALB",
            s.alb.scheme == Scheme::InternetFacing
                && s.alb.inbound_cidrs.is_empty()
                && s.alb.auth.is_none(),
        ),
        Exposure::Nlb => (
            "NLB",
            s.nlb.scheme == Scheme::InternetFacing && s.nlb.source_ranges.is_empty(),
        ),
        Exposure::None => ("", false),
    };
    if !open {
        return Vec::new();
    }
    charts
        .iter()
        .map(|&chart| PublicEndpoint {
            chart,
            warning: match chart {
                Chart::Prometheus => format!(
                    "prometheus is open to the whole internet on an internet-facing {kind}, with no authentication at all: anyone can query every metric and use its HTTP API"
                ),
                Chart::Grafana => format!(
                    "grafana is open to the whole internet on an internet-facing {kind}, protected only by its own login"
                ),
            },
        })
        .collect()
}

/// Settings that look like a placeholder left from an example (the built-in `example` profile
/// carries the seed's `certificate/xxxxx`): valid in shape, refused by AWS at deploy time.
pub(crate) fn placeholders(s: &Settings) -> Vec<String> {
    let certificate = match s.exposure {
        Exposure::Alb => s
            .alb
            .certificate_arn
            .as_ref()
            .map(|a| ("alb.certificateArn", a.as_str())),
        Exposure::Nlb => s
            .nlb
            .certificate_arn
            .as_ref()
            .map(|a| ("nlb.certificateArn", a.as_str())),
        Exposure::None => None,
    };
    let mut found = Vec::new();
    if let Some((field, arn)) = certificate {
        let id = arn.rsplit('/').next().unwrap_or_default();
        if !is_uuid(id) {
            found.push(format!(
                "{field} `{arn}` does not end in a certificate ID (a UUID such as 0a1b2c3d-1111-2222-3333-444455556666): a placeholder? The load balancer controller will fail to use it"
            ));
        }
    }
    found
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

/// How to close it, for the hint under the warnings.
pub(crate) fn how_to_restrict(s: &Settings) -> &'static str {
    match s.exposure {
        Exposure::Nlb => "restrict it with nlb.sourceRanges, or use nlb.scheme: internal",
        _ => {
            "restrict it with alb.inboundCidrs, put alb.auth (oidc or cognito) in front, or use alb.scheme: internal"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        crate::yaml::from_value(crate::yaml::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn placeholder_certificates_are_called_out() {
        let found = |text: &str| placeholders(&settings(text));
        let example = "exposure: alb\nalb: {certificateArn: 'arn:aws:acm:ap-northeast-2:558846430793:certificate/xxxxx'}\n";
        assert_eq!(found(example).len(), 1);
        assert!(found(example)[0].starts_with("alb.certificateArn `arn:aws:acm:"));
        let real = "exposure: nlb\nnlb: {certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666'}\n";
        assert!(found(real).is_empty());
        // Only the exposure in use counts.
        assert!(found(&example.replace("exposure: alb", "exposure: none")).is_empty());
    }

    #[test]
    fn judges_each_exposure() {
        let public = |text: &str| public_endpoints(&settings(text), &Chart::ALL).len();
        assert_eq!(public("exposure: alb\nalb: {scheme: internet-facing}\n"), 2);
        assert_eq!(public("exposure: alb\nalb: {scheme: internal}\n"), 0);
        assert_eq!(
            public("exposure: alb\nalb: {scheme: internet-facing, inboundCidrs: [10.0.0.0/8]}\n"),
            0
        );
        assert_eq!(
            public(
                "exposure: alb\nalb:\n  scheme: internet-facing\n  auth: {type: cognito, userPoolArn: 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/x', userPoolClientId: abc, userPoolDomain: login}\n"
            ),
            0
        );
        assert_eq!(public("exposure: nlb\nnlb: {scheme: internet-facing}\n"), 2);
        assert_eq!(
            public(
                "exposure: nlb\nnlb: {scheme: internet-facing, sourceRanges: [203.0.113.0/24]}\n"
            ),
            0
        );
        assert_eq!(
            public("exposure: none\nalb: {scheme: internet-facing}\n"),
            0
        );
    }

    #[test]
    fn prometheus_is_called_out_for_having_no_login() {
        let s = settings("exposure: alb\nalb: {scheme: internet-facing}\n");
        let found = public_endpoints(&s, &[Chart::Prometheus]);
        assert_eq!(found.len(), 1);
        assert!(found[0].warning.contains("no authentication at all"));
    }
}
