//! A client's writer: the only task that waits for its socket. It takes
//! everything queued in the [`Outbox`], writes it and flushes once, so a slow
//! socket holds up nothing but this task. A socket that accepts nothing for
//! the stall timeout is given a close frame (1008) and let go.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, close_code};
use futures_util::{Sink, SinkExt};

use super::outbox::{Next, Outbox};
use crate::common::time::now_ns;
use crate::metrics::latency::LatencyRecorder;

/// How long a closing handshake may take once the close frame is queued.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// How long a stalled socket is kept, with nothing more queued, so that the
/// close frame reaches a client that starts reading again.
const STALLED_LINGER: Duration = Duration::from_secs(5);

/// How a writer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// It wrote the close it was asked for.
    Closed,
    /// The socket accepted nothing for the stall timeout.
    Stalled,
    /// The socket failed.
    Failed,
}

/// Writes what `outbox` holds to `sink` until asked to close, the socket
/// stalls or fails.
pub async fn write<S: Sink<Message> + Unpin>(
    outbox: &Outbox,
    sink: &mut S,
    stall: Duration,
    latency: &LatencyRecorder,
) -> Written {
    // The event times of what is being written, kept between batches.
    let mut written: Vec<Arc<[i64]>> = Vec::new();
    loop {
        let frames = match outbox.next().await {
            Next::Frames(frames) => frames,
            // The client closed first: the WebSocket layer queued the echo,
            // and closing the sink writes it.
            Next::Close(None) => {
                // Ignored: the client has gone either way.
                let _echoed = tokio::time::timeout(CLOSE_WAIT, sink.close()).await;
                return Written::Closed;
            }
            Next::Close(Some((code, reason))) => {
                let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
                // Best effort: a peer that is gone has nothing left to hear.
                let closed = tokio::time::timeout(CLOSE_WAIT, sink.send(Message::Close(Some(frame)))).await;
                return if matches!(closed, Ok(Ok(()))) { Written::Closed } else { failed(sink).await };
            }
        };
        written.clear();
        for (frame, stamps) in frames {
            match tokio::time::timeout(stall, sink.feed(Message::Text(frame))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return failed(sink).await,
                Err(_) => return stalled(outbox),
            }
            written.extend(stamps);
        }
        match tokio::time::timeout(stall, sink.flush()).await {
            // End to end: each tick's event time to its hand-off to the socket.
            Ok(Ok(())) => {
                latency.record_ages(now_ns(), written.iter().flat_map(|stamps| stamps.iter().copied()))
            }
            Ok(Err(_)) => return failed(sink).await,
            Err(_) => return stalled(outbox),
        }
    }
}

/// A write failed, most often because the client's close arrived first and
/// nothing but the echo may follow it: closing writes that echo (if the
/// socket is still there at all).
async fn failed<S: Sink<Message> + Unpin>(sink: &mut S) -> Written {
    // Ignored: there is nothing left to do with a socket that fails.
    let _closed = tokio::time::timeout(CLOSE_WAIT, sink.close()).await;
    Written::Failed
}

/// The socket stopped accepting: nothing more is queued for it.
fn stalled(outbox: &Outbox) -> Written {
    let mut queue = outbox.lock();
    queue.discard();
    queue.close(None);
    Written::Stalled
}

/// Sends a stalled client its close frame (1008) after what the socket
/// already holds, in case the client reads again soon; gives up after
/// [`STALLED_LINGER`].
pub async fn close_stalled<S: Sink<Message> + Unpin>(sink: &mut S, stall: Duration) {
    let reason = format!("stalled: the socket accepted nothing for {} ms", stall.as_millis());
    let frame = CloseFrame { code: close_code::POLICY, reason: Utf8Bytes::from(reason) };
    // Ignored: the session is over either way.
    let _closed = tokio::time::timeout(STALLED_LINGER, sink.send(Message::Close(Some(frame)))).await;
}
