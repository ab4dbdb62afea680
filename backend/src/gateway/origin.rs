//! Which web pages may drive this server through a visitor's browser.
//!
//! A browser sends `Origin` with every cross-site POST and with every
//! WebSocket handshake, so a page on another site that posts to
//! `/api/v1/simulation/stop`, or opens `/ws`, names itself. Operator routes
//! and `/ws` accept a request whose `Origin` is this server itself (the
//! dashboard it serves) or one of `--allowed-origin`; clients that are not
//! browsers send no `Origin` and are let through (the operator token is
//! their check).
//!
//! DNS rebinding makes a hostile page same-origin: its name is pointed at
//! 127.0.0.1, so `Origin` and `Host` agree on the attacker's name. A server
//! listening on a loopback address therefore also wants `Host` to be a
//! loopback name (`localhost`, `127.0.0.1`, `[::1]`) or the host of an
//! allowed origin.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::api::ApiError;

/// The pages and host names this server answers browsers for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    /// Allowed origins besides the server itself, as `scheme://host[:port]`
    /// in lower case.
    allowed: Vec<String>,
    /// Whether `Host` must be a loopback name or an allowed origin's host.
    loopback_hosts_only: bool,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// `Origin` names another site.
    Origin(String),
    /// `Host` is not a name this loopback server answers to.
    Host(String),
}

impl OriginPolicy {
    /// `allowed` as validated by [`parse_origin`].
    pub fn new(allowed: Vec<String>, listen: SocketAddr) -> Self {
        Self { allowed, loopback_hosts_only: listen.ip().is_loopback() }
    }

    /// Checks a request's `Host` and `Origin` headers.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refused> {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        if let Some(host) = &host
            && self.loopback_hosts_only
            && !is_loopback_name(hostname(host))
            && !self
                .allowed
                .iter()
                .any(|origin| authority(origin) == host || host_of(origin) == hostname(host))
        {
            return Err(Refused::Host(host.clone()));
        }
        let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
        let origin = origin.to_str().unwrap_or("null").trim().to_ascii_lowercase();
        let same_site = host.as_deref().is_some_and(|host| authority(&origin) == host);
        if same_site || self.allowed.contains(&origin) { Ok(()) } else { Err(Refused::Origin(origin)) }
    }
}

/// Lets a request through only from this server's own pages, allowed
/// origins, or clients that are not browsers.
pub async fn require_same_site(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match state.origins.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => refusal(&refused).into_response(),
    }
}

/// The JSON `403` for a refused request.
pub fn refusal(refused: &Refused) -> ApiError {
    let message = match refused {
        Refused::Origin(origin) => format!(
            "requests from pages at {origin:?} are not accepted; the operator can allow it with --allowed-origin"
        ),
        Refused::Host(host) => format!(
            "this server listens on a loopback address and does not answer to the name {host:?} \
             (DNS rebinding); use localhost or 127.0.0.1, or allow it with --allowed-origin"
        ),
    };
    ApiError::new(StatusCode::FORBIDDEN, "forbidden_origin", message)
}

/// Validates an `--allowed-origin` value: `http(s)://host[:port]`, nothing
/// after it; returned in lower case.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(|| format!("{raw:?} is not an origin: write it as http(s)://host[:port]"))?;
    let legal = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
    if rest.is_empty() || !rest.chars().all(legal) {
        return Err(format!("{raw:?} is not an origin: write it as http(s)://host[:port], with no path"));
    }
    Ok(origin)
}

/// `host[:port]` of an origin (`scheme://host[:port]`).
fn authority(origin: &str) -> &str {
    origin.split_once("://").map_or(origin, |(_, rest)| rest)
}

/// The host of an origin, without its port.
fn host_of(origin: &str) -> &str {
    hostname(authority(origin))
}

/// The host name of `host[:port]` (an IPv6 literal keeps its brackets).
fn hostname(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority.rsplit_once(':').map_or(authority, |(host, _port)| host)
}

/// A loopback name, or a `*.localhost` one (browsers resolve those to
/// loopback themselves, so a page cannot rebind them).
fn is_loopback_name(host: &str) -> bool {
    host.ends_with(".localhost") || crate::common::net::is_loopback_host(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(host: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(header::HOST, HeaderValue::from_str(host).expect("ascii"));
        }
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).expect("ascii"));
        }
        headers
    }

    fn loopback(allowed: &[&str]) -> OriginPolicy {
        let allowed = allowed.iter().map(|o| parse_origin(o).expect("valid")).collect();
        OriginPolicy::new(allowed, "127.0.0.1:8080".parse().expect("address"))
    }

    #[test]
    fn the_servers_own_pages_and_non_browsers_pass() {
        let policy = loopback(&[]);
        assert_eq!(policy.check(&headers(Some("127.0.0.1:8080"), Some("http://127.0.0.1:8080"))), Ok(()));
        assert_eq!(policy.check(&headers(Some("localhost:8080"), Some("http://localhost:8080"))), Ok(()));
        assert_eq!(policy.check(&headers(Some("[::1]:8080"), Some("http://[::1]:8080"))), Ok(()));
        assert_eq!(policy.check(&headers(Some("127.0.0.1:8080"), None)), Ok(()), "curl sends no Origin");
        assert_eq!(policy.check(&headers(None, None)), Ok(()));
    }

    #[test]
    fn other_sites_are_refused() {
        let policy = loopback(&[]);
        let evil = headers(Some("127.0.0.1:8080"), Some("https://evil.example"));
        assert_eq!(policy.check(&evil), Err(Refused::Origin("https://evil.example".into())));
        let null = headers(Some("127.0.0.1:8080"), Some("null"));
        assert!(matches!(policy.check(&null), Err(Refused::Origin(_))), "sandboxed frames send null");
        let other_port = headers(Some("127.0.0.1:8080"), Some("http://127.0.0.1:9999"));
        assert!(matches!(policy.check(&other_port), Err(Refused::Origin(_))));
    }

    #[test]
    fn a_rebound_name_is_refused_on_loopback_only() {
        let rebound = headers(Some("evil.example:8080"), Some("http://evil.example:8080"));
        assert_eq!(loopback(&[]).check(&rebound), Err(Refused::Host("evil.example:8080".into())));
        let open = OriginPolicy::new(Vec::new(), "0.0.0.0:8080".parse().expect("address"));
        assert_eq!(open.check(&rebound), Ok(()), "a public server is reached by any name");
    }

    #[test]
    fn allowed_origins_pass_with_their_host() {
        let policy = loopback(&["https://Ops.Example.com/"]);
        let ops = headers(Some("127.0.0.1:8080"), Some("https://ops.example.com"));
        assert_eq!(policy.check(&ops), Ok(()));
        let proxied = headers(Some("ops.example.com"), Some("https://ops.example.com"));
        assert_eq!(policy.check(&proxied), Ok(()), "behind a proxy that keeps the Host");
    }

    #[test]
    fn origins_are_validated() {
        assert_eq!(parse_origin("http://localhost:3000"), Ok("http://localhost:3000".into()));
        assert!(parse_origin("localhost:3000").is_err());
        assert!(parse_origin("https://a.example/path").is_err());
        assert!(parse_origin("ftp://a.example").is_err());
        assert!(parse_origin("https://").is_err());
    }
}
