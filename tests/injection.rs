//! Injection property tests: every string field of a profile, set to hostile text (newlines,
//! quotes, `: `, `{{`, YAML indicators, Unicode line separators, anything), is either rejected
//! by validation, or renders to YAML that parses back with exactly the same key set as a
//! harmless value gives, and with the value intact.
//!
//! Random text is almost always refused by the stricter validators (an ARN, a CIDR), which would
//! leave their rendering untested; so each field also gets values of its own valid shape, made of
//! the characters that shape allows (`:` `/` `=` `&` `%` `@` `+`, spaces...), and every field
//! must have a minimum share of its cases accepted and rendered intact.
//!
//! Default: 64 cases per field. More: `EKSMON_PROPTEST_CASES=10000 cargo test --release --test injection`.

// Tests and benchmarks fail loudly: unwrapping is how they report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
#![allow(
    clippy::too_many_lines,
    reason = "a scenario or a table of cases reads top to bottom"
)]

use eksmon::profile;
use eksmon::render::values_document;
use eksmon::settings::Chart;
use eksmon::yaml::{self, Mapping, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::BTreeSet;

/// How a field holds the generated text.
#[derive(Clone, Copy)]
enum Slot {
    /// The text is the field's value.
    Scalar,
    /// The text is the first item of a list (a valid second item follows).
    FirstOf(&'static str),
    /// The text is a key of the map at the path (value `v`).
    Key,
    /// The text is the value of key `k` in the map at the path.
    ValueOf(&'static str),
}

struct Field {
    path: &'static str,
    slot: Slot,
    /// A harmless value of the same field, for the baseline key set.
    baseline: &'static str,
    base: Base,
    /// Values of the field's own valid shape.
    shape: Shape,
}

/// The valid shape of a field's values, as a generator.
#[derive(Clone, Copy)]
enum Shape {
    DnsLabel,
    Host,
    AcmArn,
    WafArn,
    SslPolicy,
    SuccessCodes,
    Subnet,
    SecurityGroup,
    Cidr,
    TagKey,
    TagValue,
    HttpsUrl,
    Scope,
    Size,
    VolumeSize,
    Cpu,
    Retention,
    ChartRepo,
    ChartVersion,
    LoadBalancerName,
    /// Raw chart values: anything is valid.
    Anything,
}

/// A generator for a regex built at run time.
fn regex(pattern: &str) -> BoxedStrategy<String> {
    proptest::string::string_regex(pattern)
        .expect("a valid pattern")
        .boxed()
}

impl Shape {
    fn strategy(self) -> BoxedStrategy<String> {
        let region = "(us|eu|ap)-(east|west|northeast|southeast)-[1-3]";
        match self {
            Shape::DnsLabel => "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?".boxed(),
            Shape::Host => "([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\\.){1,3}[a-z]{2,6}".boxed(),
            Shape::AcmArn => regex(&format!("arn:aws(-cn|-us-gov)?:acm:{region}:[0-9]{{12}}:certificate/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}")),
            Shape::WafArn => regex(&format!("arn:aws:wafv2:{region}:[0-9]{{12}}:regional/webacl/[A-Za-z0-9_-]{{1,20}}/[0-9a-f-]{{1,36}}")),
            Shape::SslPolicy => "ELBSecurityPolicy-[A-Za-z0-9-]{1,40}".boxed(),
            Shape::SuccessCodes => "[2-4][0-9]{2}(,[2-4][0-9]{2}){0,4}".boxed(),
            Shape::Subnet => prop_oneof![
                "subnet-[0-9a-f]{8}|subnet-[0-9a-f]{17}",
                "[A-Za-z0-9_.:/+@-]([A-Za-z0-9 _.:/+@-]{0,30}[A-Za-z0-9_.:/+@-])?"
                    .prop_filter("not an ID-like prefix", |s| !s.starts_with("subnet-")),
            ]
            .boxed(),
            Shape::SecurityGroup => prop_oneof![
                "sg-[0-9a-f]{8}|sg-[0-9a-f]{17}",
                "[A-Za-z0-9_.:/+@-]([A-Za-z0-9 _.:/+@-]{0,30}[A-Za-z0-9_.:/+@-])?"
                    .prop_filter("not an ID-like prefix", |s| !s.starts_with("sg-")),
            ]
            .boxed(),
            Shape::Cidr => (any::<u32>(), 0u32..=32)
                .prop_map(|(addr, bits)| {
                    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                    format!("{}/{bits}", std::net::Ipv4Addr::from(addr & mask))
                })
                .boxed(),
            Shape::TagKey => "[A-Za-z0-9 _.:/+@-]{1,40}"
                .prop_filter("aws: is reserved", |s| !s.to_ascii_lowercase().starts_with("aws:"))
                .boxed(),
            Shape::TagValue => "[A-Za-z0-9 _.:/=+@-]{0,60}".boxed(),
            Shape::HttpsUrl => "https://([a-z0-9]{1,8}\\.){1,2}[a-z]{2,5}(:[0-9]{2,5})?(/[A-Za-z0-9._~%!$&()*+;=:@-]{0,12}){0,3}(\\?[A-Za-z0-9=&%._-]{0,16})?".boxed(),
            Shape::Scope => "[A-Za-z0-9:/._=+!#$%&*;<>?@^`|~-]{1,12}( [A-Za-z0-9:/._=+!#$%&*;<>?@^`|~-]{1,12}){0,3}".boxed(),
            Shape::Size => "[1-9][0-9]{0,3}(\\.[0-9]{1,2})?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?".boxed(),
            // What an EBS gp3/gp2 volume can be: 1Gi to 16Ti, with a unit.
            Shape::VolumeSize => "([1-9][0-9]{0,2}Gi|([1-9]|1[0-5])(\\.[0-9])?Ti|[2-9][0-9]G)".boxed(),
            Shape::Cpu => "[1-9][0-9]{0,3}(\\.[0-9]{1,2})?(m|k|M)?".boxed(),
            Shape::Retention => "([1-9][0-9]{0,3}(ms|s|m|h|d|w|y)){1,3}".boxed(),
            Shape::ChartRepo => prop_oneof![
                "https://([a-z0-9]{1,8}\\.){1,2}[a-z]{2,4}(/[A-Za-z0-9._~%@:=+-]{1,10}){0,3}",
                "oci://([a-z0-9]{1,8}\\.){1,2}[a-z]{2,4}(/[a-z0-9._-]{1,10}){1,3}",
            ]
            .boxed(),
            // SemVer 2: pre-release identifiers are non-empty and a numeric one has no leading
            // zero (these start with a letter); build identifiers are non-empty.
            Shape::ChartVersion => "(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})(-[A-Za-z-][0-9A-Za-z-]{0,4}(\\.[A-Za-z-][0-9A-Za-z-]{0,4}){0,2})?(\\+[0-9A-Za-z-]{1,5}(\\.[0-9A-Za-z-]{1,5}){0,2})?".boxed(),
            Shape::LoadBalancerName => "[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?"
                .prop_filter("internal- is reserved", |s| !s.starts_with("internal-") && s.len() <= 32)
                .boxed(),
            Shape::Anything => text().boxed(),
        }
    }
}

#[derive(Clone, Copy)]
enum Base {
    Alb,
    Nlb,
}

const ALB_BASE: &str = r"
namespace: monitoring
exposure: alb
alb:
  groupName: mon
  scheme: internet-facing
  subnets: [subnet-0123abcd, subnet-4567abcd]
  securityGroups: [sg-0123abcd]
  certificateArn: arn:aws:acm:us-east-1:123456789012:certificate/abc
  inboundCidrs: [10.0.0.0/8]
  wafv2AclArn: arn:aws:wafv2:us-east-1:123456789012:regional/webacl/mon/abc
  tags: {team: obs}
  auth:
    type: oidc
    issuer: https://idp.example.com
    authorizationEndpoint: https://idp.example.com/auth
    tokenEndpoint: https://idp.example.com/token
    userInfoEndpoint: https://idp.example.com/userinfo
    secretName: grafana-oidc
    scope: openid
prometheus:
  host: prometheus.example.com
  values: {podLabels: {team: obs}}
grafana:
  host: grafana.example.com
  values: {podLabels: {team: obs}}
  # No profile text reaches a dashboard (src/dashboards), and all fifteen would only slow this.
  dashboards: [api-endpoints]
";

const NLB_BASE: &str = r"
namespace: monitoring
exposure: nlb
nlb:
  scheme: internet-facing
  sourceRanges: [10.0.0.0/8]
  certificateArn: arn:aws:acm:us-east-1:123456789012:certificate/abc
  tags: {team: obs}
prometheus:
  host: prometheus.example.com
  loadBalancerName: mon-prometheus
grafana:
  host: grafana.example.com
  loadBalancerName: mon-grafana
  dashboards: [api-endpoints]
";

fn fields() -> Vec<Field> {
    use Base::{Alb, Nlb};
    use Shape as S;
    use Slot::{FirstOf, Key, Scalar, ValueOf};
    let f = |path, slot, baseline, base, shape| Field {
        path,
        slot,
        baseline,
        base,
        shape,
    };
    vec![
        f("namespace", Scalar, "monitoring", Alb, S::DnsLabel),
        f("storageClass", Scalar, "gp3", Alb, S::DnsLabel),
        f("alb.groupName", Scalar, "mon", Alb, S::DnsLabel),
        f(
            "alb.sslPolicy",
            Scalar,
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            Alb,
            S::SslPolicy,
        ),
        f("alb.certificateArn", Scalar, CERT, Alb, S::AcmArn),
        f("alb.wafv2AclArn", Scalar, WAF, Alb, S::WafArn),
        f(
            "alb.healthcheck.successCodes",
            Scalar,
            "200",
            Alb,
            S::SuccessCodes,
        ),
        f(
            "alb.subnets",
            FirstOf("subnet-4567abcd"),
            "subnet-0123abcd",
            Alb,
            S::Subnet,
        ),
        f(
            "alb.securityGroups",
            FirstOf("sg-4567abcd"),
            "sg-0123abcd",
            Alb,
            S::SecurityGroup,
        ),
        f(
            "alb.inboundCidrs",
            FirstOf("192.168.0.0/16"),
            "10.0.0.0/8",
            Alb,
            S::Cidr,
        ),
        f("alb.tags", Key, "team", Alb, S::TagKey),
        f("alb.tags", ValueOf("team"), "obs", Alb, S::TagValue),
        f(
            "alb.auth.issuer",
            Scalar,
            "https://idp.example.com",
            Alb,
            S::HttpsUrl,
        ),
        f(
            "alb.auth.tokenEndpoint",
            Scalar,
            "https://idp.example.com/token",
            Alb,
            S::HttpsUrl,
        ),
        f(
            "alb.auth.secretName",
            Scalar,
            "grafana-oidc",
            Alb,
            S::DnsLabel,
        ),
        f("alb.auth.scope", Scalar, "openid", Alb, S::Scope),
        f("prometheus.release", Scalar, "prometheus", Alb, S::DnsLabel),
        f(
            "prometheus.host",
            Scalar,
            "prometheus.example.com",
            Alb,
            S::Host,
        ),
        f("prometheus.storageSize", Scalar, "50Gi", Alb, S::VolumeSize),
        f("prometheus.retention", Scalar, "15d", Alb, S::Retention),
        f("prometheus.resources.cpu", Scalar, "500m", Alb, S::Cpu),
        f("prometheus.resources.memory", Scalar, "512Mi", Alb, S::Size),
        f(
            "prometheus.alertmanager.storageSize",
            Scalar,
            "20Gi",
            Alb,
            S::VolumeSize,
        ),
        f(
            "prometheus.nodeExporter.resources.cpu",
            Scalar,
            "100m",
            Alb,
            S::Cpu,
        ),
        f(
            "prometheus.values.podLabels",
            ValueOf("team"),
            "obs",
            Alb,
            S::Anything,
        ),
        f("prometheus.values.podLabels", Key, "team", Alb, S::Anything),
        f("grafana.release", Scalar, "grafana", Alb, S::DnsLabel),
        f("grafana.host", Scalar, "grafana.example.com", Alb, S::Host),
        f("grafana.storageSize", Scalar, "100Gi", Alb, S::VolumeSize),
        f(
            "grafana.values.podLabels",
            ValueOf("team"),
            "obs",
            Alb,
            S::Anything,
        ),
        f(
            "charts.prometheus.repo",
            Scalar,
            "https://charts.example.com",
            Alb,
            S::ChartRepo,
        ),
        f(
            "charts.grafana.version",
            Scalar,
            "12.11.1",
            Alb,
            S::ChartVersion,
        ),
        f("nlb.certificateArn", Scalar, CERT, Nlb, S::AcmArn),
        f(
            "nlb.sourceRanges",
            FirstOf("192.168.0.0/16"),
            "10.0.0.0/8",
            Nlb,
            S::Cidr,
        ),
        f("nlb.tags", Key, "team", Nlb, S::TagKey),
        f("nlb.tags", ValueOf("team"), "obs", Nlb, S::TagValue),
        f(
            "prometheus.loadBalancerName",
            Scalar,
            "mon-prometheus",
            Nlb,
            S::LoadBalancerName,
        ),
        f(
            "grafana.loadBalancerName",
            Scalar,
            "mon-grafana",
            Nlb,
            S::LoadBalancerName,
        ),
    ]
}

const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666";
const WAF: &str = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/mon/abc";

/// Hostile and ordinary text: DNS-like names, fragments that mean something to YAML, JSON or
/// Helm templates, and arbitrary Unicode.
fn text() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "\n", "\r\n", ": ", ":", "{{", "}}", "{", "}", "[", "]", "\"", "'", "#", " #", "- ", "-",
        ",", "=", "\\", "\\n", "\u{2028}", "\u{85}", "\u{feff}", "&a ", "*a", "!!str ", "!", "%",
        "@", "`", "|", ">", "?", "~", "null", "no", "yes", "0x1F", "1e3", "a", "b", "z", "0", "9",
        ".", " ", "\t", "é", "\0",
    ]);
    prop_oneof![
        "[a-z0-9][a-z0-9.-]{0,24}",
        "[A-Za-z0-9 _.:/=+@-]{0,24}",
        prop::collection::vec(fragments, 0..12).prop_map(|parts| parts.concat()),
        "\\PC{0,30}",
        any::<String>(),
    ]
}

