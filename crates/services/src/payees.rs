//! Where a vendor's voucher subsidy is paid: the account holder's name, the bank and the account
//! number. Sealed at rest; every view shows the masks, and only an admin paying the vendor sees
//! them in clear, each time audited (`settlement.reveal`).

use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use crate::pii::Place;
use crate::secrets::Keys;
use nightmarket_db::payees::PayeeRow;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::people::Actor;
use nightmarket_input::bank::{AccountError, AccountNumber};
use nightmarket_input::identity::mask_name;

/// A payee account as a page or the API shows it: masked, or in clear when `revealed`.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payee {
    pub holder: String,
    pub bank: String,
    pub account: String,
    pub revealed: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn place(tx: &TenantTx, vendor: Uuid, column: &'static str) -> Place<'static> {
    Place {
        tenant: tx.tenant(),
        table: "payee_accounts",
        column,
        row: vendor,
    }
}

fn masked(row: &PayeeRow) -> Payee {
    Payee {
        holder: row.holder_masked.clone(),
        bank: row.bank.clone(),
        account: row.account_masked.clone(),
        revealed: false,
        updated_at: row.updated_at,
    }
}

fn opened(tx: &TenantTx, keys: &Keys, row: &PayeeRow) -> AppResult<Payee> {
    let open = |column, sealed: &[u8]| {
        keys.open_str(&place(tx, row.vendor_id, column), sealed)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("payee {} {column}: {e}", row.vendor_id)))
    };
    Ok(Payee {
        holder: open("holder_enc", &row.holder_enc)?,
        account: open("account_enc", &row.account_enc)?,
        revealed: true,
        ..masked(row)
    })
}

/// The vendor's own payee account, masked.
pub async fn own(ctx: &Ctx, vendor: &Actor) -> AppResult<Option<Payee>> {
    vendor.require_vendor()?;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let rows = db::payees::of_vendors(&mut tx, &[vendor.id]).await?;
    Ok(rows.first().map(masked))
}

/// The vendor gives (or changes) where their subsidy is paid.
pub async fn save(ctx: &Ctx, vendor: &Actor, holder: &str, bank: &str, account: &str) -> AppResult<Payee> {
    vendor.require_vendor()?;
    let (holder, bank) = (holder.trim(), bank.trim());
    let mut errors = Vec::new();
    if !(2..=30).contains(&holder.chars().count()) {
        errors.push(FieldError::with(
            "holder",
            Msg::new("form.length_between").arg("min", 2).arg("max", 30),
        ));
    }
    if !(2..=60).contains(&bank.chars().count()) {
        errors.push(FieldError::with(
            "bank",
            Msg::new("form.length_between").arg("min", 2).arg("max", 60),
        ));
    }
    let account = match AccountNumber::parse(account) {
        Ok(a) => Some(a),
        Err(AccountError::NotDigits) => {
            errors.push(FieldError::new("account", "payee.account_digits"));
            None
        }
        Err(AccountError::Length) => {
            errors.push(FieldError::with(
                "account",
                Msg::new("payee.account_length")
                    .arg("min", AccountNumber::MIN_DIGITS)
                    .arg("max", AccountNumber::MAX_DIGITS),
            ));
            None
        }
    };
    check(errors)?;
    let account = account.ok_or_else(|| AppError::field("account", "payee.account_digits"))?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let before = db::payees::of_vendors(&mut tx, &[vendor.id]).await?.first().map(masked);
    let row = PayeeRow {
        vendor_id: vendor.id,
        holder_enc: ctx.keys.seal_str(&place(&tx, vendor.id, "holder_enc"), holder),
        holder_masked: mask_name(holder),
        bank: bank.to_string(),
        account_enc: ctx
            .keys
            .seal_str(&place(&tx, vendor.id, "account_enc"), account.as_str()),
        account_masked: account.masked(),
        updated_at: now,
    };
    db::payees::put(&mut tx, &row).await?;
    let shown = |p: &Payee| serde_json::json!({ "holder": p.holder, "bank": p.bank, "account": p.account });
    let mut change = Change::new("payee.update", "user", vendor.id).after(&shown(&masked(&row)));
    if let Some(b) = &before {
        change = change.before(&shown(b));
    }
    audit::record(&mut tx, &Author::of(vendor), change).await?;
    tx.commit().await?;
    Ok(masked(&row))
}

/// The payee accounts of these vendors, masked, or in clear for an admin who asked (the caller
/// audits that in the same transaction).
pub async fn of_vendors(
    tx: &mut TenantTx,
    keys: &Keys,
    vendors: &[Uuid],
    reveal: bool,
) -> AppResult<HashMap<Uuid, Payee>> {
    let rows = db::payees::of_vendors(tx, vendors).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in &rows {
        let payee = if reveal { opened(tx, keys, row)? } else { masked(row) };
        out.insert(row.vendor_id, payee);
    }
    Ok(out)
}
