//! What a vendor's insights read: every live stall of a market over a range of nights (for the
//! category medians and demand), and the own stall's nights, hours, tags and complaint kinds.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

/// A range of business nights of one market, `[from, to]`; `lo..hi` bounds the moments that can
/// fall in it (see db::numbers::Window).
pub struct Nights<'a> {
    pub market: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: &'a str,
    pub lo: DateTime<Utc>,
    pub hi: DateTime<Utc>,
}

#[derive(Debug)]
pub struct StallRow {
    pub code_id: Uuid,
    pub category: String,
    pub scans: i64,
    pub visitors: i64,
    pub ratings: i64,
    pub stars: i64,
    pub complaints: i64,
    pub nights: i64,
    pub redemptions: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
}

/// Every live stall of the market with its figures over the nights.
pub async fn stalls(tx: &mut TenantTx, n: &Nights<'_>) -> Result<Vec<StallRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        StallRow,
        r#"select c.id as code_id, c.category,
                  coalesce(s.scans, 0) as "scans!", coalesce(s.visitors, 0) as "visitors!",
                  coalesce(r.ratings, 0) as "ratings!", coalesce(r.stars, 0) as "stars!",
                  coalesce(k.complaints, 0) as "complaints!", coalesce(ci.nights, 0) as "nights!",
                  coalesce(v.redemptions, 0) as "redemptions!", coalesce(v.subsidy, 0) as "subsidy_fen!",
                  coalesce(v.consumption, 0) as "consumption_fen!"
           from codes c
           join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
           left join lateral (
               select sum(scans)::bigint as scans, sum(visitors)::bigint as visitors from scan_nights
               where tenant_id = c.tenant_id and code_id = c.id and night between $3 and $4) s on true
           left join lateral (
               select count(*) as ratings, sum(stars)::bigint as stars from ratings
               where tenant_id = c.tenant_id and code_id = c.id and business_date between $3 and $4
                 and hidden_at is null and status = 'counted') r on true
           left join lateral (
               select count(*) as complaints from complaints
               where tenant_id = c.tenant_id and code_id = c.id and created_at >= $6 and created_at < $7
                 and business_night(created_at, $5, m.opens_at, m.closes_at) between $3 and $4) k on true
           left join lateral (
               select count(*) as nights from check_ins
               where tenant_id = c.tenant_id and code_id = c.id and business_date between $3 and $4) ci on true
           left join lateral (
               select count(*) as redemptions, sum(value_fen)::bigint as subsidy, sum(bill_fen)::bigint as consumption
               from redemptions
               where tenant_id = c.tenant_id and code_id = c.id and business_date between $3 and $4
                 and reversed_at is null) v on true
           where c.tenant_id = $1 and c.market_id = $2 and c.revoked_at is null
           order by c.created_at, c.id"#,
        tenant,
        n.market,
        n.from,
        n.to,
        n.tz,
        n.lo,
        n.hi
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct NightRow {
    pub night: NaiveDate,
    pub scans: i64,
    pub visitors: i64,
    pub open: bool,
}

/// The stall's nights with scans or a check-in: scans, visitors, and whether it was checked in.
pub async fn nights(tx: &mut TenantTx, code: Uuid, n: &Nights<'_>) -> Result<Vec<NightRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        NightRow,
        r#"select coalesce(s.night, ci.business_date) as "night!", coalesce(s.scans, 0) as "scans!",
                  coalesce(s.visitors, 0) as "visitors!", (ci.id is not null) as "open!"
           from (select night, scans, visitors from scan_nights
                 where tenant_id = $1 and code_id = $2 and night between $3 and $4) s
           full join (select id, business_date from check_ins
                      where tenant_id = $1 and code_id = $2 and business_date between $3 and $4) ci
             on ci.business_date = s.night
           order by 1"#,
        tenant,
        code,
        n.from,
        n.to
    )
    .fetch_all(tx.conn())
    .await
}

/// The stall's scans by local hour over the nights.
pub async fn hours(tx: &mut TenantTx, code: Uuid, n: &Nights<'_>) -> Result<Vec<(i16, i64)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select hour, sum(scans)::bigint as "scans!" from scan_hours
           where tenant_id = $1 and code_id = $2 and night between $3 and $4
           group by hour order by hour"#,
        tenant,
        code,
        n.from,
        n.to
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.hour, r.scans)).collect())
}

/// Tags in the stall's visible ratings over the nights, with how often each was chosen.
pub async fn tags(tx: &mut TenantTx, code: Uuid, n: &Nights<'_>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select t as "tag!", count(*) as "count!"
           from ratings r, unnest(r.tags) as t
           where r.tenant_id = $1 and r.code_id = $2 and r.business_date between $3 and $4 and r.hidden_at is null and r.status = 'counted'
           group by t"#,
        tenant,
        code,
        n.from,
        n.to
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.tag, r.count)).collect())
}

/// Complaints about the stall filed in the nights, by category.
pub async fn complaint_categories(
    tx: &mut TenantTx,
    code: Uuid,
    n: &Nights<'_>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select k.category, count(*) as "count!"
           from complaints k
           join markets m on m.tenant_id = k.tenant_id and m.id = k.market_id
           where k.tenant_id = $1 and k.code_id = $2 and k.created_at >= $6 and k.created_at < $7
             and business_night(k.created_at, $5, m.opens_at, m.closes_at) between $3 and $4
           group by k.category"#,
        tenant,
        code,
        n.from,
        n.to,
        n.tz,
        n.lo,
        n.hi
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.category, r.count)).collect())
}

/// Takes the right to send the weekly notice of `code` for `week` in this transaction and says
/// whether it is still unsent: two sweeps at the same moment (two instances, or a cron job beside
/// a server) wait for each other here, and the second finds it sent.
pub async fn claim_weekly(tx: &mut TenantTx, code: Uuid, week: &str) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let lock = format!("weekly_insights/{tenant}/{code}/{week}");
    sqlx::query!("select pg_advisory_xact_lock(hashtextextended($1, 0))", lock)
        .execute(tx.conn())
        .await?;
    sqlx::query_scalar!(
        r#"select not exists (
               select 1 from codes c join notifications n on n.tenant_id = c.tenant_id and n.user_id = c.vendor_id
               where c.tenant_id = $1 and c.id = $2 and n.kind = 'weekly_insights'
                 and n.args ->> 'week' = $3 and n.link = '/vendor/stalls/' || c.id || '/insights') as "unsent!""#,
        tenant,
        code,
        week
    )
    .fetch_one(tx.conn())
    .await
}

/// Live stalls whose vendor has not had the weekly insights notice for `week` (`2026-W47`).
pub async fn weekly_due(tx: &mut TenantTx, week: &str, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select c.id from codes c
           where c.tenant_id = $1 and c.revoked_at is null
             and not exists (
                 select 1 from notifications n
                 where n.tenant_id = c.tenant_id and n.user_id = c.vendor_id and n.kind = 'weekly_insights'
                   and n.args ->> 'week' = $2 and n.link = '/vendor/stalls/' || c.id || '/insights')
           order by c.created_at, c.id
           limit $3"#,
        tenant,
        week,
        limit
    )
    .fetch_all(tx.conn())
    .await
}
