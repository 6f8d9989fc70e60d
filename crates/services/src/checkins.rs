//! Nightly check-in (打卡签到) at the stall, check-out, and who is open, late or absent tonight.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
/// A night's check-in as the vendor's stall page lists it.
pub use nightmarket_db::checkins::CheckInRow;
use nightmarket_db::codes::{CodeFilter, CodeRow};
use nightmarket_db::{self as db, checkins::NewCheckIn};
use nightmarket_domain::checkin::{Refusal, Rules};
use nightmarket_domain::code::Colour;
use nightmarket_domain::people::Actor;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckedIn {
    /// The business night this check-in counts for (the date it started, in the tenant's zone).
    pub business_date: NaiveDate,
    pub late: bool,
    pub distance_m: f64,
    pub at: DateTime<Utc>,
}

/// The market's check-in rules with the tenant's settings.
async fn rules(tx: &mut db::TenantTx, code: &CodeRow) -> AppResult<Rules> {
    let market = db::markets::get(tx, code.market_id).await?.ok_or(AppError::NotFound)?;
    let s = db::settings::get(tx).await?;
    Ok(Rules {
        hours: market.hours(),
        fence: market.fence(),
        early: Duration::minutes(i64::from(s.checkin_early_minutes)),
        late_after: Duration::minutes(i64::from(s.late_after_minutes)),
    })
}

/// A live code of this vendor, or 404.
async fn vendors_code(tx: &mut db::TenantTx, vendor: &Actor, code_id: Uuid) -> AppResult<CodeRow> {
    vendor.require_vendor()?;
    db::codes::get(tx, code_id)
        .await?
        .filter(|c| c.vendor_id == vendor.id && c.revoked_at.is_none())
        .ok_or(AppError::NotFound)
}

