//! Parsing (one document, a `--set` value, a stream) and typed conversion, with serde's error
//! messages turned into [`FieldProblem`]s.

use super::Value;
use crate::field_path::{FieldPath, Segment};
use serde::de::DeserializeOwned;

/// A document that is not YAML, with the 1-based line where the parser stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub line: Option<usize>,
}

/// A value that does not fit the typed model, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: FieldPath,
    pub problem: FieldProblem,
}

/// What is wrong with a field, classified here (where serde's messages are known) so that no
/// other module reads error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    /// A key the model does not have; `expected` are the keys it has there.
    UnknownKey {
        key: String,
        expected: Vec<String>,
    },
    /// A value outside an enum; `expected` are its values.
    UnknownVariant {
        value: String,
        expected: Vec<String>,
    },
    MissingKey {
        key: String,
    },
    /// A value of the wrong kind (a string where a list goes, a number out of range), said
    /// in the profile's words.
    WrongType {
        message: String,
    },
    /// A value of the right kind that a validator refused, with its reason.
    Invalid {
        message: String,
    },
}

impl FieldProblem {
    fn classify(message: &str) -> Self {
        /// The `a`, `b` in "… `a`, expected one of `b`, `c`".
        fn backticked(text: &str) -> Vec<String> {
            text.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        }
        if let Some(rest) = message.strip_prefix("unknown field ") {
            let mut names = backticked(rest);
            let key = if names.is_empty() {
                String::new()
            } else {
                names.remove(0)
            };
            return FieldProblem::UnknownKey {
                key,
                expected: names,
            };
        }
        if let Some(rest) = message.strip_prefix("unknown variant ") {
            let mut names = backticked(rest);
            let value = if names.is_empty() {
                String::new()
            } else {
                names.remove(0)
            };
            return FieldProblem::UnknownVariant {
                value,
                expected: names,
            };
        }
        if let Some(rest) = message.strip_prefix("missing field ") {
            let key = backticked(rest).into_iter().next().unwrap_or_default();
            return FieldProblem::MissingKey { key };
        }
        if message.starts_with("invalid type: ")
            || message.starts_with("invalid value: ")
            || message.starts_with("invalid length ")
        {
            let message = message
                .replace("expected u8", "expected a whole number up to 255")
                .replace("expected u16", "expected a whole number up to 65535")
                .replace("expected a sequence", "expected a list")
                .replace("expected a map", "expected a mapping")
                .replace("invalid type: unit value", "invalid type: null");
            let message = match message.find("expected struct ") {
                Some(at) => format!("{}expected a mapping", &message[..at]),
                None => message,
            };
            return FieldProblem::WrongType { message };
        }
        FieldProblem::Invalid {
            message: message.to_owned(),
        }
    }
}

/// For a duplicate key, the line of its second occurrence: serde_yaml points at the mapping
/// that holds it (`at`, 1-based), which is where the first one is.
fn duplicate_at(text: &str, at: usize, message: &str) -> Option<usize> {
    // `duplicate entry with key "K"`, after the path of the mapping when it is nested.
    let (_, quoted) = message.split_once("duplicate entry with key \"")?;
    let key = quoted.strip_suffix('"')?;
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.get(at.checked_sub(1)?)?;
    let indent = first.len() - first.trim_start_matches([' ', '-']).len();
    let mut seen = 0;
    for (index, line) in lines.iter().enumerate().skip(at - 1) {
        let body = line.get(indent..).unwrap_or_default();
        let this_indent = line.len() - line.trim_start_matches([' ', '-']).len();
        if index >= at && this_indent < indent && !line.trim().is_empty() {
            break; // out of the mapping
        }
        if this_indent == indent {
            let name = body
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches(['"', '\'']);
            if name == key && body.contains(':') {
                seen += 1;
                if seen == 2 {
                    return Some(index + 1);
                }
            }
        }
    }
    None
}

/// Parses one YAML document. Duplicate keys, tabs, and alias bombs are errors.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    let value: Value = serde_yaml::from_str(text).map_err(|err| {
        let line = err.location().map(|l| l.line());
        let message = err.to_string();
        // serde_yaml appends " at line L column C"; the caller prints the line its own way.
        let message = match message.find(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        let message = if message.contains("repetition limit exceeded") {
            "YAML aliases expand too far (an alias bomb?)".to_owned()
        } else {
            message
        };
        let line = line.map(|at| duplicate_at(text, at, &message).unwrap_or(at));
        SyntaxError { message, line }
    })?;
    reject_tags(&value)?;
    Ok(value)
}

