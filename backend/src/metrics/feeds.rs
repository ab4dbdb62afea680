//! The venues' feeds as the sampler sees them: each measures itself once a
//! sample ([`FeedMeter`], implemented by the driver's feeds) and appears on
//! `/health` as a dependency made of those figures.

use marquee_shared::{Dependency, FeedFigures};

/// A feed the sampler measures.
pub trait FeedMeter: Send + Sync + std::fmt::Debug {
    /// Its figures now; rates over the `elapsed_s` seconds since the last call.
    fn measure(&self, elapsed_s: f64) -> FeedFigures;
}

/// The feed on `/health`: its state and its counts in words.
pub fn dependency(feed: &FeedFigures) -> Dependency {
    let latency = feed.latency.map_or_else(String::new, |l| {
        format!(", feed latency p50 {:.1} ms p99 {:.1} ms", l.p50_ms, l.p99_ms)
    });
    let detail = format!(
        "{}: {}; {} trades ({:.1}/s), {} messages ({:.1}/s), {} reconnects, {} gaps ({} trades missed), \\
         {} duplicates dropped, {} bad frames{latency}",
        label(&feed.venue),
        feed.state,
        feed.trades,
        feed.trades_per_s,
        feed.messages,
        feed.messages_per_s,
        feed.reconnects,
        feed.gaps,
        feed.missed,
        feed.duplicates,
        feed.bad_frames,
    );
    Dependency { name: format!("feed {}", feed.venue), status: feed.status, detail }
}

/// `coinbase` → `Coinbase`.
fn label(venue: &str) -> String {
    let mut chars = venue.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
