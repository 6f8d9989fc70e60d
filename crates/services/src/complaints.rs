//! Complaints (投诉): filing from a scan page or a hotline system, the shopper's tracking page,
//! the officials' queue with its deadlines and claims, the vendor's answer, and reopening.
//!
//! Every change is one transaction: the complaint, its public timeline, the audit record, the
//! stall's score and causes (`supervision::sync_vendor`) and the notices commit together.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Ctx;
use crate::applications::{MAX_DOCUMENT_BYTES, sniff};
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::i18n::Lang;
use crate::otp::{self, Purpose};
use crate::pii::Place;
use crate::ratings::Tonight;
use crate::shopper::Shopper;
use crate::{live, notices, sms, supervision};
use nightmarket_db::codes::CodeRow;
use nightmarket_db::complaints::{ComplaintFilter, ComplaintRow, NewComplaint};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::burst;
use nightmarket_domain::complaint::{self, Action, Category, Deadlines, State, Timing};
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::{Permission, Phone};
use nightmarket_domain::tenant::{Tenant, TenantId};

/// At most this many photos per complaint.
pub const MAX_PHOTOS: usize = 3;
/// How long a claim keeps other officials off a complaint.
pub const CLAIM_MINUTES: i64 = 30;

/// Where a complaint comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A shopper on the scan page (a phone number, if given, must be verified by SMS).
    Scan,
    /// A 12345 hotline system over Open311 (it answers for the caller).
    Open311,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Scan => "scan",
            Source::Open311 => "open311",
        }
    }
}

/// A complaint as filed.
#[derive(Debug, Default)]
pub struct Filing {
    pub category: String,
    pub description: String,
    /// Optional contact number.
    pub phone: String,
    /// The SMS code that proves the number (scan page only).
    pub sms_code: String,
    pub photos: Vec<Vec<u8>>,
    /// The hotline's own reference (Open311), kept for the exchange.
    pub source_ref: Option<String>,
    /// The shopper signed in for vouchers on this device, if any.
    pub voucher_shopper: Option<Uuid>,
}

/// What the filer gets back.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filed {
    /// The shopper's key to `/complaints/{tracking}`: a secret, never in a public feed.
    pub tracking: String,
    /// Open311's service_request_id: public.
    pub public_id: String,
    pub state: State,
    pub ack_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
}

fn phone_place(tx: &TenantTx, complaint: Uuid) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "complaints",
        column: "contact_phone_enc",
        row: complaint,
    }
}

fn photo_place(tx: &TenantTx, photo: Uuid) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "complaint_photos",
        column: "data_enc",
        row: photo,
    }
}

/// The tenant's deadlines for a category (its own, or the platform's default).
pub async fn deadlines_for(tx: &mut TenantTx, category: Category) -> AppResult<Deadlines> {
    Ok(db::complaints::deadlines(tx)
        .await?
        .into_iter()
        .find(|(c, _, _)| c == category.as_str())
        .map(|(_, ack_hours, resolve_days)| Deadlines {
            ack_hours,
            resolve_days,
        })
        .unwrap_or_else(|| category.default_deadlines()))
}

/// A filing that passed its checks: category, trimmed description, contact, photo types.
type Checked = (Category, String, Option<Phone>, Vec<&'static str>);

/// Checks a filing without touching the database: every problem at once.
/// A complaint's description, trimmed, in characters (as the table's check says).
pub const MIN_DESCRIPTION_CHARS: usize = 5;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

fn check(f: &Filing, source: Source) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let category = Category::parse(f.category.trim());
    if category.is_none() {
        errors.push(FieldError::new("category", "complaint.category_invalid"));
    }
    let description = f.description.trim().to_string();
    let n = description.chars().count();
    if !(MIN_DESCRIPTION_CHARS..=MAX_DESCRIPTION_CHARS).contains(&n) {
        errors.push(FieldError::with(
            "description",
            Msg::new("form.length_between")
                .arg("min", MIN_DESCRIPTION_CHARS)
                .arg("max", MAX_DESCRIPTION_CHARS),
        ));
    }
    let phone = if f.phone.trim().is_empty() {
        None
    } else {
        match Phone::parse(&f.phone) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::new("phone", "phone.invalid"));
                None
            }
        }
    };
    if phone.is_some() && source == Source::Scan && f.sms_code.trim().is_empty() {
        errors.push(FieldError::new("sms_code", "complaint.sms_code_needed"));
    }
    if f.photos.len() > MAX_PHOTOS {
        errors.push(FieldError::with(
            "photos",
            Msg::new("document.too_many").arg("max", MAX_PHOTOS),
        ));
    }
    let mut types = Vec::new();
    for p in &f.photos {
        match sniff(p) {
            Some(t) if p.len() <= MAX_DOCUMENT_BYTES => types.push(t),
            _ => errors.push(FieldError::new("photos", "document.type_or_size")),
        }
    }
    match category {
        Some(c) if errors.is_empty() => Ok((c, description, phone, types)),
        _ => Err(errors),
    }
}

