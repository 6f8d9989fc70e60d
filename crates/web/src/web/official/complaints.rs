//! Officials' complaint pages: the queue (oldest first, time left, overdue, filters), one
//! complaint with its evidence and timeline and the steps to take, photos, and hiding a rating's
//! comment.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppResult, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::http::files::document_response;
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, Page, render};
use nightmarket_domain::complaint::{Action, Category, State as CState};
use nightmarket_services::complaints::EventRow;
use nightmarket_services::complaints::{self, ComplaintView, QueueFilter, Step};
use nightmarket_services::{markets, ratings};

#[derive(Template)]
#[template(path = "official/complaints.html")]
struct QueuePage {
    page: Page,
    items: Vec<ComplaintView>,
    markets: Vec<markets::Market>,
    categories: [Category; 8],
    states: [CState; 5],
    f_state: String,
    f_category: String,
    f_market: String,
    f_overdue: bool,
    clock: Clock,
    now: chrono::DateTime<chrono::Utc>,
}

impl QueuePage {
    fn left(&self, c: &ComplaintView) -> String {
        c.time_left(self.now, self.page.lang)
    }

    fn overdue_count(&self) -> usize {
        self.items.iter().filter(|c| c.timing.overdue).count()
    }
}

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    market: String,
    #[serde(default)]
    overdue: String,
}

pub async fn queue(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<QueueQuery>,
) -> HttpResult<Html<String>> {
    let filter = QueueFilter {
        state: (!q.state.is_empty()).then(|| q.state.clone()),
        category: (!q.category.is_empty()).then(|| q.category.clone()),
        market: q.market.parse().ok(),
        overdue: !q.overdue.is_empty(),
    };
    let items = complaints::queue(&state.ctx, &user, &filter).await?;
    render(&QueuePage {
        page,
        items,
        markets: markets::list(&state.ctx, user.tenant_id()).await?,
        categories: Category::ALL,
        states: CState::ALL,
        f_overdue: filter.overdue,
        f_state: q.state,
        f_category: q.category,
        f_market: q.market,
        clock: Clock {
            tz: user.tenant.timezone,
        },
        now: state.ctx.clock.now(),
    })
}

#[derive(Template)]
#[template(path = "official/complaint.html")]
struct ComplaintPage {
    page: Page,
    c: ComplaintView,
    events: Vec<EventRow>,
    clock: Clock,
    now: chrono::DateTime<chrono::Utc>,
    mine: bool,
    /// A supervisor: may escalate (督办).
    is_admin: bool,
    notice: Option<String>,
    errors: FormErrors,
}

impl ComplaintPage {
    fn left(&self) -> String {
        self.c.time_left(self.now, self.page.lang)
    }

    fn can(&self, action: &str) -> bool {
        let a = match action {
            "acknowledge" => Action::Acknowledge,
            "start" => Action::Start,
            "resolve" => Action::Resolve,
            _ => Action::Reject,
        };
        self.c.state.after(a).is_some()
    }

    fn event_key(&self, kind: &str) -> String {
        format!("complaint_event.{kind}")
    }

    /// Where the stall stood that night when the complaint was filed (trading, checked in before
    /// opening, checked out, absent), in words; older complaints kept only yes or no.
    fn evidence_checked_in(&self) -> String {
        let tonight = self
            .c
            .evidence
            .get("tonight")
            .cloned()
            .and_then(|v| serde_json::from_value::<nightmarket_services::ratings::Tonight>(v).ok());
        if let Some(t) = tonight {
            return self.page.t(t.then_key());
        }
        match self.c.evidence.get("checked_in").and_then(|v| v.as_bool()) {
            Some(true) => self.page.t("complaint.then_checked_in"),
            Some(false) => self.page.t("complaint.then_absent"),
            None => "—".into(),
        }
    }

    /// The code's colour when the complaint was filed, in words.
    fn evidence_colour(&self) -> String {
        self.c
            .evidence
            .get("colour")
            .and_then(|v| v.as_str())
            .and_then(nightmarket_domain::code::Colour::parse)
            .map(|c| self.page.t(c.label_key()))
            .unwrap_or_else(|| "—".into())
    }

    /// The shopper's voucher uses at the stall that night: verification code, bill and voucher.
    fn evidence_redemptions(&self) -> String {
        let uses: Vec<String> = self
            .c
            .evidence
            .get("redemptions")
            .and_then(|v| v.as_array())
            .map(|list| {
                list.iter()
                    .map(|r| {
                        let fen = |k: &str| nightmarket_domain::voucher::yuan(r[k].as_i64().unwrap_or(0));
                        let mut line = format!(
                            "{} · ¥{} · {} ¥{}",
                            r["verification"].as_str().unwrap_or("—"),
                            fen("bill_fen"),
                            self.page.t("complaint.evidence_voucher"),
                            fen("value_fen")
                        );
                        if r["reversed"].as_bool() == Some(true) {
                            line.push_str(&format!(" ({})", self.page.t("complaint.evidence_reversed")));
                        }
                        line
                    })
                    .collect()
            })
            .unwrap_or_default();
        if uses.is_empty() {
            self.page.t("complaint.evidence_none")
        } else {
            uses.join("；")
        }
    }
}

