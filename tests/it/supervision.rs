//! Supervision: nightly check-in, the external credential feed and the health binding, the
//! sweeper, inspections with penalty points, appeals, renewals, API keys and live notices.

use crate::helpers::{MASTER_KEY, Options, TestApp, Who, cluster};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use hmac::{KeyInit, Mac};
use nightmarket_services::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// A test app whose clock stands still until the test moves it.
pub(crate) async fn app_with_clock() -> TestApp {
    TestApp::spawn_with(Options {
        configure: |c| c.clock = Clock::fixed(Utc::now()),
        ..Options::default()
    })
    .await
}

/// A local wall-clock moment in the demo tenants' zone.
pub(crate) fn at(date: NaiveDate, hm: &str) -> DateTime<Utc> {
    let t = NaiveTime::parse_from_str(hm, "%H:%M").unwrap();
    Shanghai
        .from_local_datetime(&date.and_time(t))
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) fn today() -> NaiveDate {
    Utc::now().with_timezone(&Shanghai).date_naive()
}

/// The published demo vendor's green stall: its code id, path, market and the market's centre.
pub(crate) struct Stall {
    pub id: Uuid,
    pub path: String,
    pub market: Uuid,
    pub lat: f64,
    pub lng: f64,
    pub vendor: Uuid,
}

pub(crate) async fn demo_stall(app: &TestApp) -> Stall {
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap();
    stall_at(app, &url[url.find("/c/").unwrap()..]).await
}

/// The stall whose scan page is at `path` (`/c/{code}?k=…&s=…`), its market opened 18:00–02:00.
pub(crate) async fn stall_at(app: &TestApp, path: &str) -> Stall {
    let path = path.to_string();
    let (id, market, vendor, lat, lng): (Uuid, Uuid, Uuid, f64, f64) = sqlx::query_as(
        "select c.id, c.market_id, c.vendor_id, m.center_lat, m.center_lng
         from codes c join markets m on m.tenant_id = c.tenant_id and m.id = c.market_id where c.code = $1",
    )
    .bind(&path[3..16])
    .fetch_one(&app.owner)
    .await
    .unwrap();
    // A night that runs past midnight, whichever market the stall is in.
    sqlx::query("update markets set opens_at = '18:00', closes_at = '02:00' where id = $1")
        .bind(market)
        .execute(&app.owner)
        .await
        .unwrap();
    Stall {
        id,
        path,
        market,
        lat,
        lng,
        vendor,
    }
}

/// The colour the public scan page shows.
pub(crate) async fn scan_colour(app: &TestApp, path: &str) -> String {
    let html = app
        .client()
        .get(app.url(path))
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
}

