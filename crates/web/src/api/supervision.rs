//! Supervision over JSON: check-in, a market's night, credentials and the external credential
//! feed, renewals, inspections, deductions and appeals, and the tenant's API keys.

use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{AppError, ErrorBody, HttpResult};
use crate::http::extract::{Json, Path, Query};
use crate::http::files;
use crate::state::AppState;
use nightmarket_domain::credential::Kind;
use nightmarket_services::checkins::{self, CheckedIn, Night};
use nightmarket_services::credentials::RenewalRow;
use nightmarket_services::credentials::{self, ApiKey, CredentialEvent, CredentialView, EventOutcome, Signed};
use nightmarket_services::inspections::{self, Deduction, InspectionView, Recorded};
use nightmarket_services::inspections::{AppealRow, Problem};

#[derive(Deserialize, ToSchema)]
pub struct CheckInRequest {
    /// WGS-84 latitude reported by the phone.
    pub lat: f64,
    pub lng: f64,
    /// The phone's accuracy radius in metres (trusted up to 200 m).
    #[serde(default)]
    pub accuracy_m: Option<f64>,
}

/// Check in at the stall for tonight (the vendor whose code it is). Accepted inside the market's
/// area, within its hours (and the tenant's early window), once per business night, and only
/// while the code is not red.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/codes/{id}/check-in", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    request_body = CheckInRequest,
    responses(
        (status = 201, body = CheckedIn),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 404, description = "No such code of yours", body = ErrorBody),
        (status = 409, description = "Market closed, already checked in, or code red", body = ErrorBody),
        (status = 422, description = "Outside the market's area (by how much), or no position", body = ErrorBody),
    )
)]
pub async fn check_in(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<CheckInRequest>,
) -> HttpResult<(StatusCode, Json<CheckedIn>)> {
    let done = checkins::check_in(&state.ctx, &user, id, Some(body.lat), Some(body.lng), body.accuracy_m).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

/// Check out for the night (optional).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/codes/{id}/check-out", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    responses(
        (status = 204, description = "Checked out"),
        (status = 404, description = "No such code of yours", body = ErrorBody),
        (status = 409, description = "Not checked in tonight, or already out", body = ErrorBody),
    )
)]
pub async fn check_out(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<StatusCode> {
    checkins::check_out(&state.ctx, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct NightQuery {
    /// The business night (YYYY-MM-DD); tonight's by default.
    pub date: Option<NaiveDate>,
}

/// A market's night: every approved stall, open, left, late or absent, with counts (staff).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/markets/{market}/night", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("market" = Uuid, Path, description = "Market id"), NightQuery),
    responses(
        (status = 200, body = Night),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such market", body = ErrorBody),
    )
)]
pub async fn night(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, market)): Path<(String, Uuid)>,
    Query(q): Query<NightQuery>,
) -> HttpResult<Json<Night>> {
    Ok(Json(checkins::night(&state.ctx, &user, market, q.date).await?))
}

