//! The operating code (经营码): its identifier, its colour, and its signed public URL.
//!
//! The URL is `/c/{code}?k={kid}&s={signature}`. The signature is Ed25519 over
//! `nightmarket:code:v1:{kid}:{code}` with the tenant's key `kid` (`<tenant slug>-<n>`), so a
//! patrol officer's tool holding the tenant's published public keys can tell a genuine code from
//! a forged one without asking the server.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Crockford's base32 alphabet, lower-case: no i, l, o, u to misread on a placard.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
pub const CODE_LEN: usize = 13;

/// A fresh code: 13 base32 characters, 65 random bits.
pub fn new_code() -> String {
    random_base32(CODE_LEN)
}

/// `len` (at most 25) random characters of the code alphabet: 5 bits each.
pub fn random_base32(len: usize) -> String {
    let bytes = crate::secrets::random_bytes::<16>();
    let mut n = u128::from_le_bytes(bytes);
    (0..len.min(25))
        .map(|_| {
            let c = ALPHABET[(n & 31) as usize];
            n >>= 5;
            char::from(c)
        })
        .collect()
}

pub fn is_code(s: &str) -> bool {
    s.len() == CODE_LEN && s.bytes().all(|b| ALPHABET.contains(&b))
}

/// The bytes a code's signature covers.
pub fn signed_message(kid: &str, code: &str) -> Vec<u8> {
    format!("nightmarket:code:v1:{kid}:{code}").into_bytes()
}

/// The tenant slug a key id names: `nanan-2` → `nanan`.
pub fn tenant_of_kid(kid: &str) -> Option<&str> {
    let (slug, n) = kid.rsplit_once('-')?;
    let ok = !slug.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 6;
    ok.then_some(slug)
        .and_then(|s| crate::domain::tenant::parse_slug(s).map(|_| s))
}

/// The parts of a code URL as scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeUrl {
    pub code: String,
    pub kid: String,
    pub signature: Vec<u8>,
}

/// Reads `https://host/c/{code}?k=…&s=…` (or just the path and query). `None` for anything that
/// is not a well-formed code URL; whether the signature is genuine is a separate question.
pub fn parse_code_url(text: &str) -> Option<CodeUrl> {
    let text = text.trim();
    let path_and_query = match text.find("://") {
        Some(i) => {
            let rest = &text[i + 3..];
            &rest[rest.find('/')?..]
        }
        None => text,
    };
    let (path, query) = path_and_query.split_once('?')?;
    let code = path.strip_prefix("/c/")?;
    if !is_code(code) {
        return None;
    }
    let (mut kid, mut sig) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("k", v)) if kid.is_none() => kid = Some(v),
            Some(("s", v)) if sig.is_none() => sig = Some(v),
            _ => {}
        }
    }
    let kid = kid?;
    tenant_of_kid(kid)?;
    let signature = URL_SAFE_NO_PAD.decode(sig?).ok().filter(|s| s.len() == 64)?;
    Some(CodeUrl {
        code: code.to_string(),
        kid: kid.to_string(),
        signature,
    })
}

/// The path and query of a code's URL.
pub fn code_path(code: &str, kid: &str, signature_b64: &str) -> String {
    format!("/c/{code}?k={kid}&s={signature_b64}")
}

pub fn encode_signature(sig: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(sig)
}

/// A code's colour, like the health code it was meant to be bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_13_characters_of_the_alphabet_and_differ() {
        let a = new_code();
        let b = new_code();
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

    #[test]
    fn key_ids_name_their_tenant() {
        assert_eq!(tenant_of_kid("nanan-1"), Some("nanan"));
        assert_eq!(tenant_of_kid("xi-hu-12"), Some("xi-hu"));
        for bad in ["nanan", "nanan-", "-1", "Nanan-1", "nanan-x", "nanan-1234567"] {
            assert_eq!(tenant_of_kid(bad), None, "{bad}");
        }
    }

    #[test]
    fn code_urls_are_parsed_strictly() {
        let sig = encode_signature(&[7u8; 64]);
        let path = code_path("0123456789abc", "nanan-1", &sig);
        let want = Some(CodeUrl {
            code: "0123456789abc".into(),
            kid: "nanan-1".into(),
            signature: vec![7u8; 64],
        });
        assert_eq!(parse_code_url(&path), want);
        assert_eq!(parse_code_url(&format!("https://market.example.cn{path}")), want);
        assert_eq!(parse_code_url(&format!("http://127.0.0.1:8080{path}&x=1")), want);
        for bad in [
            "/c/0123456789abc".to_string(),
            format!("/c/0123456789ab?k=nanan-1&s={sig}"),
            format!("/x/0123456789abc?k=nanan-1&s={sig}"),
            format!("/c/0123456789abc?k=nanan&s={sig}"),
            "/c/0123456789abc?k=nanan-1&s=short".to_string(),
            format!("/c/0123456789abc?s={sig}"),
            String::new(),
            "https://".to_string(),
        ] {
            assert_eq!(parse_code_url(&bad), None, "{bad}");
        }
    }
}
