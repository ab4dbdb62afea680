//! The REST API under `/api/v1`.
//!
//! Every answer that is not a success is an [`ApiError`]: `extract` turns
//! bad queries, paths and bodies into one, `limit` bounds bodies, `auth`
//! guards operator endpoints, and unknown routes and methods get one too.

mod auth;
mod error;
pub(crate) mod extract;
mod fetch;
mod forward;
pub(crate) mod history;
pub(crate) mod import;
mod limit;
pub(crate) mod market;
pub mod openapi;
pub(crate) mod params;
mod replay;
mod simulation;
mod test_alert;

use axum::Router;
use axum::extract::{DefaultBodyLimit, OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::routing::{MethodRouter, get, post, put};
pub use error::ApiError;
pub use limit::{CONTROL_BODY, IMPORT_BODY};

use super::AppState;
use crate::config::Role;

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/ws-schema.json", get(openapi::ws_schema))
        .route("/symbols", get(market::symbols))
        .route("/quotes/{symbol}", get(market::quote))
        .route("/bars/{symbol}", get(history::bars))
        .route("/companies/{symbol}", get(market::company))
        .route("/ticks/{symbol}", get(market::ticks))
        .route("/events", get(market::events))
        .route("/indicators/{symbol}", get(history::indicators))
        .route("/alerts", get(market::alerts))
        .route("/alerts/test", operator(state, Role::Receiver, CONTROL_BODY, post(test_alert::send)))
        .route("/simulation", get(simulation::state))
        .route("/fetch/{job}", served_by(state, Role::Ingest, CONTROL_BODY, get(fetch::job)))
        .route("/fetch", operator(state, Role::Ingest, CONTROL_BODY, post(fetch::submit)))
        .route("/import", operator(state, Role::Ingest, IMPORT_BODY, post(import::import)))
        .route("/simulation/speed", operator(state, Role::Driver, CONTROL_BODY, put(simulation::speed)))
        .route("/simulation/{action}", operator(state, Role::Driver, CONTROL_BODY, post(simulation::act)))
        .route(
            "/replay",
            served_by(state, Role::Driver, CONTROL_BODY, get(replay::state)).merge(operator(
                state,
                Role::Driver,
                CONTROL_BODY,
                post(replay::start).delete(replay::stop),
            )),
        )
        // Applies to the routes above, so it comes after them.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}

/// Any path under `/api` that names no endpoint.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// An operator endpoint. Its layers run outside in: the request's origin
/// (a browser page on another site is refused), then the token is checked
/// before a byte of the body is read, then the body is bounded, then the
/// request is served here or forwarded. Route layers leave a wrong method's
/// 405 alone.
fn operator(
    state: &AppState,
    role: Role,
    max_body: usize,
    endpoint: MethodRouter<AppState>,
) -> MethodRouter<AppState> {
    served_by(state, role, max_body, endpoint)
        .route_layer(from_fn_with_state(state.clone(), auth::require_operator))
        // Outermost: a page on another site is turned away first.
        .route_layer(from_fn_with_state(state.clone(), crate::gateway::origin::require_same_site))
}

/// An endpoint of `role`'s stage, with its body bounded to `max_body` bytes
/// both here and on the way to the process that serves it.
fn served_by(
    state: &AppState,
    role: Role,
    max_body: usize,
    endpoint: MethodRouter<AppState>,
) -> MethodRouter<AppState> {
    let forward =
        move |state: State<AppState>, request: Request, next: Next| forward::to(role, state, request, next);
    endpoint
        .route_layer(from_fn_with_state(state.clone(), forward))
        // axum's extractors apply their own 2 MB default; make them agree.
        .route_layer(DefaultBodyLimit::max(max_body))
        .route_layer(from_fn(move |request: Request, next: Next| limit::bound(max_body, request, next)))
}

pub async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}: the Allow header lists the methods it takes", uri.path()),
    )
}
