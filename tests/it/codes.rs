//! Operating codes: the QR image and its signature, suspending and restoring, key rotation, revocation.

use crate::applications::*;
use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_qr_image_decodes_to_the_signed_url_and_forgeries_are_told_apart() {
    let app = TestApp::spawn().await;
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap().to_string();
    let path = url[url.find("/c/").unwrap()..].to_string();
    let expected = app.url(&path); // the URL as this server prints it
    let png_path = path.replacen('?', ".png?", 1);
    let r = app.client().get(app.url(&png_path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let bytes = r.bytes().await.unwrap();
    let svg = app
        .client()
        .get(app.url(&path.replacen('?', ".svg?", 1)))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<?xml"));

    match which("zbarimg") {
        Some(zbar) => {
            let file = std::env::temp_dir().join(format!("nm-qr-{}.png", uuid::Uuid::new_v4()));
            std::fs::write(&file, &bytes).unwrap();
            let out = std::process::Command::new(zbar)
                .args(["--raw", "-q"])
                .arg(&file)
                .output()
                .unwrap();
            let _ = std::fs::remove_file(&file);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                expected,
                "what a phone reads"
            );
        }
        None => {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "CI=true but zbarimg is missing (apt-get install zbar-tools)"
            );
            eprintln!("\n*** SKIPPING the QR decoding check: zbarimg not found (apt-get install zbar-tools) ***\n");
        }
    }

    // A tampered signature, a made-up code, another tenant's key: not genuine, 404, and said so.
    let (base, sig) = path.split_once("&s=").unwrap();
    let mut forged_sig: Vec<char> = sig.chars().collect();
    forged_sig[5] = if forged_sig[5] == 'A' { 'B' } else { 'A' };
    let forged_sig: String = forged_sig.into_iter().collect();
    for bad in [
        format!("{base}&s={forged_sig}"),
        path.replacen(&path[3..16], "0000000000000", 1),
        path.replace("k=nanan-1", "k=shangcheng-1"),
        path.split('?').next().unwrap().to_string(),
    ] {
        let r = app.client().get(app.url(&bad)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
        assert!(r.text().await.unwrap().contains("不是本平台签发"), "{bad}");
    }

    // Offline, with the published keys.
    let keys = app
        .client()
        .get(app.url("/t/nanan/code-key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = std::env::temp_dir().join(format!("nm-keys-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, keys).unwrap();
    let verify = |u: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nightmarket"))
            .args(["code", "verify", u, "--keys"])
            .arg(&file)
            .output()
            .unwrap()
    };
    let ok = verify(&url);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("genuine"));
    let bad = verify(&format!("{base}&s={forged_sig}"));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("NOT GENUINE"));
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn an_official_suspends_and_restores_a_code_and_the_scan_page_follows_at_once() {
    let app = TestApp::spawn().await;
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap().to_string();
    let path = url[url.find("/c/").unwrap()..].to_string();
    let code = path[3..16].to_string();
    let code_id: uuid::Uuid = sqlx::query_scalar("select id from codes where code = $1")
        .bind(&code)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let official = app.token("nanan", "official").await;
    let colour = || async {
        let html = app
            .client()
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        html.split("data-colour=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(colour().await, "green");
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code_id}/suspend"),
            Some(&official),
            &json!({"reason": ""}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, detail) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code_id}/suspend"),
            Some(&official),
            &json!({"reason": "卫生检查不合格"}),
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["colour"], "red");
    assert_eq!(detail["causes"][0]["kind"], "suspended");
    assert_eq!(colour().await, "red", "the very next scan");
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code_id}/suspend"),
            Some(&official),
            &json!({"reason": "再次"}),
        )
        .await;
    assert_eq!(status, 409);
    // The vendor is told, and sees the cause.
    let vendor = app.token("nanan", "vendor").await;
    let (_, notices) = app.get_json("/api/v1/me/notifications", Some(&vendor)).await;
    assert!(notices[0]["text"].as_str().unwrap().contains("卫生检查不合格"));
    let (status, restored) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code_id}/restore"),
            Some(&official),
            &json!({}),
        )
        .await;
    assert_eq!((status, restored["colour"].as_str()), (200, Some("green")));
    assert_eq!(colour().await, "green");
    // Colour changes are audited with their causes.
    let changes: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'code.colour' and subject_id = $1")
            .bind(code_id.to_string())
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(changes, 2);
    // Other tenant, other role.
    let other = app.token("shangcheng", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/codes/{code_id}/suspend"),
            Some(&other),
            &json!({"reason": "越权操作"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code_id}/suspend"),
            Some(&vendor),
            &json!({"reason": "自己暂停"}),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn rotating_the_key_keeps_printed_codes_genuine() {
    let app = TestApp::spawn().await;
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap().to_string();
    let path = url[url.find("/c/").unwrap()..].to_string();
    let admin = app.signed_in("nanan", "admin").await;
    let r = admin.post(app.url("/admin/settings/rotate-key")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, keys) = app.get_json("/api/v1/t/nanan/code-key", None).await;
    let kids: Vec<(&str, bool)> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["retired"].as_bool().unwrap()))
        .collect();
    assert_eq!(kids, vec![("nanan-2", false), ("nanan-1", true)]);
    assert_eq!(
        app.client().get(app.url(&path)).send().await.unwrap().status(),
        200,
        "the printed code still verifies"
    );
    // A new approval is signed with the new key.
    let (_, id) = submitted_application(&app, "13712345613", 13).await;
    let official = app.token("nanan", "official").await;
    let slot = free_food_slot(&app, &official, &id).await;
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/review/applications/{id}/decision"),
            Some(&official),
            &json!({"decision": "approve", "version": review["application"]["version"], "slot_id": slot}),
        )
        .await;
    assert_eq!(status, 200);
    let kid: String = sqlx::query_scalar("select kid from codes where application_id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(kid, "nanan-2");
}

