//! Who is asking: session cookies and bearer tokens, the signed-in user, and role checks.

pub mod gates;
pub mod shopper;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, SameSite};
use std::ops::Deref;

use crate::config::Config;
use crate::error::{AppError, HttpError};
use crate::state::AppState;
use nightmarket_domain::people::{Actor, Role};
use nightmarket_services::access::session::Claims;

/// Paths a person who must still replace a one-time password may use.
const ALLOWED_BEFORE_PASSWORD_CHANGE: &[&str] = &[
    "/account/password",
    "/logout",
    "/api/v1/auth/password",
    "/api/v1/auth/logout",
    "/api/v1/me",
];

/// The session token of a request: a bearer token wins over the cookie.
fn token_of(parts: &Parts, config: &Config) -> Option<String> {
    if let Some(value) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(&parts.headers);
    jar.get(config.session_cookie_name()).map(|c| c.value().to_string())
}

/// The request id set by the request-id layer, for audit records.
pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A signed-in person whose session was checked against the database just now: the token is
/// genuine and current, the account exists, is enabled, and has not revoked its sessions. What the
/// use cases take is the [`Actor`] inside (`&user` passes as `&Actor`).
#[derive(Clone, Debug)]
pub struct AuthUser(pub Actor);

impl Deref for AuthUser {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let token = token_of(parts, &state.config).ok_or(AppError::Unauthorized)?;
        let (actor, must_change_password) =
            nightmarket_services::accounts::session_actor(&state.ctx, &token, request_id(parts)).await?;
        if must_change_password && !ALLOWED_BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path()) {
            return Err(AppError::PasswordChangeRequired.into());
        }
        let user = AuthUser(actor);
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

impl OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        match <AuthUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(HttpError(AppError::Unauthorized)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// A signed-in user acting on the tenant named `{tenant}` in the route's path. Another tenant's
/// routes answer 404, as if they did not exist, before the request body is even read.
#[derive(Clone, Debug)]
pub struct TenantUser(pub AuthUser);

impl FromRequestParts<AppState> for TenantUser {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = <AuthUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let slug = params
            .iter()
            .find(|(name, _)| *name == "tenant")
            .map(|(_, value)| value)
            .ok_or(AppError::NotFound)?;
        user.require_tenant(slug)?;
        Ok(TenantUser(user))
    }
}

/// Who the session cookie says is signed in, without asking the database: enough for the page
/// header of public pages, never for deciding what someone may do.
#[derive(Clone, Debug)]
pub struct SessionHint {
    pub name: String,
    pub role: Role,
}

impl OptionalFromRequestParts<AppState> for SessionHint {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        let claims: Option<Claims> = token_of(parts, &state.config).and_then(|t| state.ctx.sessions.verify(&t));
        Ok(claims.map(|c| SessionHint {
            name: c.name,
            role: c.role,
        }))
    }
}

impl SessionHint {
    /// The hint of a page request's session cookie, for the header of an error page rendered
    /// after the handler (when no extractor is left to ask).
    pub fn of_cookie(state: &AppState, cookie: &axum::http::HeaderValue) -> Option<SessionHint> {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, cookie.clone());
        let jar = axum_extra::extract::cookie::CookieJar::from_headers(&headers);
        let token = jar.get(state.config.session_cookie_name())?.value().to_string();
        let claims = state.ctx.sessions.verify(&token)?;
        Some(SessionHint {
            name: claims.name,
            role: claims.role,
        })
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, and `__Host-` + Secure when served over HTTPS.
pub fn session_cookie(config: &Config, token: String, max_age: chrono::Duration) -> Cookie<'static> {
    Cookie::build((config.session_cookie_name(), token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.secure_cookies())
        .path("/")
        .max_age(time::Duration::seconds(max_age.num_seconds()))
        .build()
}

/// A cookie that removes the session cookie.
pub fn expired_session_cookie(config: &Config) -> Cookie<'static> {
    session_cookie(config, String::new(), chrono::Duration::zero())
}
