//! The one error type of the REST edge: `{"error": {"code", "message"}}`
//! with the right status. Internal details are logged once, not returned.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use marquee_shared::{ApiError as Body, ApiErrorBody};

use crate::driver::{ControlError, Refusal};
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// The machine-readable code clients branch on (`bad_query`, `too_large`, ...).
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unknown_symbol(symbol: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "unknown_symbol", format!("no data is stored for symbol {symbol}"))
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this operator action needs the operator token (Authorization: Bearer <token>)",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// A fault of this server, not of the request: logged once here, at
    /// error level, and answered without the details.
    pub fn internal(detail: &str) -> Self {
        tracing::error!(detail, "internal error while serving a request");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed to answer; see its log")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: ApiErrorBody { code: self.code.to_owned(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!(%err, "store error while serving a request");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", "the store cannot answer right now")
    }
}

impl From<ControlError> for ApiError {
    fn from(err: ControlError) -> Self {
        match err {
            ControlError::Refused(refusal @ Refusal::BadSpeed(_)) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_speed", refusal.to_string())
            }
            ControlError::Refused(refusal @ Refusal::NothingToReplay) => {
                Self::new(StatusCode::NOT_FOUND, "no_ticks", refusal.to_string())
            }
            ControlError::Refused(refusal) => Self::new(StatusCode::CONFLICT, "refused", refusal.to_string()),
            ControlError::Store(err) => err.into(),
            ControlError::Stopped => Self::unavailable("the simulation driver has stopped"),
            err @ ControlError::Elsewhere => Self::unavailable(err.to_string()),
        }
    }
}
