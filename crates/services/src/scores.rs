//! A stall's score as its vendor and officials read it: every component, and the evidence behind
//! every deduction (docs/SCORE.md explains the formula).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;
use crate::error::{AppError, AppResult};
use crate::supervision;
use nightmarket_db::codes::CodeRow;
use nightmarket_db::complaints::ComplaintFilter;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::complaint::Category;
use nightmarket_domain::people::Actor;
use nightmarket_domain::score::{self, Score};

/// An upheld complaint that costs the stall points.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpheldComplaint {
    pub tracking: String,
    pub category: Category,
    pub closed_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub points: f64,
}

/// Penalty points kept from an inspection.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PenaltyEvidence {
    pub inspection_id: Uuid,
    pub problem: String,
    pub points: i32,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakdown {
    pub code_id: Uuid,
    pub score: Score,
    /// Below this the code turns yellow.
    pub threshold: i32,
    /// The attendance window: from this night up to (not including) tonight.
    pub attendance_from: NaiveDate,
    pub attendance_to: NaiveDate,
    pub upheld_complaints: Vec<UpheldComplaint>,
    pub penalties: Vec<PenaltyEvidence>,
}

/// A code the user may see: staff any of their tenant's, a vendor only their own.
pub async fn visible_code(tx: &mut TenantTx, user: &Actor, code: Uuid) -> AppResult<CodeRow> {
    let row = db::codes::get(tx, code).await?.ok_or(AppError::NotFound)?;
    if user.role.is_staff() || row.vendor_id == user.id {
        Ok(row)
    } else {
        Err(AppError::NotFound)
    }
}

/// The score as of now, recomputed from its inputs (what sync_vendor stores).
pub async fn breakdown(ctx: &Ctx, user: &Actor, code: Uuid) -> AppResult<Breakdown> {
    let now = ctx.clock.now();
    let tz = user.tenant.timezone;
    let today = supervision::local_date(now, tz);
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = visible_code(&mut tx, user, code).await?;
    let settings = db::settings::get(&mut tx).await?;
    let s = supervision::refresh_score(&mut tx, &row, today, now, tz, &settings).await?;
    let since = now - Duration::days(score::LOOKBACK_DAYS);
    let upheld_complaints = db::complaints::list(
        &mut tx,
        &ComplaintFilter {
            code: Some(code),
            states: vec!["resolved".into()],
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .filter(|c| c.upheld == Some(true) && c.closed_at.is_some_and(|t| t >= since))
    .map(|c| {
        Ok(UpheldComplaint {
            category: c.category,
            tracking: if user.role.is_staff() {
                c.tracking
            } else {
                String::new()
            },
            closed_at: c.closed_at,
            resolution: c.resolution,
            points: score::PER_UPHELD_COMPLAINT,
        })
    })
    .collect::<AppResult<_>>()?;
    let penalties = db::inspections::deductions(&mut tx, Some(row.vendor_id), None)
        .await?
        .into_iter()
        .filter(|d| d.cancelled_at.is_none() && d.created_at >= since)
        .map(|d| PenaltyEvidence {
            inspection_id: d.inspection_id,
            problem: d.problem_label,
            points: d.points,
            at: d.created_at,
        })
        .collect();
    // Storing a changed score is a change like any other: it commits (and the scan page follows).
    tx.commit().await?;
    let first = supervision::local_date(row.created_at, tz);
    Ok(Breakdown {
        code_id: code,
        threshold: settings.score_threshold,
        attendance_from: (today - Duration::days(score::ATTENDANCE_NIGHTS)).max(first),
        attendance_to: today,
        upheld_complaints,
        penalties,
        score: s,
    })
}
