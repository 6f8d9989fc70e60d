//! The home pages of officials and vendors.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::web::layout::{Page, render};
use nightmarket_domain::code::Colour;
use nightmarket_domain::people::{Permission, Role};
use nightmarket_services::codes;
use nightmarket_services::codes::CodeRow;
use nightmarket_services::markets::{self, Market, MarketDetail};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "official/home.html")]
struct OfficialHome {
    page: Page,
    can_review: bool,
    can_inspect: bool,
    can_complaints: bool,
    tenant_name: String,
    name: String,
    permissions: Vec<Permission>,
    markets: Vec<Market>,
}

pub async fn official(State(state): State<AppState>, page: Page, user: AuthUser) -> HttpResult<Html<String>> {
    let markets = markets::list(&state.ctx, user.tenant_id()).await?;
    let permissions = if user.role == Role::Admin {
        Permission::ALL.to_vec()
    } else {
        user.permissions().to_vec()
    };
    render(&OfficialHome {
        page,
        can_review: user.has(Permission::Review),
        can_inspect: user.has(Permission::Inspect),
        can_complaints: user.has(Permission::Complaints),
        tenant_name: user.tenant.name.clone(),
        name: user.display_name.clone(),
        permissions,
        markets,
    })
}

#[derive(Template)]
#[template(path = "official/market.html")]
struct OfficialMarket {
    page: Page,
    market: MarketDetail,
    stalls: Vec<CodeRow>,
}

impl OfficialMarket {
    fn stall(&self, slot: &Uuid) -> Option<&CodeRow> {
        self.stalls.iter().find(|c| c.slot_id == *slot)
    }

    fn colour_label(&self, colour: &Colour) -> &'static str {
        colour.label_key()
    }
}

/// A market of the official's own tenant; any other market does not exist for them.
pub async fn official_market(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Html<String>> {
    let market = markets::get(&state.ctx, user.tenant_id(), id).await?;
    let stalls = codes::for_market(&state.ctx, &user.tenant, id).await?;
    render(&OfficialMarket { page, market, stalls })
}
