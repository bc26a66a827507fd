//! A small model of a Grafana dashboard, written for reading: a board is a title, its variables
//! and a list of panels laid out left to right on Grafana's 24-column grid. [`Board::to_json`]
//! turns it into the dashboard JSON Grafana 13 provisions from files (schemaVersion 41), through
//! `serde_json` only.
//!
//! Every panel queries the board's `datasource` variable, so one board works on the in-cluster
//! Prometheus and on an AMP workspace alike.

use serde_json::{Value, json};

/// Grafana's grid is 24 columns wide.
const GRID_WIDTH: u8 = 24;

/// The panel types eksmon uses; all are core React panels of Grafana 13 (no Angular).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    TimeSeries,
    Stat,
    Gauge,
    BarGauge,
    Table,
    Heatmap,
}

impl Kind {
    pub(crate) fn grafana_type(self) -> &'static str {
        match self {
            Kind::TimeSeries => "timeseries",
            Kind::Stat => "stat",
            Kind::Gauge => "gauge",
            Kind::BarGauge => "bargauge",
            Kind::Table => "table",
            Kind::Heatmap => "heatmap",
        }
    }

    /// Panels that show one current value per series query the latest sample only.
    fn instant(self) -> bool {
        matches!(
            self,
            Kind::Stat | Kind::Gauge | Kind::BarGauge | Kind::Table
        )
    }
}

/// Grafana's unit ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// A plain number.
    Short,
    /// A ratio from 0 to 1, shown as a percentage.
    Ratio,
    Bytes,
    BytesPerSecond,
    Seconds,
    PerSecond,
    Cores,
}

impl Unit {
    fn grafana_id(self) -> &'static str {
        match self {
            Unit::Short | Unit::Cores => "short",
            Unit::Ratio => "percentunit",
            Unit::Bytes => "bytes",
            Unit::BytesPerSecond => "Bps",
            Unit::Seconds => "s",
            Unit::PerSecond => "ops",
        }
    }
}

/// One PromQL query of a panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub expr: String,
    /// Grafana's legend template (`{{pod}}`); empty: Grafana's default.
    pub legend: String,
}

/// A link from a panel (or a table column) to another eksmon dashboard, carrying the data
/// source and the variables it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub title: &'static str,
    /// The target board's uid.
    pub uid: &'static str,
    /// `(variable, value)` pairs; the value is a Grafana template (`${__field.labels.namespace}`).
    pub vars: Vec<(&'static str, &'static str)>,
    /// For tables: the column whose cells link; `None`: the whole panel.
    pub column: Option<&'static str>,
}

/// One panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    pub title: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    pub unit: Unit,
    pub queries: Vec<Query>,
    /// Width in grid columns (of 24) and height in grid rows.
    pub width: u8,
    pub height: u8,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `(value, colour)` steps above the base colour; empty: one colour.
    pub thresholds: Vec<(f64, &'static str)>,
    pub stacked: bool,
    pub links: Vec<Link>,
}

impl Panel {
    fn new(kind: Kind, title: &'static str, unit: Unit) -> Self {
        let (width, height) = match kind {
            Kind::Stat | Kind::Gauge => (4, 4),
            Kind::Table => (24, 8),
            _ => (12, 8),
        };
        Self {
            title,
            description: "",
            kind,
            unit,
            queries: Vec::new(),
            width,
            height,
            min: None,
            max: None,
            thresholds: Vec::new(),
            stacked: false,
            links: Vec::new(),
        }
    }

