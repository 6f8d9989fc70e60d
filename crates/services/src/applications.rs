//! A vendor's applications: drafts, documents, submission, withdrawal, and how they are shown.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::pii::Place;
use crate::secrets::Keys;
use nightmarket_db::applications::{self as db_apps, ApplicationRow, Details, Filter};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::application::{AppState as State, ApplicationInput, ValidApplication, check_position};
use nightmarket_domain::identity::{mask_licence, mask_name};
use nightmarket_domain::market::Category;
use nightmarket_domain::people::Actor;
use nightmarket_domain::tenant::Tenant;

/// Largest document accepted, and how many an application may carry.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_DOCUMENTS: usize = 6;
pub const DOCUMENT_KINDS: [&str; 5] = ["id_card", "food_licence", "health_cert", "business_licence", "other"];

/// Today's date where the tenant is.
pub fn today(ctx: &Ctx, tenant: &Tenant) -> NaiveDate {
    ctx.clock.now().with_timezone(&tenant.timezone).date_naive()
}

pub(crate) fn place(tx: &TenantTx, id: Uuid, column: &'static str) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "applications",
        column,
        row: id,
    }
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Position {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    /// From the market's centre.
    pub distance_m: f64,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    pub id: Uuid,
    pub kind: String,
    pub content_type: String,
    pub size_bytes: i32,
}

