//! Sessions, tokens, cookies, cross-site requests, throttling, passwords and roles.

use crate::helpers::{Options, TestApp};
use chrono::Utc;
use nightmarket_services::access::session::{Claims, SessionKeys};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.client()
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn claims_of(app: &TestApp, token: &str) -> Claims {
    app.state.ctx.sessions.verify(token).expect("a genuine token")
}

#[tokio::test]
async fn forged_stale_and_revoked_tokens_are_refused_with_401() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "admin").await;
    assert_eq!(me_status(&app, &token).await, StatusCode::OK);
    let good = claims_of(&app, &token).await;
    let now = Utc::now().timestamp();
    let keys = &app.state.ctx.sessions;

    let cases: Vec<(&str, String)> = vec![
        ("alg none", {
            use base64::Engine;
            let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!(
                "{}.{}.",
                e.encode(br#"{"alg":"none","typ":"JWT"}"#),
                e.encode(serde_json::to_vec(&good).unwrap())
            )
        }),
        (
            "wrong key",
            SessionKeys::new(&[7u8; 32], chrono::Duration::hours(1))
                .sign(&good)
                .unwrap(),
        ),
        (
            "expired",
            keys.sign(&Claims {
                exp: now - 3600,
                iat: now - 7200,
                nbf: now - 7200,
                ..good.clone()
            })
            .unwrap(),
        ),
        (
            "not yet valid",
            keys.sign(&Claims {
                nbf: now + 3600,
                ..good.clone()
            })
            .unwrap(),
        ),
        (
            "wrong audience",
            keys.sign(&Claims {
                aud: "elsewhere".into(),
                ..good.clone()
            })
            .unwrap(),
        ),
        (
            "wrong issuer",
            keys.sign(&Claims {
                iss: "elsewhere".into(),
                ..good.clone()
            })
            .unwrap(),
        ),
        (
            "old token version",
            keys.sign(&Claims {
                ver: good.ver - 1,
                ..good.clone()
            })
            .unwrap(),
        ),
        (
            "someone else's role",
            keys.sign(&Claims {
                role: nightmarket_domain::people::Role::Vendor,
                ..good.clone()
            })
            .unwrap(),
        ),
        ("garbage", "not.a.token".into()),
    ];
    for (name, forged) in cases {
        let r = app
            .client()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&forged)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer", "{name}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{name}");
    }

    // Signing out revokes the token everywhere.
    let r = app
        .client()
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(me_status(&app, &token).await, StatusCode::UNAUTHORIZED, "revoked");
}

