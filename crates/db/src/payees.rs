//! Where vendors' voucher subsidies are paid: one payee account per vendor, sealed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;

#[derive(Clone, Debug)]
pub struct PayeeRow {
    pub vendor_id: Uuid,
    pub holder_enc: Vec<u8>,
    pub holder_masked: String,
    pub bank: String,
    pub account_enc: Vec<u8>,
    pub account_masked: String,
    pub updated_at: DateTime<Utc>,
}

/// The payee accounts of these vendors (those who gave one).
pub async fn of_vendors(tx: &mut TenantTx, vendors: &[Uuid]) -> Result<Vec<PayeeRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        PayeeRow,
        "select vendor_id, holder_enc, holder_masked, bank, account_enc, account_masked, updated_at
         from payee_accounts where tenant_id = $1 and vendor_id = any($2)",
        tenant,
        vendors
    )
    .fetch_all(tx.conn())
    .await
}

/// Sets the vendor's payee account, replacing the one before.
pub async fn put(tx: &mut TenantTx, p: &PayeeRow) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into payee_accounts
             (tenant_id, vendor_id, holder_enc, holder_masked, bank, account_enc, account_masked, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (tenant_id, vendor_id) do update set
             holder_enc = excluded.holder_enc, holder_masked = excluded.holder_masked, bank = excluded.bank,
             account_enc = excluded.account_enc, account_masked = excluded.account_masked,
             updated_at = excluded.updated_at",
        tenant,
        p.vendor_id,
        p.holder_enc,
        p.holder_masked,
        p.bank,
        p.account_enc,
        p.account_masked,
        p.updated_at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
