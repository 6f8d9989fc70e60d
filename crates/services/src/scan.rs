//! What the scan page shows, served from memory.
//!
//! The scan page is the most used page, so its data is cached per code. A cached page is never
//! stale after a change: a transaction that changes what a scan page shows notes the code
//! (`TenantTx::touch`), and at commit this instance forgets it at once; triggers on the tables
//! (migrations/0007_scan.sql) NOTIFY `nightmarket_scan`, so every other instance forgets it a
//! moment later. A listener that lost its connection forgets everything. What depends on the
//! clock alone (the market opening, the night turning) is computed at each request. A miss reads
//! everything in one statement (`db::scan::pages`), shared by the first visits of the moment
//! ([`FirstVisits`]).

use chrono::{DateTime, NaiveDate, Utc};
use moka::sync::Cache;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

use crate::Ctx;
use crate::codes;
use crate::error::{AppError, AppResult};
use crate::ratings::{RatingView, Tonight};
use nightmarket_db::codes::{CauseRow, CodeRow};
use nightmarket_db::scan::ScanRow;
use nightmarket_db::{self as db, checkins::CheckInRow};
use nightmarket_domain::hours::OpeningHours;
use nightmarket_domain::score::Score;
use nightmarket_domain::tenant::{Tenant, TenantId};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

pub const CHANNEL: &str = "nightmarket_scan";
/// The payload that drops every cached page.
pub const ALL: &str = "all";

/// How many ratings the scan page lists.
pub const RATINGS_SHOWN: i64 = 5;

/// Everything a scan page shows about one code, as of the moment it was read.
#[derive(Debug)]
pub struct ScanData {
    pub tenant: Tenant,
    pub code: CodeRow,
    pub causes: Vec<CauseRow>,
    pub score: Option<Score>,
    pub ratings: Vec<RatingView>,
    pub hotline: String,
    /// The business night `checkin` is for.
    pub night: NaiveDate,
    pub checkin: Option<CheckInRow>,
    /// The latest goods-source declaration, for food and produce stalls that made one.
    pub goods: Option<crate::goods::Badge>,
    /// The vendor's credentials as they are now (renewals and the feed's events included).
    pub credentials: Vec<nightmarket_db::credentials::CredentialRow>,
    /// The tenant's setting: whether a yellow stall takes vouchers.
    pub vouchers_at_yellow: bool,
}

impl ScanData {
    fn hours(&self) -> OpeningHours {
        self.code.hours()
    }

    /// The business night under way at `now`.
    pub fn night_at(&self, now: DateTime<Utc>) -> NaiveDate {
        self.hours()
            .business_date(now.with_timezone(&self.tenant.timezone).naive_local())
    }

    /// Where the stall stands at `now` (the data must be of the night under way).
    pub fn tonight(&self, now: DateTime<Utc>) -> Tonight {
        let local = now.with_timezone(&self.tenant.timezone).naive_local();
        match &self.checkin {
            None => Tonight::Absent,
            Some(c) if c.checked_out_at.is_some() => Tonight::Left,
            Some(_) if self.hours().is_open_at(local.time()) => Tonight::Open,
            Some(_) => Tonight::Ready,
        }
    }
}

/// What a scanned URL turned out to be.
pub enum Scanned {
    Genuine(Arc<ScanData>),
    Revoked(Arc<ScanData>),
    NotGenuine,
}

type CodeKey = (TenantId, Uuid);

/// Scan pages' data by code, with the code ids of code strings.
#[derive(Clone)]
pub struct ScanCache {
    pages: Cache<CodeKey, Arc<ScanData>>,
    /// (tenant slug, code) → code id: never changes once issued.
    ids: Cache<(String, String), CodeKey>,
    /// Counts forgets. A page read while its code was forgotten is not kept, since the change may
    /// have committed after the read (and its forget run before the insert).
    forgets: Arc<AtomicU64>,
    /// The count at which each recently forgotten code was forgotten, so that a read is thrown
    /// away only when *its* code changed meanwhile, not whenever any code of any tenant did (which,
    /// with ratings and check-ins arriving all evening, would keep most pages out of the cache).
    forgotten_at: Cache<CodeKey, u64>,
    /// Counts forgetting everything (a lost listener, a tenant's settings): every read under way
    /// is thrown away.
    all_forgets: Arc<AtomicU64>,
}

