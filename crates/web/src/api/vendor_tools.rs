//! For vendors: their stall's insights, credit records (issue, list, revoke), goods-source
//! declarations; and the public check of a credit record.

use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::extract::{Json, Path};
use crate::i18n::ReqLang;
use crate::state::AppState;
use nightmarket_domain::record::SignedRecord;
use nightmarket_services::credit::{self, IssueRequest, RecordView, Verification};
use nightmarket_services::goods::{self, Declaration, SourceView};
use nightmarket_services::insights::{self, Insights};

/// Insights for one of the vendor's stalls over the last 30 nights: figures against the median of
/// the market's other stalls of the same category (at least three), scans by night and hour, tags,
/// complaint kinds, demand by category, and the suggestions the numbers support.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/me/stalls/{id}/insights", tag = "vendor tools",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id of the stall")),
    responses(
        (status = 200, body = Insights),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 404, description = "Not one of the vendor's live stalls", body = ErrorBody),
    )
)]
pub async fn stall_insights(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Insights>> {
    Ok(Json(insights::for_stall(&state.ctx, &user, id, lang).await?))
}

/// The vendor's credit records, newest first.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/me/credit-records", tag = "vendor tools",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses(
        (status = 200, body = [RecordView]),
        (status = 403, description = "Not a vendor", body = ErrorBody),
    )
)]
pub async fn records(State(state): State<AppState>, TenantUser(user): TenantUser) -> HttpResult<Json<Vec<RecordView>>> {
    Ok(Json(credit::list(&state.ctx, &user).await?))
}

/// Issue a credit record: the chosen sections, valid for the chosen days, signed with the
/// tenant's code key. Audited.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/me/credit-records", tag = "vendor tools",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = IssueRequest,
    responses(
        (status = 201, body = RecordView),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 422, description = "No or unknown sections, a validity not offered, or no stall yet", body = ErrorBody),
    )
)]
pub async fn issue(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Json(body): Json<IssueRequest>,
) -> HttpResult<(StatusCode, Json<RecordView>)> {
    Ok((
        StatusCode::CREATED,
        Json(credit::issue(&state.ctx, &user, &body).await?),
    ))
}

/// One of the vendor's records with the signed document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OwnRecord {
    pub record: RecordView,
    pub signed: SignedRecord,
}

#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/me/credit-records/{id}", tag = "vendor tools",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Record id")),
    responses(
        (status = 200, body = OwnRecord),
        (status = 404, description = "Not one of the vendor's records", body = ErrorBody),
    )
)]
pub async fn record(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<OwnRecord>> {
    let (record, signed, _) = credit::get(&state.ctx, &user, id).await?;
    Ok(Json(OwnRecord { record, signed }))
}

/// Revoke one of the vendor's records: `/verify` says so from now on. Revoking again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/me/credit-records/{id}/revoke", tag = "vendor tools",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Record id")),
    responses(
        (status = 200, body = RecordView),
        (status = 404, description = "Not one of the vendor's records", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<RecordView>> {
    Ok(Json(credit::revoke(&state.ctx, &user, id).await?))
}

/// Check a credit record by its verification code: valid, expired, revoked or forged; while it
/// is valid, what the vendor shared and the signed document. No sign-in needed.
#[utoipa::path(
    get, path = "/api/v1/verify/{code}", tag = "vendor tools",
    params(("code" = String, Path, description = "Verification code, e.g. nanan-7K3F-9QX2-M4AB")),
    responses(
        (status = 200, body = Verification),
        (status = 404, description = "No record has this code", body = ErrorBody),
    )
)]
pub async fn verify(State(state): State<AppState>, Path(code): Path<String>) -> HttpResult<Json<Verification>> {
    Ok(Json(credit::verify(&state.ctx, &code).await?))
}

/// The vendor's goods-source declarations, latest delivery first.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/me/goods-sources", tag = "vendor tools",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses(
        (status = 200, body = [SourceView]),
        (status = 403, description = "Not a vendor", body = ErrorBody),
    )
)]
pub async fn goods_sources(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
) -> HttpResult<Json<Vec<SourceView>>> {
    Ok(Json(goods::mine(&state.ctx, &user).await?.1))
}

/// Declare a delivery (food and produce stalls): supplier, place, date and a batch number (a
/// receipt photo can be added on the page instead). Audited; the scan page shows the latest.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/me/goods-sources", tag = "vendor tools",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = Declaration,
    responses(
        (status = 201, body = SourceView),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 422, description = "A field missing or wrong, or not a food or produce stall", body = ErrorBody),
    )
)]
pub async fn declare(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Json(body): Json<Declaration>,
) -> HttpResult<(StatusCode, Json<SourceView>)> {
    let id = goods::declare(&state.ctx, &user, &body, None).await?;
    let (_, list) = goods::mine(&state.ctx, &user).await?;
    let made = list
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(crate::error::AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(made)))
}
