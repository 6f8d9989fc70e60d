//! Shoppers' ratings: accepted only during a real visit (the stall checked in and the market
//! open), one per device per stall per night; the vendor's one reply; an official hiding a comment.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::shopper::Shopper;
use crate::{live, supervision};
use nightmarket_db::codes::CodeRow;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::burst::{self, Held};
use nightmarket_domain::code::Colour;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Permission;
use nightmarket_domain::rating::{RatingInput, Tag, WordFilter};
use nightmarket_domain::tenant::Tenant;
use nightmarket_domain::ticket::{self, TicketError};

/// Where a stall stands tonight, as a shopper sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

    /// The same state without "tonight", as a complaint's evidence states it about its moment.
    pub fn then_key(self) -> &'static str {
        match self {
            Tonight::Open => "complaint.then_open",
            Tonight::Ready => "complaint.then_ready",
            Tonight::Left => "complaint.then_left",
            Tonight::Absent => "complaint.then_absent",
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

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rated {
    pub id: Uuid,
    pub stars: i16,
    pub tags: Vec<String>,
    /// The comment as published (the tenant's word filter applied).
    pub comment: String,
    pub business_date: NaiveDate,
}

/// A rating ticket for this device to rate this stall, as the scan page hands it out.
pub fn ticket(keys: &crate::secrets::Keys, tenant: &Tenant, code: Uuid, device_id: &str, now: DateTime<Utc>) -> String {
    let nonce = hex::encode(crate::secrets::random_bytes::<8>());
    ticket::issue(
        &keys.rating_ticket,
        tenant.id.0,
        code,
        device_id,
        now.timestamp(),
        &nonce,
    )
}

/// Whether this device has rated the stall on the night under way (the rate form then says so
/// instead of being filled in for nothing).
pub async fn rated_tonight(ctx: &Ctx, tenant: &Tenant, code: &CodeRow, shopper: &Shopper) -> AppResult<bool> {
    let now = ctx.clock.now();
    let night = code
        .hours()
        .business_date(now.with_timezone(&tenant.timezone).naive_local());
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let rated = db::ratings::rated(&mut tx, code.id, night, &shopper.device_hash).await?;
    tx.commit().await?;
    Ok(rated)
}

/// How a rating was taken: counted, or held for an official (with the signal that held it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Counted,
    Held,
}

