//! Officials' supervision pages: a market's night (open, late, absent), recording an inspection,
//! appeals and renewals to decide, the notice list, and the live notice stream (server-sent
//! events) that every staff page listens to.

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
use crate::error::{AppError, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::http::files::{self, document_response};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, NoticeLine, Page, form_failed, render};
use nightmarket_domain::credential::Kind;
use nightmarket_services::checkins::{self, Night, Presence};
use nightmarket_services::credentials::RenewalRow;
use nightmarket_services::inspections::AppealRow;
use nightmarket_services::{credentials, inspections, notices};

#[derive(Template)]
#[template(path = "official/night.html")]
struct NightPage {
    page: Page,
    night: Night,
    previous: NaiveDate,
    next: NaiveDate,
    clock: Clock,
}

impl NightPage {
    fn presence_key(&self, p: &Presence) -> &'static str {
        match p {
            Presence::Open => "night.open",
            Presence::Left => "night.left",
            Presence::Absent if !self.night.opened => "night.not_yet",
            Presence::Absent => "night.absent",
        }
    }

    fn presence(&self, p: &Presence) -> &'static str {
        match p {
            Presence::Open => "open",
            Presence::Left => "left",
            Presence::Absent => "absent",
        }
    }
}

#[derive(Deserialize)]
pub struct NightQuery {
    #[serde(default)]
    date: String,
}

/// A market's night: every approved stall, open now, late or absent, with counts.
pub async fn night(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<NightQuery>,
) -> HttpResult<Html<String>> {
    let date = match q.date.trim() {
        "" => None,
        d => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| AppError::field("date", "application.date_format"))?,
        ),
    };
    let night = checkins::night(&state.ctx, &user, id, date).await?;
    render(&NightPage {
        previous: night.date - chrono::Duration::days(1),
        next: night.date + chrono::Duration::days(1),
        night,
        clock: Clock {
            tz: user.tenant.timezone,
        },
        page,
    })
}

