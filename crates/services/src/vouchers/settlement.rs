//! Statistics of a campaign and of the markets, and the daily settlement with each vendor.

use super::*;

/// A campaign's numbers.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignStats {
    pub campaign: Campaign,
    pub issued: i64,
    pub claimed: i64,
    pub used: i64,
    pub expired: i64,
    /// Face values of live redemptions: what the government pays.
    pub subsidy_fen: i64,
    /// Bills of those redemptions: the spending the vouchers drove.
    pub consumption_fen: i64,
    /// consumption ÷ subsidy, two decimals (None before any use).
    pub leverage: Option<String>,
    /// Claims in each 10 s of the first five minutes after the opening.
    pub claim_curve: Vec<i64>,
    /// Seconds from the opening to the last voucher, once all were claimed.
    pub sold_out_after_secs: Option<i64>,
}

pub async fn stats(ctx: &Ctx, user: &Actor, id: Uuid) -> AppResult<CampaignStats> {
    user.require_staff()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let (row, campaign) = load(&mut tx, id, false, now).await?;
    let f = db::vouchers::figures(&mut tx, id, now).await?;
    let claim_curve = db::vouchers::claim_curve(&mut tx, id, row.terms.claim_start, 10, 30).await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar!(
        "select max(claimed_at) from vouchers where tenant_id = $1 and campaign_id = $2",
        tx.tenant().0,
        id
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(CampaignStats {
        sold_out_after_secs: (f.claimed == f.issued && f.issued > 0)
            .then(|| last.map(|l| (l - row.terms.claim_start).num_seconds()))
            .flatten(),
        leverage: voucher::leverage(f.consumption_fen, f.subsidy_fen),
        campaign,
        issued: f.issued,
        claimed: f.claimed,
        used: f.used,
        expired: f.expired,
        subsidy_fen: f.subsidy_fen,
        consumption_fen: f.consumption_fen,
        claim_curve,
    })
}

/// Subsidy and spending by market, and for the whole tenant.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = VoucherMarketFigures))]
pub struct MarketFigures {
    pub market_id: Option<Uuid>,
    /// The market, or the tenant for the total.
    pub name: String,
    pub used: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
    pub leverage: Option<String>,
}

pub async fn market_figures(ctx: &Ctx, user: &Actor) -> AppResult<Vec<MarketFigures>> {
    user.require_staff()?;
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let rows = db::vouchers::by_market(&mut tx).await?;
    let mut out: Vec<MarketFigures> = rows
        .iter()
        .map(|(id, name, used, subsidy, consumption)| MarketFigures {
            market_id: Some(*id),
            name: name.clone(),
            used: *used,
            subsidy_fen: *subsidy,
            consumption_fen: *consumption,
            leverage: voucher::leverage(*consumption, *subsidy),
        })
        .collect();
    let (used, subsidy, consumption) = rows.iter().fold((0, 0, 0), |(u, s, c), r| (u + r.2, s + r.3, c + r.4));
    out.push(MarketFigures {
        market_id: None,
        name: user.tenant.name.clone(),
        used,
        subsidy_fen: subsidy,
        consumption_fen: consumption,
        leverage: voucher::leverage(consumption, subsidy),
    });
    Ok(out)
}

/// One vendor-day to pay.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VendorDay {
    pub vendor_id: Uuid,
    pub vendor: String,
    pub stalls: Vec<String>,
    pub business_date: chrono::NaiveDate,
    pub vouchers: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
    pub settled_at: Option<DateTime<Utc>>,
    /// What was paid when it was settled, when that differs from the subsidy now (a reversal since).
    pub settled_subsidy_fen: Option<i64>,
    /// Where to pay it, as the vendor gave it: masked, or in clear when an admin asked.
    pub payee: Option<crate::payees::Payee>,
}

fn vendor_day(d: db::vouchers::VendorDay) -> VendorDay {
    VendorDay {
        vendor_id: d.vendor_id,
        vendor: d.vendor_masked,
        stalls: d.stalls,
        business_date: d.business_date,
        vouchers: d.vouchers,
        subsidy_fen: d.subsidy_fen,
        consumption_fen: d.consumption_fen,
        settled_at: d.settled_at,
        settled_subsidy_fen: d.settled_subsidy_fen,
        payee: None,
    }
}

/// Vendor-days with redemptions between two business dates (admins).
/// With `reveal`, the payees' full names and account numbers are shown in clear and the viewing
/// is audited (`settlement.reveal`, naming the vendors shown).
pub async fn settlement(
    ctx: &Ctx,
    admin: &Actor,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    reveal: bool,
) -> AppResult<Vec<VendorDay>> {
    admin.require_admin()?;
    if to < from || (to - from).num_days() > 366 {
        return Err(AppError::field("to", "settlement.range"));
    }
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let mut days: Vec<VendorDay> = db::vouchers::vendor_days(&mut tx, from, to, None)
        .await?
        .into_iter()
        .map(vendor_day)
        .collect();
    let mut vendors: Vec<Uuid> = days.iter().map(|d| d.vendor_id).collect();
    vendors.sort();
    vendors.dedup();
    let payees = crate::payees::of_vendors(&mut tx, &ctx.keys, &vendors, reveal).await?;
    for d in &mut days {
        d.payee = payees.get(&d.vendor_id).cloned();
    }
    if reveal {
        let shown: Vec<Uuid> = vendors.iter().filter(|v| payees.contains_key(v)).copied().collect();
        audit::record(
            &mut tx,
            &Author::of(admin),
            Change::new("settlement.reveal", "tenant", admin.tenant_id().0)
                .after(&serde_json::json!({ "from": from, "to": to, "vendors": shown })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(days)
}

/// Marks a vendor-day paid, recording the sums paid (admins).
pub async fn mark_settled(ctx: &Ctx, admin: &Actor, vendor: Uuid, date: chrono::NaiveDate) -> AppResult<VendorDay> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let day = db::vouchers::vendor_days(&mut tx, date, date, Some(vendor))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    if !db::vouchers::settle(&mut tx, &day, admin.id).await? {
        return Err(AppError::Conflict(Msg::new("settlement.already")));
    }
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("settlement.settle", "user", vendor).after(&serde_json::json!({
            "date": date, "vouchers": day.vouchers, "subsidy_fen": day.subsidy_fen, "consumption_fen": day.consumption_fen
        })),
    )
    .await?;
    let day = db::vouchers::vendor_days(&mut tx, date, date, Some(vendor))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(vendor_day(day))
}
