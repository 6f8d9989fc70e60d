//! A departed vendor's requests to be forgotten (`erasure_requests`), and the erasure itself
//! (PIPL art. 47): what is personal goes, what the law or other people need stays
//! (services::erasure says which is which).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::TenantTx;

#[derive(Clone, Debug)]
pub struct RequestRow {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub reason: String,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: String,
    /// The vendor's stalls, by name (what officials know them by; no personal data).
    pub stalls: Vec<String>,
}

pub async fn insert(
    tx: &mut TenantTx,
    id: Uuid,
    vendor: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into erasure_requests (tenant_id, id, vendor_id, reason, created_at) values ($1, $2, $3, $4, $5)",
        tenant,
        id,
        vendor,
        reason,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Requests, newest first: of one vendor, or (None) every vendor's, optionally only pending ones.
pub async fn list(tx: &mut TenantTx, vendor: Option<Uuid>, pending_only: bool) -> Result<Vec<RequestRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        RequestRow,
        r#"select r.id, r.vendor_id, r.reason, r.state, r.created_at, r.decided_at, r.decision_note,
                  array(select distinct a.stall_name from applications a
                        where a.tenant_id = r.tenant_id and a.vendor_id = r.vendor_id and a.stall_name <> ''
                        order by 1) as "stalls!"
           from erasure_requests r
           where r.tenant_id = $1 and ($2::uuid is null or r.vendor_id = $2) and (not $3 or r.state = 'pending')
           order by r.created_at desc"#,
        tenant,
        vendor,
        pending_only
    )
    .fetch_all(tx.conn())
    .await
}

/// Locks a pending request for its decision.
pub async fn lock_pending(tx: &mut TenantTx, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "select vendor_id from erasure_requests where tenant_id = $1 and id = $2 and state = 'pending' for update",
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn decide(
    tx: &mut TenantTx,
    id: Uuid,
    state: &str,
    by: Uuid,
    at: DateTime<Utc>,
    note: &str,
    erased: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update erasure_requests set state = $3, decided_by = $4, decided_at = $5, decision_note = $6, erased = $7
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        state,
        by,
        at,
        note,
        erased
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What an erasure removed or emptied, as counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Erased {
    pub account: u64,
    pub applications: u64,
    pub documents: u64,
    pub renewal_documents: u64,
    pub payee_accounts: u64,
    pub goods_photos: u64,
    pub appeal_photos: u64,
    pub notifications: u64,
    pub codes: u64,
    pub credit_records: u64,
}

/// Erases `vendor`'s personal data in the current tenant at `at`: the account can no longer sign
/// in and holds no number or name; applications lose names, ID numbers, numbers (sealed, masked
/// and indexed) and positions, and their documents; renewal documents, the payee account, goods
/// and appeal photos, credit records and the inbox go; codes keep no name. Codes must be
/// revoked by the caller (with their audit records and notices).
pub async fn erase_vendor(tx: &mut TenantTx, vendor: Uuid, at: DateTime<Utc>) -> Result<Erased, sqlx::Error> {
    let tenant = tx.tenant().0;
    let account = sqlx::query!(
        "update users set login = 'erased:' || id::text, display_name = '—', phone_enc = null,
                password_hash = '!erased', disabled_at = coalesce(disabled_at, $3),
                token_version = token_version + 1, updated_at = $3
         where tenant_id = $1 and id = $2 and role = 'vendor'",
        tenant,
        vendor,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let documents = sqlx::query!(
        "delete from application_documents d using applications a
         where d.tenant_id = $1 and a.tenant_id = d.tenant_id and a.id = d.application_id and a.vendor_id = $2",
        tenant,
        vendor
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let applications = sqlx::query!(
        "update applications set real_name_enc = null, real_name_masked = null, id_number_enc = null,
                id_number_index = null, id_number_masked = null, phone_enc = null, phone_index = null,
                phone_masked = null, position_lat = null, position_lng = null, position_accuracy_m = null,
                position_distance_m = null, position_at = null,
                state = case when state in ('draft', 'submitted', 'returned', 'resubmitted') then 'withdrawn' else state end,
                updated_at = $3
         where tenant_id = $1 and vendor_id = $2",
        tenant,
        vendor,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let renewal_documents = sqlx::query!(
        "delete from credential_renewals where tenant_id = $1 and vendor_id = $2",
        tenant,
        vendor
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let payee_accounts = sqlx::query!(
        "delete from payee_accounts where tenant_id = $1 and vendor_id = $2",
        tenant,
        vendor
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let goods_photos = sqlx::query!(
        "update goods_sources set photo_enc = null, photo_type = null, photo_size = null,
                batch = case when batch = '' then '—' else batch end
         where tenant_id = $1 and vendor_id = $2 and photo_enc is not null",
        tenant,
        vendor
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let appeal_photos = sqlx::query!(
        "update appeals set photo_enc = null, photo_type = null, photo_size = null
         where tenant_id = $1 and vendor_id = $2 and photo_enc is not null",
        tenant,
        vendor
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let notifications = sqlx::query!(
        "delete from notifications where tenant_id = $1 and user_id = $2",
        tenant,
        vendor
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    let codes: Vec<Uuid> = sqlx::query_scalar!(
        "update codes set vendor_name_masked = '—', updated_at = $3 where tenant_id = $1 and vendor_id = $2
         returning id",
        tenant,
        vendor,
        at
    )
    .fetch_all(tx.conn())
    .await?;
    for code in &codes {
        tx.touch(*code);
    }
    // A credit record's signed payload names the vendor: it goes whole (a verifier holding a
    // copy is then told no such record exists).
    let credit_records = sqlx::query!(
        "delete from credit_records where tenant_id = $1 and vendor_id = $2",
        tenant,
        vendor
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(Erased {
        account,
        applications,
        documents,
        renewal_documents,
        payee_accounts,
        goods_photos,
        appeal_photos,
        notifications,
        codes: codes.len() as u64,
        credit_records,
    })
}
