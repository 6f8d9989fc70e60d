//! A large, plain data set for load benchmarks (`nightmarket bench-seed`): tenants with one
//! market each and many approved stalls, every one with a real signed code, a vendor and an
//! approved application. No stories; the demo is for people, this is for machines.

use chrono::Utc;
use sqlx::PgPool;

use super::stalls::{Dice, decide, official, person, seed_application, seed_vendor};
use crate::auth::password;
use crate::db::{self, TenantTx};
use crate::domain::market::{Category, MarketDraft};
use crate::domain::tenant::Tenant;
use crate::secrets::{Keys, random_password};
use crate::services::audit::Actor;
use crate::services::tenants::{self, NewTenant};
use crate::services::{codes, supervision};

/// Creates `tenants` tenants (`load-1`, `load-2`, …) sharing `stalls` approved stalls between
/// them, and returns the path and query of every code (what the QR codes open).
pub async fn seed(owner: &PgPool, keys: &Keys, tenant_count: usize, stalls: usize) -> anyhow::Result<Vec<String>> {
    let mut paths = Vec::with_capacity(stalls);
    for t in 0..tenant_count {
        let share = stalls / tenant_count + usize::from(t < stalls % tenant_count);
        let loaded = seed_tenant(
            owner,
            keys,
            &LoadTenant {
                slug: format!("load-{}", t + 1),
                name: format!("压测区 {}", t + 1),
                timezone: "Asia/Shanghai".into(),
                stalls: share,
                opens_at: "18:00".into(),
                closes_at: "02:00".into(),
            },
        )
        .await?;
        paths.extend(loaded.codes.into_iter().map(|(_, path)| path));
    }
    Ok(paths)
}

/// One plain tenant: a market and its approved stalls.
pub struct LoadTenant {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub stalls: usize,
    pub opens_at: String,
    pub closes_at: String,
}

pub struct LoadedTenant {
    pub tenant: Tenant,
    /// The first admin's login is `admin`.
    pub admin_password: String,
    pub market_id: uuid::Uuid,
    /// Every code: its id and the path its QR code opens.
    pub codes: Vec<(uuid::Uuid, String)>,
}

