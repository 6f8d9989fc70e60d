//! Vendors' credentials, renewals of them, API keys of external systems and their events.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::case::RenewalState;
use nightmarket_input::credential::{Kind, Source, Status};

#[derive(Clone, Debug, serde::Deserialize)]
pub struct CredentialRow {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub kind: Kind,
    pub number: String,
    pub expires_on: Option<NaiveDate>,
    pub status: Status,
    pub reason: String,
    pub source: Source,
    pub updated_at: DateTime<Utc>,
}

pub async fn for_vendor(tx: &mut TenantTx, vendor: Uuid) -> Result<Vec<CredentialRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CredentialRow,
        r#"select id, vendor_id, kind as "kind: Kind", number, expires_on, status as "status: Status", reason,
                  source as "source: Source", updated_at
           from credentials where tenant_id = $1 and vendor_id = $2 order by kind"#,
        tenant,
        vendor
    )
    .fetch_all(tx.conn())
    .await
}

/// Sets a credential (creating it the first time), locking the row.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    tx: &mut TenantTx,
    vendor: Uuid,
    kind: Kind,
    number: Option<&str>,
    expires_on: Option<NaiveDate>,
    status: Status,
    reason: &str,
    source: Source,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into credentials (tenant_id, vendor_id, kind, number, expires_on, status, reason, source)
         values ($1, $2, $3, coalesce($4, ''), $5, $6, $7, $8)
         on conflict (tenant_id, vendor_id, kind) do update
         set number = coalesce($4, credentials.number),
             expires_on = coalesce($5, credentials.expires_on),
             status = excluded.status, reason = excluded.reason, source = excluded.source, updated_at = now()",
        tenant,
        vendor,
        kind as Kind,
        number,
        expires_on,
        status as Status,
        reason,
        source as Source
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A credential the sweeper found lapsed.
#[derive(Clone, Debug)]
pub struct Expired {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub kind: Kind,
    pub expires_on: Option<NaiveDate>,
}

/// Marks every credential past its expiry date as expired and returns them.
pub async fn expire_due(tx: &mut TenantTx, today: NaiveDate) -> Result<Vec<Expired>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Expired,
        "update credentials set status = 'expired', updated_at = now()
         where tenant_id = $1 and status = 'valid' and expires_on < $2
         returning id, vendor_id, kind as \"kind: Kind\", expires_on",
        tenant,
        today
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Clone, Debug)]
pub struct RenewalRow {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub vendor_name: String,
    pub kind: Kind,
    pub number: String,
    pub expires_on: NaiveDate,
    pub content_type: String,
    pub state: RenewalState,
    pub decision_note: String,
    pub created_at: DateTime<Utc>,
    /// The vendor's live stalls, "stall · slot · market", for the official deciding.
    pub stalls: Vec<String>,
    /// The first of them, to link to its page.
    pub code_id: Option<Uuid>,
    /// The credential of this kind as recorded now (before the renewal is accepted: the old one).
    pub current_number: Option<String>,
    pub current_expires: Option<NaiveDate>,
    pub current_status: Option<Status>,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_renewal(
    tx: &mut TenantTx,
    id: Uuid,
    vendor: Uuid,
    kind: Kind,
    number: &str,
    expires_on: NaiveDate,
    content_type: &str,
    document_enc: &[u8],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into credential_renewals (tenant_id, id, vendor_id, kind, number, expires_on, content_type, document_enc)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        tenant,
        id,
        vendor,
        kind as Kind,
        number,
        expires_on,
        content_type,
        document_enc
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Renewals, pending ones first; of one vendor, or one renewal, when given.
pub async fn renewals(
    tx: &mut TenantTx,
    vendor: Option<Uuid>,
    pending_only: bool,
    id: Option<Uuid>,
) -> Result<Vec<RenewalRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RenewalRow,
        "select r.id, r.vendor_id, u.display_name as vendor_name, r.kind as \"kind: Kind\", r.number, r.expires_on, r.content_type,
                r.state as \"state: RenewalState\", r.decision_note, r.created_at,
                array(select c.stall_name || ' · ' || s.code || ' · ' || m.name
                      from codes c
                      join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
                      join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
                      where c.tenant_id = r.tenant_id and c.vendor_id = r.vendor_id and c.revoked_at is null
                      order by c.created_at) as \"stalls!\",
                (select c.id from codes c where c.tenant_id = r.tenant_id and c.vendor_id = r.vendor_id
                   and c.revoked_at is null order by c.created_at limit 1) as code_id,
                cr.number as \"current_number?\", cr.expires_on as \"current_expires?\", cr.status as \"current_status?: Status\"
         from credential_renewals r
         join users u on u.tenant_id = r.tenant_id and u.id = r.vendor_id
         left join credentials cr on cr.tenant_id = r.tenant_id and cr.vendor_id = r.vendor_id and cr.kind = r.kind
         where r.tenant_id = $1 and ($2::uuid is null or r.vendor_id = $2) and (not $3 or r.state = 'pending')
           and ($4::uuid is null or r.id = $4)
         order by r.state <> 'pending', r.created_at desc",
        tenant,
        vendor,
        pending_only,
        id
    )
    .fetch_all(tx.conn())
    .await
}