impl Default for ScanCache {
    fn default() -> Self {
        ScanCache {
            pages: Cache::builder()
                .max_capacity(50_000)
                // A backstop only: changes arrive by the commit hook and the channel.
                .time_to_live(Duration::from_secs(300))
                .build(),
            ids: Cache::builder().max_capacity(100_000).build(),
            forgets: Arc::default(),
            // Long enough to outlive any read of a page; large enough for a busy evening's
            // changes within that time.
            forgotten_at: Cache::builder()
                .max_capacity(200_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            all_forgets: Arc::default(),
        }
    }
}

impl ScanCache {
    pub fn forget(&self, tenant: TenantId, code: Uuid) {
        let n = self.forgets.fetch_add(1, Ordering::SeqCst) + 1;
        self.forgotten_at.insert((tenant, code), n);
        self.pages.invalidate(&(tenant, code));
    }

    pub fn forget_all(&self) {
        self.forgets.fetch_add(1, Ordering::SeqCst);
        self.all_forgets.fetch_add(1, Ordering::SeqCst);
        self.pages.invalidate_all();
    }

    /// Where the cache stood before a read: compared after it by [`ScanCache::changed_since`].
    fn mark(&self) -> (u64, u64) {
        (
            self.forgets.load(Ordering::SeqCst),
            self.all_forgets.load(Ordering::SeqCst),
        )
    }

    /// Whether `key` (or everything) was forgotten since `mark`.
    fn changed_since(&self, key: &CodeKey, (count, all): (u64, u64)) -> bool {
        self.all_forgets.load(Ordering::SeqCst) != all || self.forgotten_at.get(key).is_some_and(|n| n > count)
    }

    /// Keeps a page read since `mark`, unless its code changed meanwhile; checked again after
    /// the insert, since a forget may run between the check and the insert.
    fn keep(&self, key: CodeKey, data: Arc<ScanData>, mark: (u64, u64)) {
        if self.changed_since(&key, mark) {
            return;
        }
        self.pages.insert(key, data);
        if self.changed_since(&key, mark) {
            self.pages.invalidate(&key);
        }
    }

    /// What the database hook calls at commit.
    pub fn commit_hook(&self) -> nightmarket_db::CommitHook {
        let cache = self.clone();
        Arc::new(move |tenant, codes| {
            for code in codes {
                cache.forget(tenant, *code);
            }
        })
    }

