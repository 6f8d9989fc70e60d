//! Operating codes, their colour causes, and the tenant's signing keys.

use chrono::{DateTime, NaiveTime, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::code::{Colour, LicenceFacts};
use nightmarket_domain::market::Category;
use sqlx::types::Json;

#[derive(Clone, Debug)]
pub struct KeyRow {
    pub id: Uuid,
    pub kid: String,
    pub public_key: Vec<u8>,
    pub secret_key_enc: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

/// Every key of the tenant, newest first.
pub async fn keys(tx: &mut TenantTx) -> Result<Vec<KeyRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        KeyRow,
        "select id, kid, public_key, secret_key_enc, created_at, retired_at from signing_keys
         where tenant_id = $1 order by created_at desc, kid desc",
        tenant
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn key_by_kid(tx: &mut TenantTx, kid: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        KeyRow,
        "select id, kid, public_key, secret_key_enc, created_at, retired_at from signing_keys
         where tenant_id = $1 and kid = $2",
        tenant,
        kid
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn insert_key(
    tx: &mut TenantTx,
    id: Uuid,
    kid: &str,
    public: &[u8],
    secret_enc: &[u8],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into signing_keys (tenant_id, id, kid, public_key, secret_key_enc) values ($1, $2, $3, $4, $5)",
        tenant,
        id,
        kid,
        public,
        secret_enc
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Retires every key but `keep`: they verify old codes and sign nothing new.
pub async fn retire_others(tx: &mut TenantTx, keep: Uuid) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update signing_keys set retired_at = now() where tenant_id = $1 and id <> $2 and retired_at is null",
        tenant,
        keep
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Serialises key creation per tenant (two first approvals at once must not make two keys).
pub async fn lock_keys(tx: &mut TenantTx) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('signing_keys:' || $1::uuid::text, 0))",
        tenant
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A code with what the pages show beside it.
#[derive(Clone, Debug)]
pub struct CodeRow {
    pub id: Uuid,
    pub code: String,
    pub vendor_id: Uuid,
    pub application_id: Uuid,
    pub market_id: Uuid,
    pub slot_id: Uuid,
    pub stall_name: String,
    pub category: Category,
    pub vendor_name_masked: String,
    pub licence_facts: Json<LicenceFacts>,
    pub kid: String,
    pub signature: String,
    pub colour: Colour,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub market_name: String,
    pub market_opens: NaiveTime,
    pub market_closes: NaiveTime,
    pub slot_code: String,
}

impl CodeRow {
    /// The opening hours of the code's market.
    pub fn hours(&self) -> nightmarket_domain::hours::OpeningHours {
        nightmarket_domain::hours::OpeningHours {
            opens: self.market_opens,
            closes: self.market_closes,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct CodeFilter {
    pub id: Option<Uuid>,
    pub code: Option<String>,
    pub market: Option<Uuid>,
    pub vendor: Option<Uuid>,
    /// Only codes that were not revoked.
    pub live: bool,
}

pub async fn list(tx: &mut TenantTx, f: &CodeFilter) -> Result<Vec<CodeRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CodeRow,
        r#"select c.id, c.code, c.vendor_id, c.application_id, c.market_id, c.slot_id, c.stall_name,
                c.category as "category: Category", c.vendor_name_masked,
                c.licence_facts as "licence_facts: Json<LicenceFacts>", c.kid, c.signature,
                c.colour as "colour: Colour", c.revoked_at,
                c.created_at, c.updated_at, m.name as market_name, m.opens_at as market_opens,
                m.closes_at as market_closes, s.code as slot_code
         from codes c
         join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
         join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
         where c.tenant_id = $1
           and ($2::uuid is null or c.id = $2)
           and ($3::text is null or c.code = $3)
           and ($4::uuid is null or c.market_id = $4)
           and ($5::uuid is null or c.vendor_id = $5)
           and (not $6 or c.revoked_at is null)
         order by s.code, c.created_at"#,
        tenant,
        f.id,
        f.code,
        f.market,
        f.vendor,
        f.live
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<CodeRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CodeRow,
        r#"select c.id, c.code, c.vendor_id, c.application_id, c.market_id, c.slot_id, c.stall_name,
                c.category as "category: Category", c.vendor_name_masked,
                c.licence_facts as "licence_facts: Json<LicenceFacts>", c.kid, c.signature,
                c.colour as "colour: Colour", c.revoked_at,
                c.created_at, c.updated_at, m.name as market_name, m.opens_at as market_opens,
                m.closes_at as market_closes, s.code as slot_code
         from codes c
         join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
         join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
         where c.tenant_id = $1 and c.id = $2"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

/// A code by its text. `get` and this have queries of their own rather than [`list`] with a
/// filter: a prepared statement's generic plan cannot use an index behind `($n is null or …)`,
/// and this is the scan page's first read (it read every code of the tenant; see BENCHMARKS.md).
pub async fn by_code(tx: &mut TenantTx, code: &str) -> Result<Option<CodeRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CodeRow,
        r#"select c.id, c.code, c.vendor_id, c.application_id, c.market_id, c.slot_id, c.stall_name,
                c.category as "category: Category", c.vendor_name_masked,
                c.licence_facts as "licence_facts: Json<LicenceFacts>", c.kid, c.signature,
                c.colour as "colour: Colour", c.revoked_at,
                c.created_at, c.updated_at, m.name as market_name, m.opens_at as market_opens,
                m.closes_at as market_closes, s.code as slot_code
         from codes c
         join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id
         join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
         where c.tenant_id = $1 and c.code = $2"#,
        tenant,
        code
    )
    .fetch_optional(tx.conn())
    .await
}

pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let found = sqlx::query_scalar!(
        r#"select true as "found!" from codes where tenant_id = $1 and id = $2 for update"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

pub struct NewCode<'a> {
    pub id: Uuid,
    pub code: &'a str,
    pub vendor_id: Uuid,
    pub application_id: Uuid,
    pub market_id: Uuid,
    pub slot_id: Uuid,
    pub stall_name: &'a str,
    pub category: &'a str,
    pub vendor_name_masked: &'a str,
    pub licence_facts: &'a LicenceFacts,
    pub kid: &'a str,
    pub signature: &'a str,
}

/// Inserts a code; a slot that already carries a live code violates `codes_one_per_slot`.
pub async fn insert(tx: &mut TenantTx, c: &NewCode<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into codes (tenant_id, id, code, vendor_id, application_id, market_id, slot_id, stall_name, category,
                            vendor_name_masked, licence_facts, kid, signature)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        tenant,
        c.id,
        c.code,
        c.vendor_id,
        c.application_id,
        c.market_id,
        c.slot_id,
        c.stall_name,
        c.category,
        c.vendor_name_masked,
        Json(c.licence_facts) as _,
        c.kid,
        c.signature
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Withdraws a code for good; its slot is free again.
pub async fn revoke(tx: &mut TenantTx, id: Uuid, reason: &str) -> Result<bool, sqlx::Error> {
    tx.touch(id);
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update codes set revoked_at = now(), revoked_reason = $3, updated_at = now()
         where tenant_id = $1 and id = $2 and revoked_at is null",
        tenant,
        id,
        reason
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_colour(tx: &mut TenantTx, id: Uuid, colour: &str) -> Result<(), sqlx::Error> {
    tx.touch(id);
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update codes set colour = $3, updated_at = now() where tenant_id = $1 and id = $2",
        tenant,
        id,
        colour
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CauseRow {
    pub id: Uuid,
    pub kind: String,
    pub colour: Colour,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub created_by_name: Option<String>,
}

pub async fn open_causes(tx: &mut TenantTx, code: Uuid) -> Result<Vec<CauseRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        CauseRow,
        r#"select k.id, k.kind, k.colour as "colour: Colour", k.note, k.created_at, u.display_name as "created_by_name?"
           from code_causes k
           left join users u on u.tenant_id = k.tenant_id and u.id = k.created_by
           where k.tenant_id = $1 and k.code_id = $2 and k.cleared_at is null
           order by k.created_at"#,
        tenant,
        code
    )
    .fetch_all(tx.conn())
    .await
}

/// Opens a cause; `false` when one of the same kind is already open.
pub async fn add_cause(
    tx: &mut TenantTx,
    code: Uuid,
    kind: &str,
    colour: &str,
    note: &str,
    by: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    tx.touch(code);
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "insert into code_causes (tenant_id, code_id, kind, colour, note, created_by) values ($1, $2, $3, $4, $5, $6)
         on conflict (tenant_id, code_id, kind) where cleared_at is null do nothing",
        tenant,
        code,
        kind,
        colour,
        note,
        by
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Clears the open cause of `kind`; `false` when there was none.
pub async fn clear_cause(tx: &mut TenantTx, code: Uuid, kind: &str, by: Option<Uuid>) -> Result<bool, sqlx::Error> {
    tx.touch(code);
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update code_causes set cleared_at = now(), cleared_by = $4
         where tenant_id = $1 and code_id = $2 and kind = $3 and cleared_at is null",
        tenant,
        code,
        kind,
        by
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether a slot carries a live code.
pub async fn slot_taken(tx: &mut TenantTx, slot: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select exists (select 1 from codes where tenant_id = $1 and slot_id = $2 and revoked_at is null) as "taken!""#,
        tenant,
        slot
    )
    .fetch_one(tx.conn())
    .await
}
