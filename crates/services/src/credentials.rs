//! Credentials (证照) and the health binding: events from external systems, renewals by vendors,
//! and the API keys those systems sign their requests with.
//!
//! An external system calls `POST /api/v1/t/{tenant}/credential-events` with the headers
//! `X-Api-Key` (key id), `X-Timestamp` (unix seconds) and `X-Signature`
//! (hex HMAC-SHA256 of `timestamp + "." + body` under the key's secret). A request more than five
//! minutes off is refused; an event id seen before is answered as already applied when the body is
//! the same, and refused when it is not.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Ctx;
use crate::audit::{self, ActorKind, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::notices::Args;
use crate::pii::Place;
use crate::secrets::random_bytes;
use crate::supervision::{self, ColourChange};
use crate::{live, notices};
use nightmarket_db::settings::Settings;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::case::RenewalState;
use nightmarket_domain::code::Colour;
use nightmarket_domain::credential::{Kind, Source, Status, required};
use nightmarket_domain::identity::ResidentId;
use nightmarket_domain::market::Category;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Actor;
use nightmarket_domain::people::{Permission, Role};
use nightmarket_domain::tenant::Tenant;

/// A renewal as the officials' list and the vendor's page show it.
pub use nightmarket_db::credentials::RenewalRow;
pub use nightmarket_input::credential::{CredentialEvent, signature, signature_ok};

/// How far a request's timestamp may be from the server's clock.
pub const MAX_SKEW_SECS: i64 = 300;

fn secret_place(tx: &TenantTx, key: Uuid) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "api_keys",
        column: "secret_enc",
        row: key,
    }
}

