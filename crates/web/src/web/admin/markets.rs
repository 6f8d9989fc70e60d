//! Tenant admin pages: overview, markets and their slots.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, AppResult, FieldError, HttpResult};
use crate::http::extract::{Form, Path, Query};
use crate::state::AppState;
use crate::web::layout::{FormErrors, Page, render};
use nightmarket_domain::market::{Category, MarketDraft, SlotRange};
use nightmarket_services::markets::{self, Market, MarketDetail, SlotInput};

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    page: Page,
    section: &'static str,
    tenant_name: String,
    market_count: usize,
    slot_count: i64,
    staff_count: usize,
}

pub async fn home(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    let markets = markets::list(&state.ctx, user.tenant_id()).await?;
    let staff = nightmarket_services::accounts::list_staff(&state.ctx, &user).await?;
    render(&HomePage {
        page,
        section: "home",
        tenant_name: user.tenant.name.clone(),
        market_count: markets.len(),
        slot_count: markets.iter().map(|m| m.slot_count).sum(),
        staff_count: staff.len(),
    })
}

#[derive(Template)]
#[template(path = "admin/markets.html")]
struct ListPage {
    page: Page,
    section: &'static str,
    markets: Vec<Market>,
    tz: Tz,
}

impl ListPage {
    fn local_time(&self, at: &DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).format("%Y-%m-%d %H:%M").to_string()
    }
}

pub async fn list(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    let markets = markets::list(&state.ctx, user.tenant_id()).await?;
    render(&ListPage {
        page,
        section: "markets",
        markets,
        tz: user.tenant.timezone,
    })
}

/// The market form as typed: every field text, so a bad number is reported, not rejected.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MarketForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    center_lat: String,
    #[serde(default)]
    center_lng: String,
    #[serde(default)]
    radius_m: String,
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
}

fn number<T: std::str::FromStr>(text: &str, field: &'static str, errors: &mut Vec<FieldError>) -> Option<T> {
    let text = text.trim();
    if text.is_empty() {
        return None; // reported as "required" by the domain check
    }
    let parsed = text.parse().ok();
    if parsed.is_none() {
        errors.push(FieldError::new(field, "form.not_a_number"));
    }
    parsed
}

impl MarketForm {
    /// The draft to validate, and the numbers that could not be read.
    fn draft(&self) -> (MarketDraft, Vec<FieldError>) {
        let mut errors = Vec::new();
        let draft = MarketDraft {
            name: self.name.clone(),
            address: self.address.clone(),
            description: self.description.clone(),
            center_lat: number(&self.center_lat, "center_lat", &mut errors),
            center_lng: number(&self.center_lng, "center_lng", &mut errors),
            radius_m: number(&self.radius_m, "radius_m", &mut errors),
            opens_at: self.opens_at.clone(),
            closes_at: self.closes_at.clone(),
        };
        (draft, errors)
    }

    /// Checks the form as a whole: unreadable numbers and the domain's rules together.
    fn checked(&self) -> AppResult<MarketDraft> {
        let (draft, mut errors) = self.draft();
        if let Err(domain) = draft.validate() {
            for e in domain {
                if !errors.iter().any(|x| x.field == e.field) {
                    errors.push(e);
                }
            }
        }
        if errors.is_empty() {
            Ok(draft)
        } else {
            Err(AppError::Validation(errors))
        }
    }

