//! Shoppers signing in with a verified number, and the vouchers they hold.

use super::*;

fn phone_place(tenant: TenantId, shopper: Uuid) -> Place<'static> {
    Place {
        tenant,
        table: "shoppers",
        column: "phone_enc",
        row: shopper,
    }
}

/// Sends a sign-in code to a shopper's number.
pub async fn send_code(ctx: &Ctx, tenant: &Tenant, phone: &str, client: std::net::IpAddr) -> AppResult<Phone> {
    let phone = Phone::parse(phone).ok_or(AppError::field("phone", "phone.invalid"))?;
    otp::send(ctx, tenant, Purpose::Shopper, &phone, client).await?;
    Ok(phone)
}

/// A signed-in shopper: their token (for the cookie or `Authorization: Bearer`) and masked number.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShopperSession {
    pub token: String,
    pub shopper_id: Uuid,
    pub phone_masked: String,
}

/// Checks the code and signs the shopper in, registering the number on first use.
pub async fn sign_in(ctx: &Ctx, tenant: &Tenant, phone: &str, code: &str) -> AppResult<ShopperSession> {
    let phone = Phone::parse(phone).ok_or(AppError::field("phone", "phone.invalid"))?;
    otp::verify(ctx, tenant, Purpose::Shopper, &phone, code).await?;
    let index = ctx.keys.blind_index(tenant.id, "phone", phone.as_str());
    let new_id = Uuid::new_v4();
    let sealed = ctx.keys.seal_str(&phone_place(tenant.id, new_id), phone.as_str());
    let masked = phone.masked();
    let mut tx = ctx.db.tenant(tenant.id).await?;
    let (id, created) = db::vouchers::shopper(&mut tx, &index, new_id, &sealed, &masked).await?;
    if created {
        audit::record(
            &mut tx,
            &shopper_actor(id),
            Change::new("shopper.create", "shopper", id).after(&serde_json::json!({ "phone": masked })),
        )
        .await?;
    }
    tx.commit().await?;
    let token = ctx
        .shopper_keys
        .issue(tenant.id, id, &masked)
        .map_err(AppError::Internal)?;
    Ok(ShopperSession {
        token,
        shopper_id: id,
        phone_masked: masked,
    })
}

pub(super) fn shopper_actor(id: Uuid) -> Author {
    Author {
        kind: ActorKind::Public,
        id: None,
        label: format!("shopper:{id}"),
        request_id: None,
    }
}

/// A shopper's vouchers.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldVoucher {
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// The voucher's number within its campaign.
    pub seq: i32,
    pub value_fen: i32,
    pub threshold_fen: i32,
    pub claimed_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// claimed, used or expired.
    pub status: String,
}

pub async fn mine(ctx: &Ctx, tenant: TenantId, shopper: Uuid) -> AppResult<Vec<HeldVoucher>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant).await?;
    Ok(db::vouchers::of_shopper(&mut tx, shopper)
        .await?
        .into_iter()
        .map(|v| HeldVoucher {
            status: if v.used_at.is_some() {
                "used"
            } else if v.expires_at.is_some_and(|e| e <= now) {
                "expired"
            } else {
                "claimed"
            }
            .into(),
            campaign_id: v.campaign_id,
            campaign_name: v.campaign_name,
            seq: v.seq,
            value_fen: v.value_fen,
            threshold_fen: v.threshold_fen,
            claimed_at: v.claimed_at,
            expires_at: v.expires_at,
        })
        .collect())
}
