//! Patrol without a signal over JSON: what an inspector's phone downloads for a market, and the
//! inspections it recorded offline, sent when the signal returns (the patrol app at
//! `/official/patrol` uses both with its session).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::extract::{Json, Path};
use crate::i18n::ReqLang;
use crate::state::AppState;
use nightmarket_services::patrol::{self, OfflineInspection, PatrolPack, SyncOutcome};

/// A market's stalls (colour and causes as of now), the tenant's code keys and the problem list
/// with points, for a phone to keep (inspectors).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/patrol/markets/{market}", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    responses(
        (status = 200, body = PatrolPack),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "No permission to inspect", body = ErrorBody),
        (status = 404, description = "No such market in your tenant", body = ErrorBody),
    )
)]
pub async fn pack(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    TenantUser(user): TenantUser,
    Path((_tenant, market)): Path<(String, Uuid)>,
) -> HttpResult<Json<PatrolPack>> {
    Ok(Json(patrol::pack(&state.ctx, &user, lang, market).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SyncRequest {
    /// At most 100 at a time.
    #[schema(max_items = 100)]
    pub inspections: Vec<OfflineInspection>,
}

#[derive(Serialize, ToSchema)]
pub struct SyncResponse {
    pub results: Vec<SyncOutcome>,
}

/// Send inspections recorded offline (inspectors). Each is applied once, under the id the phone
/// made and at the time it was recorded; the answer says for each whether it was applied, had
/// been before, or was refused (nothing written), and what changed since the download.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/patrol/inspections", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = SyncRequest,
    responses(
        (status = 200, body = SyncResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "No permission to inspect", body = ErrorBody),
        (status = 404, description = "Not your tenant", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "More than 100 at once", body = ErrorBody),
    )
)]
pub async fn sync(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    TenantUser(user): TenantUser,
    Path(_tenant): Path<String>,
    Json(body): Json<SyncRequest>,
) -> HttpResult<Json<SyncResponse>> {
    let results = patrol::sync(&state.ctx, &user, lang, &body.inspections).await?;
    Ok(Json(SyncResponse { results }))
}
