//! Supervision: nightly check-in, the external credential feed and the health binding, the
//! sweeper, inspections with penalty points, appeals, renewals, API keys and live notices.

use crate::helpers::{Options, TestApp};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
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

pub(crate) async fn colour_of(app: &TestApp, code: Uuid) -> String {
    sqlx::query_scalar("select colour from codes where id = $1")
        .bind(code)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

pub(crate) async fn open_causes(app: &TestApp, code: Uuid) -> Vec<String> {
    sqlx::query_scalar("select kind from code_causes where code_id = $1 and cleared_at is null order by kind")
        .bind(code)
        .fetch_all(&app.owner)
        .await
        .unwrap()
}

pub(crate) async fn check_in(app: &TestApp, token: &str, code: Uuid, lat: f64, lng: f64) -> (u16, Value) {
    app.send_json(
        Method::POST,
        &format!("/api/v1/t/nanan/codes/{code}/check-in"),
        Some(token),
        &json!({"lat": lat, "lng": lng, "accuracy_m": 12.0}),
    )
    .await
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
pub(crate) async fn footprint(app: &TestApp) -> (i64, i64, i64, i64, i64) {
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

/// The vendor of a green food stall of nanan whose credentials are all valid and far from expiry.
pub(crate) async fn food_vendor(app: &TestApp) -> (Uuid, Uuid) {
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
pub(crate) async fn live_notices_reach_the_officials_of_their_own_tenant_only() {
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
pub(crate) async fn supervision_settings_are_checked_against_their_ranges() {
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
