//! The signed-in shopper of a request (the `nm_shopper` cookie or a bearer token) and the cookie
//! itself. The tokens are issued and checked by `nightmarket_services::access::shopper`.

use uuid::Uuid;

use nightmarket_domain::tenant::TenantId;
pub use nightmarket_services::access::shopper::{COOKIE, TTL_DAYS};

/// A signed-in shopper of the tenant named `{tenant}` in the path: the `nm_shopper` cookie or
/// `Authorization: Bearer` with a shopper token. Anything else is 401.
#[derive(Clone, Debug)]
pub struct Shopper {
    pub id: Uuid,
    pub tenant: TenantId,
    pub name: String,
}

impl axum::extract::FromRequestParts<crate::state::AppState> for Shopper {
    type Rejection = crate::error::HttpError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        use crate::error::AppError;
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let token = bearer.or_else(|| {
            axum_extra::extract::cookie::CookieJar::from_headers(&parts.headers)
                .get(COOKIE)
                .map(|c| c.value().to_string())
        });
        let claims = token
            .and_then(|t| state.ctx.shopper_keys.verify(&t))
            .ok_or(AppError::Unauthorized)?;
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let slug = params
            .iter()
            .find(|(name, _)| *name == "tenant")
            .map(|(_, value)| value.to_string())
            .ok_or(AppError::NotFound)?;
        let tenant = state.ctx.tenant(&slug).await?;
        if tenant.id.0 != claims.tid {
            return Err(AppError::NotFound.into());
        }
        Ok(Shopper {
            id: claims.sub,
            tenant: tenant.id,
            name: claims.name,
        })
    }
}

/// The shopper cookie: HttpOnly, SameSite=Lax, Secure over HTTPS, thirty days.
pub fn cookie(config: &crate::config::Config, token: String) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((COOKIE, token))
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(config.secure_cookies())
        .path("/")
        .max_age(time::Duration::days(TTL_DAYS))
        .build()
}
