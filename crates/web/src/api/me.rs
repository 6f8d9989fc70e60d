//! The signed-in person's own things: notices, a vendor's payout account, and the tenant's settings.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{AuthUser, TenantUser};
use crate::error::{AppError, ErrorBody, HttpResult};
use crate::http::extract::Json;
use crate::i18n::ReqLang;
use crate::state::AppState;
use nightmarket_services::payees::{self, Payee};
use nightmarket_services::settings::Settings;
use nightmarket_services::{notices, settings};

#[derive(Serialize, ToSchema)]
pub struct Notice {
    pub id: Uuid,
    pub kind: String,
    /// In the request's language.
    pub text: String,
    pub link: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read: bool,
}

/// The signed-in person's notices, newest first.
#[utoipa::path(
    get, path = "/api/v1/me/notifications", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = [Notice]), (status = 401, description = "Not signed in", body = ErrorBody))
)]
pub async fn notifications(
    State(state): State<AppState>,
    ReqLang(lang): ReqLang,
    user: AuthUser,
) -> HttpResult<Json<Vec<Notice>>> {
    let list = notices::inbox(&state.ctx, &user, 200).await?.notices;
    Ok(Json(
        list.into_iter()
            .map(|n| Notice {
                text: notices::render(lang, &n.kind, &n.args),
                id: n.id,
                kind: n.kind,
                link: n.link,
                created_at: n.created_at,
                read: n.read_at.is_some(),
            })
            .collect(),
    ))
}

/// Mark every notice read.
#[utoipa::path(
    post, path = "/api/v1/me/notifications/read", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Done"), (status = 401, description = "Not signed in", body = ErrorBody))
)]
pub async fn mark_read(State(state): State<AppState>, user: AuthUser) -> HttpResult<StatusCode> {
    notices::mark_all_read(&state.ctx, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's settings (staff).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/settings", tag = "staff",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = Settings), (status = 403, description = "Not staff", body = ErrorBody))
)]
pub async fn get_settings(State(state): State<AppState>, TenantUser(user): TenantUser) -> HttpResult<Json<Settings>> {
    Ok(Json(settings::get(&state.ctx, &user).await?))
}

/// Change the tenant's settings (tenant admin).
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/settings", tag = "staff",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = Settings,
    responses(
        (status = 200, body = Settings),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 422, description = "Out of range", body = ErrorBody),
    )
)]
pub async fn put_settings(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Json(body): Json<Settings>,
) -> HttpResult<Json<Settings>> {
    Ok(Json(settings::save(&state.ctx, &user, &body).await?))
}

/// Where a vendor's voucher subsidy is paid, as given.
#[derive(serde::Deserialize, ToSchema)]
pub struct PayeeBody {
    /// The account holder's full name (2–30 characters).
    pub holder: String,
    /// Bank and branch (2–60 characters).
    pub bank: String,
    /// Card or business account number: 12–30 digits, spaces and dashes allowed.
    pub account: String,
}

/// The signed-in vendor's payout account, masked.
#[utoipa::path(
    get, path = "/api/v1/me/payee", tag = "vouchers",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Payee),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 404, description = "No payout account given yet", body = ErrorBody),
    )
)]
pub async fn get_payee(State(state): State<AppState>, user: AuthUser) -> HttpResult<Json<Payee>> {
    Ok(Json(payees::own(&state.ctx, &user).await?.ok_or(AppError::NotFound)?))
}

/// Give or change the signed-in vendor's payout account (audited); answers it masked.
#[utoipa::path(
    put, path = "/api/v1/me/payee", tag = "vouchers",
    security(("bearer" = [])),
    request_body = PayeeBody,
    responses(
        (status = 200, body = Payee),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 422, description = "A field is missing or malformed", body = ErrorBody),
    )
)]
pub async fn put_payee(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<PayeeBody>,
) -> HttpResult<Json<Payee>> {
    Ok(Json(
        payees::save(&state.ctx, &user, &body.holder, &body.bank, &body.account).await?,
    ))
}
