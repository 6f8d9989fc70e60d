//! Counting scans without slowing the scan page: each scan adds to an in-memory tally (one short
//! lock, no I/O, no hashing); a background task adds the tallies to `scan_nights` every few
//! seconds, one transaction per tenant, keying each device id only then. A device counts once per code per night as a visitor, however often it
//! scans and whichever instance it reaches: the devices seen are kept in `scan_visitors`, and only
//! newly inserted ones raise the visitor count.
//!
//! A crash loses at most the tallies of the last interval (page views, not state).

use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::tenant::TenantId;
use crate::error::AppResult;

#[derive(Default)]
struct Tally {
    scans: i64,
    /// Scans by the local hour of the day they came in (peak hours on the vendor's insights).
    hours: [i64; 24],
    /// Device ids (cookie values) seen since the last write.
    devices: HashSet<String>,
}

type Key = (TenantId, Uuid, NaiveDate);

/// Devices remembered per code between two flushes. A stall sees a few hundred shoppers a night;
/// past this (a flood of cookie-less requests) scans are still counted, visitors no longer, so
/// memory and the visitor table stay bounded.
pub const MAX_DEVICES_PER_FLUSH: usize = 5_000;

/// This instance's scans not yet written.
#[derive(Clone, Default)]
pub struct ScanCounter {
    pending: Arc<Mutex<HashMap<Key, Tally>>>,
}

impl ScanCounter {
    /// Counts one scan of `code` on business night `night`, at `hour` (0–23) of the tenant's local
    /// time, by a device (its cookie's id).
    pub fn record(&self, tenant: TenantId, code: Uuid, night: NaiveDate, hour: u32, device: String) {
        // A poisoned lock (a panic while holding it) still holds good counts.
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let tally = pending.entry((tenant, code, night)).or_default();
        tally.scans += 1;
        tally.hours[(hour % 24) as usize] += 1;
        if tally.devices.len() < MAX_DEVICES_PER_FLUSH {
            tally.devices.insert(device);
        }
    }

    fn take(&self) -> HashMap<Key, Tally> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn put_back(&self, key: Key, tally: Tally) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let t = pending.entry(key).or_default();
        t.scans += tally.scans;
        for (sum, n) in t.hours.iter_mut().zip(tally.hours) {
            *sum += n;
        }
        t.devices.extend(tally.devices);
    }

    /// Writes what was counted; a tenant whose write fails keeps its counts for the next time.
    pub async fn flush(&self, state: &AppState) {
        let mut by_tenant: HashMap<TenantId, Vec<(Key, Tally)>> = HashMap::new();
        for (key, tally) in self.take() {
            by_tenant.entry(key.0).or_default().push((key, tally));
        }
        for (tenant, tallies) in by_tenant {
            if let Err(e) = write(state, tenant, &tallies).await {
                tracing::warn!(error = %e, tenant = %tenant.0, "scan counts: write failed, keeping them");
                for (key, tally) in tallies {
                    self.put_back(key, tally);
                }
            }
        }
    }
}

async fn write(state: &AppState, tenant: TenantId, tallies: &[(Key, Tally)]) -> Result<(), sqlx::Error> {
    let mut tx = state.db.tenant(tenant).await?;
    for ((_, code, night), tally) in tallies {
        // Stored only as the keyed hash the ratings use too.
        let devices: Vec<String> = tally
            .devices
            .iter()
            .map(|d| crate::services::shopper::device_hash(&state.keys, tenant, d))
            .collect();
        crate::db::scan_counts::add(&mut tx, *code, *night, tally.scans, &devices).await?;
        crate::db::scan_counts::add_hours(&mut tx, *code, *night, &tally.hours).await?;
    }
    tx.commit().await
}

/// A code's (scans, visitors) on a night, as written so far (the last few seconds may still be
/// in memory). The caller has checked the reader may see the code.
pub async fn of_night(state: &AppState, tenant: TenantId, code: Uuid, night: NaiveDate) -> AppResult<(i64, i64)> {
    let mut tx = state.db.tenant(tenant).await?;
    Ok(crate::db::scan_counts::of_night(&mut tx, code, night).await?)
}

/// Flushes every `every` until the server stops (and once more when asked to stop).
pub fn spawn_flusher(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            state.scan_counts.flush(&state).await;
        }
    })
}
