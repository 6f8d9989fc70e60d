//! Sign-in for API clients: a bearer token, the same session as the pages' cookie.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::client::ClientIp;
use crate::http::extract::Json;
use crate::state::AppState;
use nightmarket_domain::people::{Permission, Role};
use nightmarket_services::accounts::{self, Session};

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The tenant's slug, e.g. `nanan`.
    #[schema(example = "nanan")]
    pub tenant: String,
    /// A staff user name, or a vendor's mobile number.
    #[schema(example = "admin")]
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub role: Role,
    /// When true, only `POST /api/v1/auth/password` (and sign-out) are allowed until the
    /// one-time password is replaced.
    pub must_change_password: bool,
}

impl From<Session> for LoginResponse {
    fn from(s: Session) -> LoginResponse {
        LoginResponse {
            token: s.token,
            expires_at: s.expires_at,
            role: s.role,
            must_change_password: s.must_change_password,
        }
    }
}

/// Sign in.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong tenant, login or password", body = ErrorBody),
        (status = 429, description = "Too many attempts for this account or address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> HttpResult<Json<LoginResponse>> {
    let session = accounts::sign_in(&state.ctx, ip, &body.tenant, &body.login, &body.password).await?;
    Ok(Json(session.into()))
}

/// Sign out everywhere: every token of the account stops working.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn logout(State(state): State<AppState>, user: AuthUser) -> HttpResult<axum::http::StatusCode> {
    accounts::sign_out(&state.ctx, &user).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub tenant: String,
    pub tenant_name: String,
    pub role: Role,
    pub display_name: String,
    pub permissions: Vec<Permission>,
}

/// The signed-in account.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
pub async fn me(user: AuthUser) -> Json<Me> {
    let permissions = Permission::ALL.into_iter().filter(|p| user.has(*p)).collect();
    Json(Me {
        id: user.id,
        tenant: user.tenant.slug.clone(),
        tenant_name: user.tenant.name.clone(),
        role: user.role,
        display_name: user.display_name.clone(),
        permissions,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

/// Replace one's own password; answers a new token (the old ones are revoked).
#[utoipa::path(
    post, path = "/api/v1/auth/password", tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Current password wrong or new one too weak", body = ErrorBody),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    Json(body): Json<ChangePasswordRequest>,
) -> HttpResult<Json<LoginResponse>> {
    let session = accounts::change_password(
        &state.ctx,
        &user,
        &body.current_password,
        &body.new_password,
        &body.new_password,
    )
    .await?;
    Ok(Json(session.into()))
}
