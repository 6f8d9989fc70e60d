//! Vendors apply, officials decide, approved stalls get their operating code.

use crate::helpers::{TestApp, Who, texts};
use nightmarket_domain::identity::resident_id_check_char;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A valid resident ID number (Chongqing Nan'an, born 1988-06-15).
pub fn valid_id(seq: u32) -> String {
    let first = format!("50010819880615{:03}", seq % 1000);
    format!("{first}{}", resident_id_check_char(first.as_bytes()).unwrap())
}

/// A small real PNG.
pub fn png() -> Vec<u8> {
    let img = image::GrayImage::from_pixel(8, 8, image::Luma([128]));
    let mut out = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut out),
        img.as_raw(),
        8,
        8,
        image::ExtendedColorType::L8,
    )
    .unwrap();
    out
}

pub(crate) fn masked(phone: &str) -> String {
    format!("{}****{}", &phone[..3], &phone[7..])
}

/// Signs a new vendor up over the API; returns a token.
pub async fn sign_up(app: &TestApp, tenant: &str, phone: &str) -> String {
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/{tenant}/signup/code"),
            None,
            &json!({"phone": phone}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let code = app.sms_code(&masked(phone)).await;
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/{tenant}/signup"),
            None,
            &json!({"phone": phone, "code": code, "password": "摊主的密码2026"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_string()
}

pub fn food_application(market: &str, id_seq: u32) -> Value {
    json!({
        "market_id": market,
        "stall_name": "张记烤苕皮",
        "category": "food",
        "goods": "烤苕皮、烤豆干",
        "real_name": "张小三",
        "id_number": valid_id(id_seq),
        "phone": "13912345678",
        "food_licence_no": "JY15001080012345",
        "food_licence_expires": "2030-06-30",
        "health_cert_no": "JK2026-0098",
        "health_cert_expires": "2030-01-31"
    })
}

pub async fn upload(app: &TestApp, token: &str, path: &str, kind: &str, bytes: Vec<u8>, name: &str) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().text("kind", kind.to_string()).part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name.to_string())
            .mime_str("image/png")
            .unwrap(),
    );
    let r = app
        .client()
        .post(app.url(path))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The centre of the demo's main market (金辉铜元道).
pub const NEAR: (f64, f64) = (29.5485, 106.5811);

/// A vendor with a complete food application, submitted. Returns (vendor token, application id).
pub async fn submitted_application(app: &TestApp, phone: &str, id_seq: u32) -> (String, String) {
    let vendor = sign_up(app, "nanan", phone).await;
    let market = app.market_id("nanan");
    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/applications",
            Some(&vendor),
            &food_application(&market, id_seq),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    for kind in ["id_card", "food_licence", "health_cert"] {
        let (status, body) = upload(
            app,
            &vendor,
            &format!("/api/v1/t/nanan/applications/{id}/documents"),
            kind,
            png(),
            "photo.jpg",
        )
        .await;
        assert_eq!(status, 201, "{kind}: {body}");
    }
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/applications/{id}/submit"),
            Some(&vendor),
            &json!({"lat": NEAR.0, "lng": NEAR.1, "accuracy_m": 12.0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "submitted");
    (vendor, id)
}

/// An official approves a submitted application into a free food slot, through the API; the
/// decided application.
pub async fn approve(app: &TestApp, application: &str) -> Value {
    let official = app.token("nanan", "official").await;
    let slot = free_food_slot(app, &official, application).await;
    let (_, review) = app
        .get_json(
            &format!("/api/v1/t/nanan/review/applications/{application}"),
            Some(&official),
        )
        .await;
    let version = review["application"]["version"].as_i64().unwrap();
    let (status, decided) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/review/applications/{application}/decision"),
            Some(&official),
            &json!({"decision": "approve", "version": version, "slot_id": slot}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    decided
}

/// A free food slot of the main market.
pub async fn free_food_slot(app: &TestApp, official: &str, application: &str) -> String {
    let (_, review) = app
        .get_json(
            &format!("/api/v1/t/nanan/review/applications/{application}"),
            Some(official),
        )
        .await;
    review["free_slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "food")
        .expect("a free food slot")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
pub(crate) async fn the_whole_loop_from_sign_up_to_a_green_scan_page() {
    let app = TestApp::spawn().await;
    let (vendor, id) = submitted_application(&app, "13712345601", 1).await;

    // The official finds it at the end of the queue (oldest first), with a deadline.
    let official = app.token("nanan", "official").await;
    let (status, queue) = app.get_json("/api/v1/t/nanan/review/queue", Some(&official)).await;
    assert_eq!(status, 200);
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.last().unwrap()["id"], id.as_str(), "newest submission last");
    let submitted: Vec<&str> = items.iter().map(|i| i["submitted_at"].as_str().unwrap()).collect();
    assert!(submitted.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let mine = items.last().unwrap();
    assert_eq!(mine["overdue"], false);
    assert!(mine["deadline"].is_string());
    assert_eq!(mine["real_name"], "张**", "masked in the queue");

    let decided = approve(&app, &id).await;
    assert_eq!(decided["state"], "approved");

    // The vendor has a green code, was told in the inbox and by SMS, and the scan page says green.
    let (_, codes) = app.get_json("/api/v1/t/nanan/my/codes", Some(&vendor)).await;
    let code = &codes.as_array().unwrap()[0];
    assert_eq!(code["colour"], "green");
    assert_eq!(code["stall_name"], "张记烤苕皮");
    let (_, notices) = app.get_json("/api/v1/me/notifications", Some(&vendor)).await;
    assert!(notices[0]["text"].as_str().unwrap().contains("已通过"), "{notices}");
    let sms: i64 = sqlx::query_scalar(
        "select count(*) from sms_outbox where phone_masked = '137****5601' and body like '%已通过%'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(sms, 1);

    let url = code["url"].as_str().unwrap();
    let path = &url[url.find("/c/").unwrap()..];
    let r = app.client().get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-colour=\"green\""));
    assert_eq!(texts(&html, "h1"), vec!["张记烤苕皮"]);
    assert!(
        html.contains("张**") && !html.contains("张小三"),
        "the vendor's name is masked"
    );
    assert!(html.contains("JY************45"), "licence numbers masked");
    assert!(!html.contains("<script"), "the scan page needs no script");

    // The public market page lists the stall, linking to its code.
    let market = app
        .client()
        .get(app.url(&format!("/t/nanan/m/{}", app.market_id("nanan"))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(market.contains("张记烤苕皮") && market.contains(path.split('?').next().unwrap()));

    // Every step is in the audit trail.
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log where subject_id = $1 order by seq")
        .bind(&id)
        .fetch_all(&app.owner)
        .await
        .unwrap();
    for a in [
        "application.create",
        "application.add_document",
        "application.submit",
        "application.approve",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[tokio::test]
pub(crate) async fn a_returned_application_is_corrected_and_resubmitted() {
    let app = TestApp::spawn().await;
    let (vendor, id) = submitted_application(&app, "13712345602", 2).await;
    let official = app.token("nanan", "official").await;
    let decision = |body: Value| {
        let app = &app;
        let official = official.clone();
        let id = id.clone();
        async move {
            app.send_json(
                Method::POST,
                &format!("/api/v1/t/nanan/review/applications/{id}/decision"),
                Some(&official),
                &body,
            )
            .await
        }
    };
    // A return needs notes on real fields.
    let (status, err) =
        decision(json!({"decision": "return", "version": 99, "notes": {"goods": "写清楚卖什么"}})).await;
    assert_eq!(status, 409, "a stale version: {err}");
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    let v = review["application"]["version"].as_i64().unwrap();
    let (status, _) = decision(json!({"decision": "return", "version": v, "notes": {}})).await;
    assert_eq!(status, 422);
    let (status, _) = decision(json!({"decision": "return", "version": v, "notes": {"password": "x"}})).await;
    assert_eq!(status, 422);
    let (status, returned) = decision(json!({"decision": "return", "version": v, "notes": {"goods": "请写清楚具体商品", "stall_name": "名称不要用英文"}})).await;
    assert_eq!(status, 200, "{returned}");
    assert_eq!(returned["state"], "returned");

    // The vendor sees the notes, corrects, resubmits.
    let (_, mine) = app
        .get_json(&format!("/api/v1/t/nanan/applications/{id}"), Some(&vendor))
        .await;
    assert_eq!(mine["return_notes"]["goods"], "请写清楚具体商品");
    let mut changed = food_application(&app.market_id("nanan"), 2);
    changed["goods"] = json!("烤苕皮、烤豆干、烤土豆片");
    for personal in ["real_name", "id_number", "phone"] {
        changed[personal] = json!(""); // blank keeps what is stored
    }
    let (status, body) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/t/nanan/applications/{id}"),
            Some(&vendor),
            &changed,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["real_name"], "张**", "kept");
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/applications/{id}/submit"),
            Some(&vendor),
            &json!({"lat": NEAR.0, "lng": NEAR.1}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "resubmitted");

    // Back in the queue, and rejected with a reason this time.
    let (_, queue) = app.get_json("/api/v1/t/nanan/review/queue", Some(&official)).await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str() && i["state"] == "resubmitted")
    );
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    let v = review["application"]["version"].as_i64().unwrap();
    let (status, _) = decision(json!({"decision": "reject", "version": v, "reason": " "})).await;
    assert_eq!(status, 422, "a rejection needs a reason");
    let (status, rejected) = decision(json!({"decision": "reject", "version": v, "reason": "本期摊位已满"})).await;
    assert_eq!(status, 200);
    assert_eq!(rejected["decision_reason"], "本期摊位已满");
    let (_, notices) = app.get_json("/api/v1/me/notifications", Some(&vendor)).await;
    assert!(notices[0]["text"].as_str().unwrap().contains("本期摊位已满"));
    // History shows each step.
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    let actions: Vec<&str> = review["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"application.return")
            && actions.contains(&"application.resubmit")
            && actions.contains(&"application.reject")
    );
}

#[tokio::test]
pub(crate) async fn a_vendor_withdraws_an_open_application_but_not_a_decided_one() {
    let app = TestApp::spawn().await;
    let (vendor, id) = submitted_application(&app, "13712345603", 3).await;
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/applications/{id}/withdraw"),
            Some(&vendor),
            &json!({}),
        )
        .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("withdrawn")));
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/applications/{id}/withdraw"),
            Some(&vendor),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409);
    // Withdrawn, it no longer blocks a new application by the same person.
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/applications",
            Some(&vendor),
            &food_application(&app.market_id("nanan"), 3),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // But an open one does.
    let (status, err) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/applications",
            Some(&vendor),
            &food_application(&app.market_id("nanan"), 3),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("未完成的申请"));
}

