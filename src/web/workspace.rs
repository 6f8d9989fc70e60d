//! The home pages of officials and vendors.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use super::layout::{Page, render};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::domain::people::{Permission, Role};
use crate::error::AppResult;
use crate::http::extract::Path;
use crate::services::markets::{self, Market, MarketDetail};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "official/home.html")]
struct OfficialHome {
    page: Page,
    tenant_name: String,
    name: String,
    permissions: Vec<Permission>,
    markets: Vec<Market>,
}

pub async fn official(State(state): State<AppState>, page: Page, user: AuthUser) -> AppResult<Html<String>> {
    user.require_staff()?;
    let markets = markets::list(&state, user.tenant_id()).await?;
    let permissions = if user.role == Role::Admin {
        Permission::ALL.to_vec()
    } else {
        user.permissions().to_vec()
    };
    render(&OfficialHome {
        page,
        tenant_name: user.tenant.name.clone(),
        name: user.display_name.clone(),
        permissions,
        markets,
    })
}

#[derive(Template)]
#[template(path = "vendor/home.html")]
struct VendorHome {
    page: Page,
    tenant_name: String,
    tenant_slug: String,
    name: String,
    markets: Vec<Market>,
}

pub async fn vendor(State(state): State<AppState>, page: Page, user: AuthUser) -> AppResult<Html<String>> {
    user.require_vendor()?;
    let markets = markets::list(&state, user.tenant_id()).await?;
    render(&VendorHome {
        page,
        tenant_name: user.tenant.name.clone(),
        tenant_slug: user.tenant.slug.clone(),
        name: user.display_name.clone(),
        markets,
    })
}

#[derive(Template)]
#[template(path = "official/market.html")]
struct OfficialMarket {
    page: Page,
    market: MarketDetail,
}

/// A market of the official's own tenant; any other market does not exist for them.
pub async fn official_market(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> AppResult<Html<String>> {
    user.require_staff()?;
    let market = markets::get(&state, user.tenant_id(), id).await?;
    render(&OfficialMarket { page, market })
}
