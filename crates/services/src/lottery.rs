//! Stall lotteries (摊位摇号): an admin opens a round for a market, the applications submitted in
//! its window form the list, the list and a commitment to the tenant's value are published, the
//! draw combines that value with one entered in public, and winners are approved into slots as an
//! official would approve them. The rest wait, in draw order, for the round's slots freed during
//! its term. The draw itself is `domain::lottery`, which `nightmarket lottery verify` runs too.

use chrono::{DateTime, Months, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

use crate::Ctx;
use crate::applications::free_slots;
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::notices;
/// An application's place in a round, as its vendor sees it.
pub use nightmarket_db::lottery::MyEntryRow;
use nightmarket_db::lottery::{self as db_lottery, NewEntry, NewRound, RoundRow};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::lottery::{self, CategoryResult, Entry, Group, Published, RoundDraft};
use nightmarket_domain::market::Category;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::tenant::Tenant;

/// A round as its pages show it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Round {
    pub id: Uuid,
    pub market_id: Uuid,
    pub market_name: String,
    pub title: String,
    /// open, published or drawn
    pub state: String,
    pub entries_from: DateTime<Utc>,
    pub entries_until: DateTime<Utc>,
    pub term_months: i32,
    pub previous_winners_may_enter: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub drawn_at: Option<DateTime<Utc>>,
    /// Until when freed slots go to the waitlist.
    pub term_ends: Option<DateTime<Utc>>,
    /// What anyone needs to check the draw (the tenant's value only once drawn).
    pub published: Published,
    /// Per entry: where it stands now (entered, won, waiting, lapsed, freed) and its slot.
    pub standing: Vec<EntryStanding>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryStanding {
    pub number: u32,
    pub outcome: String,
    pub waitlist_position: Option<i32>,
    pub slot: Option<String>,
}

fn parse_offer(row: &RoundRow) -> AppResult<BTreeMap<Category, u32>> {
    serde_json::from_value(row.offer.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("lottery {} offer: {e}", row.id)))
}

fn parse_groups(row: &RoundRow) -> AppResult<Vec<Group>> {
    serde_json::from_value(row.groups.clone())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("lottery {} groups: {e}", row.id)))
}

fn entry_of(e: &db_lottery::EntryRow) -> AppResult<Entry> {
    Ok(Entry {
        number: u32::try_from(e.number)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("entry number {}", e.number)))?,
        category: e.category,
        group: e
            .group_position
            .map(u8::try_from)
            .transpose()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("entry group")))?,
        name_masked: e.name_masked.clone(),
    })
}

async fn view(tx: &mut TenantTx, row: RoundRow) -> AppResult<Round> {
    let entries = db_lottery::entries(tx, row.id).await?;
    let drawn = row.state == "drawn";
    let result: Option<Vec<CategoryResult>> = match &row.result {
        Some(v) => Some(
            serde_json::from_value(v.clone())
                .map_err(|e| AppError::Internal(anyhow::anyhow!("lottery {} result: {e}", row.id)))?,
        ),
        None => None,
    };
    let published = Published {
        version: lottery::VERSION.into(),
        round: row.id,
        title: row.title.clone(),
        offer: parse_offer(&row)?,
        groups: parse_groups(&row)?,
        entries: entries.iter().map(entry_of).collect::<AppResult<_>>()?,
        list_hash: row.list_hash.clone().unwrap_or_default(),
        commitment: row.commitment.clone(),
        tenant_value: drawn.then(|| row.tenant_value.clone()),
        public_value: row.public_value.clone(),
        seed: row.seed.clone(),
        result,
    };
    Ok(Round {
        id: row.id,
        market_id: row.market_id,
        market_name: row.market_name,
        title: row.title,
        state: row.state,
        entries_from: row.entries_from,
        entries_until: row.entries_until,
        term_months: row.term_months,
        previous_winners_may_enter: row.previous_winners_may_enter,
        published_at: row.published_at,
        term_ends: row
            .drawn_at
            .and_then(|d| d.checked_add_months(Months::new(u32::try_from(row.term_months).unwrap_or(0)))),
        drawn_at: row.drawn_at,
        published,
        standing: entries
            .iter()
            .map(|e| EntryStanding {
                number: u32::try_from(e.number).unwrap_or(0),
                outcome: e.outcome.clone(),
                waitlist_position: e.waitlist_position,
                slot: e.slot_code.clone(),
            })
            .collect(),
    })
}

