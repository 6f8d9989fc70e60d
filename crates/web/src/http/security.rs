//! Browser-facing protections: response security headers and the cross-site request check.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, HttpError};
use crate::state::AppState;

/// No inline script or style anywhere: every page works with these.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// The security headers every response carries (unless a handler set its own), in one list for
/// the pages' stack and the static files alike.
static HEADERS: [(header::HeaderName, HeaderValue); 6] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ),
    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    ),
    (
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(self)"),
    ),
    (
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

/// Only over HTTPS (the public URL's scheme).
static HSTS: (header::HeaderName, HeaderValue) = (
    header::STRICT_TRANSPORT_SECURITY,
    HeaderValue::from_static("max-age=31536000; includeSubDomains"),
);

/// The security headers; `https` adds HSTS.
pub fn headers_for(https: bool) -> impl Iterator<Item = &'static (header::HeaderName, HeaderValue)> {
    HEADERS.iter().chain(https.then_some(&HSTS))
}

/// Adds the security headers to `response` (those a handler did not set itself); `https` adds
/// HSTS.
pub fn add_headers(mut response: Response, https: bool) -> Response {
    let h = response.headers_mut();
    for (name, value) in headers_for(https) {
        h.entry(name).or_insert_with(|| value.clone());
    }
    response
}

/// The middleware of the pages' stack (the static files add them without one: app.rs).
pub async fn headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    add_headers(next.run(request).await, state.config.secure_cookies())
}

/// Refuses state-changing requests that a browser says come from another site.
///
/// Browsers send `Sec-Fetch-Site` and `Origin` with every cross-origin POST; a form on another
/// site posting here (with our SameSite=Lax cookie withheld anyway) is refused with 403 before
/// any handler runs. Requests without either header (API clients, external systems) pass: they
/// carry no ambient browser credentials to abuse.
pub async fn cross_site_check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_cross_site(&state, &request) {
        return HttpError(AppError::CrossSite).into_response();
    }
    next.run(request).await
}

fn is_cross_site(state: &AppState, request: &Request) -> bool {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "none" is a person's own action (typed URL, bookmark); "same-site" is a sibling
        // subdomain, which we do not trust with state changes either.
        if site != "same-origin" && site != "none" {
            return true;
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let matches_public = origin == state.config.public_origin();
        let matches_host = origin.split_once("://").is_some_and(|(_, rest)| rest == host);
        if origin == "null" || !(matches_public || matches_host) {
            return true;
        }
    }
    false
}
