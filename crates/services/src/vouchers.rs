//! Consumption vouchers: campaigns (tenant admins), shoppers signing in with a verified number,
//! and the claim — batched, so a rush of thousands a second costs a few transactions a second.
//!
//! A claim is queued to its campaign's worker (one per campaign per server instance). The worker
//! takes what is waiting (up to [`BATCH`]) and settles it in one transaction: what the shoppers
//! already hold (repeats of a request id get the same voucher; the per-person limit), then one
//! statement that gives free vouchers to the rest, then one audit record for the batch, then the
//! commit — and only then the answers. The database guarantees what matters (a voucher row has
//! one holder; a person's slots are 1..limit and unique; a request key is used once), so a bug or a
//! second instance cannot over-issue. A full queue sheds load with 429 and Retry-After.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::Ctx;
use crate::audit::{self, ActorKind, Author, Change};
use crate::error::{AppError, AppResult, Msg, stored};
use crate::otp::{self, Purpose};
use crate::pii::Place;
use nightmarket_db::vouchers::{CampaignRow, Take, VoucherRow};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::code::Colour;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Phone;
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_domain::voucher::{self, State, Step, Terms};

/// The most claims settled in one transaction.
pub const BATCH: usize = 512;
/// Claims waiting per campaign beyond which new ones are shed (429).
pub const QUEUE: usize = 20_000;

/// A campaign as admins and shoppers see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub value_fen: i32,
    pub threshold_fen: i32,
    pub total: i32,
    pub per_person: i16,
    pub claim_start: DateTime<Utc>,
    pub claim_end: DateTime<Utc>,
    pub use_until: Option<DateTime<Utc>>,
    pub use_days: Option<i32>,
    pub market_ids: Vec<Uuid>,
    pub categories: Vec<String>,
    pub daily_budget_fen: Option<i64>,
    /// As of now (a scheduled campaign inside its claim window is running).
    pub state: State,
    pub claimed: i64,
    pub used: i64,
}

impl Campaign {
    /// Every voucher has been claimed.
    pub fn sold_out(&self) -> bool {
        self.claimed >= i64::from(self.total)
    }

    /// Taking claims now: running, with vouchers left.
    pub fn claimable(&self) -> bool {
        self.state == State::Running && !self.sold_out()
    }

    /// The state as a shopper should read it: a running campaign with nothing left is sold out.
    pub fn shown_state_key(&self) -> &'static str {
        if self.state == State::Running && self.sold_out() {
            "campaign.sold_out"
        } else {
            self.state.label_key()
        }
    }
}

fn view(c: &CampaignRow, now: DateTime<Utc>, claimed: i64, used: i64) -> AppResult<Campaign> {
    let stored = stored(State::parse(&c.state), "campaign state", &c.state)?;
    Ok(Campaign {
        id: c.id,
        name: c.name.clone(),
        value_fen: c.value_fen,
        threshold_fen: c.threshold_fen,
        total: c.total,
        per_person: c.per_person,
        claim_start: c.claim_start,
        claim_end: c.claim_end,
        use_until: c.use_until,
        use_days: c.use_days,
        market_ids: c.market_ids.clone(),
        categories: c.categories.clone(),
        daily_budget_fen: c.daily_budget_fen,
        state: voucher::effective(stored, c.claim_start, c.claim_end, now),
        claimed,
        used,
    })
}

fn terms_of(c: &CampaignRow) -> serde_json::Value {
    serde_json::json!({
        "name": c.name, "value_fen": c.value_fen, "threshold_fen": c.threshold_fen, "total": c.total,
        "per_person": c.per_person, "claim_start": c.claim_start, "claim_end": c.claim_end,
        "use_until": c.use_until, "use_days": c.use_days, "market_ids": c.market_ids,
        "categories": c.categories, "daily_budget_fen": c.daily_budget_fen, "state": c.state
    })
}

async fn load(tx: &mut TenantTx, id: Uuid, lock: bool, now: DateTime<Utc>) -> AppResult<(CampaignRow, Campaign)> {
    let row = db::vouchers::get(tx, id, lock).await?.ok_or(AppError::NotFound)?;
    let (_, claimed, used) = db::vouchers::counts(tx, id).await?;
    let v = view(&row, now, claimed, used)?;
    Ok((row, v))
}

/// The campaigns shoppers may see (not drafts).
pub async fn list(ctx: &Ctx, tenant: TenantId) -> AppResult<Vec<Campaign>> {
    campaigns(ctx, tenant, false).await
}

/// Every campaign of the tenant, drafts too (staff).
pub async fn list_all(ctx: &Ctx, staff: &Actor) -> AppResult<Vec<Campaign>> {
    staff.require_staff()?;
    campaigns(ctx, staff.tenant_id(), true).await
}

async fn campaigns(ctx: &Ctx, tenant: TenantId, drafts: bool) -> AppResult<Vec<Campaign>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant).await?;
    let mut out = Vec::new();
    for c in db::vouchers::list(&mut tx).await? {
        if !drafts && c.state == "draft" {
            continue;
        }
        let (_, claimed, used) = db::vouchers::counts(&mut tx, c.id).await?;
        out.push(view(&c, now, claimed, used)?);
    }
    Ok(out)
}

/// A campaign shoppers may see (a draft is not found).
pub async fn get(ctx: &Ctx, tenant: TenantId, id: Uuid) -> AppResult<Campaign> {
    campaign(ctx, tenant, id, false).await
}

/// Any campaign of the tenant, a draft too (staff).
pub async fn get_any(ctx: &Ctx, staff: &Actor, id: Uuid) -> AppResult<Campaign> {
    staff.require_staff()?;
    campaign(ctx, staff.tenant_id(), id, true).await
}

