//! Tenants, markets and slots over JSON. Reading is public; changing needs a tenant admin of the
//! tenant named in the path (anyone else's tenant answers 404, as if it did not exist).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::extract::{Json, Path};
use crate::state::AppState;
use nightmarket_domain::market::MarketDraft;
use nightmarket_services::markets::{self, Market, MarketDetail, Slot, SlotInput};

#[derive(Serialize, ToSchema)]
pub struct TenantSummary {
    #[schema(example = "nanan")]
    pub slug: String,
    #[schema(example = "重庆市南岸区")]
    pub name: String,
    #[schema(example = "Asia/Shanghai")]
    pub timezone: String,
}

/// The tenants on this platform.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "markets", responses((status = 200, body = [TenantSummary])))]
pub async fn tenants(State(state): State<AppState>) -> HttpResult<Json<Vec<TenantSummary>>> {
    let list = nightmarket_services::tenants::list(&state.ctx).await?;
    Ok(Json(
        list.into_iter()
            .map(|t| TenantSummary {
                slug: t.slug,
                name: t.name,
                timezone: t.timezone.name().to_string(),
            })
            .collect(),
    ))
}

/// A tenant's markets.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/markets", tag = "markets",
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [Market]), (status = 404, description = "No such tenant", body = ErrorBody))
)]
pub async fn list(State(state): State<AppState>, Path(tenant): Path<String>) -> HttpResult<Json<Vec<Market>>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(markets::list(&state.ctx, tenant.id).await?))
}

/// One market with its slots.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/markets/{market}", tag = "markets",
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    responses((status = 200, body = MarketDetail), (status = 404, description = "No such tenant or market", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<MarketDetail>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(markets::get(&state.ctx, tenant.id, id).await?))
}

/// A market as sent by a client. Numbers may be absent (reported as required), never strings.
#[derive(Deserialize, ToSchema)]
pub struct MarketInput {
    #[schema(example = "金辉铜元道数字化便民夜市")]
    pub name: String,
    #[schema(example = "重庆市南岸区南滨路铜元道")]
    pub address: String,
    #[serde(default)]
    pub description: String,
    #[schema(example = 29.54841, required = true, nullable = false, minimum = -90, maximum = 90)]
    pub center_lat: Option<f64>,
    #[schema(example = 106.58103, required = true, nullable = false, minimum = -180, maximum = 180)]
    pub center_lng: Option<f64>,
    /// 10–5000 metres.
    #[schema(example = 300, required = true, nullable = false, minimum = 10, maximum = 5000)]
    pub radius_m: Option<i64>,
    /// "HH:MM", local time in the tenant's zone.
    #[schema(example = "18:00")]
    pub opens_at: String,
    /// "HH:MM"; earlier than `opens_at` for a market that runs past midnight.
    #[schema(example = "02:00")]
    pub closes_at: String,
}

impl From<MarketInput> for MarketDraft {
    fn from(m: MarketInput) -> MarketDraft {
        MarketDraft {
            name: m.name,
            address: m.address,
            description: m.description,
            center_lat: m.center_lat,
            center_lng: m.center_lng,
            radius_m: m.radius_m,
            opens_at: m.opens_at,
            closes_at: m.closes_at,
        }
    }
}

/// Create a market (tenant admin).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/markets", tag = "markets",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = MarketInput,
    responses(
        (status = 201, body = Market, links(
            ("GetMarket" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1markets~1{market}/get", parameters(("tenant" = "$request.path.tenant"), ("market" = "$response.body#/id")))),
            ("UpdateMarket" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1markets~1{market}/put", parameters(("tenant" = "$request.path.tenant"), ("market" = "$response.body#/id")))),
            ("AddSlots" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1markets~1{market}~1slots/post", parameters(("tenant" = "$request.path.tenant"), ("market" = "$response.body#/id")))),
            ("MarketStalls" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1markets~1{market}~1stalls/get", parameters(("tenant" = "$request.path.tenant"), ("market" = "$response.body#/id")))),
        )),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "Not your tenant", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_tenant): Path<String>,
    Json(body): Json<MarketInput>,
) -> HttpResult<(StatusCode, Json<Market>)> {
    let market = markets::create(&state.ctx, &user, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(market)))
}

/// Replace a market's details (tenant admin).
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/markets/{market}", tag = "markets",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    request_body = MarketInput,
    responses(
        (status = 200, body = Market),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such market in your tenant", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<MarketInput>,
) -> HttpResult<Json<Market>> {
    Ok(Json(markets::update(&state.ctx, &user, id, &body.into()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SlotBody {
    /// Letters, digits and single hyphens, at most 16 (taken in upper case).
    #[schema(example = "A-01", pattern = r"^\s*[A-Za-z0-9]+(-[A-Za-z0-9]+)*\s*$")]
    pub code: String,
    /// food, retail, culture, games or produce
    #[schema(example = "food", pattern = "^(food|retail|culture|games|produce)$")]
    pub category: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AddSlotsRequest {
    /// 1–200 slots; a code may appear once, and not already be in the market.
    #[schema(min_items = 1, max_items = 200)]
    pub slots: Vec<SlotBody>,
}

/// Add slots to a market (tenant admin). All or none are added.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/markets/{market}/slots", tag = "markets",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    request_body = AddSlotsRequest,
    responses(
        (status = 201, body = [Slot]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such market in your tenant", body = ErrorBody),
        (status = 409, description = "A code is already in use in this market", body = ErrorBody),
        (status = 422, description = "Invalid code or category", body = ErrorBody),
    )
)]
pub async fn add_slots(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<AddSlotsRequest>,
) -> HttpResult<(StatusCode, Json<Vec<Slot>>)> {
    if body.slots.len() > nightmarket_domain::market::MAX_SLOTS_PER_REQUEST as usize {
        return Err(crate::error::AppError::field("slots", "slot.too_many").into());
    }
    let input: Vec<SlotInput> = body
        .slots
        .into_iter()
        .map(|s| SlotInput {
            code: s.code,
            category: s.category,
        })
        .collect();
    let slots = markets::add_slots(&state.ctx, &user, id, &input).await?;
    Ok((StatusCode::CREATED, Json(slots)))
}

/// Remove a slot (tenant admin).
#[utoipa::path(
    delete, path = "/api/v1/t/{tenant}/markets/{market}/slots/{slot}", tag = "markets",
    security(("bearer" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug"),
        ("market" = Uuid, Path, description = "Market id"),
        ("slot" = Uuid, Path, description = "Slot id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such slot in your tenant", body = ErrorBody),
    )
)]
pub async fn delete_slot(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id, slot)): Path<(String, Uuid, Uuid)>,
) -> HttpResult<StatusCode> {
    markets::remove_slot(&state.ctx, &user, id, slot).await?;
    Ok(StatusCode::NO_CONTENT)
}