#[tokio::test]
pub(crate) async fn bad_application_input_is_refused_with_a_message_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let vendor = sign_up(&app, "nanan", "13712345604").await;
    let market = app.market_id("nanan");
    let before: i64 = app.count("applications").await;

    let valid = valid_id(4);
    let mut cases: Vec<(String, Value, &str)> = vec![
        (
            "check digit".into(),
            json!({"id_number": format!("{}{}", &valid[..17], if valid.ends_with('0') { '1' } else { '0' })}),
            "id_number",
        ),
        ("17 digits".into(), json!({"id_number": &valid[..17]}), "id_number"),
        (
            "no such date".into(),
            json!({"id_number": "500108198802300011"}),
            "id_number",
        ),
        (
            "bad area".into(),
            json!({"id_number": "990108198806150011"}),
            "id_number",
        ),
        ("landline".into(), json!({"phone": "02368881234"}), "phone"),
        ("iot range".into(), json!({"phone": "14112345678"}), "phone"),
        ("bad credit code".into(), json!({"uscc": "91350100M000100Y44"}), "uscc"),
        (
            "expired health certificate".into(),
            json!({"health_cert_expires": "2020-01-31"}),
            "health_cert_expires",
        ),
        (
            "date format".into(),
            json!({"food_licence_expires": "30/06/2030"}),
            "food_licence_expires",
        ),
        ("name with digits".into(), json!({"real_name": "张3"}), "real_name"),
        ("unknown category".into(), json!({"category": "fireworks"}), "category"),
    ];
    // Every single-digit change of a valid ID number is caught.
    let chars: Vec<char> = valid.chars().collect();
    for i in 0..17 {
        for d in '0'..='9' {
            if d != chars[i] {
                let mut c = chars.clone();
                c[i] = d;
                cases.push((
                    format!("digit {i} -> {d}"),
                    json!({"id_number": c.into_iter().collect::<String>()}),
                    "id_number",
                ));
            }
        }
    }
    for (name, patch, field) in cases {
        let mut body = food_application(&market, 4);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = app
            .send_json(Method::POST, "/api/v1/t/nanan/applications", Some(&vendor), &body)
            .await;
        assert_eq!(status, 422, "{name}: {err}");
        let fields: Vec<&str> = err["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{name}: {fields:?}");
        assert!(
            err["error"]["fields"][0]["message"].as_str().unwrap().chars().count() > 5,
            "{name}: a clear message"
        );
    }
    assert_eq!(app.count("applications").await, before, "nothing written");
}

