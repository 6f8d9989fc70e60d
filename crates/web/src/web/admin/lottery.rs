//! The admin's stall lotteries: opening a round for a market, publishing its list (each entrant's
//! priority group, the ineligible left off), and drawing it with the value made in public.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::{Form, Path};
use crate::state::AppState;
use crate::web::layout::{FormErrors, Page, render};
use nightmarket_domain::lottery::{MAX_GROUPS, RoundDraft};
use nightmarket_domain::market::Category;
use nightmarket_services::lottery::{self, Candidate, Round};
use nightmarket_services::markets::{self, Market};

/// The form of a new round as typed.
#[derive(Default)]
pub struct RoundForm {
    market: String,
    title: String,
    entries_from: String,
    entries_until: String,
    term_months: String,
    previous_winners_may_enter: bool,
    offer: Vec<(Category, String)>,
    groups: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin/lotteries.html")]
struct ListPage {
    page: Page,
    section: &'static str,
    tenant_slug: String,
    rounds: Vec<Round>,
    markets: Vec<Market>,
    form: RoundForm,
    errors: FormErrors,
}

fn blank_form() -> RoundForm {
    RoundForm {
        term_months: "6".into(),
        previous_winners_may_enter: true,
        offer: Category::ALL.iter().map(|c| (*c, String::new())).collect(),
        groups: (0..MAX_GROUPS).map(|_| (String::new(), String::new())).collect(),
        ..Default::default()
    }
}

async fn list_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    form: RoundForm,
    errors: FormErrors,
) -> HttpResult<Html<String>> {
    let rounds = lottery::list(&state.ctx, &user.tenant, None).await?;
    let markets = markets::list(&state.ctx, user.tenant_id()).await?;
    render(&ListPage {
        page,
        section: "lotteries",
        tenant_slug: user.tenant.slug.clone(),
        rounds,
        markets,
        form,
        errors,
    })
}

pub async fn list(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    list_page(&state, page, &user, blank_form(), FormErrors::default()).await
}

fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn number(text: &str) -> Option<i64> {
    // Unreadable counts are reported by the domain's checks as out of range.
    let t = text.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.parse().unwrap_or(-1))
    }
}

pub async fn open(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> HttpResult<Response> {
    let form = RoundForm {
        market: field(&fields, "market"),
        title: field(&fields, "title"),
        entries_from: field(&fields, "entries_from"),
        entries_until: field(&fields, "entries_until"),
        term_months: field(&fields, "term_months"),
        previous_winners_may_enter: !field(&fields, "previous_winners_may_enter").is_empty(),
        offer: Category::ALL
            .iter()
            .map(|c| (*c, field(&fields, &format!("offer.{}", c.as_str()))))
            .collect(),
        groups: (0..MAX_GROUPS)
            .map(|i| {
                (
                    field(&fields, &format!("group.{i}.name")),
                    field(&fields, &format!("group.{i}.share")),
                )
            })
            .collect(),
    };
    let draft = RoundDraft {
        title: form.title.clone(),
        entries_from: form.entries_from.clone(),
        entries_until: form.entries_until.clone(),
        term_months: number(&form.term_months),
        previous_winners_may_enter: form.previous_winners_may_enter,
        offer: form
            .offer
            .iter()
            .map(|(c, n)| (c.as_str().to_string(), number(n)))
            .collect(),
        groups: form.groups.iter().map(|(n, s)| (n.clone(), number(s))).collect(),
    };
    let result = match Uuid::parse_str(form.market.trim()) {
        Ok(market) => lottery::open(&state.ctx, &user, market, &draft).await,
        Err(_) => Err(nightmarket_services::error::AppError::field(
            "market",
            "lottery.market_required",
        )),
    };
    match result {
        Ok(round) => Ok(Redirect::to(&format!("/admin/lotteries/{}", round.id)).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            let html = list_page(&state, page, &user, form, errors).await;
            Ok(refused.page(html))
        }
    }
}

#[derive(Template)]
#[template(path = "admin/lottery.html")]
struct RoundPage {
    page: Page,
    section: &'static str,
    tenant_slug: String,
    round: Round,
    candidates: Vec<Candidate>,
    errors: FormErrors,
    public_value: String,
}

impl RoundPage {
    fn state_label(&self) -> String {
        self.page.t(&format!("lottery.state_{}", self.round.state))
    }
}

async fn round_page(
    state: &AppState,
    page: Page,
    user: &AuthUser,
    id: Uuid,
    errors: FormErrors,
    public_value: String,
) -> HttpResult<Html<String>> {
    let round = lottery::get(&state.ctx, &user.tenant, id).await?;
    let candidates = if round.state == "open" {
        lottery::candidates(&state.ctx, user, id).await?
    } else {
        Vec::new()
    };
    render(&RoundPage {
        page,
        section: "lotteries",
        tenant_slug: user.tenant.slug.clone(),
        round,
        candidates,
        errors,
        public_value,
    })
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Html<String>> {
    round_page(&state, page, &user, id, FormErrors::default(), String::new()).await
}

/// Publishes the list: `group.<application>` names a priority group, `exclude` lists the
/// applications left off.
pub async fn publish(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(fields): Form<Vec<(String, String)>>,
) -> HttpResult<Response> {
    let mut groups = HashMap::new();
    let mut excluded = HashSet::new();
    for (k, v) in &fields {
        if let Some(app) = k.strip_prefix("group.")
            && let (Ok(app), Ok(g)) = (Uuid::parse_str(app), v.trim().parse::<u8>())
        {
            groups.insert(app, g);
        } else if k == "exclude"
            && let Ok(app) = Uuid::parse_str(v)
        {
            excluded.insert(app);
        }
    }
    match lottery::publish(&state.ctx, &user, id, &groups, &excluded).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/lotteries/{id}")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            Ok(refused.page(round_page(&state, page, &user, id, errors, String::new()).await))
        }
    }
}

#[derive(serde::Deserialize)]
pub struct DrawForm {
    #[serde(default)]
    public_value: String,
}

pub async fn draw(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
    Form(form): Form<DrawForm>,
) -> HttpResult<Response> {
    match lottery::draw(&state.ctx, &user, id, &form.public_value).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/lotteries/{id}")).into_response()),
        Err(err) => {
            let (errors, refused) = FormErrors::of(page.lang, err)?;
            Ok(refused.page(round_page(&state, page, &user, id, errors, form.public_value).await))
        }
    }
}
