//! A tenant's staff accounts over JSON (tenant admins only).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::extract::{Json, Path};
use crate::state::AppState;
use nightmarket_domain::people::{Permission, Role};
use nightmarket_services::accounts::{self, NewStaff, StaffMember};

/// The tenant's admins and officials.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/staff", tag = "staff",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses(
        (status = 200, body = [StaffMember]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "Not your tenant", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>, TenantUser(user): TenantUser) -> HttpResult<Json<Vec<StaffMember>>> {
    Ok(Json(accounts::list_staff(&state.ctx, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateStaffRequest {
    /// admin or official
    #[schema(value_type = String, pattern = "^(admin|official)$")]
    pub role: Role,
    /// 2–32 of a–z, 0–9, '.', '_', '-'
    #[schema(example = "li.wei")]
    pub login: String,
    #[schema(example = "李伟")]
    pub display_name: String,
    /// For officials; admins hold every permission.
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Serialize, ToSchema)]
pub struct StaffWithPassword {
    pub member: StaffMember,
    /// Shown once; the person must replace it at first sign-in.
    pub one_time_password: String,
}

/// Create an admin or official with a one-time password.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/staff", tag = "staff",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = CreateStaffRequest,
    responses(
        (status = 201, body = StaffWithPassword),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 409, description = "Login already taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_tenant): Path<String>,
    Json(body): Json<CreateStaffRequest>,
) -> HttpResult<(StatusCode, Json<StaffWithPassword>)> {
    let input = NewStaff {
        role: body.role,
        login: body.login,
        display_name: body.display_name,
        permissions: body.permissions,
    };
    let (member, one_time_password) = accounts::create_staff(&state.ctx, &user, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffWithPassword {
            member,
            one_time_password,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PermissionsRequest {
    pub permissions: Vec<Permission>,
}

/// Set exactly which permissions an official holds.
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/staff/{user}/permissions", tag = "staff",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("user" = Uuid, Path, description = "Staff member id")),
    request_body = PermissionsRequest,
    responses(
        (status = 200, body = StaffMember),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such staff member in your tenant", body = ErrorBody),
        (status = 409, description = "Admins hold every permission", body = ErrorBody),
    )
)]
pub async fn set_permissions(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<PermissionsRequest>,
) -> HttpResult<Json<StaffMember>> {
    Ok(Json(
        accounts::set_permissions(&state.ctx, &user, id, body.permissions).await?,
    ))
}

/// Replace a staff member's password with a one-time one and end their sessions.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/staff/{user}/reset-password", tag = "staff",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("user" = Uuid, Path, description = "Staff member id")),
    responses(
        (status = 200, body = StaffWithPassword),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such staff member in your tenant", body = ErrorBody),
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<StaffWithPassword>> {
    let (member, one_time_password) = accounts::reset_password(&state.ctx, &user, id).await?;
    Ok(Json(StaffWithPassword {
        member,
        one_time_password,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct DisabledRequest {
    pub disabled: bool,
}

/// Disable (ending every session) or re-enable a staff account.
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/staff/{user}/disabled", tag = "staff",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("user" = Uuid, Path, description = "Staff member id")),
    request_body = DisabledRequest,
    responses(
        (status = 200, body = StaffMember),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such staff member in your tenant", body = ErrorBody),
        (status = 409, description = "Cannot disable yourself or the last admin", body = ErrorBody),
    )
)]
pub async fn set_disabled(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<DisabledRequest>,
) -> HttpResult<Json<StaffMember>> {
    Ok(Json(
        accounts::set_disabled(&state.ctx, &user, id, body.disabled).await?,
    ))
}
