//! A credit record's verification code, as shown and as typed back in.

/// Crockford's base32, upper-case: no I, L, O, U to misread when a code is typed in.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const CODE_LEN: usize = 12;

/// The verification code as shown: `nanan-7K3F-9QX2-M4AB`.
pub fn display_code(slug: &str, code: &str) -> String {
    let groups: Vec<String> = code
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!("{slug}-{}", groups.join("-"))
}

/// Reads a verification code as typed (any case, dashes or spaces anywhere, O for 0, I or L for
/// 1): the tenant slug and the 12 characters. None for anything else.
pub fn parse_code(text: &str) -> Option<(String, String)> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut tail = Vec::with_capacity(CODE_LEN);
    let mut cut = None;
    for (i, c) in text.char_indices().rev() {
        if c == '-' {
            continue;
        }
        if tail.len() == CODE_LEN {
            cut = Some(i + c.len_utf8());
            break;
        }
        let c = match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        tail.push(c);
    }
    let cut = cut?;
    // The slug and the code are separated by a dash (else "nanan-…" one character short would
    // borrow the slug's last letter).
    if !text.get(cut..)?.starts_with('-') {
        return None;
    }
    let slug = text.get(..cut)?.to_ascii_lowercase();
    crate::slug::parse_slug(&slug)?;
    tail.reverse();
    Some((slug, tail.into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_typed() {
        let code = "7K3F9QX2M4AB".to_string();
        let shown = display_code("nanan", &code);
        assert_eq!(parse_code(&shown), Some(("nanan".into(), code.clone())));
        assert_eq!(
            parse_code(" Nanan-7k3f 9qx2-m4ab "),
            Some(("nanan".into(), "7K3F9QX2M4AB".into()))
        );
        // O and I/L are read as the digits they look like; slugs may hold dashes.
        assert_eq!(
            parse_code("xi-cheng-OIL0-0000-0000"),
            Some(("xi-cheng".into(), "011000000000".into()))
        );
        assert_eq!(parse_code("nanan-7K3F-9QX2-M4A"), None, "eleven characters");
        assert_eq!(parse_code("7K3F9QX2M4AB"), None, "no tenant");
        assert_eq!(parse_code("nanan-7K3F-9QX2-M4AU"), None, "U is not in the alphabet");
        assert_eq!(parse_code("../etc-7K3F-9QX2-M4AB"), None);
    }
}
