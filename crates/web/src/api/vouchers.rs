//! Consumption vouchers over JSON: campaigns (tenant admins), shoppers signing in, and the claim.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::auth::shopper::{self, Shopper};
use crate::error::{ErrorBody, ErrorDetail, HttpResult};
use crate::http::client::ClientIp;
use crate::http::extract::{Json, Path};
use crate::i18n::Lang;
use crate::state::AppState;
use nightmarket_domain::voucher::{Step, Terms};
use nightmarket_services::vouchers::{self, Campaign, Claimed, ClaimedVoucher, HeldVoucher, ShopperSession};

/// The tenant's campaigns (admins and officials).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/campaigns", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [Campaign]), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
) -> HttpResult<Json<Vec<Campaign>>> {
    Ok(Json(vouchers::list_all(&state.ctx, &user).await?))
}

/// A new campaign, as a draft (admins). Money in fen.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/campaigns", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = Terms,
    responses(
        (status = 201, body = Campaign, links(
            ("GetCampaign" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1campaigns~1{id}/get", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("UpdateCampaign" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1campaigns~1{id}/put", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("CampaignStep" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1campaigns~1{id}~1steps/post", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("ClaimVoucher" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1campaigns~1{id}~1claims/post", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("CampaignStats" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1campaigns~1{id}~1stats/get", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
        )),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
    Json(terms): Json<Terms>,
) -> HttpResult<(StatusCode, Json<Campaign>)> {
    Ok((
        StatusCode::CREATED,
        Json(vouchers::create(&state.ctx, &user, &terms).await?),
    ))
}

/// One campaign (staff).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/campaigns/{id}", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Campaign id")),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Campaign>> {
    Ok(Json(vouchers::get_any(&state.ctx, &user, id).await?))
}

/// Changes a campaign's terms (admins). Face value, threshold, count and limit are fixed once the
/// claim window has opened.
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/campaigns/{id}", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Campaign id")),
    request_body = Terms,
    responses(
        (status = 200, body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(terms): Json<Terms>,
) -> HttpResult<Json<Campaign>> {
    Ok(Json(vouchers::update(&state.ctx, &user, id, &terms).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StepRequest {
    pub step: Step,
}

/// Schedule (makes the vouchers), pause, resume or end a campaign (admins).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/campaigns/{id}/steps", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Campaign id")),
    request_body = StepRequest,
    responses(
        (status = 200, body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, body = ErrorBody),
    )
)]
pub async fn step(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<StepRequest>,
) -> HttpResult<Json<Campaign>> {
    Ok(Json(vouchers::step(&state.ctx, &user, id, body.step).await?))
}

/// The campaigns shoppers may see (no drafts).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/shoppers/campaigns", tag = "vouchers",
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [Campaign]), (status = 404, body = ErrorBody))
)]
pub async fn public_list(State(state): State<AppState>, Path(slug): Path<String>) -> HttpResult<Json<Vec<Campaign>>> {
    let tenant = state.ctx.tenant(&slug).await?;
    Ok(Json(vouchers::list(&state.ctx, tenant.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PhoneRequest {
    /// A mainland mobile number (+86 or 0086 may lead, spaces and dashes are ignored).
    #[schema(pattern = "^1(3[0-9]|4[5-9]|[5-9][0-9])[0-9]{8}$", example = "13912345678")]
    pub phone: String,
}

/// Sends a shopper a sign-in code by SMS.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/shoppers/code", tag = "vouchers",
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = PhoneRequest,
    responses((status = 204, description = "Sent"), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody))
)]
pub async fn send_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    Json(body): Json<PhoneRequest>,
) -> HttpResult<StatusCode> {
    let tenant = state.ctx.tenant(&slug).await?;
    vouchers::send_code(&state.ctx, &tenant, &body.phone, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    #[schema(pattern = "^1(3[0-9]|4[5-9]|[5-9][0-9])[0-9]{8}$", example = "13912345678")]
    pub phone: String,
    /// The six digits sent by SMS.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
}

/// Signs a shopper in with the code (registering the number on first use): a token for
/// `Authorization: Bearer`, also set as the `nm_shopper` cookie.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/shoppers/session", tag = "vouchers",
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = SignInRequest,
    responses((status = 200, body = ShopperSession), (status = 422, body = ErrorBody))
)]
pub async fn sign_in(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Json(body): Json<SignInRequest>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let session = vouchers::sign_in(&state.ctx, &tenant, &body.phone, &body.code).await?;
    let cookie = shopper::cookie(&state.config, session.token.clone());
    let mut response = Json(session).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// The signed-in shopper's vouchers: claimed, used, expired.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/shoppers/me/vouchers", tag = "vouchers",
    security(("shopper" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [HeldVoucher]), (status = 401, body = ErrorBody))
)]
pub async fn my_vouchers(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(_t): Path<String>,
) -> HttpResult<Json<Vec<HeldVoucher>>> {
    Ok(Json(vouchers::mine(&state.ctx, shopper.tenant, shopper.id).await?))
}