/// A tenant's rounds (of one market, when given), newest first: public.
pub async fn list(ctx: &Ctx, tenant: &Tenant, market: Option<Uuid>) -> AppResult<Vec<Round>> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let rows = db_lottery::rounds(&mut tx, market).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(&mut tx, row).await?);
    }
    Ok(out)
}

/// One round: public (the tenant's value only once drawn).
pub async fn get(ctx: &Ctx, tenant: &Tenant, id: Uuid) -> AppResult<Round> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = db_lottery::round(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    view(&mut tx, row).await
}

/// Opens a round (tenant admin): checks the draft and that the market has the free slots on
/// offer, draws the tenant's value at random and keeps only its hash visible until the draw.
pub async fn open(ctx: &Ctx, admin: &Actor, market: Uuid, draft: &RoundDraft) -> AppResult<Round> {
    admin.require_admin()?;
    let valid = draft.validate(admin.tenant.timezone).map_err(AppError::Validation)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db::markets::lock(&mut tx, market).await? {
        return Err(AppError::NotFound);
    }
    let free = free_slots(&mut tx, market, None).await?;
    let mut errors = Vec::new();
    for (&category, &wanted) in &valid.offer {
        let have = free.iter().filter(|s| s.category == category).count();
        if usize::try_from(wanted).unwrap_or(usize::MAX) > have {
            errors.push(FieldError::with(
                "offer",
                Msg::new("lottery.offer_exceeds_free")
                    .label("category", category.label_key())
                    .arg("free", have)
                    .arg("wanted", wanted),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    let tenant_value = hex::encode(bytes);
    let commitment = lottery::commitment(&tenant_value);
    let id = db_lottery::insert_round(
        &mut tx,
        &NewRound {
            market_id: market,
            title: &valid.title,
            entries_from: valid.entries_from,
            entries_until: valid.entries_until,
            term_months: valid.term_months,
            previous_winners_may_enter: valid.previous_winners_may_enter,
            offer: serde_json::to_value(&valid.offer).map_err(|e| AppError::Internal(e.into()))?,
            groups: serde_json::to_value(&valid.groups).map_err(|e| AppError::Internal(e.into()))?,
            tenant_value: &tenant_value,
            commitment: &commitment,
            created_by: admin.id,
        },
    )
    .await?;
    let row = db_lottery::round(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let round = view(&mut tx, row).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("lottery.open", "lottery", id).after(&serde_json::json!({
            "market": market, "title": round.title, "offer": round.published.offer, "groups": round.published.groups,
            "entries_from": round.entries_from, "entries_until": round.entries_until, "term_months": round.term_months,
            "previous_winners_may_enter": round.previous_winners_may_enter, "commitment": commitment,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(round)
}

/// An application that may enter a round, and why it may not when it may not.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub application_id: Uuid,
    pub category: Category,
    pub stall_name: String,
    pub name_masked: String,
    pub submitted_at: Option<DateTime<Utc>>,
    /// A locale key saying why it cannot enter (None: it can).
    pub barred: Option<String>,
}

async fn candidates_in(tx: &mut TenantTx, row: &RoundRow) -> AppResult<Vec<Candidate>> {
    let offer = parse_offer(row)?;
    let barred_vendors: HashSet<Uuid> = if row.previous_winners_may_enter {
        HashSet::new()
    } else {
        db_lottery::previous_winners(tx, row.market_id, row.created_at)
            .await?
            .into_iter()
            .collect()
    };
    Ok(
        db_lottery::candidates(tx, row.market_id, row.entries_from, row.entries_until)
            .await?
            .into_iter()
            .map(|c| {
                let barred = if !offer.contains_key(&c.category) {
                    Some("lottery.barred_category".to_string())
                } else if barred_vendors.contains(&c.vendor_id) {
                    Some("lottery.barred_previous".to_string())
                } else {
                    None
                };
                Candidate {
                    application_id: c.application_id,
                    category: c.category,
                    stall_name: c.stall_name,
                    name_masked: c.name_masked.unwrap_or_else(|| "**".into()),
                    submitted_at: c.first_submitted_at,
                    barred,
                }
            })
            .collect(),
    )
}

/// The applications that would enter the round if its list were published now (staff).
pub async fn candidates(ctx: &Ctx, official: &Actor, id: Uuid) -> AppResult<Vec<Candidate>> {
    official.require_staff()?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let row = db_lottery::round(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    candidates_in(&mut tx, &row).await
}

/// Publishes the round's list (tenant admin): every candidate not barred enters, numbered in the
/// order they were submitted, in the priority group `groups` names for it (none: the general
/// pool), leaving out those in `excluded` (found ineligible on review). From here the list and
/// its hash cannot change; each entrant is told their number.
pub async fn publish(
    ctx: &Ctx,
    admin: &Actor,
    id: Uuid,
    groups: &HashMap<Uuid, u8>,
    excluded: &HashSet<Uuid>,
) -> AppResult<Round> {
    admin.require_admin()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db_lottery::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let row = db_lottery::round(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if row.state != "open" {
        return Err(AppError::Conflict(Msg::new("lottery.not_open")));
    }
    let known: HashSet<u8> = parse_groups(&row)?.iter().map(|g| g.position).collect();
    if groups.values().any(|g| !known.contains(g)) {
        return Err(AppError::field("groups", "lottery.group_unknown"));
    }
    let candidates = candidates_in(&mut tx, &row).await?;
    let mut entries = Vec::new();
    for c in candidates
        .iter()
        .filter(|c| c.barred.is_none() && !excluded.contains(&c.application_id))
    {
        let vendor = db::applications::get(&mut tx, c.application_id)
            .await?
            .ok_or(AppError::NotFound)?
            .vendor_id;
        entries.push(NewEntry {
            number: i32::try_from(entries.len() + 1).unwrap_or(i32::MAX),
            application_id: c.application_id,
            vendor_id: vendor,
            category: c.category,
            group_position: groups.get(&c.application_id).map(|g| i16::from(*g)),
            name_masked: c.name_masked.clone(),
        });
    }
    if entries.is_empty() {
        return Err(AppError::field("entries", "lottery.no_entries"));
    }
    let published: Vec<Entry> = entries
        .iter()
        .map(|e| Entry {
            number: u32::try_from(e.number).unwrap_or(0),
            category: e.category,
            group: e.group_position.and_then(|g| u8::try_from(g).ok()),
            name_masked: e.name_masked.clone(),
        })
        .collect();
    let list_hash = lottery::list_hash(&published);
    if !db_lottery::publish(&mut tx, id, &list_hash, &entries, now).await? {
        return Err(AppError::Conflict(Msg::new("lottery.not_open")));
    }
    for e in &entries {
        let number = e.number.to_string();
        notices::notify(
            &mut tx,
            &ctx.keys,
            e.vendor_id,
            NoticeKind::LotteryEntered,
            &[("market", &row.market_name), ("round", &row.title), ("number", &number)],
            Some(&format!("/t/{}/lotteries/{id}", admin.tenant.slug)),
        )
        .await?;
    }
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("lottery.publish", "lottery", id).after(&serde_json::json!({
            "entries": published, "list_hash": list_hash, "excluded": excluded,
        })),
    )
    .await?;
    let row = db_lottery::round(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let round = view(&mut tx, row).await?;
    tx.commit().await?;
    Ok(round)
}

/// Approves an entry's application into `slot`, as an official would; false when it no longer
/// awaits review (decided otherwise meanwhile) or the slot is no longer free.
async fn approve_entry(
    tx: &mut TenantTx,
    ctx: &Ctx,
    actor: &Author,
    tenant: &Tenant,
    by: Option<Uuid>,
    application: Uuid,
    slot: Uuid,
) -> AppResult<bool> {
    if !db::applications::lock(tx, application).await? {
        return Ok(false);
    }
    let Some(row) = db::applications::get(tx, application).await? else {
        return Ok(false);
    };
    if !row.state.awaits_review() || db::codes::slot_taken(tx, slot).await? {
        return Ok(false);
    }
    if !db::applications::decide(
        tx,
        application,
        row.version,
        "approved",
        by,
        None,
        &serde_json::json!({}),
        Some(slot),
    )
    .await?
    {
        return Ok(false);
    }
    audit::record(
        tx,
        actor,
        Change::new("application.approve", "application", application)
            .before(&serde_json::json!({ "state": row.state, "version": row.version }))
            .after(&serde_json::json!({ "state": "approved", "slot": slot, "by": "lottery" })),
    )
    .await?;
    crate::review::issue_approved(tx, ctx, actor, tenant, application).await?;
    Ok(true)
}

/// Draws the round (tenant admin) with the value made in public at the draw: the seed, the
/// result, the winners approved into the free slots of their category (in slot order, in draw
/// order), the rest on the waitlist and told their place. All in one transaction.
pub async fn draw(ctx: &Ctx, admin: &Actor, id: Uuid, public_value: &str) -> AppResult<Round> {
    admin.require_admin()?;
    let public_value = public_value.trim();
    if public_value.is_empty() || public_value.chars().count() > 200 || public_value.chars().any(char::is_control) {
        return Err(AppError::field("public_value", "lottery.public_value_required"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db_lottery::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let row = db_lottery::round(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if row.state != "published" {
        return Err(AppError::Conflict(Msg::new("lottery.not_published")));
    }
    let list_hash = row.list_hash.clone().unwrap_or_default();
    let entry_rows = db_lottery::entries(&mut tx, id).await?;
    let entries: Vec<Entry> = entry_rows.iter().map(entry_of).collect::<AppResult<_>>()?;
    let seed = lottery::seed(&list_hash, &row.tenant_value, public_value);
    let result = lottery::draw(&parse_offer(&row)?, &parse_groups(&row)?, &entries, &seed);
    let result_json = serde_json::to_value(&result).map_err(|e| AppError::Internal(e.into()))?;
    if !db_lottery::drawn(&mut tx, id, public_value, &seed, &result_json, now).await? {
        return Err(AppError::Conflict(Msg::new("lottery.not_published")));
    }
    let actor = Author::of(admin);
    let by_number: HashMap<u32, &db_lottery::EntryRow> = entry_rows
        .iter()
        .filter_map(|e| Some((u32::try_from(e.number).ok()?, e)))
        .collect();
    let free = free_slots(&mut tx, row.market_id, None).await?;
    for category in &result {
        let mut slots = free.iter().filter(|s| s.category == category.category);
        for d in &category.drawn {
            let Some(entry) = by_number.get(&d.number) else {
                continue;
            };
            let number = entry.number;
            match slots.next() {
                Some(slot)
                    if approve_entry(
                        &mut tx,
                        ctx,
                        &actor,
                        &admin.tenant,
                        Some(admin.id),
                        entry.application_id,
                        slot.id,
                    )
                    .await? =>
                {
                    db_lottery::set_outcome(&mut tx, id, number, "won", None, Some(slot.id), now).await?;
                }
                // Decided otherwise since the list was published: the slot goes to the waitlist.
                _ => db_lottery::set_outcome(&mut tx, id, number, "lapsed", None, None, now).await?,
            }
        }
        for (i, n) in category.waitlist.iter().enumerate() {
            let Some(entry) = by_number.get(n) else { continue };
            let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
            db_lottery::set_outcome(&mut tx, id, entry.number, "waiting", Some(position), None, now).await?;
            let (number, place) = (entry.number.to_string(), position.to_string());
            notices::notify(
                &mut tx,
                &ctx.keys,
                entry.vendor_id,
                NoticeKind::LotteryWaitlisted,
                &[
                    ("market", &row.market_name),
                    ("round", &row.title),
                    ("number", &number),
                    ("position", &place),
                ],
                Some(&format!("/t/{}/lotteries/{id}", admin.tenant.slug)),
            )
            .await?;
        }
    }
    audit::record(
        &mut tx,
        &actor,
        Change::new("lottery.draw", "lottery", id).after(&serde_json::json!({
            "public_value": public_value, "tenant_value": row.tenant_value, "seed": seed, "result": result,
        })),
    )
    .await?;
    // Slots a lapsed winner left go down the waitlist at once.
    fill_round(&mut tx, ctx, &actor, &admin.tenant, id, now).await?;
    let row = db_lottery::round(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let round = view(&mut tx, row).await?;
    tx.commit().await?;
    Ok(round)
}

/// Gives the round's freed slots to its waitlist, in order: a slot a winner held whose code is no
/// longer live (revoked), or that a winner never took up, goes to the first entry still waiting
/// in its category whose application still awaits review; entries decided otherwise meanwhile
/// lapse. Returns how many slots were given.
async fn fill_round(
    tx: &mut TenantTx,
    ctx: &Ctx,
    actor: &Author,
    tenant: &Tenant,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let row = db_lottery::round(tx, id).await?.ok_or(AppError::NotFound)?;
    let entries = db_lottery::entries(tx, id).await?;
    let result: Vec<CategoryResult> = match &row.result {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| AppError::Internal(e.into()))?,
        None => return Ok(0),
    };
    let offer = parse_offer(&row)?;
    let mut given = 0;
    for (category, slots_offered) in offer {
        // Slots the round gave in this category and that are free again.
        let mut freed = Vec::new();
        let mut held = 0u32;
        for e in entries.iter().filter(|e| e.category == category && e.outcome == "won") {
            match e.slot_id {
                Some(slot) if !db::codes::slot_taken(tx, slot).await? => {
                    db_lottery::set_outcome(tx, id, e.number, "freed", None, None, now).await?;
                    freed.push(slot);
                }
                Some(_) => held += 1,
                None => {}
            }
        }
        // A drawn winner who lapsed before taking the slot leaves one of the round's slots unused.
        let unused = slots_offered.saturating_sub(held + u32::try_from(freed.len()).unwrap_or(0));
        if unused > 0 {
            let taken: HashSet<Uuid> = freed.iter().copied().collect();
            let more: Vec<Uuid> = free_slots(tx, row.market_id, Some(category))
                .await?
                .into_iter()
                .filter(|s| s.category == category && !taken.contains(&s.id))
                .take(unused as usize)
                .map(|s| s.id)
                .collect();
            freed.extend(more);
        }
        if freed.is_empty() {
            continue;
        }
        let order: Vec<u32> = result
            .iter()
            .find(|r| r.category == category)
            .map(|r| r.waitlist.clone())
            .unwrap_or_default();
        let mut slots = freed.into_iter();
        let mut slot = slots.next();
        for n in order {
            let Some(s) = slot else { break };
            let Some(e) = entries
                .iter()
                .find(|e| u32::try_from(e.number).ok() == Some(n) && e.outcome == "waiting")
            else {
                continue;
            };
            if approve_entry(tx, ctx, actor, tenant, None, e.application_id, s).await? {
                db_lottery::set_outcome(tx, id, e.number, "won", None, Some(s), now).await?;
                audit::record(
                    tx,
                    actor,
                    Change::new("lottery.waitlist", "lottery", id).after(&serde_json::json!({
                        "number": e.number, "waitlist_position": e.waitlist_position, "slot": s,
                    })),
                )
                .await?;
                given += 1;
                slot = slots.next();
            } else {
                db_lottery::set_outcome(tx, id, e.number, "lapsed", None, None, now).await?;
            }
        }
    }
    Ok(given)
}

/// The periodic job: every tenant's rounds still in their term give their freed slots to their
/// waitlists. Returns how many slots were given.
pub async fn fill_waitlists(ctx: &Ctx) -> AppResult<usize> {
    let now = ctx.clock.now();
    let mut given = 0;
    for tenant in crate::tenants::list(ctx).await? {
        let mut tx = ctx.db.tenant(tenant.id).await?;
        let rounds = db_lottery::in_term(&mut tx, now).await?;
        if rounds.is_empty() {
            continue;
        }
        let actor = Author::system("lottery");
        for id in rounds {
            if db_lottery::lock(&mut tx, id).await? {
                given += fill_round(&mut tx, ctx, &actor, &tenant, id, now).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(given)
}

/// The vendor's own application in lottery rounds: its number and where it stands.
pub async fn of_my_application(ctx: &Ctx, vendor: &Actor, application: Uuid) -> AppResult<Vec<MyEntryRow>> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let app = db::applications::get(&mut tx, application)
        .await?
        .ok_or(AppError::NotFound)?;
    if app.vendor_id != vendor.id {
        return Err(AppError::NotFound);
    }
    Ok(db_lottery::of_application(&mut tx, application).await?)
}
