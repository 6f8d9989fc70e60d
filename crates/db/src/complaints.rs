//! Complaints about stalls, their photos and their public timeline, and each tenant's deadlines.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::complaint::{Category, State};

#[derive(Clone, Debug)]
pub struct ComplaintRow {
    pub id: Uuid,
    pub tracking: String,
    /// Open311's service_request_id: public, and no key to anything.
    pub public_id: String,
    /// Held for an official to screen (it came in a burst).
    pub held_reason: Option<String>,
    /// Whether it counts toward the code's colour while unresolved (verified number, hotline, or
    /// accepted by an official).
    pub weighty: bool,
    pub code_id: Uuid,
    pub vendor_id: Uuid,
    pub market_id: Uuid,
    pub category: Category,
    pub description: String,
    pub source: String,
    pub source_ref: Option<String>,
    pub contact_phone_masked: Option<String>,
    pub state: State,
    pub evidence: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub ack_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub upheld: Option<bool>,
    pub resolution: Option<String>,
    pub vendor_answer: Option<String>,
    pub vendor_answered_at: Option<DateTime<Utc>>,
    pub reopen_count: i16,
    pub claimed_by: Option<Uuid>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// From the code: what the stall is called and where.
    pub stall_name: String,
    pub slot_code: String,
    pub market_name: String,
    pub claimed_by_name: Option<String>,
    pub photo_ids: Vec<Uuid>,
    /// The category's GB/T 39666 class as the tenant sets it now.
    pub gbt_code: Option<String>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub followed_up_at: Option<DateTime<Utc>>,
    pub follow_up_result: Option<String>,
}

pub struct NewComplaint<'a> {
    pub id: Uuid,
    pub tracking: &'a str,
    pub code_id: Uuid,
    pub vendor_id: Uuid,
    pub market_id: Uuid,
    pub category: &'a str,
    pub description: &'a str,
    pub source: &'a str,
    pub source_ref: Option<&'a str>,
    pub contact_phone_enc: Option<&'a [u8]>,
    pub contact_phone_masked: Option<&'a str>,
    pub contact_phone_index: Option<&'a str>,
    pub device_hash: Option<&'a str>,
    /// The keyed hash of the shopper's client address (scan page only).
    pub client_hash: Option<&'a str>,
    /// Held for an official to screen (a burst), and why.
    pub held_reason: Option<&'a str>,
    pub evidence: serde_json::Value,
    pub at: DateTime<Utc>,
    pub ack_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
}

