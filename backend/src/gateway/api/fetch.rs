//! `POST /api/v1/fetch` (operator) and `GET /api/v1/fetch/{job}`.

use axum::extract::State;
use axum::http::StatusCode;
use marquee_shared::{FetchJob, FetchRequest};

use super::ApiError;
use super::extract::{Json, Path};
use crate::gateway::AppState;
use crate::ingest::fetch::SubmitError;

pub async fn submit(
    State(state): State<AppState>,
    Json(request): Json<FetchRequest>,
) -> Result<(StatusCode, Json<FetchJob>), ApiError> {
    let Some(fetch) = &state.fetch else {
        return Err(ApiError::unavailable(
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

pub async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<FetchJob>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "unknown_job", format!("no fetch job {id:?}"));
    if id.len() > 64 {
        return Err(not_found());
    }
    let job = state.store.job(id.clone()).await?;
    job.map(Json).ok_or_else(not_found)
}
