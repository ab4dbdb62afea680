//! The live stream: one WebSocket to `/ws` on the page's own origin,
//! reopened with backoff whenever it drops. Messages are applied to the
//! market state; the socket's life is reflected in the status signal.

mod backoff;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

pub use backoff::{Backoff, Status};
use leptos::prelude::*;
use marquee_shared::ServerMessage;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::state::MarketState;

/// Opens the stream and keeps it open for the life of the page.
pub fn connect(market: RwSignal<MarketState>, status: RwSignal<Status>) {
    let link = Rc::new(Link { market, status, inner: RefCell::new(Inner::default()) });
    open(&link);
}

struct Link {
    market: RwSignal<MarketState>,
    status: RwSignal<Status>,
    inner: RefCell<Inner>,
}

#[derive(Default)]
struct Inner {
    socket: Option<Socket>,
    backoff: Backoff,
}

/// A socket and the callbacks it holds; dropping it detaches them.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
    }
}

fn open(link: &Rc<Link>) {
    // Replacing the previous socket here (never inside its own callback) is
    // what makes dropping its closures safe.
    link.inner.borrow_mut().socket = None;
    let ws = match stream_url().and_then(|url| WebSocket::new(&url)) {
        Ok(ws) => ws,
        Err(err) => {
            leptos::logging::error!("cannot open the stream: {err:?}");
            retry_later(link);
            return;
        }
    };

    let on_open = {
        let link = Rc::clone(link);
        Closure::<dyn FnMut()>::new(move || {
            link.inner.borrow_mut().backoff.succeeded();
            link.status.set(Status::Live);
        })
    };
    let on_message = {
        let market = link.market;
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else { return };
            match serde_json::from_str::<ServerMessage>(&text) {
                Ok(message) => market.update(|m| m.apply(message)),
                Err(err) => {
                    leptos::logging::warn!("ignoring a message the dashboard does not understand: {err}")
                }
            }
        })
    };
    let on_close = {
        let link = Rc::clone(link);
        Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| retry_later(&link))
    };
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    link.inner.borrow_mut().socket =
        Some(Socket { ws, _on_open: on_open, _on_message: on_message, _on_close: on_close });
}

fn retry_later(link: &Rc<Link>) {
    let (delay_ms, status) = link.inner.borrow_mut().backoff.failed(js_sys::Math::random());
    link.status.set(status);
    let link = Rc::clone(link);
    set_timeout(move || open(&link), Duration::from_millis(u64::from(delay_ms)));
}

/// `ws://host/ws` or `wss://host/ws` for the page's own origin.
fn stream_url() -> Result<String, wasm_bindgen::JsValue> {
    let location = web_sys::window().ok_or("no window")?.location();
    let scheme = if location.protocol()? == "https:" { "wss" } else { "ws" };
    Ok(format!("{scheme}://{}/ws", location.host()?))
}
