//! Credentials: the external feed and its API keys, the expiry sweeper, renewals.

use crate::helpers::{MASTER_KEY, TestApp, cluster};
use crate::supervision::*;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn a_health_status_turned_invalid_outside_turns_the_code_red_at_once_and_back() {
    let app = TestApp::spawn().await;
    let stall = demo_stall(&app).await;
    let key = feed_key(&app, "nanan");
    let now = Utc::now().timestamp();
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    let before = footprint(&app).await;

    // Refused, each with its reason, and nothing written.
    let body = event("ev-1", stall.vendor, "invalid");
    let (status, r) = send_event(&app, "nanan", &key, now, &body, Some(&"0".repeat(64))).await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (401, Some("api_key_rejected")),
        "{r}"
    );
    assert!(r["error"]["message"].as_str().unwrap().contains("签名"), "{r}");
    let (status, r) = send_event(&app, "nanan", &key, now - 400, &body, None).await;
    assert_eq!(status, 401, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("5 分钟"), "{r}");
    let (status, _) = send_event(&app, "nanan", &key, now + 400, &body, None).await;
    assert_eq!(status, 401, "a timestamp from the future is refused too");
    let (status, r) = send_event(&app, "nanan", &feed_key(&app, "shangcheng"), now, &body, None).await;
    assert_eq!(status, 401, "another tenant's key: {r}");
    let unknown = ("nmk_0000000000000000".to_string(), key.1.clone());
    let (status, _) = send_event(&app, "nanan", &unknown, now, &body, None).await;
    assert_eq!(status, 401);
    let (status, r) = send_event(
        &app,
        "nanan",
        &key,
        now,
        &event("ev-2", Uuid::new_v4(), "invalid"),
        None,
    )
    .await;
    assert_eq!(status, 422, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("没有这位摊主"), "{r}");
    let by_number = json!({"event_id": "ev-3", "id_number": crate::applications::valid_id(999), "credential": "health",
                           "status": "invalid", "occurred_at": Utc::now()});
    let (status, _) = send_event(&app, "nanan", &key, now, &by_number, None).await;
    assert_eq!(status, 422, "a valid ID number of nobody here");
    let (status, _) = send_event(&app, "nanan", &key, now, &json!({"event_id": "ev-4"}), None).await;
    assert_eq!(status, 400, "not the event's shape");
    let (status, _) = send_event(
        &app,
        "nanan",
        &key,
        now,
        &json!({"event_id": "ev-5", "vendor_id": stall.vendor, "credential": "health",
                                                     "status": "expired", "occurred_at": Utc::now()}),
        None,
    )
    .await;
    assert_eq!(status, 422, "expiry is the platform's to find");
    let r = app
        .client()
        .post(app.url("/api/v1/t/nanan/credential-events"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no signature at all");
    let (status, _) = send_event(&app, "atlantis", &key, now, &body, None).await;
    assert_eq!(status, 404);
    assert_eq!(footprint(&app).await, before, "refused events write nothing");
    assert_eq!(scan_colour(&app, &stall.path).await, "green");

    // Invalid: red within the same request, the scan page red at once, officials told, audited.
    let staff_notices = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from notifications n join users u on u.tenant_id = n.tenant_id and u.id = n.user_id
             where u.role in ('official', 'admin') and n.kind = 'credential_event'",
        )
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };
    let audited = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_log where action in ('credential.event', 'code.colour') and subject_id = any($1)",
        )
        .bind(vec![stall.vendor.to_string(), stall.id.to_string()])
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };
    let (told, records) = (staff_notices().await, audited().await);
    let (status, r) = send_event(&app, "nanan", &key, now, &body, None).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["applied"], true);
    assert_eq!(r["codes"][0]["colour"], "red");
    assert_eq!(scan_colour(&app, &stall.path).await, "red");
    assert!(
        open_causes(&app, stall.id)
            .await
            .contains(&"credential_invalid:health".to_string())
    );
    assert_eq!(
        staff_notices().await - told,
        2,
        "the official and the admin of the tenant are told"
    );
    assert_eq!(
        audited().await - records,
        2,
        "the event and the change of colour are audited"
    );

    // The same event again is answered as applied before; the same id with another body is refused.
    let after = footprint(&app).await;
    let (status, r) = send_event(&app, "nanan", &key, now, &body, None).await;
    assert_eq!((status, r["applied"].as_bool()), (200, Some(false)), "{r}");
    let mut changed = body.clone();
    changed["status"] = json!("valid");
    let (status, r) = send_event(&app, "nanan", &key, now, &changed, None).await;
    assert_eq!(status, 409, "{r}");
    assert_eq!(footprint(&app).await, after);

    // Valid again: back to green.
    let (status, r) = send_event(&app, "nanan", &key, now, &event("ev-6", stall.vendor, "valid"), None).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["codes"][0]["colour"], "green");
    assert_eq!(scan_colour(&app, &stall.path).await, "green");

    // An official's suspension survives a valid event.
    let official = app.token("nanan", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/suspend", stall.id),
            Some(&official),
            &json!({"reason": "食品安全抽检不合格"}),
        )
        .await;
    assert_eq!(status, 200);
    send_event(&app, "nanan", &key, now, &event("ev-7", stall.vendor, "invalid"), None).await;
    let (status, r) = send_event(&app, "nanan", &key, now, &event("ev-8", stall.vendor, "valid"), None).await;
    assert_eq!(status, 200);
    assert_eq!(r["codes"][0]["colour"], "red", "still suspended");
    assert_eq!(open_causes(&app, stall.id).await, vec!["suspended".to_string()]);

    // A revoked key is refused from then on.
    let admin = app.token("nanan", "admin").await;
    let (_, keys) = app.get_json("/api/v1/t/nanan/api-keys", Some(&admin)).await;
    let id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == key.0.as_str())
        .unwrap()["id"]
        .clone();
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/api-keys/{}/revoke", id.as_str().unwrap()),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = send_event(&app, "nanan", &key, now, &event("ev-9", stall.vendor, "invalid"), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn tenant_admins_make_and_revoke_api_keys_and_nobody_else_can() {
    let app = TestApp::spawn().await;
    let stall = demo_stall(&app).await;
    let admin = app.token("nanan", "admin").await;
    let (status, r) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/api-keys",
            Some(&admin),
            &json!({"name": " "}),
        )
        .await;
    assert_eq!(status, 422, "{r}");
    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/api-keys",
            Some(&admin),
            &json!({"name": "证照系统"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = (
        created["key_id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    );
    assert!(key.0.starts_with("nmk_") && key.1.len() == 64);
    let (_, list) = app.get_json("/api/v1/t/nanan/api-keys", Some(&admin)).await;
    assert!(!list.to_string().contains(&key.1), "the secret is never listed");
    let stored: Vec<u8> = sqlx::query_scalar("select secret_enc from api_keys where key_id = $1")
        .bind(&key.0)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(
        !stored.windows(16).any(|w| key.1.as_bytes().windows(16).any(|s| s == w)),
        "stored encrypted"
    );
    let (status, r) = send_event(
        &app,
        "nanan",
        &key,
        Utc::now().timestamp(),
        &event("k-1", stall.vendor, "valid"),
        None,
    )
    .await;
    assert_eq!(status, 200, "the new key works: {r}");

    for (tenant, role) in [("nanan", "official"), ("nanan", "vendor"), ("shangcheng", "admin")] {
        let t = app.token(tenant, role).await;
        let (status, _) = app.get_json("/api/v1/t/nanan/api-keys", Some(&t)).await;
        assert!(status == 403 || status == 404, "{tenant} {role}: {status}");
        let (status, _) = app
            .send_json(
                Method::POST,
                "/api/v1/t/nanan/api-keys",
                Some(&t),
                &json!({"name": "x"}),
            )
            .await;
        assert!(status == 403 || status == 404, "{tenant} {role}: {status}");
    }
    // The admin page shows a new key's secret once, and never in a listing.
    let client = app.signed_in("nanan", "admin").await;
    let html = client
        .post(app.url("/admin/api-keys"))
        .form(&[("name", "12345 热线系统")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret = crate::helpers::texts(&html, "#new-key-secret");
    assert_eq!(secret.len(), 1);
    let again = client
        .get(app.url("/admin/api-keys"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&secret[0]));
    assert!(again.contains("12345 热线系统"));
}

#[tokio::test]
async fn the_sweeper_turns_codes_yellow_then_red_at_the_expiry_boundary_and_twice_changes_nothing() {
    let app = TestApp::spawn().await;
    let (code, vendor) = food_vendor(&app).await;
    let expiry = today() + Duration::days(30);
    sqlx::query("update credentials set expires_on = $2 where vendor_id = $1 and kind = 'health'")
        .bind(vendor)
        .bind(expiry)
        .execute(&app.owner)
        .await
        .unwrap();
    let sweep = |t: DateTime<Utc>| {
        let state = app.state.clone();
        async move {
            nightmarket_services::supervision::sweep(&state.ctx.db, &state.ctx.keys, t)
                .await
                .unwrap()
        }
    };
    sweep(at(expiry - Duration::days(14), "12:00")).await;
    assert_eq!(colour_of(&app, code).await, "green", "14 days before: no warning yet");
    sweep(at(expiry - Duration::days(13), "00:05")).await;
    assert_eq!(colour_of(&app, code).await, "yellow");
    assert_eq!(
        open_causes(&app, code).await,
        vec!["credential_expiring:health".to_string()]
    );
    sweep(at(expiry, "23:59")).await;
    assert_eq!(colour_of(&app, code).await, "yellow", "valid through its expiry date");
    let r = sweep(at(expiry + Duration::days(1), "00:01")).await;
    assert!(r.colour_changes >= 1 && r.expired_credentials >= 1, "{r:?}");
    assert_eq!(colour_of(&app, code).await, "red");
    assert_eq!(
        open_causes(&app, code).await,
        vec!["credential_expired:health".to_string()]
    );
    let status: String = sqlx::query_scalar("select status from credentials where vendor_id = $1 and kind = 'health'")
        .bind(vendor)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(status, "expired");

    // Again at the same moment: nothing to do, nothing written.
    let audit = app.count("audit_log").await;
    let notices = app.count("notifications").await;
    let r = sweep(at(expiry + Duration::days(1), "00:02")).await;
    assert_eq!((r.colour_changes, r.expired_credentials), (0, 0), "{r:?}");
    assert_eq!(app.count("audit_log").await, audit);
    assert_eq!(app.count("notifications").await, notices);

    // The operator's command does the same, against the server's database.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nightmarket"))
        .arg("sweep")
        .arg("--data-dir")
        .arg(crate::audit::tempdir())
        .env("DATABASE_URL", cluster().url(&app.db_name))
        .env("DATABASE_APP_URL", cluster().app_url(&app.db_name))
        .env("NIGHTMARKET_MASTER_KEY", hex::encode(MASTER_KEY))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("swept 2 tenants"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn a_vendor_sends_a_renewal_and_an_official_accepts_it() {
    let app = TestApp::spawn().await;
    let stall = demo_stall(&app).await;
    let vendor = app.token("nanan", "vendor").await;
    let official = app.token("nanan", "official").await;
    let key = feed_key(&app, "nanan");
    // The health status is reported invalid, then the vendor sends a new certificate.
    send_event(
        &app,
        "nanan",
        &key,
        Utc::now().timestamp(),
        &event("r-1", stall.vendor, "invalid"),
        None,
    )
    .await;
    let upload = |fields: Vec<(&'static str, String)>, file: Option<Vec<u8>>| {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        if let Some(bytes) = file {
            form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name("cert.png"));
        }
        app.client()
            .post(app.url("/api/v1/t/nanan/my/renewals"))
            .bearer_auth(&vendor)
            .multipart(form)
            .send()
    };
    let expires = (today() + Duration::days(365)).to_string();
    let good = |k: &str| {
        vec![
            ("kind", k.to_string()),
            ("number", "JK2027-00042".to_string()),
            ("expires_on", expires.clone()),
        ]
    };
    let before = app.count("credential_renewals").await;
    let r = upload(good("health"), Some(b"not an image".to_vec())).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = upload(good("passport"), Some(crate::applications::png()))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = upload(
        vec![
            ("kind", "health".into()),
            ("number", "JK1".into()),
            ("expires_on", "2020-01-01".into()),
        ],
        Some(crate::applications::png()),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(app.count("credential_renewals").await, before);
    let r = upload(good("health"), Some(crate::applications::png())).await.unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    let (status, list) = app.get_json("/api/v1/t/nanan/renewals", Some(&official)).await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().any(|x| x["id"] == id.as_str()));
    let decide = format!("/api/v1/t/nanan/renewals/{id}/decision");
    let (status, _) = app
        .send_json(Method::POST, &decide, Some(&vendor), &json!({"accept": true}))
        .await;
    assert_eq!(status, 403);
    let other = app.token("shangcheng", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/renewals/{id}/decision"),
            Some(&other),
            &json!({"accept": true}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .send_json(
            Method::POST,
            &decide,
            Some(&official),
            &json!({"accept": false, "note": ""}),
        )
        .await;
    assert_eq!(status, 422, "a refusal needs a note");
    let (status, _) = app
        .send_json(Method::POST, &decide, Some(&official), &json!({"accept": true}))
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .send_json(Method::POST, &decide, Some(&official), &json!({"accept": true}))
        .await;
    assert_eq!(status, 409);
    let (_, creds) = app.get_json("/api/v1/t/nanan/my/credentials", Some(&vendor)).await;
    let health = creds
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "health")
        .unwrap();
    assert_eq!(health["status"], "valid");
    assert_eq!(health["expires_on"], expires.as_str());
    assert!(
        health["number"].as_str().unwrap().contains('*'),
        "numbers are shown masked: {health}"
    );
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
}
