//! Vendors' applications and the officials' review, over JSON.

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{AppError, ErrorBody, HttpResult};
use crate::http::extract::{Json, Path, Query};
use crate::http::files::{document_response, read_upload};
use crate::state::AppState;
use nightmarket_domain::application::{AppState as AState, ApplicationInput};
use nightmarket_domain::market::Category;
use nightmarket_services::applications::{self, ApplicationView};
use nightmarket_services::review::{self, DecisionInput, Queue, QueueFilter, Review};

#[derive(Deserialize, ToSchema)]
pub struct NewApplication {
    pub market_id: Uuid,
    /// The slot asked for (optional).
    #[serde(default)]
    #[schema(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    pub slot_id: Option<Uuid>,
    #[serde(flatten)]
    pub details: ApplicationInput,
}

/// Start an application (a draft) for a market (vendor).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/applications", tag = "applications",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = NewApplication,
    responses(
        (status = 201, body = ApplicationView, links(
            ("GetApplication" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1applications~1{id}/get", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("UpdateApplication" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1applications~1{id}/put", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("UploadDocument" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1applications~1{id}~1documents/post", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("SubmitApplication" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1applications~1{id}~1submit/post", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
            ("WithdrawApplication" = (operation_ref = "#/paths/~1api~1v1~1t~1{tenant}~1applications~1{id}~1withdraw/post", parameters(("tenant" = "$request.path.tenant"), ("id" = "$response.body#/id")))),
        )),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 403, description = "Not a vendor", body = ErrorBody),
        (status = 404, description = "Not your tenant", body = ErrorBody),
        (status = 409, description = "This person already has an open application in this market", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Json(body): Json<NewApplication>,
) -> HttpResult<(StatusCode, Json<ApplicationView>)> {
    let id = applications::create(&state.ctx, &user, body.market_id, body.slot_id, &body.details).await?;
    Ok((
        StatusCode::CREATED,
        Json(applications::one_of_mine(&state.ctx, &user, id).await?.view),
    ))
}

/// The vendor's own applications, newest first.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/applications", tag = "applications",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [ApplicationView]), (status = 403, description = "Not a vendor", body = ErrorBody))
)]
pub async fn mine(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
) -> HttpResult<Json<Vec<ApplicationView>>> {
    Ok(Json(applications::mine(&state.ctx, &user).await?))
}

/// One of the vendor's applications (personal data masked).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/applications/{id}", tag = "applications",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id")),
    responses((status = 200, body = ApplicationView), (status = 404, description = "No such application of yours", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<ApplicationView>> {
    Ok(Json(applications::one_of_mine(&state.ctx, &user, id).await?.view))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateApplication {
    #[serde(default)]
    #[schema(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]
    pub slot_id: Option<Uuid>,
    /// Personal fields left blank keep their stored value.
    #[serde(flatten)]
    pub details: ApplicationInput,
}

/// Change a draft or a returned application (vendor).
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/applications/{id}", tag = "applications",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id")),
    request_body = UpdateApplication,
    responses(
        (status = 200, body = ApplicationView),
        (status = 404, description = "No such application of yours", body = ErrorBody),
        (status = 409, description = "Not a draft nor returned", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<UpdateApplication>,
) -> HttpResult<Json<ApplicationView>> {
    applications::update(&state.ctx, &user, id, body.slot_id, &body.details).await?;
    Ok(Json(applications::one_of_mine(&state.ctx, &user, id).await?.view))
}

#[derive(Serialize, ToSchema)]
pub struct DocumentCreated {
    pub id: Uuid,
}

/// The upload form: `kind` (id_card, food_licence, health_cert, business_licence, other) and `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DocumentUpload {
    /// id_card, food_licence, health_cert, business_licence or other (the default).
    #[schema(pattern = "^(id_card|food_licence|health_cert|business_licence|other)$")]
    pub kind: Option<String>,
    /// JPEG, PNG or PDF, at most 5 MB; the content is checked, not the name.
    #[schema(format = Binary, value_type = String)]
    pub file: Vec<u8>,
}

/// Attach a photo or scan of a document (vendor).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/applications/{id}/documents", tag = "applications",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id")),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, body = DocumentCreated),
        (status = 404, description = "No such application of yours", body = ErrorBody),
        (status = 409, description = "Submitted or decided: no longer changed", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Not JPEG/PNG/PDF, over 5 MB, or too many documents", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    multipart: Multipart,
) -> HttpResult<(StatusCode, Json<DocumentCreated>)> {
    let (kind, bytes) = read_upload(multipart).await?;
    let doc = applications::add_document(&state.ctx, &user, id, &kind, &bytes).await?;
    Ok((StatusCode::CREATED, Json(DocumentCreated { id: doc })))
}

/// A document's content (the vendor's own, or for officials who review; their viewing is audited).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/applications/{id}/documents/{doc}", tag = "applications",
    security(("bearer" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug"),
        ("id" = Uuid, Path, description = "Application id"),
        ("doc" = Uuid, Path, description = "Document id"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, description = "No such document", body = ErrorBody),
    )
)]
pub async fn document(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id, doc)): Path<(String, Uuid, Uuid)>,
) -> HttpResult<Response> {
    let (content_type, bytes) = applications::document(&state.ctx, &user, id, doc).await?;
    Ok(document_response(content_type, bytes))
}

