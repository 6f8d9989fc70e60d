//! Password hashing with Argon2id (m = 19 MiB, t = 2, p = 1: OWASP's baseline), always on the
//! blocking pool so a burst of sign-ins cannot stall the async workers.

use anyhow::anyhow;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|e| anyhow!("argon2 params: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let hash = argon2()?
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow!("hashing a password: {e}"))?;
    Ok(hash.to_string())
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// A hash of a random password, verified against when the account does not exist, so that a
/// wrong login name takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking(&crate::secrets::random_password(24)).unwrap_or_default());

/// Whether `password` matches `stored` (a PHC string). `None` checks against a dummy hash and
/// always answers false.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        // The parameters come from the stored hash, so old hashes keep verifying after a change.
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let h = hash("夜市摊主密码2026".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("夜市摊主密码2026".into(), Some(h.clone())).await);
        assert!(!verify("夜市摊主密码2027".into(), Some(h)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
    }
}
