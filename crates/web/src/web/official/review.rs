//! Officials' pages: the review queue, an application to decide, documents, and a code.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::http::files::document_response;
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, Page, render};
use crate::web::vendor::applications::{field_label, kind_label};
use nightmarket_domain::application::{AppState as AState, Decision, FIELDS};
use nightmarket_domain::code::{Colour, cause};
use nightmarket_domain::market::Category;
use nightmarket_domain::people::Permission;
use nightmarket_services::applications::{self, ApplicationView};
use nightmarket_services::codes::{CauseRow, CodeRow};
use nightmarket_services::review::{self, DecisionInput, Queue, QueueFilter, Review};
use nightmarket_services::{codes, markets};

#[derive(Template)]
#[template(path = "official/queue.html")]
struct QueuePage {
    page: Page,
    queue: Queue,
    markets: Vec<markets::Market>,
    categories: [Category; 5],
    states: [AState; 7],
    filter_market: String,
    filter_category: String,
    filter_state: String,
    clock: Clock,
    /// The time the page is drawn at, from the one clock.
    now: chrono::DateTime<chrono::Utc>,
}

impl QueuePage {
    /// "3 h 20 min left", "overdue by 2 h", or "—".
    fn left(&self, a: &ApplicationView) -> String {
        let Some(deadline) = a.deadline else {
            return "—".into();
        };
        let minutes = (deadline - self.now).num_minutes();
        let span = |m: i64| {
            let m = m.abs();
            if m >= 60 {
                self.page.tr2("review.hours_minutes", "h", m / 60, "m", m % 60)
            } else {
                self.page.tr("review.minutes", "m", m)
            }
        };
        if minutes >= 0 {
            self.page.tr("review.left", "span", span(minutes))
        } else {
            self.page.tr("review.late", "span", span(minutes))
        }
    }
}

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    market: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    state: String,
}

pub async fn queue(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<QueueQuery>,
) -> HttpResult<Html<String>> {
    let filter = QueueFilter {
        market: q.market.parse().ok(),
        category: Category::parse(&q.category),
        state: AState::parse(&q.state),
    };
    let queue = review::queue(&state.ctx, &user, &filter).await?;
    let markets = markets::list(&state.ctx, user.tenant_id()).await?;
    render(&QueuePage {
        page,
        queue,
        markets,
        categories: Category::ALL,
        states: AState::ALL,
        filter_market: q.market,
        filter_category: q.category,
        filter_state: q.state,
        clock: Clock {
            tz: user.tenant.timezone,
        },
        now: state.ctx.clock.now(),
    })
}

#[derive(Template)]
#[template(path = "official/application.html")]
struct ApplicationPage {
    page: Page,
    a: ApplicationView,
    review: Review,
    fields: [&'static str; 13],
    notice: Option<String>,
    errors: FormErrors,
    clock: Clock,
}

impl ApplicationPage {
    fn field_label(&self, field: &str) -> &'static str {
        field_label(field)
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        kind_label(kind)
    }

    fn distance(&self, metres: &f64) -> String {
        if *metres >= 1000.0 {
            self.page
                .tr("review.distance_km", "km", format!("{:.1}", metres / 1000.0))
        } else {
            self.page.tr("review.distance_m", "m", format!("{metres:.0}"))
        }
    }

    fn round(&self, x: &f64) -> String {
        format!("{x:.0}")
    }

    fn not_asked(&self, slot: &Uuid) -> bool {
        self.a.slot_id != Some(*slot)
    }

    fn claim_until(&self) -> String {
        self.a.claimed_until.map(|t| self.clock.time(&t)).unwrap_or_default()
    }

    fn action_label(&self, action: &str) -> &'static str {
        match action {
            "application.create" => "history.create",
            "application.update" => "history.update",
            "application.add_document" => "history.add_document",
            "application.remove_document" => "history.remove_document",
            "application.submit" => "history.submit",
            "application.resubmit" => "history.resubmit",
            "application.claim" => "history.claim",
            "application.approve" => "history.approve",
            "application.reject" => "history.reject",
            "application.return" => "history.return",
            "application.withdraw" => "history.withdraw",
            _ => "history.other",
        }
    }
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    reveal: Option<String>,
    notice: Option<String>,
}