/// Creates a tenant with one market and `stalls` approved stalls (retail), each with a vendor, an
/// approved application and a real signed code.
pub async fn seed_tenant(owner: &PgPool, keys: &Keys, spec: &LoadTenant) -> anyhow::Result<LoadedTenant> {
    let actor = Actor::system("bench-seed");
    let nobody = password::hash(random_password(24)).await?;
    let mut dice = Dice(0x10AD_5EED);
    let created = tenants::create(
        owner,
        &actor,
        NewTenant {
            slug: spec.slug.clone(),
            name: spec.name.clone(),
            timezone: spec.timezone.clone(),
            admin_login: "admin".into(),
            admin_name: "管理员".into(),
        },
        false,
    )
    .await
    .map_err(|e| anyhow::anyhow!("bench tenant: {e}"))?;
    let tenant: Tenant = db::tenants::by_id(owner, created.tenant)
        .await?
        .ok_or_else(|| anyhow::anyhow!("bench tenant vanished"))?;
    let today = Utc::now().with_timezone(&tenant.timezone).date_naive();
    let mut tx = TenantTx::begin(owner, tenant.id).await?;
    let market = MarketDraft {
        name: "压测夜市".into(),
        address: "压测路 1 号".into(),
        description: String::new(),
        center_lat: Some(29.53),
        center_lng: Some(106.57),
        radius_m: Some(800),
        opens_at: spec.opens_at.clone(),
        closes_at: spec.closes_at.clone(),
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("bench market: {e:?}"))?;
    let market_id = db::markets::insert(&mut tx, &market).await?;
    let slots: Vec<(String, Category)> = (1..=spec.stalls)
        .map(|i| (format!("L{i:05}"), Category::Retail))
        .collect();
    let slots = db::markets::insert_slots(&mut tx, market_id, &slots).await?;
    tx.commit().await?;
    let mut codes_made = Vec::with_capacity(spec.stalls);
    // Vendors in batches, a transaction each.
    for batch in slots.chunks(500) {
        let mut tx = TenantTx::begin(owner, tenant.id).await?;
        let reviewer = official(&mut tx).await?;
        let settings = db::settings::get(&mut tx).await?;
        for slot in batch {
            let p = person(&mut dice, "500108", today);
            let vendor = seed_vendor(&mut tx, keys, &actor, &tenant, &p, &nobody).await?;
            let name = format!("{}记小铺 {}", p.name.chars().next().unwrap_or('张'), slot.code);
            let app = seed_application(
                &mut tx,
                keys,
                &tenant,
                vendor,
                market_id,
                slot.id,
                Category::Retail,
                &name,
                "日用百货",
                &p,
                today,
            )
            .await?;
            db::applications::submit(&mut tx, app, "submitted", (29.53, 106.57, Some(15.0), 10.0)).await?;
            decide(&mut tx, app, "approved", reviewer, None, serde_json::json!({})).await?;
            let code = codes::issue(
                &mut tx,
                keys,
                &tenant,
                &actor,
                codes::Issue {
                    vendor_id: vendor,
                    application_id: app,
                    market_id,
                    slot_id: slot.id,
                    stall_name: &name,
                    category: Category::Retail.as_str(),
                    vendor_name_masked: &crate::domain::identity::mask_name(&p.name),
                    licence_facts: serde_json::json!({}),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("bench code: {e}"))?;
            supervision::sync_vendor(&mut tx, keys, &actor, vendor, Utc::now(), tenant.timezone, &settings)
                .await
                .map_err(|e| anyhow::anyhow!("bench score: {e}"))?;
            codes_made.push((code.id, codes::url_path(&code)));
        }
        tx.commit().await?;
    }
    Ok(LoadedTenant {
        tenant,
        admin_password: created.admin_password,
        market_id,
        codes: codes_made,
    })
}

/// A voucher rush: tenant `flash`, one campaign of `vouchers` (one per person) opening `opens_in`
/// seconds from now, and `shoppers` verified shoppers (sealed numbers, blind indexes). Returns the
/// campaign id and a session token per shopper.
pub async fn seed_flash(
    owner: &PgPool,
    keys: &Keys,
    vouchers: i64,
    shoppers: usize,
    opens_in: i64,
) -> anyhow::Result<(uuid::Uuid, Vec<String>)> {
    use crate::domain::voucher::Terms;
    let actor = Actor::system("bench-seed");
    let created = tenants::create(
        owner,
        &actor,
        NewTenant {
            slug: "flash".into(),
            name: "消费券压测区".into(),
            timezone: "Asia/Shanghai".into(),
            admin_login: "admin".into(),
            admin_name: "管理员".into(),
        },
        false,
    )
    .await
    .map_err(|e| anyhow::anyhow!("flash tenant: {e}"))?;
    let tenant = created.tenant;
    let start = Utc::now() + chrono::Duration::seconds(opens_in);
    let terms = Terms {
        name: "压测消费券".into(),
        value_fen: 1000,
        threshold_fen: 5000,
        total: vouchers,
        per_person: 1,
        claim_start: start,
        claim_end: start + chrono::Duration::hours(2),
        use_until: None,
        use_days: Some(7),
        ..Terms::default()
    };
    let mut tx = TenantTx::begin(owner, tenant).await?;
    let campaign = db::vouchers::insert(&mut tx, &terms).await?;
    db::vouchers::make_vouchers(&mut tx, campaign, vouchers as i32, 1).await?;
    db::vouchers::set_state(&mut tx, campaign, "scheduled").await?;
    tx.commit().await?;
    let shopper_keys = crate::auth::shopper::ShopperKeys::new(&keys.session);
    let mut tokens = Vec::with_capacity(shoppers);
    let mut n: u64 = 0;
    while (tokens.len()) < shoppers {
        let mut ids = Vec::new();
        let mut sealed = Vec::new();
        let mut indexes = Vec::new();
        let mut masked = Vec::new();
        for _ in 0..10_000.min(shoppers - tokens.len()) {
            let phone = format!("1{}{:09}", 3 + n % 7, n);
            n += 1;
            let id = uuid::Uuid::new_v4();
            let place = crate::pii::Place {
                tenant,
                table: "shoppers",
                column: "phone_enc",
                row: id,
            };
            sealed.push(keys.seal_str(&place, &phone));
            indexes.push(keys.blind_index(tenant, "phone", &phone));
            masked.push(format!("{}****{}", &phone[..3], &phone[7..]));
            tokens.push(shopper_keys.issue(tenant, id, masked.last().map(String::as_str).unwrap_or(""))?);
            ids.push(id);
        }
        let mut tx = TenantTx::begin(owner, tenant).await?;
        sqlx::query(
            "insert into shoppers (tenant_id, id, phone_enc, phone_index, phone_masked)
             select $1, * from unnest($2::uuid[], $3::bytea[], $4::text[], $5::text[])",
        )
        .bind(tenant.0)
        .bind(&ids)
        .bind(&sealed)
        .bind(&indexes)
        .bind(&masked)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
    }
    Ok((campaign, tokens))
}