async fn campaign(ctx: &Ctx, tenant: TenantId, id: Uuid, drafts: bool) -> AppResult<Campaign> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant).await?;
    let (row, v) = load(&mut tx, id, false, now).await?;
    if !drafts && row.state == "draft" {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

/// A new campaign, as a draft.
pub async fn create(ctx: &Ctx, admin: &Actor, t: &Terms) -> AppResult<Campaign> {
    admin.require_admin()?;
    t.check().map_err(AppError::Validation)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    check_markets(&mut tx, t).await?;
    let id = db::vouchers::insert(&mut tx, t).await?;
    let (row, v) = load(&mut tx, id, false, now).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("campaign.create", "campaign", id).after(&terms_of(&row)),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

async fn check_markets(tx: &mut TenantTx, t: &Terms) -> AppResult<()> {
    for m in &t.market_ids {
        if db::markets::get(tx, *m).await?.is_none() {
            return Err(AppError::field("market_ids", "campaign.market"));
        }
    }
    Ok(())
}

/// Changes a campaign's terms. Once its claim window has opened (and it is not a draft), its face
/// value, threshold, count and limit are fixed; before that, a scheduled campaign's vouchers are
/// made again to match.
pub async fn update(ctx: &Ctx, admin: &Actor, id: Uuid, t: &Terms) -> AppResult<Campaign> {
    admin.require_admin()?;
    t.check().map_err(AppError::Validation)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    check_markets(&mut tx, t).await?;
    let (before, v) = load(&mut tx, id, true, now).await?;
    let stored = stored(State::parse(&before.state), "campaign state", &before.state)?;
    if stored == State::Ended {
        return Err(AppError::Conflict(Msg::new("campaign.ended")));
    }
    let money_changed = i64::from(before.value_fen) != t.value_fen
        || i64::from(before.threshold_fen) != t.threshold_fen
        || i64::from(before.total) != t.total
        || i64::from(before.per_person) != t.per_person;
    let opened = stored != State::Draft && now >= before.claim_start;
    // (Compared to the microsecond, as PostgreSQL keeps times.)
    let start_moved = t.claim_start.timestamp_micros() != before.claim_start.timestamp_micros();
    if opened && (money_changed || start_moved) {
        return Err(AppError::Conflict(Msg::new("campaign.fixed_after_opening")));
    }
    if stored != State::Draft && v.claimed > 0 && money_changed {
        return Err(AppError::Conflict(Msg::new("campaign.fixed_after_opening")));
    }
    db::vouchers::update(&mut tx, id, t).await?;
    if stored != State::Draft && (before.total as i64 != t.total || before.per_person as i64 != t.per_person) {
        let tenant = tx.tenant().0;
        sqlx::query!(
            "delete from vouchers where tenant_id = $1 and campaign_id = $2 and shopper_id is null",
            tenant,
            id
        )
        .execute(tx.conn())
        .await?;
        db::vouchers::make_vouchers(&mut tx, id, t.total as i32, t.per_person as i16).await?;
    }
    let (after, v) = load(&mut tx, id, false, now).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("campaign.update", "campaign", id)
            .before(&terms_of(&before))
            .after(&terms_of(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// Schedules (making every voucher), pauses, resumes or ends a campaign.
pub async fn step(ctx: &Ctx, admin: &Actor, id: Uuid, step: Step) -> AppResult<Campaign> {
    admin.require_admin()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let (row, v) = load(&mut tx, id, true, now).await?;
    let Some(next) = voucher::after(v.state, step) else {
        return Err(AppError::Conflict(Msg::new("campaign.step_not_now")));
    };
    if step == Step::Schedule {
        if row.claim_end <= now {
            return Err(AppError::Conflict(Msg::new("campaign.window_passed")));
        }
        db::vouchers::make_vouchers(&mut tx, id, row.total, row.per_person).await?;
    }
    db::vouchers::set_state(&mut tx, id, next.as_str()).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("campaign.step", "campaign", id)
            .before(&serde_json::json!({ "state": v.state }))
            .after(&serde_json::json!({ "state": next, "step": step })),
    )
    .await?;
    let (_, v) = load(&mut tx, id, false, now).await?;
    tx.commit().await?;
    ctx.claims.forget(admin.tenant_id(), id);
    Ok(v)
}

// ------------------------------------------------------------------------------------ shoppers

fn phone_place(tenant: TenantId, shopper: Uuid) -> Place<'static> {
    Place {
        tenant,
        table: "shoppers",
        column: "phone_enc",
        row: shopper,
    }
}

/// Sends a sign-in code to a shopper's number.
pub async fn send_code(ctx: &Ctx, tenant: &Tenant, phone: &str, client: std::net::IpAddr) -> AppResult<Phone> {
    let phone = Phone::parse(phone).ok_or(AppError::field("phone", "phone.invalid"))?;
    otp::send(ctx, tenant, Purpose::Shopper, &phone, client).await?;
    Ok(phone)
}

/// A signed-in shopper: their token (for the cookie or `Authorization: Bearer`) and masked number.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShopperSession {
    pub token: String,
    pub shopper_id: Uuid,
    pub phone_masked: String,
}

/// Checks the code and signs the shopper in, registering the number on first use.
pub async fn sign_in(ctx: &Ctx, tenant: &Tenant, phone: &str, code: &str) -> AppResult<ShopperSession> {
    let phone = Phone::parse(phone).ok_or(AppError::field("phone", "phone.invalid"))?;
    otp::verify(ctx, tenant, Purpose::Shopper, &phone, code).await?;
    let index = ctx.keys.blind_index(tenant.id, "phone", phone.as_str());
    let new_id = Uuid::new_v4();
    let sealed = ctx.keys.seal_str(&phone_place(tenant.id, new_id), phone.as_str());
    let masked = phone.masked();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let (id, created) = db::vouchers::shopper(&mut tx, &index, new_id, &sealed, &masked).await?;
    if created {
        audit::record(
            &mut tx,
            &shopper_actor(id),
            Change::new("shopper.create", "shopper", id).after(&serde_json::json!({ "phone": masked })),
        )
        .await?;
    }
    tx.commit().await?;
    let token = ctx
        .shopper_keys
        .issue(tenant.id, id, &masked)
        .map_err(AppError::Internal)?;
    Ok(ShopperSession {
        token,
        shopper_id: id,
        phone_masked: masked,
    })
}

fn shopper_actor(id: Uuid) -> Author {
    Author {
        kind: ActorKind::Public,
        id: None,
        label: format!("shopper:{id}"),
        request_id: None,
    }
}

/// A shopper's vouchers.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldVoucher {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// The voucher's number within its campaign.
    pub seq: i32,
    pub value_fen: i32,
    pub threshold_fen: i32,
    pub claimed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// claimed, used or expired.
    pub status: String,
}

pub async fn mine(ctx: &Ctx, tenant: TenantId, shopper: Uuid) -> AppResult<Vec<HeldVoucher>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant).await?;
    Ok(db::vouchers::of_shopper(&mut tx, shopper)
        .await?
        .into_iter()
        .map(|v| HeldVoucher {
            status: if v.used_at.is_some() {
                "used"
            } else if v.expires_at.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "claimed"
            }
            .into(),
            campaign_id: v.campaign_id,
            campaign_name: v.campaign_name,
            seq: v.seq,
            value_fen: v.value_fen,
            threshold_fen: v.threshold_fen,
            claimed_at: v.claimed_at,
            expires_at: v.expires_at,
        })
        .collect())
}

