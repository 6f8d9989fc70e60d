//! Signing in and out, passwords, and the tenant's staff accounts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::net::IpAddr;
use uuid::Uuid;

use crate::Ctx;
use crate::access::password;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::secrets::{Keys, random_password};
use nightmarket_db::users::{self, NewUser, UserRow};
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::{Permission, Phone, Role, check_password, parse_staff_login};
use nightmarket_domain::tenant::{Tenant, TenantId};

/// The stored sign-in name for what a person typed: a mobile number becomes the blind index of
/// the number (vendors), anything else must be a staff user name.
pub fn login_key(keys: &Keys, tenant: TenantId, typed: &str) -> Option<String> {
    if let Some(phone) = Phone::parse(typed) {
        return Some(phone_login_key(keys, tenant, &phone));
    }
    parse_staff_login(typed)
}

pub fn phone_login_key(keys: &Keys, tenant: TenantId, phone: &Phone) -> String {
    format!("phone:{}", keys.blind_index(tenant, "phone", phone.as_str()))
}

/// A new session.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub tenant: Tenant,
    pub user_id: Uuid,
    pub role: Role,
    pub display_name: String,
    pub must_change_password: bool,
}

/// Who a session token speaks for, checked against the database now: the token is genuine and
/// current, the account exists, is enabled, still has the role the token names and has not
/// revoked its sessions (signing out, a new password or a disabled account all do). Also says
/// whether the person must still replace a one-time password.
pub async fn session_actor(ctx: &Ctx, token: &str, request_id: Option<String>) -> AppResult<(Actor, bool)> {
    let claims = ctx.sessions.verify(token).ok_or(AppError::Unauthorized)?;
    let tenant = ctx
        .tenants
        .by_id(&ctx.db, TenantId(claims.tid))
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = users::by_id(&mut tx, claims.sub).await?.ok_or(AppError::Unauthorized)?;
    drop(tx); // read-only: rolled back
    let current = row.token_version == claims.ver && row.disabled_at.is_none() && row.role == claims.role;
    if !current {
        return Err(AppError::Unauthorized);
    }
    let must_change_password = row.must_change_password;
    let permissions = stored_permissions(&row)?;
    let actor = Actor::new(
        tenant,
        row.id,
        claims.role,
        row.login,
        row.display_name,
        permissions,
        request_id,
    );
    Ok((actor, must_change_password))
}

/// Checks a tenant, login and password; counts the attempt against the account and the client
/// address first. Every kind of failure answers the same.
pub async fn sign_in(
    ctx: &Ctx,
    client: IpAddr,
    tenant_slug: &str,
    typed_login: &str,
    pass: &str,
) -> AppResult<Session> {
    let tenant = ctx.tenants.by_slug(&ctx.db, tenant_slug.trim()).await?;
    let key = tenant.as_ref().and_then(|t| login_key(&ctx.keys, t.id, typed_login));
    let throttle_key = format!(
        "{}/{}",
        tenant_slug.trim(),
        key.as_deref().unwrap_or(typed_login.trim())
    );
    ctx.login_throttle.check(ctx.db.global(), &throttle_key, client).await?;

    let row = match (&tenant, &key) {
        (Some(t), Some(k)) => {
            let mut tx = ctx.db.tenant(t.id).await?;
            users::by_login(&mut tx, k).await?
        }
        _ => None,
    };
    let ok = password::verify(pass.to_string(), row.as_ref().map(|r| r.password_hash.clone())).await;
    let (Some(tenant), Some(row)) = (tenant, row) else {
        return Err(AppError::BadCredentials);
    };
    let role = row.role;
    if !ok || row.disabled_at.is_some() {
        tracing::info!(tenant = %tenant.slug, user = %row.id, "sign-in refused");
        return Err(AppError::BadCredentials);
    }
    tracing::info!(tenant = %tenant.slug, user = %row.id, role = role.as_str(), "signed in");
    issue_session(ctx, tenant, &row, role)
}

