use super::*;

#[test]
fn backoff_doubles_to_its_cap_with_jitter() {
    let settings = FeedSettings::new("ws://x".into());
    for attempt in 1..40 {
        let full =
            settings.backoff_first.saturating_mul(1 << (attempt - 1).min(16)).min(settings.backoff_max);
        let wait = route::backoff(&settings, attempt);
        assert!(wait >= full / 2 && wait <= full, "attempt {attempt}: {wait:?} of {full:?}");
    }
}
