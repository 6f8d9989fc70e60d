//! The one error type of the application.
//!
//! Handlers and services return [`AppError`]. Turning it into a response does not yet choose
//! between a page and JSON: it attaches an [`ErrorReport`] to an empty response, and the
//! `http::errors::render` middleware, which knows the request's path and language, renders it as
//! the friendly error page or as `{"error": {"code", "message"}}`. So every error, including
//! those made by axum and tower layers (404, 405, 408, 413), looks the same.
//!
//! When to use which:
//! * `Validation` — the input is well-formed but breaks a rule (422, per-field messages);
//! * `BadRequest` — the input could not be read at all (400);
//! * `Conflict` — the input collides with existing state, usually a unique constraint (409);
//! * `NotFound` — also for rows of another tenant: they must look exactly like absent rows;
//! * `Internal` — anything unexpected; logged once with its cause, shown to nobody.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::i18n::Lang;

pub use nightmarket_domain::msg::{FieldError, Msg};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    /// A sign-in with a wrong name or password (or a disabled account: not told apart).
    #[error("invalid credentials")]
    BadCredentials,
    #[error("forbidden")]
    Forbidden,
    /// An external system's request whose API key, timestamp or signature does not hold.
    #[error("api key rejected: {}", .0.key())]
    ApiKey(Msg),
    #[error("cross-site request refused")]
    CrossSite,
    /// Signed in with a one-time password: nothing but choosing a new one is allowed yet.
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request")]
    BadRequest(Msg),
    #[error("conflict: {}", .0.key())]
    Conflict(Msg),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    /// More requests than the server takes on at once (http::admission): 503, retry in a second.
    #[error("overloaded")]
    Overloaded,
    /// Something this installation lacks (a font for PDFs): 503, with what to install.
    #[error("not installed: {}", .0.key())]
    NotInstalled(Msg),
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// A value the database holds, parsed: one that does not parse is an error (logged, 500), never a
/// default — a colour that failed to parse must not read as green.
pub fn stored<T>(parsed: Option<T>, what: &str, value: &str) -> AppResult<T> {
    parsed.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "the database holds {what} {value:?}, which does not parse"
        ))
    })
}

impl From<nightmarket_domain::people::Denied> for AppError {
    fn from(denied: nightmarket_domain::people::Denied) -> AppError {
        match denied {
            nightmarket_domain::people::Denied::Forbidden => AppError::Forbidden,
            nightmarket_domain::people::Denied::NotFound => AppError::NotFound,
        }
    }
}

