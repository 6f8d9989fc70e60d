//! Each category's rules: its deadlines to acknowledge and to resolve (in calendar or working
//! days) and its GB/T 39666 class, as the tenant sets them; and the tenant's calendar of holidays
//! and adjusted working days that working-day deadlines count by.

use chrono::NaiveDate;

use super::*;

/// The tenant's rules for every category (officials).
pub async fn deadlines(ctx: &Ctx, user: &Actor) -> AppResult<Vec<CategoryRules>> {
    user.require_staff()?;
    published_deadlines(ctx, user.tenant_id()).await
}

/// The tenant's rules for each category as the public sees them (Open311's service list): the
/// tenant's own where it set them, else the platform's.
pub async fn published_deadlines(ctx: &Ctx, tenant: TenantId) -> AppResult<Vec<CategoryRules>> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let rules = all_rules(&mut tx).await?;
    tx.commit().await?;
    Ok(rules)
}

/// An admin sets a category's deadlines and GB/T code (`gbt_code` empty: none).
pub async fn set_deadlines(ctx: &Ctx, admin: &Actor, category: &str, d: Deadlines, gbt_code: &str) -> AppResult<()> {
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
    let gbt_code = gbt_code.trim();
    let gbt = if gbt_code.is_empty() {
        None
    } else {
        let parsed = GbtCode::parse(gbt_code);
        if parsed.is_none() {
            errors.push(FieldError::new("gbt_code", "settings.gbt_code_invalid"));
        }
        parsed
    };
    crate::error::check(errors)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = rules_for(&mut tx, category).await?;
    db::complaints::set_deadline(
        &mut tx,
        &db::complaints::DeadlineRow {
            category: category.as_str().to_string(),
            ack_hours: d.ack_hours,
            resolve_days: d.resolve_days,
            working_days: d.working_days,
            gbt_code: gbt.map(|g| g.to_string()),
        },
    )
    .await?;
    let after = CategoryRules {
        category,
        deadlines: d,
        gbt_code: gbt,
    };
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("complaint_deadlines.update", "tenant", admin.tenant_id())
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub use nightmarket_db::calendar::CalendarDay;

/// How far back and ahead the calendar is shown and may be set: last year to two years ahead.
fn calendar_span(ctx: &Ctx, tenant: &Tenant) -> (NaiveDate, NaiveDate) {
    let today = ctx.clock.now().with_timezone(&tenant.timezone).date_naive();
    (
        today - chrono::Duration::days(366),
        today + chrono::Duration::days(2 * 366),
    )
}

/// The tenant's calendar from last year on (officials).
pub async fn calendar(ctx: &Ctx, user: &Actor, tenant: &Tenant) -> AppResult<Vec<CalendarDay>> {
    user.require_staff()?;
    let (from, to) = calendar_span(ctx, tenant);
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let days = db::calendar::days(&mut tx, from, to).await?;
    tx.commit().await?;
    Ok(days)
}

/// An admin lists a day as a holiday or a working day, with its name (e.g. 国庆节, 国庆调休).
pub async fn set_calendar_day(
    ctx: &Ctx,
    admin: &Actor,
    tenant: &Tenant,
    day: &str,
    kind: &str,
    name: &str,
) -> AppResult<CalendarDay> {
    admin.require_admin()?;
    let mut errors = Vec::new();
    let (from, to) = calendar_span(ctx, tenant);
    let parsed_day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok();
    match parsed_day {
        None => errors.push(FieldError::new("day", "calendar.day_invalid")),
        Some(d) if d < from || d > to => errors.push(FieldError::new("day", "calendar.day_out_of_span")),
        Some(_) => {}
    }
    let kind = DayKind::parse(kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new("kind", "calendar.kind_invalid"));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        errors.push(FieldError::with(
            "name",
            Msg::new("form.length_between").arg("min", 1).arg("max", 40),
        ));
    }
    crate::error::check(errors)?;
    let (Some(day), Some(kind)) = (parsed_day, kind) else {
        return Err(AppError::field("day", "calendar.day_invalid"));
    };
    let entry = CalendarDay {
        day,
        kind: kind.as_str().to_string(),
        name: name.to_string(),
    };
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = db::calendar::set(&mut tx, &entry).await?;
    let mut change = Change::new("calendar.set", "tenant", admin.tenant_id()).after(&entry);
    if let Some(before) = &before {
        change = change.before(before);
    }
    audit::record(&mut tx, &Author::of(admin), change).await?;
    tx.commit().await?;
    Ok(entry)
}

/// An admin takes a day off the calendar (it follows the week again).
pub async fn remove_calendar_day(ctx: &Ctx, admin: &Actor, day: &str) -> AppResult<()> {
    admin.require_admin()?;
    let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field("day", "calendar.day_invalid"))?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let Some(removed) = db::calendar::remove(&mut tx, day).await? else {
        return Err(AppError::NotFound);
    };
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("calendar.remove", "tenant", admin.tenant_id()).before(&removed),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
