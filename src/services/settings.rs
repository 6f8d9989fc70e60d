//! A tenant's settings, changed by its admins.

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{self, settings::Settings};
use crate::error::{AppResult, FieldError, check};
use crate::services::audit::{self, Change};

pub async fn get(state: &AppState, user: &AuthUser) -> AppResult<Settings> {
    let mut tx = state.db.tenant(user.tenant_id()).await?;
    Ok(db::settings::get(&mut tx).await?)
}

pub async fn save(state: &AppState, admin: &AuthUser, wanted: &Settings) -> AppResult<Settings> {
    admin.require_admin()?;
    let mut errors = Vec::new();
    if !(1..=720).contains(&wanted.review_deadline_hours) {
        errors.push(FieldError::new("review_deadline_hours", "settings.deadline_range"));
    }
    let hotline = wanted.complaint_hotline.trim().to_string();
    if hotline.len() < 3 || hotline.len() > 20 || !hotline.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        errors.push(FieldError::new("complaint_hotline", "settings.hotline_format"));
    }
    check(errors)?;
    let new = Settings {
        review_deadline_hours: wanted.review_deadline_hours,
        complaint_hotline: hotline,
    };
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
