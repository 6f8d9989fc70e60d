//! Redemption at a stall, its reversal, and the lists of a stall and a night.

use super::*;

/// The largest bill a voucher may be used on (50,000 元): anything above is a typo or worse.
pub const MAX_BILL_FEN: i64 = 5_000_000;

/// A voucher used at a stall, as the confirmation screen, the vendor and officials see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Redemption {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub voucher_seq: i32,
    pub code_id: Uuid,
    pub stall_name: String,
    pub slot_code: String,
    pub business_date: chrono::NaiveDate,
    pub bill_fen: i32,
    /// The voucher's face value: what the shopper does not pay.
    pub value_fen: i32,
    /// What the shopper pays.
    pub pay_fen: i32,
    /// Six digits, shown large to shopper and vendor alike.
    pub verification: String,
    pub shopper_masked: String,
    pub created_at: DateTime<Utc>,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_reason: Option<String>,
}

pub(super) fn redemption_view(r: db::vouchers::RedemptionRow) -> Redemption {
    Redemption {
        pay_fen: (r.bill_fen - r.value_fen).max(0),
        id: r.id,
        campaign_id: r.campaign_id,
        campaign_name: r.campaign_name,
        voucher_seq: r.seq,
        code_id: r.code_id,
        stall_name: r.stall_name,
        slot_code: r.slot_code,
        business_date: r.business_date,
        bill_fen: r.bill_fen,
        value_fen: r.value_fen,
        verification: r.verification,
        shopper_masked: r.shopper_masked,
        created_at: r.created_at,
        reversed_at: r.reversed_at,
        reversed_reason: r.reversed_reason,
    }
}

/// Parses a bill typed in 元 ("68", "68.5", "68.50") into fen, never through floating point.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('元').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || whole.len() > 9 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    Some(whole.parse::<i64>().ok()? * 100 + cents)
}

/// Why a redemption was refused before any voucher was chosen (recorded as an attempt).
async fn refuse(
    ctx: &Ctx,
    tenant: TenantId,
    shopper: Uuid,
    code: Uuid,
    bill_fen: i64,
    reason: &'static str,
) -> AppError {
    let now = ctx.clock.now();
    let recorded = async {
        let mut tx = ctx.db.tenant(tenant).await?;
        db::vouchers::insert_attempt(
            &mut tx,
            shopper,
            code,
            bill_fen.clamp(0, i64::from(i32::MAX)) as i32,
            reason,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "redemption attempt not recorded");
    }
    AppError::Conflict(Msg::new(reason))
}

/// Whether a code of this colour may take vouchers under the tenant's setting.
fn takes_vouchers(colour: Colour, at_yellow: bool) -> bool {
    match colour {
        Colour::Green => true,
        Colour::Yellow => at_yellow,
        Colour::Red => false,
    }
}

/// The business night under way at a stall's market (of the user's tenant).
pub async fn tonight_at(ctx: &Ctx, user: &Actor, code: Uuid) -> AppResult<chrono::NaiveDate> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = db::codes::get(&mut tx, code).await?.ok_or(AppError::NotFound)?;
    Ok(row
        .hours()
        .business_date(ctx.clock.now().with_timezone(&user.tenant.timezone).naive_local()))
}

