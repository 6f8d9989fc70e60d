//! The vendor's stall page, made for a phone at the stall: tonight's check-in (打卡), check-out,
//! the credentials the code depends on with renewals, and inspections with appeals.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::sse::{Event, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use futures::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::http::files::{self, document_response};
use crate::state::AppState;
use crate::web::filters;
use crate::web::layout::{Clock, FormErrors, Page, render};
use nightmarket_domain::code::{Colour, cause};
use nightmarket_domain::credential::{Kind, month_of};
use nightmarket_services::checkins::CheckInRow;
use nightmarket_services::codes::CodeRow;
use nightmarket_services::credentials::RenewalRow;
use nightmarket_services::credentials::{self, CredentialView};
use nightmarket_services::inspections::{self, InspectionView};
use nightmarket_services::supervision::local_date;
use nightmarket_services::{checkins, codes};

#[derive(Template)]
#[template(path = "vendor/stall.html")]
struct StallPage {
    page: Page,
    /// The market's plan with the stall's slot marked.
    plan_svg: Option<String>,
    code: CodeRow,
    colour: Colour,
    causes: Vec<String>,
    night: NaiveDate,
    tonight: Option<CheckInRow>,
    recent: Vec<CheckInRow>,
    hours: String,
    early_minutes: i64,
    credentials: Vec<CredentialView>,
    renewals: Vec<RenewalRow>,
    /// The vendor's disputes of what external systems reported.
    disputes: Vec<nightmarket_services::disputes::DisputeRow>,
    kinds: [Kind; 3],
    inspections: Vec<InspectionView>,
    month_points: i64,
    allowance: i32,
    path: String,
    notice: Option<String>,
    errors: FormErrors,
    /// Which form the errors belong to (check-in, renewal, or an appeal's deduction id).
    failed: String,
    clock: Clock,
    ratings: Vec<nightmarket_services::ratings::RatingView>,
    score: Option<nightmarket_services::scores::Breakdown>,
    complaints: Vec<nightmarket_services::complaints::ComplaintView>,
    can_moderate: bool,
    can_reply: bool,
    redemptions: Vec<nightmarket_services::vouchers::Redemption>,
    /// Tonight's (scans, visitors) of the code.
    scans: (i64, i64),
}

impl StallPage {
    /// Whether a dispute of this credential's report is waiting.
    fn dispute_pending(&self, kind: &Kind) -> bool {
        self.disputes.iter().any(|d| d.kind == *kind && d.state.is_pending())
    }

    fn stars(&self, n: &i16) -> String {
        nightmarket_domain::rating::stars_text(*n)
    }

    fn one_decimal(&self, x: &f64) -> String {
        format!("{x:.1}")
    }

    fn credential_state(&self, c: &CredentialView) -> &'static str {
        credential_state(c)
    }

    fn credential_state_key(&self, c: &CredentialView) -> &'static str {
        credential_state_key(c)
    }

    fn kind_key(&self, kind: &Kind) -> &'static str {
        kind.label_key()
    }
}

/// How a credential stands, as a word for styles and tests: missing, invalid, expired, expiring, valid.
pub fn credential_state(c: &CredentialView) -> &'static str {
    match c.status {
        None => "missing",
        Some(s) if s != nightmarket_domain::credential::Status::Valid => s.as_str(),
        Some(_) if c.expiring => "expiring",
        Some(s) => s.as_str(),
    }
}

pub fn credential_state_key(c: &CredentialView) -> &'static str {
    match credential_state(c) {
        "missing" => "credential.missing",
        "expiring" => "credential.expiring",
        "invalid" => "credential.status_invalid",
        "expired" => "credential.status_expired",
        _ => "credential.status_valid",
    }
}

/// One row of the stall's redemption list: the page renders its rows with it, and the live
/// stream sends each new or reversed one the same way.
#[derive(Template)]
#[template(path = "vendor/_redemption_row.html")]
struct RedemptionRow<'a> {
    page: &'a Page,
    clock: Clock,
    r: &'a nightmarket_services::vouchers::Redemption,
}

impl RedemptionRow<'_> {}

