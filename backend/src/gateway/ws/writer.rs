//! A client's writer: the only task that waits for its socket. It takes
//! everything queued in the [`Outbox`], writes it and flushes once, so a slow
//! socket holds up nothing but this task. A socket that accepts nothing for
//! the stall timeout is given a close frame (1008) and let go.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, close_code};
use futures_util::{Sink, SinkExt};

use super::outbox::{Next, Outbox};

/// How long a closing handshake may take once the close frame is queued.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

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
pub async fn write<S: Sink<Message> + Unpin>(outbox: &Outbox, sink: &mut S, stall: Duration) -> Written {
    loop {
        let frames = match outbox.next().await {
            Next::Frames(frames) => frames,
            Next::Close(frame) => {
                let frame = frame.map(|(code, reason)| CloseFrame { code, reason: Utf8Bytes::from(reason) });
                // Best effort: a peer that is gone has nothing left to hear.
                let closed = tokio::time::timeout(CLOSE_WAIT, sink.send(Message::Close(frame))).await;
                return if matches!(closed, Ok(Ok(()))) { Written::Closed } else { Written::Failed };
            }
        };
        for frame in frames {
            match tokio::time::timeout(stall, sink.feed(Message::Text(frame))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Written::Failed,
                Err(_) => return stalled(outbox, sink, stall).await,
            }
        }
        match tokio::time::timeout(stall, sink.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Written::Failed,
            Err(_) => return stalled(outbox, sink, stall).await,
        }
    }
}

/// The socket stopped accepting: nothing more is queued for it, and the close
/// frame goes after what the socket already holds, in case the client reads
/// again within another stall timeout.
async fn stalled<S: Sink<Message> + Unpin>(outbox: &Outbox, sink: &mut S, stall: Duration) -> Written {
    let reason = format!("stalled: the socket accepted nothing for {} ms", stall.as_millis());
    {
        let mut queue = outbox.lock();
        queue.clear();
        queue.close(Some((close_code::POLICY, reason.clone())));
    }
    let frame = CloseFrame { code: close_code::POLICY, reason: Utf8Bytes::from(reason) };
    // Ignored: the session ends either way, and counts the stall.
    let _closed = tokio::time::timeout(stall, sink.send(Message::Close(Some(frame)))).await;
    Written::Stalled
}
