//! Each category's deadlines: to acknowledge and to resolve, as the tenant sets them.

use super::*;

/// The tenant's deadlines for every category.
pub async fn deadlines(ctx: &Ctx, user: &Actor) -> AppResult<Vec<(Category, Deadlines)>> {
    user.require_staff()?;
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let mut out = Vec::new();
    for c in Category::ALL {
        out.push((c, deadlines_for(&mut tx, c).await?));
    }
    Ok(out)
}

/// The tenant's deadline for each category as the public sees them (Open311's service list):
/// the tenant's own where it set one, else the platform's.
pub async fn published_deadlines(ctx: &Ctx, tenant: TenantId) -> AppResult<Vec<(Category, Deadlines)>> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let mut out = Vec::new();
    for c in Category::ALL {
        out.push((c, deadlines_for(&mut tx, c).await?));
    }
    tx.commit().await?;
    Ok(out)
}

/// An admin sets the deadlines of a category.
pub async fn set_deadlines(ctx: &Ctx, admin: &Actor, category: &str, d: Deadlines) -> AppResult<()> {
    admin.require_admin()?;
    let category = Category::parse(category).ok_or(AppError::field("category", "complaint.category_invalid"))?;
    let mut errors = Vec::new();
    if !(1..=720).contains(&d.ack_hours) {
        errors.push(FieldError::with(
            "ack_hours",
            Msg::new("settings.range").arg("min", 1).arg("max", 720),
        ));
    }
    if !(1..=90).contains(&d.resolve_days) {
        errors.push(FieldError::with(
            "resolve_days",
            Msg::new("settings.range").arg("min", 1).arg("max", 90),
        ));
    }
    crate::error::check(errors)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = deadlines_for(&mut tx, category).await?;
    db::complaints::set_deadline(&mut tx, category.as_str(), d.ack_hours, d.resolve_days).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("complaint_deadlines.update", "tenant", admin.tenant_id())
            .before(&serde_json::json!({ "category": category, "deadlines": before }))
            .after(&serde_json::json!({ "category": category, "deadlines": d })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
