//! Tenant admin: API keys for external systems (the health-status feed) and the inspection scheme.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, HttpResult};
use crate::http::extract::{Form, Path};
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, Page, render};
use nightmarket_services::credentials::{self, ApiKey};
use nightmarket_services::inspections;
use nightmarket_services::inspections::Problem;

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct KeysPage {
    page: Page,
    section: &'static str,
    keys: Vec<ApiKey>,
    /// A key just made: (key id, secret), shown this once.
    created: Option<(String, String)>,
    endpoint: String,
    errors: FormErrors,
    clock: Clock,
}

async fn keys_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    created: Option<(String, String)>,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let keys = credentials::api_keys(&state.ctx, admin).await?;
    let endpoint = state
        .ctx
        .absolute_url(&format!("/api/v1/t/{}/credential-events", admin.tenant.slug));
    render(&KeysPage {
        page,
        section: "keys",
        keys,
        created,
        endpoint,
        errors,
        clock: Clock {
            tz: admin.tenant.timezone,
        },
    })
}

pub async fn keys(State(state): State<AppState>, page: Page, admin: AuthUser) -> HttpResult<Html<String>> {
    keys_page(&state, page, &admin, None, FormErrors::default()).await
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    name: String,
}

/// Makes a key and shows its secret on this response only (never again, never in a URL).
pub async fn create_key(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<NewKeyForm>,
) -> HttpResult<Response> {
    match credentials::new_api_key(&state.ctx, &admin, &form.name).await {
        Ok((key, secret)) => {
            let html = keys_page(&state, page, &admin, Some((key.key_id, secret)), FormErrors::default()).await?;
            let mut response = html.into_response();
            response.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(response)
        }
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = keys_page(&state, page, &admin, None, errors).await;
            Ok(refused.page(html))
        }
    }
}

pub async fn revoke_key(State(state): State<AppState>, admin: AuthUser, Path(id): Path<Uuid>) -> HttpResult<Response> {
    credentials::revoke_api_key(&state.ctx, &admin, id).await?;
    Ok(Redirect::to("/admin/api-keys").into_response())
}

#[derive(Template)]
#[template(path = "admin/problems.html")]
struct ProblemsPage {
    page: Page,
    section: &'static str,
    problems: Vec<Problem>,
    errors: FormErrors,
    saved: bool,
}

async fn problems_page(
    state: &AppState,
    page: Page,
    admin: &AuthUser,
    errors: FormErrors,
    saved: bool,
) -> HttpResult<Html<String>> {
    let problems = inspections::list_problems(&state.ctx, admin).await?;
    render(&ProblemsPage {
        page,
        section: "problems",
        problems,
        errors,
        saved,
    })
}

#[derive(Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: bool,
}

pub async fn problems(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    crate::http::extract::Query(q): crate::http::extract::Query<SavedQuery>,
) -> HttpResult<Html<String>> {
    problems_page(&state, page, &admin, FormErrors::default(), q.saved).await
}

#[derive(Deserialize)]
pub struct ProblemForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    points: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    active: Option<String>,
}

pub async fn save_problem(
    State(state): State<AppState>,
    page: Page,
    admin: AuthUser,
    Form(form): Form<ProblemForm>,
) -> HttpResult<Response> {
    let result = match form.points.trim().parse::<i32>() {
        Ok(points) => {
            let p = Problem {
                code: form.code,
                label: form.label,
                points,
                active: form.active.is_some(),
            };
            inspections::save_problem(&state.ctx, &admin, &p).await
        }
        Err(_) => Err(AppError::field("points", "form.not_a_number")),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/admin/problems?saved=true").into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = problems_page(&state, page, &admin, errors, false).await;
            Ok(refused.page(html))
        }
    }
}