    fn from_market(m: &Market) -> MarketForm {
        MarketForm {
            name: m.name.clone(),
            address: m.address.clone(),
            description: m.description.clone(),
            center_lat: m.center_lat.to_string(),
            center_lng: m.center_lng.to_string(),
            radius_m: m.radius_m.to_string(),
            opens_at: m.opens_at.clone(),
            closes_at: m.closes_at.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/market_form.html")]
struct FormPage {
    page: Page,
    section: &'static str,
    market_id: Option<Uuid>,
    form: MarketForm,
    errors: FormErrors,
    timezone: String,
}

pub async fn new_form(page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    let form = MarketForm {
        radius_m: "300".into(),
        opens_at: "18:00".into(),
        closes_at: "23:00".into(),
        ..Default::default()
    };
    render(&FormPage {
        page,
        section: "markets",
        market_id: None,
        form,
        errors: FormErrors::default(),
        timezone: user.tenant.timezone.name().to_string(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Form(form): Form<MarketForm>,
) -> HttpResult<Response> {
    let result = match form.checked() {
        Ok(draft) => markets::create(&state.ctx, &user, &draft).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(market) => Ok(Redirect::to(&format!("/admin/markets/{}?notice=created", market.id)).into_response()),
        Err(err) => Ok(refill(page, &user, None, form, err)?),
    }
}

fn refill(
    page: Page,
    user: &AuthUser,
    market_id: Option<Uuid>,
    form: MarketForm,
    err: AppError,
) -> HttpResult<Response> {
    let (errors, refused) = FormErrors::of(page.lang, err)?;
    let html = render(&FormPage {
        page,
        section: "markets",
        market_id,
        form,
        errors,
        timezone: user.tenant.timezone.name().to_string(),
    });
    Ok(refused.page(html))
}

pub async fn edit_form(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Html<String>> {
    let detail = markets::get(&state.ctx, user.tenant_id(), id).await?;
    render(&FormPage {
        page,
        section: "markets",
        market_id: Some(id),
        form: MarketForm::from_market(&detail.market),
        errors: FormErrors::default(),
        timezone: user.tenant.timezone.name().to_string(),
    })
}

pub async fn update(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<MarketForm>,
) -> HttpResult<Response> {
    let result = match form.checked() {
        Ok(draft) => markets::update(&state.ctx, &user, id, &draft).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/markets/{id}?notice=saved")).into_response()),
        Err(err) => Ok(refill(page, &user, Some(id), form, err)?),
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SlotForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    category: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RangeForm {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    category: String,
}

#[derive(Template)]
#[template(path = "admin/market.html")]
struct MarketPage {
    page: Page,
    section: &'static str,
    tenant_slug: String,
    market: MarketDetail,
    notice: Option<String>,
    errors: FormErrors,
    slot_form: SlotForm,
    range_form: RangeForm,
    categories: [Category; 5],
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(page: &Page, code: Option<&str>) -> Option<String> {
    let key = match code? {
        "created" => "admin.notice_created",
        "saved" => "admin.notice_saved",
        "slots_added" => "admin.notice_slots_added",
        "slot_removed" => "admin.notice_slot_removed",
        _ => return None,
    };
    Some(page.t(key))
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Query(q): Query<NoticeQuery>,
) -> HttpResult<Html<String>> {
    let market = markets::get(&state.ctx, user.tenant_id(), id).await?;
    let notice = notice_text(&page, q.notice.as_deref());
    render(&MarketPage {
        page,
        section: "markets",
        tenant_slug: user.tenant.slug.clone(),
        market,
        notice,
        errors: FormErrors::default(),
        slot_form: SlotForm {
            category: "food".into(),
            ..Default::default()
        },
        range_form: RangeForm {
            from: "1".into(),
            category: "food".into(),
            ..Default::default()
        },
        categories: Category::ALL,
    })
}

/// The market page again, with the slot forms as typed and what was wrong with them.
async fn slots_failed(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    err: AppError,
    slot_form: SlotForm,
    range_form: RangeForm,
) -> HttpResult<Response> {
    let (errors, refused) = FormErrors::of(page.lang, err)?;
    let market = markets::get(&state.ctx, user.tenant_id(), id).await?;
    let html = render(&MarketPage {
        page,
        section: "markets",
        tenant_slug: user.tenant.slug.clone(),
        market,
        notice: None,
        errors,
        slot_form,
        range_form,
        categories: Category::ALL,
    });
    Ok(refused.page(html))
}

pub async fn add_slot(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<SlotForm>,
) -> HttpResult<Response> {
    let input = [SlotInput {
        code: form.code.clone(),
        category: form.category.clone(),
    }];
    match markets::add_slots(&state.ctx, &user, id, &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/markets/{id}?notice=slots_added")).into_response()),
        Err(err) => Ok(slots_failed(&state, page, &user, id, err, form, RangeForm::default()).await?),
    }
}

pub async fn add_range(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<RangeForm>,
) -> HttpResult<Response> {
    let mut errors = Vec::new();
    let from = number::<u32>(&form.from, "from", &mut errors);
    let to = number::<u32>(&form.to, "to", &mut errors);
    let result = match (from, to) {
        _ if !errors.is_empty() => Err(AppError::Validation(errors)),
        (Some(from), Some(to)) => match (SlotRange {
            prefix: form.prefix.clone(),
            from,
            to,
        })
        .codes()
        {
            Ok(codes) => {
                let input: Vec<SlotInput> = codes
                    .into_iter()
                    .map(|code| SlotInput {
                        code,
                        category: form.category.clone(),
                    })
                    .collect();
                markets::add_slots(&state.ctx, &user, id, &input).await
            }
            Err(e) => Err(AppError::Validation(e)),
        },
        _ => Err(AppError::field("to", "slot.range_invalid")),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/admin/markets/{id}?notice=slots_added")).into_response()),
        Err(err) => Ok(slots_failed(&state, page, &user, id, err, SlotForm::default(), form).await?),
    }
}

pub async fn delete_slot(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, slot)): Path<(Uuid, Uuid)>,
) -> HttpResult<Response> {
    markets::remove_slot(&state.ctx, &user, id, slot).await?;
    Ok(Redirect::to(&format!("/admin/markets/{id}?notice=slot_removed")).into_response())
}
