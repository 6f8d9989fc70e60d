//! One-time codes by SMS: six digits, valid for ten minutes, single use, five guesses; at most
//! one a minute and ten a day per number, and a limit per client address.

use chrono::Duration;
use std::net::IpAddr;
use uuid::Uuid;

use crate::Ctx;
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::secrets::{Keys, random_bytes};
use crate::sms;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::people::Phone;
use nightmarket_domain::tenant::Tenant;

pub const TTL_MINUTES: i64 = 10;
pub const MAX_GUESSES: i32 = 5;
pub const RESEND_AFTER_SECS: i64 = 60;
pub const MAX_PER_DAY: i64 = 10;

/// What a code is for; each has its own codes, so one cannot be used for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VendorSignup,
    Complaint,
    Shopper,
    /// A vendor who forgot their password.
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VendorSignup => "vendor_signup",
            Purpose::Complaint => "complaint",
            Purpose::Shopper => "shopper",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

fn phone_index(keys: &Keys, tenant: &Tenant, phone: &Phone) -> String {
    keys.blind_index(tenant.id, "phone", phone.as_str())
}

fn code_hash(keys: &Keys, tenant: &Tenant, id: Uuid, code: &str) -> Vec<u8> {
    keys.blind_index(tenant.id, &format!("otp:{id}"), code).into_bytes()
}

fn six_digits() -> String {
    let n = u32::from_le_bytes(random_bytes::<4>()) % 1_000_000;
    format!("{n:06}")
}

/// Sends a fresh code to `phone`.
pub async fn send(ctx: &Ctx, tenant: &Tenant, purpose: Purpose, phone: &Phone, client: IpAddr) -> AppResult<()> {
    let index = phone_index(&ctx.keys, tenant, phone);
    ctx.otp_throttle
        .check(ctx.db.global(), &format!("{}/{index}", tenant.slug), client)
        .await?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let now = ctx.clock.now();
    let (today, last) = db::otp::sent_since(&mut tx, purpose.as_str(), &index, now - Duration::days(1)).await?;
    if today >= MAX_PER_DAY {
        return Err(AppError::RateLimited { retry_after_secs: 3600 });
    }
    if let Some(last) = last {
        let wait = RESEND_AFTER_SECS - (now - last).num_seconds();
        if wait > 0 {
            return Err(AppError::RateLimited {
                retry_after_secs: wait as u64,
            });
        }
    }
    let id = Uuid::new_v4();
    let code = six_digits();
    db::otp::insert(
        &mut tx,
        id,
        purpose.as_str(),
        &index,
        &code_hash(&ctx.keys, tenant, id, &code),
        now + Duration::minutes(TTL_MINUTES),
    )
    .await?;
    let text = crate::i18n::Lang::Zh.tr("otp.sms", &[("code", &code), ("minutes", &TTL_MINUTES.to_string())]);
    sms::queue(&mut tx, &ctx.keys, phone, &text).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks `code` for `phone` and uses it up. Runs in its own transaction so that a wrong guess
/// is counted even when the caller's work fails.
pub async fn verify(ctx: &Ctx, tenant: &Tenant, purpose: Purpose, phone: &Phone, code: &str) -> AppResult<()> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::Validation(vec![FieldError::new("code", "otp.format")]));
    }
    let index = phone_index(&ctx.keys, tenant, phone);
    let mut tx: TenantTx = ctx.db.tenant(tenant.id).await?;
    let Some(row) = db::otp::latest_for_update(&mut tx, purpose.as_str(), &index).await? else {
        return Err(AppError::Validation(vec![FieldError::new("code", "otp.none")]));
    };
    if row.consumed_at.is_some() || row.expires_at < ctx.clock.now() {
        return Err(AppError::Validation(vec![FieldError::new("code", "otp.expired")]));
    }
    if row.attempts >= MAX_GUESSES {
        return Err(AppError::Validation(vec![FieldError::new(
            "code",
            "otp.too_many_guesses",
        )]));
    }
    let expected = code_hash(&ctx.keys, tenant, row.id, code);
    if !constant_time_eq(&expected, &row.code_hash) {
        db::otp::count_attempt(&mut tx, row.id).await?;
        tx.commit().await?;
        let left = MAX_GUESSES - row.attempts - 1;
        return Err(AppError::Validation(vec![FieldError::with(
            "code",
            Msg::new("otp.wrong").arg("left", left),
        )]));
    }
    db::otp::consume(&mut tx, row.id).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
