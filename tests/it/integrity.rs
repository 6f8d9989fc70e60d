//! Integrity: what a script, a rival or a careless client could do to what others see, and facts
//! the platform must not state wrongly.

use crate::helpers::{Options, TestApp, Who, http};
use crate::scan::{check_in, complain};
use crate::supervision::{Stall, at, demo_stall, event, feed_key, scan_colour, send_event, today};
use chrono::{Duration, NaiveDate, Utc};
use nightmarket_services::access::throttle::ThrottleSettings;
use nightmarket_services::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// A clock that stands still, and shopper limits far above what these tests send, so that what
/// stops a script here is the mechanism under test and not the rate limit.
async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        configure: |c| {
            c.clock = Clock::fixed(Utc::now());
            c.shopper_throttle = ThrottleSettings {
                account_burst: 1_000,
                account_period: std::time::Duration::from_secs(3600),
                address_burst: 1_000,
                address_period: std::time::Duration::from_secs(3600),
            };
        },
        ..Options::default()
    })
    .await
}

fn rate_path(stall: &Stall) -> String {
    stall.path.replacen('?', "/rate?", 1)
}

/// A trading night for the demo stall: checked in, the clock at 20:00.
async fn trading(app: &TestApp, stall: &Stall) -> NaiveDate {
    let night = today() + Duration::days(3);
    check_in(app, stall, night).await;
    app.state.ctx.clock.set(at(night, "20:00"));
    night
}

/// (counted, held, voided) ratings of a stall.
async fn standings(app: &TestApp, code: Uuid) -> (i64, i64, i64) {
    sqlx::query_as(
        "select count(*) filter (where status = 'counted'), count(*) filter (where status = 'held'),
                count(*) filter (where status = 'voided')
         from ratings where code_id = $1",
    )
    .bind(code)
    .fetch_one(&app.owner)
    .await
    .unwrap()
}

async fn score(app: &TestApp, code: Uuid) -> Value {
    let official = app.token("nanan", "official").await;
    let (s, b) = app
        .get_json(&format!("/api/v1/t/nanan/codes/{code}/score"), Some(&official))
        .await;
    assert_eq!(s, 200, "{b}");
    b
}

/// Opens the scan page as a fresh phone (its own cookie), then rates one star with the ticket the
/// page handed out: (status, where it led).
async fn scan_and_rate(app: &TestApp, stall: &Stall, stars: &str) -> (u16, String) {
    let phone = app.client();
    let ticket = app
        .rating_ticket(&phone, &stall.path)
        .await
        .expect("a ticket on the scan page");
    let r = phone
        .post(app.url(&rate_path(stall)))
        .form(&[("stars", stars), ("ticket", &ticket)])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location)
}

