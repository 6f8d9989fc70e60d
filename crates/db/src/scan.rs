//! The scan pages' data, read in one call (migration 0017's `scan_pages`).

use chrono::NaiveDate;
use sqlx::types::Json;

use super::Db;
use crate::checkins::CheckInRow;
use crate::codes::{CauseRow, CodeRow};
use crate::credentials::CredentialRow;
use crate::ratings::RatingRow;
use nightmarket_domain::code::{Colour, LicenceFacts};
use nightmarket_domain::market::Category;
use nightmarket_domain::score::Score;
use nightmarket_domain::tenant::TenantId;

/// The latest goods-source declaration of the code's vendor, as the scan page's badge shows it.
#[derive(Clone, Debug)]
pub struct LatestGoods {
    pub received_on: NaiveDate,
    pub place: String,
    pub checked: bool,
}

/// Everything a scan page shows about one code, as one statement read it.
#[derive(Clone, Debug)]
pub struct ScanRow {
    pub code: CodeRow,
    /// Open causes, oldest first.
    pub causes: Vec<CauseRow>,
    /// The code's check-ins of the nights asked for.
    pub check_ins: Vec<CheckInRow>,
    pub score: Option<Score>,
    /// The newest counted ratings, newest first.
    pub ratings: Vec<RatingRow>,
    /// The tenant's settings that the page shows; None when the tenant never saved any.
    pub complaint_hotline: Option<String>,
    pub vouchers_at_yellow: Option<bool>,
    pub goods: Option<LatestGoods>,
    pub credentials: Vec<CredentialRow>,
}

/// The codes `codes` of `tenant` (those it has, revoked or not, with a key it still has), with what
/// their scan pages show, in one round trip and one snapshot. `nights` are the business nights
/// whose check-ins to read; `ratings` how many ratings per code.
pub async fn pages(
    db: &Db,
    tenant: TenantId,
    codes: &[String],
    nights: &[NaiveDate],
    ratings: i64,
) -> Result<Vec<ScanRow>, sqlx::Error> {
    let ratings = i32::try_from(ratings).unwrap_or(i32::MAX);
    let rows = sqlx::query!(
        r#"select id as "id!", code as "code!", vendor_id as "vendor_id!",
                  application_id as "application_id!", market_id as "market_id!", slot_id as "slot_id!",
                  stall_name as "stall_name!", category as "category!: Category",
                  vendor_name_masked as "vendor_name_masked!", licence_facts as "licence_facts!: Json<LicenceFacts>",
                  kid as "kid!", signature as "signature!", colour as "colour!: Colour", revoked_at,
                  created_at as "created_at!", updated_at as "updated_at!", market_name as "market_name!",
                  market_opens as "market_opens!", market_closes as "market_closes!", slot_code as "slot_code!",
                  causes as "causes!: Json<Vec<CauseRow>>", check_ins as "check_ins!: Json<Vec<CheckInRow>>",
                  score as "score: Json<Score>", ratings as "ratings!: Json<Vec<RatingRow>>",
                  complaint_hotline, vouchers_at_yellow, goods_received_on, goods_place, goods_checked,
                  credentials as "credentials!: Json<Vec<CredentialRow>>"
           from scan_pages($1, $2, $3, $4)"#,
        tenant.0,
        codes,
        nights,
        ratings
    )
    .fetch_all(db.global())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ScanRow {
            code: CodeRow {
                id: r.id,
                code: r.code,
                vendor_id: r.vendor_id,
                application_id: r.application_id,
                market_id: r.market_id,
                slot_id: r.slot_id,
                stall_name: r.stall_name,
                category: r.category,
                vendor_name_masked: r.vendor_name_masked,
                licence_facts: r.licence_facts,
                kid: r.kid,
                signature: r.signature,
                colour: r.colour,
                revoked_at: r.revoked_at,
                created_at: r.created_at,
                updated_at: r.updated_at,
                market_name: r.market_name,
                market_opens: r.market_opens,
                market_closes: r.market_closes,
                slot_code: r.slot_code,
            },
            causes: r.causes.0,
            check_ins: r.check_ins.0,
            score: r.score.map(|s| s.0),
            ratings: r.ratings.0,
            complaint_hotline: r.complaint_hotline,
            vouchers_at_yellow: r.vouchers_at_yellow,
            goods: match (r.goods_received_on, r.goods_place) {
                (Some(received_on), Some(place)) => Some(LatestGoods {
                    received_on,
                    place,
                    checked: r.goods_checked.unwrap_or(false),
                }),
                _ => None,
            },
            credentials: r.credentials.0,
        })
        .collect())
}
