//! Shoppers' ratings of stalls.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

#[derive(Clone, Debug)]
pub struct RatingRow {
    pub id: Uuid,
    pub code_id: Uuid,
    pub business_date: NaiveDate,
    pub stars: i16,
    pub tags: Vec<String>,
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub hidden_reason: Option<String>,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
}

pub struct NewRating<'a> {
    pub code_id: Uuid,
    pub vendor_id: Uuid,
    pub business_date: NaiveDate,
    pub stars: i16,
    pub tags: &'a [String],
    pub comment: &'a str,
    pub device_hash: &'a str,
    pub at: DateTime<Utc>,
}

/// Records a rating; a second one from the same device for the same stall and night violates
/// `ratings_one_per_device_per_night`.
pub async fn insert(tx: &mut TenantTx, r: &NewRating<'_>) -> Result<Uuid, sqlx::Error> {
    tx.touch(r.code_id);
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into ratings (tenant_id, code_id, vendor_id, business_date, stars, tags, comment, device_hash, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         returning id",
        tenant,
        r.code_id,
        r.vendor_id,
        r.business_date,
        r.stars,
        r.tags,
        r.comment,
        r.device_hash,
        r.at
    )
    .fetch_one(tx.conn())
    .await
}

/// Whether this device already rated this stall this night.
pub async fn rated(tx: &mut TenantTx, code: Uuid, date: NaiveDate, device_hash: &str) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select exists (select 1 from ratings where tenant_id = $1 and code_id = $2 and business_date = $3
                                                 and device_hash = $4) as "e!""#,
        tenant,
        code,
        date,
        device_hash
    )
    .fetch_one(tx.conn())
    .await
}

/// The newest ratings of a stall (hidden ones included; callers decide what to show).
pub async fn for_code(tx: &mut TenantTx, code: Uuid, limit: i64) -> Result<Vec<RatingRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RatingRow,
        "select id, code_id, business_date, stars, tags, comment, created_at, hidden_at, hidden_reason, reply, replied_at
         from ratings where tenant_id = $1 and code_id = $2
         order by created_at desc limit $3",
        tenant,
        code,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<(RatingRow, Uuid)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query!(
        "select id, code_id, business_date, stars, tags, comment, created_at, hidden_at, hidden_reason, reply,
                replied_at, vendor_id
         from ratings where tenant_id = $1 and id = $2 for update",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| {
        (
            RatingRow {
                id: r.id,
                code_id: r.code_id,
                business_date: r.business_date,
                stars: r.stars,
                tags: r.tags,
                comment: r.comment,
                created_at: r.created_at,
                hidden_at: r.hidden_at,
                hidden_reason: r.hidden_reason,
                reply: r.reply,
                replied_at: r.replied_at,
            },
            r.vendor_id,
        )
    }))
}

/// The vendor's one reply; false when there already is one.
pub async fn reply(tx: &mut TenantTx, id: Uuid, text: &str, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "update ratings set reply = $3, replied_at = $4 where tenant_id = $1 and id = $2 and reply is null",
        tenant,
        id,
        text,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Hides (with a reason) or shows again a comment.
pub async fn set_hidden(
    tx: &mut TenantTx,
    id: Uuid,
    hidden: Option<(&str, Uuid, DateTime<Utc>)>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    let (reason, by, at) = match hidden {
        Some((reason, by, at)) => (Some(reason), Some(by), Some(at)),
        None => (None, None, None),
    };
    sqlx::query!(
        "update ratings set hidden_reason = $3, hidden_by = $4, hidden_at = $5 where tenant_id = $1 and id = $2",
        tenant,
        id,
        reason,
        by,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
