//! Vendors sign up over JSON: a code to the phone, then the code and a password.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::LoginResponse;
use crate::error::{ErrorBody, HttpResult};
use crate::http::client::ClientIp;
use crate::http::extract::{Json, Path};
use crate::state::AppState;
use nightmarket_services::vendors;

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    /// A mainland mobile number (+86 or 0086 may lead, spaces and dashes are ignored).
    #[schema(pattern = "^1(3[0-9]|4[5-9]|[5-9][0-9])[0-9]{8}$", example = "13912345678")]
    pub phone: String,
}

#[derive(Serialize, ToSchema)]
pub struct CodeSent {
    /// The number the code went to, masked.
    pub phone: String,
    /// How long the code is valid.
    pub expires_in_seconds: i64,
}

/// Send a sign-up code by SMS (at most one a minute and ten a day per number).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/signup/code", tag = "vendors",
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = CodeRequest,
    responses(
        (status = 202, body = CodeSent),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "The number is already registered here", body = ErrorBody),
        (status = 422, description = "Not a mainland mobile number", body = ErrorBody),
        (status = 429, description = "Too soon or too many; see Retry-After", body = ErrorBody),
    )
)]
pub async fn request_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(tenant): Path<String>,
    Json(body): Json<CodeRequest>,
) -> HttpResult<(StatusCode, Json<CodeSent>)> {
    let tenant = state.ctx.tenant(&tenant).await?;
    let phone = vendors::request_code(&state.ctx, &tenant, &body.phone, ip).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CodeSent {
            phone: phone.masked(),
            expires_in_seconds: nightmarket_services::otp::TTL_MINUTES * 60,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SignupRequest {
    /// The number the code was sent to.
    #[schema(pattern = "^1(3[0-9]|4[5-9]|[5-9][0-9])[0-9]{8}$", example = "13912345678")]
    pub phone: String,
    /// The six digits sent by SMS.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 200)]
    pub password: String,
}

/// Create the vendor account; answers a session token.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/signup", tag = "vendors",
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = SignupRequest,
    responses(
        (status = 201, body = LoginResponse),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "Already registered", body = ErrorBody),
        (status = 422, description = "Wrong, used or expired code; weak password", body = ErrorBody),
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    Json(body): Json<SignupRequest>,
) -> HttpResult<(StatusCode, Json<LoginResponse>)> {
    let tenant = state.ctx.tenant(&tenant).await?;
    let session = vendors::sign_up(
        &state.ctx,
        &tenant,
        &body.phone,
        &body.code,
        &body.password,
        &body.password,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(session.into())))
}