/// Remove a document from a draft or returned application (vendor).
#[utoipa::path(
    delete, path = "/api/v1/t/{tenant}/applications/{id}/documents/{doc}", tag = "applications",
    security(("bearer" = [])),
    params(
        ("tenant" = String, Path, description = "Tenant slug"),
        ("id" = Uuid, Path, description = "Application id"),
        ("doc" = Uuid, Path, description = "Document id"),
    ),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such document", body = ErrorBody))
)]
pub async fn delete_document(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id, doc)): Path<(String, Uuid, Uuid)>,
) -> HttpResult<StatusCode> {
    applications::remove_document(&state.ctx, &user, id, doc).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// Where the phone is now (WGS-84), from the browser's geolocation.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub accuracy_m: Option<f64>,
}

/// Submit (or resubmit) the application (vendor). Everything must be complete, and the phone
/// within 50 km of the market.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/applications/{id}/submit", tag = "applications",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id")),
    request_body = SubmitRequest,
    responses(
        (status = 200, body = ApplicationView),
        (status = 404, description = "No such application of yours", body = ErrorBody),
        (status = 409, description = "Not a draft nor returned", body = ErrorBody),
        (status = 422, description = "Incomplete, or the position is missing or too far", body = ErrorBody),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<SubmitRequest>,
) -> HttpResult<Json<ApplicationView>> {
    applications::submit(&state.ctx, &user, id, body.lat, body.lng, body.accuracy_m).await?;
    Ok(Json(applications::one_of_mine(&state.ctx, &user, id).await?.view))
}

/// Withdraw an open application (vendor).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/applications/{id}/withdraw", tag = "applications",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 200, body = ApplicationView),
        (status = 404, description = "No such application of yours", body = ErrorBody),
        (status = 409, description = "Already decided or withdrawn", body = ErrorBody),
    )
)]
pub async fn withdraw(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<ApplicationView>> {
    applications::withdraw(&state.ctx, &user, id).await?;
    Ok(Json(applications::one_of_mine(&state.ctx, &user, id).await?.view))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// Only this market.
    pub market: Option<Uuid>,
    /// Only this category (food, retail, culture, games, produce).
    #[param(pattern = "^(food|retail|culture|games|produce)$")]
    pub category: Option<String>,
    /// Only this state; by default those waiting for a decision.
    #[param(pattern = "^(draft|submitted|returned|resubmitted|approved|rejected|withdrawn)$")]
    pub state: Option<String>,
}

/// The review queue: oldest first, with the time left against the tenant's deadline (officials
/// with the review permission).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/review/queue", tag = "review",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), QueueQuery),
    responses(
        (status = 200, body = Queue),
        (status = 403, description = "No review permission", body = ErrorBody),
        (status = 422, description = "Unknown category or state", body = ErrorBody),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Query(q): Query<QueueQuery>,
) -> HttpResult<Json<Queue>> {
    let bad = |field: &'static str| AppError::field(field, "review.filter_unknown");
    let filter = QueueFilter {
        market: q.market,
        category: q
            .category
            .as_deref()
            .map(|c| Category::parse(c).ok_or_else(|| bad("category")))
            .transpose()?,
        state: q
            .state
            .as_deref()
            .map(|s| AState::parse(s).ok_or_else(|| bad("state")))
            .transpose()?,
    };
    Ok(Json(review::queue(&state.ctx, &user, &filter).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ReviewQuery {
    /// Show personal data in clear (the viewing is audited).
    #[serde(default)]
    pub reveal: bool,
}

/// Everything needed to decide an application (officials with the review permission).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/review/applications/{id}", tag = "review",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id"), ReviewQuery),
    responses(
        (status = 200, body = Review),
        (status = 403, description = "No review permission", body = ErrorBody),
        (status = 404, description = "No such application in your tenant", body = ErrorBody),
    )
)]
pub async fn review_one(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Query(q): Query<ReviewQuery>,
) -> HttpResult<Json<Review>> {
    Ok(Json(review::review(&state.ctx, &user, id, q.reveal).await?))
}

/// Take an application for review for a while, so colleagues see who works on it.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/review/applications/{id}/claim", tag = "review",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id")),
    responses(
        (status = 204, description = "Claimed"),
        (status = 403, description = "No review permission", body = ErrorBody),
        (status = 404, description = "No such application in your tenant", body = ErrorBody),
        (status = 409, description = "Claimed by a colleague, or not waiting for review", body = ErrorBody),
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<StatusCode> {
    review::claim(&state.ctx, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Approve (issuing the operating code), reject with a reason, or return with notes per field.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/review/applications/{id}/decision", tag = "review",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Application id")),
    request_body = DecisionInput,
    responses(
        (status = 200, body = ApplicationView),
        (status = 403, description = "No review permission", body = ErrorBody),
        (status = 404, description = "No such application in your tenant", body = ErrorBody),
        (status = 409, description = "Already decided, changed since read, or claimed by a colleague", body = ErrorBody),
        (status = 422, description = "Missing reason, notes or slot", body = ErrorBody),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<DecisionInput>,
) -> HttpResult<Json<ApplicationView>> {
    Ok(Json(review::decide(&state.ctx, &user, id, &body).await?))
}
