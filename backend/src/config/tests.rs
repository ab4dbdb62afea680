use super::*;
use crate::kafka::settings::KafkaSettingsError;
use crate::sns::settings::SnsSettingsError;

fn args(extra: &[&str]) -> ServeArgs {
    let mut argv = vec!["marquee", "serve"];
    argv.extend_from_slice(extra);
    match Cli::try_parse_from(argv).expect("flags parse").command {
        Command::Serve(args) => *args,
        other => panic!("not serve: {other:?}"),
    }
}

fn config(extra: &[&str]) -> Result<Config, ConfigError> {
    Config::from_parts(args(extra), Secrets::default())
}

/// A process of a split deployment: with the cluster secret.
fn member(extra: &[&str]) -> Result<Config, ConfigError> {
    let secrets =
        Secrets { cluster_secret: Some(Secret::new("a cluster secret for tests")), ..Secrets::default() };
    Config::from_parts(args(extra), secrets)
}

#[test]
fn for_tests_matches_the_command_line_defaults() {
    let parsed = config(&[]).expect("valid");
    let fixed = Config::for_tests("data");
    assert_eq!(parsed.tick_interval, fixed.tick_interval);
    assert_eq!(parsed.volatility, fixed.volatility);
    assert_eq!(parsed.time_scale, fixed.time_scale);
    assert_eq!(parsed.static_dir, fixed.static_dir);
    assert_eq!(parsed.client_queue, fixed.client_queue);
    assert_eq!(parsed.buffer, fixed.buffer);
    assert_eq!(parsed.edge, fixed.edge);
    assert_eq!(parsed.data_dir, fixed.data_dir);
    assert_eq!(parsed.threshold, fixed.threshold);
    assert_eq!((parsed.jump_probability, parsed.jump_size), (fixed.jump_probability, fixed.jump_size));
    assert_eq!(parsed.load_demo, fixed.load_demo);
    assert_eq!(parsed.alphavantage.url, fixed.alphavantage.url);
    assert_eq!(parsed.alphavantage.requests_per_minute, fixed.alphavantage.requests_per_minute);
    assert_eq!(parsed.alphavantage.backoff, fixed.alphavantage.backoff);
}

#[test]
fn defaults_are_valid_and_stream_the_whole_universe() {
    let parsed = config(&[]).expect("valid");
    assert_eq!(parsed.tick_interval, Duration::from_millis(100));
    assert_eq!(parsed.symbols.len(), demo_universe::SYMBOLS.len());
}

#[test]
fn symbols_are_matched_case_insensitively_and_unknown_ones_refused() {
    let parsed = config(&["--symbols", "aapl,MSFT"]).expect("valid");
    let tickers: Vec<_> = parsed.symbols.iter().map(|s| s.ticker).collect();
    assert_eq!(tickers, ["AAPL", "MSFT"]);

    let err = config(&["--symbols", "AAPL,NOPE"]).expect_err("unknown");
    assert!(err.to_string().contains("\"NOPE\""), "{err}");
}

#[test]
fn out_of_range_numbers_are_refused() {
    assert!(matches!(config(&["--tick-interval-ms", "0"]), Err(ConfigError::TickInterval(0))));
    assert!(matches!(config(&["--volatility=-1"]), Err(ConfigError::Volatility(_))));
    assert!(matches!(config(&["--volatility", "NaN"]), Err(ConfigError::Volatility(_))));
    assert!(matches!(config(&["--time-scale", "0"]), Err(ConfigError::TimeScale(_))));
    assert!(matches!(config(&["--client-queue", "0"]), Err(ConfigError::ClientQueue(0))));
}

#[test]
fn the_demo_loads_by_default_only_without_an_api_key() {
    let with_key =
        Secrets { alphavantage_api_key: Some(Secret::new("k")), operator_token: None, ..Secrets::default() };
    assert!(Config::from_parts(args(&[]), Secrets::default()).expect("valid").load_demo);
    assert!(!Config::from_parts(args(&[]), with_key.clone()).expect("valid").load_demo);
    assert!(Config::from_parts(args(&["--demo", "on"]), with_key).expect("valid").load_demo);
    assert!(!config(&["--demo", "off"]).expect("valid").load_demo);
}

