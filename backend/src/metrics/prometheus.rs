//! `GET /metrics` in the Prometheus text exposition format (version 0.0.4).
//! Counters are read live; rates and latency quantiles come from the latest
//! sample, so they match `/health` and the dashboard.

use std::fmt::Write;

use marquee_shared::{FeedFigures, Metrics, SinkFigures, StageHealth, Status};

use super::PipelineStats;
use super::latency::WINDOW_SECS;

/// The content type Prometheus expects for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A per-stage figure only some stages have: name, type, help, reader.
type OptionalFamily = (&'static str, &'static str, &'static str, fn(&StageHealth) -> Option<f64>);

pub fn render(stats: &PipelineStats, sample: &Metrics) -> String {
    let mut out = String::with_capacity(4096);
    let mut w = Writer { out: &mut out };

    w.family("marquee_uptime_seconds", "gauge", "Seconds since the process started.");
    w.value("marquee_uptime_seconds", &[], stats.uptime_ms() as f64 / 1e3);
    w.family("marquee_clients", "gauge", "WebSocket clients connected now.");
    w.value("marquee_clients", &[], stats.clients.get() as f64);
    edge(&mut w, &stats.edge);

    // Each stage's state read once, so every family shows the same moment.
    let stages = stats.stages();
    let healths: Vec<_> = stages.iter().map(|stage| stage.health()).collect();
    w.family("marquee_stage_up", "gauge", "1 when the stage is up, 0.5 when degraded, 0 when down.");
    for health in &healths {
        let up = match health.status {
            Status::Up => 1.0,
            Status::Degraded => 0.5,
            Status::Down => 0.0,
        };
        w.value("marquee_stage_up", &[("stage", &health.name)], up);
    }
    for (name, help, read) in [
        ("marquee_stage_processed_total", "Messages the stage has handled.", Counter::Processed),
        (
            "marquee_stage_dropped_total",
            "Messages the stage skipped (e.g. conflated for slow clients).",
            Counter::Dropped,
        ),
        ("marquee_stage_errors_total", "Failures the stage counted.", Counter::Errors),
    ] {
        w.family(name, "counter", help);
        for health in &healths {
            let value = match read {
                Counter::Processed => health.processed,
                Counter::Dropped => health.dropped,
                Counter::Errors => health.errors,
            };
            w.value(name, &[("stage", &health.name)], value as f64);
        }
    }
    w.family("marquee_stage_rate", "gauge", "Messages handled per second over the last sample interval.");
    for stage in &sample.stages {
        w.value("marquee_stage_rate", &[("stage", &stage.name)], stage.rate);
    }
    w.family("marquee_stage_error_rate", "gauge", "Errors per second over the last sample interval.");
    for stage in &sample.stages {
        w.value("marquee_stage_error_rate", &[("stage", &stage.name)], stage.error_rate);
    }
    let optional: [OptionalFamily; 8] = [
        ("marquee_stage_buffer_fill_ratio", "gauge", "How full the stage's buffer is, 0 to 1.", |h| {
            h.buffer_fill
        }),
        ("marquee_stage_flushes_total", "counter", "Batches the stage has written.", |h| {
            h.flushes.map(|n| n as f64)
        }),
        (
            "marquee_kafka_producer_queue",
            "gauge",
            "Messages waiting in the stage's Kafka producer (librdkafka).",
            |h| h.queue.map(|n| n as f64),
        ),
        (
            "marquee_kafka_consumer_lag",
            "gauge",
            "Messages the stage's Kafka consumer has yet to read (librdkafka).",
            |h| h.lag.map(|n| n as f64),
        ),
        (
            "marquee_kafka_producer_in_flight_ticks",
            "gauge",
            "Ticks the stage's Kafka producer has sent and the brokers have not confirmed yet.",
            |h| h.in_flight.map(|n| n as f64),
        ),
        ("marquee_kafka_producer_in_flight_bytes", "gauge", "Payload bytes of the records in flight.", |h| {
            h.in_flight_bytes.map(|n| n as f64)
        }),
        (
            "marquee_kafka_consumer_batches_total",
            "counter",
            "Batches the stage's Kafka consumer has read (messages per batch: batch_messages_total over this).",
            |h| h.batches.map(|n| n as f64),
        ),
        ("marquee_kafka_consumer_batch_messages_total", "counter", "Messages read in those batches.", |h| {
            h.batched.map(|n| n as f64)
        }),
    ];
    // Only the stages that have the figure get a line.
    for (name, kind, help, read) in optional {
        w.family(name, kind, help);
        for health in &healths {
            if let Some(value) = read(health) {
                w.value(name, &[("stage", &health.name)], value);
            }
        }
    }

    let help = format!(
        "Age of a tick (event time to hand-off) when the stage is done with it; quantiles over the last {WINDOW_SECS} s. \
         The gateway's is end to end (event time to WebSocket send)."
    );
    w.family("marquee_tick_age_seconds", "summary", &help);
    for (stage, health) in stages.iter().zip(&healths) {
        let name = &health.name;
        let sampled = sample.stages.iter().find(|s| &s.name == name).and_then(|s| s.latency);
        if let Some(latency) = sampled {
            for (quantile, ms) in
                [("0.5", latency.p50_ms), ("0.95", latency.p95_ms), ("0.99", latency.p99_ms)]
            {
                w.value("marquee_tick_age_seconds", &[("stage", name), ("quantile", quantile)], ms / 1e3);
            }
        }
        let (count, sum) = stage.latency.totals();
        w.value("marquee_tick_age_seconds_sum", &[("stage", name)], sum);
        w.value("marquee_tick_age_seconds_count", &[("stage", name)], count as f64);
    }
    feeds(&mut w, &sample.feeds);
    sinks(&mut w, &sample.sinks);
    out
}

/// The alert sinks, as of the latest sample (none without `--alerts-config`).
fn sinks(w: &mut Writer<'_>, sinks: &[SinkFigures]) {
    if sinks.is_empty() {
        return;
    }
    let name = "marquee_alert_deliveries_total";
    w.family(
        name,
        "counter",
        "Alerts per sink: delivered, failed (given up after the last try) or dropped (queue full).",
    );
    for sink in sinks {
        for (outcome, count) in
            [("delivered", sink.delivered), ("failed", sink.failed), ("dropped", sink.dropped)]
        {
            w.value(name, &[("sink", &sink.name), ("kind", &sink.kind), ("outcome", outcome)], count as f64);
        }
    }
    type Read = fn(&SinkFigures) -> f64;
    let families: [(&str, &str, &str, Read); 3] = [
        ("marquee_alert_delivery_retries_total", "counter", "Delivery attempts after the first.", |s| {
            s.retries as f64
        }),
        ("marquee_alert_queue_depth", "gauge", "Alerts waiting in the sink's queue.", |s| s.queued as f64),
        (
            "marquee_alert_sink_up",
            "gauge",
            "1 when the sink's last attempt succeeded (or none was made), 0 when it failed.",
            |s| {
                if s.last.as_ref().is_none_or(|last| last.ok) { 1.0 } else { 0.0 }
            },
        ),
    ];
    for (name, kind, help, read) in families {
        w.family(name, kind, help);
        for sink in sinks {
            w.value(name, &[("sink", &sink.name), ("kind", &sink.kind)], read(sink));
        }
    }
}

/// The venues' feeds, as of the latest sample (none without `--source`).
fn feeds(w: &mut Writer<'_>, feeds: &[FeedFigures]) {
    if feeds.is_empty() {
        return;
    }
    type Read = fn(&FeedFigures) -> f64;
    let families: [(&str, &str, &str, Read); 10] = [
        (
            "marquee_feed_up",
            "gauge",
            "1 when the feed is connected, 0.5 while it (re)connects, 0 when refused.",
            |f| match f.status {
                Status::Up => 1.0,
                Status::Degraded => 0.5,
                Status::Down => 0.0,
            },
        ),
        ("marquee_feed_messages_total", "counter", "Frames the feed has received.", |f| f.messages as f64),
        ("marquee_feed_trades_total", "counter", "Trades the feed turned into ticks.", |f| f.trades as f64),
        ("marquee_feed_reconnects_total", "counter", "Times the feed connected again.", |f| {
            f.reconnects as f64
        }),
        ("marquee_feed_gaps_total", "counter", "Jumps in the venue's trade ids.", |f| f.gaps as f64),
        ("marquee_feed_missed_trades_total", "counter", "Trades those jumps skipped.", |f| f.missed as f64),
        ("marquee_feed_duplicates_total", "counter", "Trades received again and dropped.", |f| {
            f.duplicates as f64
        }),
        ("marquee_feed_bad_frames_total", "counter", "Frames the feed could not read.", |f| {
            f.bad_frames as f64
        }),
        ("marquee_feed_messages_rate", "gauge", "Frames a second over the last sample interval.", |f| {
            f.messages_per_s
        }),
        ("marquee_feed_trades_rate", "gauge", "Trades a second over the last sample interval.", |f| {
            f.trades_per_s
        }),
    ];
    for (name, kind, help, read) in families {
        w.family(name, kind, help);
        for feed in feeds {
            w.value(name, &[("venue", &feed.venue)], read(feed));
        }
    }
    let help = format!("Receipt time minus the venue's trade time; quantiles over the last {WINDOW_SECS} s.");
    w.family("marquee_feed_latency_seconds", "summary", &help);
    for feed in feeds {
        if let Some(latency) = feed.latency {
            for (quantile, ms) in
                [("0.5", latency.p50_ms), ("0.95", latency.p95_ms), ("0.99", latency.p99_ms)]
            {
                w.value(
                    "marquee_feed_latency_seconds",
                    &[("venue", &feed.venue), ("quantile", quantile)],
                    ms / 1e3,
                );
            }
        }
    }
}

/// The gateway's connection figures.
fn edge(w: &mut Writer<'_>, edge: &super::edge::EdgeStats) {
    w.family("marquee_gateway_connections", "gauge", "TCP connections open now, WebSockets included.");
    w.value("marquee_gateway_connections", &[], edge.connections() as f64);
    w.family(
        "marquee_gateway_dropped_total",
        "counter",
        "Messages dropped from slow WebSocket clients' queues (each conflation replaces them by a snapshot).",
    );
    w.value("marquee_gateway_dropped_total", &[], edge.dropped() as f64);
    w.family("marquee_gateway_conflations_total", "counter", "Times a slow WebSocket client was conflated.");
    w.value("marquee_gateway_conflations_total", &[], edge.conflations() as f64);
    w.family("marquee_gateway_disconnects_total", "counter", "WebSocket sessions ended, by reason.");
    for (reason, count) in edge.disconnects() {
        w.value("marquee_gateway_disconnects_total", &[("reason", reason.as_str())], count as f64);
    }
    w.family(
        "marquee_gateway_refused_total",
        "counter",
        "Connections refused or cut before they were served, by reason.",
    );
    for (reason, count) in edge.refusals() {
        w.value("marquee_gateway_refused_total", &[("reason", reason.as_str())], count as f64);
    }
}

#[derive(Debug, Clone, Copy)]
enum Counter {
    Processed,
    Dropped,
    Errors,
}

struct Writer<'a> {
    out: &'a mut String,
}

