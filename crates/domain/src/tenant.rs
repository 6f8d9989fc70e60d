//! Tenants: the government bodies that run markets on the platform.

use chrono_tz::Tz;
use serde::Serialize;
use uuid::Uuid;

pub use nightmarket_input::slug::parse_slug;

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

pub fn parse_timezone(text: &str) -> Option<Tz> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezones() {
        assert_eq!(parse_timezone("Asia/Shanghai"), Some(chrono_tz::Asia::Shanghai));
        assert_eq!(parse_timezone("Mars/Olympus"), None);
    }
}
