//! The demo a fresh server seeds into an empty database: two districts, so isolation can be
//! seen, with markets, slots and accounts for every role. Passwords are random per data
//! directory and written, with the URL, to `<data-dir>/demo-credentials.json`.
//!
//! Each part of the product seeds its own data through a function below, called from [`seed`] in
//! order; a later part adds its function there and its ids to `samples`.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::market::{Category, MarketDraft, SlotRange};
use nightmarket_domain::people::{Permission, Phone, Role};
use nightmarket_domain::plan::{LandmarkDraft, PlanDraft};
use nightmarket_domain::tenant::TenantId;
use nightmarket_services::access::password;
use nightmarket_services::accounts::phone_login_key;
use nightmarket_services::audit::{self, Author, Change};
use nightmarket_services::secrets::{Keys, random_password};
use nightmarket_services::tenants::{self, NewTenant};

pub mod load;
mod lottery;
mod records;
mod scan;
mod stalls;
mod supervision;
mod vouchers;

pub const CREDENTIALS_FILE: &str = "demo-credentials.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DemoAccount {
    pub tenant: String,
    pub role: String,
    pub login: String,
    pub password: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DemoCredentials {
    pub url: String,
    pub accounts: Vec<DemoAccount>,
    /// External-system API keys: `{"tenant", "key_id", "secret"}`.
    #[serde(default)]
    pub api_keys: Vec<serde_json::Value>,
    /// Ids worth trying the API on (markets, vendors, codes …), by name.
    #[serde(default)]
    pub samples: serde_json::Map<String, serde_json::Value>,
}

