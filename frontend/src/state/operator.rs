//! The operator panel's actions as data: what each one sends (method, path,
//! and a body built from the `shared` request types, never by hand) and
//! how the typed inputs become actions. Tested natively; the view only runs
//! them and shows the answers.

use marquee_shared::{FetchRequest, OutputSize, ReplayRequest, SpeedRequest};

/// An operator action, kept so it can be retried once a token is given.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `start`, `stop`, `pause` or `resume`.
    Simulation(&'static str),
    Speed(f64),
    Fetch(Vec<String>),
    Import {
        symbol: String,
        csv: String,
    },
    /// Play a stored session again.
    Replay(ReplayRequest),
    StopReplay,
    /// A test alert to every alert sink.
    TestAlert,
}

/// What an action sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    /// Content type and text.
    pub body: Option<(&'static str, String)>,
}

impl Action {
    pub fn call(&self) -> Call {
        match self {
            Action::Simulation(name) => {
                Call { method: "POST", path: format!("/api/v1/simulation/{name}"), body: None }
            }
            Action::Speed(speed) => Call {
                method: "PUT",
                path: "/api/v1/simulation/speed".to_owned(),
                body: Some(json(&SpeedRequest { speed: *speed })),
            },
            Action::Fetch(symbols) => {
                let request = FetchRequest {
                    symbols: symbols.clone(),
                    outputsize: OutputSize::default(),
                    intraday: None,
                    replace: false,
                };
                Call { method: "POST", path: "/api/v1/fetch".to_owned(), body: Some(json(&request)) }
            }
            Action::Import { symbol, csv } => Call {
                method: "POST",
                path: format!("/api/v1/import?symbol={}", encode(symbol)),
                body: Some(("text/csv", csv.clone())),
            },
            Action::Replay(request) => {
                Call { method: "POST", path: "/api/v1/replay".to_owned(), body: Some(json(request)) }
            }
            Action::StopReplay => Call { method: "DELETE", path: "/api/v1/replay".to_owned(), body: None },
            Action::TestAlert => Call { method: "POST", path: "/api/v1/alerts/test".to_owned(), body: None },
        }
    }
}

fn json<T: serde::Serialize>(body: &T) -> (&'static str, String) {
    // The request types are plain structs of numbers and strings: they
    // always serialise.
    ("application/json", serde_json::to_string(body).unwrap_or_default())
}

/// A symbol as a query value: anything outside `A-Z a-z 0-9 . - _` escaped.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The symbols typed into the fetch box (commas or spaces between them),
/// upper-cased; `None` when there are none.
pub fn fetch_symbols(typed: &str) -> Option<Action> {
    let symbols: Vec<String> =
        typed.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_uppercase).collect();
    (!symbols.is_empty()).then_some(Action::Fetch(symbols))
}

#[cfg(test)]
mod tests {
    use marquee_shared::{FetchRequest, SpeedRequest};

    use super::*;

    #[test]
    fn bodies_are_the_shared_request_types() {
        let speed = Action::Speed(2.5).call();
        assert_eq!((speed.method, speed.path.as_str()), ("PUT", "/api/v1/simulation/speed"));
        let (kind, text) = speed.body.expect("a body");
        assert_eq!(kind, "application/json");
        assert_eq!(
            serde_json::from_str::<SpeedRequest>(&text).expect("a SpeedRequest"),
            SpeedRequest { speed: 2.5 }
        );

        let fetch = fetch_symbols(" ibm, msft  aapl,").expect("symbols").call();
        let request: FetchRequest =
            serde_json::from_str(&fetch.body.expect("a body").1).expect("a FetchRequest");
        assert_eq!(request.symbols, ["IBM", "MSFT", "AAPL"]);
        assert!(!request.replace && request.intraday.is_none());
        assert_eq!(fetch_symbols(" , "), None, "nothing typed, nothing sent");
    }

    #[test]
    fn paths_name_the_action_and_escape_the_symbol() {
        assert_eq!(Action::Simulation("pause").call().path, "/api/v1/simulation/pause");
        assert_eq!(Action::Simulation("pause").call().body, None);
        let import = Action::Import { symbol: "BRK.B&x=1".into(), csv: "date,open\n".into() }.call();
        assert_eq!(import.path, "/api/v1/import?symbol=BRK.B%26x%3D1");
        assert_eq!(import.body, Some(("text/csv", "date,open\n".to_owned())));
    }

    #[test]
    fn a_replay_posts_its_window_and_is_stopped_by_delete() {
        let request = ReplayRequest {
            from: "2026-12-07T09:30:00Z".into(),
            to: "2026-12-07T10:00:00Z".into(),
            speed: 10.0,
        };
        let call = Action::Replay(request.clone()).call();
        assert_eq!((call.method, call.path.as_str()), ("POST", "/api/v1/replay"));
        let sent: ReplayRequest =
            serde_json::from_str(&call.body.expect("a body").1).expect("a ReplayRequest");
        assert_eq!(sent, request);
        let test = Action::TestAlert.call();
        assert_eq!((test.method, test.path.as_str(), test.body), ("POST", "/api/v1/alerts/test", None));
        let stop = Action::StopReplay.call();
        assert_eq!((stop.method, stop.path.as_str(), stop.body), ("DELETE", "/api/v1/replay", None));
    }
}