// -------------------------------------------------------------------------------------- claims

/// What a claim came to.
#[derive(Clone, Debug)]
pub enum Claimed {
    /// A voucher: new (201) or the one this request id got before (200).
    Voucher { voucher: ClaimedVoucher, new: bool },
    /// The person holds the campaign's limit already (409).
    Limit,
    /// The request id was used before for a claim on another campaign (409).
    KeyReused,
    /// No voucher left (410).
    SoldOut,
    /// The claim window has not opened (425), with when it does.
    NotYet(DateTime<Utc>),
    /// Paused, ended or past its window (409).
    Closed,
    /// No such campaign here (404).
    Unknown,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimedVoucher {
    pub campaign_id: Uuid,
    pub seq: i32,
    /// The Idempotency-Key the voucher was claimed under (echoed so a client can match answers).
    pub request_id: String,
    pub claimed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn claimed(v: &VoucherRow, new: bool) -> Claimed {
    Claimed::Voucher {
        voucher: ClaimedVoucher {
            campaign_id: v.campaign_id,
            seq: v.seq,
            request_id: v
                .request_key
                .as_deref()
                .and_then(|k| k.split_once(':'))
                .map(|(_, id)| id.to_string())
                .unwrap_or_default(),
            claimed_at: v.claimed_at.unwrap_or_default(),
            expires_at: v.expires_at.unwrap_or_default(),
        },
        new,
    }
}

struct ClaimRequest {
    shopper: Uuid,
    request_key: String,
    reply: oneshot::Sender<AppResult<Claimed>>,
}

type Key = (TenantId, Uuid);

/// The per-campaign claim workers of this instance.
#[derive(Clone, Default)]
pub struct ClaimQueues {
    workers: Arc<Mutex<HashMap<Key, mpsc::Sender<ClaimRequest>>>>,
}

impl ClaimQueues {
    /// Drops a campaign's worker (it is made again on the next claim), e.g. after its terms change.
    pub fn forget(&self, tenant: TenantId, campaign: Uuid) {
        if let Ok(mut w) = self.workers.lock() {
            w.remove(&(tenant, campaign));
        }
    }

    fn sender(&self, ctx: &Ctx, key: Key) -> Option<mpsc::Sender<ClaimRequest>> {
        let mut workers = self.workers.lock().ok()?;
        if let Some(s) = workers.get(&key).filter(|s| !s.is_closed()) {
            return Some(s.clone());
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        workers.insert(key, tx.clone());
        tokio::spawn(worker(ctx.clone(), key, rx));
        Some(tx)
    }
}

/// The stored key of a client's request id (`Idempotency-Key`): `shopper:id`, after checking the
/// id is 1–100 visible ASCII characters.
/// The stored key of a shopper's request id; 400 when the id is missing or not printable ASCII.
pub fn request_key(shopper: Uuid, request_id: &str) -> AppResult<String> {
    let id = request_id.trim();
    if id.is_empty() || id.len() > 100 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::BadRequest(Msg::new("claim.request_id")));
    }
    Ok(format!("{shopper}:{id}"))
}

/// Claims a voucher of a campaign for a signed-in shopper, under the client's request id.
pub async fn claim(ctx: &Ctx, tenant: TenantId, campaign: Uuid, shopper: Uuid, request_id: &str) -> AppResult<Claimed> {
    let request_key = request_key(shopper, request_id)?;
    let sender = ctx
        .claims
        .sender(ctx, (tenant, campaign))
        .ok_or(AppError::RateLimited { retry_after_secs: 1 })?;
    let (reply, answer) = oneshot::channel();
    let request = ClaimRequest {
        shopper,
        request_key,
        reply,
    };
    // A full queue sheds the claim at once; the client retries after a second.
    sender
        .try_send(request)
        .map_err(|_| AppError::RateLimited { retry_after_secs: 1 })?;
    answer
        .await
        .map_err(|_| AppError::RateLimited { retry_after_secs: 1 })?
}

/// What a campaign's worker knows between batches.
struct Progress {
    /// A claim found no free voucher: later claims are answered sold out without a search.
    sold_out: bool,
    /// Free vouchers are looked for from here (every lower one was taken when last looked).
    from_seq: i32,
}

/// One campaign's worker: settles what is waiting, a batch at a time, until idle for a minute.
async fn worker(ctx: Ctx, key: Key, mut rx: mpsc::Receiver<ClaimRequest>) {
    let mut progress = Progress {
        sold_out: false,
        from_seq: 1,
    };
    loop {
        let first = match tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()).await {
            Ok(Some(r)) => r,
            _ => break,
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let outcome = settle(&ctx, key, &batch, &mut progress).await;
        tracing::debug!(
            size = batch.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            sold_out = progress.sold_out,
            "claims: batch settled"
        );
        match outcome {
            Ok(answers) => {
                for (r, a) in batch.into_iter().zip(answers) {
                    let _ = r.reply.send(Ok(a));
                }
            }
            Err(e) => {
                // A batch that failed as a whole (e.g. another instance took the same slot first)
                // is settled again one claim at a time, so one bad claim cannot fail the others.
                tracing::warn!(error = %e, "claims: batch failed, settling one by one");
                for r in batch {
                    let one = [ClaimRequest {
                        shopper: r.shopper,
                        request_key: r.request_key.clone(),
                        reply: oneshot::channel().0,
                    }];
                    let answer = match settle(&ctx, key, &one, &mut progress).await {
                        Ok(mut a) => Ok(a.remove(0)),
                        Err(_) => Err(AppError::RateLimited { retry_after_secs: 1 }),
                    };
                    let _ = r.reply.send(answer);
                }
            }
        }
    }
    ctx.claims.forget(key.0, key.1);
}

/// Settles a batch in one transaction; the answers are in the batch's order.
async fn settle(
    ctx: &Ctx,
    (tenant, campaign): Key,
    batch: &[ClaimRequest],
    progress: &mut Progress,
) -> AppResult<Vec<Claimed>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant).await?;
    let Some(c) = db::vouchers::get(&mut tx, campaign, false).await? else {
        return Ok(batch.iter().map(|_| Claimed::Unknown).collect());
    };
    let stored = stored(State::parse(&c.state), "campaign state", &c.state)?;
    match voucher::effective(stored, c.claim_start, c.claim_end, now) {
        State::Running => {}
        State::Draft => return Ok(batch.iter().map(|_| Claimed::Unknown).collect()),
        State::Scheduled => return Ok(batch.iter().map(|_| Claimed::NotYet(c.claim_start)).collect()),
        State::Paused | State::Ended => return Ok(batch.iter().map(|_| Claimed::Closed).collect()),
    }
    let mut shoppers: Vec<Uuid> = batch.iter().map(|r| r.shopper).collect();
    shoppers.sort();
    shoppers.dedup();
    let held = db::vouchers::held(&mut tx, campaign, &shoppers).await?;
    let mut by_key: HashMap<&str, &VoucherRow> = HashMap::new();
    let mut count: HashMap<Uuid, i16> = HashMap::new();
    for v in &held {
        if let Some(k) = v.request_key.as_deref() {
            by_key.insert(k, v);
        }
        if let Some(s) = v.shopper_id {
            *count.entry(s).or_default() += 1;
        }
    }
    // Decide each claim in order; a repeat inside the batch waits for its first.
    enum Plan {
        Done(Claimed),
        Take(usize),
        SameAs(usize),
        /// Over the limit only because of an earlier claim of the same person in this batch:
        /// the limit if that one got a voucher, else the reason it did not.
        After(usize),
    }
    let mut plans = Vec::with_capacity(batch.len());
    let mut takes: Vec<Take> = Vec::new();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    // The latest take of each person in this batch (for a claim over the limit only through it).
    let mut last_take: HashMap<Uuid, usize> = HashMap::new();
    let held_count = count.clone();
    let elsewhere = {
        let fresh: Vec<&ClaimRequest> = batch
            .iter()
            .filter(|r| !by_key.contains_key(r.request_key.as_str()))
            .collect();
        if fresh.is_empty() {
            std::collections::HashSet::new()
        } else {
            let shoppers: Vec<Uuid> = fresh.iter().map(|r| r.shopper).collect();
            let keys: Vec<String> = fresh.iter().map(|r| r.request_key.clone()).collect();
            db::vouchers::keys_used_elsewhere(&mut tx, campaign, &shoppers, &keys)
                .await?
                .into_iter()
                .collect::<std::collections::HashSet<String>>()
        }
    };
    for (i, r) in batch.iter().enumerate() {
        if let Some(v) = by_key.get(r.request_key.as_str()) {
            plans.push(Plan::Done(claimed(v, false)));
            continue;
        }
        if elsewhere.contains(&r.request_key) {
            plans.push(Plan::Done(Claimed::KeyReused));
            continue;
        }
        if let Some(j) = first_of.get(r.request_key.as_str()) {
            plans.push(Plan::SameAs(*j));
            continue;
        }
        let n = count.entry(r.shopper).or_default();
        if *n >= c.per_person {
            let held_already = held_count.get(&r.shopper).copied().unwrap_or(0);
            match last_take.get(&r.shopper) {
                Some(j) if held_already < c.per_person => plans.push(Plan::After(*j)),
                _ => plans.push(Plan::Done(Claimed::Limit)),
            }
            continue;
        }
        if progress.sold_out {
            plans.push(Plan::Done(Claimed::SoldOut));
            continue;
        }
        *n += 1;
        first_of.insert(r.request_key.as_str(), i);
        last_take.insert(r.shopper, i);
        plans.push(Plan::Take(takes.len()));
        takes.push(Take {
            shopper: r.shopper,
            slot: *n,
            request_key: r.request_key.clone(),
        });
    }
    let expires = voucher::expires(c.use_until, c.use_days, now);
    let mut given = if takes.is_empty() {
        Vec::new()
    } else {
        db::vouchers::take(&mut tx, campaign, progress.from_seq, &takes, now, expires).await?
    };
    if given.len() < takes.len() && progress.from_seq > 1 {
        // Past the hint there were too few: look again from the start (another instance may have
        // skipped rows this worker had passed) before calling the campaign sold out.
        let got: std::collections::HashSet<&str> = given.iter().filter_map(|v| v.request_key.as_deref()).collect();
        let rest: Vec<Take> = takes
            .iter()
            .filter(|t| !got.contains(t.request_key.as_str()))
            .map(|t| Take {
                shopper: t.shopper,
                slot: t.slot,
                request_key: t.request_key.clone(),
            })
            .collect();
        let more = db::vouchers::take(&mut tx, campaign, 1, &rest, now, expires).await?;
        given.extend(more);
    }
    if given.len() < takes.len() {
        progress.sold_out = true;
    }
    // Claimed rows stay in the free index as dead entries until vacuum; starting the next search
    // past them keeps each batch's search short as the rush goes on.
    if let Some(max) = given.iter().map(|v| v.seq).max() {
        progress.from_seq = progress.from_seq.max(max + 1);
    }
    let by_taken: HashMap<&str, &VoucherRow> = given
        .iter()
        .filter_map(|v| Some((v.request_key.as_deref()?, v)))
        .collect();
    let mut answers: Vec<Claimed> = Vec::with_capacity(batch.len());
    for p in &plans {
        let a = match p {
            Plan::Done(a) => a.clone(),
            Plan::Take(t) => match by_taken.get(takes[*t].request_key.as_str()) {
                Some(v) => claimed(v, true),
                None => Claimed::SoldOut,
            },
            Plan::SameAs(j) => match &answers[*j] {
                Claimed::Voucher { voucher, .. } => Claimed::Voucher {
                    voucher: voucher.clone(),
                    new: false,
                },
                other => other.clone(),
            },
            Plan::After(j) => match &answers[*j] {
                Claimed::Voucher { .. } => Claimed::Limit,
                other => other.clone(),
            },
        };
        answers.push(a);
    }
    if !given.is_empty() {
        // One record for the batch: who got which voucher.
        let list: Vec<serde_json::Value> = given
            .iter()
            .map(|v| serde_json::json!({ "shopper": v.shopper_id, "voucher": v.seq }))
            .collect();
        audit::record(
            &mut tx,
            &Author::system("claims"),
            Change::new("voucher.claim", "campaign", campaign).after(&serde_json::json!({ "claims": list, "at": now })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(answers)
}

// --------------------------------------------------------------------------------- redemption

/// The largest bill a voucher may be used on (50,000 元): anything above is a typo or worse.
pub const MAX_BILL_FEN: i64 = 5_000_000;

/// A voucher used at a stall, as the confirmation screen, the vendor and officials see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Redemption {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub voucher_seq: i32,
    pub code_id: Uuid,
    pub stall_name: String,
    pub slot_code: String,
    pub business_date: chrono::NaiveDate,
    pub bill_fen: i32,
    /// The voucher's face value: what the shopper does not pay.
    pub value_fen: i32,
    /// What the shopper pays.
    pub pay_fen: i32,
    /// Six digits, shown large to shopper and vendor alike.
    pub verification: String,
    pub shopper_masked: String,
    pub created_at: DateTime<Utc>,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_reason: Option<String>,
}

fn redemption_view(r: db::vouchers::RedemptionRow) -> Redemption {
    Redemption {
        pay_fen: (r.bill_fen - r.value_fen).max(0),
        id: r.id,
        campaign_id: r.campaign_id,
        campaign_name: r.campaign_name,
        voucher_seq: r.seq,
        code_id: r.code_id,
        stall_name: r.stall_name,
        slot_code: r.slot_code,
        business_date: r.business_date,
        bill_fen: r.bill_fen,
        value_fen: r.value_fen,
        verification: r.verification,
        shopper_masked: r.shopper_masked,
        created_at: r.created_at,
        reversed_at: r.reversed_at,
        reversed_reason: r.reversed_reason,
    }
}

/// Parses a bill typed in 元 ("68", "68.5", "68.50") into fen, never through floating point.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('元').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || whole.len() > 9 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse::<i64>().ok()?,
    };
    Some(whole.parse::<i64>().ok()? * 100 + cents)
}

