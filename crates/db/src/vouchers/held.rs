//! Vouchers as held: the batched take, what a shopper holds and may use, marking one used.

use super::*;

/// A claimed voucher.
#[derive(Clone, Debug)]
pub struct VoucherRow {
    pub campaign_id: Uuid,
    pub seq: i32,
    pub shopper_id: Option<Uuid>,
    pub slot: Option<i16>,
    pub request_key: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
}

/// What a batch's claims have to be checked against, in one probe of the shopper index per
/// shopper: the vouchers the shoppers hold in this campaign, and those of other campaigns claimed
/// under one of the batch's request keys (a request id names one request, and a claim on another
/// campaign is another request).
pub async fn held(
    tx: &mut TenantTx,
    campaign: Uuid,
    shoppers: &[Uuid],
    keys: &[String],
) -> Result<Vec<VoucherRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        VoucherRow,
        // One index probe per shopper (a person holds a handful of vouchers across campaigns),
        // whatever the statistics say: the lateral subquery behind `offset 0` cannot be turned into
        // a join. (Written as a join or `exists`, and planned with statistics taken before the
        // rush when no voucher had a holder, it walked every claimed voucher of the tenant: each
        // batch slower than the last.)
        r#"select v.campaign_id as "campaign_id!", v.seq as "seq!", v.shopper_id, v.slot, v.request_key,
                  v.claimed_at, v.expires_at, v.used_at
           from unnest($3::uuid[]) as s(id)
           cross join lateral (
               select * from vouchers x
               where x.tenant_id = $1 and x.shopper_id = s.id
                 and (x.campaign_id = $2 or x.request_key = any($4::text[]))
               offset 0) v"#,
        tenant,
        campaign,
        shoppers,
        keys
    )
    .fetch_all(tx.conn())
    .await
}

/// Waits until no other transaction settles this lane of the campaign, on any instance, and holds
/// the lane until this transaction ends. A person's claims always go to the same lane, so batches
/// that could compete for one person's slots or request id (a retry that the load balancer sent
/// to another instance) take turns instead of failing on the unique constraints.
pub async fn lock_lane(tx: &mut TenantTx, campaign: Uuid, lane: i32) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('claim_lane:' || $1::uuid::text || ':' || $2::int::text, 0))",
        campaign,
        lane
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One claim to make in a batch: who, which of their slots, under which request key.
pub struct Take {
    pub shopper: Uuid,
    pub slot: i16,
    pub request_key: String,
}

/// Gives free vouchers to the takers, in order, in one statement: as many as are free (fewer when
/// the campaign runs out). Free rows are taken with SKIP LOCKED, so several server instances can
/// claim at once; the constraints refuse anything a bug would let through.
pub async fn take(
    tx: &mut TenantTx,
    campaign: Uuid,
    from_seq: i32,
    takes: &[Take],
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Vec<VoucherRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let shoppers: Vec<Uuid> = takes.iter().map(|t| t.shopper).collect();
    let slots: Vec<i16> = takes.iter().map(|t| t.slot).collect();
    let keys: Vec<String> = takes.iter().map(|t| t.request_key.clone()).collect();
    sqlx::query_as!(
        VoucherRow,
        r#"with free as (
               select seq from vouchers
               where tenant_id = $1 and campaign_id = $2 and shopper_id is null and seq >= $9
               order by seq limit $3
               for update skip locked),
             numbered as (select seq, row_number() over (order by seq) as n from free),
             wanted as (select * from unnest($4::uuid[], $5::int2[], $6::text[]) with ordinality as w(shopper, slot, key, n))
           update vouchers v
           set shopper_id = w.shopper, slot = w.slot, request_key = w.key, claimed_at = $7, expires_at = $8
           from numbered f join wanted w on w.n = f.n
           where v.tenant_id = $1 and v.campaign_id = $2 and v.seq = f.seq
           returning v.campaign_id, v.seq, v.shopper_id, v.slot, v.request_key, v.claimed_at, v.expires_at, v.used_at"#,
        tenant,
        campaign,
        takes.len() as i64,
        &shoppers,
        &slots,
        &keys,
        at,
        expires_at,
        from_seq
    )
    .fetch_all(tx.conn())
    .await
}

/// A shopper's vouchers, newest first, with their campaign's terms.
#[derive(Clone, Debug)]
pub struct MyVoucher {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub seq: i32,
    pub value_fen: i32,
    pub threshold_fen: i32,
    pub claimed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
}

pub async fn of_shopper(tx: &mut TenantTx, shopper: Uuid) -> Result<Vec<MyVoucher>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        MyVoucher,
        "select v.campaign_id, c.name as campaign_name, v.seq, c.value_fen, c.threshold_fen, v.claimed_at,
                v.expires_at, v.used_at
         from vouchers v join campaigns c on c.tenant_id = v.tenant_id and c.id = v.campaign_id
         where v.tenant_id = $1 and v.shopper_id = $2
         order by v.claimed_at desc",
        tenant,
        shopper
    )
    .fetch_all(tx.conn())
    .await
}

/// A shopper's voucher that could be used now, with its campaign's terms.
#[derive(Clone, Debug)]
pub struct Usable {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub seq: i32,
    pub value_fen: i32,
    pub threshold_fen: i32,
    pub market_ids: Vec<Uuid>,
    pub categories: Vec<String>,
    pub daily_budget_fen: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn usable(tx: &mut TenantTx, shopper: Uuid, now: DateTime<Utc>) -> Result<Vec<Usable>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Usable,
        "select v.campaign_id, c.name as campaign_name, v.seq, c.value_fen, c.threshold_fen, c.market_ids,
                c.categories, c.daily_budget_fen, v.expires_at
         from vouchers v join campaigns c on c.tenant_id = v.tenant_id and c.id = v.campaign_id
         where v.tenant_id = $1 and v.shopper_id = $2 and v.used_at is null and v.expires_at > $3
           and c.state <> 'ended'
         order by c.value_fen desc, v.expires_at, v.seq",
        tenant,
        shopper,
        now
    )
    .fetch_all(tx.conn())
    .await
}

/// Marks a voucher used, if it is not; false when it already was (a concurrent redemption).
pub async fn mark_used(tx: &mut TenantTx, campaign: Uuid, seq: i32, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "update vouchers set used_at = $4 where tenant_id = $1 and campaign_id = $2 and seq = $3 and used_at is null",
        tenant,
        campaign,
        seq,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// The subsidy a campaign has paid out on a business date (live redemptions).
pub async fn spent_on(tx: &mut TenantTx, campaign: Uuid, date: chrono::NaiveDate) -> Result<i64, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select coalesce(sum(value_fen), 0)::bigint as "n!" from redemptions
           where tenant_id = $1 and campaign_id = $2 and business_date = $3 and reversed_at is null"#,
        tenant,
        campaign,
        date
    )
    .fetch_one(tx.conn())
    .await
}