fn notice_text(page: &Page, code: Option<&str>) -> Option<String> {
    let key = match code? {
        "claimed" => "review.notice_claimed",
        "decided" => "review.notice_decided",
        _ => return None,
    };
    Some(page.t(key))
}

async fn application_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    reveal: bool,
    notice: Option<String>,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let review = review::review(&state.ctx, user, id, reveal).await?;
    render(&ApplicationPage {
        page,
        a: review.application.clone(),
        review,
        fields: FIELDS,
        notice,
        errors,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

pub async fn application(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<ReviewQuery>,
) -> HttpResult<Html<String>> {
    let notice = notice_text(&page, q.notice.as_deref());
    application_page(
        &state,
        page,
        &user,
        id,
        q.reveal.is_some(),
        notice,
        FormErrors::default(),
    )
    .await
}

async fn failed(state: &AppState, page: Page, user: &AuthUser, id: Uuid, err: AppError) -> HttpResult<Response> {
    let (errors, refused) = FormErrors::of(page.lang, err)?;
    let html = application_page(state, page, user, id, false, None, errors).await;
    Ok(refused.page(html))
}

pub async fn claim(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    match review::claim(&state.ctx, &user, id).await {
        Ok(()) => Ok(Redirect::to(&format!("/official/applications/{id}?notice=claimed")).into_response()),
        Err(err) => Ok(failed(&state, page, &user, id, err).await?),
    }
}

/// The decision forms: `decision`, `version`, and `slot_id`, `reason` or `note_<field>`.
pub async fn decide(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<BTreeMap<String, String>>,
) -> HttpResult<Response> {
    let get = |k: &str| form.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let input = DecisionInput {
        decision: Decision::parse(&get("decision")).ok_or_else(|| AppError::field("decision", "decision.unknown"))?,
        version: get("version")
            .parse()
            .map_err(|_| AppError::field("version", "decision.changed"))?,
        slot_id: get("slot_id").parse().ok(),
        reason: get("reason"),
        category_override: get("category_override"),
        notes: form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("note_").map(|f| (f.to_string(), v.clone())))
            .collect(),
    };
    // Approving issues a code at once and returning sends the application back: ticked first.
    let checked = match input.decision {
        Decision::Approve | Decision::Return => crate::web::layout::confirmed(form.get("confirm").map(String::as_str)),
        Decision::Reject => Ok(()),
    };
    let result = match checked {
        Ok(()) => review::decide(&state.ctx, &user, id, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/official/applications/{id}?notice=decided")).into_response()),
        Err(err) => Ok(failed(&state, page, &user, id, err).await?),
    }
}

pub async fn document(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, doc)): Path<(Uuid, Uuid)>,
) -> HttpResult<Response> {
    let (content_type, bytes) = applications::document(&state.ctx, &user, id, doc).await?;
    Ok(document_response(content_type, bytes))
}

#[derive(Template)]
#[template(path = "official/code.html")]
struct CodePage {
    page: Page,
    code: CodeRow,
    colour: Colour,
    causes: Vec<CauseRow>,
    suspended: bool,
    can_act: bool,
    can_revoke: bool,
    path: String,
    print_path: String,
    notice: Option<String>,
    errors: FormErrors,
    clock: Clock,
    can_inspect: bool,
    problems: Vec<nightmarket_services::inspections::Problem>,
    inspections: Vec<nightmarket_services::inspections::InspectionView>,
    credentials: Vec<nightmarket_services::credentials::CredentialView>,
    nights: Option<nightmarket_services::checkins::StallNights>,
    ratings: Vec<nightmarket_services::ratings::RatingView>,
    score: Option<nightmarket_services::scores::Breakdown>,
    can_moderate: bool,
    can_reply: bool,
    goods: Vec<nightmarket_services::goods::SourceView>,
}

impl CodePage {
    fn has_unchecked_goods(&self) -> bool {
        self.goods.iter().any(|g| g.checked_at.is_none())
    }

    fn stars(&self, n: &i16) -> String {
        nightmarket_domain::rating::stars_text(*n)
    }

