//! Vendors sign up per tenant with a mainland mobile number, verified by an SMS code, and a password.

use std::net::IpAddr;
use uuid::Uuid;

use crate::Ctx;
use crate::access::password;
use crate::accounts::{Session, issue_session, phone_login_key};
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::notices::user_phone_place;
use crate::otp::{self, Purpose};
use nightmarket_db as db;
use nightmarket_domain::people::{Phone, Role, check_password};
use nightmarket_domain::tenant::Tenant;

fn phone_or_error(text: &str) -> AppResult<Phone> {
    Phone::parse(text).ok_or_else(|| AppError::field("phone", "phone.invalid"))
}

/// The number and the chosen password (twice), each checked, every problem said at once.
fn phone_and_password(phone: &str, pass: &str, confirm: &str) -> AppResult<Phone> {
    let mut errors = Vec::new();
    let phone = Phone::parse(phone);
    if phone.is_none() {
        errors.push(FieldError::new("phone", "phone.invalid"));
    }
    if let Err(key) = check_password(pass) {
        errors.push(FieldError::with("password", Msg::new(key)));
    } else if pass != confirm {
        errors.push(FieldError::new("confirm_password", "password.mismatch"));
    }
    check(errors)?;
    phone.ok_or_else(|| AppError::Validation(vec![]))
}

/// Step one: a code to the number, unless it is already registered here.
pub async fn request_code(ctx: &Ctx, tenant: &Tenant, phone: &str, client: IpAddr) -> AppResult<Phone> {
    let phone = phone_or_error(phone)?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    if db::users::by_login(&mut tx, &phone_login_key(&ctx.keys, tenant.id, &phone))
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(Msg::new("signup.already_registered")));
    }
    drop(tx);
    otp::send(ctx, tenant, Purpose::VendorSignup, &phone, client).await?;
    Ok(phone)
}

/// Step two: the code, and a password; returns a session for the new vendor.
pub async fn sign_up(
    ctx: &Ctx,
    tenant: &Tenant,
    phone: &str,
    code: &str,
    pass: &str,
    confirm: &str,
) -> AppResult<Session> {
    let phone = phone_and_password(phone, pass, confirm)?;
    let login = phone_login_key(&ctx.keys, tenant.id, &phone);
    {
        let mut tx = ctx.db.tenant(tenant.id).await?;
        if db::users::by_login(&mut tx, &login).await?.is_some() {
            return Err(AppError::Conflict(Msg::new("signup.already_registered")));
        }
    }
    otp::verify(ctx, tenant, Purpose::VendorSignup, &phone, code).await?;

    let hash = password::hash(pass.to_string()).await?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let id = Uuid::new_v4();
    let sealed = ctx.keys.seal_str(&user_phone_place(&tx, id), phone.as_str());
    db::users::insert_vendor(&mut tx, id, &login, &phone.masked(), &hash, &sealed).await?;
    let actor = Author::user(id, format!("vendor:{}", phone.masked()), None);
    audit::record(
        &mut tx,
        &actor,
        Change::new("vendor.sign_up", "user", id)
            .after(&serde_json::json!({ "role": "vendor", "display_name": phone.masked() })),
    )
    .await?;
    let row = db::users::by_id(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    issue_session(ctx, tenant.clone(), &row, Role::Vendor)
}

// ------------------------------------------------------------------------------ forgotten password

/// Step one of a reset: a code to the number of a vendor registered here (the sign-up code's rules
/// and limits).
pub async fn request_reset_code(ctx: &Ctx, tenant: &Tenant, phone: &str, client: IpAddr) -> AppResult<Phone> {
    let phone = phone_or_error(phone)?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let found = db::users::by_login(&mut tx, &phone_login_key(&ctx.keys, tenant.id, &phone)).await?;
    drop(tx);
    // Sign-up already tells whether a number is registered, so saying it here hides nothing.
    if found.is_none_or(|u| u.disabled_at.is_some()) {
        return Err(AppError::field("phone", "reset.not_registered"));
    }
    otp::send(ctx, tenant, Purpose::PasswordReset, &phone, client).await?;
    Ok(phone)
}

/// Step two: the code and a new password. Every other session of the vendor ends (the password
/// change raises the token version); audited; returns a fresh session on this phone.
pub async fn reset_password(
    ctx: &Ctx,
    tenant: &Tenant,
    phone: &str,
    code: &str,
    pass: &str,
    confirm: &str,
) -> AppResult<Session> {
    let phone = phone_and_password(phone, pass, confirm)?;
    let login = phone_login_key(&ctx.keys, tenant.id, &phone);
    otp::verify(ctx, tenant, Purpose::PasswordReset, &phone, code).await?;
    let hash = password::hash(pass.to_string()).await?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let user = db::users::by_login(&mut tx, &login)
        .await?
        .filter(|u| u.disabled_at.is_none() && u.role == Role::Vendor)
        .ok_or_else(|| AppError::field("phone", "reset.not_registered"))?;
    db::users::set_password(&mut tx, user.id, &hash, false).await?;
    let actor = Author::user(user.id, format!("vendor:{}", phone.masked()), None);
    audit::record(
        &mut tx,
        &actor,
        Change::new("vendor.password_reset", "user", user.id)
            .after(&serde_json::json!({ "by": "sms_code", "other_sessions_ended": true })),
    )
    .await?;
    let row = db::users::by_id(&mut tx, user.id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    issue_session(ctx, tenant.clone(), &row, Role::Vendor)
}
