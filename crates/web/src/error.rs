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
pub use nightmarket_services::error::{AppError, AppResult, FieldError, Msg, check, stored};

/// An [`AppError`] on its way out as an HTTP response: the status it maps to, and the report the
/// renderer turns into a page or JSON. Handlers and extractors return [`HttpResult`]; `?` on a
/// use case's result converts.
#[derive(Debug)]
pub struct HttpError(pub AppError);

/// What handlers and extractors return.
pub type HttpResult<T> = Result<T, HttpError>;

impl From<AppError> for HttpError {
    fn from(err: AppError) -> HttpError {
        HttpError(err)
    }
}

impl From<anyhow::Error> for HttpError {
    fn from(err: anyhow::Error) -> HttpError {
        HttpError(err.into())
    }
}

impl From<nightmarket_domain::people::Denied> for HttpError {
    fn from(denied: nightmarket_domain::people::Denied) -> HttpError {
        HttpError(denied.into())
    }
}

/// The status each kind of error is answered with.
pub fn status(err: &AppError) -> StatusCode {
    match err {
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

impl HttpError {
    pub fn status(&self) -> StatusCode {
        status(&self.0)
    }

    pub fn report(&self) -> ErrorReport {
        let err = &self.0;
        let (code, message, fields) = match err {
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
        let retry_after = match err {
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
        let mut report = HttpError(err).report();
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

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if let AppError::Internal(err) = &self.0 {
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
