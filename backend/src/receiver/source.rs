//! Where the receiver's ticks come from: the driver in this process (a
//! channel of tick batches) or a Kafka consumer, whose batches carry an
//! [`Ack`] that commits their offsets once the ticks are stored.

use std::fmt;

use marquee_shared::Tick;
use tokio::sync::mpsc;

/// Called once every tick of a batch is in the store.
pub type Ack = Box<dyn FnOnce() + Send>;

/// Ticks to store and analyse, and whom to tell once they are stored.
pub struct Batch {
    pub ticks: Vec<Tick>,
    pub on_stored: Option<Ack>,
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("ticks", &self.ticks.len())
            .field("on_stored", &self.on_stored.is_some())
            .finish()
    }
}

/// A stream of tick batches; `None` once it has ended (shutdown).
/// `next_batch` must be cancel safe: the receiver selects on it.
pub trait TickSource: Send {
    fn next_batch(&mut self) -> impl Future<Output = Option<Batch>> + Send;
    /// Takes no more batches: those already handed over are still read,
    /// then the stream ends.
    fn close(&mut self);
}

impl TickSource for mpsc::Receiver<Vec<Tick>> {
    async fn next_batch(&mut self) -> Option<Batch> {
        self.recv().await.map(|ticks| Batch { ticks, on_stored: None })
    }

    fn close(&mut self) {
        mpsc::Receiver::close(self);
    }
}

impl TickSource for mpsc::Receiver<Batch> {
    async fn next_batch(&mut self) -> Option<Batch> {
        self.recv().await
    }

    fn close(&mut self) {
        mpsc::Receiver::close(self);
    }
}
