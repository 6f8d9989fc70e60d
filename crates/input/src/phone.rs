//! Mobile numbers as people type them.

/// A mainland China mobile number, normalised to its 11 digits.
///
/// Accepts a leading `+86` or `0086` (and spaces or hyphens between digits); requires
/// `^1[3-9]\d{9}$` and refuses the 140–144 ranges, which are data-only (IoT) numbers that cannot
/// receive SMS.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Option<Phone> {
        let compact: String = text.trim().chars().filter(|c| *c != ' ' && *c != '-').collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .unwrap_or(&compact);
        let b = digits.as_bytes();
        let ok = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && !(b[1] == b'4' && (b'0'..=b'4').contains(&b[2]));
        ok.then(|| Phone(digits.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 138****5678
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl std::fmt::Debug for Phone {
    // Never print a number in clear, even in debug output that may reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_normalised() {
        for (input, want) in [
            ("13800138000", "13800138000"),
            ("+8613800138000", "13800138000"),
            ("008613800138000", "13800138000"),
            ("+86 138-0013-8000", "13800138000"),
            ("19912345678", "19912345678"),
            ("14512345678", "14512345678"),
        ] {
            assert_eq!(
                Phone::parse(input).map(|p| p.as_str().to_string()).as_deref(),
                Some(want),
                "{input}"
            );
        }
    }

    #[test]
    fn non_mobile_numbers_are_refused() {
        for bad in [
            "",
            "1380013800",
            "138001380001",
            "12800138000",
            "23800138000",
            "1380013800a",
            "+85213800138000",
            "14012345678",
            "14112345678",
            "14212345678",
            "14312345678",
            "14412345678",
            "８６13800138000",
        ] {
            assert!(Phone::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn numbers_are_masked_even_in_debug_output() {
        let p = Phone::parse("13812345678").unwrap();
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
    }
}
