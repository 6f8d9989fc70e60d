//! The claim, batched, so a rush of thousands a second costs a few transactions a second.
//!
//! A claim is queued to one of its campaign's workers ([`LANES`] per campaign per server instance,
//! a person's claims always to the same one). A worker takes what is waiting (up to [`BATCH`]) and
//! settles it in one transaction: what the shoppers already hold (repeats of a request id get the
//! same voucher; the per-person limit), then one statement that gives free vouchers to the rest,
//! then one audit record for the batch, then the commit — and only then the answers. The lanes
//! settle side by side, so that while one batch waits for the database the next is already being
//! settled. A lane's batches on several instances take turns (an advisory lock held to the
//! commit), so a person's claims arriving at two instances at once (a retry the load balancer sent
//! elsewhere) are settled one after the other instead of failing on the unique constraints and
//! being settled again one claim at a time.
//! The database guarantees what matters (a voucher row has one holder; a person's slots are
//! 1..limit and unique; a request key is used once), so a bug or a second instance cannot
//! over-issue. A full queue sheds load with 429 and Retry-After.

use super::*;

/// The most claims settled in one transaction.
pub const BATCH: usize = 512;
/// Claims waiting per lane beyond which new ones are shed (429).
pub const QUEUE: usize = 5_000;
/// Workers per campaign per instance. A person's claims go to one lane (by their id, the same on
/// every instance), and a lane's batches take turns across instances (`db::vouchers::lock_lane`),
/// so no two batches anywhere compete for one person's slots or request ids.
pub const LANES: usize = 4;
/// How long a lane that found no free voucher answers "sold out" without looking again: a
/// voucher another batch held locked and then let go (a rolled-back batch, here or on another
/// instance) is found again after this.
const SOLD_OUT_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

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
/// A campaign's lane.
type LaneKey = (TenantId, Uuid, usize);

/// The per-campaign claim workers of this instance.
#[derive(Clone, Default)]
pub struct ClaimQueues {
    workers: Arc<Mutex<HashMap<LaneKey, mpsc::Sender<ClaimRequest>>>>,
    /// What a campaign's lanes have found, shared between them.
    progress: Arc<Mutex<HashMap<Key, Arc<Progress>>>>,
}

impl ClaimQueues {
    /// Drops a campaign's workers (they are made again on the next claim), e.g. after its terms
    /// change.
    pub fn forget(&self, tenant: TenantId, campaign: Uuid) {
        if let Ok(mut w) = self.workers.lock() {
            w.retain(|(t, c, _), _| (*t, *c) != (tenant, campaign));
        }
        if let Ok(mut p) = self.progress.lock() {
            p.remove(&(tenant, campaign));
        }
    }

    /// The lane a person's claims on a campaign go to.
    fn lane(shopper: Uuid) -> usize {
        (shopper.as_u128() % LANES as u128) as usize
    }

    fn sender(&self, ctx: &Ctx, key: Key, shopper: Uuid) -> Option<mpsc::Sender<ClaimRequest>> {
        let lane = (key.0, key.1, Self::lane(shopper));
        let mut workers = self.workers.lock().ok()?;
        if let Some(s) = workers.get(&lane).filter(|s| !s.is_closed()) {
            return Some(s.clone());
        }
        let progress = self.progress.lock().ok()?.entry(key).or_default().clone();
        let (tx, rx) = mpsc::channel(QUEUE);
        workers.insert(lane, tx.clone());
        tokio::spawn(worker(ctx.clone(), lane, progress, rx));
        Some(tx)
    }

    /// Drops a lane whose worker stopped (idle), unless another took its place.
    fn stopped(&self, lane: LaneKey) {
        if let Ok(mut w) = self.workers.lock()
            && w.get(&lane).is_some_and(|s| s.is_closed())
        {
            w.remove(&lane);
        }
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
        .sender(ctx, (tenant, campaign), shopper)
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

/// What a campaign's lanes know between batches.
struct Progress {
    /// When a claim last found no free voucher: claims are answered sold out without a search
    /// for [`SOLD_OUT_RECHECK`] after it.
    sold_out_at: Mutex<Option<std::time::Instant>>,
    /// Free vouchers are looked for from here (every lower one was taken when last looked).
    from_seq: std::sync::atomic::AtomicI32,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            sold_out_at: Mutex::new(None),
            from_seq: std::sync::atomic::AtomicI32::new(1),
        }
    }
}

