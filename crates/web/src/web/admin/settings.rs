//! Tenant admin: settings (deadlines, hotline, check-in and penalty rules) and code-signing keys.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, FieldError, HttpResult};
use crate::http::extract::{Form, Query};
use crate::state::AppState;
use crate::web::layout::{FormErrors, Page, render};
use nightmarket_domain::complaint::{CategoryRules, Deadlines};
use nightmarket_services::codes::{self, KeyDocument};
use nightmarket_services::complaints::CalendarDay;
use nightmarket_services::settings;
use nightmarket_services::settings::Settings;

/// The settings form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    review_deadline_hours: String,
    #[serde(default)]
    complaint_hotline: String,
    #[serde(default)]
    checkin_early_minutes: String,
    #[serde(default)]
    late_after_minutes: String,
    #[serde(default)]
    expiry_warning_days: String,
    #[serde(default)]
    monthly_points: String,
    #[serde(default)]
    appeal_days: String,
    #[serde(default)]
    score_threshold: String,
    #[serde(default)]
    unresolved_complaints_yellow: String,
    #[serde(default)]
    rating_prior_weight: String,
    /// One word a line (or separated by commas).
    #[serde(default)]
    word_filter: String,
    #[serde(default)]
    flag_same_pair: String,
    #[serde(default)]
    flag_near_count: String,
    #[serde(default)]
    flag_near_fen: String,
    #[serde(default)]
    flag_burst_count: String,
    #[serde(default)]
    flag_burst_minutes: String,
    #[serde(default)]
    rejected_documents_days: String,
    #[serde(default)]
    patrol_stale_hours: String,
    /// A checkbox: present ("on") when ticked.
    #[serde(default)]
    vouchers_at_yellow: Option<String>,
}

impl SettingsForm {
    fn of(s: &Settings) -> SettingsForm {
        SettingsForm {
            review_deadline_hours: s.review_deadline_hours.to_string(),
            complaint_hotline: s.complaint_hotline.clone(),
            checkin_early_minutes: s.checkin_early_minutes.to_string(),
            late_after_minutes: s.late_after_minutes.to_string(),
            expiry_warning_days: s.expiry_warning_days.to_string(),
            monthly_points: s.monthly_points.to_string(),
            appeal_days: s.appeal_days.to_string(),
            score_threshold: s.score_threshold.to_string(),
            unresolved_complaints_yellow: s.unresolved_complaints_yellow.to_string(),
            rating_prior_weight: s.rating_prior_weight.to_string(),
            word_filter: s.word_filter.join("\n"),
            flag_same_pair: s.flag_same_pair.to_string(),
            flag_near_count: s.flag_near_count.to_string(),
            flag_near_fen: s.flag_near_fen.to_string(),
            flag_burst_count: s.flag_burst_count.to_string(),
            flag_burst_minutes: s.flag_burst_minutes.to_string(),
            rejected_documents_days: s.rejected_documents_days.to_string(),
            patrol_stale_hours: s.patrol_stale_hours.to_string(),
            vouchers_at_yellow: s.vouchers_at_yellow.then(|| "on".to_string()),
        }
    }

