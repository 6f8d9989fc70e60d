//! Redemptions at stalls, refused attempts, reversals.

use super::*;

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
