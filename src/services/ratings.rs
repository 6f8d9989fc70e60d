//! Shoppers' ratings: accepted only during a real visit (the stall checked in and the market
//! open), one per device per stall per night; the vendor's one reply; an official hiding a comment.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::codes::CodeRow;
use crate::db::{self, TenantTx};
use crate::domain::code::Colour;
use crate::domain::people::Permission;
use crate::domain::rating::{RatingInput, Tag, WordFilter};
use crate::domain::tenant::Tenant;
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::services::audit::{self, Actor, Change};
use crate::services::shopper::Shopper;
use crate::services::supervision;

/// Where a stall stands tonight, as a shopper sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tonight {
    /// Checked in and the market is open: trading now.
    Open,
    /// Checked in, the market not open yet.
    Ready,
    /// Checked out for the night.
    Left,
    /// Not checked in tonight.
    Absent,
}

impl Tonight {
    pub fn label_key(self) -> &'static str {
        match self {
            Tonight::Open => "tonight.open",
            Tonight::Ready => "tonight.ready",
            Tonight::Left => "tonight.left",
            Tonight::Absent => "tonight.absent",
        }
    }
}

/// The business night under way at `now` and where the stall stands in it.
pub async fn tonight(
    tx: &mut TenantTx,
    tenant: &Tenant,
    code: &CodeRow,
    now: DateTime<Utc>,
) -> AppResult<(NaiveDate, Tonight)> {
    let hours = code.hours();
    let local = now.with_timezone(&tenant.timezone).naive_local();
    let night = hours.business_date(local);
    let state = match db::checkins::for_night(tx, code.id, night).await? {
        None => Tonight::Absent,
        Some(c) if c.checked_out_at.is_some() => Tonight::Left,
        Some(_) if hours.is_open_at(local.time()) => Tonight::Open,
        Some(_) => Tonight::Ready,
    };
    Ok((night, state))
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Rated {
    pub id: Uuid,
    pub stars: i16,
    pub tags: Vec<String>,
    /// The comment as published (the tenant's word filter applied).
    pub comment: String,
    pub business_date: NaiveDate,
}

/// Rates the stall of a genuine, live code.
pub async fn rate(
    state: &AppState,
    tenant: &Tenant,
    code: &CodeRow,
    shopper: &Shopper,
    stars: &str,
    tags: &[String],
    comment: &str,
) -> AppResult<Rated> {
    state
        .shopper_throttle
        .check(&format!("rate/{}", shopper.device_hash), shopper.address)?;
    let input = RatingInput::parse(stars, tags, comment).map_err(AppError::Validation)?;
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(tenant.id).await?;
    // Users before codes: the vendor's lock first, as every change of derived causes takes it.
    db::credentials::lock_vendor(&mut tx, code.vendor_id).await?;
    if code.revoked_at.is_some() {
        return Err(AppError::Conflict(Msg::new("code.revoked")));
    }
    if Colour::parse(&code.colour) == Some(Colour::Red) {
        return Err(AppError::Conflict(Msg::new("rating.red")));
    }
    let (night, tonight) = tonight(&mut tx, tenant, code, now).await?;
    match tonight {
        Tonight::Open => {}
        Tonight::Ready => return Err(AppError::Conflict(Msg::new("rating.not_open_yet"))),
        Tonight::Left => return Err(AppError::Conflict(Msg::new("rating.left"))),
        Tonight::Absent => return Err(AppError::Conflict(Msg::new("rating.not_checked_in"))),
    }
    if db::ratings::rated(&mut tx, code.id, night, &shopper.device_hash).await? {
        return Err(AppError::Conflict(Msg::new("rating.once_per_night")));
    }
    let settings = db::settings::get(&mut tx).await?;
    let comment = WordFilter::new(&settings.word_filter).mask(&input.comment);
    let tags: Vec<String> = input.tags.iter().map(|t| t.as_str().to_string()).collect();
    let id = db::ratings::insert(
        &mut tx,
        &db::ratings::NewRating {
            code_id: code.id,
            vendor_id: code.vendor_id,
            business_date: night,
            stars: input.stars,
            tags: &tags,
            comment: &comment,
            device_hash: &shopper.device_hash,
            at: now,
        },
    )
    .await?;
    let actor = Actor::public(&shopper.device_hash);
    audit::record(
        &mut tx,
        &actor,
        Change::new("rating.create", "code", code.id).after(&serde_json::json!({
            "rating": id, "stars": input.stars, "tags": tags, "comment": comment, "night": night
        })),
    )
    .await?;
    supervision::sync_vendor(
        &mut tx,
        &state.keys,
        &actor,
        code.vendor_id,
        now,
        tenant.timezone,
        &settings,
    )
    .await?;
    tx.commit().await?;
    Ok(Rated {
        id,
        stars: input.stars,
        tags,
        comment,
        business_date: night,
    })
}

/// A rating as pages and the API show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RatingView {
    pub id: Uuid,
    pub code_id: Uuid,
    pub stars: i16,
    pub tags: Vec<String>,
    /// Empty when hidden (for the public) or not given.
    pub comment: String,
    pub hidden: bool,
    /// Why an official hid it (staff and the vendor only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_reason: Option<String>,
    pub reply: Option<String>,
    pub business_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

impl RatingView {
    /// `public`: as shoppers see it (a hidden comment's text and reason withheld).
    pub fn of(r: &db::ratings::RatingRow, public: bool) -> RatingView {
        let hidden = r.hidden_at.is_some();
        RatingView {
            id: r.id,
            code_id: r.code_id,
            stars: r.stars,
            tags: r.tags.clone(),
            comment: if hidden && public {
                String::new()
            } else {
                r.comment.clone()
            },
            hidden,
            hidden_reason: if public { None } else { r.hidden_reason.clone() },
            reply: r.reply.clone(),
            business_date: r.business_date,
            created_at: r.created_at,
        }
    }

    /// The labels of its tags in the reader's language.
    pub fn tag_keys(&self) -> Vec<&'static str> {
        self.tags
            .iter()
            .filter_map(|t| Tag::parse(t))
            .map(Tag::label_key)
            .collect()
    }
}