pub async fn check_in(
    ctx: &Ctx,
    vendor: &Actor,
    code_id: Uuid,
    lat: Option<f64>,
    lng: Option<f64>,
    accuracy_m: Option<f64>,
) -> AppResult<CheckedIn> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let code = vendors_code(&mut tx, vendor, code_id).await?;
    if code.colour == Colour::Red {
        return Err(AppError::Conflict(Msg::new("checkin.code_red")));
    }
    let (Some(lat), Some(lng)) = (lat, lng) else {
        return Err(AppError::field("position", "checkin.position_required"));
    };
    let rules = rules(&mut tx, &code).await?;
    let local = now.with_timezone(&vendor.tenant.timezone).naive_local();
    let accepted = match rules.check(local, lat, lng, accuracy_m) {
        Ok(a) => a,
        Err(Refusal::Outside { by_m }) => {
            return Err(AppError::Validation(vec![FieldError::with(
                "position",
                Msg::new("checkin.outside").arg("m", format!("{by_m:.0}")),
            )]));
        }
        Err(Refusal::Closed) => {
            return Err(AppError::Conflict(
                Msg::new("checkin.closed")
                    .arg("hours", rules.hours.label())
                    .arg("early", rules.early.num_minutes()),
            ));
        }
        Err(Refusal::BadPosition) => return Err(AppError::field("position", "market.position_out_of_range")),
    };
    let distance_m = rules
        .fence
        .center
        .distance_m(nightmarket_domain::geo::LatLng { lat, lng });
    db::checkins::insert(
        &mut tx,
        &NewCheckIn {
            code_id,
            vendor_id: vendor.id,
            market_id: code.market_id,
            business_date: accepted.business_date,
            at: now,
            lat,
            lng,
            accuracy_m,
            distance_m,
            late: accepted.late,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("checkin.create", "code", code_id).after(&serde_json::json!({
            "night": accepted.business_date, "late": accepted.late, "distance_m": distance_m.round()
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(CheckedIn {
        business_date: accepted.business_date,
        late: accepted.late,
        distance_m,
        at: now,
    })
}

/// Leaving for the night (optional).
pub async fn check_out(ctx: &Ctx, vendor: &Actor, code_id: Uuid) -> AppResult<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let code = vendors_code(&mut tx, vendor, code_id).await?;
    let rules = rules(&mut tx, &code).await?;
    let night = rules.night_of(now.with_timezone(&vendor.tenant.timezone).naive_local());
    let Some(row) = db::checkins::for_night(&mut tx, code_id, night).await? else {
        return Err(AppError::Conflict(Msg::new("checkin.not_checked_in")));
    };
    if !db::checkins::check_out(&mut tx, row.id, now).await? {
        return Err(AppError::Conflict(Msg::new("checkin.already_out")));
    }
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("checkin.check_out", "code", code_id).after(&serde_json::json!({ "night": night })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A stall's nights as its pages show them.
#[derive(Clone, Debug)]
pub struct StallNights {
    /// The business night under way (or coming) now.
    pub night: NaiveDate,
    /// Tonight's check-in, if any.
    pub tonight: Option<db::checkins::CheckInRow>,
    /// The last nights checked in, newest first.
    pub recent: Vec<db::checkins::CheckInRow>,
    /// The market's hours, e.g. "18:00–02:00".
    pub hours: String,
    /// How early before opening a check-in is accepted, in minutes.
    pub early_minutes: i64,
}

/// Tonight and the last nights at a stall (`code` already checked to be the caller's to see).
pub async fn for_stall(ctx: &Ctx, user: &Actor, code: &CodeRow) -> AppResult<StallNights> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let rules = rules(&mut tx, code).await?;
    let night = rules.night_of(now.with_timezone(&user.tenant.timezone).naive_local());
    let recent = db::checkins::recent(&mut tx, code.id, 14).await?;
    Ok(StallNights {
        night,
        tonight: recent.iter().find(|c| c.business_date == night).cloned(),
        recent,
        hours: rules.hours.label(),
        early_minutes: rules.early.num_minutes(),
    })
}

/// Where a stall stands on a night.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Checked in and not checked out.
    Open,
    /// Checked in, then checked out.
    Left,
    /// No check-in that night.
    Absent,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StallNight {
    pub code_id: Uuid,
    pub slot_id: Uuid,
    /// The address of the code's public scan page.
    pub scan_path: String,
    pub slot: String,
    pub stall_name: String,
    pub vendor: String,
    pub colour: Colour,
    pub presence: Presence,
    pub late: bool,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_out_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NightCounts {
    pub stalls: usize,
    pub open: usize,
    pub left: usize,
    pub late: usize,
    pub absent: usize,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Night {
    pub market_id: Uuid,
    pub market_name: String,
    pub date: NaiveDate,
    /// Whether `date` is the night under way now.
    pub tonight: bool,
    /// Whether the night's opening time has passed (before it, nobody is absent yet).
    pub opened: bool,
    pub counts: NightCounts,
    pub stalls: Vec<StallNight>,
}

/// A market's night for officials: every approved stall, open now, late or absent.
pub async fn night(ctx: &Ctx, official: &Actor, market_id: Uuid, date: Option<NaiveDate>) -> AppResult<Night> {
    official.require_staff()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    read_night(&mut tx, official.tenant.timezone, now, market_id, date).await
}

/// A market's night as of `now` (tonight's when `date` is None), in the caller's transaction: the
/// officials' night page, the public map and the live wall read it alike.
pub(crate) async fn read_night(
    tx: &mut db::TenantTx,
    timezone: chrono_tz::Tz,
    now: DateTime<Utc>,
    market_id: Uuid,
    date: Option<NaiveDate>,
) -> AppResult<Night> {
    let market = db::markets::get(tx, market_id).await?.ok_or(AppError::NotFound)?;
    let local = now.with_timezone(&timezone).naive_local();
    let current = market.hours().business_date(local);
    let date = date.unwrap_or(current);
    let opened = date < current || (date == current && local >= date.and_time(market.hours().opens));
    let codes = db::codes::list(
        tx,
        &CodeFilter {
            market: Some(market_id),
            live: true,
            ..Default::default()
        },
    )
    .await?;
    let checkins = db::checkins::market_night(tx, market_id, date).await?;
    let mut counts = NightCounts {
        stalls: codes.len(),
        ..Default::default()
    };
    let stalls = codes
        .iter()
        .map(|c| {
            let ci = checkins.iter().find(|x| x.code_id == c.id);
            let presence = match ci {
                Some(x) if x.checked_out_at.is_some() => Presence::Left,
                Some(_) => Presence::Open,
                None => Presence::Absent,
            };
            match presence {
                Presence::Open => counts.open += 1,
                Presence::Left => counts.left += 1,
                Presence::Absent => counts.absent += 1,
            }
            let late = ci.is_some_and(|x| x.late);
            if late {
                counts.late += 1;
            }
            StallNight {
                code_id: c.id,
                slot_id: c.slot_id,
                scan_path: crate::codes::url_path(c),
                slot: c.slot_code.clone(),
                stall_name: c.stall_name.clone(),
                vendor: c.vendor_name_masked.clone(),
                colour: c.colour,
                presence,
                late,
                checked_in_at: ci.map(|x| x.checked_in_at),
                checked_out_at: ci.and_then(|x| x.checked_out_at),
            }
        })
        .collect();
    Ok(Night {
        market_id,
        market_name: market.name,
        date,
        tonight: date == current,
        opened,
        counts,
        stalls,
    })
}