/// Uses the shopper's best eligible voucher on a bill at a stall: the threshold met, the campaign
/// taking this market and category, within its use window and daily budget; the stall green and
/// trading (checked in, market open). Idempotent by request id; a voucher is never used twice.
pub async fn redeem(
    ctx: &Ctx,
    tenant: &Tenant,
    code: &db::codes::CodeRow,
    shopper: Uuid,
    bill_fen: i64,
    request_id: &str,
) -> AppResult<(Redemption, bool)> {
    let key = request_key(shopper, request_id)?;
    if !(1..=MAX_BILL_FEN).contains(&bill_fen) {
        return Err(AppError::Validation(vec![crate::error::FieldError::with(
            "bill",
            Msg::new("redeem.bill").arg("max", voucher::yuan(MAX_BILL_FEN)),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let existing = db::vouchers::redemptions(
        &mut tx,
        &db::vouchers::RedemptionFilter {
            request_key: Some(key.clone()),
            ..Default::default()
        },
    )
    .await?;
    if let Some(r) = existing.into_iter().next() {
        // The same request again gets the same answer; the same id on another bill or stall is
        // a different request, and must not be answered as if it had been paid.
        if r.code_id != code.id || i64::from(r.bill_fen) != bill_fen {
            return Err(AppError::Conflict(Msg::new("idempotency.key_reused")));
        }
        return Ok((redemption_view(r), false));
    }
    let at_yellow = db::settings::get(&mut tx).await?.vouchers_at_yellow;
    if code.revoked_at.is_some() || !takes_vouchers(code.colour, at_yellow) {
        drop(tx);
        let reason = if code.revoked_at.is_some() || code.colour == Colour::Red {
            "redeem.stall_red"
        } else {
            "redeem.stall_not_green"
        };
        return Err(refuse(ctx, tenant.id, shopper, code.id, bill_fen, reason).await);
    }
    let (night, tonight) = crate::ratings::tonight(&mut tx, tenant, code, now).await?;
    if tonight != crate::ratings::Tonight::Open {
        drop(tx);
        return Err(refuse(ctx, tenant.id, shopper, code.id, bill_fen, "redeem.not_trading").await);
    }
    let mut candidates: Vec<db::vouchers::Usable> = db::vouchers::usable(&mut tx, shopper, now)
        .await?
        .into_iter()
        .filter(|v| v.market_ids.is_empty() || v.market_ids.contains(&code.market_id))
        .filter(|v| v.categories.is_empty() || v.categories.iter().any(|c| c == code.category.as_str()))
        .collect();
    if candidates.is_empty() {
        return Err(AppError::Conflict(Msg::new("redeem.no_voucher")));
    }
    let lowest = candidates.iter().map(|v| v.threshold_fen).min().unwrap_or(0);
    candidates.retain(|v| i64::from(v.threshold_fen) <= bill_fen);
    if candidates.is_empty() {
        return Err(AppError::Conflict(
            Msg::new("redeem.threshold").arg("threshold", voucher::yuan(i64::from(lowest))),
        ));
    }
    // The best: the largest face value, then the one expiring first (the query's order).
    let mut chosen = None;
    // Why no candidate could be used, so the refusal names the true cause: a campaign's budget
    // for the night, or another redemption of this shopper's taking the voucher at this moment.
    let mut over_budget = false;
    for v in &candidates {
        if let Some(budget) = v.daily_budget_fen
            && db::vouchers::spent_on(&mut tx, v.campaign_id, night).await? + i64::from(v.value_fen) > budget
        {
            over_budget = true;
            continue;
        }
        if db::vouchers::mark_used(&mut tx, v.campaign_id, v.seq, now).await? {
            chosen = Some(v.clone());
            break;
        }
    }
    let Some(v) = chosen else {
        return Err(AppError::Conflict(Msg::new(if over_budget {
            "redeem.budget"
        } else {
            "redeem.in_flight"
        })));
    };
    let id = Uuid::new_v4();
    let n = u32::from_le_bytes(crate::secrets::random_bytes::<4>()) % 1_000_000;
    let verification = format!("{n:06}");
    db::vouchers::insert_redemption(
        &mut tx,
        &db::vouchers::NewRedemption {
            id,
            campaign_id: v.campaign_id,
            seq: v.seq,
            shopper_id: shopper,
            code_id: code.id,
            vendor_id: code.vendor_id,
            market_id: code.market_id,
            business_date: night,
            bill_fen: bill_fen as i32,
            value_fen: v.value_fen,
            verification: &verification,
            request_key: &key,
            at: now,
        },
    )
    .await?;
    let row = db::vouchers::redemption(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    crate::live::notify_stall(
        &mut tx,
        now,
        code.id,
        STALL_EVENT,
        serde_json::json!({ "redemption": id }),
    )
    .await?;
    // Last before commit: the audit chain's head is held from here to the commit.
    audit::record(
        &mut tx,
        &shopper_actor(shopper),
        Change::new("voucher.redeem", "redemption", id).after(&serde_json::json!({
            "campaign": v.campaign_id, "voucher": v.seq, "code": code.id, "bill_fen": bill_fen,
            "value_fen": v.value_fen, "night": night
        })),
    )
    .await?;
    tx.commit().await?;
    Ok((redemption_view(row), true))
}

/// The live event a stall's page gets when a voucher is used there or such a use is reversed.
pub const STALL_EVENT: &str = "voucher.redemption";

/// One redemption (its shopper, the stall's vendor, or staff).
pub async fn redemption(ctx: &Ctx, tenant: TenantId, id: Uuid) -> AppResult<Redemption> {
    let mut tx = ctx.db.tenant(tenant).await?;
    db::vouchers::redemption(&mut tx, id)
        .await?
        .map(redemption_view)
        .ok_or(AppError::NotFound)
}

/// A stall's redemptions on a night (its vendor, or staff).
pub async fn of_stall(ctx: &Ctx, user: &Actor, code: Uuid, night: chrono::NaiveDate) -> AppResult<Vec<Redemption>> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = db::codes::get(&mut tx, code).await?.ok_or(AppError::NotFound)?;
    if !user.role.is_staff() && row.vendor_id != user.id {
        return Err(AppError::NotFound);
    }
    Ok(db::vouchers::redemptions(
        &mut tx,
        &db::vouchers::RedemptionFilter {
            code: Some(code),
            date: Some(night),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .map(redemption_view)
    .collect())
}

/// Redemptions on a business night (at most 1,000, newest first), optionally only those with a
/// verification number, for staff looking one up to reverse it.
pub async fn of_night(
    ctx: &Ctx,
    staff: &Actor,
    night: chrono::NaiveDate,
    verification: Option<&str>,
) -> AppResult<Vec<Redemption>> {
    staff.require_staff()?;
    let mut tx = ctx.db.tenant(staff.tenant_id()).await?;
    let filter = db::vouchers::RedemptionFilter {
        date: Some(night),
        verification: verification
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        ..Default::default()
    };
    Ok(db::vouchers::redemptions(&mut tx, &filter)
        .await?
        .into_iter()
        .map(redemption_view)
        .collect())
}

/// An official reverses a redemption, with a reason: the voucher may be used again.
pub async fn reverse(ctx: &Ctx, official: &Actor, id: Uuid, reason: &str) -> AppResult<Redemption> {
    official.require_staff()?;
    let reason = reason.trim();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "redeem.reverse_reason"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::vouchers::reverse(&mut tx, id, official.id, reason, now).await? {
        return Err(if db::vouchers::redemption(&mut tx, id).await?.is_none() {
            AppError::NotFound
        } else {
            AppError::Conflict(Msg::new("redeem.already_reversed"))
        });
    }
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("voucher.reverse", "redemption", id)
            .before(&serde_json::json!({ "reversed": false }))
            .after(&serde_json::json!({ "reversed": true, "reason": reason })),
    )
    .await?;
    let row = db::vouchers::redemption(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    crate::live::notify_stall(
        &mut tx,
        now,
        row.code_id,
        STALL_EVENT,
        serde_json::json!({ "redemption": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(redemption_view(row))
}
