//! Languages and the one translation mechanism: every string a person reads comes from
//! `locales/app.yml` through [`Lang::t`], Simplified Chinese first, English second. Which
//! language a request asks for is the HTTP layer's business (`nightmarket_web::i18n`).

use crate::error::Msg;

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
        let labels: Vec<(&str, String)> = msg.labels().map(|(name, keys)| (name, self.list(keys))).collect();
        let mut args: Vec<(&str, &str)> = msg.args().collect();
        args.extend(labels.iter().map(|(name, text)| (*name, text.as_str())));
        let text = self.tr(msg.key(), &args);
        match msg.detail() {
            Some(detail) => format!("{text} ({detail})"),
            None => text,
        }
    }

    /// The translations of `keys`, joined as this language joins a list ("甲、乙" / "a, b").
    pub fn list(self, keys: &[&str]) -> String {
        let names: Vec<String> = keys.iter().map(|k| self.t(k)).collect();
        names.join(&self.t("list.separator"))
    }

    /// The translation of `key` with `%{name}` placeholders filled in.
    pub fn tr(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in args {
            text = text.replace(&format!("%{{{name}}}"), value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(Lang::Zh.tr("test.greeting", &[("name", "张三")]), "你好，张三");
        assert_eq!(Lang::En.tr("test.greeting", &[("name", "Ann")]), "Hello, Ann");
    }

    /// Every key of locales/app.yml has both languages, and no translation is empty.
    #[test]
    fn every_key_is_translated_into_both_languages() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../locales/app.yml"))
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
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../locales/app.yml"))
            .expect("locales/app.yml is readable");
        let doc: BTreeMap<String, serde_json::Value> =
            serde_yaml_ng::from_str(&text).expect("locales/app.yml is valid YAML");
        let mut unknown = Vec::new();
        for dir in ["templates", "src", "crates"] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(dir);
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
