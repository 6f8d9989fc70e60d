//! Extractors whose rejections are [`AppError`]s, so a malformed body or path answers in the
//! application's own format (JSON error body or error page) instead of axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{AppError, Msg};

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Form bodies, with repeated keys (`permission=a&permission=b`) read into a `Vec`.
#[derive(FromRequest)]
#[from_request(via(axum_extra::extract::Form), rejection(AppError))]
pub struct Form<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

fn too_large(status: StatusCode) -> bool {
    status == StatusCode::PAYLOAD_TOO_LARGE
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        if too_large(rejection.status()) {
            return AppError::PayloadTooLarge;
        }
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(Msg::new("error.json_content_type")),
            other => AppError::BadRequest(Msg::with_detail("error.json_invalid", other.body_text())),
        }
    }
}

impl From<axum_extra::extract::FormRejection> for AppError {
    fn from(rejection: axum_extra::extract::FormRejection) -> AppError {
        if too_large(rejection.status()) {
            return AppError::PayloadTooLarge;
        }
        AppError::BadRequest(Msg::with_detail("error.form_invalid", rejection.body_text()))
    }
}

impl From<PathRejection> for AppError {
    /// A path segment that does not parse (e.g. not a UUID) names nothing that exists.
    fn from(_: PathRejection) -> AppError {
        AppError::NotFound
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        AppError::BadRequest(Msg::with_detail("error.query_invalid", rejection.body_text()))
    }
}