    fn one_decimal(&self, x: &f64) -> String {
        format!("{x:.1}")
    }

    fn cause_label(&self, kind: &str) -> &'static str {
        cause::label_key(kind)
    }

    fn credential_state_key(&self, c: &nightmarket_services::credentials::CredentialView) -> &'static str {
        crate::web::vendor::stall::credential_state_key(c)
    }
}

pub(crate) async fn code_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    notice: Option<String>,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let (code, causes) = codes::detail(&state.ctx, user, id).await?;
    let path = codes::url_path(&code);
    let can_inspect = user.has(Permission::Inspect) && code.revoked_at.is_none();
    let problems = if can_inspect {
        nightmarket_services::inspections::list_problems(&state.ctx, user)
            .await?
            .into_iter()
            .filter(|p| p.active)
            .collect()
    } else {
        Vec::new()
    };
    let inspections = nightmarket_services::inspections::for_code(&state.ctx, user, id).await?;
    let credentials = nightmarket_services::credentials::for_vendor(&state.ctx, user, code.vendor_id).await?;
    let nights = if code.revoked_at.is_none() {
        Some(nightmarket_services::checkins::for_stall(&state.ctx, user, &code).await?)
    } else {
        None
    };
    let ratings = nightmarket_services::ratings::for_code(&state.ctx, user, id, 20).await?;
    let score = if code.revoked_at.is_none() {
        Some(nightmarket_services::scores::breakdown(&state.ctx, user, id).await?)
    } else {
        None
    };
    let goods = nightmarket_services::goods::for_code(&state.ctx, user, id).await?;
    render(&CodePage {
        goods,
        ratings,
        score,
        can_moderate: user.has(Permission::Complaints),
        can_reply: false,
        can_inspect,
        problems,
        inspections,
        credentials,
        nights,
        page,
        colour: code.colour,
        suspended: causes.iter().any(|c| c.kind == cause::SUSPENDED),
        can_act: user.has(Permission::Inspect) && code.revoked_at.is_none(),
        can_revoke: user.has(Permission::Review) && code.revoked_at.is_none(),
        print_path: path.replacen('?', "/print?", 1),
        path,
        code,
        causes,
        notice,
        errors,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

#[derive(Deserialize)]
pub struct CodeQuery {
    notice: Option<String>,
}

pub async fn code(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<CodeQuery>,
) -> HttpResult<Html<String>> {
    let notice = match q.notice.as_deref() {
        Some("suspended") => Some(page.t("code.notice_suspended")),
        Some("restored") => Some(page.t("code.notice_restored")),
        Some("revoked") => Some(page.t("code.notice_revoked")),
        Some("inspected") => Some(page.t("inspection.recorded_passed")),
        Some("deducted") => Some(page.t("inspection.recorded_deducted")),
        _ => None,
    };
    code_page(&state, page, &user, id, notice, FormErrors::default()).await
}

#[derive(Deserialize)]
pub struct SuspendForm {
    #[serde(default)]
    reason: String,
    /// The revocation's confirmation checkbox.
    #[serde(default)]
    confirm: Option<String>,
}

/// After an action on a code: back to its page with a notice, or the page again with what was wrong.
async fn code_done<T>(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    result: AppResult<T>,
    notice: &str,
) -> HttpResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/official/codes/{id}?notice={notice}")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = code_page(state, page, user, id, None, errors).await;
            Ok(refused.page(html))
        }
    }
}

pub async fn suspend(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<SuspendForm>,
) -> HttpResult<Response> {
    let result = codes::suspend(&state.ctx, &user, id, &form.reason).await;
    code_done(&state, page, &user, id, result, "suspended").await
}

pub async fn revoke(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<SuspendForm>,
) -> HttpResult<Response> {
    let result = match crate::web::layout::confirmed(form.confirm.as_deref()) {
        Ok(()) => codes::revoke(&state.ctx, &user, id, &form.reason).await,
        Err(e) => Err(e),
    };
    code_done(&state, page, &user, id, result, "revoked").await
}

pub async fn restore(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let result = codes::restore(&state.ctx, &user, id).await;
    code_done(&state, page, &user, id, result, "restored").await
}
