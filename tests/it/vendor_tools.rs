//! For vendors: insights on a hand-made data set with known answers (and suggestions only where
//! the numbers support them), credit records (signature, tampering, expiry, revocation, chosen
//! sections only, PDF), goods-source declarations on the scan page and at inspections; and who
//! may do what.

use crate::fixtures::{CheckIn, Rating, ScanNight, Stall};
use crate::helpers::{TestApp, Who};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use nightmarket::demo::load::{LoadTenant, seed_tenant};
use nightmarket_domain::people::Role;
use nightmarket_domain::record::{SignedRecord, Standing};
use nightmarket_domain::tenant::TenantId;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::numbers::app;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn sh(date: &str, hm: &str) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&d(date).and_time(NaiveTime::parse_from_str(hm, "%H:%M").unwrap()))
        .unwrap()
        .with_timezone(&Utc)
}

/// A check-in of `code` on `date` at 18:05 Shanghai time, as the check-in page would make it.
async fn check_in(o: &sqlx::PgPool, tenant: Uuid, code: Uuid, vendor: Uuid, market: Uuid, date: NaiveDate) {
    let stall = Stall {
        tenant,
        code,
        vendor,
        market: Some(market),
    };
    CheckIn {
        night: date,
        at: sh(&date.to_string(), "18:05"),
        late: false,
    }
    .insert(o, &stall)
    .await;
}

