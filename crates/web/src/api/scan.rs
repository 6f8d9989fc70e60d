//! Ratings, complaints and scores over JSON: the vendor's replies and answers, officials' complaint
//! queue and moderation, each stall's score with its evidence, and the tenant's deadlines.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantUser;
use crate::error::{ErrorBody, HttpResult};
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use nightmarket_domain::complaint::{Category, Deadlines};
use nightmarket_services::complaints::{self, ComplaintView, QueueFilter, Step};
use nightmarket_services::ratings::{self, RatingView};
use nightmarket_services::scores::{self, Breakdown};

/// A stall's score: each component with its inputs, and the evidence behind every deduction
/// (staff, or the vendor whose stall it is).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/codes/{id}/score", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    responses((status = 200, body = Breakdown), (status = 404, description = "No such code (of yours)", body = ErrorBody))
)]
pub async fn score(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Breakdown>> {
    Ok(Json(scores::breakdown(&state.ctx, &user, id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Limit {
    /// At most this many (default 50, at most 200).
    limit: Option<i64>,
}

/// A stall's ratings, newest first, hidden ones included with their reason.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/codes/{id}/ratings", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id"), Limit),
    responses((status = 200, body = [RatingView]), (status = 404, description = "No such code (of yours)", body = ErrorBody))
)]
pub async fn code_ratings(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Query(q): Query<Limit>,
) -> HttpResult<Json<Vec<RatingView>>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(ratings::for_code(&state.ctx, &user, id, limit).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// 1–200 characters, public.
    pub reply: String,
}

/// The vendor's one public reply to a rating of their stall.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/ratings/{id}/reply", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Rating id")),
    request_body = ReplyRequest,
    responses(
        (status = 204, description = "Replied"),
        (status = 404, description = "No such rating of your stall", body = ErrorBody),
        (status = 409, description = "Already replied", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
    )
)]
pub async fn reply(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<ReplyRequest>,
) -> HttpResult<StatusCode> {
    ratings::reply(&state.ctx, &user, id, &body.reply).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ModerationRequest {
    /// Hide (true) or show again (false).
    pub hidden: bool,
    /// Why (required to hide; kept and audited).
    #[serde(default)]
    pub reason: String,
}

/// An official hides a rating's comment (the text is kept) or shows it again.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/ratings/{id}/moderation", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Rating id")),
    request_body = ModerationRequest,
    responses(
        (status = 204, description = "Done"),
        (status = 403, description = "Not an official with the complaints permission", body = ErrorBody),
        (status = 404, description = "No such rating", body = ErrorBody),
        (status = 409, description = "Already so", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
    )
)]
pub async fn moderate(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<ModerationRequest>,
) -> HttpResult<StatusCode> {
    ratings::moderate(&state.ctx, &user, id, body.hidden, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ratings held from the score because they came in a burst, oldest first (officials with the
/// complaints permission), for an official to release or void.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/ratings/held", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses(
        (status = 200, body = [ratings::HeldRating]),
        (status = 403, description = "Not an official with the complaints permission", body = ErrorBody),
    )
)]
pub async fn held_ratings(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
) -> HttpResult<Json<Vec<ratings::HeldRating>>> {
    Ok(Json(ratings::held(&state.ctx, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RatingDecisionRequest {
    /// release (a held rating counts) or void (its stars leave the score; the words are kept).
    pub decision: ratings::RatingDecision,
    /// Why: required to void (2–200 characters), optional on release (at most 200).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: String,
}

/// An official releases a held rating or voids a rating's stars; the stall's score follows at once.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/ratings/{id}/decision", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Rating id")),
    request_body = RatingDecisionRequest,
    responses(
        (status = 204, description = "Done"),
        (status = 403, description = "Not an official with the complaints permission", body = ErrorBody),
        (status = 404, description = "No such rating", body = ErrorBody),
        (status = 409, description = "Not held (release), or already void", body = ErrorBody),
        (status = 422, description = "No reason to void", body = ErrorBody),
    )
)]
pub async fn decide_rating(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<RatingDecisionRequest>,
) -> HttpResult<StatusCode> {
    ratings::decide(&state.ctx, &user, id, body.decision, &body.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The complaint queue (officials with the complaints permission): oldest first, with deadlines.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/complaints", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), QueueFilter),
    responses(
        (status = 200, body = [ComplaintView]),
        (status = 403, description = "No complaints permission", body = ErrorBody),
        (status = 422, description = "Unknown filter", body = ErrorBody),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
    Query(f): Query<QueueFilter>,
) -> HttpResult<Json<Vec<ComplaintView>>> {
    Ok(Json(complaints::queue(&state.ctx, &user, &f).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ComplaintDetail {
    pub complaint: ComplaintView,
    pub timeline: Vec<complaints::TrackingEvent>,
}

/// One complaint with its timeline.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/complaints/{id}", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Complaint id")),
    responses((status = 200, body = ComplaintDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn complaint(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<ComplaintDetail>> {
    let (complaint, events) = complaints::get(&state.ctx, &user, id).await?;
    Ok(Json(ComplaintDetail {
        complaint,
        timeline: events
            .into_iter()
            .map(|e| complaints::TrackingEvent {
                at: e.at,
                kind: e.kind,
                note: e.note,
            })
            .collect(),
    }))
}

/// Takes a complaint for 30 minutes so that no other official works it meanwhile.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/complaints/{id}/claim", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Complaint id")),
    responses(
        (status = 204, description = "Claimed"),
        (status = 404, description = "No such complaint", body = ErrorBody),
        (status = 409, description = "Someone else holds it, or closed", body = ErrorBody),
    )
)]
pub async fn claim(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<StatusCode> {
    complaints::claim(&state.ctx, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Acknowledge, start, resolve (with `upheld` and a note) or reject (with a note) a complaint.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/complaints/{id}/steps", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Complaint id")),
    request_body = Step,
    responses(
        (status = 200, body = ComplaintView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not possible in this state, or claimed by another", body = ErrorBody),
        (status = 422, description = "A note or the outcome is missing", body = ErrorBody),
    )
)]
pub async fn step(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(step): Json<Step>,
) -> HttpResult<Json<ComplaintView>> {
    Ok(Json(complaints::act(&state.ctx, &user, id, &step).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct EscalateRequest {
    /// What the handlers are asked to do, and by when (5–500 characters; shown on the tracking page).
    pub note: String,
}

/// A supervisor (admin) escalates an unresolved complaint: the hotline's 督办.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/complaints/{id}/escalations", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Complaint id")),
    request_body = EscalateRequest,
    responses(
        (status = 200, body = ComplaintView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already closed", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn escalate(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<EscalateRequest>,
) -> HttpResult<Json<ComplaintView>> {
    Ok(Json(complaints::escalate(&state.ctx, &user, id, &body.note).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct FollowUpRequest {
    /// `satisfied`, `unsatisfied` or `unreachable`.
    pub result: String,
    /// Up to 500 characters.
    #[serde(default)]
    pub note: String,
}

/// Records the follow-up call made after a complaint was closed: the hotline's 回访 (once per
/// closing).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/complaints/{id}/follow-up", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Complaint id")),
    request_body = FollowUpRequest,
    responses(
        (status = 200, body = ComplaintView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not closed, or already followed up", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn follow_up(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<FollowUpRequest>,
) -> HttpResult<Json<ComplaintView>> {
    Ok(Json(
        complaints::follow_up(&state.ctx, &user, id, &body.result, &body.note).await?,
    ))
}

/// Complaints about the vendor's own stall (no contact details).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/codes/{id}/complaints", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Code id")),
    responses(
        (status = 200, body = [ComplaintView]),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such stall of yours", body = ErrorBody),
    )
)]
pub async fn stall_complaints(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
) -> HttpResult<Json<Vec<ComplaintView>>> {
    Ok(Json(complaints::for_vendor(&state.ctx, &user, id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerRequest {
    /// 2–500 characters; the shopper reads it.
    pub answer: String,
}

/// The vendor's answer to a complaint about their stall (once).
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/complaints/{id}/answer", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Complaint id")),
    request_body = AnswerRequest,
    responses(
        (status = 204, description = "Answered"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already answered", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn answer(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<AnswerRequest>,
) -> HttpResult<StatusCode> {
    complaints::answer(&state.ctx, &user, id, &body.answer).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CategoryDeadlines {
    pub category: Category,
    #[schema(minimum = 1, maximum = 720)]
    pub ack_hours: i32,
    #[schema(minimum = 1, maximum = 90)]
    pub resolve_days: i32,
    /// `resolve_days` counts working days of the tenant's calendar (`/calendar`), the day of
    /// filing not counted, to the end of the last one; else calendar days.
    #[serde(default)]
    pub working_days: bool,
    /// The category's GB/T 39666-2020 class: six digits (main, middle, sub class); null or absent
    /// for none.
    #[schema(pattern = "^[0-9]{6}$")]
    #[serde(default)]
    pub gbt_code: Option<String>,
}

/// The tenant's complaint deadlines per category.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/complaint-deadlines", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [CategoryDeadlines]), (status = 403, body = ErrorBody))
)]
pub async fn deadlines(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
) -> HttpResult<Json<Vec<CategoryDeadlines>>> {
    Ok(Json(
        complaints::deadlines(&state.ctx, &user)
            .await?
            .into_iter()
            .map(|r| CategoryDeadlines {
                category: r.category,
                ack_hours: r.deadlines.ack_hours,
                resolve_days: r.deadlines.resolve_days,
                working_days: r.deadlines.working_days,
                gbt_code: r.gbt_code.map(|c| c.to_string()),
            })
            .collect(),
    ))
}

/// Sets one category's deadlines (admins).
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/complaint-deadlines", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = CategoryDeadlines,
    responses((status = 204, description = "Saved"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn set_deadlines(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
    Json(body): Json<CategoryDeadlines>,
) -> HttpResult<StatusCode> {
    // No class is null (or absent); an empty string is not a code.
    if body.gbt_code.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(crate::error::AppError::field("gbt_code", "settings.gbt_code_invalid").into());
    }
    complaints::set_deadlines(
        &state.ctx,
        &user,
        body.category.as_str(),
        Deadlines {
            ack_hours: body.ack_hours,
            resolve_days: body.resolve_days,
            working_days: body.working_days,
        },
        body.gbt_code.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A day of the tenant's working-day calendar.
#[derive(Serialize, ToSchema)]
pub struct CalendarEntry {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` (a day off, even on a weekday) or `workday` (调休: worked, even on a weekend).
    pub kind: String,
    pub name: String,
}

impl From<complaints::CalendarDay> for CalendarEntry {
    fn from(d: complaints::CalendarDay) -> Self {
        CalendarEntry {
            day: d.day.to_string(),
            kind: d.kind,
            name: d.name,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CalendarDayRequest {
    /// `holiday` or `workday`.
    pub kind: String,
    /// e.g. 国庆节, 国庆调休; 1–40 characters.
    pub name: String,
}

/// The tenant's calendar of holidays and adjusted working days (officials), from last year on:
/// what deadlines in working days count by (Monday to Friday otherwise).
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/calendar", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [CalendarEntry]), (status = 403, body = ErrorBody))
)]
pub async fn calendar(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
) -> HttpResult<Json<Vec<CalendarEntry>>> {
    let days = complaints::calendar(&state.ctx, &user, &user.tenant).await?;
    Ok(Json(days.into_iter().map(CalendarEntry::from).collect()))
}

/// Lists a day as a holiday or an adjusted working day (admins; last year to two years ahead).
#[utoipa::path(
    put, path = "/api/v1/t/{tenant}/calendar/{day}", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("day" = chrono::NaiveDate, Path, description = "YYYY-MM-DD")),
    request_body = CalendarDayRequest,
    responses((status = 200, body = CalendarEntry), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn set_calendar_day(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, day)): Path<(String, String)>,
    Json(body): Json<CalendarDayRequest>,
) -> HttpResult<Json<CalendarEntry>> {
    let entry = complaints::set_calendar_day(&state.ctx, &user, &user.tenant, &day, &body.kind, &body.name).await?;
    Ok(Json(entry.into()))
}

/// Takes a day off the calendar (admins): it follows the week again.
#[utoipa::path(
    delete, path = "/api/v1/t/{tenant}/calendar/{day}", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("day" = chrono::NaiveDate, Path, description = "YYYY-MM-DD")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Not a date", body = ErrorBody),
    )
)]
pub async fn remove_calendar_day(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, day)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    complaints::remove_calendar_day(&state.ctx, &user, &day).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in vendor's copy of everything the platform holds about them (PIPL art. 45):
/// `{format, exported_at, tenant, vendor_id, about, tables: {table: [rows]}}`, every table with
/// rows about the vendor, their own sealed values opened, other people's data left out.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/me/export", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody))
)]
pub async fn my_data(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
) -> HttpResult<Json<serde_json::Value>> {
    Ok(Json(nightmarket_services::vendors::export(&state.ctx, &user).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ErasureAsk {
    /// Optional, up to 500 characters.
    #[serde(default)]
    pub reason: String,
}

/// The signed-in vendor asks to be forgotten (PIPL art. 47); an admin decides. One pending
/// request at a time.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/me/erasure", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    request_body = ErasureAsk,
    responses(
        (status = 201, body = nightmarket_services::erasure::Request),
        (status = 403, body = ErrorBody),
        (status = 409, description = "A request is already pending", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn ask_erasure(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
    Json(body): Json<ErasureAsk>,
) -> HttpResult<(StatusCode, Json<nightmarket_services::erasure::Request>)> {
    let made = nightmarket_services::erasure::request(&state.ctx, &user, &body.reason).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Vendors' erasure requests (admins), newest first.
#[utoipa::path(
    get, path = "/api/v1/t/{tenant}/erasure-requests", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug")),
    responses((status = 200, body = [nightmarket_services::erasure::Request]), (status = 403, body = ErrorBody))
)]
pub async fn erasure_requests(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path(_t): Path<String>,
) -> HttpResult<Json<Vec<nightmarket_services::erasure::Request>>> {
    Ok(Json(
        nightmarket_services::erasure::list(&state.ctx, &user, false).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ErasureDecision {
    pub approve: bool,
    /// Needed to refuse (2–500 characters).
    #[serde(default)]
    pub note: String,
}

/// An admin decides a pending erasure request. Approving revokes the vendor's codes and erases
/// their personal data at once (the answer says how much, as counts); refusing needs a note.
#[utoipa::path(
    post, path = "/api/v1/t/{tenant}/erasure-requests/{id}/decision", tag = "scan",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant slug"), ("id" = Uuid, Path, description = "Request id")),
    request_body = ErasureDecision,
    responses(
        (status = 200, body = nightmarket_services::erasure::Done, description = "Approved: what was erased"),
        (status = 204, description = "Refused"),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such pending request", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn decide_erasure(
    State(state): State<AppState>,
    TenantUser(user): TenantUser,
    Path((_t, id)): Path<(String, Uuid)>,
    Json(body): Json<ErasureDecision>,
) -> HttpResult<axum::response::Response> {
    use axum::response::IntoResponse;
    Ok(
        match nightmarket_services::erasure::decide(&state.ctx, &user, id, body.approve, &body.note).await? {
            Some(done) => Json(done).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}
