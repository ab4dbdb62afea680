//! The alerts and events the page lists: newest first, bounded, from the
//! stream and from the REST history read at page load.

use std::collections::VecDeque;

use marquee_shared::{Alert, Event};

/// Alerts kept for the page, newest first.
pub const RECENT_ALERTS: usize = 50;
/// Events kept for the page, newest first.
pub const RECENT_EVENTS: usize = 100;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Feeds {
    /// The newest alerts, newest first, at most [`RECENT_ALERTS`].
    pub alerts: VecDeque<Alert>,
    /// The newest events, newest first, at most [`RECENT_EVENTS`].
    pub events: VecDeque<Event>,
}

impl Feeds {
    /// An alert from the stream: the newest.
    pub fn alert(&mut self, alert: Alert) {
        self.alerts.push_front(alert);
        self.alerts.truncate(RECENT_ALERTS);
    }

    /// An event from the stream: the newest.
    pub fn event(&mut self, event: Event) {
        self.events.push_front(event);
        self.events.truncate(RECENT_EVENTS);
    }

    /// Alerts and events read over REST at page load, behind live ones and
    /// without repeating them.
    pub fn add_history(&mut self, alerts: Vec<Alert>, events: Vec<Event>) {
        for alert in alerts {
            if !self.alerts.contains(&alert) {
                self.alerts.push_back(alert);
            }
        }
        self.alerts.truncate(RECENT_ALERTS);
        for event in events {
            if !self.events.iter().any(|e| e.id == event.id) {
                self.events.push_back(event);
            }
        }
        self.events.truncate(RECENT_EVENTS);
    }
}
