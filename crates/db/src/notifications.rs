//! A person's inbox.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::TenantTx;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub args: serde_json::Value,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    tx: &mut TenantTx,
    user: Uuid,
    kind: &str,
    args: &serde_json::Value,
    link: Option<&str>,
) -> Result<Uuid, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into notifications (tenant_id, user_id, kind, args, link) values ($1, $2, $3, $4, $5) returning id",
        tenant,
        user,
        kind,
        args,
        link
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn for_user(tx: &mut TenantTx, user: Uuid, limit: i64) -> Result<Vec<Notification>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Notification,
        "select id, kind, args, link, created_at, read_at from notifications
         where tenant_id = $1 and user_id = $2 order by created_at desc limit $3",
        tenant,
        user,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn unread_count(tx: &mut TenantTx, user: Uuid) -> Result<i64, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from notifications where tenant_id = $1 and user_id = $2 and read_at is null"#,
        tenant,
        user
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn mark_all_read(tx: &mut TenantTx, user: Uuid) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update notifications set read_at = now() where tenant_id = $1 and user_id = $2 and read_at is null",
        tenant,
        user
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
