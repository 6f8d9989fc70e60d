//! Credit records (信用记录): a vendor picks what to share and for how long; the platform writes
//! the facts it holds into a JSON document, signs it with the tenant's code key and gives it a
//! short verification code. Anyone can check it at `/verify/{code}` (which also learns of a
//! revocation) or offline against the tenant's published keys (domain::record::check).

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;
use crate::audit::Author;
use crate::audit::{self, Change};
use crate::codes;
use crate::error::{AppError, AppResult, FieldError, Msg, check};
use nightmarket_db::credit::{NewRecord, RecordRow};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::people::Actor;
use nightmarket_domain::record::{
    self, Complaints, Credential, EXPIRY_DAYS, Inspections, MonthRatings, MonthScore, Payload, SECTIONS, Score,
    SignedRecord, Stall, StallScore, Standing, Trading, Vendor, Vouchers,
};
use nightmarket_domain::tenant::Tenant;

/// What a vendor asks for.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CreditRecordRequest))]
pub struct IssueRequest {
    /// Any of trading, score, complaints, inspections, credentials, vouchers (at least one).
    #[serde(default)]
    pub sections: Vec<String>,
    /// Valid for this many days: 7, 30, 90, 180 or 365.
    pub days: i64,
}

/// A record as its vendor sees it in their list.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CreditRecordView))]
pub struct RecordView {
    pub id: Uuid,
    /// The verification code as shown (`nanan-7K3F-9QX2-M4AB`).
    pub code: String,
    /// Where anyone can check it.
    pub verify_url: String,
    pub sections: Vec<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub standing: Standing,
}

fn view(ctx: &Ctx, tenant: &Tenant, r: &RecordRow, now: DateTime<Utc>) -> RecordView {
    let code = record::display_code(&tenant.slug, &r.code);
    RecordView {
        id: r.id,
        verify_url: verify_url(ctx, &code),
        code,
        sections: r.sections.clone(),
        issued_at: r.issued_at,
        expires_at: r.expires_at,
        revoked_at: r.revoked_at,
        standing: standing_of(r, now),
    }
}

fn standing_of(r: &RecordRow, now: DateTime<Utc>) -> Standing {
    if r.revoked_at.is_some() {
        Standing::Revoked
    } else if r.expires_at <= now {
        Standing::Expired
    } else {
        Standing::Valid
    }
}

pub fn verify_url(ctx: &Ctx, code: &str) -> String {
    let base = ctx.public_url.as_str().trim_end_matches('/');
    format!("{base}/verify/{code}")
}

/// The vendor's records, newest first.
pub async fn list(ctx: &Ctx, vendor: &Actor) -> AppResult<Vec<RecordView>> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let rows = db::credit::for_vendor(&mut tx, vendor.id).await?;
    Ok(rows.iter().map(|r| view(ctx, &vendor.tenant, r, now)).collect())
}

/// One of the vendor's records with its signed document (another vendor's is not found).
pub async fn get(ctx: &Ctx, vendor: &Actor, id: Uuid) -> AppResult<(RecordView, SignedRecord, Payload)> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = db::credit::get(&mut tx, id)
        .await?
        .filter(|r| r.vendor_id == vendor.id)
        .ok_or(AppError::NotFound)?;
    let payload: Payload = serde_json::from_str(&row.payload)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("credit record {id}: stored payload unreadable: {e}")))?;
    Ok((view(ctx, &vendor.tenant, &row, now), signed(&row), payload))
}

fn signed(r: &RecordRow) -> SignedRecord {
    SignedRecord {
        payload: r.payload.clone(),
        kid: r.kid.clone(),
        signature: r.signature.clone(),
    }
}

/// Issues a record: checks the choice, gathers the facts, signs, stores and audits, in one
/// transaction.
pub async fn issue(ctx: &Ctx, vendor: &Actor, req: &IssueRequest) -> AppResult<RecordView> {
    vendor.require_vendor()?;
    let mut errors = Vec::new();
    let mut sections: Vec<String> = Vec::new();
    for s in &req.sections {
        if !SECTIONS.contains(&s.as_str()) {
            errors.push(FieldError::with(
                "sections",
                Msg::new("credit.section_unknown").arg("section", s),
            ));
        } else if !sections.contains(s) {
            sections.push(s.clone());
        }
    }
    if req.sections.is_empty() {
        errors.push(FieldError::new("sections", "credit.sections_required"));
    }
    if !EXPIRY_DAYS.contains(&req.days) {
        errors.push(FieldError::new("days", "credit.days_invalid"));
    }
    check(errors)?;
    // In the order they are listed, whatever order they were ticked in.
    sections.sort_by_key(|s| SECTIONS.iter().position(|x| x == s));

    let now = ctx.clock.now();
    let tenant = &vendor.tenant;
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let id = issue_in(
        &mut tx,
        &ctx.keys,
        tenant,
        &Author::of(vendor),
        vendor.id,
        &sections,
        req.days,
        now,
    )
    .await?;
    let row = db::credit::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(view(ctx, tenant, &row, now))
}