/// The newest ratings of a stall for the vendor or staff (`code` checked by the caller).
pub async fn for_code(state: &AppState, user: &AuthUser, code: Uuid, limit: i64) -> AppResult<Vec<RatingView>> {
    let mut tx = state.db.tenant(user.tenant_id()).await?;
    Ok(db::ratings::for_code(&mut tx, code, limit)
        .await?
        .iter()
        .map(|r| RatingView::of(r, false))
        .collect())
}

/// The vendor's one public reply to a rating of their stall.
pub async fn reply(state: &AppState, vendor: &AuthUser, rating: Uuid, text: &str) -> AppResult<()> {
    vendor.require_vendor()?;
    let text = text.trim();
    let n = text.chars().count();
    if !(1..=200).contains(&n) {
        return Err(AppError::Validation(vec![FieldError::with(
            "reply",
            Msg::new("form.length_between").arg("min", 1).arg("max", 200),
        )]));
    }
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(vendor.tenant_id()).await?;
    let (row, owner) = db::ratings::get(&mut tx, rating).await?.ok_or(AppError::NotFound)?;
    if owner != vendor.id {
        return Err(AppError::NotFound);
    }
    let text = WordFilter::new(&db::settings::get(&mut tx).await?.word_filter).mask(text);
    if !db::ratings::reply(&mut tx, rating, &text, now).await? {
        return Err(AppError::Conflict(Msg::new("rating.replied")));
    }
    audit::record(
        &mut tx,
        &vendor.actor(),
        Change::new("rating.reply", "rating", rating).after(&serde_json::json!({ "reply": text })),
    )
    .await?;
    tx.touch(row.code_id);
    tx.commit().await?;
    Ok(())
}

/// An official hides a comment (with a reason) or shows it again; the text is kept either way.
pub async fn moderate(state: &AppState, official: &AuthUser, rating: Uuid, hide: bool, reason: &str) -> AppResult<()> {
    official.require(Permission::Complaints)?;
    let reason = reason.trim();
    if hide && !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "rating.hide_reason"));
    }
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(official.tenant_id()).await?;
    let (row, _) = db::ratings::get(&mut tx, rating).await?.ok_or(AppError::NotFound)?;
    if row.hidden_at.is_some() == hide {
        return Err(AppError::Conflict(Msg::new(if hide {
            "rating.already_hidden"
        } else {
            "rating.not_hidden"
        })));
    }
    db::ratings::set_hidden(&mut tx, rating, hide.then_some((reason, official.id, now))).await?;
    audit::record(
        &mut tx,
        &official.actor(),
        Change::new(if hide { "rating.hide" } else { "rating.show" }, "rating", rating)
            .before(&serde_json::json!({ "hidden": !hide, "reason": row.hidden_reason }))
            .after(&serde_json::json!({ "hidden": hide, "reason": hide.then_some(reason) })),
    )
    .await?;
    tx.touch(row.code_id);
    tx.commit().await?;
    Ok(())
}
