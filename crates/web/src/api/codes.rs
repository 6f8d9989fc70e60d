//! Operating codes over JSON: stalls of a market, a code's colour and causes, suspension, keys.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::extract::{Json, Path};
use crate::state::AppState;
use nightmarket_domain::code::Colour;
use nightmarket_domain::market::Category;
use nightmarket_services::codes::{self, KeyDocument};
use nightmarket_services::codes::{CauseRow, CodeRow};

#[derive(Serialize, ToSchema)]
pub struct Stall {
    pub code_id: Uuid,
    pub slot: String,
    pub stall_name: String,
    pub category: Category,
    pub colour: Colour,
    /// The signed URL the QR code opens.
    pub url: String,
}

impl Stall {
    fn of(state: &AppState, c: &CodeRow) -> Stall {
        Stall {
            code_id: c.id,
            slot: c.slot_code.clone(),
            stall_name: c.stall_name.clone(),
            category: c.category,
            colour: c.colour,
            url: state.ctx.absolute_url(&codes::url_path(c)),
        }
    }
}

/// The approved stalls of a market with their colours (public).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/markets/{market}/stalls", tag = "codes",
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    responses((status = 200, body = [Stall]), (status = 404, description = "No such tenant or market", body = ErrorBody))
)]
pub async fn stalls(
    State(state): State<AppState>,
    Path((tenant, market)): Path<(String, Uuid)>,
) -> HttpResult<Json<Vec<Stall>>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    nightmarket_services::markets::get(&state.ctx, tenant.id, market).await?;
    Ok(Json(
        codes::for_market(&state.ctx, &tenant, market)
            .await?
            .iter()
            .map(|c| Stall::of(&state, c))
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Cause {
    pub kind: String,
    pub colour: Colour,
    pub note: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CodeDetail {
    #[serde(flatten)]
    pub stall: Stall,
    pub market: String,
    pub vendor: String,
    pub revoked: bool,
    /// Why the code is not green.
    pub causes: Vec<Cause>,
}

fn detail(state: &AppState, c: &CodeRow, causes: &[CauseRow]) -> CodeDetail {
    CodeDetail {
        stall: Stall::of(state, c),
        market: c.market_name.clone(),
        vendor: c.vendor_name_masked.clone(),
        revoked: c.revoked_at.is_some(),
        causes: causes
            .iter()
            .map(|k| Cause {
                kind: k.kind.clone(),
                colour: k.colour,
                note: k.note.clone(),
                since: k.created_at,
            })
            .collect(),
    }
}

/// A code with its causes (staff, or the vendor whose code it is).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/codes/{id}", tag = "codes",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    responses((status = 200, body = CodeDetail), (status = 404, description = "No such code of yours", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<CodeDetail>> {
    let (code, causes) = codes::detail(&state.ctx, &user, id).await?;
    Ok(Json(detail(&state, &code, &causes)))
}

/// The vendor's own codes.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/my/codes", tag = "codes",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [CodeDetail]), (status = 403, description = "Not a vendor", body = ErrorBody))
)]
pub async fn mine(State(state): State<AppState>, TenantUser(user): TenantUser) -> HttpResult<Json<Vec<CodeDetail>>> {
    Ok(Json(
        codes::for_vendor(&state.ctx, &user)
            .await?
            .iter()
            .map(|(c, k)| detail(&state, c, k))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SuspendRequest {
    /// Shown to the vendor; 2–200 characters.
    #[schema(min_length = 2, max_length = 200, pattern = r"\S[\s\S]*\S")]
    pub reason: String,
}

/// Suspend a code: red until an official restores it (officials with the inspect permission).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/codes/{id}/suspend", tag = "codes",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    request_body = SuspendRequest,
    responses(
        (status = 200, body = CodeDetail),
        (status = 403, description = "No inspect permission", body = ErrorBody),
        (status = 404, description = "No such code in your tenant", body = ErrorBody),
        (status = 409, description = "Already suspended, or revoked", body = ErrorBody),
        (status = 422, description = "Reason missing", body = ErrorBody),
    )
)]
pub async fn suspend(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<SuspendRequest>,
) -> HttpResult<Json<CodeDetail>> {
    codes::suspend(&state.ctx, &user, id, &body.reason).await?;
    let (code, causes) = codes::detail(&state.ctx, &user, id).await?;
    Ok(Json(detail(&state, &code, &causes)))
}

/// Lift a suspension; the colour returns to what the other causes give.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/codes/{id}/restore", tag = "codes",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    responses(
        (status = 200, body = CodeDetail),
        (status = 403, description = "No inspect permission", body = ErrorBody),
        (status = 404, description = "No such code in your tenant", body = ErrorBody),
        (status = 409, description = "Not suspended", body = ErrorBody),
    )
)]
pub async fn restore(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<CodeDetail>> {
    codes::restore(&state.ctx, &user, id).await?;
    let (code, causes) = codes::detail(&state.ctx, &user, id).await?;
    Ok(Json(detail(&state, &code, &causes)))
}

/// Withdraw a code for good, with a reason (officials with the review permission); its slot is
/// free again and its scan page says it was revoked.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/codes/{id}/revoke", tag = "codes",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    request_body = SuspendRequest,
    responses(
        (status = 200, body = CodeDetail),
        (status = 403, description = "No review permission", body = ErrorBody),
        (status = 404, description = "No such code in your tenant", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody),
        (status = 422, description = "Reason missing", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<SuspendRequest>,
) -> HttpResult<Json<CodeDetail>> {
    codes::revoke(&state.ctx, &user, id, &body.reason).await?;
    let (code, causes) = codes::detail(&state.ctx, &user, id).await?;
    Ok(Json(detail(&state, &code, &causes)))
}

/// The tenant's public keys for checking code signatures offline (also at /t/{tenant}/code-key).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/code-key", tag = "codes",
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = KeyDocument), (status = 404, description = "No such tenant", body = ErrorBody))
)]
pub async fn key_document(State(state): State<AppState>, Path(tenant): Path<String>) -> HttpResult<Json<KeyDocument>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(codes::key_document(&state.ctx, &tenant).await?))
}
