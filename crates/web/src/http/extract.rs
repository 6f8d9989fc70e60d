//! Extractors whose rejections are [`HttpError`]s, so a malformed body or path answers in the
//! application's own format (JSON error body or error page) instead of axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{AppError, HttpError, Msg};

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(HttpError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Form bodies, with repeated keys (`permission=a&permission=b`) read into a `Vec`.
#[derive(FromRequest)]
#[from_request(via(axum_extra::extract::Form), rejection(HttpError))]
pub struct Form<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(HttpError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(HttpError))]
pub struct Query<T>(pub T);

fn too_large(status: StatusCode) -> bool {
    status == StatusCode::PAYLOAD_TOO_LARGE
}

impl From<JsonRejection> for HttpError {
    fn from(rejection: JsonRejection) -> HttpError {
        HttpError(if too_large(rejection.status()) {
            AppError::PayloadTooLarge
        } else {
            match rejection {
                JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(Msg::new("error.json_content_type")),
                other => AppError::BadRequest(Msg::with_detail("error.json_invalid", other.body_text())),
            }
        })
    }
}

impl From<axum_extra::extract::FormRejection> for HttpError {
    fn from(rejection: axum_extra::extract::FormRejection) -> HttpError {
        HttpError(if too_large(rejection.status()) {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest(Msg::with_detail("error.form_invalid", rejection.body_text()))
        })
    }
}

impl From<PathRejection> for HttpError {
    /// A path segment that does not parse (e.g. not a UUID) names nothing that exists.
    fn from(_: PathRejection) -> HttpError {
        HttpError(AppError::NotFound)
    }
}

impl From<QueryRejection> for HttpError {
    fn from(rejection: QueryRejection) -> HttpError {
        HttpError(AppError::BadRequest(Msg::with_detail(
            "error.query_invalid",
            rejection.body_text(),
        )))
    }
}