/// Rates the stall of a genuine, live code, with the ticket its scan page handed this device.
#[allow(clippy::too_many_arguments)]
pub async fn rate(
    ctx: &Ctx,
    tenant: &Tenant,
    code: &CodeRow,
    shopper: &Shopper,
    device_id: &str,
    ticket_text: &str,
    stars: &str,
    tags: &[String],
    comment: &str,
) -> AppResult<(Rated, Standing)> {
    ctx.shopper_throttle
        .check(
            ctx.db.global(),
            &format!("rate/{}", shopper.device_hash),
            shopper.address,
        )
        .await?;
    let now = ctx.clock.now();
    // A real scan: a script that never opened the scan page (or sends no cookie) has no ticket
    // for this device and stall. Checked here, refused below once the stall's own state (the
    // truer reason, when it cannot be rated at all) has been said.
    let nonce = ticket::verify(
        &ctx.keys.rating_ticket,
        ticket_text,
        tenant.id.0,
        code.id,
        device_id,
        now.timestamp(),
    )
    .map_err(|e| {
        AppError::Conflict(Msg::new(match e {
            TicketError::Missing | TicketError::Forged => "rating.ticket_missing",
            TicketError::Expired => "rating.ticket_expired",
        }))
    });
    let input = RatingInput::parse(stars, tags, comment).map_err(AppError::Validation)?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    if code.revoked_at.is_some() {
        return Err(AppError::Conflict(Msg::new("code.revoked")));
    }
    if code.colour == Colour::Red {
        return Err(AppError::Conflict(Msg::new("rating.red")));
    }
    let (night, tonight) = tonight(&mut tx, tenant, code, now).await?;
    match tonight {
        Tonight::Open => {}
        Tonight::Ready => return Err(AppError::Conflict(Msg::new("rating.not_open_yet"))),
        Tonight::Left => return Err(AppError::Conflict(Msg::new("rating.left"))),
        Tonight::Absent => return Err(AppError::Conflict(Msg::new("rating.not_checked_in"))),
    }
    let nonce = nonce?;
    // Users before codes: the vendor's lock first, as every change of derived causes takes it.
    // It also puts ratings of one stall in a line, so the burst signals each sees are exact.
    db::credentials::lock_vendor(&mut tx, code.vendor_id).await?;
    if db::ratings::rated(&mut tx, code.id, night, &shopper.device_hash).await? {
        return Err(AppError::Conflict(Msg::new("rating.once_per_night")));
    }
    let client_hash = ctx
        .keys
        .blind_index(tenant.id, "client-address", &shopper.address.to_string());
    let signals = db::ratings::burst_signals(
        &mut tx,
        code.id,
        night,
        &client_hash,
        now - chrono::Duration::minutes(burst::BURST_MINUTES),
    )
    .await?;
    let held = burst::standing(signals).err();
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
            status: if held.is_some() { "held" } else { "counted" },
            held_reason: held.map(Held::as_str),
            client_hash: &client_hash,
            ticket: nonce,
        },
    )
    .await?;
    let actor = Author::public(&shopper.device_hash);
    if let Some(reason) = held {
        tracing::info!(tenant = %tenant.slug, code = %code.id, reason = reason.as_str(), "rating held for an official");
    }
    if held.is_some() && signals.held_tonight == 0 {
        // Officials hear of the first held rating of a stall a night, not of each in a flood.
        live::notify_staff_with(
            &mut tx,
            now,
            Some(Permission::Complaints),
            NoticeKind::RatingsHeld,
            &[("stall", code.stall_name.as_str()), ("slot", code.slot_code.as_str())],
            Some("/official/ratings/held"),
        )
        .await?;
    }
    if held.is_none() {
        supervision::sync_vendor(
            &mut tx,
            &ctx.keys,
            &actor,
            code.vendor_id,
            now,
            tenant.timezone,
            &settings,
        )
        .await?;
    }
    // Last before commit: the audit chain's head is held from here to the commit (a colour change
    // the rating caused is recorded by sync_vendor, before it).
    audit::record(
        &mut tx,
        &actor,
        Change::new("rating.create", "code", code.id).after(&serde_json::json!({
            "rating": id, "stars": input.stars, "tags": tags, "comment": comment, "night": night,
            "held": held.map(Held::as_str)
        })),
    )
    .await?;
    tx.commit().await?;
    Ok((
        Rated {
            id,
            stars: input.stars,
            tags,
            comment,
            business_date: night,
        },
        if held.is_some() {
            Standing::Held
        } else {
            Standing::Counted
        },
    ))
}

/// What an official decides about a rating's stars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RatingDecision {
    /// A held rating counts after all.
    Release,
    /// The stars leave the score (held or counted); the words stay, as moderation leaves them.
    Void,
}

