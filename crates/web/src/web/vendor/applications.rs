//! The vendor's pages, made for a phone: workspace, applying, the application, documents, inbox.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::http::files::{document_response, read_upload};
use crate::state::AppState;
use crate::web::layout::{Clock, FormErrors, NoticeLine, Page, notice_lines, render};
use nightmarket_domain::application::ApplicationInput;
use nightmarket_domain::code::{Colour, cause};
use nightmarket_domain::market::Category;
use nightmarket_services::applications::{self, ApplicationView, DOCUMENT_KINDS, FreeSlot};
use nightmarket_services::{codes, markets};

/// A code as the vendor's workspace shows it.
pub struct CodeCard {
    pub id: uuid::Uuid,
    pub stall_name: String,
    pub slot_code: String,
    pub market_name: String,
    pub colour: Colour,
    pub causes: Vec<String>,
    pub path: String,
    pub print_path: String,
}

#[derive(Template)]
#[template(path = "vendor/home.html")]
struct HomePage {
    page: Page,
    tenant_name: String,
    name: String,
    unread: i64,
    codes: Vec<CodeCard>,
    applications: Vec<ApplicationView>,
    notices: Vec<NoticeLine>,
    clock: Clock,
    /// After a password reset: that it was done and other devices signed out.
    notice: Option<String>,
    /// The latest request to be forgotten, if any.
    erasure: Option<nightmarket_services::erasure::Request>,
}

impl HomePage {
    fn erasure_pending(&self) -> bool {
        self.erasure.as_ref().is_some_and(|r| r.state == "pending")
    }

    fn erasure_state_key(&self, state: &str) -> String {
        format!("erasure.state_{state}")
    }
}

#[derive(Deserialize)]
pub struct HomeQuery {
    notice: Option<String>,
}

pub async fn home(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(q): Query<HomeQuery>,
) -> HttpResult<Html<String>> {
    let notice = match q.notice.as_deref() {
        Some("password_reset") => Some(page.t("reset.done")),
        Some("erasure_requested") => Some(page.t("erasure.requested")),
        _ => None,
    };
    let erasure = nightmarket_services::erasure::mine(&state.ctx, &user)
        .await?
        .into_iter()
        .next();
    let clock = Clock {
        tz: user.tenant.timezone,
    };
    let applications = applications::mine(&state.ctx, &user).await?;
    let codes = codes::for_vendor(&state.ctx, &user)
        .await?
        .into_iter()
        .filter(|(c, _)| c.revoked_at.is_none())
        .map(|(c, causes)| {
            let path = codes::url_path(&c);
            CodeCard {
                id: c.id,
                print_path: path.replacen('?', "/print?", 1),
                path,
                colour: c.colour,
                causes: causes
                    .iter()
                    .map(|k| {
                        format!(
                            "{}{}",
                            page.t(cause::label_key(&k.kind)),
                            if k.note.is_empty() {
                                String::new()
                            } else {
                                format!("：{}", k.note)
                            }
                        )
                    })
                    .collect(),
                stall_name: c.stall_name,
                slot_code: c.slot_code,
                market_name: c.market_name,
            }
        })
        .collect();
    let (notices, unread) = notice_lines(&state, page.lang, &user, 5).await?;
    render(&HomePage {
        notice,
        erasure,
        page,
        tenant_name: user.tenant.name.clone(),
        name: user.display_name.clone(),
        unread,
        codes,
        applications,
        notices,
        clock,
    })
}

#[derive(Template)]
#[template(path = "vendor/inbox.html")]
struct InboxPage {
    page: Page,
    notices: Vec<NoticeLine>,
}

pub async fn inbox(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    let (notices, _) = notice_lines(&state, page.lang, &user, 200).await?;
    render(&InboxPage { page, notices })
}

pub async fn mark_read(State(state): State<AppState>, user: AuthUser) -> HttpResult<Response> {
    nightmarket_services::notices::mark_all_read(&state.ctx, &user).await?;
    Ok(Redirect::to("/vendor/inbox").into_response())
}

#[derive(Template)]
#[template(path = "vendor/choose_market.html")]
struct ChooseMarket {
    page: Page,
    markets: Vec<markets::Market>,
}

pub async fn choose_market(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    let markets = markets::list(&state.ctx, user.tenant_id()).await?;
    render(&ChooseMarket { page, markets })
}

/// The application form as typed (every field text; the slot as its id).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AppForm {
    #[serde(default)]
    slot_id: String,
    #[serde(flatten)]
    input: ApplicationInput,
}

impl AppForm {
    fn slot(&self) -> AppResult<Option<Uuid>> {
        if self.slot_id.trim().is_empty() {
            return Ok(None);
        }
        self.slot_id
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| AppError::field("slot_id", "application.slot_unknown"))
    }
}

