//! What each kind of sink sends for an alert, built from the alert alone
//! (and the dashboard's address for the link). Pure: the transports send
//! these as they are.

use marquee_shared::{Alert, Severity};
use serde_json::{Value, json};

use crate::common::time::format_rfc3339;

/// One line: "AAPL critical: price jump, z = +5.2 (|z| ≥ 4)"; a test
/// alert says so first.
pub fn headline(alert: &Alert, test: bool) -> String {
    let test = if test { "Test alert from Marquee: " } else { "" };
    format!("{test}{} {}: {}", alert.symbol, alert.severity.as_str(), alert.describe())
}

/// A Slack incoming-webhook message: a plain `text` (notifications, and
/// clients without blocks) and blocks with the figures and the link.
pub fn slack(alert: &Alert, dashboard: &str, test: bool) -> Value {
    let mark = match alert.severity {
        Severity::Critical => ":red_circle:",
        Severity::Warning => ":large_orange_circle:",
        Severity::Info => ":large_blue_circle:",
    };
    let text = format!("{mark} {}", headline(alert, test));
    json!({
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": format!(
                "{mark} *{}* · {} · `{}`\n{}\n*value* {} vs *threshold* {}",
                alert.symbol, alert.severity.as_str(), alert.kind.as_str(), alert.describe(),
                figure(alert.value), figure(alert.threshold),
            )}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
                "{} · <{dashboard}|open the Marquee dashboard>", format_rfc3339(alert.ts)
            )}]},
        ],
    })
}

/// The generic webhook's body, in the Standard Webhooks shape: a type, a
/// timestamp and the data (the alert with the dashboard's address).
pub fn webhook(alert: &Alert, dashboard: &str, test: bool) -> Value {
    json!({
        "type": if test { "alert.test" } else { "alert.raised" },
        "timestamp": format_rfc3339(alert.ts),
        "data": {
            "symbol": alert.symbol,
            "kind": alert.kind.as_str(),
            "severity": alert.severity.as_str(),
            "value": alert.value,
            "threshold": alert.threshold,
            "ts": alert.ts,
            "description": alert.describe(),
            "dashboard": dashboard,
        },
    })
}

/// An email's subject and plain-text body.
pub fn email(alert: &Alert, dashboard: &str, test: bool) -> (String, String) {
    let subject = format!("[Marquee] {}", headline(alert, test));
    let body = format!(
        "{}\n\nSymbol:    {}\nKind:      {}\nSeverity:  {}\nValue:     {}\nThreshold: {}\nTime:      {}\n\nDashboard: {dashboard}\n",
        alert.describe(),
        alert.symbol,
        alert.kind.as_str(),
        alert.severity.as_str(),
        figure(alert.value),
        figure(alert.threshold),
        format_rfc3339(alert.ts),
    );
    (subject, body)
}

fn figure(value: f64) -> String {
    format!("{value:.2}")
}

#[cfg(test)]
mod tests {
    use marquee_shared::AlertKind;

    use super::*;

    fn jump() -> Alert {
        Alert {
            symbol: "AAPL".into(),
            kind: AlertKind::PriceJump,
            severity: Severity::Critical,
            value: 5.214,
            threshold: 4.0,
            ts: 1_796_637_600_000_000_000,
        }
    }

    #[test]
    fn slack_says_symbol_kind_severity_value_threshold_and_links_the_dashboard() {
        let message = slack(&jump(), "https://marquee.example.com/", false);
        let text = message["text"].as_str().expect("text");
        assert_eq!(text, ":red_circle: AAPL critical: price jump, z = +5.2 (|z| ≥ 4)");
        let section = message["blocks"][0]["text"]["text"].as_str().expect("section");
        assert!(section.contains("*AAPL*") && section.contains("`price_jump`"), "{section}");
        assert!(section.contains("*value* 5.21 vs *threshold* 4.00"), "{section}");
        let context = message["blocks"][1]["elements"][0]["text"].as_str().expect("context");
        assert!(context.contains("<https://marquee.example.com/|open the Marquee dashboard>"), "{context}");
        assert!(context.starts_with("2026-12-07T10:00:00Z"), "{context}");
    }

    #[test]
    fn the_webhook_body_is_the_alert_in_the_standard_webhooks_shape() {
        let body = webhook(&jump(), "http://localhost:8080/", false);
        assert_eq!(body["type"], "alert.raised");
        assert_eq!(body["data"]["symbol"], "AAPL");
        assert_eq!(body["data"]["kind"], "price_jump");
        assert_eq!(body["data"]["severity"], "critical");
        assert_eq!(body["data"]["value"], 5.214);
        assert_eq!(body["data"]["dashboard"], "http://localhost:8080/");
    }

    #[test]
    fn an_email_has_a_headline_subject_and_every_figure() {
        let (subject, body) = email(&jump(), "http://localhost:8080/", false);
        assert_eq!(subject, "[Marquee] AAPL critical: price jump, z = +5.2 (|z| ≥ 4)");
        assert!(body.contains("Value:     5.21\nThreshold: 4.00"), "{body}");
        assert!(body.contains("Dashboard: http://localhost:8080/"), "{body}");
        let (subject, _) = email(&jump(), "http://localhost:8080/", true);
        assert!(subject.starts_with("[Marquee] Test alert from Marquee: AAPL"), "{subject}");
        assert_eq!(webhook(&jump(), "/", true)["type"], "alert.test");
    }
}
