//! One client's queue of frames waiting for its socket, bounded in messages
//! and in bytes. The session puts frames in without ever waiting; the
//! client's writer task takes them out as fast as the socket accepts them.
//! A full queue is the session's cue to conflate the client.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::hub::Frame;

/// How much one client may have queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub messages: usize,
    pub bytes: usize,
}

/// The queue would grow past its limits; nothing was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Event times of the ticks a frame carries.
pub type Stamps = Option<Arc<[i64]>>;

/// What the writer is to do next.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// Write these frames, oldest first, with their ticks' event times.
    Frames(Vec<(Frame, Stamps)>),
    /// Write nothing more; close with this code and reason (`None`: the
    /// client closed, so only finish the closing handshake).
    Close(Option<(u16, String)>),
}

/// Whether conflation may drop a queued frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Stream traffic and notices: a fresh snapshot replaces them.
    Stream,
    /// An answer to the client (pong, subscribed, resumed, errors, replays):
    /// kept, in order, however far behind the stream is.
    Reply,
}

/// The queue as plain data.
#[derive(Debug)]
pub struct Queue {
    limits: QueueLimits,
    frames: VecDeque<(Frame, Kind, Stamps)>,
    bytes: usize,
    close: Option<Option<(u16, String)>>,
}

impl Queue {
    pub fn new(limits: QueueLimits) -> Self {
        Self { limits, frames: VecDeque::new(), bytes: 0, close: None }
    }

    /// Adds a frame unless that would pass a limit. A frame larger than the
    /// byte limit still goes into an empty queue, so nothing is too big to send.
    pub fn push(&mut self, frame: Frame, stamps: Stamps) -> Result<(), Full> {
        let over = self.frames.len() >= self.limits.messages || self.bytes + frame.len() > self.limits.bytes;
        if over && !self.frames.is_empty() {
            return Err(Full);
        }
        self.add(frame, Kind::Stream, stamps);
        Ok(())
    }

    /// Adds stream traffic whatever the limits (a notice and snapshot right
    /// after [`Queue::clear`]).
    pub fn push_anyway(&mut self, frame: Frame) {
        self.add(frame, Kind::Stream, None);
    }

    /// Adds an answer to the client whatever the limits; [`Queue::clear`]
    /// keeps it. The session's rate limit bounds how many there are.
    pub fn push_reply(&mut self, frame: Frame) {
        self.add(frame, Kind::Reply, None);
    }

    fn add(&mut self, frame: Frame, kind: Kind, stamps: Stamps) {
        if self.close.is_none() {
            self.bytes += frame.len();
            self.frames.push_back((frame, kind, stamps));
        }
    }

    /// Drops every queued frame but the replies; returns how many.
    pub fn clear(&mut self) -> u64 {
        let before = self.frames.len();
        self.frames.retain(|(_, kind, _)| *kind == Kind::Reply);
        self.bytes = self.frames.iter().map(|(frame, _, _)| frame.len()).sum();
        (before - self.frames.len()) as u64
    }

    /// Drops everything, replies too (the session is over).
    pub fn discard(&mut self) {
        self.frames.clear();
        self.bytes = 0;
    }

    /// Asks the writer to close after what is queued (`None`: the client
    /// closed first). The first request wins.
    pub fn close(&mut self, frame: Option<(u16, String)>) {
        if self.close.is_none() {
            self.close = Some(frame);
        }
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Everything queued, or the close once nothing is; `None` when idle.
    pub fn take(&mut self) -> Option<Next> {
        if !self.frames.is_empty() {
            self.bytes = 0;
            return Some(Next::Frames(
                self.frames.drain(..).map(|(frame, _, stamps)| (frame, stamps)).collect(),
            ));
        }
        self.close.clone().map(Next::Close)
    }
}

/// The queue shared by a session and its writer.
#[derive(Debug)]
pub struct Outbox {
    queue: Mutex<Queue>,
    ready: Notify,
}

impl Outbox {
    pub fn new(limits: QueueLimits) -> Self {
        Self { queue: Mutex::new(Queue::new(limits)), ready: Notify::new() }
    }