    fn parse(&self) -> AppResult<Settings> {
        let mut errors = Vec::new();
        let mut n = |field: &'static str, text: &str| match text.trim().parse::<i32>() {
            Ok(v) => v,
            Err(_) => {
                errors.push(FieldError::new(field, "form.not_a_number"));
                0
            }
        };
        let s = Settings {
            review_deadline_hours: n("review_deadline_hours", &self.review_deadline_hours),
            complaint_hotline: self.complaint_hotline.clone(),
            checkin_early_minutes: n("checkin_early_minutes", &self.checkin_early_minutes),
            late_after_minutes: n("late_after_minutes", &self.late_after_minutes),
            expiry_warning_days: n("expiry_warning_days", &self.expiry_warning_days),
            monthly_points: n("monthly_points", &self.monthly_points),
            appeal_days: n("appeal_days", &self.appeal_days),
            score_threshold: n("score_threshold", &self.score_threshold),
            unresolved_complaints_yellow: n("unresolved_complaints_yellow", &self.unresolved_complaints_yellow),
            rating_prior_weight: n("rating_prior_weight", &self.rating_prior_weight),
            word_filter: nightmarket_domain::rating::parse_word_list(&self.word_filter),
            flag_same_pair: n("flag_same_pair", &self.flag_same_pair),
            flag_near_count: n("flag_near_count", &self.flag_near_count),
            flag_near_fen: n("flag_near_fen", &self.flag_near_fen),
            flag_burst_count: n("flag_burst_count", &self.flag_burst_count),
            flag_burst_minutes: n("flag_burst_minutes", &self.flag_burst_minutes),
            rejected_documents_days: n("rejected_documents_days", &self.rejected_documents_days),
            patrol_stale_hours: n("patrol_stale_hours", &self.patrol_stale_hours),
            vouchers_at_yellow: self.vouchers_at_yellow.is_some(),
        };
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(AppError::Validation(errors))
        }
    }

    /// (field, label key, hint key, value) for the template.
    fn fields(&self) -> Vec<(&'static str, &'static str, &'static str, &str)> {
        vec![
            (
                "review_deadline_hours",
                "settings.review_deadline",
                "settings.review_deadline_hint",
                &self.review_deadline_hours,
            ),
            (
                "complaint_hotline",
                "settings.hotline",
                "settings.hotline_hint",
                &self.complaint_hotline,
            ),
            (
                "checkin_early_minutes",
                "settings.checkin_early",
                "settings.checkin_early_hint",
                &self.checkin_early_minutes,
            ),
            (
                "late_after_minutes",
                "settings.late_after",
                "settings.late_after_hint",
                &self.late_after_minutes,
            ),
            (
                "expiry_warning_days",
                "settings.expiry_warning",
                "settings.expiry_warning_hint",
                &self.expiry_warning_days,
            ),
            (
                "monthly_points",
                "settings.monthly_points",
                "settings.monthly_points_hint",
                &self.monthly_points,
            ),
            (
                "appeal_days",
                "settings.appeal_days",
                "settings.appeal_days_hint",
                &self.appeal_days,
            ),
            (
                "score_threshold",
                "settings.score_threshold",
                "settings.score_threshold_hint",
                &self.score_threshold,
            ),
            (
                "unresolved_complaints_yellow",
                "settings.unresolved_complaints",
                "settings.unresolved_complaints_hint",
                &self.unresolved_complaints_yellow,
            ),
            (
                "rating_prior_weight",
                "settings.prior_weight",
                "settings.prior_weight_hint",
                &self.rating_prior_weight,
            ),
            (
                "flag_same_pair",
                "settings.flag_same_pair",
                "settings.flag_same_pair_hint",
                &self.flag_same_pair,
            ),
            (
                "flag_near_count",
                "settings.flag_near_count",
                "settings.flag_near_count_hint",
                &self.flag_near_count,
            ),
            (
                "flag_near_fen",
                "settings.flag_near_fen",
                "settings.flag_near_fen_hint",
                &self.flag_near_fen,
            ),
            (
                "flag_burst_count",
                "settings.flag_burst_count",
                "settings.flag_burst_count_hint",
                &self.flag_burst_count,
            ),
            (
                "flag_burst_minutes",
                "settings.flag_burst_minutes",
                "settings.flag_burst_minutes_hint",
                &self.flag_burst_minutes,
            ),
            (
                "rejected_documents_days",
                "settings.rejected_documents_days",
                "settings.rejected_documents_days_hint",
                &self.rejected_documents_days,
            ),
            (
                "patrol_stale_hours",
                "settings.patrol_stale_hours",
                "settings.patrol_stale_hours_hint",
                &self.patrol_stale_hours,
            ),
        ]
    }
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    page: Page,
    section: &'static str,
    tenant_slug: String,
    form: SettingsForm,
    keys: KeyDocument,
    notice: Option<String>,
    errors: FormErrors,
    deadlines: Vec<CategoryRules>,
    calendar: Vec<CalendarDay>,
}

