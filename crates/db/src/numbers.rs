//! What the dashboards read (services::numbers): per market and business night where the figure
//! adds up across nights, grouped counts where it does not. Every query takes the same window:
//! nights `from..=to`, an optional market, and for timestamps the instants `lo..hi` around them
//! (the business night of a timestamp is `business_night()` with the market's hours, migration
//! 0011).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

/// The nights, market and zone a dashboard reads.
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub market: Option<Uuid>,
    /// The tenant's IANA zone.
    pub tz: &'a str,
    /// From the start of the first night's date to two days after the last (a night that runs
    /// past midnight ends the next morning): rows in it are placed by their business night.
    pub lo: DateTime<Utc>,
    pub hi: DateTime<Utc>,
    /// The calendar dates of the range in the tenant's zone, for office work (applications,
    /// claims, causes raised): `[day_lo, day_hi)`.
    pub day_lo: DateTime<Utc>,
    pub day_hi: DateTime<Utc>,
}

#[derive(Debug)]
pub struct MarketNight {
    pub market_id: Uuid,
    pub night: NaiveDate,
    pub a: i64,
    pub b: i64,
    pub c: i64,
}

/// Scans and visitors per market night.
pub async fn scans(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<MarketNight>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        MarketNight,
        r#"select market_id, night, scans as a, visitors as b, 0::bigint as "c!"
           from scan_market_nights
           where tenant_id = $1 and night between $2 and $3 and ($4::uuid is null or market_id = $4)"#,
        tenant,
        w.from,
        w.to,
        w.market
    )
    .fetch_all(tx.conn())
    .await
}

/// The counters kept per market night (migration 0012): check-ins, visible ratings, live voucher
/// uses, with their stripes added up.
#[derive(Debug)]
pub struct Counters {
    pub market_id: Uuid,
    pub night: NaiveDate,
    pub opened: i64,
    pub late: i64,
    pub ratings: i64,
    pub stars: i64,
    pub redemptions: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
}

pub async fn counters(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<Counters>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Counters,
        r#"select market_id, night, sum(opened)::bigint as "opened!", sum(late)::bigint as "late!",
                  sum(ratings)::bigint as "ratings!", sum(stars)::bigint as "stars!",
                  sum(redemptions)::bigint as "redemptions!", sum(subsidy_fen)::bigint as "subsidy_fen!",
                  sum(consumption_fen)::bigint as "consumption_fen!"
           from market_nights
           where tenant_id = $1 and night between $2 and $3 and ($4::uuid is null or market_id = $4)
           group by market_id, night"#,
        tenant,
        w.from,
        w.to,
        w.market
    )
    .fetch_all(tx.conn())
    .await
}

/// Inspections per market night: count, failed, points deducted (not cancelled).
pub async fn inspections(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<MarketNight>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        MarketNight,
        r#"with points as (
               select inspection_id, sum(points)::bigint as points
               from deductions
               where tenant_id = $1 and cancelled_at is null and created_at >= $6
               group by inspection_id),
           placed as (
               select i.market_id, business_night(i.inspected_at, $5, m.opens_at, m.closes_at) as night, i.passed,
                      coalesce(p.points, 0) as points
               from inspections i
               join markets m on m.tenant_id = i.tenant_id and m.id = i.market_id
               left join points p on p.inspection_id = i.id
               where i.tenant_id = $1 and i.inspected_at >= $6 and i.inspected_at < $7
                 and ($4::uuid is null or i.market_id = $4))
           select market_id, night as "night!", count(*) as "a!", count(*) filter (where not passed) as "b!",
                  coalesce(sum(points), 0)::bigint as "c!"
           from placed
           where night between $2 and $3
           group by market_id, night"#,
        tenant,
        w.from,
        w.to,
        w.market,
        w.tz,
        w.lo,
        w.hi
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct ComplaintGroup {
    pub market_id: Uuid,
    pub night: NaiveDate,
    pub category: String,
    pub state: String,
    /// Closed, or past its resolution deadline: the complaints the on-time share is over.
    pub due: bool,
    /// Closed by its resolution deadline.
    pub on_time: bool,
    pub count: i64,
}