/// Records a complaint; its public id (drawn by the database) comes back.
pub async fn insert(tx: &mut TenantTx, c: &NewComplaint<'_>) -> Result<String, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into complaints (tenant_id, id, tracking, code_id, vendor_id, market_id, category, description, source,
                                 source_ref, contact_phone_enc, contact_phone_masked, contact_phone_index, device_hash,
                                 evidence, created_at, updated_at, ack_due_at, resolve_due_at, client_hash, held_reason)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17, $18, $19, $20)
         returning public_id",
        tenant,
        c.id,
        c.tracking,
        c.code_id,
        c.vendor_id,
        c.market_id,
        c.category,
        c.description,
        c.source,
        c.source_ref,
        c.contact_phone_enc,
        c.contact_phone_masked,
        c.contact_phone_index,
        c.device_hash,
        c.evidence,
        c.at,
        c.ack_due_at,
        c.resolve_due_at,
        c.client_hash,
        c.held_reason
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn insert_photo(
    tx: &mut TenantTx,
    id: Uuid,
    complaint: Uuid,
    content_type: &str,
    size: i32,
    data_enc: &[u8],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into complaint_photos (tenant_id, id, complaint_id, content_type, size_bytes, data_enc)
         values ($1, $2, $3, $4, $5, $6)",
        tenant,
        id,
        complaint,
        content_type,
        size,
        data_enc
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Which complaints to list.
#[derive(Clone, Debug, Default)]
pub struct ComplaintFilter {
    pub id: Option<Uuid>,
    pub tracking: Option<String>,
    pub public_id: Option<String>,
    pub code: Option<Uuid>,
    pub vendor: Option<Uuid>,
    pub market: Option<Uuid>,
    pub category: Option<String>,
    /// Only these states (all when empty).
    pub states: Vec<String>,
    /// Oldest first (the queue) or newest first.
    pub oldest_first: bool,
    pub limit: Option<i64>,
}

pub async fn list(tx: &mut TenantTx, f: &ComplaintFilter) -> Result<Vec<ComplaintRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        ComplaintRow,
        r#"select c.id, c.tracking, c.public_id, c.held_reason,
                  (c.acknowledged_at is not null
                   or (c.held_reason is null and (c.contact_phone_index is not null or c.source = 'open311')))
                   as "weighty!",
                  c.code_id, c.vendor_id, c.market_id, c.category as "category: Category", c.description, c.source,
                  c.source_ref, c.contact_phone_masked, c.state as "state: State", c.evidence, c.created_at, c.ack_due_at,
                  c.resolve_due_at, c.acknowledged_at, c.started_at, c.closed_at, c.upheld, c.resolution,
                  c.vendor_answer, c.vendor_answered_at, c.reopen_count, c.claimed_by, c.claimed_until, c.updated_at,
                  k.stall_name, s.code as slot_code, m.name as market_name, u.display_name as "claimed_by_name?",
                  array(select p.id from complaint_photos p where p.tenant_id = c.tenant_id and p.complaint_id = c.id
                        order by p.created_at) as "photo_ids!",
                  d.gbt_code as "gbt_code?", c.assigned_at, c.escalated_at, c.followed_up_at, c.follow_up_result
           from complaints c
           left join complaint_deadlines d on d.tenant_id = c.tenant_id and d.category = c.category
           join codes k on k.tenant_id = c.tenant_id and k.id = c.code_id
           join slots s on s.tenant_id = k.tenant_id and s.id = k.slot_id
           join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
           left join users u on u.tenant_id = c.tenant_id and u.id = c.claimed_by
           where c.tenant_id = $1
             and ($2::uuid is null or c.id = $2)
             and ($3::text is null or c.tracking = $3)
             and ($4::uuid is null or c.code_id = $4)
             and ($5::uuid is null or c.vendor_id = $5)
             and ($6::uuid is null or c.market_id = $6)
             and ($7::text is null or c.category = $7)
             and (cardinality($8::text[]) = 0 or c.state = any($8))
             and ($11::text is null or c.public_id = $11)
           order by case when $9 then c.created_at end asc, case when not $9 then c.created_at end desc
           limit $10"#,
        tenant,
        f.id,
        f.tracking,
        f.code,
        f.vendor,
        f.market,
        f.category,
        &f.states,
        f.oldest_first,
        f.limit.unwrap_or(500),
        f.public_id
    )
    .fetch_all(tx.conn())
    .await
}