pub fn load(data_dir: &Path) -> Option<DemoCredentials> {
    let text = std::fs::read_to_string(data_dir.join(CREDENTIALS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn save(data_dir: &Path, creds: &DemoCredentials) -> anyhow::Result<()> {
    let path = data_dir.join(CREDENTIALS_FILE);
    let tmp = data_dir.join(format!("{CREDENTIALS_FILE}.tmp"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(serde_json::to_string_pretty(creds)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

pub(crate) struct MarketSpec {
    name: &'static str,
    address: &'static str,
    description: &'static str,
    lat: f64,
    lng: f64,
    radius_m: i64,
    opens: &'static str,
    closes: &'static str,
    /// (prefix, count, category)
    rows: &'static [(&'static str, u32, Category)],
}

pub(crate) struct TenantSpec {
    pub(crate) slug: &'static str,
    name: &'static str,
    admin_name: &'static str,
    official: (&'static str, &'static str),
    pub(crate) vendor_phone: Option<&'static str>,
    markets: &'static [MarketSpec],
}

const TENANTS: &[TenantSpec] = &[
    TenantSpec {
        slug: "nanan",
        name: "重庆市南岸区",
        admin_name: "南岸区商务委",
        official: ("official", "李巡查"),
        vendor_phone: Some("13983330101"),
        markets: &[
            MarketSpec {
                name: "金辉铜元道数字化便民夜市",
                address: "重庆市南岸区南滨路铜元道",
                description: "西南首个数字化夜市街区：左边餐饮，右边地摊。",
                lat: 29.548_41,
                lng: 106.581_03,
                radius_m: 300,
                opens: "18:00",
                closes: "02:00",
                rows: &[
                    ("A", 24, Category::Food),
                    ("B", 20, Category::Retail),
                    ("C", 10, Category::Culture),
                    ("D", 6, Category::Games),
                ],
            },
            MarketSpec {
                name: "弹子石老街夜市",
                address: "重庆市南岸区弹子石老街",
                description: "市级夜市街区，临江老街。",
                lat: 29.574_18,
                lng: 106.588_52,
                radius_m: 250,
                opens: "18:30",
                closes: "23:30",
                rows: &[
                    ("A", 12, Category::Food),
                    ("B", 8, Category::Produce),
                    ("C", 6, Category::Culture),
                ],
            },
        ],
    },
    TenantSpec {
        slug: "shangcheng",
        name: "杭州市上城区",
        admin_name: "上城区商务局",
        official: ("official", "王监管"),
        vendor_phone: None,
        markets: &[MarketSpec {
            name: "南宋御街夜市",
            address: "浙江省杭州市上城区中山中路",
            description: "御街沿线便民夜市。",
            lat: 30.244_02,
            lng: 120.168_05,
            radius_m: 400,
            opens: "17:30",
            closes: "22:30",
            rows: &[
                ("A", 10, Category::Food),
                ("B", 6, Category::Culture),
                ("C", 4, Category::Produce),
            ],
        }],
    },
];

/// Seeds the demo into an empty database and writes the credentials file.
pub async fn seed(owner: &PgPool, keys: &Keys, url: &str, data_dir: &Path) -> anyhow::Result<DemoCredentials> {
    let actor = Author::system("demo-seed");
    let mut creds = DemoCredentials {
        url: url.to_string(),
        ..Default::default()
    };
    for spec in TENANTS {
        let tenant = seed_tenant(owner, &actor, spec, &mut creds).await?;
        seed_people(owner, keys, &actor, tenant, spec, &mut creds).await?;
        seed_markets(owner, &actor, tenant, spec, &mut creds).await?;
        stalls::seed(owner, keys, &actor, tenant, spec, &mut creds).await?;
        supervision::seed(owner, keys, &actor, tenant, spec, &mut creds).await?;
        scan::seed(owner, keys, &actor, tenant, spec, &mut creds).await?;
        vouchers::seed(owner, keys, &actor, tenant, spec, &mut creds).await?;
        records::seed(owner, keys, &actor, tenant, spec, &mut creds).await?;
        lottery::seed(owner, &actor, tenant, spec).await?;
    }
    // The first district's green stall, under plain names, to try the credential feed on.
    let first = TENANTS[0].slug;
    for name in ["vendor_id", "code_url", "tracking", "credit_code"] {
        if let Some(v) = creds.samples.get(&format!("{first}_{name}")).cloned() {
            creds.samples.insert(name.to_string(), v);
        }
    }
    save(data_dir, &creds)?;
    Ok(creds)
}

async fn seed_tenant(
    owner: &PgPool,
    actor: &Author,
    spec: &TenantSpec,
    creds: &mut DemoCredentials,
) -> anyhow::Result<TenantId> {
    let created = tenants::create(
        owner,
        actor,
        NewTenant {
            slug: spec.slug.into(),
            name: spec.name.into(),
            timezone: "Asia/Shanghai".into(),
            admin_login: "admin".into(),
            admin_name: spec.admin_name.into(),
        },
        false,
    )
    .await
    .map_err(|e| anyhow::anyhow!("seeding tenant {}: {e}", spec.slug))?;
    creds.accounts.push(DemoAccount {
        tenant: spec.slug.into(),
        role: "admin".into(),
        login: created.admin_login,
        password: created.admin_password,
    });
    Ok(created.tenant)
}

async fn seed_people(
    owner: &PgPool,
    keys: &Keys,
    actor: &Author,
    tenant: TenantId,
    spec: &TenantSpec,
    creds: &mut DemoCredentials,
) -> anyhow::Result<()> {
    let mut tx = TenantTx::begin(owner, tenant).await?;
    let (login, name) = spec.official;
    let pass = random_password(12);
    let hash = password::hash(pass.clone()).await?;
    let id = db::users::insert(
        &mut tx,
        &db::users::NewUser {
            role: Role::Official,
            login,
            display_name: name,
            password_hash: &hash,
            permissions: &Permission::ALL,
            must_change_password: false,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        actor,
        Change::new("user.create", "user", id)
            .after(&serde_json::json!({ "role": "official", "login": login, "display_name": name })),
    )
    .await?;
    creds.accounts.push(DemoAccount {
        tenant: spec.slug.into(),
        role: "official".into(),
        login: login.into(),
        password: pass,
    });

    if let Some(phone) = spec.vendor_phone.and_then(Phone::parse) {
        let pass = random_password(12);
        let hash = password::hash(pass.clone()).await?;
        let key = phone_login_key(keys, tenant, &phone);
        let masked = phone.masked();
        let id = db::users::insert(
            &mut tx,
            &db::users::NewUser {
                role: Role::Vendor,
                login: &key,
                display_name: &masked,
                password_hash: &hash,
                permissions: &[],
                must_change_password: false,
            },
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("user.create", "user", id)
                .after(&serde_json::json!({ "role": "vendor", "display_name": masked })),
        )
        .await?;
        creds.accounts.push(DemoAccount {
            tenant: spec.slug.into(),
            role: "vendor".into(),
            login: phone.as_str().into(),
            password: pass,
        });
    }
    tx.commit().await?;
    Ok(())
}

async fn seed_markets(
    owner: &PgPool,
    actor: &Author,
    tenant: TenantId,
    spec: &TenantSpec,
    creds: &mut DemoCredentials,
) -> anyhow::Result<()> {
    // One transaction per market, so they are listed in the order written here.
    for (i, m) in spec.markets.iter().enumerate() {
        let mut tx = TenantTx::begin(owner, tenant).await?;
        let valid = MarketDraft {
            name: m.name.into(),
            address: m.address.into(),
            description: m.description.into(),
            center_lat: Some(m.lat),
            center_lng: Some(m.lng),
            radius_m: Some(m.radius_m),
            opens_at: m.opens.into(),
            closes_at: m.closes.into(),
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo market {} is invalid: {e:?}", m.name))?;
        let id = db::markets::insert(&mut tx, &valid).await?;
        let mut slots = Vec::new();
        for (prefix, count, category) in m.rows {
            let codes = SlotRange {
                prefix: (*prefix).into(),
                from: 1,
                to: *count,
            }
            .codes()
            .map_err(|e| anyhow::anyhow!("demo slots {prefix}: {e:?}"))?;
            slots.extend(codes.into_iter().map(|c| (c, *category)));
        }
        db::markets::insert_slots(&mut tx, id, &slots).await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("market.create", "market", id)
                .after(&serde_json::json!({ "name": m.name, "slots": slots.len(), "hours": format!("{}-{}", m.opens, m.closes) })),
        )
        .await?;
        seed_plan(&mut tx, actor, id, m).await?;
        if i == 0 {
            creds.samples.insert(
                format!("{}_market_id", spec.slug),
                serde_json::Value::String(id.to_string()),
            );
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Lays a demo market out as a street: each row of slots along one line, two cells a stall, an
/// aisle between the lines; the entrance, the service desk and the toilets at the corners.
async fn seed_plan(tx: &mut TenantTx, actor: &Author, market: uuid::Uuid, m: &MarketSpec) -> anyhow::Result<()> {
    let longest = m.rows.iter().map(|(_, count, _)| i64::from(*count)).max().unwrap_or(0);
    let columns = (2 + 2 * longest).clamp(8, 120);
    let rows = (2 + 2 * m.rows.len() as i64).max(6);
    let mut draft = PlanDraft {
        columns: Some(columns),
        rows: Some(rows),
        ..Default::default()
    };
    for (line, (prefix, count, _)) in m.rows.iter().enumerate() {
        for n in 1..=i64::from(*count) {
            let code = format!("{prefix}-{n:02}");
            let x = 1 + (n - 1) * 2;
            if x + 2 <= columns {
                draft.slots.push((code, Some([x, 1 + 2 * line as i64, 2, 1])));
            }
        }
    }
    for (kind, label, x, y) in [
        ("entrance", "", 0, 0),
        ("service_desk", "", columns - 1, 0),
        ("toilet", "", 0, rows - 1),
        ("exit", "", columns - 1, rows - 1),
    ] {
        draft.landmarks.push(LandmarkDraft {
            kind: kind.into(),
            label: label.into(),
            x: Some(x),
            y: Some(y),
        });
    }
    let codes: Vec<String> = db::markets::slots(tx, market)
        .await?
        .into_iter()
        .map(|s| s.code)
        .collect();
    let plan = draft
        .validate(&codes)
        .map_err(|e| anyhow::anyhow!("demo plan of {} is invalid: {e:?}", m.name))?;
    db::plans::save(tx, market, 0, &plan).await?;
    // A drawn street under the plan: pavements along the stall lines, the road between them.
    let picture = street_picture(columns as u32, rows as u32, m.rows.len() as u32)?;
    let sha = nightmarket_domain::lottery::sha256_hex(&picture);
    db::plans::set_background(tx, market, "image/png", &picture, &sha).await?;
    audit::record(
        tx,
        actor,
        Change::new("market.plan", "market", market).after(&serde_json::json!({ "columns": columns, "rows": rows, "slots": plan.slots.len(), "landmarks": plan.landmarks.len() })),
    )
    .await?;
    Ok(())
}

/// A plain drawing of a street for a demo plan, 8 px a cell: pavement, the stall lines, the aisles
/// between them, as PNG.
fn street_picture(columns: u32, rows: u32, lines: u32) -> anyhow::Result<Vec<u8>> {
    let cell = 8;
    let mut img = image::RgbImage::from_pixel(columns * cell, rows * cell, image::Rgb([236, 230, 216]));
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (cx, cy) = (x / cell, y / cell);
        let in_line = (0..lines).any(|l| cy == 1 + 2 * l);
        let aisle = cy >= 1 && cy < 1 + 2 * lines && !in_line;
        if aisle {
            // The aisle shoppers walk, with a dashed centre line.
            *px = if y % cell == cell / 2 && (x / 6) % 2 == 0 {
                image::Rgb([250, 250, 250])
            } else {
                image::Rgb([168, 168, 160])
            };
        } else if in_line && cx >= 1 && cx + 1 < columns {
            *px = image::Rgb([214, 200, 170]);
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}
