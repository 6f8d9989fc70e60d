//! A tenant's settings, changed by its admins.

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{self, settings::Settings};
use crate::error::{AppResult, FieldError, Msg};
use crate::services::audit::{self, Change};

pub async fn get(state: &AppState, user: &AuthUser) -> AppResult<Settings> {
    let mut tx = state.db.tenant(user.tenant_id()).await?;
    Ok(db::settings::get(&mut tx).await?)
}

/// The allowed range of each number, as the database also enforces.
const RANGES: [(&str, i32, i32); 6] = [
    ("review_deadline_hours", 1, 720),
    ("checkin_early_minutes", 0, 240),
    ("late_after_minutes", 0, 240),
    ("expiry_warning_days", 1, 90),
    ("monthly_points", 1, 100),
    ("appeal_days", 1, 60),
];

pub fn validate(wanted: &Settings) -> Result<Settings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let values = [
        wanted.review_deadline_hours,
        wanted.checkin_early_minutes,
        wanted.late_after_minutes,
        wanted.expiry_warning_days,
        wanted.monthly_points,
        wanted.appeal_days,
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
    if errors.is_empty() {
        Ok(Settings {
            complaint_hotline: hotline,
            ..wanted.clone()
        })
    } else {
        Err(errors)
    }
}

pub async fn save(state: &AppState, admin: &AuthUser, wanted: &Settings) -> AppResult<Settings> {
    admin.require_admin()?;
    let new = validate(wanted).map_err(crate::error::AppError::Validation)?;
    let mut tx = state.db.tenant(admin.tenant_id()).await?;
    let before = db::settings::get(&mut tx).await?;
    db::settings::save(&mut tx, &new).await?;
    audit::record(
        &mut tx,
        &admin.actor(),
        Change::new("settings.update", "tenant", admin.tenant_id())
            .before(&before)
            .after(&new),
    )
    .await?;
    tx.commit().await?;
    Ok(new)
}
