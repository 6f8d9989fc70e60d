//! People who sign in: roles, permissions, sign-in names, passwords and mobile numbers.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tenant::{Tenant, TenantId};

pub use nightmarket_input::phone::Phone;

/// What a signed-in person is to their tenant. The platform operator is not a role: operators
/// act only through the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[sqlx(type_name = "text", rename_all = "snake_case")]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// A signed-in person acting in their tenant: who, with which role and permissions. The use cases
/// take one and check, in one place, that it may do what is asked; how the person proved who they
/// are (a session cookie, a bearer token) is the HTTP layer's business.
#[derive(Clone, Debug)]
pub struct Actor {
    pub tenant: Tenant,
    pub id: Uuid,
    pub role: Role,
    pub login: String,
    pub display_name: String,
    permissions: Vec<Permission>,
    /// The request this action came with, for the audit record.
    pub request_id: Option<String>,
}

/// Why an actor may not do something: not allowed (403), or — for another tenant's things — not
/// there at all (404, exactly as for a missing thing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    Forbidden,
    NotFound,
}

impl Actor {
    pub fn new(
        tenant: Tenant,
        id: Uuid,
        role: Role,
        login: String,
        display_name: String,
        permissions: Vec<Permission>,
        request_id: Option<String>,
    ) -> Actor {
        Actor {
            tenant,
            id,
            role,
            login,
            display_name,
            permissions,
            request_id,
        }
    }

    pub fn require_admin(&self) -> Result<(), Denied> {
        self.allowed(self.role == Role::Admin)
    }

    pub fn require_staff(&self) -> Result<(), Denied> {
        self.allowed(self.role.is_staff())
    }

    pub fn require_vendor(&self) -> Result<(), Denied> {
        self.allowed(self.role == Role::Vendor)
    }

    /// Admins hold every permission; officials hold what they were granted.
    pub fn has(&self, permission: Permission) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Official => self.permissions.contains(&permission),
            Role::Vendor => false,
        }
    }

    pub fn require(&self, permission: Permission) -> Result<(), Denied> {
        self.allowed(self.has(permission))
    }

    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// For routes that name a tenant in their path: another tenant's resources do not exist for
    /// this person (404, exactly as for a missing resource).
    pub fn require_tenant(&self, slug: &str) -> Result<(), Denied> {
        if self.tenant.slug == slug {
            Ok(())
        } else {
            Err(Denied::NotFound)
        }
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant.id
    }

    /// How the audit record names this person: `role:display name`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.role.as_str(), self.display_name)
    }

    fn allowed(&self, yes: bool) -> Result<(), Denied> {
        if yes { Ok(()) } else { Err(Denied::Forbidden) }
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

    fn actor(role: Role, permissions: Vec<Permission>) -> Actor {
        let tenant = Tenant {
            id: TenantId(Uuid::nil()),
            slug: "nanan".into(),
            name: "南岸区".into(),
            timezone: chrono_tz::Asia::Shanghai,
        };
        Actor::new(tenant, Uuid::nil(), role, "li".into(), "李伟".into(), permissions, None)
    }

    #[test]
    fn admins_hold_every_permission_officials_what_they_were_granted_vendors_none() {
        let admin = actor(Role::Admin, vec![]);
        let reviewer = actor(Role::Official, vec![Permission::Review]);
        let vendor = actor(Role::Vendor, Permission::ALL.to_vec());
        for p in Permission::ALL {
            assert_eq!(admin.require(p), Ok(()));
            assert_eq!(
                vendor.require(p),
                Err(Denied::Forbidden),
                "a vendor holds no permission"
            );
        }
        assert_eq!(reviewer.require(Permission::Review), Ok(()));
        assert_eq!(reviewer.require(Permission::Inspect), Err(Denied::Forbidden));
        assert_eq!(reviewer.require_staff(), Ok(()));
        assert_eq!(reviewer.require_admin(), Err(Denied::Forbidden));
        assert_eq!(vendor.require_vendor(), Ok(()));
        assert_eq!(vendor.require_staff(), Err(Denied::Forbidden));
        assert_eq!(admin.require_tenant("nanan"), Ok(()));
        assert_eq!(
            admin.require_tenant("xihu"),
            Err(Denied::NotFound),
            "another tenant's things are not there"
        );
        assert_eq!(reviewer.label(), "official:李伟");
    }
}
