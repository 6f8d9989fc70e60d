//! Markets and slots: the admin pages, the API, bad input, and access from the wrong tenant or role.

use crate::helpers::{TestApp, Who, texts};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn market_body() -> Value {
    json!({
        "name": "南坪夜市",
        "address": "重庆市南岸区南坪步行街",
        "center_lat": 29.5307,
        "center_lng": 106.5671,
        "radius_m": 250,
        "opens_at": "18:30",
        "closes_at": "01:30"
    })
}

/// What a rejected request must leave behind: nothing.
async fn snapshot(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("markets").await,
        app.count("slots").await,
        app.count("audit_log").await,
    )
}

#[tokio::test]
async fn an_admin_creates_a_market_with_slots_through_the_pages_and_the_public_sees_it() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("nanan", "admin").await;
    let r = admin
        .post(app.url("/admin/markets"))
        .form(&[
            ("name", "南坪夜市"),
            ("address", "重庆市南岸区南坪步行街"),
            ("description", ""),
            ("center_lat", "29.5307"),
            ("center_lng", "106.5671"),
            ("radius_m", "250"),
            ("opens_at", "18:30"),
            ("closes_at", "1:30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = location
        .trim_start_matches("/admin/markets/")
        .split('?')
        .next()
        .unwrap()
        .to_string();

    let r = admin
        .post(app.url(&format!("/admin/markets/{id}/slots")))
        .form(&[("code", "a-01"), ("category", "food")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = admin
        .post(app.url(&format!("/admin/markets/{id}/slots/range")))
        .form(&[("prefix", "B"), ("from", "1"), ("to", "3"), ("category", "culture")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let html = app
        .client()
        .get(app.url(&format!("/t/nanan/m/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&html, "h1"), vec!["南坪夜市"]);
    assert_eq!(
        texts(&html, "tr[data-slot] td:first-child"),
        vec!["A-01", "B-01", "B-02", "B-03"]
    );
    assert!(texts(&html, ".hours")[0].starts_with("18:30–01:30"));
    let tenant_page = app
        .client()
        .get(app.url("/t/nanan"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tenant_page.contains("南坪夜市"));
    // Not in the other district.
    let other = app
        .client()
        .get(app.url("/t/shangcheng"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!other.contains("南坪夜市"));

    // Each change left an audit record with what it changed.
    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log where subject_id = $1 order by seq")
        .bind(&id)
        .fetch_all(&app.owner)
        .await
        .unwrap();
    assert_eq!(actions, vec!["market.create", "market.add_slots", "market.add_slots"]);
}

#[tokio::test]
async fn the_market_api_creates_reads_updates_and_manages_slots() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "admin").await;
    let (status, created) = app
        .send_json(Method::POST, "/api/v1/t/nanan/markets", Some(&token), &market_body())
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["crosses_midnight"], true);
    let id = created["id"].as_str().unwrap().to_string();

    let (status, slots) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/markets/{id}/slots"),
            Some(&token),
            &json!({"slots": [{"code": "A-01", "category": "food"}, {"code": "A-02", "category": "produce"}]}),
        )
        .await;
    assert_eq!(status, 201, "{slots}");

    let mut changed = market_body();
    changed["closes_at"] = json!("23:00");
    let (status, updated) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/t/nanan/markets/{id}"),
            Some(&token),
            &changed,
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["crosses_midnight"], false);

    let (status, detail) = app.get_json(&format!("/api/v1/t/nanan/markets/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(detail["closes_at"], "23:00");
    assert_eq!(detail["slots"].as_array().unwrap().len(), 2);
    let slot = detail["slots"][0]["id"].as_str().unwrap().to_string();

    let r = app
        .client()
        .delete(app.url(&format!("/api/v1/t/nanan/markets/{id}/slots/{slot}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, detail) = app.get_json(&format!("/api/v1/t/nanan/markets/{id}"), None).await;
    assert_eq!(detail["slots"].as_array().unwrap().len(), 1);

    let (before, after): (Value, Value) =
        sqlx::query_as("select before, after from audit_log where action = 'market.update' and subject_id = $1")
            .bind(&id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(before["closes_at"], "01:30");
    assert_eq!(after["closes_at"], "23:00");
}

#[tokio::test]
async fn bad_market_input_gets_a_clear_message_a_4xx_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "admin").await;
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("empty name", json!({"name": "  "}), 422, "name"),
        ("radius zero", json!({"radius_m": 0}), 422, "radius_m"),
        ("radius negative", json!({"radius_m": -20}), 422, "radius_m"),
        ("radius absurd", json!({"radius_m": 100000}), 422, "radius_m"),
        ("hours malformed", json!({"opens_at": "6pm"}), 422, "opens_at"),
        ("closing malformed", json!({"closes_at": "25:00"}), 422, "closes_at"),
        (
            "hours equal",
            json!({"opens_at": "18:00", "closes_at": "18:00"}),
            422,
            "opens_at",
        ),
        ("latitude out of range", json!({"center_lat": 123.0}), 422, "center_lat"),
        ("longitude missing", json!({"center_lng": null}), 422, "center_lng"),
        ("radius as text", json!({"radius_m": "big"}), 400, ""),
    ];
    let before = snapshot(&app).await;
    for (name, patch, want_status, want_field) in cases {
        let mut body = market_body();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, err) = app
            .send_json(Method::POST, "/api/v1/t/nanan/markets", Some(&token), &body)
            .await;
        assert_eq!(status, want_status, "{name}: {err}");
        assert!(
            !err["error"]["message"].as_str().unwrap_or("").is_empty(),
            "{name}: a message"
        );
        if !want_field.is_empty() {
            let fields: Vec<&str> = err["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["field"].as_str().unwrap())
                .collect();
            assert!(fields.contains(&want_field), "{name}: {fields:?}");
            assert!(
                err["error"]["fields"][0]["message"].as_str().unwrap().chars().count() > 4,
                "{name}: a real sentence"
            );
        }
    }
    assert_eq!(snapshot(&app).await, before, "nothing written");
}

#[tokio::test]
async fn bad_form_input_shows_the_form_again_with_messages_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("nanan", "admin").await;
    let before = snapshot(&app).await;
    let r = admin
        .post(app.url("/admin/markets"))
        .form(&[
            ("name", ""),
            ("address", "某地"),
            ("center_lat", "北纬29度"),
            ("center_lng", "106.5"),
            ("radius_m", "0"),
            ("opens_at", "18点"),
            ("closes_at", "02:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    let errors = texts(&html, ".field-error");
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors.contains(&"此项必填。".to_string()));
    assert!(errors.contains(&"这不是有效的数字。".to_string()));
    assert!(errors.iter().any(|e| e.contains("10–5000")));
    assert!(errors.iter().any(|e| e.contains("18:00")));
    // What was typed is kept.
    assert!(html.contains("value=\"北纬29度\""));
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn slot_codes_are_checked_and_a_duplicate_adds_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "admin").await;
    let market = app.market_id("nanan");
    let path = format!("/api/v1/t/nanan/markets/{market}/slots");
    let before = snapshot(&app).await;

    // A-01 exists in the demo market: the whole batch is refused.
    let (status, err) = app
        .send_json(
            Method::POST,
            &path,
            Some(&token),
            &json!({"slots": [{"code": "Z-01", "category": "food"}, {"code": "a-01", "category": "food"}]}),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["message"], "这个夜市已有同号摊位，未做任何添加。");

    for (body, field) in [
        (json!({"slots": [{"code": "Z 1", "category": "food"}]}), "code"),
        (json!({"slots": [{"code": "Z-1", "category": "weapons"}]}), "category"),
        (
            json!({"slots": [{"code": "Z-1", "category": "food"}, {"code": "z-1", "category": "food"}]}),
            "code",
        ),
        (json!({"slots": []}), "slots"),
    ] {
        let (status, err) = app.send_json(Method::POST, &path, Some(&token), &body).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["error"]["fields"][0]["field"], field, "{body}");
    }

    // The page says the same.
    let admin = app.signed_in("nanan", "admin").await;
    let r = admin
        .post(app.url(&format!("/admin/markets/{market}/slots")))
        .form(&[("code", "A-01"), ("category", "food")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(texts(&r.text().await.unwrap(), "#slot-errors li")[0].contains("已有同号摊位"));
    let r = admin
        .post(app.url(&format!("/admin/markets/{market}/slots/range")))
        .form(&[("prefix", "Q"), ("from", "5"), ("to", "2"), ("category", "food")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn staff_of_another_district_cannot_see_or_change_a_market() {
    let app = TestApp::spawn().await;
    let nanan_market = app.market_id("nanan");
    let paths = |role: &str| match role {
        "admin" => vec![
            format!("/admin/markets/{nanan_market}"),
            format!("/admin/markets/{nanan_market}/edit"),
            format!("/official/markets/{nanan_market}"),
        ],
        _ => vec![format!("/official/markets/{nanan_market}")],
    };
    for role in ["admin", "official"] {
        let client = app.signed_in("shangcheng", role).await;
        for path in paths(role) {
            let r = client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{role} of shangcheng on {path}");
        }
        // The same people do see their own market.
        let own = format!("/official/markets/{}", app.market_id("shangcheng"));
        assert_eq!(
            client.get(app.url(&own)).send().await.unwrap().status(),
            StatusCode::OK,
            "{role} on {own}"
        );
    }

    let before = snapshot(&app).await;
    let admin = app.signed_in("shangcheng", "admin").await;
    let r = admin
        .post(app.url(&format!("/admin/markets/{nanan_market}/slots")))
        .form(&[("code", "X-1"), ("category", "food")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let token = app.token("shangcheng", "admin").await;
    // Naming the other tenant in the path: 404, even with a malformed body.
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/v1/t/nanan/markets/{nanan_market}"),
            market_body(),
        ),
        (Method::POST, "/api/v1/t/nanan/markets".to_string(), json!({})),
        (
            Method::POST,
            format!("/api/v1/t/nanan/markets/{nanan_market}/slots"),
            json!({"slots": [{"code": "X-1", "category": "food"}]}),
        ),
        (Method::GET, "/api/v1/t/nanan/staff".to_string(), json!(null)),
    ] {
        let (status, err) = app.send_json(method.clone(), &path, Some(&token), &body).await;
        assert_eq!(status, 404, "{method} {path}: {err}");
        assert_eq!(err["error"]["code"], "not_found");
    }
    // Naming its own tenant with the other tenant's market id: row-level security hides it.
    let (status, _) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/t/shangcheng/markets/{nanan_market}"),
            Some(&token),
            &market_body(),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/markets/{nanan_market}/slots"),
            Some(&token),
            &json!({"slots": [{"code": "X-1", "category": "food"}]}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn only_tenant_admins_change_markets() {
    let app = TestApp::spawn().await;
    let before = snapshot(&app).await;
    app.ladder(
        Method::POST,
        "/api/v1/t/nanan/markets",
        &market_body(),
        &[
            (Who::Official("nanan"), 403),
            (Who::Vendor("nanan"), 403),
            (Who::Nobody, 401),
            (Who::Admin("shangcheng"), 404),
        ],
    )
    .await;
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn public_pages_list_tenants_markets_and_slots() {
    let app = TestApp::spawn().await;
    let home = app
        .client()
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&home, ".cards strong"), vec!["重庆市南岸区", "杭州市上城区"]);
    let tenant = app
        .client()
        .get(app.url("/t/nanan"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tenant.contains("金辉铜元道数字化便民夜市") && tenant.contains("18:00–02:00"));
    let market = app
        .client()
        .get(app.url(&format!("/t/nanan/m/{}", app.market_id("nanan"))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(texts(&market, "tr[data-slot]").len(), 60);
    // A market of another tenant under this tenant's URL does not exist.
    let r = app
        .client()
        .get(app.url(&format!("/t/shangcheng/m/{}", app.market_id("nanan"))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.client().get(app.url("/t/atlantis")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("找不到页面"));
}

#[tokio::test]
async fn an_admin_manages_officials_and_their_permissions() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("nanan", "admin").await;
    let r = admin
        .post(app.url("/admin/staff"))
        .form(&[
            ("role", "official"),
            ("login", "Wang.Wu"),
            ("display_name", "王五"),
            ("permission", "review"),
            ("permission", "inspect"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let one_time = texts(&html, "#one-time-password code");
    assert_eq!(one_time.len(), 1);

    let token = app.token("nanan", "admin").await;
    let (_, staff) = app.get_json("/api/v1/t/nanan/staff", Some(&token)).await;
    let wang = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["login"] == "wang.wu")
        .expect("created, login lowercased");
    assert_eq!(wang["permissions"], json!(["review", "inspect"]));
    assert_eq!(wang["must_change_password"], true);
    let id = wang["id"].as_str().unwrap();

    let r = admin
        .post(app.url(&format!("/admin/staff/{id}/permissions")))
        .form(&[("permission", "complaints")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, staff) = app.get_json("/api/v1/t/nanan/staff", Some(&token)).await;
    let wang = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["login"] == "wang.wu")
        .unwrap();
    assert_eq!(wang["permissions"], json!(["complaints"]));

    // A taken login and a bad one.
    let (status, err) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/staff",
            Some(&token),
            &json!({"role": "official", "login": "wang.wu", "display_name": "另一个王五"}),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/staff",
            Some(&token),
            &json!({"role": "official", "login": "王五", "display_name": "王五"}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/staff",
            Some(&token),
            &json!({"role": "vendor", "login": "v1", "display_name": "v"}),
        )
        .await;
    assert_eq!(status, 422);
    // An official of the same tenant cannot manage staff.
    let official = app.token("nanan", "official").await;
    let (status, _) = app.get_json("/api/v1/t/nanan/staff", Some(&official)).await;
    assert_eq!(status, 403);
}