    pub(crate) fn timeseries(title: &'static str, unit: Unit) -> Self {
        Self::new(Kind::TimeSeries, title, unit)
    }
    pub(crate) fn stat(title: &'static str, unit: Unit) -> Self {
        Self::new(Kind::Stat, title, unit)
    }
    pub(crate) fn gauge(title: &'static str, unit: Unit) -> Self {
        Self::new(Kind::Gauge, title, unit).range(0.0, 1.0)
    }
    pub(crate) fn bargauge(title: &'static str, unit: Unit) -> Self {
        Self::new(Kind::BarGauge, title, unit)
    }
    pub(crate) fn table(title: &'static str, unit: Unit) -> Self {
        Self::new(Kind::Table, title, unit)
    }
    pub(crate) fn heatmap(title: &'static str) -> Self {
        Self::new(Kind::Heatmap, title, Unit::Seconds)
    }
    /// Adds a query; `legend` is Grafana's legend template.
    pub(crate) fn query(mut self, expr: impl Into<String>, legend: &str) -> Self {
        self.queries.push(Query {
            expr: expr.into(),
            legend: legend.to_owned(),
        });
        self
    }
    pub(crate) fn about(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }
    pub(crate) fn size(mut self, width: u8, height: u8) -> Self {
        self.width = width.min(GRID_WIDTH);
        self.height = height;
        self
    }
    pub(crate) fn range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    /// Green below the first step, then each colour from its value up.
    pub(crate) fn steps(mut self, steps: &[(f64, &'static str)]) -> Self {
        self.thresholds = steps.to_vec();
        self
    }
    pub(crate) fn stacked(mut self) -> Self {
        self.stacked = true;
        self
    }
    pub(crate) fn link(mut self, link: Link) -> Self {
        self.links.push(link);
        self
    }
}

/// A dashboard variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Variable {
    pub name: &'static str,
    pub label: &'static str,
    /// A Grafana Prometheus variable query (`label_values(metric{…}, label)`).
    pub query: String,
    pub multi: bool,
    pub include_all: bool,
    /// A fixed list of values instead of a query (a Grafana custom variable).
    pub custom: &'static [&'static str],
}

impl Variable {
    pub(crate) fn one(name: &'static str, label: &'static str, query: impl Into<String>) -> Self {
        Self {
            name,
            label,
            query: query.into(),
            multi: false,
            include_all: false,
            custom: &[],
        }
    }
    /// One of a fixed list of values.
    pub(crate) fn custom(
        name: &'static str,
        label: &'static str,
        values: &'static [&'static str],
    ) -> Self {
        Self {
            custom: values,
            ..Self::one(name, label, String::new())
        }
    }
    /// Several values at once, "All" first.
    pub(crate) fn many(name: &'static str, label: &'static str, query: impl Into<String>) -> Self {
        Self {
            multi: true,
            include_all: true,
            ..Self::one(name, label, query)
        }
    }
}

/// One dashboard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Board {
    pub uid: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub tags: Vec<&'static str>,
    pub variables: Vec<Variable>,
    pub panels: Vec<Panel>,
}

/// The data source the boards default to, and the plugin type their variable lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataSource<'a> {
    /// The data source plugin (`prometheus`, or the AMP plugin).
    pub plugin: &'a str,
    /// The uid of the one selected by default.
    pub uid: &'a str,
}

impl Board {
    pub(crate) fn new(uid: &'static str, title: &'static str, description: &'static str) -> Self {
        Self {
            uid,
            title,
            description,
            tags: vec!["eksmon"],
            variables: Vec::new(),
            panels: Vec::new(),
        }
    }
    pub(crate) fn tag(mut self, tag: &'static str) -> Self {
        self.tags.push(tag);
        self
    }
    pub(crate) fn variable(mut self, variable: Variable) -> Self {
        self.variables.push(variable);
        self
    }
    pub(crate) fn panel(mut self, panel: Panel) -> Self {
        self.panels.push(panel);
        self
    }
    pub(crate) fn panels(mut self, panels: impl IntoIterator<Item = Panel>) -> Self {
        self.panels.extend(panels);
        self
    }

    /// The dashboard JSON Grafana provisions.
    pub(crate) fn to_json(&self, source: DataSource<'_>) -> Value {
        let panel_source = json!({"type": source.plugin, "uid": "${datasource}"});
        let mut templating = vec![json!({
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": source.plugin,
            "current": {"text": source.uid, "value": source.uid},
            "hide": 0,
            "refresh": 1,
            "options": [],
        })];
        templating.extend(
            self.variables
                .iter()
                .map(|v| variable_json(v, &panel_source)),
        );
        let panels: Vec<Value> = layout(&self.panels)
            .into_iter()
            .enumerate()
            .map(|(index, (panel, x, y))| panel_json(panel, index + 1, (x, y), &panel_source))
            .collect();
        json!({
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "editable": true,
            "graphTooltip": 1,
            "schemaVersion": 41,
            "version": 1,
            "timezone": "browser",
            "time": {"from": "now-6h", "to": "now"},
            "refresh": "1m",
            "annotations": {"list": []},
            "links": [{
                "title": "eksmon dashboards",
                "type": "dashboards",
                "tags": ["eksmon"],
                "asDropdown": true,
                "includeVars": false,
                "keepTime": true,
            }],
            "templating": {"list": templating},
            "panels": panels,
        })
    }
}

