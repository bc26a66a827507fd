//! Checks for single values (an ID, a host, a quantity…). Each returns a one-line reason.
//!
//! Several chart fields go through Helm's `tpl` and some are spliced into manifests unquoted
//! (Ingress hosts, source ranges), so these checks are also what keeps template syntax and YAML
//! out of the charts: none of them lets `{`, a newline or a quote through.

use std::net::IpAddr;

pub(crate) type Check = Result<(), String>;

fn is_hex(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// An AWS resource ID: `prefix-` and 8 or 17 lowercase hex digits.
fn is_aws_id(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .is_some_and(|hex| matches!(hex.len(), 8 | 17) && is_hex(hex))
}

/// Characters AWS allows in tag keys and values (`\p{L}\p{Z}\p{N}_.:/=+-@`).
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

/// A subnet ID, or a `Name` tag the load balancer controller looks up.
pub(crate) fn subnet(s: &str) -> Check {
    if is_aws_id(s, "subnet-") {
        return Ok(());
    }
    if s.starts_with("subnet-") {
        return Err(format!(
            "`{s}` is not a subnet ID (`subnet-` and 8 or 17 lowercase hex digits)"
        ));
    }
    name_tag(s, "subnet")
}

/// A security group ID, or a group name (AWS group names cannot start with `sg-`).
pub(crate) fn security_group(s: &str) -> Check {
    if is_aws_id(s, "sg-") {
        return Ok(());
    }
    if s.starts_with("sg-") {
        return Err(format!(
            "`{s}` is not a security group ID (`sg-` and 8 or 17 lowercase hex digits)"
        ));
    }
    name_tag(s, "security group")
}

fn name_tag(s: &str, what: &str) -> Check {
    if s.is_empty() || s.len() > 255 {
        return Err(format!("a {what} name must be 1 to 255 characters"));
    }
    if s.trim() != s {
        return Err(format!("{what} name `{s}` has leading or trailing spaces"));
    }
    if let Some(c) = s.chars().find(|&c| !is_tag_char(c) || c == '=') {
        return Err(format!(
            "{what} `{s}` is neither an ID nor a valid name (`{}` is not allowed)",
            c.escape_default()
        ));
    }
    Ok(())
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, returning the resource part.
fn arn<'a>(s: &'a str, service: &str, what: &str) -> Result<&'a str, String> {
    let bad = || format!("`{s}` is not {what} ARN (arn:aws:{service}:REGION:ACCOUNT:…)");
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [prefix, partition, svc, region, account, resource] = parts[..] else {
        return Err(bad());
    };
    let partition_ok = partition.starts_with("aws")
        && partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '-');
    let region_ok = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    if prefix != "arn" || !partition_ok || svc != service || !region_ok || !account_ok {
        return Err(bad());
    }
    Ok(resource)
}

fn arn_resource_chars(resource: &str) -> bool {
    !resource.is_empty()
        && resource
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c))
}

/// An ACM certificate ARN.
pub(crate) fn certificate_arn(s: &str) -> Check {
    let resource = arn(s, "acm", "an ACM certificate")?;
    match resource.strip_prefix("certificate/") {
        Some(id) if arn_resource_chars(id) && !id.contains('/') => Ok(()),
        _ => Err(format!(
            "`{s}` is not an ACM certificate ARN (it must end in `certificate/ID`)"
        )),
    }
}

/// A WAFv2 web ACL ARN (regional, as ALBs need).
pub(crate) fn wafv2_acl_arn(s: &str) -> Check {
    let resource = arn(s, "wafv2", "a WAFv2 web ACL")?;
    if resource.starts_with("regional/webacl/") && arn_resource_chars(resource) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a regional WAFv2 web ACL ARN (…:regional/webacl/NAME/ID)"
        ))
    }
}

/// A Cognito user pool ARN.
pub(crate) fn user_pool_arn(s: &str) -> Check {
    let resource = arn(s, "cognito-idp", "a Cognito user pool")?;
    match resource.strip_prefix("userpool/") {
        Some(id) if arn_resource_chars(id) && !id.contains('/') => Ok(()),
        _ => Err(format!(
            "`{s}` is not a Cognito user pool ARN (…:userpool/ID)"
        )),
    }
}

