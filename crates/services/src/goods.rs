//! Goods-source declarations (进货来源): a food or produce vendor says where a delivery came from
//! (supplier, place, date, and a batch number or a photo of the receipt); the scan page shows
//! the latest; an official checks one while inspecting. Declarations are never edited, so the
//! history stays.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Ctx;
use crate::applications::{MAX_DOCUMENT_BYTES, sniff};
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::photos::{self, Evidence};
use nightmarket_db::codes::CodeRow;
use nightmarket_db::goods::{NewSource, SourceRow};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Permission;

/// Stall categories whose vendors declare goods sources.
pub const CATEGORIES: [&str; 2] = ["food", "produce"];

/// How far back a delivery may be dated.
pub const MAX_AGE_DAYS: i64 = 365;

/// What a vendor declares.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GoodsDeclaration))]
pub struct Declaration {
    /// Who supplied the goods (2–60 characters).
    pub supplier: String,
    /// Where they come from: a market, a farm, a town (2–60 characters).
    pub place: String,
    /// Batch or receipt number; required unless a photo of the receipt is attached.
    #[serde(default)]
    pub batch: String,
    /// The delivery date (YYYY-MM-DD), not in the future.
    pub received_on: String,
}

/// A declaration as shown to its vendor and to officials.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = GoodsSource))]
pub struct SourceView {
    pub id: Uuid,
    pub supplier: String,
    pub place: String,
    pub batch: String,
    pub received_on: NaiveDate,
    pub has_photo: bool,
    pub declared_at: chrono::DateTime<chrono::Utc>,
    pub checked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The official who checked it.
    pub checked_by: Option<String>,
}

impl From<SourceRow> for SourceView {
    fn from(r: SourceRow) -> SourceView {
        SourceView {
            id: r.id,
            supplier: r.supplier,
            place: r.place,
            batch: r.batch,
            received_on: r.received_on,
            has_photo: r.photo_type.is_some(),
            declared_at: r.created_at,
            checked_at: r.checked_at,
            checked_by: r.checked_by_name,
        }
    }
}

/// What the scan page shows: "进货来源已申报" with the latest declaration's date and place.
pub use nightmarket_db::scan::LatestGoods as Badge;

/// The badge for a code's scan page from its vendor's latest declaration: only when the stall
/// sells food or produce.
pub fn badge(code: &CodeRow, latest: Option<Badge>) -> Option<Badge> {
    latest.filter(|_| CATEGORIES.contains(&code.category.as_str()))
}

/// Whether the vendor has a live food or produce stall (who may declare).
async fn declares(tx: &mut TenantTx, vendor: Uuid) -> AppResult<Vec<CodeRow>> {
    let codes = db::codes::list(
        tx,
        &db::codes::CodeFilter {
            vendor: Some(vendor),
            live: true,
            ..Default::default()
        },
    )
    .await?;
    Ok(codes
        .into_iter()
        .filter(|c| CATEGORIES.contains(&c.category.as_str()))
        .collect())
}

