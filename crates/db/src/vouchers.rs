//! Campaigns, shoppers and vouchers.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::voucher::{State, Terms};

#[derive(Clone, Debug)]
pub struct CampaignRow {
    pub id: Uuid,
    pub name: String,
    pub value_fen: i32,
    pub threshold_fen: i32,
    pub total: i32,
    pub per_person: i16,
    pub claim_start: DateTime<Utc>,
    pub claim_end: DateTime<Utc>,
    pub use_until: Option<DateTime<Utc>>,
    pub use_days: Option<i32>,
    pub market_ids: Vec<Uuid>,
    pub categories: Vec<String>,
    pub daily_budget_fen: Option<i64>,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn insert(tx: &mut TenantTx, t: &Terms) -> Result<Uuid, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into campaigns (tenant_id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end,
                                use_until, use_days, market_ids, categories, daily_budget_fen)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         returning id",
        tenant,
        t.name.trim(),
        t.value_fen as i32,
        t.threshold_fen as i32,
        t.total as i32,
        t.per_person as i16,
        t.claim_start,
        t.claim_end,
        t.use_until,
        t.use_days,
        &t.market_ids,
        &t.categories,
        t.daily_budget_fen
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn update(tx: &mut TenantTx, id: Uuid, t: &Terms) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update campaigns set name = $3, value_fen = $4, threshold_fen = $5, total = $6, per_person = $7,
                claim_start = $8, claim_end = $9, use_until = $10, use_days = $11, market_ids = $12,
                categories = $13, daily_budget_fen = $14, updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        t.name.trim(),
        t.value_fen as i32,
        t.threshold_fen as i32,
        t.total as i32,
        t.per_person as i16,
        t.claim_start,
        t.claim_end,
        t.use_until,
        t.use_days,
        &t.market_ids,
        &t.categories,
        t.daily_budget_fen
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A campaign, locked for a change when `lock`.
pub async fn get(tx: &mut TenantTx, id: Uuid, lock: bool) -> Result<Option<CampaignRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    if lock {
        sqlx::query!(
            "select 1 as x from campaigns where tenant_id = $1 and id = $2 for update",
            tenant,
            id
        )
        .fetch_optional(tx.conn())
        .await?;
    }
    sqlx::query_as!(
        CampaignRow,
        r#"select id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end, use_until, use_days,
                market_ids, categories, daily_budget_fen, state as "state: State", created_at, updated_at
         from campaigns where tenant_id = $1 and id = $2"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<CampaignRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CampaignRow,
        r#"select id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end, use_until, use_days,
                market_ids, categories, daily_budget_fen, state as "state: State", created_at, updated_at
         from campaigns where tenant_id = $1 order by claim_start desc, created_at desc"#,
        tenant
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn set_state(tx: &mut TenantTx, id: Uuid, state: State) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update campaigns set state = $3, updated_at = now() where tenant_id = $1 and id = $2",
        tenant,
        id,
        state as State
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Makes every voucher of a campaign (once, when it is scheduled).
pub async fn make_vouchers(tx: &mut TenantTx, campaign: Uuid, total: i32, per_person: i16) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    let made = sqlx::query!(
        "insert into vouchers (tenant_id, campaign_id, seq, per_person)
         select $1, $2, s, $4 from generate_series(1, $3::int) as s
         on conflict do nothing",
        tenant,
        campaign,
        total,
        per_person
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    // Fresh statistics before the rush (see migration 0009); the transaction's own new rows count.
    sqlx::query!("select analyze_vouchers()").execute(tx.conn()).await?;
    Ok(made)
}

/// How many vouchers a campaign has, and how many are claimed and used.
pub async fn counts(tx: &mut TenantTx, campaign: Uuid) -> Result<(i64, i64, i64), sqlx::Error> {
    let tenant = tx.tenant().0;
    let r = sqlx::query!(
        r#"select count(*) as "made!", count(shopper_id) as "claimed!", count(used_at) as "used!"
           from vouchers where tenant_id = $1 and campaign_id = $2"#,
        tenant,
        campaign
    )
    .fetch_one(tx.conn())
    .await?;
    Ok((r.made, r.claimed, r.used))
}

/// The shopper with this phone index, made if new. Returns (id, created).
pub async fn shopper(
    tx: &mut TenantTx,
    phone_index: &str,
    new_id: Uuid,
    phone_enc: &[u8],
    phone_masked: &str,
) -> Result<(Uuid, bool), sqlx::Error> {
    let tenant = tx.tenant().0;
    let inserted = sqlx::query_scalar!(
        "insert into shoppers (tenant_id, id, phone_enc, phone_index, phone_masked) values ($1, $2, $3, $4, $5)
         on conflict (tenant_id, phone_index) do nothing returning id",
        tenant,
        new_id,
        phone_enc,
        phone_index,
        phone_masked
    )
    .fetch_optional(tx.conn())
    .await?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let id = sqlx::query_scalar!(
        "select id from shoppers where tenant_id = $1 and phone_index = $2",
        tenant,
        phone_index
    )
    .fetch_one(tx.conn())
    .await?;
    Ok((id, false))
}

pub async fn shopper_masked(tx: &mut TenantTx, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "select phone_masked from shoppers where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

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

/// What the shoppers of a batch already hold in a campaign.
pub async fn held(tx: &mut TenantTx, campaign: Uuid, shoppers: &[Uuid]) -> Result<Vec<VoucherRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        VoucherRow,
        // One index probe per shopper, whatever the statistics say: the lateral subquery with its
        // limit (the most one person may hold) cannot be turned into a join that reads the whole
        // campaign. (`shopper_id = any($3)`, with statistics taken before the rush when no voucher
        // had a holder, walked every claimed voucher of the tenant: each batch slower than the last.)
        r#"select v.campaign_id as "campaign_id!", v.seq as "seq!", v.shopper_id, v.slot, v.request_key,
                  v.claimed_at, v.expires_at, v.used_at
           from unnest($3::uuid[]) as s(id)
           cross join lateral (
               select * from vouchers x
               where x.tenant_id = $1 and x.campaign_id = $2 and x.shopper_id = s.id
               limit 100) v"#,
        tenant,
        campaign,
        shoppers
    )
    .fetch_all(tx.conn())
    .await
}

/// Of these (shopper, request key) pairs, the keys that already claimed a voucher of another
/// campaign: a request id names one request, and a claim on another campaign is another request.
pub async fn keys_used_elsewhere(
    tx: &mut TenantTx,
    campaign: Uuid,
    shoppers: &[Uuid],
    keys: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let tenant = tx.tenant().0;
    // Through the shopper index: a person holds a handful of vouchers across campaigns.
    sqlx::query_scalar!(
        r#"select k.key as "key!"
           from unnest($2::uuid[], $3::text[]) as k(shopper, key)
           where exists (select 1 from vouchers x
                         where x.tenant_id = $1 and x.shopper_id = k.shopper and x.request_key = k.key
                           and x.campaign_id <> $4)"#,
        tenant,
        shoppers,
        keys,
        campaign
    )
    .fetch_all(tx.conn())
    .await
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

#[derive(Clone, Debug)]
pub struct RedemptionRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub seq: i32,
    pub shopper_id: Uuid,
    pub shopper_masked: String,
    pub code_id: Uuid,
    pub vendor_id: Uuid,
    pub stall_name: String,
    pub slot_code: String,
    pub business_date: chrono::NaiveDate,
    pub bill_fen: i32,
    pub value_fen: i32,
    pub verification: String,
    pub request_key: String,
    pub created_at: DateTime<Utc>,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_reason: Option<String>,
}

pub struct NewRedemption<'a> {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub seq: i32,
    pub shopper_id: Uuid,
    pub code_id: Uuid,
    pub vendor_id: Uuid,
    pub market_id: Uuid,
    pub business_date: chrono::NaiveDate,
    pub bill_fen: i32,
    pub value_fen: i32,
    pub verification: &'a str,
    pub request_key: &'a str,
    pub at: DateTime<Utc>,
}

