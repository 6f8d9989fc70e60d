//! A tenant's settings; a tenant without a row has the defaults.

use serde::{Deserialize, Serialize};

use super::TenantTx;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// Hours officials have to decide a submitted application.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 720))]
    pub review_deadline_hours: i32,
    /// Printed on placards and the scan page: digits and "-", 3–20 characters.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9-]{3,20}$"))]
    pub complaint_hotline: String,
    /// How early before opening vendors may check in (minutes).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 240))]
    pub checkin_early_minutes: i32,
    /// A check-in this long after opening is late (minutes).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 240))]
    pub late_after_minutes: i32,
    /// A credential expiring within this many days turns the code yellow.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 90))]
    pub expiry_warning_days: i32,
    /// Penalty points a vendor may lose in a month before the code turns red.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub monthly_points: i32,
    /// Days after a deduction within which the vendor may appeal.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 60))]
    pub appeal_days: i32,
    /// Below this score (0–100) a code turns yellow.
    #[serde(default = "defaults::score_threshold")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100))]
    pub score_threshold: i32,
    /// This many complaints about a stall waiting for an outcome turn its code yellow.
    #[serde(default = "defaults::unresolved_complaints_yellow")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub unresolved_complaints_yellow: i32,
    /// How many ratings' worth of weight the tenant-wide mean carries in a stall's average.
    #[serde(default = "defaults::rating_prior_weight")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub rating_prior_weight: i32,
    /// Words masked in shoppers' comments.
    #[serde(default)]
    pub word_filter: Vec<String>,
    /// Voucher fraud flags: the same shopper at the same stall more than this many times a campaign,
    #[serde(default = "defaults::flag_same_pair")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub flag_same_pair: i32,
    /// this many bills within `flag_near_fen` over the threshold,
    #[serde(default = "defaults::flag_near_count")]
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 100))]
    pub flag_near_count: i32,
    #[serde(default = "defaults::flag_near_fen")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
    pub flag_near_fen: i32,
    /// more than this many redemptions at one stall within `flag_burst_minutes`.
    #[serde(default = "defaults::flag_burst_count")]
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 1000))]
    pub flag_burst_count: i32,
    #[serde(default = "defaults::flag_burst_minutes")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 240))]
    pub flag_burst_minutes: i32,
    /// Whether a yellow code (a warning) may take vouchers; a red one never does.
    #[serde(default)]
    pub vouchers_at_yellow: bool,
    /// Days the documents of a rejected or withdrawn application are kept after its decision.
    #[serde(default = "defaults::rejected_documents_days")]
    #[cfg_attr(feature = "openapi", schema(minimum = 30, maximum = 1095))]
    pub rejected_documents_days: i32,
    /// Hours after which the patrol app says its copy of a market is stale.
    #[serde(default = "defaults::patrol_stale_hours")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 168))]
    pub patrol_stale_hours: i32,
}

mod defaults {
    pub fn patrol_stale_hours() -> i32 {
        12
    }

    pub fn rejected_documents_days() -> i32 {
        180
    }

    pub fn score_threshold() -> i32 {
        60
    }
    pub fn unresolved_complaints_yellow() -> i32 {
        3
    }
    pub fn rating_prior_weight() -> i32 {
        10
    }
    pub fn flag_same_pair() -> i32 {
        3
    }
    pub fn flag_near_count() -> i32 {
        3
    }
    pub fn flag_near_fen() -> i32 {
        300
    }
    pub fn flag_burst_count() -> i32 {
        10
    }
    pub fn flag_burst_minutes() -> i32 {
        5
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            review_deadline_hours: 24,
            complaint_hotline: "12345".into(),
            checkin_early_minutes: 60,
            late_after_minutes: 30,
            expiry_warning_days: 14,
            monthly_points: 12,
            appeal_days: 7,
            score_threshold: defaults::score_threshold(),
            unresolved_complaints_yellow: defaults::unresolved_complaints_yellow(),
            rating_prior_weight: defaults::rating_prior_weight(),
            word_filter: Vec::new(),
            flag_same_pair: defaults::flag_same_pair(),
            flag_near_count: defaults::flag_near_count(),
            flag_near_fen: defaults::flag_near_fen(),
            flag_burst_count: defaults::flag_burst_count(),
            flag_burst_minutes: defaults::flag_burst_minutes(),
            vouchers_at_yellow: false,
            rejected_documents_days: defaults::rejected_documents_days(),
            patrol_stale_hours: defaults::patrol_stale_hours(),
        }
    }
}

pub async fn get(tx: &mut TenantTx) -> Result<Settings, sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query_as!(
        Settings,
        "select review_deadline_hours, complaint_hotline, checkin_early_minutes, late_after_minutes,
                expiry_warning_days, monthly_points, appeal_days, score_threshold,
                unresolved_complaints_yellow, rating_prior_weight, word_filter, flag_same_pair, flag_near_count,
                flag_near_fen, flag_burst_count, flag_burst_minutes, vouchers_at_yellow, rejected_documents_days,
                patrol_stale_hours
         from tenant_settings where tenant_id = $1",
        tenant
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.unwrap_or_default())
}

pub async fn save(tx: &mut TenantTx, s: &Settings) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into tenant_settings (tenant_id, review_deadline_hours, complaint_hotline, checkin_early_minutes,
                                      late_after_minutes, expiry_warning_days, monthly_points, appeal_days,
                                      score_threshold, unresolved_complaints_yellow, rating_prior_weight, word_filter,
                                      flag_same_pair, flag_near_count, flag_near_fen, flag_burst_count, flag_burst_minutes,
                                      vouchers_at_yellow, rejected_documents_days, patrol_stale_hours)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         on conflict (tenant_id) do update
         set review_deadline_hours = excluded.review_deadline_hours,
             complaint_hotline = excluded.complaint_hotline,
             checkin_early_minutes = excluded.checkin_early_minutes,
             late_after_minutes = excluded.late_after_minutes,
             expiry_warning_days = excluded.expiry_warning_days,
             monthly_points = excluded.monthly_points,
             appeal_days = excluded.appeal_days,
             score_threshold = excluded.score_threshold,
             unresolved_complaints_yellow = excluded.unresolved_complaints_yellow,
             rating_prior_weight = excluded.rating_prior_weight,
             word_filter = excluded.word_filter,
             flag_same_pair = excluded.flag_same_pair,
             flag_near_count = excluded.flag_near_count,
             flag_near_fen = excluded.flag_near_fen,
             flag_burst_count = excluded.flag_burst_count,
             flag_burst_minutes = excluded.flag_burst_minutes,
             vouchers_at_yellow = excluded.vouchers_at_yellow,
             rejected_documents_days = excluded.rejected_documents_days,
             patrol_stale_hours = excluded.patrol_stale_hours,
             updated_at = now()",
        tenant,
        s.review_deadline_hours,
        s.complaint_hotline,
        s.checkin_early_minutes,
        s.late_after_minutes,
        s.expiry_warning_days,
        s.monthly_points,
        s.appeal_days,
        s.score_threshold,
        s.unresolved_complaints_yellow,
        s.rating_prior_weight,
        &s.word_filter,
        s.flag_same_pair,
        s.flag_near_count,
        s.flag_near_fen,
        s.flag_burst_count,
        s.flag_burst_minutes,
        s.vouchers_at_yellow,
        s.rejected_documents_days,
        s.patrol_stale_hours
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
