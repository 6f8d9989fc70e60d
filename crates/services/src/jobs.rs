//! Periodic jobs run once per period across every instance of a deployment.
//!
//! Each instance ticks on its own, but before doing a job's work it claims the job's current
//! period in `job_runs` (an insert that only one instance can make); the others see the period
//! taken and skip it. A period is the job's interval counted from the Unix epoch, so instances
//! started at different moments agree on it. An instance that dies mid-job leaves its period
//! unfinished (`done_at` empty); the next period does the work, as every job here catches up on
//! what is due rather than on what happened in one period.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::time::Duration;

/// The period `now` falls in for a job run every `every` (its number since the epoch).
pub fn period_of(now: DateTime<Utc>, every: Duration) -> i64 {
    let every = i64::try_from(every.as_millis()).unwrap_or(i64::MAX).max(1);
    now.timestamp_millis().div_euclid(every)
}

/// Claims `job`'s period for this instance: true when no instance had.
pub async fn claim(db: &PgPool, job: &str, period: i64) -> Result<bool, sqlx::Error> {
    let period = period.to_string();
    Ok(sqlx::query_scalar!(
        r#"insert into job_runs (job, period) values ($1, $2) on conflict do nothing returning true as "claimed!""#,
        job,
        period
    )
    .fetch_optional(db)
    .await?
    .is_some())
}

/// Records that the claimed period's work finished.
pub async fn done(db: &PgPool, job: &str, period: i64) -> Result<(), sqlx::Error> {
    let period = period.to_string();
    sqlx::query!(
        "update job_runs set done_at = clock_timestamp() where job = $1 and period = $2",
        job,
        period
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets runs older than a week (the table only needs the current periods).
pub async fn prune(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query!("delete from job_runs where started_at < clock_timestamp() - interval '7 days'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// Runs `work` if this instance is the one to run `job` for the period `now` falls in; None when
/// another instance has it.
pub async fn once_per_period<T, F, Fut>(
    db: &PgPool,
    job: &str,
    every: Duration,
    now: DateTime<Utc>,
    work: F,
) -> anyhow::Result<Option<T>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let period = period_of(now, every);
    if !claim(db, job, period).await? {
        return Ok(None);
    }
    let out = work().await?;
    done(db, job, period).await?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instances_started_apart_agree_on_the_period() {
        let every = Duration::from_secs(300);
        let a = Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 1).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 12, 7, 3, 4, 59).unwrap();
        let c = Utc.with_ymd_and_hms(2026, 12, 7, 3, 5, 0).unwrap();
        assert_eq!(period_of(a, every), period_of(b, every));
        assert_eq!(period_of(c, every), period_of(a, every) + 1);
    }
}