/// Places panels left to right, starting a new line when a panel would not fit; each line is
/// as tall as its tallest panel.
fn layout(panels: &[Panel]) -> Vec<(&Panel, u8, u32)> {
    let (mut x, mut y, mut line_height) = (0u8, 0u32, 0u32);
    let mut placed = Vec::with_capacity(panels.len());
    for panel in panels {
        if x + panel.width > GRID_WIDTH {
            x = 0;
            y += line_height;
            line_height = 0;
        }
        placed.push((panel, x, y));
        x += panel.width;
        line_height = line_height.max(u32::from(panel.height));
    }
    placed
}

fn variable_json(v: &Variable, source: &Value) -> Value {
    if !v.custom.is_empty() {
        let options: Vec<Value> = v
            .custom
            .iter()
            .enumerate()
            .map(|(i, value)| json!({"text": value, "value": value, "selected": i == 0}))
            .collect();
        return json!({
            "name": v.name,
            "label": v.label,
            "type": "custom",
            "query": v.custom.join(","),
            "current": {"text": v.custom[0], "value": v.custom[0]},
            "options": options,
            "multi": false,
            "includeAll": false,
            "hide": 0,
        });
    }
    json!({
        "name": v.name,
        "label": v.label,
        "type": "query",
        "datasource": source,
        "definition": v.query,
        "query": {"query": v.query, "refId": format!("{}-variable", v.name)},
        "refresh": 2,
        "sort": 1,
        "multi": v.multi,
        "includeAll": v.include_all,
        "allValue": if v.include_all { Value::from(".+") } else { Value::Null },
        "current": {},
        "options": [],
        "hide": 0,
    })
}

fn panel_json(panel: &Panel, id: usize, (x, y): (u8, u32), source: &Value) -> Value {
    let grid = json!({"x": x, "y": y, "w": panel.width, "h": panel.height});
    let instant = panel.kind.instant();
    let targets: Vec<Value> = panel
        .queries
        .iter()
        .zip(b'A'..)
        .map(|(query, ref_id)| {
            json!({
                "refId": char::from(ref_id).to_string(),
                "datasource": source,
                "expr": query.expr,
                "legendFormat": if query.legend.is_empty() { "__auto" } else { &query.legend },
                "instant": instant,
                "range": !instant,
                "format": match panel.kind {
                    Kind::Table => "table",
                    Kind::Heatmap => "heatmap",
                    _ => "time_series",
                },
            })
        })
        .collect();
    let mut defaults = json!({
        "unit": panel.unit.grafana_id(),
        "links": panel_links(panel),
    });
    if panel.unit == Unit::Cores {
        defaults["decimals"] = json!(2);
    }
    if let Some(min) = panel.min {
        defaults["min"] = json!(min);
    }
    if let Some(max) = panel.max {
        defaults["max"] = json!(max);
    }
    let mut steps = vec![json!({"color": "green", "value": null})];
    steps.extend(
        panel
            .thresholds
            .iter()
            .map(|(value, color)| json!({"color": color, "value": value})),
    );
    defaults["thresholds"] = json!({"mode": "absolute", "steps": steps});
    if panel.kind == Kind::TimeSeries {
        defaults["custom"] = json!({
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": if panel.stacked { 30 } else { 10 },
            "showPoints": "never",
            "spanNulls": false,
            "stacking": {"mode": if panel.stacked { "normal" } else { "none" }, "group": "A"},
        });
    }
    json!({
        "id": id,
        "type": panel.kind.grafana_type(),
        "title": panel.title,
        "description": panel.description,
        "gridPos": grid,
        "datasource": source,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": column_links(panel)},
        "options": panel_options(panel),
        "transformations": if panel.kind == Kind::Table && panel.queries.len() > 1 {
            json!([{"id": "merge", "options": {}}])
        } else {
            json!([])
        },
    })
}

