//! Operations endpoints.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorBody, HttpError};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// 200 when the database answers, 503 when it does not.
#[utoipa::path(
    get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "The database does not answer", body = ErrorBody),
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    // Known down: say so at once. Otherwise ask, but no longer than the watcher would wait.
    if state.db_watch.is_down() {
        return HttpError(AppError::Unavailable).into_response();
    }
    match nightmarket_services::health::database_answers(&state.ctx).await {
        Ok(()) => (StatusCode::OK, axum::Json(Health { status: "ok".into() })).into_response(),
        Err(err) => HttpError(err).into_response(),
    }
}
