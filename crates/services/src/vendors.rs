//! Vendors sign up per tenant with a mainland mobile number, verified by an SMS code, and a password.

use std::net::IpAddr;
use uuid::Uuid;

use crate::Ctx;
use crate::access::password;
use crate::accounts::{Session, issue_session, phone_login_key};
use crate::audit::{self, Author, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::notices::user_phone_place;
use crate::otp::{self, Purpose};
use nightmarket_db as db;
use nightmarket_domain::people::{Actor, Phone, Role, check_password};
use nightmarket_domain::tenant::Tenant;

fn phone_or_error(text: &str) -> AppResult<Phone> {
    Phone::parse(text).ok_or_else(|| AppError::field("phone", "phone.invalid"))
}

/// The number and the chosen password (twice), each checked, every problem said at once.
fn phone_and_password(phone: &str, pass: &str, confirm: &str) -> AppResult<Phone> {
    let mut errors = Vec::new();
    let phone = Phone::parse(phone);
    if phone.is_none() {
        errors.push(FieldError::new("phone", "phone.invalid"));
    }
    if let Err(key) = check_password(pass) {
        errors.push(FieldError::with("password", Msg::new(key)));
    } else if pass != confirm {
        errors.push(FieldError::new("confirm_password", "password.mismatch"));
    }
    check(errors)?;
    phone.ok_or_else(|| AppError::Validation(vec![]))
}

/// Step one: a code to the number, unless it is already registered here.
pub async fn request_code(ctx: &Ctx, tenant: &Tenant, phone: &str, client: IpAddr) -> AppResult<Phone> {
    let phone = phone_or_error(phone)?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    if db::users::by_login(&mut tx, &phone_login_key(&ctx.keys, tenant.id, &phone))
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(Msg::new("signup.already_registered")));
    }
    drop(tx);
    otp::send(ctx, tenant, Purpose::VendorSignup, &phone, client).await?;
    Ok(phone)
}

