//! Campaigns: the terms a tenant admin sets, and the steps of a campaign (publish, pause, end).

use super::*;

/// A campaign as admins and shoppers see it.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: Uuid,
    #[serde(flatten)]
    pub terms: Terms,
    /// As of now (a scheduled campaign inside its claim window is running).
    pub state: State,
    pub claimed: i64,
    pub used: i64,
}

impl Campaign {
    /// Every voucher has been claimed.
    pub fn sold_out(&self) -> bool {
        self.claimed >= self.terms.total
    }

    /// Taking claims now: running, with vouchers left.
    pub fn claimable(&self) -> bool {
        self.state == State::Running && !self.sold_out()
    }

    /// The state as a shopper should read it: a running campaign with nothing left is sold out.
    pub fn shown_state_key(&self) -> &'static str {
        if self.state == State::Running && self.sold_out() {
            "campaign.sold_out"
        } else {
            self.state.label_key()
        }
    }
}

fn view(c: &CampaignRow, now: DateTime<Utc>, claimed: i64, used: i64) -> AppResult<Campaign> {
    Ok(Campaign {
        id: c.id,
        terms: c.terms.clone(),
        state: voucher::effective(c.state, c.terms.claim_start, c.terms.claim_end, now),
        claimed,
        used,
    })
}

/// The terms and state as the audit record keeps them.
fn terms_of(c: &CampaignRow) -> serde_json::Value {
    let mut v = serde_json::json!(c.terms);
    v["state"] = serde_json::json!(c.state);
    v
}

pub(super) async fn load(
    tx: &mut TenantTx,
    id: Uuid,
    lock: bool,
    now: DateTime<Utc>,
) -> AppResult<(CampaignRow, Campaign)> {
    let row = db::vouchers::get(tx, id, lock).await?.ok_or(AppError::NotFound)?;
    let (claimed, used) = db::vouchers::counts(tx, id).await?;
    let v = view(&row, now, claimed, used)?;
    Ok((row, v))
}

/// The campaigns shoppers may see (not drafts).
pub async fn list(ctx: &Ctx, tenant: TenantId) -> AppResult<Vec<Campaign>> {
    campaigns(ctx, tenant, false).await
}

/// Every campaign of the tenant, drafts too (staff).
pub async fn list_all(ctx: &Ctx, staff: &Actor) -> AppResult<Vec<Campaign>> {
    staff.require_staff()?;
    campaigns(ctx, staff.tenant_id(), true).await
}

async fn campaigns(ctx: &Ctx, tenant: TenantId, drafts: bool) -> AppResult<Vec<Campaign>> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(tenant).await?;
    let mut out = Vec::new();
    for c in db::vouchers::list(&mut tx).await? {
        if !drafts && c.state == State::Draft {
            continue;
        }
        let (claimed, used) = db::vouchers::counts(&mut tx, c.id).await?;
        out.push(view(&c, now, claimed, used)?);
    }
    Ok(out)
}

/// A campaign's page as a shopper sees it: the campaign, how many of its vouchers they hold, the
/// names of the markets it names (it naming none: every market) and whether yellow stalls take
/// vouchers. One round trip: it is the page a crowd reloads while it waits for the opening.
pub struct ShopperCampaign {
    pub campaign: Campaign,
    pub held_here: i64,
    pub markets: Vec<String>,
    pub at_yellow: bool,
}

/// A campaign shoppers may see (a draft is not found), as `shopper` (if signed in) sees it.
pub async fn for_shopper(ctx: &Ctx, tenant: TenantId, id: Uuid, shopper: Option<Uuid>) -> AppResult<ShopperCampaign> {
    let now = ctx.clock.now();
    let r = db::vouchers::for_shopper(&ctx.db, tenant, id, shopper)
        .await?
        .ok_or(AppError::NotFound)?;
    if r.campaign.state == State::Draft {
        return Err(AppError::NotFound);
    }
    Ok(ShopperCampaign {
        campaign: view(&r.campaign, now, r.claimed, r.used)?,
        held_here: r.held_here,
        markets: r.markets,
        at_yellow: r
            .vouchers_at_yellow
            .unwrap_or(db::settings::Settings::default().vouchers_at_yellow),
    })
}