/// A bearer token for a user of a seeded tenant (the load seed's vendors have no known password).
async fn token_for(app: &TestApp, tenant: Uuid, user: Uuid, role: Role) -> String {
    let version: i32 = sqlx::query_scalar("select token_version from users where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(user)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    app.state
        .ctx
        .sessions
        .issue(TenantId(tenant), user, role, "vendor", version)
        .unwrap()
        .0
}

struct Market {
    tenant: Uuid,
    /// Stall code ids S1…S7 and their vendors; S1 is "ours".
    stalls: Vec<(Uuid, Uuid)>,
    token: String,
}

/// Tenant `ins` (Shanghai), one market 18:00–23:00, seven stalls: S1–S5 food, S6–S7 culture.
/// Now is 2026-11-20 22:00, so the 30 nights are 10-22 … 11-20.
///
/// - S1 (ours): open Fri 11-06 and 11-13 (46 scans each) and Tue 11-03 and 11-10 (20 each):
///   132 scans, 90 visitors; scans by hour 19:00 42, 20:00 60, 21:00 30; ten ratings averaging
///   4.1, three tagged "short portions".
/// - S2–S5 (food peers): 300/400/500/600 scans, 200/250/300/350 visitors, 20 nights each, ten
///   ratings each averaging 4.5/4.6/4.6/4.7.
/// - S6–S7 (culture): 1,500 scans each.
///
/// So: peers' medians 450 scans, 275 visitors, 20 nights, 4.60; the market's average stall
/// 4,932 / 7 = 704.6 scans, culture 1,500 a stall (2.1×, under-supplied), food 386.4 (0.5×).
async fn market(app: &TestApp) -> Market {
    let t = seed_tenant(
        &app.owner,
        &app.state.ctx.keys,
        &LoadTenant {
            slug: "ins".into(),
            name: "洞察测试区".into(),
            timezone: "Asia/Shanghai".into(),
            stalls: 7,
            opens_at: "18:00".into(),
            closes_at: "23:00".into(),
        },
    )
    .await
    .expect("seed");
    let tenant = t.tenant.id.0;
    let o = &app.owner;
    let stalls: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select c.id, c.vendor_id from codes c join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
         where c.tenant_id = $1 order by s.code",
    )
    .bind(tenant)
    .fetch_all(o)
    .await
    .unwrap();
    assert_eq!(stalls.len(), 7);
    for (i, (code, _)) in stalls.iter().enumerate() {
        sqlx::query(
            "update codes set category = $3, created_at = '2026-06-01T00:00:00Z' where tenant_id = $1 and id = $2",
        )
        .bind(tenant)
        .bind(code)
        .bind(if i < 5 { "food" } else { "culture" })
        .execute(o)
        .await
        .unwrap();
    }
    app.state.ctx.clock.set(sh("2026-11-20", "22:00"));
    let stall = |code: Uuid, vendor: Uuid| Stall {
        tenant,
        code,
        vendor,
        market: Some(t.market_id),
    };
    let night =
        |code: Uuid, vendor: Uuid, date: &str, scans: i64, visitors: i64, hours: Vec<(i16, i64)>, open: bool| {
            let night = d(date);
            async move {
                ScanNight {
                    night,
                    scans,
                    visitors,
                    hours,
                }
                .insert(o, &stall(code, vendor))
                .await;
                if open {
                    check_in(o, tenant, code, vendor, t.market_id, night).await;
                }
            }
        };
    let (s1, v1) = stalls[0];
    for (date, scans, visitors) in [
        ("2026-11-06", 46, 30),
        ("2026-11-13", 46, 30),
        ("2026-11-03", 20, 15),
        ("2026-11-10", 20, 15),
    ] {
        // The busiest hours of the 6th.
        let hours = if date == "2026-11-06" {
            vec![(19, 42), (20, 60), (21, 30)]
        } else {
            Vec::new()
        };
        night(s1, v1, date, scans, visitors, hours, true).await;
    }
    // Peers: scans and visitors on one night, check-ins on twenty.
    for (i, (scans, visitors)) in [(300, 200), (400, 250), (500, 300), (600, 350)].into_iter().enumerate() {
        let (code, vendor) = stalls[1 + i];
        night(code, vendor, "2026-11-19", scans, visitors, Vec::new(), false).await;
        for k in 0..20 {
            check_in(
                o,
                tenant,
                code,
                vendor,
                t.market_id,
                d("2026-10-25") + Duration::days(k),
            )
            .await;
        }
    }
    for (code, vendor) in &stalls[5..] {
        night(*code, *vendor, "2026-11-19", 1500, 900, Vec::new(), false).await;
    }
    // Ratings: stars for ten ratings per stall; S1's three lowest are tagged short portions.
    let ratings: [(usize, [i16; 10]); 5] = [
        (0, [5, 5, 5, 4, 4, 4, 4, 4, 3, 3]), // 41 → 4.1
        (1, [5, 5, 5, 5, 5, 4, 4, 4, 4, 4]), // 45
        (2, [5, 5, 5, 5, 5, 5, 4, 4, 4, 4]), // 46
        (3, [5, 5, 5, 5, 5, 5, 4, 4, 4, 4]), // 46
        (4, [5, 5, 5, 5, 5, 5, 5, 4, 4, 4]), // 47
    ];
    for (stall, stars) in ratings {
        let (code, vendor) = stalls[stall];
        for (k, s) in stars.iter().enumerate() {
            let tags: &[&str] = if stall == 0 && k >= 7 { &["short_portions"] } else { &[] };
            let at = Stall {
                tenant,
                code,
                vendor,
                market: None,
            };
            Rating::new(d("2026-11-13"), *s)
                .tags(tags)
                .device(format!("device-{stall}-{k}"))
                .at(sh("2026-11-13", "20:00"))
                .insert(o, &at)
                .await;
        }
    }
    let token = token_for(app, tenant, v1, Role::Vendor).await;
    Market { tenant, stalls, token }
}

