//! Serves the trunk-built dashboard, or says plainly that it is not built.

use std::path::Path;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use tower_http::services::{ServeDir, ServeFile};

/// Files from `dir`, with `index.html` for every other path (the dashboard
/// routes in the browser). Without an `index.html`, every path answers 503
/// with instructions instead of a blank page.
pub fn router<S: Clone + Send + Sync + 'static>(dir: &Path) -> Router<S> {
    let index = dir.join("index.html");
    if index.is_file() {
        tracing::info!(dir = %dir.display(), "serving the dashboard");
        Router::new().fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)))
    } else {
        tracing::warn!(
            dir = %dir.display(),
            "the dashboard is not built: no index.html; run `trunk build --release` in the repository root \
             (README command 1 does it) or point --static-dir at a built dist directory"
        );
        let dir = dir.display().to_string();
        Router::new().fallback(move || not_built(dir.clone()))
    }
}

async fn not_built(dir: String) -> impl IntoResponse {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Marquee: dashboard not built</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\">\
         <h1>The Marquee dashboard has not been built</h1>\
         <p>The server is running (see <a href=\"/health\">/health</a>), but there is no <code>index.html</code> \
         in <code>{}</code>.</p>\
         <p>Build it with <code>trunk build --release</code> in the repository root (README command 1 does this \
         for you), or start <code>marquee serve --static-dir DIR</code> with a built dashboard.</p></body></html>",
        escape(&dir)
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(body))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
