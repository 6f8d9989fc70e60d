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