/// Any campaign of the tenant, a draft too (staff).
pub async fn get_any(ctx: &Ctx, staff: &Actor, id: Uuid) -> AppResult<Campaign> {
    staff.require_staff()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(staff.tenant_id()).await?;
    let (_, v) = load(&mut tx, id, false, now).await?;
    Ok(v)
}

/// A new campaign, as a draft.
pub async fn create(ctx: &Ctx, admin: &Actor, t: &Terms) -> AppResult<Campaign> {
    admin.require_admin()?;
    t.check().map_err(AppError::Validation)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    check_markets(&mut tx, t).await?;
    let id = db::vouchers::insert(&mut tx, t).await?;
    let (row, v) = load(&mut tx, id, false, now).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("campaign.create", "campaign", id).after(&terms_of(&row)),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

async fn check_markets(tx: &mut TenantTx, t: &Terms) -> AppResult<()> {
    for m in &t.market_ids {
        if db::markets::get(tx, *m).await?.is_none() {
            return Err(AppError::field("market_ids", "campaign.market"));
        }
    }
    Ok(())
}

/// Changes a campaign's terms. Once its claim window has opened (and it is not a draft), its face
/// value, threshold, count and limit are fixed; before that, a scheduled campaign's vouchers are
/// made again to match.
pub async fn update(ctx: &Ctx, admin: &Actor, id: Uuid, t: &Terms) -> AppResult<Campaign> {
    admin.require_admin()?;
    t.check().map_err(AppError::Validation)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    check_markets(&mut tx, t).await?;
    let (before, v) = load(&mut tx, id, true, now).await?;
    let stored = before.state;
    if stored == State::Ended {
        return Err(AppError::Conflict(Msg::new("campaign.ended")));
    }
    let money_changed = before.terms.value_fen != t.value_fen
        || before.terms.threshold_fen != t.threshold_fen
        || before.terms.total != t.total
        || before.terms.per_person != t.per_person;
    let opened = stored != State::Draft && now >= before.terms.claim_start;
    // (Compared to the microsecond, as PostgreSQL keeps times.)
    let start_moved = t.claim_start.timestamp_micros() != before.terms.claim_start.timestamp_micros();
    if opened && (money_changed || start_moved) {
        return Err(AppError::Conflict(Msg::new("campaign.fixed_after_opening")));
    }
    if stored != State::Draft && v.claimed > 0 && money_changed {
        return Err(AppError::Conflict(Msg::new("campaign.fixed_after_opening")));
    }
    db::vouchers::update(&mut tx, id, t).await?;
    if stored != State::Draft && (before.terms.total != t.total || before.terms.per_person != t.per_person) {
        let tenant = tx.tenant().0;
        sqlx::query!(
            "delete from vouchers where tenant_id = $1 and campaign_id = $2 and shopper_id is null",
            tenant,
            id
        )
        .execute(tx.conn())
        .await?;
        db::vouchers::make_vouchers(&mut tx, id, t.total, t.per_person).await?;
    }
    let (after, v) = load(&mut tx, id, false, now).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("campaign.update", "campaign", id)
            .before(&terms_of(&before))
            .after(&terms_of(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// Schedules (making every voucher), pauses, resumes or ends a campaign.
pub async fn step(ctx: &Ctx, admin: &Actor, id: Uuid, step: Step) -> AppResult<Campaign> {
    admin.require_admin()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(admin.tenant_id()).await?;
    let (row, v) = load(&mut tx, id, true, now).await?;
    let Some(next) = voucher::after(v.state, step) else {
        return Err(AppError::Conflict(Msg::new("campaign.step_not_now")));
    };
    if step == Step::Schedule {
        if row.terms.claim_end <= now {
            return Err(AppError::Conflict(Msg::new("campaign.window_passed")));
        }
        db::vouchers::make_vouchers(&mut tx, id, row.terms.total, row.terms.per_person).await?;
    }
    db::vouchers::set_state(&mut tx, id, next).await?;
    audit::record(
        &mut tx,
        &Author::of(admin),
        Change::new("campaign.step", "campaign", id)
            .before(&serde_json::json!({ "state": v.state }))
            .after(&serde_json::json!({ "state": next, "step": step })),
    )
    .await?;
    let (_, v) = load(&mut tx, id, false, now).await?;
    tx.commit().await?;
    ctx.claims.forget(admin.tenant_id(), id);
    Ok(v)
}