/// Step two: the code, and a password; returns a session for the new vendor.
pub async fn sign_up(
    ctx: &Ctx,
    tenant: &Tenant,
    phone: &str,
    code: &str,
    pass: &str,
    confirm: &str,
) -> AppResult<Session> {
    let phone = phone_and_password(phone, pass, confirm)?;
    let login = phone_login_key(&ctx.keys, tenant.id, &phone);
    {
        let mut tx = ctx.db.tenant(tenant.id).await?;
        if db::users::by_login(&mut tx, &login).await?.is_some() {
            return Err(AppError::Conflict(Msg::new("signup.already_registered")));
        }
    }
    otp::verify(ctx, tenant, Purpose::VendorSignup, &phone, code).await?;

    let hash = password::hash(pass.to_string()).await?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let id = Uuid::new_v4();
    let sealed = ctx.keys.seal_str(&user_phone_place(&tx, id), phone.as_str());
    db::users::insert_vendor(&mut tx, id, &login, &phone.masked(), &hash, &sealed).await?;
    let actor = Author::user(id, format!("vendor:{}", phone.masked()), None);
    audit::record(
        &mut tx,
        &actor,
        Change::new("vendor.sign_up", "user", id)
            .after(&serde_json::json!({ "role": "vendor", "display_name": phone.masked() })),
    )
    .await?;
    let row = db::users::by_id(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    issue_session(ctx, tenant.clone(), &row, Role::Vendor)
}

// ------------------------------------------------------------------------------ forgotten password

/// Step one of a reset: a code to the number of a vendor registered here (the sign-up code's rules
/// and limits).
pub async fn request_reset_code(ctx: &Ctx, tenant: &Tenant, phone: &str, client: IpAddr) -> AppResult<Phone> {
    let phone = phone_or_error(phone)?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let found = db::users::by_login(&mut tx, &phone_login_key(&ctx.keys, tenant.id, &phone)).await?;
    drop(tx);
    // Sign-up already tells whether a number is registered, so saying it here hides nothing.
    if found.is_none_or(|u| u.disabled_at.is_some()) {
        return Err(AppError::field("phone", "reset.not_registered"));
    }
    otp::send(ctx, tenant, Purpose::PasswordReset, &phone, client).await?;
    Ok(phone)
}

/// Step two: the code and a new password. Every other session of the vendor ends (the password
/// change raises the token version); audited; returns a fresh session on this phone.
pub async fn reset_password(
    ctx: &Ctx,
    tenant: &Tenant,
    phone: &str,
    code: &str,
    pass: &str,
    confirm: &str,
) -> AppResult<Session> {
    let phone = phone_and_password(phone, pass, confirm)?;
    let login = phone_login_key(&ctx.keys, tenant.id, &phone);
    otp::verify(ctx, tenant, Purpose::PasswordReset, &phone, code).await?;
    let hash = password::hash(pass.to_string()).await?;
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let user = db::users::by_login(&mut tx, &login)
        .await?
        .filter(|u| u.disabled_at.is_none() && u.role == Role::Vendor)
        .ok_or_else(|| AppError::field("phone", "reset.not_registered"))?;
    db::users::set_password(&mut tx, user.id, &hash, false).await?;
    let actor = Author::user(user.id, format!("vendor:{}", phone.masked()), None);
    audit::record(
        &mut tx,
        &actor,
        Change::new("vendor.password_reset", "user", user.id)
            .after(&serde_json::json!({ "by": "sms_code", "other_sessions_ended": true })),
    )
    .await?;
    let row = db::users::by_id(&mut tx, user.id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    issue_session(ctx, tenant.clone(), &row, Role::Vendor)
}

/// The format of a vendor's copy of their data, named in the copy.
pub const EXPORT_FORMAT: &str = "nightmarket-vendor-export/1";

/// Columns never in a vendor's copy: sealed values (the vendor's own are opened into it, below;
/// documents and photos are listed, their content downloads from the vendor's pages), keyed
/// indexes and hashes (they identify, they do not inform), and other people's data that sits in
/// rows about the vendor (the complainant's number, the shopper who paid, a rater's ticket).
fn withheld(column: &str) -> bool {
    column.ends_with("_enc")
        || column.ends_with("_index")
        || column.ends_with("_hash")
        || column.ends_with("_sha256")
        || matches!(
            column,
            "login" | "shopper_id" | "contact_phone_masked" | "ticket" | "request_key" | "source_ref"
        )
}

/// The vendor's own sealed text values, opened into their copy: (table, column, the row key the
/// seal is bound to, the key that finds the vendor's rows).
const OWN_SEALED: [(&str, &str, &str, &str); 6] = [
    ("users", "phone_enc", "id", "id"),
    ("applications", "real_name_enc", "id", "vendor_id"),
    ("applications", "id_number_enc", "id", "vendor_id"),
    ("applications", "phone_enc", "id", "vendor_id"),
    ("payee_accounts", "holder_enc", "vendor_id", "vendor_id"),
    ("payee_accounts", "account_enc", "vendor_id", "vendor_id"),
];

/// A vendor's copy of everything the platform holds about them (PIPL art. 45), as JSON: their
/// account, every table with rows about them (found in the schema's catalog, so none is missed),
/// their applications' documents (listed) and their inbox, with their own sealed values opened.
/// Audited.
pub async fn export(ctx: &Ctx, vendor: &Actor) -> AppResult<serde_json::Value> {
    use serde_json::{Map, Value, json};
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let mut tables = Map::new();
    let mut plan: Vec<(String, String, Vec<String>)> = vec![(
        "users".to_string(),
        "id".to_string(),
        vec![
            "password_hash".into(),
            "token_version".into(),
            "login".into(),
            "phone_enc".into(),
        ],
    )];
    for t in db::export::vendor_tables(&mut tx).await? {
        let drop = t.columns.iter().filter(|c| withheld(c)).cloned().collect();
        plan.push((t.name, "vendor_id".to_string(), drop));
    }
    plan.push(("notifications".into(), "user_id".into(), Vec::new()));
    for (table, key, drop) in &plan {
        let rows = db::export::rows(&mut tx, table, key, vendor.id, drop).await?;
        tables.insert(table.clone(), rows);
    }
    // The documents of the vendor's applications, listed.
    let applications: Vec<Uuid> = tables
        .get("applications")
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    r.get("id")
                        .and_then(Value::as_str)
                        .and_then(|s| Uuid::parse_str(s).ok())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut documents = Vec::new();
    for app in applications {
        let listed = db::export::rows(
            &mut tx,
            "application_documents",
            "application_id",
            app,
            &["data_enc".to_string()],
        )
        .await?;
        if let Value::Array(rows) = listed {
            documents.extend(rows);
        }
    }
    tables.insert("application_documents".into(), Value::Array(documents));
    // The vendor's own sealed values, opened into their rows under the column's name without
    // `_enc`; one that does not open is an error, never left out.
    for (table, column, row_key, key) in OWN_SEALED {
        let sealed = db::export::sealed(&mut tx, table, column, row_key, key, vendor.id).await?;
        for (row, value) in sealed {
            let place = crate::pii::Place {
                tenant: vendor.tenant_id(),
                table,
                column,
                row,
            };
            let clear = ctx
                .keys
                .open_str(&place, &value)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{table}.{column} of {row}: {e}")))?;
            let field = column.trim_end_matches("_enc");
            if let Some(Value::Array(rows)) = tables.get_mut(table) {
                for r in rows.iter_mut() {
                    if r.get(row_key).and_then(Value::as_str) == Some(row.to_string().as_str())
                        && let Value::Object(o) = r
                    {
                        o.insert(field.to_string(), Value::String(clear.clone()));
                    }
                }
            }
        }
    }
    let counts: Map<String, Value> = tables
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.as_array().map_or(0, Vec::len))))
        .collect();
    audit::record(
        &mut tx,
        &Author::of(vendor),
        Change::new("vendor.export", "user", vendor.id).after(&json!({ "rows": counts })),
    )
    .await?;
    tx.commit().await?;
    Ok(json!({
        "format": EXPORT_FORMAT,
        "exported_at": now,
        "tenant": { "slug": vendor.tenant.slug, "name": vendor.tenant.name },
        "vendor_id": vendor.id,
        "about": "Everything this platform holds about you, table by table (PIPL art. 45). Documents and photos are listed; download them from your pages. Other people's data in these rows (a complainant's number, a shopper's identity) is left out.",
        "tables": tables,
    }))
}
