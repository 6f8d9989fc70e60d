//! A market's public record: what anyone may read of the last 30 nights.

use super::*;

/// Stalls of one category at a market.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryStalls {
    pub category: String,
    pub stalls: i64,
}

/// A market's public record over the last 30 nights: no person, no stall.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicStats {
    pub tenant: String,
    pub market: MarketRef,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub stalls: i64,
    pub stalls_by_category: Vec<CategoryStalls>,
    /// Average score (0–100) of the stalls that have one.
    pub average_score: Option<String>,
    pub ratings: i64,
    pub rating_average: Option<String>,
    pub visitors: i64,
    pub complaints: i64,
    /// Complaints closed, or past their deadline.
    pub complaints_due: i64,
    pub complaints_on_time: i64,
    pub on_time_share: Option<String>,
    pub vouchers_used: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
    pub leverage: Option<String>,
    /// Visitors per night, oldest first.
    pub nights: Vec<PublicNight>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicNight {
    pub night: NaiveDate,
    pub visitors: i64,
    pub complaints: i64,
    pub vouchers_used: i64,
}

/// A market's public record, for anyone.
pub async fn public_stats(ctx: &Ctx, slug: &str, market: Uuid) -> AppResult<PublicStats> {
    let tenant = ctx.tenants.require(&ctx.db, slug).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let markets = db::markets::list(&mut tx).await?;
    let m = markets.iter().find(|m| m.id == market).ok_or(AppError::NotFound)?;
    let tonight = current_night(&markets, Some(m), tenant.timezone, now);
    let q = RangeQuery {
        range: "custom".into(),
        from: (tonight - Duration::days(29)).to_string(),
        to: tonight.to_string(),
        market: market.to_string(),
        ..Default::default()
    };
    let d = read(&mut tx, &tenant, &q, now).await?;
    let categories = db::numbers::stall_categories(&mut tx, market).await?;
    tx.commit().await?;
    let (score_sum, scored) = categories
        .iter()
        .fold((0, 0), |(s, n), c| (s + c.score_sum, n + c.scored));
    let mine = d.markets.first();
    Ok(PublicStats {
        tenant: tenant.name,
        market: MarketRef {
            id: m.id,
            name: m.name.clone(),
        },
        from: d.range.from,
        to: d.range.to,
        stalls: categories.iter().map(|c| c.stalls).sum(),
        stalls_by_category: categories
            .iter()
            .map(|c| CategoryStalls {
                category: c.category.clone(),
                stalls: c.stalls,
            })
            .collect(),
        average_score: fixed2(score_sum, scored).map(|s| s.trim_end_matches('0').trim_end_matches('.').to_string()),
        ratings: d.totals.ratings,
        rating_average: d.rating_average,
        visitors: d.totals.visitors,
        complaints: d.totals.complaints,
        complaints_due: mine.map(|x| x.complaints_due).unwrap_or(0),
        complaints_on_time: mine.map(|x| x.complaints_on_time).unwrap_or(0),
        on_time_share: mine.and_then(|x| x.on_time_share.clone()),
        vouchers_used: d.totals.redemptions,
        subsidy_fen: d.totals.subsidy_fen,
        consumption_fen: d.totals.consumption_fen,
        leverage: d.vouchers.leverage,
        nights: d
            .nights
            .iter()
            .map(|n| PublicNight {
                night: n.night,
                visitors: n.counts.visitors,
                complaints: n.counts.complaints,
                vouchers_used: n.counts.redemptions,
            })
            .collect(),
    })
}
