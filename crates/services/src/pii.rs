//! Personal data at rest: sealed with XChaCha20-Poly1305 under a key derived from the master key.
//!
//! The associated data binds each ciphertext to its place — tenant, table, column and row — so a
//! ciphertext copied into another row, column or tenant fails to open. Layout:
//! `[key version: 1 byte][nonce: 24 bytes][ciphertext + tag]`. The version byte lets a future key
//! open old values while new ones are written under the new key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use uuid::Uuid;

use crate::secrets::{Keys, random_bytes};
use nightmarket_domain::tenant::TenantId;

/// The current key version written into new ciphertexts.
const KEY_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Where a sealed value lives.
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    pub tenant: TenantId,
    pub table: &'a str,
    pub column: &'a str,
    pub row: Uuid,
}

impl Place<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "nightmarket-pii\0{}\0{}\0{}\0{}",
            self.tenant, self.table, self.column, self.row
        )
        .into_bytes()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value uses unknown key version {0}")]
    UnknownKey(u8),
    #[error("sealed value does not open here (wrong key, or moved from another place)")]
    Tampered,
}

impl Keys {
    fn cipher(&self, version: u8) -> Result<XChaCha20Poly1305, PiiError> {
        match version {
            KEY_VERSION => XChaCha20Poly1305::new_from_slice(&self.pii).map_err(|_| PiiError::Malformed),
            other => Err(PiiError::UnknownKey(other)),
        }
    }

    pub fn seal(&self, place: &Place<'_>, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let nonce = XNonce::from(nonce_bytes);
        let aad = place.aad();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(KEY_VERSION);
        out.extend_from_slice(&nonce_bytes);
        // Encryption with a 32-byte key and a fresh nonce cannot fail.
        if let Ok(cipher) = self.cipher(KEY_VERSION)
            && let Ok(ct) = cipher.encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
        {
            out.extend_from_slice(&ct);
        }
        out
    }

    pub fn seal_str(&self, place: &Place<'_>, plaintext: &str) -> Vec<u8> {
        self.seal(place, plaintext.as_bytes())
    }

    pub fn open(&self, place: &Place<'_>, sealed: &[u8]) -> Result<Vec<u8>, PiiError> {
        if sealed.len() < 1 + NONCE_LEN + 16 {
            return Err(PiiError::Malformed);
        }
        let cipher = self.cipher(sealed[0])?;
        let nonce_bytes: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().map_err(|_| PiiError::Malformed)?;
        let aad = place.aad();
        cipher
            .decrypt(
                &XNonce::from(nonce_bytes),
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| PiiError::Tampered)
    }

    /// Opens a stored document or photo for a response: a value that does not open is the
    /// server's fault (500, with its place in the log), never the reader's.
    pub fn open_stored(&self, place: &Place<'_>, sealed: &[u8]) -> crate::error::AppResult<Vec<u8>> {
        self.open(place, sealed).map_err(|e| {
            crate::error::AppError::Internal(anyhow::anyhow!(
                "{}.{} of {}: {e}",
                place.table,
                place.column,
                place.row
            ))
        })
    }

    pub fn open_str(&self, place: &Place<'_>, sealed: &[u8]) -> Result<String, PiiError> {
        String::from_utf8(self.open(place, sealed)?).map_err(|_| PiiError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(row: u128) -> Place<'static> {
        Place {
            tenant: TenantId(Uuid::from_u128(1)),
            table: "applications",
            column: "id_number_enc",
            row: Uuid::from_u128(row),
        }
    }

    #[test]
    fn a_sealed_value_opens_in_its_place_only() {
        let keys = Keys::derive(&[3u8; 32]);
        let sealed = keys.seal_str(&place(7), "11010519491231002X");
        assert_eq!(sealed[0], KEY_VERSION);
        assert!(!String::from_utf8_lossy(&sealed).contains("11010519491231002X"));
        assert_eq!(keys.open_str(&place(7), &sealed).unwrap(), "11010519491231002X");

        assert!(
            matches!(keys.open(&place(8), &sealed), Err(PiiError::Tampered)),
            "another row"
        );
        let other_column = Place {
            column: "phone_enc",
            ..place(7)
        };
        assert!(
            matches!(keys.open(&other_column, &sealed), Err(PiiError::Tampered)),
            "another column"
        );
        let other_tenant = Place {
            tenant: TenantId(Uuid::from_u128(2)),
            ..place(7)
        };
        assert!(
            matches!(keys.open(&other_tenant, &sealed), Err(PiiError::Tampered)),
            "another tenant"
        );
        let other_key = Keys::derive(&[4u8; 32]);
        assert!(
            matches!(other_key.open(&place(7), &sealed), Err(PiiError::Tampered)),
            "another key"
        );

        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(
            matches!(keys.open(&place(7), &flipped), Err(PiiError::Tampered)),
            "a changed byte"
        );
        let mut unknown = sealed.clone();
        unknown[0] = 9;
        assert!(matches!(keys.open(&place(7), &unknown), Err(PiiError::UnknownKey(9))));
        assert!(matches!(keys.open(&place(7), &sealed[..10]), Err(PiiError::Malformed)));
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let keys = Keys::derive(&[3u8; 32]);
        assert_ne!(keys.seal_str(&place(1), "张三"), keys.seal_str(&place(1), "张三"));
    }
}
