//! One-time codes sent by SMS.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;

#[derive(Clone, Debug)]
pub struct OtpRow {
    pub id: Uuid,
    pub code_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub attempts: i32,
    pub consumed_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    tx: &mut TenantTx,
    id: Uuid,
    purpose: &str,
    phone_index: &str,
    code_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into otp_codes (tenant_id, id, purpose, phone_index, code_hash, expires_at) values ($1, $2, $3, $4, $5, $6)",
        tenant,
        id,
        purpose,
        phone_index,
        code_hash,
        expires_at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The newest code sent for this purpose and number, locked for the check.
pub async fn latest_for_update(
    tx: &mut TenantTx,
    purpose: &str,
    phone_index: &str,
) -> Result<Option<OtpRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        OtpRow,
        "select id, code_hash, expires_at, attempts, consumed_at from otp_codes
         where tenant_id = $1 and purpose = $2 and phone_index = $3
         order by created_at desc limit 1
         for update",
        tenant,
        purpose,
        phone_index
    )
    .fetch_optional(tx.conn())
    .await
}

/// How many codes were sent for this number since `since`, and when the last one was.
pub async fn sent_since(
    tx: &mut TenantTx,
    purpose: &str,
    phone_index: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query!(
        r#"select count(*) as "n!", max(created_at) as last from otp_codes
           where tenant_id = $1 and purpose = $2 and phone_index = $3 and created_at >= $4"#,
        tenant,
        purpose,
        phone_index,
        since
    )
    .fetch_one(tx.conn())
    .await?;
    Ok((row.n, row.last))
}

pub async fn count_attempt(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update otp_codes set attempts = attempts + 1 where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn consume(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update otp_codes set consumed_at = now() where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
