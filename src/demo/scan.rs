//! The demo's shoppers: ratings over the nights the stalls were open (some with tags, comments and
//! the vendor's reply, one hidden by an official), complaints in every state of their flow (one
//! overdue, one upheld with the vendor's answer, one with a photo), the tenant's own deadline for
//! food safety, and the scores all of this makes.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::stalls::{Dice, official, placeholder_png};
use super::{DemoCredentials, TenantSpec};
use nightmarket_db::codes::{CodeFilter, CodeRow};
use nightmarket_db::complaints::NewComplaint;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::complaint::{Category, new_tracking};
use nightmarket_domain::rating::Tag;
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_services::audit::Author;
use nightmarket_services::pii::Place;
use nightmarket_services::secrets::Keys;
use nightmarket_services::supervision;

const COMMENTS: [&str; 8] = [
    "味道很好，分量也足",
    "排队有点久，但值得",
    "老板很热情",
    "价格公道，下次还来",
    "",
    "有点咸了",
    "",
    "干净卫生，推荐",
];

fn err(e: nightmarket_web::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("demo scan: {e}")
}

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
    let now = Utc::now();
    let mut dice = Dice(0x5CA1_AB1E_0000_0001 ^ spec.slug.len() as u64);
    let mut tx = TenantTx::begin(owner, tenant.id).await?;
    let inspector = official(&mut tx).await?;

    // Food safety is answered faster here than the platform's default.
    db::complaints::set_deadline(
        &mut tx,
        &db::complaints::DeadlineRow {
            category: Category::FoodSafety.as_str().to_string(),
            ack_hours: 1,
            resolve_days: 1,
            working_days: false,
            gbt_code: None,
        },
    )
    .await?;

    // The statutory days off of the coming year that are fixed by law (元旦; 春节: 除夕 to 初三,
    // 2027-02-05 to 02-08); the adjusted working weekends are the State Council's to announce and
    // the admin's to enter. A category counting working days would count by these.
    let holidays = [
        ("2027-01-01", "元旦"),
        ("2027-02-05", "春节"),
        ("2027-02-06", "春节"),
        ("2027-02-07", "春节"),
        ("2027-02-08", "春节"),
    ];
    for (day, name) in holidays {
        db::calendar::set(
            &mut tx,
            &db::calendar::CalendarDay {
                day: NaiveDate::parse_from_str(day, "%Y-%m-%d")?,
                kind: "holiday".into(),
                name: name.into(),
            },
        )
        .await?;
    }

    // A vendor who asked to leave while an account was still open, refused with the reason (the
    // admin's page of erasure requests shows a decided one).
    let leaving: Option<Uuid> = sqlx::query_scalar(
        "select vendor_id from codes where tenant_id = $1 and revoked_at is null order by created_at desc limit 1",
    )
    .bind(tenant.id.0)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(vendor) = leaving {
        let request = Uuid::new_v4();
        db::erasure::insert(&mut tx, request, vendor, "不再出摊了", now - Duration::days(3)).await?;
        db::erasure::decide(
            &mut tx,
            request,
            "refused",
            inspector,
            now - Duration::days(2),
            "尚有未结算的消费券款项，结算后可再申请",
            None,
        )
        .await?;
    }

    // Ratings on the nights each stall checked in.
    let nights: Vec<(Uuid, Uuid, NaiveDate, DateTime<Utc>)> = sqlx::query_as(
        "select code_id, vendor_id, business_date, checked_in_at from check_ins where tenant_id = $1
         order by checked_in_at",
    )
    .bind(tenant.id.0)
    .fetch_all(tx.conn())
    .await?;
    // Scans on those nights: a few dozen shoppers, some scanning more than once.
    for (n, (code, _, night, _)) in nights.iter().enumerate() {
        let visitors = 5 + dice.below(40) as usize;
        let devices: Vec<String> = (0..visitors)
            .map(|i| nightmarket_services::shopper::device_hash(keys, tenant.id, &format!("demo-device-{n}-{i}")))
            .collect();
        let scans = (visitors + dice.below(visitors as u64) as usize) as i64;
        db::scan_counts::add(&mut tx, *code, *night, scans, &devices).await?;
        // Through the evening, busiest around 20:00–21:00 (the demo markets open at 18:00/18:30).
        let mut hours = [0i64; 24];
        for _ in 0..scans {
            hours[[18, 19, 19, 20, 20, 20, 21, 21, 22, 23][dice.below(10) as usize]] += 1;
        }
        db::scan_counts::add_hours(&mut tx, *code, *night, &hours).await?;
    }
    let mut rated = Vec::new();
    for (n, (code, vendor, night, checked_in)) in nights.iter().enumerate() {
        for shopper in 0..dice.below(4) {
            let at = (*checked_in + Duration::minutes(60 + dice.below(120) as i64)).min(now);
            let stars = [5, 5, 4, 4, 4, 3, 5, 2][dice.below(8) as usize];
            let tags: Vec<String> = match stars {
                5 | 4 => vec![Tag::ALL[dice.below(4) as usize].as_str().to_string()],
                _ => vec![Tag::ALL[4 + dice.below(4) as usize].as_str().to_string()],
            };
            let comment = COMMENTS[dice.below(8) as usize];
            let device = keys.blind_index(tenant.id, "device", &format!("demo-shopper-{n}-{shopper}"));
            let id = db::ratings::insert(
                &mut tx,
                &db::ratings::NewRating {
                    code_id: *code,
                    vendor_id: *vendor,
                    business_date: *night,
                    stars,
                    tags: &tags,
                    comment,
                    device_hash: &device,
                    at,
                    status: "counted",
                    held_reason: None,
                    client_hash: &keys.blind_index(tenant.id, "client-address", &format!("10.0.{n}.{shopper}")),
                    ticket: &format!("{:016x}", (n as u64) << 8 | shopper),
                },
            )
            .await?;
            if !comment.is_empty() {
                rated.push((id, stars, at));
            }
        }
    }
    for (i, (id, stars, at)) in rated.iter().enumerate() {
        if i % 3 == 0 {
            let reply = if *stars >= 4 {
                "谢谢光临，欢迎再来！"
            } else {
                "感谢建议，我们会改进。"
            };
            db::ratings::reply(&mut tx, *id, reply, *at + Duration::minutes(30)).await?;
        }
    }
    if let Some((id, _, at)) = rated.get(1) {
        db::ratings::set_hidden(
            &mut tx,
            *id,
            Some(("含与摊位无关的广告", inspector, *at + Duration::hours(1))),
        )
        .await?;
    }

    // Complaints about stalls that are not the published sample (whose colour should stay green).
    let sample: Option<Uuid> = creds
        .samples
        .get(&format!("{}_vendor_id", spec.slug))
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok());
    let codes: Vec<CodeRow> = db::codes::list(
        &mut tx,
        &CodeFilter {
            live: true,
            ..Default::default()
        },
    )
    .await?
    .into_iter()
    .filter(|c| Some(c.vendor_id) != sample)
    .collect();
    let stories: [(Category, &str, i64, &str); 4] = [
        (Category::ShortWeight, "买了一斤虾，回家称只有八两。", 30, "open"),
        (
            Category::Hygiene,
            "摊位后面堆着垃圾，苍蝇很多。",
            60 * 20,
            "in_progress",
        ),
        (
            Category::PriceFraud,
            "标价 10 元一份，结账收了 15 元。",
            60 * 24 * 3,
            "resolved",
        ),
        (Category::Noise, "音响开得太大，影响附近居民。", 60 * 24 * 2, "rejected"),
    ];
    for (i, (category, description, minutes_ago, state)) in stories.iter().enumerate() {
        let Some(code) = codes.get(i * 2 % codes.len().max(1)) else {
            break;
        };
        let at = now - Duration::minutes(*minutes_ago);
        let d = category.default_deadlines();
        let id = Uuid::new_v4();
        let tracking = new_tracking(&tenant.slug, nightmarket_services::secrets::random_bytes());
        let resolve_due_at = nightmarket_services::complaints::resolve_due(&mut tx, &tenant, &d, at).await?;
        db::complaints::insert(
            &mut tx,
            &NewComplaint {
                id,
                tracking: &tracking,
                code_id: code.id,
                vendor_id: code.vendor_id,
                market_id: code.market_id,
                category: category.as_str(),
                description,
                source: if i == 1 { "open311" } else { "scan" },
                source_ref: None,
                contact_phone_enc: None,
                contact_phone_masked: None,
                contact_phone_index: None,
                device_hash: None,
                client_hash: None,
                held_reason: None,
                evidence: serde_json::json!({ "checked_in": true, "colour": code.colour, "redemptions": [] }),
                at,
                ack_due_at: d.ack_due(at),
                resolve_due_at,
            },
        )
        .await?;
        db::complaints::add_event(&mut tx, id, "filed", "", at).await?;
        if i == 0 {
            let photo = Uuid::new_v4();
            let png = placeholder_png();
            let place = Place {
                tenant: tx.tenant(),
                table: "complaint_photos",
                column: "data_enc",
                row: photo,
            };
            let sealed = keys.seal(&place, &png);
            db::complaints::insert_photo(&mut tx, photo, id, "image/png", png.len() as i32, &sealed).await?;
            creds
                .samples
                .insert(format!("{}_tracking", spec.slug), serde_json::json!(tracking));
        }
        let step = |m: i64| at + Duration::minutes(m);
        if *state != "open" {
            db::complaints::set_state(&mut tx, id, "acknowledged", step(40), None).await?;
            db::complaints::add_event(&mut tx, id, "acknowledged", "", step(40)).await?;
        }
        match *state {
            "in_progress" | "resolved" => {
                db::complaints::set_state(&mut tx, id, "in_progress", step(90), None).await?;
                db::complaints::add_event(&mut tx, id, "started", "", step(90)).await?;
            }
            _ => {}
        }
        if *state == "resolved" {
            let answer = "当晚价格牌没有及时更换，已退还差价。";
            db::complaints::answer(&mut tx, id, answer, step(120)).await?;
            db::complaints::add_event(&mut tx, id, "answered", answer, step(120)).await?;
            let note = "经核实属实，已责令退还差价并予以警告。";
            db::complaints::set_state(&mut tx, id, "resolved", step(600), Some((true, note, inspector))).await?;
            db::complaints::add_event(&mut tx, id, "resolved", note, step(600)).await?;
        }
        if *state == "rejected" {
            let note = "现场核查时音量在规定范围内。";
            db::complaints::set_state(&mut tx, id, "rejected", step(300), Some((false, note, inspector))).await?;
            db::complaints::add_event(&mut tx, id, "rejected", note, step(300)).await?;
        }
    }

    // Scores (and the colours they may cause) from all of the above.
    let settings = db::settings::get(&mut tx).await?;
    let mut vendors: Vec<Uuid> = codes.iter().map(|c| c.vendor_id).chain(sample).collect();
    vendors.sort();
    vendors.dedup();
    for vendor in vendors {
        supervision::sync_vendor(&mut tx, keys, actor, vendor, now, tenant.timezone, &settings)
            .await
            .map_err(err)?;
    }
    tx.commit().await?;
    Ok(())
}
