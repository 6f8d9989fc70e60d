//! Inspections (巡查): an official records what they found at a stall; problems deduct points from
//! the vendor's monthly allowance; the vendor may appeal a deduction; an official decides.

use chrono::Duration;
use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;
use crate::applications::{MAX_DOCUMENT_BYTES, sniff};
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::photos::{self, Evidence};
use crate::supervision::{self, ColourChange, local_date};
use crate::{live, notices};
use nightmarket_db::inspections::DeductionRow;
/// An appeal and a problem of the inspection list, as shown.
pub use nightmarket_db::inspections::{AppealRow, Problem};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::case::AppealState;
use nightmarket_domain::credential::month_of;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::{Permission, Role};

/// The scheme a tenant starts with (Lanzhou's, roughly): what each problem costs.
pub const DEFAULT_PROBLEMS: [(&str, &str, i32); 6] = [
    ("unlicensed", "无证经营", 12),
    ("food_storage", "食品储存不当", 4),
    ("hygiene", "卫生不达标", 3),
    ("outside_slot", "超出摊位范围", 2),
    ("no_price_tags", "未明码标价", 2),
    ("no_placard", "未亮码经营", 1),
];

/// At most this many photos per inspection.
pub const MAX_PHOTOS: usize = 3;

/// The tenant's list of problems, made from the defaults the first time it is needed.
pub async fn problems(tx: &mut TenantTx) -> AppResult<Vec<Problem>> {
    let list = db::inspections::problems(tx).await?;
    if !list.is_empty() {
        return Ok(list);
    }
    for (code, label, points) in DEFAULT_PROBLEMS {
        db::inspections::upsert_problem(
            tx,
            &Problem {
                code: code.into(),
                label: label.into(),
                points,
                active: true,
            },
        )
        .await?;
    }
    Ok(db::inspections::problems(tx).await?)
}

pub async fn list_problems(ctx: &Ctx, user: &Actor) -> AppResult<Vec<Problem>> {
    user.require_staff()?;
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let list = problems(&mut tx).await?;
    tx.commit().await?;
    Ok(list)
}

