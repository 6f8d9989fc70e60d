//! The scan page at full strength: ratings from real visits, complaints and their handling, the
//! score and the yellow it can cause, Open311, and the page's own budget.

use crate::helpers::{Options, TestApp};
use crate::supervision::{Stall, at, demo_stall, feed_key, scan_colour, today};
use chrono::{Duration, NaiveDate, Utc};
use nightmarket_services::access::throttle::ThrottleSettings;
use nightmarket_services::clock::Clock;
use reqwest::Method;
use serde_json::json;
use std::io::Write;
use uuid::Uuid;

/// A clock that stands still and small shopper limits (5 per device, 8 per address).
pub(crate) async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        configure: |c| {
            c.clock = Clock::fixed(Utc::now());
            c.shopper_throttle = ThrottleSettings {
                account_burst: 5,
                account_period: std::time::Duration::from_secs(3600),
                address_burst: 8,
                address_period: std::time::Duration::from_secs(3600),
            };
        },
        ..Options::default()
    })
    .await
}

pub(crate) fn action(stall: &Stall, what: &str) -> String {
    stall.path.replacen('?', &format!("/{what}?"), 1)
}

/// Rates as a phone does: opens the scan page (which hands this device a rating ticket when the
/// stall may be rated), then sends the form with it.
pub(crate) async fn rate(
    app: &TestApp,
    client: &reqwest::Client,
    stall: &Stall,
    form: &[(&str, &str)],
) -> (u16, String) {
    let ticket = app.rating_ticket(client, &stall.path).await.unwrap_or_default();
    let mut form: Vec<(&str, &str)> = form.to_vec();
    form.push(("ticket", &ticket));
    let r = client
        .post(app.url(&action(stall, "rate")))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Checks the stall in for `night` at 18:30 (through the API, as the vendor's phone does).
pub(crate) async fn check_in(app: &TestApp, stall: &Stall, night: NaiveDate) {
    app.state.ctx.clock.set(at(night, "18:30"));
    let vendor = app.token("nanan", "vendor").await;
    let (status, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/check-in", stall.id),
            Some(&vendor),
            &json!({"lat": stall.lat, "lng": stall.lng, "accuracy_m": 10.0}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

pub(crate) async fn ratings_of(app: &TestApp, code: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from ratings where code_id = $1")
        .bind(code)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

/// Files a complaint from the scan page; returns the status and where it led.
pub(crate) async fn complain(
    app: &TestApp,
    client: &reqwest::Client,
    stall: &Stall,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = client
        .post(app.url(&action(stall, "complain")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        if status == 303 {
            location
        } else {
            r.text().await.unwrap()
        },
    )
}

pub(crate) fn tracking_of(location: &str) -> String {
    location
        .trim_start_matches("/complaints/")
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

pub(crate) async fn complaint_id(app: &TestApp, tracking: &str) -> Uuid {
    sqlx::query_scalar("select id from complaints where tracking = $1")
        .bind(tracking)
        .fetch_one(&app.owner)
        .await
        .unwrap()
}

pub(crate) fn gzip_len(bytes: &[u8]) -> usize {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap().len()
}

#[tokio::test]
pub(crate) async fn the_scan_page_fits_its_budget_has_no_script_and_is_never_stale() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let r = app
        .client()
        .get(app.url(&stall.path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let html_gz = r.bytes().await.unwrap().len();
    let html = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.to_lowercase().contains("<script"), "no script for shoppers");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no third-party requests"
    );
    let css = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let r = app
        .client()
        .get(app.url(css))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    let css_gz = r.bytes().await.unwrap().len();
    assert!(
        html_gz + css_gz < 10 * 1024,
        "HTML {html_gz} B + CSS {css_gz} B compressed"
    );
    assert!(gzip_len(html.as_bytes()) < 4 * 1024);
    for needle in ["评价", "投诉", "用券", "id=\"tonight\"", "id=\"score\""] {
        assert!(html.contains(needle), "{needle}");
    }
    // English on request.
    let en = app
        .client()
        .get(app.url(&stall.path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Complain") && en.contains("Rate"), "{en}");

    // Seen (and cached), suspended, seen again at once: red. Restored: green again.
    assert_eq!(scan_colour(&app, &stall.path).await, "green");
    let official = app.token("nanan", "official").await;
    let (s, body) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/suspend", stall.id),
            Some(&official),
            &json!({"reason": "现场检查发现无证经营"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(scan_colour(&app, &stall.path).await, "red");
    // A change made behind the application's back (another instance) arrives by NOTIFY.
    sqlx::query("update codes set colour = 'yellow' where id = $1")
        .bind(stall.id)
        .execute(&app.owner)
        .await
        .unwrap();
    let mut seen = String::new();
    for _ in 0..50 {
        seen = scan_colour(&app, &stall.path).await;
        if seen == "yellow" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen, "yellow",
        "another instance's change reaches this instance's cache"
    );

    // Unknown, forged and revoked codes.
    let r = app
        .client()
        .get(app.url("/c/0123456789abc?k=nanan-1&s=AAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let forged = stall.path.replace("&s=", "&s=A");
    let r = app.client().get(app.url(&forged)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/revoke", stall.id),
            Some(&app.token("nanan", "admin").await),
            &json!({"reason": "摊主退出夜市"}),
        )
        .await;
    assert!(s == 200 || s == 204, "{s}");
    let r = app.client().get(app.url(&stall.path)).send().await.unwrap();
    assert_eq!(r.status(), 410);
}

/// The demo feed key as Open311 takes it.
pub(crate) fn api_key(app: &TestApp, tenant: &str) -> String {
    let (id, secret) = feed_key(app, tenant);
    format!("{id}.{secret}")
}

#[tokio::test]
pub(crate) async fn scans_are_counted_in_batches_and_each_device_once_a_night_as_a_visitor() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let night = today() + Duration::days(2);
    app.state.ctx.clock.set(at(night, "20:00"));
    let counts = || async {
        sqlx::query_as::<_, (i64, i64)>("select scans, visitors from scan_nights where code_id = $1 and night = $2")
            .bind(stall.id)
            .bind(night)
            .fetch_optional(&app.owner)
            .await
            .unwrap()
    };
    // Each client is a phone with its own cookies.
    let phone = || app.client();
    let (a, b) = (phone(), phone());
    let scan = |c: &reqwest::Client| {
        let request = c.get(app.url(&stall.path));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for c in [&a, &a, &a, &b, &b] {
        assert_eq!(scan(c).await, 200);
    }
    // Nothing is written while the page is served: the scans wait in memory.
    assert_eq!(counts().await, None);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((5, 2)));
    // Nothing counted twice by a second flush; a device coming back is a scan, not a new visitor.
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((5, 2)));
    assert_eq!(scan(&a).await, 200);
    assert_eq!(scan(&phone()).await, 200);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((7, 3)));
    // After midnight the market is still open: the same business night.
    app.state.ctx.clock.set(at(night + Duration::days(1), "00:30"));
    assert_eq!(scan(&b).await, 200);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((8, 3)));
    // A forged code counts nothing.
    let forged = format!("{}X", &stall.path[..stall.path.len() - 1]);
    assert_eq!(a.get(app.url(&forged)).send().await.unwrap().status(), 404);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;
    assert_eq!(counts().await, Some((8, 3)));
    // The vendor sees tonight's figures on the stall page.
    let vendor = app.signed_in("nanan", "vendor").await;
    let html = vendor
        .get(app.url(&format!("/vendor/stalls/{}", stall.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-scans=\"8\" data-visitors=\"3\""), "{html}");
}

/// Fetches a scan page as a phone that accepts gzip, decoded; with the answer's encoding.
async fn scan_gzipped(app: &TestApp, client: &reqwest::Client, path: &str) -> (String, String) {
    let r = client
        .get(app.url(path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let encoding = r
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.bytes().await.unwrap();
    let text = match encoding.as_deref() {
        Some("gzip") => {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&body[..]), &mut out).unwrap();
            out
        }
        _ => String::from_utf8(body.to_vec()).unwrap(),
    };
    (encoding.unwrap_or_default(), text)
}

#[tokio::test]
async fn every_phone_gets_the_same_kept_scan_page_and_a_change_shows_at_once() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let night = today() + Duration::days(2);
    app.state.ctx.clock.set(at(night, "17:00"));
    // Two phones (two devices): the same bytes, kept compressed; each still gets its own device.
    let (a, b) = (app.client(), app.client());
    let (encoding, first) = scan_gzipped(&app, &a, &stall.path).await;
    assert_eq!(encoding, "gzip");
    let (_, second) = scan_gzipped(&app, &b, &stall.path).await;
    assert_eq!(first, second);
    // What is kept is what a fresh render gives (a client without gzip is rendered each time).
    let plain = a.get(app.url(&stall.path)).send().await.unwrap().text().await.unwrap();
    assert_eq!(plain, first);
    // The vendor checks in: the next scan shows it, never the kept page of before.
    check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "19:00"));
    let (_, after) = scan_gzipped(&app, &a, &stall.path).await;
    assert_ne!(after, first, "a change (and the clock) shows at once");
    let plain = b.get(app.url(&stall.path)).send().await.unwrap().text().await.unwrap();
    assert_eq!(plain, after);
    // A URL with anything beside the signed query is rendered for itself, never kept for others.
    scan_gzipped(&app, &a, &format!("{}&x=%3Cb%3E", stall.path)).await;
    let (_, again) = scan_gzipped(&app, &b, &stall.path).await;
    assert_eq!(again, after);
}

/// First visits that arrive together are read together (services::scan::FirstVisits): each phone
/// still gets its own stall's page, a code visited twice in the same moment both times, and a
/// forged signature among them still nothing.
#[tokio::test]
async fn first_visits_arriving_together_each_get_their_own_page() {
    let app = app().await;
    let codes: Vec<(String, String, String, String)> =
        sqlx::query_as("select code, kid, signature, stall_name from codes where revoked_at is null")
            .fetch_all(&app.owner)
            .await
            .unwrap();
    assert!(codes.len() >= 3, "the demo has codes in several tenants");
    let client = app.client();
    let visit = |path: String| {
        let request = client.get(app.url(&path));
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let mut visits = Vec::new();
    for (code, kid, signature, stall) in &codes {
        let genuine = format!("/c/{code}?k={kid}&s={signature}");
        let forged = format!("/c/{code}?k={kid}&s={}A", &signature[..signature.len() - 1]);
        let forged = if forged == genuine {
            format!("/c/{code}?k={kid}&s={}B", &signature[..signature.len() - 1])
        } else {
            forged
        };
        visits.push((visit(genuine.clone()), Some(stall.clone())));
        visits.push((visit(genuine), Some(stall.clone())));
        visits.push((visit(forged), None));
    }
    let (futures, expected): (Vec<_>, Vec<_>) = visits.into_iter().unzip();
    // Many at once, within what the test server takes on at once (its admission control).
    let answers: Vec<(u16, String)> =
        futures::StreamExt::collect(futures::StreamExt::buffered(futures::stream::iter(futures), 32)).await;
    for ((status, html), stall) in answers.into_iter().zip(expected) {
        match stall {
            Some(stall) => {
                assert_eq!(status, 200, "{html}");
                let escaped = stall.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
                assert!(html.contains(&format!("<h1>{escaped}</h1>")), "{stall}: {html}");
            }
            None => assert_eq!(status, 404, "{html}"),
        }
    }
}