fn kinds(body: &Value) -> Vec<String> {
    body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn insights_have_known_figures_and_suggestions_only_the_numbers_support() {
    let app = app().await;
    let m = market(&app).await;
    let s1 = m.stalls[0].0;
    let path = format!("/api/v1/t/ins/me/stalls/{s1}/insights");
    let (status, body) = app.get_json(&path, Some(&m.token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["from"].as_str(), body["to"].as_str()),
        (Some("2026-10-22"), Some("2026-11-20"))
    );
    let mine = &body["mine"];
    assert_eq!(mine["scans"], 132);
    assert_eq!(mine["visitors"], 90);
    assert_eq!(mine["ratings"], 10);
    assert_eq!(mine["average"], "4.10");
    assert_eq!(mine["nights_open"], 4);
    assert_eq!(mine["complaints"], 0);
    let peers = &body["peers"];
    assert_eq!(peers["stalls"], 4);
    assert_eq!(peers["scans"], 450);
    assert_eq!(peers["visitors"], 275);
    assert_eq!(peers["nights_open"], 20);
    assert_eq!(peers["average"], "4.60");
    assert_eq!(body["nights"].as_array().unwrap().len(), 30);
    assert_eq!(body["hours"][20], 60);
    assert_eq!(body["hours"][19], 42);
    let weekdays = body["weekdays"].as_array().unwrap();
    let fri = weekdays.iter().find(|w| w["weekday"] == 5).unwrap();
    assert_eq!(
        (fri["average_scans"].as_str(), fri["nights"].as_i64()),
        (Some("46.0"), Some(2))
    );
    assert_eq!(body["tags"][0]["key"], "short_portions");
    assert_eq!(body["tags"][0]["count"], 3);
    let demand = body["demand"].as_array().unwrap();
    assert_eq!(demand[0]["category"], "culture");
    assert_eq!(demand[0]["per_stall"], "1500.0");
    assert_eq!(demand[0]["vs_market"], "2.1");
    assert_eq!(demand[0]["under_supplied"], true);
    assert_eq!(demand[1]["category"], "food");
    assert_eq!(demand[1]["vs_market"], "0.5");
    assert_eq!(
        kinds(&body),
        [
            "rating_below",
            "fewer_nights",
            "few_visitors",
            "weekday",
            "peak_hour",
            "under_supplied"
        ]
    );
    let texts: Vec<&str> = body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], "同类摊位平均评分4.6，你是4.1。最常见的差评标签是“分量不足”。");
    assert!(texts[3].contains("周五扫码量是周二的2.3倍"), "{}", texts[3]);
    assert!(
        texts[4].contains("20:00–21:00") && texts[4].contains("45%"),
        "{}",
        texts[4]
    );
    // No other stall is named or identified.
    let text = body.to_string();
    for (code, vendor) in &m.stalls[1..] {
        assert!(!text.contains(&code.to_string()) && !text.contains(&vendor.to_string()));
        let name: String = sqlx::query_scalar("select stall_name from codes where tenant_id = $1 and id = $2")
            .bind(m.tenant)
            .bind(code)
            .fetch_one(&app.owner)
            .await
            .unwrap();
        assert!(!text.contains(&name), "another stall's name: {name}");
    }

    // Ten more five-star ratings: 4.55 is within 0.3 of 4.6, so nothing is said about ratings;
    // the other suggestions stand.
    let first = Stall {
        tenant: m.tenant,
        code: s1,
        vendor: m.stalls[0].1,
        market: None,
    };
    for k in 0..10 {
        Rating::new(d("2026-11-14"), 5)
            .device(format!("late-{k}"))
            .at(sh("2026-11-14", "20:00"))
            .insert(&app.owner, &first)
            .await;
    }
    let (_, body) = app.get_json(&path, Some(&m.token)).await;
    assert_eq!(body["mine"]["average"], "4.55");
    assert!(
        !kinds(&body).contains(&"rating_below".to_string()),
        "{:?}",
        kinds(&body)
    );

    // With two food peers gone there is nothing to compare with.
    sqlx::query("update codes set revoked_at = now(), revoked_reason = 'test' where tenant_id = $1 and id = any($2)")
        .bind(m.tenant)
        .bind(vec![m.stalls[1].0, m.stalls[2].0])
        .execute(&app.owner)
        .await
        .unwrap();
    let (_, body) = app.get_json(&path, Some(&m.token)).await;
    assert!(body["peers"].is_null());
    assert_eq!(kinds(&body), ["weekday", "peak_hour", "under_supplied"]);
}

