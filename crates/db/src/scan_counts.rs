//! Scans per code per night (see services::scan_counts).

use chrono::NaiveDate;
use uuid::Uuid;

use super::TenantTx;

/// Adds `scans` page views and, as visitors, those of `devices` not yet counted that night, to the
/// code's night and to its market's (scan_market_nights, what the dashboards read).
pub async fn add(
    tx: &mut TenantTx,
    code: Uuid,
    night: NaiveDate,
    scans: i64,
    devices: &[String],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        r#"with new as (
               insert into scan_visitors (tenant_id, code_id, night, device_hash)
               select $1, $2, $3, d from unnest($5::text[]) as d
               on conflict do nothing
               returning 1),
           visitors as (select count(*) as n from new),
           market as (
               insert into scan_market_nights (tenant_id, market_id, night, scans, visitors)
               select $1, c.market_id, $3, $4, (select n from visitors)
               from codes c where c.tenant_id = $1 and c.id = $2
               on conflict (tenant_id, market_id, night) do update
               set scans = scan_market_nights.scans + excluded.scans,
                   visitors = scan_market_nights.visitors + excluded.visitors)
           insert into scan_nights (tenant_id, code_id, night, scans, visitors)
           values ($1, $2, $3, $4, (select n from visitors))
           on conflict (tenant_id, code_id, night) do update
           set scans = scan_nights.scans + excluded.scans, visitors = scan_nights.visitors + excluded.visitors"#,
        tenant,
        code,
        night,
        scans,
        devices
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Adds scans by local hour (`hours[h]` scans in hour `h`; hours without scans are skipped).
pub async fn add_hours(tx: &mut TenantTx, code: Uuid, night: NaiveDate, hours: &[i64; 24]) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    let (which, scans): (Vec<i16>, Vec<i64>) = (0i16..).zip(hours.iter().copied()).filter(|(_, n)| *n > 0).unzip();
    if which.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "insert into scan_hours (tenant_id, code_id, night, hour, scans)
         select $1, $2, $3, h, n from unnest($4::smallint[], $5::bigint[]) as u (h, n)
         on conflict (tenant_id, code_id, night, hour) do update set scans = scan_hours.scans + excluded.scans",
        tenant,
        code,
        night,
        &which,
        &scans
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A code's counts on a night: (scans, visitors).
pub async fn of_night(tx: &mut TenantTx, code: Uuid, night: NaiveDate) -> Result<(i64, i64), sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query!(
        "select scans, visitors from scan_nights where tenant_id = $1 and code_id = $2 and night = $3",
        tenant,
        code,
        night
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (r.scans, r.visitors)).unwrap_or((0, 0)))
}
