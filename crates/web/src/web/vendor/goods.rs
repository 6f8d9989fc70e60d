//! The vendor's goods-source declarations (进货来源): the form and the history.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::{Path, Query};
use crate::http::files::{self, document_response};
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, Page, render};
use nightmarket_services::goods::{self, Declaration, SourceView};

#[derive(Template)]
#[template(path = "vendor/goods.html")]
struct GoodsPage {
    page: Page,
    may_declare: bool,
    sources: Vec<SourceView>,
    form: Declaration,
    today: String,
    errors: FormErrors,
    notice: Option<String>,
    clock: Clock,
}

async fn goods_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    form: Declaration,
    errors: FormErrors,
    notice: Option<String>,
) -> HttpResult<Html<String>> {
    let (may_declare, sources) = goods::mine(&state.ctx, user).await?;
    let today = state
        .config
        .clock
        .now()
        .with_timezone(&user.tenant.timezone)
        .date_naive()
        .to_string();
    render(&GoodsPage {
        page,
        may_declare,
        sources,
        form: Declaration {
            received_on: if form.received_on.is_empty() {
                today.clone()
            } else {
                form.received_on
            },
            ..form
        },
        today,
        errors,
        notice,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

#[derive(Deserialize)]
pub struct GoodsQuery {
    notice: Option<String>,
}

/// `/vendor/goods`
pub async fn page(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<GoodsQuery>,
) -> HttpResult<Html<String>> {
    let notice = (q.notice.as_deref() == Some("declared")).then(|| page.t("goods.declared"));
    goods_page(
        &state,
        page,
        &user,
        Declaration::default(),
        FormErrors::default(),
        notice,
    )
    .await
}

/// Records a declaration from the form (multipart: the receipt photo is optional).
pub async fn declare(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    multipart: Multipart,
) -> HttpResult<Response> {
    let form = files::Form::read(multipart).await?;
    let d = Declaration {
        supplier: form.text("supplier").to_string(),
        place: form.text("place").to_string(),
        batch: form.text("batch").to_string(),
        received_on: form.text("received_on").to_string(),
    };
    let photo = form.files("photo").into_iter().next();
    match goods::declare(&state.ctx, &user, &d, photo.as_deref()).await {
        Ok(_) => Ok(Redirect::to("/vendor/goods?notice=declared").into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = goods_page(&state, page, &user, d, errors, None).await;
            Ok(refused.page(html))
        }
    }
}

/// A declaration's receipt photo (its vendor, or staff).
pub async fn photo(State(state): State<AppState>, user: AuthUser, Path(id): Path<Uuid>) -> HttpResult<Response> {
    let (content_type, bytes) = goods::photo(&state.ctx, &user, id).await?;
    Ok(document_response(content_type, bytes))
}