/// Complaints filed in the window, by market, night, category, state and timeliness.
pub async fn complaints(
    tx: &mut TenantTx,
    w: &Window<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintGroup>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        ComplaintGroup,
        r#"with placed as (
               select c.market_id, business_night(c.created_at, $5, m.opens_at, m.closes_at) as night, c.category,
                      c.state, (c.closed_at is not null or c.resolve_due_at <= $8) as due,
                      (c.closed_at is not null and c.closed_at <= c.resolve_due_at) as on_time
               from complaints c
               join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
               where c.tenant_id = $1 and c.created_at >= $6 and c.created_at < $7
                 and ($4::uuid is null or c.market_id = $4))
           select market_id, night as "night!", category, state, due as "due!", on_time as "on_time!",
                  count(*) as "count!"
           from placed
           where night between $2 and $3
           group by market_id, night, category, state, due, on_time"#,
        tenant,
        w.from,
        w.to,
        w.market,
        w.tz,
        w.lo,
        w.hi,
        now
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct CodeLife {
    pub market_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// When each code of the window's markets came and went (who was expected on a night).
pub async fn code_lives(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<CodeLife>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CodeLife,
        r#"select market_id, created_at, revoked_at
           from codes
           where tenant_id = $1 and ($2::uuid is null or market_id = $2)
             and (revoked_at is null or revoked_at >= $3)"#,
        tenant,
        w.market,
        w.lo
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct KeyCount {
    pub market_id: Uuid,
    pub key: String,
    pub count: i64,
}

/// Live codes by colour now, per market.
pub async fn colours(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<KeyCount>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        KeyCount,
        r#"select market_id, colour as key, count(*) as "count!"
           from codes
           where tenant_id = $1 and revoked_at is null and ($2::uuid is null or market_id = $2)
           group by market_id, colour"#,
        tenant,
        w.market
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct CauseCount {
    pub market_id: Uuid,
    pub kind: String,
    /// Open now on a live code.
    pub open: i64,
    /// Raised on a date of the range.
    pub raised: i64,
}

/// Red causes by kind: open now, and raised in the range.
pub async fn red_causes(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<CauseCount>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CauseCount,
        r#"select c.market_id, cc.kind,
                  count(*) filter (where cc.cleared_at is null and c.revoked_at is null) as "open!",
                  count(*) filter (where cc.created_at >= $3 and cc.created_at < $4) as "raised!"
           from code_causes cc
           join codes c on c.tenant_id = cc.tenant_id and c.id = cc.code_id
           where cc.tenant_id = $1 and cc.colour = 'red' and ($2::uuid is null or c.market_id = $2)
             and (cc.cleared_at is null or (cc.created_at >= $3 and cc.created_at < $4))
           group by c.market_id, cc.kind"#,
        tenant,
        w.market,
        w.day_lo,
        w.day_hi
    )
    .fetch_all(tx.conn())
    .await
}

/// Applications first submitted on a date of the range, by market and state now.
pub async fn applications(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<KeyCount>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        KeyCount,
        r#"select market_id, state as key, count(*) as "count!"
           from applications
           where tenant_id = $1 and first_submitted_at >= $3 and first_submitted_at < $4
             and ($2::uuid is null or market_id = $2)
           group by market_id, state"#,
        tenant,
        w.market,
        w.day_lo,
        w.day_hi
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct ReviewTimes {
    /// None for the row over all markets of the window.
    pub market_id: Option<Uuid>,
    pub decided: i64,
    /// Seconds from first submission to decision.
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
}

/// How long decisions made on a date of the range took, per market and over all of them.
pub async fn review_times(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<ReviewTimes>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        ReviewTimes,
        r#"select market_id as "market_id?", count(*) as "decided!",
                  round(percentile_cont(0.5) within group (order by extract(epoch from decided_at - first_submitted_at)))::bigint
                      as median_secs,
                  round(percentile_cont(0.9) within group (order by extract(epoch from decided_at - first_submitted_at)))::bigint
                      as p90_secs
           from applications
           where tenant_id = $1 and decided_at >= $3 and decided_at < $4 and state in ('approved', 'rejected')
             and first_submitted_at is not null and ($2::uuid is null or market_id = $2)
           group by grouping sets ((market_id), ())"#,
        tenant,
        w.market,
        w.day_lo,
        w.day_hi
    )
    .fetch_all(tx.conn())
    .await
}

/// Vouchers claimed on a date of the range (claims belong to the tenant, not to a market).
pub async fn claimed(tx: &mut TenantTx, w: &Window<'_>) -> Result<i64, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from vouchers where tenant_id = $1 and claimed_at >= $2 and claimed_at < $3"#,
        tenant,
        w.day_lo,
        w.day_hi
    )
    .fetch_one(tx.conn())
    .await
}

#[derive(Debug)]
pub struct StallCategory {
    pub category: String,
    pub stalls: i64,
    /// Sum of scores of the stalls that have one (for the average).
    pub score_sum: i64,
    pub scored: i64,
}

/// Live stalls of a market by category, with their scores (the public market page).
pub async fn stall_categories(tx: &mut TenantTx, market: Uuid) -> Result<Vec<StallCategory>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        StallCategory,
        r#"select c.category, count(*) as "stalls!", coalesce(sum(s.score), 0)::bigint as "score_sum!",
                  count(s.score) as "scored!"
           from codes c
           left join stall_scores s on s.tenant_id = c.tenant_id and s.code_id = c.id
           where c.tenant_id = $1 and c.market_id = $2 and c.revoked_at is null
           group by c.category
           order by c.category"#,
        tenant,
        market
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct ApplicationRecord {
    pub id: Uuid,
    pub market: String,
    pub stall_name: String,
    pub category: String,
    /// Masked, as everywhere it is shown.
    pub vendor: Option<String>,
    pub state: String,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// Applications first submitted on a date of the range, oldest first.
pub async fn application_records(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<ApplicationRecord>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        ApplicationRecord,
        r#"select a.id, m.name as market, a.stall_name, a.category, a.real_name_masked as vendor, a.state,
                  a.first_submitted_at, a.decided_at
           from applications a
           join markets m on m.tenant_id = a.tenant_id and m.id = a.market_id
           where a.tenant_id = $1 and a.first_submitted_at >= $3 and a.first_submitted_at < $4
             and ($2::uuid is null or a.market_id = $2)
           order by a.first_submitted_at, a.id"#,
        tenant,
        w.market,
        w.day_lo,
        w.day_hi
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct ComplaintRecord {
    pub tracking: String,
    pub night: NaiveDate,
    pub market: String,
    pub slot: String,
    pub stall_name: String,
    pub category: String,
    /// The category's GB/T 39666 class as the tenant sets it.
    pub gbt_code: Option<String>,
    pub state: String,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub upheld: Option<bool>,
}

/// Complaints filed on a night of the range, oldest first (no description, no contact).
pub async fn complaint_records(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<ComplaintRecord>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        ComplaintRecord,
        r#"select * from (
               select c.tracking, business_night(c.created_at, $5, m.opens_at, m.closes_at) as "night!",
                      m.name as market, s.code as slot, k.stall_name, c.category, d.gbt_code as "gbt_code?",
                      c.state, c.source, c.created_at, c.resolve_due_at, c.closed_at, c.upheld
               from complaints c
               join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
               left join complaint_deadlines d on d.tenant_id = c.tenant_id and d.category = c.category
               join codes k on k.tenant_id = c.tenant_id and k.id = c.code_id
               join slots s on s.tenant_id = k.tenant_id and s.id = k.slot_id
               where c.tenant_id = $1 and c.created_at >= $6 and c.created_at < $7
                 and ($4::uuid is null or c.market_id = $4)) x
           where "night!" between $2 and $3
           order by created_at, tracking"#,
        tenant,
        w.from,
        w.to,
        w.market,
        w.tz,
        w.lo,
        w.hi
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Debug)]
pub struct InspectionRecord {
    pub id: Uuid,
    pub night: NaiveDate,
    pub inspected_at: DateTime<Utc>,
    pub market: String,
    pub slot: String,
    pub stall_name: String,
    pub passed: bool,
    pub points: i64,
    pub problems: Vec<String>,
}

/// Inspections on a night of the range, oldest first, with the problems found and points kept.
pub async fn inspection_records(tx: &mut TenantTx, w: &Window<'_>) -> Result<Vec<InspectionRecord>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        InspectionRecord,
        r#"select * from (
               select i.id, business_night(i.inspected_at, $5, m.opens_at, m.closes_at) as "night!", i.inspected_at,
                      m.name as market, s.code as slot, k.stall_name, i.passed,
                      coalesce((select sum(d.points) from deductions d
                                where d.tenant_id = i.tenant_id and d.inspection_id = i.id and d.cancelled_at is null),
                               0)::bigint as "points!",
                      coalesce((select array_agg(d.problem_label order by d.problem_label) from deductions d
                                where d.tenant_id = i.tenant_id and d.inspection_id = i.id), '{}') as "problems!"
               from inspections i
               join markets m on m.tenant_id = i.tenant_id and m.id = i.market_id
               join codes k on k.tenant_id = i.tenant_id and k.id = i.code_id
               join slots s on s.tenant_id = k.tenant_id and s.id = k.slot_id
               where i.tenant_id = $1 and i.inspected_at >= $6 and i.inspected_at < $7
                 and ($4::uuid is null or i.market_id = $4)) x
           where "night!" between $2 and $3
           order by inspected_at, id"#,
        tenant,
        w.from,
        w.to,
        w.market,
        w.tz,
        w.lo,
        w.hi
    )
    .fetch_all(tx.conn())
    .await
}
