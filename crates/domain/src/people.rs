//! People who sign in: roles, permissions, sign-in names, passwords and mobile numbers.

use serde::{Deserialize, Serialize};

pub use nightmarket_input::phone::Phone;

/// What a signed-in person is to their tenant. The platform operator is not a role: operators
/// act only through the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Official,
    Vendor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Official => "official",
            Role::Vendor => "vendor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "official" => Some(Role::Official),
            "vendor" => Some(Role::Vendor),
            _ => None,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Role::Admin => "role.admin",
            Role::Official => "role.official",
            Role::Vendor => "role.vendor",
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Official)
    }
}

/// What an official may do; an admin grants these. Admins hold all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Review vendors' applications.
    Review,
    /// Handle shoppers' complaints.
    Complaints,
    /// Inspect stalls and deduct penalty points.
    Inspect,
}

impl Permission {
    pub const ALL: [Permission; 3] = [Permission::Review, Permission::Complaints, Permission::Inspect];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Review => "review",
            Permission::Complaints => "complaints",
            Permission::Inspect => "inspect",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Permission::Review => "permission.review",
            Permission::Complaints => "permission.complaints",
            Permission::Inspect => "permission.inspect",
        }
    }
}

/// A staff member's sign-in name: 2–32 of a–z, 0–9, '.', '_', '-', starting with a letter or
/// digit; compared case-insensitively (stored lowercased).
pub fn parse_staff_login(text: &str) -> Option<String> {
    let login = text.trim().to_ascii_lowercase();
    let ok = (2..=32).contains(&login.len())
        && login.starts_with(|c: char| c.is_ascii_alphanumeric())
        && login
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    ok.then_some(login)
}

/// Passwords: at least 8 characters, at most 128 (Argon2 has no limit, but a bound keeps hashing
/// cost predictable), not only one repeated character.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 8 {
        return Err("password.too_short");
    }
    if n > 128 {
        return Err("password.too_long");
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err("password.too_simple");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_logins() {
        assert_eq!(parse_staff_login(" Admin ").as_deref(), Some("admin"));
        assert_eq!(parse_staff_login("li.wei_2").as_deref(), Some("li.wei_2"));
        for bad in ["", "a", "_x", "li wei", "李伟", "a@b", &"a".repeat(33)] {
            assert_eq!(parse_staff_login(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(check_password("short"), Err("password.too_short"));
        assert_eq!(check_password("aaaaaaaaaa"), Err("password.too_simple"));
        assert_eq!(check_password(&"ab".repeat(65)), Err("password.too_long"));
        assert_eq!(check_password("夜市摊主密码2026"), Ok(()));
    }
}