#[tokio::test]
async fn insights_are_for_the_own_live_stalls_of_a_vendor_only() {
    let app = app().await;
    let m = market(&app).await;
    let s1 = m.stalls[0].0;
    // Another vendor's stall in the same market.
    let (status, _) = app
        .get_json(
            &format!("/api/v1/t/ins/me/stalls/{}/insights", m.stalls[1].0),
            Some(&m.token),
        )
        .await;
    assert_eq!(status, 404);
    // An official, an admin: not vendors.
    let official = app.token("nanan", "official").await;
    let (status, _) = app
        .get_json(&format!("/api/v1/t/nanan/me/stalls/{s1}/insights"), Some(&official))
        .await;
    assert_eq!(status, 403);
    // A vendor of another tenant, through their own tenant or this one.
    let (other, _) = other_vendor(&app, "shangcheng").await;
    let (status, _) = app
        .get_json(&format!("/api/v1/t/shangcheng/me/stalls/{s1}/insights"), Some(&other))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get_json(&format!("/api/v1/t/ins/me/stalls/{s1}/insights"), Some(&other))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get_json(&format!("/api/v1/t/ins/me/stalls/{s1}/insights"), None)
        .await;
    assert_eq!(status, 401);
}

/// The demo vendor of nanan (signed in with their password) and their user id.
async fn vendor_of(app: &TestApp, tenant: &str) -> (String, Uuid) {
    let token = app.token(tenant, "vendor").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&token)).await;
    let id = Uuid::parse_str(me["id"].as_str().unwrap_or_else(|| panic!("{me}"))).unwrap();
    (token, id)
}

/// A vendor with a live stall in another tenant (whose sign-in is not published), by token.
async fn other_vendor(app: &TestApp, tenant: &str) -> (String, Uuid) {
    let tenant = app.tenant_id(tenant).await;
    let vendor: Uuid = sqlx::query_scalar(
        "select vendor_id from codes where tenant_id = $1 and revoked_at is null order by created_at limit 1",
    )
    .bind(tenant)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    (token_for(app, tenant, vendor, Role::Vendor).await, vendor)
}

