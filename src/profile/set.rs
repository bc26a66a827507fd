//! `--set path.to.key=VALUE`: one argument becomes one small profile layer.

use crate::error::{Origin, UserError};
use crate::yaml::{self, Value};

/// Turns `alb.subnets=[subnet-a,subnet-b]` into `{alb: {subnets: [subnet-a, subnet-b]}}`.
///
/// Keys are split on `.`; `\.` keeps a dot inside a key (`prometheus.values.server.podAnnotations.a\.b/c=x`),
/// as in `helm --set`. VALUE is read as a YAML scalar or flow collection; an empty VALUE is `""`.
pub fn parse(arg: &str) -> Result<Value, UserError> {
    let origin = || Origin::Set(arg.to_owned());
    let Some((key, raw_value)) = arg.split_once('=') else {
        return Err(UserError::input(format!("`{arg}` is not key=value"))
            .at(origin())
            .hint("write --set path.to.key=VALUE, e.g. --set alb.scheme=internal"));
    };
    let keys = split_key(key).map_err(|why| UserError::input(why).at(origin()))?;
    let value = yaml::parse_flow(raw_value).map_err(|why| {
        UserError::input(format!(
            "{key}: the value is not a YAML scalar or flow list/map: {why}"
        ))
        .at(origin())
        .hint("quote values with special characters, e.g. --set 'alb.tags.team=\"a b\"'")
    })?;
    Ok(yaml::nest(keys, value))
}

pub fn split_key(key: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut current = String::new();
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.as_str().starts_with('.') => {
                current.push('.');
                chars.next();
            }
            '.' => keys.push(std::mem::take(&mut current)),
            '[' | ']' => {
                return Err(format!(
                    "`{key}`: list indexes are not supported; set the whole list, e.g. --set alb.subnets=[subnet-0a1b2c3d,subnet-4e5f6a7b]"
                ));
            }
            c => current.push(c),
        }
    }
    keys.push(current);
    if keys.iter().any(|k| k.trim().is_empty()) {
        return Err(format!("`{key}` is not a key path (like `alb.scheme`)"));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(arg: &str) -> String {
        yaml::emit(&parse(arg).unwrap())
    }

    #[test]
    fn nests_keys() {
        assert_eq!(set("alb.scheme=internal"), "alb:\n  scheme: internal\n");
        assert_eq!(set("namespace=monitoring"), "namespace: monitoring\n");
    }

    #[test]
    fn parses_flow_values() {
        assert_eq!(
            set("alb.subnets=[subnet-a,subnet-b]"),
            "alb:\n  subnets:\n    - subnet-a\n    - subnet-b\n"
        );
        assert_eq!(set("nlb.crossZone=false"), "nlb:\n  crossZone: false\n");
        assert_eq!(
            set("alb.tags={team: obs}"),
            "alb:\n  tags:\n    team: obs\n"
        );
        assert_eq!(set("grafana.host="), "grafana:\n  host: \"\"\n");
        assert_eq!(set("a=b=c"), "a: \"b=c\"\n");
    }

    #[test]
    fn escaped_dots_stay_in_the_key() {
        assert_eq!(
            set(r"prometheus.values.server.podAnnotations.example\.com/team=obs"),
            "prometheus:\n  values:\n    server:\n      podAnnotations:\n        example.com/team: obs\n"
        );
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "alb.scheme",
            "=x",
            "a..b=x",
            "alb.subnets[0]=x",
            ".a=x",
            "a=[x",
            "a={",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.origin, Some(Origin::Set(bad.into())), "{bad}");
        }
        assert!(
            parse("alb.scheme")
                .unwrap_err()
                .message
                .contains("key=value")
        );
    }
}
