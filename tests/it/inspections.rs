//! Inspections: deductions and the monthly allowance, appeals, photos, and inspecting beside suspending.

use crate::helpers::TestApp;
use crate::supervision::*;
use chrono::{DateTime, Datelike, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn penalty_points_reaching_the_allowance_turn_the_code_red_until_the_month_turns() {
    let app = app_with_clock().await;
    let stall = demo_stall(&app).await;
    let official = app.token("nanan", "official").await;
    let vendor = app.token("nanan", "vendor").await;
    // Mid-month, so the month turn is ours to make.
    let day = today().with_day(15).unwrap();
    app.state.ctx.clock.set(at(day, "20:00"));
    let inspections = app.count("inspections").await;

    // Bad input and the wrong people: refused, nothing written.
    let (status, r) = inspect(&app, &official, "nanan", stall.id, &["no_such_problem"], "x").await;
    assert_eq!(status, 422, "{r}");
    let (status, r) = inspect(&app, &official, "nanan", stall.id, &["hygiene"], "").await;
    assert_eq!(status, 422, "problems need notes or a photo: {r}");
    let (status, _) = inspect(&app, &vendor, "nanan", stall.id, &[], "").await;
    assert_eq!(status, 403);
    let other = app.token("shangcheng", "official").await;
    let (status, _) = inspect(&app, &other, "shangcheng", stall.id, &[], "").await;
    assert_eq!(status, 404);
    let (status, _) = inspect(&app, &other, "nanan", stall.id, &[], "").await;
    assert_eq!(status, 404);
    assert_eq!(app.count("inspections").await, inspections);

    // A passed inspection changes nothing.
    let (status, r) = inspect(&app, &official, "nanan", stall.id, &[], "一切正常").await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["passed"], true);
    assert_eq!(colour_of(&app, stall.id).await, "green");

    // 无证经营 costs 12: the allowance is reached.
    let (status, r) = inspect(&app, &official, "nanan", stall.id, &["unlicensed"], "无法出示任何证照").await;
    assert_eq!(status, 201, "{r}");
    assert!(r["month_total"].as_i64().unwrap() >= 12, "{r}");
    assert_eq!(scan_colour(&app, &stall.path).await, "red");
    assert!(
        open_causes(&app, stall.id)
            .await
            .contains(&"penalty_points".to_string())
    );
    let (_, detail) = app
        .get_json(&format!("/api/v1/t/nanan/codes/{}", stall.id), Some(&vendor))
        .await;
    assert!(
        detail["causes"].to_string().contains("penalty_points"),
        "the vendor sees why: {detail}"
    );

    // The month turns: the sweeper restores the colour; twice changes nothing.
    let next_month = (day + Duration::days(20)).with_day(1).unwrap();
    let sweep = |t: DateTime<Utc>| {
        let state = app.state.clone();
        async move {
            nightmarket_services::supervision::sweep(&state.ctx.db, &state.ctx.keys, t)
                .await
                .unwrap()
        }
    };
    sweep(at(next_month - Duration::days(1), "23:55")).await;
    assert_eq!(colour_of(&app, stall.id).await, "red", "still the same month");
    sweep(at(next_month, "00:05")).await;
    // The points still weigh on the score (90 days), which may keep it yellow; red is lifted.
    assert_ne!(scan_colour(&app, &stall.path).await, "red");
    assert!(
        !open_causes(&app, stall.id)
            .await
            .contains(&"penalty_points".to_string())
    );
    let r = sweep(at(next_month, "00:06")).await;
    assert_eq!(r.colour_changes, 0);
}