#[tokio::test]
async fn thirty_cookieless_rating_posts_change_nothing() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let before = standings(&app, stall.id).await;
    let score_before = score(&app, stall.id).await["score"]["score"].clone();
    // A script that never opened the scan page: no cookie, no ticket, or one it made up.
    for i in 0..30 {
        let ticket = if i % 2 == 0 {
            String::new()
        } else {
            format!("{}.0123456789abcdef.{}", Utc::now().timestamp(), "00".repeat(16))
        };
        let r = http()
            .post(app.url(&rate_path(&stall)))
            .form(&[("stars", "1"), ("ticket", ticket.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409, "post {i}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("扫描摊位上的经营码"),
            "the refusal says what to do: {html}"
        );
    }
    assert_eq!(standings(&app, stall.id).await, before, "nothing written");
    assert_eq!(score(&app, stall.id).await["score"]["score"], score_before);

    // A ticket is for the device and stall it was handed to: another phone cannot use it.
    let phone = app.client();
    let ticket = app.rating_ticket(&phone, &stall.path).await.unwrap();
    let r = app
        .client()
        .post(app.url(&rate_path(&stall)))
        .form(&[("stars", "1"), ("ticket", ticket.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    // Three hours later it has expired, even for its own phone.
    app.state
        .config
        .clock
        .set(app.state.ctx.clock.now() + Duration::hours(3) + Duration::minutes(1));
    let r = phone
        .post(app.url(&rate_path(&stall)))
        .form(&[("stars", "1"), ("ticket", ticket.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("超过 3 小时"));
    assert_eq!(standings(&app, stall.id).await, before, "still nothing written");
}

#[tokio::test]
async fn a_script_that_scans_each_time_gets_its_allowance_counted_and_the_rest_held_for_an_official() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let (counted_before, _, _) = standings(&app, stall.id).await;
    let count_before = score(&app, stall.id).await["score"]["inputs"]["rating_count"]
        .as_i64()
        .unwrap();
    let mut outcomes = Vec::new();
    for _ in 0..30 {
        let (s, location) = scan_and_rate(&app, &stall, "1").await;
        assert_eq!(s, 303, "{location}");
        outcomes.push(location);
    }
    // Three count (the address's allowance), the rest are held, none dropped.
    let counted = outcomes.iter().filter(|l| l.ends_with("done=rated")).count();
    let held = outcomes.iter().filter(|l| l.ends_with("done=held")).count();
    assert_eq!((counted, held), (3, 27), "{outcomes:?}");
    let (c, h, _) = standings(&app, stall.id).await;
    assert_eq!((c - counted_before, h), (3, 27));
    // The shopper is told the truth: received, counted once staff have checked it.
    let phone = app.client();
    let page = phone
        .get(app.url(&format!("{}&done=held", stall.path)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("工作人员核实后计入"), "{page}");
    // The score counts only the three.
    let after = score(&app, stall.id).await;
    assert_eq!(
        after["score"]["inputs"]["rating_count"].as_i64().unwrap(),
        count_before + 3
    );

    // Officials find the held ones in their queue (once notified), not officials of another
    // district nor the vendor.
    let official = app.token("nanan", "official").await;
    let (s, queue) = app.get_json("/api/v1/t/nanan/ratings/held", Some(&official)).await;
    assert_eq!(s, 200, "{queue}");
    let queue = queue.as_array().unwrap().clone();
    assert_eq!(queue.len(), 27);
    assert_eq!(queue[0]["held_reason"], "address_burst");
    let notices: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'ratings_held'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(notices >= 1, "officials are told");
    app.ladder(
        Method::GET,
        "/api/v1/t/nanan/ratings/held",
        &json!(null),
        &[(Who::Vendor("nanan"), 403), (Who::Nobody, 401)],
    )
    .await;
    let other = app.token("shangcheng", "official").await;
    let (s, list) = app.get_json("/api/v1/t/shangcheng/ratings/held", Some(&other)).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(0)));
    let first = queue[0]["id"].as_str().unwrap().to_string();
    let decide = format!("/api/v1/t/nanan/ratings/{first}/decision");
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/ratings/{first}/decision"),
            Some(&other),
            &json!({"decision": "release"}),
        )
        .await;
    assert_eq!(s, 404, "another district's official cannot see it");

    // Released, it counts; voiding needs a reason.
    let (s, b) = app
        .send_json(Method::POST, &decide, Some(&official), &json!({"decision": "release"}))
        .await;
    assert_eq!(s, 204, "{b}");
    let (s, _) = app
        .send_json(Method::POST, &decide, Some(&official), &json!({"decision": "release"}))
        .await;
    assert_eq!(s, 409, "released once");
    let second = queue[1]["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/ratings/{second}/decision"),
            Some(&official),
            &json!({"decision": "void"}),
        )
        .await;
    assert_eq!(s, 422, "a reason is needed to void");
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/ratings/{second}/decision"),
            Some(&official),
            &json!({"decision": "void", "note": "同一地址刷评"}),
        )
        .await;
    assert_eq!(s, 204);
    let (c, h, v) = standings(&app, stall.id).await;
    assert_eq!((c - counted_before, h, v), (4, 25, 1));
    assert_eq!(
        score(&app, stall.id).await["score"]["inputs"]["rating_count"]
            .as_i64()
            .unwrap(),
        count_before + 4,
        "the score follows at once"
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action in ('rating.release', 'rating.void')")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(audited, 2);

    // The queue page shows them with the actions.
    let desk = app.signed_in("nanan", "official").await;
    let html = desk
        .get(app.url("/official/ratings/held"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("暂缓计分的评价") && html.contains("作废星级"), "{html}");
}

#[tokio::test]
async fn an_official_voids_a_ratings_stars_and_they_leave_the_score_and_the_tenant_mean() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let before = score(&app, stall.id).await;
    let (s, _) = scan_and_rate(&app, &stall, "1").await;
    assert_eq!(s, 303);
    let rated = score(&app, stall.id).await;
    let n = |b: &Value| b["score"]["inputs"]["rating_count"].as_i64().unwrap();
    let mean = |b: &Value| b["score"]["inputs"]["tenant_mean"].as_f64().unwrap();
    assert_eq!(n(&rated), n(&before) + 1);
    assert!(mean(&rated) < mean(&before), "one star lowers the tenant mean");
    let id: Uuid = sqlx::query_scalar("select id from ratings where code_id = $1 order by created_at desc limit 1")
        .bind(stall.id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    // A vendor may not; an official may, with a reason.
    let body = json!({"decision": "void", "note": "竞争对手恶意差评，已核实"});
    let path = format!("/api/v1/t/nanan/ratings/{id}/decision");
    app.ladder(
        Method::POST,
        &path,
        &body,
        &[(Who::Vendor("nanan"), 403), (Who::Official("shangcheng"), 404)],
    )
    .await;
    let official = app.token("nanan", "official").await;
    let (s, _) = app.send_json(Method::POST, &path, Some(&official), &body).await;
    assert_eq!(s, 204);
    let voided = score(&app, stall.id).await;
    assert_eq!(n(&voided), n(&before));
    assert!((mean(&voided) - mean(&before)).abs() < 1e-9, "the mean is as before");
    assert_eq!(voided["score"]["score"], before["score"]["score"]);
    let (s, _) = app.send_json(Method::POST, &path, Some(&official), &body).await;
    assert_eq!(s, 409, "voided once");
    // The words stay for the record; the stars are gone from the public page.
    let page = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&format!("data-rating=\"{id}\"")));
}

#[tokio::test]
async fn anonymous_complaints_do_not_move_the_colour_or_voucher_use_and_a_burst_is_held() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    // Three anonymous complaints from one device within a second, no SMS.
    let device = app.client();
    for i in 0..3 {
        let (s, loc) = complain(
            &app,
            &device,
            &stall,
            &[("category", "hygiene"), ("description", &format!("摊位周围有垃圾 {i}"))],
        )
        .await;
        assert_eq!(s, 303, "{loc}");
    }
    assert_eq!(
        scan_colour(&app, &stall.path).await,
        "green",
        "anonymous taps never colour a code"
    );
    // A scripted burst from one address: past the allowance, held for screening; the vendor is not
    // told of held ones.
    let vendor_notices = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from notifications where kind = 'complaint_about_stall'")
            .fetch_one(&app.owner)
            .await
            .unwrap()
    };
    let told_before = vendor_notices().await;
    for i in 0..10 {
        let (s, _) = complain(
            &app,
            &app.client(),
            &stall,
            &[("category", "price_fraud"), ("description", &format!("价格欺诈 {i}"))],
        )
        .await;
        assert_eq!(s, 303);
    }
    let held: i64 =
        sqlx::query_scalar("select count(*) from complaints where code_id = $1 and held_reason is not null")
            .bind(stall.id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(held, 10, "the three before were the address's allowance");
    assert_eq!(vendor_notices().await, told_before);
    let official = app.token("nanan", "official").await;
    let (s, queue) = app.get_json("/api/v1/t/nanan/complaints", Some(&official)).await;
    assert_eq!(s, 200);
    assert_eq!(
        queue
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["held_reason"] == "address_burst")
            .count(),
        10,
        "officials see them, marked"
    );
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    // Accepted by an official, three carry weight: yellow.
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select id from complaints where code_id = $1 and state = 'open' order by created_at limit 3",
    )
    .bind(stall.id)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    for id in &ids {
        let (s, b) = app
            .send_json(
                Method::POST,
                &format!("/api/v1/t/nanan/complaints/{id}/steps"),
                Some(&official),
                &json!({"action": "acknowledge"}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    assert_eq!(scan_colour(&app, &stall.path).await, "yellow");
    // A held one accepted reaches the vendor then.
    let held: Uuid = sqlx::query_scalar(
        "select id from complaints where code_id = $1 and held_reason is not null order by created_at limit 1",
    )
    .bind(stall.id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let told = vendor_notices().await;
    let (s, b) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/complaints/{held}/steps"),
            Some(&official),
            &json!({"action": "acknowledge"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(vendor_notices().await, told + 1);
}

#[tokio::test]
async fn whether_a_yellow_stall_takes_vouchers_is_the_tenants_setting_shown_on_the_campaign() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let now = app.state.ctx.clock.now();
    let campaign = crate::vouchers::campaign(&app, now - Duration::minutes(5), 10, 1).await;
    let (_, token) = crate::vouchers::shoppers(&app, "nanan", 1).await.remove(0);
    let (s, _) = crate::vouchers::claim(&app, &app.client(), &campaign, &token, "c1").await;
    assert_eq!(s, 201);
    // Holding the campaign's limit, the shopper is told so and not offered another claim.
    let mine = http()
        .get(app.url(&format!("/t/nanan/vouchers/{campaign}")))
        .header("cookie", format!("nm_shopper={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        mine.contains("id=\"held-here\"") && !mine.contains("id=\"claim-form\""),
        "{mine}"
    );
    assert!(mine.contains("id=\"where\""), "where the vouchers work is said");
    // Yellow from a score under the tenant's line (a warning, not a suspension).
    let admin = app.token("nanan", "admin").await;
    let (_, settings) = app.get_json("/api/v1/t/nanan/settings", Some(&admin)).await;
    let mut wanted = settings.clone();
    wanted["score_threshold"] = json!(99);
    let (s, b) = app
        .send_json(Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &wanted)
        .await;
    assert_eq!(s, 200, "{b}");
    nightmarket_services::supervision::sweep(&app.state.ctx.db, &app.state.ctx.keys, app.state.ctx.clock.now())
        .await
        .unwrap();
    assert_eq!(scan_colour(&app, &stall.path).await, "yellow");
    let code = &stall.path[3..16];
    let page = |app: &TestApp| {
        let url = app.url(&format!("/t/nanan/vouchers/{campaign}"));
        async move { http().get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(page(&app).await.contains("仅绿码摊位"));
    let scan = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scan.contains("id=\"voucher-closed\""),
        "the scan page says it before the form"
    );
    let (s, b) = crate::vouchers::redeem(&app, &token, code, 6800, "y1").await;
    assert_eq!(s, 409, "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("不是绿码"), "{b}");

    wanted["vouchers_at_yellow"] = json!(true);
    let (s, b) = app
        .send_json(Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &wanted)
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(page(&app).await.contains("绿码和黄码摊位"));
    let (s, b) = crate::vouchers::redeem(&app, &token, code, 6800, "y2").await;
    assert_eq!(s, 201, "{b}");
}

#[tokio::test]
async fn the_public_open311_feed_shows_no_tracking_number_and_reopening_needs_it() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let (s, location) = complain(
        &app,
        &app.client(),
        &stall,
        &[("category", "service"), ("description", "态度很差，还骂人")],
    )
    .await;
    assert_eq!(s, 303);
    let tracking = crate::scan::tracking_of(&location);
    let feed = http()
        .get(app.url("/open311/v2/nanan/requests.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !feed.contains(&tracking),
        "the feed does not carry the complainant's key"
    );
    let public_id: String = sqlx::query_scalar("select public_id from complaints where tracking = $1")
        .bind(&tracking)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(feed.contains(&public_id));
    let one: Value = http()
        .get(app.url(&format!("/open311/v2/nanan/requests/{public_id}.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one[0]["service_request_id"], public_id.as_str());
    let r = http()
        .get(app.url(&format!("/open311/v2/nanan/requests/{tracking}.json")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the tracking number is not a public id");
    // The public id opens no tracking page (and so reopens nothing).
    let r = http()
        .get(app.url(&format!("/complaints/{public_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The hotline gets the tracking number for its caller over the keyed API only.
    let key = crate::scan::api_key(&app, "nanan");
    let r = http()
        .post(app.url("/open311/v2/nanan/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "food_safety"),
            ("attribute[code]", code_of(&stall)),
            ("description", "吃完肚子疼，怀疑食材不新鲜"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let hotline_tracking = created[0]["tracking"].as_str().unwrap();
    assert_ne!(created[0]["service_request_id"], hotline_tracking);
    assert!(hotline_tracking.starts_with("nanan-"));

    // The service list states the tenant's own deadlines (nanan: food safety within 1 h).
    let services: Value = http()
        .get(app.url("/open311/v2/nanan/services.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let food = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "food_safety")
        .unwrap();
    assert!(food["description"].as_str().unwrap().contains("within 1 h"), "{food}");
}

/// Sets the stall's vendor's health certificate as an accepted renewal would (the row written by
/// the owner, so only the database's own notice reaches the servers).
async fn set_health(app: &TestApp, stall: &Stall, number: &str, expires: NaiveDate) {
    sqlx::query(
        "insert into credentials (tenant_id, vendor_id, kind, number, expires_on, status, source)
         select tenant_id, vendor_id, 'health', $2, $3, 'valid', 'renewal' from codes where id = $1
         on conflict (tenant_id, vendor_id, kind) do update
         set number = excluded.number, expires_on = excluded.expires_on, status = 'valid', updated_at = now()",
    )
    .bind(stall.id)
    .bind(number)
    .bind(expires)
    .execute(&app.owner)
    .await
    .unwrap();
}

fn code_of(stall: &Stall) -> &str {
    &stall.path[3..16]
}

#[tokio::test]
async fn a_reused_request_id_with_another_body_is_refused_not_answered_with_the_old_result() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let now = app.state.ctx.clock.now();
    let first = crate::vouchers::campaign(&app, now - Duration::minutes(5), 10, 2).await;
    let second = crate::vouchers::campaign(&app, now - Duration::minutes(5), 10, 2).await;
    let (shopper, token) = crate::vouchers::shoppers(&app, "nanan", 1).await.remove(0);
    let client = app.client();
    let (s, _) = crate::vouchers::claim(&app, &client, &first, &token, "k1").await;
    assert_eq!(s, 201);
    // The same id on another campaign: another request.
    let (s, b) = crate::vouchers::claim(&app, &client, &second, &token, "k1").await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "request_id_reused");
    let held: i64 = sqlx::query_scalar("select count(*) from vouchers where shopper_id = $1")
        .bind(shopper)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(held, 1, "nothing claimed under the reused id");
    let (s, _) = crate::vouchers::claim(&app, &client, &first, &token, "k1").await;
    assert_eq!(s, 200, "the same request again gets the same voucher");

    // Redemptions: ¥52 paid; the same id with ¥888 is refused, not answered "paid".
    let code = code_of(&stall);
    let (s, paid) = crate::vouchers::redeem(&app, &token, code, 5200, "pay-1").await;
    assert_eq!(s, 201, "{paid}");
    let (s, b) = crate::vouchers::redeem(&app, &token, code, 88800, "pay-1").await;
    assert_eq!(s, 409, "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("请求编号"), "{b}");
    let (s, again) = crate::vouchers::redeem(&app, &token, code, 5200, "pay-1").await;
    assert_eq!((s, &again["id"]), (200, &paid["id"]));
    let used: i64 = sqlx::query_scalar("select count(*) from redemptions where shopper_id = $1")
        .bind(shopper)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(used, 1);
}

#[tokio::test]
async fn every_refusal_in_a_rush_names_its_true_cause() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let now = app.state.ctx.clock.now();
    // Ten vouchers, one a person, fifty people each pressing twice at once.
    let id = crate::vouchers::campaign(&app, now - Duration::minutes(1), 10, 1).await;
    let people = crate::vouchers::shoppers(&app, "nanan", 50).await;
    let client = app.client();
    let mut handles = Vec::new();
    for (i, (shopper, token)) in people.iter().enumerate() {
        for tap in ["a", "b"] {
            let (base, token, client, id, shopper) = (app.url(""), token.clone(), client.clone(), id.clone(), *shopper);
            handles.push(tokio::spawn(async move {
                let r = client
                    .post(format!("{base}/api/v1/t/nanan/campaigns/{id}/claims"))
                    .bearer_auth(&token)
                    .header("idempotency-key", format!("{i}-{tap}"))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                (shopper, status, body)
            }));
        }
    }
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    for (shopper, status, body) in &answers {
        let holds: i64 =
            sqlx::query_scalar("select count(*) from vouchers where shopper_id = $1 and campaign_id = $2::uuid")
                .bind(shopper)
                .bind(&id)
                .fetch_one(&app.owner)
                .await
                .unwrap();
        match *status {
            200 | 201 => assert_eq!(holds, 1),
            409 => {
                assert_eq!(body["error"]["code"], "limit_reached", "{body}");
                assert_eq!(holds, 1, "told 'your limit' while holding none: {body}");
            }
            410 => assert_eq!(body["error"]["code"], "sold_out"),
            429 => {}
            other => panic!("{other} {body}"),
        }
    }
    let claimed: i64 =
        sqlx::query_scalar("select count(*) from vouchers where campaign_id = $1::uuid and shopper_id is not null")
            .bind(&id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(claimed, 10);
    // The sold-out campaign reads so, and offers no claim.
    let page = http()
        .get(app.url(&format!("/t/nanan/vouchers/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-sold-out=\"true\"") && page.contains("已领完"),
        "{page}"
    );
    assert!(!page.contains("signin-to-claim") && !page.contains("claim-form"));

    // Double-tapped redemptions without a daily budget: the loser is told another use of theirs
    // took the voucher, not that a budget is spent.
    let (winner, token) = answers
        .iter()
        .find(|(_, s, _)| *s == 201)
        .map(|(shopper, _, _)| *shopper)
        .and_then(|w| people.iter().find(|(p, _)| *p == w).cloned())
        .unwrap();
    let code = code_of(&stall).to_string();
    let (a, b) = tokio::join!(
        crate::vouchers::redeem(&app, &token, &code, 6800, "tap-a"),
        crate::vouchers::redeem(&app, &token, &code, 6800, "tap-b"),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(!message.contains("补贴额度"), "{message}");
    assert!(
        message.contains("另一笔用券") || message.contains("没有可在此摊位使用"),
        "{message}"
    );
    let _ = winner;
}

#[tokio::test]
async fn the_scan_page_shows_credentials_as_they_are_now_and_a_red_page_says_one_thing() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let page = |app: &TestApp| {
        let url = app.url(&stall.path);
        async move { http().get(url).send().await.unwrap().text().await.unwrap() }
    };
    let before = page(&app).await;
    // The vendor's health certificate is renewed (a new number and expiry): the scan page follows.
    set_health(&app, &stall, "JK2027-00088", today() + Duration::days(400)).await;
    let mut shown = String::new();
    for _ in 0..20 {
        shown = page(&app).await;
        if shown.contains("JK********88") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(shown.contains("JK********88"), "within two seconds: {shown}");
    assert_ne!(before, shown);

    // The health feed reports it invalid: red, and the page says so everywhere.
    let key = feed_key(&app, "nanan");
    let (s, b) = send_event(
        &app,
        "nanan",
        &key,
        app.state.ctx.clock.now().timestamp(),
        &event("i-1", stall.vendor, "invalid"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let red = page(&app).await;
    assert!(red.contains("data-colour=\"red\""));
    assert!(
        red.contains("已被主管部门报告无效"),
        "the credential line is not shown as valid"
    );
    assert!(!red.contains("正在营业"), "no 'trading' beside a red verdict");
    assert!(
        !red.contains("/rate?") && !red.contains("/redeem?"),
        "no rating or voucher offered"
    );
    assert!(red.contains("/complain?"), "complaining stays open");
}

#[tokio::test]
async fn a_complaint_filed_after_the_stall_checked_out_says_so_in_its_evidence() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    trading(&app, &stall).await;
    let vendor = app.token("nanan", "vendor").await;
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/check-out", stall.id),
            Some(&vendor),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = complain(
        &app,
        &app.client(),
        &stall,
        &[("category", "noise"), ("description", "收摊后还在外放音乐")],
    )
    .await;
    assert_eq!(s, 303);
    let (evidence, id): (Value, Uuid) =
        sqlx::query_as("select evidence, id from complaints where code_id = $1 order by created_at desc limit 1")
            .bind(stall.id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(evidence["checked_in"], false, "{evidence}");
    assert_eq!(evidence["tonight"], "left");
    let desk = app.signed_in("nanan", "official").await;
    let html = desk
        .get(app.url(&format!("/official/complaints/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("已签退收摊"), "{html}");
}

#[tokio::test]
async fn nights_with_check_ins_never_read_as_full_marks_or_no_figure() {
    let app = crate::supervision::app_with_clock().await;
    let stall = demo_stall(&app).await;
    // The demo's nights: every night of the last week has check-ins, and the dashboard expects
    // at least the stalls that opened.
    let official = app.token("nanan", "official").await;
    let (s, d) = app.get_json("/api/v1/t/nanan/numbers?range=7", Some(&official)).await;
    assert_eq!(s, 200, "{d}");
    let nights = d["nights"].as_array().unwrap();
    assert!(nights.iter().any(|n| n["opened"].as_i64().unwrap() > 0), "{d}");
    for n in nights {
        assert!(n["expected"].as_i64().unwrap() >= n["opened"].as_i64().unwrap(), "{n}");
    }
    // A code whose issue date is later than its stall's check-ins (reissued, data carried over):
    // attendance counts from the first check-in, not "0 of 0 nights, full marks".
    let first: NaiveDate = sqlx::query_scalar("select min(business_date) from check_ins where code_id = $1")
        .bind(stall.id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    sqlx::query("update codes set created_at = now() where id = $1")
        .bind(stall.id)
        .execute(&app.owner)
        .await
        .unwrap();
    nightmarket_services::supervision::sweep(&app.state.ctx.db, &app.state.ctx.keys, app.state.ctx.clock.now())
        .await
        .unwrap();
    let b = score(&app, stall.id).await;
    let nights = b["score"]["inputs"]["nights"].as_i64().unwrap();
    assert!(nights >= (today() - first).num_days(), "{b}");
    assert!(nights > 0, "{b}");
    // And the night's dashboard still has a figure: the stall opened, so it was expected.
    let (_, d) = app.get_json("/api/v1/t/nanan/numbers?range=7", Some(&official)).await;
    for n in d["nights"].as_array().unwrap() {
        let opened = n["opened"].as_i64().unwrap();
        assert!(n["expected"].as_i64().unwrap() >= opened, "{n}");
    }
}

#[tokio::test]
async fn a_stored_colour_that_does_not_parse_is_an_error_never_green() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    // Past the constraint, as a faulty migration or a hand edit could leave it.
    sqlx::query("alter table codes drop constraint codes_colour")
        .execute(&app.owner)
        .await
        .unwrap();
    sqlx::query("update codes set colour = 'purple' where id = $1")
        .bind(stall.id)
        .execute(&app.owner)
        .await
        .unwrap();
    let official = app.token("nanan", "official").await;
    let (s, body) = app
        .get_json(&format!("/api/v1/t/nanan/codes/{}", stall.id), Some(&official))
        .await;
    assert_eq!(s, 500, "{body}");
    // The scan page (whose cache was told of the change) does not say green either.
    let mut last = String::new();
    for _ in 0..50 {
        let r = http().get(app.url(&stall.path)).send().await.unwrap();
        let status = r.status().as_u16();
        last = r.text().await.unwrap();
        if status == 500 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!last.contains("data-colour=\"green\""), "{last}");
}
