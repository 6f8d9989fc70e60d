//! Credit records (信用记录): the facts a record is made of, and the issued records themselves.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

pub struct Identity {
    pub name_masked: Option<String>,
    pub id_number_masked: Option<String>,
}

/// The vendor's masked name and ID number, from their latest approved application.
pub async fn identity(tx: &mut TenantTx, vendor: Uuid) -> Result<Identity, sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query_as!(
        Identity,
        "select real_name_masked as name_masked, id_number_masked from applications
         where tenant_id = $1 and vendor_id = $2 and state = 'approved'
         order by decided_at desc nulls last limit 1",
        tenant,
        vendor
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.unwrap_or(Identity {
        name_masked: None,
        id_number_masked: None,
    }))
}

pub struct Stall {
    pub stall_name: String,
    pub category: String,
    pub market_name: String,
    pub since: DateTime<Utc>,
    pub live: bool,
    pub score: Option<i32>,
}

/// Every stall the vendor has had a code for, oldest first, with its current score.
pub async fn stalls(tx: &mut TenantTx, vendor: Uuid) -> Result<Vec<Stall>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Stall,
        r#"select c.stall_name, c.category, m.name as market_name, c.created_at as since,
                  (c.revoked_at is null) as "live!", s.score as "score?"
           from codes c
           join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
           left join stall_scores s on s.tenant_id = c.tenant_id and s.code_id = c.id
           where c.tenant_id = $1 and c.vendor_id = $2
           order by c.created_at"#,
        tenant,
        vendor
    )
    .fetch_all(tx.conn())
    .await
}

pub struct Nights {
    pub total: i64,
    pub late: i64,
    pub recent: i64,
}

/// Nights checked in: in all, late, and since `since`.
pub async fn nights(tx: &mut TenantTx, vendor: Uuid, since: NaiveDate) -> Result<Nights, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Nights,
        r#"select count(*) as "total!", count(*) filter (where late) as "late!",
                  count(*) filter (where business_date >= $3) as "recent!"
           from check_ins where tenant_id = $1 and vendor_id = $2"#,
        tenant,
        vendor,
        since
    )
    .fetch_one(tx.conn())
    .await
}

pub struct MonthRatings {
    pub month: String,
    pub ratings: i64,
    pub stars: i64,
}

/// Visible ratings per calendar month of their night, since `since`.
pub async fn rating_months(
    tx: &mut TenantTx,
    vendor: Uuid,
    since: NaiveDate,
) -> Result<Vec<MonthRatings>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        MonthRatings,
        r#"select to_char(business_date, 'YYYY-MM') as "month!", count(*) as "ratings!", sum(stars)::bigint as "stars!"
           from ratings
           where tenant_id = $1 and vendor_id = $2 and hidden_at is null and status = 'counted' and business_date >= $3
           group by 1 order by 1"#,
        tenant,
        vendor,
        since
    )
    .fetch_all(tx.conn())
    .await
}

pub struct MonthScore {
    pub stall_name: String,
    pub month: String,
    pub score: i32,
}

/// Each stall's score at the end of each month it changed, since `since`.
pub async fn score_months(tx: &mut TenantTx, vendor: Uuid, since: NaiveDate) -> Result<Vec<MonthScore>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        MonthScore,
        r#"select stall_name as "stall_name!", month as "month!", score as "score!" from (
               select distinct on (d.code_id, date_trunc('month', d.day))
                      c.stall_name, c.created_at, to_char(d.day, 'YYYY-MM') as month, d.score
               from stall_score_days d
               join codes c on c.tenant_id = d.tenant_id and c.id = d.code_id
               where d.tenant_id = $1 and c.vendor_id = $2 and d.day >= $3
               order by d.code_id, date_trunc('month', d.day), d.day desc) m
           order by created_at, month"#,
        tenant,
        vendor,
        since
    )
    .fetch_all(tx.conn())
    .await
}

