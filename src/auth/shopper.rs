//! Shopper sessions: a light, long-lived token for a verified phone number (no account, no
//! password). Signed like staff sessions but for another audience, so neither passes for the other.

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use nightmarket_domain::tenant::TenantId;

pub const AUDIENCE: &str = "nightmarket-shopper";
/// The cookie that carries it.
pub const COOKIE: &str = "nm_shopper";
/// How long a shopper stays signed in.
pub const TTL_DAYS: i64 = 30;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShopperClaims {
    pub iss: String,
    pub aud: String,
    /// The shopper id.
    pub sub: Uuid,
    pub tid: Uuid,
    /// The masked number, for pages.
    pub name: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct ShopperKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl ShopperKeys {
    pub fn new(secret: &[u8; 32]) -> ShopperKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[super::session::ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.leeway = 30;
        ShopperKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(&self, tenant: TenantId, shopper: Uuid, masked: &str) -> anyhow::Result<String> {
        let now = Utc::now();
        let claims = ShopperClaims {
            iss: super::session::ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: shopper,
            tid: tenant.0,
            name: masked.to_string(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + Duration::days(TTL_DAYS)).timestamp(),
        };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    pub fn verify(&self, token: &str) -> Option<ShopperClaims> {
        decode::<ShopperClaims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopper_and_staff_tokens_do_not_pass_for_each_other() {
        let secret = [7u8; 32];
        let shoppers = ShopperKeys::new(&secret);
        let staff = super::super::session::SessionKeys::new(&secret, Duration::hours(1));
        let t = shoppers
            .issue(TenantId(Uuid::from_u128(1)), Uuid::from_u128(2), "138****0000")
            .unwrap();
        assert_eq!(shoppers.verify(&t).unwrap().sub, Uuid::from_u128(2));
        assert!(staff.verify(&t).is_none());
        let (s, _) = staff
            .issue(
                TenantId(Uuid::from_u128(1)),
                Uuid::from_u128(2),
                nightmarket_domain::people::Role::Admin,
                "a",
                0,
            )
            .unwrap();
        assert!(shoppers.verify(&s).is_none());
    }
}

/// A signed-in shopper of the tenant named `{tenant}` in the path: the `nm_shopper` cookie or
/// `Authorization: Bearer` with a shopper token. Anything else is 401.
#[derive(Clone, Debug)]
pub struct Shopper {
    pub id: Uuid,
    pub tenant: TenantId,
    pub name: String,
}

impl axum::extract::FromRequestParts<crate::app::AppState> for Shopper {
    type Rejection = crate::error::AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::app::AppState,
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
        let tenant = state.ctx.tenants.require(&state.ctx.db, &slug).await?;
        if tenant.id.0 != claims.tid {
            return Err(AppError::NotFound);
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
