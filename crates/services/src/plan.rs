//! A market's plan and its map: the admin lays the slots out on a grid with landmarks; shoppers,
//! officials and vendors see it with tonight's stalls on it (their names, colours, whether they
//! are trading), the officials' live wall also with the complaints still open.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::{self, Author, Change};
use crate::checkins::{self, NightCounts, Presence};
use crate::error::{AppError, AppResult, Msg};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::code::Colour;
use nightmarket_domain::market::Category;
use nightmarket_domain::people::Actor;
use nightmarket_domain::plan::{LandmarkKind, PlanDraft, Rect};
use nightmarket_domain::tenant::Tenant;

/// A slot on the plan; `place` is None while the admin has not placed it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanSlot {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(example = "A-01"))]
    pub code: String,
    pub category: Category,
    pub place: Option<Rect>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanLandmark {
    pub kind: LandmarkKind,
    /// Shown beside the mark; empty means the kind's own name.
    #[cfg_attr(feature = "openapi", schema(example = "北入口"))]
    pub label: String,
    pub x: u16,
    pub y: u16,
}

/// A market's plan: a grid of `columns` × `rows` cells.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    pub market_id: Uuid,
    pub columns: u16,
    pub rows: u16,
    /// Bumped by every save; a save names the version it was made on.
    pub version: i32,
    pub slots: Vec<PlanSlot>,
    pub landmarks: Vec<PlanLandmark>,
    /// The SHA-256 (hex) of the picture of the street under the grid, if there is one; its
    /// bytes are at `/t/{tenant}/m/{market}/map/background`.
    pub background: Option<String>,
}

impl Plan {
    pub fn placed(&self) -> impl Iterator<Item = (&PlanSlot, Rect)> {
        self.slots.iter().filter_map(|s| s.place.map(|p| (s, p)))
    }
}

fn cell(value: i32, what: &str) -> AppResult<u16> {
    u16::try_from(value).map_err(|_| AppError::Internal(anyhow::anyhow!("plan: {what} {value} out of range")))
}

