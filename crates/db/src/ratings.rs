//! Shoppers' ratings of stalls.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;

#[derive(Clone, Debug, serde::Deserialize)]
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
    /// counted, held or voided (migration 0014).
    pub status: String,
    pub held_reason: Option<String>,
    /// Why an official voided or released it.
    pub decision_note: Option<String>,
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
    /// counted or held.
    pub status: &'a str,
    pub held_reason: Option<&'a str>,
    pub client_hash: &'a str,
    /// The scan ticket's nonce (spent once: `ratings_ticket_once`).
    pub ticket: &'a str,
}

/// Records a rating; a second one from the same device for the same stall and night violates
/// `ratings_one_per_device_per_night`.
pub async fn insert(tx: &mut TenantTx, r: &NewRating<'_>) -> Result<Uuid, sqlx::Error> {
    tx.touch(r.code_id);
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into ratings (tenant_id, code_id, vendor_id, business_date, stars, tags, comment, device_hash, created_at,
                              status, held_reason, client_hash, ticket)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         returning id",
        tenant,
        r.code_id,
        r.vendor_id,
        r.business_date,
        r.stars,
        r.tags,
        r.comment,
        r.device_hash,
        r.at,
        r.status,
        r.held_reason,
        r.client_hash,
        r.ticket
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

/// The newest ratings of a stall (hidden, held and voided ones included; callers decide what to
/// show).
pub async fn for_code(tx: &mut TenantTx, code: Uuid, limit: i64) -> Result<Vec<RatingRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RatingRow,
        "select id, code_id, business_date, stars, tags, comment, created_at, hidden_at, hidden_reason, reply, replied_at,
                status, held_reason, decision_note
         from ratings where tenant_id = $1 and code_id = $2
         order by created_at desc limit $3",
        tenant,
        code,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

/// Ratings held for an official, oldest first, with their stall.
pub async fn held(tx: &mut TenantTx, limit: i64) -> Result<Vec<(RatingRow, String, String)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        "select r.id, r.code_id, r.business_date, r.stars, r.tags, r.comment, r.created_at, r.hidden_at,
                r.hidden_reason, r.reply, r.replied_at, r.status, r.held_reason, r.decision_note,
                c.stall_name, s.code as slot_code
         from ratings r
         join codes c on c.tenant_id = r.tenant_id and c.id = r.code_id
         join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
         where r.tenant_id = $1 and r.status = 'held'
         order by r.created_at limit $2",
        tenant,
        limit
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
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
                    status: r.status,
                    held_reason: r.held_reason,
                    decision_note: r.decision_note,
                },
                r.stall_name,
                r.slot_code,
            )
        })
        .collect())
}

/// What tells a burst from a crowd, for a rating about to be made at a stall on a night.
pub async fn burst_signals(
    tx: &mut TenantTx,
    code: Uuid,
    night: NaiveDate,
    client_hash: &str,
    since: DateTime<Utc>,
) -> Result<nightmarket_domain::burst::BurstSignals, sqlx::Error> {
    let tenant = tx.tenant().0;
    let r = sqlx::query!(
        r#"select
             (select count(*) from ratings where tenant_id = $1 and code_id = $2 and business_date = $3
                and client_hash = $4) as "same_address!",
             (select count(*) from ratings where tenant_id = $1 and code_id = $2 and business_date = $3
                and status = 'counted') as "counted_tonight!",
             (select count(*) from ratings where tenant_id = $1 and code_id = $2 and created_at >= $5
                and status = 'counted') as "counted_recently!",
             (select coalesce(sum(visitors), 0)::bigint from scan_nights where tenant_id = $1 and code_id = $2
                and night = $3) as "visitors!",
             (select count(*) from ratings where tenant_id = $1 and code_id = $2 and business_date = $3
                and status = 'held') as "held_tonight!""#,
        tenant,
        code,
        night,
        client_hash,
        since
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(nightmarket_domain::burst::BurstSignals {
        same_address: r.same_address,
        counted_tonight: r.counted_tonight,
        counted_recently: r.counted_recently,
        visitors: r.visitors,
        held_tonight: r.held_tonight,
    })
}

/// An official's decision on a rating: counted again (released) or voided, with a note.
pub async fn decide(
    tx: &mut TenantTx,
    id: Uuid,
    status: &str,
    note: Option<&str>,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update ratings set status = $3, decision_note = $4, decided_by = $5, decided_at = $6
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        status,
        note,
        by,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<(RatingRow, Uuid)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query!(
        "select id, code_id, business_date, stars, tags, comment, created_at, hidden_at, hidden_reason, reply,
                replied_at, vendor_id, status, held_reason, decision_note
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
                status: r.status,
                held_reason: r.held_reason,
                decision_note: r.decision_note,
            },
            r.vendor_id,
        )
    }))
}

/// The vendor whose stall a rating is about (to take the vendor's lock before the rating's).
pub async fn vendor_of(tx: &mut TenantTx, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "select vendor_id from ratings where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await
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
