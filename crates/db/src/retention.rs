//! Removing what the retention schedule (`services::retention`) says has outlived its purpose,
//! one kind of data at a time, in the caller's tenant transaction.

use chrono::{DateTime, NaiveDate, Utc};

use crate::TenantTx;

/// Device hashes of scan visitors of nights before `night` (the night's count is in scan_nights).
pub async fn scan_visitors_before(tx: &mut TenantTx, night: NaiveDate) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query!(
        "delete from scan_visitors where tenant_id = $1 and night < $2",
        tenant,
        night
    )
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Hourly scan counts of nights before `night`.
pub async fn scan_hours_before(tx: &mut TenantTx, night: NaiveDate) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query!(
        "delete from scan_hours where tenant_id = $1 and night < $2",
        tenant,
        night
    )
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// One-time codes that expired before `at` (used or not).
pub async fn otp_codes_expired_before(tx: &mut TenantTx, at: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query!(
        "delete from otp_codes where tenant_id = $1 and expires_at < $2",
        tenant,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Text messages (number and body) written before `at` that are no longer waiting to be sent.
pub async fn sms_before(tx: &mut TenantTx, at: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query!(
        "delete from sms_outbox where tenant_id = $1 and created_at < $2 and status <> 'queued'",
        tenant,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Complainants' contact numbers (sealed, masked, indexed) of complaints closed before `at`; the
/// complaint itself stays.
pub async fn complaint_contacts_closed_before(tx: &mut TenantTx, at: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query!(
        "update complaints set contact_phone_enc = null, contact_phone_masked = null, contact_phone_index = null
         where tenant_id = $1 and state in ('resolved', 'rejected') and closed_at < $2
           and (contact_phone_enc is not null or contact_phone_masked is not null or contact_phone_index is not null)",
        tenant,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// The documents (photos of ID cards, licences) of applications rejected or withdrawn before
/// `at`; the application stays.
pub async fn rejected_documents_before(tx: &mut TenantTx, at: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query!(
        "delete from application_documents d using applications a
         where d.tenant_id = $1 and a.tenant_id = d.tenant_id and a.id = d.application_id
           and a.state in ('rejected', 'withdrawn') and coalesce(a.decided_at, a.updated_at) < $2",
        tenant,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected())
}
