use std::collections::HashMap;
use std::net::SocketAddr;

use super::*;

const LISTEN: &str = "127.0.0.1:8080";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| vars.get(name).cloned()
}

fn read(text: &str, vars: &[(&str, &str)]) -> Result<NotifyConfig, String> {
    let listen: SocketAddr = LISTEN.parse().expect("addr");
    parse(text, Path::new("alerts.toml"), listen, &env(vars))
}

#[test]
fn three_sinks_with_their_rules_and_secrets_from_the_environment() {
    let text = r#"
        dashboard_url = "https://marquee.example.com/"
        [delivery]
        attempts = 3
        backoff_first = "500ms"
        backoff_max = "30s"
        queue = 50

        [[sink]]
        name = "desk"
        type = "slack"
        min_severity = "critical"
        symbols = ["aapl", "MSFT"]
        kinds = ["price_jump"]
        cooldown = "10m"

        [[sink]]
        name = "ops"
        type = "webhook"
        url_env = "OPS_HOOK"

        [[sink]]
        name = "oncall"
        type = "email"
        smtp_host = "smtp.example.com"
        username = "alerts"
        from = "Marquee <alerts@example.com>"
        to = ["oncall@example.com"]
    "#;
    let config = read(
        text,
        &[
            ("MARQUEE_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/XYZ"),
            ("OPS_HOOK", "https://ops.example.com/hook"),
            ("MARQUEE_WEBHOOK_SECRET", SECRET),
            ("MARQUEE_SMTP_PASSWORD", "smtp-password-7"),
        ],
    )
    .expect("valid");
    assert_eq!(config.dashboard, "https://marquee.example.com/");
    assert_eq!(
        (config.policy.attempts, config.policy.first, config.queue),
        (3, Duration::from_millis(500), 50)
    );
    let kinds: Vec<(&str, &str)> =
        config.sinks.iter().map(|s| (s.name.as_str(), s.transport.kind())).collect();
    assert_eq!(kinds, [("desk", "slack"), ("ops", "webhook"), ("oncall", "email")]);
    let desk = &config.sinks[0].rules;
    assert_eq!(desk.min_severity, Severity::Critical);
    assert_eq!(desk.symbols, Some(["AAPL".to_owned(), "MSFT".to_owned()].into()), "symbols upper-cased");
    assert_eq!(desk.cooldown, Duration::from_secs(600));
    assert_eq!(
        config.sinks[1].rules,
        Rules::default(),
        "the defaults: warning and up, everything, 5 minutes"
    );
    let shown = format!("{config:?}");
    for secret in ["XYZ", "ops.example.com", "MfKQ9r8", "smtp-password-7"] {
        assert!(!shown.contains(secret), "{secret} shown: {shown}");
    }
}

#[test]
fn what_is_wrong_is_said() {
    let slack = "[[sink]]\nname = \"desk\"\ntype = \"slack\"\n";
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 7] = [
        (slack, &[], "set MARQUEE_SLACK_WEBHOOK_URL in the environment"),
        (slack, &[("MARQUEE_SLACK_WEBHOOK_URL", "hooks.slack.com/x")], "not an http(s) URL"),
        ("[[sink]]\nname = \"x\"\ntype = \"pager\"\n", &[], "unknown variant `pager`"),
        ("[[sink]]\nname = \"x\"\ntype = \"slack\"\nurl = \"https://x\"\n", &[], "unknown field `url`"),
        (
            "[[sink]]\nname = \"x\"\ntype = \"webhook\"\n",
            &[("MARQUEE_WEBHOOK_URL", "https://x.example"), ("MARQUEE_WEBHOOK_SECRET", "hunter2")],
            "MARQUEE_WEBHOOK_SECRET: a webhook secret starts with whsec_",
        ),
        (
            "[[sink]]\nname = \"x\"\ntype = \"email\"\nsmtp_host = \"smtp.example.com\"\ntls = \"none\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\n",
            &[],
            "only for a relay on this machine",
        ),
        (
            "[[sink]]\nname = \"x\"\ntype = \"slack\"\ncooldown = \"soon\"\n",
            &[("MARQUEE_SLACK_WEBHOOK_URL", "https://x.example")],
            "not a duration",
        ),
    ];
    for (text, vars, says) in cases {
        let err = read(text, vars).expect_err(says);
        assert!(err.contains(says), "{says:?} not in {err:?}");
    }
    // A secret where a variable's name belongs, or in a field of its own: never repeated.
    let leaked = "https://hooks.slack.com/services/T0/B0/SECRETPART";
    for text in [
        format!("[[sink]]\nname = \"x\"\ntype = \"slack\"\nurl_env = \"{leaked}\"\n"),
        format!("[[sink]]\nname = \"x\"\ntype = \"slack\"\nurl = \"{leaked}\"\n"),
    ] {
        let err = read(&text, &[]).expect_err("refused");
        assert!(!err.contains("SECRETPART"), "{err}");
    }
    let twice = format!("{slack}{slack}");
    let err = read(&twice, &[("MARQUEE_SLACK_WEBHOOK_URL", "https://x.example")]).expect_err("twice");
    assert!(err.contains("a name of its own"), "{err}");
}

#[test]
fn no_file_no_sinks_and_the_default_link_is_this_server() {
    let config = NotifyArgs::default().to_config(LISTEN.parse().expect("addr"), &env(&[])).expect("none");
    assert!(config.sinks.is_empty());
    let config = read("", &[]).expect("empty");
    assert_eq!(config.dashboard, "http://127.0.0.1:8080/");
}
