//! `/vendor/payee`: where the vendor's voucher subsidy is paid (收款账户).

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::{Form, Query};
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, Page, render};
use nightmarket_services::payees::{self, Payee};

#[derive(Template)]
#[template(path = "vendor/payee.html")]
struct PayeePage {
    page: Page,
    current: Option<Payee>,
    form: PayeeForm,
    errors: FormErrors,
    notice: Option<String>,
    clock: Clock,
}

#[derive(Default, Deserialize)]
pub struct PayeeForm {
    #[serde(default)]
    holder: String,
    #[serde(default)]
    bank: String,
    #[serde(default)]
    account: String,
}

async fn payee_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    form: PayeeForm,
    errors: FormErrors,
    notice: Option<String>,
) -> HttpResult<Html<String>> {
    let current = payees::own(&state.ctx, user).await?;
    render(&PayeePage {
        page,
        current,
        // The account number is never sent back into the form: the vendor types it again.
        form: PayeeForm {
            account: String::new(),
            ..form
        },
        errors,
        notice,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

#[derive(Deserialize)]
pub struct PayeeQuery {
    notice: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<PayeeQuery>,
) -> HttpResult<Html<String>> {
    let notice = (q.notice.as_deref() == Some("saved")).then(|| page.t("payee.saved"));
    payee_page(&state, page, &user, PayeeForm::default(), FormErrors::default(), notice).await
}

pub async fn save(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Form(form): Form<PayeeForm>,
) -> HttpResult<Response> {
    match payees::save(&state.ctx, &user, &form.holder, &form.bank, &form.account).await {
        Ok(_) => Ok(Redirect::to("/vendor/payee?notice=saved").into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = payee_page(&state, page, &user, form, errors, None).await;
            Ok(refused.page(html))
        }
    }
}
