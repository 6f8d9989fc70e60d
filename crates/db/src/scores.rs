//! What a stall's score is computed from, and the stored score.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::score::{Inputs, Score};

/// The inputs of one code's score as of `today` (the tenant's local date) and `now`.
/// `first_night` is the first night the code could have been checked in (its issue date).
pub async fn inputs(
    tx: &mut TenantTx,
    code: Uuid,
    vendor: Uuid,
    first_night: NaiveDate,
    today: NaiveDate,
    now: DateTime<Utc>,
    prior_weight: i64,
) -> Result<Inputs, sqlx::Error> {
    let tenant = tx.tenant().0;
    // A stall that traded before its code's issue date (a code reissued, data carried over) has
    // history from its first check-in: the window covers it, so attendance is never full marks
    // on nights that have a record.
    let first_checkin: Option<NaiveDate> = sqlx::query_scalar!(
        "select min(business_date) from check_ins where tenant_id = $1 and code_id = $2",
        tenant,
        code
    )
    .fetch_one(tx.conn())
    .await?;
    let first_night = first_checkin.map_or(first_night, |f| f.min(first_night));
    let window_start = (today - chrono::Duration::days(nightmarket_domain::score::ATTENDANCE_NIGHTS)).max(first_night);
    let since = now - chrono::Duration::days(nightmarket_domain::score::LOOKBACK_DAYS);
    let r = sqlx::query!(
        r#"select
             (select count(*) from ratings where tenant_id = $1 and code_id = $2 and status = 'counted') as "rating_count!",
             (select coalesce(sum(stars), 0)::bigint from ratings where tenant_id = $1 and code_id = $2
                and status = 'counted') as "rating_sum!",
             (select avg(stars)::float8 from ratings where tenant_id = $1 and status = 'counted') as tenant_mean,
             (select count(*) from check_ins where tenant_id = $1 and code_id = $2
                and business_date >= $4 and business_date < $5) as "checked_in!",
             (select count(*) from complaints where tenant_id = $1 and code_id = $2
                and state = 'resolved' and upheld and closed_at >= $6) as "upheld!",
             (select coalesce(sum(points), 0)::bigint from deductions where tenant_id = $1 and vendor_id = $3
                and cancelled_at is null and created_at >= $6) as "points!""#,
        tenant,
        code,
        vendor,
        window_start,
        today,
        since
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(Inputs {
        rating_count: r.rating_count,
        rating_sum: r.rating_sum,
        tenant_mean: r.tenant_mean,
        prior_weight,
        nights: (today - window_start).num_days().max(0),
        checked_in: r.checked_in,
        upheld_complaints: r.upheld,
        penalty_points: r.points,
    })
}

/// Stores a code's score; returns false (and writes nothing) when it is unchanged.
pub async fn put(tx: &mut TenantTx, code: Uuid, s: &Score) -> Result<bool, sqlx::Error> {
    tx.touch(code);
    let tenant = tx.tenant().0;
    let components = serde_json::to_value(s).unwrap_or(serde_json::Value::Null);
    let n = sqlx::query!(
        "insert into stall_scores (tenant_id, code_id, score, rating_count, rating_sum, components)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (tenant_id, code_id) do update
         set score = excluded.score, rating_count = excluded.rating_count, rating_sum = excluded.rating_sum,
             components = excluded.components, updated_at = now()
         where stall_scores.components is distinct from excluded.components",
        tenant,
        code,
        s.score,
        s.inputs.rating_count as i32,
        s.inputs.rating_sum as i32,
        components
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}