async fn settings_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    form: SettingsForm,
    errors: FormErrors,
    notice: Option<String>,
) -> HttpResult<Html<String>> {
    let keys = codes::key_document(&state.ctx, &admin.tenant).await?;
    let deadlines = nightmarket_services::complaints::deadlines(&state.ctx, admin).await?;
    let calendar = nightmarket_services::complaints::calendar(&state.ctx, admin, &admin.tenant).await?;
    render(&SettingsPage {
        deadlines,
        calendar,
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
) -> HttpResult<Html<String>> {
    let s = settings::get(&state.ctx, &admin).await?;
    let notice = match q.notice.as_deref() {
        Some("saved") => Some(page.t("admin.notice_saved")),
        Some("rotated") => Some(page.t("settings.notice_rotated")),
        Some("deadlines" | "calendar") => Some(page.t("admin.notice_saved")),
        _ => None,
    };
    settings_page(
        &state,
        page,
        &admin,
        SettingsForm::of(&s),
        FormErrors::default(),
        notice,
    )
    .await
}

pub async fn save(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<SettingsForm>,
) -> HttpResult<Response> {
    let result = match form.parse() {
        Ok(s) => settings::save(&state.ctx, &admin, &s).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/settings?notice=saved").into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = settings_page(&state, page, &admin, form, errors, None).await;
            Ok(refused.page(html))
        }
    }
}

pub async fn rotate_key(State(state): State<AppState>, admin: AuthUser) -> HttpResult<Response> {
    codes::rotate(&state.ctx, &admin).await?;
    Ok(Redirect::to("/admin/settings?notice=rotated").into_response())
}

#[derive(Deserialize)]
pub struct DeadlineForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    ack_hours: String,
    #[serde(default)]
    resolve_days: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    working_days: Option<String>,
    #[serde(default)]
    gbt_code: String,
}

/// One category's complaint deadlines and GB/T code.
pub async fn save_deadlines(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<DeadlineForm>,
) -> HttpResult<Response> {
    let parsed = match (form.ack_hours.trim().parse(), form.resolve_days.trim().parse()) {
        (Ok(ack_hours), Ok(resolve_days)) => Ok(Deadlines {
            ack_hours,
            resolve_days,
            working_days: form.working_days.is_some(),
        }),
        _ => Err(AppError::field("ack_hours", "form.not_a_number")),
    };
    let result = match parsed {
        Ok(d) => {
            nightmarket_services::complaints::set_deadlines(&state.ctx, &admin, &form.category, d, &form.gbt_code).await
        }
        Err(e) => Err(e),
    };
    settings_saved(&state, page, &admin, result, "deadlines").await
}

/// After a settings form of the lower sections: back to its section, or the page with the
/// form's errors.
async fn settings_saved(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    result: Result<(), AppError>,
    section: &str,
) -> HttpResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/settings?notice={section}#{section}")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let s = settings::get(&state.ctx, admin).await?;
            let html = settings_page(state, page, admin, SettingsForm::of(&s), errors, None).await;
            Ok(refused.page(html))
        }
    }
}

#[derive(Deserialize)]
pub struct CalendarForm {
    #[serde(default)]
    day: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

/// Lists a holiday or an adjusted working day.
pub async fn add_calendar_day(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<CalendarForm>,
) -> HttpResult<Response> {
    let result = nightmarket_services::complaints::set_calendar_day(
        &state.ctx,
        &admin,
        &admin.tenant,
        &form.day,
        &form.kind,
        &form.name,
    )
    .await
    .map(|_| ());
    settings_saved(&state, page, &admin, result, "calendar").await
}

/// Takes a day off the calendar.
pub async fn remove_calendar_day(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<CalendarForm>,
) -> HttpResult<Response> {
    let result = nightmarket_services::complaints::remove_calendar_day(&state.ctx, &admin, &form.day).await;
    settings_saved(&state, page, &admin, result, "calendar").await
}
