//! Tenant slugs: the short names in every tenant's URLs.

/// A tenant slug: lowercase ASCII letters, digits and inner hyphens, 2–32 characters, starting
/// with a letter (`nanan`, `shangcheng`). It appears in every public URL of the tenant.
pub fn parse_slug(text: &str) -> Option<String> {
    let s = text.trim();
    let ok = (2..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for good in ["nanan", "shangcheng", "a1", "xi-hu"] {
            assert_eq!(parse_slug(good).as_deref(), Some(good));
        }
        for bad in ["", "a", "Nanan", "1abc", "ab-", "南岸", "a_b", "a b", &"a".repeat(33)] {
            assert_eq!(parse_slug(bad), None, "{bad:?}");
        }
    }
}
