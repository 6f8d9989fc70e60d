//! Goods-source declarations (进货来源): where a vendor's goods came from, never edited.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

#[derive(Clone, Debug)]
pub struct SourceRow {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub supplier: String,
    pub place: String,
    pub batch: String,
    pub received_on: NaiveDate,
    pub photo_type: Option<String>,
    pub created_at: DateTime<Utc>,
    pub checked_at: Option<DateTime<Utc>>,
    pub checked_by_name: Option<String>,
    pub inspection_id: Option<Uuid>,
}

pub struct NewSource<'a> {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub supplier: &'a str,
    pub place: &'a str,
    pub batch: &'a str,
    pub received_on: NaiveDate,
    pub photo: Option<(&'a str, i32, &'a [u8])>,
    pub at: DateTime<Utc>,
}

pub async fn insert(tx: &mut TenantTx, s: &NewSource<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    let (photo_type, photo_size, photo_enc) = match s.photo {
        Some((t, size, data)) => (Some(t), Some(size), Some(data)),
        None => (None, None, None),
    };
    sqlx::query!(
        "insert into goods_sources (tenant_id, id, vendor_id, supplier, place, batch, received_on, photo_type,
                                    photo_size, photo_enc, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        tenant,
        s.id,
        s.vendor_id,
        s.supplier,
        s.place,
        s.batch,
        s.received_on,
        photo_type,
        photo_size,
        photo_enc,
        s.at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A vendor's declarations, the latest delivery first (at most `limit`).
pub async fn for_vendor(tx: &mut TenantTx, vendor: Uuid, limit: i64) -> Result<Vec<SourceRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        SourceRow,
        r#"select g.id, g.vendor_id, g.supplier, g.place, g.batch, g.received_on, g.photo_type, g.created_at,
                  g.checked_at, u.display_name as "checked_by_name?", g.inspection_id
           from goods_sources g
           left join users u on u.tenant_id = g.tenant_id and u.id = g.checked_by
           where g.tenant_id = $1 and g.vendor_id = $2
           order by g.received_on desc, g.created_at desc
           limit $3"#,
        tenant,
        vendor,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

/// Marks the vendor's declaration checked by an official during an inspection; false if there
/// is no such declaration of that vendor or it was checked already.
pub async fn mark_checked(
    tx: &mut TenantTx,
    id: Uuid,
    vendor: Uuid,
    official: Uuid,
    inspection: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update goods_sources set checked_at = $5, checked_by = $4, inspection_id = $6
         where tenant_id = $1 and id = $2 and vendor_id = $3 and checked_at is null",
        tenant,
        id,
        vendor,
        official,
        at,
        inspection
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
