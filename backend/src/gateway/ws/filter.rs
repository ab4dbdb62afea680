//! What one client has subscribed to, and the message it gets (if any) for
//! each one the hub broadcasts. Plain data, tested without sockets.

use std::collections::BTreeSet;

use marquee_shared::{Channel, ServerMessage, SymbolSelection};

use crate::common::symbol;
use crate::hub::{self, Envelope, Frame};

/// All symbols, or all but some, or only some.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Symbols {
    AllExcept(BTreeSet<String>),
    Only(BTreeSet<String>),
}

impl Symbols {
    fn named(&self) -> usize {
        match self {
            Symbols::AllExcept(names) | Symbols::Only(names) => names.len(),
        }
    }
}

/// A client's subscription. A new client gets everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    symbols: Symbols,
    channels: BTreeSet<Channel>,
    /// The most symbols the subscription may name (in or out).
    max_symbols: usize,
}

impl Filter {
    /// Everything, naming at most `max_symbols` symbols from here on.
    pub fn new(max_symbols: usize) -> Self {
        Self {
            symbols: Symbols::AllExcept(BTreeSet::new()),
            channels: Channel::ALL.into_iter().collect(),
            max_symbols,
        }
    }
}

/// `"*"` in a symbol list means every symbol.
const ALL: &str = "*";

impl Filter {
    /// Adds symbols and channels. Nothing changes if any symbol is invalid
    /// or the subscription would name more than its limit.
    pub fn subscribe(&mut self, symbols: &[String], channels: &[Channel]) -> Result<(), String> {
        let mut next = self.clone();
        next.add(parse(symbols)?, channels);
        self.commit(next)
    }

    /// Removes symbols and channels, all or nothing as [`Filter::subscribe`].
    pub fn unsubscribe(&mut self, symbols: &[String], channels: &[Channel]) -> Result<(), String> {
        let mut next = self.clone();
        next.remove(parse(symbols)?, channels);
        self.commit(next)
    }

    fn commit(&mut self, next: Filter) -> Result<(), String> {
        let named = next.symbols.named();
        if named > self.max_symbols {
            return Err(format!(
                "a subscription may name at most {} symbols; this would name {named}",
                self.max_symbols
            ));
        }
        *self = next;
        Ok(())
    }

    fn add(&mut self, symbols: Vec<Option<String>>, channels: &[Channel]) {
        for symbol in symbols {
            match (&mut self.symbols, symbol) {
                (_, None) => self.symbols = Symbols::AllExcept(BTreeSet::new()),
                (Symbols::AllExcept(except), Some(s)) => {
                    except.remove(&s);
                }
                (Symbols::Only(only), Some(s)) => {
                    only.insert(s);
                }
            }
        }
        self.channels.extend(channels.iter().copied());
    }

    fn remove(&mut self, symbols: Vec<Option<String>>, channels: &[Channel]) {
        for symbol in symbols {
            match (&mut self.symbols, symbol) {
                (_, None) => self.symbols = Symbols::Only(BTreeSet::new()),
                (Symbols::AllExcept(except), Some(s)) => {
                    except.insert(s);
                }
                (Symbols::Only(only), Some(s)) => {
                    only.remove(&s);
                }
            }
        }
        for channel in channels {
            self.channels.remove(channel);
        }
    }

    pub fn wants(&self, symbol: &str) -> bool {
        match &self.symbols {
            Symbols::AllExcept(except) => !except.contains(symbol),
            Symbols::Only(only) => only.contains(symbol),
        }
    }

    /// The answer to `subscribe`/`unsubscribe`: counts, never the names
    /// (the client knows what it sent), so the reply stays small.
    pub fn describe(&self) -> ServerMessage {
        let named = self.symbols.named() as u64;
        let symbols = match &self.symbols {
            Symbols::AllExcept(_) => SymbolSelection::All { except: named },
            Symbols::Only(_) => SymbolSelection::Only { symbols: named },
        };
        ServerMessage::Subscribed { symbols, channels: self.channels.iter().copied().collect() }
    }

    /// The frame this client gets for `envelope`: the shared one when it
    /// wants all of it, a filtered copy when it wants part, else nothing.
    pub fn select(&self, envelope: &Envelope) -> Option<Frame> {
        let Some(channel) = envelope.channel else { return Some(envelope.frame.clone()) };
        if !self.channels.contains(&channel) {
            return None;
        }
        if matches!(&self.symbols, Symbols::AllExcept(except) if except.is_empty()) {
            return Some(envelope.frame.clone());
        }
        match &envelope.message {
            ServerMessage::Ticks { ticks } => {
                let kept: Vec<_> = ticks.iter().filter(|t| self.wants(&t.symbol)).cloned().collect();
                self.part(envelope, kept.len(), ticks.len(), || ServerMessage::Ticks { ticks: kept.clone() })
            }
            ServerMessage::Bars { bars, closed } => {
                let kept: Vec<_> = bars.iter().filter(|b| self.wants(&b.bar.symbol)).cloned().collect();
                let closed = *closed;
                self.part(envelope, kept.len(), bars.len(), || ServerMessage::Bars {
                    bars: kept.clone(),
                    closed,
                })
            }
            ServerMessage::Alert { alert } => self.wants(&alert.symbol).then(|| envelope.frame.clone()),
            _ => Some(envelope.frame.clone()),
        }
    }