/// The plan in the caller's transaction; every stored number read back strictly.
async fn read(tx: &mut TenantTx, market_id: Uuid) -> AppResult<Plan> {
    let grid = db::plans::grid(tx, market_id).await?.ok_or(AppError::NotFound)?;
    let slots = db::plans::slots(tx, market_id)
        .await?
        .into_iter()
        .map(|s| {
            let place = match (s.plan_x, s.plan_y, s.plan_w, s.plan_h) {
                (Some(x), Some(y), Some(w), Some(h)) => Some(Rect {
                    x: cell(x, "x")?,
                    y: cell(y, "y")?,
                    w: cell(w, "w")?,
                    h: cell(h, "h")?,
                }),
                (None, None, None, None) => None,
                _ => return Err(AppError::Internal(anyhow::anyhow!("plan: slot {} partly placed", s.id))),
            };
            Ok(PlanSlot {
                id: s.id,
                code: s.code,
                category: s.category,
                place,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let landmarks = db::plans::landmarks(tx, market_id)
        .await?
        .into_iter()
        .map(|l| {
            Ok(PlanLandmark {
                kind: l.kind,
                label: l.label,
                x: cell(l.x, "landmark x")?,
                y: cell(l.y, "landmark y")?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let background = db::plans::background_version(tx, market_id).await?;
    Ok(Plan {
        background,
        market_id,
        columns: cell(grid.columns, "columns")?,
        rows: cell(grid.rows, "rows")?,
        version: grid.version,
        slots,
        landmarks,
    })
}

/// A market's plan (public, like the market itself).
pub async fn get(ctx: &Ctx, tenant: &Tenant, market_id: Uuid) -> AppResult<Plan> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    read(&mut tx, market_id).await
}

/// Replaces a market's plan (tenant admin). `version` is the plan's version the admin started
/// from; a plan saved by someone else meanwhile is refused, never overwritten unseen.
pub async fn save(
    ctx: &Ctx,
    admin: &Actor,
    market_id: Uuid,
    version: Option<i32>,
    draft: &PlanDraft,
) -> AppResult<Plan> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db::markets::lock(&mut tx, market_id).await? {
        return Err(AppError::NotFound);
    }
    let before = read(&mut tx, market_id).await?;
    let known: Vec<String> = before.slots.iter().map(|s| s.code.clone()).collect();
    let valid = draft.validate(&known).map_err(AppError::Validation)?;
    let version = version.unwrap_or(before.version);
    if version != before.version || !db::plans::save(&mut tx, market_id, version, &valid).await? {
        return Err(AppError::Conflict(Msg::new("plan.changed_meanwhile")));
    }
    let after = read(&mut tx, market_id).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("market.plan", "market", market_id)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A stall on the map tonight.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MapStall {
    pub code_id: Uuid,
    pub name: String,
    pub colour: Colour,
    pub presence: Presence,
    /// The stall's public scan page.
    pub scan_path: String,
}

/// A slot on the map: its place, and the stall on it tonight if there is one.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MapSlot {
    pub slot_id: Uuid,
    pub code: String,
    pub category: Category,
    pub place: Rect,
    pub stall: Option<MapStall>,
    /// Complaints about the stall not yet closed (officials' wall only; 0 on the public map).
    pub open_complaints: i64,
}

/// A market's map as of now: the plan with tonight's stalls on it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketMap {
    pub market_id: Uuid,
    pub market_name: String,
    pub date: NaiveDate,
    /// Whether tonight's opening time has passed (before it, no stall is absent yet).
    pub opened: bool,
    pub columns: u16,
    pub rows: u16,
    pub slots: Vec<MapSlot>,
    pub landmarks: Vec<PlanLandmark>,
    /// Slots of the market not yet placed on the plan (listed under the map).
    pub unplaced: Vec<String>,
    pub counts: NightCounts,
    /// Complaints not yet closed about the market's stalls (officials only; 0 on the public map).
    pub open_complaints: i64,
    /// The SHA-256 (hex) of the picture under the grid, if there is one.
    pub background: Option<String>,
}

impl MarketMap {
    /// The slot holding a code.
    pub fn slot_of(&self, code_id: Uuid) -> Option<&MapSlot> {
        self.slots
            .iter()
            .find(|s| s.stall.as_ref().is_some_and(|st| st.code_id == code_id))
    }
}

async fn read_map(
    tx: &mut TenantTx,
    tenant: &Tenant,
    now: chrono::DateTime<chrono::Utc>,
    market_id: Uuid,
    complaints: bool,
) -> AppResult<MarketMap> {
    let plan = read(tx, market_id).await?;
    let night = checkins::read_night(tx, tenant.timezone, now, market_id, None).await?;
    let open: HashMap<Uuid, i64> = if complaints {
        db::plans::open_complaints(tx, market_id).await?.into_iter().collect()
    } else {
        HashMap::new()
    };
    let by_slot: HashMap<Uuid, &checkins::StallNight> = night.stalls.iter().map(|s| (s.slot_id, s)).collect();
    let slots = plan
        .placed()
        .map(|(slot, place)| {
            let stall = by_slot.get(&slot.id).map(|s| MapStall {
                code_id: s.code_id,
                name: s.stall_name.clone(),
                colour: s.colour,
                presence: s.presence,
                scan_path: s.scan_path.clone(),
            });
            let open_complaints = stall.as_ref().and_then(|s| open.get(&s.code_id).copied()).unwrap_or(0);
            MapSlot {
                slot_id: slot.id,
                code: slot.code.clone(),
                category: slot.category,
                place,
                stall,
                open_complaints,
            }
        })
        .collect();
    Ok(MarketMap {
        market_id,
        market_name: night.market_name,
        date: night.date,
        opened: night.opened,
        columns: plan.columns,
        rows: plan.rows,
        slots,
        landmarks: plan.landmarks,
        unplaced: plan
            .slots
            .iter()
            .filter(|s| s.place.is_none())
            .map(|s| s.code.clone())
            .collect(),
        counts: night.counts,
        open_complaints: open.values().sum(),
        background: plan.background,
    })
}

/// The public map of a market tonight.
pub async fn public_map(ctx: &Ctx, tenant: &Tenant, market_id: Uuid) -> AppResult<MarketMap> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    read_map(&mut tx, tenant, now, market_id, false).await
}

/// The officials' live wall: the map with the complaints still open.
pub async fn wall(ctx: &Ctx, official: &Actor, market_id: Uuid) -> AppResult<MarketMap> {
    official.require_staff()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    read_map(&mut tx, &official.tenant, now, market_id, true).await
}

/// The biggest picture a plan takes.
pub const BACKGROUND_MAX_BYTES: usize = 2 * 1024 * 1024;

/// Puts a picture of the street under the plan (tenant admin): a JPEG or PNG (by its content) of
/// at most 2 MB, replacing the one before. Audited by its hash and size.
pub async fn set_background(ctx: &Ctx, admin: &Actor, market_id: Uuid, bytes: &[u8]) -> AppResult<Plan> {
    admin.require_admin()?;
    let content_type = match crate::applications::sniff(bytes) {
        Some(t @ ("image/jpeg" | "image/png")) => t,
        _ => return Err(AppError::field("file", "plan.background_type")),
    };
    if bytes.len() > BACKGROUND_MAX_BYTES {
        return Err(AppError::field("file", "plan.background_size"));
    }
    let sha = nightmarket_domain::lottery::sha256_hex(bytes);
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db::markets::lock(&mut tx, market_id).await? {
        return Err(AppError::NotFound);
    }
    let before = db::plans::background_version(&mut tx, market_id).await?;
    db::plans::set_background(&mut tx, market_id, content_type, bytes, &sha).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("market.plan_background", "market", market_id)
            .before(&serde_json::json!({ "background": before }))
            .after(&serde_json::json!({ "background": sha, "content_type": content_type, "bytes": bytes.len() })),
    )
    .await?;
    let plan = read(&mut tx, market_id).await?;
    tx.commit().await?;
    Ok(plan)
}

/// Takes the picture away (tenant admin); not found when there was none.
pub async fn remove_background(ctx: &Ctx, admin: &Actor, market_id: Uuid) -> AppResult<Plan> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db::markets::lock(&mut tx, market_id).await? {
        return Err(AppError::NotFound);
    }
    let before = db::plans::background_version(&mut tx, market_id).await?;
    if !db::plans::remove_background(&mut tx, market_id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("market.plan_background", "market", market_id)
            .before(&serde_json::json!({ "background": before }))
            .after(&serde_json::json!({ "background": null })),
    )
    .await?;
    let plan = read(&mut tx, market_id).await?;
    tx.commit().await?;
    Ok(plan)
}

/// The picture under a market's plan (public, as the map is): its content type, bytes and hash.
pub async fn background(ctx: &Ctx, tenant: &Tenant, market_id: Uuid) -> AppResult<(String, Vec<u8>, String)> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = db::plans::background(&mut tx, market_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((row.content_type, row.bytes, row.sha256))
}