pub struct Complaints {
    pub received: i64,
    pub upheld: i64,
    pub not_upheld: i64,
    pub open: i64,
}

pub async fn complaints(tx: &mut TenantTx, vendor: Uuid) -> Result<Complaints, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Complaints,
        r#"select count(*) as "received!",
                  count(*) filter (where upheld is true) as "upheld!",
                  count(*) filter (where state in ('resolved', 'rejected') and upheld is not true) as "not_upheld!",
                  count(*) filter (where state not in ('resolved', 'rejected')) as "open!"
           from complaints where tenant_id = $1 and vendor_id = $2"#,
        tenant,
        vendor
    )
    .fetch_one(tx.conn())
    .await
}

pub struct Inspections {
    pub total: i64,
    pub passed: i64,
    pub points: i64,
    pub points_cancelled: i64,
}

pub async fn inspections(tx: &mut TenantTx, vendor: Uuid) -> Result<Inspections, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Inspections,
        r#"select (select count(*) from inspections where tenant_id = $1 and vendor_id = $2) as "total!",
                  (select count(*) from inspections where tenant_id = $1 and vendor_id = $2 and passed) as "passed!",
                  (select coalesce(sum(points), 0) from deductions
                   where tenant_id = $1 and vendor_id = $2 and cancelled_at is null)::bigint as "points!",
                  (select coalesce(sum(points), 0) from deductions
                   where tenant_id = $1 and vendor_id = $2 and cancelled_at is not null)::bigint as "points_cancelled!""#,
        tenant,
        vendor
    )
    .fetch_one(tx.conn())
    .await
}

pub struct Vouchers {
    pub redemptions: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
}

pub async fn vouchers(tx: &mut TenantTx, vendor: Uuid) -> Result<Vouchers, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Vouchers,
        r#"select count(*) as "redemptions!", coalesce(sum(value_fen), 0)::bigint as "subsidy_fen!",
                  coalesce(sum(bill_fen), 0)::bigint as "consumption_fen!"
           from redemptions where tenant_id = $1 and vendor_id = $2 and reversed_at is null"#,
        tenant,
        vendor
    )
    .fetch_one(tx.conn())
    .await
}

#[derive(Clone, Debug)]
pub struct RecordRow {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub code: String,
    pub sections: Vec<String>,
    pub payload: String,
    pub kid: String,
    pub signature: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct NewRecord<'a> {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub code: &'a str,
    pub sections: &'a [String],
    pub payload: &'a str,
    pub kid: &'a str,
    pub signature: &'a str,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(tx: &mut TenantTx, r: &NewRecord<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into credit_records (tenant_id, id, vendor_id, code, sections, payload, kid, signature, issued_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        tenant,
        r.id,
        r.vendor_id,
        r.code,
        r.sections,
        r.payload,
        r.kid,
        r.signature,
        r.issued_at,
        r.expires_at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The vendor's records, newest first.
pub async fn for_vendor(tx: &mut TenantTx, vendor: Uuid) -> Result<Vec<RecordRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RecordRow,
        "select id, vendor_id, code, sections, payload, kid, signature, issued_at, expires_at, revoked_at
         from credit_records where tenant_id = $1 and vendor_id = $2 order by issued_at desc, id",
        tenant,
        vendor
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<RecordRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RecordRow,
        "select id, vendor_id, code, sections, payload, kid, signature, issued_at, expires_at, revoked_at
         from credit_records where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn by_code(tx: &mut TenantTx, code: &str) -> Result<Option<RecordRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RecordRow,
        "select id, vendor_id, code, sections, payload, kid, signature, issued_at, expires_at, revoked_at
         from credit_records where tenant_id = $1 and code = $2",
        tenant,
        code
    )
    .fetch_optional(tx.conn())
    .await
}

/// Revokes the record if it is not revoked yet; false if it already was.
pub async fn revoke(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update credit_records set revoked_at = $3 where tenant_id = $1 and id = $2 and revoked_at is null",
        tenant,
        id,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
