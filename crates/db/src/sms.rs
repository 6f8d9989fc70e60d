//! The SMS outbox, which is also the queue the dispatcher drains.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;

pub async fn insert(
    tx: &mut TenantTx,
    id: Uuid,
    phone_enc: &[u8],
    phone_masked: &str,
    body: &str,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into sms_outbox (tenant_id, id, phone_enc, phone_masked, body) values ($1, $2, $3, $4, $5)",
        tenant,
        id,
        phone_enc,
        phone_masked,
        body
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Queued {
    pub id: Uuid,
    pub phone_enc: Vec<u8>,
    pub phone_masked: String,
    pub body: String,
    pub attempts: i32,
}

/// Queued messages, oldest first, locked so two dispatchers never send one twice.
pub async fn take_queued(tx: &mut TenantTx, limit: i64) -> Result<Vec<Queued>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Queued,
        "select id, phone_enc, phone_masked, body, attempts from sms_outbox
         where tenant_id = $1 and status = 'queued'
         order by created_at
         limit $2
         for update skip locked",
        tenant,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

/// Records the outcome of a delivery attempt.
pub async fn mark(tx: &mut TenantTx, id: Uuid, status: &str, error: Option<&str>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update sms_outbox set status = $3, last_error = $4, attempts = attempts + 1,
                sent_at = case when $3 in ('sent', 'logged') then now() else sent_at end
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        status,
        error
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct Sent {
    pub phone_masked: String,
    pub body: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

pub async fn recent(tx: &mut TenantTx, limit: i64) -> Result<Vec<Sent>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Sent,
        "select phone_masked, body, status, created_at from sms_outbox
         where tenant_id = $1 order by created_at desc limit $2",
        tenant,
        limit
    )
    .fetch_all(tx.conn())
    .await
}