#[tokio::test]
async fn a_vendor_appeals_a_deduction_and_an_official_cancels_or_upholds_it() {
    let app = app_with_clock().await;
    let stall = demo_stall(&app).await;
    let official = app.token("nanan", "official").await;
    let vendor = app.token("nanan", "vendor").await;
    let now = Utc::now();
    app.state.ctx.clock.set(now);
    let (status, _) = inspect(&app, &official, "nanan", stall.id, &["unlicensed"], "无法出示任何证照").await;
    assert_eq!(status, 201);
    assert_eq!(colour_of(&app, stall.id).await, "red");

    let (status, list) = app.get_json("/api/v1/t/nanan/my/deductions", Some(&vendor)).await;
    assert_eq!(status, 200);
    let d = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["problem"] == "无证经营" && !d["appeal_until"].is_null())
        .unwrap();
    let deduction = d["id"].as_str().unwrap().to_string();
    let appeal_path = format!("/api/v1/t/nanan/deductions/{deduction}/appeal");

    // Bad input and the wrong people.
    let (status, _) = app
        .send_json(Method::POST, &appeal_path, Some(&vendor), &json!({"text": " "}))
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .send_json(Method::POST, &appeal_path, Some(&official), &json!({"text": "不服"}))
        .await;
    assert_eq!(status, 403);
    let before = app.count("appeals").await;

    let (status, r) = app
        .send_json(
            Method::POST,
            &appeal_path,
            Some(&vendor),
            &json!({"text": "证照在店里，已补交照片"}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let appeal = r["id"].as_str().unwrap().to_string();
    let (status, _) = app
        .send_json(
            Method::POST,
            &appeal_path,
            Some(&vendor),
            &json!({"text": "再申诉一次"}),
        )
        .await;
    assert_eq!(status, 409, "one appeal per deduction");
    assert_eq!(app.count("appeals").await, before + 1);
    let told: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'appeal_filed'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(told >= 2, "officials are told of the appeal");

    let (status, list) = app.get_json("/api/v1/t/nanan/appeals", Some(&official)).await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().any(|a| a["id"] == appeal.as_str()));
    let decide = format!("/api/v1/t/nanan/appeals/{appeal}/decision");
    let other = app.token("shangcheng", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &decide,
            Some(&other),
            &json!({"cancel": true, "reason": "撤销"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/appeals/{appeal}/decision"),
            Some(&other),
            &json!({"cancel": true, "reason": "撤销"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .send_json(
            Method::POST,
            &decide,
            Some(&vendor),
            &json!({"cancel": true, "reason": "撤销"}),
        )
        .await;
    assert_eq!(status, 403);
    // The official who recorded the deduction does not decide its appeal while someone else may.
    let (status, body) = app
        .send_json(
            Method::POST,
            &decide,
            Some(&official),
            &json!({"cancel": true, "reason": "我自己撤销"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("其他监管人员"),
        "{body}"
    );
    let reviewer = app.token("nanan", "admin").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &decide,
            Some(&reviewer),
            &json!({"cancel": true, "reason": ""}),
        )
        .await;
    assert_eq!(status, 422);

    // Cancelled: the points come back and the colour is re-evaluated at once.
    let (status, _) = app
        .send_json(
            Method::POST,
            &decide,
            Some(&reviewer),
            &json!({"cancel": true, "reason": "复核证照齐全，撤销扣分"}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    let (status, _) = app
        .send_json(
            Method::POST,
            &decide,
            Some(&reviewer),
            &json!({"cancel": false, "reason": "再次处理"}),
        )
        .await;
    assert_eq!(status, 409, "decided already");
    let (_, list) = app.get_json("/api/v1/t/nanan/my/deductions", Some(&vendor)).await;
    let d = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == deduction.as_str())
        .unwrap();
    assert_eq!(d["cancelled"], true);
    assert_eq!(d["appeal_state"], "cancelled");

    // Upheld: the points stay.
    let (_, r) = inspect(&app, &official, "nanan", stall.id, &["hygiene"], "台面油污").await;
    let total = r["month_total"].as_i64().unwrap();
    let (_, list) = app.get_json("/api/v1/t/nanan/my/deductions", Some(&vendor)).await;
    let hygiene = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["problem"] == "卫生不达标" && !d["appeal_until"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, r) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/deductions/{hygiene}/appeal"),
            Some(&vendor),
            &json!({"text": "已经清理"}),
        )
        .await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/appeals/{}/decision", r["id"].as_str().unwrap()),
            Some(&reviewer),
            &json!({"cancel": false, "reason": "照片为证，维持扣分"}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, r) = inspect(&app, &official, "nanan", stall.id, &[], "复查通过").await;
    assert_eq!(
        r["month_total"].as_i64().unwrap(),
        total,
        "an upheld deduction keeps its points"
    );

    // Too late: the window is 7 days.
    let (_, _) = inspect(&app, &official, "nanan", stall.id, &["no_placard"], "未亮码").await;
    let (_, list) = app.get_json("/api/v1/t/nanan/my/deductions", Some(&vendor)).await;
    let late = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["problem"] == "未亮码经营")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.state.ctx.clock.set(now + Duration::days(8));
    let (status, r) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/deductions/{late}/appeal"),
            Some(&vendor),
            &json!({"text": "太晚了"}),
        )
        .await;
    assert_eq!(status, 409, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("7 天"), "{r}");
}

#[tokio::test]
async fn an_official_records_an_inspection_with_photos_from_the_code_page() {
    let app = TestApp::spawn().await;
    let stall = demo_stall(&app).await;
    let client = app.signed_in("nanan", "official").await;
    // An official who scans the code is one tap from the inspection form; a shopper is not.
    let scan = client
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let page = format!("/official/codes/{}", stall.id);
    assert_eq!(
        crate::helpers::texts(&scan, &format!("#inspect-link[href='{page}']")).len(),
        1
    );
    let shopper = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(crate::helpers::texts(&shopper, "#inspect-link").is_empty());
    let html = client.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
    assert!(crate::helpers::texts(&html, "#inspect-form input[name=problem]").len() >= 6);

    let form = |confirm: bool| {
        let f = reqwest::multipart::Form::new()
            .text("problem", "hygiene")
            .text("problem", "outside_slot")
            .text("notes", "台面油污，桌椅超出摊位线")
            .part(
                "photo",
                reqwest::multipart::Part::bytes(crate::applications::png()).file_name("a.png"),
            );
        if confirm { f.text("confirm_deduction", "yes") } else { f }
    };
    // Deducting points needs the box that states what it does ticked; nothing is written before.
    let inspections = app.count("inspections").await;
    let r = client
        .post(app.url(&format!("{page}/inspections")))
        .multipart(form(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("不能撤回"));
    assert_eq!(app.count("inspections").await, inspections);
    let r = client
        .post(app.url(&format!("{page}/inspections")))
        .multipart(form(true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = client
        .get(app.url(&format!("{page}?notice=deducted")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let items = crate::helpers::texts(&html, "#code-inspections li.card");
    assert!(
        items[0].contains("卫生不达标") && items[0].contains("超出摊位范围"),
        "{items:?}"
    );
    let photo: Uuid = sqlx::query_scalar(
        "select p.id from inspection_photos p join inspections i on i.tenant_id = p.tenant_id and i.id = p.inspection_id
         where i.code_id = $1 order by i.inspected_at desc limit 1",
    )
    .bind(stall.id)
    .fetch_one(&app.owner)
        .await
        .unwrap();
    let r = client
        .get(app.url(&format!("/inspection-photos/{photo}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().to_vec(), crate::applications::png());
    // The vendor inspected sees it; another tenant does not.
    let vendor = app.signed_in("nanan", "vendor").await;
    assert_eq!(
        vendor
            .get(app.url(&format!("/inspection-photos/{photo}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let other = app.signed_in("shangcheng", "official").await;
    assert_eq!(
        other
            .get(app.url(&format!("/inspection-photos/{photo}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // A photo that is not an image is refused with the form again; nothing written.
    let count = app.count("inspections").await;
    let form = reqwest::multipart::Form::new().text("problem", "hygiene").part(
        "photo",
        reqwest::multipart::Part::bytes(b"MZ\x90\x00 not an image".to_vec()).file_name("a.png"),
    );
    let r = client
        .post(app.url(&format!("{page}/inspections")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(app.count("inspections").await, count);
}

/// Suspending, restoring and inspecting the same stall at once: each answers (200, 201 or 409 for
/// a state already reached), never a 500. Suspensions used to take the code's lock before the
/// vendor's, inspections the vendor's before the code's, and PostgreSQL broke the deadlock by
/// failing one of them.
#[tokio::test]
async fn suspending_restoring_and_inspecting_one_stall_at_once_never_deadlock() {
    let app = TestApp::spawn().await;
    let stall = demo_stall(&app).await;
    let official = app.token("nanan", "official").await;
    let send = |action: &'static str, body: Value| {
        let (app, official) = (&app, &official);
        async move {
            let path = format!("/api/v1/t/nanan/codes/{}/{action}", stall.id);
            let (status, body) = app.send_json(Method::POST, &path, Some(official), &body).await;
            (action, status, body)
        }
    };
    for _ in 0..10 {
        let answers = futures::future::join_all([
            send("suspend", json!({"reason": "现场核查暂停营业"})),
            send("restore", json!({})),
            send("inspections", json!({"problems": [], "notes": "", "goods_checked": []})),
            send("suspend", json!({"reason": "现场核查暂停营业"})),
            send("inspections", json!({"problems": [], "notes": "", "goods_checked": []})),
            send("restore", json!({})),
        ])
        .await;
        for (action, status, body) in answers {
            assert!([200, 201, 409].contains(&status), "{action}: {status} {body}");
        }
    }
}
