//! What the page counts of its own stream, shown in the footer: ticks
//! received, gaps in the seqs, the server's `lagged` notices and what it
//! skipped or replayed, bars closed, and the last error it reported.

use super::seqs::SeqLog;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct StreamCounts {
    /// Ticks received since the page loaded (duplicates not counted).
    pub ticks_received: u64,
    /// Which seqs arrived, to count gaps.
    pub seqs: SeqLog,
    /// `lagged` notices: the server conflated this page's stream.
    pub lagged_notices: u64,
    /// Messages the server skipped because this page fell behind.
    pub batches_skipped: u64,
    /// Ticks replayed by the server after reconnects.
    pub resumed_ticks: u64,
    /// Closed bars received since the page loaded.
    pub bars_received: u64,
    /// The last error the server reported about our messages.
    pub last_error: Option<String>,
}
