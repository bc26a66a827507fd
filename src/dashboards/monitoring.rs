//! The boards about the monitoring itself: Prometheus (targets, ingestion, storage, rules,
//! remote write) and Alertmanager (alerts, notifications, silences).

use super::model::{Board, Panel, Unit};
use super::{ALERTMANAGER, PROMETHEUS, uid};

pub(super) fn prometheus() -> Board {
    let prom = PROMETHEUS;
    Board::new(
        uid::PROMETHEUS,
        "Prometheus",
        "The in-cluster Prometheus: which targets it reaches, how much it ingests and stores against its size limit, how long its rules and queries take, and remote write to AMP.",
    )
    .tag("monitoring")
    .panel(
        Panel::stat("Targets down", Unit::Short)
            .query("count(up == 0) or vector(0)", "")
            .steps(&[(1.0, "orange")]),
    )
    .panel(Panel::stat("Series in memory", Unit::Short).query(format!("max(prometheus_tsdb_head_series{{{prom}}})"), ""))
    .panel(Panel::stat("Samples ingested", Unit::PerSecond).query(format!("sum(rate(prometheus_tsdb_head_samples_appended_total{{{prom}}}[5m]))"), ""))
    .panel(
        Panel::gauge("Storage used of its size limit", Unit::Ratio)
            .about("Past 100% Prometheus deletes its oldest blocks: it keeps less history than its retention time says.")
            .query(format!("max(prometheus_tsdb_storage_blocks_bytes{{{prom}}}) / max(prometheus_tsdb_retention_limit_bytes{{{prom}}} > 0)"), "")
            .steps(&[(0.8, "orange"), (0.95, "red")]),
    )
    .panel(
        Panel::stat("Rule evaluation failures (1h)", Unit::Short)
            .query(format!("sum(increase(prometheus_rule_evaluation_failures_total{{{prom}}}[1h])) or vector(0)"), "")
            .steps(&[(1.0, "red")]),
    )
    .panel(
        Panel::stat("Config loaded", Unit::Short)
            .about("1: the last configuration reload worked.")
            .query(format!("min(prometheus_config_last_reload_successful{{{prom}}})"), "")
            .steps(&[(0.0, "red"), (1.0, "green")]),
    )
    .panel(
        Panel::table("Targets by job", Unit::Short)
            .query("count by (job) (up == 1)", "up")
            .query("count by (job) (up == 0)", "down")
            .size(12, 8),
    )
    .panel(
        Panel::timeseries("Scrape duration by job (slowest target)", Unit::Seconds)
            .query("max by (job) (scrape_duration_seconds)", "{{job}}"),
    )
    .panel(
        Panel::timeseries("Samples per scrape by job", Unit::Short)
            .query("sum by (job) (scrape_samples_post_metric_relabeling)", "{{job}}")
            .stacked(),
    )
    .panel(
        Panel::timeseries("Series in memory", Unit::Short)
            .query(format!("max(prometheus_tsdb_head_series{{{prom}}})"), "series")
            .query(format!("max(rate(prometheus_tsdb_head_series_created_total{{{prom}}}[5m])) * 60"), "created per minute"),
    )
    .panel(
        Panel::timeseries("Storage", Unit::Bytes)
            .query(format!("max(prometheus_tsdb_storage_blocks_bytes{{{prom}}})"), "blocks")
            .query(format!("max(prometheus_tsdb_retention_limit_bytes{{{prom}}} > 0)"), "size limit"),
    )
    .panel(
        Panel::timeseries("Rule group duration against its interval", Unit::Ratio)
            .about("Above 100% a group cannot finish before its next run and evaluations are skipped.")
            .query(format!("max by (rule_group) (prometheus_rule_group_last_duration_seconds{{{prom}}} / prometheus_rule_group_interval_seconds{{{prom}}})"), "{{rule_group}}"),
    )
    .panel(
        Panel::timeseries("Query duration (p90)", Unit::Seconds)
            .query(format!("max by (slice) (prometheus_engine_query_duration_seconds{{{prom},quantile=\"0.9\"}})"), "{{slice}}"),
    )
    .panel(
        Panel::timeseries("Remote write", Unit::PerSecond)
            .about("Only with `amp`: samples sent to the workspace, and those that failed or were dropped.")
            .query(format!("sum by (url) (rate(prometheus_remote_storage_samples_total{{{prom}}}[5m]))"), "{{url}} sent")
            .query(format!("sum by (url) (rate(prometheus_remote_storage_samples_failed_total{{{prom}}}[5m]))"), "{{url}} failed")
            .query(format!("sum by (url) (rate(prometheus_remote_storage_samples_dropped_total{{{prom}}}[5m]))"), "{{url}} dropped"),
    )
    .panel(
        Panel::timeseries("Memory and CPU", Unit::Bytes)
            .query(format!("max(process_resident_memory_bytes{{{prom}}})"), "resident memory")
            .query(format!("max(go_memstats_heap_inuse_bytes{{{prom}}})"), "Go heap in use"),
    )
}

pub(super) fn alertmanager() -> Board {
    let am = ALERTMANAGER;
    Board::new(
        uid::ALERTMANAGER,
        "Alertmanager",
        "eksmon's Alertmanager: the alerts it holds, the notifications it sends to each receiver type and the ones that fail, and silences.",
    )
    .tag("monitoring")
    .panel(Panel::stat("Alerts firing", Unit::Short).query(format!("max(alertmanager_alerts{{{am},state=\"active\"}}) or vector(0)"), "").size(6, 4))
    .panel(Panel::stat("Alerts silenced", Unit::Short).query(format!("max(alertmanager_alerts{{{am},state=\"suppressed\"}}) or vector(0)"), "").size(6, 4))
    .panel(Panel::stat("Silences active", Unit::Short).query(format!("max(alertmanager_silences{{{am},state=\"active\"}}) or vector(0)"), "").size(6, 4))
    .panel(
        Panel::stat("Notifications failing", Unit::Ratio)
            .query(format!("sum(rate(alertmanager_notifications_failed_total{{{am}}}[5m])) / sum(rate(alertmanager_notifications_total{{{am}}}[5m]))"), "")
            .steps(&[(0.01, "red")])
            .size(6, 4),
    )
    .panel(
        Panel::timeseries("Alerts received", Unit::PerSecond)
            .query(format!("sum by (status) (rate(alertmanager_alerts_received_total{{{am}}}[5m]))"), "{{status}}"),
    )
    .panel(
        Panel::timeseries("Notifications by receiver type", Unit::PerSecond)
            .query(format!("sum by (integration) (rate(alertmanager_notifications_total{{{am}}}[5m]))"), "{{integration}} sent")
            .query(format!("sum by (integration) (rate(alertmanager_notifications_failed_total{{{am}}}[5m]))"), "{{integration}} failed"),
    )
    .panel(
        Panel::timeseries("Notification latency (p99)", Unit::Seconds)
            .query(format!("histogram_quantile(0.99, sum by (integration, le) (rate(alertmanager_notification_latency_seconds_bucket{{{am}}}[5m])))"), "{{integration}}"),
    )
    .panel(
        Panel::timeseries("Alerts held", Unit::Short)
            .query(format!("max by (state) (alertmanager_alerts{{{am}}})"), "{{state}}")
            .stacked(),
    )
}
