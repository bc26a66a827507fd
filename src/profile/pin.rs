//! Moving a chart pin (`charts.NAME.version`) inside a profile's text, keeping everything else
//! (comments, order, quoting, flow or block style) byte for byte.

use crate::field_path::FieldPath;
use crate::yaml::{self, Value};

/// `text` with `charts.<chart>.version` set to `version`: the scalar replaced where the file
/// sets it, else the key added (under an existing block-style `charts:`/`<chart>:`, or as a new
/// `charts:` block at the end). The result is parsed back and must differ from `text` in that one
/// field only.
pub fn set_chart_version(text: &str, chart: &str, version: &str) -> Result<String, String> {
    let field = FieldPath::keys(&format!("charts.{chart}.version"));
    let edited = match yaml::locate_value(text, &field) {
        Some((line, column)) => replace_scalar(text, line, column, version)?,
        None => insert_version(text, chart, version)?,
    };
    check_edit(text, &edited, chart, version)?;
    Ok(edited)
}

/// Replaces the plain or quoted scalar starting at (`line`, `column`), 1-based.
fn replace_scalar(text: &str, line: usize, column: usize, version: &str) -> Result<String, String> {
    let start_of_line: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_text = text[start_of_line..].lines().next().unwrap_or_default();
    let offset = line_text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(i, _)| i)
        .ok_or("the pinned version is not where the parser said")?;
    let rest = &line_text[offset..];
    let (length, replacement) = match rest.chars().next() {
        Some(quote @ ('\'' | '"')) => {
            let close = rest[1..]
                .find(quote)
                .ok_or("the pinned version's quote is not closed on its line")?;
            (close + 2, format!("{quote}{version}{quote}"))
        }
        Some(_) => {
            let end = rest
                .find(|c: char| c == ',' || c == '}' || c == ']' || c.is_whitespace())
                .unwrap_or(rest.len());
            (end, version.to_owned())
        }
        None => return Err("the pinned version is written over several lines".into()),
    };
    let at = start_of_line + offset;
    Ok(format!(
        "{}{replacement}{}",
        &text[..at],
        &text[at + length..]
    ))
}

/// Adds `version:` where the file has no pin for `chart`.
fn insert_version(text: &str, chart: &str, version: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let key_line = |indent: usize, key: &str, from: usize| {
        (from..lines.len()).find(|&i| {
            let line = lines[i];
            let trimmed = line.trim_start();
            line.len() - trimmed.len() == indent && is_block_key(trimmed, key)
        })
    };
    let indent_of = |i: usize| lines[i].len() - lines[i].trim_start().len();
    // The indentation of the first child line after `i`, else `parent + 2`.
    let child_indent = |i: usize, parent: usize| {
        lines[i + 1..]
            .iter()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| l.len() - l.trim_start().len())
            .filter(|&n| n > parent)
            .unwrap_or(parent + 2)
    };
    let insert_after = |i: usize, block: String| {
        let mut out: String = lines[..=i].concat();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out += &block;
        out += &lines[i + 1..].concat();
        out
    };
    let Some(charts) = key_line(0, "charts", 0) else {
        if yaml::locate_value(text, &FieldPath::keys("charts")).is_some() {
            return Err("`charts` is written in flow style; set the version there by hand".into());
        }
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out += &format!("charts:\n  {chart}:\n    version: {version}\n");
        return Ok(out);
    };
    let step = child_indent(charts, 0);
    let chart_line = key_line(step, chart, charts + 1).filter(|&i| {
        // Only a key of this `charts:` block, not of a later top-level key.
        !lines[charts + 1..i]
            .iter()
            .any(|l| !l.trim().is_empty() && !l.starts_with(' ') && !l.starts_with('#'))
    });
    match chart_line {
        Some(i) => {
            let indent = child_indent(i, indent_of(i));
            Ok(insert_after(
                i,
                format!("{}version: {version}\n", " ".repeat(indent)),
            ))
        }
        None if yaml::locate_value(text, &FieldPath::keys(&format!("charts.{chart}")))
            .is_some() =>
        {
            Err(format!(
                "`charts.{chart}` is written in flow style; set the version there by hand"
            ))
        }
        None => Ok(insert_after(
            charts,
            format!(
                "{pad}{chart}:\n{pad}{pad}version: {version}\n",
                pad = " ".repeat(step)
            ),
        )),
    }
}

/// `key:` opening a block (nothing but a comment after the colon).
fn is_block_key(line: &str, key: &str) -> bool {
    let Some(rest) = line.strip_prefix(key) else {
        return false;
    };
    let Some(rest) = rest.trim_start_matches(' ').strip_prefix(':') else {
        return false;
    };
    let rest = rest.trim();
    rest.is_empty() || rest.starts_with('#')
}

/// The edited text must mean the original with that one field set.
fn check_edit(before: &str, after: &str, chart: &str, version: &str) -> Result<(), String> {
    let parse = |t: &str| {
        yaml::parse(t).map_err(|e| format!("the edited profile is not valid YAML: {}", e.message))
    };
    let mut expected = match parse(before)? {
        Value::Null => Value::Mapping(crate::yaml::Mapping::new()),
        value => value,
    };
    let pin = crate::yaml::nest(
        vec!["charts".into(), chart.into(), "version".into()],
        Value::String(version.into()),
    );
    crate::yaml::merge(&mut expected, pin);
    if parse(after)? == expected {
        Ok(())
    } else {
        Err("editing the profile in place would change more than the pin".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_pin_where_it_is_written() {
        let text = "# team profile\ncharts:\n  prometheus:\n    repo: https://x.io  # mirror\n    version: 29.27.0   # pinned on 2026-11-01\n  grafana: {name: grafana, version: '12.11.1'}\nnamespace: mon\n";
        let moved = set_chart_version(text, "prometheus", "30.1.0").unwrap();
        assert_eq!(moved, text.replace("29.27.0 ", "30.1.0 "));
        let moved = set_chart_version(text, "grafana", "13.0.0").unwrap();
        assert_eq!(moved, text.replace("'12.11.1'", "'13.0.0'"));
    }

    #[test]
    fn adds_the_pin_where_the_file_has_none() {
        let text =
            "namespace: mon\ncharts:\n    prometheus:\n        repo: https://x.io\nexposure: nlb\n";
        assert_eq!(
            set_chart_version(text, "prometheus", "30.0.0").unwrap(),
            "namespace: mon\ncharts:\n    prometheus:\n        version: 30.0.0\n        repo: https://x.io\nexposure: nlb\n"
        );
        assert_eq!(
            set_chart_version(text, "grafana", "13.0.0").unwrap(),
            "namespace: mon\ncharts:\n    grafana:\n        version: 13.0.0\n    prometheus:\n        repo: https://x.io\nexposure: nlb\n"
        );
        assert_eq!(
            set_chart_version("namespace: mon # ns", "grafana", "13.0.0").unwrap(),
            "namespace: mon # ns\ncharts:\n  grafana:\n    version: 13.0.0\n"
        );
    }

    #[test]
    fn refuses_what_it_cannot_edit_safely() {
        let flow = "charts: {grafana: {name: grafana}}\n";
        assert!(
            set_chart_version(flow, "grafana", "13.0.0")
                .unwrap_err()
                .contains("flow style")
        );
        let nested_flow = "charts:\n  grafana: {name: grafana}\n";
        assert!(
            set_chart_version(nested_flow, "grafana", "13.0.0")
                .unwrap_err()
                .contains("flow style")
        );
    }
}
