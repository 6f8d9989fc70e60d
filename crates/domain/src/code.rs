//! The operating code (经营码): its identifier, its colour, and its signed public URL.
//!
//! The URL is `/c/{code}?k={kid}&s={signature}`. The signature is Ed25519 over
//! `nightmarket:code:v1:{kid}:{code}` with the tenant's key `kid` (`<tenant slug>-<n>`), so a
//! patrol officer's tool holding the tenant's published public keys can tell a genuine code from
//! a forged one without asking the server.

use serde::{Deserialize, Serialize};

pub use nightmarket_input::code_url::{
    ALPHABET, CODE_LEN, CodeUrl, code_path, encode_signature, is_code, parse_code_url, signed_message, tenant_of_kid,
};

/// Random bits as the caller draws them: the domain reads no random source of its own, so that
/// what it makes from them is a pure function (and testable with fixed bits).
pub type RandomBits = [u8; 16];

/// A fresh code: 13 base32 characters, 65 of the random bits.
pub fn new_code(random: RandomBits) -> String {
    base32(random, CODE_LEN)
}

/// `len` (at most 25) characters of the code alphabet spelling the first `5 × len` random bits.
pub fn base32(random: RandomBits, len: usize) -> String {
    let mut n = u128::from_le_bytes(random);
    (0..len.min(25))
        .map(|_| {
            let c = ALPHABET[(n & 31) as usize];
            n >>= 5;
            char::from(c)
        })
        .collect()
}

/// A code's colour, like the health code it was meant to be bound to. Read from the database as
/// this type, so a stored value that is not a colour is an error, never green.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Colour {
    /// May operate.
    Green,
    /// A warning: something needs attention soon.
    Yellow,
    /// Suspended: may not trade now.
    Red,
}

impl Colour {
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<Colour> {
        match s {
            "green" => Some(Colour::Green),
            "yellow" => Some(Colour::Yellow),
            "red" => Some(Colour::Red),
            _ => None,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Colour::Green => "colour.green",
            Colour::Yellow => "colour.yellow",
            Colour::Red => "colour.red",
        }
    }

    pub fn meaning_key(self) -> &'static str {
        match self {
            Colour::Green => "colour.green_meaning",
            Colour::Yellow => "colour.yellow_meaning",
            Colour::Red => "colour.red_meaning",
        }
    }
}

/// The one rule: red if any open cause is red, else yellow if any is yellow, else green.
pub fn colour_of(open_causes: impl IntoIterator<Item = Colour>) -> Colour {
    open_causes.into_iter().max().unwrap_or(Colour::Green)
}

/// Kinds of cause, as stored in `code_causes.kind`.
pub mod cause {
    /// An official suspended the code (red).
    pub const SUSPENDED: &str = "suspended";
    /// Penalty points reached the monthly allowance (red until the month turns).
    pub const PENALTY: &str = "penalty_points";
    /// The stall's score fell below the tenant's threshold (yellow).
    pub const SCORE_LOW: &str = "score_low";
    /// Too many complaints about the stall wait for an outcome (yellow).
    pub const COMPLAINTS: &str = "complaints_unresolved";

    /// Causes a service derives from its own tables (and so may clear again); an official's
    /// suspension is cleared only by an official.
    pub fn is_derived(kind: &str) -> bool {
        kind == PENALTY || kind == SCORE_LOW || kind == COMPLAINTS || kind.starts_with("credential_")
    }

    /// The locale key that explains a cause to people.
    pub fn label_key(kind: &str) -> &'static str {
        match kind {
            SUSPENDED => "cause.suspended",
            PENALTY => "cause.penalty_points",
            SCORE_LOW => "cause.score_low",
            COMPLAINTS => "cause.complaints_unresolved",
            "credential_missing:health" => "cause.missing_health",
            "credential_missing:food_licence" => "cause.missing_food_licence",
            "credential_invalid:health" => "cause.invalid_health",
            "credential_invalid:food_licence" => "cause.invalid_food_licence",
            "credential_invalid:business_licence" => "cause.invalid_business_licence",
            "credential_expired:health" => "cause.expired_health",
            "credential_expired:food_licence" => "cause.expired_food_licence",
            "credential_expired:business_licence" => "cause.expired_business_licence",
            "credential_expiring:health" => "cause.expiring_health",
            "credential_expiring:food_licence" => "cause.expiring_food_licence",
            "credential_expiring:business_licence" => "cause.expiring_business_licence",
            _ => "cause.other",
        }
    }
}

