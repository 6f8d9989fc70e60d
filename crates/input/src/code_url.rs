//! The operating code's identifier and its signed public URL as scanned.
//!
//! The URL is `/c/{code}?k={kid}&s={signature}`. The signature is Ed25519 over
//! `nightmarket:code:v1:{kid}:{code}` with the tenant's key `kid` (`<tenant slug>-<n>`); checking
//! it is the server's business, reading the URL is this module's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Crockford's base32 alphabet, lower-case: no i, l, o, u to misread on a placard.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
pub const CODE_LEN: usize = 13;

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
    ok.then_some(slug).and_then(|s| crate::slug::parse_slug(s).map(|_| s))
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

#[cfg(test)]
mod tests {
    use super::*;

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