/// Field values for the template (`form.stall_name` …).
pub struct FormValues {
    pub slot_id: String,
    pub stall_name: String,
    pub category: String,
    pub goods: String,
    pub real_name: String,
    pub id_number: String,
    pub phone: String,
    pub uscc: String,
    pub food_licence_no: String,
    pub food_licence_expires: String,
    pub health_cert_no: String,
    pub health_cert_expires: String,
}

impl FormValues {
    fn of(slot_id: String, i: ApplicationInput) -> FormValues {
        FormValues {
            slot_id,
            stall_name: i.stall_name,
            category: i.category,
            goods: i.goods,
            real_name: i.real_name,
            id_number: i.id_number,
            phone: i.phone,
            uscc: i.uscc,
            food_licence_no: i.food_licence_no,
            food_licence_expires: i.food_licence_expires,
            health_cert_no: i.health_cert_no,
            health_cert_expires: i.health_cert_expires,
        }
    }
}

/// The masks of what is stored, shown as placeholders.
#[derive(Default)]
pub struct Stored {
    pub real_name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Template)]
#[template(path = "vendor/apply.html")]
struct ApplyPage {
    page: Page,
    market_id: Uuid,
    market_name: String,
    form: FormValues,
    stored: Stored,
    errors: FormErrors,
    categories: [Category; 5],
    free_slots: Vec<FreeSlot>,
}

impl ApplyPage {
    fn note(&self, _field: &str) -> Option<&str> {
        None
    }
}

async fn apply_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    market: Uuid,
    form: FormValues,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let detail = markets::get(&state.ctx, user.tenant_id(), market).await?;
    let free_slots = applications::free_slots_of(&state.ctx, user, market, Category::parse(&form.category)).await?;
    render(&ApplyPage {
        page,
        market_id: market,
        market_name: detail.market.name,
        form,
        stored: Stored::default(),
        errors,
        categories: Category::ALL,
        free_slots,
    })
}

pub async fn apply_form(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(market): Path<Uuid>,
) -> HttpResult<Html<String>> {
    let blank = ApplicationInput {
        category: "food".into(),
        ..Default::default()
    };
    apply_page(
        &state,
        page,
        &user,
        market,
        FormValues::of(String::new(), blank),
        FormErrors::default(),
    )
    .await
}

pub async fn apply(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(market): Path<Uuid>,
    Form(form): Form<AppForm>,
) -> HttpResult<Response> {
    let result = match form.slot() {
        Ok(slot) => applications::create(&state.ctx, &user, market, slot, &form.input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/vendor/applications/{id}?notice=saved")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = apply_page(
                &state,
                page,
                &user,
                market,
                FormValues::of(form.slot_id, form.input),
                errors,
            )
            .await;
            Ok(refused.page(html))
        }
    }
}

#[derive(Template)]
#[template(path = "vendor/application.html")]
struct ApplicationPage {
    page: Page,
    app: ApplicationView,
    form: FormValues,
    stored: Stored,
    errors: FormErrors,
    categories: [Category; 5],
    free_slots: Vec<FreeSlot>,
    document_kinds: [&'static str; 5],
    notice: Option<String>,
    clock: Clock,
    /// The market's plan with the slot asked for (or given) marked.
    plan_svg: Option<String>,
    /// The application's places in stall lotteries.
    lotteries: Vec<nightmarket_services::lottery::MyEntryRow>,
    tenant_slug: String,
}

impl ApplicationPage {
    fn lottery_state(&self, outcome: &str) -> String {
        self.page.t(&format!("lottery.outcome_{outcome}"))
    }

    fn note(&self, field: &str) -> Option<&str> {
        self.app.note(field)
    }

    fn field_label(&self, field: &str) -> &'static str {
        field_label(field)
    }

    fn kind_label(&self, kind: &str) -> &'static str {
        kind_label(kind)
    }

    fn size(&self, bytes: &i32) -> String {
        let b = f64::from(*bytes);
        if b >= 1_048_576.0 {
            format!("{:.1} MB", b / 1_048_576.0)
        } else {
            format!("{:.0} KB", (b / 1024.0).max(1.0))
        }
    }
}

/// The locale key naming an application field (for officials' notes).
pub fn field_label(field: &str) -> &'static str {
    match field {
        "stall_name" => "application.stall_name",
        "category" => "slot.category",
        "goods" => "application.goods",
        "real_name" => "application.real_name",
        "id_number" => "application.id_number",
        "phone" => "signup.phone",
        "uscc" => "application.uscc",
        "food_licence_no" => "application.food_licence_no",
        "food_licence_expires" => "application.food_licence_expires",
        "health_cert_no" => "application.health_cert_no",
        "health_cert_expires" => "application.health_cert_expires",
        "documents" => "application.documents",
        "position" => "application.position",
        _ => "application.other_field",
    }
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "id_card" => "document.kind_id_card",
        "food_licence" => "document.kind_food_licence",
        "health_cert" => "document.kind_health_cert",
        "business_licence" => "document.kind_business_licence",
        _ => "document.kind_other",
    }
}

