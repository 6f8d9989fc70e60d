//! Identity documents: the resident ID number (GB 11643-1999), the unified social credit code
//! (GB 32100-2015), and how names and numbers are masked wherever they are shown.

use chrono::{Datelike, NaiveDate};

/// Why a resident ID number was refused; each has its own message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResidentIdError {
    Length,
    Characters,
    AreaCode,
    BirthDate,
    CheckDigit,
}

impl ResidentIdError {
    pub fn key(self) -> &'static str {
        match self {
            ResidentIdError::Length => "id.length",
            ResidentIdError::Characters => "id.characters",
            ResidentIdError::AreaCode => "id.area",
            ResidentIdError::BirthDate => "id.birth_date",
            ResidentIdError::CheckDigit => "id.check_digit",
        }
    }
}

/// Province-level codes: the first two digits of an administrative area code (GB/T 2260),
/// including Hong Kong (81), Macao (82) and Taiwan (71, 83) as issued on mainland residence permits.
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The ISO 7064 MOD 11-2 check character for the first 17 digits.
pub fn resident_id_check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(char::from(ID_CHECK[(sum % 11) as usize]))
}

/// An 18-character resident ID number that passed every check: length, characters, the shape of
/// the area code, a real birth date not in the future, and the check character. A lowercase `x`
/// is accepted and stored upper-case.
#[derive(Clone, PartialEq, Eq)]
pub struct ResidentId(String);

impl ResidentId {
    /// Checks `text` as of `today` (birth dates after it are refused).
    pub fn parse(text: &str, today: NaiveDate) -> Result<ResidentId, ResidentIdError> {
        let id: String = text
            .trim()
            .chars()
            .filter(|c| *c != ' ')
            .collect::<String>()
            .to_ascii_uppercase();
        if id.chars().count() != 18 {
            return Err(ResidentIdError::Length);
        }
        let b = id.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(ResidentIdError::Characters);
        }
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        // City and county parts of an area code are never 00 for a person's registration.
        if !PROVINCES.contains(&province) || &b[2..4] == b"00" && &b[4..6] == b"00" {
            return Err(ResidentIdError::AreaCode);
        }
        let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| ResidentIdError::BirthDate)?;
        if birth.year() < 1900 || birth > today {
            return Err(ResidentIdError::BirthDate);
        }
        if resident_id_check_char(&b[..17]) != Some(char::from(b[17])) {
            return Err(ResidentIdError::CheckDigit);
        }
        Ok(ResidentId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// `1101**********123X`: the first four and last four characters.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

impl std::fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

/// Masks any identifier-like text the same way (first four, last four).
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// `张**`: the family name (first character) and two stars, whatever the length, so the mask
/// does not tell how long the name is.
pub fn mask_name(name: &str) -> String {
    match name.trim().chars().next() {
        Some(first) => format!("{first}**"),
        None => String::new(),
    }
}

/// Masks a licence or certificate number: its first two and last two characters.
pub fn mask_licence(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

/// The characters of a unified social credit code (no I, O, Z, S, V).
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsccError {
    Length,
    Characters,
    CheckCharacter,
}

impl UsccError {
    pub fn key(self) -> &'static str {
        match self {
            UsccError::Length => "uscc.length",
            UsccError::Characters => "uscc.characters",
            UsccError::CheckCharacter => "uscc.check",
        }
    }
}

fn uscc_value(c: u8) -> Option<u32> {
    USCC_CHARS.iter().position(|x| *x == c).map(|p| p as u32)
}

/// The GB 32100 check character for the first 17 characters.
pub fn uscc_check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(USCC_CHARS[check as usize]))
}

