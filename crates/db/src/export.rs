//! A vendor's own data, for the vendor's copy (PIPL art. 45): every table of the schema that
//! holds rows about a vendor (a `vendor_id` column), read from PostgreSQL's catalog rather than a
//! list kept by hand, so that a table added later is in the copy the day it is added.

use serde_json::Value;
use uuid::Uuid;

use crate::TenantTx;

/// A table about vendors and its columns.
#[derive(Clone, Debug)]
pub struct VendorTable {
    pub name: String,
    pub columns: Vec<String>,
}

/// Every table with a `vendor_id` (and the tenant's `tenant_id`), by name.
pub async fn vendor_tables(tx: &mut TenantTx) -> Result<Vec<VendorTable>, sqlx::Error> {
    let rows: Vec<(String, Vec<String>)> = sqlx::query_as(
        "select c.table_name::text, array_agg(c.column_name::text order by c.ordinal_position)
         from information_schema.columns c
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
         group by c.table_name
         having bool_or(c.column_name = 'vendor_id') and bool_or(c.column_name = 'tenant_id')
         order by 1",
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, columns)| VendorTable { name, columns })
        .collect())
}

/// A catalog name used in a statement: lowercase letters, digits and underscores only.
fn identifier(name: &str) -> Result<&str, sqlx::Error> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(name)
    } else {
        Err(sqlx::Error::Protocol(format!("not a plain identifier: {name:?}")))
    }
}

/// The rows of `table` whose `key` is `id`, each as a JSON object without the columns `drop`,
/// in the table's own order of creation where it has one.
pub async fn rows(tx: &mut TenantTx, table: &str, key: &str, id: Uuid, drop: &[String]) -> Result<Value, sqlx::Error> {
    let tenant = tx.tenant().0;
    let sql = format!(
        "select coalesce(jsonb_agg(to_jsonb(t) - $3::text[] order by to_jsonb(t) ->> 'created_at', to_jsonb(t) ->> 'id'),
                         '[]'::jsonb)
         from {} t where t.tenant_id = $1 and t.{} = $2",
        identifier(table)?,
        identifier(key)?
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(id)
        .bind(drop)
        .fetch_one(tx.conn())
        .await
}

/// The sealed values of `column` in the rows of `table` whose `key` is `id`, by each row's
/// `row_key` (what the seal is bound to).
pub async fn sealed(
    tx: &mut TenantTx,
    table: &str,
    column: &str,
    row_key: &str,
    key: &str,
    id: Uuid,
) -> Result<Vec<(Uuid, Vec<u8>)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let sql = format!(
        "select t.{row}, t.{col} from {table} t where t.tenant_id = $1 and t.{key} = $2 and t.{col} is not null",
        row = identifier(row_key)?,
        col = identifier(column)?,
        table = identifier(table)?,
        key = identifier(key)?,
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(id)
        .fetch_all(tx.conn())
        .await
}

/// The ids (as text, as the audit trail names its subjects) of `table`'s rows about `vendor`.
pub async fn ids(tx: &mut TenantTx, table: &str, vendor: Uuid) -> Result<Vec<String>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let sql = format!(
        "select t.id::text from {} t where t.tenant_id = $1 and t.vendor_id = $2",
        identifier(table)?
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(tenant)
        .bind(vendor)
        .fetch_all(tx.conn())
        .await
}
