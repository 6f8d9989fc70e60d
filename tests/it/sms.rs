//! SMS: sign-up codes (expiry, single use, limits) and the dispatcher that delivers the outbox.

use crate::helpers::{TestApp, cluster};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn sign_up_codes_expire_are_single_use_and_limited() {
    let app = TestApp::spawn().await;
    let phone = "13712345614";
    let body = json!({"phone": phone});
    let send = || app.send_json(Method::POST, "/api/v1/t/nanan/signup/code", None, &body);
    let (status, body) = send().await;
    assert_eq!(status, 202);
    assert_eq!(body["phone"], "137****5614");
    let (status, _) = send().await;
    assert_eq!(status, 429, "one a minute");
    let code = app.sms_code("137****5614").await;
    let attempt = |c: &str, pw: &str| {
        let body = json!({"phone": phone, "code": c, "password": pw});
        let app = &app;
        async move { app.send_json(Method::POST, "/api/v1/t/nanan/signup", None, &body).await }
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, err) = attempt(wrong, "摊主的密码2026").await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("还可以再试 4 次")
    );
    let (status, _) = attempt(&code, "short").await;
    assert_eq!(status, 422, "a weak password is refused before the code is used");
    let (status, _) = attempt(&code, "摊主的密码2026").await;
    assert_eq!(status, 201);
    let (status, _) = attempt(&code, "摊主的密码2026").await;
    assert_eq!(status, 409, "already registered");
    // Five wrong guesses use a code up; an expired code is refused.
    let other = "13712345615";
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/signup/code",
            None,
            &json!({"phone": other}),
        )
        .await;
    assert_eq!(status, 202);
    let code = app.sms_code("137****5615").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        app.send_json(
            Method::POST,
            "/api/v1/t/nanan/signup",
            None,
            &json!({"phone": other, "code": wrong, "password": "摊主的密码2026"}),
        )
        .await;
    }
    let (status, err) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/signup",
            None,
            &json!({"phone": other, "code": code, "password": "摊主的密码2026"}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        err["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("错误次数太多")
    );
    sqlx::query("update otp_codes set attempts = 0, expires_at = now() - interval '1 minute'")
        .execute(&app.owner)
        .await
        .unwrap();
    let (status, err) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/signup",
            None,
            &json!({"phone": other, "code": code, "password": "摊主的密码2026"}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(err["error"]["fields"][0]["message"].as_str().unwrap().contains("过期"));
    // Bad numbers never get a code.
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/signup/code",
            None,
            &json!({"phone": "14012345678"}),
        )
        .await;
    assert_eq!(status, 422);
    // The operator can read the outbox; numbers stay masked.
    let data = crate::audit::tempdir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nightmarket"))
        .args(["sms", "outbox", "--tenant", "nanan", "--data-dir"])
        .arg(&data)
        .env("DATABASE_URL", cluster().url(&app.db_name))
        .env("DATABASE_APP_URL", cluster().app_url(&app.db_name))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("137****5615") && !text.contains(other), "{text}");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn queued_messages_are_delivered_by_the_dispatcher() {
    let app = TestApp::spawn().await;
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/signup/code",
            None,
            &json!({"phone": "13712345616"}),
        )
        .await;
    assert_eq!(status, 202);
    let handled = nightmarket_services::sms::dispatch_once(&app.state.ctx).await.unwrap();
    assert!(handled >= 1);
    let queued: i64 = sqlx::query_scalar("select count(*) from sms_outbox where status = 'queued'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(queued, 0);
    let logged: String = sqlx::query_scalar("select status from sms_outbox where phone_masked = '137****5616'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(logged, "logged");
}
