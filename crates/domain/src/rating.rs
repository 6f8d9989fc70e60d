//! Shoppers' ratings (经营评分): stars, tags, a short comment, and the tenant's word filter.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::msg::{FieldError, Msg};

/// What a shopper may tick: four praises and four complaints, in this order on the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    /// 干净卫生
    Clean,
    /// 价格公道
    FairPrice,
    /// 分量足
    Generous,
    /// 服务热情
    Friendly,
    /// 分量不足
    ShortPortions,
    /// 价格偏高
    Pricey,
    /// 等待太久
    Slow,
    /// 卫生一般
    NotClean,
}

impl Tag {
    pub const ALL: [Tag; 8] = [
        Tag::Clean,
        Tag::FairPrice,
        Tag::Generous,
        Tag::Friendly,
        Tag::ShortPortions,
        Tag::Pricey,
        Tag::Slow,
        Tag::NotClean,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tag::Clean => "clean",
            Tag::FairPrice => "fair_price",
            Tag::Generous => "generous",
            Tag::Friendly => "friendly",
            Tag::ShortPortions => "short_portions",
            Tag::Pricey => "pricey",
            Tag::Slow => "slow",
            Tag::NotClean => "not_clean",
        }
    }

    pub fn parse(s: &str) -> Option<Tag> {
        Tag::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Tag::Clean => "tag.clean",
            Tag::FairPrice => "tag.fair_price",
            Tag::Generous => "tag.generous",
            Tag::Friendly => "tag.friendly",
            Tag::ShortPortions => "tag.short_portions",
            Tag::Pricey => "tag.pricey",
            Tag::Slow => "tag.slow",
            Tag::NotClean => "tag.not_clean",
        }
    }
}

pub const MAX_COMMENT_CHARS: usize = 200;

/// A rating as typed, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatingInput {
    pub stars: i16,
    pub tags: Vec<Tag>,
    pub comment: String,
}

impl RatingInput {
    /// Checks what a shopper sent: 1–5 stars, known tags (each once), a comment of at most 200
    /// characters (line breaks folded to spaces).
    pub fn parse(stars: &str, tags: &[String], comment: &str) -> Result<RatingInput, Vec<FieldError>> {
        let mut errors = Vec::new();
        let stars = match stars.trim().parse::<i16>() {
            Ok(n) if (1..=5).contains(&n) => n,
            _ => {
                errors.push(FieldError::new("stars", "rating.stars_invalid"));
                0
            }
        };
        let mut parsed = Vec::new();
        for t in tags {
            match Tag::parse(t.trim()) {
                Some(tag) if !parsed.contains(&tag) => parsed.push(tag),
                Some(_) => {}
                None => errors.push(FieldError::new("tags", "rating.tag_unknown")),
            }
        }
        let comment = comment.split_whitespace().collect::<Vec<_>>().join(" ");
        if comment.chars().count() > MAX_COMMENT_CHARS {
            errors.push(FieldError::with(
                "comment",
                Msg::new("form.too_long").arg("max", MAX_COMMENT_CHARS),
            ));
        }
        if errors.is_empty() {
            Ok(RatingInput {
                stars,
                tags: parsed,
                comment,
            })
        } else {
            Err(errors)
        }
    }
}

/// A tenant's list of words to mask in shoppers' text. Matching ignores ASCII case and prefers
/// the longest word; each masked character becomes one ＊.
pub struct WordFilter {
    matcher: Option<AhoCorasick>,
}

impl WordFilter {
    pub fn new<S: AsRef<str>>(words: &[S]) -> WordFilter {
        let words: Vec<&str> = words
            .iter()
            .map(|w| w.as_ref().trim())
            .filter(|w| !w.is_empty())
            .collect();
        let matcher = if words.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&words)
                .ok()
        };
        WordFilter { matcher }
    }

    /// The text with every listed word masked.
    pub fn mask(&self, text: &str) -> String {
        let Some(m) = &self.matcher else {
            return text.to_string();
        };
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in m.find_iter(text) {
            out.push_str(&text[last..found.start()]);
            out.extend(std::iter::repeat_n(
                '＊',
                text[found.start()..found.end()].chars().count(),
            ));
            last = found.end();
        }
        out.push_str(&text[last..]);
        out
    }

    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }
}

/// The words of a textarea: one per line (or separated by commas), trimmed, without repeats.
pub fn parse_word_list(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text.split(['\n', ',', '，']).map(str::trim).filter(|w| !w.is_empty()) {
        if !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
    }
    out
}

/// "★★★★☆" for a whole number of stars.
pub fn stars_text(stars: i16) -> String {
    let n = stars.clamp(0, 5) as usize;
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_tags_and_comments_are_checked() {
        let ok = RatingInput::parse(
            "4",
            &["clean".into(), "clean".into(), "generous".into()],
            "  好吃\n 不贵 ",
        )
        .unwrap();
        assert_eq!(
            ok,
            RatingInput {
                stars: 4,
                tags: vec![Tag::Clean, Tag::Generous],
                comment: "好吃 不贵".into()
            }
        );
        for bad in ["0", "6", "", "four", "3.5"] {
            let errors = RatingInput::parse(bad, &[], "").unwrap_err();
            assert_eq!(errors[0].field, "stars", "{bad}");
        }
        assert_eq!(
            RatingInput::parse("5", &["tasty".into()], "").unwrap_err()[0].field,
            "tags"
        );
        assert!(RatingInput::parse("5", &[], &"好".repeat(200)).is_ok());
        assert_eq!(
            RatingInput::parse("5", &[], &"好".repeat(201)).unwrap_err()[0].field,
            "comment"
        );
    }

    #[test]
    fn the_word_filter_masks_listed_words_whole_and_ignores_ascii_case() {
        let f = WordFilter::new(&["垃圾", "骗子", "SB", " "]);
        assert_eq!(f.mask("老板是骗子，东西垃圾"), "老板是＊＊，东西＊＊");
        assert_eq!(f.mask("sb sB Sb"), "＊＊ ＊＊ ＊＊");
        assert_eq!(f.mask("很好吃"), "很好吃");
        let longest = WordFilter::new(&["垃圾", "垃圾桶"]);
        assert_eq!(longest.mask("垃圾桶满了"), "＊＊＊满了");
        assert!(WordFilter::new::<&str>(&[]).is_empty());
        assert_eq!(WordFilter::new::<&str>(&[]).mask("anything"), "anything");
    }

    #[test]
    fn word_lists_come_one_per_line_or_comma() {
        assert_eq!(parse_word_list("垃圾\n 骗子 ,sb，垃圾\n\n"), vec!["垃圾", "骗子", "sb"]);
    }

    #[test]
    fn stars_are_drawn() {
        assert_eq!(stars_text(4), "★★★★☆");
        assert_eq!(stars_text(9), "★★★★★");
    }
}
