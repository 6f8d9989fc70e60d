//! A campaign's figures, its claim curve, and the markets' totals.

use super::*;

/// A campaign's figures.
#[derive(Clone, Debug)]
pub struct CampaignFigures {
    pub issued: i64,
    pub claimed: i64,
    pub used: i64,
    pub expired: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
}

pub async fn figures(tx: &mut TenantTx, campaign: Uuid, now: DateTime<Utc>) -> Result<CampaignFigures, sqlx::Error> {
    let tenant = tx.tenant().0;
    let r = sqlx::query!(
        r#"select count(*) as "issued!", count(shopper_id) as "claimed!", count(used_at) as "used!",
                  count(*) filter (where shopper_id is not null and used_at is null and expires_at <= $3) as "expired!",
                  (select coalesce(sum(value_fen), 0)::bigint from redemptions
                    where tenant_id = $1 and campaign_id = $2 and reversed_at is null) as "subsidy!",
                  (select coalesce(sum(bill_fen), 0)::bigint from redemptions
                    where tenant_id = $1 and campaign_id = $2 and reversed_at is null) as "consumption!"
           from vouchers where tenant_id = $1 and campaign_id = $2"#,
        tenant,
        campaign,
        now
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(CampaignFigures {
        issued: r.issued,
        claimed: r.claimed,
        used: r.used,
        expired: r.expired,
        subsidy_fen: r.subsidy,
        consumption_fen: r.consumption,
    })
}

/// Claims per `bucket_secs` from the opening, for the first `buckets` buckets.
pub async fn claim_curve(
    tx: &mut TenantTx,
    campaign: Uuid,
    start: DateTime<Utc>,
    bucket_secs: i32,
    buckets: i32,
) -> Result<Vec<i64>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select b as "bucket!", count(v.seq) as "n!"
           from generate_series(0, $5::int - 1) as b
           left join vouchers v on v.tenant_id = $1 and v.campaign_id = $2 and v.claimed_at >= $3
                 and floor(extract(epoch from (v.claimed_at - $3))::float8 / $4::float8)::int = b
           group by b order by b"#,
        tenant,
        campaign,
        start,
        f64::from(bucket_secs),
        buckets
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| r.n).collect())
}

/// Subsidy and consumption by market (live redemptions of every campaign).
pub async fn by_market(tx: &mut TenantTx) -> Result<Vec<(Uuid, String, i64, i64, i64)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select m.id, m.name, count(r.id) as "used!", coalesce(sum(r.value_fen), 0)::bigint as "subsidy!",
                  coalesce(sum(r.bill_fen), 0)::bigint as "consumption!"
           from markets m
           left join redemptions r on r.tenant_id = m.tenant_id and r.market_id = m.id and r.reversed_at is null
           where m.tenant_id = $1
           group by m.id, m.name order by m.name"#,
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.name, r.used, r.subsidy, r.consumption))
        .collect())
}
