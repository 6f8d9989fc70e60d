//! Tenant admin: settings (review deadline, hotline) and the code-signing keys.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::layout::{FormErrors, Page, form_failed, render};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::settings::Settings;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Form, Query};
use crate::services::codes::{self, KeyDocument};
use crate::services::settings;

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    page: Page,
    section: &'static str,
    tenant_slug: String,
    form: (String, String),
    keys: KeyDocument,
    notice: Option<String>,
    errors: FormErrors,
}

async fn settings_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    form: (String, String),
    errors: FormErrors,
    notice: Option<String>,
) -> AppResult<Html<String>> {
    let keys = codes::key_document(state, &admin.tenant).await?;
    render(&SettingsPage {
        page,
        section: "settings",
        tenant_slug: admin.tenant.slug.clone(),
        form,
        keys,
        notice,
        errors,
    })
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Html<String>> {
    admin.require_admin()?;
    let s = settings::get(&state, &admin).await?;
    let notice = match q.notice.as_deref() {
        Some("saved") => Some(page.t("admin.notice_saved")),
        Some("rotated") => Some(page.t("settings.notice_rotated")),
        _ => None,
    };
    settings_page(
        &state,
        page,
        &admin,
        (s.review_deadline_hours.to_string(), s.complaint_hotline),
        FormErrors::default(),
        notice,
    )
    .await
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    review_deadline_hours: String,
    #[serde(default)]
    complaint_hotline: String,
}

pub async fn save(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    admin.require_admin()?;
    let result = match form.review_deadline_hours.trim().parse::<i32>() {
        Ok(hours) => settings::save(
            &state,
            &admin,
            &Settings {
                review_deadline_hours: hours,
                complaint_hotline: form.complaint_hotline.clone(),
            },
        )
        .await
        .map(|_| ()),
        Err(_) => Err(AppError::field("review_deadline_hours", "form.not_a_number")),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/settings?notice=saved").into_response()),
        Err(err) => {
            let Some(errors) = FormErrors::from_error(page.lang, &err) else {
                return Err(err);
            };
            let html = settings_page(
                &state,
                page,
                &admin,
                (form.review_deadline_hours, form.complaint_hotline),
                errors,
                None,
            )
            .await;
            Ok(form_failed(html, &err))
        }
    }
}

pub async fn rotate_key(State(state): State<AppState>, admin: AuthUser) -> AppResult<Response> {
    admin.require_admin()?;
    let mut tx = state.db.tenant(admin.tenant_id()).await?;
    codes::rotate_key(&mut tx, &state.keys, &admin.tenant, &admin.actor()).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/settings?notice=rotated").into_response())
}
