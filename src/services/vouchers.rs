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

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::vouchers::{CampaignRow, Take, VoucherRow};
use crate::db::{self, TenantTx};
use crate::domain::people::Phone;
use crate::domain::tenant::{Tenant, TenantId};
use crate::domain::voucher::{self, State, Step, Terms};
use crate::error::{AppError, AppResult, Msg};
use crate::pii::Place;
use crate::services::audit::{self, Actor, ActorKind, Change};
use crate::services::otp::{self, Purpose};

/// The most claims settled in one transaction.
pub const BATCH: usize = 512;
/// Claims waiting per campaign beyond which new ones are shed (429).
pub const QUEUE: usize = 20_000;

/// A campaign as admins and shoppers see it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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

fn view(c: &CampaignRow, now: DateTime<Utc>, claimed: i64, used: i64) -> Campaign {
    let stored = State::parse(&c.state).unwrap_or(State::Draft);
    Campaign {
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
    }
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
    let v = view(&row, now, claimed, used);
    Ok((row, v))
}

/// Every campaign of the tenant (staff), or the ones shoppers may see (not drafts).
pub async fn list(state: &AppState, tenant: TenantId, staff: bool) -> AppResult<Vec<Campaign>> {
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(tenant).await?;
    let mut out = Vec::new();
    for c in db::vouchers::list(&mut tx).await? {
        if !staff && c.state == "draft" {
            continue;
        }
        let (_, claimed, used) = db::vouchers::counts(&mut tx, c.id).await?;
        out.push(view(&c, now, claimed, used));
    }
    Ok(out)
}

