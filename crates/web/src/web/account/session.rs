//! Signing in and out, and changing one's own password.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{AuthUser, expired_session_cookie, session_cookie};
use crate::error::{AppError, HttpResult};
use crate::http::client::ClientIp;
use crate::http::extract::{Form, Query};
use crate::state::AppState;
use crate::web::layout::{FormErrors, NavUser, Page, form_failed, render};
use crate::web::public::markets::local_path;
use nightmarket_domain::tenant::Tenant;
use nightmarket_services::accounts::{self, Session};

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    page: Page,
    tenants: Vec<Tenant>,
    tenant: String,
    login: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    tenant: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<LoginQuery>,
) -> HttpResult<Html<String>> {
    let tenants = nightmarket_services::tenants::list(&state.ctx).await?;
    render(&LoginPage {
        page,
        tenants,
        tenant: q.tenant.unwrap_or_default(),
        login: String::new(),
        next: local_path(q.next.as_deref()),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    tenant: String,
    login: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Sets the session cookie on a response.
fn with_session(state: &AppState, mut response: Response, session: &Session) -> Response {
    let cookie = session_cookie(&state.config, session.token.clone(), state.ctx.sessions.ttl());
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn login(
    State(state): State<AppState>,
    page: Page,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> HttpResult<Response> {
    match accounts::sign_in(&state.ctx, ip, &form.tenant, &form.login, &form.password).await {
        Ok(session) => {
            let home = NavUser {
                name: session.display_name.clone(),
                role: session.role,
            }
            .home();
            let target = if session.must_change_password {
                "/account/password".to_string()
            } else if form.next.is_empty() || form.next == "/" {
                home.to_string()
            } else {
                local_path(Some(&form.next))
            };
            Ok(with_session(&state, Redirect::to(&target).into_response(), &session))
        }
        Err(err @ (AppError::BadCredentials | AppError::RateLimited { .. })) => {
            let tenants = nightmarket_services::tenants::list(&state.ctx).await?;
            let status = crate::error::status(&err);
            let message = match &err {
                AppError::RateLimited { retry_after_secs } => page.tr("login.throttled", "s", retry_after_secs),
                _ => page.t("login.invalid"),
            };
            let html = render(&LoginPage {
                page,
                tenants,
                tenant: form.tenant,
                login: form.login,
                next: local_path(Some(&form.next)),
                error: Some(message),
            })?;
            let mut response = (status, html).into_response();
            if let AppError::RateLimited { retry_after_secs } = err
                && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

/// Signs out everywhere: the account's sessions are revoked, and this browser's cookie removed.
pub async fn logout(State(state): State<AppState>, user: Option<AuthUser>) -> HttpResult<Response> {
    if let Some(user) = user {
        accounts::sign_out(&state.ctx, &user).await?;
    }
    let mut response = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&expired_session_cookie(&state.config).to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    page: Page,
    must_change: bool,
    done: bool,
    errors: FormErrors,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn password_page(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<DoneQuery>,
) -> HttpResult<Html<String>> {
    let must_change = accounts::must_change_password(&state.ctx, &user).await?;
    render(&PasswordPage {
        page,
        must_change,
        done: q.done.is_some(),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Form(form): Form<PasswordForm>,
) -> HttpResult<Response> {
    match accounts::change_password(
        &state.ctx,
        &user,
        &form.current_password,
        &form.new_password,
        &form.confirm_password,
    )
    .await
    {
        Ok(session) => {
            let response = Redirect::to("/account/password?done=1").into_response();
            Ok(with_session(&state, response, &session))
        }
        Err(err) => match FormErrors::from_error(page.lang, &err) {
            Some(errors) => {
                let html = render(&PasswordPage {
                    page,
                    must_change: false,
                    done: false,
                    errors,
                });
                Ok(form_failed(html, &err))
            }
            None => Err(err.into()),
        },
    }
}

/// `/workspace`: wherever the signed-in person works.
pub async fn workspace(user: AuthUser) -> Response {
    let AuthUser(actor) = user;
    let nav = NavUser {
        name: actor.display_name,
        role: actor.role,
    };
    Redirect::to(nav.home()).into_response()
}
