//! Writing documents as YAML that Helm's YAML 1.1 reader and YAML 1.2 readers agree on.

use super::{Mapping, Value};
use std::fmt::Write as _;

/// Writes `value` as block-style YAML. Strings are left plain only when every YAML 1.1 and 1.2
/// reader takes them as the same string (Helm reads values as YAML 1.1, where `no` is false and
/// `2024-01-01` a timestamp); everything else is double-quoted with escapes. Multi-line strings
/// become literal blocks when that is exact. The output ends with a newline.
pub fn emit(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Mapping(map) if !map.is_empty() => emit_mapping(&mut out, map, 0),
        Value::Sequence(items) if !items.is_empty() => emit_sequence(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn emit_mapping(out: &mut String, map: &Mapping, indent: usize) {
    for (key, value) in map {
        pad(out, indent);
        out.push_str(&key_text(key));
        out.push(':');
        emit_nested(out, value, indent);
    }
}

fn emit_sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push('-');
        match item {
            Value::Mapping(map) if !map.is_empty() => {
                // The first entry shares the dash's line; the rest align under it.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        pad(out, indent + 2);
                    }
                    out.push_str(&key_text(key));
                    out.push(':');
                    emit_nested(out, value, indent + 2);
                }
            }
            Value::Sequence(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_sequence(out, inner, indent + 2);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// The part after `key:` for a value at `indent`.
fn emit_nested(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            out.push('\n');
            emit_mapping(out, map, indent + 2);
        }
        Value::Sequence(items) if !items.is_empty() => {
            out.push('\n');
            emit_sequence(out, items, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => string_text(s, None),
        // Helm turns every key into a JSON string anyway; say so explicitly.
        other => quote(inline(other, 0).trim_matches('"')),
    }
}

/// A scalar (or empty collection) on one line; `block_indent` is where a literal block's lines go.
fn inline(value: &Value, block_indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => string_text(s, Some(block_indent)),
        Value::Sequence(_) => "[]".into(),
        Value::Mapping(_) => "{}".into(),
        Value::Tagged(tagged) => inline(&tagged.value, block_indent),
    }
}

fn number_text(n: &serde_yaml::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    // YAML 1.1 floats need a dot and a signed exponent: 1e20 would read as a string there.
    let text = format!("{f:?}");
    match text.split_once('e') {
        Some((mantissa, exp)) => {
            let mantissa = if mantissa.contains('.') {
                mantissa.to_owned()
            } else {
                format!("{mantissa}.0")
            };
            let exp = if exp.starts_with('-') {
                exp.to_owned()
            } else {
                format!("+{exp}")
            };
            format!("{mantissa}e{exp}")
        }
        None => text,
    }
}

fn string_text(s: &str, block_indent: Option<usize>) -> String {
    if is_plain_safe(s) {
        return s.to_owned();
    }
    if let Some(indent) = block_indent
        && let Some(block) = literal_block(s, indent)
    {
        return block;
    }
    quote(s)
}

/// Plain only for strings that no YAML reader could take for anything else.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '/' || first == '_') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | '@'))
    {
        return false;
    }
    const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

/// `|` / `|-` block for multi-line text, when the text round-trips exactly through one.
fn literal_block(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n') || s.starts_with([' ', '\n']) || s.ends_with("\n\n") {
        return None;
    }
    let printable = s
        .chars()
        .all(|c| c == '\n' || c == '\t' || (is_printable(c) && c != '\r'));
    if !printable {
        return None;
    }
    let (header, body) = match s.strip_suffix('\n') {
        Some(body) => ("|", body),
        None => ("|-", s),
    };
    // A line of only spaces could be mistaken for the block's end; keep those quoted.
    if body.lines().any(|l| !l.is_empty() && l.trim().is_empty()) {
        return None;
    }
    let mut out = String::from(header);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    Some(out)
}

fn is_printable(c: char) -> bool {
    // YAML's printable set, minus the characters that YAML 1.1 treats as line breaks.
    !(c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
}

/// A double-quoted scalar; every escape used is valid in both YAML 1.1 and 1.2.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c if !c.is_ascii() && is_printable(c) => out.push(c),
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::yaml::parse;

    fn round_trip(value: &Value) -> Value {
        serde_yaml::from_str(&emit(value)).expect("emitted YAML parses")
    }

    #[test]
    fn quotes_strings_that_yaml_1_1_would_retype() {
        for s in [
            "no",
            "Yes",
            "on",
            "y",
            "null",
            "~",
            "15",
            "0755",
            "1e3",
            "2024-01-01",
            "50Gi",
            "",
            "200,301",
            ".inf",
            "a: b",
            "#x",
            "-x",
            "*x",
            "&x",
            "!x",
            "x ",
            "[x]",
        ] {
            let text = emit(&Value::String(s.into()));
            assert!(text.starts_with('"'), "{s:?} emitted as {text:?}");
            assert_eq!(
                round_trip(&Value::String(s.into())),
                Value::String(s.into())
            );
        }
    }

    #[test]
    fn leaves_plain_names_plain() {
        for s in [
            "internet-facing",
            "alb.ingress.kubernetes.io/scheme",
            "subnet-02e6d788",
            "ebs-sc-gp3",
        ] {
            assert_eq!(emit(&Value::String(s.into())), format!("{s}\n"));
        }
    }

    #[test]
    fn injection_stays_a_string() {
        let host = "a.example.com\n  evil: true";
        let mut map = Mapping::new();
        map.insert("host".into(), host.into());
        let back = round_trip(&Value::Mapping(map.clone()));
        assert_eq!(back, Value::Mapping(map));
    }

    #[test]
    fn multi_line_text_becomes_a_literal_block() {
        let mut map = Mapping::new();
        map.insert("json".into(), "{\n  \"a\": 1\n}\n".into());
        let text = emit(&Value::Mapping(map.clone()));
        assert_eq!(text, "json: |\n  {\n    \"a\": 1\n  }\n");
        assert_eq!(
            round_trip(&Value::Mapping(map.clone())),
            Value::Mapping(map)
        );
    }

    #[test]
    fn nested_collections_round_trip() {
        let doc = parse(
            "a:\n  b: [1, 2.5, -3, true, null]\n  c:\n    - x: 1\n      y: [p, q]\n    - [r, s]\n    - {}\n  d: []\n  e: 1.0e+20\n",
        )
        .unwrap();
        assert_eq!(round_trip(&doc), doc);
    }

    #[test]
    fn odd_characters_are_escaped() {
        for s in [
            "tab\there",
            "bell\u{7}",
            "line\u{2028}sep",
            "nel\u{85}",
            "quote\"back\\",
            "ünï",
        ] {
            assert_eq!(
                round_trip(&Value::String(s.into())),
                Value::String(s.into()),
                "{s:?}"
            );
        }
    }
}