/// The headers that authenticate an external system's request.
pub struct Signed<'a> {
    pub key_id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventOutcome {
    /// False when this event id was applied before (with the same body).
    pub applied: bool,
    pub vendor_id: Uuid,
    /// The vendor's codes and their colours after the event.
    pub codes: Vec<CodeColour>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeColour {
    pub code_id: Uuid,
    pub colour: Colour,
}

/// Authenticates, checks and applies one credential event. Everything happens in one transaction:
/// the credential, the event's record, the colours of the vendor's codes, the audit record and
/// the officials' notice commit together or not at all.
pub async fn apply_event(ctx: &Ctx, tenant: &Tenant, signed: Signed<'_>, body: &[u8]) -> AppResult<EventOutcome> {
    let (Some(key_id), Some(timestamp), Some(sig)) = (signed.key_id, signed.timestamp, signed.signature) else {
        return Err(AppError::ApiKey(Msg::new("api_key.missing")));
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let key = db::credentials::api_key(&mut tx, key_id.trim())
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or(AppError::ApiKey(Msg::new("api_key.unknown")))?;
    let secret = ctx
        .keys
        .open_str(&secret_place(&tx, key.id), &key.secret_enc)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("api key {}: {e}", key.key_id)))?;
    if !signature_ok(&secret, timestamp, body, sig) {
        return Err(AppError::ApiKey(Msg::new("api_key.signature")));
    }
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| AppError::ApiKey(Msg::new("api_key.timestamp")))?;
    if (now.timestamp() - ts).abs() > MAX_SKEW_SECS {
        return Err(AppError::ApiKey(Msg::new("api_key.timestamp")));
    }
    let event: CredentialEvent = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(Msg::with_detail("error.json_invalid", e.to_string())))?;
    let event_id = event.event_id.trim();
    let mut errors = Vec::new();
    if event_id.is_empty() || event_id.chars().count() > 100 {
        errors.push(FieldError::new("event_id", "event.id_length"));
    }
    if event.id_number.is_some() == event.vendor_id.is_some() {
        errors.push(FieldError::new("vendor_id", "event.one_vendor"));
    }
    if event.status == Status::Expired {
        errors.push(FieldError::new("status", "event.status"));
    }
    if event.reason.chars().count() > 200 {
        errors.push(FieldError::with("reason", Msg::new("form.too_long").arg("max", 200)));
    }
    check(errors)?;

    // One event id at a time: a repeat waits for the first and then sees it.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("credential-event:{}:{event_id}", tenant.id))
        .execute(tx.conn())
        .await?;
    let body_hash = Sha256::digest(body).to_vec();
    if let Some(seen) = db::credentials::event_hash(&mut tx, event_id).await? {
        if seen != body_hash {
            return Err(AppError::Conflict(Msg::new("event.replayed")));
        }
        let vendor = seen_vendor(&mut tx, event_id).await?;
        let codes = colours(&mut tx, vendor).await?;
        return Ok(EventOutcome {
            applied: false,
            vendor_id: vendor,
            codes,
        });
    }

    let vendor = match (&event.vendor_id, &event.id_number) {
        (Some(v), _) => {
            let ok = db::users::by_id(&mut tx, *v)
                .await?
                .is_some_and(|u| u.role == Role::Vendor);
            ok.then_some(*v)
        }
        (None, Some(n)) => match ResidentId::parse(n, supervision::local_date(now, tenant.timezone)) {
            Ok(id) => {
                db::credentials::vendor_by_person(&mut tx, &ctx.keys.blind_index(tenant.id, "id_number", id.as_str()))
                    .await?
            }
            Err(e) => return Err(AppError::field("id_number", e.key())),
        },
        (None, None) => None,
    }
    .ok_or_else(|| AppError::Validation(vec![FieldError::new("vendor_id", "event.unknown_vendor")]))?;

    db::credentials::lock_vendor(&mut tx, vendor).await?;
    let before = db::credentials::for_vendor(&mut tx, vendor)
        .await?
        .into_iter()
        .find(|c| c.kind == event.credential);
    db::credentials::upsert(
        &mut tx,
        vendor,
        event.credential,
        None,
        None,
        event.status,
        event.reason.trim(),
        Source::External,
    )
    .await?;
    db::credentials::insert_event(
        &mut tx,
        event_id,
        key.id,
        &body_hash,
        vendor,
        event.credential,
        event.status,
        event.occurred_at,
    )
    .await?;
    db::credentials::touch_api_key(&mut tx, key.id).await?;
    let actor = Author {
        kind: ActorKind::External,
        id: Some(key.id),
        label: format!("api:{}", key.name),
        request_id: None,
    };
    audit::record(
        &mut tx,
        &actor,
        Change::new("credential.event", "user", vendor)
            .before(&serde_json::json!({ "credential": event.credential, "status": before.map(|b| b.status) }))
            .after(&serde_json::json!({
                "event_id": event_id, "credential": event.credential, "status": event.status,
                "reason": event.reason.trim(), "occurred_at": event.occurred_at
            })),
    )
    .await?;
    let settings = db::settings::get(&mut tx).await?;
    supervision::sync_vendor(&mut tx, &ctx.keys, &actor, vendor, now, tenant.timezone, &settings).await?;
    let who = db::users::by_id(&mut tx, vendor)
        .await?
        .map(|u| u.display_name)
        .unwrap_or_default();
    live::notify_staff_args(
        &mut tx,
        now,
        None,
        NoticeKind::CredentialEvent,
        Args::default()
            .text("vendor", &who)
            .label("credential", event.credential.label_key())
            .label("status", event.status.label_key())
            .text("source", &key.name),
        None,
    )
    .await?;
    let codes = colours(&mut tx, vendor).await?;
    tx.commit().await?;
    Ok(EventOutcome {
        applied: true,
        vendor_id: vendor,
        codes,
    })
}

async fn seen_vendor(tx: &mut TenantTx, event_id: &str) -> AppResult<Uuid> {
    let tenant = tx.tenant().0;
    Ok(sqlx::query_scalar!(
        "select vendor_id from credential_events where tenant_id = $1 and event_id = $2",
        tenant,
        event_id
    )
    .fetch_one(tx.conn())
    .await?)
}

async fn colours(tx: &mut TenantTx, vendor: Uuid) -> AppResult<Vec<CodeColour>> {
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
        .iter()
        .map(|c| CodeColour {
            code_id: c.id,
            colour: c.colour,
        })
        .collect())
}

/// A credential as the vendor and officials see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialView {
    pub kind: Kind,
    pub required: bool,
    pub number: Option<String>,
    pub expires_on: Option<NaiveDate>,
    /// None when required and missing.
    pub status: Option<Status>,
    pub reason: String,
    /// Expires within the tenant's warning period.
    pub expiring: bool,
    /// Reported invalid by an external system: the vendor may dispute the report.
    pub disputable: bool,
}

