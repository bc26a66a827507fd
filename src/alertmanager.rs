//! Alertmanager's configuration from `alerting.receivers`: routes by severity, and every secret
//! (a Slack or webhook URL, a PagerDuty routing key) read from a file that the named Secret is
//! mounted as. The values hold Secret names and file paths, never a secret.

use crate::settings::{Receiver, ReceiverType, Settings, Severity};
use serde_json::{Value, json};

/// Where a receiver's Secret is mounted in the Alertmanager pod.
fn mount_path(receiver: &Receiver) -> String {
    format!("/etc/alertmanager/secrets/{}", receiver.name)
}

/// The file that holds the receiver's URL or key.
fn secret_file(receiver: &Receiver) -> Option<String> {
    let key = receiver
        .secret_key
        .as_ref()
        .map(|k| k.as_str().to_owned())
        .or_else(|| receiver.r#type.default_secret_key().map(str::to_owned))?;
    Some(format!("{}/{key}", mount_path(receiver)))
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// One receiver in Alertmanager's words.
fn receiver_config(receiver: &Receiver) -> Value {
    let file = secret_file(receiver);
    let mut config = match receiver.r#type {
        ReceiverType::Slack => {
            let mut slack = json!({"api_url_file": file, "send_resolved": true});
            if let Some(channel) = &receiver.channel {
                slack["channel"] = json!(channel.as_str());
            }
            json!({"slack_configs": [slack]})
        }
        ReceiverType::Pagerduty => {
            json!({"pagerduty_configs": [{"routing_key_file": file, "send_resolved": true}]})
        }
        ReceiverType::Webhook => {
            json!({"webhook_configs": [{"url_file": file, "send_resolved": true}]})
        }
        ReceiverType::Sns => {
            let topic = receiver
                .topic_arn
                .as_ref()
                .map(super::settings::SnsTopicArn::as_str)
                .unwrap_or_default();
            let region = crate::validate::arn_region(topic).unwrap_or_default();
            json!({"sns_configs": [{
                "topic_arn": topic,
                "sigv4": {"region": region},
                "send_resolved": true,
            }]})
        }
    };
    config["name"] = json!(receiver.name.as_str());
    config
}

/// The chart's `alertmanager.config`, `extraSecretMounts` and service-account annotations, as
/// one JSON object for the template; `None` without Alertmanager.
pub(crate) fn values(s: &Settings) -> Option<Value> {
    if !s.alertmanager_installed() {
        return None;
    }
    let alerting = &s.alerting;
    // Unrouted alerts (and the Watchdog, always firing) go to a receiver that sends nothing.
    let mut receivers = vec![json!({"name": "null"})];
    let mut routes = vec![json!({"receiver": "null", "matchers": ["alertname=\"Watchdog\""]})];
    for receiver in &alerting.receivers {
        receivers.push(receiver_config(receiver));
        let mut route = json!({"receiver": receiver.name.as_str(), "continue": true});
        if !receiver.severities.is_empty() {
            let wanted: Vec<&str> = receiver
                .severities
                .iter()
                .map(|s| severity_name(*s))
                .collect();
            route["matchers"] = json!([format!("severity=~\"{}\"", wanted.join("|"))]);
        }
        routes.push(route);
    }
    let group_by: Vec<&str> = alerting
        .group_by
        .iter()
        .map(super::settings::LabelName::as_str)
        .collect();
    let config = json!({
        "receivers": receivers,
        "route": {
            "receiver": "null",
            "group_by": group_by,
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": alerting.repeat_interval.as_str(),
            "routes": routes,
        },
    });
    let mounts: Vec<Value> = alerting
        .receivers
        .iter()
        .filter_map(|r| {
            let secret = r.secret_name.as_ref()?;
            Some(json!({
                "name": format!("receiver-{}", r.name),
                "mountPath": mount_path(r),
                "subPath": "",
                "secretName": secret.as_str(),
                "readOnly": true,
            }))
        })
        .collect();
    let role = alerting.receivers.iter().find_map(|r| r.role_arn.as_ref());
    // The role for SNS goes on Alertmanager's service account (IRSA); null: none.
    let service_account =
        role.map(|role| json!({"annotations": {"eks.amazonaws.com/role-arn": role.as_str()}}));
    Some(json!({
        "config": config,
        "extraSecretMounts": mounts,
        "serviceAccount": service_account,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        crate::yaml::from_value(crate::yaml::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn receivers_route_by_severity_and_read_secrets_from_files() {
        let s = settings(
            "alerting:\n  receivers:\n    - {name: oncall, type: slack, secretName: am-slack, channel: '#alerts', severities: [critical, warning]}\n    - {name: pager, type: pagerduty, secretName: am-pd, severities: [critical]}\n    - {name: hook, type: webhook, secretName: am-hook, secretKey: endpoint}\n    - {name: aws, type: sns, topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts', roleArn: 'arn:aws:iam::123456789012:role/am-sns'}\n  groupBy: [alertname]\n  repeatInterval: 12h\n",
        );
        let values = values(&s).unwrap();
        let config = &values["config"];
        assert_eq!(config["route"]["receiver"], "null");
        assert_eq!(config["route"]["group_by"], json!(["alertname"]));
        assert_eq!(config["route"]["repeat_interval"], "12h");
        let routes = config["route"]["routes"].as_array().unwrap();
        assert_eq!(routes[0]["matchers"], json!(["alertname=\"Watchdog\""]));
        assert_eq!(routes[1]["receiver"], "oncall");
        assert_eq!(
            routes[1]["matchers"],
            json!(["severity=~\"critical|warning\""])
        );
        assert_eq!(routes[1]["continue"], true);
        assert_eq!(routes[3].get("matchers"), None, "every severity");
        let receivers = config["receivers"].as_array().unwrap();
        assert_eq!(
            receivers[1]["slack_configs"][0]["api_url_file"],
            "/etc/alertmanager/secrets/oncall/url"
        );
        assert_eq!(receivers[1]["slack_configs"][0]["channel"], "#alerts");
        assert_eq!(
            receivers[2]["pagerduty_configs"][0]["routing_key_file"],
            "/etc/alertmanager/secrets/pager/routing-key"
        );
        assert_eq!(
            receivers[3]["webhook_configs"][0]["url_file"],
            "/etc/alertmanager/secrets/hook/endpoint"
        );
        assert_eq!(
            receivers[4]["sns_configs"][0]["sigv4"]["region"],
            "eu-west-1"
        );
        let mounts = values["extraSecretMounts"].as_array().unwrap();
        assert_eq!(mounts.len(), 3, "SNS needs no Secret");
        assert_eq!(mounts[0]["secretName"], "am-slack");
        assert_eq!(mounts[0]["mountPath"], "/etc/alertmanager/secrets/oncall");
        assert_eq!(
            values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"],
            "arn:aws:iam::123456789012:role/am-sns"
        );
    }

    #[test]
    fn no_alertmanager_no_config() {
        let s = settings("prometheus: {alertmanager: {enabled: false}}\n");
        assert_eq!(values(&s), None);
    }
}
