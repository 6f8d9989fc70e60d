//! The demo's supervision: an API key for the health-status feed, credentials from the approved
//! applications with a few lapsed or reported invalid (red codes) and one expiring (yellow), a
//! renewal waiting, check-ins over the last nights and tonight so far, inspections with
//! deductions (one vendor over the monthly allowance), and appeals, one waiting.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use nightmarket_domain::credential::{Kind, Source, Status};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::stalls::{Dice, official, placeholder_png};
use super::{DemoCredentials, TenantSpec};
use nightmarket_db::codes::{CodeFilter, CodeRow};
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::code::Colour;
use nightmarket_domain::credential::month_of;
use nightmarket_domain::geo::LatLng;
use nightmarket_domain::market::Category;
use nightmarket_domain::notice::NoticeKind;
use nightmarket_domain::tenant::{Tenant, TenantId};
use nightmarket_services::audit::{self, ActorKind, Author, Change};
use nightmarket_services::pii::Place;
use nightmarket_services::secrets::Keys;
use nightmarket_services::{credentials, inspections, live, supervision};

fn err(e: nightmarket_web::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("demo supervision: {e}")
}

/// The instant of a local wall-clock time in the tenant's zone.
fn instant(tenant: &Tenant, local: NaiveDateTime) -> DateTime<Utc> {
    tenant
        .timezone
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| local.and_utc())
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
    let today = supervision::local_date(now, tenant.timezone);
    let mut dice = Dice(0xD1CE_5EED_0BAD_F00D ^ spec.slug.len() as u64);
    let mut tx = TenantTx::begin(owner, tenant.id).await?;
    let settings = db::settings::get(&mut tx).await?;
    let inspector = official(&mut tx).await?;
    let png = placeholder_png();

    // The health-status feed's key, published in the credentials file.
    let (key, secret) = credentials::create_api_key(&mut tx, keys, actor, "健康码系统（演示）")
        .await
        .map_err(err)?;
    creds
        .api_keys
        .push(serde_json::json!({ "tenant": spec.slug, "key_id": key.key_id, "secret": secret }));

    // Credentials from what the approved applications carried.
    let codes = db::codes::list(
        &mut tx,
        &CodeFilter {
            live: true,
            ..Default::default()
        },
    )
    .await?;
    for code in &codes {
        if let Some(app) = db::applications::get(&mut tx, code.application_id).await? {
            credentials::from_application(&mut tx, &app).await.map_err(err)?;
        }
    }

    // Vendors to give a story: never the one whose sign-in or code is published.
    let sample: Option<Uuid> = creds
        .samples
        .get(&format!("{}_vendor_id", spec.slug))
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok());
    let green: Vec<&CodeRow> = codes
        .iter()
        .filter(|c| c.colour == Colour::Green && Some(c.vendor_id) != sample)
        .collect();
    let food: Vec<&CodeRow> = green.iter().copied().filter(|c| c.category == Category::Food).collect();
    let other: Vec<&CodeRow> = green.iter().copied().filter(|c| c.category != Category::Food).collect();

    // 1. A health certificate that lapsed three days ago; its renewal waits for an official.
    if let Some(c) = food.first() {
        let expired = today - Duration::days(3);
        db::credentials::upsert(
            &mut tx,
            c.vendor_id,
            Kind::Health,
            None,
            Some(expired),
            Status::Expired,
            "",
            Source::Application,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("credential.expire", "user", c.vendor_id)
                .after(&serde_json::json!({ "credential": "health", "status": "expired", "expires_on": expired })),
        )
        .await?;
        let renewal = Uuid::new_v4();
        let sealed = keys.seal(
            &Place {
                tenant: tenant.id,
                table: "credential_renewals",
                column: "document_enc",
                row: renewal,
            },
            &png,
        );
        let new_expiry = today + Duration::days(365);
        db::credentials::insert_renewal(
            &mut tx,
            renewal,
            c.vendor_id,
            Kind::Health,
            "JK2026-01933",
            new_expiry,
            "image/png",
            &sealed,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("credential.renewal", "user", c.vendor_id)
                .after(&serde_json::json!({ "renewal": renewal, "kind": "health", "expires_on": new_expiry })),
        )
        .await?;
        let who = c.vendor_name_masked.as_str();
        live::notify_staff(
            &mut tx,
            now,
            NoticeKind::RenewalFiled,
            &[("vendor", who), ("credential", "健康证")],
            Some("/official/renewals"),
        )
        .await?;
    }

    // 2. A health status reported invalid by the feed, two hours ago.
    if let Some(c) = food.get(1).or(other.last()) {
        let occurred = now - Duration::hours(2);
        let body = serde_json::json!({
            "event_id": format!("demo-{}-0001", spec.slug), "vendor_id": c.vendor_id, "credential": "health",
            "status": "invalid", "reason": "健康码转为红码", "occurred_at": occurred
        });
        let body_hash = Sha256::digest(body.to_string().as_bytes()).to_vec();
        db::credentials::upsert(
            &mut tx,
            c.vendor_id,
            Kind::Health,
            None,
            None,
            Status::Invalid,
            "健康码转为红码",
            Source::External,
        )
        .await?;
        db::credentials::insert_event(
            &mut tx,
            &format!("demo-{}-0001", spec.slug),
            key.id,
            &body_hash,
            c.vendor_id,
            Kind::Health,
            Status::Invalid,
            occurred,
        )
        .await?;
        let feed = Author {
            kind: ActorKind::External,
            id: Some(key.id),
            label: format!("api:{}", key.name),
            request_id: None,
        };
        audit::record(
            &mut tx,
            &feed,
            Change::new("credential.event", "user", c.vendor_id).after(&body),
        )
        .await?;
        live::notify_staff(
            &mut tx,
            now,
            NoticeKind::CredentialEvent,
            &[
                ("vendor", &c.vendor_name_masked),
                ("credential", "健康证"),
                ("status", "无效"),
                ("source", &key.name),
            ],
            None,
        )
        .await?;
        // The vendor disputes it an hour later: waiting for an official (官员：证照更新与异议).
        let dispute = Uuid::new_v4();
        db::disputes::insert(
            &mut tx,
            dispute,
            c.vendor_id,
            Kind::Health,
            Some(&format!("demo-{}-0001", spec.slug)),
            "我昨天已在社区医院复检，结果正常，健康码报告有误，请核实。",
            now - Duration::hours(1),
        )
        .await?;
        audit::record(
            &mut tx,
            &Author::user(c.vendor_id, format!("vendor:{}", c.vendor_name_masked), None),
            Change::new("credential.dispute", "user", c.vendor_id)
                .after(&serde_json::json!({ "dispute": dispute, "kind": "health" })),
        )
        .await?;
    }

    // 3. A food licence that expires in nine days (yellow).
    if let Some(c) = food.get(2) {
        db::credentials::upsert(
            &mut tx,
            c.vendor_id,
            Kind::FoodLicence,
            None,
            Some(today + Duration::days(9)),
            Status::Valid,
            "",
            Source::Application,
        )
        .await?;
    }

    // Inspections: passed ones, small deductions for the published vendor (one appeal waiting, one
    // still open to appeal), an appeal upheld, and one vendor over the monthly allowance.
    let scheme = inspections::problems(&mut tx).await.map_err(err)?;
    let problem = |code: &str| scheme.iter().find(|p| p.code == code).cloned();
    let mut plan: Vec<(&CodeRow, i64, Vec<&str>, &str)> = Vec::new();
    for (i, c) in green.iter().skip(3).take(4).enumerate() {
        plan.push((c, 1 + i as i64 * 2, vec![], "摊位整洁，亮码经营，证照齐全。"));
    }
    if let Some(c) = codes.iter().find(|c| Some(c.vendor_id) == sample) {
        plan.push((c, 2, vec!["outside_slot"], "桌椅摆放超出摊位线约半米，已现场提醒。"));
        plan.push((c, 0, vec!["no_price_tags"], "部分商品未标价。"));
    }
    if let Some(c) = other.get(1) {
        plan.push((
            c,
            0,
            vec!["unlicensed", "hygiene"],
            "无法出示经营码及相关证照，现场杂物堆放。",
        ));
    }
    if let Some(c) = green.get(8) {
        plan.push((c, 9, vec!["hygiene"], "操作台面有油污。"));
    }
    let mut deductions = Vec::new();
    for (n, (code, days_ago, found, notes)) in plan.into_iter().enumerate() {
        let at = now - Duration::days(days_ago) - Duration::minutes(30 + 7 * n as i64);
        let id = Uuid::new_v4();
        let chosen: Vec<_> = found.iter().filter_map(|f| problem(f)).collect();
        db::inspections::insert(
            &mut tx,
            &db::inspections::NewInspection {
                id,
                code_id: code.id,
                vendor_id: code.vendor_id,
                market_id: code.market_id,
                official_id: inspector,
                at,
                passed: chosen.is_empty(),
                notes,
                synced_at: None,
                downloaded_at: None,
            },
        )
        .await?;
        if n == 0 || (!chosen.is_empty() && deductions.is_empty()) {
            let photo = Uuid::new_v4();
            let sealed = keys.seal(
                &Place {
                    tenant: tenant.id,
                    table: "inspection_photos",
                    column: "data_enc",
                    row: photo,
                },
                &png,
            );
            db::inspections::insert_photo(&mut tx, photo, id, "image/png", png.len() as i32, &sealed).await?;
        }
        let month = month_of(supervision::local_date(at, tenant.timezone));
        for p in &chosen {
            let d = Uuid::new_v4();
            db::inspections::insert_deduction(&mut tx, d, id, code.vendor_id, &p.code, &p.label, p.points, month, at)
                .await?;
            deductions.push((d, code, p.code.clone(), at));
        }
        audit::record(
            &mut tx,
            actor,
            Change::new("inspection.record", "code", code.id).after(&serde_json::json!({
                "inspection": id, "passed": chosen.is_empty(),
                "problems": chosen.iter().map(|p| serde_json::json!({"code": p.code, "points": p.points})).collect::<Vec<_>>()
            })),
        )
        .await?;
    }
    // The published vendor appealed the first of their deductions; the hygiene one from last
    // week was appealed and upheld.
    if let Some((d, code, problem_code, at)) = deductions
        .iter()
        .find(|(_, c, p, _)| Some(c.vendor_id) == sample && p == "outside_slot")
    {
        let filed = *at + Duration::hours(20);
        let appeal = Uuid::new_v4();
        let png = placeholder_png();
        let sealed = keys.seal(
            &Place {
                tenant: tx.tenant(),
                table: "appeals",
                column: "photo_enc",
                row: appeal,
            },
            &png,
        );
        db::inspections::insert_appeal(
            &mut tx,
            &db::inspections::NewAppeal {
                id: appeal,
                deduction: *d,
                vendor: code.vendor_id,
                text: "当晚是隔壁摊位的桌椅，不是我们摆的，有照片为证。",
                at: filed,
                photo: Some(("image/png", png.len() as i32, &sealed)),
            },
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("appeal.file", "deduction", *d).after(&serde_json::json!({ "appeal": appeal, "photo": true })),
        )
        .await?;
        let label = problem(problem_code).map(|p| p.label).unwrap_or_default();
        live::notify_staff(
            &mut tx,
            now,
            NoticeKind::AppealFiled,
            &[
                ("vendor", &code.vendor_name_masked),
                ("problem", &label),
                ("points", "2"),
            ],
            Some("/official/appeals"),
        )
        .await?;
    }
    if let Some((d, code, _, at)) = deductions
        .iter()
        .find(|(_, _, p, at)| p == "hygiene" && *at < now - Duration::days(5))
    {
        let appeal = Uuid::new_v4();
        db::inspections::insert_appeal(
            &mut tx,
            &db::inspections::NewAppeal {
                id: appeal,
                deduction: *d,
                vendor: code.vendor_id,
                text: "已当场清洁，请求撤销扣分。",
                at: *at + Duration::hours(12),
                photo: None,
            },
        )
        .await?;
        db::inspections::decide_appeal(
            &mut tx,
            appeal,
            nightmarket_domain::case::AppealState::Upheld,
            inspector,
            "照片显示台面确有油污，维持扣分。",
            *at + Duration::days(1),
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            Change::new("appeal.uphold", "deduction", *d).after(&serde_json::json!({ "appeal": appeal })),
        )
        .await?;
    }

    // Check-ins: the last seven nights, and tonight up to now.
    let markets = db::markets::list(&mut tx).await?;
    let early = Duration::minutes(i64::from(settings.checkin_early_minutes));
    let late_after = Duration::minutes(i64::from(settings.late_after_minutes));
    for market in &markets {
        let hours = market.hours();
        let now_local = now.with_timezone(&tenant.timezone).naive_local();
        let current: NaiveDate = hours.business_date(now_local);
        for code in codes
            .iter()
            .filter(|c| c.market_id == market.id && c.colour != Colour::Red)
        {
            for back in (0..=7).rev() {
                let night = current - Duration::days(back);
                if dice.below(100) >= 85 {
                    continue;
                }
                let opens = night.and_time(hours.opens);
                let local = opens - early + Duration::minutes(20 + dice.below(90) as i64);
                if local > now_local {
                    continue;
                }
                let at = instant(&tenant, local);
                let jitter = |d: &mut Dice| 0.0003 * (d.below(5) as f64 - 2.0);
                let (lat, lng) = (
                    market.center_lat + jitter(&mut dice),
                    market.center_lng + jitter(&mut dice),
                );
                let distance_m = market.fence().center.distance_m(LatLng { lat, lng });
                let id = db::checkins::insert(
                    &mut tx,
                    &db::checkins::NewCheckIn {
                        code_id: code.id,
                        vendor_id: code.vendor_id,
                        market_id: market.id,
                        business_date: night,
                        at,
                        lat,
                        lng,
                        accuracy_m: Some(8.0 + dice.below(30) as f64),
                        distance_m,
                        late: local > opens + late_after,
                    },
                )
                .await?;
                let closes = if hours.crosses_midnight() {
                    night + Duration::days(1)
                } else {
                    night
                }
                .and_time(hours.closes);
                let out = closes - Duration::minutes(dice.below(75) as i64);
                if out <= now_local && dice.below(100) < 60 {
                    db::checkins::check_out(&mut tx, id, instant(&tenant, out)).await?;
                }
            }
        }
    }

    // Bring every code's colour up to date with all of the above (and tell the officials).
    let mut vendors: Vec<Uuid> = codes.iter().map(|c| c.vendor_id).collect();
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