#[tokio::test]
pub(crate) async fn uploads_are_sniffed_and_bounded_and_submission_checks_everything() {
    let app = TestApp::spawn().await;
    let vendor = sign_up(&app, "nanan", "13712345605").await;
    let (_, created) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/applications",
            Some(&vendor),
            &food_application(&app.market_id("nanan"), 5),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let docs = format!("/api/v1/t/nanan/applications/{id}/documents");

    let (status, err) = upload(
        &app,
        &vendor,
        &docs,
        "id_card",
        b"MZ\x90\x00 this is an .exe renamed to .jpg".to_vec(),
        "photo.jpg",
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert!(err["error"]["fields"][0]["message"].as_str().unwrap().contains("JPG"));
    let mut big = png();
    big.resize(5 * 1024 * 1024 + 10, 0);
    let (status, err) = upload(&app, &vendor, &docs, "id_card", big, "big.png").await;
    assert_eq!(status, 422, "{err}");
    assert!(err["error"]["fields"][0]["message"].as_str().unwrap().contains("5 MB"));
    let (status, _) = upload(&app, &vendor, &docs, "id_card", vec![0u8; 9 * 1024 * 1024], "huge.png").await;
    assert_eq!(status, 413);
    let (status, _) = upload(&app, &vendor, &docs, "passport", png(), "p.png").await;
    assert_eq!(status, 422);
    let (status, _) = upload(
        &app,
        &vendor,
        &docs,
        "id_card",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n".to_vec(),
        "scan.pdf",
    )
    .await;
    assert_eq!(status, 201, "a PDF");
    let documents: i64 = app.count("application_documents").await;

    // Submitting without the food documents, or from far away, or without a position, is refused.
    let submit = |lat: Option<f64>, lng: Option<f64>| {
        let app = &app;
        let vendor = vendor.clone();
        let id = id.clone();
        async move {
            app.send_json(
                Method::POST,
                &format!("/api/v1/t/nanan/applications/{id}/submit"),
                Some(&vendor),
                &json!({"lat": lat, "lng": lng}),
            )
            .await
        }
    };
    let (status, err) = submit(Some(NEAR.0), Some(NEAR.1)).await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "documents" && f["message"].as_str().unwrap().contains("健康证"))
    );
    for kind in ["food_licence", "health_cert"] {
        upload(&app, &vendor, &docs, kind, png(), "x.png").await;
    }
    let (status, err) = submit(Some(30.66), Some(104.06)).await; // Chengdu
    assert_eq!(status, 422);
    let msg = err["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(msg.contains("公里") && msg.contains("50"), "{msg}");
    let (status, err) = submit(None, None).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["fields"][0]["field"], "position");
    let state: String = sqlx::query_scalar("select state from applications where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(state, "draft", "refused submissions change nothing");
    assert_eq!(app.count("application_documents").await, documents + 2);
    let (status, _) = submit(Some(NEAR.0), Some(NEAR.1)).await;
    assert_eq!(status, 200);
    // Submitted, it can no longer be changed.
    let (status, _) = upload(&app, &vendor, &docs, "other", png(), "late.png").await;
    assert_eq!(status, 409);
}