/// Files a complaint about the stall of a genuine code.
pub async fn file(
    ctx: &Ctx,
    tenant: &Tenant,
    code: &CodeRow,
    source: Source,
    shopper: Option<&Shopper>,
    f: Filing,
) -> AppResult<Filed> {
    if let Some(s) = shopper {
        ctx.shopper_throttle
            .check(ctx.db.global(), &format!("complain/{}", s.device_hash), s.address)
            .await?;
    }
    let (category, description, phone, types) = check(&f, source).map_err(AppError::Validation)?;
    if code.revoked_at.is_some() {
        return Err(AppError::Conflict(Msg::new("code.revoked")));
    }
    if let (Some(p), Source::Scan) = (&phone, source) {
        otp::verify(ctx, tenant, Purpose::Complaint, p, &f.sms_code)
            .await
            .map_err(|e| match e {
                AppError::Validation(mut errors) => {
                    for e in &mut errors {
                        e.field = "sms_code";
                    }
                    AppError::Validation(errors)
                }
                other => other,
            })?;
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    db::credentials::lock_vendor(&mut tx, code.vendor_id).await?;
    let deadlines = deadlines_for(&mut tx, category).await?;
    let (night, tonight) = crate::ratings::tonight(&mut tx, tenant, code, now).await?;
    // Voucher redemptions between this shopper (signed in on this device, or the number given)
    // and the stall that night.
    let mut shoppers: Vec<Uuid> = f.voucher_shopper.into_iter().collect();
    if let Some(p) = &phone {
        let index = ctx.keys.blind_index(tenant.id, "phone", p.as_str());
        let found: Option<Uuid> = sqlx::query_scalar!(
            "select id from shoppers where tenant_id = $1 and phone_index = $2",
            tx.tenant().0,
            index
        )
        .fetch_optional(tx.conn())
        .await?;
        shoppers.extend(found);
    }
    let redemptions: Vec<serde_json::Value> = if shoppers.is_empty() {
        Vec::new()
    } else {
        db::vouchers::redemptions(
            &mut tx,
            &db::vouchers::RedemptionFilter {
                code: Some(code.id),
                date: Some(night),
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .filter(|r| shoppers.contains(&r.shopper_id))
        .map(|r| {
            serde_json::json!({
                "redemption": r.id, "verification": r.verification, "bill_fen": r.bill_fen,
                "value_fen": r.value_fen, "at": r.created_at, "reversed": r.reversed_at.is_some()
            })
        })
        .collect()
    };
    // What the platform knows at this moment, attached for whoever handles the complaint.
    let evidence = serde_json::json!({
        "night": night,
        // Checked in and still there: a stall that had checked out for the night was not.
        "checked_in": matches!(tonight, Tonight::Open | Tonight::Ready),
        "tonight": tonight,
        "colour": code.colour,
        "redemptions": redemptions,
    });
    // A scripted burst from the scan page is kept but held for an official to screen: it tells
    // nobody and carries no weight until an official accepts it (ratings follow the same rule).
    let (client_hash, held) = match (source, shopper) {
        (Source::Scan, Some(s)) => {
            let client_hash = ctx
                .keys
                .blind_index(tenant.id, "client-address", &s.address.to_string());
            let signals = db::complaints::burst_signals(
                &mut tx,
                code.id,
                night,
                &client_hash,
                now - Duration::hours(12),
                now - Duration::minutes(burst::BURST_MINUTES),
            )
            .await?;
            let held = burst::standing(signals).err();
            (Some(client_hash), held.map(|h| (h, signals.held_tonight == 0)))
        }
        _ => (None, None),
    };
    let id = Uuid::new_v4();
    let tracking = complaint::new_tracking(&tenant.slug, crate::secrets::random_bytes());
    let sealed = phone
        .as_ref()
        .map(|p| ctx.keys.seal_str(&phone_place(&tx, id), p.as_str()));
    let masked = phone.as_ref().map(Phone::masked);
    let index = phone
        .as_ref()
        .map(|p| ctx.keys.blind_index(tenant.id, "phone", p.as_str()));
    let public_id = db::complaints::insert(
        &mut tx,
        &NewComplaint {
            id,
            tracking: &tracking,
            code_id: code.id,
            vendor_id: code.vendor_id,
            market_id: code.market_id,
            category: category.as_str(),
            description: &description,
            source: source.as_str(),
            source_ref: f.source_ref.as_deref(),
            contact_phone_enc: sealed.as_deref(),
            contact_phone_masked: masked.as_deref(),
            contact_phone_index: index.as_deref(),
            device_hash: shopper.map(|s| s.device_hash.as_str()),
            client_hash: client_hash.as_deref(),
            held_reason: held.map(|(h, _)| h.as_str()),
            evidence: evidence.clone(),
            at: now,
            ack_due_at: deadlines.ack_due(now),
            resolve_due_at: deadlines.resolve_due(now),
        },
    )
    .await?;
    for (bytes, content_type) in f.photos.iter().zip(types) {
        let photo = Uuid::new_v4();
        let sealed = ctx.keys.seal(&photo_place(&tx, photo), bytes);
        db::complaints::insert_photo(&mut tx, photo, id, content_type, bytes.len() as i32, &sealed).await?;
    }
    db::complaints::add_event(&mut tx, id, "filed", "", now).await?;
    let actor = match (source, shopper) {
        (Source::Scan, Some(s)) => Author::public(&s.device_hash),
        _ => Author::system("open311"),
    };
    audit::record(
        &mut tx,
        &actor,
        Change::new("complaint.file", "complaint", id).after(&serde_json::json!({
            "tracking": tracking, "code": code.id, "category": category.as_str(), "source": source.as_str(),
            "contact": masked, "photos": f.photos.len(), "evidence": evidence,
            "held": held.map(|(h, _)| h.as_str())
        })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
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
    let category_label = Lang::Zh.t(category.label_key());
    let args = [
        ("stall", code.stall_name.as_str()),
        ("slot", code.slot_code.as_str()),
        ("category", category_label.as_str()),
    ];
    // Of a held burst, officials hear of the first complaint only, and the vendor of none until
    // an official accepts one.
    if held.is_none_or(|(_, first)| first) {
        live::notify_staff_with(
            &mut tx,
            now,
            Some(Permission::Complaints),
            NoticeKind::ComplaintFiled,
            &args,
            Some(&format!("/official/complaints/{id}")),
        )
        .await?;
    }
    if held.is_none() {
        notices::notify(
            &mut tx,
            &ctx.keys,
            code.vendor_id,
            NoticeKind::ComplaintAboutStall,
            &args,
            Some(&format!("/vendor/stalls/{}#complaints", code.id)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Filed {
        tracking,
        public_id,
        state: State::Open,
        ack_due_at: deadlines.ack_due(now),
        resolve_due_at: deadlines.resolve_due(now),
    })
}

/// A complaint as officials see it (the contact masked).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintView {
    pub id: Uuid,
    pub tracking: String,
    pub code_id: Uuid,
    pub stall_name: String,
    pub slot_code: String,
    pub market_id: Uuid,
    pub market_name: String,
    pub category: Category,
    pub description: String,
    /// scan or open311.
    pub source: String,
    pub contact_phone_masked: Option<String>,
    pub state: State,
    pub evidence: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub ack_due_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
    pub timing: Timing,
    pub upheld: Option<bool>,
    pub resolution: Option<String>,
    pub vendor_answer: Option<String>,
    pub reopened: bool,
    pub claimed_by: Option<String>,
    pub claimed_by_id: Option<Uuid>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub photo_ids: Vec<Uuid>,
    pub updated_at: DateTime<Utc>,
    /// Open311's public id of the request.
    pub public_id: String,
    /// Held for screening because it came in a burst (address_burst or stall_burst).
    pub held_reason: Option<String>,
    /// Whether it counts toward the code's colour while unresolved: a number verified by SMS,
    /// the hotline's intake, or accepted by an official.
    pub weighty: bool,
}

impl ComplaintView {
    pub fn of(c: &ComplaintRow, now: DateTime<Utc>) -> AppResult<ComplaintView> {
        let state = c.state;
        let claimed = c.claimed_until.is_some_and(|u| u > now);
        Ok(ComplaintView {
            id: c.id,
            tracking: c.tracking.clone(),
            code_id: c.code_id,
            stall_name: c.stall_name.clone(),
            slot_code: c.slot_code.clone(),
            market_id: c.market_id,
            market_name: c.market_name.clone(),
            category: c.category,
            description: c.description.clone(),
            source: c.source.clone(),
            contact_phone_masked: c.contact_phone_masked.clone(),
            state,
            evidence: c.evidence.clone(),
            created_at: c.created_at,
            ack_due_at: c.ack_due_at,
            resolve_due_at: c.resolve_due_at,
            timing: complaint::timing(state, c.ack_due_at, c.resolve_due_at, now),
            upheld: c.upheld,
            resolution: c.resolution.clone(),
            vendor_answer: c.vendor_answer.clone(),
            reopened: c.reopen_count > 0,
            claimed_by: if claimed { c.claimed_by_name.clone() } else { None },
            claimed_by_id: if claimed { c.claimed_by } else { None },
            claimed_until: if claimed { c.claimed_until } else { None },
            photo_ids: c.photo_ids.clone(),
            updated_at: c.updated_at,
            public_id: c.public_id.clone(),
            held_reason: c.held_reason.clone(),
            weighty: c.weighty,
        })
    }

    /// Why it was held for screening, as words.
    pub fn held_label_key(&self) -> Option<&'static str> {
        self.held_reason
            .as_deref()
            .and_then(burst::Held::parse)
            .map(burst::Held::label_key)
    }

    /// What is left until the deadline that applies, as "3 h 20 min" (or overdue by that much).
    pub fn time_left(&self, now: DateTime<Utc>, lang: Lang) -> String {
        let Some(due) = self.timing.due_at else {
            return String::new();
        };
        let d = due - now;
        let m = d.num_minutes().abs();
        let text = if m >= 48 * 60 {
            lang.tr("time.days", &[("n", &(m / (24 * 60)).to_string())])
        } else {
            lang.tr(
                "time.hours_minutes",
                &[("h", &(m / 60).to_string()), ("m", &(m % 60).to_string())],
            )
        };
        if d < Duration::zero() {
            lang.tr("complaint.overdue_by", &[("time", &text)])
        } else {
            lang.tr("complaint.left", &[("time", &text)])
        }
    }
}

/// Which complaints an official lists.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct QueueFilter {
    /// `waiting` (default: open, acknowledged, in progress), `closed`, `all`, or one state.
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^(waiting|closed|all|open|acknowledged|in_progress|resolved|rejected)?$")
    )]
    pub state: Option<String>,
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^(food_safety|price_fraud|short_weight|hygiene|service|road_occupation|noise|other)?$")
    )]
    pub category: Option<String>,
    pub market: Option<Uuid>,
    /// Only those past their deadline.
    #[serde(default)]
    pub overdue: bool,
}

