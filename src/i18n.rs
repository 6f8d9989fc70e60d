//! Languages and the one translation mechanism: every string a person reads comes from
//! `locales/app.yml` through [`Lang::t`], Simplified Chinese first, English second.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::convert::Infallible;

use crate::error::Msg;

/// The cookie that remembers an explicit language choice.
pub const LANG_COOKIE: &str = "lang";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The locale name used in `locales/app.yml` and in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The other language, for the switch link in every page header.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The translation of `key`. A missing key is a bug caught by the locale test; at run time it
    /// shows the key rather than failing the page.
    pub fn t(self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.code()).into_owned()
    }

    /// A domain message ([`Msg`]) in this language, with its arguments filled in and a parser's
    /// detail after it.
    pub fn msg(self, msg: &Msg) -> String {
        let args: Vec<(&str, &str)> = msg.args().collect();
        let text = self.tr(msg.key(), &args);
        match msg.detail() {
            Some(detail) => format!("{text} ({detail})"),
            None => text,
        }
    }

    /// The translation of `key` with `%{name}` placeholders filled in.
    pub fn tr(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in args {
            text = text.replace(&format!("%{{{name}}}"), value);
        }
        text
    }

    /// The language of a request: an explicit choice (the `lang` cookie) wins; otherwise Chinese,
    /// unless the browser prefers English over Chinese.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(lang) = cookie_lang(headers) {
            return lang;
        }
        accept_language(headers).unwrap_or_default()
    }
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

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::collections::BTreeMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::Zh);
        assert_eq!(
            Lang::from_headers(&headers(&[("accept-language", "fr-FR,de")])),
            Lang::Zh
        );
    }

    #[test]
    fn the_cookie_wins_over_the_browser() {
        let h = headers(&[("accept-language", "zh-CN"), ("cookie", "a=1; lang=en")]);
        assert_eq!(Lang::from_headers(&h), Lang::En);
    }

    #[test]
    fn a_browser_that_prefers_english_gets_english() {
        let h = headers(&[("accept-language", "en-US,en;q=0.9,zh-CN;q=0.8")]);
        assert_eq!(Lang::from_headers(&h), Lang::En);
        let h = headers(&[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")]);
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(Lang::Zh.tr("test.greeting", &[("name", "张三")]), "你好，张三");
        assert_eq!(Lang::En.tr("test.greeting", &[("name", "Ann")]), "Hello, Ann");
    }

    /// Every key of locales/app.yml has both languages, and no translation is empty.
    #[test]
    fn every_key_is_translated_into_both_languages() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/locales/app.yml"))
            .expect("locales/app.yml is readable");
        let doc: BTreeMap<String, serde_json::Value> =
            serde_yaml_ng::from_str(&text).expect("locales/app.yml is valid YAML");
        let mut missing = Vec::new();
        for (key, value) in doc.iter().filter(|(k, _)| !k.starts_with('_')) {
            for lang in ["zh-CN", "en"] {
                let ok = value
                    .get(lang)
                    .and_then(|v| v.as_str())
                    .is_some_and(|s| !s.trim().is_empty());
                if !ok {
                    missing.push(format!("{key} [{lang}]"));
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    /// Every `t("…")`/`tr("…"` key used in templates and Rust sources exists in locales/app.yml.
    #[test]
    fn every_key_used_in_the_code_exists() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/locales/app.yml"))
            .expect("locales/app.yml is readable");
        let doc: BTreeMap<String, serde_json::Value> =
            serde_yaml_ng::from_str(&text).expect("locales/app.yml is valid YAML");
        let mut unknown = Vec::new();
        for dir in ["templates", "src", "crates"] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for key in crate::i18n::tests::keys_used_under(&root) {
                if !doc.contains_key(&key) {
                    unknown.push(key);
                }
            }
        }
        unknown.sort();
        unknown.dedup();
        assert!(unknown.is_empty(), "keys used but not defined: {unknown:?}");
    }

    /// Literal keys passed to `t("…")`, `tr("…"` and `Msg::new("…"` in the files under `root`.
    pub(crate) fn keys_used_under(root: &std::path::Path) -> Vec<String> {
        let mut keys = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for marker in ["t(\"", "tr(\"", "tr2(\"", "Msg::new(\"", "msg(\"", "label_key(\""] {
                    for (i, _) in text.match_indices(marker) {
                        // skip identifiers that merely end in t/tr (e.g. `get(`, `attr(`)
                        let before = text[..i].chars().next_back();
                        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                            continue;
                        }
                        let rest = &text[i + marker.len()..];
                        if let Some(end) = rest.find('"') {
                            let key = &rest[..end];
                            if key.contains('.') && !key.contains(' ') && !key.contains('{') {
                                keys.push(key.to_string());
                            }
                        }
                    }
                }
            }
        }
        keys
    }
}
