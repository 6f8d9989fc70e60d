//! What the Open311 GeoReport bridge reads and checks: the caller's key, and complaints as
//! service requests. Public on purpose (see docs/OPEN311.md): a request carries the tracking
//! number, the category, the description, the state and where the stall stands — nothing of the
//! complainant. The HTTP layer (`api::open311`) parses the standard's parameters and writes its
//! documents.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use nightmarket_db::complaints::{self as db_complaints, ComplaintFilter, ComplaintRow};
use nightmarket_db::{self as db, TenantTx, markets as db_markets};
use nightmarket_domain::complaint::{Category, CategoryRules, GbtCode, State};
use nightmarket_domain::tenant::Tenant;

use crate::Ctx;
use crate::credentials;
use crate::error::{AppError, AppResult};

/// A complaint as a service request shows it.
#[derive(Clone, Debug)]
pub struct Report {
    /// The public tracking number (not the complainant's own key).
    pub public_id: String,
    pub state: State,
    pub category: Category,
    pub description: String,
    /// What the official wrote when closing it, once closed.
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolve_due_at: DateTime<Utc>,
    pub market_address: Option<String>,
    pub market_name: String,
    pub slot_code: String,
    pub code_id: Uuid,
    pub position: Option<(f64, f64)>,
    /// The category's GB/T 39666 class, where the tenant set one.
    pub gbt_code: Option<GbtCode>,
}

/// Which requests a `GET requests` asks for.
#[derive(Clone, Debug, Default)]
pub struct ReportQuery {
    pub category: Option<Category>,
    /// Given ids win over every other filter.
    pub ids: Vec<String>,
    /// `open`, `closed`, or empty for both.
    pub statuses: Vec<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// The last 90 days unless asked otherwise, at most 1000, as the standard suggests.
const DEFAULT_DAYS: i64 = 90;
const LIMIT: i64 = 1000;

/// Checks the caller's API key in a transaction of its own: a wrong key learns nothing else.
pub async fn check_key(ctx: &Ctx, tenant: &Tenant, key: &str) -> AppResult<()> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    credentials::check_plain_key(&mut tx, &ctx.keys, key).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn reports(ctx: &Ctx, tenant: &Tenant, q: &ReportQuery) -> AppResult<Vec<Report>> {
    let now = ctx.clock.now();
    let start = q.start.unwrap_or(now - chrono::Duration::days(DEFAULT_DAYS));
    let end = q.end.unwrap_or(now);
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let rows = db_complaints::list(
        &mut tx,
        &ComplaintFilter {
            category: q.category.map(|c| c.as_str().to_string()),
            limit: Some(LIMIT),
            ..Default::default()
        },
    )
    .await?;
    let rules = crate::complaints::all_rules(&mut tx).await?;
    let mut out = Vec::new();
    for c in rows {
        let keep = if q.ids.is_empty() {
            c.created_at >= start
                && c.created_at <= end
                && (q.statuses.is_empty() || q.statuses.iter().any(|s| s == c.state.open311()))
        } else {
            q.ids.contains(&c.public_id)
        };
        if keep {
            out.push(report_of(&mut tx, c, &rules).await?);
        }
    }
    Ok(out)
}

pub async fn report(ctx: &Ctx, tenant: &Tenant, public_id: &str) -> AppResult<Report> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = db_complaints::list(
        &mut tx,
        &ComplaintFilter {
            public_id: Some(public_id.to_string()),
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or(AppError::NotFound)?;
    let rules = crate::complaints::all_rules(&mut tx).await?;
    report_of(&mut tx, row, &rules).await
}

async fn report_of(tx: &mut TenantTx, c: ComplaintRow, rules: &[CategoryRules]) -> AppResult<Report> {
    let market = db_markets::get(tx, c.market_id).await?;
    let gbt_code = rules.iter().find(|r| r.category == c.category).and_then(|r| r.gbt_code);
    Ok(Report {
        gbt_code,
        public_id: c.public_id,
        state: c.state,
        category: c.category,
        description: c.description,
        resolution: c.resolution,
        created_at: c.created_at,
        updated_at: c.updated_at,
        resolve_due_at: c.resolve_due_at,
        market_address: market.as_ref().map(|m| m.address.clone()),
        market_name: c.market_name,
        slot_code: c.slot_code,
        code_id: c.code_id,
        position: market.as_ref().map(|m| (m.center_lat, m.center_lng)),
    })
}

/// What a hotline's operators are told to call about the exchange: the tenant's complaint line.
pub async fn hotline(ctx: &Ctx, tenant: &Tenant) -> AppResult<String> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let settings = db::settings::get(&mut tx).await?;
    tx.commit().await?;
    Ok(settings.complaint_hotline)
}