/// Marks a complaint as first taken by an official (转办); false when it already was.
pub async fn assign(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update complaints set assigned_at = $3 where tenant_id = $1 and id = $2 and assigned_at is null",
        tenant,
        id,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a supervisor's escalation (督办).
pub async fn escalate(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update complaints set escalated_at = $3, updated_at = $3 where tenant_id = $1 and id = $2",
        tenant,
        id,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records the follow-up call's result (回访).
pub async fn follow_up(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>, result: &str) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update complaints set followed_up_at = $3, follow_up_result = $4, updated_at = $3
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        at,
        result
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Locks a complaint for a change; false when there is none.
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let found = sqlx::query_scalar!(
        r#"select true as "found!" from complaints where tenant_id = $1 and id = $2 for update"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

/// Moves a complaint to `state`, stamping the time the state is entered.
pub async fn set_state(
    tx: &mut TenantTx,
    id: Uuid,
    state: &str,
    at: DateTime<Utc>,
    outcome: Option<(bool, &str, Uuid)>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    let (upheld, resolution, by) = match outcome {
        Some((u, r, b)) => (Some(u), Some(r), Some(b)),
        None => (None, None, None),
    };
    sqlx::query!(
        "update complaints set
           state = $3::text,
           acknowledged_at = case when $3 = 'acknowledged' then $4::timestamptz else acknowledged_at end,
           started_at = case when $3 = 'in_progress' then $4 else started_at end,
           closed_at = case when $3 in ('resolved', 'rejected') then $4 else null end,
           upheld = case when $3 in ('resolved', 'rejected') then $5::boolean else null end,
           resolution = case when $3 in ('resolved', 'rejected') then $6::text else resolution end,
           decided_by = case when $3 in ('resolved', 'rejected') then $7::uuid else decided_by end,
           claimed_by = case when $3 in ('resolved', 'rejected') then null else claimed_by end,
           claimed_until = case when $3 in ('resolved', 'rejected') then null else claimed_until end,
           updated_at = $4
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        state,
        at,
        upheld,
        resolution,
        by
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Reopens a resolved complaint (once): open again, with fresh deadlines.
pub async fn reopen(
    tx: &mut TenantTx,
    id: Uuid,
    at: DateTime<Utc>,
    ack_due: DateTime<Utc>,
    resolve_due: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "update complaints set state = 'open', reopen_count = reopen_count + 1, reopened_at = $3,
                closed_at = null, upheld = null, acknowledged_at = null, started_at = null,
                ack_due_at = $4, resolve_due_at = $5, updated_at = $3
         where tenant_id = $1 and id = $2 and state = 'resolved' and reopen_count = 0",
        tenant,
        id,
        at,
        ack_due,
        resolve_due
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Takes a complaint for `minutes`, unless someone else holds it; false when they do.
pub async fn claim(
    tx: &mut TenantTx,
    id: Uuid,
    by: Uuid,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "update complaints set claimed_by = $3, claimed_until = $4
         where tenant_id = $1 and id = $2
           and (claimed_by is null or claimed_by = $3 or claimed_until < $5)",
        tenant,
        id,
        by,
        until,
        now
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn answer(tx: &mut TenantTx, id: Uuid, text: &str, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let n = sqlx::query!(
        "update complaints set vendor_answer = $3, vendor_answered_at = $4, updated_at = $4
         where tenant_id = $1 and id = $2 and vendor_answer is null",
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

/// A line of a complaint's public timeline.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub note: String,
}

pub async fn add_event(
    tx: &mut TenantTx,
    complaint: Uuid,
    kind: &str,
    note: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into complaint_events (tenant_id, complaint_id, kind, note, at) values ($1, $2, $3, $4, $5)",
        tenant,
        complaint,
        kind,
        note,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn events(tx: &mut TenantTx, complaint: Uuid) -> Result<Vec<EventRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        EventRow,
        "select at, kind, note from complaint_events where tenant_id = $1 and complaint_id = $2 order by at, seq",
        tenant,
        complaint
    )
    .fetch_all(tx.conn())
    .await
}

/// Complaints about a code still waiting for an outcome that carry weight: accepted (受理) by an
/// official, or filed with a number verified by SMS or by the hotline and not held as a burst.
/// Anonymous taps alone never colour a code.
pub async fn unresolved_count(tx: &mut TenantTx, code: Uuid) -> Result<i64, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from complaints
           where tenant_id = $1 and code_id = $2 and state in ('open', 'acknowledged', 'in_progress')
             and (acknowledged_at is not null
                  or (held_reason is null and (contact_phone_index is not null or source = 'open311')))"#,
        tenant,
        code
    )
    .fetch_one(tx.conn())
    .await
}

/// The tenant's own deadlines: (category, ack hours, resolve days).
/// A category's row of `complaint_deadlines` (a missing row: the platform's default).
pub struct DeadlineRow {
    pub category: String,
    pub ack_hours: i32,
    pub resolve_days: i32,
    pub working_days: bool,
    pub gbt_code: Option<String>,
}

pub async fn deadlines(tx: &mut TenantTx) -> Result<Vec<DeadlineRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        DeadlineRow,
        "select category, ack_hours, resolve_days, working_days, gbt_code from complaint_deadlines
         where tenant_id = $1",
        tenant
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn set_deadline(tx: &mut TenantTx, row: &DeadlineRow) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into complaint_deadlines (tenant_id, category, ack_hours, resolve_days, working_days, gbt_code)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (tenant_id, category) do update set ack_hours = excluded.ack_hours,
             resolve_days = excluded.resolve_days, working_days = excluded.working_days,
             gbt_code = excluded.gbt_code",
        tenant,
        row.category,
        row.ack_hours,
        row.resolve_days,
        row.working_days,
        row.gbt_code
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What tells a burst of complaints about a stall from a crowd's, over the last `since`.
pub async fn burst_signals(
    tx: &mut TenantTx,
    code: Uuid,
    night: chrono::NaiveDate,
    client_hash: &str,
    since: DateTime<Utc>,
    recently: DateTime<Utc>,
) -> Result<nightmarket_domain::burst::BurstSignals, sqlx::Error> {
    let tenant = tx.tenant().0;
    let r = sqlx::query!(
        r#"select
             (select count(*) from complaints where tenant_id = $1 and code_id = $2 and created_at >= $5
                and client_hash = $4) as "same_address!",
             (select count(*) from complaints where tenant_id = $1 and code_id = $2 and created_at >= $5
                and held_reason is null) as "counted_tonight!",
             (select count(*) from complaints where tenant_id = $1 and code_id = $2 and created_at >= $6
                and held_reason is null) as "counted_recently!",
             (select coalesce(sum(visitors), 0)::bigint from scan_nights where tenant_id = $1 and code_id = $2
                and night = $3) as "visitors!",
             (select count(*) from complaints where tenant_id = $1 and code_id = $2 and created_at >= $5
                and held_reason is not null) as "held_tonight!""#,
        tenant,
        code,
        night,
        client_hash,
        since,
        recently
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