/// Issues a record of `vendor` with the (checked) sections, valid `days`, in the caller's
/// transaction: gathers the facts, signs them with the tenant's key, stores and audits.
#[allow(clippy::too_many_arguments)]
pub async fn issue_in(
    tx: &mut TenantTx,
    keys: &crate::secrets::Keys,
    tenant: &Tenant,
    actor: &audit::Author,
    vendor: Uuid,
    sections: &[String],
    days: i64,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let stalls = db::credit::stalls(tx, vendor).await?;
    if stalls.is_empty() {
        return Err(AppError::field("sections", "credit.no_stall"));
    }
    let id = Uuid::new_v4();
    let code = record::new_code(crate::secrets::random_bytes());
    let expires_at = now + Duration::days(days);
    let payload = gather(tx, tenant, vendor, sections, &code, now, expires_at).await?;
    let payload =
        serde_json::to_string(&payload).map_err(|e| AppError::Internal(anyhow::anyhow!("credit record: {e}")))?;
    let key = codes::signing_key(tx, keys, tenant, actor).await?;
    let signature = codes::sign_message(tx, keys, &key, &record::signed_message(&key.kid, &payload))?;
    db::credit::insert(
        tx,
        &NewRecord {
            id,
            vendor_id: vendor,
            code: &code,
            sections,
            payload: &payload,
            kid: &key.kid,
            signature: &signature,
            issued_at: now,
            expires_at,
        },
    )
    .await?;
    audit::record(
        tx,
        actor,
        Change::new("credit_record.issue", "credit_record", id).after(&serde_json::json!({
            "vendor": vendor, "code": record::display_code(&tenant.slug, &code), "sections": sections,
            "expires_at": expires_at, "kid": key.kid
        })),
    )
    .await?;
    Ok(id)
}

/// Revokes one of the vendor's records: from now on `/verify` says so. Revoking twice changes
/// nothing.
pub async fn revoke(ctx: &Ctx, vendor: &Actor, id: Uuid) -> AppResult<RecordView> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let row = db::credit::get(&mut tx, id)
        .await?
        .filter(|r| r.vendor_id == vendor.id)
        .ok_or(AppError::NotFound)?;
    if db::credit::revoke(&mut tx, id, now).await? {
        audit::record(
            &mut tx,
            &Author::of(vendor),
            Change::new("credit_record.revoke", "credit_record", id)
                .before(&serde_json::json!({ "revoked_at": null }))
                .after(&serde_json::json!({ "code": record::display_code(&vendor.tenant.slug, &row.code), "revoked_at": now })),
        )
        .await?;
    }
    let row = db::credit::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(view(ctx, &vendor.tenant, &row, now))
}

