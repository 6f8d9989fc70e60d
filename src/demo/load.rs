//! A large, plain data set for load benchmarks (`nightmarket bench-seed`): tenants with one
//! market each and many approved stalls, every one with a real signed code, a vendor and an
//! approved application. No stories; the demo is for people, this is for machines.

use chrono::Utc;
use sqlx::PgPool;

use super::stalls::{Dice, decide, official, person, seed_application, seed_vendor};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::market::{Category, MarketDraft};
use nightmarket_domain::tenant::Tenant;
use nightmarket_services::access::password;
use nightmarket_services::audit::Author;
use nightmarket_services::secrets::{Keys, random_password};
use nightmarket_services::tenants::{self, NewTenant};
use nightmarket_services::{codes, supervision};

/// Creates `tenants` tenants (`load-1`, `load-2`, …) sharing `stalls` approved stalls between
/// them, and returns the path and query of every code (what the QR codes open).
/// Returns every code's path, and the first tenant's (`load-1`) admin password, for a signed-in
/// page measured beside the scans.
pub async fn seed(
    owner: &PgPool,
    keys: &Keys,
    tenant_count: usize,
    stalls: usize,
) -> anyhow::Result<(Vec<String>, String)> {
    let mut paths = Vec::with_capacity(stalls);
    let mut admin_password = String::new();
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
        if t == 0 {
            admin_password = loaded.admin_password;
        }
        paths.extend(loaded.codes.into_iter().map(|(_, path)| path));
    }
    Ok((paths, admin_password))
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
    /// The vendor of each code, in the same order.
    pub vendors: Vec<uuid::Uuid>,
}

