//! Extractors whose rejections are [`ApiError`]s, so every mistake in a
//! query, a path or a body is answered in the one JSON shape with a stable
//! code, decided here once instead of in every handler. Each wraps axum's
//! own extractor and only translates its rejection.

use std::error::Error;

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ApiError;
use super::limit::BodyLimit;

/// Query parameters; a value of the wrong kind (`limit=abc`,
/// `indicators=maybe`) is `400 bad_query` naming the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            // Query's only rejection is a query string that does not deserialize.
            Err(rejection) => {
                Err(ApiError::bad_request("bad_query", format!("bad query parameter {}", detail(&rejection))))
            }
        }
    }
}

/// Path parameters; one that is not UTF-8 once percent-decoded (`%FF`) is
/// `400 bad_path`. A route whose parameters do not fit its handler is this
/// server's bug: `500 internal`.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

fn path_rejection(rejection: &PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    match rejection {
        PathRejection::FailedToDeserializePathParams(failed) => match failed.kind() {
            ErrorKind::InvalidUtf8InPathParam { key } => ApiError::bad_request(
                "bad_path",
                format!("the {key} in the path is not UTF-8 once percent-decoded: encode it as UTF-8"),
            ),
            _ if failed.status().is_client_error() => ApiError::bad_request("bad_path", failed.body_text()),
            _ => ApiError::internal(&failed.body_text()),
        },
        other => ApiError::internal(&other.body_text()),
    }
}

/// A JSON body, and a JSON response. Malformed JSON is `400 bad_body`, JSON
/// of the wrong shape `422 bad_body`, another content type `415 bad_body`,
/// a body over the route's bound `413 too_large`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = request.extensions().get::<BodyLimit>().copied();
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::BytesRejection(rejection)) => Err(bytes_rejection(&rejection, limit)),
            Err(rejection @ JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                rejection.status(),
                "bad_body",
                "send the body as JSON, with Content-Type: application/json",
            )),
            Err(rejection @ JsonRejection::JsonSyntaxError(_)) => Err(ApiError::new(
                rejection.status(),
                "bad_body",
                format!("the body is not valid JSON: {}", detail(&rejection)),
            )),
            Err(rejection) if rejection.status().is_client_error() => Err(ApiError::new(
                rejection.status(),
                "bad_body",
                format!("the JSON body does not fit this endpoint: {}", detail(&rejection)),
            )),
            Err(rejection) => Err(ApiError::internal(&rejection.body_text())),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The whole body, read once, within the route's bound (`413 too_large`
/// past it).
#[derive(Debug)]
pub struct Bytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for Bytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = request.extensions().get::<BodyLimit>().copied();
        match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) => Err(bytes_rejection(&rejection, limit)),
        }
    }
}

fn bytes_rejection(rejection: &BytesRejection, limit: Option<BodyLimit>) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE || super::limit::is_too_large(rejection) {
        return super::limit::exceeded(limit);
    }
    // Otherwise the client stopped sending, or sent a broken chunk.
    ApiError::bad_request("bad_body", format!("the request body could not be read: {}", detail(rejection)))
}

/// The body as text, checked in place (no copy): a CSV saved in another
/// encoding is `400 bad_encoding`, with where it goes wrong.
pub fn utf8(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body).map_err(|err| {
        ApiError::bad_request(
            "bad_encoding",
            format!(
                "the body is not UTF-8 text (byte {} is not UTF-8): save the file as UTF-8 and send it again",
                err.valid_up_to()
            ),
        )
    })
}

/// What went wrong, without axum's generic preface: the rejection's cause
/// (serde's message, led by the field's path), else the rejection itself.
fn detail(err: &(dyn Error + 'static)) -> String {
    err.source().map_or_else(|| err.to_string(), ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_checked_in_place_and_a_bad_byte_is_located() {
        let body = b"date,close\n2024-05-01,10\n";
        assert_eq!(utf8(body).ok().map(str::as_ptr), Some(body.as_ptr()), "the text is the body itself");
        let Err(err) = utf8(b"date,close\n\xff") else { panic!("0xFF passed as UTF-8") };
        assert_eq!((err.status(), err.code()), (StatusCode::BAD_REQUEST, "bad_encoding"));
    }
}
