//! Demo vendors, applications in every state and approved stalls with their codes.

use chrono::{Duration, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{DemoCredentials, TenantSpec};
use nightmarket_db::{self as db, TenantTx, applications::Details};
use nightmarket_domain::code::{Colour, cause};
use nightmarket_domain::identity::{ResidentId, mask_name, resident_id_check_char};
use nightmarket_domain::market::Category;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::people::Phone;
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_services::access::password;
use nightmarket_services::accounts::phone_login_key;
use nightmarket_services::audit::{self, Author, Change};
use nightmarket_services::pii::Place;
use nightmarket_services::secrets::{Keys, random_bytes, random_password};
use nightmarket_services::{codes, notices};

const SURNAMES: &[&str] = &[
    "张", "王", "李", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "罗", "高",
    "林",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "桂兰", "建华", "德明", "小红",
];
const FOOD: &[(&str, &str)] = &[
    ("烤苕皮", "烤苕皮、烤豆干、烤脑花"),
    ("酸辣粉", "重庆酸辣粉、红油抄手"),
    ("冰粉凉糕", "手搓冰粉、红糖凉糕"),
    ("钵钵鸡", "钵钵鸡、冷串串"),
    ("小面", "重庆小面、豌杂面"),
    ("烤串", "牛肉串、羊肉串、烤土豆"),
    ("糖油果子", "糖油果子、红糖糍粑"),
    ("豆花饭", "豆花、蘸水、干饭"),
];
const RETAIL: &[(&str, &str)] = &[
    ("饰品小铺", "耳环、项链、发夹"),
    ("潮T", "T恤、帽子"),
    ("花草盆栽", "多肉、绿萝、小盆栽"),
    ("玩具屋", "脸谱玩具、打水枪"),
    ("手机配件", "数据线、手机壳"),
];
const CULTURE: &[(&str, &str)] = &[
    ("川剧脸谱", "手绘脸谱、书签"),
    ("糖画", "现场糖画"),
    ("剪纸", "手工剪纸、窗花"),
];
const GAMES: &[(&str, &str)] = &[("套圈", "套圈游戏"), ("射击气球", "气球射击")];
const PRODUCE: &[(&str, &str)] = &[
    ("涪陵榨菜", "榨菜、泡菜"),
    ("磁器口麻花", "麻花、陈麻花"),
    ("自家油辣子", "油辣子、豆瓣"),
];

/// A deterministic generator, so a demo looks the same each time it is seeded.
pub(super) struct Dice(pub(super) u64);

impl Dice {
    pub(super) fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A grey card-sized PNG standing in for the photo of a document.
pub(super) fn placeholder_png() -> Vec<u8> {
    let img = image::GrayImage::from_fn(120, 76, |x, y| {
        image::Luma([if (x / 8 + y / 8) % 2 == 0 { 200 } else { 225 }])
    });
    let mut png = Vec::new();
    let _ = image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::L8,
    );
    png
}

pub(super) struct Person {
    pub(super) name: String,
    pub(super) id: ResidentId,
    pub(super) phone: Phone,
}

pub(super) fn person(dice: &mut Dice, area: &str, today: NaiveDate) -> Person {
    let name = format!("{}{}", dice.pick(SURNAMES), dice.pick(GIVEN));
    let birth = NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or(today) + Duration::days(dice.below(40 * 365) as i64);
    let first17 = format!("{area}{}{:03}", birth.format("%Y%m%d"), dice.below(1000));
    let check = resident_id_check_char(first17.as_bytes()).unwrap_or('0');
    let id = ResidentId::parse(&format!("{first17}{check}"), today).ok();
    let phone = Phone::parse(&format!("1{}{:09}", 3 + dice.below(7), dice.below(1_000_000_000)));
    match (id, phone) {
        (Some(id), Some(phone)) => Person { name, id, phone },
        // the generator makes only valid numbers; this keeps the seed total
        _ => person(dice, area, today),
    }
}

/// What happens to one demo application.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Approved,
    Suspended(&'static str),
    Submitted { hours_ago: i64 },
    Resubmitted,
    Returned,
    Rejected,
    Withdrawn,
    Draft,
}

fn fates(big: bool) -> Vec<Fate> {
    let mut f = Vec::new();
    let (approved, suspended): (usize, &[&str]) = if big {
        (37, &["卫生检查不合格，限期整改", "超出摊位范围经营", "证照待核实"])
    } else {
        (7, &["未按规定亮证经营"])
    };
    f.extend(std::iter::repeat_n(Fate::Approved, approved));
    f.extend(suspended.iter().map(|r| Fate::Suspended(r)));
    let submitted: &[i64] = if big { &[2, 5, 9, 20, 30, 50] } else { &[3, 40] };
    f.extend(submitted.iter().map(|h| Fate::Submitted { hours_ago: *h }));
    if big {
        f.extend([
            Fate::Resubmitted,
            Fate::Returned,
            Fate::Rejected,
            Fate::Rejected,
            Fate::Withdrawn,
            Fate::Draft,
        ]);
    } else {
        f.extend([Fate::Returned, Fate::Draft]);
    }
    f
}

fn goods_for(dice: &mut Dice, category: Category) -> (&'static str, &'static str) {
    *dice.pick(match category {
        Category::Food => FOOD,
        Category::Retail => RETAIL,
        Category::Culture => CULTURE,
        Category::Games => GAMES,
        Category::Produce => PRODUCE,
    })
}

/// Seeds vendors, applications and stalls into every market of the tenant.
pub(super) async fn seed(
    owner: &PgPool,
    keys: &Keys,
    actor: &Author,
    tenant_id: TenantId,
    spec: &TenantSpec,
    creds: &mut DemoCredentials,
) -> anyhow::Result<()> {
    let tenant: Tenant = db::tenants::by_id(owner, tenant_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo tenant vanished"))?;
    let today = Utc::now().with_timezone(&tenant.timezone).date_naive();
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ u64::from_le_bytes(*b"nightmkt") ^ spec.slug.len() as u64);
    // Demo vendors other than the one with published credentials share a password nobody knows.
    let nobody = password::hash(random_password(24)).await?;
    let png = placeholder_png();
    let area = if spec.slug == "nanan" { "500108" } else { "330102" };
    let mut tx = TenantTx::begin(owner, tenant.id).await?;
    db::settings::save(&mut tx, &db::settings::Settings::default()).await?;

    let markets = db::markets::list(&mut tx).await?;
    let mut all = fates(spec.slug == "nanan");
    for i in (1..all.len()).rev() {
        all.swap(i, dice.below(i as u64 + 1) as usize);
    }
    let mut fates = all.into_iter();
    // The vendor whose sign-in is published gets the first green stall and the first returned
    // application, so signing in as them shows both.
    let demo_vendor = match spec.vendor_phone.and_then(Phone::parse) {
        Some(phone) => {
            let login = phone_login_key(keys, tenant.id, &phone);
            db::users::by_login(&mut tx, &login).await?.map(|u| {
                (
                    u.id,
                    Person {
                        name: "陈小红".into(),
                        phone,
                        ..person(&mut dice, area, today)
                    },
                )
            })
        }
        None => None,
    };
    let (mut demo_approved, mut demo_returned) = (false, false);
    let mut first_green: Option<(Uuid, String)> = None;
    'markets: for (mi, market) in markets.iter().enumerate() {
        let slots = db::markets::slots(&mut tx, market.id).await?;
        // The first market gets most stalls, leaving a quarter free; the others take the rest.
        let share = if mi == 0 { slots.len() * 3 / 4 } else { slots.len() };
        for slot in slots.iter().take(share.max(1)) {
            let Some(fate) = fates.next() else { break 'markets };
            let category = slot.category;
            let (stall, goods) = goods_for(&mut dice, category);
            let for_demo = match (&demo_vendor, fate) {
                (Some(_), Fate::Approved) if !demo_approved => {
                    demo_approved = true;
                    true
                }
                (Some(_), Fate::Returned) if !demo_returned => {
                    demo_returned = true;
                    true
                }
                _ => false,
            };
            let (vendor, p) = match (&demo_vendor, for_demo) {
                (Some((id, p)), true) => (
                    *id,
                    Person {
                        name: p.name.clone(),
                        id: p.id.clone(),
                        phone: p.phone.clone(),
                    },
                ),
                _ => {
                    let p = person(&mut dice, area, today);
                    (seed_vendor(&mut tx, keys, actor, &tenant, &p, &nobody).await?, p)
                }
            };
            let stall_name = format!("{}记{stall}", p.name.chars().next().unwrap_or('张'));
            let app = seed_application(
                &mut tx,
                keys,
                &tenant,
                vendor,
                market.id,
                slot.id,
                category,
                &stall_name,
                goods,
                &p,
                today,
            )
            .await?;
            let doc = Uuid::new_v4();
            let sealed = keys.seal(
                &Place {
                    tenant: tenant.id,
                    table: "application_documents",
                    column: "data_enc",
                    row: doc,
                },
                &png,
            );
            db::applications::insert_document(&mut tx, doc, app, "id_card", "image/png", png.len() as i32, &sealed)
                .await?;
            let (lat, lng) = (
                market.center_lat + 0.0004 * (dice.below(5) as f64 - 2.0),
                market.center_lng + 0.0004 * (dice.below(5) as f64 - 2.0),
            );
            audit::record(&mut tx, actor, Change::new("application.create", "application", app)).await?;
            if fate != Fate::Draft {
                db::applications::submit(&mut tx, app, "submitted", (lat, lng, Some(15.0), 60.0)).await?;
            }
            let hours_ago = match fate {
                Fate::Submitted { hours_ago } => hours_ago,
                // Approved stalls were decided before the check-in history the demo writes (the
                // last seven nights), so their scores and the dashboard count those nights.
                Fate::Approved | Fate::Suspended(_) => 24 * 10 + dice.below(24 * 20) as i64,
                _ => 72 + dice.below(24 * 20) as i64,
            };
            backdate(&mut tx, app, hours_ago).await?;
            let reviewer = official(&mut tx).await?;
            match fate {
                Fate::Approved | Fate::Suspended(_) => {
                    decide(&mut tx, app, "approved", reviewer, None, serde_json::json!({})).await?;
                    let facts = match category {
                        Category::Food => nightmarket_domain::code::LicenceFacts {
                            food_licence: Some(nightmarket_domain::code::LicenceFact {
                                number: "JY************12".into(),
                                expires: today + Duration::days(300),
                            }),
                            health_cert: Some(nightmarket_domain::code::LicenceFact {
                                number: "JK*******07".into(),
                                expires: today + Duration::days(120),
                            }),
                            uscc: None,
                        },
                        _ => Default::default(),
                    };
                    let code = codes::issue(
                        &mut tx,
                        keys,
                        &tenant,
                        actor,
                        codes::Issue {
                            vendor_id: vendor,
                            application_id: app,
                            market_id: market.id,
                            slot_id: slot.id,
                            stall_name: &stall_name,
                            category: category.as_str(),
                            vendor_name_masked: &mask_name(&p.name),
                            licence_facts: facts,
                        },
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("demo code: {e}"))?;
                    issued_at(&mut tx, code.id, hours_ago - 2).await?;
                    notices::notify(
                        &mut tx,
                        keys,
                        vendor,
                        NoticeKind::ApplicationApproved,
                        &[("market", &market.name), ("slot", &slot.code), ("stall", &stall_name)],
                        Some("/vendor"),
                    )
                    .await?;
                    if let Fate::Suspended(reason) = fate {
                        db::codes::add_cause(
                            &mut tx,
                            code.id,
                            cause::SUSPENDED,
                            Colour::Red.as_str(),
                            reason,
                            Some(reviewer),
                        )
                        .await?;
                        codes::recompute_colour(&mut tx, actor, code.id)
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                    } else if first_green.is_none() || for_demo {
                        first_green = Some((vendor, codes::url_path(&code)));
                    }
                }
                Fate::Resubmitted => {
                    db::applications::submit(&mut tx, app, "resubmitted", (lat, lng, Some(12.0), 55.0)).await?;
                    backdate(&mut tx, app, 6).await?;
                }
                Fate::Returned => {
                    let notes = serde_json::json!({"documents": "身份证照片看不清，请重新拍摄上传"});
                    decide(&mut tx, app, "returned", reviewer, None, notes).await?;
                    notices::notify(
                        &mut tx,
                        keys,
                        vendor,
                        NoticeKind::ApplicationReturned,
                        &[("market", &market.name), ("count", "1")],
                        Some(&format!("/vendor/applications/{app}")),
                    )
                    .await?;
                }
                Fate::Rejected => {
                    let reason = "经营品类与夜市规划不符";
                    decide(&mut tx, app, "rejected", reviewer, Some(reason), serde_json::json!({})).await?;
                    notices::notify(
                        &mut tx,
                        keys,
                        vendor,
                        NoticeKind::ApplicationRejected,
                        &[("market", &market.name), ("reason", reason)],
                        Some(&format!("/vendor/applications/{app}")),
                    )
                    .await?;
                }
                Fate::Withdrawn => db::applications::withdraw(&mut tx, app).await?,
                Fate::Submitted { .. } | Fate::Draft => {}
            }
        }
    }
    if let Some((vendor, path)) = first_green {
        creds.samples.insert(
            format!("{}_vendor_id", spec.slug),
            serde_json::Value::String(vendor.to_string()),
        );
        creds.samples.insert(
            format!("{}_code_url", spec.slug),
            serde_json::Value::String(format!("{}{path}", creds.url.trim_end_matches('/'))),
        );
    }
    // A sign-up code, used long ago (so the table of codes is not empty in either tenant).
    let p = person(&mut dice, area, today);
    let phone_index = keys.blind_index(tenant.id, "phone", p.phone.as_str());
    let otp = Uuid::new_v4();
    db::otp::insert(
        &mut tx,
        otp,
        "vendor_signup",
        &phone_index,
        &random_bytes::<32>(),
        Utc::now() - Duration::days(30),
    )
    .await?;
    db::otp::consume(&mut tx, otp).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn seed_vendor(
    tx: &mut TenantTx,
    keys: &Keys,
    actor: &Author,
    tenant: &Tenant,
    p: &Person,
    hash: &str,
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let sealed = keys.seal_str(&notices::user_phone_place(tx, id), p.phone.as_str());
    db::users::insert_vendor(
        tx,
        id,
        &phone_login_key(keys, tenant.id, &p.phone),
        &p.phone.masked(),
        hash,
        &sealed,
    )
    .await?;
    audit::record(
        tx,
        actor,
        Change::new("user.create", "user", id)
            .after(&serde_json::json!({"role": "vendor", "display_name": p.phone.masked()})),
    )
    .await?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn seed_application(
    tx: &mut TenantTx,
    keys: &Keys,
    tenant: &Tenant,
    vendor: Uuid,
    market: Uuid,
    slot: Uuid,
    category: Category,
    stall_name: &str,
    goods: &str,
    p: &Person,
    today: NaiveDate,
) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    let seal = |column: &'static str, v: &str| {
        keys.seal_str(
            &Place {
                tenant: tenant.id,
                table: "applications",
                column,
                row: id,
            },
            v,
        )
    };
    let food = category == Category::Food;
    let d = Details {
        slot_id: Some(slot),
        stall_name,
        category: category.as_str(),
        goods,
        real_name_enc: Some(seal("real_name_enc", &p.name)),
        real_name_masked: Some(mask_name(&p.name)),
        id_number_enc: Some(seal("id_number_enc", p.id.as_str())),
        id_number_index: Some(keys.blind_index(tenant.id, "id_number", p.id.as_str())),
        id_number_masked: Some(p.id.masked()),
        phone_enc: Some(seal("phone_enc", p.phone.as_str())),
        phone_index: Some(keys.blind_index(tenant.id, "phone", p.phone.as_str())),
        phone_masked: Some(p.phone.masked()),
        uscc: None,
        food_licence_no: food.then(|| "JY15001080012".to_string()),
        food_licence_expires: food.then(|| today + Duration::days(300)),
        health_cert_no: food.then(|| "JK2026-00107".to_string()),
        health_cert_expires: food.then(|| today + Duration::days(120)),
    };
    db::applications::insert(tx, id, vendor, market, &d).await?;
    Ok(id)
}

async fn backdate(tx: &mut TenantTx, app: Uuid, hours_ago: i64) -> anyhow::Result<()> {
    let at = Utc::now() - Duration::hours(hours_ago);
    sqlx::query!(
        "update applications set created_at = $3::timestamptz - interval '1 hour',
                submitted_at = case when submitted_at is null then null else $3 end,
                first_submitted_at = case when first_submitted_at is null then null else $3 end,
                position_at = case when position_at is null then null else $3 end
         where tenant_id = $1 and id = $2",
        tx.tenant().0,
        app,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Dates a demo code's issue back to the moment its application was decided.
async fn issued_at(tx: &mut TenantTx, code: Uuid, hours_ago: i64) -> anyhow::Result<()> {
    let at = Utc::now() - Duration::hours(hours_ago);
    sqlx::query!(
        "update codes set created_at = $3 where tenant_id = $1 and id = $2",
        tx.tenant().0,
        code,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub(super) async fn official(tx: &mut TenantTx) -> anyhow::Result<Uuid> {
    let staff = db::users::list_staff(tx).await?;
    staff
        .iter()
        .find(|u| u.role == nightmarket_domain::people::Role::Official)
        .or(staff.first())
        .map(|u| u.id)
        .ok_or_else(|| anyhow::anyhow!("no demo official"))
}

pub(super) async fn decide(
    tx: &mut TenantTx,
    app: Uuid,
    state: &str,
    by: Uuid,
    reason: Option<&str>,
    notes: serde_json::Value,
) -> anyhow::Result<()> {
    let version = db::applications::get(tx, app).await?.map(|a| a.version).unwrap_or(0);
    db::applications::decide(tx, app, version, state, Some(by), reason, &notes, None).await?;
    Ok(())
}
