//! Complaints: filing, the queue, resolution and reopening; what unresolved ones do to the colour; the pages officials and vendors work them from.

use crate::scan::*;
use crate::supervision::{at, demo_stall, scan_colour, today};
use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};

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
    // Exactly the active admins and the officials who handle complaints, of this tenant.
    let (got, expected): (Vec<uuid::Uuid>, Vec<uuid::Uuid>) = (
        sqlx::query_scalar(
            "select n.user_id from notifications n join tenants t on t.id = n.tenant_id
             where t.slug = 'nanan' and n.kind = 'complaint_filed' order by 1",
        )
        .fetch_all(&app.owner)
        .await
        .unwrap(),
        sqlx::query_scalar(
            "select u.id from users u join tenants t on t.id = u.tenant_id
             where t.slug = 'nanan' and u.disabled_at is null
               and (u.role = 'admin' or (u.role = 'official' and 'complaints' = any(u.permissions)))
             order by 1",
        )
        .fetch_all(&app.owner)
        .await
        .unwrap(),
    );
    assert!(!got.is_empty());
    assert_eq!(got, expected);
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
            // 转办: the first claim.
            "assigned",
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
