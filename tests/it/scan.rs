//! The scan page at full strength: ratings from real visits, complaints and their handling, the
//! score and the yellow it can cause, Open311, and the page's own budget.

use crate::helpers::{Options, TestApp};
use crate::supervision::{Stall, at, demo_stall, feed_key, scan_colour, today};
use chrono::{Duration, NaiveDate, Utc};
use nightmarket_services::access::throttle::ThrottleSettings;
use nightmarket_services::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use uuid::Uuid;

/// A clock that stands still and small shopper limits (5 per device, 8 per address).
pub(crate) async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        configure: |c| {
            c.clock = Clock::fixed(Utc::now());
            c.shopper_throttle = ThrottleSettings {
                account_burst: 5,
                account_period: std::time::Duration::from_secs(3600),
                address_burst: 8,
                address_period: std::time::Duration::from_secs(3600),
            };
        },
        ..Options::default()
    })
    .await
}

fn action(stall: &Stall, what: &str) -> String {
    stall.path.replacen('?', &format!("/{what}?"), 1)
}

/// Rates as a phone does: opens the scan page (which hands this device a rating ticket when the
/// stall may be rated), then sends the form with it.
async fn rate(app: &TestApp, client: &reqwest::Client, stall: &Stall, form: &[(&str, &str)]) -> (u16, String) {
    let ticket = app.rating_ticket(client, &stall.path).await.unwrap_or_default();
    let mut form: Vec<(&str, &str)> = form.to_vec();
    form.push(("ticket", &ticket));
    let r = client
        .post(app.url(&action(stall, "rate")))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Checks the stall in for `night` at 18:30 (through the API, as the vendor's phone does).
pub(crate) async fn check_in(app: &TestApp, stall: &Stall, night: NaiveDate) {
    app.state.ctx.clock.set(at(night, "18:30"));
    let vendor = app.token("nanan", "vendor").await;
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/check-in", stall.id),
            Some(&vendor),
            &json!({"lat": stall.lat, "lng": stall.lng, "accuracy_m": 10.0}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn ratings_of(app: &TestApp, code: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from ratings where code_id = $1")
        .bind(code)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn ratings_come_only_from_a_real_visit_once_a_night_filtered_and_rate_limited() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let night = today() + Duration::days(3);
    let shopper = app.client();
    let before = ratings_of(&app, stall.id).await;

    // Not checked in: refused, with the reason, and nothing written.
    app.state.ctx.clock.set(at(night, "19:00"));
    let (status, html) = rate(&app, &shopper, &stall, &[("stars", "5")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("未签到"), "{html}");
    let page = shopper
        .get(app.url(&action(&stall, "rate")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"rating-closed\""), "the form is not offered: {page}");
    assert_eq!(ratings_of(&app, stall.id).await, before);

    // Checked in, but before opening: refused too.
    check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "17:45"));
    let (status, html) = rate(&app, &shopper, &stall, &[("stars", "5")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("尚未开市"), "{html}");

    // Open: bad input is refused field by field, nothing written.
    app.state.ctx.clock.set(at(night, "19:00"));
    let long = "好".repeat(201);
    let (status, html) = rate(
        &app,
        &shopper,
        &stall,
        &[("stars", "9"), ("tags", "tasty"), ("comment", &long)],
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("1–5") && html.contains("最多 200"), "{html}");
    assert_eq!(ratings_of(&app, stall.id).await, before);

    // The tenant's word filter masks words in comments.
    let tenant = app.tenant_id("nanan").await;
    sqlx::query(
        "insert into tenant_settings (tenant_id, word_filter) values ($1, '{骗子}')
         on conflict (tenant_id) do update set word_filter = '{骗子}'",
    )
    .bind(tenant)
    .execute(&app.owner)
    .await
    .unwrap();
    let (status, _) = rate(
        &app,
        &shopper,
        &stall,
        &[
            ("stars", "2"),
            ("tags", "pricey"),
            ("tags", "slow"),
            ("comment", "老板是骗子，太贵"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (comment, tags): (String, Vec<String>) =
        sqlx::query_as("select comment, tags from ratings where code_id = $1 order by created_at desc limit 1")
            .bind(stall.id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(comment, "老板是＊＊，太贵");
    assert_eq!(tags, vec!["pricey", "slow"]);
    let scan = shopper
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(scan.contains("老板是＊＊，太贵"), "the new rating shows at once");

    // The same device again the same night: refused.
    let (status, html) = rate(&app, &shopper, &stall, &[("stars", "4")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("今晚已评价"), "{html}");
    // Another device: accepted; the next night the first device may rate again.
    let (status, _) = rate(&app, &app.client(), &stall, &[("stars", "4")]).await;
    assert_eq!(status, 303);
    assert_eq!(ratings_of(&app, stall.id).await, before + 2);

    // Checked out: refused.
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
    let (status, html) = rate(&app, &app.client(), &stall, &[("stars", "4")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("已收摊"), "{html}");

    // A forged signature: not a stall at all.
    let forged = action(&stall, "rate").replace("&s=", "&s=AA");
    let r = app
        .client()
        .post(app.url(&forged))
        .form(&[("stars", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Many devices from one address: 429 with Retry-After, before anything is written.
    let next = night + Duration::days(1);
    check_in(&app, &stall, next).await;
    app.state.ctx.clock.set(at(next, "20:00"));
    let mut limited = None;
    for _ in 0..12 {
        let r = app
            .client()
            .post(app.url(&action(&stall, "rate")))
            .form(&[("stars", "3")])
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the address limit answers 429");
    assert!(limited.headers().get("retry-after").is_some());

    // The vendor replies once; the reply shows on the scan page.
    let (s, list) = app
        .get_json(&format!("/api/v1/t/nanan/codes/{}/ratings", stall.id), Some(&vendor))
        .await;
    assert_eq!(s, 200, "{list}");
    let rating = list[0]["id"].as_str().unwrap().to_string();
    let reply = format!("/api/v1/t/nanan/ratings/{rating}/reply");
    let (s, body) = app
        .send_json(Method::POST, &reply, Some(&vendor), &json!({"reply": ""}))
        .await;
    assert_eq!(s, 422, "{body}");
    let (s, _) = app
        .send_json(Method::POST, &reply, Some(&vendor), &json!({"reply": "谢谢惠顾"}))
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .send_json(Method::POST, &reply, Some(&vendor), &json!({"reply": "再次感谢"}))
        .await;
    assert_eq!(s, 409, "one reply only");
    let scan = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(scan.contains("谢谢惠顾"));
    // Another tenant's official cannot see the stall's ratings nor moderate them.
    let other = app.token("shangcheng", "official").await;
    let (s, _) = app
        .get_json(
            &format!("/api/v1/t/shangcheng/codes/{}/ratings", stall.id),
            Some(&other),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/ratings/{rating}/moderation"),
            Some(&other),
            &json!({"hidden": true, "reason": "跨区操作"}),
        )
        .await;
    assert_eq!(s, 404);

    // An official hides the masked comment: kept, with the reason, audited, gone from the page.
    let masked: Uuid = sqlx::query_scalar("select id from ratings where comment like '老板是%'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let moderation = format!("/api/v1/t/nanan/ratings/{masked}/moderation");
    let (s, _) = app
        .send_json(
            Method::POST,
            &moderation,
            Some(&vendor),
            &json!({"hidden": true, "reason": "辱骂"}),
        )
        .await;
    assert_eq!(s, 403, "vendors do not moderate");
    let official = app.token("nanan", "official").await;
    let (s, _) = app
        .send_json(Method::POST, &moderation, Some(&official), &json!({"hidden": true}))
        .await;
    assert_eq!(s, 422, "a reason is needed");
    let (s, _) = app
        .send_json(
            Method::POST,
            &moderation,
            Some(&official),
            &json!({"hidden": true, "reason": "含辱骂用语"}),
        )
        .await;
    assert_eq!(s, 204);
    let (kept, reason): (String, String) = sqlx::query_as("select comment, hidden_reason from ratings where id = $1")
        .bind(masked)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!((kept.as_str(), reason.as_str()), ("老板是＊＊，太贵", "含辱骂用语"));
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'rating.hide'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let scan = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!scan.contains("老板是＊＊"), "hidden from the public");
}

/// Files a complaint from the scan page; returns the status and where it led.
pub(crate) async fn complain(
    app: &TestApp,
    client: &reqwest::Client,
    stall: &Stall,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = client
        .post(app.url(&action(stall, "complain")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        if status == 303 {
            location
        } else {
            r.text().await.unwrap()
        },
    )
}

pub(crate) fn tracking_of(location: &str) -> String {
    location
        .trim_start_matches("/complaints/")
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

async fn complaint_id(app: &TestApp, tracking: &str) -> Uuid {
    sqlx::query_scalar("select id from complaints where tracking = $1")
        .bind(tracking)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_complaint_goes_from_filing_through_the_queue_to_resolution_and_may_be_reopened_once() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let night = today() + Duration::days(2);
    check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "20:00"));
    let shopper = app.client();
    let before = app.count("complaints").await;

    // Bad input: each field says what is wrong; nothing is written.
    let (status, html) = complain(&app, &shopper, &stall, &[("category", "rude"), ("description", "差")]).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("请选择投诉类别") && html.contains("5–1000"), "{html}");
    let (status, html) = complain(
        &app,
        &shopper,
        &stall,
        &[
            ("category", "price_fraud"),
            ("description", "标价10元实收15元"),
            ("phone", "13800138000"),
        ],
    )
    .await;
    assert_eq!(status, 422, "a number needs its SMS code: {html}");
    assert_eq!(app.count("complaints").await, before);

    // With a photo and a verified number.
    let r = shopper
        .post(app.url(&action(&stall, "complain/code")))
        .form(&[("phone", "13800138000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let code = app.sms_code("138****8000").await;
    let png = crate::applications::png();
    let form = reqwest::multipart::Form::new()
        .text("category", "price_fraud")
        .text("description", "标价10元实收15元，不给小票")
        .text("phone", "13800138000")
        .text("sms_code", code)
        .part("photos", reqwest::multipart::Part::bytes(png).file_name("p.png"));
    let r = shopper
        .post(app.url(&action(&stall, "complain")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let tracking = tracking_of(&location);
    assert!(
        tracking.starts_with("nanan-") && tracking.len() == "nanan-".len() + 20,
        "{tracking}"
    );
    let id = complaint_id(&app, &tracking).await;
    let (phone_masked, evidence): (String, Value) =
        sqlx::query_as("select contact_phone_masked, evidence from complaints where id = $1")
            .bind(id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(phone_masked, "138****8000");
    assert_eq!(evidence["checked_in"], true);
    assert_eq!(evidence["colour"], "green");
    assert_eq!(evidence["redemptions"], json!([]));
    let page = app
        .client()
        .get(app.url(&location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("已受理") && page.contains(&tracking), "{page}");
    assert!(!page.contains("138****8000"), "the tracking page shows no contact");
    // A guessed number finds nothing.
    let r = app
        .client()
        .get(app.url("/complaints/nanan-00000000000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Officials were told live; the vendor sees it without the contact.
    let notices: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'complaint_filed'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(notices >= 1);
    let vendor = app.token("nanan", "vendor").await;
    let (s, list) = app
        .get_json(&format!("/api/v1/t/nanan/codes/{}/complaints", stall.id), Some(&vendor))
        .await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["tracking"], tracking.as_str());
    assert!(list[0]["contact_phone_masked"].is_null());

    // The queue: the wrong role, the wrong tenant.
    let official = app.token("nanan", "official").await;
    let (s, _) = app.get_json("/api/v1/t/nanan/complaints", Some(&vendor)).await;
    assert_eq!(s, 403);
    let stranger = app.token("shangcheng", "official").await;
    let (s, _) = app
        .get_json(&format!("/api/v1/t/shangcheng/complaints/{id}"), Some(&stranger))
        .await;
    assert_eq!(s, 404);
    let (s, queue) = app.get_json("/api/v1/t/nanan/complaints", Some(&official)).await;
    assert_eq!(s, 200);
    let mine = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.to_string())
        .unwrap()
        .clone();
    assert_eq!(mine["state"], "open");
    assert_eq!(mine["timing"]["overdue"], false);
    // Price fraud: acknowledge within 4 hours by default. Five hours on, it is overdue.
    app.state.ctx.clock.set(at(night, "20:00") + Duration::hours(5));
    let (_, queue) = app
        .get_json("/api/v1/t/nanan/complaints?overdue=true", Some(&official))
        .await;
    assert!(
        queue.as_array().unwrap().iter().any(|c| c["id"] == id.to_string()),
        "{queue}"
    );

    // A claim keeps another official off it.
    let admin = app.token("nanan", "admin").await;
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/complaints/{id}/claim"),
            Some(&official),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let steps = format!("/api/v1/t/nanan/complaints/{id}/steps");
    let (s, body) = app
        .send_json(Method::POST, &steps, Some(&admin), &json!({"action": "acknowledge"}))
        .await;
    assert_eq!(s, 409, "{body}");
    // Steps in order; a resolution needs its note and outcome.
    let (s, _) = app
        .send_json(
            Method::POST,
            &steps,
            Some(&official),
            &json!({"action": "resolve", "note": "x"}),
        )
        .await;
    assert_eq!(s, 422);
    for a in ["acknowledge", "start"] {
        let (s, body) = app
            .send_json(Method::POST, &steps, Some(&official), &json!({"action": a}))
            .await;
        assert_eq!(s, 200, "{a}: {body}");
    }
    let (s, body) = app
        .send_json(Method::POST, &steps, Some(&official), &json!({"action": "acknowledge"}))
        .await;
    assert_eq!(s, 409, "{body}");
    let answer = format!("/api/v1/t/nanan/complaints/{id}/answer");
    let (s, _) = app
        .send_json(
            Method::POST,
            &answer,
            Some(&vendor),
            &json!({"answer": "当晚秤有误差，已更换"}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .send_json(Method::POST, &answer, Some(&vendor), &json!({"answer": "再说一次"}))
        .await;
    assert_eq!(s, 409);
    let score_before: i32 = sqlx::query_scalar("select score from stall_scores where code_id = $1")
        .bind(stall.id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let (s, body) = app
        .send_json(
            Method::POST,
            &steps,
            Some(&official),
            &json!({"action": "resolve", "upheld": true, "note": "经核实属实，已责令退还差价并警告"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["state"], "resolved");
    let score_after: i32 = sqlx::query_scalar("select score from stall_scores where code_id = $1")
        .bind(stall.id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(
        score_before - score_after,
        5,
        "an upheld complaint costs 5 points, in the same transaction"
    );
    let (s, b) = app
        .get_json(&format!("/api/v1/t/nanan/codes/{}/score", stall.id), Some(&vendor))
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["upheld_complaints"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["score"]["complaints"], 10.0);
    // The shopper reads the outcome and the vendor's answer, and was texted.
    let page = app
        .client()
        .get(app.url(&format!("/complaints/{tracking}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("已办结") && page.contains("已责令退还差价") && page.contains("已更换"),
        "{page}"
    );
    let texted: i64 = sqlx::query_scalar(
        "select count(*) from sms_outbox where phone_masked = '138****8000' and body like '%已办结%'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(texted, 1);

    // Reopened once (with a reason), within 7 days; never twice.
    let reopen = format!("/complaints/{tracking}/reopen");
    let r = shopper
        .post(app.url(&reopen))
        .form(&[("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = shopper
        .post(app.url(&reopen))
        .form(&[("reason", "差价至今未退还")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let state: String = sqlx::query_scalar("select state from complaints where id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(state, "open");
    for (a, extra) in [
        ("acknowledge", json!({})),
        ("resolve", json!({"upheld": true, "note": "已退还差价"})),
    ] {
        let mut body = json!({"action": a});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (s, b) = app.send_json(Method::POST, &steps, Some(&official), &body).await;
        assert_eq!(s, 200, "{b}");
    }
    let r = shopper
        .post(app.url(&reopen))
        .form(&[("reason", "还是不满意啊")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let events: Vec<String> =
        sqlx::query_scalar("select kind from complaint_events where complaint_id = $1 order by seq")
            .bind(id)
            .fetch_all(&app.owner)
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            "filed",
            "acknowledged",
            "started",
            "answered",
            "resolved",
            "reopened",
            "acknowledged",
            "resolved"
        ]
    );

    // A second complaint is rejected; rejecting also needs a note. A rejected one cannot be reopened.
    let (s, loc) = complain(
        &app,
        &app.client(),
        &stall,
        &[("category", "noise"), ("description", "音响声音太大了")],
    )
    .await;
    assert_eq!(s, 303, "{loc}");
    let second = complaint_id(&app, &tracking_of(&loc)).await;
    let steps2 = format!("/api/v1/t/nanan/complaints/{second}/steps");
    let (s, _) = app
        .send_json(Method::POST, &steps2, Some(&official), &json!({"action": "reject"}))
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .send_json(
            Method::POST,
            &steps2,
            Some(&official),
            &json!({"action": "reject", "note": "现场核查未发现噪音"}),
        )
        .await;
    assert_eq!(s, 200);
    let r = app
        .client()
        .post(app.url(&format!("{}/reopen", loc.split('?').next().unwrap())))
        .form(&[("reason", "明明很吵的")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn unresolved_complaints_and_a_low_score_turn_the_code_yellow_and_back() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    let mut ids = Vec::new();
    for i in 0..3 {
        let (s, loc) = complain(
            &app,
            &app.client(),
            &stall,
            &[("category", "hygiene"), ("description", &format!("摊位周围有垃圾 {i}"))],
        )
        .await;
        assert_eq!(s, 303, "{loc}");
        ids.push(complaint_id(&app, &tracking_of(&loc)).await);
        assert_eq!(
            scan_colour(&app, &stall.path).await,
            "green",
            "anonymous complaints carry no weight until accepted"
        );
    }
    // Accepted (受理) by an official, each carries weight: the third turns the code yellow.
    let official = app.token("nanan", "official").await;
    for (i, id) in ids.iter().enumerate() {
        let (s, body) = app
            .send_json(
                Method::POST,
                &format!("/api/v1/t/nanan/complaints/{id}/steps"),
                Some(&official),
                &json!({"action": "acknowledge"}),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        let expected = if i < 2 { "green" } else { "yellow" };
        assert_eq!(
            scan_colour(&app, &stall.path).await,
            expected,
            "after {} accepted complaints",
            i + 1
        );
    }
    let page = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("多起投诉尚待处理"), "the cause is named");
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/complaints/{}/steps", ids[0]),
            Some(&official),
            &json!({"action": "reject", "note": "重复投诉"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        scan_colour(&app, &stall.path).await,
        "green",
        "two waiting are under the line"
    );

    // The score: a tenant threshold above the stall's score turns it yellow at the next change.
    let admin = app.token("nanan", "admin").await;
    let (_, settings) = app.get_json("/api/v1/t/nanan/settings", Some(&admin)).await;
    let mut wanted = settings.clone();
    wanted["score_threshold"] = json!(99);
    let (s, body) = app
        .send_json(Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &wanted)
        .await;
    assert_eq!(s, 200, "{body}");
    wanted["score_threshold"] = json!(101);
    let (s, _) = app
        .send_json(Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &wanted)
        .await;
    assert_eq!(s, 422);
    let report =
        nightmarket_services::supervision::sweep(&app.state.ctx.db, &app.state.ctx.keys, app.state.ctx.clock.now())
            .await
            .unwrap();
    assert!(report.colour_changes >= 1);
    assert_eq!(scan_colour(&app, &stall.path).await, "yellow");
    let page = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("综合评分低于本区标准"), "{page}");
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

#[tokio::test]
async fn the_scan_page_fits_its_budget_has_no_script_and_is_never_stale() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let r = app
        .client()
        .get(app.url(&stall.path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let html_gz = r.bytes().await.unwrap().len();
    let html = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.to_lowercase().contains("<script"), "no script for shoppers");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no third-party requests"
    );
    let css = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let r = app
        .client()
        .get(app.url(css))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let css_gz = r.bytes().await.unwrap().len();
    assert!(
        html_gz + css_gz < 10 * 1024,
        "HTML {html_gz} B + CSS {css_gz} B compressed"
    );
    assert!(gzip_len(html.as_bytes()) < 4 * 1024);
    for needle in ["评价", "投诉", "用券", "id=\"tonight\"", "id=\"score\""] {
        assert!(html.contains(needle), "{needle}");
    }
    // English on request.
    let en = app
        .client()
        .get(app.url(&stall.path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Complain") && en.contains("Rate"), "{en}");

    // Seen (and cached), suspended, seen again at once: red. Restored: green again.
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    let official = app.token("nanan", "official").await;
    let (s, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/suspend", stall.id),
            Some(&official),
            &json!({"reason": "现场检查发现无证经营"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(scan_colour(&app, &stall.path).await, "red");
    // A change made behind the application's back (another instance) arrives by NOTIFY.
    sqlx::query("update codes set colour = 'yellow' where id = $1")
        .bind(stall.id)
        .execute(&app.owner)
        .await
        .unwrap();
    let mut seen = String::new();
    for _ in 0..50 {
        seen = scan_colour(&app, &stall.path).await;
        if seen == "yellow" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen, "yellow",
        "another instance's change reaches this instance's cache"
    );

    // Unknown, forged and revoked codes.
    let r = app
        .client()
        .get(app.url("/c/0123456789abc?k=nanan-1&s=AAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let forged = stall.path.replace("&s=", "&s=A");
    let r = app.client().get(app.url(&forged)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/revoke", stall.id),
            Some(&app.token("nanan", "admin").await),
            &json!({"reason": "摊主退出夜市"}),
        )
        .await;
    assert!(s == 200 || s == 204, "{s}");
    let r = app.client().get(app.url(&stall.path)).send().await.unwrap();
    assert_eq!(r.status(), 410);
}

/// The demo feed key as Open311 takes it.
pub(crate) fn api_key(app: &TestApp, tenant: &str) -> String {
    let (id, secret) = feed_key(app, tenant);
    format!("{id}.{secret}")
}

#[tokio::test]
async fn open311_serves_services_takes_requests_with_a_key_and_reports_their_status() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let code = &stall.path[3..16];

    let (s, services) = app.get_json("/open311/v2/nanan/services.json", None).await;
    assert_eq!(s, 200);
    let list = services.as_array().unwrap();
    assert_eq!(list.len(), 8);
    for field in [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ] {
        assert!(list[0].get(field).is_some(), "{field}");
    }
    assert!(
        list.iter()
            .any(|s| s["service_code"] == "short_weight" && s["service_name"] == "缺斤短两")
    );
    let (s, def) = app.get_json("/open311/v2/nanan/services/food_safety.json", None).await;
    assert_eq!(s, 200);
    assert_eq!(def["attributes"][0]["code"], "code");
    assert_eq!(def["attributes"][0]["required"], true);
    let (s, body) = app.get_json("/open311/v2/nowhere/services.json", None).await;
    assert_eq!(s, 404);
    assert_eq!(body[0]["code"], 404);

    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let r = app
                .client()
                .post(app.url("/open311/v2/nanan/requests.json"))
                .form(&fields)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let before = app.count("complaints").await;
    // No key, a wrong key, another tenant's key: 403 with the standard's error body.
    for key in [String::new(), "nmk_x.y".to_string(), api_key(&app, "shangcheng")] {
        let (s, body) = post(vec![
            ("api_key", key),
            ("service_code", "short_weight".into()),
            ("attribute[code]", code.into()),
            ("description", "一斤只有八两".into()),
        ])
        .await;
        assert_eq!(s, 403, "{body}");
        assert_eq!(body[0]["code"], 403);
        assert!(body[0]["description"].is_string());
    }
    // Bad input: 400 with the standard's error body.
    let key = api_key(&app, "nanan");
    for (service, stall_code, description) in [
        ("unknown", code.to_string(), "一斤只有八两"),
        ("short_weight", "0000000000000".to_string(), "一斤只有八两"),
        ("short_weight", code.to_string(), "短"),
    ] {
        let (s, body) = post(vec![
            ("api_key", key.clone()),
            ("service_code", service.into()),
            ("attribute[code]", stall_code),
            ("description", description.into()),
        ])
        .await;
        assert_eq!(s, 400, "{body}");
        assert_eq!(body[0]["code"], 400);
    }
    assert_eq!(app.count("complaints").await, before);

    let (s, created) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "short_weight".into()),
        ("attribute[code]", app.url(&stall.path)),
        ("description", "来电反映：一斤只有八两".into()),
        ("phone", "13900139000".into()),
        ("first_name", "先生".into()),
        ("last_name", "王".into()),
    ])
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(created[0].get("service_notice").is_some() && created[0].get("account_id").is_some());
    let source: String = sqlx::query_scalar("select source from complaints where public_id = $1")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(source, "open311");
    // A description of the full 1,000 characters the form allows is taken whole with a caller's
    // name too (the name's note is left out where it would not fit).
    let long = "秤".repeat(1000);
    let (s, created) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "short_weight".into()),
        ("attribute[code]", app.url(&stall.path)),
        ("description", long.clone()),
        ("first_name", "先生".into()),
    ])
    .await;
    assert_eq!(s, 201, "{created}");
    let stored: String = sqlx::query_scalar("select description from complaints where public_id = $1")
        .bind(created[0]["service_request_id"].as_str().unwrap())
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, long);

    let (s, one) = app
        .get_json(&format!("/open311/v2/nanan/requests/{id}.json"), None)
        .await;
    assert_eq!(s, 200);
    let r = &one[0];
    for field in [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ] {
        assert!(r.get(field).is_some(), "{field} in {r}");
    }
    assert_eq!(r["status"], "open");
    assert!(r.get("phone").is_none(), "no contact data in the exchange");
    let (s, open) = app
        .get_json(
            "/open311/v2/nanan/requests.json?status=open&service_code=short_weight",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .any(|x| x["service_request_id"] == id.as_str())
    );
    let (s, body) = app.get_json("/open311/v2/nanan/requests.json?status=maybe", None).await;
    assert_eq!((s, body[0]["code"].clone()), (400, json!(400)));
    let (s, _) = app
        .get_json("/open311/v2/nanan/requests.json?start_date=yesterday", None)
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .get_json("/open311/v2/nanan/requests/nanan-zzzzzzzzzzzzzzzzzzzz.json", None)
        .await;
    assert_eq!(s, 404);

    // Closed with a note: closed, and the note is the status_notes.
    let cid: Uuid = sqlx::query_scalar("select id from complaints where public_id = $1")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let official = app.token("nanan", "official").await;
    let steps = format!("/api/v1/t/nanan/complaints/{cid}/steps");
    let (s, _) = app
        .send_json(Method::POST, &steps, Some(&official), &json!({"action": "acknowledge"}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .send_json(
            Method::POST,
            &steps,
            Some(&official),
            &json!({"action": "resolve", "upheld": true, "note": "已核实并处罚"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, list) = app
        .get_json(
            &format!("/open311/v2/nanan/requests.json?service_request_id={id}"),
            None,
        )
        .await;
    assert_eq!(list[0]["status"], "closed");
    assert_eq!(list[0]["status_notes"], "已核实并处罚");
    let (_, open) = app.get_json("/open311/v2/nanan/requests.json?status=open", None).await;
    assert!(
        !open
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["service_request_id"] == id.as_str())
    );
    // Another tenant's jurisdiction does not know it.
    let (s, _) = app
        .get_json(&format!("/open311/v2/shangcheng/requests/{id}.json"), None)
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn officials_and_vendors_work_complaints_and_ratings_from_their_pages() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let (s, loc) = complain(
        &app,
        &app.client(),
        &stall,
        &[("category", "service"), ("description", "老板态度很差，还骂人")],
    )
    .await;
    assert_eq!(s, 303, "{loc}");
    let id = complaint_id(&app, &tracking_of(&loc)).await;

    // The official's queue and the complaint's page; steps through forms.
    let official = app.signed_in("nanan", "official").await;
    let page = official
        .get(app.url("/official/complaints"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("data-complaint=\"{id}\"")), "{page}");
    let page = official
        .get(app.url("/official/complaints?state=closed&category=noise&overdue=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&format!("data-complaint=\"{id}\"")));
    let detail = format!("/official/complaints/{id}");
    let r = official.get(app.url(&detail)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = official.post(app.url(&format!("{detail}/claim"))).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = official
        .post(app.url(&format!("{detail}/step")))
        .form(&[("action", "acknowledge")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = official
        .post(app.url(&format!("{detail}/step")))
        .form(&[("action", "resolve"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "the form shows what is missing");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("处理说明") && html.contains("id=\"form-errors\""),
        "{html}"
    );
    let r = official
        .post(app.url(&format!("{detail}/step")))
        .form(&[
            ("action", "resolve"),
            ("upheld", "no"),
            ("note", "现场调解，双方无异议"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let state: String = sqlx::query_scalar("select state from complaints where id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(state, "resolved");
    // The code page lists ratings with the score's parts.
    let page = official
        .get(app.url(&format!("/official/codes/{}", stall.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"code-ratings\"") && page.contains("出摊签到"),
        "{page}"
    );

    // A vendor cannot open the queue; an official of another tenant cannot open the complaint.
    let vendor = app.signed_in("nanan", "vendor").await;
    let r = vendor.get(app.url("/official/complaints")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let stranger = app.signed_in("shangcheng", "official").await;
    let r = stranger.get(app.url(&detail)).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // The vendor's stall page: the score with its parts, ratings to reply to, complaints to answer.
    let page = vendor
        .get(app.url(&format!("/vendor/stalls/{}", stall.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"score\"") && page.contains(&format!("data-complaint=\"{id}\"")),
        "{page}"
    );
    let r = vendor
        .post(app.url(&format!("/vendor/complaints/{id}/answer")))
        .form(&[("answer", ""), ("code", &stall.id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = vendor
        .post(app.url(&format!("/vendor/complaints/{id}/answer")))
        .form(&[("answer", "那天太忙，向顾客道歉"), ("code", &stall.id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let answer: Option<String> = sqlx::query_scalar("select vendor_answer from complaints where id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(answer.as_deref(), Some("那天太忙，向顾客道歉"));

    // Admins set a category's deadlines; bad numbers are refused; officials may not.
    let admin = app.signed_in("nanan", "admin").await;
    let page = admin
        .get(app.url("/admin/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"deadlines\""));
    for (ack, days, status) in [("0", "3", 422), ("x", "3", 422), ("2", "91", 422), ("3", "2", 303)] {
        let r = admin
            .post(app.url("/admin/complaint-deadlines"))
            .form(&[("category", "hygiene"), ("ack_hours", ack), ("resolve_days", days)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{ack} {days}");
    }
    let r = official
        .post(app.url("/admin/complaint-deadlines"))
        .form(&[("category", "hygiene"), ("ack_hours", "1"), ("resolve_days", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (ack, days): (i32, i32) = sqlx::query_as(
        "select ack_hours, resolve_days from complaint_deadlines d join tenants t on t.id = d.tenant_id
         where t.slug = 'nanan' and category = 'hygiene'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!((ack, days), (3, 2));
}

#[tokio::test]
async fn scans_are_counted_in_batches_and_each_device_once_a_night_as_a_visitor() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let night = today() + Duration::days(2);
    app.state.ctx.clock.set(at(night, "20:00"));
    let counts = || async {
        sqlx::query_as::<_, (i64, i64)>("select scans, visitors from scan_nights where code_id = $1 and night = $2")
            .bind(stall.id)
            .bind(night)
            .fetch_optional(&app.owner)
            .await
            .unwrap()
    };
    // Each client is a phone with its own cookies.
    let phone = || app.client();
    let (a, b) = (phone(), phone());
    let scan = |c: &reqwest::Client| {
        let request = c.get(app.url(&stall.path));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for c in [&a, &a, &a, &b, &b] {
        assert_eq!(scan(c).await, 200);
    }
    // Nothing is written while the page is served: the scans wait in memory.
    assert_eq!(counts().await, None);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((5, 2)));
    // Nothing counted twice by a second flush; a device coming back is a scan, not a new visitor.
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((5, 2)));
    assert_eq!(scan(&a).await, 200);
    assert_eq!(scan(&phone()).await, 200);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((7, 3)));
    // After midnight the market is still open: the same business night.
    app.state.ctx.clock.set(at(night + Duration::days(1), "00:30"));
    assert_eq!(scan(&b).await, 200);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((8, 3)));
    // A forged code counts nothing.
    let forged = format!("{}X", &stall.path[..stall.path.len() - 1]);
    assert_eq!(a.get(app.url(&forged)).send().await.unwrap().status(), 404);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((8, 3)));
    // The vendor sees tonight's figures on the stall page.
    let vendor = app.signed_in("nanan", "vendor").await;
    let html = vendor
        .get(app.url(&format!("/vendor/stalls/{}", stall.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-scans=\"8\" data-visitors=\"3\""), "{html}");
}