impl Progress {
    fn sold_out(&self) -> bool {
        self.sold_out_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < SOLD_OUT_RECHECK)
    }

    fn found_sold_out(&self) {
        if let Ok(mut at) = self.sold_out_at.lock() {
            *at = Some(std::time::Instant::now());
        }
    }

    fn search_start(&self) -> i32 {
        self.from_seq.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn taken_up_to(&self, seq: i32) {
        self.from_seq.fetch_max(seq + 1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One lane's worker: settles what is waiting, a batch at a time, until idle for a minute.
async fn worker(ctx: Ctx, lane: LaneKey, progress: Arc<Progress>, mut rx: mpsc::Receiver<ClaimRequest>) {
    loop {
        let first = match tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()).await {
            Ok(Some(r)) => r,
            Ok(None) => break,
            // Idle: take no more, but settle what was queued meanwhile (recv gives it, then None).
            Err(_) => {
                rx.close();
                continue;
            }
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let outcome = settle(&ctx, lane, &batch, &progress).await;
        tracing::debug!(
            lane = lane.2,
            size = batch.len(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            sold_out = progress.sold_out(),
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
                    let answer = match settle(&ctx, lane, &one, &progress).await {
                        Ok(mut a) => Ok(a.remove(0)),
                        Err(_) => Err(AppError::RateLimited { retry_after_secs: 1 }),
                    };
                    let _ = r.reply.send(answer);
                }
            }
        }
    }
    ctx.claims.stopped(lane);
}

/// Settles a batch in one transaction; the answers are in the batch's order.
async fn settle(
    ctx: &Ctx,
    (tenant, campaign, lane): LaneKey,
    batch: &[ClaimRequest],
    progress: &Progress,
) -> AppResult<Vec<Claimed>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant).await?;
    let Some(c) = db::vouchers::get(&mut tx, campaign, false).await? else {
        return Ok(batch.iter().map(|_| Claimed::Unknown).collect());
    };
    let stored = c.state;
    match voucher::effective(stored, c.terms.claim_start, c.terms.claim_end, now) {
        State::Running => {}
        State::Draft => return Ok(batch.iter().map(|_| Claimed::Unknown).collect()),
        State::Scheduled => return Ok(batch.iter().map(|_| Claimed::NotYet(c.terms.claim_start)).collect()),
        State::Paused | State::Ended => return Ok(batch.iter().map(|_| Claimed::Closed).collect()),
    }
    // The lane's other batches, on other instances, wait (and are waited for) here: what they
    // gave is then committed and read below, so the same person's claims never race.
    db::vouchers::lock_lane(&mut tx, campaign, lane as i32).await?;
    let mut shoppers: Vec<Uuid> = batch.iter().map(|r| r.shopper).collect();
    shoppers.sort();
    shoppers.dedup();
    let keys: Vec<String> = batch.iter().map(|r| r.request_key.clone()).collect();
    let (held, other): (Vec<VoucherRow>, Vec<VoucherRow>) = db::vouchers::held(&mut tx, campaign, &shoppers, &keys)
        .await?
        .into_iter()
        .partition(|v| v.campaign_id == campaign);
    // Keys that claimed a voucher of another campaign.
    let elsewhere: std::collections::HashSet<String> = other.into_iter().filter_map(|v| v.request_key).collect();
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
    let sold_out = progress.sold_out();
    let mut plans = Vec::with_capacity(batch.len());
    let mut takes: Vec<Take> = Vec::new();
    let mut first_of: HashMap<&str, usize> = HashMap::new();
    // The latest take of each person in this batch (for a claim over the limit only through it).
    let mut last_take: HashMap<Uuid, usize> = HashMap::new();
    let held_count = count.clone();
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
        if i64::from(*n) >= c.terms.per_person {
            let held_already = held_count.get(&r.shopper).copied().unwrap_or(0);
            match last_take.get(&r.shopper) {
                Some(j) if i64::from(held_already) < c.terms.per_person => plans.push(Plan::After(*j)),
                _ => plans.push(Plan::Done(Claimed::Limit)),
            }
            continue;
        }
        if sold_out {
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
    let expires = voucher::expires(c.terms.use_until, c.terms.use_days, now);
    let from_seq = progress.search_start();
    let mut given = if takes.is_empty() {
        Vec::new()
    } else {
        db::vouchers::take(&mut tx, campaign, from_seq, &takes, now, expires).await?
    };
    if given.len() < takes.len() && from_seq > 1 {
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
        progress.found_sold_out();
    }
    // Claimed rows stay in the free index as dead entries until vacuum; starting the next search
    // past them keeps each batch's search short as the rush goes on.
    if let Some(max) = given.iter().map(|v| v.seq).max() {
        progress.taken_up_to(max);
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