fn put(root: &mut Value, path: &str, slot: Slot, text: &str) {
    let keys: Vec<&str> = path.split('.').collect();
    let mut node = root;
    for key in &keys {
        let map = node.as_mapping_mut().expect("a mapping on the way");
        node = map
            .entry(Value::String((*key).to_owned()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
    }
    let s = |t: &str| Value::String(t.to_owned());
    *node = match slot {
        Slot::Scalar => s(text),
        Slot::FirstOf(second) => Value::Sequence(vec![s(text), s(second)]),
        Slot::Key => Value::Mapping(Mapping::from_iter([(s(text), s("v"))])),
        Slot::ValueOf(key) => Value::Mapping(Mapping::from_iter([(s(key), s(text))])),
    };
}

/// Every key path in a document (list positions included), e.g. `server.ingress.hosts.0`.
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = key
                    .as_str()
                    .map_or_else(|| format!("{key:?}"), str::to_owned);
                let path = format!("{prefix}/{key}");
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                let path = format!("{prefix}/{i}");
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        _ => {}
    }
}

/// Every string (keys included) in a document.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Mapping(map) => {
            for (key, child) in map {
                strings(key, out);
                strings(child, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// The rendered values of both charts for a profile text, or `None` when validation refuses it.
fn rendered(profile_text: &str) -> Option<Vec<(String, Value)>> {
    let loaded = profile::check_text("p.yaml", profile_text, &Chart::ALL).ok()?;
    Some(
        Chart::ALL
            .iter()
            .map(|&chart| {
                let text =
                    values_document(&loaded.settings, chart).expect("an accepted profile renders");
                let docs = yaml::parse_all(&text).expect("rendered values parse");
                assert_eq!(docs.len(), 1, "one document per chart:\n{text}");
                (text, docs.into_iter().next().unwrap_or(Value::Null))
            })
            .collect(),
    )
}

fn profile_with(field: &Field, text: &str) -> String {
    let base = match field.base {
        Base::Alb => ALB_BASE,
        Base::Nlb => NLB_BASE,
    };
    let mut root = yaml::parse(base).unwrap();
    put(&mut root, field.path, field.slot, text);
    yaml::emit(&root)
}

/// `Ok(false)` when validation refused the text (fine), `Ok(true)` when it rendered safely.
fn check(field: &Field, baseline: &[(String, Value)], text: &str) -> Result<bool, TestCaseError> {
    let Some(outputs) = rendered(&profile_with(field, text)) else {
        return Ok(false);
    };
    let mut found = false;
    for ((out_text, doc), (_, base_doc)) in outputs.iter().zip(baseline) {
        let (mut keys, mut base_keys) = (BTreeSet::new(), BTreeSet::new());
        key_paths(doc, "", &mut keys);
        key_paths(base_doc, "", &mut base_keys);
        // A key made from the text itself is expected to differ; nothing else may.
        let own_key = |k: &String| {
            matches!(field.slot, Slot::Key) && (k.contains(text) || k.contains(field.baseline))
        };
        let added: Vec<&String> = keys
            .difference(&base_keys)
            .filter(|k| !own_key(k))
            .collect();
        let removed: Vec<&String> = base_keys
            .difference(&keys)
            .filter(|k| !own_key(k))
            .collect();
        prop_assert!(
            added.is_empty() && removed.is_empty(),
            "{} = {text:?} changed keys: +{added:?} -{removed:?}",
            field.path
        );
        let mut all = Vec::new();
        strings(doc, &mut all);
        let header = out_text.lines().take(2).collect::<Vec<_>>().join("\n");
        found |= all.iter().any(|s| s.contains(text)) || header.contains(text);
        prop_assert!(
            out_text
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("# chart: "))
                && out_text.lines().nth(2).is_some_and(|l| !l.starts_with('#')),
            "the header comment was broken:\n{out_text}"
        );
    }
    // The Grafana release name only names the helm release; no value holds it.
    let in_values = field.path != "grafana.release";
    prop_assert!(
        found || text.is_empty() || !in_values,
        "{} = {text:?} was accepted but is not in the output intact",
        field.path
    );
    Ok(true)
}

/// Of each field's cases, at least this share must be accepted and rendered intact: its own
/// valid shapes make up three quarters of them.
const MIN_ACCEPTED_SHARE: f64 = 0.5;

#[test]
fn hostile_text_in_any_field_never_changes_the_structure() {
    let cases: u32 = std::env::var("EKSMON_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    let mut accepted_total = 0usize;
    let mut too_few = Vec::new();
    for field in fields() {
        let baseline = rendered(&profile_with(&field, field.baseline))
            .unwrap_or_else(|| panic!("{}: the baseline profile must be valid", field.path));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let accepted = std::cell::Cell::new(0usize);
        let values = prop_oneof![3 => field.shape.strategy(), 1 => text()];
        runner
            .run(&values, |text| {
                if check(&field, &baseline, &text)? {
                    accepted.set(accepted.get() + 1);
                }
                Ok(())
            })
            .unwrap_or_else(|err| panic!("{}: {err}", field.path));
        #[allow(clippy::cast_precision_loss, reason = "a count of a few hundred cases")]
        let share = accepted.get() as f64 / f64::from(cases);
        if share < MIN_ACCEPTED_SHARE {
            too_few.push(format!("{} ({share:.2})", field.path));
        }
        accepted_total += accepted.get();
    }
    assert!(
        too_few.is_empty(),
        "too few accepted values to test the rendering of: {}",
        too_few.join(", ")
    );
    eprintln!(
        "{cases} cases per field over {} fields; {accepted_total} values accepted and rendered intact",
        fields().len()
    );
}