/// A credential status change from an external system (health-code or licensing system).
///
/// Authenticated by a tenant API key: `X-Api-Key: <key id>`, `X-Timestamp: <unix seconds>`,
/// `X-Signature: <hex HMAC-SHA256(secret, timestamp + "." + raw body)>`. A timestamp more than
/// five minutes off is refused. An `event_id` seen before is answered as already applied
/// (`applied: false`) when the body is the same, and refused with 409 when it is not. Give the
/// vendor either by `id_number` (resident ID) or by `vendor_id`. An `invalid` status for a
/// credential turns every code of the vendor red in the same transaction; `valid` lets them return
/// to the colour their other causes give.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/credential-events", tag = "supervision",
    security(("api_key" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug"),
        ("X-Api-Key" = String, Header, description = "Key id, e.g. nmk_…"),
        ("X-Timestamp" = String, Header, description = "Unix seconds"),
        ("X-Signature" = String, Header, description = "Hex HMAC-SHA256(secret, timestamp + \".\" + body)"),
    ),
    request_body = CredentialEvent,
    responses(
        (status = 200, body = EventOutcome),
        (status = 400, description = "Not JSON of this shape", body = ErrorBody),
        (status = 401, description = "Key unknown or revoked, signature wrong, timestamp missing or off", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
        (status = 409, description = "event_id seen before with another body", body = ErrorBody),
        (status = 422, description = "Unknown vendor, or a field breaks a rule", body = ErrorBody),
    )
)]
pub async fn credential_event(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResult<Json<EventOutcome>> {
    let tenant = state.ctx.tenant(&tenant).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = Signed {
        key_id: header("x-api-key"),
        timestamp: header("x-timestamp"),
        signature: header("x-signature"),
    };
    Ok(Json(
        credentials::apply_event(&state.ctx, &tenant, signed, &body).await?,
    ))
}

/// The signed-in vendor's credentials: those their stalls require and any others on file.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/my/credentials", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [CredentialView]), (status = 403, description = "Not a vendor", body = ErrorBody))
)]
pub async fn my_credentials(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
) -> HttpResult<Json<Vec<CredentialView>>> {
    Ok(Json(credentials::mine(&state.ctx, &user).await?))
}

/// A vendor's credentials (staff).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/vendors/{id}/credentials", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Vendor id")),
    responses((status = 200, body = [CredentialView]), (status = 404, description = "Not yours to see", body = ErrorBody))
)]
pub async fn vendor_credentials(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Vec<CredentialView>>> {
    Ok(Json(credentials::for_vendor(&state.ctx, &user, id).await?))
}

/// The renewal form: `kind` (health, food_licence, business_licence), `number`, `expires_on`
/// (YYYY-MM-DD) and `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RenewalUpload {
    pub kind: Kind,
    pub number: String,
    pub expires_on: NaiveDate,
    /// JPEG, PNG or PDF, at most 5 MB; the content is checked, not the name.
    #[schema(format = Binary, value_type = String)]
    pub file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// Send a renewed credential for officials to check (vendor).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/my/renewals", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body(content = RenewalUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = Created),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    )
)]
pub async fn renew(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    multipart: Multipart,
) -> HttpResult<(StatusCode, Json<Created>)> {
    let form = files::Form::read(multipart).await?;
    let file = form.files("file").into_iter().next().unwrap_or_default();
    let id = credentials::renew(
        &state.ctx,
        &user,
        form.text("kind"),
        form.text("number"),
        form.text("expires_on"),
        &file,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Serialize, ToSchema)]
pub struct Renewal {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub vendor: String,
    pub kind: Kind,
    pub number: String,
    pub expires_on: NaiveDate,
    pub state: nightmarket_domain::case::RenewalState,
    pub decision_note: String,
    pub created_at: DateTime<Utc>,
}

impl Renewal {
    fn of(r: RenewalRow) -> Result<Renewal, AppError> {
        Ok(Renewal {
            kind: r.kind,
            id: r.id,
            vendor_id: r.vendor_id,
            vendor: r.vendor_name,
            number: r.number,
            expires_on: r.expires_on,
            state: r.state,
            decision_note: r.decision_note,
            created_at: r.created_at,
        })
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Decided ones too; only those waiting by default.
    #[serde(default)]
    pub all: bool,
}

/// Renewals to check: waiting ones oldest first (officials with the review permission).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/renewals", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ListQuery),
    responses((status = 200, body = [Renewal]), (status = 403, description = "No review permission", body = ErrorBody))
)]
pub async fn renewals(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Query(q): Query<ListQuery>,
) -> HttpResult<Json<Vec<Renewal>>> {
    let list = credentials::renewals(&state.ctx, &user, !q.all).await?;
    Ok(Json(list.into_iter().map(Renewal::of).collect::<Result<_, _>>()?))
}

#[derive(Deserialize, ToSchema)]
pub struct RenewalDecision {
    /// True: the credential becomes valid until the renewal's date.
    pub accept: bool,
    /// Required to refuse (told to the vendor).
    #[serde(default)]
    pub note: String,
}

