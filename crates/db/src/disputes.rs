//! Vendors' disputes of what an external system reported about a credential.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::case::DisputeState;
use nightmarket_input::credential::{Kind, Status};

/// A dispute with what an official needs to decide it: the vendor, their stalls, and the feed's
/// event it disputes.
#[derive(Clone, Debug)]
pub struct DisputeRow {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub vendor_name: String,
    pub kind: Kind,
    pub text: String,
    pub state: DisputeState,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub event_id: Option<String>,
    pub event_status: Option<Status>,
    pub event_occurred_at: Option<DateTime<Utc>>,
    pub event_received_at: Option<DateTime<Utc>>,
    /// The credential's reason as the feed gave it.
    pub reported_reason: Option<String>,
    pub stalls: Vec<String>,
}

/// The feed's latest event about a vendor's credential of `kind`.
pub async fn latest_event(tx: &mut TenantTx, vendor: Uuid, kind: Kind) -> Result<Option<String>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "select event_id from credential_events where tenant_id = $1 and vendor_id = $2 and credential = $3
         order by received_at desc limit 1",
        tenant,
        vendor,
        kind as Kind
    )
    .fetch_optional(tx.conn())
    .await
}

/// Records a dispute; a second pending one for the same credential violates
/// `credential_disputes_one_pending`.
pub async fn insert(
    tx: &mut TenantTx,
    id: Uuid,
    vendor: Uuid,
    kind: Kind,
    event_id: Option<&str>,
    text: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into credential_disputes (tenant_id, id, vendor_id, kind, event_id, text, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        id,
        vendor,
        kind as Kind,
        event_id,
        text,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Disputes (pending ones when asked, or one vendor's), newest first; `id` narrows to one and
/// locks it.
pub async fn list(
    tx: &mut TenantTx,
    pending_only: bool,
    vendor: Option<Uuid>,
    id: Option<Uuid>,
) -> Result<Vec<DisputeRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        DisputeRow,
        r#"select d.id, d.vendor_id, u.display_name as vendor_name, d.kind as "kind: Kind", d.text, d.state as "state: DisputeState", d.decision_note,
                  d.created_at, d.decided_at, d.event_id, e.status as "event_status?: Status",
                  e.occurred_at as "event_occurred_at?", e.received_at as "event_received_at?",
                  cr.reason as "reported_reason?",
                  array(select c.stall_name || ' · ' || s.code
                        from codes c join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
                        where c.tenant_id = d.tenant_id and c.vendor_id = d.vendor_id and c.revoked_at is null
                        order by c.created_at) as "stalls!"
           from credential_disputes d
           join users u on u.tenant_id = d.tenant_id and u.id = d.vendor_id
           left join credential_events e on e.tenant_id = d.tenant_id and e.event_id = d.event_id
           left join credentials cr on cr.tenant_id = d.tenant_id and cr.vendor_id = d.vendor_id and cr.kind = d.kind
           where d.tenant_id = $1 and (not $2 or d.state = 'pending') and ($3::uuid is null or d.vendor_id = $3)
             and ($4::uuid is null or d.id = $4)
           order by d.created_at desc"#,
        tenant,
        pending_only,
        vendor,
        id
    )
    .fetch_all(tx.conn())
    .await
}

/// Decides a pending dispute; false when it was decided already.
pub async fn decide(
    tx: &mut TenantTx,
    id: Uuid,
    state: DisputeState,
    by: Uuid,
    note: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "update credential_disputes set state = $3, decided_by = $4, decision_note = $5, decided_at = $6
         where tenant_id = $1 and id = $2 and state = 'pending'",
        tenant,
        id,
        state as DisputeState,
        by,
        note,
        at
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}
