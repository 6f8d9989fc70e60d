//! Operating codes: the tenant's signing keys, issuing a code on approval, telling genuine codes
//! from forged ones, and the colour with its causes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::notices;
use crate::pii::Place;
use crate::secrets::{Keys, random_bytes};
use nightmarket_db::codes::{self as db_codes, CodeFilter, KeyRow, NewCode};
/// The stalls' codes as the use cases hand them out.
pub use nightmarket_db::codes::{CauseRow, CodeRow};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::code::{
    self, Colour, cause, code_path, colour_of, encode_signature, signed_message, tenant_of_kid, verifies_message,
};
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::Permission;
use nightmarket_domain::tenant::Tenant;

fn secret_place(tx: &TenantTx, key: Uuid) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "signing_keys",
        column: "secret_key_enc",
        row: key,
    }
}

/// The key new codes are signed with, made on first use.
pub async fn signing_key(tx: &mut TenantTx, keys: &Keys, tenant: &Tenant, actor: &Author) -> AppResult<KeyRow> {
    db_codes::lock_keys(tx).await?;
    if let Some(active) = db_codes::keys(tx).await?.into_iter().find(|k| k.retired_at.is_none()) {
        return Ok(active);
    }
    new_key(tx, keys, tenant, actor).await
}

/// Makes a new key and retires the others: codes signed before keep verifying (their key id is
/// in their URL); new codes use the new key.
/// An admin makes a new signing key for their tenant (codes signed before keep verifying).
pub async fn rotate(ctx: &Ctx, admin: &Actor) -> AppResult<KeyRow> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let key = rotate_key(&mut tx, &ctx.keys, &admin.tenant, &Author::of(admin)).await?;
    tx.commit().await?;
    Ok(key)
}

pub async fn rotate_key(tx: &mut TenantTx, keys: &Keys, tenant: &Tenant, actor: &Author) -> AppResult<KeyRow> {
    db_codes::lock_keys(tx).await?;
    new_key(tx, keys, tenant, actor).await
}

async fn new_key(tx: &mut TenantTx, keys: &Keys, tenant: &Tenant, actor: &Author) -> AppResult<KeyRow> {
    let n = db_codes::keys(tx).await?.len() + 1;
    let kid = format!("{}-{n}", tenant.slug);
    let id = Uuid::new_v4();
    let secret = random_bytes::<32>();
    let public = SigningKey::from_bytes(&secret).verifying_key().to_bytes();
    let sealed = keys.seal(&secret_place(tx, id), &secret);
    db_codes::insert_key(tx, id, &kid, &public, &sealed).await?;
    db_codes::retire_others(tx, id).await?;
    audit::record(
        tx,
        actor,
        Change::new("signing_key.create", "signing_key", &kid)
            .after(&serde_json::json!({ "kid": kid, "public_key": STANDARD.encode(public) })),
    )
    .await?;
    db_codes::key_by_kid(tx, &kid).await?.ok_or(AppError::NotFound)
}

fn sign(tx: &TenantTx, keys: &Keys, key: &KeyRow, code: &str) -> AppResult<String> {
    sign_message(tx, keys, key, &signed_message(&key.kid, code))
}

/// Signs `message` with the tenant key `key` (codes, credit records): base64url Ed25519.
pub fn sign_message(tx: &TenantTx, keys: &Keys, key: &KeyRow, message: &[u8]) -> AppResult<String> {
    let secret = keys
        .open(&secret_place(tx, key.id), &key.secret_key_enc)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("signing key {}: {e}", key.kid)))?;
    let secret: [u8; 32] = secret
        .try_into()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("signing key length")))?;
    let signature = SigningKey::from_bytes(&secret).sign(message);
    Ok(encode_signature(&signature.to_bytes()))
}

/// What an approval hands over to make a code.
pub struct Issue<'a> {
    pub vendor_id: Uuid,
    pub application_id: Uuid,
    pub market_id: Uuid,
    pub slot_id: Uuid,
    pub stall_name: &'a str,
    pub category: &'a str,
    pub vendor_name_masked: &'a str,
    pub licence_facts: code::LicenceFacts,
}