/// Adds or changes a problem of the tenant's scheme (admins).
pub async fn save_problem(ctx: &Ctx, admin: &Actor, p: &Problem) -> AppResult<()> {
    admin.require_admin()?;
    let mut errors = Vec::new();
    let code = p.code.trim().to_ascii_lowercase();
    let ok_code = (2..=32).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok_code {
        errors.push(FieldError::new("code", "inspection.problem_code_rule"));
    }
    let label = p.label.trim().to_string();
    if label.is_empty() || label.chars().count() > 40 {
        errors.push(FieldError::with(
            "label",
            Msg::new("form.length_between").arg("min", 1).arg("max", 40),
        ));
    }
    if !(1..=100).contains(&p.points) {
        errors.push(FieldError::with(
            "points",
            Msg::new("settings.range").arg("min", 1).arg("max", 100),
        ));
    }
    check(errors)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = problems(&mut tx).await?.into_iter().find(|x| x.code == code);
    let new = Problem {
        code: code.clone(),
        label,
        points: p.points,
        active: p.active,
    };
    db::inspections::upsert_problem(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("inspection.problem", "problem", &code)
            .before(&before)
            .after(&new),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recorded {
    pub inspection_id: Uuid,
    pub passed: bool,
    pub points: i64,
    /// The vendor's points lost this month, after this inspection.
    pub month_total: i64,
    pub allowance: i32,
}

/// Records an inspection of a stall (officials with the inspect permission).
pub async fn record(
    ctx: &Ctx,
    official: &Actor,
    code_id: Uuid,
    found: &[String],
    notes: &str,
    photos: &[Vec<u8>],
    goods_checked: &[Uuid],
) -> AppResult<(Recorded, Vec<ColourChange>)> {
    record_as(ctx, official, code_id, found, notes, photos, goods_checked, None).await
}

/// An inspection recorded on a phone while offline: its id and time were made there; it reached
/// the server later, knowing the stalls as of `downloaded_at`.
#[derive(Clone, Copy, Debug)]
pub struct Offline {
    pub id: Uuid,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub downloaded_at: chrono::DateTime<chrono::Utc>,
}

/// [`record`], or, with `offline`, an inspection made earlier on a phone: kept under the phone's
/// id, at the time it was recorded (its points count against that month), and audited with both
/// times.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_as(
    ctx: &Ctx,
    official: &Actor,
    code_id: Uuid,
    found: &[String],
    notes: &str,
    photos: &[Vec<u8>],
    goods_checked: &[Uuid],
    offline: Option<Offline>,
) -> AppResult<(Recorded, Vec<ColourChange>)> {
    official.require(Permission::Inspect)?;
    let received = ctx.clock.now();
    let now = offline.map(|o| o.recorded_at).unwrap_or(received);
    let notes = notes.trim();
    let mut errors = Vec::new();
    if notes.chars().count() > 500 {
        errors.push(FieldError::with("notes", Msg::new("form.too_long").arg("max", 500)));
    }
    if photos.len() > MAX_PHOTOS {
        errors.push(FieldError::with(
            "photos",
            Msg::new("document.too_many").arg("max", MAX_PHOTOS),
        ));
    }
    let mut photo_types = Vec::new();
    for p in photos {
        match sniff(p) {
            Some(t) if p.len() <= MAX_DOCUMENT_BYTES => photo_types.push(t),
            _ => errors.push(FieldError::new("photos", "document.type_or_size")),
        }
    }
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let scheme = problems(&mut tx).await?;
    let mut chosen = Vec::new();
    for code in found {
        match scheme.iter().find(|p| p.code == *code && p.active) {
            Some(p) if !chosen.iter().any(|c: &&Problem| c.code == p.code) => chosen.push(p),
            Some(_) => {}
            None => errors.push(FieldError::with(
                "problems",
                Msg::new("inspection.problem_unknown").arg("code", code),
            )),
        }
    }
    if !chosen.is_empty() && notes.is_empty() && photos.is_empty() {
        errors.push(FieldError::new("notes", "inspection.evidence"));
    }
    check(errors)?;

    let code = db::codes::get(&mut tx, code_id)
        .await?
        .filter(|c| c.revoked_at.is_none())
        .ok_or(AppError::NotFound)?;
    db::credentials::lock_vendor(&mut tx, code.vendor_id).await?;
    let id = offline.map(|o| o.id).unwrap_or_else(Uuid::new_v4);
    let passed = chosen.is_empty();
    db::inspections::insert(
        &mut tx,
        &db::inspections::NewInspection {
            id,
            code_id,
            vendor_id: code.vendor_id,
            market_id: code.market_id,
            official_id: official.id,
            at: now,
            passed,
            notes,
            synced_at: offline.map(|_| received),
            downloaded_at: offline.map(|o| o.downloaded_at),
        },
    )
    .await?;
    crate::goods::mark_checked(&mut tx, official, code.vendor_id, id, goods_checked, now).await?;
    for (bytes, content_type) in photos.iter().zip(photo_types) {
        let photo = Uuid::new_v4();
        let sealed = photos::seal(ctx, &tx, Evidence::Inspection, photo, bytes);
        db::inspections::insert_photo(&mut tx, photo, id, content_type, bytes.len() as i32, &sealed).await?;
    }
    let month = month_of(local_date(now, official.tenant.timezone));
    let points: i64 = chosen.iter().map(|p| i64::from(p.points)).sum();
    for p in &chosen {
        db::inspections::insert_deduction(
            &mut tx,
            Uuid::new_v4(),
            id,
            code.vendor_id,
            &p.code,
            &p.label,
            p.points,
            month,
            now,
        )
        .await?;
    }
    let settings = db::settings::get(&mut tx).await?;
    let month_total = db::inspections::points_in_month(&mut tx, code.vendor_id, month).await?;
    let actor = Author::of(official);
    audit::record(
        &mut tx,
        &actor,
        Change::new("inspection.record", "code", code_id).after(&serde_json::json!({
            "inspection": id, "passed": passed,
            "problems": chosen.iter().map(|p| serde_json::json!({"code": p.code, "points": p.points})).collect::<Vec<_>>(),
            "month_total": month_total, "photos": photos.len(), "goods_sources_checked": goods_checked,
            "recorded_at": now, "synced_at": offline.map(|_| received),
            "downloaded_at": offline.map(|o| o.downloaded_at),
        })),
    )
    .await?;
    let changes = supervision::sync_vendor(
        &mut tx,
        &ctx.keys,
        &actor,
        code.vendor_id,
        now,
        official.tenant.timezone,
        &settings,
    )
    .await?;
    let args = notices::Args::default().text("stall", &code.stall_name);
    let args = if passed {
        args.label("result", "inspection.passed")
    } else {
        args.phrase("result", "inspection.deducted", &[("points", &points.to_string())])
    };
    notices::notify_args(
        &mut tx,
        &ctx.keys,
        code.vendor_id,
        NoticeKind::InspectionRecorded,
        args.text("total", &month_total.to_string())
            .text("allowance", &settings.monthly_points.to_string()),
        Some(&format!("/vendor/stalls/{code_id}")),
    )
    .await?;
    tx.commit().await?;
    Ok((
        Recorded {
            inspection_id: id,
            passed,
            points,
            month_total,
            allowance: settings.monthly_points,
        },
        changes,
    ))
}

/// A deduction as the vendor sees it, with whether it can still be appealed.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deduction {
    pub id: Uuid,
    pub problem: String,
    pub points: i32,
    pub month: chrono::NaiveDate,
    pub at: chrono::DateTime<chrono::Utc>,
    pub cancelled: bool,
    pub appeal_state: Option<AppealState>,
    pub appeal_reason: Option<String>,
    /// Until when an appeal may be filed (None once appealed or cancelled).
    pub appeal_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Deduction {
    /// Whether an appeal cancelled it (rather than an official's own correction).
    pub fn cancelled_on_appeal(&self) -> bool {
        self.appeal_state == Some(AppealState::Cancelled)
    }
}

pub fn deduction_view(d: &DeductionRow, appeal_days: i32, now: chrono::DateTime<chrono::Utc>) -> Deduction {
    let until = d.created_at + Duration::days(i64::from(appeal_days));
    Deduction {
        id: d.id,
        problem: d.problem_label.clone(),
        points: d.points,
        month: d.month,
        at: d.created_at,
        cancelled: d.cancelled_at.is_some(),
        appeal_state: d.appeal_state,
        appeal_reason: d.appeal_reason.clone().filter(|r| !r.is_empty()),
        appeal_until: (d.appeal_id.is_none() && d.cancelled_at.is_none() && now <= until).then_some(until),
    }
}

/// The signed-in vendor's own deductions.
pub async fn my_deductions(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<Deduction>> {
    vendor.require_vendor()?;
    deductions_of(ctx, vendor, vendor.id).await
}

/// The vendor's deductions, newest first.
pub async fn deductions_of(ctx: &Ctx, user: &Actor, vendor: Uuid) -> AppResult<Vec<Deduction>> {
    if !(user.role.is_staff() || user.id == vendor) {
        return Err(AppError::NotFound);
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let settings = db::settings::get(&mut tx).await?;
    Ok(db::inspections::deductions(&mut tx, Some(vendor), None)
        .await?
        .iter()
        .map(|d| deduction_view(d, settings.appeal_days, now))
        .collect())
}

/// The vendor appeals a deduction within the tenant's window, with an optional photo (`photo`
/// empty when none): a JPEG or PNG of at most 5 MiB, sealed like every document.
pub async fn appeal(ctx: &Ctx, vendor: &Actor, deduction: Uuid, text: &str, photo: &[u8]) -> AppResult<Uuid> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let text = text.trim();
    let mut errors = Vec::new();
    if !(2..=500).contains(&text.chars().count()) {
        errors.push(FieldError::with(
            "text",
            Msg::new("form.length_between").arg("min", 2).arg("max", 500),
        ));
    }
    let photo_type = match sniff(photo) {
        _ if photo.is_empty() => None,
        Some(t @ ("image/jpeg" | "image/png")) if photo.len() <= MAX_DOCUMENT_BYTES => Some(t),
        _ => {
            errors.push(FieldError::new("photo", "appeal.photo_type_or_size"));
            None
        }
    };
    check(errors)?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let settings = db::settings::get(&mut tx).await?;
    let d = db::inspections::deductions(&mut tx, Some(vendor.id), None)
        .await?
        .into_iter()
        .find(|d| d.id == deduction)
        .ok_or(AppError::NotFound)?;
    if d.cancelled_at.is_some() {
        return Err(AppError::Conflict(Msg::new("appeal.cancelled_already")));
    }
    if d.appeal_id.is_some() {
        return Err(AppError::Conflict(Msg::new("appeal.already")));
    }
    if now > d.created_at + Duration::days(i64::from(settings.appeal_days)) {
        return Err(AppError::Conflict(
            Msg::new("appeal.too_late").arg("days", settings.appeal_days),
        ));
    }
    let id = Uuid::new_v4();
    let photo = photo_type.map(|t| {
        let sealed = photos::seal(ctx, &tx, Evidence::Appeal, id, photo);
        (t, photo.len() as i32, sealed)
    });
    db::inspections::insert_appeal(
        &mut tx,
        &db::inspections::NewAppeal {
            id,
            deduction,
            vendor: vendor.id,
            text,
            at: now,
            photo: photo.as_ref().map(|(t, size, sealed)| (*t, *size, sealed.as_slice())),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("appeal.file", "deduction", deduction)
            .after(&serde_json::json!({ "appeal": id, "text": text, "photo": photo.is_some() })),
    )
    .await?;
    live::notify_staff(
        &mut tx,
        now,
        NoticeKind::AppealFiled,
        &[
            ("vendor", &vendor.display_name),
            ("problem", &d.problem_label),
            ("points", &d.points.to_string()),
        ],
        Some(&format!("/official/appeals#appeal-{id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An official upholds a deduction or cancels it (the points come back, the colour is
/// re-evaluated); the reason is kept and told to the vendor.
/// Whether anyone in the tenant other than `official` may decide appeals: an enabled admin, or an
/// enabled official with the inspection permission.
async fn others_may_decide(tx: &mut TenantTx, official: Uuid) -> AppResult<bool> {
    Ok(db::users::list_staff(tx).await?.iter().any(|u| {
        u.id != official
            && u.disabled_at.is_none()
            && (u.role == Role::Admin || u.permissions.iter().any(|p| p == Permission::Inspect.as_str()))
    }))
}

/// Whether this official may decide an appeal of theirs only because nobody else may (the
/// appeals page says so).
pub async fn sole_decider(ctx: &Ctx, official: &Actor) -> AppResult<bool> {
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    Ok(!others_may_decide(&mut tx, official.id).await?)
}

pub async fn decide_appeal(
    ctx: &Ctx,
    official: &Actor,
    appeal: Uuid,
    cancel: bool,
    reason: &str,
) -> AppResult<Vec<ColourChange>> {
    official.require(Permission::Inspect)?;
    let now = ctx.clock.now();
    let reason = reason.trim();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::Validation(vec![FieldError::with(
            "reason",
            Msg::new("form.length_between").arg("min", 2).arg("max", 200),
        )]));
    }
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::inspections::lock_appeal(&mut tx, appeal).await? {
        return Err(AppError::NotFound);
    }
    let a = db::inspections::appeals(&mut tx, false, Some(appeal))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    // An appeal is decided by someone other than the official who recorded the deduction, unless
    // nobody else in the district may (said on the page and kept in the audit record).
    let sole = if a.inspector_id == official.id {
        if others_may_decide(&mut tx, official.id).await? {
            return Err(AppError::Conflict(Msg::new("appeal.own_deduction")));
        }
        true
    } else {
        false
    };
    let verdict = if cancel {
        AppealState::Cancelled
    } else {
        AppealState::Upheld
    };
    if !db::inspections::decide_appeal(&mut tx, appeal, verdict, official.id, reason, now).await? {
        return Err(AppError::Conflict(Msg::new("appeal.decided")));
    }
    db::credentials::lock_vendor(&mut tx, a.vendor_id).await?;
    if cancel {
        db::inspections::cancel_deduction(&mut tx, a.deduction_id, now).await?;
    }
    let actor = Author::of(official);
    audit::record(
        &mut tx,
        &actor,
        Change::new(
            if cancel { "appeal.cancel" } else { "appeal.uphold" },
            "deduction",
            a.deduction_id,
        )
        .after(&serde_json::json!({
            "appeal": appeal, "reason": reason, "points": a.points, "recorded_by": a.inspector_id,
            "decided_by_recorder_as_sole_official": sole
        })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
    let changes = supervision::sync_vendor(
        &mut tx,
        &ctx.keys,
        &actor,
        a.vendor_id,
        now,
        official.tenant.timezone,
        &settings,
    )
    .await?;
    notices::notify_args(
        &mut tx,
        &ctx.keys,
        a.vendor_id,
        NoticeKind::AppealDecided,
        notices::Args::default()
            .text("problem", &a.problem_label)
            .label("verdict", verdict.label_key())
            .text("reason", reason),
        Some(&format!("/vendor/stalls/{}", a.code_id)),
    )
    .await?;
    tx.commit().await?;
    Ok(changes)
}

/// Appeals waiting (or all), for officials.
pub async fn appeals(ctx: &Ctx, official: &Actor, pending_only: bool) -> AppResult<Vec<db::inspections::AppealRow>> {
    official.require(Permission::Inspect)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    Ok(db::inspections::appeals(&mut tx, pending_only, None).await?)
}

/// The photo backing an appeal (officials deciding appeals, or the vendor who filed it).
pub async fn appeal_photo(ctx: &Ctx, user: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let photo = photos::open(ctx, &mut tx, Evidence::Appeal, id).await?;
    if photo.owner != user.id && !user.has(Permission::Inspect) {
        return Err(AppError::NotFound);
    }
    Ok((photo.content_type, photo.bytes))
}

/// An inspection photo (officials, or the vendor inspected).
pub async fn photo(ctx: &Ctx, user: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let photo = photos::open(ctx, &mut tx, Evidence::Inspection, id).await?;
    let inspection = photo.owner;
    if !user.role.is_staff() {
        let mine = db::inspections::deductions(&mut tx, Some(user.id), Some(inspection)).await?;
        let inspected = sqlx::query_scalar!(
            r#"select exists (select 1 from inspections where tenant_id = $1 and id = $2 and vendor_id = $3) as "x!""#,
            tx.tenant().0,
            inspection,
            user.id
        )
        .fetch_one(tx.conn())
        .await?;
        if mine.is_empty() && !inspected {
            return Err(AppError::NotFound);
        }
    }
    Ok((photo.content_type, photo.bytes))
}

/// An inspection as the stall's pages show it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InspectionView {
    pub id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    pub passed: bool,
    pub notes: String,
    /// The official who inspected.
    pub official: String,
    pub photo_ids: Vec<Uuid>,
    pub deductions: Vec<Deduction>,
}

/// The latest inspections of a stall (officials, or the vendor whose stall it is).
pub async fn for_code(ctx: &Ctx, user: &Actor, code_id: Uuid) -> AppResult<Vec<InspectionView>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let code = db::codes::get(&mut tx, code_id).await?.ok_or(AppError::NotFound)?;
    if !(user.role.is_staff() || code.vendor_id == user.id) {
        return Err(AppError::NotFound);
    }
    let settings = db::settings::get(&mut tx).await?;
    let deductions = db::inspections::deductions(&mut tx, Some(code.vendor_id), None).await?;
    Ok(db::inspections::for_code(&mut tx, code_id, 20)
        .await?
        .into_iter()
        .map(|i| InspectionView {
            deductions: deductions
                .iter()
                .filter(|d| d.inspection_id == i.id)
                .map(|d| deduction_view(d, settings.appeal_days, now))
                .collect(),
            id: i.id,
            at: i.inspected_at,
            passed: i.passed,
            notes: i.notes,
            official: i.official_name,
            photo_ids: i.photo_ids,
        })
        .collect())
}
