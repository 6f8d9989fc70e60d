//! A vendor disputes what an external system reported about a credential (the health binding's
//! "invalid", say); an official sees the feed's event beside the vendor's word and decides. Upheld,
//! the credential is valid again on the official's word and the colour follows at once; refused,
//! the report stands. Either way the vendor is told and the decision is kept with its reason.

use uuid::Uuid;

use crate::Ctx;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::supervision::{self, ColourChange};
use crate::{live, notices};
use nightmarket_db as db;
/// A dispute as the officials' list and the vendor's page show it.
pub use nightmarket_db::disputes::DisputeRow;
use nightmarket_domain::case::DisputeState;
use nightmarket_domain::credential::{Kind, Source, Status};
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Permission;

/// The vendor disputes the feed's report on their credential of `kind` (5–500 characters).
pub async fn file(ctx: &Ctx, vendor: &Actor, kind: &str, text: &str) -> AppResult<Uuid> {
    vendor.require_vendor()?;
    let kind = Kind::parse(kind).ok_or_else(|| AppError::field("kind", "credential.kind_unknown"))?;
    let text = text.trim();
    let n = text.chars().count();
    if !(5..=500).contains(&n) {
        return Err(AppError::Validation(vec![FieldError::with(
            "text",
            Msg::new("form.length_between").arg("min", 5).arg("max", 500),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    db::credentials::lock_vendor(&mut tx, vendor.id).await?;
    // Only what an external system reported can be disputed here; a date that passed or an
    // official's decision have their own ways (a renewal, an appeal).
    let held = db::credentials::for_vendor(&mut tx, vendor.id).await?;
    let reported = held
        .iter()
        .any(|c| c.kind == kind && c.status == Status::Invalid && c.source == Source::External);
    if !reported {
        return Err(AppError::Conflict(Msg::new("dispute.only_reported")));
    }
    let event = db::disputes::latest_event(&mut tx, vendor.id, kind).await?;
    let id = Uuid::new_v4();
    db::disputes::insert(&mut tx, id, vendor.id, kind, event.as_deref(), text, now).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("credential.dispute", "user", vendor.id)
            .after(&serde_json::json!({ "dispute": id, "kind": kind.as_str(), "event": event, "text": text })),
    )
    .await?;
    live::notify_staff_args(
        &mut tx,
        now,
        Some(Permission::Review),
        NoticeKind::CredentialDisputed,
        notices::Args::default()
            .text("vendor", &vendor.display_name)
            .label("credential", kind.label_key()),
        Some("/official/renewals#disputes"),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Disputes for officials who review (pending ones, or all).
pub async fn list(ctx: &Ctx, official: &Actor, pending_only: bool) -> AppResult<Vec<DisputeRow>> {
    official.require(Permission::Review)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    Ok(db::disputes::list(&mut tx, pending_only, None, None).await?)
}

/// The vendor's own disputes.
pub async fn mine(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<DisputeRow>> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    Ok(db::disputes::list(&mut tx, false, Some(vendor.id), None).await?)
}

/// An official decides: `uphold` (the report was wrong: the credential is valid again on the
/// official's word) or not, with a reason (2–200 characters) the vendor reads.
pub async fn decide(ctx: &Ctx, official: &Actor, id: Uuid, uphold: bool, note: &str) -> AppResult<Vec<ColourChange>> {
    official.require(Permission::Review)?;
    let note = note.trim();
    if !(2..=200).contains(&note.chars().count()) {
        return Err(AppError::Validation(vec![FieldError::with(
            "reason",
            Msg::new("form.length_between").arg("min", 2).arg("max", 200),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let d = db::disputes::list(&mut tx, false, None, Some(id))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    // Users before the rest: the vendor's lock first, as every change of a code's causes takes it.
    db::credentials::lock_vendor(&mut tx, d.vendor_id).await?;
    let verdict = if uphold {
        DisputeState::Upheld
    } else {
        DisputeState::Rejected
    };
    if !db::disputes::decide(&mut tx, id, verdict, official.id, note, now).await? {
        return Err(AppError::Conflict(Msg::new("dispute.decided")));
    }
    let actor = Author::of(official);
    let mut changes = Vec::new();
    if uphold {
        db::credentials::upsert(
            &mut tx,
            d.vendor_id,
            d.kind,
            None,
            None,
            Status::Valid,
            note,
            Source::Official,
        )
        .await?;
        let settings = db::settings::get(&mut tx).await?;
        changes = supervision::sync_vendor(
            &mut tx,
            &ctx.keys,
            &actor,
            d.vendor_id,
            now,
            official.tenant.timezone,
            &settings,
        )
        .await?;
    }
    audit::record(
        &mut tx,
        &actor,
        Change::new(
            if uphold {
                "credential.dispute_uphold"
            } else {
                "credential.dispute_reject"
            },
            "user",
            d.vendor_id,
        )
        .before(&serde_json::json!({ "dispute": id, "state": "pending", "event": d.event_id }))
        .after(&serde_json::json!({ "state": verdict.as_str(), "note": note, "kind": d.kind })),
    )
    .await?;
    let kind = d.kind;
    notices::notify_args(
        &mut tx,
        &ctx.keys,
        d.vendor_id,
        NoticeKind::DisputeDecided,
        notices::Args::default()
            .label("credential", kind.label_key())
            .label("verdict", verdict.label_key())
            .text("note", note),
        Some("/vendor"),
    )
    .await?;
    tx.commit().await?;
    Ok(changes)
}
