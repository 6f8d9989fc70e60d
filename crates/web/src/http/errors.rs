//! Renders every error response in one place: JSON for the API, a friendly page (in the
//! request's language) for everything else; a redirect to sign in where a page needs a session.

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::any::Any;

use crate::auth::SessionHint;
use crate::error::{AppError, ErrorReport, HttpError};
use crate::state::AppState;
use crate::web::layout::error_page;

/// Machine clients: everything under these prefixes answers errors as JSON.
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/open311/") || path == "/healthz"
}

pub async fn render(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = crate::i18n::from_headers(request.headers());
    // Kept (a reference-counted clone, no copy) for the header of an error page: it says who is
    // signed in, as every other page does.
    let cookie = request.headers().get(header::COOKIE).cloned();
    let path = request.uri().path().to_string();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let mut response = next.run(request).await;

    let report = match response.extensions_mut().remove::<ErrorReport>() {
        Some(report) => report,
        // An error status from a layer or from axum itself (405, 408, 413), with no body of ours.
        None if response.status().is_client_error() || response.status().is_server_error() => {
            let has_own_body =
                response.headers().contains_key(header::CONTENT_TYPE) && response.body().size_hint().exact() != Some(0);
            // An extractor's plain-text rejection (a malformed multipart body, say) is not the
            // API's error shape: answered as our JSON error with the same status.
            let plain_text = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
            if has_own_body && !(plain_text && is_api_path(&path)) {
                return response;
            }
            HttpError::from_status(response.status())
        }
        None => return response,
    };

    let mut rendered = if is_api_path(&path) {
        let mut r = (report.status, axum::Json(report.json_body(lang))).into_response();
        if report.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    } else if report.status == StatusCode::UNAUTHORIZED && report.code == "unauthorized" {
        // A page that needs a session: sign in, then come back.
        let next = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect::<String>();
        Redirect::to(&format!("/login?next={next}")).into_response()
    } else if report.code == "password_change_required" {
        Redirect::to("/account/password").into_response()
    } else {
        let user = cookie.as_ref().and_then(|c| SessionHint::of_cookie(&state, c));
        (report.status, error_page(lang, &path_and_query, &report, user)).into_response()
    };
    // Keep headers the original response set on purpose (Retry-After, Set-Cookie).
    for name in [header::RETRY_AFTER, header::SET_COOKIE] {
        for value in response.headers().get_all(&name) {
            rendered.headers_mut().append(&name, value.clone());
        }
    }
    rendered
}

/// A panic in a handler becomes an ordinary 500, logged once with what it said.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    HttpError(AppError::Internal(anyhow::anyhow!("panic: {detail}"))).into_response()
}
