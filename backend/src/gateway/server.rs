//! The accept loop: every TCP connection is admitted by [`Connections`]
//! (or turned away), set to `TCP_NODELAY`, and served over HTTP/1.1 by
//! hyper with its header-read timer, which also bounds idle keep-alive.
//! Shutdown stops accepting at once, lets requests in flight finish for at
//! most the grace period, and then cuts whatever is left; WebSocket
//! sessions close themselves with 1001 on the same signal.
//!
//! The server runs on a tokio runtime of its own ([`start`]): however many
//! clients there are, the fan-out cannot occupy the threads the pipeline runs
//! on, so the driver keeps its rate and the receiver its flushes; the OS
//! shares the cores between the two runtimes' threads.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::connections::{Conn, Connections};
use crate::config::EdgeConfig;

/// Who is on the other end of a request: put in every request's extensions.
/// A WebSocket session keeps it, and with it its connection's place.
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    pub conn: Arc<Conn>,
}

/// What the server needs besides the router.
#[derive(Debug, Clone)]
pub struct Edge {
    pub connections: Arc<Connections>,
    /// WebSocket sessions, waited for (within the grace) at shutdown.
    pub sessions: TaskTracker,
    pub config: EdgeConfig,
}

/// Starts [`serve`] on a runtime of its own, on its own thread; the future
/// returned completes when the server has drained.
pub fn start(
    listener: TcpListener,
    app: Router,
    edge: Edge,
    shutdown: CancellationToken,
) -> std::io::Result<impl Future<Output = ()>> {
    let listener = listener.into_std()?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().thread_name("marquee-edge").enable_all().build()?;
    let (done, drained) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new().name("marquee-edge".into()).spawn(move || {
        runtime.block_on(async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => serve(listener, app, edge, shutdown).await,
                Err(err) => tracing::error!(%err, "the listener cannot join the server's runtime"),
            }
        });
        // Every connection has finished or been cut; what is left are
        // detached helpers (e.g. pooled client connections).
        runtime.shutdown_timeout(Duration::from_secs(1));
        // Ignored: nobody waiting means the process is going anyway.
        let _unheard = done.send(());
    })?;
    Ok(async move {
        // An error means the thread ended early; either way it is over.
        drop(drained.await);
    })
}

/// Serves `app` on `listener` until `shutdown`, then drains (see the module
/// documentation). Returns once every connection is closed or cut.
pub async fn serve(listener: TcpListener, app: Router, edge: Edge, shutdown: CancellationToken) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(edge.config.header_read_timeout);
    let connections = TaskTracker::new();
    let cut = CancellationToken::new();
    loop {
        let (stream, addr) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(&err).await;
                    continue;
                }
            },
        };
        // No room: dropping the stream closes it at once.
        let Some(conn) = edge.connections.admit() else { continue };
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
        if let Some(bytes) = edge.config.client_send_buffer
            && let Err(err) = socket2::SockRef::from(&stream).set_send_buffer_size(bytes)
        {
            tracing::debug!(%err, bytes, "cannot set the socket's send buffer");
        }
        let peer = Peer { addr, conn: Arc::new(conn) };
        let served = serve_connection(stream, peer, app.clone(), http.clone(), shutdown.clone(), cut.clone());
        connections.spawn(served);
    }
    drop(listener);
    connections.close();
    edge.sessions.close();
    let everything = async {
        connections.wait().await;
        edge.sessions.wait().await;
    };
    if tokio::time::timeout(edge.config.shutdown_grace, everything).await.is_err() {
        tracing::warn!(
            requests = connections.len(),
            websockets = edge.sessions.len(),
            grace_ms = edge.config.shutdown_grace.as_millis() as u64,
            "shutdown grace is over: closing the connections still open"
        );
        cut.cancel();
        connections.wait().await;
    }
}

async fn serve_connection(
    stream: TcpStream,
    peer: Peer,
    app: Router,
    http: http1::Builder,
    shutdown: CancellationToken,
    cut: CancellationToken,
) {
    let conn = Arc::clone(&peer.conn);
    let addr = peer.addr;
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        peer.conn.served();
        request.extensions_mut().insert(peer.clone());
        app.clone().oneshot(request)
    });
    let mut connection = pin!(http.serve_connection(TokioIo::new(stream), service).with_upgrades());
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = conn.evicted() => return,
        () = shutdown.cancelled() => {
            // A connection that has not sent a request has nothing in flight.
            if conn.is_pending() {
                return;
            }
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                () = cut.cancelled() => return,
            }
        }
    };
    if let Err(err) = result {
        // Timeouts, resets and malformed requests: the client's doing.
        tracing::debug!(%err, %addr, "connection ended with an error");
    }
}

/// Per-connection failures (the client gave up) are nothing; running out of
/// descriptors is worth a warning and a pause rather than a busy loop.
async fn accept_failed(err: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    ) {
        return;
    }
    tracing::warn!(%err, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