/// Creates a tenant with one market and `stalls` approved stalls (retail), each with a vendor, an
/// approved application and a real signed code.
pub async fn seed_tenant(owner: &PgPool, keys: &Keys, spec: &LoadTenant) -> anyhow::Result<LoadedTenant> {
    let actor = Author::system("bench-seed");
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
    let mut vendors = Vec::with_capacity(spec.stalls);
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
                    vendor_name_masked: &nightmarket_domain::identity::mask_name(&p.name),
                    licence_facts: Default::default(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("bench code: {e}"))?;
            supervision::sync_vendor(&mut tx, keys, &actor, vendor, Utc::now(), tenant.timezone, &settings)
                .await
                .map_err(|e| anyhow::anyhow!("bench score: {e}"))?;
            codes_made.push((code.id, codes::url_path(&code)));
            vendors.push(vendor);
        }
        tx.commit().await?;
    }
    Ok(LoadedTenant {
        tenant,
        admin_password: created.admin_password,
        market_id,
        codes: codes_made,
        vendors,
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
    let actor = Author::system("bench-seed");
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
    let campaign = seed_campaign(owner, tenant, vouchers, opens_in).await?;
    let tokens = seed_shoppers(owner, keys, tenant, shoppers).await?;
    Ok((campaign, tokens))
}

/// A campaign of `vouchers` 10-yuan vouchers (over 50 yuan spent, one per person) whose claims
/// open `opens_in` seconds from now.
async fn seed_campaign(
    owner: &PgPool,
    tenant: nightmarket_domain::tenant::TenantId,
    vouchers: i64,
    opens_in: i64,
) -> anyhow::Result<uuid::Uuid> {
    use nightmarket_domain::voucher::Terms;
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
    db::vouchers::make_vouchers(&mut tx, campaign, vouchers, 1).await?;
    db::vouchers::set_state(&mut tx, campaign, nightmarket_domain::voucher::State::Scheduled).await?;
    tx.commit().await?;
    Ok(campaign)
}

/// `shoppers` verified shoppers (sealed numbers, blind indexes); a session token for each.
async fn seed_shoppers(
    owner: &PgPool,
    keys: &Keys,
    tenant: nightmarket_domain::tenant::TenantId,
    shoppers: usize,
) -> anyhow::Result<Vec<String>> {
    let shopper_keys = nightmarket_services::access::shopper::ShopperKeys::new(&keys.session);
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
            let place = nightmarket_services::pii::Place {
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
    Ok(tokens)
}

/// How much history `seed_numbers` writes.
pub struct NumbersLoad {
    pub stalls: usize,
    pub nights: i64,
    pub scans: i64,
    pub ratings: i64,
    pub complaints: i64,
    pub redemptions: i64,
    /// Share of stall-nights checked in, percent.
    pub attendance: i64,
}

/// A tenant `numbers` with one market of `stalls` stalls and `nights` nights of history ending
/// last night: scans (counted per stall-night and per market-night, as the scan counter writes
/// them), ratings, check-ins, complaints in every state, inspections, and voucher uses. Written
/// in bulk by SQL (random but repeatable); returns the admin's password.
pub async fn seed_numbers(owner: &PgPool, keys: &Keys, load: &NumbersLoad) -> anyhow::Result<String> {
    let loaded = seed_tenant(
        owner,
        keys,
        &LoadTenant {
            slug: "numbers".into(),
            name: "数据看板压测区".into(),
            timezone: "Asia/Shanghai".into(),
            stalls: load.stalls,
            opens_at: "18:00".into(),
            closes_at: "02:00".into(),
        },
    )
    .await?;
    let tenant = loaded.tenant.id;
    let today = Utc::now().with_timezone(&loaded.tenant.timezone).date_naive();
    let first = today - chrono::Duration::days(load.nights);
    let mut tx = TenantTx::begin(owner, tenant).await?;
    let run = |sql: &'static str| sqlx::query(sql).bind(tenant.0).bind(first).bind(load.nights);
    sqlx::query("select setseed(0.42)").execute(tx.conn()).await?;
    // Codes existed before the history starts.
    run("update codes set created_at = ($2::date - 30)::timestamptz where tenant_id = $1")
        .execute(tx.conn())
        .await?;
    // Scans: each stall trades on a share of nights; per stall-night scans average what makes the total.
    let stall_nights = load.stalls as f64 * load.nights as f64 * 0.6;
    let per = (load.scans as f64 / stall_nights).max(1.0);
    sqlx::query(
        "insert into scan_nights (tenant_id, code_id, night, scans, visitors)
         select $1, c.id, $2::date + n::int, s, greatest(1, s * 7 / 10)
         from codes c cross join generate_series(0, $3 - 1) n
         cross join lateral (select (1 + floor(random() * (2 * $4 - 1)) + 0 * n)::bigint as s) x
         where c.tenant_id = $1 and random() < 0.6",
    )
    .bind(tenant.0)
    .bind(first)
    .bind(load.nights)
    .bind(per)
    .execute(tx.conn())
    .await?;
    run(
        "insert into scan_market_nights (tenant_id, market_id, night, scans, visitors)
         select s.tenant_id, c.market_id, s.night, sum(s.scans), sum(s.visitors)
         from scan_nights s join codes c on c.tenant_id = s.tenant_id and c.id = s.code_id
         where s.tenant_id = $1 and s.night >= $2 and $3 > 0
         group by s.tenant_id, c.market_id, s.night",
    )
    .execute(tx.conn())
    .await?;
    // Check-ins on the same share of stall-nights; one in ten late.
    sqlx::query(
        "insert into check_ins (tenant_id, code_id, vendor_id, market_id, business_date, checked_in_at, lat, lng,
                                distance_m, late)
         select $1, c.id, c.vendor_id, c.market_id, $2::date + n::int,
                (($2::date + n::int) + time '18:00' + random() * interval '40 minutes') at time zone 'Asia/Shanghai',
                29.53, 106.57, 20, random() < 0.1
         from codes c cross join generate_series(0, $3 - 1) n
         where c.tenant_id = $1 and random() * 100 < $4",
    )
    .bind(tenant.0)
    .bind(first)
    .bind(load.nights)
    .bind(load.attendance as f64)
    .execute(tx.conn())
    .await?;
    // Ratings: random stalls and nights, mostly good; a few hidden.
    sqlx::query(
        "with picked as (
             select (select array_agg(id order by id) from codes where tenant_id = $1) as ids)
         insert into ratings (tenant_id, code_id, vendor_id, business_date, stars, device_hash, created_at)
         select $1, c.id, c.vendor_id, $2::date + (i % $3)::int, s, md5(i::text),
                (($2::date + (i % $3)::int) + time '19:00') at time zone 'Asia/Shanghai'
         from generate_series(1, $4) i
         cross join picked p
         cross join lateral (select p.ids[1 + (i * 7919) % array_length(p.ids, 1)] as id,
                                    (case when random() < 0.7 then 5 - floor(random() * 2) else 1 + floor(random() * 5) end)::smallint as s) r
         join codes c on c.tenant_id = $1 and c.id = r.id
         on conflict do nothing",
    )
    .bind(tenant.0)
    .bind(first)
    .bind(load.nights as i32)
    .bind(load.ratings)
    .execute(tx.conn())
    .await?;
    // Complaints in every category and state, with deadlines.
    sqlx::query(
        "with picked as (select (select array_agg(id order by id) from codes where tenant_id = $1) as ids)
         insert into complaints (tenant_id, tracking, code_id, vendor_id, market_id, category, description, source,
                                 state, evidence, created_at, ack_due_at, resolve_due_at, closed_at, upheld, resolution)
         select $1, 'numbers-' || lpad(i::text, 20, '0'), c.id, c.vendor_id, c.market_id,
                (array['food_safety','price_fraud','short_weight','hygiene','service','road_occupation','noise','other'])[1 + i % 8],
                '压测投诉内容', 'scan', st, '{}', at, at + interval '2 hours', at + interval '3 days',
                case when st in ('resolved', 'rejected') then at + random() * interval '4 days' end,
                case when st = 'resolved' then true end, case when st = 'resolved' then '已处理' end
         from generate_series(1, $4) i
         cross join picked p
         cross join lateral (select p.ids[1 + (i * 104729) % array_length(p.ids, 1)] as id,
                                    (($2::date + (i % $3)::int) + time '18:00' + random() * interval '7 hours') at time zone 'Asia/Shanghai' as at,
                                    (array['resolved','resolved','resolved','rejected','open','acknowledged','in_progress'])[1 + i % 7] as st) r
         join codes c on c.tenant_id = $1 and c.id = r.id",
    )
    .bind(tenant.0)
    .bind(first)
    .bind(load.nights as i32)
    .bind(load.complaints)
    .execute(tx.conn())
    .await?;
    // Inspections: one stall in fifty a night is inspected; one in five of those fails (3 points).
    let official: uuid::Uuid =
        sqlx::query_scalar("select id from users where tenant_id = $1 and role = 'admin' order by created_at limit 1")
            .bind(tenant.0)
            .fetch_one(tx.conn())
            .await?;
    sqlx::query(
        "with made as (
             insert into inspections (tenant_id, id, code_id, vendor_id, market_id, official_id, inspected_at, passed)
             select $1, gen_random_uuid(), c.id, c.vendor_id, c.market_id, $4,
                    (($2::date + n::int) + time '20:00') at time zone 'Asia/Shanghai', random() > 0.2
             from codes c cross join generate_series(0, $3 - 1) n
             where c.tenant_id = $1 and random() < 0.02
             returning id, vendor_id, inspected_at, passed)
         insert into deductions (tenant_id, inspection_id, vendor_id, problem_code, problem_label, points, month, created_at)
         select $1, id, vendor_id, 'hygiene', '卫生不达标', 3, date_trunc('month', inspected_at at time zone 'Asia/Shanghai')::date,
                inspected_at
         from made where not passed",
    )
    .bind(tenant.0)
    .bind(first)
    .bind(load.nights)
    .bind(official)
    .execute(tx.conn())
    .await?;
    // Vouchers: one campaign, a shopper per voucher, every voucher claimed and used once.
    let campaign = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into campaigns (tenant_id, id, name, value_fen, threshold_fen, total, per_person, claim_start, claim_end,
                                use_days, state)
         values ($1, $2, '压测消费券', 1000, 5000, $3, 1, ($4::date)::timestamptz, now() + interval '1 day', 365, 'scheduled')",
    )
    .bind(tenant.0)
    .bind(campaign)
    .bind(load.redemptions as i32)
    .bind(first)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "with s as (
             insert into shoppers (tenant_id, id, phone_enc, phone_index, phone_masked)
             select $1, gen_random_uuid(), '\\x00', 'bench-' || i, '138****0000' from generate_series(1, $2) i
             returning id, substr(phone_index, 7)::int as i)
         insert into vouchers (tenant_id, campaign_id, seq, per_person, shopper_id, slot, claimed_at, expires_at, used_at)
         select $1, $3, s.i, 1, s.id, 1, t.at, t.at + interval '365 days', t.at + interval '1 hour'
         from s cross join lateral (
             select (($4::date + (s.i % $5)) + time '19:00') at time zone 'Asia/Shanghai' as at) t",
    )
    .bind(tenant.0)
    .bind(load.redemptions as i32)
    .bind(campaign)
    .bind(first)
    .bind(load.nights as i32)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "with picked as (select array_agg(id order by id) as ids from codes where tenant_id = $1)
         insert into redemptions (tenant_id, campaign_id, seq, shopper_id, code_id, vendor_id, market_id, business_date,
                                  bill_fen, value_fen, verification, request_key, created_at)
         select $1, v.campaign_id, v.seq, v.shopper_id, c.id, c.vendor_id, c.market_id,
                (v.claimed_at at time zone 'Asia/Shanghai')::date, 5000 + floor(random() * 15000)::int, 1000,
                lpad((v.seq % 1000000)::text, 6, '0'), 'bench-' || v.seq, v.used_at
         from vouchers v
         cross join picked p
         join codes c on c.tenant_id = $1 and c.id = p.ids[1 + (v.seq * 7919) % array_length(p.ids, 1)]
         where v.tenant_id = $1 and v.campaign_id = $2",
    )
    .bind(tenant.0)
    .bind(campaign)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(loaded.admin_password)
}

