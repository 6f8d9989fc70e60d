//! Shoppers: found or made by their phone's blind index, the number sealed.

use super::*;

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
