//! The tenant's calendar of holidays and adjusted working days (`work_calendar`).

use chrono::NaiveDate;

use crate::TenantTx;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub kind: String,
    pub name: String,
}

/// The days listed between `from` and `to`, inclusive, in order.
pub async fn days(tx: &mut TenantTx, from: NaiveDate, to: NaiveDate) -> Result<Vec<CalendarDay>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CalendarDay,
        "select day, kind, name from work_calendar where tenant_id = $1 and day between $2 and $3 order by day",
        tenant,
        from,
        to
    )
    .fetch_all(tx.conn())
    .await
}

/// Lists `day` (or changes its listing); returns what it replaced.
pub async fn set(tx: &mut TenantTx, day: &CalendarDay) -> Result<Option<CalendarDay>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let before = sqlx::query_as!(
        CalendarDay,
        "select day, kind, name from work_calendar where tenant_id = $1 and day = $2 for update",
        tenant,
        day.day
    )
    .fetch_optional(tx.conn())
    .await?;
    sqlx::query!(
        "insert into work_calendar (tenant_id, day, kind, name) values ($1, $2, $3, $4)
         on conflict (tenant_id, day) do update set kind = excluded.kind, name = excluded.name",
        tenant,
        day.day,
        day.kind,
        day.name
    )
    .execute(tx.conn())
    .await?;
    Ok(before)
}

/// Takes `day` off the calendar; returns what was listed.
pub async fn remove(tx: &mut TenantTx, day: NaiveDate) -> Result<Option<CalendarDay>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CalendarDay,
        "delete from work_calendar where tenant_id = $1 and day = $2 returning day, kind, name",
        tenant,
        day
    )
    .fetch_optional(tx.conn())
    .await
}
