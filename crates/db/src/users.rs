//! Accounts of admins, officials and vendors.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::people::{Permission, Role};

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: Uuid,
    pub role: Role,
    pub login: String,
    pub display_name: String,
    pub password_hash: String,
    pub permissions: Vec<String>,
    pub token_version: i32,
    pub must_change_password: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub phone_enc: Option<Vec<u8>>,
}

impl UserRow {
    /// The permissions as stored; `None` when one of them is not a permission the platform knows
    /// (an error to report, never a permission to drop quietly).
    pub fn permissions(&self) -> Option<Vec<Permission>> {
        self.permissions.iter().map(|p| Permission::parse(p)).collect()
    }
}

pub async fn by_login(tx: &mut TenantTx, login: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"select id, role as "role: Role", login, display_name, password_hash, permissions, token_version,
                must_change_password, disabled_at, created_at, phone_enc
         from users where tenant_id = $1 and login = $2"#,
        tx.tenant().0,
        login
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn by_id(tx: &mut TenantTx, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"select id, role as "role: Role", login, display_name, password_hash, permissions, token_version,
                must_change_password, disabled_at, created_at, phone_enc
         from users where tenant_id = $1 and id = $2"#,
        tx.tenant().0,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

/// Admins and officials, admins first.
pub async fn list_staff(tx: &mut TenantTx) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"select id, role as "role: Role", login, display_name, password_hash, permissions, token_version,
                must_change_password, disabled_at, created_at, phone_enc
         from users where tenant_id = $1 and role in ('admin', 'official')
         order by role, login"#,
        tx.tenant().0
    )
    .fetch_all(tx.conn())
    .await
}

pub struct NewUser<'a> {
    pub role: Role,
    pub login: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub permissions: &'a [Permission],
    pub must_change_password: bool,
}

pub async fn insert(tx: &mut TenantTx, user: &NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    let tenant = tx.tenant().0;
    let permissions: Vec<String> = user.permissions.iter().map(|p| p.as_str().to_string()).collect();
    sqlx::query_scalar!(
        "insert into users (tenant_id, role, login, display_name, password_hash, permissions, must_change_password)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning id",
        tenant,
        user.role.as_str(),
        user.login,
        user.display_name,
        user.password_hash,
        &permissions,
        user.must_change_password
    )
    .fetch_one(tx.conn())
    .await
}

/// Sets a new password and ends every session of the account.
pub async fn set_password(tx: &mut TenantTx, id: Uuid, hash: &str, must_change: bool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update users set password_hash = $2, must_change_password = $3,
                token_version = token_version + 1, updated_at = now()
         where tenant_id = $4 and id = $1",
        id,
        hash,
        must_change,
        tx.tenant().0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends every session of the account.
pub async fn revoke_sessions(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update users set token_version = token_version + 1, updated_at = now() where id = $1",
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn set_permissions(tx: &mut TenantTx, id: Uuid, permissions: &[Permission]) -> Result<(), sqlx::Error> {
    let permissions: Vec<String> = permissions.iter().map(|p| p.as_str().to_string()).collect();
    sqlx::query!(
        "update users set permissions = $2, updated_at = now() where id = $1",
        id,
        &permissions
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Disabling also ends every session; enabling does not bring old sessions back.
pub async fn set_disabled(tx: &mut TenantTx, id: Uuid, disabled: bool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update users set disabled_at = case when $2 then coalesce(disabled_at, now()) end,
                token_version = token_version + 1, updated_at = now()
         where tenant_id = $3 and id = $1",
        id,
        disabled,
        tx.tenant().0
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// How many admins of the tenant can still sign in (so the last one cannot lock everyone out).
/// Locks those rows, so two admins disabling each other at once cannot both succeed.
pub async fn active_admin_count(tx: &mut TenantTx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from (
               select 1 from users where tenant_id = $1 and role = 'admin' and disabled_at is null for update
           ) as active"#,
        tx.tenant().0
    )
    .fetch_one(tx.conn())
    .await
}

/// A vendor signing up: the id is chosen by the caller, because the sealed number is bound to it.
pub async fn insert_vendor(
    tx: &mut TenantTx,
    id: Uuid,
    login: &str,
    display_name: &str,
    password_hash: &str,
    phone_enc: &[u8],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into users (tenant_id, id, role, login, display_name, password_hash, phone_enc)
         values ($1, $2, 'vendor', $3, $4, $5, $6)",
        tenant,
        id,
        login,
        display_name,
        password_hash,
        phone_enc
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
