//! Which language a request is answered in: the `lang` cookie, else the browser's
//! Accept-Language, else Chinese. The languages and their texts are
//! `nightmarket_services::i18n`.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::convert::Infallible;

pub use nightmarket_services::i18n::Lang;

/// The cookie that remembers an explicit language choice.
pub const LANG_COOKIE: &str = "lang";

/// The language of a request: an explicit choice (the `lang` cookie) wins; otherwise Chinese,
/// unless the browser prefers English over Chinese.
pub fn from_headers(headers: &HeaderMap) -> Lang {
    if let Some(lang) = cookie_lang(headers) {
        return lang;
    }
    accept_language(headers).unwrap_or_default()
}

fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANG_COOKIE)
        .and_then(|(_, value)| Lang::parse(value))
}

/// The first of zh/en named in Accept-Language, ignoring quality values other than 0
/// (browsers list languages in order of preference).
fn accept_language(headers: &HeaderMap) -> Option<Lang> {
    let value = headers.get(axum::http::header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    value
        .split(',')
        .filter(|part| !part.contains("q=0") || part.contains("q=0."))
        .filter_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
        .next()
}

/// The language of the request, as an extractor: `ReqLang(lang): ReqLang`.
#[derive(Clone, Copy, Debug)]
pub struct ReqLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqLang(from_headers(&parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(from_headers(&HeaderMap::new()), Lang::Zh);
        assert_eq!(from_headers(&headers(&[("accept-language", "fr-FR,de")])), Lang::Zh);
    }

    #[test]
    fn the_cookie_wins_over_the_browser() {
        let h = headers(&[("accept-language", "zh-CN"), ("cookie", "a=1; lang=en")]);
        assert_eq!(from_headers(&h), Lang::En);
    }

    #[test]
    fn a_browser_that_prefers_english_gets_english() {
        let h = headers(&[("accept-language", "en-US,en;q=0.9,zh-CN;q=0.8")]);
        assert_eq!(from_headers(&h), Lang::En);
        let h = headers(&[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")]);
        assert_eq!(from_headers(&h), Lang::Zh);
    }
}