    fn part(
        &self,
        envelope: &Envelope,
        kept: usize,
        all: usize,
        filtered: impl FnOnce() -> ServerMessage,
    ) -> Option<Frame> {
        match kept {
            0 => None,
            n if n == all => Some(envelope.frame.clone()),
            _ => hub::encode(&filtered()),
        }
    }
}

/// Checks every symbol; `None` stands for `"*"`.
fn parse(symbols: &[String]) -> Result<Vec<Option<String>>, String> {
    symbols.iter().map(|s| if s == ALL { Ok(None) } else { symbol::normalize(s).map(Some) }).collect()
}

#[cfg(test)]
mod tests {
    use marquee_shared::Tick;

    use super::*;

    fn ticks(symbols: &[&str]) -> Envelope {
        let message = ServerMessage::Ticks {
            ticks: symbols
                .iter()
                .map(|s| Tick {
                    symbol: (*s).into(),
                    seq: 1,
                    ts: 1,
                    price: 1.0,
                    size: 1.0,
                    change: 0.0,
                    change_pct: 0.0,
                })
                .collect(),
        };
        let frame = hub::encode(&message).expect("encode");
        Envelope::new(Some(Channel::Ticks), message, frame)
    }

    fn symbols_in(frame: Option<Frame>) -> Vec<String> {
        let Some(frame) = frame else { return vec![] };
        match serde_json::from_str(frame.as_str()).expect("json") {
            ServerMessage::Ticks { ticks } => ticks.into_iter().map(|t| t.symbol).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_new_client_gets_everything_as_the_shared_frame() {
        let filter = Filter::new(100);
        let envelope = ticks(&["A", "B"]);
        let frame = filter.select(&envelope).expect("frame");
        assert!(std::ptr::eq(frame.as_str().as_ptr(), envelope.frame.as_str().as_ptr()), "not re-encoded");
    }

    #[test]
    fn only_subscribed_symbols_are_sent() {
        let mut filter = Filter::new(100);
        filter.unsubscribe(&strings(&["*"]), &[]).expect("valid");
        assert_eq!(symbols_in(filter.select(&ticks(&["A", "B"]))), Vec::<String>::new());
        filter.subscribe(&strings(&["b", "C"]), &[]).expect("valid");
        assert_eq!(symbols_in(filter.select(&ticks(&["A", "B", "C"]))), ["B", "C"]);
        filter.subscribe(&strings(&["*"]), &[]).expect("valid");
        filter.unsubscribe(&strings(&["A"]), &[]).expect("valid");
        assert_eq!(symbols_in(filter.select(&ticks(&["A", "B"]))), ["B"]);
        assert_eq!(
            filter.describe(),
            ServerMessage::Subscribed {
                symbols: SymbolSelection::All { except: 1 },
                channels: Channel::ALL.to_vec()
            }
        );
    }

    #[test]
    fn unsubscribed_channels_are_not_sent_but_control_messages_are() {
        let mut filter = Filter::new(100);
        filter.unsubscribe(&[], &[Channel::Ticks]).expect("valid");
        assert!(filter.select(&ticks(&["A"])).is_none());
        let message = ServerMessage::Lagged { skipped: 1 };
        let frame = hub::encode(&message).expect("encode");
        let control = Envelope::new(None, message, frame);
        assert!(filter.select(&control).is_some());
        filter.subscribe(&[], &[Channel::Ticks]).expect("valid");
        assert_eq!(symbols_in(filter.select(&ticks(&["A"]))), ["A"]);
    }

    #[test]
    fn an_invalid_symbol_changes_nothing() {
        let mut filter = Filter::new(100);
        let before = filter.clone();
        let err = filter.unsubscribe(&strings(&["A", "../x"]), &[Channel::Bars]).expect_err("invalid");
        assert!(err.contains("../x"), "{err}");
        assert_eq!(filter, before);
    }

    #[test]
    fn a_subscription_names_a_bounded_number_of_symbols() {
        let mut filter = Filter::new(3);
        filter.unsubscribe(&strings(&["*"]), &[]).expect("valid");
        filter.subscribe(&strings(&["A", "B", "C"]), &[]).expect("three fit");
        let before = filter.clone();
        let err = filter.subscribe(&strings(&["D"]), &[Channel::Ticks]).expect_err("a fourth does not");
        assert!(err.contains("at most 3"), "{err}");
        assert_eq!(filter, before, "nothing changed");
        filter.unsubscribe(&strings(&["A"]), &[]).expect("valid");
        filter.subscribe(&strings(&["D"]), &[]).expect("room again");
        assert_eq!(
            filter.describe(),
            ServerMessage::Subscribed {
                symbols: SymbolSelection::Only { symbols: 3 },
                channels: Channel::ALL.to_vec()
            }
        );
        // "*" forgets the names, so it always fits.
        filter.subscribe(&strings(&["*"]), &[]).expect("all");
        assert_eq!(
            filter.describe(),
            ServerMessage::Subscribed {
                symbols: SymbolSelection::All { except: 0 },
                channels: Channel::ALL.to_vec()
            }
        );
    }
}
