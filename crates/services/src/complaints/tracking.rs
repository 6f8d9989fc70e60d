//! The shopper's side: the tracking page and reopening a closed complaint.

use super::*;

/// What the shopper's tracking page shows (no contact details, no internal evidence).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tracking {
    pub tracking: String,
    pub stall_name: String,
    pub slot_code: String,
    pub market_name: String,
    pub category: Category,
    pub description: String,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub timing: Timing,
    pub upheld: Option<bool>,
    pub resolution: Option<String>,
    pub vendor_answer: Option<String>,
    pub may_reopen: bool,
    pub reopened: bool,
    pub events: Vec<TrackingEvent>,
    /// The 12345 hotline's stages, each with when it was reached.
    pub stages: Vec<StageMark>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackingEvent {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub note: String,
}

async fn tenant_of(ctx: &Ctx, tracking: &str) -> AppResult<Tenant> {
    let slug = complaint::tenant_of_tracking(tracking).ok_or(AppError::NotFound)?;
    ctx.tenants.by_slug(&ctx.db, slug).await?.ok_or(AppError::NotFound)
}

async fn by_tracking(tx: &mut TenantTx, tracking: &str) -> AppResult<ComplaintRow> {
    db::complaints::list(
        tx,
        &ComplaintFilter {
            tracking: Some(tracking.to_string()),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or(AppError::NotFound)
}

/// The tracking page's content; unknown numbers are simply not found.
pub async fn track(ctx: &Ctx, tracking: &str) -> AppResult<Tracking> {
    let tenant = tenant_of(ctx, tracking).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = by_tracking(&mut tx, tracking).await?;
    let events = db::complaints::events(&mut tx, row.id).await?;
    let view = ComplaintView::of(&row, now)?;
    Ok(Tracking {
        tracking: row.tracking.clone(),
        stall_name: row.stall_name,
        slot_code: row.slot_code,
        market_name: row.market_name,
        category: view.category,
        description: row.description,
        state: view.state,
        created_at: row.created_at,
        timing: view.timing,
        upheld: row.upheld,
        resolution: row.resolution,
        vendor_answer: row.vendor_answer,
        may_reopen: complaint::may_reopen(view.state, row.reopen_count, row.closed_at, now),
        reopened: row.reopen_count > 0,
        stages: view.stages.clone(),
        events: events
            .into_iter()
            .map(|e| TrackingEvent {
                at: e.at,
                kind: e.kind,
                note: e.note,
            })
            .collect(),
    })
}

/// The shopper reopens a resolved complaint (once, within seven days), saying why.
pub async fn reopen(ctx: &Ctx, tracking: &str, shopper: &Shopper, reason: &str) -> AppResult<()> {
    ctx.shopper_throttle
        .check(
            ctx.db.global(),
            &format!("reopen/{}", shopper.device_hash),
            shopper.address,
        )
        .await?;
    let reason = reason.trim();
    if !(5..=500).contains(&reason.chars().count()) {
        return Err(AppError::Validation(vec![FieldError::with(
            "reason",
            Msg::new("form.length_between").arg("min", 5).arg("max", 500),
        )]));
    }
    let tenant = tenant_of(ctx, tracking).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = by_tracking(&mut tx, tracking).await?;
    db::credentials::lock_vendor(&mut tx, row.vendor_id).await?;
    db::complaints::lock(&mut tx, row.id).await?;
    let row = by_tracking(&mut tx, tracking).await?;
    let st = row.state;
    if !complaint::may_reopen(st, row.reopen_count, row.closed_at, now) {
        return Err(AppError::Conflict(Msg::new("complaint.no_reopen")));
    }
    let category = row.category;
    let d = deadlines_for(&mut tx, category).await?;
    let resolve_due_at = resolve_due(&mut tx, &tenant, &d, now).await?;
    if !db::complaints::reopen(&mut tx, row.id, now, d.ack_due(now), resolve_due_at).await? {
        return Err(AppError::Conflict(Msg::new("complaint.no_reopen")));
    }
    db::complaints::add_event(&mut tx, row.id, "reopened", reason, now).await?;
    let actor = Author::public(&shopper.device_hash);
    audit::record(
        &mut tx,
        &actor,
        Change::new("complaint.reopen", "complaint", row.id)
            .before(&serde_json::json!({ "state": "resolved", "upheld": row.upheld }))
            .after(&serde_json::json!({ "state": "open", "reason": reason })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
    supervision::sync_vendor(
        &mut tx,
        &ctx.keys,
        &actor,
        row.vendor_id,
        now,
        tenant.timezone,
        &settings,
    )
    .await?;
    live::notify_staff_args(
        &mut tx,
        now,
        Some(Permission::Complaints),
        NoticeKind::ComplaintFiled,
        notices::Args::default()
            .text("stall", &row.stall_name)
            .text("slot", &row.slot_code)
            .label("category", category.label_key()),
        Some(&format!("/official/complaints/{}", row.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