async fn complaint_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    notice: Option<String>,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let (c, events) = complaints::get(&state.ctx, user, id).await?;
    render(&ComplaintPage {
        mine: c.claimed_by_id == Some(user.id),
        is_admin: complaints::may_escalate(user),
        c,
        events,
        clock: Clock {
            tz: user.tenant.timezone,
        },
        now: state.ctx.clock.now(),
        page,
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
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> HttpResult<Html<String>> {
    let notice = match q.notice.as_deref() {
        Some("claimed") => Some(page.t("complaint.notice_claimed")),
        Some("done") => Some(page.t("complaint.notice_done")),
        _ => None,
    };
    complaint_page(&state, page, &user, id, notice, FormErrors::default()).await
}

async fn done(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    result: AppResult<()>,
    notice: &str,
) -> HttpResult<Response> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/official/complaints/{id}?notice={notice}")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = complaint_page(state, page, user, id, None, errors).await;
            Ok(refused.page(html))
        }
    }
}

pub async fn claim(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let result = complaints::claim(&state.ctx, &user, id).await;
    done(&state, page, &user, id, result, "claimed").await
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    upheld: String,
    #[serde(default)]
    note: String,
}

pub async fn step(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<StepForm>,
) -> HttpResult<Response> {
    let action = match form.action.as_str() {
        "acknowledge" => Action::Acknowledge,
        "start" => Action::Start,
        "resolve" => Action::Resolve,
        "reject" => Action::Reject,
        _ => Action::Reopen,
    };
    let step = Step {
        action,
        upheld: match form.upheld.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        note: form.note,
    };
    let result = complaints::act(&state.ctx, &user, id, &step).await.map(|_| ());
    done(&state, page, &user, id, result, "done").await
}

#[derive(Deserialize)]
pub struct EscalateForm {
    #[serde(default)]
    note: String,
}

/// A supervisor's escalation (督办).
pub async fn escalate(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<EscalateForm>,
) -> HttpResult<Response> {
    let result = complaints::escalate(&state.ctx, &user, id, &form.note)
        .await
        .map(|_| ());
    done(&state, page, &user, id, result, "done").await
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    #[serde(default)]
    result: String,
    #[serde(default)]
    note: String,
}

/// The follow-up call's result (回访).
pub async fn follow_up(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<FollowUpForm>,
) -> HttpResult<Response> {
    let result = complaints::follow_up(&state.ctx, &user, id, &form.result, &form.note)
        .await
        .map(|_| ());
    done(&state, page, &user, id, result, "done").await
}

pub async fn photo(State(state): State<AppState>, user: AuthUser, Path(id): Path<Uuid>) -> HttpResult<Response> {
    let (content_type, bytes) = complaints::photo(&state.ctx, &user, id).await?;
    Ok(document_response(content_type, bytes))
}

#[derive(Deserialize)]
pub struct ModerationForm {
    #[serde(default)]
    hidden: String,
    #[serde(default)]
    reason: String,
}

/// Hides or shows a rating's comment from the code page; back to that page.
pub async fn moderate(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<ModerationForm>,
) -> HttpResult<Response> {
    let code = ratings::code_of(&state.ctx, &user, id).await?;
    let result = ratings::moderate(&state.ctx, &user, id, form.hidden == "true", &form.reason).await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/official/codes/{code}#code-ratings")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = crate::web::official::review::code_page(&state, page, &user, code, None, errors).await;
            Ok(refused.page(html))
        }
    }
}

// ----------------------------------------------------------------------------- held ratings

#[derive(Template)]
#[template(path = "official/held_ratings.html")]
struct HeldPage {
    page: Page,
    items: Vec<ratings::HeldRating>,
    errors: FormErrors,
    clock: Clock,
}

impl HeldPage {
    fn stars(&self, n: &i16) -> String {
        nightmarket_domain::rating::stars_text(*n)
    }
}

async fn held_page(state: &AppState, page: Page, user: &AuthUser, errors: FormErrors) -> HttpResult<Html<String>> {
    let items = ratings::held(&state.ctx, user).await?;
    render(&HeldPage {
        page,
        items,
        errors,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

/// Ratings held from the score because they came in a burst, for an official to release or void.
pub async fn held(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    held_page(&state, page, &user, FormErrors::default()).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
    /// Where the form was: `held` (the queue) or `code` (the stall's page).
    #[serde(default)]
    back: String,
}

/// Releases a held rating or voids a rating's stars; back to the page the form was on.
pub async fn decide(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<DecisionForm>,
) -> HttpResult<Response> {
    let decision = match form.decision.as_str() {
        "release" => ratings::RatingDecision::Release,
        "void" => ratings::RatingDecision::Void,
        _ => return Err(crate::error::AppError::field("decision", "rating.decision_choose").into()),
    };
    let code = ratings::code_of(&state.ctx, &user, id).await?;
    let result = ratings::decide(&state.ctx, &user, id, decision, &form.note).await;
    let on_queue = form.back == "held";
    match result {
        Ok(()) if on_queue => Ok(Redirect::to("/official/ratings/held").into_response()),
        Ok(()) => Ok(Redirect::to(&format!("/official/codes/{code}#code-ratings")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = if on_queue {
                held_page(&state, page, &user, errors).await
            } else {
                crate::web::official::review::code_page(&state, page, &user, code, None, errors).await
            };
            Ok(refused.page(html))
        }
    }
}
