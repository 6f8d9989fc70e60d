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
use nightmarket_domain::plan::{LandmarkDraft, PlanDraft};
use nightmarket_services::markets::{self, Market, MarketDetail, Slot, SlotInput};
use nightmarket_services::plan::{self, MarketMap, Plan};

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

/// A market's plan: the grid, every slot's place (null: not on the plan), the landmarks (public).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/markets/{market}/plan", tag = "markets",
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    responses((status = 200, body = Plan), (status = 404, description = "No such tenant or market", body = ErrorBody))
)]
pub async fn plan(State(state): State<AppState>, Path((tenant, id)): Path<(String, Uuid)>) -> HttpResult<Json<Plan>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(plan::get(&state.ctx, &tenant, id).await?))
}

/// A slot's place on the plan, in cells from the top-left corner.
#[derive(Deserialize, ToSchema)]
pub struct PlacedSlotBody {
    #[schema(example = "A-01")]
    pub code: String,
    #[schema(minimum = 0, maximum = 119)]
    pub x: i64,
    #[schema(minimum = 0, maximum = 119)]
    pub y: i64,
    #[schema(minimum = 1, maximum = 20)]
    pub w: i64,
    #[schema(minimum = 1, maximum = 20)]
    pub h: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct LandmarkBody {
    /// entrance, exit, toilet, service_desk, first_aid, parking or other (which needs a label)
    #[schema(
        example = "entrance",
        pattern = "^(entrance|exit|toilet|service_desk|first_aid|parking|other)$"
    )]
    pub kind: String,
    #[serde(default)]
    #[schema(example = "北入口", max_length = 40)]
    pub label: String,
    #[schema(minimum = 0, maximum = 119)]
    pub x: i64,
    #[schema(minimum = 0, maximum = 119)]
    pub y: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct PlanBody {
    /// The plan's version this one was made from (from GET); a plan saved meanwhile answers 409.
    /// Absent: whatever is there is replaced.
    pub version: Option<i32>,
    #[schema(minimum = 4, maximum = 120, example = 24)]
    pub columns: i64,
    #[schema(minimum = 4, maximum = 120, example = 12)]
    pub rows: i64,
    /// The placed slots; a slot of the market not listed is taken off the plan.
    #[schema(max_items = 2000)]
    pub slots: Vec<PlacedSlotBody>,
    #[serde(default)]
    #[schema(max_items = 60)]
    pub landmarks: Vec<LandmarkBody>,
}

/// Replace a market's plan (tenant admin): the grid, the slots' places, the landmarks.
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/markets/{market}/plan", tag = "markets",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    request_body = PlanBody,
    responses(
        (status = 200, body = Plan),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such market in your tenant", body = ErrorBody),
        (status = 409, description = "The plan was saved by someone else since `version`", body = ErrorBody),
        (status = 422, description = "A slot outside the grid, overlapping another or unknown; a landmark outside or on a slot", body = ErrorBody),
    )
)]
pub async fn save_plan(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    Json(body): Json<PlanBody>,
) -> HttpResult<Json<Plan>> {
    let draft = PlanDraft {
        columns: Some(body.columns),
        rows: Some(body.rows),
        slots: body
            .slots
            .into_iter()
            .map(|s| (s.code, Some([s.x, s.y, s.w, s.h])))
            .collect(),
        landmarks: body
            .landmarks
            .into_iter()
            .map(|l| LandmarkDraft {
                kind: l.kind,
                label: l.label,
                x: Some(l.x),
                y: Some(l.y),
            })
            .collect(),
    };
    Ok(Json(plan::save(&state.ctx, &user, id, body.version, &draft).await?))
}

/// A market's map tonight: the placed slots with the stall on each (name, colour, whether it is
/// trading, its scan page), the landmarks and the night's counts (public).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/markets/{market}/map", tag = "markets",
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    responses((status = 200, body = MarketMap), (status = 404, description = "No such tenant or market", body = ErrorBody))
)]
pub async fn map(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<MarketMap>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    Ok(Json(plan::public_map(&state.ctx, &tenant, id).await?))
}

/// The upload form of a plan's picture: `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct BackgroundUpload {
    /// JPEG or PNG, at most 2 MB; the content is checked, not the name.
    #[schema(format = Binary, value_type = String)]
    pub file: Vec<u8>,
}

/// Put a picture of the street under a market's plan (tenant admin), replacing the one before.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/markets/{market}/plan/background", tag = "markets",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    request_body(content = BackgroundUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = Plan),
        (status = 400, description = "Not a multipart form", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such market in your tenant", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "No file, not JPEG/PNG, or over 2 MB", body = ErrorBody),
    )
)]
pub async fn upload_background(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
    multipart: axum::extract::Multipart,
) -> HttpResult<Json<Plan>> {
    let (_, bytes) = crate::http::files::read_upload(multipart).await?;
    Ok(Json(plan::set_background(&state.ctx, &user, id, &bytes).await?))
}

/// Take the picture away from under a market's plan (tenant admin).
#[utoipa::path(
    delete, path = "/api/v1/t/{tenant}/markets/{market}/plan/background", tag = "markets",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id")),
    responses(
        (status = 200, body = Plan),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a tenant admin", body = ErrorBody),
        (status = 404, description = "No such market in your tenant, or no picture", body = ErrorBody),
    )
)]
pub async fn remove_background(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_tenant, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Plan>> {
    Ok(Json(plan::remove_background(&state.ctx, &user, id).await?))
}
