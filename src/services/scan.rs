//! What the scan page shows, served from memory.
//!
//! The scan page is the most used page, so its data is cached per code. A cached page is never
//! stale after a change: a transaction that changes what a scan page shows notes the code
//! (`TenantTx::touch`), and at commit this instance forgets it at once; triggers on the tables
//! (migrations/0007_scan.sql) NOTIFY `nightmarket_scan`, so every other instance forgets it a
//! moment later. A listener that lost its connection forgets everything. What depends on the
//! clock alone (the market opening, the night turning) is computed at each request.

use chrono::{DateTime, NaiveDate, Utc};
use moka::sync::Cache;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::codes::{CauseRow, CodeRow};
use crate::db::{self, checkins::CheckInRow};
use crate::domain::hours::OpeningHours;
use crate::domain::score::Score;
use crate::domain::tenant::{Tenant, TenantId};
use crate::error::AppResult;
use crate::services::codes::{self, Scan};
use crate::services::ratings::{RatingView, Tonight};

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
    pub goods: Option<crate::services::goods::Badge>,
    /// The vendor's credentials as they are now (renewals and the feed's events included).
    pub credentials: Vec<crate::db::credentials::CredentialRow>,
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
    /// Counts forgets: a page read while something was forgotten is not kept, since the change
    /// may have committed after the read (and its forget run before the insert).
    forgets: Arc<AtomicU64>,
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
        }
    }
}

impl ScanCache {
    pub fn forget(&self, tenant: TenantId, code: Uuid) {
        self.forgets.fetch_add(1, Ordering::SeqCst);
        self.pages.invalidate(&(tenant, code));
    }

    pub fn forget_all(&self) {
        self.forgets.fetch_add(1, Ordering::SeqCst);
        self.pages.invalidate_all();
    }

    /// What the database hook calls at commit.
    pub fn commit_hook(&self) -> crate::db::CommitHook {
        let cache = self.clone();
        Arc::new(move |tenant, codes| {
            for code in codes {
                cache.forget(tenant, *code);
            }
        })
    }

    /// Reads a notification payload: `tenant:code`, or `all` (a tenant's settings changed what
    /// every one of its pages shows; forgetting the lot is rare and cheap).
    pub fn forget_payload(&self, payload: &str) {
        if payload == ALL {
            self.forget_all();
            return;
        }
        let parsed = payload
            .split_once(':')
            .and_then(|(t, c)| Some((Uuid::parse_str(t).ok()?, Uuid::parse_str(c).ok()?)));
        match parsed {
            Some((t, c)) => self.forget(TenantId(t), c),
            None => tracing::warn!(payload, "scan cache: unreadable notification"),
        }
    }
}

async fn read(state: &AppState, tenant: Tenant, code: CodeRow, causes: Vec<CauseRow>) -> AppResult<ScanData> {
    let now = state.config.clock.now();
    let mut tx = state.db.tenant(tenant.id).await?;
    let night = code
        .hours()
        .business_date(now.with_timezone(&tenant.timezone).naive_local());
    let checkin = db::checkins::for_night(&mut tx, code.id, night).await?;
    let score = db::scores::get(&mut tx, code.id).await?;
    let ratings = db::ratings::counted_for_code(&mut tx, code.id, RATINGS_SHOWN)
        .await?
        .iter()
        .map(|r| RatingView::of(r, true))
        .collect();
    let settings = db::settings::get(&mut tx).await?;
    let goods = crate::services::goods::badge(&mut tx, &code).await?;
    let credentials = db::credentials::for_vendor(&mut tx, code.vendor_id).await?;
    tx.commit().await?;
    Ok(ScanData {
        tenant,
        code,
        causes,
        score,
        ratings,
        hotline: settings.complaint_hotline,
        vouchers_at_yellow: settings.vouchers_at_yellow,
        night,
        checkin,
        goods,
        credentials,
    })
}

/// The scan page's data for a scanned URL: from memory when this code was read since its last
/// change, else from the database (the signature checked as `codes::scan` does).
pub async fn scan(state: &AppState, code: &str, kid: Option<&str>, signature: Option<&str>) -> AppResult<Scanned> {
    let now = state.config.clock.now();
    if let (Some(kid), Some(signature), Some(slug)) = (kid, signature, kid.and_then(crate::domain::code::tenant_of_kid))
        && let Some(key) = state.scan_cache.ids.get(&(slug.to_string(), code.to_string()))
        && let Some(data) = state.scan_cache.pages.get(&key)
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
    let epoch = state.scan_cache.forgets.load(Ordering::SeqCst);
    let (tenant, row, causes, revoked) = match codes::scan(state, code, kid, signature).await? {
        Scan::Genuine { tenant, code, causes } => (tenant, code, causes, false),
        Scan::Revoked { tenant, code } => (tenant, code, Vec::new(), true),
        Scan::NotGenuine => return Ok(Scanned::NotGenuine),
    };
    let key = (tenant.id, row.id);
    state
        .scan_cache
        .ids
        .insert((tenant.slug.clone(), row.code.clone()), key);
    let data = Arc::new(read(state, tenant, row, causes).await?);
    if state.scan_cache.forgets.load(Ordering::SeqCst) == epoch {
        state.scan_cache.pages.insert(key, data.clone());
    }
    Ok(if revoked {
        Scanned::Revoked(data)
    } else {
        Scanned::Genuine(data)
    })
}
