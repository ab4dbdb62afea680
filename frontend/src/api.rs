//! The REST API as the dashboard calls it. Operator calls carry the token
//! the user typed (held in memory only); a 401 is reported as such so the
//! page can ask for one.

use gloo_net::http::{Request, RequestBuilder, Response};
use marquee_shared::ApiError;
use serde::de::DeserializeOwned;

/// Why a call failed, in words for the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The server wants an operator token (none given, or a wrong one).
    Unauthorized(String),
    /// The server answered with an error.
    Rejected(String),
    /// No answer: the server is down or the network failed.
    Network(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Unauthorized(m) | Failure::Rejected(m) | Failure::Network(m) => m,
        }
    }
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, Failure> {
    send(Request::get(path), None, None).await
}

/// An operator call with an optional JSON or text body.
pub async fn operate<T: DeserializeOwned>(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Body>,
) -> Result<T, Failure> {
    let builder = match method {
        "PUT" => Request::put(path),
        "DELETE" => Request::delete(path),
        _ => Request::post(path),
    };
    send(builder, token, body).await
}

/// A request body and its content type.
#[derive(Debug, Clone)]
pub struct Body {
    pub content_type: &'static str,
    pub text: String,
}

async fn send<T: DeserializeOwned>(
    mut builder: RequestBuilder,
    token: Option<&str>,
    body: Option<Body>,
) -> Result<T, Failure> {
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder.header("Content-Type", body.content_type).body(body.text),
        None => builder.build(),
    }
    .map_err(|err| Failure::Network(err.to_string()))?;
    let response = request.send().await.map_err(|err| Failure::Network(err.to_string()))?;
    if response.ok() {
        response.json::<T>().await.map_err(|err| Failure::Rejected(format!("unexpected answer: {err}")))
    } else {
        Err(failure(response).await)
    }
}

async fn failure(response: Response) -> Failure {
    let status = response.status();
    let message = match response.json::<ApiError>().await {
        Ok(body) => body.error.message,
        Err(_) => format!("HTTP {status}"),
    };
    if status == 401 { Failure::Unauthorized(message) } else { Failure::Rejected(message) }
}