/// The complaint queue: oldest first, each with its deadline and claim.
pub async fn queue(ctx: &Ctx, official: &Actor, f: &QueueFilter) -> AppResult<Vec<ComplaintView>> {
    official.require(Permission::Complaints)?;
    let now = ctx.clock.now();
    let states: Vec<String> = match f.state.as_deref().unwrap_or("waiting") {
        "waiting" | "" => vec!["open".into(), "acknowledged".into(), "in_progress".into()],
        "closed" => vec!["resolved".into(), "rejected".into()],
        "all" => vec![],
        one => match State::parse(one) {
            Some(s) => vec![s.as_str().to_string()],
            None => return Err(AppError::field("state", "complaint.state_filter")),
        },
    };
    let category = match f.category.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(
            Category::parse(c)
                .ok_or(AppError::field("category", "complaint.category_invalid"))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let rows = db::complaints::list(
        &mut tx,
        &ComplaintFilter {
            market: f.market,
            category,
            states,
            oldest_first: true,
            ..Default::default()
        },
    )
    .await?;
    let views: Vec<ComplaintView> = rows
        .iter()
        .map(|c| ComplaintView::of(c, now))
        .collect::<AppResult<_>>()?;
    Ok(views.into_iter().filter(|c| !f.overdue || c.timing.overdue).collect())
}

async fn load(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> AppResult<(ComplaintRow, ComplaintView)> {
    let row = db::complaints::list(
        tx,
        &ComplaintFilter {
            id: Some(id),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or(AppError::NotFound)?;
    let view = ComplaintView::of(&row, now)?;
    Ok((row, view))
}

/// One complaint with its timeline, for an official.
pub async fn get(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<(ComplaintView, Vec<db::complaints::EventRow>)> {
    official.require(Permission::Complaints)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let (_, view) = load(&mut tx, id, now).await?;
    let events = db::complaints::events(&mut tx, id).await?;
    Ok((view, events))
}

/// Takes a complaint for [`CLAIM_MINUTES`] so that two officials do not work it at once.
pub async fn claim(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<()> {
    official.require(Permission::Complaints)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::complaints::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let (_, view) = load(&mut tx, id, now).await?;
    if !view.state.is_unresolved() {
        return Err(AppError::Conflict(Msg::new("complaint.closed")));
    }
    if !db::complaints::claim(&mut tx, id, official.id, now + Duration::minutes(CLAIM_MINUTES), now).await? {
        return Err(AppError::Conflict(
            Msg::new("complaint.claimed_by").arg("name", view.claimed_by.unwrap_or_default()),
        ));
    }
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("complaint.claim", "complaint", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An official's step on a complaint.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ComplaintStep))]
pub struct Step {
    pub action: Action,
    /// For resolve: whether the complaint was found true (it then counts against the score).
    #[serde(default)]
    pub upheld: Option<bool>,
    /// The note the shopper reads: required to resolve or reject.
    #[serde(default)]
    pub note: String,
}

/// Acknowledges, starts, resolves or rejects a complaint.
pub async fn act(ctx: &Ctx, official: &Actor, id: Uuid, step: &Step) -> AppResult<ComplaintView> {
    official.require(Permission::Complaints)?;
    let note = step.note.trim();
    let closing = matches!(step.action, Action::Resolve | Action::Reject);
    let mut errors = Vec::new();
    if step.action == Action::Reopen {
        errors.push(FieldError::new("action", "complaint.action"));
    }
    if closing && !(2..=1000).contains(&note.chars().count()) {
        errors.push(FieldError::new("note", "complaint.note_needed"));
    }
    if note.chars().count() > 1000 {
        errors.push(FieldError::with("note", Msg::new("form.too_long").arg("max", 1000)));
    }
    if step.action == Action::Resolve && step.upheld.is_none() {
        errors.push(FieldError::new("upheld", "complaint.upheld_needed"));
    }
    crate::error::check(errors)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    // Users before complaints: the vendor's lock first (sync_vendor takes it again).
    let vendor = sqlx::query_scalar!(
        "select vendor_id from complaints where tenant_id = $1 and id = $2",
        tx.tenant().0,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)?;
    db::credentials::lock_vendor(&mut tx, vendor).await?;
    db::complaints::lock(&mut tx, id).await?;
    let (row, view) = load(&mut tx, id, now).await?;
    if row
        .claimed_by
        .is_some_and(|h| h != official.id && row.claimed_until.is_some_and(|u| u > now))
    {
        return Err(AppError::Conflict(
            Msg::new("complaint.claimed_by").arg("name", view.claimed_by.clone().unwrap_or_default()),
        ));
    }
    let Some(next) = view.state.after(step.action) else {
        return Err(AppError::Conflict(
            Msg::new("complaint.not_now").arg("state", Lang::Zh.t(view.state.label_key())),
        ));
    };
    let upheld = match step.action {
        Action::Resolve => step.upheld,
        Action::Reject => Some(false),
        _ => None,
    };
    db::complaints::set_state(
        &mut tx,
        id,
        next.as_str(),
        now,
        closing.then_some((upheld.unwrap_or(false), note, official.id)),
    )
    .await?;
    let kind = match step.action {
        Action::Acknowledge => "acknowledged",
        Action::Start => "started",
        Action::Resolve => "resolved",
        Action::Reject => "rejected",
        Action::Reopen => "reopened",
    };
    db::complaints::add_event(&mut tx, id, kind, note, now).await?;
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new(&format!("complaint.{kind}"), "complaint", id)
            .before(&serde_json::json!({ "state": view.state }))
            .after(&serde_json::json!({ "state": next, "upheld": upheld, "note": note })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
    supervision::sync_vendor(
        &mut tx,
        &ctx.keys,
        &Author::of(official),
        row.vendor_id,
        now,
        official.tenant.timezone,
        &settings,
    )
    .await?;
    // A complaint held as part of a burst reaches the vendor once an official accepts it.
    if step.action == Action::Acknowledge && row.held_reason.is_some() {
        let category = row.category;
        let category_label = Lang::Zh.t(category.label_key());
        notices::notify(
            &mut tx,
            &ctx.keys,
            row.vendor_id,
            NoticeKind::ComplaintAboutStall,
            &[
                ("stall", row.stall_name.as_str()),
                ("slot", row.slot_code.as_str()),
                ("category", category_label.as_str()),
            ],
            Some(&format!("/vendor/stalls/{}#complaints", row.code_id)),
        )
        .await?;
    }
    if closing {
        let outcome = Lang::Zh.t(next.label_key());
        let args = [
            ("stall", row.stall_name.as_str()),
            ("outcome", outcome.as_str()),
            ("note", note),
        ];
        notices::notify(
            &mut tx,
            &ctx.keys,
            row.vendor_id,
            NoticeKind::ComplaintDecided,
            &args,
            Some(&format!("/vendor/stalls/{}#complaints", row.code_id)),
        )
        .await?;
        tell_shopper(&mut tx, ctx, &row, &outcome).await?;
    }
    tx.commit().await?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    Ok(load(&mut tx, id, now).await?.1)
}

/// Texts the shopper who left a (verified) number that their complaint was decided.
async fn tell_shopper(tx: &mut TenantTx, ctx: &Ctx, row: &ComplaintRow, outcome: &str) -> AppResult<()> {
    let sealed = sqlx::query_scalar!(
        "select contact_phone_enc from complaints where tenant_id = $1 and id = $2",
        tx.tenant().0,
        row.id
    )
    .fetch_one(tx.conn())
    .await?;
    let Some(sealed) = sealed else { return Ok(()) };
    let phone = ctx
        .keys
        .open_str(&phone_place(tx, row.id), &sealed)
        .ok()
        .and_then(|p| Phone::parse(&p));
    if let Some(phone) = phone {
        let text = Lang::Zh.tr(
            "complaint.sms_decided",
            &[("tracking", row.tracking.as_str()), ("outcome", outcome)],
        );
        sms::queue(tx, &ctx.keys, &phone, &text).await?;
    }
    Ok(())
}

/// What the shopper's tracking page shows (no contact details, no internal evidence).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tracking {
    pub tracking: String,
    pub stall_name: String,
    pub slot_code: String,
    pub market_name: String,
    pub category: Category,
    pub description: String,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub timing: Timing,
    pub upheld: Option<bool>,
    pub resolution: Option<String>,
    pub vendor_answer: Option<String>,
    pub may_reopen: bool,
    pub reopened: bool,
    pub events: Vec<TrackingEvent>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackingEvent {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub note: String,
}

async fn tenant_of(ctx: &Ctx, tracking: &str) -> AppResult<Tenant> {
    let slug = complaint::tenant_of_tracking(tracking).ok_or(AppError::NotFound)?;
    ctx.tenants.by_slug(&ctx.db, slug).await?.ok_or(AppError::NotFound)
}

async fn by_tracking(tx: &mut TenantTx, tracking: &str) -> AppResult<ComplaintRow> {
    db::complaints::list(
        tx,
        &ComplaintFilter {
            tracking: Some(tracking.to_string()),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or(AppError::NotFound)
}

/// The tracking page's content; unknown numbers are simply not found.
pub async fn track(ctx: &Ctx, tracking: &str) -> AppResult<Tracking> {
    let tenant = tenant_of(ctx, tracking).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = by_tracking(&mut tx, tracking).await?;
    let events = db::complaints::events(&mut tx, row.id).await?;
    let view = ComplaintView::of(&row, now)?;
    Ok(Tracking {
        tracking: row.tracking.clone(),
        stall_name: row.stall_name,
        slot_code: row.slot_code,
        market_name: row.market_name,
        category: view.category,
        description: row.description,
        state: view.state,
        created_at: row.created_at,
        timing: view.timing,
        upheld: row.upheld,
        resolution: row.resolution,
        vendor_answer: row.vendor_answer,
        may_reopen: complaint::may_reopen(view.state, row.reopen_count, row.closed_at, now),
        reopened: row.reopen_count > 0,
        events: events
            .into_iter()
            .map(|e| TrackingEvent {
                at: e.at,
                kind: e.kind,
                note: e.note,
            })
            .collect(),
    })
}

/// The shopper reopens a resolved complaint (once, within seven days), saying why.
pub async fn reopen(ctx: &Ctx, tracking: &str, shopper: &Shopper, reason: &str) -> AppResult<()> {
    ctx.shopper_throttle
        .check(
            ctx.db.global(),
            &format!("reopen/{}", shopper.device_hash),
            shopper.address,
        )
        .await?;
    let reason = reason.trim();
    if !(5..=500).contains(&reason.chars().count()) {
        return Err(AppError::Validation(vec![FieldError::with(
            "reason",
            Msg::new("form.length_between").arg("min", 5).arg("max", 500),
        )]));
    }
    let tenant = tenant_of(ctx, tracking).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = by_tracking(&mut tx, tracking).await?;
    db::credentials::lock_vendor(&mut tx, row.vendor_id).await?;
    db::complaints::lock(&mut tx, row.id).await?;
    let row = by_tracking(&mut tx, tracking).await?;
    let st = row.state;
    if !complaint::may_reopen(st, row.reopen_count, row.closed_at, now) {
        return Err(AppError::Conflict(Msg::new("complaint.no_reopen")));
    }
    let category = row.category;
    let d = deadlines_for(&mut tx, category).await?;
    if !db::complaints::reopen(&mut tx, row.id, now, d.ack_due(now), d.resolve_due(now)).await? {
        return Err(AppError::Conflict(Msg::new("complaint.no_reopen")));
    }
    db::complaints::add_event(&mut tx, row.id, "reopened", reason, now).await?;
    let actor = Author::public(&shopper.device_hash);
    audit::record(
        &mut tx,
        &actor,
        Change::new("complaint.reopen", "complaint", row.id)
            .before(&serde_json::json!({ "state": "resolved", "upheld": row.upheld }))
            .after(&serde_json::json!({ "state": "open", "reason": reason })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
    supervision::sync_vendor(
        &mut tx,
        &ctx.keys,
        &actor,
        row.vendor_id,
        now,
        tenant.timezone,
        &settings,
    )
    .await?;
    let category_label = Lang::Zh.t(category.label_key());
    live::notify_staff_with(
        &mut tx,
        now,
        Some(Permission::Complaints),
        NoticeKind::ComplaintFiled,
        &[
            ("stall", row.stall_name.as_str()),
            ("slot", row.slot_code.as_str()),
            ("category", category_label.as_str()),
        ],
        Some(&format!("/official/complaints/{}", row.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Complaints about a vendor's stall, as the vendor sees them (no contact, no device).
pub async fn for_vendor(ctx: &Ctx, vendor: &Actor, code: Uuid) -> AppResult<Vec<ComplaintView>> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    if db::codes::get(&mut tx, code)
        .await?
        .is_none_or(|c| c.vendor_id != vendor.id)
    {
        return Err(AppError::NotFound);
    }
    db::complaints::list(
        &mut tx,
        &ComplaintFilter {
            code: Some(code),
            vendor: Some(vendor.id),
            limit: Some(50),
            ..Default::default()
        },
    )
    .await?
    .iter()
    // A held burst reaches the vendor only once an official has accepted it.
    .filter(|c| c.held_reason.is_none() || c.acknowledged_at.is_some())
    .map(|c| {
        Ok(ComplaintView {
            contact_phone_masked: None,
            claimed_by: None,
            claimed_by_id: None,
            ..ComplaintView::of(c, now)?
        })
    })
    .collect()
}

/// The vendor's answer to a complaint about their stall (once); the shopper reads it.
pub async fn answer(ctx: &Ctx, vendor: &Actor, id: Uuid, text: &str) -> AppResult<()> {
    vendor.require_vendor()?;
    let text = text.trim();
    if !(2..=500).contains(&text.chars().count()) {
        return Err(AppError::Validation(vec![FieldError::with(
            "answer",
            Msg::new("form.length_between").arg("min", 2).arg("max", 500),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    if !db::complaints::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let (row, _) = load(&mut tx, id, now).await?;
    if row.vendor_id != vendor.id {
        return Err(AppError::NotFound);
    }
    if !db::complaints::answer(&mut tx, id, text, now).await? {
        return Err(AppError::Conflict(Msg::new("complaint.answered")));
    }
    db::complaints::add_event(&mut tx, id, "answered", text, now).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("complaint.answer", "complaint", id).after(&serde_json::json!({ "answer": text })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A complaint's photo, for staff who handle complaints.
pub async fn photo(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    official.require(Permission::Complaints)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let (_, content_type, sealed) = db::complaints::photo(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let bytes = ctx
        .keys
        .open(&photo_place(&tx, id), &sealed)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("complaint photo {id}: {e}")))?;
    Ok((content_type, bytes))
}

/// The tenant's deadlines for every category.
pub async fn deadlines(ctx: &Ctx, user: &Actor) -> AppResult<Vec<(Category, Deadlines)>> {
    user.require_staff()?;
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let mut out = Vec::new();
    for c in Category::ALL {
        out.push((c, deadlines_for(&mut tx, c).await?));
    }
    Ok(out)
}

/// The tenant's deadline for each category as the public sees them (Open311's service list):
/// the tenant's own where it set one, else the platform's.
pub async fn published_deadlines(ctx: &Ctx, tenant: TenantId) -> AppResult<Vec<(Category, Deadlines)>> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let mut out = Vec::new();
    for c in Category::ALL {
        out.push((c, deadlines_for(&mut tx, c).await?));
    }
    tx.commit().await?;
    Ok(out)
}

/// An admin sets the deadlines of a category.
pub async fn set_deadlines(ctx: &Ctx, admin: &Actor, category: &str, d: Deadlines) -> AppResult<()> {
    admin.require_admin()?;
    let category = Category::parse(category).ok_or(AppError::field("category", "complaint.category_invalid"))?;
    let mut errors = Vec::new();
    if !(1..=720).contains(&d.ack_hours) {
        errors.push(FieldError::with(
            "ack_hours",
            Msg::new("settings.range").arg("min", 1).arg("max", 720),
        ));
    }
    if !(1..=90).contains(&d.resolve_days) {
        errors.push(FieldError::with(
            "resolve_days",
            Msg::new("settings.range").arg("min", 1).arg("max", 90),
        ));
    }
    crate::error::check(errors)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let before = deadlines_for(&mut tx, category).await?;
    db::complaints::set_deadline(&mut tx, category.as_str(), d.ack_hours, d.resolve_days).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("complaint_deadlines.update", "tenant", admin.tenant_id())
            .before(&serde_json::json!({ "category": category, "deadlines": before }))
            .after(&serde_json::json!({ "category": category, "deadlines": d })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