impl AppError {
    pub fn field(field: &'static str, key: &'static str) -> AppError {
        AppError::Validation(vec![FieldError::new(field, key)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::BadCredentials | AppError::ApiKey(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CrossSite | AppError::PasswordChangeRequired => StatusCode::FORBIDDEN,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Overloaded | AppError::NotInstalled(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn report(&self) -> ErrorReport {
        let (code, message, fields) = match self {
            AppError::NotFound => ("not_found", Msg::new("error.not_found"), vec![]),
            AppError::Unauthorized => ("unauthorized", Msg::new("error.unauthorized"), vec![]),
            AppError::BadCredentials => ("invalid_credentials", Msg::new("login.invalid"), vec![]),
            AppError::Forbidden => ("forbidden", Msg::new("error.forbidden"), vec![]),
            AppError::ApiKey(msg) => ("api_key_rejected", msg.clone(), vec![]),
            AppError::CrossSite => ("cross_site_request", Msg::new("error.cross_site"), vec![]),
            AppError::PasswordChangeRequired => (
                "password_change_required",
                Msg::new("error.password_change_required"),
                vec![],
            ),
            AppError::Validation(fields) => {
                let first = fields
                    .first()
                    .map(|f| f.msg.clone())
                    .unwrap_or_else(|| Msg::new("error.validation"));
                ("validation_failed", first, fields.clone())
            }
            AppError::BadRequest(msg) => ("bad_request", msg.clone(), vec![]),
            AppError::Conflict(msg) => ("conflict", msg.clone(), vec![]),
            AppError::PayloadTooLarge => ("payload_too_large", Msg::new("error.payload_too_large"), vec![]),
            AppError::RateLimited { .. } => ("rate_limited", Msg::new("error.rate_limited"), vec![]),
            AppError::Unavailable => ("unavailable", Msg::new("error.unavailable"), vec![]),
            AppError::Overloaded => ("overloaded", Msg::new("error.overloaded"), vec![]),
            AppError::NotInstalled(m) => ("not_installed", m.clone(), vec![]),
            AppError::Internal(_) => ("internal", Msg::new("error.internal"), vec![]),
        };
        let retry_after = match self {
            AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable => Some(5),
            AppError::Overloaded => Some(1),
            _ => None,
        };
        ErrorReport {
            status: self.status(),
            code,
            message,
            fields,
            retry_after,
        }
    }

    /// The error for a status made by a layer that knows nothing of ours (axum's 405, tower's 408).
    pub fn from_status(status: StatusCode) -> ErrorReport {
        let err = match status {
            StatusCode::NOT_FOUND => AppError::NotFound,
            StatusCode::UNAUTHORIZED => AppError::Unauthorized,
            StatusCode::FORBIDDEN => AppError::Forbidden,
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            StatusCode::TOO_MANY_REQUESTS => AppError::RateLimited { retry_after_secs: 1 },
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => {
                AppError::Unavailable
            }
            s if s.is_server_error() => AppError::Internal(anyhow::anyhow!("status {s} from a layer")),
            _ => AppError::BadRequest(Msg::new("error.bad_request")),
        };
        let mut report = err.report();
        if status.is_client_error() || status == StatusCode::REQUEST_TIMEOUT {
            report.status = status;
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            report.code = "method_not_allowed";
            report.message = Msg::new("error.method_not_allowed");
        }
        report
    }
}

/// What the renderer needs to know about an error; attached to the response's extensions.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Msg,
    pub fields: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`, `conflict`.
    pub code: String,
    /// Human-readable message in the request's language (Accept-Language; zh-CN by default).
    pub message: String,
    /// For `validation_failed`: one message per offending field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldErrorBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldErrorBody {
    pub field: String,
    pub message: String,
}

impl ErrorReport {
    pub fn json_body(&self, lang: Lang) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: lang.msg(&self.message),
                fields: self
                    .fields
                    .iter()
                    .map(|f| FieldErrorBody {
                        field: f.field.to_string(),
                        message: lang.msg(&f.msg),
                    })
                    .collect(),
            },
        }
    }

    pub fn apply_headers(&self, response: &mut Response) {
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(err) = &self {
            // Logged here, once, inside the request's span (which carries the request id).
            tracing::error!(error = format!("{err:#}"), "request failed");
        }
        let report = self.report();
        let mut response = report.status.into_response();
        report.apply_headers(&mut response);
        response.extensions_mut().insert(report);
        response
    }
}

impl From<anyhow::Error> for AppError {
    /// A database error keeps its meaning (503 when the database is away) even when it travelled
    /// inside an `anyhow::Error`.
    fn from(err: anyhow::Error) -> AppError {
        match err.downcast::<sqlx::Error>() {
            Ok(db) => AppError::from(db),
            Err(other) => AppError::Internal(other),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => AppError::Unavailable,
            sqlx::Error::Io(_) => AppError::Unavailable,
            sqlx::Error::RowNotFound => AppError::NotFound,
            sqlx::Error::Database(db) => {
                if let Some(mapped) = db.constraint().and_then(constraint_error) {
                    return mapped;
                }
                // Text PostgreSQL cannot store (a NUL byte, typed or encoded as %00): the
                // request's fault, not the server's.
                if db.code().as_deref() == Some("22021") {
                    return AppError::BadRequest(Msg::new("error.invalid_text"));
                }
                AppError::Internal(err.into())
            }
            _ => AppError::Internal(err.into()),
        }
    }
}

/// Violations of named constraints that a person can cause with valid-looking input, and what to
/// tell them. Every other violation is a bug and stays a 500.
fn constraint_error(name: &str) -> Option<AppError> {
    Some(match name {
        "slots_market_code_key" => AppError::Conflict(Msg::new("slot.code_taken")),
        "users_login_key" => AppError::Conflict(Msg::new("staff.login_taken")),
        "tenants_slug_key" => AppError::Conflict(Msg::new("tenant.slug_taken")),
        "applications_one_open_per_person" => AppError::Conflict(Msg::new("application.already_open")),
        "codes_one_per_slot" => AppError::Conflict(Msg::new("slot.taken")),
        "codes_slot_fkey" | "applications_slot_fkey" => AppError::Conflict(Msg::new("slot.in_use")),
        "check_ins_once_per_night" => AppError::Conflict(Msg::new("checkin.already")),
        "appeals_one_per_deduction" => AppError::Conflict(Msg::new("appeal.already")),
        "ratings_ticket_once" => AppError::Conflict(Msg::new("rating.ticket_used")),
        "credential_disputes_one_pending" => AppError::Conflict(Msg::new("dispute.waiting")),
        "ratings_one_per_device_per_night" => AppError::Conflict(Msg::new("rating.once_per_night")),
        _ => return None,
    })
}

/// Helper for services: turns a list of field errors into `Err(Validation)` when not empty.
pub fn check(errors: Vec<FieldError>) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}
