//! Serves the trunk-built dashboard, or says plainly that it is not built.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tower_http::services::{ServeDir, ServeFile};

/// The longest path looked up on disk. The dashboard's own paths are short;
/// past this no file can match, and the file system need not be asked.
const MAX_PATH: usize = 1024;
/// The longest file name most file systems allow (`NAME_MAX`), in bytes.
const MAX_NAME: usize = 255;

/// Files from `dir`, with `index.html` for every other path (the dashboard
/// routes in the browser). Without an `index.html`, every path answers 503
/// with instructions instead of a blank page.
pub fn router<S: Clone + Send + Sync + 'static>(dir: &Path) -> Router<S> {
    let index = dir.join("index.html");
    if index.is_file() {
        tracing::info!(dir = %dir.display(), "serving the dashboard");
        let files = ServeDir::new(dir).fallback(ServeFile::new(index));
        Router::new().fallback(move |request: Request| serve(files.clone(), request))
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

/// A file, or `index.html` for a path that names none. A path that cannot
/// name a file (too long, not UTF-8, a NUL) is `404` without asking the disk;
/// an error the disk gives for such a path anyway is `404` too. Only a
/// failure to read a file that is there is this server's fault.
async fn serve(mut files: ServeDir<ServeFile>, request: Request) -> Response {
    if !possible(request.uri().path()) {
        return not_found();
    }
    match files.try_call(request).await {
        Ok(response) => response.into_response(),
        Err(err)
            if matches!(
                err.kind(),
                std::io::ErrorKind::InvalidFilename | std::io::ErrorKind::InvalidInput
            ) =>
        {
            tracing::debug!(%err, "a static path no file can have");
            not_found()
        }
        Err(err) => {
            tracing::error!(%err, "cannot read a dashboard file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Whether a file could have this (percent-encoded) path: short enough,
/// and each segment, decoded, a UTF-8 name of at most [`MAX_NAME`] bytes
/// without NUL.
fn possible(path: &str) -> bool {
    path.len() <= MAX_PATH
        && path.split('/').all(|segment| {
            let name = percent_decode(segment);
            name.len() <= MAX_NAME && !name.contains(&0) && std::str::from_utf8(&name).is_ok()
        })
}

/// `%XX` escapes decoded; a `%` without two hex digits stays as it is.
fn percent_decode(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    decoded
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_a_file_could_have_are_looked_up() {
        assert!(possible("/"));
        assert!(possible("/assets/app-1a2b.js"));
        assert!(possible("/symbols/BRK.B"));
        assert!(possible(&format!("/{}", "a".repeat(MAX_NAME))));
        assert!(possible(&format!("/{}", "%41".repeat(MAX_NAME))), "the decoded name counts");
        assert!(!possible(&format!("/{}", "a".repeat(MAX_NAME + 1))));
        assert!(!possible(&"/a".repeat(MAX_PATH)));
        assert!(!possible("/%FF"), "not UTF-8");
        assert!(!possible("/a%00b"), "a NUL");
        assert!(possible("/100%"), "a lone % is a character");
    }

    #[test]
    fn escapes_decode_and_broken_ones_stay() {
        assert_eq!(percent_decode("a%20b"), b"a b");
        assert_eq!(percent_decode("%e2%82%ac"), "€".as_bytes());
        assert_eq!(percent_decode("%zz%4"), b"%zz%4");
    }
}