/// An application as people see it: personal data masked unless `revealed`.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationView {
    pub id: Uuid,
    pub market_id: Uuid,
    pub market_name: String,
    pub slot_id: Option<Uuid>,
    pub slot_code: Option<String>,
    pub state: State,
    pub stall_name: String,
    pub category: Category,
    pub goods: String,
    pub real_name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub uscc: Option<String>,
    pub food_licence_no: Option<String>,
    pub food_licence_expires: Option<NaiveDate>,
    pub health_cert_no: Option<String>,
    pub health_cert_expires: Option<NaiveDate>,
    pub position: Option<Position>,
    /// An official's notes per field, when returned for correction.
    pub return_notes: BTreeMap<String, String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When a decision is due (the tenant's review deadline after the latest submission).
    pub deadline: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    /// Give it back with a decision: a decision on an older version is refused.
    pub version: i32,
    pub document_count: i64,
    pub documents: Vec<Document>,
    pub revealed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ApplicationView {
    pub fn from_row(row: &ApplicationRow, deadline_hours: i32, now: DateTime<Utc>) -> AppResult<ApplicationView> {
        let state = row.state;
        let deadline = row
            .submitted_at
            .filter(|_| state.awaits_review())
            .map(|s| s + Duration::hours(i64::from(deadline_hours)));
        let claim_live = row.claimed_until.is_some_and(|u| u > now);
        Ok(ApplicationView {
            id: row.id,
            market_id: row.market_id,
            market_name: row.market_name.clone(),
            slot_id: row.slot_id,
            slot_code: row.slot_code.clone(),
            state,
            stall_name: row.stall_name.clone(),
            category: row.category,
            goods: row.goods.clone(),
            real_name: row.real_name_masked.clone(),
            id_number: row.id_number_masked.clone(),
            phone: row.phone_masked.clone(),
            uscc: row.uscc.as_deref().map(nightmarket_domain::identity::mask_id_number),
            food_licence_no: row.food_licence_no.as_deref().map(mask_licence),
            food_licence_expires: row.food_licence_expires,
            health_cert_no: row.health_cert_no.as_deref().map(mask_licence),
            health_cert_expires: row.health_cert_expires,
            position: match (row.position_lat, row.position_lng, row.position_distance_m) {
                (Some(lat), Some(lng), Some(distance_m)) => Some(Position {
                    lat,
                    lng,
                    accuracy_m: row.position_accuracy_m,
                    distance_m,
                    at: row.position_at,
                }),
                _ => None,
            },
            return_notes: serde_json::from_value(row.return_notes.clone()).unwrap_or_default(),
            decision_reason: row.decision_reason.clone(),
            decided_by: row.decided_by_name.clone(),
            decided_at: row.decided_at,
            submitted_at: row.submitted_at,
            deadline,
            overdue: deadline.is_some_and(|d| d < now),
            claimed_by: row.claimed_by_name.clone().filter(|_| claim_live),
            claimed_until: row.claimed_until.filter(|_| claim_live),
            version: row.version,
            document_count: row.document_count,
            documents: Vec::new(),
            revealed: false,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    /// Replaces the masks with the clear values (for officials who asked, and are audited).
    pub fn reveal(&mut self, tx: &TenantTx, keys: &Keys, row: &ApplicationRow) {
        let open = |column: &'static str, sealed: &Option<Vec<u8>>| {
            sealed
                .as_ref()
                .and_then(|s| keys.open_str(&place(tx, row.id, column), s).ok())
        };
        self.real_name = open("real_name_enc", &row.real_name_enc).or(self.real_name.take());
        self.id_number = open("id_number_enc", &row.id_number_enc).or(self.id_number.take());
        self.phone = open("phone_enc", &row.phone_enc).or(self.phone.take());
        self.uscc = row.uscc.clone();
        self.food_licence_no = row.food_licence_no.clone();
        self.health_cert_no = row.health_cert_no.clone();
        self.revealed = true;
    }

    pub fn note(&self, field: &str) -> Option<&str> {
        self.return_notes.get(field).map(String::as_str)
    }
}

pub(crate) async fn deadline_hours(tx: &mut TenantTx) -> AppResult<i32> {
    Ok(db::settings::get(tx).await?.review_deadline_hours)
}

pub(crate) async fn with_documents(tx: &mut TenantTx, mut view: ApplicationView) -> AppResult<ApplicationView> {
    view.documents = db_apps::documents(tx, view.id)
        .await?
        .into_iter()
        .map(|d| Document {
            id: d.id,
            kind: d.kind,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
        })
        .collect();
    Ok(view)
}

/// Seals what the vendor typed; blank personal fields keep what is stored (they are shown masked,
/// so a vendor correcting one field does not retype the others).
fn details<'a>(
    keys: &Keys,
    tx: &TenantTx,
    id: Uuid,
    v: &'a ValidApplication,
    slot: Option<Uuid>,
    old: Option<&ApplicationRow>,
) -> Details<'a> {
    let tenant = tx.tenant();
    let seal = |column: &'static str, value: &str| keys.seal_str(&place(tx, id, column), value);
    let (real_name_enc, real_name_masked) = match &v.real_name {
        Some(n) => (Some(seal("real_name_enc", n)), Some(mask_name(n))),
        None => (
            old.and_then(|o| o.real_name_enc.clone()),
            old.and_then(|o| o.real_name_masked.clone()),
        ),
    };
    let (id_number_enc, id_number_index, id_number_masked) = match &v.id_number {
        Some(n) => (
            Some(seal("id_number_enc", n.as_str())),
            Some(keys.blind_index(tenant, "id_number", n.as_str())),
            Some(n.masked()),
        ),
        None => (
            old.and_then(|o| o.id_number_enc.clone()),
            old.and_then(|o| o.id_number_index.clone()),
            old.and_then(|o| o.id_number_masked.clone()),
        ),
    };
    let (phone_enc, phone_index, phone_masked) = match &v.phone {
        Some(p) => (
            Some(seal("phone_enc", p.as_str())),
            Some(keys.blind_index(tenant, "phone", p.as_str())),
            Some(p.masked()),
        ),
        None => (
            old.and_then(|o| o.phone_enc.clone()),
            old.and_then(|o| o.phone_index.clone()),
            old.and_then(|o| o.phone_masked.clone()),
        ),
    };
    Details {
        slot_id: slot,
        stall_name: &v.stall_name,
        category: v.category.as_str(),
        goods: &v.goods,
        real_name_enc,
        real_name_masked,
        id_number_enc,
        id_number_index,
        id_number_masked,
        phone_enc,
        phone_index,
        phone_masked,
        uscc: v.uscc.clone(),
        food_licence_no: v.food_licence.as_ref().map(|l| l.number.clone()),
        food_licence_expires: v.food_licence.as_ref().map(|l| l.expires),
        health_cert_no: v.health_cert.as_ref().map(|l| l.number.clone()),
        health_cert_expires: v.health_cert.as_ref().map(|l| l.expires),
    }
}

/// A slot nobody holds a live code for.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreeSlot {
    pub id: Uuid,
    pub code: String,
    pub category: Category,
}

/// The market's free slots, those of `category` first.
/// The free slots of a market of the user's tenant (for a category, when given).
pub async fn free_slots_of(
    ctx: &Ctx,
    user: &Actor,
    market: Uuid,
    category: Option<Category>,
) -> AppResult<Vec<FreeSlot>> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    free_slots(&mut tx, market, category).await
}