#[tokio::test]
pub(crate) async fn two_officials_approving_at_once_make_exactly_one_decision() {
    let app = TestApp::spawn().await;
    let (_, id) = submitted_application(&app, "13712345606", 6).await;
    let official = app.token("nanan", "official").await;
    let admin = app.token("nanan", "admin").await; // admins hold the review permission too
    let slot = free_food_slot(&app, &official, &id).await;
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    let body = json!({"decision": "approve", "version": review["application"]["version"], "slot_id": slot});
    let path = format!("/api/v1/t/nanan/review/applications/{id}/decision");
    let (a, b) = tokio::join!(
        app.send_json(Method::POST, &path, Some(&official), &body),
        app.send_json(Method::POST, &path, Some(&admin), &body)
    );
    let mut statuses = vec![a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, vec![200, 409], "{a:?} {b:?}");
    let loser = if a.0 == 409 { &a.1 } else { &b.1 };
    assert!(loser["error"]["message"].as_str().unwrap().contains("已由"), "{loser}");
    let codes: i64 = sqlx::query_scalar("select count(*) from codes where application_id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(codes, 1);
    let decisions: i64 =
        sqlx::query_scalar("select count(*) from audit_log where subject_id = $1 and action = 'application.approve'")
            .bind(&id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(decisions, 1);
}

#[tokio::test]
pub(crate) async fn a_claimed_application_cannot_be_decided_by_a_colleague() {
    let app = TestApp::spawn().await;
    let (_, id) = submitted_application(&app, "13712345607", 7).await;
    let official = app.token("nanan", "official").await;
    let admin = app.token("nanan", "admin").await;
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/nanan/review/applications/{id}/claim")))
        .bearer_auth(&official)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/nanan/review/applications/{id}/claim")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&admin))
        .await;
    assert_eq!(review["application"]["claimed_by"], "李巡查");
    let v = review["application"]["version"].clone();
    let (status, err) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/review/applications/{id}/decision"),
            Some(&admin),
            &json!({"decision": "reject", "version": v, "reason": "重复"}),
        )
        .await;
    assert_eq!(status, 409);
    assert!(err["error"]["message"].as_str().unwrap().contains("李巡查"));
}

#[tokio::test]
pub(crate) async fn other_tenants_and_other_roles_cannot_reach_applications() {
    let app = TestApp::spawn().await;
    let (vendor, id) = submitted_application(&app, "13712345608", 8).await;
    let other_vendor = sign_up(&app, "nanan", "13712345609").await;
    let shangcheng = app.token("shangcheng", "official").await;
    let nanan_official = app.token("nanan", "official").await;

    let none = json!(null);
    // Another tenant's official: 404 whether naming their own tenant or ours; another vendor of
    // the same tenant: someone else's application does not exist.
    for (method, path, body, who) in [
        (
            Method::GET,
            format!("/api/v1/t/shangcheng/review/applications/{id}"),
            &none,
            &shangcheng,
        ),
        (
            Method::GET,
            format!("/api/v1/t/nanan/review/applications/{id}"),
            &none,
            &shangcheng,
        ),
        (
            Method::POST,
            format!("/api/v1/t/shangcheng/review/applications/{id}/decision"),
            &json!({"decision": "approve", "version": 0}),
            &shangcheng,
        ),
        (
            Method::GET,
            format!("/api/v1/t/nanan/applications/{id}"),
            &none,
            &other_vendor,
        ),
        (
            Method::POST,
            format!("/api/v1/t/nanan/applications/{id}/withdraw"),
            &json!({}),
            &other_vendor,
        ),
    ] {
        app.ladder(method, &path, body, &[(Who::Token(who), 404)]).await;
    }
    // A vendor cannot review, an official without the permission cannot either.
    app.ladder(
        Method::GET,
        "/api/v1/t/nanan/review/queue",
        &none,
        &[(Who::Token(&vendor), 403)],
    )
    .await;
    let (_, me) = app.get_json("/api/v1/me", Some(&nanan_official)).await;
    let admin = app.token("nanan", "admin").await;
    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/t/nanan/staff/{}/permissions", me["id"].as_str().unwrap()),
            Some(&admin),
            &json!({"permissions": ["inspect"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .get_json("/api/v1/t/nanan/review/queue", Some(&nanan_official))
        .await;
    assert_eq!(status, 403);
    // Officials cannot apply.
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/applications",
            Some(&admin),
            &food_application(&app.market_id("nanan"), 9),
        )
        .await;
    assert_eq!(status, 403);
    // Pages: a vendor on the queue, another tenant's official on the application.
    let page_vendor = app.signed_in("nanan", "vendor").await;
    assert_eq!(
        page_vendor
            .get(app.url("/official/review"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let page_other = app.signed_in("shangcheng", "official").await;
    assert_eq!(
        page_other
            .get(app.url(&format!("/official/applications/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

pub(crate) fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}
