//! The live stream: one WebSocket to `/ws` on the page's own origin,
//! reopened with backoff whenever it drops. After a reconnect the page asks
//! the server to `resume` from the last seq it saw of every symbol.
//!
//! Messages are queued as they arrive and applied once per animation frame,
//! so the page redraws at most once a frame however fast ticks come; the
//! frame time is when the browser's tick-to-render latency is measured.

mod backoff;
mod status;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

pub use backoff::Backoff;
use leptos::prelude::*;
use marquee_shared::{ClientMessage, ServerMessage};
pub use status::Status;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::state::Dashboard;
use crate::view::live::LiveRows;

/// How often the page compares clocks with the server. The estimate kept is
/// the one from the fastest round trip, so frequent pings let a quick one
/// replace an early estimate distorted by a busy start.
const PING_EVERY: Duration = Duration::from_secs(2);

/// Opens the stream and keeps it open for the life of the page.
pub fn connect(dash: RwSignal<Dashboard>, status: RwSignal<Status>, live: LiveRows) {
    let link = Rc::new(Link { dash, status, live, inner: RefCell::new(Inner::default()) });
    open(&link);
    let pinger = Rc::clone(&link);
    // Lives as long as the page.
    if let Err(err) = set_interval_with_handle(move || ping(&pinger), PING_EVERY) {
        leptos::logging::warn!("no clock comparison with the server: {err:?}");
    }
}

struct Link {
    dash: RwSignal<Dashboard>,
    status: RwSignal<Status>,
    /// Told which symbols changed in each frame.
    live: LiveRows,
    inner: RefCell<Inner>,
}

#[derive(Default)]
struct Inner {
    socket: Option<Socket>,
    backoff: Backoff,
    /// Messages waiting for the next animation frame.
    pending: Vec<ServerMessage>,
    frame_requested: bool,
    frame: Option<Closure<dyn FnMut()>>,
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
        Closure::<dyn FnMut()>::new(move || on_open(&link))
    };
    let on_message = {
        let link = Rc::clone(link);
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else { return };
            match serde_json::from_str::<ServerMessage>(&text) {
                // Clock comparisons are timed on arrival, not at the next frame.
                Ok(ServerMessage::Pong { nonce, server_time }) => link.dash.update(|d| {
                    d.render.on_pong(nonce as f64, js_sys::Date::now(), server_time);
                }),
                Ok(message) => queue(&link, message),
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

fn on_open(link: &Rc<Link>) {
    let reconnect = link.inner.borrow().backoff.has_failed();
    link.inner.borrow_mut().backoff.succeeded();
    link.status.set(Status::Live);
    // What was queued before the drop still counts as seen.
    apply_pending(link);
    if reconnect {
        let last_seq = link.dash.with_untracked(|d| d.market.last_seqs());
        if !last_seq.is_empty() {
            send(link, &ClientMessage::Resume { last_seq });
        }
    }
    ping(link);
}

fn ping(link: &Rc<Link>) {
    send(link, &ClientMessage::Ping { nonce: js_sys::Date::now() as u64 });
}

fn send(link: &Rc<Link>, message: &ClientMessage) {
    let inner = link.inner.borrow();
    let Some(socket) = &inner.socket else { return };
    if socket.ws.ready_state() != WebSocket::OPEN {
        return;
    }
    match serde_json::to_string(message) {
        Ok(text) => {
            if let Err(err) = socket.ws.send_with_str(&text) {
                leptos::logging::warn!("cannot send to the server: {err:?}");
            }
        }
        Err(err) => leptos::logging::error!("cannot encode a client message: {err}"),
    }
}

/// Holds `message` for the next animation frame, asking for one if needed.
fn queue(link: &Rc<Link>, message: ServerMessage) {
    let mut inner = link.inner.borrow_mut();
    inner.pending.push(message);
    if inner.frame_requested {
        return;
    }
    if inner.frame.is_none() {
        let link = Rc::clone(link);
        inner.frame = Some(Closure::<dyn FnMut()>::new(move || apply_pending(&link)));
    }
    let requested = inner
        .frame
        .as_ref()
        .and_then(|frame| web_sys::window()?.request_animation_frame(frame.as_ref().unchecked_ref()).ok());
    inner.frame_requested = requested.is_some();
    if requested.is_none() {
        drop(inner);
        apply_pending(link);
    }
}

/// Applies every queued message in one update: one redraw per frame.
fn apply_pending(link: &Rc<Link>) {
    let pending = {
        let mut inner = link.inner.borrow_mut();
        inner.frame_requested = false;
        std::mem::take(&mut inner.pending)
    };
    if pending.is_empty() {
        return;
    }
    let now = js_sys::Date::now();
    link.dash.update(|d| {
        let mut tick_times = Vec::new();
        for message in pending {
            d.apply(message, now, &mut tick_times);
        }
        d.render.on_render(now, tick_times);
    });
    link.live.publish(link.dash);
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