pub async fn free_slots(tx: &mut TenantTx, market: Uuid, category: Option<Category>) -> AppResult<Vec<FreeSlot>> {
    let taken: Vec<Uuid> = db::codes::list(
        tx,
        &db::codes::CodeFilter {
            market: Some(market),
            live: true,
            ..Default::default()
        },
    )
    .await?
    .iter()
    .map(|c| c.slot_id)
    .collect();
    let mut free: Vec<FreeSlot> = db::markets::slots(tx, market)
        .await?
        .into_iter()
        .filter(|s| !taken.contains(&s.id))
        .map(|s| FreeSlot {
            id: s.id,
            category: s.category,
            code: s.code,
        })
        .collect();
    free.sort_by_key(|s| (Some(s.category) != category, s.code.clone()));
    Ok(free)
}

/// What the vendor's form shows of a stored application: everything but the personal data, which
/// stays masked (a blank field keeps the stored value).
pub fn prefill(row: &ApplicationRow) -> ApplicationInput {
    ApplicationInput {
        stall_name: row.stall_name.clone(),
        category: row.category.as_str().to_string(),
        goods: row.goods.clone(),
        real_name: String::new(),
        id_number: String::new(),
        phone: String::new(),
        uscc: row.uscc.clone().unwrap_or_default(),
        food_licence_no: row.food_licence_no.clone().unwrap_or_default(),
        food_licence_expires: row.food_licence_expires.map(|d| d.to_string()).unwrap_or_default(),
        health_cert_no: row.health_cert_no.clone().unwrap_or_default(),
        health_cert_expires: row.health_cert_expires.map(|d| d.to_string()).unwrap_or_default(),
    }
}

/// A slot a vendor asks for must be in the market, of the stall's category, and free.
async fn check_slot(tx: &mut TenantTx, market: Uuid, slot: Option<Uuid>, category: Category) -> AppResult<()> {
    let Some(slot) = slot else { return Ok(()) };
    let Some(row) = db::markets::get_slot(tx, market, slot).await? else {
        return Err(AppError::field("slot_id", "application.slot_unknown"));
    };
    if row.category != category {
        return Err(AppError::Validation(vec![FieldError::with(
            "slot_id",
            Msg::new("application.slot_category").arg("slot", &row.code),
        )]));
    }
    if db::codes::slot_taken(tx, slot).await? {
        return Err(AppError::Validation(vec![FieldError::with(
            "slot_id",
            Msg::new("slot.taken_named").arg("slot", &row.code),
        )]));
    }
    Ok(())
}

