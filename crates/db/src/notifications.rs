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

/// Puts one notice in the inbox of every active staff member (admins, and officials holding
/// `permission` when one is given) in one statement; returns how many.
pub async fn insert_for_staff(
    tx: &mut TenantTx,
    permission: Option<&str>,
    kind: &str,
    args: &serde_json::Value,
    link: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query!(
        "insert into notifications (tenant_id, user_id, kind, args, link)
         select u.tenant_id, u.id, $3, $4, $5 from users u
         where u.tenant_id = $1 and u.role in ('admin', 'official') and u.disabled_at is null
           and ($2::text is null or u.role = 'admin' or $2 = any(u.permissions))",
        tenant,
        permission,
        kind,
        args,
        link
    )
    .execute(tx.conn())
    .await?
    .rows_affected())
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
