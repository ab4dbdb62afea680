//! What the connection badge says. Pure; tested natively.

/// What the status indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// First connection attempt since the page loaded.
    Connecting,
    /// The stream is open and data is flowing.
    Live,
    /// The stream is open, but the server conflated it because the page fell
    /// behind; the page catches up from the fresh snapshot.
    Lagged,
    /// The stream dropped; retrying soon.
    Reconnecting,
    /// Several retries failed; still retrying, less often.
    Offline,
}

impl Status {
    /// The word read by browser tests and styles (`data-status`).
    pub fn label(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Live => "live",
            Status::Lagged => "lagged",
            Status::Reconnecting => "reconnecting",
            Status::Offline => "offline",
        }
    }

    /// What people read on the badge.
    pub fn text(self) -> &'static str {
        match self {
            Status::Lagged => "lagged · catching up",
            other => other.label(),
        }
    }

    /// The badge for a connection in `self` whose stream is (or is not)
    /// catching up after a `lagged` notice: an open stream that is behind is
    /// not live; a closed one says so whatever it was doing.
    pub fn shown(self, catching_up: bool) -> Status {
        match self {
            Status::Live if catching_up => Status::Lagged,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_stream_that_is_catching_up_shows_lagged() {
        assert_eq!(Status::Live.shown(true), Status::Lagged);
        assert_eq!(Status::Live.shown(false), Status::Live);
        assert_eq!(Status::Lagged.text(), "lagged · catching up");
        assert_eq!(Status::Lagged.label(), "lagged");
    }

    #[test]
    fn a_closed_stream_shows_the_connection_whatever_the_catch_up() {
        for status in [Status::Connecting, Status::Reconnecting, Status::Offline] {
            assert_eq!(status.shown(true), status);
            assert_eq!(status.text(), status.label());
        }
    }
}
