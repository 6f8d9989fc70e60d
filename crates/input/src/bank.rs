//! Bank account numbers as vendors type them for their subsidy to be paid to: a personal card
//! (16–19 digits) or a business account (up to 30), spaces and dashes allowed while typing.

use std::fmt;

/// A bank account number, digits only.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountNumber(String);

/// Why a typed account number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountError {
    /// Something other than digits, spaces and dashes.
    NotDigits,
    /// Fewer than 12 or more than 30 digits.
    Length,
}

impl AccountNumber {
    pub const MIN_DIGITS: usize = 12;
    pub const MAX_DIGITS: usize = 30;

    pub fn parse(typed: &str) -> Result<Self, AccountError> {
        let mut digits = String::with_capacity(typed.len());
        for c in typed.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '\u{3000}' => {}
                _ => return Err(AccountError::NotDigits),
            }
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len()) {
            return Err(AccountError::Length);
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `**** 1234`: the last four digits, which is how banks and payers name an account.
    pub fn masked(&self) -> String {
        format!("**** {}", &self.0[self.0.len() - 4..])
    }
}

impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_digits_typed_with_or_without_spaces_and_masked_to_its_last_four() {
        let a = AccountNumber::parse(" 6222 0212-3456 7890 123 ").unwrap();
        assert_eq!(a.as_str(), "6222021234567890123");
        assert_eq!(a.masked(), "**** 0123");
        assert_eq!(format!("{a:?}"), "AccountNumber(**** 0123)");
    }

    #[test]
    fn letters_and_wrong_lengths_are_refused() {
        assert_eq!(AccountNumber::parse("6222O21234567890"), Err(AccountError::NotDigits));
        assert_eq!(AccountNumber::parse("12345678901"), Err(AccountError::Length));
        assert_eq!(AccountNumber::parse(&"1".repeat(31)), Err(AccountError::Length));
        assert_eq!(AccountNumber::parse(""), Err(AccountError::Length));
        assert!(AccountNumber::parse(&"1".repeat(30)).is_ok());
    }
}