fn notice_text(page: &Page, code: Option<&str>) -> Option<String> {
    let key = match code? {
        "saved" => "application.notice_saved",
        "uploaded" => "application.notice_uploaded",
        "removed" => "application.notice_removed",
        "submitted" => "application.notice_submitted",
        "withdrawn" => "application.notice_withdrawn",
        _ => return None,
    };
    Some(page.t(key))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn application_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    form: Option<FormValues>,
    errors: FormErrors,
    notice: Option<String>,
) -> HttpResult<Html<String>> {
    let mine = applications::one_of_mine(&state.ctx, user, id).await?;
    let form = form.unwrap_or_else(|| {
        FormValues::of(
            mine.view.slot_id.map(|s| s.to_string()).unwrap_or_default(),
            mine.prefill,
        )
    });
    let stored = Stored {
        real_name: mine.view.real_name.clone(),
        id_number: mine.view.id_number.clone(),
        phone: mine.view.phone.clone(),
    };
    let plan_svg =
        crate::web::plan::vendor_slot(state, &page, &user.tenant, mine.view.market_id, mine.view.slot_id).await?;
    let lotteries = nightmarket_services::lottery::of_my_application(&state.ctx, user, id).await?;
    render(&ApplicationPage {
        lotteries,
        tenant_slug: user.tenant.slug.clone(),
        plan_svg,
        page,
        app: mine.view,
        form,
        stored,
        errors,
        categories: Category::ALL,
        free_slots: mine.free_slots,
        document_kinds: DOCUMENT_KINDS,
        notice,
        clock: Clock {
            tz: user.tenant.timezone,
        },
    })
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> HttpResult<Html<String>> {
    let notice = notice_text(&page, q.notice.as_deref());
    application_page(&state, page, &user, id, None, FormErrors::default(), notice).await
}

/// Renders the page again with what went wrong, or passes the error on when it is not about input.
async fn failed(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    form: Option<FormValues>,
    err: AppError,
) -> HttpResult<Response> {
    let (errors, refused) = FormErrors::of(page.lang, err)?;
    let html = application_page(state, page, user, id, form, errors, None).await;
    Ok(refused.page(html))
}

pub async fn update(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<AppForm>,
) -> HttpResult<Response> {
    let result = match form.slot() {
        Ok(slot) => applications::update(&state.ctx, &user, id, slot, &form.input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/vendor/applications/{id}?notice=saved")).into_response()),
        Err(err) => Ok(failed(
            &state,
            page,
            &user,
            id,
            Some(FormValues::of(form.slot_id, form.input)),
            err,
        )
        .await?),
    }
}

pub async fn upload(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    multipart: Multipart,
) -> HttpResult<Response> {
    let result = match read_upload(multipart).await {
        Ok((kind, bytes)) => applications::add_document(&state.ctx, &user, id, &kind, &bytes)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/vendor/applications/{id}?notice=uploaded#docs-h")).into_response()),
        Err(err) => Ok(failed(&state, page, &user, id, None, err).await?),
    }
}

pub async fn delete_document(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, doc)): Path<(Uuid, Uuid)>,
    Form(form): Form<crate::web::layout::ConfirmForm>,
) -> HttpResult<Response> {
    crate::web::layout::confirmed(form.confirm())?;
    applications::remove_document(&state.ctx, &user, id, doc).await?;
    Ok(Redirect::to(&format!("/vendor/applications/{id}?notice=removed#docs-h")).into_response())
}

pub async fn document(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, doc)): Path<(Uuid, Uuid)>,
) -> HttpResult<Response> {
    let (content_type, bytes) = applications::document(&state.ctx, &user, id, doc).await?;
    Ok(document_response(content_type, bytes))
}

pub async fn submit(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<super::PositionForm>,
) -> HttpResult<Response> {
    match applications::submit(&state.ctx, &user, id, form.lat(), form.lng(), form.accuracy()).await {
        Ok(_) => Ok(Redirect::to(&format!("/vendor/applications/{id}?notice=submitted")).into_response()),
        Err(err) => Ok(failed(&state, page, &user, id, None, err).await?),
    }
}

pub async fn withdraw(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Response> {
    match applications::withdraw(&state.ctx, &user, id).await {
        Ok(()) => Ok(Redirect::to(&format!("/vendor/applications/{id}?notice=withdrawn")).into_response()),
        Err(err) => Ok(failed(&state, page, &user, id, None, err).await?),
    }
}
