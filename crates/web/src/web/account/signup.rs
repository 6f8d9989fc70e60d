//! Vendors sign up on a phone: their number, the code sent to it, a password.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::session_cookie;
use crate::error::HttpResult;
use crate::http::client::ClientIp;
use crate::http::extract::{Form, Path};
use crate::state::AppState;
use crate::web::layout::{FormErrors, Page, form_failed, render};
use nightmarket_domain::people::Phone;
use nightmarket_domain::tenant::Tenant;
use nightmarket_services::vendors;

#[derive(Template)]
#[template(path = "vendor/signup.html")]
struct SignupPage {
    page: Page,
    tenant: Tenant,
    /// A forgotten password's reset rather than a sign-up (the same two steps).
    reset: bool,
    step: u8,
    phone: String,
    phone_masked: String,
    errors: FormErrors,
}

pub async fn page(State(state): State<AppState>, page: Page, Path(slug): Path<String>) -> HttpResult<Html<String>> {
    let tenant = state.ctx.tenant(&slug).await?;
    render(&SignupPage {
        page,
        tenant,
        reset: false,
        step: 1,
        phone: String::new(),
        phone_masked: String::new(),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    phone: String,
}

/// Step one: send the code, then show the form for it.
pub async fn send_code(
    State(state): State<AppState>,
    page: Page,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Form(form): Form<PhoneForm>,
) -> HttpResult<Response> {
    first_step(&state, page, ip, &slug, form.phone, false).await
}

/// Step one of a sign-up or a reset: the code to the number, then the form for it and a password;
/// or the number's form again with what was wrong.
async fn first_step(
    state: &AppState,
    page: Page,
    ip: std::net::IpAddr,
    slug: &str,
    phone: String,
    reset: bool,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(slug).await?;
    let sent = if reset {
        vendors::request_reset_code(&state.ctx, &tenant, &phone, ip).await
    } else {
        vendors::request_code(&state.ctx, &tenant, &phone, ip).await
    };
    match sent {
        Ok(phone) => Ok(render(&SignupPage {
            page,
            tenant,
            reset,
            step: 2,
            phone: phone.as_str().to_string(),
            phone_masked: phone.masked(),
            errors: FormErrors::default(),
        })?
        .into_response()),
        Err(err) => {
            let Some(errors) = FormErrors::from_error(page.lang, &err).or_else(|| rate_limited(&page, &err)) else {
                return Err(err.into());
            };
            let html = render(&SignupPage {
                page,
                tenant,
                reset,
                step: 1,
                phone,
                phone_masked: String::new(),
                errors,
            });
            Ok(form_failed(html, &err))
        }
    }
}

/// Signed in with the new session, on to `to`.
fn signed_in(state: &AppState, session: nightmarket_services::accounts::Session, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    let cookie = session_cookie(&state.config, session.token, state.ctx.sessions.ttl());
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The code-and-password step again, with what was wrong.
fn second_step_failed(
    page: Page,
    tenant: Tenant,
    reset: bool,
    phone: String,
    err: crate::error::AppError,
) -> HttpResult<Response> {
    let (errors, refused) = FormErrors::of(page.lang, err)?;
    let phone_masked = Phone::parse(&phone).map(|p| p.masked()).unwrap_or_default();
    let html = render(&SignupPage {
        page,
        tenant,
        reset,
        step: 2,
        phone,
        phone_masked,
        errors,
    });
    Ok(refused.page(html))
}

fn rate_limited(page: &Page, err: &crate::error::AppError) -> Option<FormErrors> {
    match err {
        crate::error::AppError::RateLimited { retry_after_secs } => Some(FormErrors::new(
            page.lang,
            &[crate::error::FieldError::with(
                "phone",
                crate::error::Msg::new("signup.wait").arg("s", retry_after_secs),
            )],
        )),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm_password: String,
}

/// Step two: the code and a password; signed in as the new vendor.
pub async fn verify(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
    Form(form): Form<VerifyForm>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    match vendors::sign_up(
        &state.ctx,
        &tenant,
        &form.phone,
        &form.code,
        &form.password,
        &form.confirm_password,
    )
    .await
    {
        Ok(session) => Ok(signed_in(&state, session, "/vendor")),
        Err(err) => Ok(second_step_failed(page, tenant, false, form.phone, err)?),
    }
}

// ------------------------------------------------------------------------------ forgotten password

/// `/t/{tenant}/reset`: a vendor who forgot their password gives the number.
pub async fn reset_page(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
) -> HttpResult<Html<String>> {
    let tenant = state.ctx.tenant(&slug).await?;
    render(&SignupPage {
        page,
        tenant,
        reset: true,
        step: 1,
        phone: String::new(),
        phone_masked: String::new(),
        errors: FormErrors::default(),
    })
}

/// Step one of a reset: the code to a registered number, then the form for it and a new password.
pub async fn reset_code(
    State(state): State<AppState>,
    page: Page,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Form(form): Form<PhoneForm>,
) -> HttpResult<Response> {
    first_step(&state, page, ip, &slug, form.phone, true).await
}

/// Step two of a reset: the code and the new password; signed in again, every other session ended.
pub async fn reset_verify(
    State(state): State<AppState>,
    page: Page,
    Path(slug): Path<String>,
    Form(form): Form<VerifyForm>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    match vendors::reset_password(
        &state.ctx,
        &tenant,
        &form.phone,
        &form.code,
        &form.password,
        &form.confirm_password,
    )
    .await
    {
        Ok(session) => Ok(signed_in(&state, session, "/vendor?notice=password_reset")),
        Err(err) => Ok(second_step_failed(page, tenant, true, form.phone, err)?),
    }
}
