//! The credit record (信用记录) a vendor hands to a bank or a supplier: its sections, its short
//! verification code, the document that is signed, and checking a signature offline.
//!
//! The signed bytes are `nightmarket:record:v1:{kid}:{payload}`, where `payload` is the record's
//! JSON exactly as stored and served; the signature is Ed25519 with the tenant's code key `kid`
//! (published at `/t/{tenant}/code-key`), base64url without padding.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use nightmarket_input::record_code::{CODE_LEN, display_code, parse_code};

/// What a vendor may choose to share.
pub const SECTIONS: [&str; 6] = [
    "trading",
    "score",
    "complaints",
    "inspections",
    "credentials",
    "vouchers",
];

/// How long a record may stay valid, in days (the vendor picks one).
pub const EXPIRY_DAYS: [i64; 5] = [7, 30, 90, 180, 365];

/// A fresh code: 12 characters, 60 of the random bits.
pub fn new_code(random: crate::code::RandomBits) -> String {
    crate::code::base32(random, CODE_LEN).to_ascii_uppercase()
}

/// The bytes a record's signature covers.
pub fn signed_message(kid: &str, payload: &str) -> Vec<u8> {
    format!("nightmarket:record:v1:{kid}:{payload}").into_bytes()
}

/// A record as handed over: the payload exactly as signed, the key id and the signature.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedRecord {
    /// The record's JSON (a [`Payload`]); the signature covers these exact bytes.
    pub payload: String,
    pub kid: String,
    /// base64url Ed25519 over `nightmarket:record:v1:{kid}:{payload}`.
    pub signature: String,
}

/// What a record says. Sections the vendor did not choose are absent.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CreditRecordPayload))]
pub struct Payload {
    /// Format version.
    pub v: u32,
    /// The tenant (issuer) slug and name.
    pub tenant: String,
    pub issuer: String,
    /// The verification code as shown (`/verify/{code}`).
    pub code: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub vendor: Vendor,
    pub stalls: Vec<Stall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trading: Option<Trading>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaints: Option<Complaints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspections: Option<Inspections>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<Credential>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vouchers: Option<Vouchers>,
}

/// Who the record is about, masked as everywhere (the holder shows their ID card to match).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordVendor))]
pub struct Vendor {
    pub name_masked: String,
    pub id_number_masked: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordStall))]
pub struct Stall {
    pub name: String,
    pub category: String,
    pub market: String,
    pub since: NaiveDate,
    /// The code still stands (not revoked).
    pub live: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordTrading))]
pub struct Trading {
    pub first_code_on: NaiveDate,
    pub months_trading: i64,
    pub nights_checked_in: i64,
    pub nights_late: i64,
    pub nights_last_12_months: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordScore))]
pub struct Score {
    /// Each live stall's score now (0–100).
    pub current: Vec<StallScore>,
    /// Ratings per month over the last 12 months: count and average ("4.50").
    pub ratings_by_month: Vec<MonthRatings>,
    /// Each stall's score at the end of each month it changed.
    pub history: Vec<MonthScore>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordStallScore))]
pub struct StallScore {
    pub stall: String,
    pub score: Option<i32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordMonthRatings))]
pub struct MonthRatings {
    pub month: String,
    pub ratings: i64,
    pub average: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordMonthScore))]
pub struct MonthScore {
    pub stall: String,
    pub month: String,
    pub score: i32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordComplaints))]
pub struct Complaints {
    pub received: i64,
    /// Found true by an official.
    pub upheld: i64,
    pub not_upheld: i64,
    pub open: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordInspections))]
pub struct Inspections {
    pub total: i64,
    pub passed: i64,
    pub failed: i64,
    /// Penalty points standing (not cancelled on appeal).
    pub penalty_points: i64,
    pub points_cancelled_on_appeal: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordCredential))]
pub struct Credential {
    pub kind: crate::credential::Kind,
    pub status: crate::credential::Status,
    pub expires_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecordVouchers))]
pub struct Vouchers {
    pub redemptions: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
}

/// Where a record stands for whoever checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = CreditRecordStanding))]
pub enum Standing {
    Valid,
    Expired,
    Revoked,
    /// The signature does not verify: the record was changed or forged.
    Forged,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::Expired => "expired",
            Standing::Revoked => "revoked",
            Standing::Forged => "forged",
        }
    }
}

/// Checks a signed record against a public key (32 bytes) at `now`: the signature first (a record
/// that does not verify says nothing), then the expiry. Revocation can only be learnt online.
pub fn check(record: &SignedRecord, public_key: &[u8], now: DateTime<Utc>) -> (Standing, Option<Payload>) {
    let Ok(signature) = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &record.signature)
    else {
        return (Standing::Forged, None);
    };
    let message = signed_message(&record.kid, &record.payload);
    if !crate::code::verifies_message(public_key, &message, &signature) {
        return (Standing::Forged, None);
    }
    let Ok(payload) = serde_json::from_str::<Payload>(&record.payload) else {
        return (Standing::Forged, None);
    };
    if payload.expires_at <= now {
        return (Standing::Expired, Some(payload));
    }
    (Standing::Valid, Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_codes_read_back_as_shown() {
        let code = new_code([42; 16]);
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(parse_code(&display_code("nanan", &code)), Some(("nanan".into(), code)));
    }

    #[test]
    fn the_signed_message_names_key_and_payload() {
        assert_eq!(
            signed_message("nanan-1", "{}"),
            b"nightmarket:record:v1:nanan-1:{}".to_vec()
        );
    }
}