/// Records a declaration (with an optional photo of the receipt, sealed) and audits it.
pub async fn declare(ctx: &Ctx, vendor: &Actor, d: &Declaration, photo: Option<&[u8]>) -> AppResult<Uuid> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let today = now.with_timezone(&vendor.tenant.timezone).date_naive();
    let supplier = d.supplier.trim();
    let place = d.place.trim();
    let batch = d.batch.trim();
    let mut errors = Vec::new();
    for (field, value, min, max) in [("supplier", supplier, 2, 60), ("place", place, 2, 60)] {
        let n = value.chars().count();
        if n < min {
            errors.push(FieldError::new(field, "form.required"));
        } else if n > max {
            errors.push(FieldError::with(field, Msg::new("form.too_long").arg("max", max)));
        }
    }
    if batch.chars().count() > 60 {
        errors.push(FieldError::with("batch", Msg::new("form.too_long").arg("max", 60)));
    }
    let photo = photo.filter(|p| !p.is_empty());
    if batch.is_empty() && photo.is_none() {
        errors.push(FieldError::new("batch", "goods.evidence_required"));
    }
    let photo_type = match photo {
        Some(p) => match sniff(p) {
            Some(t) if p.len() <= MAX_DOCUMENT_BYTES => Some(t),
            _ => {
                errors.push(FieldError::new("photo", "document.type_or_size"));
                None
            }
        },
        None => None,
    };
    let received_on = match NaiveDate::parse_from_str(d.received_on.trim(), "%Y-%m-%d") {
        Ok(date) if date > today => {
            errors.push(FieldError::new("received_on", "goods.date_future"));
            None
        }
        Ok(date) if (today - date).num_days() > MAX_AGE_DAYS => {
            errors.push(FieldError::new("received_on", "goods.date_old"));
            None
        }
        Ok(date) => Some(date),
        Err(_) => {
            errors.push(FieldError::new("received_on", "application.date_format"));
            None
        }
    };
    check(errors)?;
    let received_on = received_on.ok_or_else(|| AppError::field("received_on", "application.date_format"))?;

    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let stalls = declares(&mut tx, vendor.id).await?;
    if stalls.is_empty() {
        return Err(AppError::field("supplier", "goods.not_food"));
    }
    let id = Uuid::new_v4();
    let sealed = photo.map(|p| photos::seal(ctx, &tx, Evidence::Goods, id, p));
    let photo_part = match (photo, photo_type, &sealed) {
        (Some(p), Some(t), Some(s)) => Some((t, p.len() as i32, s.as_slice())),
        _ => None,
    };
    db::goods::insert(
        &mut tx,
        &NewSource {
            id,
            vendor_id: vendor.id,
            supplier,
            place,
            batch,
            received_on,
            photo: photo_part,
            at: now,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("goods_source.declare", "goods_source", id).after(&serde_json::json!({
            "supplier": supplier, "place": place, "batch": batch, "received_on": received_on,
            "photo": photo_part.is_some()
        })),
    )
    .await?;
    for c in &stalls {
        tx.touch(c.id);
    }
    tx.commit().await?;
    Ok(id)
}

/// The vendor's own declarations, latest first.
pub async fn mine(ctx: &Ctx, vendor: &Actor) -> AppResult<(bool, Vec<SourceView>)> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let may = !declares(&mut tx, vendor.id).await?.is_empty();
    let rows = db::goods::for_vendor(&mut tx, vendor.id, 200).await?;
    Ok((may, rows.into_iter().map(SourceView::from).collect()))
}

/// The latest declarations of a stall's vendor, for officials (the code page, inspections).
pub async fn for_code(ctx: &Ctx, official: &Actor, code_id: Uuid) -> AppResult<Vec<SourceView>> {
    official.require_staff()?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let code = db::codes::get(&mut tx, code_id).await?.ok_or(AppError::NotFound)?;
    let rows = db::goods::for_vendor(&mut tx, code.vendor_id, 10).await?;
    Ok(rows.into_iter().map(SourceView::from).collect())
}

/// Marks declarations of the inspected vendor checked, in the inspection's transaction. An id
/// that is not an unchecked declaration of this vendor is refused (and the inspection with it).
pub async fn mark_checked(
    tx: &mut TenantTx,
    official: &Actor,
    vendor: Uuid,
    inspection: Uuid,
    ids: &[Uuid],
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    official.require(Permission::Inspect)?;
    for id in ids {
        if !db::goods::mark_checked(tx, *id, vendor, official.id, inspection, at).await? {
            return Err(AppError::field("goods_checked", "goods.not_checkable"));
        }
    }
    Ok(())
}

/// A declaration's photo for its vendor or staff (sealed at rest, opened here).
pub async fn photo(ctx: &Ctx, user: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let photo = photos::open(ctx, &mut tx, Evidence::Goods, id).await?;
    if !(user.role.is_staff() || photo.owner == user.id) {
        return Err(AppError::NotFound);
    }
    Ok((photo.content_type, photo.bytes))
}
