//! Which labels a PromQL expression's results carry, given the series the scrape targets
//! really have, and every place an expression asks for a label that is not there.
//!
//! Label *names* flow through the parsed expression (promql-parser): a selector picks the
//! targets and metrics whose labels can satisfy its matchers; `by`, `without`, `on`,
//! `ignoring`, `group_left`, `label_replace` and `histogram_quantile` change the set as
//! Prometheus does. Values are known only for target labels (`job`, the Service's labels), which
//! is what selectors pick exporters by.

use super::targets::Target;
use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr, LabelModifier, VectorMatchCardinality, VectorSelector};
use std::collections::{BTreeMap, BTreeSet};

pub(super) type Labels = BTreeSet<String>;

/// One metric an exporter exposes, and its own labels.
#[derive(Debug, Clone)]
pub(super) struct Metric {
    pub labels: Labels,
}

/// The series that exist: every target, and what its exporter exposes.
pub(super) struct World<'a> {
    pub targets: &'a [Target],
    /// Exporter → metric name → metric.
    pub catalogs: &'a BTreeMap<String, BTreeMap<String, Metric>>,
    /// Recorded series: name → the label sets they may carry.
    pub recorded: BTreeMap<String, Vec<Labels>>,
}

/// What an expression yields: a scalar, or vectors with one of these label sets each.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    Scalar,
    Vector(Vec<Labels>),
}

impl Shape {
    fn sets(&self) -> Vec<Labels> {
        match self {
            Shape::Scalar => Vec::new(),
            Shape::Vector(sets) => sets.clone(),
        }
    }
}

fn dedup(mut sets: Vec<Labels>) -> Vec<Labels> {
    sets.sort();
    sets.dedup();
    sets
}

/// What is known of a label on a series.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// The series lacks it: its value is "".
    Absent,
    /// It has it, with a value not known here (the exporter's own labels).
    Unknown,
    Known(&'a str),
}

/// Whether a matcher can hold for a label with `value`.
fn can_match(matcher: &Matcher, value: Value<'_>) -> bool {
    match value {
        // A Grafana variable (`$namespace`) stands for a value the label really has.
        Value::Absent if matcher.value.contains('$') => false,
        Value::Absent => matcher.is_match(""),
        Value::Unknown => true,
        Value::Known(_) if matcher.value.contains('$') => true,
        Value::Known(value) => matcher.is_match(value),
    }
}

