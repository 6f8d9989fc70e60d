//! A tenant's settings, changed by its admins.

use crate::Ctx;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppResult, FieldError, Msg};
use nightmarket_db as db;
/// A tenant's settings.
pub use nightmarket_db::settings::Settings;
use nightmarket_domain::people::Actor;

pub async fn get(ctx: &Ctx, user: &Actor) -> AppResult<Settings> {
    user.require_staff()?;
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    Ok(db::settings::get(&mut tx).await?)
}

/// The points a vendor may lose in a month before the stall is suspended: the one setting the
/// vendor's own pages show, and which anyone signed in to the tenant may know.
pub async fn monthly_points(ctx: &Ctx, user: &Actor) -> AppResult<i32> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    Ok(db::settings::get(&mut tx).await?.monthly_points)
}

/// The allowed range of each number, as the database also enforces.
const RANGES: [(&str, i32, i32); 16] = [
    ("review_deadline_hours", 1, 720),
    ("checkin_early_minutes", 0, 240),
    ("late_after_minutes", 0, 240),
    ("expiry_warning_days", 1, 90),
    ("monthly_points", 1, 100),
    ("appeal_days", 1, 60),
    ("score_threshold", 0, 100),
    ("unresolved_complaints_yellow", 1, 50),
    ("rating_prior_weight", 1, 1000),
    ("flag_same_pair", 1, 100),
    ("flag_near_count", 2, 100),
    ("flag_near_fen", 0, 100000),
    ("flag_burst_count", 2, 1000),
    ("flag_burst_minutes", 1, 240),
    ("rejected_documents_days", 30, 1095),
    ("patrol_stale_hours", 1, 168),
];

/// The most words a tenant's filter may list, and the longest word.
const MAX_FILTER_WORDS: usize = 500;
const MAX_FILTER_WORD_CHARS: usize = 20;

pub fn validate(wanted: &Settings) -> Result<Settings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let values = [
        wanted.review_deadline_hours,
        wanted.checkin_early_minutes,
        wanted.late_after_minutes,
        wanted.expiry_warning_days,
        wanted.monthly_points,
        wanted.appeal_days,
        wanted.score_threshold,
        wanted.unresolved_complaints_yellow,
        wanted.rating_prior_weight,
        wanted.flag_same_pair,
        wanted.flag_near_count,
        wanted.flag_near_fen,
        wanted.flag_burst_count,
        wanted.flag_burst_minutes,
        wanted.rejected_documents_days,
        wanted.patrol_stale_hours,
    ];
    for ((field, min, max), value) in RANGES.iter().zip(values) {
        if !(*min..=*max).contains(&value) {
            errors.push(FieldError::with(
                field,
                Msg::new("settings.range").arg("min", min).arg("max", max),
            ));
        }
    }
    let hotline = wanted.complaint_hotline.trim().to_string();
    if hotline.len() < 3 || hotline.len() > 20 || !hotline.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        errors.push(FieldError::new("complaint_hotline", "settings.hotline_format"));
    }
    let mut words: Vec<String> = wanted
        .word_filter
        .iter()
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    words.sort();
    words.dedup();
    if words.len() > MAX_FILTER_WORDS || words.iter().any(|w| w.chars().count() > MAX_FILTER_WORD_CHARS) {
        errors.push(FieldError::with(
            "word_filter",
            Msg::new("settings.word_filter_size")
                .arg("max", MAX_FILTER_WORDS)
                .arg("chars", MAX_FILTER_WORD_CHARS),
        ));
    }
    if errors.is_empty() {
        Ok(Settings {
            complaint_hotline: hotline,
            word_filter: words,
            ..wanted.clone()
        })
    } else {
        Err(errors)
    }
}

pub async fn save(ctx: &Ctx, admin: &Actor, wanted: &Settings) -> AppResult<Settings> {
    admin.require_admin()?;
    let new = validate(wanted).map_err(crate::error::AppError::Validation)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = db::settings::get(&mut tx).await?;
    db::settings::save(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("settings.update", "tenant", admin.tenant_id())
            .before(&before)
            .after(&new),
    )
    .await?;
    // The hotline and whether yellow stalls take vouchers are on every scan page of the tenant:
    // every instance drops its cached pages at commit.
    sqlx::query("select pg_notify($1, $2)")
        .bind(crate::scan::CHANNEL)
        .bind(crate::scan::ALL)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(new)
}
