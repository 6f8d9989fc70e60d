//! Public pages: the list of tenants, a tenant's markets, one market; the language switch.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::{AppError, HttpResult};
use crate::http::extract::{Path, Query};
use crate::i18n::{LANG_COOKIE, Lang};
use crate::state::AppState;
use crate::web::layout::{Page, render};
use nightmarket_domain::code::Colour;
use nightmarket_domain::tenant::Tenant;
use nightmarket_services::codes;
use nightmarket_services::markets::{self, Market, MarketDetail};

#[derive(Template)]
#[template(path = "public/home.html")]
struct HomePage {
    page: Page,
    tenants: Vec<Tenant>,
}

pub async fn home(State(state): State<AppState>, page: Page) -> HttpResult<Html<String>> {
    let tenants = nightmarket_services::tenants::list(&state.ctx).await?;
    render(&HomePage { page, tenants })
}

#[derive(Template)]
#[template(path = "public/tenant.html")]
struct TenantPage {
    page: Page,
    tenant: Tenant,
    markets: Vec<Market>,
}

pub async fn tenant(State(state): State<AppState>, page: Page, Path(slug): Path<String>) -> HttpResult<Html<String>> {
    let tenant = state.ctx.tenant(&slug).await?;
    let markets = markets::list(&state.ctx, tenant.id).await?;
    render(&TenantPage { page, tenant, markets })
}

#[derive(Template)]
#[template(path = "public/market.html")]
struct MarketPage {
    page: Page,
    tenant: Tenant,
    market: MarketDetail,
    stalls: Vec<StallLink>,
    lotteries: Vec<nightmarket_services::lottery::Round>,
}

/// An approved stall on the public market page.
struct StallLink {
    slot_id: Uuid,
    name: String,
    colour: Colour,
    path: String,
}

impl MarketPage {
    fn stall(&self, slot: &Uuid) -> Option<&StallLink> {
        self.stalls.iter().find(|s| s.slot_id == *slot)
    }
}

pub async fn market(
    State(state): State<AppState>,
    page: Page,
    Path((slug, id)): Path<(String, Uuid)>,
) -> HttpResult<Html<String>> {
    let tenant = state.ctx.tenant(&slug).await?;
    let market = markets::get(&state.ctx, tenant.id, id).await?;
    let stalls = codes::for_market(&state.ctx, &tenant, id)
        .await?
        .into_iter()
        .map(|c| StallLink {
            slot_id: c.slot_id,
            colour: c.colour,
            path: codes::url_path(&c),
            name: c.stall_name,
        })
        .collect();
    let lotteries = nightmarket_services::lottery::list(&state.ctx, &tenant, Some(id)).await?;
    render(&MarketPage {
        page,
        tenant,
        market,
        stalls,
        lotteries,
    })
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// Remembers the chosen language for a year and returns to the page it was chosen on.
pub async fn switch_lang(Path(code): Path<String>, Query(q): Query<Back>) -> HttpResult<Response> {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    let cookie = Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(time::Duration::days(365))
        .build();
    let mut response = Redirect::to(&local_path(q.back.as_deref())).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// `target` if it is a path on this site, otherwise `/` (no open redirects).
pub fn local_path(target: Option<&str>) -> String {
    match target {
        Some(t) if t.starts_with('/') && !t.starts_with("//") && !t.starts_with("/\\") && !t.contains(['\r', '\n']) => {
            t.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/t/nanan?x=1")), "/t/nanan?x=1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/a\r\nSet-Cookie: x=1",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}

#[derive(Template)]
#[template(path = "public/map.html")]
struct MapPage {
    page: Page,
    tenant: Tenant,
    map: nightmarket_services::plan::MarketMap,
    svg: String,
}

/// A market's map tonight: the plan with each stall's name, colour and state, for a phone, without
/// script; each slot leads to its stall's scan page.
pub async fn map(
    State(state): State<AppState>,
    page: Page,
    Path((slug, id)): Path<(String, Uuid)>,
) -> HttpResult<Html<String>> {
    let tenant = state.ctx.tenant(&slug).await?;
    let map = nightmarket_services::plan::public_map(&state.ctx, &tenant, id).await?;
    let svg = crate::web::plan::map(&page, &tenant.slug, "market-map", &map, None, false).html()?;
    render(&MapPage { page, tenant, map, svg })
}

#[derive(Deserialize)]
pub struct VersionQuery {
    v: Option<String>,
}

/// The picture under a market's plan. Its URL carries its hash: asked with the current one it is
/// kept for a year, otherwise for five minutes.
pub async fn map_background(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, Uuid)>,
    Query(q): Query<VersionQuery>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let (content_type, bytes, sha) = nightmarket_services::plan::background(&state.ctx, &tenant, id).await?;
    let current = q.v.as_deref().is_some_and(|v| !v.is_empty() && sha.starts_with(v));
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if current {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300"
        }),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{sha}\"")) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}
