//! `POST /api/v1/import?symbol=X` with a CSV body (operator).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::auth::authorize;
use crate::gateway::AppState;
use crate::ingest::{self, ImportError};

#[derive(Debug, Deserialize)]
pub struct ImportParams {
    symbol: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Imported {
    symbol: String,
    records: u64,
}

pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<ImportParams>,
    body: String,
) -> Result<Json<Imported>, ApiError> {
    authorize(&state, &headers)?;
    let symbol =
        params.symbol.ok_or_else(|| ApiError::bad_request("bad_symbol", "give the symbol: ?symbol=XYZ"))?;
    match ingest::import_csv(&state.store, &state.events, &symbol, &body, |_| {}).await {
        Ok(records) => Ok(Json(Imported { symbol: symbol.trim().to_ascii_uppercase(), records })),
        Err(ImportError::Symbol(message)) => Err(ApiError::bad_request("bad_symbol", message)),
        Err(ImportError::Csv(err)) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_csv", err.to_string()))
        }
        Err(ImportError::Store(err)) => Err(err.into()),
    }
}
