//! The numbers for a statistics platform (统计直报): the same figures as the dashboards, their
//! tables, the records behind them, and each market's public record.

use axum::extract::State;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::exports::Table;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use crate::web::layout::Page;
use nightmarket_services::numbers::{self, Dashboard, PublicStats, RangeQuery};

/// A tenant's (or, with `market`, one market's) figures over a range of business nights.
///
/// Nights are the markets' business nights in the tenant's zone (a night that runs past midnight
/// belongs to the date it started). Money is in fen; ratios are strings with fixed decimals.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/numbers", tag = "numbers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), RangeQuery),
    responses(
        (status = 200, body = Dashboard),
        (status = 403, description = "Not an admin or official", body = ErrorBody),
        (status = 404, description = "No such market", body = ErrorBody),
        (status = 422, description = "Unknown range, malformed date, range reversed, in the future or over 366 nights", body = ErrorBody),
    )
)]
pub async fn dashboard(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
    Query(q): Query<RangeQuery>,
) -> HttpResult<Json<Dashboard>> {
    Ok(Json(numbers::dashboard(&state.ctx, &user, &q).await?))
}

/// One table of the dashboard (`nights`, `markets`, `complaint_categories`, `complaint_states`,
/// `colours`, `red_causes`, `application_states`) or the records behind it over the range
/// (`applications`, `complaints`, `inspections`, and for admins `settlements`), as columns and
/// text rows — the same as the CSV download of the page. Personal data is masked.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/numbers/tables/{name}", tag = "numbers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("name" = String, Path, description = "Table name"), RangeQuery),
    responses(
        (status = 200, body = Table),
        (status = 403, description = "Not an admin or official (settlements: not an admin)", body = ErrorBody),
        (status = 404, description = "No such table or market", body = ErrorBody),
        (status = 422, description = "Bad range", body = ErrorBody),
    )
)]
pub async fn table(
    State(state): State<AppState>,
    page: Page,
    TenantUser(user): TenantUser,
    Path((_t, name)): Path<(String, String)>,
    Query(q): Query<RangeQuery>,
) -> HttpResult<Json<Table>> {
    Ok(Json(
        crate::exports::by_name(&state, page.lang, &user, &name, &q).await?,
    ))
}

/// A market's public record over the last 30 nights: stalls by category, average score, ratings,
/// complaints and the share closed on time, vouchers used and leverage. Anonymised: no person and
/// no stall appears. No sign-in needed.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/markets/{market}/stats", tag = "numbers",
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    responses(
        (status = 200, body = PublicStats),
        (status = 404, description = "No such tenant or market", body = ErrorBody),
    )
)]
pub async fn public_stats(
    State(state): State<AppState>,
    Path((tenant, market)): Path<(String, Uuid)>,
) -> HttpResult<Json<PublicStats>> {
    Ok(Json(numbers::public_stats(&state.ctx, &tenant, market).await?))
}