/// Issues a green code for an approved application, in the approval's transaction.
pub async fn issue(
    tx: &mut TenantTx,
    keys: &Keys,
    tenant: &Tenant,
    actor: &Author,
    i: Issue<'_>,
) -> AppResult<CodeRow> {
    let key = signing_key(tx, keys, tenant, actor).await?;
    let id = Uuid::new_v4();
    let code = code::new_code(crate::secrets::random_bytes());
    let signature = sign(tx, keys, &key, &code)?;
    db_codes::insert(
        tx,
        &NewCode {
            id,
            code: &code,
            vendor_id: i.vendor_id,
            application_id: i.application_id,
            market_id: i.market_id,
            slot_id: i.slot_id,
            stall_name: i.stall_name,
            category: i.category,
            vendor_name_masked: i.vendor_name_masked,
            licence_facts: &i.licence_facts,
            kid: &key.kid,
            signature: &signature,
        },
    )
    .await?;
    let row = db_codes::get(tx, id).await?.ok_or(AppError::NotFound)?;
    audit::record(
        tx,
        actor,
        Change::new("code.issue", "code", id).after(&serde_json::json!({
            "code": code, "kid": key.kid, "slot": row.slot_code, "market": row.market_name, "colour": "green"
        })),
    )
    .await?;
    Ok(row)
}

/// The path and query of a code's public URL.
pub fn url_path(row: &CodeRow) -> String {
    code_path(&row.code, &row.kid, &row.signature)
}

/// What a scanned URL turned out to be.
pub enum Scan {
    Genuine {
        tenant: Tenant,
        code: CodeRow,
        causes: Vec<CauseRow>,
    },
    /// Genuine, but withdrawn by the platform.
    Revoked { tenant: Tenant, code: CodeRow },
    /// Not issued here, or the signature does not verify.
    NotGenuine,
}

fn verifies(key: &KeyRow, code: &str, signature: &[u8]) -> bool {
    verifies_message(&key.public_key, &signed_message(&key.kid, code), signature)
}

/// A code of `tenant` by its text as typed or scanned (trimmed); 404 when there is none.
pub async fn by_code_text(ctx: &Ctx, tenant: &Tenant, code: &str) -> AppResult<CodeRow> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    db_codes::by_code(&mut tx, code.trim()).await?.ok_or(AppError::NotFound)
}

/// What a scanned URL claims before anything is read: its tenant (by the key id's prefix) and the
/// key id; None when it cannot be a code of ours at all.
pub(crate) async fn claimed<'a>(
    ctx: &Ctx,
    code: &str,
    kid: Option<&'a str>,
    signature: Option<&str>,
) -> AppResult<Option<(Tenant, &'a str)>> {
    let (Some(kid), Some(_)) = (kid, signature) else {
        return Ok(None);
    };
    if !code::is_code(code) {
        return Ok(None);
    }
    let Some(slug) = tenant_of_kid(kid) else {
        return Ok(None);
    };
    Ok(ctx.tenants.by_slug(&ctx.db, slug).await?.map(|t| (t, kid)))
}

/// Looks a scanned code up and checks its signature.
pub async fn scan(ctx: &Ctx, code: &str, kid: Option<&str>, signature: Option<&str>) -> AppResult<Scan> {
    let Some((tenant, kid)) = claimed(ctx, code, kid, signature).await? else {
        return Ok(Scan::NotGenuine);
    };
    let Some(Ok(signature)) = signature.map(|s| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s)) else {
        return Ok(Scan::NotGenuine);
    };
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let Some(key) = db_codes::key_by_kid(&mut tx, kid).await? else {
        return Ok(Scan::NotGenuine);
    };
    if !verifies(&key, code, &signature) {
        return Ok(Scan::NotGenuine);
    }
    let Some(row) = db_codes::by_code(&mut tx, code).await? else {
        return Ok(Scan::NotGenuine);
    };
    if row.kid != kid {
        return Ok(Scan::NotGenuine);
    }
    if row.revoked_at.is_some() {
        return Ok(Scan::Revoked { tenant, code: row });
    }
    let causes = db_codes::open_causes(&mut tx, row.id).await?;
    tx.commit().await?;
    Ok(Scan::Genuine {
        tenant,
        code: row,
        causes,
    })
}

/// A tenant's public keys, as published at `/t/{tenant}/code-key`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyDocument {
    pub tenant: String,
    pub algorithm: String,
    /// What a signature covers, with `{kid}` and `{code}` filled in.
    pub message_format: String,
    pub keys: Vec<PublicKey>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicKey {
    pub kid: String,
    /// The 32-byte Ed25519 public key, base64.
    pub public_key: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Retired keys sign nothing new and still verify what they signed.
    pub retired: bool,
}

pub async fn key_document(ctx: &Ctx, tenant: &Tenant) -> AppResult<KeyDocument> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let keys = db_codes::keys(&mut tx).await?;
    Ok(KeyDocument {
        tenant: tenant.slug.clone(),
        algorithm: "Ed25519".into(),
        message_format: "nightmarket:code:v1:{kid}:{code}".into(),
        keys: keys
            .into_iter()
            .map(|k| PublicKey {
                kid: k.kid,
                public_key: STANDARD.encode(&k.public_key),
                created_at: k.created_at,
                retired: k.retired_at.is_some(),
            })
            .collect(),
    })
}