/// An official releases a held rating or voids a rating's stars, with a note; the stall's score
/// (and the tenant mean every score leans on) follow in the same transaction.
pub async fn decide(ctx: &Ctx, official: &Actor, rating: Uuid, decision: RatingDecision, note: &str) -> AppResult<()> {
    official.require(Permission::Complaints)?;
    let note = note.trim();
    let n = note.chars().count();
    if (decision == RatingDecision::Void && !(2..=200).contains(&n)) || n > 200 {
        return Err(AppError::field("note", "rating.void_note"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let vendor = db::ratings::vendor_of(&mut tx, rating)
        .await?
        .ok_or(AppError::NotFound)?;
    db::credentials::lock_vendor(&mut tx, vendor).await?;
    let (row, _) = db::ratings::get(&mut tx, rating).await?.ok_or(AppError::NotFound)?;
    let to = match (decision, row.status.as_str()) {
        (RatingDecision::Release, "held") => "counted",
        (RatingDecision::Void, "held" | "counted") => "voided",
        (RatingDecision::Release, _) => return Err(AppError::Conflict(Msg::new("rating.not_held"))),
        (RatingDecision::Void, _) => return Err(AppError::Conflict(Msg::new("rating.already_voided"))),
    };
    db::ratings::decide(
        &mut tx,
        rating,
        to,
        (!note.is_empty()).then_some(note),
        official.id,
        now,
    )
    .await?;
    let actor = Author::of(official);
    audit::record(
        &mut tx,
        &actor,
        Change::new(
            if to == "voided" {
                "rating.void"
            } else {
                "rating.release"
            },
            "rating",
            rating,
        )
        .before(&serde_json::json!({ "status": row.status, "stars": row.stars, "held": row.held_reason }))
        .after(&serde_json::json!({ "status": to, "note": note })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
    let tz = official.tenant.timezone;
    supervision::sync_vendor(&mut tx, &ctx.keys, &actor, vendor, now, tz, &settings).await?;
    tx.touch(row.code_id);
    tx.commit().await?;
    Ok(())
}

/// The stall a rating is about, for staff (pages go back to that stall after acting on it);
/// not found for a rating of another tenant.
pub async fn code_of(ctx: &Ctx, official: &Actor, rating: Uuid) -> AppResult<Uuid> {
    official.require_staff()?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let (row, _) = db::ratings::get(&mut tx, rating).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(row.code_id)
}

/// A held rating as the officials' queue lists it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldRating {
    #[serde(flatten)]
    pub rating: RatingView,
    pub stall_name: String,
    pub slot_code: String,
}

/// Ratings held for an official, oldest first.
pub async fn held(ctx: &Ctx, official: &Actor) -> AppResult<Vec<HeldRating>> {
    official.require(Permission::Complaints)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    Ok(db::ratings::held(&mut tx, 200)
        .await?
        .iter()
        .map(|(r, stall, slot)| HeldRating {
            rating: RatingView::of(r, false),
            stall_name: stall.clone(),
            slot_code: slot.clone(),
        })
        .collect())
}

/// A rating as pages and the API show it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// counted, held (a burst, waiting for an official) or voided (its stars out of the score).
    pub status: String,
    /// Why it was held: address_burst or stall_burst.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_reason: Option<String>,
    /// An official's note on releasing or voiding it (staff and the vendor only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_note: Option<String>,
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
            status: r.status.clone(),
            held_reason: if public { None } else { r.held_reason.clone() },
            decision_note: if public { None } else { r.decision_note.clone() },
        }
    }

    /// Why it was held, as words.
    pub fn held_label_key(&self) -> Option<&'static str> {
        self.held_reason.as_deref().and_then(Held::parse).map(Held::label_key)
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
pub async fn for_code(ctx: &Ctx, user: &Actor, code: Uuid, limit: i64) -> AppResult<Vec<RatingView>> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    // Staff, or the stall's own vendor; anyone else: no such code.
    crate::scores::visible_code(&mut tx, user, code).await?;
    Ok(db::ratings::for_code(&mut tx, code, limit)
        .await?
        .iter()
        .map(|r| RatingView::of(r, false))
        .collect())
}

/// The vendor's one public reply to a rating of their stall.
pub async fn reply(ctx: &Ctx, vendor: &Actor, rating: Uuid, text: &str) -> AppResult<()> {
    vendor.require_vendor()?;
    let text = text.trim();
    let n = text.chars().count();
    if !(1..=200).contains(&n) {
        return Err(AppError::Validation(vec![FieldError::with(
            "reply",
            Msg::new("form.length_between").arg("min", 1).arg("max", 200),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
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
        &Author::of(vendor),
        Change::new("rating.reply", "rating", rating).after(&serde_json::json!({ "reply": text })),
    )
    .await?;
    tx.touch(row.code_id);
    tx.commit().await?;
    Ok(())
}

/// An official hides a comment (with a reason) or shows it again; the text is kept either way.
pub async fn moderate(ctx: &Ctx, official: &Actor, rating: Uuid, hide: bool, reason: &str) -> AppResult<()> {
    official.require(Permission::Complaints)?;
    let reason = reason.trim();
    if hide && !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "rating.hide_reason"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
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
        &Author::of(official),
        Change::new(if hide { "rating.hide" } else { "rating.show" }, "rating", rating)
            .before(&serde_json::json!({ "hidden": !hide, "reason": row.hidden_reason }))
            .after(&serde_json::json!({ "hidden": hide, "reason": hide.then_some(reason) })),
    )
    .await?;
    tx.touch(row.code_id);
    tx.commit().await?;
    Ok(())
}