/// What `seed_chaos` made, written as JSON for the chaos load (benches/night_load.rs).
#[derive(serde::Serialize)]
pub struct ChaosSeed {
    pub tenant: String,
    pub campaign: uuid::Uuid,
    pub vouchers: i64,
    /// Where the market is: check-ins are sent from here.
    pub lat: f64,
    pub lng: f64,
    pub stalls: Vec<ChaosStall>,
    /// A session token per shopper.
    pub shoppers: Vec<String>,
}

#[derive(serde::Serialize)]
pub struct ChaosStall {
    pub code: uuid::Uuid,
    /// The scan page's path and signed query (ratings are posted to its `/rate`).
    pub path: String,
    /// The vendor's session token (check-ins).
    pub vendor_token: String,
}

/// A tenant `chaos` for the chaos scripts: one market open now (from an hour ago for six hours,
/// in the tenant's time), `stalls` approved stalls with their vendors' session tokens, a campaign
/// of `vouchers` whose claims open in a few seconds, and `shoppers` shoppers with tokens.
pub async fn seed_chaos(
    owner: &PgPool,
    keys: &Keys,
    stalls: usize,
    vouchers: i64,
    shoppers: usize,
) -> anyhow::Result<ChaosSeed> {
    let zone = chrono_tz::Asia::Shanghai;
    let now = Utc::now().with_timezone(&zone);
    let loaded = seed_tenant(
        owner,
        keys,
        &LoadTenant {
            slug: "chaos".into(),
            name: "混沌测试区".into(),
            timezone: zone.name().into(),
            stalls,
            opens_at: (now - chrono::Duration::hours(1)).format("%H:%M").to_string(),
            closes_at: (now + chrono::Duration::hours(5)).format("%H:%M").to_string(),
        },
    )
    .await?;
    let tenant = loaded.tenant.id;
    let campaign = seed_campaign(owner, tenant, vouchers, 3).await?;
    let shopper_tokens = seed_shoppers(owner, keys, tenant, shoppers).await?;
    let sessions = nightmarket_services::access::session::SessionKeys::new(&keys.session, chrono::Duration::hours(12));
    let mut out = Vec::with_capacity(stalls);
    for ((code, path), vendor) in loaded.codes.into_iter().zip(loaded.vendors) {
        let (token, _) = sessions.issue(tenant, vendor, nightmarket_domain::people::Role::Vendor, "chaos", 0)?;
        out.push(ChaosStall {
            code,
            path,
            vendor_token: token,
        });
    }
    Ok(ChaosSeed {
        tenant: "chaos".into(),
        campaign,
        vouchers,
        lat: 29.53,
        lng: 106.57,
        stalls: out,
        shoppers: shopper_tokens,
    })
}
