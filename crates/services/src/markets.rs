//! Markets and slots: reading them (public) and changing them (tenant admins).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use nightmarket_db::markets::{self, MarketRow, SlotRow};
use nightmarket_domain::market::{Category, MarketDraft, parse_slot_code};
use nightmarket_domain::people::Actor;
use nightmarket_domain::tenant::TenantId;

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Market {
    pub id: Uuid,
    pub name: String,
    pub address: String,
    pub description: String,
    /// Centre of the geofence, WGS-84 degrees.
    pub center_lat: f64,
    pub center_lng: f64,
    /// Radius of the geofence in metres.
    pub radius_m: i32,
    /// Opening time, local "HH:MM" in the tenant's zone.
    #[cfg_attr(feature = "openapi", schema(example = "18:00"))]
    pub opens_at: String,
    /// Closing time, local "HH:MM"; earlier than `opens_at` when the market runs past midnight.
    #[cfg_attr(feature = "openapi", schema(example = "02:00"))]
    pub closes_at: String,
    pub crosses_midnight: bool,
    pub slot_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&MarketRow> for Market {
    fn from(r: &MarketRow) -> Market {
        Market {
            id: r.id,
            name: r.name.clone(),
            address: r.address.clone(),
            description: r.description.clone(),
            center_lat: r.center_lat,
            center_lng: r.center_lng,
            radius_m: r.radius_m,
            opens_at: r.opens_at.format("%H:%M").to_string(),
            closes_at: r.closes_at.format("%H:%M").to_string(),
            crosses_midnight: r.hours().crosses_midnight(),
            slot_count: r.slot_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slot {
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(example = "A-01"))]
    pub code: String,
    pub category: Category,
}

impl Slot {
    fn from_row(r: &SlotRow) -> AppResult<Slot> {
        Ok(Slot {
            id: r.id,
            code: r.code.clone(),
            category: r.category,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketDetail {
    #[serde(flatten)]
    pub market: Market,
    pub slots: Vec<Slot>,
}

pub async fn list(ctx: &Ctx, tenant: TenantId) -> AppResult<Vec<Market>> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let rows = markets::list(&mut tx).await?;
    Ok(rows.iter().map(Market::from).collect())
}

pub async fn get(ctx: &Ctx, tenant: TenantId, id: Uuid) -> AppResult<MarketDetail> {
    let mut tx = ctx.db.tenant(tenant).await?;
    detail(&mut tx, id).await
}

async fn detail(tx: &mut nightmarket_db::TenantTx, id: Uuid) -> AppResult<MarketDetail> {
    let row = markets::get(tx, id).await?.ok_or(AppError::NotFound)?;
    let slots = markets::slots(tx, id).await?;
    Ok(MarketDetail {
        market: Market::from(&row),
        slots: slots.iter().map(Slot::from_row).collect::<AppResult<_>>()?,
    })
}

pub async fn create(ctx: &Ctx, admin: &Actor, draft: &MarketDraft) -> AppResult<Market> {
    admin.require_admin()?;
    let valid = draft.validate().map_err(AppError::Validation)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let id = markets::insert(&mut tx, &valid).await?;
    let market = markets::get(&mut tx, id)
        .await?
        .map(|r| Market::from(&r))
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("market.create", "market", id).after(&market),
    )
    .await?;
    tx.commit().await?;
    Ok(market)
}

pub async fn update(ctx: &Ctx, admin: &Actor, id: Uuid, draft: &MarketDraft) -> AppResult<Market> {
    admin.require_admin()?;
    let valid = draft.validate().map_err(AppError::Validation)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !markets::lock(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let before = markets::get(&mut tx, id)
        .await?
        .map(|r| Market::from(&r))
        .ok_or(AppError::NotFound)?;
    markets::update(&mut tx, id, &valid).await?;
    let after = markets::get(&mut tx, id)
        .await?
        .map(|r| Market::from(&r))
        .ok_or(AppError::NotFound)?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("market.update", "market", id).before(&before).after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A slot as typed: code and category name.
pub struct SlotInput {
    pub code: String,
    pub category: String,
}

/// Checks a batch of slots: every code well-formed, every category known, no code twice.
pub fn validate_slots(input: &[SlotInput]) -> Result<Vec<(String, Category)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut valid = Vec::new();
    if input.is_empty() {
        errors.push(FieldError::new("slots", "slot.none_given"));
    }
    for slot in input {
        let code = parse_slot_code(&slot.code);
        let category = Category::parse(&slot.category);
        match &code {
            None => errors.push(FieldError::with(
                "code",
                Msg::new("slot.code_invalid_named").arg("code", slot.code.trim()),
            )),
            Some(c) if !seen.insert(c.clone()) => {
                errors.push(FieldError::with("code", Msg::new("slot.code_repeated").arg("code", c)))
            }
            Some(_) => {}
        }
        if category.is_none() {
            errors.push(FieldError::new("category", "slot.category_invalid"));
        }
        if let (Some(c), Some(k)) = (code, category) {
            valid.push((c, k));
        }
    }
    if errors.is_empty() { Ok(valid) } else { Err(errors) }
}

pub async fn add_slots(ctx: &Ctx, admin: &Actor, market_id: Uuid, input: &[SlotInput]) -> AppResult<Vec<Slot>> {
    admin.require_admin()?;
    let slots = validate_slots(input).map_err(AppError::Validation)?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !markets::lock(&mut tx, market_id).await? {
        return Err(AppError::NotFound);
    }
    let rows = markets::insert_slots(&mut tx, market_id, &slots).await?;
    let created: Vec<Slot> = rows.iter().map(Slot::from_row).collect::<AppResult<_>>()?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("market.add_slots", "market", market_id).after(&created),
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn remove_slot(ctx: &Ctx, admin: &Actor, market_id: Uuid, slot_id: Uuid) -> AppResult<()> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let slot = markets::get_slot(&mut tx, market_id, slot_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = Slot::from_row(&slot)?;
    markets::delete_slot(&mut tx, market_id, slot_id).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("market.remove_slot", "market", market_id).before(&before),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> Vec<SlotInput> {
        pairs
            .iter()
            .map(|(c, k)| SlotInput {
                code: c.to_string(),
                category: k.to_string(),
            })
            .collect()
    }

    #[test]
    fn a_batch_of_slots_is_checked_as_a_whole() {
        assert_eq!(
            validate_slots(&input(&[("a-01", "food"), ("A-02", "retail")]))
                .unwrap()
                .len(),
            2
        );
        for bad in [
            input(&[]),
            input(&[("A-01", "food"), ("a-01", "food")]),
            input(&[("A 01", "food")]),
            input(&[("A-01", "weapons")]),
        ] {
            assert!(validate_slots(&bad).is_err());
        }
    }
}