impl World<'_> {
    /// Parses and walks `expr`, pushing each problem onto `problems`.
    pub(super) fn shape_of(&self, expr: &str, problems: &mut Vec<String>) -> Shape {
        match parser::parse(expr) {
            Ok(ast) => self.walk(&ast, problems),
            Err(err) => {
                problems.push(format!("does not parse: {err}"));
                Shape::Scalar
            }
        }
    }

    fn select(&self, selector: &VectorSelector, problems: &mut Vec<String>) -> Shape {
        let name_matchers: Vec<&Matcher> = selector
            .matchers
            .matchers
            .iter()
            .filter(|m| m.name == "__name__")
            .collect();
        let names_ok = |metric: &str| {
            selector.name.as_deref().is_none_or(|n| n == metric)
                && name_matchers.iter().all(|m| m.is_match(metric))
        };
        let matchers: Vec<&Matcher> = selector
            .matchers
            .matchers
            .iter()
            .filter(|m| m.name != "__name__")
            .collect();
        for m in &matchers {
            if m.name == "job"
                && m.op == MatchOp::Equal
                && !self.targets.iter().any(|t| t.job == m.value)
            {
                problems.push(format!("job=\"{}\" is not a rendered scrape job", m.value));
            }
        }
        let mut sets = Vec::new();
        for (name, recorded) in &self.recorded {
            if names_ok(name) {
                for set in recorded {
                    let value = |m: &Matcher| {
                        if set.contains(&m.name) {
                            Value::Unknown
                        } else {
                            Value::Absent
                        }
                    };
                    if matchers.iter().all(|m| can_match(m, value(m))) {
                        sets.push(set.clone());
                    }
                }
            }
        }
        let synthetic = &self.catalogs["synthetic"];
        for target in self.targets {
            let exposed = self.catalogs.get(&target.exporter);
            let metrics = exposed.into_iter().flatten().chain(synthetic);
            for (name, metric) in metrics {
                if !names_ok(name) {
                    continue;
                }
                let mut labels: Labels = target.labels.keys().cloned().collect();
                for own in &metric.labels {
                    if target.labels.contains_key(own) && !target.honor_labels {
                        labels.insert(format!("exported_{own}"));
                    }
                    labels.insert(own.clone());
                }
                let fits = matchers.iter().all(|m| {
                    let own = metric.labels.contains(&m.name);
                    match target.labels.get(&m.name) {
                        // A value the series itself may override (honor_labels) is not known.
                        Some(value) if !(own && target.honor_labels) => {
                            can_match(m, Value::Known(value))
                        }
                        _ if own => can_match(m, Value::Unknown),
                        _ => can_match(m, Value::Absent),
                    }
                });
                if fits {
                    sets.push(labels);
                }
            }
        }
        if sets.is_empty() {
            problems.push(format!(
                "`{selector}` matches no series of the rendered jobs"
            ));
        }
        Shape::Vector(dedup(sets))
    }

    fn need(&self, labels: &[String], sets: &[Labels], what: &str, problems: &mut Vec<String>) {
        for label in labels {
            if let Some(set) = sets.iter().find(|s| !s.contains(label)) {
                problems.push(format!(
                    "{what} `{label}`, which some input lacks (it has {set:?})"
                ));
            }
        }
    }

    fn walk(&self, expr: &Expr, problems: &mut Vec<String>) -> Shape {
        match expr {
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => Shape::Scalar,
            Expr::VectorSelector(selector) => self.select(selector, problems),
            Expr::MatrixSelector(matrix) => self.select(&matrix.vs, problems),
            Expr::Paren(paren) => self.walk(&paren.expr, problems),
            Expr::Unary(unary) => self.walk(&unary.expr, problems),
            Expr::Subquery(sub) => self.walk(&sub.expr, problems),
            Expr::Aggregate(aggregate) => self.aggregate(aggregate, problems),
            Expr::Binary(binary) => self.binary(binary, problems),
            Expr::Call(call) => self.call(call, problems),
        }
    }

    fn aggregate(&self, aggregate: &parser::AggregateExpr, problems: &mut Vec<String>) -> Shape {
        let input = self.walk(&aggregate.expr, problems).sets();
        let op = aggregate.op.to_string();
        let keeps_labels = matches!(op.as_str(), "topk" | "bottomk" | "limitk" | "limit_ratio");
        let mut extra = Vec::new();
        if op == "count_values"
            && let Some(param) = &aggregate.param
            && let Expr::StringLiteral(label) = param.as_ref()
        {
            extra.push(label.val.clone());
        }
        let out = match &aggregate.modifier {
            Some(LabelModifier::Include(by)) => {
                self.need(&by.labels, &input, &format!("{op} by"), problems);
                if keeps_labels {
                    input
                } else {
                    vec![by.labels.iter().cloned().chain(extra).collect()]
                }
            }
            Some(LabelModifier::Exclude(without)) => input
                .iter()
                .map(|s| {
                    s.iter()
                        .filter(|l| !without.labels.contains(l))
                        .cloned()
                        .chain(extra.clone())
                        .collect()
                })
                .collect(),
            None if keeps_labels => input,
            None => vec![extra.into_iter().collect()],
        };
        Shape::Vector(dedup(out))
    }

    fn binary(&self, binary: &parser::BinaryExpr, problems: &mut Vec<String>) -> Shape {
        let lhs = self.walk(&binary.lhs, problems);
        let rhs = self.walk(&binary.rhs, problems);
        let (left, right) = match (&lhs, &rhs) {
            (Shape::Scalar, Shape::Scalar) => return Shape::Scalar,
            (Shape::Scalar, vector) | (vector, Shape::Scalar) => return vector.clone(),
            (Shape::Vector(l), Shape::Vector(r)) => (l.clone(), r.clone()),
        };
        let op = binary.op.to_string();
        let modifier = binary.modifier.as_ref();
        let on = modifier.and_then(|m| m.matching.as_ref());
        if let Some(LabelModifier::Include(on)) = on {
            self.need(&on.labels, &left, "on", problems);
            self.need(&on.labels, &right, "on", problems);
        }
        let card = modifier.map(|m| &m.card);
        let out = match (op.as_str(), card) {
            ("or", _) => left.into_iter().chain(right).collect(),
            ("and" | "unless", _) => left,
            (_, Some(VectorMatchCardinality::ManyToOne(extra))) => {
                self.need(&extra.labels, &right, "group_left", problems);
                left.into_iter()
                    .map(|s| s.into_iter().chain(extra.labels.clone()).collect())
                    .collect()
            }
            (_, Some(VectorMatchCardinality::OneToMany(extra))) => {
                self.need(&extra.labels, &left, "group_right", problems);
                right
                    .into_iter()
                    .map(|s| s.into_iter().chain(extra.labels.clone()).collect())
                    .collect()
            }
            // One-to-one: `on` keeps only its labels, `ignoring` drops its own.
            _ => match on {
                Some(LabelModifier::Include(on)) => vec![on.labels.iter().cloned().collect()],
                Some(LabelModifier::Exclude(ignoring)) => left
                    .into_iter()
                    .map(|s| {
                        s.into_iter()
                            .filter(|l| !ignoring.labels.contains(l))
                            .collect()
                    })
                    .collect(),
                None => left,
            },
        };
        Shape::Vector(dedup(out))
    }

    fn call(&self, call: &parser::Call, problems: &mut Vec<String>) -> Shape {
        let args: Vec<&Expr> = call.args.args.iter().map(AsRef::as_ref).collect();
        let text = |i: usize| match args.get(i) {
            Some(Expr::StringLiteral(s)) => s.val.clone(),
            _ => String::new(),
        };
        let shapes: Vec<Shape> = args.iter().map(|a| self.walk(a, problems)).collect();
        let vector = shapes.iter().find_map(|s| match s {
            Shape::Vector(sets) => Some(sets.clone()),
            Shape::Scalar => None,
        });
        match call.func.name {
            "time" | "scalar" | "pi" => Shape::Scalar,
            "vector" => Shape::Vector(vec![Labels::new()]),
            "absent" | "absent_over_time" => {
                let selector = match args.first() {
                    Some(Expr::VectorSelector(vs)) => Some(vs),
                    Some(Expr::MatrixSelector(ms)) => Some(&ms.vs),
                    _ => None,
                };
                let labels = selector
                    .map(|vs| {
                        vs.matchers
                            .matchers
                            .iter()
                            .filter(|m| m.op == MatchOp::Equal && m.name != "__name__")
                            .map(|m| m.name.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                Shape::Vector(vec![labels])
            }
            "label_replace" | "label_join" => {
                let sets = vector.unwrap_or_default();
                let sources: Vec<String> = if call.func.name == "label_replace" {
                    vec![text(3)]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect()
                } else {
                    (3..args.len()).map(text).collect()
                };
                self.need(
                    &sources,
                    &sets,
                    &format!("{} reads", call.func.name),
                    problems,
                );
                let destination = text(1);
                Shape::Vector(
                    sets.into_iter()
                        .map(|mut s| {
                            s.insert(destination.clone());
                            s
                        })
                        .collect(),
                )
            }
            "histogram_quantile" => {
                let sets = vector.unwrap_or_default();
                self.need(
                    &["le".to_owned()],
                    &sets,
                    "histogram_quantile needs",
                    problems,
                );
                Shape::Vector(dedup(
                    sets.into_iter()
                        .map(|mut s| {
                            s.remove("le");
                            s
                        })
                        .collect(),
                ))
            }
            _ => vector.map_or(Shape::Scalar, Shape::Vector),
        }
    }
}

/// `{{label}}` references in a Grafana legend or `$labels.label` in an alert's annotation.
pub(super) fn referenced(template: &str, alert: bool) -> Vec<String> {
    let pattern = if alert {
        r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)"
    } else {
        r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}"
    };
    regex::Regex::new(pattern)
        .unwrap()
        .captures_iter(template)
        .map(|c| c[1].to_owned())
        .collect()
}

/// Labels some result of `shape` lacks.
pub(super) fn missing(shape: &Shape, labels: &[String]) -> Vec<String> {
    let sets = shape.sets();
    labels
        .iter()
        .filter(|l| sets.is_empty() || sets.iter().any(|s| !s.contains(*l)))
        .cloned()
        .collect()
}