#[tokio::test]
async fn a_token_of_one_tenant_is_not_a_token_of_another() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "admin").await;
    let mut claims = claims_of(&app, &token).await;
    // Same user id, other tenant id: the user does not exist there.
    claims.tid = app.tenant_id("shangcheng").await;
    let forged = app.state.ctx.sessions.sign(&claims).unwrap();
    assert_eq!(me_status(&app, &forged).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::spawn().await;
    let (login, password) = app.password_of("nanan", "admin");
    let r = app
        .client()
        .post(app.url("/login"))
        .form(&[
            ("tenant", "nanan"),
            ("login", &login),
            ("password", &password),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("nm_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: not Secure ({cookie})");
}

#[tokio::test]
async fn over_https_the_cookie_is_host_prefixed_and_secure_and_hsts_is_sent() {
    let app = TestApp::spawn_with(Options {
        configure: |c| c.public_url = "https://market.example.gov.cn".parse().unwrap(),
        ..Default::default()
    })
    .await;
    let (login, password) = app.password_of("nanan", "admin");
    let r = app
        .client()
        .post(app.url("/login"))
        .form(&[("tenant", "nanan"), ("login", &login), ("password", &password)])
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-nm_session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
    assert!(
        r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let client = app.signed_in("nanan", "admin").await;
    let before = app.count("markets").await;
    let form = [
        ("name", "伪造的夜市"),
        ("address", "某地"),
        ("center_lat", "29.5"),
        ("center_lng", "106.5"),
        ("radius_m", "300"),
        ("opens_at", "18:00"),
        ("closes_at", "22:00"),
    ];
    for (origin, site) in [
        (Some("https://evil.example"), Some("cross-site")),
        (Some("https://evil.example"), None),
        (None, Some("cross-site")),
        (Some("null"), None),
    ] {
        let mut req = client.post(app.url("/admin/markets")).form(&form);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "origin {origin:?} site {site:?}");
    }
    assert_eq!(app.count("markets").await, before);

    // The same form from our own origin goes through.
    let r = client
        .post(app.url("/admin/markets"))
        .header("origin", &app.base)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("markets").await, before + 1);
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_account_and_spoofed_forwarding_headers_do_not_help() {
    let app = TestApp::spawn().await;
    let attempt = |forwarded: String| {
        let client = app.client();
        let url = app.url("/api/v1/auth/login");
        async move {
            client
                .post(url)
                .header("x-forwarded-for", forwarded)
                .json(&json!({"tenant": "nanan", "login": "admin", "password": "wrong-password"}))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..5 {
        assert_eq!(
            attempt(format!("203.0.113.{i}")).await.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    let r = attempt("198.51.100.99".into()).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    // The right password is refused too while the account is throttled.
    let (_, password) = app.password_of("nanan", "admin");
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"tenant": "nanan", "login": "ADMIN", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the login is normalised before counting"
    );

    // Another account is not affected.
    let token = app.token("nanan", "official").await;
    assert!(!token.is_empty());
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_address_across_accounts() {
    let app = TestApp::spawn_with(Options {
        configure: |c| c.login_throttle.address_burst = 4,
        ..Default::default()
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let r = app
            .client()
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("10.9.8.{i}"))
            .json(&json!({"tenant": "nanan", "login": format!("nobody{i}"), "password": "whatever1"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 429, 429]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_client() {
    let app = TestApp::spawn_with(Options {
        configure: |c| {
            c.trust_proxy = true;
            c.login_throttle.address_burst = 2;
        },
        ..Default::default()
    })
    .await;
    let status = |ip: &'static str, n: usize| {
        let client = app.client();
        let url = app.url("/api/v1/auth/login");
        async move {
            client
                .post(url)
                .header("x-forwarded-for", format!("1.2.3.4, {ip}"))
                .json(&json!({"tenant": "nanan", "login": format!("x{n}"), "password": "whatever1"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("192.0.2.1", 1).await, 401);
    assert_eq!(status("192.0.2.1", 2).await, 401);
    assert_eq!(status("192.0.2.1", 3).await, 429);
    // A different client address (as our proxy saw it) has its own allowance.
    assert_eq!(status("192.0.2.2", 4).await, 401);
}

#[tokio::test]
async fn wrong_credentials_all_look_the_same() {
    let app = TestApp::spawn().await;
    let (_, password) = app.password_of("nanan", "admin");
    for body in [
        json!({"tenant": "nanan", "login": "admin", "password": "wrong-password"}),
        json!({"tenant": "nanan", "login": "nobody", "password": password}),
        json!({"tenant": "atlantis", "login": "admin", "password": password}),
        json!({"tenant": "shangcheng", "login": "admin", "password": password}),
    ] {
        let (status, body) = app
            .send_json(reqwest::Method::POST, "/api/v1/auth/login", None, &body)
            .await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["code"], "invalid_credentials");
        assert_eq!(body["error"]["message"], "账号或密码不正确。");
    }
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"tenant": "nanan"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_vendor_signs_in_with_the_mobile_number_in_any_common_form() {
    let app = TestApp::spawn().await;
    let (phone, password) = app.password_of("nanan", "vendor");
    for typed in [
        phone.clone(),
        format!("+86{phone}"),
        format!("0086 {}-{}-{}", &phone[..3], &phone[3..7], &phone[7..]),
    ] {
        let (status, body) = app
            .send_json(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                &json!({"tenant": "nanan", "login": typed, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{typed}: {body}");
        assert_eq!(body["role"], "vendor");
    }
    // The number is not stored in clear.
    let logins: Vec<String> = sqlx::query_scalar("select login || display_name from users")
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert!(logins.iter().all(|l| !l.contains(&phone)), "{logins:?}");
}

#[tokio::test]
async fn a_one_time_password_must_be_replaced_before_anything_else() {
    let app = TestApp::spawn().await;
    let admin = app.token("nanan", "admin").await;
    let (status, created) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/t/nanan/staff",
            Some(&admin),
            &json!({"role": "official", "login": "zhao.liu", "display_name": "赵六", "permissions": ["inspect"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let one_time = created["one_time_password"].as_str().unwrap().to_string();

    let (status, session) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"tenant": "nanan", "login": "zhao.liu", "password": one_time}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session["must_change_password"], true);
    let token = session["token"].as_str().unwrap();
    let (status, body) = app.get_json("/api/v1/t/nanan/staff", Some(token)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("password_change_required"))
    );
    assert_eq!(me_status(&app, token).await, StatusCode::OK);

    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/password",
            Some(token),
            &json!({"current_password": one_time, "new_password": "short"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/password",
            Some(token),
            &json!({"current_password": "not-it-at-all", "new_password": "赵六的新密码2026"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["fields"][0]["field"].as_str()),
        (422, Some("current_password"))
    );

    let (status, fresh) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/password",
            Some(token),
            &json!({"current_password": one_time, "new_password": "赵六的新密码2026"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(fresh["must_change_password"], false);
    assert_eq!(
        me_status(&app, token).await,
        StatusCode::UNAUTHORIZED,
        "the old token is revoked"
    );
    assert_eq!(me_status(&app, fresh["token"].as_str().unwrap()).await, StatusCode::OK);

    // On the pages, the same account is sent to the password page first.
    let client = app.client();
    let r = client
        .post(app.url("/login"))
        .form(&[
            ("tenant", "nanan"),
            ("login", "zhao.liu"),
            ("password", "赵六的新密码2026"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/official");
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_sign_ins() {
    let app = TestApp::spawn().await;
    let admin = app.token("nanan", "admin").await;
    let official = app.token("nanan", "official").await;
    let (_, me) = app.get_json("/api/v1/me", Some(&official)).await;
    let id = me["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/t/nanan/staff/{id}/disabled"),
            Some(&admin),
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(me_status(&app, &official).await, StatusCode::UNAUTHORIZED);
    let (login, password) = app.password_of("nanan", "official");
    let (status, _) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"tenant": "nanan", "login": login, "password": password}),
        )
        .await;
    assert_eq!(status, 401);

    // The last admin cannot be disabled, and no admin can disable themself.
    let (_, me) = app.get_json("/api/v1/me", Some(&admin)).await;
    let admin_id = me["id"].as_str().unwrap();
    let (status, body) = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/t/nanan/staff/{admin_id}/disabled"),
            Some(&admin),
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn pages_send_people_without_a_session_to_sign_in_and_refuse_the_wrong_role() {
    let app = TestApp::spawn().await;
    let r = app.client().get(app.url("/admin/markets?x=1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fadmin%2Fmarkets%3Fx%3D1");

    for role in ["vendor", "official"] {
        let client = app.signed_in("nanan", role).await;
        for path in ["/admin", "/admin/markets", "/admin/markets/new", "/admin/staff"] {
            let r = client.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} on {path}");
            let html = r.text().await.unwrap();
            assert!(html.contains("无权访问"), "a friendly page for {role} on {path}");
        }
    }
    let vendor = app.signed_in("nanan", "vendor").await;
    assert_eq!(
        vendor.get(app.url("/official")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        vendor.get(app.url("/vendor")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let official = app.signed_in("nanan", "official").await;
    assert_eq!(
        official.get(app.url("/vendor")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        official.get(app.url("/official")).send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn signing_out_on_the_page_ends_the_session() {
    let app = TestApp::spawn().await;
    let client = app.signed_in("nanan", "admin").await;
    assert_eq!(
        client.get(app.url("/admin")).send().await.unwrap().status(),
        StatusCode::OK
    );
    let r = client.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client.get(app.url("/admin")).send().await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}