/// As stored and as pages name it in attributes and class names (`green`, `yellow`, `red`).
impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `signature` is the Ed25519 signature of `message` by the 32-byte `public_key`.
pub fn verifies_message(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(public): Result<[u8; 32], _> = public_key.try_into() else {
        return false;
    };
    let Ok(public) = ed25519_dalek::VerifyingKey::from_bytes(&public) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    public.verify_strict(message, &sig).is_ok()
}

/// What a code's scan page states of the licences, fixed when the code is issued: masked numbers
/// and expiry dates (`codes.licence_facts`). Written by the approval and read back as this type,
/// so the two sides cannot drift apart, and a stored value that does not fit is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub food_licence: Option<LicenceFact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_cert: Option<LicenceFact>,
    /// The unified social credit code of a business vendor, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<MaskedNumber>,
}

/// A licence's masked number and when it expires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceFact {
    pub number: String,
    pub expires: chrono::NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskedNumber {
    pub number: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn licence_facts_read_what_approvals_have_always_written_and_refuse_anything_else() {
        let stored = serde_json::json!({
            "food_licence": {"number": "JY************12", "expires": "2027-10-01"},
            "uscc": {"number": "9144**********123X"}
        });
        let facts: LicenceFacts = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(facts.food_licence.as_ref().unwrap().expires.to_string(), "2027-10-01");
        assert!(facts.health_cert.is_none());
        assert_eq!(serde_json::to_value(&facts).unwrap(), stored, "written back the same");
        assert_eq!(
            serde_json::from_value::<LicenceFacts>(serde_json::json!({})).unwrap(),
            LicenceFacts::default()
        );
        assert!(serde_json::from_value::<LicenceFacts>(serde_json::json!({"food_licence": {"number": "x"}})).is_err());
        assert!(serde_json::from_value::<LicenceFacts>(serde_json::json!({"permit": {"number": "x"}})).is_err());
    }

    use super::*;

    #[test]
    fn codes_are_13_characters_of_the_alphabet_and_differ() {
        let a = new_code([7; 16]);
        let b = new_code([8; 16]);
        assert!(is_code(&a) && is_code(&b), "{a} {b}");
        assert_ne!(a, b);
        assert!(!is_code("abcdefghijklm"), "i and l are not in the alphabet");
        assert!(!is_code("0123456789ab"));
    }

    #[test]
    fn colour_is_the_worst_open_cause() {
        assert_eq!(colour_of([]), Colour::Green);
        assert_eq!(colour_of([Colour::Yellow]), Colour::Yellow);
        assert_eq!(colour_of([Colour::Yellow, Colour::Red, Colour::Yellow]), Colour::Red);
    }
}

/// The signature vectors the patrol app's script is tested against too
/// (`tests/fixtures/patrol-vectors.json`): the server and the phone agree on every one.
#[cfg(test)]
mod patrol_vectors {
    use base64::Engine;

    #[test]
    fn the_server_reads_the_shared_vectors_as_the_patrol_app_does() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/patrol-vectors.json")).unwrap();
        let key = &doc["keys"]["keys"][0];
        let public = base64::engine::general_purpose::STANDARD
            .decode(key["public_key"].as_str().unwrap())
            .unwrap();
        // The fixture's key is the one made from the seed it names.
        let seeded = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        assert_eq!(public, seeded.verifying_key().to_bytes());
        let vectors = doc["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 5);
        for v in vectors {
            let url = v["url"].as_str().unwrap();
            let parsed = super::parse_code_url(url).expect("a code URL");
            let genuine = parsed.kid == key["kid"].as_str().unwrap()
                && super::verifies_message(
                    &public,
                    &nightmarket_input::code_url::signed_message(&parsed.kid, &parsed.code),
                    &parsed.signature,
                );
            assert_eq!(genuine, v["genuine"].as_bool().unwrap(), "{url}");
        }
    }
}
