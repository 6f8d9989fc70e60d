//! Stall lotteries over JSON: reading a round and its published data is public (anyone may check
//! a draw); opening, publishing and drawing need a tenant admin of the tenant in the path.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::extract::{Json, Path};
use crate::state::AppState;
use nightmarket_domain::lottery::{Published, RoundDraft};
use nightmarket_services::lottery::{self, Candidate, Round};

/// A tenant's lottery rounds, newest first.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/lotteries", tag = "lotteries",
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [Round]), (status = 404, description = "No such tenant", body = ErrorBody))
)]
pub async fn list(State(state): State<AppState>, Path(tenant): Path<String>) -> HttpResult<Json<Vec<Round>>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(lottery::list(&state.ctx, &tenant, None).await?))
}

/// One round: its list, commitment and, once drawn, its values, seed, result and where each entry
/// stands now.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/lotteries/{round}", tag = "lotteries",
    params(("tenant" = String, Path, description = "Tenant slug"), ("round" = Uuid, Path, description = "Round id")),
    responses((status = 200, body = Round), (status = 404, description = "No such tenant or round", body = ErrorBody))
)]
pub async fn get(State(state): State<AppState>, Path((tenant, id)): Path<(String, Uuid)>) -> HttpResult<Json<Round>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(lottery::get(&state.ctx, &tenant, id).await?))
}

/// The round's published data, exactly what `nightmarket lottery verify FILE` re-draws.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/lotteries/{round}/published", tag = "lotteries",
    params(("tenant" = String, Path, description = "Tenant slug"), ("round" = Uuid, Path, description = "Round id")),
    responses((status = 200, body = Published), (status = 404, description = "No such tenant or round", body = ErrorBody))
)]
pub async fn published(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Published>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(lottery::get(&state.ctx, &tenant, id).await?.published))
}

/// Slots on offer in one category.
#[derive(Deserialize, ToSchema)]
pub struct OfferBody {
    /// food, retail, culture, games or produce
    #[schema(example = "food", pattern = "^(food|retail|culture|games|produce)$")]
    pub category: String,
    #[schema(minimum = 1, maximum = 1000, example = 5)]
    pub slots: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct GroupBody {
    #[schema(example = "低收入家庭", max_length = 40)]
    pub name: String,
    /// Share of each category's slots reserved for the group, 1–100 percent.
    #[schema(minimum = 1, maximum = 100, example = 30)]
    pub share_percent: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct RoundBody {
    #[schema(example = "2027年1月摊位摇号", max_length = 100)]
    pub title: String,
    /// The first day entries are taken (local date in the tenant's zone).
    #[schema(example = "2027-01-01", format = Date)]
    pub entries_from: String,
    /// The last day entries are taken.
    #[schema(example = "2027-01-10", format = Date)]
    pub entries_until: String,
    /// How long an allocation lasts, 1–36 months.
    #[schema(minimum = 1, maximum = 36, example = 6)]
    pub term_months: i64,
    #[serde(default = "yes")]
    pub previous_winners_may_enter: bool,
    #[schema(min_items = 1, max_items = 5)]
    pub offer: Vec<OfferBody>,
    /// Priority groups in the order they are served (at most 5).
    #[serde(default)]
    #[schema(max_items = 5)]
    pub groups: Vec<GroupBody>,
}

fn yes() -> bool {
    true
}

/// Open a lottery round for a market (tenant admin). The tenant's value is drawn at random and
/// only its hash (the commitment) is shown until the draw.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/markets/{market}/lotteries", tag = "lotteries",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    request_body = RoundBody,
    responses(
        (status = 201, body = Round),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such market in your tenant", body = ErrorBody),
        (status = 422, description = "Invalid fields, or more slots offered than are free", body = ErrorBody),
    )
)]
pub async fn open(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, market)): Path<(String, Uuid)>,
    Json(body): Json<RoundBody>,
) -> HttpResult<(StatusCode, Json<Round>)> {
    let draft = RoundDraft {
        title: body.title,
        entries_from: body.entries_from,
        entries_until: body.entries_until,
        term_months: Some(body.term_months),
        previous_winners_may_enter: body.previous_winners_may_enter,
        offer: body.offer.into_iter().map(|o| (o.category, Some(o.slots))).collect(),
        groups: body
            .groups
            .into_iter()
            .map(|g| (g.name, Some(g.share_percent)))
            .collect(),
    };
    let round = lottery::open(&state.ctx, &user, market, &draft).await?;
    Ok((StatusCode::CREATED, Json(round)))
}

/// The applications that would enter if the list were published now, and why any may not
/// (staff).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/lotteries/{round}/candidates", tag = "lotteries",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("round" = Uuid, Path, description = "Round id")),
    responses(
        (status = 200, body = [Candidate]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such round in your tenant", body = ErrorBody),
    )
)]
pub async fn candidates(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Vec<Candidate>>> {
    Ok(Json(lottery::candidates(&state.ctx, &user, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PublicationBody {
    /// The priority group (its position) of each application that belongs to one; the rest enter
    /// the general pool.
    #[serde(default)]
    pub groups: HashMap<Uuid, u8>,
    /// Applications found ineligible on review, left off the list.
    #[serde(default)]
    pub excluded: HashSet<Uuid>,
}

/// Publish the round's list (tenant admin): from here it cannot change, and each entrant is told
/// their number.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/lotteries/{round}/publication", tag = "lotteries",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("round" = Uuid, Path, description = "Round id")),
    request_body = PublicationBody,
    responses(
        (status = 200, body = Round),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such round in your tenant", body = ErrorBody),
        (status = 409, description = "Already published", body = ErrorBody),
        (status = 422, description = "No entries, or an unknown group", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<PublicationBody>,
) -> HttpResult<Json<Round>> {
    Ok(Json(
        lottery::publish(&state.ctx, &user, id, &body.groups, &body.excluded).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct DrawBody {
    /// The value made in public at the draw (figures typed in by two officials, a named lottery's
    /// result), 1–200 characters.
    #[schema(example = "福彩3D 2027010期：4 7 1", min_length = 1, max_length = 200)]
    pub public_value: String,
}

/// Draw the round (tenant admin): winners are approved into slots, the rest wait in draw order.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/lotteries/{round}/draw", tag = "lotteries",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("round" = Uuid, Path, description = "Round id")),
    request_body = DrawBody,
    responses(
        (status = 200, body = Round),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such round in your tenant", body = ErrorBody),
        (status = 409, description = "Not published yet, or already drawn", body = ErrorBody),
        (status = 422, description = "No public value", body = ErrorBody),
    )
)]
pub async fn draw(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<DrawBody>,
) -> HttpResult<Json<Round>> {
    Ok(Json(lottery::draw(&state.ctx, &user, id, &body.public_value).await?))
}
