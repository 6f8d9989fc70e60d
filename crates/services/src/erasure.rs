//! A departed vendor asks to be forgotten (PIPL art. 47); an admin decides. Approval revokes the
//! vendor's codes and erases, in one transaction:
//!
//! * gone: the account's number, name and password (it can no longer sign in, and the number is
//!   no longer found by its blind index, so it may sign up afresh), the applications' names, ID
//!   numbers, numbers (sealed, masked and indexed) and positions, every application and renewal
//!   document, the payee account, goods and appeal photos, credit records and the inbox;
//! * kept, without the person: the applications (stall, category, decisions), the revoked codes,
//!   check-ins, inspections and deductions, ratings and complaints about the stall, voucher
//!   redemptions and settlements — what the market's records, other people's submissions and the
//!   accounts need;
//! * the audit trail: every record by the vendor or about the vendor, their applications, codes,
//!   credentials and requests keeps what happened, to what and when, and loses its personal content
//!   (`db::audit::redact`), without breaking its chain (migrations/0027_erasure.sql,
//!   docs/RELIABILITY.md). Records older than that migration cannot be redacted and are counted.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use nightmarket_db::{self as db, codes as db_codes};
use nightmarket_domain::people::Actor;

/// The tables whose rows' audit records an erasure redacts (besides the vendor's own account and
/// every record the vendor wrote): the vendor's applications, stalls, credentials and requests.
const REDACTED_SUBJECTS: [&str; 8] = [
    "applications",
    "codes",
    "credentials",
    "credential_renewals",
    "credential_disputes",
    "appeals",
    "goods_sources",
    "credit_records",
];

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ErasureRequest))]
pub struct Request {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub reason: String,
    /// pending, approved, refused.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: String,
    /// The vendor's stalls by name, so officials know whose request it is.
    pub stalls: Vec<String>,
}

impl From<db::erasure::RequestRow> for Request {
    fn from(r: db::erasure::RequestRow) -> Self {
        Request {
            id: r.id,
            vendor_id: r.vendor_id,
            reason: r.reason,
            state: r.state,
            created_at: r.created_at,
            decided_at: r.decided_at,
            decision_note: r.decision_note,
            stalls: r.stalls,
        }
    }
}

/// A vendor asks to be forgotten, with an optional reason; one request at a time.
pub async fn request(ctx: &Ctx, vendor: &Actor, reason: &str) -> AppResult<Request> {
    vendor.require_vendor()?;
    let reason = reason.trim();
    if reason.chars().count() > 500 {
        return Err(AppError::Validation(vec![FieldError::with(
            "reason",
            Msg::new("form.too_long").arg("max", 500),
        )]));
    }
    let now = ctx.clock.now();
    let id = Uuid::new_v4();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    if !db::erasure::list(&mut tx, Some(vendor.id), true).await?.is_empty() {
        return Err(AppError::Conflict(Msg::new("erasure.already_pending")));
    }
    db::erasure::insert(&mut tx, id, vendor.id, reason, now).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("erasure.request", "erasure_request", id).after(&serde_json::json!({ "reason": reason })),
    )
    .await?;
    let made = db::erasure::list(&mut tx, Some(vendor.id), true).await?;
    tx.commit().await?;
    made.into_iter()
        .next()
        .map(Request::from)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("erasure request {id} not found after insert")))
}

/// The vendor's own requests, newest first.
pub async fn mine(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<Request>> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let rows = db::erasure::list(&mut tx, Some(vendor.id), false).await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(Request::from).collect())
}

/// Every request (admins), newest first; `pending_only` for the ones to decide.
pub async fn list(ctx: &Ctx, admin: &Actor, pending_only: bool) -> AppResult<Vec<Request>> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let rows = db::erasure::list(&mut tx, None, pending_only).await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(Request::from).collect())
}

/// What an approved erasure did, as counts.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ErasureDone))]
pub struct Done {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub erased: db::erasure::Erased,
    pub codes_revoked: u64,
    /// Audit records emptied of the person's values.
    pub audit_redacted: i64,
    /// The person's audit records written before migration 0027 (they hash their content directly
    /// and keep it).
    pub audit_kept_old: u64,
}

/// An admin decides a pending request: approves (erases, see the module) or refuses, with a note
/// (needed to refuse).
pub async fn decide(ctx: &Ctx, admin: &Actor, id: Uuid, approve: bool, note: &str) -> AppResult<Option<Done>> {
    admin.require_admin()?;
    let note = note.trim();
    if note.chars().count() > 500 || (!approve && note.chars().count() < 2) {
        return Err(AppError::Validation(vec![FieldError::with(
            "note",
            Msg::new("form.length_between")
                .arg("min", if approve { 0 } else { 2 })
                .arg("max", 500),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let Some(vendor) = db::erasure::lock_pending(&mut tx, id).await? else {
        return Err(AppError::NotFound);
    };
    if !approve {
        db::erasure::decide(&mut tx, id, "refused", admin.id, now, note, None).await?;
        audit::record(
            &mut tx,
            &Author::of(admin),
            Change::new("erasure.refuse", "erasure_request", id).after(&serde_json::json!({ "note": note })),
        )
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    db::credentials::lock_vendor(&mut tx, vendor).await?;
    // What the trail names the vendor's things by, before any of them goes.
    let mut subjects = vec![vendor.to_string(), id.to_string()];
    for table in REDACTED_SUBJECTS {
        subjects.extend(db::export::ids(&mut tx, table, vendor).await?);
    }
    // The codes stop trading first, each audited as any revocation is (slot and colour only).
    let live = db_codes::list(
        &mut tx,
        &db_codes::CodeFilter {
            vendor: Some(vendor),
            live: true,
            ..Default::default()
        },
    )
    .await?;
    let mut codes_revoked = 0;
    for code in &live {
        if db_codes::revoke(&mut tx, code.id, "erasure").await? {
            codes_revoked += 1;
            audit::record(
                &mut tx,
                &Author::of(admin),
                Change::new("code.revoke", "code", code.id)
                    .before(&serde_json::json!({ "slot": code.slot_code, "colour": code.colour }))
                    .after(&serde_json::json!({ "revoked": true, "reason": "erasure" })),
            )
            .await?;
        }
    }
    let erased = db::erasure::erase_vendor(&mut tx, vendor, now).await?;
    // Approved before the trail is redacted: the database allows a redaction only in the
    // transaction that approved its request. The counts are added once known.
    db::erasure::decide(&mut tx, id, "approved", admin.id, now, note, None).await?;
    let records = db::audit::about(&mut tx, vendor, &subjects).await?;
    let redactable: Vec<i64> = records
        .iter()
        .filter(|(_, version, redacted)| *version == 2 && !redacted)
        .map(|(seq, _, _)| *seq)
        .collect();
    let audit_kept_old = records.iter().filter(|(_, version, _)| *version == 1).count() as u64;
    let audit_redacted = db::audit::redact(&mut tx, id, &redactable).await?;
    let done = Done {
        erased,
        codes_revoked,
        audit_redacted,
        audit_kept_old,
    };
    let counts = serde_json::to_value(&done).map_err(|e| AppError::Internal(e.into()))?;
    db::erasure::decide(&mut tx, id, "approved", admin.id, now, note, Some(&counts)).await?;
    // The decision's own record names the request, not the person, and holds counts only.
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("erasure.approve", "erasure_request", id).after(&counts),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(done))
}
