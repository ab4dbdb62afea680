//! `POST /api/v1/import?symbol=X` with a CSV body (operator).

use axum::extract::State;
use axum::http::StatusCode;
use marquee_shared::Imported;
use serde::Deserialize;

use super::ApiError;
use super::extract::{self, Bytes, Json, Query};
use crate::gateway::AppState;
use crate::ingest::{self, ImportError};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The symbol the bars belong to.
    pub(crate) symbol: Option<String>,
    /// Replace the symbol's bars from another source (see `ingest::sources`).
    #[serde(default)]
    pub(crate) replace: bool,
}

/// The body is read once, within [`super::IMPORT_BODY`], and parsed where it
/// lies: checking it is UTF-8 does not copy it.
/// Store a CSV of daily bars (`date,open,high,low,close,volume`), all rows or none.
#[utoipa::path(post, path = "/api/v1/import", operation_id = "import_csv", tag = "ingest", security(("operator" = [])), params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "UTF-8, at most 16 MiB"),
    responses((status = 200, body = Imported),
        (status = 409, description = "`mixed_sources`: another real source without `replace=true`", body = marquee_shared::ApiError),
        (status = 422, description = "`bad_csv`, naming the line", body = marquee_shared::ApiError)))]
pub async fn import(
    State(state): State<AppState>,
    Query(params): Query<ImportParams>,
    Bytes(body): Bytes,
) -> Result<Json<Imported>, ApiError> {
    let symbol =
        params.symbol.ok_or_else(|| ApiError::bad_request("bad_symbol", "give the symbol: ?symbol=XYZ"))?;
    let csv = extract::utf8(&body)?;
    match ingest::import_csv(&state.store, &state.events, &symbol, csv, params.replace, |_| {}).await {
        Ok(stored) => Ok(Json(Imported {
            symbol: symbol.trim().to_ascii_uppercase(),
            records: stored.records,
            replaced: stored.replaced,
        })),
        Err(ImportError::Mixed(mixed)) => {
            Err(ApiError::new(StatusCode::CONFLICT, "mixed_sources", mixed.to_string()))
        }
        Err(ImportError::Symbol(message)) => Err(ApiError::bad_request("bad_symbol", message)),
        Err(ImportError::Csv(err)) => {
            Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_csv", err.to_string()))
        }
        Err(ImportError::Store(err)) => Err(err.into()),
    }
}
