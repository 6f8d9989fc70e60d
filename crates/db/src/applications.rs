//! Applications and their documents.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::application::AppState;
use nightmarket_domain::market::Category;

/// An application with the names the pages show beside it.
#[derive(Clone, Debug)]
pub struct ApplicationRow {
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub market_id: Uuid,
    pub slot_id: Option<Uuid>,
    pub state: AppState,
    pub stall_name: String,
    pub category: Category,
    pub goods: String,
    pub real_name_enc: Option<Vec<u8>>,
    pub real_name_masked: Option<String>,
    pub id_number_enc: Option<Vec<u8>>,
    pub id_number_index: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_index: Option<String>,
    pub phone_masked: Option<String>,
    pub uscc: Option<String>,
    pub food_licence_no: Option<String>,
    pub food_licence_expires: Option<NaiveDate>,
    pub health_cert_no: Option<String>,
    pub health_cert_expires: Option<NaiveDate>,
    pub position_lat: Option<f64>,
    pub position_lng: Option<f64>,
    pub position_accuracy_m: Option<f64>,
    pub position_distance_m: Option<f64>,
    pub position_at: Option<DateTime<Utc>>,
    pub return_notes: Value,
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<Uuid>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub market_name: String,
    pub slot_code: Option<String>,
    pub claimed_by_name: Option<String>,
    pub decided_by_name: Option<String>,
    pub document_count: i64,
}

/// Which applications to read. Every read goes through [`list`], so the joins and columns are
/// written once.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub id: Option<Uuid>,
    pub vendor: Option<Uuid>,
    /// Applications of one person (blind index of the ID number)…
    pub person: Option<String>,
    /// …except this one.
    pub except: Option<Uuid>,
    pub states: Option<Vec<String>>,
    pub market: Option<Uuid>,
    pub category: Option<String>,
    pub limit: i64,
}

/// Applications matching the filter, oldest submission (or creation) first.
pub async fn list(tx: &mut TenantTx, f: &Filter) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let limit = if f.limit > 0 { f.limit } else { 500 };
    sqlx::query_as!(
        ApplicationRow,
        r#"select a.id, a.vendor_id, a.market_id, a.slot_id, a.state as "state: AppState", a.stall_name,
                  a.category as "category: Category", a.goods,
                  a.real_name_enc, a.real_name_masked, a.id_number_enc, a.id_number_index, a.id_number_masked,
                  a.phone_enc, a.phone_index, a.phone_masked, a.uscc, a.food_licence_no, a.food_licence_expires,
                  a.health_cert_no, a.health_cert_expires, a.position_lat, a.position_lng, a.position_accuracy_m,
                  a.position_distance_m, a.position_at, a.return_notes, a.decision_reason, a.decided_at,
                  a.first_submitted_at, a.submitted_at, a.claimed_by, a.claimed_until, a.version,
                  a.created_at, a.updated_at,
                  m.name as market_name, s.code as "slot_code?", c.display_name as "claimed_by_name?",
                  d.display_name as "decided_by_name?",
                  (select count(*) from application_documents x
                    where x.tenant_id = a.tenant_id and x.application_id = a.id) as "document_count!"
           from applications a
           join markets m on m.tenant_id = a.tenant_id and m.id = a.market_id
           left join slots s on s.tenant_id = a.tenant_id and s.id = a.slot_id
           left join users c on c.tenant_id = a.tenant_id and c.id = a.claimed_by
           left join users d on d.tenant_id = a.tenant_id and d.id = a.decided_by
           where a.tenant_id = $1
             and ($2::uuid is null or a.id = $2)
             and ($3::uuid is null or a.vendor_id = $3)
             and ($4::text is null or a.id_number_index = $4)
             and ($5::uuid is null or a.id <> $5)
             and ($6::text[] is null or a.state = any($6))
             and ($7::uuid is null or a.market_id = $7)
             and ($8::text is null or a.category = $8)
           order by coalesce(a.submitted_at, a.created_at), a.id
           limit $9"#,
        tenant,
        f.id,
        f.vendor,
        f.person,
        f.except,
        f.states.as_deref(),
        f.market,
        f.category,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<ApplicationRow>, sqlx::Error> {
    Ok(list(
        tx,
        &Filter {
            id: Some(id),
            limit: 1,
            ..Default::default()
        },
    )
    .await?
    .pop())
}

/// Locks the application for the rest of the transaction (every state change goes through here).
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let found = sqlx::query_scalar!(
        r#"select true as "found!" from applications where tenant_id = $1 and id = $2 for update"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

/// How many applications are in each state, and how many of those waiting were submitted before
/// `overdue_before`.
pub async fn counts(
    tx: &mut TenantTx,
    overdue_before: DateTime<Utc>,
) -> Result<(Vec<(String, i64)>, i64), sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select state, count(*) as "n!" from applications where tenant_id = $1 group by state"#,
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    let overdue = sqlx::query_scalar!(
        r#"select count(*) as "n!" from applications
           where tenant_id = $1 and state in ('submitted', 'resubmitted') and submitted_at < $2"#,
        tenant,
        overdue_before
    )
    .fetch_one(tx.conn())
    .await?;
    Ok((rows.into_iter().map(|r| (r.state, r.n)).collect(), overdue))
}

/// The vendor-supplied details, sealed where personal.
pub struct Details<'a> {
    pub slot_id: Option<Uuid>,
    pub stall_name: &'a str,
    pub category: &'a str,
    pub goods: &'a str,
    pub real_name_enc: Option<Vec<u8>>,
    pub real_name_masked: Option<String>,
    pub id_number_enc: Option<Vec<u8>>,
    pub id_number_index: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_index: Option<String>,
    pub phone_masked: Option<String>,
    pub uscc: Option<String>,
    pub food_licence_no: Option<String>,
    pub food_licence_expires: Option<NaiveDate>,
    pub health_cert_no: Option<String>,
    pub health_cert_expires: Option<NaiveDate>,
}

