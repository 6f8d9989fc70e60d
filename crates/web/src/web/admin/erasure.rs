//! Vendors' requests to be forgotten (PIPL art. 47): the admin's list and decision.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::{Form, Path, Query};
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, Page, render};
use nightmarket_services::erasure::{self, Request};

#[derive(Template)]
#[template(path = "admin/erasure.html")]
struct ErasurePage {
    page: Page,
    section: &'static str,
    pending: Vec<Request>,
    decided: Vec<Request>,
    clock: Clock,
    notice: Option<String>,
    errors: FormErrors,
}

impl ErasurePage {
    fn state_key(&self, state: &str) -> String {
        format!("erasure.state_{state}")
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn erasure_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    notice: Option<String>,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let all = erasure::list(&state.ctx, admin, false).await?;
    let (pending, decided) = all.into_iter().partition(|r| r.state == "pending");
    render(&ErasurePage {
        page,
        section: "erasure",
        pending,
        decided,
        clock: Clock {
            tz: admin.tenant.timezone,
        },
        notice,
        errors,
    })
}

pub async fn page(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Query(q): Query<NoticeQuery>,
) -> HttpResult<Html<String>> {
    let notice = match q.notice.as_deref() {
        Some("approved") => Some(page.t("erasure.notice_approved")),
        Some("refused") => Some(page.t("erasure.notice_refused")),
        _ => None,
    };
    erasure_page(&state, page, &admin, notice, FormErrors::default()).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

pub async fn decide(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<DecisionForm>,
) -> HttpResult<Response> {
    let approve = form.decision == "approve";
    match erasure::decide(&state.ctx, &admin, id, approve, &form.note).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/erasure?notice={}",
            if approve { "approved" } else { "refused" }
        ))
        .into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = erasure_page(&state, page, &admin, None, errors).await;
            Ok(refused.page(html))
        }
    }
}