#[test]
fn thresholds_and_jumps_are_checked() {
    assert!(matches!(config(&["--threshold", "0"]), Err(ConfigError::Threshold(0))));
    assert!(matches!(config(&["--buffer-capacity", "10", "--flush-batch", "11"]), Err(ConfigError::Buffer)));
    assert!(matches!(config(&["--jump-probability", "1.5"]), Err(ConfigError::Jumps(..))));
    assert_eq!(config(&["--threshold", "3"]).expect("valid").threshold, 3);
}

#[test]
fn secrets_never_show_in_debug_output() {
    let secrets = Secrets {
        alphavantage_api_key: Some(Secret::new("hunter2")),
        operator_token: None,
        ..Secrets::default()
    };
    let shown = format!("{secrets:?}");
    assert!(!shown.contains("hunter2") && shown.contains("redacted"), "{shown}");
}

/// The engine's own error a configuration was refused with.
fn refused_by<E: std::error::Error + Clone + 'static>(result: Result<Config, ConfigError>) -> E {
    match result {
        Err(ConfigError::Engine(error)) => error.downcast_ref::<E>().expect("refused by that engine").clone(),
        other => panic!("expected an engine's refusal, got {other:?}"),
    }
}

#[test]
fn a_process_runs_every_role_unless_told_and_a_split_needs_kafka() {
    let all = config(&[]).expect("defaults");
    assert!(all.cluster.roles.is_all());
    assert!(all.cluster.engines.kafka.is_none() && all.cluster.engines.sns.is_none());
    let split = config(&["--role", "receiver"]);
    assert!(
        matches!(&split, Err(ConfigError::SplitNeedsLinks(roles, _)) if roles == "receiver"),
        "{split:?}"
    );
    let message = split.expect_err("refused").to_string();
    assert!(message.contains("--kafka-brokers"), "{message}");
    let gateway = ["--role", "gateway", "--kafka-brokers", "k:9092"];
    let open = [&gateway[..], &["--listen", "0.0.0.0:8080", "--insecure-open"]].concat();
    let unreachable = member(&open);
    assert!(matches!(unreachable, Err(ConfigError::AdvertiseNeeded(_))), "{unreachable:?}");
    let advertised = member(&[&open[..], &["--advertise-url", "http://gateway:8080/"]].concat());
    assert_eq!(advertised.expect("valid").cluster.advertise_url.as_deref(), Some("http://gateway:8080"));

    // Without the cluster secret, or with a guessable one, it cannot join.
    let alone = config(&gateway);
    assert!(matches!(&alone, Err(ConfigError::SplitNeedsSecret(roles)) if roles == "gateway"), "{alone:?}");
    assert!(alone.expect_err("refused").to_string().contains("MARQUEE_CLUSTER_SECRET"));
    let weak = Secrets { cluster_secret: Some(Secret::new("hunter2")), ..Secrets::default() };
    let weak = Config::from_parts(args(&gateway), weak);
    assert!(matches!(weak, Err(ConfigError::WeakClusterSecret)), "{weak:?}");
    assert!(member(&gateway).expect("valid").cluster.key.is_some());
    // One process running everything needs none.
    assert!(config(&["--kafka-brokers", "k:9092"]).expect("valid").cluster.key.is_none());
    let unknown = Cli::try_parse_from(["marquee", "serve", "--role", "broker"]);
    assert!(unknown.is_err(), "an unknown role is refused by the parser");
}

