//! The derived causes of a vendor's codes — lapsed credentials and penalty points — and the
//! sweeper that keeps them true as the calendar moves.
//!
//! [`sync_vendor`] is the one place these causes are decided: it computes what the vendor's
//! credentials and this month's points say, opens the causes that are missing and clears those no
//! longer true on every live code of the vendor, then lets `codes::recompute_colour` apply the one
//! colour rule. Running it twice changes nothing. An official's suspension is not a derived cause
//! and is left alone.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::Author;
use crate::error::AppResult;
use crate::secrets::Keys;
use crate::{codes, live, notices};
use nightmarket_db::codes::CodeFilter;
use nightmarket_db::settings::Settings;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::code::{Colour, cause};
use nightmarket_domain::credential::{self, Held};
use nightmarket_domain::market::Category;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::score;

/// A code whose colour changed.
#[derive(Clone, Debug)]
pub struct ColourChange {
    pub code_id: Uuid,
    pub old: Colour,
    pub new: Colour,
}

/// The local date of `now` in `tz`.
pub fn local_date(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// Brings the derived causes of every live code of `vendor` up to date, as of `now`.
pub async fn sync_vendor(
    tx: &mut TenantTx,
    keys: &Keys,
    actor: &Author,
    vendor: Uuid,
    now: DateTime<Utc>,
    tz: Tz,
    settings: &Settings,
) -> AppResult<Vec<ColourChange>> {
    let today = local_date(now, tz);
    // One change of a vendor's causes at a time (a credential event, an inspection, the sweeper).
    db::credentials::lock_vendor(tx, vendor).await?;
    let codes_of = db::codes::list(
        tx,
        &CodeFilter {
            vendor: Some(vendor),
            live: true,
            ..Default::default()
        },
    )
    .await?;
    if codes_of.is_empty() {
        return Ok(Vec::new());
    }
    let categories: Vec<Category> = codes_of.iter().map(|c| c.category).collect();
    let held: Vec<Held> = db::credentials::for_vendor(tx, vendor)
        .await?
        .iter()
        .map(|c| Held {
            kind: c.kind,
            status: c.status,
            expires_on: c.expires_on,
        })
        .collect();
    let mut desired = credential::causes(
        &credential::required(&categories),
        &held,
        today,
        i64::from(settings.expiry_warning_days),
    );
    let points = db::inspections::points_in_month(tx, vendor, credential::month_of(today)).await?;
    desired.extend(credential::penalty_cause(points, i64::from(settings.monthly_points)));

    let mut changes = Vec::new();
    for code in &codes_of {
        // The causes of this code alone: its score and its complaints waiting for an outcome.
        let mut desired = desired.clone();
        let score = refresh_score(tx, code, today, now, tz, settings).await?;
        if score.score < settings.score_threshold {
            desired.push(yellow(cause::SCORE_LOW));
        }
        if db::complaints::unresolved_count(tx, code.id).await? >= i64::from(settings.unresolved_complaints_yellow) {
            desired.push(yellow(cause::COMPLAINTS));
        }
        let wanted: BTreeSet<&str> = desired.iter().map(|c| c.kind.as_str()).collect();
        let open = db::codes::open_causes(tx, code.id).await?;
        for c in &desired {
            if !open.iter().any(|o| o.kind == c.kind) {
                db::codes::add_cause(tx, code.id, &c.kind, c.colour.as_str(), "", None).await?;
            }
        }
        for o in open
            .iter()
            .filter(|o| cause::is_derived(&o.kind) && !wanted.contains(o.kind.as_str()))
        {
            db::codes::clear_cause(tx, code.id, &o.kind, None).await?;
        }
        let (old, new) = codes::recompute_colour(tx, actor, code.id).await?;
        if old != new {
            let reasons: Vec<&'static str> = desired.iter().map(|c| cause::label_key(&c.kind)).collect();
            let args = notices::Args::default()
                .text("stall", &code.stall_name)
                .text("slot", &code.slot_code)
                .label("colour", new.label_key())
                .labels("causes", &reasons, "cause.listed", "cause.all_cleared");
            notices::notify_args(tx, keys, vendor, NoticeKind::CodeColour, args.clone(), Some("/vendor")).await?;
            if new == Colour::Red || old == Colour::Red {
                live::notify_staff_args(
                    tx,
                    now,
                    None,
                    NoticeKind::CodeColour,
                    args,
                    Some(&format!("/official/codes/{}", code.id)),
                )
                .await?;
            }
            changes.push(ColourChange {
                code_id: code.id,
                old,
                new,
            });
        }
    }
    Ok(changes)
}

fn yellow(kind: &str) -> credential::Cause {
    credential::Cause {
        kind: kind.to_string(),
        colour: Colour::Yellow,
    }
}

/// Recomputes a code's score from its inputs and stores it when it changed.
pub async fn refresh_score(
    tx: &mut TenantTx,
    code: &db::codes::CodeRow,
    today: NaiveDate,
    now: DateTime<Utc>,
    tz: Tz,
    settings: &Settings,
) -> AppResult<score::Score> {
    let first_night = local_date(code.created_at, tz);
    let inputs = db::scores::inputs(
        tx,
        code.id,
        code.vendor_id,
        first_night,
        today,
        now,
        i64::from(settings.rating_prior_weight),
    )
    .await?;
    let s = score::compute(inputs);
    db::scores::put(tx, code.id, &s).await?;
    Ok(s)
}

/// What a sweep did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SweepReport {
    pub tenants: usize,
    pub vendors: usize,
    pub expired_credentials: usize,
    pub colour_changes: usize,
    /// Personal data past its retention period, removed (`retention`).
    pub removed: crate::retention::Removed,
}