/// Parses the value half of `--set key=value` as a YAML scalar or flow collection.
pub fn parse_flow(text: &str) -> Result<Value, String> {
    if text.is_empty() {
        // As with `helm --set key=`: an empty string, not null.
        return Ok(Value::String(String::new()));
    }
    if text.contains('\n') {
        return Err("a --set value must be on one line".into());
    }
    parse(text).map_err(|e| e.message)
}

fn reject_tags(value: &Value) -> Result<(), SyntaxError> {
    match value {
        Value::Tagged(tagged) => Err(SyntaxError {
            message: format!("YAML tags such as `{}` are not supported", tagged.tag),
            line: None,
        }),
        Value::Sequence(items) => items.iter().try_for_each(reject_tags),
        Value::Mapping(map) => map.iter().try_for_each(|(k, v)| {
            reject_tags(k)?;
            reject_tags(v)
        }),
        _ => Ok(()),
    }
}

/// Converts a parsed document into a typed value, naming the field that does not fit.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = FieldPath(
            err.path()
                .iter()
                .filter_map(|segment| match segment {
                    serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                    serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                    _ => None,
                })
                .collect(),
        );
        FieldError {
            path,
            problem: FieldProblem::classify(&err.into_inner().to_string()),
        }
    })
}

/// Converts a typed value into a document (for merging and for templates).
pub fn to_value<T: serde::Serialize>(value: &T) -> Value {
    // Serializing our own plain structs into a Value cannot fail.
    serde_yaml::to_value(value).unwrap_or(Value::Null)
}

/// Parses a multi-document stream (such as `helm template` output); empty documents are dropped.
pub fn parse_all(text: &str) -> anyhow::Result<Vec<Value>> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = <Value as serde::Deserialize>::deserialize(document)?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Reads a document straight into a typed value, skipping what the type does not keep (for large
/// documents such as a chart repository's index, where building a tree first would be slow).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, SyntaxError> {
    serde_yaml::from_str(text).map_err(|err| SyntaxError {
        line: err.location().map(|l| l.line()),
        message: err.to_string(),
    })
}

/// Parses text already known to be YAML (our own templates and embedded files).
pub fn parse_trusted(text: &str, what: &str) -> anyhow::Result<Value> {
    serde_yaml::from_str(text)
        .map_err(|e| anyhow::anyhow!("internal error: {what} is not YAML: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_key_is_placed_at_its_second_occurrence() {
        let err = parse("namespace: a\nexposure: alb\nnamespace: b\n").unwrap_err();
        assert_eq!(err.line, Some(3), "{err:?}");
        let nested =
            "prometheus:\n  retention: 15d\n  host: p.example.com\n  retention: 30d\ngrafana: {}\n";
        assert_eq!(parse(nested).unwrap_err().line, Some(4));
    }

    #[test]
    fn syntax_errors_carry_lines() {
        let err = parse("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        let err = parse("a: 1\na: 2\n").unwrap_err();
        assert!(err.message.contains("duplicate"), "{err:?}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb += &format!(
                "a{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
            );
        }
        assert!(parse(&bomb).unwrap_err().message.contains("alias"));
    }

    #[test]
    fn flow_values_for_set() {
        assert_eq!(parse_flow("").unwrap(), Value::String(String::new()));
        assert_eq!(
            parse_flow("[a, b]").unwrap(),
            Value::Sequence(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            parse_flow("internal").unwrap(),
            Value::String("internal".into())
        );
    }

    #[test]
    fn field_problems_are_classified_once_here() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        #[allow(dead_code)]
        struct Model {
            count: u8,
            kind: Kind,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Kind {
            Alb,
            Nlb,
        }
        let problem = |text: &str| {
            from_value::<Model>(parse(text).unwrap())
                .unwrap_err()
                .problem
        };
        assert_eq!(
            problem("count: 1\nkind: alb\ncuont: 2\n"),
            FieldProblem::UnknownKey {
                key: "cuont".into(),
                expected: vec!["count".into(), "kind".into()]
            }
        );
        assert_eq!(
            problem("count: 1\nkind: elb\n"),
            FieldProblem::UnknownVariant {
                value: "elb".into(),
                expected: vec!["alb".into(), "nlb".into()]
            }
        );
        assert_eq!(
            problem("kind: alb\n"),
            FieldProblem::MissingKey {
                key: "count".into()
            }
        );
        assert_eq!(
            problem("count: 300\nkind: alb\n"),
            FieldProblem::WrongType {
                message: "invalid value: integer `300`, expected a whole number up to 255".into()
            }
        );
    }
}
