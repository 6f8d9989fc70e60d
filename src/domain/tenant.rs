//! Tenants: the government bodies that run markets on the platform.

use chrono_tz::Tz;
use serde::Serialize;
use uuid::Uuid;

/// The id of a tenant; the value of `app.tenant_id` in a tenant transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(transparent)]
pub struct TenantId(pub Uuid);

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A resolved tenant, as requests see it.
#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    #[serde(serialize_with = "serialize_tz")]
    pub timezone: Tz,
}

fn serialize_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

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

pub fn parse_timezone(text: &str) -> Option<Tz> {
    text.trim().parse().ok()
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

    #[test]
    fn timezones() {
        assert_eq!(parse_timezone("Asia/Shanghai"), Some(chrono_tz::Asia::Shanghai));
        assert_eq!(parse_timezone("Mars/Olympus"), None);
    }
}
