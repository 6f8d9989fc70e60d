//! Credentials (证照) as external systems report them: the kinds and states, the event a
//! credential feed sends, and the HMAC that authenticates it.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 健康证: the health certificate (and the health status an external system reports).
    Health,
    /// 食品经营许可证
    FoodLicence,
    /// 营业执照
    BusinessLicence,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Health, Kind::FoodLicence, Kind::BusinessLicence];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Health => "health",
            Kind::FoodLicence => "food_licence",
            Kind::BusinessLicence => "business_licence",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Kind::Health => "credential.health",
            Kind::FoodLicence => "credential.food_licence",
            Kind::BusinessLicence => "credential.business_licence",
        }
    }
}

/// Where a credential's current state came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Uploaded with the stall application.
    Application,
    /// An accepted renewal.
    Renewal,
    /// A credential feed (an external system).
    External,
    /// An official's decision (a dispute upheld).
    Official,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Valid,
    Invalid,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "valid" => Some(Status::Valid),
            "invalid" => Some(Status::Invalid),
            "expired" => Some(Status::Expired),
            _ => None,
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Status::Valid => "credential.status_valid",
            Status::Invalid => "credential.status_invalid",
            Status::Expired => "credential.status_expired",
        }
    }
}

/// A credential event as sent.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialEvent {
    /// The sender's id for this event, 1–100 characters; repeating it with the same body is
    /// harmless.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100, pattern = r"\S"))]
    pub event_id: String,
    /// The vendor's resident ID number…
    #[serde(default)]
    pub id_number: Option<String>,
    /// …or their id on this platform.
    #[serde(default)]
    pub vendor_id: Option<Uuid>,
    pub credential: Kind,
    /// `valid` or `invalid` (an expiry is the platform's to tell from the dates it holds).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^(valid|invalid)$"))]
    pub status: Status,
    /// Why, as the sender puts it; at most 200 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub reason: String,
    pub occurred_at: DateTime<Utc>,
}

/// The signature an external system sends: hex HMAC-SHA256(secret, "{timestamp}.{body}").
pub fn signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub fn signature_ok(secret: &str, timestamp: &str, body: &[u8], given_hex: &str) -> bool {
    let Ok(given) = hex::decode(given_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}
