//! Markets' plans: the grid, the slots' places on it and the landmarks.

use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::market::Category;
use nightmarket_domain::plan::{LandmarkKind, ValidPlan};

/// The grid of a market's plan and the version of its last save.
#[derive(Clone, Debug)]
pub struct GridRow {
    pub columns: i32,
    pub rows: i32,
    pub version: i32,
}

/// A slot with its place on the plan (all four or none, as the table's check holds).
#[derive(Clone, Debug)]
pub struct PlacedSlotRow {
    pub id: Uuid,
    pub code: String,
    pub category: Category,
    pub plan_x: Option<i32>,
    pub plan_y: Option<i32>,
    pub plan_w: Option<i32>,
    pub plan_h: Option<i32>,
}

#[derive(Clone, Debug)]
pub struct LandmarkRow {
    pub id: Uuid,
    pub kind: LandmarkKind,
    pub label: String,
    pub x: i32,
    pub y: i32,
}

pub async fn grid(tx: &mut TenantTx, market_id: Uuid) -> Result<Option<GridRow>, sqlx::Error> {
    sqlx::query_as!(
        GridRow,
        r#"select plan_columns as columns, plan_rows as rows, plan_version as version
           from markets where tenant_id = $1 and id = $2"#,
        tx.tenant().0,
        market_id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn slots(tx: &mut TenantTx, market_id: Uuid) -> Result<Vec<PlacedSlotRow>, sqlx::Error> {
    sqlx::query_as!(
        PlacedSlotRow,
        r#"select id, code, category as "category: Category", plan_x, plan_y, plan_w, plan_h
           from slots where tenant_id = $1 and market_id = $2 order by code"#,
        tx.tenant().0,
        market_id
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn landmarks(tx: &mut TenantTx, market_id: Uuid) -> Result<Vec<LandmarkRow>, sqlx::Error> {
    sqlx::query_as!(
        LandmarkRow,
        r#"select id, kind as "kind: LandmarkKind", label, x, y
           from market_landmarks where tenant_id = $1 and market_id = $2 order by y, x, id"#,
        tx.tenant().0,
        market_id
    )
    .fetch_all(tx.conn())
    .await
}

/// Replaces the plan if it is still at `version`; false if someone saved it meanwhile. The caller
/// holds the market's lock.
pub async fn save(tx: &mut TenantTx, market_id: Uuid, version: i32, plan: &ValidPlan) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let bumped = sqlx::query!(
        "update markets set plan_columns = $3, plan_rows = $4, plan_version = plan_version + 1, updated_at = now()
         where tenant_id = $1 and id = $2 and plan_version = $5",
        tenant,
        market_id,
        i32::from(plan.columns),
        i32::from(plan.rows),
        version
    )
    .execute(tx.conn())
    .await?;
    if bumped.rows_affected() != 1 {
        return Ok(false);
    }
    let codes: Vec<String> = plan.slots.iter().map(|(c, _)| c.clone()).collect();
    let xs: Vec<i32> = plan.slots.iter().map(|(_, r)| i32::from(r.x)).collect();
    let ys: Vec<i32> = plan.slots.iter().map(|(_, r)| i32::from(r.y)).collect();
    let ws: Vec<i32> = plan.slots.iter().map(|(_, r)| i32::from(r.w)).collect();
    let hs: Vec<i32> = plan.slots.iter().map(|(_, r)| i32::from(r.h)).collect();
    // Every slot of the market: the listed ones get their place, the rest are taken off the plan.
    sqlx::query!(
        "update slots s set plan_x = p.x, plan_y = p.y, plan_w = p.w, plan_h = p.h
         from (select sl.id, p.x, p.y, p.w, p.h
               from slots sl
               left join unnest($3::text[], $4::int[], $5::int[], $6::int[], $7::int[]) as p(code, x, y, w, h)
                 on p.code = sl.code
               where sl.tenant_id = $1 and sl.market_id = $2) p
         where s.tenant_id = $1 and s.id = p.id",
        tenant,
        market_id,
        &codes,
        &xs,
        &ys,
        &ws,
        &hs
    )
    .execute(tx.conn())
    .await?;
    sqlx::query!(
        "delete from market_landmarks where tenant_id = $1 and market_id = $2",
        tenant,
        market_id
    )
    .execute(tx.conn())
    .await?;
    let kinds: Vec<String> = plan.landmarks.iter().map(|l| l.kind.as_str().to_string()).collect();
    let labels: Vec<String> = plan.landmarks.iter().map(|l| l.label.clone()).collect();
    let lx: Vec<i32> = plan.landmarks.iter().map(|l| i32::from(l.x)).collect();
    let ly: Vec<i32> = plan.landmarks.iter().map(|l| i32::from(l.y)).collect();
    sqlx::query!(
        "insert into market_landmarks (tenant_id, market_id, kind, label, x, y)
         select $1, $2, kind, label, x, y from unnest($3::text[], $4::text[], $5::int[], $6::int[]) as t(kind, label, x, y)",
        tenant,
        market_id,
        &kinds,
        &labels,
        &lx,
        &ly
    )
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// Complaints not yet closed, per operating code of the market (the live wall marks them).
pub async fn open_complaints(tx: &mut TenantTx, market_id: Uuid) -> Result<Vec<(Uuid, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select code_id, count(*) as "open!" from complaints
           where tenant_id = $1 and market_id = $2 and closed_at is null
           group by code_id"#,
        tx.tenant().0,
        market_id
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.code_id, r.open)).collect())
}

/// The picture under a market's plan.
#[derive(Clone, Debug)]
pub struct BackgroundRow {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// The picture's version (its hash), without its bytes.
pub async fn background_version(tx: &mut TenantTx, market_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select sha256 from market_plan_images where tenant_id = $1 and market_id = $2",
        tx.tenant().0,
        market_id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn background(tx: &mut TenantTx, market_id: Uuid) -> Result<Option<BackgroundRow>, sqlx::Error> {
    sqlx::query_as!(
        BackgroundRow,
        "select content_type, bytes, sha256 from market_plan_images where tenant_id = $1 and market_id = $2",
        tx.tenant().0,
        market_id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn set_background(
    tx: &mut TenantTx,
    market_id: Uuid,
    content_type: &str,
    bytes: &[u8],
    sha256: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into market_plan_images (tenant_id, market_id, content_type, bytes, sha256) values ($1, $2, $3, $4, $5)
         on conflict (tenant_id, market_id) do update
         set content_type = excluded.content_type, bytes = excluded.bytes, sha256 = excluded.sha256, updated_at = now()",
        tx.tenant().0,
        market_id,
        content_type,
        bytes,
        sha256
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn remove_background(tx: &mut TenantTx, market_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "delete from market_plan_images where tenant_id = $1 and market_id = $2",
        tx.tenant().0,
        market_id
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