/// The stall's redemptions as they happen (server-sent events): a `redemption` event carries the
/// rendered row of each voucher used at the stall or reversed, for its vendor (or staff).
pub async fn redemptions_live(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (code, _) = codes::detail(&state.ctx, &user, id).await?;
    let tenant = user.tenant_id();
    let clock = Clock {
        tz: user.tenant.timezone,
    };
    let live = state.ctx.live.clone();
    Ok(crate::web::layout::live_stream(&live, move |notice| {
        let state = state.clone();
        let page = page.clone();
        async move {
            if notice.tenant != tenant.0
                || notice.code != Some(code.id)
                || notice.kind != nightmarket_services::vouchers::STALL_EVENT
            {
                return None;
            }
            let id = notice.args.get("redemption")?.as_str()?.parse::<Uuid>().ok()?;
            let r = nightmarket_services::vouchers::redemption(&state.ctx, tenant, id)
                .await
                .ok()?;
            let html = RedemptionRow {
                page: &page,
                clock,
                r: &r,
            }
            .render()
            .ok()?;
            Some(Event::default().event("redemption").data(html.trim()))
        }
    })
    .await)
}

async fn stall_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    notice: Option<String>,
    errors: FormErrors,
    failed: &str,
) -> HttpResult<Html<String>> {
    let (code, causes) = codes::detail(&state.ctx, user, id).await?;
    if code.revoked_at.is_some() {
        return Err(AppError::NotFound.into());
    }
    let nights = checkins::for_stall(&state.ctx, user, &code).await?;
    let credentials = credentials::mine(&state.ctx, user).await?;
    let renewals = credentials::my_renewals(&state.ctx, user).await?;
    let disputes = nightmarket_services::disputes::mine(&state.ctx, user).await?;
    let inspections = inspections::for_code(&state.ctx, user, id).await?;
    let deductions = inspections::my_deductions(&state.ctx, user).await?;
    let month = month_of(local_date(state.ctx.clock.now(), user.tenant.timezone));
    let month_points = deductions
        .iter()
        .filter(|d| d.month == month && !d.cancelled)
        .map(|d| i64::from(d.points))
        .sum();
    let monthly_points = nightmarket_services::settings::monthly_points(&state.ctx, user).await?;
    let ratings = nightmarket_services::ratings::for_code(&state.ctx, user, id, 20).await?;
    let score = Some(nightmarket_services::scores::breakdown(&state.ctx, user, id).await?);
    let complaints = nightmarket_services::complaints::for_vendor(&state.ctx, user, id).await?;
    let redemptions = nightmarket_services::vouchers::of_stall(&state.ctx, user, id, nights.night).await?;
    let scans = nightmarket_services::scan_counts::of_night(&state.ctx, user.tenant_id(), id, nights.night).await?;
    let causes = causes
        .iter()
        .map(|k| {
            let label = page.t(cause::label_key(&k.kind));
            if k.note.is_empty() {
                label
            } else {
                format!("{label}：{}", k.note)
            }
        })
        .collect();
    let plan_svg =
        crate::web::plan::vendor_slot(state, &page, &user.tenant, code.market_id, Some(code.slot_id)).await?;
    render(&StallPage {
        plan_svg,
        ratings,
        score,
        complaints,
        can_moderate: false,
        can_reply: true,
        redemptions,
        scans,
        colour: code.colour,
        path: codes::url_path(&code),
        causes,
        night: nights.night,
        tonight: nights.tonight,
        recent: nights.recent,
        hours: nights.hours,
        early_minutes: nights.early_minutes,
        credentials,
        renewals,
        disputes,
        kinds: Kind::ALL,
        inspections,
        month_points,
        allowance: monthly_points,
        code,
        notice,
        errors,
        failed: failed.to_string(),
        clock: Clock {
            tz: user.tenant.timezone,
        },
        page,
    })
}

#[derive(Deserialize)]
pub struct StallQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<StallQuery>,
) -> HttpResult<Html<String>> {
    let notice = match q.notice.as_deref() {
        Some("checked_in") => Some(page.t("checkin.done")),
        Some("checked_in_late") => Some(page.t("checkin.done_late")),
        Some("checked_out") => Some(page.t("checkin.out_done")),
        Some("renewal") => Some(page.t("credential.renewal_sent")),
        Some("appeal") => Some(page.t("appeal.sent")),
        Some("disputed") => Some(page.t("dispute.pending")),
        Some("replied") => Some(page.t("rating.replied_notice")),
        Some("answered") => Some(page.t("complaint.answered_notice")),
        _ => None,
    };
    stall_page(&state, page, &user, id, notice, FormErrors::default(), "").await
}

