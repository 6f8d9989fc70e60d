//! Patrol without a signal over HTTP: the phone's download, and inspections recorded offline
//! applied once each, with what changed meanwhile; forged and replayed uploads refused with
//! nothing written; the wrong role and the wrong tenant.

use crate::helpers::TestApp;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn demo_code(app: &TestApp) -> (Uuid, String) {
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap().to_string();
    let code = url[url.find("/c/").unwrap() + 3..][..13].to_string();
    let (id, market): (Uuid, Uuid) = sqlx::query_as("select id, market_id from codes where code = $1")
        .bind(&code)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    (id, market.to_string())
}

async fn written(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("inspections").await,
        app.count("deductions").await,
        app.count("audit_log").await,
    )
}

fn upload(id: Uuid, code: Uuid, recorded: chrono::DateTime<Utc>, colour: &str, problems: &[&str]) -> Value {
    json!({
        "id": id, "code_id": code, "recorded_at": recorded, "downloaded_at": recorded - Duration::hours(1),
        "colour_seen": colour, "problems": problems, "notes": if problems.is_empty() { "" } else { "现场拍照留证" }
    })
}

#[tokio::test]
async fn an_inspection_recorded_offline_is_applied_once_at_its_time_with_what_changed() {
    let app = TestApp::spawn().await;
    let (code, market) = demo_code(&app).await;
    let official = app.token("nanan", "official").await;

    // The download: keys, the stall with its colour, the problem list, how long it stays fresh.
    let (status, pack) = app
        .get_json(&format!("/api/v1/t/nanan/patrol/markets/{market}"), Some(&official))
        .await;
    assert_eq!(status, 200, "{pack}");
    assert!(!pack["keys"]["keys"].as_array().unwrap().is_empty());
    let stall = pack["stalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code_id"] == code.to_string())
        .expect("the stall is in the download")
        .clone();
    assert_eq!(stall["colour"], "green");
    assert_eq!(pack["stale_after_hours"], 12);
    let problems: Vec<(String, i64)> = pack["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["code"].as_str().unwrap().to_string(), p["points"].as_i64().unwrap()))
        .collect();
    assert!(!problems.is_empty());
    for (who, want) in [("vendor", 403)] {
        let token = app.token("nanan", who).await;
        let (status, _) = app
            .get_json(&format!("/api/v1/t/nanan/patrol/markets/{market}"), Some(&token))
            .await;
        assert_eq!(status, want, "{who}");
    }
    let other = app.token("shangcheng", "official").await;
    let (status, _) = app
        .get_json(&format!("/api/v1/t/nanan/patrol/markets/{market}"), Some(&other))
        .await;
    assert_eq!(status, 404);

    // Recorded an hour ago, sent now: applied under the phone's id, at the phone's time.
    let recorded = Utc::now() - Duration::hours(1);
    let id = Uuid::new_v4();
    let (first, _) = problems.iter().min_by_key(|(_, p)| *p).unwrap().clone();
    let body = json!({ "inspections": [upload(id, code, recorded, "green", &[first.as_str()])] });
    let before = written(&app).await;
    let (status, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/patrol/inspections",
            Some(&official),
            &body,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["outcome"], "applied", "{answer}");
    let (at, synced): (chrono::DateTime<Utc>, Option<chrono::DateTime<Utc>>) =
        sqlx::query_as("select inspected_at, synced_at from inspections where id = $1")
            .bind(id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(
        (at - recorded).num_milliseconds().abs() < 1000,
        "at the time it was recorded"
    );
    assert!(synced.unwrap() > at, "and when it arrived");
    let audit: Value =
        sqlx::query_scalar("select after from audit_log where action = 'inspection.record' order by seq desc limit 1")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(
        audit["recorded_at"].is_string() && audit["synced_at"].is_string(),
        "{audit}"
    );
    let after_first = written(&app).await;
    assert_eq!(after_first.0, before.0 + 1);

    // Sent again (the phone lost the answer): applied once.
    let (status, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/patrol/inspections",
            Some(&official),
            &body,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["results"][0]["outcome"], "already_applied");
    assert_eq!(written(&app).await, after_first, "nothing new written");

    // The same id from another inspector, a time in the future, a stall of another district:
    // refused, nothing written.
    let admin = app.token("nanan", "admin").await;
    let (_, answer) = app
        .send_json(Method::POST, "/api/v1/t/nanan/patrol/inspections", Some(&admin), &body)
        .await;
    assert_eq!(answer["results"][0]["outcome"], "refused");
    assert!(answer["results"][0]["message"].as_str().unwrap().contains("另一条"));
    let future =
        json!({ "inspections": [upload(Uuid::new_v4(), code, Utc::now() + Duration::hours(2), "green", &[])] });
    let (_, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/patrol/inspections",
            Some(&official),
            &future,
        )
        .await;
    assert_eq!(answer["results"][0]["outcome"], "refused");
    assert!(answer["results"][0]["message"].as_str().unwrap().contains("手机时间"));
    let foreign: Uuid = sqlx::query_scalar(
        "select c.id from codes c join tenants t on t.id = c.tenant_id where t.slug = 'shangcheng' and c.revoked_at is null limit 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let elsewhere = json!({ "inspections": [upload(Uuid::new_v4(), foreign, recorded, "green", &[])] });
    let (_, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/patrol/inspections",
            Some(&official),
            &elsewhere,
        )
        .await;
    assert_eq!(answer["results"][0]["outcome"], "refused");
    assert!(answer["results"][0]["message"].as_str().unwrap().contains("本辖区"));
    assert_eq!(written(&app).await, after_first, "no refusal wrote anything");
    let vendor = app.token("nanan", "vendor").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/patrol/inspections",
            Some(&vendor),
            &future,
        )
        .await;
    assert_eq!(status, 403);

    // Enough points to pass the month's allowance, recorded as the phone saw it (green): applied,
    // and the inspector is told the code is red now and why.
    let heavy: Vec<&str> = problems.iter().map(|(c, _)| c.as_str()).collect();
    let total: i64 = problems.iter().map(|(_, p)| *p).sum();
    let many = json!({ "inspections": [
        upload(Uuid::new_v4(), code, recorded + Duration::minutes(5), "green", &heavy),
        upload(Uuid::new_v4(), code, recorded + Duration::minutes(6), "green", &heavy),
    ] });
    let (_, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/patrol/inspections",
            Some(&official),
            &many,
        )
        .await;
    let last = &answer["results"][1];
    assert_eq!(last["outcome"], "applied", "{answer}");
    assert!(total * 2 > 12, "the demo's problems pass the allowance of 12");
    assert_eq!(last["colour"], "red", "{answer}");
    let conflicts = last["conflicts"].to_string();
    assert!(conflicts.contains("限额") || conflicts.contains("颜色"), "{answer}");

    // A code revoked after the download: not applied, and said so.
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code}/revoke"),
            Some(&official),
            &json!({"reason": "摊主退出夜市"}),
        )
        .await;
    assert_eq!(status, 200);
    let before = written(&app).await;
    let late = json!({ "inspections": [upload(Uuid::new_v4(), code, Utc::now() - Duration::minutes(1), "red", &[])] });
    let (_, answer) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/patrol/inspections",
            Some(&official),
            &late,
        )
        .await;
    assert_eq!(answer["results"][0]["outcome"], "refused", "{answer}");
    assert!(answer["results"][0]["message"].as_str().unwrap().contains("注销"));
    assert_eq!(written(&app).await, before);
}