/// Why a redemption was refused before any voucher was chosen (recorded as an attempt).
async fn refuse(
    ctx: &Ctx,
    tenant: TenantId,
    shopper: Uuid,
    code: Uuid,
    bill_fen: i64,
    reason: &'static str,
) -> AppError {
    let now = ctx.clock.now();
    let recorded = async {
        let mut tx = ctx.db.tenant(tenant).await?;
        db::vouchers::insert_attempt(
            &mut tx,
            shopper,
            code,
            bill_fen.clamp(0, i64::from(i32::MAX)) as i32,
            reason,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "redemption attempt not recorded");
    }
    AppError::Conflict(Msg::new(reason))
}

/// Whether the tenant lets yellow stalls take vouchers (its setting; red ones never do).
pub async fn yellow_takes_vouchers(ctx: &Ctx, tenant: TenantId) -> AppResult<bool> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let yes = db::settings::get(&mut tx).await?.vouchers_at_yellow;
    tx.commit().await?;
    Ok(yes)
}

/// Whether a code of this colour may take vouchers under the tenant's setting.
fn takes_vouchers(colour: Colour, at_yellow: bool) -> bool {
    match colour {
        Colour::Green => true,
        Colour::Yellow => at_yellow,
        Colour::Red => false,
    }
}

/// The business night under way at a stall's market (of the user's tenant).
pub async fn tonight_at(ctx: &Ctx, user: &Actor, code: Uuid) -> AppResult<chrono::NaiveDate> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = db::codes::get(&mut tx, code).await?.ok_or(AppError::NotFound)?;
    Ok(row
        .hours()
        .business_date(ctx.clock.now().with_timezone(&user.tenant.timezone).naive_local()))
}