fn error(status: StatusCode, code: &str, key: &str, lang: Lang) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: lang.t(key),
                fields: Vec::new(),
            },
        }),
    )
        .into_response()
}

/// Claims a voucher. Send a client request id in `Idempotency-Key`: repeating it answers 200 with
/// the voucher it got. 201 a new voucher; 409 `limit_reached`, `closed` or `request_id_reused` (the same key on another campaign); 410 `sold_out`; 425
/// `not_open` (with Retry-After); 429 when the server sheds load (with Retry-After) — never a 5xx
/// because of the rush. A 201 or 200 is committed before it is sent.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/campaigns/{id}/claims", tag = "vouchers",
    security(("shopper" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug"),
        ("id" = Uuid, Path, description = "Campaign id"),
        ("Idempotency-Key" = String, Header, description = "The client's id for this claim (1–100 visible ASCII characters)"),
    ),
    responses(
        (status = 201, body = ClaimedVoucher),
        (status = 200, description = "The voucher this request id got before", body = ClaimedVoucher),
        (status = 400, description = "No Idempotency-Key", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The person's limit is reached, the campaign is paused or over, or the Idempotency-Key was used for a claim on another campaign", body = ErrorBody),
        (status = 410, description = "Sold out", body = ErrorBody),
        (status = 425, description = "The claim window has not opened", body = ErrorBody),
        (status = 429, description = "Shedding load: retry after the Retry-After seconds", body = ErrorBody),
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    shopper: Shopper,
    Path((_t, id)): Path<(String, Uuid)>,
    headers: HeaderMap,
) -> HttpResult<Response> {
    let lang = crate::i18n::from_headers(&headers);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = state.ctx.clock.now();
    Ok(
        match vouchers::claim(&state.ctx, shopper.tenant, id, shopper.id, key).await? {
            Claimed::Voucher { voucher, new } => {
                let status = if new { StatusCode::CREATED } else { StatusCode::OK };
                (status, Json(voucher)).into_response()
            }
            Claimed::Limit => error(StatusCode::CONFLICT, "limit_reached", "claim.limit", lang),
            Claimed::KeyReused => error(
                StatusCode::CONFLICT,
                "request_id_reused",
                "idempotency.key_reused",
                lang,
            ),
            Claimed::Closed => error(StatusCode::CONFLICT, "closed", "claim.closed", lang),
            Claimed::SoldOut => error(StatusCode::GONE, "sold_out", "claim.sold_out", lang),
            Claimed::Unknown => error(StatusCode::NOT_FOUND, "not_found", "error.not_found", lang),
            Claimed::NotYet(at) => {
                let mut r = error(StatusCode::TOO_EARLY, "not_open", "claim.not_open", lang);
                let wait = ((at - now).num_milliseconds() + 999).div_euclid(1000).clamp(1, 3600);
                if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
        },
    )
}

#[derive(Deserialize, ToSchema)]
pub struct RedeemRequest {
    /// The stall's operating code (13 characters), as its QR code names it.
    pub code: String,
    /// The bill in fen (> 0, at most 5,000,000).
    pub bill_fen: i64,
}

/// Uses the signed-in shopper's best eligible voucher on a bill at a stall (send `Idempotency-Key`;
/// repeating it answers 200 with the same redemption; the same key with another stall or bill
/// answers 409). 409 says why none could be used: the stall is not green or not trading now, no
/// voucher takes this stall, the bill is under every threshold, today's budget is spent, or
/// another redemption of the shopper's has just used the voucher.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/redemptions", tag = "vouchers",
    security(("shopper" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug"),
        ("Idempotency-Key" = String, Header, description = "The client's id for this redemption"),
    ),
    request_body = RedeemRequest,
    responses(
        (status = 201, body = vouchers::Redemption),
        (status = 200, description = "The redemption this request id made before", body = vouchers::Redemption),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such stall", body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, description = "The bill is not a sane amount", body = ErrorBody),
    )
)]
pub async fn redeem(
    State(state): State<AppState>,
    shopper: Shopper,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Json(body): Json<RedeemRequest>,
) -> HttpResult<Response> {
    let tenant = state.ctx.tenant(&slug).await?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // A missing Idempotency-Key is the request's fault whatever the code names.
    vouchers::request_key(shopper.id, key)?;
    let code = nightmarket_services::codes::by_code_text(&state.ctx, &tenant, &body.code).await?;
    let (r, new) = vouchers::redeem(&state.ctx, &tenant, &code, shopper.id, body.bill_fen, key).await?;
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(r)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct NightQuery {
    /// The business night (YYYY-MM-DD); tonight's when omitted.
    pub date: Option<chrono::NaiveDate>,
}

/// A stall's redemptions on a night (its vendor, or staff).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/codes/{id}/redemptions", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id"), NightQuery),
    responses((status = 200, body = [vouchers::Redemption]), (status = 404, body = ErrorBody))
)]
pub async fn stall_redemptions(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    crate::http::extract::Query(q): crate::http::extract::Query<NightQuery>,
) -> HttpResult<Json<Vec<vouchers::Redemption>>> {
    let night = match q.date {
        Some(d) => d,
        None => vouchers::tonight_at(&state.ctx, &user, id).await?,
    };
    Ok(Json(vouchers::of_stall(&state.ctx, &user, id, night).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReversalRequest {
    /// Why (told to the shopper and audited); 2–200 characters.
    #[schema(min_length = 2, max_length = 200, pattern = r"\S[\s\S]*\S")]
    pub reason: String,
}

/// Reverses a redemption (staff), with a reason; the voucher may be used again.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/redemptions/{id}/reversal", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Redemption id")),
    request_body = ReversalRequest,
    responses((status = 200, body = vouchers::Redemption), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn reverse(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<ReversalRequest>,
) -> HttpResult<Json<vouchers::Redemption>> {
    Ok(Json(vouchers::reverse(&state.ctx, &user, id, &body.reason).await?))
}

/// A campaign's numbers: issued, claimed, used, expired, subsidy, consumption, leverage, and how
/// fast it went (claims per 10 s over the first five minutes).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/campaigns/{id}/stats", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Campaign id")),
    responses((status = 200, body = vouchers::CampaignStats), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn stats(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<vouchers::CampaignStats>> {
    Ok(Json(vouchers::stats(&state.ctx, &user, id).await?))
}

/// Subsidy, spending and leverage by market, and the tenant's total (the last row).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/voucher-figures", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [vouchers::MarketFigures]), (status = 403, body = ErrorBody))
)]
pub async fn figures(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
) -> HttpResult<Json<Vec<vouchers::MarketFigures>>> {
    Ok(Json(vouchers::market_figures(&state.ctx, &user).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Range {
    /// First business date (YYYY-MM-DD).
    pub from: chrono::NaiveDate,
    /// Last business date, at most 366 days after `from`.
    pub to: chrono::NaiveDate,
    /// Show the payees' full names and account numbers in clear (audited as `settlement.reveal`).
    #[serde(default)]
    pub reveal: bool,
}

/// What to pay each vendor per day: vouchers used, subsidy, consumption, and whether it was settled
/// (admins).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/settlement", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), Range),
    responses((status = 200, body = [vouchers::VendorDay]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn settlement(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
    crate::http::extract::Query(r): crate::http::extract::Query<Range>,
) -> HttpResult<Json<Vec<vouchers::VendorDay>>> {
    Ok(Json(
        vouchers::settlement(&state.ctx, &user, r.from, r.to, r.reveal).await?,
    ))
}

/// Marks a vendor-day as paid (admins), recording the sums paid.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/settlement/{vendor}/{date}", tag = "vouchers",
    security(("bearer" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug"),
        ("vendor" = Uuid, Path, description = "Vendor id"),
        ("date" = chrono::NaiveDate, Path, description = "Business date"),
    ),
    responses((status = 200, body = vouchers::VendorDay), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Already settled", body = ErrorBody))
)]
pub async fn settle(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, vendor, date)): Path<(String, Uuid, chrono::NaiveDate)>,
) -> HttpResult<Json<vouchers::VendorDay>> {
    Ok(Json(vouchers::mark_settled(&state.ctx, &user, vendor, date).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FlagQuery {
    /// Only this campaign.
    pub campaign: Option<Uuid>,
}

/// Voucher fraud flags with their evidence (staff): the same shopper at the same stall too often,
/// bills repeatedly just over the threshold, a shopper whose number is a vendor's, redemptions
/// refused at stalls not trading, bursts at one stall. Thresholds are tenant settings.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/voucher-flags", tag = "vouchers",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), FlagQuery),
    responses((status = 200, body = [vouchers::Flag]), (status = 403, body = ErrorBody))
)]
pub async fn flags(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
    crate::http::extract::Query(q): crate::http::extract::Query<FlagQuery>,
) -> HttpResult<Json<Vec<vouchers::Flag>>> {
    Ok(Json(vouchers::flags(&state.ctx, &user, q.campaign).await?))
}