/// The signed-in vendor's own credentials.
pub async fn mine(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<CredentialView>> {
    vendor.require_vendor()?;
    for_vendor(ctx, vendor, vendor.id).await
}

/// The vendor's credentials: those required by what they sell, and any others on file.
pub async fn for_vendor(ctx: &Ctx, user: &Actor, vendor: Uuid) -> AppResult<Vec<CredentialView>> {
    if !(user.role.is_staff() || user.id == vendor) {
        return Err(AppError::NotFound);
    }
    let today = supervision::local_date(ctx.clock.now(), user.tenant.timezone);
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    // An id that is no vendor of this tenant is not found (rather than a vendor with nothing).
    if db::users::by_id(&mut tx, vendor)
        .await?
        .is_none_or(|u| u.role != Role::Vendor)
    {
        return Err(AppError::NotFound);
    }
    let settings = db::settings::get(&mut tx).await?;
    let codes = db::codes::list(
        &mut tx,
        &db::codes::CodeFilter {
            vendor: Some(vendor),
            live: true,
            ..Default::default()
        },
    )
    .await?;
    let categories: Vec<Category> = codes.iter().map(|c| c.category).collect();
    let needed = required(&categories);
    let held = db::credentials::for_vendor(&mut tx, vendor).await?;
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let h = held.iter().find(|c| c.kind == kind);
        let is_required = needed.contains(&kind);
        if h.is_none() && !is_required {
            continue;
        }
        let expiring = h
            .and_then(|c| c.expires_on)
            .is_some_and(|e| e >= today && e < today + chrono::Duration::days(i64::from(settings.expiry_warning_days)));
        out.push(CredentialView {
            kind,
            required: is_required,
            number: h
                .map(|c| nightmarket_domain::identity::mask_licence(&c.number))
                .filter(|n| !n.is_empty()),
            expires_on: h.and_then(|c| c.expires_on),
            status: h.map(|c| c.status),
            reason: h.map(|c| c.reason.clone()).unwrap_or_default(),
            expiring,
            disputable: h.is_some_and(|c| c.status == Status::Invalid && c.source == Source::External),
        });
    }
    Ok(out)
}

/// At approval: the licences the application carried become the vendor's credentials (a
/// credential an authority reported invalid stays invalid until the authority says otherwise).
pub async fn from_application(tx: &mut TenantTx, app: &db::applications::ApplicationRow) -> AppResult<()> {
    let held = db::credentials::for_vendor(tx, app.vendor_id).await?;
    for (kind, number, expires) in [
        (Kind::Health, &app.health_cert_no, app.health_cert_expires),
        (Kind::FoodLicence, &app.food_licence_no, app.food_licence_expires),
    ] {
        let invalid = held.iter().any(|h| h.kind == kind && h.status == Status::Invalid);
        if let (Some(n), Some(e), false) = (number, expires, invalid) {
            db::credentials::upsert(
                tx,
                app.vendor_id,
                kind,
                Some(n),
                Some(e),
                Status::Valid,
                "",
                Source::Application,
            )
            .await?;
        }
    }
    Ok(())
}

