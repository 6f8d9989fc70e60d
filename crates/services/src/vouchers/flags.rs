//! Fraud flags: patterns in redemptions worth an official's look, and their dismissal.

use super::*;

/// A pattern worth an official's look, with the redemptions behind it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Flag {
    /// same_pair, near_threshold, vendor_shopper, refused_attempts or burst.
    pub kind: String,
    pub shopper: Option<String>,
    pub stall: Option<String>,
    pub code_id: Option<Uuid>,
    pub count: i64,
    /// For refused attempts: why they were refused (locale keys).
    pub reasons: Vec<String>,
    pub evidence: Vec<Redemption>,
    /// Names the flag by its evidence (so new uses extending the pattern raise it again).
    pub key: String,
    /// An official's dismissal of it.
    pub dismissed: Option<FlagDismissal>,
}

/// Why an official dismissed a flag, who, and when.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagDismissal {
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A flag's name: a hash of its kind, its subject and the uses (or count) behind it.
pub fn flag_key(f: &db::vouchers::FlagRow) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<String> = f.redemption_ids.iter().map(Uuid::to_string).collect();
    ids.sort();
    let text = format!(
        "{}|{}|{}|{}|{}",
        f.kind,
        f.code_id.map(|c| c.to_string()).unwrap_or_default(),
        f.shopper_masked.as_deref().unwrap_or(""),
        f.count,
        ids.join(",")
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub async fn flags(ctx: &Ctx, official: &Actor, campaign: Option<Uuid>) -> AppResult<Vec<Flag>> {
    official.require_staff()?;
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    let settings = db::settings::get(&mut tx).await?;
    let mut out = Vec::new();
    for f in db::vouchers::flags(&mut tx, &settings, campaign).await? {
        let evidence = if f.redemption_ids.is_empty() {
            Vec::new()
        } else {
            db::vouchers::redemptions(
                &mut tx,
                &db::vouchers::RedemptionFilter {
                    ids: f.redemption_ids.clone(),
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(redemption_view)
            .collect()
        };
        out.push(Flag {
            key: flag_key(&f),
            dismissed: None,
            kind: f.kind,
            shopper: f.shopper_masked,
            stall: f.stall_name,
            code_id: f.code_id,
            count: f.count,
            reasons: f.reasons,
            evidence,
        });
    }
    let keys: Vec<String> = out.iter().map(|f| f.key.clone()).collect();
    for r in db::vouchers::flag_reviews(&mut tx, &keys).await? {
        if let Some(f) = out.iter_mut().find(|f| f.key == r.flag_key) {
            f.dismissed = Some(FlagDismissal {
                reason: r.reason,
                by: r.reviewed_by_name,
                at: r.reviewed_at,
            });
        }
    }
    // Those still to look at first.
    out.sort_by_key(|f| f.dismissed.is_some());
    Ok(out)
}

/// An official who looked at a flag and found nothing wrong dismisses it, with a reason (2–200
/// characters), audited. The flag must be one the rules raise now.
pub async fn dismiss_flag(ctx: &Ctx, official: &Actor, key: &str, reason: &str) -> AppResult<()> {
    official.require_staff()?;
    let reason = reason.trim();
    if !(2..=200).contains(&reason.chars().count()) {
        return Err(AppError::Validation(vec![crate::error::FieldError::with(
            "reason",
            Msg::new("form.length_between").arg("min", 2).arg("max", 200),
        )]));
    }
    let current = flags(ctx, official, None).await?;
    let Some(flag) = current.iter().find(|f| f.key == key) else {
        return Err(AppError::NotFound);
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(official.tenant_id()).await?;
    if !db::vouchers::dismiss_flag(&mut tx, key, reason, official.id, now).await? {
        return Err(AppError::Conflict(Msg::new("voucher_flag.dismissed_already")));
    }
    audit::record(
        &mut tx,
        &Author::of(official),
        Change::new("voucher_flag.dismiss", "voucher_flag", key).after(&serde_json::json!({
            "kind": flag.kind, "stall": flag.stall, "shopper": flag.shopper, "count": flag.count,
            "uses": flag.evidence.iter().map(|r| r.id).collect::<Vec<_>>(), "reason": reason
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
