//! The vendor's side: the complaints about the stall, and the answer the vendor gives.

use super::*;

/// Complaints about a vendor's stall, as the vendor sees them (no contact, no device).
pub async fn for_vendor(ctx: &Ctx, vendor: &Actor, code: Uuid) -> AppResult<Vec<ComplaintView>> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    if db::codes::get(&mut tx, code)
        .await?
        .is_none_or(|c| c.vendor_id != vendor.id)
    {
        return Err(AppError::NotFound);
    }
    db::complaints::list(
        &mut tx,
        &ComplaintFilter {
            code: Some(code),
            vendor: Some(vendor.id),
            limit: Some(50),
            ..Default::default()
        },
    )
    .await?
    .iter()
    // A held burst reaches the vendor only once an official has accepted it.
    .filter(|c| c.held_reason.is_none() || c.acknowledged_at.is_some())
    .map(|c| {
        Ok(ComplaintView {
            contact_phone_masked: None,
            claimed_by: None,
            claimed_by_id: None,
            ..ComplaintView::of(c, now)?
        })
    })
    .collect()
}

/// The vendor's answer to a complaint about their stall (once); the shopper reads it.
pub async fn answer(ctx: &Ctx, vendor: &Actor, id: Uuid, text: &str) -> AppResult<()> {
    vendor.require_vendor()?;
    let text = text.trim();
    if !(2..=500).contains(&text.chars().count()) {
        return Err(AppError::Validation(vec![FieldError::with(
            "answer",
            Msg::new("form.length_between").arg("min", 2).arg("max", 500),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    if !db::complaints::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let (row, _) = load(&mut tx, id, now).await?;
    if row.vendor_id != vendor.id {
        return Err(AppError::NotFound);
    }
    if !db::complaints::answer(&mut tx, id, text, now).await? {
        return Err(AppError::Conflict(Msg::new("complaint.answered")));
    }
    db::complaints::add_event(&mut tx, id, "answered", text, now).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("complaint.answer", "complaint", id).after(&serde_json::json!({ "answer": text })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