/// A vendor uploads a renewed credential with a photo of it; officials check it.
pub async fn renew(
    ctx: &Ctx,
    vendor: &Actor,
    kind: &str,
    number: &str,
    expires_on: &str,
    document: &[u8],
) -> AppResult<Uuid> {
    vendor.require_vendor()?;
    let today = supervision::local_date(ctx.clock.now(), vendor.tenant.timezone);
    let mut errors = Vec::new();
    let kind = Kind::parse(kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "credential.kind_unknown"));
    }
    let number = number.trim().to_ascii_uppercase();
    if !(4..=40).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        errors.push(FieldError::new("number", "application.licence_number"));
    }
    let expires = NaiveDate::parse_from_str(expires_on.trim(), "%Y-%m-%d").ok();
    match expires {
        None => errors.push(FieldError::new("expires_on", "application.date_format")),
        Some(d) if d < today => errors.push(FieldError::with(
            "expires_on",
            Msg::new("application.expired").arg("date", d),
        )),
        _ => {}
    }
    let content_type = crate::applications::sniff(document);
    if document.is_empty() || document.len() > crate::applications::MAX_DOCUMENT_BYTES || content_type.is_none() {
        errors.push(FieldError::new("file", "document.type_or_size"));
    }
    check(errors)?;
    let (Some(kind), Some(expires), Some(content_type)) = (kind, expires, content_type) else {
        return Err(AppError::Validation(vec![]));
    };
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let id = Uuid::new_v4();
    let sealed = ctx.keys.seal(
        &Place {
            tenant: tx.tenant(),
            table: "credential_renewals",
            column: "document_enc",
            row: id,
        },
        document,
    );
    db::credentials::insert_renewal(&mut tx, id, vendor.id, kind, &number, expires, content_type, &sealed).await?;
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("credential.renewal", "user", vendor.id)
            .after(&serde_json::json!({ "renewal": id, "kind": kind, "expires_on": expires })),
    )
    .await?;
    live::notify_staff_args(
        &mut tx,
        ctx.clock.now(),
        None,
        NoticeKind::RenewalFiled,
        Args::default()
            .text("vendor", &vendor.display_name)
            .label("credential", kind.label_key()),
        Some("/official/renewals"),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An official accepts a renewal (the credential becomes valid until the new date) or refuses it.
pub async fn decide_renewal(
    ctx: &Ctx,
    official: &Actor,
    id: Uuid,
    accept: bool,
    note: &str,
) -> AppResult<Vec<ColourChange>> {
    official.require(Permission::Review)?;
    let note = note.trim();
    if !accept && note.chars().count() < 2 {
        return Err(AppError::field("note", "credential.refusal_note"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if db::credentials::renewals(&mut tx, None, false, Some(id))
        .await?
        .is_empty()
    {
        return Err(AppError::NotFound);
    }
    let state_name = if accept {
        RenewalState::Accepted
    } else {
        RenewalState::Refused
    };
    let renewal = db::credentials::decide_renewal(&mut tx, id, state_name, official.id, note)
        .await?
        .ok_or(AppError::Conflict(Msg::new("credential.renewal_decided")))?;
    let mut changes = Vec::new();
    let actor = Author::of(official);
    if accept {
        db::credentials::lock_vendor(&mut tx, renewal.vendor_id).await?;
        db::credentials::upsert(
            &mut tx,
            renewal.vendor_id,
            renewal.kind,
            Some(&renewal.number),
            Some(renewal.expires_on),
            Status::Valid,
            "",
            Source::Renewal,
        )
        .await?;
        let settings: Settings = db::settings::get(&mut tx).await?;
        changes = supervision::sync_vendor(
            &mut tx,
            &ctx.keys,
            &actor,
            renewal.vendor_id,
            now,
            official.tenant.timezone,
            &settings,
        )
        .await?;
    }
    audit::record(
        &mut tx,
        &actor,
        Change::new(
            if accept {
                "credential.renewal_accept"
            } else {
                "credential.renewal_refuse"
            },
            "user",
            renewal.vendor_id,
        )
        .after(
            &serde_json::json!({ "renewal": id, "kind": renewal.kind, "expires_on": renewal.expires_on, "note": note }),
        ),
    )
    .await?;
    let kind = renewal.kind;
    let verdict = if accept {
        "credential.accepted"
    } else {
        "credential.refused"
    };
    notices::notify_args(
        &mut tx,
        &ctx.keys,
        renewal.vendor_id,
        NoticeKind::RenewalDecided,
        Args::default()
            .label("credential", kind.label_key())
            .label("verdict", verdict)
            .text("note", note),
        Some("/vendor"),
    )
    .await?;
    tx.commit().await?;
    Ok(changes)
}

/// Renewals for officials who review: pending ones first (oldest first), then the decided.
pub async fn renewals(ctx: &Ctx, official: &Actor, pending_only: bool) -> AppResult<Vec<db::credentials::RenewalRow>> {
    official.require(Permission::Review)?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let mut list = db::credentials::renewals(&mut tx, None, pending_only, None).await?;
    let pending = list.iter().take_while(|r| r.state.is_pending()).count();
    list[..pending].reverse();
    Ok(list)
}

/// The vendor's own renewals, newest first.
pub async fn my_renewals(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<db::credentials::RenewalRow>> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    Ok(db::credentials::renewals(&mut tx, Some(vendor.id), false, None).await?)
}

/// A renewal's document (officials who review, audited; or the vendor who sent it).
pub async fn renewal_document(ctx: &Ctx, user: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let (vendor, content_type, sealed) = db::credentials::renewal_document(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if user.id != vendor {
        if !user.role.is_staff() {
            return Err(AppError::NotFound);
        }
        user.require(Permission::Review)?;
    }
    let bytes = ctx.keys.open_stored(
        &Place {
            tenant: tx.tenant(),
            table: "credential_renewals",
            column: "document_enc",
            row: id,
        },
        &sealed,
    )?;
    if user.role.is_staff() {
        audit::record(
            &mut tx,
            &Author::of(user),
            Change::new("credential.view_renewal", "user", vendor),
        )
        .await?;
        tx.commit().await?;
    }
    Ok((content_type, bytes))
}

/// An API key as admins see it (the secret is never shown again).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: Uuid,
    pub key_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn api_keys(ctx: &Ctx, admin: &Actor) -> AppResult<Vec<ApiKey>> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    Ok(db::credentials::api_keys(&mut tx)
        .await?
        .into_iter()
        .map(|k| ApiKey {
            id: k.id,
            key_id: k.key_id,
            name: k.name,
            created_at: k.created_at,
            revoked: k.revoked_at.is_some(),
            last_used_at: k.last_used_at,
        })
        .collect())
}

/// Makes a key for an external system; its secret is returned this once.
pub async fn create_api_key(
    tx: &mut TenantTx,
    keys: &crate::secrets::Keys,
    actor: &Author,
    name: &str,
) -> AppResult<(ApiKey, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::Validation(vec![FieldError::with(
            "name",
            Msg::new("form.length_between").arg("min", 1).arg("max", 60),
        )]));
    }
    let id = Uuid::new_v4();
    let key_id = format!("nmk_{}", crate::secrets::random_base32(16));
    let secret = hex::encode(random_bytes::<32>());
    let sealed = keys.seal_str(&secret_place(tx, id), &secret);
    db::credentials::insert_api_key(tx, id, &key_id, name, &sealed, actor.id).await?;
    audit::record(
        tx,
        actor,
        Change::new("api_key.create", "api_key", &key_id).after(&serde_json::json!({ "name": name })),
    )
    .await?;
    let row = db::credentials::api_key(tx, &key_id).await?.ok_or(AppError::NotFound)?;
    Ok((
        ApiKey {
            id,
            key_id,
            name: row.name,
            created_at: row.created_at,
            revoked: false,
            last_used_at: None,
        },
        secret,
    ))
}

/// Checks a key presented whole, as Open311's `api_key` parameter carries it: `{key_id}.{secret}`.
/// Every failure reads the same (403 at the caller).
pub async fn check_plain_key(tx: &mut TenantTx, keys: &crate::secrets::Keys, presented: &str) -> AppResult<Uuid> {
    let rejected = || AppError::ApiKey(Msg::new("api_key.unknown"));
    let (key_id, secret) = presented.trim().split_once('.').ok_or_else(rejected)?;
    let key = db::credentials::api_key(tx, key_id)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(rejected)?;
    let stored = keys
        .open_str(&secret_place(tx, key.id), &key.secret_enc)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("api key {}: {e}", key.key_id)))?;
    if !crate::otp::constant_time_eq(stored.as_bytes(), secret.as_bytes()) {
        return Err(rejected());
    }
    db::credentials::touch_api_key(tx, key.id).await?;
    Ok(key.id)
}

pub async fn new_api_key(ctx: &Ctx, admin: &Actor, name: &str) -> AppResult<(ApiKey, String)> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let created = create_api_key(&mut tx, &ctx.keys, &Author::of(admin), name).await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn revoke_api_key(ctx: &Ctx, admin: &Actor, id: Uuid) -> AppResult<()> {
    admin.require_admin()?;
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    if !db::credentials::revoke_api_key(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("api_key.revoke", "api_key", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let s = signature("secret", "1700000000", b"{\"a\":1}");
        assert_eq!(s.len(), 64);
        assert!(signature_ok("secret", "1700000000", b"{\"a\":1}", &s));
        assert!(!signature_ok("secret", "1700000001", b"{\"a\":1}", &s));
        assert!(!signature_ok("secret", "1700000000", b"{\"a\":2}", &s));
        assert!(!signature_ok("other", "1700000000", b"{\"a\":1}", &s));
        assert!(!signature_ok("secret", "1700000000", b"{\"a\":1}", "zz"));
    }
}