    /// The queue, to change; the writer is woken when the guard's user calls
    /// [`Outbox::wake`].
    pub fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic elsewhere leaves a queue of whole frames: still usable.
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn wake(&self) {
        self.ready.notify_one();
    }

    /// Queues stream traffic. The writer is woken only when the queue was
    /// empty: it waits only after finding it so, and otherwise takes
    /// everything queued when it finishes writing.
    pub fn push(&self, frame: Frame, stamps: Stamps) -> Result<(), Full> {
        let mut queue = self.lock();
        let was_empty = queue.is_empty();
        let pushed = queue.push(frame, stamps);
        drop(queue);
        if was_empty {
            self.wake();
        }
        pushed
    }

    pub fn close(&self, frame: Option<(u16, String)>) {
        self.lock().close(frame);
        self.wake();
    }

    /// Waits for something to write.
    pub async fn next(&self) -> Next {
        loop {
            if let Some(next) = self.lock().take() {
                return next;
            }
            self.ready.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Frame {
        Frame::from("x".repeat(len))
    }

    #[test]
    fn bounded_in_messages_and_in_bytes() {
        let mut queue = Queue::new(QueueLimits { messages: 3, bytes: 100 });
        assert_eq!(queue.push(frame(40), None), Ok(()));
        assert_eq!(queue.push(frame(40), None), Ok(()));
        assert_eq!(queue.push(frame(40), None), Err(Full), "140 bytes is over 100");
        assert_eq!(queue.push(frame(10), None), Ok(()));
        assert_eq!(queue.push(frame(1), None), Err(Full), "three messages is the cap");
        assert_eq!((queue.len(), queue.bytes()), (3, 90));
    }

    #[test]
    fn a_frame_bigger_than_the_limit_still_goes_alone() {
        let mut queue = Queue::new(QueueLimits { messages: 3, bytes: 100 });
        assert_eq!(queue.push(frame(500), None), Ok(()));
        assert_eq!(queue.push(frame(1), None), Err(Full));
    }

    #[test]
    fn clear_counts_what_it_drops_and_notices_go_in_anyway() {
        let mut queue = Queue::new(QueueLimits { messages: 1, bytes: 100 });
        queue.push(frame(5), None).expect("room");
        assert_eq!(queue.clear(), 1);
        queue.push_anyway(frame(5));
        queue.push_anyway(frame(5));
        assert_eq!(queue.take(), Some(Next::Frames(vec![(frame(5), None), (frame(5), None)])));
        assert_eq!(queue.take(), None);
    }

    #[test]
    fn clear_keeps_the_replies_in_order() {
        let mut queue = Queue::new(QueueLimits { messages: 10, bytes: 100 });
        queue.push(frame(1), None).expect("room");
        queue.push_reply(frame(2));
        queue.push(frame(3), None).expect("room");
        queue.push_reply(frame(4));
        assert_eq!(queue.clear(), 2);
        assert_eq!(queue.bytes(), 6);
        queue.push_anyway(frame(5));
        assert_eq!(
            queue.take(),
            Some(Next::Frames(vec![(frame(2), None), (frame(4), None), (frame(5), None)]))
        );
        queue.push_reply(frame(6));
        queue.discard();
        assert_eq!(queue.take(), None);
    }

    #[test]
    fn close_comes_after_what_is_queued_and_stops_new_frames() {
        let mut queue = Queue::new(QueueLimits { messages: 10, bytes: 100 });
        queue.push(frame(1), None).expect("room");
        queue.close(Some((1001, "bye".into())));
        queue.close(None);
        queue.push_anyway(frame(2));
        assert_eq!(queue.take(), Some(Next::Frames(vec![(frame(1), None)])));
        assert_eq!(queue.take(), Some(Next::Close(Some((1001, "bye".into())))));
    }
}