pub async fn get(state: &AppState, tenant: TenantId, id: Uuid, staff: bool) -> AppResult<Campaign> {
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(tenant).await?;
    let (row, v) = load(&mut tx, id, false, now).await?;
    if !staff && row.state == "draft" {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

/// A new campaign, as a draft.
pub async fn create(state: &AppState, admin: &AuthUser, t: &Terms) -> AppResult<Campaign> {
    admin.require_admin()?;
    t.check().map_err(AppError::Validation)?;
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(admin.tenant_id()).await?;
    check_markets(&mut tx, t).await?;
    let id = db::vouchers::insert(&mut tx, t).await?;
    let (row, v) = load(&mut tx, id, false, now).await?;
    audit::record(
        &mut tx,
        &admin.actor(),
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
pub async fn update(state: &AppState, admin: &AuthUser, id: Uuid, t: &Terms) -> AppResult<Campaign> {
    admin.require_admin()?;
    t.check().map_err(AppError::Validation)?;
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(admin.tenant_id()).await?;
    check_markets(&mut tx, t).await?;
    let (before, v) = load(&mut tx, id, true, now).await?;
    let stored = State::parse(&before.state).unwrap_or(State::Draft);
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
        &admin.actor(),
        Change::new("campaign.update", "campaign", id)
            .before(&terms_of(&before))
            .after(&terms_of(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// Schedules (making every voucher), pauses, resumes or ends a campaign.
pub async fn step(state: &AppState, admin: &AuthUser, id: Uuid, step: Step) -> AppResult<Campaign> {
    admin.require_admin()?;
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(admin.tenant_id()).await?;
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
        &admin.actor(),
        Change::new("campaign.step", "campaign", id)
            .before(&serde_json::json!({ "state": v.state }))
            .after(&serde_json::json!({ "state": next, "step": step })),
    )
    .await?;
    let (_, v) = load(&mut tx, id, false, now).await?;
    tx.commit().await?;
    state.claims.forget(admin.tenant_id(), id);
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
pub async fn send_code(state: &AppState, tenant: &Tenant, phone: &str, client: std::net::IpAddr) -> AppResult<Phone> {
    let phone = Phone::parse(phone).ok_or(AppError::field("phone", "phone.invalid"))?;
    otp::send(state, tenant, Purpose::Shopper, &phone, client).await?;
    Ok(phone)
}

/// A signed-in shopper: their token (for the cookie or `Authorization: Bearer`) and masked number.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ShopperSession {
    pub token: String,
    pub shopper_id: Uuid,
    pub phone_masked: String,
}

/// Checks the code and signs the shopper in, registering the number on first use.
pub async fn sign_in(state: &AppState, tenant: &Tenant, phone: &str, code: &str) -> AppResult<ShopperSession> {
    let phone = Phone::parse(phone).ok_or(AppError::field("phone", "phone.invalid"))?;
    otp::verify(state, tenant, Purpose::Shopper, &phone, code).await?;
    let index = state.keys.blind_index(tenant.id, "phone", phone.as_str());
    let new_id = Uuid::new_v4();
    let sealed = state.keys.seal_str(&phone_place(tenant.id, new_id), phone.as_str());
    let masked = phone.masked();
    let mut tx = state.db.tenant(tenant.id).await?;
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
    let token = state
        .shopper_keys
        .issue(tenant.id, id, &masked)
        .map_err(AppError::Internal)?;
    Ok(ShopperSession {
        token,
        shopper_id: id,
        phone_masked: masked,
    })
}

fn shopper_actor(id: Uuid) -> Actor {
    Actor {
        kind: ActorKind::Public,
        id: None,
        label: format!("shopper:{id}"),
        request_id: None,
    }
}

/// A shopper's vouchers.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
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

pub async fn mine(state: &AppState, tenant: TenantId, shopper: Uuid) -> AppResult<Vec<HeldVoucher>> {
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(tenant).await?;
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
    /// No voucher left (410).
    SoldOut,
    /// The claim window has not opened (425), with when it does.
    NotYet(DateTime<Utc>),
    /// Paused, ended or past its window (409).
    Closed,
    /// No such campaign here (404).
    Unknown,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimedVoucher {
    pub campaign_id: Uuid,
    pub seq: i32,
    pub claimed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn claimed(v: &VoucherRow, new: bool) -> Claimed {
    Claimed::Voucher {
        voucher: ClaimedVoucher {
            campaign_id: v.campaign_id,
            seq: v.seq,
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

    fn sender(&self, state: &AppState, key: Key) -> Option<mpsc::Sender<ClaimRequest>> {
        let mut workers = self.workers.lock().ok()?;
        if let Some(s) = workers.get(&key).filter(|s| !s.is_closed()) {
            return Some(s.clone());
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        workers.insert(key, tx.clone());
        tokio::spawn(worker(state.clone(), key, rx));
        Some(tx)
    }
}

/// Claims a voucher of a campaign for a signed-in shopper, under the client's request id.
pub async fn claim(
    state: &AppState,
    tenant: TenantId,
    campaign: Uuid,
    shopper: Uuid,
    request_id: &str,
) -> AppResult<Claimed> {
    let request_id = request_id.trim();
    if request_id.is_empty() || request_id.len() > 100 || !request_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::BadRequest(Msg::new("claim.request_id")));
    }
    let sender = state
        .claims
        .sender(state, (tenant, campaign))
        .ok_or(AppError::RateLimited { retry_after_secs: 1 })?;
    let (reply, answer) = oneshot::channel();
    let request = ClaimRequest {
        shopper,
        request_key: format!("{shopper}:{request_id}"),
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

/// One campaign's worker: settles what is waiting, a batch at a time, until idle for a minute.
async fn worker(state: AppState, key: Key, mut rx: mpsc::Receiver<ClaimRequest>) {
    let mut sold_out = false;
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
        let outcome = settle(&state, key, &batch, &mut sold_out).await;
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
                    let answer = match settle(&state, key, &one, &mut sold_out).await {
                        Ok(mut a) => Ok(a.remove(0)),
                        Err(_) => Err(AppError::RateLimited { retry_after_secs: 1 }),
                    };
                    let _ = r.reply.send(answer);
                }
            }
        }
    }
    state.claims.forget(key.0, key.1);
}

/// Settles a batch in one transaction; the answers are in the batch's order.
async fn settle(
    state: &AppState,
    (tenant, campaign): Key,
    batch: &[ClaimRequest],
    sold_out: &mut bool,
) -> AppResult<Vec<Claimed>> {
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(tenant).await?;
    let Some(c) = db::vouchers::get(&mut tx, campaign, false).await? else {
        return Ok(batch.iter().map(|_| Claimed::Unknown).collect());
    };
    let stored = State::parse(&c.state).unwrap_or(State::Draft);
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
    }
    let mut plans = Vec::with_capacity(batch.len());
    let mut takes: Vec<Take> = Vec::new();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    for (i, r) in batch.iter().enumerate() {
        if let Some(v) = by_key.get(r.request_key.as_str()) {
            plans.push(Plan::Done(claimed(v, false)));
            continue;
        }
        if let Some(j) = first_of.get(r.request_key.as_str()) {
            plans.push(Plan::SameAs(*j));
            continue;
        }
        let n = count.entry(r.shopper).or_default();
        if *n >= c.per_person {
            plans.push(Plan::Done(Claimed::Limit));
            continue;
        }
        if *sold_out {
            plans.push(Plan::Done(Claimed::SoldOut));
            continue;
        }
        *n += 1;
        first_of.insert(r.request_key.as_str(), i);
        plans.push(Plan::Take(takes.len()));
        takes.push(Take {
            shopper: r.shopper,
            slot: *n,
            request_key: r.request_key.clone(),
        });
    }
    let expires = voucher::expires(c.use_until, c.use_days, now);
    let given = if takes.is_empty() {
        Vec::new()
    } else {
        db::vouchers::take(&mut tx, campaign, &takes, now, expires).await?
    };
    if given.len() < takes.len() {
        *sold_out = true;
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
            &Actor::system("claims"),
            Change::new("voucher.claim", "campaign", campaign).after(&serde_json::json!({ "claims": list, "at": now })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(answers)
}