#[test]
fn kafka_and_sns_settings_are_checked() {
    member(&["--role", "driver,ingest", "--kafka-brokers", "k:9092"]).expect("valid");
    let bad_topic = config(&["--kafka-brokers", "k:9092", "--kafka-ticks-topic", "ticks/all"]);
    assert_eq!(refused_by::<KafkaSettingsError>(bad_topic), KafkaSettingsError::Name("ticks/all".into()));
    let bad_option = config(&["--kafka-brokers", "k:9092", "--kafka-options", "acks"]);
    assert_eq!(refused_by::<KafkaSettingsError>(bad_option), KafkaSettingsError::Option("acks".into()));
    let c = member(&["--role", "gateway", "--kafka-brokers", "k:9092", "--kafka-options", "a=1,b = 2"])
        .expect("valid");
    let kafka = c.cluster.engines.kafka.expect("kafka");
    assert_eq!(kafka.options, [("a".to_owned(), "1".to_owned()), ("b".to_owned(), "2".to_owned())]);
    assert_eq!(kafka.ticks_topic, "marquee.ticks");
    assert!(c.cluster.roles.has(Role::Gateway) && !c.cluster.roles.has(Role::Driver));
    let bad_arn = config(&["--sns-topic-arn", "marquee-events"]);
    assert!(matches!(refused_by::<SnsSettingsError>(bad_arn), SnsSettingsError::TopicArn(_)));
    let c = config(&[
        "--sns-topic-arn",
        "arn:aws:sns:eu-west-1:123456789012:events",
        "--sns-verify",
        "false",
        "--sns-endpoint",
        "http://127.0.0.1:4566",
    ])
    .expect("valid");
    let sns = c.cluster.engines.sns.expect("sns");
    assert_eq!((sns.region.as_str(), sns.verify), ("eu-west-1", false));
    assert!(
        config(&["--sns-topic-arn", "arn:aws:sns:eu-west-1:1:e"])
            .expect("valid")
            .cluster
            .engines
            .sns
            .expect("sns")
            .verify,
        "on by default"
    );
    let sns = |extra: &[&str]| {
        config(&[&["--sns-topic-arn", "arn:aws:sns:eu-west-1:1:e"][..], extra].concat())
            .map(|c| c.cluster.engines.sns.expect("sns"))
    };
    assert!(!sns(&[]).expect("valid").require_sha256, "SHA1 taken until SHA256 is seen");
    assert!(sns(&["--sns-signature-version", "2"]).expect("valid").require_sha256);
    assert!(!sns(&["--sns-signature-version", "1"]).expect("valid").require_sha256);
    for bad in ["0", "3", "sha256"] {
        assert!(Cli::try_parse_from(["marquee", "serve", "--sns-signature-version", bad]).is_err(), "{bad}");
    }
}

#[test]
fn sns_verify_false_is_refused_unless_the_emulator_is_on_this_machine() {
    let topic = ["--sns-topic-arn", "arn:aws:sns:us-east-1:123456789012:events", "--sns-verify", "false"];
    let with = |extra: &[&str]| config(&[&topic[..], extra].concat());

    let refused = with(&[]);
    let message = refused.as_ref().expect_err("refused").to_string();
    assert_eq!(refused_by::<SnsSettingsError>(refused), SnsSettingsError::Unverified(None), "real AWS");
    assert!(message.contains("--sns-verify false") && message.contains("127.0.0.1"), "{message}");
    for endpoint in ["http://sns:5000", "https://sns.us-east-1.amazonaws.com", "http://10.0.0.5:4566"] {
        let refused = with(&["--sns-endpoint", endpoint]);
        let refused = refused_by::<SnsSettingsError>(refused);
        assert!(matches!(refused, SnsSettingsError::Unverified(Some(_))), "{endpoint}: {refused:?}");
    }
    for endpoint in ["http://127.0.0.1:4566", "http://localhost:4566", "http://[::1]:4566"] {
        let sns =
            with(&["--sns-endpoint", endpoint]).expect("an emulator here").cluster.engines.sns.expect("sns");
        assert!(!sns.verify, "{endpoint}");
    }
    // An emulator elsewhere on purpose (docker-compose.yml), but never real AWS.
    with(&["--sns-endpoint", "http://sns:5000", "--insecure-sns-emulator"]).expect("said so");
    let refused = with(&["--insecure-sns-emulator"]);
    assert_eq!(refused_by::<SnsSettingsError>(refused), SnsSettingsError::Unverified(None));
    // Checks on need no emulator.
    config(&topic[..2]).expect("verified");
}

#[test]
fn a_server_reachable_from_the_network_needs_a_token_or_insecure_open() {
    for listen in ["0.0.0.0:8080", "[::]:8080", "192.168.1.5:8080"] {
        let open = config(&["--listen", listen]);
        assert!(matches!(open, Err(ConfigError::OpenOnNetwork(_))), "{listen}: {open:?}");
        let message = open.expect_err("refused").to_string();
        assert!(
            message.contains("MARQUEE_OPERATOR_TOKEN") && message.contains("--insecure-open"),
            "{message}"
        );
        config(&["--listen", listen, "--insecure-open"]).expect("open on purpose");
        let secrets =
            Secrets { operator_token: Some(crate::config::Secret::new("t0ken")), ..Secrets::default() };
        Config::from_parts(args(&["--listen", listen]), secrets).expect("with a token");
    }
    config(&["--listen", "127.0.0.1:8080"]).expect("loopback needs no token");
    config(&["--listen", "[::1]:8080"]).expect("loopback needs no token");
}