    /// Reads a notification payload: `tenant:code`, or `all` (a tenant's settings changed what
    /// every one of its pages shows; forgetting the lot is rare and cheap).
    /// Drops what a notification names; the (tenant, code) it named, if one.
    pub fn forget_payload(&self, payload: &str) -> Option<(Uuid, Uuid)> {
        if payload == ALL {
            self.forget_all();
            return None;
        }
        let parsed = payload
            .split_once(':')
            .and_then(|(t, c)| Some((Uuid::parse_str(t).ok()?, Uuid::parse_str(c).ok()?)));
        match parsed {
            Some((t, c)) => self.forget(TenantId(t), c),
            None => tracing::warn!(payload, "scan cache: unreadable notification"),
        }
        parsed
    }
}

/// The scan page's data for a scanned URL: from memory when this code was read since its last
/// change, else from the database; either way only for the key id and signature the code was
/// issued with.
pub async fn scan(ctx: &Ctx, code: &str, kid: Option<&str>, signature: Option<&str>) -> AppResult<Scanned> {
    let now = ctx.clock.now();
    if let (Some(kid), Some(signature), Some(slug)) = (kid, signature, kid.and_then(nightmarket_domain::code::tenant_of_kid))
        && let Some(key) = ctx.scan_cache.ids.get(&(slug.to_string(), code.to_string()))
        && let Some(data) = ctx.scan_cache.pages.get(&key)
        // Only the exact URL that was verified before, and only for the night it was read in.
        && data.code.kid == kid
        && data.code.signature == signature
        && data.night == data.night_at(now)
    {
        return Ok(if data.code.revoked_at.is_some() {
            Scanned::Revoked(data)
        } else {
            Scanned::Genuine(data)
        });
    }
    let mark = ctx.scan_cache.mark();
    let Some((tenant, kid)) = codes::claimed(ctx, code, kid, signature).await? else {
        return Ok(Scanned::NotGenuine);
    };
    // One round trip for all of it, shared with the other first visits of the moment
    // (FirstVisits). The night a check-in counts for depends on the market's hours, which the
    // same read brings: it asks for both candidate nights.
    let local = now.with_timezone(&tenant.timezone).naive_local();
    let nights = [local.date(), local.date() - chrono::Duration::days(1)];
    let Some(row) = ctx.first_visits.read(ctx, tenant.id, code, nights).await? else {
        return Ok(Scanned::NotGenuine);
    };
    // The key id and signature the code was issued with (migration 0017 says why this is the
    // check).
    if row.code.kid != kid || Some(row.code.signature.as_str()) != signature {
        return Ok(Scanned::NotGenuine);
    }
    let night = row.code.hours().business_date(local);
    let revoked = row.code.revoked_at.is_some();
    let defaults = db::settings::Settings::default();
    let key = (tenant.id, row.code.id);
    ctx.scan_cache
        .ids
        .insert((tenant.slug.clone(), row.code.code.clone()), key);
    let data = Arc::new(ScanData {
        tenant,
        goods: crate::goods::badge(&row.code, row.goods),
        causes: if revoked { Vec::new() } else { row.causes },
        score: row.score,
        ratings: row.ratings.iter().map(|r| RatingView::of(r, true)).collect(),
        hotline: row.complaint_hotline.unwrap_or(defaults.complaint_hotline),
        vouchers_at_yellow: row.vouchers_at_yellow.unwrap_or(defaults.vouchers_at_yellow),
        night,
        checkin: row.check_ins.into_iter().find(|c| c.business_date == night),
        credentials: row.credentials,
        code: row.code,
    });
    ctx.scan_cache.keep(key, data.clone(), mark);
    Ok(if revoked {
        Scanned::Revoked(data)
    } else {
        Scanned::Genuine(data)
    })
}

/// How many first visits one statement reads at most.
const VISITS_READ_TOGETHER: usize = 64;

/// A first visit waiting to be read.
struct Visit {
    code: String,
    nights: [NaiveDate; 2],
    reply: oneshot::Sender<AppResult<Option<ScanRow>>>,
}

/// The first visits of this instance, read together: one reader per tenant takes whatever is
/// waiting (a crowd's first scans at the opening arrive together) and reads it with one statement
/// (`db::scan::pages`), so that a crowd of first visits costs a few statements rather than one
/// each; a lone visit is read at once, as before. Nothing is held back to make a batch: a batch is
/// what arrived while the last one was read.
#[derive(Clone, Default)]
pub struct FirstVisits {
    readers: Arc<Mutex<HashMap<TenantId, mpsc::Sender<Visit>>>>,
}

impl FirstVisits {
    /// The code's scan data (None: the tenant has no such code).
    pub(crate) async fn read(
        &self,
        ctx: &Ctx,
        tenant: TenantId,
        code: &str,
        nights: [NaiveDate; 2],
    ) -> AppResult<Option<ScanRow>> {
        let (reply, answer) = oneshot::channel();
        let visit = Visit {
            code: code.to_string(),
            nights,
            reply,
        };
        let Some(Ok(())) = self.reader(ctx, tenant).map(|r| r.try_send(visit)) else {
            // No reader to take it (a full queue): read it alone.
            return read_alone(ctx, tenant, code, nights).await;
        };
        match answer.await {
            Ok(read) => read,
            Err(_) => read_alone(ctx, tenant, code, nights).await,
        }
    }