/// Checks a code URL against a key document, offline (what `nightmarket code verify` does).
pub fn verify_offline(url: &str, doc: &KeyDocument) -> Result<(String, String), &'static str> {
    let parsed = code::parse_code_url(url).ok_or("not a code URL")?;
    if tenant_of_kid(&parsed.kid) != Some(doc.tenant.as_str()) {
        return Err("the URL names a key of another tenant");
    }
    let key = doc
        .keys
        .iter()
        .find(|k| k.kid == parsed.kid)
        .ok_or("the URL names a key this tenant never published")?;
    let public = STANDARD
        .decode(&key.public_key)
        .map_err(|_| "the published key is not base64")?;
    let row = KeyRow {
        id: Uuid::nil(),
        kid: key.kid.clone(),
        public_key: public,
        secret_key_enc: vec![],
        created_at: key.created_at,
        retired_at: None,
    };
    if verifies(&row, &parsed.code, &parsed.signature) {
        Ok((parsed.code, parsed.kid))
    } else {
        Err("the signature does not verify")
    }
}

/// Recomputes a code's colour from its open causes (the one rule, in domain::code), stores it and
/// audits a change. Returns the old and new colour.
pub async fn recompute_colour(tx: &mut TenantTx, actor: &Author, code_id: Uuid) -> AppResult<(Colour, Colour)> {
    let row = db_codes::get(tx, code_id).await?.ok_or(AppError::NotFound)?;
    let causes = db_codes::open_causes(tx, code_id).await?;
    let old = row.colour;
    let new = colour_of(causes.iter().map(|c| c.colour));
    if old != new {
        db_codes::set_colour(tx, code_id, new.as_str()).await?;
        audit::record(
            tx,
            actor,
            Change::new("code.colour", "code", code_id)
                .before(&serde_json::json!({ "colour": old }))
                .after(&serde_json::json!({ "colour": new, "causes": causes })),
        )
        .await?;
    }
    Ok((old, new))
}

/// A reason the vendor is told: 2–200 characters.
fn check_reason(reason: &str) -> AppResult<&str> {
    let reason = reason.trim();
    if (2..=200).contains(&reason.chars().count()) {
        Ok(reason)
    } else {
        Err(AppError::Validation(vec![FieldError::with(
            "reason",
            Msg::new("form.length_between").arg("min", 2).arg("max", 200),
        )]))
    }
}

/// The code, locked for the rest of the transaction (every change to a code goes through here).
async fn locked(tx: &mut TenantTx, code_id: Uuid) -> AppResult<CodeRow> {
    // The vendor first, then the code: the order inspections and credential events take them in
    // (they lock the vendor and then recompute every code of theirs). Taking the code first
    // deadlocked a suspension against an inspection of the same stall.
    let vendor = db_codes::get(tx, code_id).await?.ok_or(AppError::NotFound)?.vendor_id;
    db::credentials::lock_vendor(tx, vendor).await?;
    if !db_codes::lock(tx, code_id).await? {
        return Err(AppError::NotFound);
    }
    db_codes::get(tx, code_id).await?.ok_or(AppError::NotFound)
}

/// An official suspends a code (red, with a reason).
pub async fn suspend(ctx: &Ctx, official: &Actor, code_id: Uuid, reason: &str) -> AppResult<Colour> {
    official.require(Permission::Inspect)?;
    let reason = check_reason(reason)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let row = locked(&mut tx, code_id).await?;
    if row.revoked_at.is_some() {
        return Err(AppError::Conflict(Msg::new("code.revoked")));
    }
    if !db_codes::add_cause(&mut tx, code_id, cause::SUSPENDED, "red", reason, Some(official.id)).await? {
        return Err(AppError::Conflict(Msg::new("code.already_suspended")));
    }
    let actor = Author::of(official);
    audit::record(
        &mut tx,
        &actor,
        Change::new("code.suspend", "code", code_id).after(&serde_json::json!({ "reason": reason })),
    )
    .await?;
    let (_, colour) = recompute_colour(&mut tx, &actor, code_id).await?;
    notices::notify(
        &mut tx,
        &ctx.keys,
        row.vendor_id,
        NoticeKind::CodeSuspended,
        &[("stall", &row.stall_name), ("slot", &row.slot_code), ("reason", reason)],
        Some("/vendor"),
    )
    .await?;
    tx.commit().await?;
    Ok(colour)
}