/// After an action: back to the stall page with a notice, or the page again with what was wrong.
async fn done<T>(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    result: AppResult<T>,
    notice: impl FnOnce(&T) -> &'static str,
    failed: &str,
) -> HttpResult<Response> {
    match result {
        Ok(value) => Ok(Redirect::to(&format!("/vendor/stalls/{id}?notice={}", notice(&value))).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = stall_page(state, page, user, id, None, errors, failed).await;
            Ok(refused.page(html))
        }
    }
}

pub async fn check_in(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<super::PositionForm>,
) -> HttpResult<Response> {
    let result = checkins::check_in(&state.ctx, &user, id, form.lat(), form.lng(), form.accuracy()).await;
    let notice = |c: &checkins::CheckedIn| if c.late { "checked_in_late" } else { "checked_in" };
    done(&state, page, &user, id, result, notice, "checkin").await
}

pub async fn check_out(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let result = checkins::check_out(&state.ctx, &user, id).await;
    done(&state, page, &user, id, result, |_| "checked_out", "checkin").await
}

/// A renewed credential: kind, number, expires_on and a photo or scan (`file`).
pub async fn renew(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> HttpResult<Response> {
    let form = files::Form::read(multipart).await?;
    let file = form.files("file").into_iter().next().unwrap_or_default();
    let result = credentials::renew(
        &state.ctx,
        &user,
        form.text("kind"),
        form.text("number"),
        form.text("expires_on"),
        &file,
    )
    .await;
    done(&state, page, &user, id, result, |_| "renewal", "renewal").await
}

#[derive(Deserialize)]
pub struct DisputeForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
}

/// The vendor disputes an external system's report on a credential.
pub async fn dispute(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<DisputeForm>,
) -> HttpResult<Response> {
    let result = nightmarket_services::disputes::file(&state.ctx, &user, &form.kind, &form.text).await;
    done(&state, page, &user, id, result, |_| "disputed", "dispute").await
}

/// An appeal: its text and an optional photo (`photo`).
pub async fn appeal(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path((id, deduction)): Path<(Uuid, Uuid)>,
    multipart: Multipart,
) -> HttpResult<Response> {
    let form = files::Form::read(multipart).await?;
    let photo = form.files("photo").into_iter().next().unwrap_or_default();
    let result = inspections::appeal(&state.ctx, &user, deduction, form.text("text"), &photo).await;
    done(&state, page, &user, id, result, |_| "appeal", &deduction.to_string()).await
}

/// The vendor's own renewal document.
pub async fn renewal_document(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let (content_type, bytes) = credentials::renewal_document(&state.ctx, &user, id).await?;
    Ok(document_response(content_type, bytes))
}

/// The photo backing an appeal (the vendor who filed it, officials deciding appeals).
pub async fn appeal_photo(State(state): State<AppState>, user: AuthUser, Path(id): Path<Uuid>) -> HttpResult<Response> {
    let (content_type, bytes) = inspections::appeal_photo(&state.ctx, &user, id).await?;
    Ok(document_response(content_type, bytes))
}

/// A photo of an inspection of the vendor's stall (or, for officials, any in their tenant).
pub async fn inspection_photo(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let (content_type, bytes) = inspections::photo(&state.ctx, &user, id).await?;
    Ok(document_response(content_type, bytes))
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    reply: String,
    code: Uuid,
}

/// The vendor's reply to a rating, from the stall page.
pub async fn reply(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<ReplyForm>,
) -> HttpResult<Response> {
    let result = nightmarket_services::ratings::reply(&state.ctx, &user, id, &form.reply).await;
    after(&state, page, &user, form.code, result, "replied", "ratings").await
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
    code: Uuid,
}

/// The vendor's answer to a complaint, from the stall page.
pub async fn answer(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<AnswerForm>,
) -> HttpResult<Response> {
    let result = nightmarket_services::complaints::answer(&state.ctx, &user, id, &form.answer).await;
    after(&state, page, &user, form.code, result, "answered", "complaints").await
}

async fn after(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    code: Uuid,
    result: AppResult<()>,
    notice: &str,
    section: &str,
) -> HttpResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/vendor/stalls/{code}?notice={notice}#{section}")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = stall_page(state, page, user, code, None, errors, section).await;
            Ok(refused.page(html))
        }
    }
}