async fn key_document(app: &TestApp, tenant: &str) -> nightmarket_services::codes::KeyDocument {
    let r = app
        .client()
        .get(app.url(&format!("/t/{tenant}/code-key")))
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_credit_record_verifies_shows_only_what_was_chosen_and_can_expire_or_be_revoked() {
    let app = app().await;
    let (token, _) = vendor_of(&app, "nanan").await;
    let records = "/api/v1/t/nanan/me/credit-records";
    let before = count(&app, "select count(*) from credit_records").await;

    // Bad choices: nothing written.
    for (body, field) in [
        (json!({"sections": [], "days": 30}), "sections"),
        (json!({"sections": ["trading", "bogus"], "days": 30}), "sections"),
        (json!({"sections": ["trading"], "days": 3}), "days"),
    ] {
        let (status, err) = app.send_json(Method::POST, records, Some(&token), &body).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    let (status, _) = app
        .send_json(Method::POST, records, Some(&token), &json!({"days": "thirty"}))
        .await;
    assert!((400..500).contains(&status));
    assert_eq!(count(&app, "select count(*) from credit_records").await, before);

    // Officials and admins do not issue records.
    app.ladder(
        Method::POST,
        records,
        &json!({"sections": ["trading"], "days": 30}),
        &[(Who::Official("nanan"), 403), (Who::Admin("nanan"), 403)],
    )
    .await;

    let (status, issued) = app
        .send_json(
            Method::POST,
            records,
            Some(&token),
            &json!({"sections": ["complaints", "trading", "complaints"], "days": 30}),
        )
        .await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["sections"], json!(["trading", "complaints"]));
    assert_eq!(issued["standing"], "valid");
    let code = issued["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("nanan-"), "{code}");
    let id = issued["id"].as_str().unwrap().to_string();
    let audits = count(
        &app,
        &format!("select count(*) from audit_log where action = 'credit_record.issue' and subject_id = '{id}'"),
    )
    .await;
    assert_eq!(audits, 1);

    // Anyone can check it: valid, with the chosen sections and no others.
    let (status, v) = app.get_json(&format!("/api/v1/verify/{code}"), None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["standing"], "valid");
    let record = &v["record"];
    assert!(record["trading"].is_object() && record["complaints"].is_object());
    for absent in ["score", "inspections", "credentials", "vouchers"] {
        assert!(record.get(absent).is_none(), "{absent} was not chosen");
    }
    assert!(record["vendor"]["id_number_masked"].as_str().unwrap().contains('*'));
    // Typed loosely, the code still finds it.
    let loose = code.to_lowercase().replace('-', " ").replacen(' ', "-", 1);
    let (status, _) = app
        .get_json(&format!("/api/v1/verify/{}", loose.replace(' ', "")), None)
        .await;
    assert_eq!(status, 200, "{loose}");

    // Offline: the signed document against the published keys; a changed byte fails.
    let signed: SignedRecord = serde_json::from_value(v["signed"].clone()).unwrap();
    let keys = key_document(&app, "nanan").await;
    let now = app.state.ctx.clock.now();
    let (standing, payload) = nightmarket_services::credit::verify_offline(&signed, &keys, now).unwrap();
    assert_eq!(standing, Standing::Valid);
    assert!(payload.score.is_none());
    let mut changed = signed.clone();
    changed.payload = changed.payload.replacen("\"received\":", "\"received\":1", 1);
    assert!(nightmarket_services::credit::verify_offline(&changed, &keys, now).is_err());
    let mut changed = signed.clone();
    let mut bytes = changed.payload.into_bytes();
    bytes[10] ^= 1;
    changed.payload = String::from_utf8_lossy(&bytes).into_owned();
    assert!(nightmarket_services::credit::verify_offline(&changed, &keys, now).is_err());
    let other_keys = key_document(&app, "shangcheng").await;
    assert!(nightmarket_services::credit::verify_offline(&signed, &other_keys, now).is_err());

    // The public page says the same and shows only the chosen sections.
    let html = app
        .client()
        .get(app.url(&format!("/verify/{code}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-standing=\"valid\""));
    assert!(html.contains("data-section=\"trading\"") && html.contains("data-section=\"complaints\""));
    assert!(!html.contains("data-section=\"score\"") && !html.contains("data-section=\"vouchers\""));
    let r = app
        .client()
        .get(app.url("/verify/nanan-0000-0000-0000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Another vendor cannot see or revoke it; the vendor of another tenant neither.
    let (other, _) = other_vendor(&app, "shangcheng").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/me/credit-records/{id}/revoke"),
            Some(&other),
            &json!({}),
        )
        .await;
    assert_eq!(status, 404);
    // Through the other tenant's path: that tenant does not know the token's user.
    let (status, _) = app
        .get_json(&format!("/api/v1/t/nanan/me/credit-records/{id}"), Some(&other))
        .await;
    assert_eq!(status, 404);

    // Expired: a month and a day later the record says so and shows nothing.
    app.state.ctx.clock.set(now + Duration::days(31));
    let (_, v) = app.get_json(&format!("/api/v1/verify/{code}"), None).await;
    assert_eq!(v["standing"], "expired");
    assert!(v["record"].is_null() && v["signed"].is_null());
    assert_eq!(
        nightmarket_services::credit::verify_offline(&signed, &keys, now + Duration::days(31))
            .unwrap()
            .0,
        Standing::Expired
    );
    app.state.ctx.clock.set(now);

    // Revoked by its vendor (twice: once audited).
    for _ in 0..2 {
        let (status, r) = app
            .send_json(
                Method::POST,
                &format!("{records}/{id}/revoke"),
                Some(&token),
                &json!({}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(r["standing"], "revoked");
    }
    let (_, v) = app.get_json(&format!("/api/v1/verify/{code}"), None).await;
    assert_eq!(v["standing"], "revoked");
    assert!(v["record"].is_null());
    let audits = count(
        &app,
        &format!("select count(*) from audit_log where action = 'credit_record.revoke' and subject_id = '{id}'"),
    )
    .await;
    assert_eq!(audits, 1);
    let listed = app.get_json(records, Some(&token)).await.1;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str() && r["standing"] == "revoked")
    );
}

#[tokio::test]
async fn a_record_is_a_signed_pdf_and_json_for_its_vendor_and_for_whoever_checks_it() {
    let app = app().await;
    let (token, _) = vendor_of(&app, "nanan").await;
    let (status, issued) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/me/credit-records",
            Some(&token),
            &json!({"sections": ["trading", "score", "complaints", "inspections", "credentials", "vouchers"], "days": 90}),
        )
        .await;
    assert_eq!(status, 201);
    let code = issued["code"].as_str().unwrap();
    let id = issued["id"].as_str().unwrap();
    let vendor = app.signed_in("nanan", "vendor").await;
    let json_file = vendor
        .get(app.url(&format!("/vendor/records/{id}/record.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(json_file.status(), 200);
    let signed: SignedRecord = json_file.json().await.unwrap();
    let keys = key_document(&app, "nanan").await;
    let (_, payload) = nightmarket_services::credit::verify_offline(&signed, &keys, app.state.ctx.clock.now()).unwrap();
    assert!(payload.score.is_some() && payload.vouchers.is_some());

    let font = nightmarket_web::web::pdf::FONT_CANDIDATES
        .iter()
        .any(|p| std::path::Path::new(p).exists());
    for (client, path) in [
        (&vendor, format!("/vendor/records/{id}/record.pdf")),
        (&app.client(), format!("/verify/{code}/record.pdf")),
    ] {
        let r = client.get(app.url(&path)).send().await.unwrap();
        if !font && std::env::var("CI").as_deref() != Ok("true") {
            eprintln!("SKIPPING the PDF check: no CJK font installed (apt-get install fonts-droid-fallback)");
            assert_eq!(r.status(), 503);
            continue;
        }
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{path}");
        assert!(bytes.len() < 200_000, "the font is subset: {} bytes", bytes.len());
        // The text reads back: the code, the link to check it, the holder and a section title.
        let doc = printpdf::PdfDocument::parse(&bytes, &printpdf::PdfParseOptions::default(), &mut Vec::new())
            .expect("a readable PDF");
        let text = doc.extract_text().concat().concat();
        for needle in [
            code,
            "/verify/",
            "信用记录",
            "投诉",
            payload.vendor.name_masked.as_str(),
        ] {
            assert!(text.contains(needle), "{path}: {needle} not in {text}");
        }
    }

    // Offline, as a bank would: the command line with the file and the published keys.
    let dir = std::env::temp_dir().join(format!("nm-record-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("record.json"), serde_json::to_vec(&signed).unwrap()).unwrap();
    std::fs::write(dir.join("keys.json"), serde_json::to_vec(&keys).unwrap()).unwrap();
    let run = |record: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nightmarket"))
            .args(["record", "verify"])
            .arg(dir.join(record))
            .arg("--keys")
            .arg(dir.join("keys.json"))
            .output()
            .unwrap()
    };
    let out = run("record.json");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.starts_with("genuine"), "{said}");
    let mut changed = signed.clone();
    changed.payload = changed.payload.replacen("\"v\":1", "\"v\":2", 1);
    std::fs::write(dir.join("changed.json"), serde_json::to_vec(&changed).unwrap()).unwrap();
    let out = run("changed.json");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT GENUINE"));
    std::fs::remove_dir_all(&dir).ok();
    // Another vendor's record is not found for this vendor.
    let (other, _) = other_vendor(&app, "shangcheng").await;
    let r = app
        .client()
        .get(app.url(&format!("/vendor/records/{id}/record.pdf")))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn goods_sources_are_declared_shown_on_the_scan_page_and_checked_at_an_inspection() {
    let app = app().await;
    let (token, vendor) = vendor_of(&app, "nanan").await;
    let tenant = app.tenant_id("nanan").await;
    let (code_id, path): (Uuid, String) = {
        let (id, code, kid, sig): (Uuid, String, String, String) = sqlx::query_as(
            "select id, code, kid, signature from codes where tenant_id = $1 and vendor_id = $2 and revoked_at is null
             order by created_at limit 1",
        )
        .bind(tenant)
        .bind(vendor)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        (id, nightmarket_domain::code::code_path(&code, &kid, &sig))
    };
    let category: String = sqlx::query_scalar("select category from codes where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(code_id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(category, "food", "the demo vendor's first stall sells food");
    let sources = "/api/v1/t/nanan/me/goods-sources";
    let before = count(&app, "select count(*) from goods_sources").await;
    let today = app.state.ctx.clock.now().with_timezone(&Shanghai).date_naive();
    for (body, field) in [
        (
            json!({"supplier": "", "place": "江津", "batch": "B1", "received_on": today.to_string()}),
            "supplier",
        ),
        (
            json!({"supplier": "渝鲜", "place": "江津", "batch": "", "received_on": today.to_string()}),
            "batch",
        ),
        (
            json!({"supplier": "渝鲜", "place": "江津", "batch": "B1", "received_on": (today + Duration::days(1)).to_string()}),
            "received_on",
        ),
        (
            json!({"supplier": "渝鲜", "place": "江津", "batch": "B1", "received_on": "yesterday"}),
            "received_on",
        ),
    ] {
        let (status, err) = app.send_json(Method::POST, sources, Some(&token), &body).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert!(err.to_string().contains(field), "{err}");
    }
    assert_eq!(count(&app, "select count(*) from goods_sources").await, before);
    let official = app.token("nanan", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            sources,
            Some(&official),
            &json!({"supplier": "渝鲜", "place": "江津", "batch": "B1", "received_on": today.to_string()}),
        )
        .await;
    assert_eq!(status, 403);

    // The scan page is read (and cached) before the declaration, which must not leave it stale.
    let shopper = app.client();
    let page = shopper.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let (status, made) = app
        .send_json(
            Method::POST,
            sources,
            Some(&token),
            &json!({"supplier": "<b>渝鲜冷链</b>", "place": "重庆市江津区", "batch": "RK-9", "received_on": today.to_string()}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let source_id = made["id"].as_str().unwrap().to_string();
    assert!(!page.contains(&format!("最近进货 {today}，来自重庆市江津区")));
    let page = shopper.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("进货来源已申报"), "the scan page shows the declaration");
    assert!(page.contains(&format!("最近进货 {today}，来自重庆市江津区")));
    let audits = count(
        &app,
        &format!("select count(*) from audit_log where action = 'goods_source.declare' and subject_id = '{source_id}'"),
    )
    .await;
    assert_eq!(audits, 1);

    // An official checks it during an inspection; a declaration of another vendor cannot be.
    let (other_vendor_source,): (Uuid,) =
        sqlx::query_as("select g.id from goods_sources g where g.tenant_id = $1 and g.vendor_id <> $2 limit 1")
            .bind(tenant)
            .bind(vendor)
            .fetch_optional(&app.owner)
            .await
            .unwrap()
            .unwrap_or((Uuid::new_v4(),));
    let inspect = format!("/api/v1/t/nanan/codes/{code_id}/inspections");
    let inspections_before = count(&app, "select count(*) from inspections").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &inspect,
            Some(&official),
            &json!({"problems": [], "goods_checked": [other_vendor_source]}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        count(&app, "select count(*) from inspections").await,
        inspections_before,
        "no partial write"
    );
    let (status, body) = app
        .send_json(
            Method::POST,
            &inspect,
            Some(&official),
            &json!({"problems": [], "goods_checked": [source_id]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, list) = app.get_json(sources, Some(&token)).await;
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == source_id.as_str())
        .unwrap();
    assert!(mine["checked_at"].is_string() && mine["checked_by"].is_string());
    assert_eq!(mine["supplier"], "<b>渝鲜冷链</b>", "kept as typed");
    let page = shopper.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已经检查人员核对"));
    // The official's code page lists it, escaped.
    let official_page = app.signed_in("nanan", "official").await;
    let html = official_page
        .get(app.url(&format!("/official/codes/{code_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("&lt;b&gt;渝鲜冷链&lt;/b&gt;") || html.contains("&#60;b&#62;渝鲜冷链"));

    // From the page: a receipt photo instead of a batch number, sealed at rest, shown to its
    // vendor and to officials only.
    let png = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::RgbImage::from_pixel(4, 4, image::Rgb([200, 30, 30]))
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let vendor_page = app.signed_in("nanan", "vendor").await;
    let form = reqwest::multipart::Form::new()
        .text("supplier", "南岸蔬菜合作社")
        .text("place", "重庆市南岸区")
        .text("batch", "")
        .text("received_on", today.to_string())
        .part(
            "photo",
            reqwest::multipart::Part::bytes(png.clone()).file_name("receipt.png"),
        );
    let r = vendor_page
        .post(app.url("/vendor/goods"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/vendor/goods?notice=declared");
    let (photo_id, sealed): (Uuid, Vec<u8>) =
        sqlx::query_as("select id, photo_enc from goods_sources where tenant_id = $1 and supplier = '南岸蔬菜合作社'")
            .bind(tenant)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(
        !sealed.windows(4).any(|w| w == b"\x89PNG"),
        "the photo is sealed at rest"
    );
    let mine = vendor_page
        .get(app.url(&format!("/goods-photos/{photo_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(mine.bytes().await.unwrap().as_ref(), png.as_slice());
    let seen = official_page
        .get(app.url(&format!("/goods-photos/{photo_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), 200);
    let (stranger, _) = other_vendor(&app, "shangcheng").await;
    let r = app
        .client()
        .get(app.url(&format!("/goods-photos/{photo_id}")))
        .bearer_auth(stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // A vendor whose stalls sell no food or produce cannot declare.
    let (other, other_id) = other_vendor(&app, "shangcheng").await;
    let sells_food: bool = sqlx::query_scalar(
        "select exists (select 1 from codes where vendor_id = $1 and revoked_at is null and category in ('food', 'produce'))",
    )
    .bind(other_id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/shangcheng/me/goods-sources",
            Some(&other),
            &json!({"supplier": "渝鲜", "place": "江津", "batch": "B1", "received_on": today.to_string()}),
        )
        .await;
    assert_eq!(status, if sells_food { 201 } else { 422 });
    // And a vendor of another tenant reads only their own.
    let (_, theirs) = app
        .get_json("/api/v1/t/shangcheng/me/goods-sources", Some(&other))
        .await;
    assert!(!theirs.to_string().contains(&source_id));
}

#[tokio::test]
async fn every_stall_gets_one_insight_notice_a_week() {
    let app = app().await;
    let m = market(&app).await;
    let (s1, v1) = m.stalls[0];
    let now = app.state.ctx.clock.now();
    let sent = nightmarket_services::insights::send_weekly(&app.state.ctx.db, &app.state.ctx.keys, now, 500)
        .await
        .unwrap();
    let live: i64 = count(&app, "select count(*) from codes where revoked_at is null").await;
    assert_eq!(sent as i64, live, "one notice per live stall");
    let notices = |vendor: Uuid| {
        let o = app.owner.clone();
        async move {
            sqlx::query_as::<_, (Value, Option<String>)>(
                "select args, link from notifications where user_id = $1 and kind = 'weekly_insights' order by created_at",
            )
            .bind(vendor)
            .fetch_all(&o)
            .await
            .unwrap()
        }
    };
    let first = notices(v1).await;
    assert_eq!(first.len(), 1);
    let (args, link) = &first[0];
    assert_eq!(link.as_deref(), Some(format!("/vendor/stalls/{s1}/insights").as_str()));
    assert_eq!(args["week"], "2026-W47");
    assert!(args["tip"].as_str().unwrap().contains("分量不足"), "{args}");
    assert!(args["tip_en"].as_str().unwrap().contains("Short portions"), "{args}");
    // The vendor reads it in the inbox, in their language.
    let (_, inbox) = app.get_json("/api/v1/me/notifications", Some(&m.token)).await;
    assert!(inbox.to_string().contains("本周经营建议"), "{inbox}");

    // Again this week: nothing. Next week: again.
    let again = nightmarket_services::insights::send_weekly(&app.state.ctx.db, &app.state.ctx.keys, now, 500)
        .await
        .unwrap();
    assert_eq!(again, 0);
    let next = now + Duration::days(7);
    let sent = nightmarket_services::insights::send_weekly(&app.state.ctx.db, &app.state.ctx.keys, next, 500)
        .await
        .unwrap();
    assert_eq!(sent as i64, live);
    assert_eq!(notices(v1).await.len(), 2);
}