#[tokio::test]
async fn a_revoked_code_says_so_and_frees_its_slot() {
    let app = TestApp::spawn().await;
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap().to_string();
    let path = url[url.find("/c/").unwrap()..].to_string();
    let (code_id, slot_id): (uuid::Uuid, uuid::Uuid) = sqlx::query_as("select id, slot_id from codes where code = $1")
        .bind(&path[3..16])
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let official = app.token("nanan", "official").await;
    let revoke = |reason: &'static str| {
        let app = &app;
        let official = official.clone();
        async move {
            app.send_json(
                Method::POST,
                &format!("/api/v1/t/nanan/codes/{code_id}/revoke"),
                Some(&official),
                &json!({"reason": reason}),
            )
            .await
        }
    };
    let (status, _) = revoke("").await;
    assert_eq!(status, 422);
    let (status, body) = revoke("摊主主动退出夜市").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoked"], true);
    let (status, _) = revoke("再次注销").await;
    assert_eq!(status, 409);

    let r = app.client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.unwrap().contains("已被注销"));
    let vendor = app.token("nanan", "vendor").await;
    let (_, notices) = app.get_json("/api/v1/me/notifications", Some(&vendor)).await;
    assert!(notices[0]["text"].as_str().unwrap().contains("摊主主动退出夜市"));

    // The slot can be given to someone else now.
    let (_, id) = submitted_application(&app, "13712345617", 17).await;
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    assert!(
        review["free_slots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == slot_id.to_string())
    );
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/review/applications/{id}/decision"),
            Some(&official),
            &json!({"decision": "approve", "version": review["application"]["version"], "slot_id": slot_id}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // An inspector without the review permission cannot revoke.
    let admin = app.token("nanan", "admin").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&official)).await;
    app.send_json(
        Method::PUT,
        &format!("/api/v1/t/nanan/staff/{}/permissions", me["id"].as_str().unwrap()),
        Some(&admin),
        &json!({"permissions": ["inspect"]}),
    )
    .await;
    let new_code: uuid::Uuid = sqlx::query_scalar("select id from codes where application_id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{new_code}/revoke"),
            Some(&official),
            &json!({"reason": "越权"}),
        )
        .await;
    assert_eq!(status, 403);
}