/// Accept or refuse a renewal (review permission); acceptance re-evaluates the vendor's codes.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/renewals/{id}/decision", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Renewal id")),
    request_body = RenewalDecision,
    responses(
        (status = 204, description = "Decided"),
        (status = 403, description = "No review permission", body = ErrorBody),
        (status = 404, description = "No such renewal", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
        (status = 422, description = "A refusal needs a note", body = ErrorBody),
    )
)]
pub async fn decide_renewal(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<RenewalDecision>,
) -> HttpResult<StatusCode> {
    credentials::decide_renewal(&state.ctx, &user, id, body.accept, &body.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's inspection scheme: problems and the points each costs (staff).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/inspection-problems", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [Problem]), (status = 403, description = "Not staff", body = ErrorBody))
)]
pub async fn problems(State(state): State<AppState>, TenantUser(user): TenantUser) -> HttpResult<Json<Vec<Problem>>> {
    Ok(Json(inspections::list_problems(&state.ctx, &user).await?))
}

/// Add or change a problem of the scheme (tenant admin). Past deductions keep their points.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/inspection-problems", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = Problem,
    responses(
        (status = 200, body = [Problem]),
        (status = 403, description = "Not the tenant admin", body = ErrorBody),
        (status = 422, description = "A field breaks a rule", body = ErrorBody),
    )
)]
pub async fn save_problem(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Json(body): Json<Problem>,
) -> HttpResult<Json<Vec<Problem>>> {
    inspections::save_problem(&state.ctx, &user, &body).await?;
    Ok(Json(inspections::list_problems(&state.ctx, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct InspectionRequest {
    /// Codes of the problems found (empty: passed).
    #[serde(default)]
    pub problems: Vec<String>,
    /// Required when problems were found (photos can be added on the page).
    #[serde(default)]
    pub notes: String,
    /// Goods-source declarations of the vendor checked during this inspection.
    #[serde(default)]
    pub goods_checked: Vec<Uuid>,
}

/// Record an inspection of a stall (officials with the inspect permission). Problems deduct
/// points; reaching the monthly allowance turns the vendor's codes red until the month turns.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/codes/{id}/inspections", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    request_body = InspectionRequest,
    responses(
        (status = 201, body = Recorded),
        (status = 403, description = "No inspect permission", body = ErrorBody),
        (status = 404, description = "No such code", body = ErrorBody),
        (status = 422, description = "Unknown problem, or problems without notes", body = ErrorBody),
    )
)]
pub async fn inspect(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<InspectionRequest>,
) -> HttpResult<(StatusCode, Json<Recorded>)> {
    let (recorded, _) = inspections::record(
        &state.ctx,
        &user,
        id,
        &body.problems,
        &body.notes,
        &[],
        &body.goods_checked,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

/// A stall's latest inspections with their deductions (staff, or the vendor whose stall it is).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/codes/{id}/inspections", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    responses((status = 200, body = [InspectionView]), (status = 404, description = "No such code of yours", body = ErrorBody))
)]
pub async fn inspections_of(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Vec<InspectionView>>> {
    Ok(Json(inspections::for_code(&state.ctx, &user, id).await?))
}

/// The signed-in vendor's deductions, newest first, with whether each can still be appealed.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/my/deductions", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [Deduction]), (status = 403, description = "Not a vendor", body = ErrorBody))
)]
pub async fn my_deductions(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
) -> HttpResult<Json<Vec<Deduction>>> {
    Ok(Json(inspections::my_deductions(&state.ctx, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AppealRequest {
    /// Why the deduction is wrong; 2–500 characters.
    pub text: String,
}

/// Appeal a deduction within the tenant's window (vendor).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/deductions/{id}/appeal", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Deduction id")),
    request_body = AppealRequest,
    responses(
        (status = 201, body = Created),
        (status = 404, description = "No such deduction of yours", body = ErrorBody),
        (status = 409, description = "Appealed already, cancelled, or too late", body = ErrorBody),
        (status = 422, description = "Text missing or too long", body = ErrorBody),
    )
)]
pub async fn appeal(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<AppealRequest>,
) -> HttpResult<(StatusCode, Json<Created>)> {
    let id = inspections::appeal(&state.ctx, &user, id, &body.text, &[]).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Serialize, ToSchema)]
pub struct Appeal {
    pub id: Uuid,
    pub deduction_id: Uuid,
    pub code_id: Uuid,
    pub stall_name: String,
    pub vendor: String,
    pub problem: String,
    pub points: i32,
    pub text: String,
    pub filed_at: DateTime<Utc>,
    pub state: nightmarket_domain::case::AppealState,
    pub reason: String,
}

impl From<AppealRow> for Appeal {
    fn from(a: AppealRow) -> Appeal {
        Appeal {
            id: a.id,
            deduction_id: a.deduction_id,
            code_id: a.code_id,
            stall_name: a.stall_name,
            vendor: a.vendor_name,
            problem: a.problem_label,
            points: a.points,
            text: a.text,
            filed_at: a.filed_at,
            state: a.state,
            reason: a.reason,
        }
    }
}

/// Appeals: waiting ones oldest first (officials with the inspect permission).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/appeals", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ListQuery),
    responses((status = 200, body = [Appeal]), (status = 403, description = "No inspect permission", body = ErrorBody))
)]
pub async fn appeals(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Query(q): Query<ListQuery>,
) -> HttpResult<Json<Vec<Appeal>>> {
    let list = inspections::appeals(&state.ctx, &user, !q.all).await?;
    Ok(Json(list.into_iter().map(Appeal::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct AppealDecision {
    /// True: cancel the deduction (the points come back); false: uphold it.
    pub cancel: bool,
    /// Told to the vendor; 2–200 characters.
    #[schema(min_length = 2, max_length = 200, pattern = r"\S[\s\S]*\S")]
    pub reason: String,
}

/// Decide an appeal (inspect permission).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/appeals/{id}/decision", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Appeal id")),
    request_body = AppealDecision,
    responses(
        (status = 204, description = "Decided"),
        (status = 403, description = "No inspect permission", body = ErrorBody),
        (status = 404, description = "No such appeal", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
        (status = 422, description = "Reason missing", body = ErrorBody),
    )
)]
pub async fn decide_appeal(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<AppealDecision>,
) -> HttpResult<StatusCode> {
    inspections::decide_appeal(&state.ctx, &user, id, body.cancel, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's API keys (tenant admin); secrets are never shown again.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/api-keys", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [ApiKey]), (status = 403, description = "Not the tenant admin", body = ErrorBody))
)]
pub async fn api_keys(State(state): State<AppState>, TenantUser(user): TenantUser) -> HttpResult<Json<Vec<ApiKey>>> {
    Ok(Json(credentials::api_keys(&state.ctx, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewApiKey {
    /// Which system uses it, e.g. 健康码系统; 1–60 characters.
    #[schema(min_length = 1, max_length = 60, pattern = r"\S")]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Shown this once; the platform keeps it encrypted.
    pub secret: String,
}

/// Make an API key for an external system (tenant admin).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/api-keys", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = NewApiKey,
    responses(
        (status = 201, body = CreatedApiKey),
        (status = 403, description = "Not the tenant admin", body = ErrorBody),
        (status = 422, description = "Name missing or too long", body = ErrorBody),
    )
)]
pub async fn create_api_key(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Json(body): Json<NewApiKey>,
) -> HttpResult<(StatusCode, Json<CreatedApiKey>)> {
    let (key, secret) = credentials::new_api_key(&state.ctx, &user, &body.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { key, secret })))
}

/// Revoke an API key: requests signed with it are refused from now on (tenant admin).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/api-keys/{id}/revoke", tag = "supervision",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Key id (the UUID)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not the tenant admin", body = ErrorBody),
        (status = 404, description = "No such key, or revoked already", body = ErrorBody),
    )
)]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<StatusCode> {
    credentials::revoke_api_key(&state.ctx, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
