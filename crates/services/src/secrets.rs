//! Secrets: the master key and the database passwords the server generates for itself.
//!
//! One master key (env `NIGHTMARKET_MASTER_KEY`, 64 hex digits) is the root of every other key:
//! the session-signing key, the blind-index key and the personal-data encryption key are derived
//! from it with HKDF, each under its own label, so one secret is all an operator keeps safe.
//! Without the env var, the key is generated once into `<data-dir>/secrets.json` (mode 0600),
//! together with the passwords of the embedded PostgreSQL's superuser and of the app role.

use anyhow::{Context, bail};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nightmarket_domain::tenant::TenantId;

#[derive(Clone, Serialize, Deserialize)]
pub struct StoredSecrets {
    /// Hex; present unless the master key comes from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_key: Option<String>,
    /// Password of the embedded cluster's superuser `postgres`.
    pub pg_superuser_password: String,
    /// Written by versions that generated the app role's password; it is now derived from the
    /// master key ([`Keys::app_role_password`]) and this is ignored.
    #[serde(default, skip_serializing)]
    pub app_password: Option<String>,
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes[..]);
    bytes
}

/// `len` (at most 25) random characters of the code alphabet, for identifiers people may read.
pub fn random_base32(len: usize) -> String {
    nightmarket_domain::code::base32(random_bytes(), len)
}

/// A random password of letters and digits (no look-alikes), for generated accounts.
pub fn random_password(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            // rejection sampling keeps every character equally likely
            let limit = 256 - (256 % ALPHABET.len());
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    out
}

pub struct Secrets {
    pub master_key: [u8; 32],
    pub pg_superuser_password: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

pub fn parse_master_key(hex_text: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(hex_text.trim()).context("NIGHTMARKET_MASTER_KEY is not hexadecimal")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("NIGHTMARKET_MASTER_KEY must be 32 bytes (64 hex digits)"))
}

/// Reads `<data_dir>/secrets.json`, creating it on first use. A master key from the environment
/// takes precedence and is never written to disk.
pub fn load_or_create(data_dir: &Path, master_key_env: Option<&str>) -> anyhow::Result<Secrets> {
    let path = data_dir.join("secrets.json");
    let env_key = master_key_env
        .filter(|s| !s.trim().is_empty())
        .map(parse_master_key)
        .transpose()?;

    let stored = if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str::<StoredSecrets>(&text).with_context(|| format!("{} is not valid", path.display()))?
    } else {
        let stored = StoredSecrets {
            master_key: env_key.is_none().then(|| hex::encode(random_bytes::<32>())),
            pg_superuser_password: random_password(32),
            app_password: None,
        };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        file.write_all(serde_json::to_string_pretty(&stored)?.as_bytes())?;
        file.sync_all()?;
        stored
    };

    let master_key = match (env_key, &stored.master_key) {
        (Some(key), _) => key,
        (None, Some(hex_key)) => parse_master_key(hex_key)?,
        (None, None) => bail!(
            "{} was created with a master key from NIGHTMARKET_MASTER_KEY; set it again",
            path.display()
        ),
    };
    Ok(Secrets {
        master_key,
        pg_superuser_password: stored.pg_superuser_password,
    })
}

/// Keys derived from the master key, one per purpose.
#[derive(Clone)]
pub struct Keys {
    pub session: [u8; 32],
    blind_index: [u8; 32],
    pub pii: [u8; 32],
    /// Signs the rating tickets the scan page hands out (`domain::ticket`).
    pub rating_ticket: [u8; 32],
    /// Names the limiters' keys in the shared throttle table (`access::throttle`).
    pub throttle: [u8; 32],
    app_role: [u8; 32],
}

impl Keys {
    pub fn derive(master_key: &[u8; 32]) -> Keys {
        let hk = Hkdf::<Sha256>::new(Some(b"nightmarket"), master_key);
        let expand = |label: &str| {
            let mut okm = [0u8; 32];
            // 32 bytes is far below HKDF-SHA256's limit of 8160, so expand cannot fail.
            let _ = hk.expand(label.as_bytes(), &mut okm);
            okm
        };
        Keys {
            session: expand("session-signing v1"),
            blind_index: expand("blind-index v1"),
            pii: expand("pii-encryption v1"),
            rating_ticket: expand("rating-ticket v1"),
            throttle: expand("throttle v1"),
            app_role: expand("app-role-password v1"),
        }
    }

    /// The password of the login role `nightmarket_app` when the server manages it: derived from
    /// the master key, so every instance of a deployment knows it without storing it, and none
    /// ever needs to change it under another (see `db::ensure_app_role`).
    pub fn app_role_password(&self) -> String {
        hex::encode(self.app_role)
    }

    /// A keyed hash for looking up personal data without storing it in clear. It is bound to a
    /// tenant and a purpose, so the same number gives unrelated values in two districts.
    pub fn blind_index(&self, tenant: TenantId, purpose: &str, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.blind_index).expect("HMAC accepts any key length");
        mac.update(tenant.0.as_bytes());
        mac.update(&[0]);
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn derived_keys_differ_by_purpose_and_are_stable() {
        let a = Keys::derive(&[7u8; 32]);
        let b = Keys::derive(&[7u8; 32]);
        assert_eq!(a.session, b.session);
        assert_ne!(a.session, a.pii);
        assert_ne!(a.session, Keys::derive(&[8u8; 32]).session);
        assert_eq!(a.app_role_password(), b.app_role_password());
        assert_ne!(a.app_role_password(), Keys::derive(&[8u8; 32]).app_role_password());
        assert_eq!(a.app_role_password().len(), 64);
    }

    #[test]
    fn blind_indexes_are_bound_to_tenant_and_purpose() {
        let k = Keys::derive(&[1u8; 32]);
        let t1 = TenantId(Uuid::from_u128(1));
        let t2 = TenantId(Uuid::from_u128(2));
        let x = k.blind_index(t1, "phone", "13800138000");
        assert_eq!(x, k.blind_index(t1, "phone", "13800138000"));
        assert_ne!(x, k.blind_index(t2, "phone", "13800138000"));
        assert_ne!(x, k.blind_index(t1, "id_number", "13800138000"));
        assert_eq!(x.len(), 64);
    }

    #[test]
    fn secrets_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("nm-secrets-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = load_or_create(&dir, None).unwrap();
        let second = load_or_create(&dir, None).unwrap();
        assert_eq!(first.master_key, second.master_key);
        assert_eq!(first.pg_superuser_password, second.pg_superuser_password);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("secrets.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let from_env = load_or_create(&dir, Some(&"ab".repeat(32))).unwrap();
        assert_eq!(from_env.master_key, [0xab; 32]);
        assert!(load_or_create(&dir, Some("xyz")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn random_passwords_use_the_alphabet() {
        let p = random_password(24);
        assert_eq!(p.len(), 24);
        assert!(p.chars().all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)));
        assert_ne!(p, random_password(24));
    }
}