/// Records an inspection: problems found (checkboxes `problem`), notes, photos (`photo`).
pub async fn inspect(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> HttpResult<Response> {
    let form = files::Form::read(multipart).await?;
    // Problems deduct points at once (and may turn the code red): ticked first.
    let problems = form.all("problem");
    if !problems.is_empty()
        && let Err(err) = crate::web::layout::confirmed(Some(form.text("confirm_deduction")))
    {
        let errors = FormErrors::from_error(page.lang, &err).unwrap_or_default();
        let html = crate::web::official::review::code_page(&state, page, &user, id, None, errors).await;
        return Ok(form_failed(html, &err));
    }
    let result = inspections::record(
        &state.ctx,
        &user,
        id,
        &problems,
        form.text("notes"),
        &form.files("photo"),
        &form
            .all("goods_checked")
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect::<Vec<_>>(),
    )
    .await;
    match result {
        Ok((recorded, _)) => {
            let notice = if recorded.passed { "inspected" } else { "deducted" };
            Ok(Redirect::to(&format!("/official/codes/{id}?notice={notice}")).into_response())
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = crate::web::official::review::code_page(&state, page, &user, id, None, errors).await;
            Ok(refused.page(html))
        }
    }
}

#[derive(Template)]
#[template(path = "official/appeals.html")]
struct AppealsPage {
    page: Page,
    appeals: Vec<AppealRow>,
    all: bool,
    notice: Option<String>,
    errors: FormErrors,
    failed: Option<Uuid>,
    clock: Clock,
    /// The viewer, to tell their own deductions apart.
    me: Uuid,
    /// Nobody else in the district may decide appeals, so the viewer may decide their own.
    sole: bool,
}

impl AppealsPage {
    /// Whether the viewer recorded this deduction and someone else should decide its appeal.
    fn for_another(&self, a: &AppealRow) -> bool {
        a.inspector_id == self.me && !self.sole
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    all: bool,
    notice: Option<String>,
}

async fn appeals_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    all: bool,
    notice: Option<String>,
    errors: FormErrors,
    failed: Option<Uuid>,
) -> HttpResult<Html<String>> {
    let appeals = inspections::appeals(&state.ctx, user, !all).await?;
    let sole = inspections::sole_decider(&state.ctx, user).await?;
    render(&AppealsPage {
        me: user.id,
        sole,
        page,
        appeals,
        all,
        notice,
        errors,
        failed,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

pub async fn appeals(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> HttpResult<Html<String>> {
    let notice = q.notice.as_deref().map(|n| match n {
        "cancelled" => page.t("appeal.done_cancelled"),
        _ => page.t("appeal.done_upheld"),
    });
    appeals_page(&state, page, &user, q.all, notice, FormErrors::default(), None).await
}

#[derive(Deserialize)]
pub struct VerdictForm {
    /// "cancel" or "uphold" (appeals); "accept" or "refuse" (renewals); "uphold" or "reject" (disputes).
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    reason: String,
}

impl VerdictForm {
    /// Whether the official chose `yes` (true) or `no` (false); anything else is refused.
    fn is(&self, yes: &str, no: &str) -> HttpResult<bool> {
        match self.verdict.as_str() {
            v if v == yes => Ok(true),
            v if v == no => Ok(false),
            _ => Err(AppError::field("verdict", "appeal.verdict_missing").into()),
        }
    }
}

pub async fn decide_appeal(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<VerdictForm>,
) -> HttpResult<Response> {
    let cancel = form.is("cancel", "uphold")?;
    match inspections::decide_appeal(&state.ctx, &user, id, cancel, &form.reason).await {
        Ok(_) => {
            let notice = if cancel { "cancelled" } else { "upheld" };
            Ok(Redirect::to(&format!("/official/appeals?notice={notice}")).into_response())
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = appeals_page(&state, page, &user, false, None, errors, Some(id)).await;
            Ok(refused.page(html))
        }
    }
}

#[derive(Template)]
#[template(path = "official/renewals.html")]
struct RenewalsPage {
    page: Page,
    renewals: Vec<RenewalRow>,
    /// Vendors' disputes of what an external system reported.
    disputes: Vec<nightmarket_services::disputes::DisputeRow>,
    all: bool,
    notice: Option<String>,
    errors: FormErrors,
    failed: Option<Uuid>,
    clock: Clock,
}

impl RenewalsPage {
    fn kind_key(&self, kind: &Kind) -> &'static str {
        kind.label_key()
    }

    /// A credential's status in words; nothing when the feed's event is unknown.
    fn status_text(&self, status: &Option<nightmarket_domain::credential::Status>) -> String {
        status.map(|s| self.page.t(s.label_key())).unwrap_or_default()
    }
}

async fn renewals_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    all: bool,
    notice: Option<String>,
    errors: FormErrors,
    failed: Option<Uuid>,
) -> HttpResult<Html<String>> {
    let renewals = credentials::renewals(&state.ctx, user, !all).await?;
    let disputes = nightmarket_services::disputes::list(&state.ctx, user, !all).await?;
    render(&RenewalsPage {
        disputes,
        page,
        renewals,
        all,
        notice,
        errors,
        failed,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

pub async fn renewals(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<ListQuery>,
) -> HttpResult<Html<String>> {
    let notice = q.notice.as_deref().map(|n| match n {
        "accepted" => page.t("credential.done_accepted"),
        "disputed" => page.t("dispute.done"),
        _ => page.t("credential.done_refused"),
    });
    renewals_page(&state, page, &user, q.all, notice, FormErrors::default(), None).await
}

pub async fn decide_renewal(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<VerdictForm>,
) -> HttpResult<Response> {
    let accept = form.is("accept", "refuse")?;
    match credentials::decide_renewal(&state.ctx, &user, id, accept, &form.reason).await {
        Ok(_) => {
            let notice = if accept { "accepted" } else { "refused" };
            Ok(Redirect::to(&format!("/official/renewals?notice={notice}")).into_response())
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = renewals_page(&state, page, &user, false, None, errors, Some(id)).await;
            Ok(refused.page(html))
        }
    }
}

/// An official decides a vendor's dispute of a feed's report: `verdict` uphold or reject.
pub async fn decide_dispute(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<VerdictForm>,
) -> HttpResult<Response> {
    let uphold = form.is("uphold", "reject")?;
    match nightmarket_services::disputes::decide(&state.ctx, &user, id, uphold, &form.reason).await {
        Ok(_) => Ok(Redirect::to("/official/renewals?notice=disputed#disputes").into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = renewals_page(&state, page, &user, false, None, errors, Some(id)).await;
            Ok(refused.page(html))
        }
    }
}

pub async fn renewal_document(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    let (content_type, bytes) = credentials::renewal_document(&state.ctx, &user, id).await?;
    Ok(document_response(content_type, bytes))
}

#[derive(Template)]
#[template(path = "official/notices.html")]
struct NoticesPage {
    page: Page,
    notices: Vec<NoticeLine>,
}

/// The staff member's notices (the live ones land here too, so they survive a reload).
pub async fn notices_list(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    let (notices, _) = crate::web::layout::notice_lines(&state, page.lang, &user, 200).await?;
    render(&NoticesPage { page, notices })
}

pub async fn notices_read(State(state): State<AppState>, user: AuthUser) -> HttpResult<Response> {
    nightmarket_services::notices::mark_all_read(&state.ctx, &user).await?;
    Ok(Redirect::to("/official/notices").into_response())
}

/// The live notice stream of the signed-in staff member's tenant, as server-sent events. The
/// first event (`ready`) says the stream is live; each `notice` event carries
/// `{"text", "link", "kind", "at"}` in the reader's language.
pub async fn events(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
) -> HttpResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let tenant = user.tenant_id().0;
    let lang: Lang = page.lang;
    Ok(crate::web::layout::live_stream(&state.ctx.live, move |n| {
        let event = (n.tenant == tenant && n.code.is_none() && n.permission.is_none_or(|p| user.has(p))).then(|| {
            let text = notices::render(lang, &n.kind, &n.args);
            let body = serde_json::json!({ "text": text, "link": n.link, "kind": n.kind, "at": n.at });
            Event::default().event("notice").data(body.to_string())
        });
        std::future::ready(event)
    })
    .await)
}
