//! Markets and their stall slots.

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::geo::{Geofence, LatLng};
use nightmarket_domain::hours::OpeningHours;
use nightmarket_domain::market::{Category, ValidMarket};

#[derive(Clone, Debug, Serialize)]
pub struct MarketRow {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub description: String,
    pub center_lat: f64,
    pub center_lng: f64,
    pub radius_m: i32,
    pub opens_at: NaiveTime,
    pub closes_at: NaiveTime,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub slot_count: i64,
}

impl MarketRow {
    pub fn hours(&self) -> OpeningHours {
        OpeningHours {
            opens: self.opens_at,
            closes: self.closes_at,
        }
    }

    pub fn fence(&self) -> Geofence {
        Geofence {
            center: LatLng {
                lat: self.center_lat,
                lng: self.center_lng,
            },
            radius_m: u32::try_from(self.radius_m).unwrap_or(0),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SlotRow {
    pub id: Uuid,
    pub market_id: Uuid,
    pub code: String,
    pub category: Category,
    pub created_at: DateTime<Utc>,
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<MarketRow>, sqlx::Error> {
    sqlx::query_as!(
        MarketRow,
        r#"select m.id, m.name, m.address, m.description, m.center_lat, m.center_lng, m.radius_m,
                  m.opens_at, m.closes_at, m.created_at, m.updated_at,
                  (select count(*) from slots s where s.tenant_id = m.tenant_id and s.market_id = m.id) as "slot_count!"
           from markets m
           where m.tenant_id = $1
           order by m.created_at, m.name"#,
        tx.tenant().0
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<MarketRow>, sqlx::Error> {
    sqlx::query_as!(
        MarketRow,
        r#"select m.id, m.name, m.address, m.description, m.center_lat, m.center_lng, m.radius_m,
                  m.opens_at, m.closes_at, m.created_at, m.updated_at,
                  (select count(*) from slots s where s.tenant_id = m.tenant_id and s.market_id = m.id) as "slot_count!"
           from markets m
           where m.tenant_id = $1 and m.id = $2"#,
        tx.tenant().0,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

/// Locks the market row for the rest of the transaction (edits read-modify-write it).
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!("select true as \"found!\" from markets where id = $1 for update", id)
        .fetch_optional(tx.conn())
        .await?;
    Ok(found.is_some())
}

pub async fn insert(tx: &mut TenantTx, m: &ValidMarket) -> Result<Uuid, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into markets (tenant_id, name, address, description, center_lat, center_lng, radius_m, opens_at, closes_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         returning id",
        tenant,
        m.name,
        m.address,
        m.description,
        m.fence.center.lat,
        m.fence.center.lng,
        i32::try_from(m.fence.radius_m).unwrap_or(i32::MAX),
        m.hours.opens,
        m.hours.closes
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn update(tx: &mut TenantTx, id: Uuid, m: &ValidMarket) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update markets set name = $2, address = $3, description = $4, center_lat = $5, center_lng = $6,
                radius_m = $7, opens_at = $8, closes_at = $9, updated_at = now()
         where tenant_id = $10 and id = $1",
        id,
        m.name,
        m.address,
        m.description,
        m.fence.center.lat,
        m.fence.center.lng,
        i32::try_from(m.fence.radius_m).unwrap_or(i32::MAX),
        m.hours.opens,
        m.hours.closes,
        tx.tenant().0
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn slots(tx: &mut TenantTx, market_id: Uuid) -> Result<Vec<SlotRow>, sqlx::Error> {
    sqlx::query_as!(
        SlotRow,
        r#"select id, market_id, code, category as "category: Category", created_at from slots
         where tenant_id = $1 and market_id = $2
         order by code"#,
        tx.tenant().0,
        market_id
    )
    .fetch_all(tx.conn())
    .await
}

/// Inserts slots; a code already in the market violates `slots_market_code_key`.
pub async fn insert_slots(
    tx: &mut TenantTx,
    market_id: Uuid,
    slots: &[(String, Category)],
) -> Result<Vec<SlotRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let codes: Vec<String> = slots.iter().map(|(c, _)| c.clone()).collect();
    let categories: Vec<String> = slots.iter().map(|(_, c)| c.as_str().to_string()).collect();
    sqlx::query_as!(
        SlotRow,
        r#"insert into slots (tenant_id, market_id, code, category)
         select $1, $2, code, category from unnest($3::text[], $4::text[]) as t(code, category)
         returning id, market_id, code, category as "category: Category", created_at"#,
        tenant,
        market_id,
        &codes,
        &categories
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn get_slot(tx: &mut TenantTx, market_id: Uuid, slot_id: Uuid) -> Result<Option<SlotRow>, sqlx::Error> {
    sqlx::query_as!(
        SlotRow,
        r#"select id, market_id, code, category as "category: Category", created_at from slots where tenant_id = $1 and market_id = $2 and id = $3"#,
        tx.tenant().0,
        market_id,
        slot_id
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn delete_slot(tx: &mut TenantTx, market_id: Uuid, slot_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("delete from slots where market_id = $1 and id = $2", market_id, slot_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}