pub async fn insert(
    tx: &mut TenantTx,
    id: Uuid,
    vendor: Uuid,
    market: Uuid,
    d: &Details<'_>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into applications (tenant_id, id, vendor_id, market_id, slot_id, stall_name, category, goods,
            real_name_enc, real_name_masked, id_number_enc, id_number_index, id_number_masked,
            phone_enc, phone_index, phone_masked, uscc, food_licence_no, food_licence_expires,
            health_cert_no, health_cert_expires)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        tenant,
        id,
        vendor,
        market,
        d.slot_id,
        d.stall_name,
        d.category,
        d.goods,
        d.real_name_enc,
        d.real_name_masked,
        d.id_number_enc,
        d.id_number_index,
        d.id_number_masked,
        d.phone_enc,
        d.phone_index,
        d.phone_masked,
        d.uscc,
        d.food_licence_no,
        d.food_licence_expires,
        d.health_cert_no,
        d.health_cert_expires
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn update_details(tx: &mut TenantTx, id: Uuid, d: &Details<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update applications set slot_id = $3, stall_name = $4, category = $5, goods = $6,
            real_name_enc = $7, real_name_masked = $8, id_number_enc = $9, id_number_index = $10, id_number_masked = $11,
            phone_enc = $12, phone_index = $13, phone_masked = $14, uscc = $15, food_licence_no = $16,
            food_licence_expires = $17, health_cert_no = $18, health_cert_expires = $19,
            version = version + 1, updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        d.slot_id,
        d.stall_name,
        d.category,
        d.goods,
        d.real_name_enc,
        d.real_name_masked,
        d.id_number_enc,
        d.id_number_index,
        d.id_number_masked,
        d.phone_enc,
        d.phone_index,
        d.phone_masked,
        d.uscc,
        d.food_licence_no,
        d.food_licence_expires,
        d.health_cert_no,
        d.health_cert_expires
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Submission: the state, the time, and where the phone was.
pub async fn submit(
    tx: &mut TenantTx,
    id: Uuid,
    state: &str,
    position: (f64, f64, Option<f64>, f64),
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    let (lat, lng, accuracy, distance) = position;
    sqlx::query!(
        "update applications set state = $3, submitted_at = now(), first_submitted_at = coalesce(first_submitted_at, now()),
            position_lat = $4, position_lng = $5, position_accuracy_m = $6, position_distance_m = $7, position_at = now(),
            claimed_by = null, claimed_until = null, version = version + 1, updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        state,
        lat,
        lng,
        accuracy,
        distance
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn withdraw(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update applications set state = 'withdrawn', claimed_by = null, claimed_until = null,
            version = version + 1, updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Holds the application for `by` until `until`.
pub async fn claim(
    tx: &mut TenantTx,
    id: Uuid,
    by: Option<Uuid>,
    until: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update applications set claimed_by = $3, claimed_until = $4 where tenant_id = $1 and id = $2",
        tenant,
        id,
        by,
        until
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records a decision, but only on the version it was made on; `false` when it changed meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    tx: &mut TenantTx,
    id: Uuid,
    version: i32,
    state: &str,
    // None: decided by the platform (a lottery's waitlist), not by a person.
    by: Option<Uuid>,
    reason: Option<&str>,
    notes: &Value,
    slot: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update applications set state = $4, decided_by = $5, decided_at = now(), decision_reason = $6,
            return_notes = $7, slot_id = coalesce($8, slot_id), claimed_by = null, claimed_until = null,
            version = version + 1, updated_at = now()
         where tenant_id = $1 and id = $2 and version = $3 and state in ('submitted', 'resubmitted')",
        tenant,
        id,
        version,
        state,
        by,
        reason,
        notes,
        slot
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Clone, Debug)]
pub struct DocumentMeta {
    pub id: Uuid,
    pub kind: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub created_at: DateTime<Utc>,
}

pub async fn documents(tx: &mut TenantTx, application: Uuid) -> Result<Vec<DocumentMeta>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        DocumentMeta,
        "select id, kind, content_type, size_bytes, created_at from application_documents
         where tenant_id = $1 and application_id = $2 order by created_at",
        tenant,
        application
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn document_data(
    tx: &mut TenantTx,
    application: Uuid,
    id: Uuid,
) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let row = sqlx::query!(
        "select content_type, data_enc from application_documents where tenant_id = $1 and application_id = $2 and id = $3",
        tenant,
        application,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (r.content_type, r.data_enc)))
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_document(
    tx: &mut TenantTx,
    id: Uuid,
    application: Uuid,
    kind: &str,
    content_type: &str,
    size: i32,
    data_enc: &[u8],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into application_documents (tenant_id, id, application_id, kind, content_type, size_bytes, data_enc)
         values ($1, $2, $3, $4, $5, $6, $7)",
        tenant,
        id,
        application,
        kind,
        content_type,
        size,
        data_enc
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn delete_document(tx: &mut TenantTx, application: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "delete from application_documents where tenant_id = $1 and application_id = $2 and id = $3",
        tenant,
        application,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn bump_version(tx: &mut TenantTx, id: Uuid) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update applications set version = version + 1, updated_at = now() where tenant_id = $1 and id = $2",
        tenant,
        id
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}
