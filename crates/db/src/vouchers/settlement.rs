//! Each vendor's voucher days and their settlement.

use super::*;

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