/// A unified social credit code (统一社会信用代码): 18 characters of the code's alphabet, the last
/// a check character per GB 32100. Input is trimmed and upper-cased.
pub fn parse_uscc(text: &str) -> Result<String, UsccError> {
    let code = text.trim().to_ascii_uppercase();
    if code.chars().count() != 18 {
        return Err(UsccError::Length);
    }
    let b = code.as_bytes();
    if !b.iter().all(|c| uscc_value(*c).is_some()) {
        return Err(UsccError::Characters);
    }
    if uscc_check_char(&b[..17]) != Some(char::from(b[17])) {
        return Err(UsccError::CheckCharacter);
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    /// Builds a valid number from an area, a birth date and a sequence.
    fn make(area: &str, birth: &str, seq: &str) -> String {
        let first = format!("{area}{birth}{seq}");
        format!("{first}{}", resident_id_check_char(first.as_bytes()).unwrap())
    }

    #[test]
    fn the_standards_example_is_valid() {
        // GB 11643-1999's own example.
        let id = ResidentId::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.masked(), "1101**********002X");
        assert!(ResidentId::parse("11010519491231002x", today()).is_ok(), "lowercase x");
        assert_eq!(
            ResidentId::parse(" 11010519491231002x ", today()).unwrap().as_str(),
            "11010519491231002X"
        );
    }

    #[test]
    fn every_single_digit_change_of_a_valid_number_fails() {
        for valid in [
            "11010519491231002X",
            &make("500108", "19880615", "123"),
            &make("330102", "20000229", "001"),
        ] {
            assert!(ResidentId::parse(valid, today()).is_ok(), "{valid}");
            let chars: Vec<char> = valid.chars().collect();
            for i in 0..18 {
                for replacement in "0123456789X".chars() {
                    if replacement == chars[i] || (i < 17 && replacement == 'X') {
                        continue;
                    }
                    let mut changed = chars.clone();
                    changed[i] = replacement;
                    let changed: String = changed.into_iter().collect();
                    assert!(
                        ResidentId::parse(&changed, today()).is_err(),
                        "{changed} (from {valid}) must fail"
                    );
                }
            }
        }
    }

    #[test]
    fn each_kind_of_bad_number_is_named() {
        let cases = [
            ("1101051949123100", ResidentIdError::Length),
            ("11010519491231002XX", ResidentIdError::Length),
            ("1101051949123100AX", ResidentIdError::Characters),
            ("1101051949123100２X", ResidentIdError::Characters),
            (make("990105", "19491231", "002").as_str(), ResidentIdError::AreaCode),
            (make("110000", "19491231", "002").as_str(), ResidentIdError::AreaCode),
            (make("110105", "19490231", "002").as_str(), ResidentIdError::BirthDate),
            (make("110105", "20270101", "002").as_str(), ResidentIdError::BirthDate),
            (make("110105", "18991231", "002").as_str(), ResidentIdError::BirthDate),
            (make("110105", "20010229", "002").as_str(), ResidentIdError::BirthDate),
            ("110105194912310021", ResidentIdError::CheckDigit),
        ]
        .map(|(s, e)| (s.to_string(), e));
        for (text, want) in cases {
            assert_eq!(ResidentId::parse(&text, today()), Err(want), "{text}");
        }
    }

    #[test]
    fn numbers_are_masked_even_in_debug_output() {
        let id = ResidentId::parse("11010519491231002X", today()).unwrap();
        assert_eq!(format!("{id:?}"), "ResidentId(1101**********002X)");
    }

    #[test]
    fn names_and_licences_are_masked() {
        assert_eq!(mask_name("张三"), "张**");
        assert_eq!(mask_name("欧阳娜娜"), "欧**");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_licence("JY15001080012345"), "JY************45");
        assert_eq!(mask_licence("abc"), "***");
        assert_eq!(mask_id_number("91500000MA5U8T2F3Q"), "9150**********2F3Q");
    }

    #[test]
    fn credit_codes() {
        // Published codes (the check characters were computed by the issuing registries).
        for good in ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"] {
            assert_eq!(parse_uscc(good).as_deref(), Ok(good), "{good}");
        }
        let first17 = "91500108MA5U7Y4H2";
        let valid = format!("{first17}{}", uscc_check_char(first17.as_bytes()).unwrap());
        assert!(parse_uscc(&valid.to_lowercase()).is_ok());
        assert_eq!(parse_uscc("91350100M000100Y4"), Err(UsccError::Length));
        assert_eq!(
            parse_uscc("91350100M000100YI3"),
            Err(UsccError::Characters),
            "I is not in the alphabet"
        );
        assert_eq!(parse_uscc("91350100M000100Y44"), Err(UsccError::CheckCharacter));
        // every single-character change of a valid code fails
        let chars: Vec<u8> = valid.bytes().collect();
        for i in 0..18 {
            for &r in USCC_CHARS {
                if r == chars[i] {
                    continue;
                }
                let mut c = chars.clone();
                c[i] = r;
                let s = String::from_utf8(c).unwrap();
                assert!(parse_uscc(&s).is_err(), "{s}");
            }
        }
    }
}