/// The `options` each panel type reads.
fn panel_options(panel: &Panel) -> Value {
    let reduce = json!({"calcs": ["lastNotNull"], "fields": "", "values": false});
    match panel.kind {
        Kind::TimeSeries => json!({
            "legend": {"displayMode": "table", "placement": "right", "showLegend": true, "calcs": ["mean", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }),
        Kind::Stat => {
            json!({"reduceOptions": reduce, "colorMode": "value", "graphMode": "area", "textMode": "auto", "justifyMode": "auto", "orientation": "auto"})
        }
        Kind::Gauge => {
            json!({"reduceOptions": reduce, "showThresholdMarkers": true, "showThresholdLabels": false})
        }
        Kind::BarGauge => {
            json!({"reduceOptions": reduce, "displayMode": "gradient", "orientation": "horizontal", "showUnfilled": true})
        }
        Kind::Table => json!({"showHeader": true, "cellHeight": "sm", "footer": {"show": false}}),
        Kind::Heatmap => json!({
            "calculate": false,
            "yAxis": {"unit": panel.unit.grafana_id()},
            "color": {"mode": "scheme", "scheme": "Oranges"},
            "cellGap": 1,
        }),
    }
}

fn link_json(link: &Link) -> Value {
    let mut url = format!(
        "/d/{}?${{__url_time_range}}&var-datasource=${{datasource}}",
        link.uid
    );
    for (name, value) in &link.vars {
        url += &format!("&var-{name}={value}");
    }
    json!({"title": link.title, "url": url, "targetBlank": false})
}

/// Links of the whole panel (a table's column links are overrides).
fn panel_links(panel: &Panel) -> Vec<Value> {
    panel
        .links
        .iter()
        .filter(|l| l.column.is_none())
        .map(link_json)
        .collect()
}

/// Table columns that link: one override per column, matched by field name.
fn column_links(panel: &Panel) -> Vec<Value> {
    panel
        .links
        .iter()
        .filter_map(|l| {
            let column = l.column?;
            Some(json!({
                "matcher": {"id": "byName", "options": column},
                "properties": [{"id": "links", "value": [link_json(l)]}],
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_wrap_at_the_grid_width() {
        let panels = vec![
            Panel::stat("a", Unit::Short).size(12, 4),
            Panel::stat("b", Unit::Short).size(12, 6),
            Panel::stat("c", Unit::Short).size(8, 4),
        ];
        let placed: Vec<(u8, u32)> = layout(&panels).iter().map(|(_, x, y)| (*x, *y)).collect();
        assert_eq!(placed, vec![(0, 0), (12, 0), (0, 6)]);
    }

    #[test]
    fn json_names_the_variable_data_source_everywhere() {
        let board = Board::new("u", "T", "")
            .variable(Variable::one("node", "Node", "label_values(up, node)"))
            .panel(Panel::timeseries("p", Unit::Bytes).query("up", "{{node}}"));
        let json = board.to_json(DataSource {
            plugin: "prometheus",
            uid: "prometheus",
        });
        assert_eq!(
            json["templating"]["list"][0]["current"]["value"],
            "prometheus"
        );
        assert_eq!(json["panels"][0]["datasource"]["uid"], "${datasource}");
        assert_eq!(
            json["panels"][0]["targets"][0]["datasource"]["uid"],
            "${datasource}"
        );
        assert_eq!(
            json["templating"]["list"][1]["datasource"]["uid"],
            "${datasource}"
        );
        assert_eq!(json["panels"][0]["gridPos"]["w"], 12);
    }

    #[test]
    fn links_carry_the_data_source_and_the_variables() {
        let link = Link {
            title: "Namespace",
            uid: "eksmon-namespace",
            vars: vec![("namespace", "${__data.fields.namespace}")],
            column: Some("namespace"),
        };
        let panel = Panel::table("t", Unit::Short).query("x", "").link(link);
        let overrides = column_links(&panel);
        let url = overrides[0]["properties"][0]["value"][0]["url"]
            .as_str()
            .unwrap();
        assert_eq!(
            url,
            "/d/eksmon-namespace?${__url_time_range}&var-datasource=${datasource}&var-namespace=${__data.fields.namespace}"
        );
        assert!(
            panel_links(&panel).is_empty(),
            "a column link is not a panel link"
        );
    }
}
