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

use crate::Ctx;
use crate::error::AppResult;
use nightmarket_domain::tenant::TenantId;

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
/// Devices remembered across all codes between two flushes, for the same reason.
pub const MAX_PENDING_DEVICES: usize = 50_000;
/// Visitor rows one write transaction inserts at most. A flush is written in such slices, each
/// its own short transaction with a yield between, so counting a flood of scans never holds a
/// connection, a market's counter row or a worker thread long enough to delay other requests.
pub const ROWS_PER_WRITE: usize = 1_000;
/// Codes one write transaction covers at most (two statements each).
pub const CODES_PER_WRITE: usize = 200;

#[derive(Default)]
struct Pending {
    tallies: HashMap<Key, Tally>,
    /// Devices held in `tallies`, all codes together.
    devices: usize,
}

/// This instance's scans not yet written.
#[derive(Clone, Default)]
pub struct ScanCounter {
    pending: Arc<Mutex<Pending>>,
}

impl ScanCounter {
    /// Counts one scan of `code` on business night `night`, at `hour` (0–23) of the tenant's local
    /// time, by a device (its cookie's id).
    pub fn record(&self, tenant: TenantId, code: Uuid, night: NaiveDate, hour: u32, device: String) {
        // A poisoned lock (a panic while holding it) still holds good counts.
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let room = pending.devices < MAX_PENDING_DEVICES;
        let tally = pending.tallies.entry((tenant, code, night)).or_default();
        tally.scans += 1;
        tally.hours[(hour % 24) as usize] += 1;
        if room && tally.devices.len() < MAX_DEVICES_PER_FLUSH && tally.devices.insert(device) {
            pending.devices += 1;
        }
    }

    fn take(&self) -> HashMap<Key, Tally> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.devices = 0;
        std::mem::take(&mut pending.tallies)
    }

    fn put_back(&self, key: Key, tally: Tally) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let room = MAX_PENDING_DEVICES.saturating_sub(pending.devices);
        let t = pending.tallies.entry(key).or_default();
        t.scans += tally.scans;
        for (sum, n) in t.hours.iter_mut().zip(tally.hours) {
            *sum += n;
        }
        let before = t.devices.len();
        t.devices.extend(tally.devices.into_iter().take(room));
        let added = t.devices.len() - before;
        pending.devices += added;
    }

    /// Writes what was counted, in short slices; a slice whose write fails keeps its counts for
    /// the next time.
    pub async fn flush(&self, ctx: &Ctx) {
        let mut by_tenant: HashMap<TenantId, Vec<(Key, Tally)>> = HashMap::new();
        for (key, tally) in self.take() {
            by_tenant.entry(key.0).or_default().push((key, tally));
        }
        for (tenant, tallies) in by_tenant {
            for slice in slices(tallies) {
                if let Err(e) = write(ctx, tenant, &slice).await {
                    tracing::warn!(error = %e, tenant = %tenant.0, "scan counts: write failed, keeping them");
                    for (key, tally) in slice {
                        self.put_back(key, tally);
                    }
                }
                // Let the requests waiting on this worker thread go first.
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Cuts a tenant's tallies into slices of at most [`CODES_PER_WRITE`] codes and about
/// [`ROWS_PER_WRITE`] visitor rows (a code with more devices than that is a slice of its own).
fn slices(tallies: Vec<(Key, Tally)>) -> Vec<Vec<(Key, Tally)>> {
    let mut out: Vec<Vec<(Key, Tally)>> = Vec::new();
    let mut rows = 0;
    for (key, tally) in tallies {
        let n = tally.devices.len();
        let full = out
            .last()
            .is_none_or(|s| s.len() >= CODES_PER_WRITE || (rows + n > ROWS_PER_WRITE && !s.is_empty()));
        if full {
            out.push(Vec::new());
            rows = 0;
        }
        rows += n;
        if let Some(s) = out.last_mut() {
            s.push((key, tally));
        }
    }
    out
}

async fn write(ctx: &Ctx, tenant: TenantId, tallies: &[(Key, Tally)]) -> Result<(), sqlx::Error> {
    let mut tx = ctx.db.tenant(tenant).await?;
    for ((_, code, night), tally) in tallies {
        // Stored only as the keyed hash the ratings use too.
        let devices: Vec<String> = tally
            .devices
            .iter()
            .map(|d| crate::shopper::device_hash(&ctx.keys, tenant, d))
            .collect();
        nightmarket_db::scan_counts::add(&mut tx, *code, *night, tally.scans, &devices).await?;
        nightmarket_db::scan_counts::add_hours(&mut tx, *code, *night, &tally.hours).await?;
    }
    tx.commit().await
}

/// A code's (scans, visitors) on a night, as written so far (the last few seconds may still be
/// in memory). The caller has checked the reader may see the code.
pub async fn of_night(ctx: &Ctx, tenant: TenantId, code: Uuid, night: NaiveDate) -> AppResult<(i64, i64)> {
    let mut tx = ctx.db.tenant(tenant).await?;
    Ok(nightmarket_db::scan_counts::of_night(&mut tx, code, night).await?)
}

/// Flushes every `every` until the server stops (and once more when asked to stop).
pub fn spawn_flusher(ctx: Ctx, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            ctx.scan_counts.flush(&ctx).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(devices: usize) -> Tally {
        Tally {
            scans: devices as i64,
            hours: [0; 24],
            devices: (0..devices).map(|i| format!("d{i}")).collect(),
        }
    }

    fn key(i: u128) -> Key {
        (TenantId(Uuid::nil()), Uuid::from_u128(i), NaiveDate::MIN)
    }

    #[test]
    fn a_flood_is_written_in_short_slices() {
        // 10,000 codes of 3 devices, and one code with 4,000.
        let mut tallies: Vec<(Key, Tally)> = (0..10_000).map(|i| (key(i), tally(3))).collect();
        tallies.push((key(99_999), tally(4_000)));
        let slices = slices(tallies);
        assert!(slices.iter().all(|s| !s.is_empty() && s.len() <= CODES_PER_WRITE));
        for s in &slices {
            let rows: usize = s.iter().map(|(_, t)| t.devices.len()).sum();
            assert!(
                rows <= ROWS_PER_WRITE || s.len() == 1,
                "{rows} rows in {} codes",
                s.len()
            );
        }
        assert_eq!(slices.iter().map(Vec::len).sum::<usize>(), 10_001);
    }

    #[test]
    fn memory_for_devices_is_bounded_across_codes() {
        let counter = ScanCounter::default();
        let tenant = TenantId(Uuid::nil());
        for i in 0..(MAX_PENDING_DEVICES + 1_000) {
            counter.record(
                tenant,
                Uuid::from_u128(i as u128 % 100),
                NaiveDate::MIN,
                20,
                format!("dev{i}"),
            );
        }
        let taken = counter.take();
        let devices: usize = taken.values().map(|t| t.devices.len()).sum();
        let scans: i64 = taken.values().map(|t| t.scans).sum();
        assert_eq!(devices, MAX_PENDING_DEVICES);
        assert_eq!(scans, (MAX_PENDING_DEVICES + 1_000) as i64, "every scan still counts");
    }
}