async fn colour_of(app: &TestApp, code: Uuid) -> String {
    sqlx::query_scalar("select colour from codes where id = $1")
        .bind(code)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

async fn open_causes(app: &TestApp, code: Uuid) -> Vec<String> {
    sqlx::query_scalar("select kind from code_causes where code_id = $1 and cleared_at is null order by kind")
        .bind(code)
        .fetch_all(&app.owner)
        .await
        .unwrap()
}

async fn check_in(app: &TestApp, token: &str, code: Uuid, lat: f64, lng: f64) -> (u16, Value) {
    app.send_json(
        Method::POST,
        &format!("/api/v1/t/nanan/codes/{code}/check-in"),
        Some(token),
        &json!({"lat": lat, "lng": lng, "accuracy_m": 12.0}),
    )
    .await
}

#[tokio::test]
async fn check_in_is_accepted_only_inside_the_area_within_hours_once_a_night_and_not_when_red() {
    let app = app_with_clock().await;
    let stall = demo_stall(&app).await;
    let vendor = app.token("nanan", "vendor").await;
    let night = today() + Duration::days(3);
    let before = app.count("check_ins").await;

    // Before the early window (an hour before 18:00).
    app.state.ctx.clock.set(at(night, "16:30"));
    let (status, body) = check_in(&app, &vendor, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("18:00–02:00"),
        "{body}"
    );

    // Inside the hours, but about 2.2 km away.
    app.state.ctx.clock.set(at(night, "18:10"));
    let (status, body) = check_in(&app, &vendor, stall.id, stall.lat + 0.02, stall.lng).await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("米"), "{message}");
    let metres: f64 = message
        .split("约 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1700.0..2300.0).contains(&metres), "{message}");
    // No position at all, and a position that is not one.
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/check-in", stall.id),
            Some(&vendor),
            &json!({}),
        )
        .await;
    assert!(status == 400 || status == 422, "{status}");
    let (status, _) = check_in(&app, &vendor, stall.id, 95.0, stall.lng).await;
    assert_eq!(status, 422);
    assert_eq!(app.count("check_ins").await, before, "refusals write nothing");

    // In the early window: accepted, not late, for tonight.
    app.state.ctx.clock.set(at(night, "17:20"));
    let (status, body) = check_in(&app, &vendor, stall.id, stall.lat + 0.0005, stall.lng).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["business_date"], night.to_string());
    assert_eq!(body["late"], false);
    let (status, body) = check_in(&app, &vendor, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("已经打过卡"),
        "{body}"
    );
    assert_eq!(app.count("check_ins").await, before + 1);

    // Check-out once.
    let out = format!("/api/v1/t/nanan/codes/{}/check-out", stall.id);
    let (status, _) = app.send_json(Method::POST, &out, Some(&vendor), &json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = app.send_json(Method::POST, &out, Some(&vendor), &json!({})).await;
    assert_eq!(status, 409);

    // Past midnight, 01:30 on the next calendar day, counts for the next night's date only from
    // 18:00 on: at 01:30 it is still the night that began the evening before — already checked in.
    app.state.ctx.clock.set(at(night + Duration::days(1), "01:30"));
    let (status, _) = check_in(&app, &vendor, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 409, "01:30 belongs to the night already checked in");
    // The next night: a check-in at 01:30 after it counts for that night, late.
    app.state.ctx.clock.set(at(night + Duration::days(2), "01:30"));
    let (status, body) = check_in(&app, &vendor, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["business_date"], (night + Duration::days(1)).to_string());
    assert_eq!(body["late"], true);
    let stored: NaiveDate = sqlx::query_scalar(
        "select business_date from check_ins where code_id = $1 order by checked_in_at desc limit 1",
    )
    .bind(stall.id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(stored, night + Duration::days(1));
    // 02:00 is closing time.
    app.state.ctx.clock.set(at(night + Duration::days(3), "02:00"));
    let (status, _) = check_in(&app, &vendor, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 409);

    // A red code cannot check in.
    let official = app.token("nanan", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/suspend", stall.id),
            Some(&official),
            &json!({"reason": "占道经营，暂停整改"}),
        )
        .await;
    assert_eq!(status, 200);
    app.state.ctx.clock.set(at(night + Duration::days(3), "19:00"));
    let (status, body) = check_in(&app, &vendor, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("红码"), "{body}");

    // Wrong role and wrong tenant.
    let (status, _) = check_in(&app, &official, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/codes/{}/check-in", stall.id),
            Some(&vendor),
            &json!({"lat": stall.lat, "lng": stall.lng}),
        )
        .await;
    assert_eq!(status, 404);
    let foreign: Uuid = sqlx::query_scalar(
        "select c.id from codes c join tenants t on t.id = c.tenant_id where t.slug = 'shangcheng' limit 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let (status, _) = check_in(&app, &vendor, foreign, stall.lat, stall.lng).await;
    assert_eq!(status, 404);
    assert_eq!(app.count("check_ins").await, before + 2);
}

#[tokio::test]
async fn officials_see_who_is_open_late_and_absent_per_night() {
    let app = app_with_clock().await;
    let stall = demo_stall(&app).await;
    let vendor = app.token("nanan", "vendor").await;
    let official = app.token("nanan", "official").await;
    let night = today() + Duration::days(4);
    let path = format!("/api/v1/t/nanan/markets/{}/night", stall.market);
    // At noon the night has not opened: nobody is absent yet.
    app.state.ctx.clock.set(at(night, "12:00"));
    let (status, body) = app.get_json(&path, Some(&official)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["date"].as_str(), body["opened"].as_bool()),
        (Some(night.to_string().as_str()), Some(false))
    );

    app.state.ctx.clock.set(at(night, "18:45"));
    let (status, _) = check_in(&app, &vendor, stall.id, stall.lat, stall.lng).await;
    assert_eq!(status, 201);
    let (status, body) = app.get_json(&path, Some(&official)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["date"], night.to_string());
    assert_eq!(body["tonight"], true);
    assert_eq!(body["opened"], true);
    let stalls = body["stalls"].as_array().unwrap();
    let counts = &body["counts"];
    assert_eq!(counts["stalls"].as_u64().unwrap() as usize, stalls.len());
    assert_eq!(
        counts["open"], 1,
        "only the demo vendor checked in on this night: {counts}"
    );
    assert_eq!(counts["late"], 1, "18:45 is after 18:30");
    assert_eq!(counts["absent"].as_u64().unwrap() as usize, stalls.len() - 1);
    let mine = stalls.iter().find(|s| s["code_id"] == stall.id.to_string()).unwrap();
    assert_eq!(mine["presence"], "open");
    assert_eq!(mine["late"], true);

    // A past night of the seeded demo has check-ins; a bad date is refused.
    let (status, body) = app
        .get_json(&format!("{path}?date={}", today() - Duration::days(2)), Some(&official))
        .await;
    assert_eq!(status, 200);
    assert!(
        body["counts"]["open"].as_u64().unwrap() + body["counts"]["left"].as_u64().unwrap() > 0,
        "{body}"
    );
    let (status, _) = app.get_json(&format!("{path}?date=yesterday"), Some(&official)).await;
    assert_eq!(status, 400);

    // The page shows the same.
    let client = app.signed_in("nanan", "official").await;
    let html = client
        .get(app.url(&format!("/official/markets/{}/night", stall.market)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(crate::helpers::texts(&html, "[data-count=open]"), vec!["1"]);
    assert_eq!(crate::helpers::texts(&html, "tr[data-presence=open]").len(), 1);

    // Vendors and other tenants do not see it.
    let none = json!(null);
    app.ladder(
        Method::GET,
        &path,
        &none,
        &[(Who::Vendor("nanan"), 403), (Who::Official("shangcheng"), 404)],
    )
    .await;
    let (status, _) = app
        .as_official("shangcheng")
        .await
        .get(&format!("/api/v1/t/shangcheng/markets/{}/night", stall.market))
        .await;
    assert_eq!(status, 404);
}

/// The demo feed key of a tenant: (key id, secret).
pub(crate) fn feed_key(app: &TestApp, tenant: &str) -> (String, String) {
    let k = app
        .demo
        .api_keys
        .iter()
        .find(|k| k["tenant"] == tenant)
        .expect("a demo api key");
    (
        k["key_id"].as_str().unwrap().into(),
        k["secret"].as_str().unwrap().into(),
    )
}

/// HMAC-SHA256 in hex, computed here independently of the server's code.
pub(crate) fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Sends a credential event as an external system would; `sig` overrides the signature.
pub(crate) async fn send_event(
    app: &TestApp,
    tenant: &str,
    key: &(String, String),
    timestamp: i64,
    body: &Value,
    sig: Option<&str>,
) -> (u16, Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let ts = timestamp.to_string();
    let signature = sig.map(str::to_string).unwrap_or_else(|| sign(&key.1, &ts, &raw));
    let r = app
        .client()
        .post(app.url(&format!("/api/v1/t/{tenant}/credential-events")))
        .header("content-type", "application/json")
        .header("x-api-key", &key.0)
        .header("x-timestamp", ts)
        .header("x-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub(crate) fn event(id: &str, vendor: Uuid, status: &str) -> Value {
    json!({"event_id": id, "vendor_id": vendor, "credential": "health", "status": status,
           "reason": if status == "invalid" { "健康码转为红码" } else { "" }, "occurred_at": Utc::now()})
}

/// Everything an event could write, to show that a refused one wrote nothing.
async fn footprint(app: &TestApp) -> (i64, i64, i64, i64, i64) {
    (
        app.count("credential_events").await,
        app.count("audit_log").await,
        app.count("notifications").await,
        app.count("code_causes").await,
        sqlx::query_scalar("select count(*) from credentials where status = 'invalid'")
            .fetch_one(&app.owner)
            .await
            .unwrap(),
    )
}

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

/// The vendor of a green food stall of nanan whose credentials are all valid and far from expiry.
async fn food_vendor(app: &TestApp) -> (Uuid, Uuid) {
    sqlx::query_as(
        "select c.id, c.vendor_id from codes c join tenants t on t.id = c.tenant_id
         where t.slug = 'nanan' and c.category = 'food' and c.colour = 'green' and c.revoked_at is null
           and not exists (select 1 from credentials k where k.vendor_id = c.vendor_id
                           and (k.status <> 'valid' or k.expires_on < current_date + 60))
           and (select count(*) from credentials k where k.vendor_id = c.vendor_id) = 2
           and (select count(*) from codes o where o.vendor_id = c.vendor_id) = 1
         limit 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap()
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

pub(crate) async fn inspect(
    app: &TestApp,
    token: &str,
    tenant: &str,
    code: Uuid,
    problems: &[&str],
    notes: &str,
) -> (u16, Value) {
    app.send_json(
        Method::POST,
        &format!("/api/v1/t/{tenant}/codes/{code}/inspections"),
        Some(token),
        &json!({"problems": problems, "notes": notes}),
    )
    .await
}

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

/// Reads server-sent events until one named `name` arrives (its data), or `None` after `wait`.
pub(crate) async fn next_event(
    r: &mut reqwest::Response,
    buffer: &mut String,
    name: &str,
    wait: std::time::Duration,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = "message";
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = if e.trim() == name { name } else { "other" };
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim());
                }
            }
            if event == name {
                return Some(data);
            }
        }
        match tokio::time::timeout_at(deadline, r.chunk()).await {
            Ok(Ok(Some(bytes))) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return None,
        }
    }
}

#[tokio::test]
async fn live_notices_reach_the_officials_of_their_own_tenant_only() {
    let app = TestApp::spawn().await;
    let stall = demo_stall(&app).await;
    let wait = std::time::Duration::from_secs(10);
    let mut streams = Vec::new();
    for tenant in ["nanan", "shangcheng"] {
        let client = app.signed_in(tenant, "official").await;
        let mut r = client.get(app.url("/official/events")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let mut buffer = String::new();
        assert_eq!(
            next_event(&mut r, &mut buffer, "ready", wait).await.as_deref(),
            Some("live")
        );
        streams.push((r, buffer));
    }
    let key = feed_key(&app, "nanan");
    let (status, _) = send_event(
        &app,
        "nanan",
        &key,
        Utc::now().timestamp(),
        &event("sse-1", stall.vendor, "invalid"),
        None,
    )
    .await;
    assert_eq!(status, 200);

    let (nanan, rest) = streams.split_at_mut(1);
    let (r, buffer) = &mut nanan[0];
    let mut texts = String::new();
    for _ in 0..2 {
        let data = next_event(r, buffer, "notice", wait)
            .await
            .expect("tenant A's official is told");
        let notice: Value = serde_json::from_str(&data).unwrap();
        texts.push_str(notice["text"].as_str().unwrap());
    }
    assert!(
        texts.contains("健康码系统"),
        "the credential event, with its source: {texts}"
    );
    assert!(texts.contains("红码"), "the code turning red: {texts}");
    let (r, buffer) = &mut rest[0];
    assert_eq!(
        next_event(r, buffer, "notice", std::time::Duration::from_millis(1500)).await,
        None,
        "tenant B's official hears nothing of tenant A"
    );

    // The list survives a reload; vendors have no stream.
    let client = app.signed_in("nanan", "official").await;
    let html = client
        .get(app.url("/official/notices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("健康码系统"), "the notice names its source");
    let vendor = app.signed_in("nanan", "vendor").await;
    let r = vendor.get(app.url("/official/events")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = app.client().get(app.url("/official/events")).send().await.unwrap();
    assert!(r.status() == 401 || r.status() == 303, "{}", r.status());
}

#[tokio::test]
async fn the_stall_page_lets_the_vendor_check_in_and_shows_why_a_refusal_happened() {
    let app = app_with_clock().await;
    let stall = demo_stall(&app).await;
    let client = app.signed_in("nanan", "vendor").await;
    let night = today() + Duration::days(5);
    app.state.ctx.clock.set(at(night, "18:05"));
    let page = format!("/vendor/stalls/{}", stall.id);
    let html = client.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        crate::helpers::texts(&html, "#checkin-state[data-state=absent]").len(),
        1,
        "{html}"
    );

    // Far away: the page again, 422, saying by how much.
    let r = client
        .post(app.url(&format!("{page}/check-in")))
        .form(&[
            ("lat", (stall.lat + 0.01).to_string()),
            ("lng", stall.lng.to_string()),
            ("accuracy", "10".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        crate::helpers::texts(&html, "#checkin-errors").concat().contains("米"),
        "{html}"
    );
    // No position (no script, or permission refused).
    let r = client
        .post(app.url(&format!("{page}/check-in")))
        .form(&[("lat", ""), ("lng", ""), ("accuracy", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let r = client
        .post(app.url(&format!("{page}/check-in")))
        .form(&[
            ("lat", stall.lat.to_string()),
            ("lng", stall.lng.to_string()),
            ("accuracy", "10".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = client
        .get(app.url(&format!("{page}?notice=checked_in")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(crate::helpers::texts(&html, "#checkin-state[data-state=open]").len(), 1);

    // Another vendor's stall, or an official, gets nothing.
    let foreign: Uuid = sqlx::query_scalar("select id from codes where vendor_id <> $1 limit 1")
        .bind(stall.vendor)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let r = client
        .get(app.url(&format!("/vendor/stalls/{foreign}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let official = app.signed_in("nanan", "official").await;
    let r = official.get(app.url(&page)).send().await.unwrap();
    assert_eq!(r.status(), 403);
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

#[tokio::test]
async fn supervision_settings_are_checked_against_their_ranges() {
    let app = TestApp::spawn().await;
    let admin = app.token("nanan", "admin").await;
    let (_, mut settings) = app.get_json("/api/v1/t/nanan/settings", Some(&admin)).await;
    assert_eq!(settings["monthly_points"], 12);
    assert_eq!(settings["appeal_days"], 7);
    assert_eq!(settings["expiry_warning_days"], 14);
    assert_eq!(settings["checkin_early_minutes"], 60);
    settings["monthly_points"] = json!(0);
    let (status, r) = app
        .send_json(Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &settings)
        .await;
    assert_eq!(status, 422, "{r}");
    settings["monthly_points"] = json!(6);
    let (status, _) = app
        .send_json(Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &settings)
        .await;
    assert_eq!(status, 200);
    let (_, other) = app
        .get_json(
            "/api/v1/t/shangcheng/settings",
            Some(&app.token("shangcheng", "admin").await),
        )
        .await;
    assert_eq!(other["monthly_points"], 12, "one tenant's scheme is its own");
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
