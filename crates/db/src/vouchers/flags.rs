//! Fraud flags over redemptions, and their reviews.

use super::*;

/// A group of redemptions (or refused attempts) that a fraud rule picked out.
#[derive(Clone, Debug)]
pub struct FlagRow {
    pub kind: String,
    pub shopper_masked: Option<String>,
    pub stall_name: Option<String>,
    pub code_id: Option<Uuid>,
    pub count: i64,
    pub redemption_ids: Vec<Uuid>,
    pub reasons: Vec<String>,
}

/// Every rule's groups, as of the tenant's thresholds; `campaign` narrows to one campaign.
pub async fn flags(
    tx: &mut TenantTx,
    s: &crate::settings::Settings,
    campaign: Option<Uuid>,
) -> Result<Vec<FlagRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let mut out = sqlx::query_as!(
        FlagRow,
        r#"select 'same_pair' as "kind!", sh.phone_masked as "shopper_masked?", k.stall_name as "stall_name?",
                  r.code_id as "code_id?", count(*) as "count!",
                  array_agg(r.id order by r.created_at) as "redemption_ids!", '{}'::text[] as "reasons!"
           from redemptions r
           join shoppers sh on sh.tenant_id = r.tenant_id and sh.id = r.shopper_id
           join codes k on k.tenant_id = r.tenant_id and k.id = r.code_id
           where r.tenant_id = $1 and r.reversed_at is null and ($2::uuid is null or r.campaign_id = $2)
           group by r.campaign_id, r.shopper_id, sh.phone_masked, r.code_id, k.stall_name
           having count(*) > $3"#,
        tenant,
        campaign,
        i64::from(s.flag_same_pair)
    )
    .fetch_all(tx.conn())
    .await?;
    out.extend(
        sqlx::query_as!(
            FlagRow,
            r#"select 'near_threshold' as "kind!",
                      case when grouping(r.shopper_id) = 0 then max(sh.phone_masked) end as "shopper_masked?",
                      case when grouping(r.code_id) = 0 then max(k.stall_name) end as "stall_name?",
                      r.code_id as "code_id?", count(*) as "count!",
                      array_agg(r.id order by r.created_at) as "redemption_ids!", '{}'::text[] as "reasons!"
               from redemptions r
               join campaigns c on c.tenant_id = r.tenant_id and c.id = r.campaign_id
               join shoppers sh on sh.tenant_id = r.tenant_id and sh.id = r.shopper_id
               join codes k on k.tenant_id = r.tenant_id and k.id = r.code_id
               where r.tenant_id = $1 and r.reversed_at is null and ($2::uuid is null or r.campaign_id = $2)
                 and c.threshold_fen > 0 and r.bill_fen - c.threshold_fen between 0 and $4
               group by grouping sets ((r.shopper_id), (r.code_id))
               having count(*) >= $3"#,
            tenant,
            campaign,
            i64::from(s.flag_near_count),
            s.flag_near_fen
        )
        .fetch_all(tx.conn())
        .await?,
    );
    out.extend(
        sqlx::query_as!(
            FlagRow,
            r#"select 'vendor_shopper' as "kind!", sh.phone_masked as "shopper_masked?", null::text as "stall_name?",
                      null::uuid as "code_id?", count(*) as "count!",
                      array_agg(r.id order by r.created_at) as "redemption_ids!", '{}'::text[] as "reasons!"
               from redemptions r
               join shoppers sh on sh.tenant_id = r.tenant_id and sh.id = r.shopper_id
               where r.tenant_id = $1 and r.reversed_at is null and ($2::uuid is null or r.campaign_id = $2)
                 and exists (select 1 from applications a
                             where a.tenant_id = sh.tenant_id and a.phone_index = sh.phone_index)
               group by r.shopper_id, sh.phone_masked"#,
            tenant,
            campaign
        )
        .fetch_all(tx.conn())
        .await?,
    );
    out.extend(
        sqlx::query_as!(
            FlagRow,
            r#"select 'refused_attempts' as "kind!", null::text as "shopper_masked?", k.stall_name as "stall_name?",
                      a.code_id as "code_id?", count(*) as "count!", '{}'::uuid[] as "redemption_ids!",
                      array_agg(distinct a.reason) as "reasons!"
               from redemption_attempts a
               join codes k on k.tenant_id = a.tenant_id and k.id = a.code_id
               where a.tenant_id = $1
               group by a.code_id, k.stall_name"#,
            tenant
        )
        .fetch_all(tx.conn())
        .await?,
    );
    out.extend(
        sqlx::query_as!(
            FlagRow,
            r#"select distinct on (r.code_id) 'burst' as "kind!", null::text as "shopper_masked?",
                      k.stall_name as "stall_name?", r.code_id as "code_id?", w.n as "count!",
                      w.ids as "redemption_ids!", '{}'::text[] as "reasons!"
               from redemptions r
               join codes k on k.tenant_id = r.tenant_id and k.id = r.code_id
               cross join lateral (
                   select count(*) as n, array_agg(r2.id order by r2.created_at) as ids from redemptions r2
                   where r2.tenant_id = r.tenant_id and r2.code_id = r.code_id and r2.reversed_at is null
                     and r2.created_at >= r.created_at
                     and r2.created_at < r.created_at + make_interval(mins => $4::int)) w
               where r.tenant_id = $1 and r.reversed_at is null and ($2::uuid is null or r.campaign_id = $2)
                 and w.n > $3
               order by r.code_id, w.n desc"#,
            tenant,
            campaign,
            i64::from(s.flag_burst_count),
            s.flag_burst_minutes
        )
        .fetch_all(tx.conn())
        .await?,
    );
    Ok(out)
}

/// A fraud flag an official dismissed: why, by whom, when.
#[derive(Clone, Debug)]
pub struct FlagReview {
    pub flag_key: String,
    pub reason: String,
    pub reviewed_by_name: String,
    pub reviewed_at: DateTime<Utc>,
}

/// The dismissals of these flags.
pub async fn flag_reviews(tx: &mut TenantTx, keys: &[String]) -> Result<Vec<FlagReview>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        FlagReview,
        "select r.flag_key, r.reason, u.display_name as reviewed_by_name, r.reviewed_at
         from voucher_flag_reviews r join users u on u.tenant_id = r.tenant_id and u.id = r.reviewed_by
         where r.tenant_id = $1 and r.flag_key = any($2)",
        tenant,
        keys
    )
    .fetch_all(tx.conn())
    .await
}

/// Dismisses a flag; false when it was dismissed already.
pub async fn dismiss_flag(
    tx: &mut TenantTx,
    key: &str,
    reason: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "insert into voucher_flag_reviews (tenant_id, flag_key, reason, reviewed_by, reviewed_at)
         values ($1, $2, $3, $4, $5) on conflict do nothing",
        tenant,
        key,
        reason,
        by,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}
