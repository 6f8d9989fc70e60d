//! The numbers officials act on: a tenant's or a market's figures over a range of business
//! nights (tonight, a chosen night, the last 7/30/90 nights, or any range up to a year), the same
//! figures as tables for CSV and JSON, a market's public record, and exports of the records
//! behind them (applications, complaints, inspections).
//!
//! Figures that add up across nights (scans, ratings, check-ins, inspections, redemptions,
//! complaints filed) are read per market and night and summed here, both ways: a series by night
//! for the charts and a row per market for "where are the problems". Figures that do not add up
//! (the share of complaints closed on time, median review time, codes by colour now) are read as
//! such.

mod dashboard;
mod public;
mod records;

pub use dashboard::*;
pub use public::*;
pub use records::*;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Ctx;
use crate::error::{AppError, AppResult};
use nightmarket_db::markets::MarketRow;
use nightmarket_db::numbers::{MarketNight, Window};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::figures::{fixed2, hours, percent};
use nightmarket_domain::people::Actor;
use nightmarket_domain::tenant::Tenant;
use nightmarket_domain::voucher;

/// The longest range a dashboard or export covers.
pub const MAX_NIGHTS: i64 = 366;

/// What the range form and the API's query string carry. Empty strings are "not given", so a
/// plain HTML form can send every field.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RangeQuery {
    /// `tonight` (the default), `night` (with `night`), `7`, `30`, `90` (nights ending tonight)
    /// or `custom` (with `from` and `to`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(pattern = r"^\s*(tonight|night|7|30|90|custom)?\s*$"))]
    pub range: String,
    /// A business night, YYYY-MM-DD, for `range=night`.
    #[serde(default)]
    pub night: String,
    /// First night, YYYY-MM-DD, for `range=custom`.
    #[serde(default)]
    pub from: String,
    /// Last night, YYYY-MM-DD, for `range=custom` (at most 366 nights).
    #[serde(default)]
    pub to: String,
    /// One market's figures (its id); the whole tenant when empty.
    #[serde(default)]
    pub market: String,
}

impl RangeQuery {
    /// The query string that asks for the same range and market again (for links and exports).
    pub fn to_query(&self, range: &NightRange) -> String {
        let mut q = format!("range={}", range.kind);
        match range.kind.as_str() {
            "night" => q.push_str(&format!("&night={}", range.from)),
            "custom" => q.push_str(&format!("&from={}&to={}", range.from, range.to)),
            _ => {}
        }
        if !self.market.trim().is_empty() {
            q.push_str(&format!("&market={}", self.market.trim()));
        }
        q
    }
}

/// The nights a dashboard covers, both ends included.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NightRange {
    /// tonight, night, 7, 30, 90 or custom.
    pub kind: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub nights: i64,
    /// The business night under way (or about to start) when the figures were read.
    pub tonight: NaiveDate,
}

fn date(field: &'static str, text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| AppError::field(field, "application.date_format"))
}

impl NightRange {
    pub fn parse(q: &RangeQuery, tonight: NaiveDate) -> AppResult<NightRange> {
        let kind = match q.range.trim() {
            "" => "tonight",
            k => k,
        };
        let (from, to) = match kind {
            "tonight" => (tonight, tonight),
            "night" => {
                let n = date("night", &q.night)?;
                (n, n)
            }
            "7" | "30" | "90" => {
                let n: i64 = kind
                    .parse()
                    .map_err(|_| AppError::field("range", "numbers.range_unknown"))?;
                (tonight - Duration::days(n - 1), tonight)
            }
            "custom" => (date("from", &q.from)?, date("to", &q.to)?),
            _ => return Err(AppError::field("range", "numbers.range_unknown")),
        };
        if to < from {
            return Err(AppError::field("to", "numbers.range_order"));
        }
        if to > tonight {
            return Err(AppError::field(
                if kind == "night" { "night" } else { "to" },
                "numbers.range_future",
            ));
        }
        let nights = (to - from).num_days() + 1;
        if nights > MAX_NIGHTS {
            return Err(AppError::field("from", "numbers.range_too_long"));
        }
        Ok(NightRange {
            kind: kind.to_string(),
            from,
            to,
            nights,
            tonight,
        })
    }

    /// The range's nights, oldest first.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let from = self.from;
        (0..self.nights).map(move |i| from + Duration::days(i))
    }
}

/// The night a dashboard calls "tonight": the chosen market's current business night; for the
/// whole tenant, the latest night of a market open now, else today's date.
pub fn current_night(markets: &[MarketRow], market: Option<&MarketRow>, tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let local = now.with_timezone(&tz).naive_local();
    if let Some(m) = market {
        return m.hours().business_date(local);
    }
    markets
        .iter()
        .filter(|m| m.hours().is_open_at(local.time()))
        .map(|m| m.hours().business_date(local))
        .max()
        .unwrap_or(local.date())
}

/// The night a look-up means by default: the latest business night that has started in any of the
/// tenant's markets (at 03:28 after an 18:00–02:00 night, or at noon, that is last night's date).
pub fn latest_started_night(markets: &[MarketRow], tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let local = now.with_timezone(&tz).naive_local();
    markets
        .iter()
        .map(|m| {
            let opens = m.hours().opens;
            if local.time() >= opens {
                local.date()
            } else {
                local.date() - Duration::days(1)
            }
        })
        .max()
        .unwrap_or(local.date())
}

/// [`latest_started_night`] for a signed-in member of staff's tenant.
pub async fn lookup_night(ctx: &Ctx, user: &Actor) -> AppResult<NaiveDate> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let markets = db::markets::list(&mut tx).await?;
    tx.commit().await?;
    Ok(latest_started_night(&markets, user.tenant.timezone, ctx.clock.now()))
}
