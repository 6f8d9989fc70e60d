//! Campaigns: their terms and state, and the vouchers made for them.

use super::*;

/// A campaign as stored: its terms and where it stands.
#[derive(Clone, Debug)]
pub struct CampaignRow {
    pub id: Uuid,
    pub terms: Terms,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The columns a campaign is read from (each query below selects them), into a [`CampaignRow`].
macro_rules! campaign_row {
    ($r:expr) => {{
        let r = $r;
        CampaignRow {
            id: r.id,
            terms: Terms {
                name: r.name,
                value_fen: i64::from(r.value_fen),
                threshold_fen: i64::from(r.threshold_fen),
                total: i64::from(r.total),
                per_person: i64::from(r.per_person),
                claim_start: r.claim_start,
                claim_end: r.claim_end,
                use_until: r.use_until,
                use_days: r.use_days,
                market_ids: r.market_ids,
                categories: r.categories,
                daily_budget_fen: r.daily_budget_fen,
            },
            state: r.state,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }};
}

pub async fn insert(tx: &mut TenantTx, t: &Terms) -> Result<Uuid, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        "insert into campaigns (tenant_id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end,
                                use_until, use_days, market_ids, categories, daily_budget_fen)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         returning id",
        tenant,
        t.name.trim(),
        t.value_fen as i32,
        t.threshold_fen as i32,
        t.total as i32,
        t.per_person as i16,
        t.claim_start,
        t.claim_end,
        t.use_until,
        t.use_days,
        &t.market_ids,
        &t.categories,
        t.daily_budget_fen
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn update(tx: &mut TenantTx, id: Uuid, t: &Terms) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update campaigns set name = $3, value_fen = $4, threshold_fen = $5, total = $6, per_person = $7,
                claim_start = $8, claim_end = $9, use_until = $10, use_days = $11, market_ids = $12,
                categories = $13, daily_budget_fen = $14, updated_at = now()
         where tenant_id = $1 and id = $2",
        tenant,
        id,
        t.name.trim(),
        t.value_fen as i32,
        t.threshold_fen as i32,
        t.total as i32,
        t.per_person as i16,
        t.claim_start,
        t.claim_end,
        t.use_until,
        t.use_days,
        &t.market_ids,
        &t.categories,
        t.daily_budget_fen
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A campaign, locked for a change when `lock`.
pub async fn get(tx: &mut TenantTx, id: Uuid, lock: bool) -> Result<Option<CampaignRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    if lock {
        sqlx::query!(
            "select 1 as x from campaigns where tenant_id = $1 and id = $2 for update",
            tenant,
            id
        )
        .fetch_optional(tx.conn())
        .await?;
    }
    let row = sqlx::query!(
        r#"select id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end, use_until, use_days,
                market_ids, categories, daily_budget_fen, state as "state: State", created_at, updated_at
         from campaigns where tenant_id = $1 and id = $2"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| campaign_row!(r)))
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<CampaignRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    let rows = sqlx::query!(
        r#"select id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end, use_until, use_days,
                market_ids, categories, daily_budget_fen, state as "state: State", created_at, updated_at
         from campaigns where tenant_id = $1 order by claim_start desc, created_at desc"#,
        tenant
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| campaign_row!(r)).collect())
}

pub async fn set_state(tx: &mut TenantTx, id: Uuid, state: State) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "update campaigns set state = $3, updated_at = now() where tenant_id = $1 and id = $2",
        tenant,
        id,
        state as State
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Makes every voucher of a campaign (once, when it is scheduled).
pub async fn make_vouchers(tx: &mut TenantTx, campaign: Uuid, total: i64, per_person: i64) -> Result<u64, sqlx::Error> {
    let tenant = tx.tenant().0;
    let made = sqlx::query!(
        "insert into vouchers (tenant_id, campaign_id, seq, per_person)
         select $1, $2, s, $4::bigint::smallint from generate_series(1, $3::bigint::int) as s
         on conflict do nothing",
        tenant,
        campaign,
        total,
        per_person
    )
    .execute(tx.conn())
    .await?
    .rows_affected();
    // Fresh statistics before the rush (see migration 0009); the transaction's own new rows count.
    sqlx::query!("select analyze_vouchers()").execute(tx.conn()).await?;
    Ok(made)
}

/// How many of a campaign's vouchers are claimed and used (kept by the database as they change:
/// migration 0018).
pub async fn counts(tx: &mut TenantTx, campaign: Uuid) -> Result<(i64, i64), sqlx::Error> {
    let tenant = tx.tenant().0;
    let r = sqlx::query!(
        r#"select coalesce(sum(claimed), 0)::bigint as "claimed!", coalesce(sum(used), 0)::bigint as "used!"
           from campaign_counts where tenant_id = $1 and campaign_id = $2"#,
        tenant,
        campaign
    )
    .fetch_one(tx.conn())
    .await?;
    Ok((r.claimed, r.used))
}

/// A campaign's page as a shopper sees it ([`for_shopper`]).
#[derive(Clone, Debug)]
pub struct ShopperCampaignRow {
    pub campaign: CampaignRow,
    pub claimed: i64,
    pub used: i64,
    /// What the shopper holds of it (0 for nobody).
    pub held_here: i64,
    /// The names of its markets (none when it names none: every market).
    pub markets: Vec<String>,
    /// The tenant's setting (None: the tenant never saved its settings).
    pub vouchers_at_yellow: Option<bool>,
}

/// A campaign of the tenant (drafts too) as `shopper` sees it, in one round trip (migration 0019).
pub async fn for_shopper(
    db: &crate::Db,
    tenant: nightmarket_domain::tenant::TenantId,
    campaign: Uuid,
    shopper: Option<Uuid>,
) -> Result<Option<ShopperCampaignRow>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id as "id!", name as "name!", value_fen as "value_fen!", threshold_fen as "threshold_fen!",
                  total as "total!", per_person as "per_person!", claim_start as "claim_start!",
                  claim_end as "claim_end!", use_until, use_days, market_ids as "market_ids!",
                  categories as "categories!", daily_budget_fen, state as "state!: State",
                  created_at as "created_at!", updated_at as "updated_at!", claimed as "claimed!",
                  used as "used!", held_here as "held_here!", market_names as "market_names!",
                  vouchers_at_yellow
           from shopper_campaign($1, $2, $3)"#,
        tenant.0,
        campaign,
        shopper
    )
    .fetch_optional(db.global())
    .await?;
    Ok(row.map(|mut r| ShopperCampaignRow {
        claimed: r.claimed,
        used: r.used,
        held_here: r.held_here,
        markets: std::mem::take(&mut r.market_names),
        vouchers_at_yellow: r.vouchers_at_yellow,
        campaign: campaign_row!(r),
    }))
}
