//! Nightly check-ins.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

#[derive(Clone, Debug, serde::Deserialize)]
pub struct CheckInRow {
    pub id: Uuid,
    pub code_id: Uuid,
    pub business_date: NaiveDate,
    pub checked_in_at: DateTime<Utc>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub late: bool,
    pub distance_m: f64,
}

pub struct NewCheckIn {
    pub code_id: Uuid,
    pub vendor_id: Uuid,
    pub market_id: Uuid,
    pub business_date: NaiveDate,
    pub at: DateTime<Utc>,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub distance_m: f64,
    pub late: bool,
}

/// Records a check-in; a second one for the same code and night violates `check_ins_once_per_night`.
pub async fn insert(tx: &mut TenantTx, c: &NewCheckIn) -> Result<Uuid, sqlx::Error> {
    tx.touch(c.code_id);
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into check_ins (tenant_id, code_id, vendor_id, market_id, business_date, checked_in_at,
                                lat, lng, accuracy_m, distance_m, late)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         returning id",
        tenant,
        c.code_id,
        c.vendor_id,
        c.market_id,
        c.business_date,
        c.at,
        c.lat,
        c.lng,
        c.accuracy_m,
        c.distance_m,
        c.late
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn for_night(tx: &mut TenantTx, code: Uuid, date: NaiveDate) -> Result<Option<CheckInRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CheckInRow,
        "select id, code_id, business_date, checked_in_at, checked_out_at, late, distance_m from check_ins
         where tenant_id = $1 and code_id = $2 and business_date = $3",
        tenant,
        code,
        date
    )
    .fetch_optional(tx.conn())
    .await
}

/// Every check-in of a market's night.
pub async fn market_night(tx: &mut TenantTx, market: Uuid, date: NaiveDate) -> Result<Vec<CheckInRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CheckInRow,
        "select id, code_id, business_date, checked_in_at, checked_out_at, late, distance_m from check_ins
         where tenant_id = $1 and market_id = $2 and business_date = $3",
        tenant,
        market,
        date
    )
    .fetch_all(tx.conn())
    .await
}

/// A code's recent check-ins, newest first.
pub async fn recent(tx: &mut TenantTx, code: Uuid, limit: i64) -> Result<Vec<CheckInRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CheckInRow,
        "select id, code_id, business_date, checked_in_at, checked_out_at, late, distance_m from check_ins
         where tenant_id = $1 and code_id = $2 order by business_date desc limit $3",
        tenant,
        code,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn check_out(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let code = sqlx::query_scalar!(
        "update check_ins set checked_out_at = $3 where tenant_id = $1 and id = $2 and checked_out_at is null
         returning code_id",
        tenant,
        id,
        at
    )
    .fetch_optional(tx.conn())
    .await?;
    if let Some(code) = code {
        tx.touch(code);
    }
    Ok(code.is_some())
}