pub async fn insert_redemption(tx: &mut TenantTx, r: &NewRedemption<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into redemptions (tenant_id, id, campaign_id, seq, shopper_id, code_id, vendor_id, market_id,
                                  business_date, bill_fen, value_fen, verification, request_key, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        tenant,
        r.id,
        r.campaign_id,
        r.seq,
        r.shopper_id,
        r.code_id,
        r.vendor_id,
        r.market_id,
        r.business_date,
        r.bill_fen,
        r.value_fen,
        r.verification,
        r.request_key,
        r.at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Which redemptions to list.
#[derive(Clone, Debug, Default)]
pub struct RedemptionFilter {
    pub id: Option<Uuid>,
    pub request_key: Option<String>,
    pub code: Option<Uuid>,
    pub vendor: Option<Uuid>,
    pub date: Option<chrono::NaiveDate>,
    /// The six digits shown on the confirmation screen.
    pub verification: Option<String>,
    /// Only these (all when empty).
    pub ids: Vec<Uuid>,
}

/// One redemption by id.
pub async fn redemption(tx: &mut TenantTx, id: Uuid) -> Result<Option<RedemptionRow>, sqlx::Error> {
    let filter = RedemptionFilter {
        id: Some(id),
        ..Default::default()
    };
    Ok(redemptions(tx, &filter).await?.into_iter().next())
}

pub async fn redemptions(tx: &mut TenantTx, f: &RedemptionFilter) -> Result<Vec<RedemptionRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RedemptionRow,
        "select r.id, r.campaign_id, c.name as campaign_name, r.seq, r.shopper_id, s.phone_masked as shopper_masked,
                r.code_id, r.vendor_id, k.stall_name, sl.code as slot_code, r.business_date, r.bill_fen, r.value_fen,
                r.verification, r.request_key, r.created_at, r.reversed_at, r.reversed_reason
         from redemptions r
         join campaigns c on c.tenant_id = r.tenant_id and c.id = r.campaign_id
         join shoppers s on s.tenant_id = r.tenant_id and s.id = r.shopper_id
         join codes k on k.tenant_id = r.tenant_id and k.id = r.code_id
         join slots sl on sl.tenant_id = k.tenant_id and sl.id = k.slot_id
         where r.tenant_id = $1
           and ($2::uuid is null or r.id = $2)
           and ($3::text is null or r.request_key = $3)
           and ($4::uuid is null or r.code_id = $4)
           and ($5::uuid is null or r.vendor_id = $5)
           and ($6::date is null or r.business_date = $6)
           and (cardinality($7::uuid[]) = 0 or r.id = any($7))
           and ($8::text is null or r.verification = $8)
         order by r.created_at desc
         limit 1000",
        tenant,
        f.id,
        f.request_key,
        f.code,
        f.vendor,
        f.date,
        &f.ids,
        f.verification
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn insert_attempt(
    tx: &mut TenantTx,
    shopper: Uuid,
    code: Uuid,
    bill_fen: i32,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into redemption_attempts (tenant_id, shopper_id, code_id, bill_fen, reason, at) values ($1, $2, $3, $4, $5, $6)",
        tenant,
        shopper,
        code,
        bill_fen,
        reason,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Reverses a live redemption and frees its voucher; false when there is none to reverse.
pub async fn reverse(
    tx: &mut TenantTx,
    id: Uuid,
    by: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let voucher = sqlx::query!(
        "update redemptions set reversed_at = $4, reversed_by = $3, reversed_reason = $5
         where tenant_id = $1 and id = $2 and reversed_at is null
         returning campaign_id, seq",
        tenant,
        id,
        by,
        at,
        reason
    )
    .fetch_optional(tx.conn())
    .await?;
    let Some(v) = voucher else { return Ok(false) };
    sqlx::query!(
        "update vouchers set used_at = null where tenant_id = $1 and campaign_id = $2 and seq = $3",
        tenant,
        v.campaign_id,
        v.seq
    )
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// What a vendor's stalls took in vouchers on one business night, and whether it was paid.
#[derive(Clone, Debug)]
pub struct VendorDay {
    pub vendor_id: uuid::Uuid,
    pub vendor_masked: String,
    pub stalls: Vec<String>,
    pub business_date: chrono::NaiveDate,
    pub vouchers: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
    pub settled_at: Option<DateTime<Utc>>,
    pub settled_subsidy_fen: Option<i64>,
}

pub async fn vendor_days(
    tx: &mut TenantTx,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    vendor: Option<Uuid>,
) -> Result<Vec<VendorDay>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        VendorDay,
        r#"select r.vendor_id, u.display_name as vendor_masked,
                  array_agg(distinct k.stall_name order by k.stall_name) as "stalls!",
                  r.business_date, count(*) as "vouchers!", sum(r.value_fen)::bigint as "subsidy_fen!",
                  sum(r.bill_fen)::bigint as "consumption_fen!", s.settled_at as "settled_at?",
                  s.subsidy_fen as "settled_subsidy_fen?"
           from redemptions r
           join users u on u.tenant_id = r.tenant_id and u.id = r.vendor_id
           join codes k on k.tenant_id = r.tenant_id and k.id = r.code_id
           left join settlements s on s.tenant_id = r.tenant_id and s.vendor_id = r.vendor_id
                                  and s.business_date = r.business_date
           where r.tenant_id = $1 and r.reversed_at is null and r.business_date between $2 and $3
             and ($4::uuid is null or r.vendor_id = $4)
           group by r.vendor_id, u.display_name, r.business_date, s.settled_at, s.subsidy_fen
           order by r.business_date, u.display_name"#,
        tenant,
        from,
        to,
        vendor
    )
    .fetch_all(tx.conn())
    .await
}

/// Records a vendor-day as paid; false when it already was.
pub async fn settle(tx: &mut TenantTx, d: &VendorDay, by: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "insert into settlements (tenant_id, vendor_id, business_date, vouchers, subsidy_fen, consumption_fen, settled_by)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing",
        tenant,
        d.vendor_id,
        d.business_date,
        d.vouchers as i32,
        d.subsidy_fen,
        d.consumption_fen,
        by
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

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