/// An official lifts their suspension; the colour returns to what the other causes give.
pub async fn restore(ctx: &Ctx, official: &Actor, code_id: Uuid) -> AppResult<Colour> {
    official.require(Permission::Inspect)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let row = locked(&mut tx, code_id).await?;
    if !db_codes::clear_cause(&mut tx, code_id, cause::SUSPENDED, Some(official.id)).await? {
        return Err(AppError::Conflict(Msg::new("code.not_suspended")));
    }
    let actor = Author::of(official);
    audit::record(&mut tx, &actor, Change::new("code.restore", "code", code_id)).await?;
    let (_, colour) = recompute_colour(&mut tx, &actor, code_id).await?;
    notices::notify_args(
        &mut tx,
        &ctx.keys,
        row.vendor_id,
        NoticeKind::CodeRestored,
        notices::Args::default()
            .text("stall", &row.stall_name)
            .text("slot", &row.slot_code)
            .label("colour", colour.label_key()),
        Some("/vendor"),
    )
    .await?;
    tx.commit().await?;
    Ok(colour)
}

/// Withdraws a vendor's code for good (the licence ends); the slot is free for another vendor.
/// Officials who review applications may do it, with a reason the vendor is told.
pub async fn revoke(ctx: &Ctx, official: &Actor, code_id: Uuid, reason: &str) -> AppResult<()> {
    official.require(Permission::Review)?;
    let reason = check_reason(reason)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let row = locked(&mut tx, code_id).await?;
    if !db_codes::revoke(&mut tx, code_id, reason).await? {
        return Err(AppError::Conflict(Msg::new("code.revoked")));
    }
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("code.revoke", "code", code_id)
            .before(&serde_json::json!({ "slot": row.slot_code, "colour": row.colour }))
            .after(&serde_json::json!({ "revoked": true, "reason": reason })),
    )
    .await?;
    notices::notify(
        &mut tx,
        &ctx.keys,
        row.vendor_id,
        NoticeKind::CodeRevoked,
        &[("stall", &row.stall_name), ("slot", &row.slot_code), ("reason", reason)],
        Some("/vendor"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Codes of one market (live ones), for the public market page and officials.
pub async fn for_market(ctx: &Ctx, tenant: &Tenant, market: Uuid) -> AppResult<Vec<CodeRow>> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    Ok(db_codes::list(
        &mut tx,
        &CodeFilter {
            market: Some(market),
            live: true,
            ..Default::default()
        },
    )
    .await?)
}

/// A code with its open causes, for officials and its vendor.
pub async fn detail(ctx: &Ctx, user: &Actor, code_id: Uuid) -> AppResult<(CodeRow, Vec<CauseRow>)> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let row = db_codes::get(&mut tx, code_id).await?.ok_or(AppError::NotFound)?;
    if !(user.role.is_staff() || row.vendor_id == user.id) {
        return Err(AppError::NotFound);
    }
    let causes = db_codes::open_causes(&mut tx, code_id).await?;
    Ok((row, causes))
}

pub async fn for_vendor(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<(CodeRow, Vec<CauseRow>)>> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let rows = db_codes::list(
        &mut tx,
        &CodeFilter {
            vendor: Some(vendor.id),
            ..Default::default()
        },
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let causes = db_codes::open_causes(&mut tx, row.id).await?;
        out.push((row, causes));
    }
    Ok(out)
}

/// The tenant's settings (for the hotline on placards).
pub async fn settings(ctx: &Ctx, tenant: &Tenant) -> AppResult<db::settings::Settings> {
    let mut tx = ctx.db.tenant(tenant.id).await?;
    Ok(db::settings::get(&mut tx).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_verification_accepts_the_genuine_and_refuses_the_forged() {
        let secret = [5u8; 32];
        let signing = SigningKey::from_bytes(&secret);
        let kid = "nanan-1";
        let code = "0123456789abc";
        let sig = encode_signature(&signing.sign(&signed_message(kid, code)).to_bytes());
        let doc = KeyDocument {
            tenant: "nanan".into(),
            algorithm: "Ed25519".into(),
            message_format: String::new(),
            keys: vec![PublicKey {
                kid: kid.into(),
                public_key: STANDARD.encode(signing.verifying_key().to_bytes()),
                created_at: chrono::Utc::now(),
                retired: false,
            }],
        };
        let url = format!("https://x.example{}", code_path(code, kid, &sig));
        assert_eq!(verify_offline(&url, &doc), Ok((code.to_string(), kid.to_string())));
        // Another code with the same signature, or a changed signature, does not verify.
        assert!(verify_offline(&url.replace("0123456789abc", "0123456789abd"), &doc).is_err());
        let mut bad = sig.clone().into_bytes();
        bad[10] = if bad[10] == b'A' { b'B' } else { b'A' };
        let forged = format!(
            "https://x.example{}",
            code_path(code, kid, &String::from_utf8(bad).unwrap())
        );
        assert_eq!(verify_offline(&forged, &doc), Err("the signature does not verify"));
        assert!(verify_offline(&url.replace("nanan-1", "nanan-2"), &doc).is_err());
        assert!(verify_offline(&url.replace("nanan-1", "other-1"), &doc).is_err());
    }
}