/// The facts of the chosen sections.
async fn gather(
    tx: &mut TenantTx,
    tenant: &Tenant,
    vendor: Uuid,
    sections: &[String],
    code: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> AppResult<Payload> {
    let chose = |s: &str| sections.iter().any(|x| x == s);
    let today = now.with_timezone(&tenant.timezone).date_naive();
    let year_ago = today.checked_sub_months(Months::new(12)).unwrap_or(today);
    let since_month = NaiveDate::from_ymd_opt(year_ago.year(), year_ago.month(), 1).unwrap_or(year_ago);
    let identity = db::credit::identity(tx, vendor).await?;
    let stalls = db::credit::stalls(tx, vendor).await?;
    let local = |t: DateTime<Utc>| t.with_timezone(&tenant.timezone).date_naive();
    let first = stalls.iter().map(|s| local(s.since)).min().unwrap_or(today);

    let trading = if chose("trading") {
        let n = db::credit::nights(tx, vendor, year_ago).await?;
        Some(Trading {
            first_code_on: first,
            months_trading: months_between(first, today),
            nights_checked_in: n.total,
            nights_late: n.late,
            nights_last_12_months: n.recent,
        })
    } else {
        None
    };
    let score = if chose("score") {
        let months = db::credit::rating_months(tx, vendor, since_month).await?;
        let history = db::credit::score_months(tx, vendor, since_month).await?;
        Some(Score {
            current: stalls
                .iter()
                .filter(|s| s.live)
                .map(|s| StallScore {
                    stall: s.stall_name.clone(),
                    score: s.score,
                })
                .collect(),
            ratings_by_month: months
                .into_iter()
                .map(|m| MonthRatings {
                    average: nightmarket_domain::figures::fixed2(m.stars, m.ratings).unwrap_or_default(),
                    month: m.month,
                    ratings: m.ratings,
                })
                .collect(),
            history: history
                .into_iter()
                .map(|h| MonthScore {
                    stall: h.stall_name,
                    month: h.month,
                    score: h.score,
                })
                .collect(),
        })
    } else {
        None
    };
    let complaints = if chose("complaints") {
        let c = db::credit::complaints(tx, vendor).await?;
        Some(Complaints {
            received: c.received,
            upheld: c.upheld,
            not_upheld: c.not_upheld,
            open: c.open,
        })
    } else {
        None
    };
    let inspections = if chose("inspections") {
        let i = db::credit::inspections(tx, vendor).await?;
        Some(Inspections {
            total: i.total,
            passed: i.passed,
            failed: i.total - i.passed,
            penalty_points: i.points,
            points_cancelled_on_appeal: i.points_cancelled,
        })
    } else {
        None
    };
    let credentials = if chose("credentials") {
        Some(
            db::credentials::for_vendor(tx, vendor)
                .await?
                .into_iter()
                .map(|c| Credential {
                    kind: c.kind,
                    status: c.status,
                    expires_on: c.expires_on,
                })
                .collect(),
        )
    } else {
        None
    };
    let vouchers = if chose("vouchers") {
        let v = db::credit::vouchers(tx, vendor).await?;
        Some(Vouchers {
            redemptions: v.redemptions,
            subsidy_fen: v.subsidy_fen,
            consumption_fen: v.consumption_fen,
        })
    } else {
        None
    };
    Ok(Payload {
        v: 1,
        tenant: tenant.slug.clone(),
        issuer: tenant.name.clone(),
        code: record::display_code(&tenant.slug, code),
        issued_at: now,
        expires_at,
        vendor: Vendor {
            name_masked: identity.name_masked.unwrap_or_default(),
            id_number_masked: identity.id_number_masked.unwrap_or_default(),
        },
        stalls: stalls
            .iter()
            .map(|s| Stall {
                name: s.stall_name.clone(),
                category: s.category.clone(),
                market: s.market_name.clone(),
                since: local(s.since),
                live: s.live,
            })
            .collect(),
        trading,
        score,
        complaints,
        inspections,
        credentials,
        vouchers,
    })
}

/// Whole months from `from` to `to` (a month counts once its day of the month is reached).
pub fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let months = (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(to.month()) - i64::from(from.month());
    if to.day() < from.day() {
        (months - 1).max(0)
    } else {
        months.max(0)
    }
}

/// What `/verify/{code}` shows.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CreditRecordVerification))]
pub struct Verification {
    pub standing: Standing,
    /// The verification code as shown.
    pub code: String,
    /// The tenant that issued it.
    pub issuer: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// What the vendor shared; only while the record is valid.
    pub record: Option<Payload>,
    /// The signed document (for checking offline); only while the record is valid.
    pub signed: Option<SignedRecord>,
}

/// Looks a verification code up and checks the record: its signature against the tenant's key,
/// its expiry and whether it was revoked. An unknown or malformed code is not found.
pub async fn verify(ctx: &Ctx, text: &str) -> AppResult<Verification> {
    let (slug, code) = record::parse_code(text).ok_or(AppError::NotFound)?;
    let tenant = ctx.tenants.require(&ctx.db, &slug).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let row = db::credit::by_code(&mut tx, &code).await?.ok_or(AppError::NotFound)?;
    let key = db::codes::key_by_kid(&mut tx, &row.kid)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    let signed = signed(&row);
    let (mut standing, payload) = record::check(&signed, &key.public_key, now);
    if standing != Standing::Forged && row.revoked_at.is_some() {
        standing = Standing::Revoked;
    }
    let shown = standing == Standing::Valid;
    Ok(Verification {
        standing,
        code: record::display_code(&tenant.slug, &row.code),
        issuer: tenant.name.clone(),
        issued_at: row.issued_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        record: payload.filter(|_| shown),
        signed: shown.then_some(signed),
    })
}

/// Checks a signed record offline against a tenant's key document (`/t/{tenant}/code-key`):
/// what `nightmarket record verify` does. Revocation cannot be known offline.
pub fn verify_offline(
    signed: &SignedRecord,
    doc: &codes::KeyDocument,
    now: DateTime<Utc>,
) -> Result<(Standing, Payload), &'static str> {
    if nightmarket_domain::code::tenant_of_kid(&signed.kid) != Some(doc.tenant.as_str()) {
        return Err("the record names a key of another tenant");
    }
    let key = doc
        .keys
        .iter()
        .find(|k| k.kid == signed.kid)
        .ok_or("the record names a key this tenant never published")?;
    let public = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &key.public_key)
        .map_err(|_| "the published key is not base64")?;
    match record::check(signed, &public, now) {
        (Standing::Forged, _) | (_, None) => Err("the signature does not verify"),
        (standing, Some(payload)) => Ok((standing, payload)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_months() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(months_between(d(2025, 11, 21), d(2026, 11, 21)), 12);
        assert_eq!(months_between(d(2025, 11, 22), d(2026, 11, 21)), 11);
        assert_eq!(months_between(d(2026, 11, 1), d(2026, 11, 21)), 0);
        assert_eq!(months_between(d(2026, 11, 21), d(2026, 11, 1)), 0);
    }
}