/// The vendor's own application, locked, or 404 (someone else's does not exist for them).
async fn own(tx: &mut TenantTx, vendor: &Actor, id: Uuid) -> AppResult<ApplicationRow> {
    if !db_apps::lock(tx, id).await? {
        return Err(AppError::NotFound);
    }
    let row = db_apps::get(tx, id).await?.ok_or(AppError::NotFound)?;
    if row.vendor_id != vendor.id {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

/// Starts a draft for a market.
pub async fn create(
    ctx: &Ctx,
    vendor: &Actor,
    market: Uuid,
    slot: Option<Uuid>,
    input: &ApplicationInput,
) -> AppResult<Uuid> {
    vendor.require_vendor()?;
    let valid = input
        .validate(today(ctx, &vendor.tenant), false)
        .map_err(AppError::Validation)?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    db::markets::get(&mut tx, market)
        .await?
        .ok_or_else(|| AppError::field("market_id", "application.market_unknown"))?;
    check_slot(&mut tx, market, slot, valid.category).await?;
    let id = Uuid::new_v4();
    let d = details(&ctx.keys, &tx, id, &valid, slot, None);
    db_apps::insert(&mut tx, id, vendor.id, market, &d).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("application.create", "application", id)
            .after(&serde_json::json!({ "market": market, "slot": slot, "stall_name": valid.stall_name, "category": valid.category })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a draft or a returned application.
pub async fn update(
    ctx: &Ctx,
    vendor: &Actor,
    id: Uuid,
    slot: Option<Uuid>,
    input: &ApplicationInput,
) -> AppResult<()> {
    vendor.require_vendor()?;
    let valid = input
        .validate(today(ctx, &vendor.tenant), false)
        .map_err(AppError::Validation)?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = own(&mut tx, vendor, id).await?;
    if !row.state.editable() {
        return Err(AppError::Conflict(Msg::new("application.not_editable")));
    }
    if slot != row.slot_id {
        check_slot(&mut tx, row.market_id, slot, valid.category).await?;
    }
    let d = details(&ctx.keys, &tx, id, &valid, slot, Some(&row));
    db_apps::update_details(&mut tx, id, &d).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("application.update", "application", id)
            .before(&serde_json::json!({ "stall_name": row.stall_name, "category": row.category, "slot": row.slot_id }))
            .after(&serde_json::json!({ "stall_name": valid.stall_name, "category": valid.category, "slot": slot })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sniffs the content (the file name and declared type are not trusted).
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match infer::get(bytes)?.mime_type() {
        "image/jpeg" => Some("image/jpeg"),
        "image/png" => Some("image/png"),
        "application/pdf" => Some("application/pdf"),
        _ => None,
    }
}

pub async fn add_document(ctx: &Ctx, vendor: &Actor, id: Uuid, kind: &str, bytes: &[u8]) -> AppResult<Uuid> {
    vendor.require_vendor()?;
    if !DOCUMENT_KINDS.contains(&kind) {
        return Err(AppError::field("kind", "document.kind"));
    }
    if bytes.is_empty() {
        return Err(AppError::field("file", "document.empty"));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        let mb = format!("{:.1}", bytes.len() as f64 / 1_048_576.0);
        return Err(AppError::Validation(vec![FieldError::with(
            "file",
            Msg::new("document.too_large").arg("size", mb),
        )]));
    }
    let content_type = sniff(bytes).ok_or_else(|| AppError::field("file", "document.type"))?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = own(&mut tx, vendor, id).await?;
    if !row.state.editable() {
        return Err(AppError::Conflict(Msg::new("application.not_editable")));
    }
    if db_apps::documents(&mut tx, id).await?.len() >= MAX_DOCUMENTS {
        return Err(AppError::Validation(vec![FieldError::with(
            "file",
            Msg::new("document.too_many").arg("max", MAX_DOCUMENTS),
        )]));
    }
    let doc = Uuid::new_v4();
    let sealed = ctx.keys.seal(
        &Place {
            tenant: tx.tenant(),
            table: "application_documents",
            column: "data_enc",
            row: doc,
        },
        bytes,
    );
    let size = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    db_apps::insert_document(&mut tx, doc, id, kind, content_type, size, &sealed).await?;
    db_apps::bump_version(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("application.add_document", "application", id)
            .after(&serde_json::json!({ "document": doc, "kind": kind, "content_type": content_type, "size": size })),
    )
    .await?;
    tx.commit().await?;
    Ok(doc)
}

pub async fn remove_document(ctx: &Ctx, vendor: &Actor, id: Uuid, doc: Uuid) -> AppResult<()> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = own(&mut tx, vendor, id).await?;
    if !row.state.editable() {
        return Err(AppError::Conflict(Msg::new("application.not_editable")));
    }
    if !db_apps::delete_document(&mut tx, id, doc).await? {
        return Err(AppError::NotFound);
    }
    db_apps::bump_version(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("application.remove_document", "application", id).before(&serde_json::json!({ "document": doc })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The stored application as typed, for checking it is complete.
fn stored_input(tx: &TenantTx, keys: &Keys, row: &ApplicationRow) -> ApplicationInput {
    let open = |column: &'static str, sealed: &Option<Vec<u8>>| {
        sealed
            .as_ref()
            .and_then(|s| keys.open_str(&place(tx, row.id, column), s).ok())
            .unwrap_or_default()
    };
    ApplicationInput {
        stall_name: row.stall_name.clone(),
        category: row.category.as_str().to_string(),
        goods: row.goods.clone(),
        real_name: open("real_name_enc", &row.real_name_enc),
        id_number: open("id_number_enc", &row.id_number_enc),
        phone: open("phone_enc", &row.phone_enc),
        uscc: row.uscc.clone().unwrap_or_default(),
        food_licence_no: row.food_licence_no.clone().unwrap_or_default(),
        food_licence_expires: row.food_licence_expires.map(|d| d.to_string()).unwrap_or_default(),
        health_cert_no: row.health_cert_no.clone().unwrap_or_default(),
        health_cert_expires: row.health_cert_expires.map(|d| d.to_string()).unwrap_or_default(),
    }
}

/// Submits (or resubmits) the application with where the phone is now. Everything must be
/// complete: the details, the documents, and a position within reach of the market.
pub async fn submit(
    ctx: &Ctx,
    vendor: &Actor,
    id: Uuid,
    lat: Option<f64>,
    lng: Option<f64>,
    accuracy_m: Option<f64>,
) -> AppResult<State> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = own(&mut tx, vendor, id).await?;
    let current = row.state;
    let Some(next) = current.on_submit() else {
        return Err(AppError::Conflict(Msg::new("application.not_submittable")));
    };
    let mut errors = match stored_input(&tx, &ctx.keys, &row).validate(today(ctx, &vendor.tenant), true) {
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    let docs = db_apps::documents(&mut tx, id).await?;
    let has = |kind: &str| docs.iter().any(|d| d.kind == kind);
    let mut missing = Vec::new();
    if !has("id_card") {
        missing.push("document.kind_id_card");
    }
    if row.category == Category::Food {
        missing.extend(
            [
                ("food_licence", "document.kind_food_licence"),
                ("health_cert", "document.kind_health_cert"),
            ]
            .into_iter()
            .filter(|(k, _)| !has(k))
            .map(|(_, label)| label),
        );
    }
    if !missing.is_empty() {
        errors.push(FieldError::with(
            "documents",
            Msg::new("application.documents_missing").label_list("kinds", missing),
        ));
    }
    let market = db::markets::get(&mut tx, row.market_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let position = match check_position(lat, lng, accuracy_m, &market.fence()) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let Err(AppError::Validation(mut slot_errors)) =
        check_slot(&mut tx, row.market_id, row.slot_id, row.category).await
    {
        errors.append(&mut slot_errors);
    }
    check(errors)?;
    let Some((point, distance, accuracy)) = position else {
        return Err(AppError::Validation(vec![]));
    };
    db_apps::submit(&mut tx, id, next.as_str(), (point.lat, point.lng, accuracy, distance)).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new(
            if next == State::Resubmitted {
                "application.resubmit"
            } else {
                "application.submit"
            },
            "application",
            id,
        )
        .before(&serde_json::json!({ "state": current }))
        .after(&serde_json::json!({ "state": next, "distance_m": distance.round() })),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

pub async fn withdraw(ctx: &Ctx, vendor: &Actor, id: Uuid) -> AppResult<()> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = own(&mut tx, vendor, id).await?;
    let current = row.state;
    if !current.can_withdraw() {
        return Err(AppError::Conflict(Msg::new("application.not_withdrawable")));
    }
    db_apps::withdraw(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("application.withdraw", "application", id)
            .before(&serde_json::json!({ "state": current }))
            .after(&serde_json::json!({ "state": State::Withdrawn })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The vendor's applications, newest first.
pub async fn mine(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<ApplicationView>> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let hours = deadline_hours(&mut tx).await?;
    let now = ctx.clock.now();
    let mut rows = db_apps::list(
        &mut tx,
        &Filter {
            vendor: Some(vendor.id),
            ..Default::default()
        },
    )
    .await?;
    rows.reverse();
    rows.iter().map(|r| ApplicationView::from_row(r, hours, now)).collect()
}

/// One of the vendor's applications as the vendor's page shows it.
pub struct Mine {
    /// Personal data masked.
    pub view: ApplicationView,
    /// What the edit form starts with.
    pub prefill: ApplicationInput,
    pub free_slots: Vec<FreeSlot>,
}

pub async fn one_of_mine(ctx: &Ctx, vendor: &Actor, id: Uuid) -> AppResult<Mine> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = db_apps::get(&mut tx, id)
        .await?
        .filter(|r| r.vendor_id == vendor.id)
        .ok_or(AppError::NotFound)?;
    let hours = deadline_hours(&mut tx).await?;
    let view = with_documents(&mut tx, ApplicationView::from_row(&row, hours, ctx.clock.now())?).await?;
    let mut free = free_slots(&mut tx, row.market_id, Some(row.category)).await?;
    // The slot already asked for stays choosable.
    if let (Some(id), Some(code)) = (row.slot_id, &row.slot_code)
        && !free.iter().any(|s| s.id == id)
    {
        free.insert(
            0,
            FreeSlot {
                id,
                code: code.clone(),
                category: view.category,
            },
        );
    }
    Ok(Mine {
        prefill: prefill(&row),
        view,
        free_slots: free,
    })
}

/// A document's bytes: for its vendor, or for an official who may review (audited).
pub async fn document(ctx: &Ctx, user: &Actor, id: Uuid, doc: Uuid) -> AppResult<(String, Vec<u8>)> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = db_apps::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let allowed = row.vendor_id == user.id || user.has(nightmarket_domain::people::Permission::Review);
    if !allowed {
        return Err(if user.role.is_staff() {
            AppError::Forbidden
        } else {
            AppError::NotFound
        });
    }
    let (content_type, sealed) = db_apps::document_data(&mut tx, id, doc)
        .await?
        .ok_or(AppError::NotFound)?;
    let bytes = ctx.keys.open_stored(
        &Place {
            tenant: tx.tenant(),
            table: "application_documents",
            column: "data_enc",
            row: doc,
        },
        &sealed,
    )?;
    if user.role.is_staff() {
        audit::record(
            &mut tx,
            &Author::of(user),
            Change::new("application.view_document", "application", id).after(&serde_json::json!({ "document": doc })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok((content_type, bytes))
}
