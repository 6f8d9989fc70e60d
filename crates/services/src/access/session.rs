//! Session tokens: JWTs signed with HS256 only (the algorithm is pinned; a token naming any other,
//! `none` included, is refused), with issuer, audience, expiry and not-before checked.
//!
//! A token names the user's token version; the account's current version is checked on every use
//! (`accounts::session_actor`, behind the web layer's `AuthUser`), so signing out, changing the password or disabling the account revokes every
//! token at once.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use nightmarket_domain::people::Role;
use nightmarket_domain::tenant::TenantId;

pub const ISSUER: &str = "nightmarket";
pub const AUDIENCE: &str = "nightmarket";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    /// The tenant id.
    pub tid: Uuid,
    pub role: Role,
    /// The display name, for page headers that need no database look-up (staff name or masked phone).
    pub name: String,
    /// The account's token version when the token was issued.
    pub ver: i32,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
}

#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl SessionKeys {
    pub fn new(secret: &[u8; 32], ttl: Duration) -> SessionKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 30;
        SessionKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed token for the user, and when it expires.
    pub fn issue(
        &self,
        tenant: TenantId,
        user: Uuid,
        role: Role,
        name: &str,
        version: i32,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires = now + self.ttl;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user,
            tid: tenant.0,
            role,
            name: name.to_string(),
            ver: version,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires.timestamp(),
            jti: Uuid::new_v4(),
        };
        Ok((
            encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?,
            expires,
        ))
    }

    /// The claims of a genuine, current token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }

    /// For tests and tools that need to make a token with chosen claims (e.g. an expired one).
    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(encode(&Header::new(Algorithm::HS256), claims, &self.encoding)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys() -> SessionKeys {
        SessionKeys::new(&[9u8; 32], Duration::hours(8))
    }

    fn claims(k: &SessionKeys) -> Claims {
        let (token, _) = k
            .issue(
                TenantId(Uuid::from_u128(1)),
                Uuid::from_u128(2),
                Role::Admin,
                "管理员",
                0,
            )
            .unwrap();
        k.verify(&token).unwrap()
    }

    #[test]
    fn an_issued_token_verifies() {
        let k = keys();
        let c = claims(&k);
        assert_eq!(c.sub, Uuid::from_u128(2));
        assert_eq!(c.role, Role::Admin);
    }

    #[test]
    fn forged_and_stale_tokens_are_refused() {
        let k = keys();
        let good = claims(&k);
        let now = Utc::now().timestamp();

        let expired = Claims {
            exp: now - 3600,
            iat: now - 7200,
            nbf: now - 7200,
            ..good.clone()
        };
        assert!(k.verify(&k.sign(&expired).unwrap()).is_none(), "expired");

        let early = Claims {
            nbf: now + 3600,
            ..good.clone()
        };
        assert!(k.verify(&k.sign(&early).unwrap()).is_none(), "not yet valid");

        let other_aud = Claims {
            aud: "someone-else".into(),
            ..good.clone()
        };
        assert!(k.verify(&k.sign(&other_aud).unwrap()).is_none(), "audience");

        let other_iss = Claims {
            iss: "evil".into(),
            ..good.clone()
        };
        assert!(k.verify(&k.sign(&other_iss).unwrap()).is_none(), "issuer");

        let other_key = SessionKeys::new(&[1u8; 32], Duration::hours(1));
        assert!(k.verify(&other_key.sign(&good).unwrap()).is_none(), "wrong key");

        // alg: none, with the signature stripped
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap());
        assert!(k.verify(&format!("{header}.{payload}.")).is_none(), "alg none");

        // HS512 with the right key is still refused: the algorithm is pinned.
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &good,
            &EncodingKey::from_secret(&[9u8; 32]),
        )
        .unwrap();
        assert!(k.verify(&hs512).is_none(), "other algorithm");

        assert!(k.verify("garbage").is_none());
    }
}