/// Uses the shopper's best eligible voucher on a bill at a stall: the threshold met, the campaign
/// taking this market and category, within its use window and daily budget; the stall green and
/// trading (checked in, market open). Idempotent by request id; a voucher is never used twice.
pub async fn redeem(
    ctx: &Ctx,
    tenant: &Tenant,
    code: &db::codes::CodeRow,
    shopper: Uuid,
    bill_fen: i64,
    request_id: &str,
) -> AppResult<(Redemption, bool)> {
    let key = request_key(shopper, request_id)?;
    if !(1..=MAX_BILL_FEN).contains(&bill_fen) {
        return Err(AppError::Validation(vec![crate::error::FieldError::with(
            "bill",
            Msg::new("redeem.bill").arg("max", voucher::yuan(MAX_BILL_FEN)),
        )]));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let existing = db::vouchers::redemptions(
        &mut tx,
        &db::vouchers::RedemptionFilter {
            request_key: Some(key.clone()),
            ..Default::default()
        },
    )
    .await?;
    if let Some(r) = existing.into_iter().next() {
        // The same request again gets the same answer; the same id on another bill or stall is
        // a different request, and must not be answered as if it had been paid.
        if r.code_id != code.id || i64::from(r.bill_fen) != bill_fen {
            return Err(AppError::Conflict(Msg::new("idempotency.key_reused")));
        }
        return Ok((redemption_view(r), false));
    }
    let at_yellow = db::settings::get(&mut tx).await?.vouchers_at_yellow;
    if code.revoked_at.is_some() || !takes_vouchers(code.colour, at_yellow) {
        drop(tx);
        let reason = if code.revoked_at.is_some() || code.colour == Colour::Red {
            "redeem.stall_red"
        } else {
            "redeem.stall_not_green"
        };
        return Err(refuse(ctx, tenant.id, shopper, code.id, bill_fen, reason).await);
    }
    let (night, tonight) = crate::ratings::tonight(&mut tx, tenant, code, now).await?;
    if tonight != crate::ratings::Tonight::Open {
        drop(tx);
        return Err(refuse(ctx, tenant.id, shopper, code.id, bill_fen, "redeem.not_trading").await);
    }
    let mut candidates: Vec<db::vouchers::Usable> = db::vouchers::usable(&mut tx, shopper, now)
        .await?
        .into_iter()
        .filter(|v| v.market_ids.is_empty() || v.market_ids.contains(&code.market_id))
        .filter(|v| v.categories.is_empty() || v.categories.iter().any(|c| c == code.category.as_str()))
        .collect();
    if candidates.is_empty() {
        return Err(AppError::Conflict(Msg::new("redeem.no_voucher")));
    }
    let lowest = candidates.iter().map(|v| v.threshold_fen).min().unwrap_or(0);
    candidates.retain(|v| i64::from(v.threshold_fen) <= bill_fen);
    if candidates.is_empty() {
        return Err(AppError::Conflict(
            Msg::new("redeem.threshold").arg("threshold", voucher::yuan(i64::from(lowest))),
        ));
    }
    // The best: the largest face value, then the one expiring first (the query's order).
    let mut chosen = None;
    // Why no candidate could be used, so the refusal names the true cause: a campaign's budget
    // for the night, or another redemption of this shopper's taking the voucher at this moment.
    let mut over_budget = false;
    for v in &candidates {
        if let Some(budget) = v.daily_budget_fen
            && db::vouchers::spent_on(&mut tx, v.campaign_id, night).await? + i64::from(v.value_fen) > budget
        {
            over_budget = true;
            continue;
        }
        if db::vouchers::mark_used(&mut tx, v.campaign_id, v.seq, now).await? {
            chosen = Some(v.clone());
            break;
        }
    }
    let Some(v) = chosen else {
        return Err(AppError::Conflict(Msg::new(if over_budget {
            "redeem.budget"
        } else {
            "redeem.in_flight"
        })));
    };
    let id = Uuid::new_v4();
    let n = u32::from_le_bytes(crate::secrets::random_bytes::<4>()) % 1_000_000;
    let verification = format!("{n:06}");
    db::vouchers::insert_redemption(
        &mut tx,
        &db::vouchers::NewRedemption {
            id,
            campaign_id: v.campaign_id,
            seq: v.seq,
            shopper_id: shopper,
            code_id: code.id,
            vendor_id: code.vendor_id,
            market_id: code.market_id,
            business_date: night,
            bill_fen: bill_fen as i32,
            value_fen: v.value_fen,
            verification: &verification,
            request_key: &key,
            at: now,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &shopper_actor(shopper),
        Change::new("voucher.redeem", "redemption", id).after(&serde_json::json!({
            "campaign": v.campaign_id, "voucher": v.seq, "code": code.id, "bill_fen": bill_fen,
            "value_fen": v.value_fen, "night": night
        })),
    )
    .await?;
    let row = db::vouchers::redemption(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    crate::live::notify_stall(
        &mut tx,
        now,
        code.id,
        STALL_EVENT,
        serde_json::json!({ "redemption": id }),
    )
    .await?;
    tx.commit().await?;
    Ok((redemption_view(row), true))
}

/// The live event a stall's page gets when a voucher is used there or such a use is reversed.
pub const STALL_EVENT: &str = "voucher.redemption";

/// One redemption (its shopper, the stall's vendor, or staff).
pub async fn redemption(ctx: &Ctx, tenant: TenantId, id: Uuid) -> AppResult<Redemption> {
    let mut tx = ctx.db.tenant(tenant).await?;
    db::vouchers::redemption(&mut tx, id)
        .await?
        .map(redemption_view)
        .ok_or(AppError::NotFound)
}

/// A stall's redemptions on a night (its vendor, or staff).
pub async fn of_stall(ctx: &Ctx, user: &Actor, code: Uuid, night: chrono::NaiveDate) -> AppResult<Vec<Redemption>> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = db::codes::get(&mut tx, code).await?.ok_or(AppError::NotFound)?;
    if !user.role.is_staff() && row.vendor_id != user.id {
        return Err(AppError::NotFound);
    }
    Ok(db::vouchers::redemptions(
        &mut tx,
        &db::vouchers::RedemptionFilter {
            code: Some(code),
            date: Some(night),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .map(redemption_view)
    .collect())
}

/// Redemptions on a business night (at most 1,000, newest first), optionally only those with a
/// verification number, for staff looking one up to reverse it.
pub async fn of_night(
    ctx: &Ctx,
    staff: &Actor,
    night: chrono::NaiveDate,
    verification: Option<&str>,
) -> AppResult<Vec<Redemption>> {
    staff.require_staff()?;
    let mut tx = ctx.db.tenant(staff.tenant_id()).await?;
    let filter = db::vouchers::RedemptionFilter {
        date: Some(night),
        verification: verification
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string),
        ..Default::default()
    };
    Ok(db::vouchers::redemptions(&mut tx, &filter)
        .await?
        .into_iter()
        .map(redemption_view)
        .collect())
}

/// An official reverses a redemption, with a reason: the voucher may be used again.
pub async fn reverse(ctx: &Ctx, official: &Actor, id: Uuid, reason: &str) -> AppResult<Redemption> {
    official.require_staff()?;
    let reason = reason.trim();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::field("reason", "redeem.reverse_reason"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::vouchers::reverse(&mut tx, id, official.id, reason, now).await? {
        return Err(if db::vouchers::redemption(&mut tx, id).await?.is_none() {
            AppError::NotFound
        } else {
            AppError::Conflict(Msg::new("redeem.already_reversed"))
        });
    }
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("voucher.reverse", "redemption", id)
            .before(&serde_json::json!({ "reversed": false }))
            .after(&serde_json::json!({ "reversed": true, "reason": reason })),
    )
    .await?;
    let row = db::vouchers::redemption(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    crate::live::notify_stall(
        &mut tx,
        now,
        row.code_id,
        STALL_EVENT,
        serde_json::json!({ "redemption": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(redemption_view(row))
}

// ------------------------------------------------------------------- settlement and statistics

/// A campaign's numbers.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignStats {
    pub campaign: Campaign,
    pub issued: i64,
    pub claimed: i64,
    pub used: i64,
    pub expired: i64,
    /// Face values of live redemptions: what the government pays.
    pub subsidy_fen: i64,
    /// Bills of those redemptions: the spending the vouchers drove.
    pub consumption_fen: i64,
    /// consumption ÷ subsidy, two decimals (None before any use).
    pub leverage: Option<String>,
    /// Claims in each 10 s of the first five minutes after the opening.
    pub claim_curve: Vec<i64>,
    /// Seconds from the opening to the last voucher, once all were claimed.
    pub sold_out_after_secs: Option<i64>,
}

pub async fn stats(ctx: &Ctx, user: &Actor, id: Uuid) -> AppResult<CampaignStats> {
    user.require_staff()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let (row, campaign) = load(&mut tx, id, false, now).await?;
    let f = db::vouchers::figures(&mut tx, id, now).await?;
    let claim_curve = db::vouchers::claim_curve(&mut tx, id, row.claim_start, 10, 30).await?;
    let last: Option<DateTime<Utc>> = sqlx::query_scalar!(
        "select max(claimed_at) from vouchers where tenant_id = $1 and campaign_id = $2",
        tx.tenant().0,
        id
    )
    .fetch_one(tx.conn())
    .await?;
    Ok(CampaignStats {
        sold_out_after_secs: (f.claimed == f.issued && f.issued > 0)
            .then(|| last.map(|l| (l - row.claim_start).num_seconds()))
            .flatten(),
        leverage: voucher::leverage(f.consumption_fen, f.subsidy_fen),
        campaign,
        issued: f.issued,
        claimed: f.claimed,
        used: f.used,
        expired: f.expired,
        subsidy_fen: f.subsidy_fen,
        consumption_fen: f.consumption_fen,
        claim_curve,
    })
}

/// Subsidy and spending by market, and for the whole tenant.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = VoucherMarketFigures))]
pub struct MarketFigures {
    pub market_id: Option<Uuid>,
    /// The market, or the tenant for the total.
    pub name: String,
    pub used: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
    pub leverage: Option<String>,
}

pub async fn market_figures(ctx: &Ctx, user: &Actor) -> AppResult<Vec<MarketFigures>> {
    user.require_staff()?;
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let rows = db::vouchers::by_market(&mut tx).await?;
    let mut out: Vec<MarketFigures> = rows
        .iter()
        .map(|(id, name, used, subsidy, consumption)| MarketFigures {
            market_id: Some(*id),
            name: name.clone(),
            used: *used,
            subsidy_fen: *subsidy,
            consumption_fen: *consumption,
            leverage: voucher::leverage(*consumption, *subsidy),
        })
        .collect();
    let (used, subsidy, consumption) = rows.iter().fold((0, 0, 0), |(u, s, c), r| (u + r.2, s + r.3, c + r.4));
    out.push(MarketFigures {
        market_id: None,
        name: user.tenant.name.clone(),
        used,
        subsidy_fen: subsidy,
        consumption_fen: consumption,
        leverage: voucher::leverage(consumption, subsidy),
    });
    Ok(out)
}

/// One vendor-day to pay.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VendorDay {
    pub vendor_id: Uuid,
    pub vendor: String,
    pub stalls: Vec<String>,
    pub business_date: chrono::NaiveDate,
    pub vouchers: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
    pub settled_at: Option<DateTime<Utc>>,
    /// What was paid when it was settled, when that differs from the subsidy now (a reversal since).
    pub settled_subsidy_fen: Option<i64>,
    /// Where to pay it, as the vendor gave it: masked, or in clear when an admin asked.
    pub payee: Option<crate::payees::Payee>,
}

fn vendor_day(d: db::vouchers::VendorDay) -> VendorDay {
    VendorDay {
        vendor_id: d.vendor_id,
        vendor: d.vendor_masked,
        stalls: d.stalls,
        business_date: d.business_date,
        vouchers: d.vouchers,
        subsidy_fen: d.subsidy_fen,
        consumption_fen: d.consumption_fen,
        settled_at: d.settled_at,
        settled_subsidy_fen: d.settled_subsidy_fen,
        payee: None,
    }
}

/// Vendor-days with redemptions between two business dates (admins).
/// With `reveal`, the payees' full names and account numbers are shown in clear and the viewing
/// is audited (`settlement.reveal`, naming the vendors shown).
pub async fn settlement(
    ctx: &Ctx,
    admin: &Actor,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    reveal: bool,
) -> AppResult<Vec<VendorDay>> {
    admin.require_admin()?;
    if to < from || (to - from).num_days() > 366 {
        return Err(AppError::field("to", "settlement.range"));
    }
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let mut days: Vec<VendorDay> = db::vouchers::vendor_days(&mut tx, from, to, None)
        .await?
        .into_iter()
        .map(vendor_day)
        .collect();
    let mut vendors: Vec<Uuid> = days.iter().map(|d| d.vendor_id).collect();
    vendors.sort();
    vendors.dedup();
    let payees = crate::payees::of_vendors(&mut tx, &ctx.keys, &vendors, reveal).await?;
    for d in &mut days {
        d.payee = payees.get(&d.vendor_id).cloned();
    }
    if reveal {
        let shown: Vec<Uuid> = vendors.iter().filter(|v| payees.contains_key(v)).copied().collect();
        audit::record(
            &mut tx,
            &Author::of(admin),
            Change::new("settlement.reveal", "tenant", admin.tenant_id().0)
                .after(&serde_json::json!({ "from": from, "to": to, "vendors": shown })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(days)
}

/// Marks a vendor-day paid, recording the sums paid (admins).
pub async fn mark_settled(ctx: &Ctx, admin: &Actor, vendor: Uuid, date: chrono::NaiveDate) -> AppResult<VendorDay> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let day = db::vouchers::vendor_days(&mut tx, date, date, Some(vendor))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    if !db::vouchers::settle(&mut tx, &day, admin.id).await? {
        return Err(AppError::Conflict(Msg::new("settlement.already")));
    }
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("settlement.settle", "user", vendor).after(&serde_json::json!({
            "date": date, "vouchers": day.vouchers, "subsidy_fen": day.subsidy_fen, "consumption_fen": day.consumption_fen
        })),
    )
    .await?;
    let day = db::vouchers::vendor_days(&mut tx, date, date, Some(vendor))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(vendor_day(day))
}

/// The columns of the settlement export (what to pay, one row per vendor-day).
pub const SETTLEMENT_COLUMNS: [&str; 11] = [
    "date",
    "vendor_id",
    "vendor",
    "payee_holder",
    "payee_bank",
    "payee_account",
    "stalls",
    "vouchers",
    "subsidy_yuan",
    "consumption_yuan",
    "settled_at",
];

/// One vendor-day as a CSV row; `settled_at` in the tenant's zone with its offset (as the page
/// shows it), so the two never disagree.
pub fn settlement_row(d: &VendorDay, tz: chrono_tz::Tz) -> Vec<String> {
    vec![
        d.business_date.to_string(),
        d.vendor_id.to_string(),
        d.vendor.clone(),
        d.payee.as_ref().map(|p| p.holder.clone()).unwrap_or_default(),
        d.payee.as_ref().map(|p| p.bank.clone()).unwrap_or_default(),
        d.payee.as_ref().map(|p| p.account.clone()).unwrap_or_default(),
        d.stalls.join(" / "),
        d.vouchers.to_string(),
        voucher::yuan(d.subsidy_fen),
        voucher::yuan(d.consumption_fen),
        d.settled_at
            .map(|t| t.with_timezone(&tz).to_rfc3339())
            .unwrap_or_default(),
    ]
}

/// What to pay, as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese right).
pub fn settlement_csv(days: &[VendorDay], tz: chrono_tz::Tz) -> AppResult<Vec<u8>> {
    let columns: Vec<String> = SETTLEMENT_COLUMNS.iter().map(|c| c.to_string()).collect();
    let rows: Vec<Vec<String>> = days.iter().map(|d| settlement_row(d, tz)).collect();
    crate::numbers::csv(&columns, &rows)
}

// ------------------------------------------------------------------------------------ fraud flags

/// A pattern worth an official's look, with the redemptions behind it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flag {
    /// same_pair, near_threshold, vendor_shopper, refused_attempts or burst.
    pub kind: String,
    pub shopper: Option<String>,
    pub stall: Option<String>,
    pub code_id: Option<Uuid>,
    pub count: i64,
    /// For refused attempts: why they were refused (locale keys).
    pub reasons: Vec<String>,
    pub evidence: Vec<Redemption>,
    /// Names the flag by its evidence (so new uses extending the pattern raise it again).
    pub key: String,
    /// An official's dismissal of it.
    pub dismissed: Option<FlagDismissal>,
}

/// Why an official dismissed a flag, who, and when.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagDismissal {
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A flag's name: a hash of its kind, its subject and the uses (or count) behind it.
pub fn flag_key(f: &db::vouchers::FlagRow) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<String> = f.redemption_ids.iter().map(Uuid::to_string).collect();
    ids.sort();
    let text = format!(
        "{}|{}|{}|{}|{}",
        f.kind,
        f.code_id.map(|c| c.to_string()).unwrap_or_default(),
        f.shopper_masked.as_deref().unwrap_or(""),
        f.count,
        ids.join(",")
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub async fn flags(ctx: &Ctx, official: &Actor, campaign: Option<Uuid>) -> AppResult<Vec<Flag>> {
    official.require_staff()?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let settings = db::settings::get(&mut tx).await?;
    let mut out = Vec::new();
    for f in db::vouchers::flags(&mut tx, &settings, campaign).await? {
        let evidence = if f.redemption_ids.is_empty() {
            Vec::new()
        } else {
            db::vouchers::redemptions(
                &mut tx,
                &db::vouchers::RedemptionFilter {
                    ids: f.redemption_ids.clone(),
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(redemption_view)
            .collect()
        };
        out.push(Flag {
            key: flag_key(&f),
            dismissed: None,
            kind: f.kind,
            shopper: f.shopper_masked,
            stall: f.stall_name,
            code_id: f.code_id,
            count: f.count,
            reasons: f.reasons,
            evidence,
        });
    }
    let keys: Vec<String> = out.iter().map(|f| f.key.clone()).collect();
    for r in db::vouchers::flag_reviews(&mut tx, &keys).await? {
        if let Some(f) = out.iter_mut().find(|f| f.key == r.flag_key) {
            f.dismissed = Some(FlagDismissal {
                reason: r.reason,
                by: r.reviewed_by_name,
                at: r.reviewed_at,
            });
        }
    }
    // Those still to look at first.
    out.sort_by_key(|f| f.dismissed.is_some());
    Ok(out)
}

/// An official who looked at a flag and found nothing wrong dismisses it, with a reason (2–200
/// characters), audited. The flag must be one the rules raise now.
pub async fn dismiss_flag(ctx: &Ctx, official: &Actor, key: &str, reason: &str) -> AppResult<()> {
    official.require_staff()?;
    let reason = reason.trim();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::Validation(vec![crate::error::FieldError::with(
            "reason",
            Msg::new("form.length_between").arg("min", 2).arg("max", 200),
        )]));
    }
    let current = flags(ctx, official, None).await?;
    let Some(flag) = current.iter().find(|f| f.key == key) else {
        return Err(AppError::NotFound);
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::vouchers::dismiss_flag(&mut tx, key, reason, official.id, now).await? {
        return Err(AppError::Conflict(Msg::new("voucher_flag.dismissed_already")));
    }
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("voucher_flag.dismiss", "voucher_flag", key).after(&serde_json::json!({
            "kind": flag.kind, "stall": flag.stall, "shopper": flag.shopper, "count": flag.count,
            "uses": flag.evidence.iter().map(|r| r.id).collect::<Vec<_>>(), "reason": reason
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
