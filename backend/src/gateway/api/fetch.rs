//! `POST /api/v1/fetch` (operator) and `GET /api/v1/fetch/{job}`.

use axum::extract::State;
use axum::http::StatusCode;
use marquee_shared::{FetchJob, FetchRequest};

use super::ApiError;
use super::extract::{Json, Path};
use crate::gateway::AppState;
use crate::ingest::fetch::SubmitError;

/// Fetch symbols from Alpha Vantage in the background.
#[utoipa::path(post, path = "/api/v1/fetch", operation_id = "fetch_submit", tag = "ingest", security(("operator" = [])),
    request_body = FetchRequest,
    responses((status = 202, description = "The job, queued", body = FetchJob),
        (status = 422, description = "`bad_request`", body = marquee_shared::ApiError),
        (status = 429, description = "`busy`: too many jobs waiting", body = marquee_shared::ApiError),
        (status = 409, description = "`no_api_key`: the server has no Alpha Vantage key", body = marquee_shared::ApiError),
        (status = 503, description = "`unavailable`: the fetcher has stopped (shutdown)", body = marquee_shared::ApiError)))]
pub async fn submit(
    State(state): State<AppState>,
    Json(request): Json<FetchRequest>,
) -> Result<(StatusCode, Json<FetchJob>), ApiError> {
    // Not a failure of the server: a feature this one was not given a key for.
    let Some(fetch) = &state.fetch else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_api_key",
            "fetching needs an Alpha Vantage API key: set ALPHAVANTAGE_API_KEY and restart",
        ));
    };
    match fetch.submit(request).await {
        Ok(job) => Ok((StatusCode::ACCEPTED, Json(job))),
        Err(SubmitError::Invalid(message)) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", message))
        }
        Err(SubmitError::Busy) => {
            Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "busy", SubmitError::Busy.to_string()))
        }
        Err(SubmitError::Unavailable(message)) => Err(ApiError::unavailable(message)),
        Err(SubmitError::Store(err)) => Err(err.into()),
    }
}

/// A fetch job's progress.
#[utoipa::path(get, path = "/api/v1/fetch/{job}", operation_id = "fetch_job", tag = "ingest",
    params(("job" = String, Path, description = "The id `POST /api/v1/fetch` answered")),
    responses((status = 200, body = FetchJob),
        (status = 404, description = "`unknown_job`", body = marquee_shared::ApiError)))]
pub async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<FetchJob>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "unknown_job", format!("no fetch job {id:?}"));
    if id.len() > 64 {
        return Err(not_found());
    }
    let job = state.store.job(id.clone()).await?;
    job.map(Json).ok_or_else(not_found)
}