impl Writer<'_> {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.out, "# HELP {name} {}\n# TYPE {name} {kind}", escape_help(help));
    }

    fn value(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (key, label)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{key}=\"{}\"", escape_label(label));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", format_value(value));
    }
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_help_are_escaped_and_values_formatted() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(format_value(1.5), "1.5");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        let mut out = String::new();
        Writer { out: &mut out }.value("m", &[("stage", "x\"y"), ("quantile", "0.5")], 2.0);
        assert_eq!(out, "m{stage=\"x\\\"y\",quantile=\"0.5\"} 2\n");
    }

    #[test]
    fn edge_counters_are_exposed_by_reason() {
        let stats = PipelineStats::new();
        stats.edge.conflated(5);
        stats.edge.disconnected(super::super::edge::Disconnect::Stalled);
        let text = render(&stats, &Metrics::default());
        assert!(text.contains("marquee_gateway_dropped_total 5\n"), "{text}");
        assert!(text.contains("marquee_gateway_conflations_total 1\n"), "{text}");
        assert!(text.contains("marquee_gateway_disconnects_total{reason=\"stalled\"} 1\n"), "{text}");
        assert!(text.contains("marquee_gateway_disconnects_total{reason=\"too_large\"} 0\n"), "{text}");
    }

    #[test]
    fn kafka_figures_appear_only_for_stages_that_have_them() {
        let stats = PipelineStats::new();
        stats.driver.set_queue(12);
        stats.receiver.set_lag(340);
        stats.driver.set_in_flight(1_500, 300_000);
        stats.receiver.add_batch(10);
        stats.receiver.add_batch(30);
        let text = render(&stats, &Metrics::default());
        assert!(text.contains("marquee_kafka_producer_queue{stage=\"driver\"} 12\n"), "{text}");
        assert!(text.contains("marquee_kafka_consumer_lag{stage=\"receiver\"} 340\n"), "{text}");
        assert!(text.contains("marquee_kafka_producer_in_flight_ticks{stage=\"driver\"} 1500\n"), "{text}");
        assert!(text.contains("marquee_kafka_producer_in_flight_bytes{stage=\"driver\"} 300000\n"), "{text}");
        assert!(text.contains("marquee_kafka_consumer_batches_total{stage=\"receiver\"} 2\n"), "{text}");
        assert!(
            text.contains("marquee_kafka_consumer_batch_messages_total{stage=\"receiver\"} 40\n"),
            "{text}"
        );
        assert_eq!(
            text.matches("marquee_kafka_consumer_lag{").count(),
            1,
            "no lag for stages without a consumer"
        );
    }
}