/// A renewal's document, sealed.
pub async fn renewal_document(tx: &mut TenantTx, id: Uuid) -> Result<Option<(Uuid, String, Vec<u8>)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query!(
        "select vendor_id, content_type, document_enc from credential_renewals where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (r.vendor_id, r.content_type, r.document_enc)))
}

/// Decides a pending renewal; `None` when it is not pending (any more).
pub async fn decide_renewal(
    tx: &mut TenantTx,
    id: Uuid,
    state: RenewalState,
    by: Uuid,
    note: &str,
) -> Result<Option<RenewalRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update credential_renewals set state = $3, decided_by = $4, decided_at = now(), decision_note = $5
         where tenant_id = $1 and id = $2 and state = 'pending'",
        tenant,
        id,
        state as RenewalState,
        by,
        note
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    Ok(renewals(tx, None, false, Some(id)).await?.pop())
}

#[derive(Clone, Debug)]
pub struct ApiKeyRow {
    pub id: Uuid,
    pub key_id: String,
    pub name: String,
    pub secret_enc: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn api_keys(tx: &mut TenantTx) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        ApiKeyRow,
        "select id, key_id, name, secret_enc, created_at, revoked_at, last_used_at from api_keys
         where tenant_id = $1 order by created_at desc",
        tenant
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn api_key(tx: &mut TenantTx, key_id: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        ApiKeyRow,
        "select id, key_id, name, secret_enc, created_at, revoked_at, last_used_at from api_keys
         where tenant_id = $1 and key_id = $2",
        tenant,
        key_id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn insert_api_key(
    tx: &mut TenantTx,
    id: Uuid,
    key_id: &str,
    name: &str,
    secret_enc: &[u8],
    by: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into api_keys (tenant_id, id, key_id, name, secret_enc, created_by) values ($1, $2, $3, $4, $5, $6)",
        tenant,
        id,
        key_id,
        name,
        secret_enc,
        by
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn revoke_api_key(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update api_keys set revoked_at = now() where tenant_id = $1 and id = $2 and revoked_at is null",
        tenant,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn touch_api_key(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update api_keys set last_used_at = now() where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The body hash of an event already received, if any (locks nothing: the primary key decides).
pub async fn event_hash(tx: &mut TenantTx, event_id: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "select body_sha256 from credential_events where tenant_id = $1 and event_id = $2",
        tenant,
        event_id
    )
    .fetch_optional(tx.conn())
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    tx: &mut TenantTx,
    event_id: &str,
    api_key: Uuid,
    body_sha256: &[u8],
    vendor: Uuid,
    credential: Kind,
    status: Status,
    occurred_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into credential_events (tenant_id, event_id, api_key_id, body_sha256, vendor_id, credential, status, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        tenant,
        event_id,
        api_key,
        body_sha256,
        vendor,
        credential as Kind,
        status as Status,
        occurred_at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The vendor who holds an approved stall under this ID number (its blind index).
pub async fn vendor_by_person(tx: &mut TenantTx, id_number_index: &str) -> Result<Option<Uuid>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "select vendor_id from applications
         where tenant_id = $1 and id_number_index = $2 and state = 'approved'
         order by decided_at desc limit 1",
        tenant,
        id_number_index
    )
    .fetch_optional(tx.conn())
    .await
}

/// Locks a vendor for a change of their credentials or points (one change at a time per vendor).
pub async fn lock_vendor(tx: &mut TenantTx, vendor: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let found = sqlx::query_scalar!(
        r#"select true as "found!" from users where tenant_id = $1 and id = $2 and role = 'vendor' for update"#,
        tenant,
        vendor
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}