    fn reader(&self, ctx: &Ctx, tenant: TenantId) -> Option<mpsc::Sender<Visit>> {
        let mut readers = self.readers.lock().ok()?;
        if let Some(r) = readers.get(&tenant).filter(|r| !r.is_closed()) {
            return Some(r.clone());
        }
        let (tx, rx) = mpsc::channel(4 * VISITS_READ_TOGETHER);
        readers.insert(tenant, tx.clone());
        tokio::spawn(reader(ctx.clone(), tenant, rx));
        Some(tx)
    }
}

async fn read_alone(ctx: &Ctx, tenant: TenantId, code: &str, nights: [NaiveDate; 2]) -> AppResult<Option<ScanRow>> {
    let rows = db::scan::pages(&ctx.db, tenant, &[code.to_string()], &nights, RATINGS_SHOWN).await?;
    Ok(rows.into_iter().next())
}

/// A tenant's reader: reads what is waiting, up to [`VISITS_READ_TOGETHER`] at a time.
async fn reader(ctx: Ctx, tenant: TenantId, mut rx: mpsc::Receiver<Visit>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < VISITS_READ_TOGETHER {
            match rx.try_recv() {
                Ok(v) => batch.push(v),
                Err(_) => break,
            }
        }
        let mut codes: Vec<String> = batch.iter().map(|v| v.code.clone()).collect();
        codes.sort();
        codes.dedup();
        let mut nights: Vec<NaiveDate> = batch.iter().flat_map(|v| v.nights).collect();
        nights.sort();
        nights.dedup();
        match db::scan::pages(&ctx.db, tenant, &codes, &nights, RATINGS_SHOWN).await {
            Ok(rows) => {
                let mut rows: HashMap<String, ScanRow> = rows.into_iter().map(|r| (r.code.code.clone(), r)).collect();
                // A code's last visit in the batch takes its row; only a code visited twice in
                // the same moment is copied.
                let mut seen = std::collections::HashSet::new();
                let last: Vec<bool> = batch.iter().rev().map(|v| seen.insert(v.code.as_str())).collect();
                for (v, last) in batch.into_iter().zip(last.into_iter().rev()) {
                    let row = if last {
                        rows.remove(&v.code)
                    } else {
                        rows.get(&v.code).cloned()
                    };
                    let _ = v.reply.send(Ok(row));
                }
            }
            Err(e) => {
                let e = AppError::from(e);
                for v in batch {
                    let _ = v.reply.send(Err(match &e {
                        AppError::Unavailable => AppError::Unavailable,
                        other => AppError::Internal(anyhow::anyhow!("reading scan pages: {other}")),
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u128) -> CodeKey {
        (TenantId(Uuid::nil()), Uuid::from_u128(n))
    }

    #[test]
    fn a_read_is_thrown_away_only_when_its_own_code_changed_meanwhile() {
        let cache = ScanCache::default();
        let mark = cache.mark();
        // Another code changed during the read: this one's read still holds.
        cache.forget(key(1).0, key(1).1);
        assert!(!cache.changed_since(&key(2), mark));
        // This code changed: its read is stale.
        cache.forget(key(2).0, key(2).1);
        assert!(cache.changed_since(&key(2), mark));
        // A forget before the read began does not count against it.
        let later = cache.mark();
        assert!(!cache.changed_since(&key(2), later));
        // Forgetting everything throws away every read under way.
        cache.forget_all();
        assert!(cache.changed_since(&key(3), later));
    }
}