/// Marks lapsed credentials expired and re-derives every vendor's causes, in every tenant: how a
/// credential's expiry date turns a code yellow and then red, and how the turn of a month lifts a
/// red from penalty points. Idempotent.
pub async fn sweep(database: &db::Db, keys: &Keys, now: DateTime<Utc>) -> anyhow::Result<SweepReport> {
    let mut report = SweepReport::default();
    let actor = Author::system("sweeper");
    for tenant in db::tenants::list(database.global()).await? {
        let mut tx = database.tenant(tenant.id).await?;
        let settings = db::settings::get(&mut tx).await?;
        let today = local_date(now, tenant.timezone);
        for lapsed in db::credentials::expire_due(&mut tx, today).await? {
            crate::audit::record(
                &mut tx,
                &actor,
                crate::audit::Change::new("credential.expire", "user", lapsed.vendor_id)
                    .before(&serde_json::json!({ "credential": lapsed.kind, "status": "valid" }))
                    .after(&serde_json::json!({ "credential": lapsed.kind, "status": "expired", "expires_on": lapsed.expires_on })),
            )
            .await?;
            report.expired_credentials += 1;
        }
        let mut vendors: Vec<Uuid> = db::codes::list(
            &mut tx,
            &CodeFilter {
                live: true,
                ..Default::default()
            },
        )
        .await?
        .iter()
        .map(|c| c.vendor_id)
        .collect();
        vendors.sort();
        vendors.dedup();
        tx.commit().await?;
        // Each vendor in a transaction of its own, so a sweep never holds many vendors at once.
        for vendor in &vendors {
            let mut tx = database.tenant(tenant.id).await?;
            let changes = sync_vendor(&mut tx, keys, &actor, *vendor, now, tenant.timezone, &settings)
                .await
                .map_err(|e| anyhow::anyhow!("sweeping vendor {vendor}: {e}"))?;
            tx.commit().await?;
            report.colour_changes += changes.len();
        }
        report.vendors += vendors.len();
        report.tenants += 1;
    }
    report.removed = crate::retention::apply(database, now).await?;
    Ok(report)
}

/// Sweeps at start and then every `every_secs` seconds until the server stops (never when 0).
pub fn spawn_sweeper(ctx: Ctx, every_secs: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if every_secs == 0 {
            return;
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let every = std::time::Duration::from_secs(every_secs);
        loop {
            tick.tick().await;
            // Once per period across every instance (services::jobs); the period is on the
            // wall clock, the work on the pinnable one.
            let db = ctx.db.global();
            let swept = crate::jobs::once_per_period(db, "sweep", every, chrono::Utc::now(), || async {
                let now = ctx.clock.now();
                let report = sweep(&ctx.db, &ctx.keys, now).await?;
                let weekly = crate::insights::send_weekly(&ctx.db, &ctx.keys, now, 500).await?;
                // Lotteries' waitlists take up the slots freed since (revoked codes).
                let waitlisted = crate::lottery::fill_waitlists(&ctx).await?;
                Ok((report, weekly, waitlisted))
            })
            .await;
            match swept {
                Ok(Some((r, weekly, waitlisted)))
                    if r.colour_changes > 0 || r.expired_credentials > 0 || weekly > 0 || waitlisted > 0 =>
                {
                    tracing::info!(?r, weekly, waitlisted, "sweep")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = format!("{e:#}"), "sweep failed"),
            }
        }
    })
}
