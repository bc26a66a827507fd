//! Every use of the YAML crate lives here, so that moving off `serde_yaml` (deprecated upstream)
//! touches this one file: parsing with line numbers, typed conversion with field paths, finding the
//! line of a field, and a small emitter whose output YAML 1.1 (Helm) and YAML 1.2 readers agree on.

use crate::field_path::{FieldPath, Segment};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use std::fmt::{self, Write as _};

pub use serde_yaml::{Mapping, Value};

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
    pub message: String,
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
            message: err.into_inner().to_string(),
        }
    })
}

/// Converts a typed value into a document (for merging and for templates).
pub fn to_value<T: serde::Serialize>(value: &T) -> Value {
    // Serializing our own plain structs into a Value cannot fail.
    serde_yaml::to_value(value).unwrap_or(Value::Null)
}

const MARKER: &str = "eksmon-locate-marker";

/// The 1-based line of the field at `path` in `text` (or of its nearest existing parent).
///
/// serde_yaml keeps positions to itself, so this walks the document with a seed that fails on
/// purpose at the target node: the error it returns carries that node's position. Only error paths
/// call this.
pub fn locate(text: &str, path: &FieldPath) -> Option<usize> {
    let mut path = path.clone();
    loop {
        let seed = Locate {
            path: path.segments(),
        };
        if let Err(err) = seed.deserialize(serde_yaml::Deserializer::from_str(text))
            && err.to_string().contains(MARKER)
        {
            return err.location().map(|l| l.line());
        }
        path = path.parent()?;
        if path.is_empty() {
            return None;
        }
    }
}

struct Locate<'p> {
    path: &'p [Segment],
}

impl<'de> DeserializeSeed<'de> for Locate<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            deserializer.deserialize_any(Here)
        } else {
            deserializer.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Locate<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or sequence")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Segment::Key(want), rest)) = self.path.split_first() else {
            return Ok(());
        };
        while let Some(found) = map.next_key_seed(KeyIs {
            want,
            fail_on_match: rest.is_empty(),
        })? {
            if found {
                return map.next_value_seed(Locate { path: rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Segment::Index(want), rest)) = self.path.split_first() else {
            return Ok(());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Locate { path: rest }).map(|_| ())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Reads a mapping key; with `fail_on_match`, fails at the key itself so the error has its line.
struct KeyIs<'a> {
    want: &'a str,
    fail_on_match: bool,
}

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        if key == self.want && self.fail_on_match {
            return Err(E::custom(MARKER));
        }
        Ok(key == self.want)
    }
    fn visit_bool<E: de::Error>(self, key: bool) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_i64<E: de::Error>(self, key: i64) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_u64<E: de::Error>(self, key: u64) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_f64<E: de::Error>(self, key: f64) -> Result<bool, E> {
        self.visit_str(&key.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.visit_str("null")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

/// Fails at whatever node it is handed, so the error carries that node's position.
struct Here;

impl<'de> Visitor<'de> for Here {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(MARKER))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(MARKER))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(MARKER))
    }
}

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
    fn locates_keys_items_and_parents() {
        let text = "namespace: x\nalb:\n  scheme: internal\n  subnets:\n    - a\n    - b\n";
        let at = |p: &str| locate(text, &FieldPath::keys(p));
        assert_eq!(at("namespace"), Some(1));
        assert_eq!(at("alb.scheme"), Some(3));
        assert_eq!(at("alb.subnets"), Some(4));
        let item = FieldPath(vec![
            Segment::Key("alb".into()),
            Segment::Key("subnets".into()),
            Segment::Index(1),
        ]);
        assert_eq!(locate(text, &item), Some(6));
        // A missing key falls back to its parent.
        assert_eq!(at("alb.nope"), Some(2));
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
}