/// A DNS host name as Ingress rules take it: RFC 1123, lower case, no scheme, port or path.
pub(crate) fn host(s: &str) -> Check {
    if let Some((scheme, _)) = s.split_once("://") {
        return Err(format!("host `{s}` has a scheme: drop `{scheme}://`"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-:/*".contains(*c)))
    {
        return Err(format!(
            "host `{s}` is not a DNS name: `{}` is not allowed",
            c.escape_default()
        ));
    }
    if s.contains('/') {
        return Err(format!("host `{s}` has a path: give the host name alone"));
    }
    if s.contains(':') {
        return Err(format!("host `{s}` has a port: give the host name alone"));
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!(
            "host `{s}` must be lower case (`{}`)",
            s.to_ascii_lowercase()
        ));
    }
    if s.starts_with("*.") {
        return Err(format!(
            "host `{s}`: wildcard hosts are not supported; name one host"
        ));
    }
    dns_subdomain(s).map_err(|why| format!("host `{s}` is not a DNS name: {why}"))
}

/// RFC 1123 subdomain: dot-separated labels, 253 characters at most.
pub(crate) fn dns_subdomain(s: &str) -> Check {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > 253 {
        return Err("it is longer than 253 characters".into());
    }
    s.split('.').try_for_each(|label| dns_label_rule(label, 63))
}

fn dns_label_rule(label: &str, max: usize) -> Check {
    if label.is_empty() {
        return Err("it has an empty label".into());
    }
    if label.len() > max {
        return Err(format!("`{label}` is longer than {max} characters"));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("`{}` is not allowed", c.escape_default()));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!("`{label}` starts or ends with `-`"));
    }
    Ok(())
}

/// A DNS-1123 label (receiver names): lower case letters, digits and `-`, 63 at most.
pub(crate) fn dns_label(s: &str) -> Check {
    dns_label_rule(s, 63).map_err(|why| format!("`{s}` is not a DNS-1123 label: {why}"))
}

/// Words YAML 1.1 reads as a boolean or null. The upstream charts write the namespace and
/// names derived from the release unquoted (`namespace: {{ .Release.Namespace }}`), so helm
/// would read `namespace: no` as `false` and fail.
const YAML11_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
];

fn not_a_yaml11_word(s: &str, what: &str) -> Check {
    if YAML11_WORDS.contains(&s.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "`{s}` cannot be a {what}: the charts write it unquoted, and YAML reads it as a boolean or null"
        ));
    }
    Ok(())
}

/// A namespace: a DNS-1123 label that YAML 1.1 does not read as a boolean or null.
pub(crate) fn namespace(s: &str) -> Check {
    dns_label(s)?;
    not_a_yaml11_word(s, "namespace")
}

/// A Helm release name: a DNS-1123 label of 53 characters at most, and not a YAML 1.1 word.
pub(crate) fn release_name(s: &str) -> Check {
    dns_label_rule(s, 53).map_err(|why| format!("`{s}` is not a valid release name: {why}"))?;
    not_a_yaml11_word(s, "release name")
}

/// A StorageClass name (a DNS subdomain).
pub(crate) fn storage_class(s: &str) -> Check {
    dns_subdomain(s).map_err(|why| format!("`{s}` is not a valid StorageClass name: {why}"))
}

/// An IPv4 or IPv6 network in CIDR notation, with no host bits set.
pub(crate) fn cidr(s: &str) -> Check {
    if s.contains(char::is_whitespace) {
        return Err(format!(
            "`{s}` holds a space: give one CIDR per item (in a list, separate them with commas)"
        ));
    }
    let Some((addr, bits)) = s.split_once('/') else {
        return Err(match s.parse::<IpAddr>() {
            Ok(IpAddr::V4(_)) => format!("`{s}` is one address; as a CIDR that is `{s}/32`"),
            Ok(IpAddr::V6(_)) => format!("`{s}` is one address; as a CIDR that is `{s}/128`"),
            Err(_) => format!("`{s}` is not a CIDR (like `10.0.0.0/8`)"),
        });
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{s}` is not a CIDR: `{addr}` is not an IP address"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits: u32 = match bits.parse() {
        Ok(b) if b <= max && !bits.starts_with('+') => b,
        _ => {
            return Err(format!(
                "`{s}` is not a CIDR: the prefix length must be 0 to {max}"
            ));
        }
    };
    let network = match addr {
        IpAddr::V4(v4) => {
            let raw = u32::from(v4);
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            IpAddr::from((raw & mask).to_be_bytes())
        }
        IpAddr::V6(v6) => {
            let raw = u128::from(v6);
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::from((raw & mask).to_be_bytes())
        }
    };
    if network != addr {
        return Err(format!(
            "`{s}` has host bits set (did you mean `{network}/{bits}`?)"
        ));
    }
    Ok(())
}

const BINARY_SUFFIXES: &[&str] = &["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
const DECIMAL_SUFFIXES: &[&str] = &["k", "M", "G", "T", "P", "E"];

/// Splits `12.5Gi` into the number and the suffix; `None` unless the number is plain decimal.
fn split_quantity(s: &str) -> Option<(&str, &str)> {
    let cut = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(cut);
    let digits_ok = !number.is_empty()
        && number.matches('.').count() <= 1
        && !number.starts_with('.')
        && !number.ends_with('.');
    digits_ok.then_some((number, suffix))
}

fn quantity_with(s: &str, what: &str, extra_suffixes: &[&str], example: &str) -> Check {
    if s.starts_with('-') {
        return Err(format!("{what} `{s}` is negative"));
    }
    let Some((number, suffix)) = split_quantity(s) else {
        return Err(format!(
            "`{s}` is not a Kubernetes quantity (like `{example}`)"
        ));
    };
    let known = suffix.is_empty()
        || BINARY_SUFFIXES.contains(&suffix)
        || DECIMAL_SUFFIXES.contains(&suffix)
        || extra_suffixes.contains(&suffix);
    if !known {
        let hint = match suffix {
            "GB" | "gb" | "G" | "g" | "Gb" => format!(" (did you mean `{number}Gi`?)"),
            "MB" | "mb" | "Mb" | "m" if extra_suffixes.is_empty() => {
                format!(" (did you mean `{number}Mi`?)")
            }
            "TB" | "tb" | "Tb" => format!(" (did you mean `{number}Ti`?)"),
            _ => String::new(),
        };
        return Err(format!(
            "`{s}` is not a Kubernetes quantity: unknown suffix `{suffix}`{hint}"
        ));
    }
    if number.chars().all(|c| c == '0' || c == '.') {
        return Err(format!("{what} `{s}` must be greater than zero"));
    }
    Ok(())
}

/// The bytes a valid size quantity stands for (`50Gi` → 53687091200).
pub(crate) fn quantity_bytes(s: &str) -> Option<f64> {
    let (number, suffix) = split_quantity(s)?;
    let number: f64 = number.parse().ok()?;
    let binary = BINARY_SUFFIXES.iter().position(|x| *x == suffix);
    let decimal = DECIMAL_SUFFIXES.iter().position(|x| *x == suffix);
    let factor = match (suffix, binary, decimal) {
        ("", _, _) => 1.0,
        (_, Some(i), _) => 1024f64.powi(i32::try_from(i).ok()? + 1),
        (_, _, Some(i)) => 1000f64.powi(i32::try_from(i).ok()? + 1),
        _ => return None,
    };
    Some(number * factor)
}

/// An SNS topic ARN (`arn:aws:sns:REGION:ACCOUNT:NAME`).
pub(crate) fn sns_topic_arn(s: &str) -> Check {
    let name = arn(s, "sns", "an SNS topic")?;
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an SNS topic ARN (it must end in the topic's name)"
        ))
    }
}

/// The AWS region of an ARN with one (`arn:aws:sns:eu-west-1:…` → `eu-west-1`).
pub(crate) fn arn_region(s: &str) -> Option<&str> {
    s.split(':').nth(3).filter(|r| !r.is_empty())
}

/// An IAM role ARN (`arn:aws:iam::ACCOUNT:role/NAME`), for IRSA.
pub(crate) fn iam_role_arn(s: &str) -> Check {
    let bad = || format!("`{s}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return Err(bad());
    };
    let ok = prefix == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && resource.strip_prefix("role/").is_some_and(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
        });
    if ok { Ok(()) } else { Err(bad()) }
}

/// An EKS cluster name: 1 to 100 letters, digits, `-` and `_`, starting with a letter or digit.
pub(crate) fn cluster_name(s: &str) -> Check {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an EKS cluster name (letters, digits, `-`, `_`)"
        ))
    }
}

/// An AWS region such as `eu-west-1` or `us-gov-west-1`.
pub(crate) fn aws_region(s: &str) -> Check {
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok_and(|n| n > 0);
    if ok {
        Ok(())
    } else {
        Err(format!("`{s}` is not an AWS region (like `eu-west-1`)"))
    }
}

/// An Amazon Managed Service for Prometheus workspace ID (`ws-` and a UUID).
pub(crate) fn amp_workspace_id(s: &str) -> Check {
    let uuid = s.strip_prefix("ws-").map(|rest| {
        let groups: Vec<&str> = rest.split('-').collect();
        groups.len() == 5
            && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| {
                g.len() == n
                    && g.chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            })
    });
    if uuid == Some(true) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an AMP workspace ID (`ws-` and a lower-case UUID, from `aws amp list-workspaces`)"
        ))
    }
}

/// An AMP remote-write URL:
/// `https://aps-workspaces.REGION.amazonaws.com/workspaces/WORKSPACE/api/v1/remote_write`.
pub(crate) fn amp_remote_write_url(s: &str) -> Check {
    if s.contains("{{") {
        return Err(format!(
            "`{s}` holds `{{{{`: the chart runs remote-write URLs through its templates"
        ));
    }
    amp_url_parts(s).map(|_| ())
}

/// The region and workspace of an AMP remote-write URL.
pub(crate) fn amp_url_parts(s: &str) -> Result<(&str, &str), String> {
    let bad = || {
        format!(
            "`{s}` is not an AMP remote-write URL (https://aps-workspaces.REGION.amazonaws.com/workspaces/WORKSPACE/api/v1/remote_write)"
        )
    };
    let rest = s.strip_prefix("https://aps-workspaces.").ok_or_else(bad)?;
    let (region, rest) = rest.split_once('.').ok_or_else(bad)?;
    let rest = rest
        .strip_prefix("amazonaws.com/workspaces/")
        .or_else(|| rest.strip_prefix("amazonaws.com.cn/workspaces/"))
        .ok_or_else(bad)?;
    let workspace = rest.strip_suffix("/api/v1/remote_write").ok_or_else(bad)?;
    aws_region(region).map_err(|_| bad())?;
    amp_workspace_id(workspace)?;
    Ok((region, workspace))
}

/// A regular expression over metric names (for `amp.keepMetrics`): one line, no templates, and
/// a syntax Prometheus's RE2 accepts (checked by a parser of the same family), so a typo fails
/// here and not as a configuration Prometheus refuses to load.
pub(crate) fn metric_regex(s: &str) -> Check {
    if s.is_empty() || s.contains("{{") || s.chars().any(char::is_control) {
        return Err(format!(
            "`{s}` is not a metric-name regex (one line, no `{{{{`)"
        ));
    }
    regex_syntax::Parser::new()
        .parse(s)
        .map(|_| ())
        .map_err(|e| {
            let detail = e.to_string();
            let reason = detail.lines().last().unwrap_or_default().trim();
            let reason = reason.strip_prefix("error: ").unwrap_or(reason);
            format!("`{s}` is not a valid regex: {reason}")
        })
}

/// A Prometheus label name (`alertname`, `namespace`).
pub(crate) fn label_name(s: &str) -> Check {
    let mut chars = s.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a label name (letters, digits and `_`)"
        ))
    }
}

/// A key of a Secret (`url`, `routing-key`).
pub(crate) fn secret_key(s: &str) -> Check {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a Secret key (letters, digits, `-`, `.`, `_`)"
        ))
    }
}

/// A Slack channel or user (`#alerts`, `@oncall`).
pub(crate) fn slack_channel(s: &str) -> Check {
    let ok = (s.starts_with('#') || s.starts_with('@'))
        && s.len() > 1
        && s.len() <= 81
        && s[1..]
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a Slack channel (`#alerts`) or user (`@name`)"
        ))
    }
}

/// A storage or memory size: `50Gi`, `512Mi`, `1G`.
pub(crate) fn size_quantity(s: &str) -> Check {
    quantity_with(s, "size", &[], "50Gi")
}

/// The smallest and largest EBS gp3 and gp2 volumes.
const EBS_MIN_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;
const EBS_MAX_BYTES: f64 = 16.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0;

/// A volume's size: a quantity with a unit (a bare `50` is 50 bytes), within what an EBS gp3
/// or gp2 volume can be.
pub(crate) fn volume_size(s: &str) -> Check {
    quantity_with(s, "size", &[], "50Gi")?;
    let bytes = quantity_bytes(s).unwrap_or_default();
    if split_quantity(s).is_some_and(|(_, suffix)| suffix.is_empty()) {
        let hint = if bytes >= 1.0 {
            format!(" (did you mean `{s}Gi`?)")
        } else {
            String::new()
        };
        return Err(format!("`{s}` has no unit, so it means {s} bytes{hint}"));
    }
    if !(EBS_MIN_BYTES..=EBS_MAX_BYTES).contains(&bytes) {
        return Err(format!(
            "`{s}` is outside what an EBS gp3 or gp2 volume can be (1Gi to 16Ti)"
        ));
    }
    Ok(())
}

/// Prometheus's size limit: a quantity with a unit, at least 1Mi (Prometheus counts in whole
/// MB, and `0MB` turns the limit off).
pub(crate) fn retention_size(s: &str) -> Check {
    quantity_with(s, "size", &[], "45Gi")?;
    if split_quantity(s).is_some_and(|(_, suffix)| suffix.is_empty()) {
        return Err(format!(
            "`{s}` has no unit, so it means {s} bytes (did you mean `{s}Gi`?)"
        ));
    }
    if quantity_bytes(s).unwrap_or_default() < 1_048_576.0 {
        return Err(format!(
            "`{s}` is less than 1Mi: Prometheus would write `0MB`, which turns the size limit off"
        ));
    }
    Ok(())
}

/// A CPU amount: `500m`, `0.5`, `2`.
pub(crate) fn cpu_quantity(s: &str) -> Check {
    quantity_with(s, "CPU", &["m"], "500m")
}

/// A Prometheus duration such as `15d`, `12h` or `1w3d`.
pub(crate) fn retention(s: &str) -> Check {
    let bad =
        || format!("`{s}` is not a duration (like `15d`, `12h` or `1w3d`; units ms s m h d w y)");
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s;
    let mut total_nonzero = false;
    while !rest.is_empty() {
        let cut = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if cut == 0 {
            return Err(bad());
        }
        let (digits, tail) = rest.split_at(cut);
        let unit_len = if tail.starts_with("ms") {
            2
        } else if tail.starts_with(['s', 'm', 'h', 'd', 'w', 'y']) {
            1
        } else {
            return Err(bad());
        };
        total_nonzero |= digits.chars().any(|c| c != '0');
        rest = &tail[unit_len..];
    }
    if !total_nonzero {
        return Err(format!("retention `{s}` must be greater than zero"));
    }
    Ok(())
}

/// A Go duration as helm's `--timeout` takes it: `10m`, `1h30m`, `90s`, `5m0s`.
pub(crate) fn go_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{s}` is not a duration (like `10m`, `1h30m` or `90s`)");
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let cut = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..cut].parse().map_err(|_| bad())?;
        let tail = &rest[cut..];
        let (unit_seconds, unit_len) = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("µs", 1e-6),
            ("ms", 1e-3),
            ("s", 1.0),
            ("m", 60.0),
            ("h", 3600.0),
        ]
        .iter()
        .find(|(unit, _)| tail.starts_with(unit))
        .map(|(unit, seconds)| (*seconds, unit.len()))
        .ok_or_else(bad)?;
        total += number * unit_seconds;
        rest = &tail[unit_len..];
    }
    if s.is_empty() || total <= 0.0 || total > 7.0 * 24.0 * 3600.0 {
        return Err(format!(
            "`{s}` must be a positive duration of at most a week (like `10m`)"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

/// An AWS tag key: 1–128 tag characters, no `=` (it would split the annotation's `k=v`), no `aws:`.
pub(crate) fn tag_key(s: &str) -> Check {
    if s.is_empty() || s.chars().count() > 128 {
        return Err(format!("tag key `{s}` must be 1 to 128 characters"));
    }
    if s.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!(
            "tag key `{s}`: the `aws:` prefix is reserved by AWS"
        ));
    }
    if let Some(c) = s.chars().find(|&c| !is_tag_char(c) || c == '=') {
        return Err(format!(
            "tag key `{s}` has `{}`; AWS tags allow letters, digits, spaces and _ . : / + - @",
            c.escape_default()
        ));
    }
    Ok(())
}

/// An AWS tag value: up to 256 tag characters (a `,` would split the annotation's list).
pub(crate) fn tag_value(s: &str) -> Check {
    if s.chars().count() > 256 {
        return Err("a tag value must be 256 characters at most".into());
    }
    if let Some(c) = s.chars().find(|&c| !is_tag_char(c)) {
        return Err(format!(
            "tag value `{s}` has `{}`; AWS tags allow letters, digits, spaces and _ . : / = + - @",
            c.escape_default()
        ));
    }
    Ok(())
}

/// An ALB IngressGroup name.
pub(crate) fn group_name(s: &str) -> Check {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an ALB group name (lower case letters, digits, `-` and `.`, 63 at most)"
        ))
    }
}

/// An Elastic Load Balancing name: 1–32 letters, digits and `-`.
pub(crate) fn load_balancer_name(s: &str) -> Check {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.starts_with("internal-");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a load balancer name (1 to 32 letters, digits and `-`, not starting with `internal-`)"
        ))
    }
}

/// An ELB security policy name such as `ELBSecurityPolicy-TLS13-1-2-2021-06`.
pub(crate) fn ssl_policy(s: &str) -> Check {
    if !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(())
    } else {
        Err(format!("`{s}` is not an ELB security policy name"))
    }
}

/// HTTP status codes for target health: `200`, `200,302`, `200-399`.
pub(crate) fn success_codes(s: &str) -> Check {
    let code_ok = |c: &str| c.len() == 3 && c.parse::<u16>().is_ok_and(|n| (200..500).contains(&n));
    let ok = !s.is_empty()
        && s.split(',').all(|part| match part.split_once('-') {
            Some((lo, hi)) => code_ok(lo) && code_ok(hi) && lo < hi,
            None => code_ok(part),
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a list of HTTP codes (like `200`, `200,301,302` or `200-399`; 200 to 499)"
        ))
    }
}

/// An `https://` URL with a host and no spaces or template braces.
pub(crate) fn https_url(s: &str) -> Check {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err(format!("`{s}` is not an https:// URL"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if dns_subdomain(host).is_err()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "{}\"'\\<>".contains(c))
    {
        return Err(format!("`{s}` is not a valid https:// URL"));
    }
    Ok(())
}

/// A chart repository: `https://`, `http://`, `oci://` or `file://`.
pub(crate) fn chart_repo(s: &str) -> Check {
    let known = ["https://", "http://", "oci://", "file://"]
        .iter()
        .any(|p| s.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    if !known {
        return Err(format!(
            "`{s}` is not a chart repository (https://…, http://…, oci://… or file://…)"
        ));
    }
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "{}\"'\\".contains(c))
    {
        return Err(format!("chart repository `{s}` has spaces or quotes"));
    }
    Ok(())
}

/// A chart name as it appears in a repository index.
pub(crate) fn chart_name(s: &str) -> Check {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("`{s}` is not a chart name"))
    }
}

/// An exact SemVer 2 version: pinned, never a range.
pub(crate) fn chart_version(s: &str) -> Check {
    semver::Version::parse(s).map(drop).map_err(|_| {
        format!("`{s}` is not an exact chart version (like `29.27.0`; ranges are not pinned)")
    })
}

/// A Kubernetes Secret name (a DNS subdomain).
pub(crate) fn secret_name(s: &str) -> Check {
    dns_subdomain(s).map_err(|why| format!("`{s}` is not a valid Secret name: {why}"))
}

/// A Cognito app client ID.
pub(crate) fn user_pool_client_id(s: &str) -> Check {
    if !s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a Cognito app client ID (letters and digits)"
        ))
    }
}

/// A Cognito user pool domain prefix (the part before `.auth.REGION.amazoncognito.com`).
pub(crate) fn user_pool_domain(s: &str) -> Check {
    dns_label_rule(s, 63).map_err(|why| format!("`{s}` is not a Cognito domain prefix: {why}"))
}

/// An identity provider's endpoint: https, and nothing in it that could be a credential (a
/// `user:password@`, a query or fragment, where tokens travel). The errors never repeat the
/// value: it may be one.
pub(crate) fn sso_url(s: &str) -> Check {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err("not an https:// URL (the value is not repeated here)".into());
    };
    let authority = rest.split('/').next().unwrap_or("");
    if authority.contains('@') {
        return Err(
            "carries credentials (user:password@): they belong in the Secret, not the profile (the value is not repeated here)".into(),
        );
    }
    if s.contains(['?', '#']) {
        return Err(
            "has a query or fragment, where tokens travel: an endpoint needs neither (the value is not repeated here)".into(),
        );
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if dns_subdomain(host).is_err()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "{}\"'\\<>".contains(c))
    {
        return Err("is not a valid https:// URL (the value is not repeated here)".into());
    }
    Ok(())
}

/// An OAuth client ID (Cognito app client, Okta, any OIDC provider): letters, digits, `.`,
/// `_`, `~`, `-`.
pub(crate) fn oauth_client_id(s: &str) -> Check {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_~".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an OAuth client ID (letters, digits, `.`, `_`, `~`, `-`)"
        ))
    }
}

/// A group name an identity provider sends: no spaces or commas (Grafana splits its list on
/// them), no quotes or braces.
pub(crate) fn sso_group(s: &str) -> Check {
    let ok = !s.is_empty()
        && s.len() <= 256
        && s.chars().all(|c| {
            c.is_ascii_graphic() && !",\"'\\{}".contains(c)
                || !c.is_ascii() && !c.is_control() && !c.is_whitespace()
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a group name Grafana can match (no spaces, commas, quotes or braces)"
        ))
    }
}

/// A JMESPath expression (Grafana's `role_attribute_path`), parsed as JMESPath. `{{` and `}}`
/// are refused: the chart templates grafana.ini (write `{ {` for nested hashes).
pub(crate) fn jmespath(s: &str) -> Check {
    if s.len() > 1024 || s.contains("{{") || s.contains("}}") || s.chars().any(char::is_control) {
        return Err(format!(
            "`{s}` cannot be passed to Grafana: at most 1024 characters, no `{{{{` or `}}}}`"
        ));
    }
    jmespath::compile(s).map(drop).map_err(|err| {
        let why = err.to_string();
        let first = why.lines().next().unwrap_or("a syntax error").to_owned();
        format!("`{s}` is not a JMESPath expression: {first}")
    })
}

/// An OAuth scope list such as `openid email`.
pub(crate) fn oauth_scope(s: &str) -> Check {
    let ok = !s.trim().is_empty()
        && s.chars()
            .all(|c| c == ' ' || (c.is_ascii_graphic() && !"\"\\{},".contains(c)));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not an OAuth scope list (like `openid email`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_ok(check: fn(&str) -> Check, good: &[&str]) {
        for s in good {
            assert_eq!(check(s), Ok(()), "{s:?} should pass");
        }
    }

    fn all_err(check: fn(&str) -> Check, bad: &[&str]) {
        for s in bad {
            assert!(check(s).is_err(), "{s:?} should fail");
        }
    }

    #[test]
    fn subnets() {
        all_ok(
            subnet,
            &[
                "subnet-02e6d788fad8afdcf",
                "subnet-0123abcd",
                "private-a",
                "eks private 1a",
            ],
        );
        all_err(
            subnet,
            &[
                "subnet-123",
                "subnet-0123ABCD",
                "a,b",
                "",
                " x",
                "{{x}}",
                "a\nb: c",
            ],
        );
        assert!(subnet("subnet-xyz").unwrap_err().contains("8 or 17"));
    }

    #[test]
    fn security_groups() {
        all_ok(
            security_group,
            &[
                "sg-0123abcd",
                "sg-0123456789abcdef0",
                "bys-dev-sg-alb-eks-monitoring",
            ],
        );
        all_err(
            security_group,
            &["sg-nothex", "sg-123", "a,b", "x=y", "q\"uote"],
        );
    }

    #[test]
    fn arns() {
        all_ok(
            certificate_arn,
            &[
                "arn:aws:acm:ap-northeast-2:558846430793:certificate/xxxxx",
                "arn:aws-cn:acm:cn-north-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
            ],
        );
        all_err(
            certificate_arn,
            &[
                "arn:aws:acm:ap-northeast-2:55884643079:certificate/x",
                "arn:aws:iam::123456789012:server-certificate/x",
                "arn:aws:acm:us-east-1:123456789012:cert/x",
                "arn:aws:acm:us-east-1:123456789012:certificate/",
                "arn:aws:acm:us-east-1:123456789012:certificate/a,b",
                "certificate/x",
            ],
        );
        all_ok(
            wafv2_acl_arn,
            &["arn:aws:wafv2:us-east-1:123456789012:regional/webacl/my-acl/0a1b2c3d"],
        );
        all_err(
            wafv2_acl_arn,
            &["arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/y"],
        );
        all_ok(
            user_pool_arn,
            &["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC123"],
        );
        all_err(
            user_pool_arn,
            &["arn:aws:cognito-idp:us-east-1:123456789012:pool/x"],
        );
    }

    #[test]
    fn hosts() {
        all_ok(
            host,
            &["grafana-main.bys.world", "localhost", "a-1.b2.example"],
        );
        all_err(
            host,
            &[
                "https://grafana.example.com",
                "grafana.example.com/path",
                "Grafana.example.com",
                "grafana.example.com:443",
                "*.example.com",
                "-a.example.com",
                "a..b",
                "",
                "a.example.com\n  evil: true",
                "{{ .Values }}",
                "a_b.example.com",
            ],
        );
        assert!(
            host("https://x.io")
                .unwrap_err()
                .contains("drop `https://`")
        );
        assert!(host(&format!("{}.io", "a".repeat(64))).is_err());
    }

    #[test]
    fn labels_and_names() {
        all_ok(dns_label, &["prometheus", "monitoring-1"]);
        all_err(dns_label, &["Prometheus", "a.b", "-a", &"a".repeat(64)]);
        all_ok(release_name, &["grafana", &"a".repeat(53)]);
        all_err(release_name, &[&"a".repeat(54), "my_release"]);
        all_ok(storage_class, &["ebs-sc-gp3", "gp3.encrypted"]);
        all_err(storage_class, &["GP3", "gp3 "]);
        all_ok(group_name, &["eks-monitoring", "team.monitoring"]);
        all_err(group_name, &["-x", "Team", "a b"]);
        all_ok(load_balancer_name, &["bys-dev-nlb-eks-prometheus"]);
        all_err(
            load_balancer_name,
            &["internal-x", "a".repeat(33).as_str(), "a_b"],
        );
    }

    #[test]
    fn cidrs() {
        all_ok(
            cidr,
            &[
                "10.0.0.0/8",
                "0.0.0.0/0",
                "203.0.113.7/32",
                "2001:db8::/32",
                "::/0",
            ],
        );
        all_err(
            cidr,
            &[
                "10.0.0.0",
                "10.0.0.0/33",
                "10.0.0.1/8",
                "x/8",
                "10.0.0.0/-1",
                "2001:db8::/129",
            ],
        );
        assert!(cidr("10.1.2.3/16").unwrap_err().contains("10.1.0.0/16"));
        assert!(
            cidr("203.0.113.7")
                .unwrap_err()
                .contains("`203.0.113.7/32`")
        );
        assert!(
            cidr("2001:db8::1")
                .unwrap_err()
                .contains("`2001:db8::1/128`")
        );
        assert!(
            cidr("10.0.0.0/8 192.168.0.0/16")
                .unwrap_err()
                .contains("separate them with commas")
        );
    }

    #[test]
    fn quantities() {
        all_ok(size_quantity, &["50Gi", "512Mi", "1G", "1.5Ti", "100"]);
        all_err(
            size_quantity,
            &[
                "50GB", "-5Gi", "0Gi", "Gi", "5 Gi", "5gi", ".5Gi", "1e3", "500m",
            ],
        );
        assert!(size_quantity("50GB").unwrap_err().contains("50Gi"));
        all_ok(cpu_quantity, &["500m", "0.5", "2", "1k"]);
        all_err(cpu_quantity, &["-1", "0m", "half", "500 m"]);
    }

    #[test]
    fn retentions() {
        all_ok(retention, &["15d", "12h", "1w3d", "90m", "1y", "500ms"]);
        all_err(retention, &["15", "15 days", "d", "0d", "-1d", "15D", ""]);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("10m"), Ok(std::time::Duration::from_secs(600)));
        assert_eq!(
            go_duration("1h30m"),
            Ok(std::time::Duration::from_secs(5400))
        );
        assert_eq!(go_duration("5m0s"), Ok(std::time::Duration::from_secs(300)));
        assert_eq!(
            go_duration("1.5s"),
            Ok(std::time::Duration::from_millis(1500))
        );
        for bad in ["", "10", "m", "-5m", "0s", "10 m", "10d", "1000h"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags() {
        all_ok(tag_key, &["auto-delete", "team:name", "cost center"]);
        all_err(tag_key, &["", "aws:owner", "a=b", "a,b", "q\"", "{x}"]);
        all_ok(tag_value, &["no", "", "a=b", "x y"]);
        all_err(tag_value, &["a,b", "it's", "new\nline"]);
    }

    #[test]
    fn amp_fields() {
        all_ok(cluster_name, &["bys-dev", "prod_eks2", "a"]);
        all_err(
            cluster_name,
            &["", "-x", "my cluster", "a.b", &"a".repeat(101)],
        );
        all_ok(
            aws_region,
            &["eu-west-1", "ap-northeast-2", "us-gov-west-1", "cn-north-1"],
        );
        all_err(
            aws_region,
            &[
                "",
                "eu-west",
                "EU-west-1",
                "eu-west-0",
                "europe-west-1",
                "eu--1",
            ],
        );
        all_ok(
            amp_workspace_id,
            &["ws-0123abcd-4567-89ef-0123-456789abcdef"],
        );
        all_err(
            amp_workspace_id,
            &[
                "ws-1234",
                "0123abcd-4567-89ef-0123-456789abcdef",
                "ws-0123ABCD-4567-89ef-0123-456789abcdef",
                "ws-0123abcd-4567-89ef-0123-456789abcdeg",
            ],
        );
        let url = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write";
        all_ok(amp_remote_write_url, &[url]);
        assert_eq!(
            amp_url_parts(url),
            Ok(("eu-west-1", "ws-0123abcd-4567-89ef-0123-456789abcdef"))
        );
        all_err(
            amp_remote_write_url,
            &[
                "http://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write",
                "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/query",
                "https://aps-workspaces.eu-west-1.evil.com/workspaces/ws-0123abcd-4567-89ef-0123-456789abcdef/api/v1/remote_write",
                "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/{{ .x }}/api/v1/remote_write",
            ],
        );
        all_ok(
            metric_regex,
            &["up", "kube_.*", "node_(cpu|memory)_.+", "a|b"],
        );
        all_err(
            metric_regex,
            &["", "kube_(", "a[", "x{{y", "a\nb\n", "(?<=a)b"],
        );
    }

    #[test]
    fn misc() {
        all_ok(ssl_policy, &["ELBSecurityPolicy-TLS13-1-2-2021-06"]);
        all_err(ssl_policy, &["", "policy name"]);
        all_ok(success_codes, &["200", "200,301,302", "200-399"]);
        all_err(success_codes, &["", "2xx", "600", "399-200", "200,"]);
        all_ok(
            https_url,
            &[
                "https://login.example.com/authorize",
                "https://idp.example.com:8443/x",
            ],
        );
        all_err(
            https_url,
            &[
                "http://x.io",
                "https://",
                "https://x.io/{{a}}",
                "https://x .io",
            ],
        );
        all_ok(
            chart_repo,
            &[
                "https://prometheus-community.github.io/helm-charts",
                "oci://ghcr.io/x/y",
                "http://127.0.0.1:8080",
            ],
        );
        all_err(chart_repo, &["ghcr.io/x", "https://", "https://a b"]);
        all_ok(chart_version, &["29.27.0", "1.0.0-rc.1", "12.11.1+build.5"]);
        all_err(
            chart_version,
            &["29.27", "^29.0.0", "~1.2.3", "01.2.3", "latest", ""],
        );
        all_ok(chart_name, &["prometheus", "kube-state-metrics"]);
        all_err(chart_name, &["Prometheus", "a/b", ""]);
        all_ok(oauth_scope, &["openid", "openid email profile"]);
        all_err(oauth_scope, &["", "a,b"]);
    }
}