/// A session for an account that just proved who it is.
pub fn issue_session(ctx: &Ctx, tenant: Tenant, row: &UserRow, role: Role) -> AppResult<Session> {
    let (token, expires_at) = ctx
        .sessions
        .issue(tenant.id, row.id, role, &row.display_name, row.token_version)?;
    Ok(Session {
        token,
        expires_at,
        tenant,
        user_id: row.id,
        role,
        display_name: row.display_name.clone(),
        must_change_password: row.must_change_password,
    })
}

/// Ends every session of the user (the token version moves on).
pub async fn sign_out(ctx: &Ctx, user: &Actor) -> AppResult<()> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    users::revoke_sessions(&mut tx, user.id).await?;
    audit::record(
        &mut tx,
        &Author::of(user),
        Change::new("user.sign_out", "user", user.id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the user's own password; returns a fresh session, as the old ones are revoked.
pub async fn change_password(ctx: &Ctx, user: &Actor, current: &str, new: &str, confirm: &str) -> AppResult<Session> {
    let mut errors = Vec::new();
    if let Err(key) = check_password(new) {
        errors.push(FieldError::with("new_password", Msg::new(key)));
    } else if new != confirm {
        errors.push(FieldError::new("confirm_password", "password.mismatch"));
    } else if new == current {
        errors.push(FieldError::new("new_password", "password.unchanged"));
    }
    check(errors)?;

    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = users::by_id(&mut tx, user.id).await?.ok_or(AppError::Unauthorized)?;
    if !password::verify(current.to_string(), Some(row.password_hash.clone())).await {
        return Err(AppError::field("current_password", "password.current_wrong"));
    }
    let hash = password::hash(new.to_string()).await?;
    users::set_password(&mut tx, user.id, &hash, false).await?;
    audit::record(
        &mut tx,
        &Author::of(user),
        Change::new("user.change_password", "user", user.id),
    )
    .await?;
    let row = users::by_id(&mut tx, user.id).await?.ok_or(AppError::Unauthorized)?;
    tx.commit().await?;
    issue_session(ctx, user.tenant.clone(), &row, user.role)
}

/// A staff account as admins see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    pub id: Uuid,
    pub role: Role,
    pub login: String,
    pub display_name: String,
    pub permissions: Vec<Permission>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

impl StaffMember {
    /// The member a row of staff is; `None` for a vendor's row.
    fn from_row(row: &UserRow) -> AppResult<Option<StaffMember>> {
        let role = row.role;
        if !role.is_staff() {
            return Ok(None);
        }
        Ok(Some(StaffMember {
            id: row.id,
            role,
            login: row.login.clone(),
            display_name: row.display_name.clone(),
            permissions: if role == Role::Admin {
                Permission::ALL.to_vec()
            } else {
                stored_permissions(row)?
            },
            disabled: row.disabled_at.is_some(),
            must_change_password: row.must_change_password,
            created_at: row.created_at,
        }))
    }

    pub fn has(&self, p: &Permission) -> bool {
        self.permissions.contains(p)
    }
}

pub async fn list_staff(ctx: &Ctx, admin: &Actor) -> AppResult<Vec<StaffMember>> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let rows = users::list_staff(&mut tx).await?;
    Ok(rows
        .iter()
        .map(StaffMember::from_row)
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect())
}

pub struct NewStaff {
    pub role: Role,
    pub login: String,
    pub display_name: String,
    pub permissions: Vec<Permission>,
}

/// Creates an admin or official with a one-time password, returned once.
pub async fn create_staff(ctx: &Ctx, admin: &Actor, input: NewStaff) -> AppResult<(StaffMember, String)> {
    admin.require_admin()?;
    let mut errors = Vec::new();
    if !input.role.is_staff() {
        errors.push(FieldError::new("role", "staff.role_invalid"));
    }
    let login = parse_staff_login(&input.login);
    if login.is_none() {
        errors.push(FieldError::new("login", "staff.login_invalid"));
    }
    let display_name = input.display_name.trim().to_string();
    if display_name.is_empty() || display_name.chars().count() > 60 {
        errors.push(FieldError::with(
            "display_name",
            Msg::new("form.length_between").arg("min", 1).arg("max", 60),
        ));
    }
    check(errors)?;
    let Some(login) = login else {
        return Err(AppError::Validation(vec![]));
    };

    let one_time = random_password(12);
    let hash = password::hash(one_time.clone()).await?;
    let permissions = if input.role == Role::Admin {
        Permission::ALL.to_vec()
    } else {
        input.permissions
    };

    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let id = users::insert(
        &mut tx,
        &NewUser {
            role: input.role,
            login: &login,
            display_name: &display_name,
            password_hash: &hash,
            permissions: &permissions,
            must_change_password: true,
        },
    )
    .await?;
    let row = users::by_id(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let member = StaffMember::from_row(&row)?.ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("user.create", "user", id).after(&member),
    )
    .await?;
    tx.commit().await?;
    Ok((member, one_time))
}

async fn staff_target(tx: &mut nightmarket_db::TenantTx, id: Uuid) -> AppResult<StaffMember> {
    let row = users::by_id(tx, id).await?.ok_or(AppError::NotFound)?;
    StaffMember::from_row(&row)?.ok_or(AppError::NotFound)
}

/// A person's permissions as stored, or the error of one that does not parse.
fn stored_permissions(row: &UserRow) -> AppResult<Vec<Permission>> {
    crate::error::stored(row.permissions(), "permissions", &row.permissions.join(","))
}

/// Grants an official exactly `permissions`.
pub async fn set_permissions(
    ctx: &Ctx,
    admin: &Actor,
    id: Uuid,
    permissions: Vec<Permission>,
) -> AppResult<StaffMember> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = staff_target(&mut tx, id).await?;
    if before.role != Role::Official {
        return Err(AppError::Conflict(Msg::new("staff.admin_has_all")));
    }
    users::set_permissions(&mut tx, id, &permissions).await?;
    let after = staff_target(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("user.set_permissions", "user", id)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Replaces a staff member's password with a one-time one (returned once) and ends their sessions.
pub async fn reset_password(ctx: &Ctx, admin: &Actor, id: Uuid) -> AppResult<(StaffMember, String)> {
    admin.require_admin()?;
    let one_time = random_password(12);
    let hash = password::hash(one_time.clone()).await?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    staff_target(&mut tx, id).await?;
    users::set_password(&mut tx, id, &hash, true).await?;
    let after = staff_target(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("user.reset_password", "user", id),
    )
    .await?;
    tx.commit().await?;
    Ok((after, one_time))
}

/// Disables (ending their sessions) or re-enables a staff account. An admin cannot disable
/// themself, and the last enabled admin cannot be disabled.
pub async fn set_disabled(ctx: &Ctx, admin: &Actor, id: Uuid, disabled: bool) -> AppResult<StaffMember> {
    admin.require_admin()?;
    if disabled && id == admin.id {
        return Err(AppError::Conflict(Msg::new("staff.cannot_disable_self")));
    }
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = staff_target(&mut tx, id).await?;
    if disabled && before.role == Role::Admin && !before.disabled && users::active_admin_count(&mut tx).await? <= 1 {
        return Err(AppError::Conflict(Msg::new("staff.last_admin")));
    }
    users::set_disabled(&mut tx, id, disabled).await?;
    let after = staff_target(&mut tx, id).await?;
    let action = if disabled { "user.disable" } else { "user.enable" };
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new(action, "user", id).before(&before).after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Whether the signed-in person must choose a new password before anything else.
pub async fn must_change_password(ctx: &Ctx, user: &Actor) -> AppResult<bool> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    Ok(users::by_id(&mut tx, user.id)
        .await?
        .is_some_and(|r| r.must_change_password))
}
