//! The numbers: every dashboard figure on a small hand-made data set with known answers, in a
//! tenant whose zone is not the platform's (America/New_York) and whose market runs past
//! midnight; ranges and their refusals; CSV round trips; the public market record; the audit
//! viewer; and who may see what.

use crate::fixtures::{
    Campaign, CheckIn, ClaimedVoucher, Complaint, Inspection, Rating, Redemption, Shopper, Stall, Suspension,
};
use crate::helpers::{Options, TestApp, Who};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use nightmarket::demo::load::{LoadTenant, LoadedTenant, seed_tenant};
use nightmarket_services::clock::Clock;
use serde_json::{Value, json};
use uuid::Uuid;

/// The application on the demo data, with a clock the data set sets.
pub(crate) async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        configure: |c| c.clock = Clock::fixed(Utc::now()),
        ..Options::default()
    })
    .await
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A wall-clock time in New York.
fn ny(date: &str, hm: &str) -> DateTime<Utc> {
    New_York
        .from_local_datetime(&d(date).and_time(NaiveTime::parse_from_str(hm, "%H:%M").unwrap()))
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) struct World {
    pub t: LoadedTenant,
    /// The three stalls' code ids and their vendors.
    pub codes: Vec<(Uuid, Uuid)>,
    pub token: String,
}

/// Tenant `tzt` (New York), market 18:00–02:00 with three stalls (S1, S2, S3), and this data:
///
/// | night | scans/visitors | ratings (visible)   | check-ins        | complaints filed            | inspections     | vouchers used |
/// |-------|----------------|---------------------|------------------|-----------------------------|-----------------|---------------|
/// | 11-07 | –              | –                   | –                | rejected, on time           | –               | –             |
/// | 11-08 | –              | S1 3★               | none (3 absent)  | –                           | –               | –             |
/// | 11-09 | 4 / 3          | S1 5★, S2 4★ (S3 1★ hidden) | S1, S2 late | hygiene resolved on time (filed 01:30 on the 10th), price_fraud overdue | S3 failed, 5 points | S1 ¥60 bill |
/// | 11-10 | 1 / 1          | –                   | S1               | hygiene, not yet due        | S1 passed       | S2 ¥80 bill (+1 reversed) |
///
/// Now is 11-10 20:00 in New York (01:00 UTC on the 11th): tonight is the 10th, open.
pub(crate) async fn world(app: &TestApp) -> World {
    let t = seed_tenant(
        &app.owner,
        &app.state.ctx.keys,
        &LoadTenant {
            slug: "tzt".into(),
            name: "纽约测试区".into(),
            timezone: "America/New_York".into(),
            stalls: 3,
            opens_at: "18:00".into(),
            closes_at: "02:00".into(),
        },
    )
    .await
    .expect("seed");
    let tenant = t.tenant.id.0;
    let o = &app.owner;
    let codes: Vec<(Uuid, Uuid)> =
        sqlx::query_as("select id, vendor_id from codes where tenant_id = $1 order by stall_name")
            .bind(tenant)
            .fetch_all(o)
            .await
            .unwrap();
    assert_eq!(codes.len(), 3);
    let (s1, s2, s3) = (codes[0], codes[1], codes[2]);
    let admin: Uuid = sqlx::query_scalar("select id from users where tenant_id = $1 and login = 'admin'")
        .bind(tenant)
        .fetch_one(o)
        .await
        .unwrap();
    // The stalls were approved long before; applications took 2, 4 and 10 hours, decided on the 9th.
    sqlx::query("update codes set created_at = '2026-10-01T00:00:00Z' where tenant_id = $1")
        .bind(tenant)
        .execute(o)
        .await
        .unwrap();
    for ((code, _), hours) in codes.iter().zip([2i64, 4, 10]) {
        sqlx::query(
            "update applications a set first_submitted_at = $2, submitted_at = $2, decided_at = $2 + make_interval(hours => $3::int)
             from codes c where c.tenant_id = a.tenant_id and c.application_id = a.id and c.id = $1",
        )
        .bind(code)
        .bind(ny("2026-11-09", "09:00"))
        .bind(hours as i32)
        .execute(o)
        .await
        .unwrap();
    }

    // Scans through the real scan page: two phones before midnight, one after (still the 9th's
    // night), and one on the 10th.
    let phone_a = app.client();
    let phone_b = app.client();
    let path = |code: Uuid| {
        t.codes
            .iter()
            .find(|(id, _)| *id == code)
            .map(|(_, p)| p.clone())
            .unwrap()
    };
    app.state.ctx.clock.set(ny("2026-11-09", "23:30"));
    for phone in [&phone_a, &phone_a, &phone_b] {
        let r = phone.get(app.url(&path(s1.0))).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    app.state.ctx.clock.set(ny("2026-11-10", "01:30"));
    assert_eq!(phone_a.get(app.url(&path(s2.0))).send().await.unwrap().status(), 200);
    app.state.ctx.clock.set(ny("2026-11-10", "19:00"));
    assert_eq!(phone_a.get(app.url(&path(s1.0))).send().await.unwrap().status(), 200);
    app.state.ctx.scan_counts.flush(&app.state.ctx).await;

    // Ratings: one hidden by moderation.
    let stall = |(code, vendor): (Uuid, Uuid)| Stall {
        tenant,
        code,
        vendor,
        market: Some(t.market_id),
    };
    for (code, rating) in [
        (s1, Rating::new(d("2026-11-08"), 3)),
        (s1, Rating::new(d("2026-11-09"), 5)),
        (s2, Rating::new(d("2026-11-09"), 4)),
        (s3, Rating::new(d("2026-11-09"), 1).hidden_by(admin)),
    ] {
        rating.insert(o, &stall(code)).await;
    }

    // Check-ins.
    for (code, night, at, late) in [
        (s1, "2026-11-09", ny("2026-11-09", "18:05"), false),
        (s2, "2026-11-09", ny("2026-11-09", "19:10"), true),
        (s1, "2026-11-10", ny("2026-11-10", "18:02"), false),
    ] {
        CheckIn {
            night: d(night),
            at,
            late,
        }
        .insert(o, &stall(code))
        .await;
    }

    // Complaints: (code, filed, category, state, resolve due, closed).
    let complaints = [
        (
            s1,
            ny("2026-11-07", "23:00"),
            "service",
            "rejected",
            ny("2026-11-09", "23:00"),
            Some(ny("2026-11-08", "10:00")),
        ),
        (
            s1,
            ny("2026-11-10", "01:30"),
            "hygiene",
            "resolved",
            ny("2026-11-12", "01:30"),
            Some(ny("2026-11-10", "09:00")),
        ),
        (
            s2,
            ny("2026-11-09", "22:00"),
            "price_fraud",
            "open",
            ny("2026-11-10", "10:00"),
            None,
        ),
        (
            s3,
            ny("2026-11-10", "19:30"),
            "hygiene",
            "open",
            ny("2026-11-12", "19:30"),
            None,
        ),
    ];
    for (i, (code, filed, category, state, resolve_due, closed)) in complaints.into_iter().enumerate() {
        Complaint {
            tracking: format!("tzt-{:0>20}", i),
            category,
            state,
            filed,
            resolve_due,
            closed,
        }
        .insert(o, &stall(code))
        .await;
    }

    // Inspections: S3 failed on the 9th (5 points), S1 passed on the 10th.
    for (code, at, points) in [
        (s3, ny("2026-11-09", "19:00"), Some(5)),
        (s1, ny("2026-11-10", "18:30"), None),
    ] {
        Inspection {
            official: admin,
            at,
            points,
        }
        .insert(o, &stall(code))
        .await;
    }

    // S3 suspended on the 9th: red.
    Suspension {
        official: admin,
        at: ny("2026-11-09", "19:05"),
    }
    .insert(o, &stall(s3))
    .await;

    // Vouchers: ¥10 off ¥50; three claimed (one on the 7th, two on the 9th); used at S1 on the 9th
    // (¥60) and S2 on the 10th (¥80); a third use on the 10th reversed.
    let campaign = Campaign {
        id: Uuid::new_v4(),
        name: "夜市消费券",
        value_fen: 1000,
        threshold_fen: 5000,
        total: 10,
        claim_start: "2026-11-01T00:00:00Z".parse().unwrap(),
        claim_end: "2026-11-30T00:00:00Z".parse().unwrap(),
        use_days: 7,
    };
    campaign.insert(o, tenant).await;
    let claims = [
        ny("2026-11-07", "20:00"),
        ny("2026-11-09", "20:00"),
        ny("2026-11-09", "21:00"),
    ];
    for (seq, claimed) in claims.iter().enumerate() {
        let shopper = Shopper::new(format!("idx-{seq}"), "138****0000");
        shopper.insert(o, tenant).await;
        let shopper = shopper.id;
        ClaimedVoucher {
            seq: seq as i32 + 1,
            shopper,
            at: *claimed,
        }
        .insert(o, tenant, &campaign)
        .await;
        let (code, night, bill, reversed) = match seq {
            0 => (s1, "2026-11-09", 6000, false),
            1 => (s2, "2026-11-10", 8000, false),
            _ => (s2, "2026-11-10", 9000, true),
        };
        Redemption {
            campaign: campaign.id,
            seq: seq as i32 + 1,
            shopper,
            night: d(night),
            bill_fen: bill,
            request_key: format!("r-{seq}"),
            at: None,
            reversed,
        }
        .insert(o, &stall(code))
        .await;
    }

    app.state.ctx.clock.set(ny("2026-11-10", "20:00"));
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"tenant": "tzt", "login": "admin", "password": t.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    World { t, codes, token }
}

impl World {
    /// A browser-like client signed in as tzt's admin through the login form.
    pub(crate) async fn admin(&self, app: &TestApp) -> reqwest::Client {
        let admin = app.client();
        let r = admin
            .post(app.url("/login"))
            .form(&[
                ("tenant", "tzt"),
                ("login", "admin"),
                ("password", &self.t.admin_password),
                ("next", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        admin
    }
}

fn night<'a>(d: &'a Value, date: &str) -> &'a Value {
    d["nights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["night"] == date)
        .unwrap_or_else(|| panic!("no night {date} in {d}"))
}

fn key_count(list: &Value, key: &str) -> i64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {list}"))["count"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn every_figure_matches_a_hand_made_data_set_across_midnight_in_another_zone() {
    let app = app().await;
    let w = world(&app).await;
    let (status, d) = app
        .get_json(
            "/api/v1/t/tzt/numbers?range=custom&from=2026-11-08&to=2026-11-10",
            Some(&w.token),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["timezone"], "America/New_York");
    assert_eq!(d["range"]["nights"], 3);
    assert_eq!(d["range"]["tonight"], "2026-11-10");
    assert_eq!(d["nights"].as_array().unwrap().len(), 3);

    // Scans: the 01:30 scan belongs to the 9th's night.
    assert_eq!(night(&d, "2026-11-09")["scans"], 4);
    assert_eq!(night(&d, "2026-11-09")["visitors"], 3);
    assert_eq!(night(&d, "2026-11-10")["scans"], 1);
    assert_eq!(night(&d, "2026-11-10")["visitors"], 1);
    assert_eq!(d["totals"]["scans"], 5);
    assert_eq!(d["totals"]["visitors"], 4);

    // Ratings: the hidden one does not count.
    assert_eq!(night(&d, "2026-11-08")["ratings"], 1);
    assert_eq!(night(&d, "2026-11-09")["ratings"], 2);
    assert_eq!(night(&d, "2026-11-09")["stars"], 9);
    assert_eq!(d["totals"]["ratings"], 3);
    assert_eq!(d["rating_average"], "4.00");

    // Check-ins: three stalls expected on each night (tonight opened at 18:00).
    assert_eq!(night(&d, "2026-11-08")["expected"], 3);
    assert_eq!(night(&d, "2026-11-08")["absent"], 3);
    assert_eq!(night(&d, "2026-11-09")["opened"], 2);
    assert_eq!(night(&d, "2026-11-09")["late"], 1);
    assert_eq!(night(&d, "2026-11-09")["absent"], 1);
    assert_eq!(night(&d, "2026-11-10")["opened"], 1);
    assert_eq!(night(&d, "2026-11-10")["absent"], 2);
    assert_eq!(d["totals"]["expected"], 9);
    assert_eq!(d["totals"]["absent"], 6);
    assert_eq!(d["attendance"], "33.3");

    // Complaints: the one filed at 01:30 on the 10th is the 9th's; the 7th's is outside.
    assert_eq!(d["complaints"]["total"], 3);
    assert_eq!(night(&d, "2026-11-09")["complaints"], 2);
    assert_eq!(night(&d, "2026-11-10")["complaints"], 1);
    assert_eq!(key_count(&d["complaints"]["by_category"], "hygiene"), 2);
    assert_eq!(key_count(&d["complaints"]["by_category"], "price_fraud"), 1);
    assert_eq!(key_count(&d["complaints"]["by_category"], "noise"), 0);
    assert_eq!(key_count(&d["complaints"]["by_state"], "open"), 2);
    assert_eq!(key_count(&d["complaints"]["by_state"], "resolved"), 1);
    assert_eq!(d["complaints"]["due"], 2);
    assert_eq!(d["complaints"]["on_time"], 1);
    assert_eq!(d["complaints"]["on_time_share"], "50.0");

    // Codes now, and why red.
    assert_eq!(d["codes"]["green"], 2);
    assert_eq!(d["codes"]["red"], 1);
    assert_eq!(d["codes"]["red_causes"][0]["kind"], "suspended");
    assert_eq!(d["codes"]["red_causes"][0]["open"], 1);
    assert_eq!(d["codes"]["red_causes"][0]["raised"], 1);

    // Applications: 2, 4 and 10 hours → median 4.0, p90 8.8.
    assert_eq!(d["applications"]["submitted"], 3);
    assert_eq!(key_count(&d["applications"]["by_state"], "approved"), 3);
    assert_eq!(d["applications"]["decided"], 3);
    assert_eq!(d["applications"]["median_review_hours"], "4.0");
    assert_eq!(d["applications"]["p90_review_hours"], "8.8");

    // Inspections and points.
    assert_eq!(d["inspections"], 2);
    assert_eq!(d["failed_inspections"], 1);
    assert_eq!(d["points"], 5);
    assert_eq!(night(&d, "2026-11-09")["points"], 5);

    // Vouchers: the reversed use does not count; the claim on the 7th is outside.
    assert_eq!(d["vouchers"]["claimed"], 2);
    assert_eq!(d["vouchers"]["used"], 2);
    assert_eq!(d["vouchers"]["subsidy_fen"], 2000);
    assert_eq!(d["vouchers"]["consumption_fen"], 14000);
    assert_eq!(d["vouchers"]["leverage"], "7.00");

    // The market row carries the same totals.
    let m = &d["markets"][0];
    assert_eq!(m["market_id"], w.t.market_id.to_string());
    assert_eq!(m["visitors"], 4);
    assert_eq!(m["complaints"], 3);
    assert_eq!(m["on_time_share"], "50.0");
    assert_eq!(m["red_codes"], 1);

    // Tonight is the 10th; a single night; the market's own dashboard has no claims (they
    // belong to the tenant).
    let (_, tonight) = app.get_json("/api/v1/t/tzt/numbers", Some(&w.token)).await;
    assert_eq!(tonight["range"]["from"], "2026-11-10");
    assert_eq!(tonight["totals"]["scans"], 1);
    assert_eq!(tonight["complaints"]["total"], 1);
    let (_, ninth) = app
        .get_json(
            &format!(
                "/api/v1/t/tzt/numbers?range=night&night=2026-11-09&market={}",
                w.t.market_id
            ),
            Some(&w.token),
        )
        .await;
    assert_eq!(ninth["market"]["id"], w.t.market_id.to_string());
    assert_eq!(ninth["totals"]["scans"], 4);
    assert_eq!(ninth["complaints"]["total"], 2);
    assert_eq!(ninth["vouchers"]["claimed"], Value::Null);
    assert_eq!(ninth["vouchers"]["used"], 1);
    let (_, week) = app.get_json("/api/v1/t/tzt/numbers?range=7", Some(&w.token)).await;
    assert_eq!(week["range"]["from"], "2026-11-04");
    assert_eq!(week["complaints"]["total"], 4);

    // The counters follow later changes: a rating hidden, a use reversed, a check-in removed.
    let tenant = w.t.tenant.id.0;
    for sql in [
        "update ratings set hidden_at = now(), hidden_by = (select id from users where tenant_id = $1 and login = 'admin'),
                hidden_reason = '广告' where tenant_id = $1 and business_date = '2026-11-08'",
        "update redemptions set reversed_at = now(), reversed_reason = '误操作' where tenant_id = $1 and bill_fen = 6000",
        "delete from check_ins where tenant_id = $1 and business_date = '2026-11-10'",
        // A change the counters do not count (a reply on every rating at once) leaves them as they are.
        "update ratings set reply = '谢谢', replied_at = now() where tenant_id = $1",
    ] {
        sqlx::query(sql).bind(tenant).execute(&app.owner).await.unwrap();
    }
    let (_, after) = app
        .get_json(
            "/api/v1/t/tzt/numbers?range=custom&from=2026-11-08&to=2026-11-10",
            Some(&w.token),
        )
        .await;
    assert_eq!(after["totals"]["ratings"], 2);
    assert_eq!(after["rating_average"], "4.50");
    assert_eq!(after["vouchers"]["used"], 1);
    assert_eq!(after["vouchers"]["consumption_fen"], 8000);
    assert_eq!(after["totals"]["opened"], 2);
    assert_eq!(night(&after, "2026-11-10")["absent"], 3);

    // (In Shanghai's zone, the platform's default, the complaint filed at 22:00 on the 9th in New
    // York would be the 10th's and the 23:30 scans too: the figures above are the tenant's zone.)
}

/// Before a night opens, a stall may check in early: that night reads as one stall open of one
/// expected, never as more open than expected (nor as "no figure").
#[tokio::test]
async fn an_early_check_in_before_the_night_opens_counts_as_expected() {
    let app = app().await;
    let w = world(&app).await;
    app.state.ctx.clock.set(ny("2026-11-11", "17:45"));
    let (code, vendor) = w.codes[0];
    let stall = Stall {
        tenant: w.t.tenant.id.0,
        code,
        vendor,
        market: Some(w.t.market_id),
    };
    CheckIn {
        night: d("2026-11-11"),
        at: ny("2026-11-11", "17:40"),
        late: false,
    }
    .insert(&app.owner, &stall)
    .await;
    let (status, body) = app
        .get_json(
            "/api/v1/t/tzt/numbers?range=custom&from=2026-11-10&to=2026-11-11",
            Some(&w.token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let tonight = body["nights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["night"] == "2026-11-11")
        .unwrap()
        .clone();
    assert_eq!(
        (
            tonight["opened"].as_i64(),
            tonight["expected"].as_i64(),
            tonight["absent"].as_i64()
        ),
        (Some(1), Some(1), Some(0)),
        "{tonight}"
    );
}

#[tokio::test]
async fn bad_ranges_are_refused_with_a_reason_and_others_see_nothing() {
    let app = app().await;
    let w = world(&app).await;
    for (query, field) in [
        ("range=fortnight", "range"),
        ("range=night", "night"),
        ("range=night&night=11/09/2026", "night"),
        ("range=custom&from=2026-11-09&to=2026-11-08", "to"),
        ("range=custom&from=2026-11-01&to=2026-11-30", "to"),
        ("range=custom&from=2024-01-01&to=2026-11-10", "from"),
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/t/tzt/numbers?{query}"), Some(&w.token))
            .await;
        assert_eq!(status, 422, "{query}: {body}");
        let fields = body["error"]["fields"].to_string();
        assert!(fields.contains(field), "{query}: {body}");
        assert!(!body["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    let (status, _) = app
        .get_json("/api/v1/t/tzt/numbers?market=not-a-market", Some(&w.token))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get_json("/api/v1/t/tzt/numbers/tables/passwords", Some(&w.token))
        .await;
    assert_eq!(status, 404);

    // Another tenant's official: neither the API nor the page nor an export reaches tzt.
    let nanan = app.token("nanan", "official").await;
    let (status, _) = app.get_json("/api/v1/t/tzt/numbers", Some(&nanan)).await;
    assert!(status == 403 || status == 404, "{status}");
    let official = app.signed_in("nanan", "official").await;
    let r = official
        .get(app.url(&format!("/official/numbers?market={}", w.t.market_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = official
        .get(app.url(&format!(
            "/official/numbers/csv/complaints?range=90&market={}",
            w.t.market_id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The nanan dashboard does not count tzt's rows.
    let (_, own) = app.get_json("/api/v1/t/nanan/numbers?range=90", Some(&nanan)).await;
    assert!(
        own["markets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["market_id"] != w.t.market_id.to_string())
    );

    // Wrong role: a vendor sees no dashboard; an official gets no settlement export.
    let none = json!(null);
    app.ladder(
        reqwest::Method::GET,
        "/api/v1/t/nanan/numbers",
        &none,
        &[(Who::Vendor("nanan"), 403)],
    )
    .await;
    app.ladder(
        reqwest::Method::GET,
        "/api/v1/t/nanan/numbers/tables/settlements?range=30",
        &none,
        &[(Who::Official("nanan"), 403)],
    )
    .await;
    let vendor_page = app.signed_in("nanan", "vendor").await;
    let r = vendor_page.get(app.url("/official/numbers")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = app.client().get(app.url("/official/numbers")).send().await.unwrap();
    assert!(r.status().is_redirection() || r.status() == 401, "{}", r.status());
}

/// Parses a CSV download: checks the BOM, returns the header and rows.
pub(crate) fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn csv_exports_round_trip_to_the_same_figures() {
    let app = app().await;
    let w = world(&app).await;
    let admin = w.admin(&app).await;
    let range = "range=custom&from=2026-11-08&to=2026-11-10";
    let (_, d) = app
        .get_json(&format!("/api/v1/t/tzt/numbers?{range}"), Some(&w.token))
        .await;

    let r = admin
        .get(app.url(&format!("/official/numbers/csv/nights?{range}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let (header, rows) = parse_csv(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 3);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in &rows {
        let n = night(&d, &row[col("night")]);
        for c in [
            "scans",
            "visitors",
            "ratings",
            "complaints",
            "opened",
            "late",
            "absent",
            "points",
        ] {
            assert_eq!(row[col(c)], n[c].to_string(), "{c} on {}", row[col("night")]);
        }
        assert_eq!(row[col("subsidy_fen")], n["subsidy_fen"].to_string());
    }
    assert_eq!(rows[1][col("rating_average")], "4.50");
    assert_eq!(rows[1][col("subsidy_yuan")], "10.00");

    // Every dashboard table downloads and parses, with a label in the reader's language.
    for table in nightmarket_web::exports::DASHBOARD_TABLES {
        let r = admin
            .get(app.url(&format!("/official/numbers/csv/{table}?{range}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{table}");
        let (header, rows) = parse_csv(&r.bytes().await.unwrap());
        assert!(!header.is_empty() && !rows.is_empty(), "{table}");
    }
    let r = admin
        .get(app.url(&format!("/official/numbers/csv/complaint_categories?{range}")))
        .send()
        .await
        .unwrap();
    let (_, rows) = parse_csv(&r.bytes().await.unwrap());
    let hygiene = rows.iter().find(|r| r[0] == "hygiene").unwrap();
    assert_eq!(
        hygiene[1],
        nightmarket_web::i18n::Lang::Zh.t("complaint_category.hygiene")
    );
    assert_eq!(hygiene[2], "2");

    // The records: complaints over the range (no description, no contact), inspections, applications.
    let r = admin
        .get(app.url(&format!("/official/numbers/csv/complaints?{range}")))
        .send()
        .await
        .unwrap();
    let (header, rows) = parse_csv(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 3);
    assert!(!header.iter().any(|h| h.contains("phone") || h.contains("description")));
    let night_col = header.iter().position(|h| h == "night").unwrap();
    let midnight = rows.iter().find(|r| r[0] == format!("tzt-{:0>20}", 1)).unwrap();
    assert_eq!(midnight[night_col], "2026-11-09");
    let on_time = header.iter().position(|h| h == "on_time").unwrap();
    assert_eq!(midnight[on_time], "true");
    let r = admin
        .get(app.url(&format!("/official/numbers/csv/inspections?{range}")))
        .send()
        .await
        .unwrap();
    let (header, rows) = parse_csv(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 2);
    let points = header.iter().position(|h| h == "points").unwrap();
    let problems = header.iter().position(|h| h == "problems").unwrap();
    assert!(rows.iter().any(|r| r[points] == "5" && r[problems] == "未戴手套"));
    let r = admin
        .get(app.url(&format!("/official/numbers/csv/applications?{range}")))
        .send()
        .await
        .unwrap();
    let (header, rows) = parse_csv(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 3);
    let review = header.iter().position(|h| h == "review_hours").unwrap();
    let mut hours: Vec<&str> = rows.iter().map(|r| r[review].as_str()).collect();
    hours.sort();
    assert_eq!(hours, ["10.0", "2.0", "4.0"]);
    let vendor = header.iter().position(|h| h == "vendor").unwrap();
    assert!(rows.iter().all(|r| r[vendor].contains('*')), "vendor names are masked");
    let r = admin
        .get(app.url(&format!("/official/numbers/csv/settlements?{range}")))
        .send()
        .await
        .unwrap();
    let (_, rows) = parse_csv(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 2, "two vendor-days with live uses");

    // The JSON table is the CSV's twin.
    let (status, t) = app
        .get_json(&format!("/api/v1/t/tzt/numbers/tables/nights?{range}"), Some(&w.token))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        t["columns"].as_array().unwrap().len(),
        header_len(&admin, &app, range).await
    );
}

async fn header_len(client: &reqwest::Client, app: &TestApp, range: &str) -> usize {
    let r = client
        .get(app.url(&format!("/official/numbers/csv/nights?{range}")))
        .send()
        .await
        .unwrap();
    parse_csv(&r.bytes().await.unwrap()).0.len()
}

#[tokio::test]
async fn a_markets_public_record_shows_its_figures_and_no_person() {
    let app = app().await;
    let w = world(&app).await;
    let path = format!("/t/tzt/m/{}/stats", w.t.market_id);
    let r = app.client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let (status, s) = app
        .get_json(&format!("/api/v1/t/tzt/markets/{}/stats", w.t.market_id), None)
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["from"], "2026-10-12");
    assert_eq!(s["to"], "2026-11-10");
    assert_eq!(s["stalls"], 3);
    assert_eq!(s["stalls_by_category"][0]["category"], "retail");
    assert_eq!(s["complaints"], 4);
    assert_eq!(s["complaints_due"], 3);
    assert_eq!(s["complaints_on_time"], 2);
    assert_eq!(s["on_time_share"], "66.7");
    assert_eq!(s["vouchers_used"], 2);
    assert_eq!(s["leverage"], "7.00");
    assert_eq!(s["visitors"], 4);
    assert_eq!(s["rating_average"], "4.00");
    assert_eq!(s["nights"].as_array().unwrap().len(), 30);

    // Nothing that names a person or a stall: not the vendors' masked names, not stall names,
    // not slots, not tracking numbers, not phone masks.
    let people: Vec<(String, String, String)> = sqlx::query_as(
        "select c.vendor_name_masked, c.stall_name, s.code from codes c join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id
         where c.tenant_id = $1",
    )
    .bind(w.t.tenant.id.0)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let json = s.to_string();
    for (vendor, stall, slot) in &people {
        for needle in [vendor, stall, slot] {
            assert!(!html.contains(needle.as_str()), "page shows {needle}");
            assert!(!json.contains(needle.as_str()), "JSON shows {needle}");
        }
    }
    for needle in ["tzt-0000", "138****", "分量明显不足"] {
        assert!(!html.contains(needle) && !json.contains(needle), "{needle}");
    }
    // The figures are on the page, and the chart has a text alternative.
    assert!(html.contains("66.7%"));
    assert!(html.contains("<desc id=\"chart-public-desc\">"));
    // Unknown market or tenant: 404.
    let (status, _) = app
        .get_json(&format!("/api/v1/t/nanan/markets/{}/stats", w.t.market_id), None)
        .await;
    assert_eq!(status, 404);
    let r = app.client().get(app.url("/t/tzt/m/nope/stats")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let _ = w.codes;
}

#[tokio::test]
async fn the_dashboard_page_draws_charts_with_tables_and_no_script() {
    let app = app().await;
    let w = world(&app).await;
    let admin = w.admin(&app).await;
    let r = admin
        .get(app.url("/official/numbers?range=custom&from=2026-11-08&to=2026-11-10"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let charts: Vec<_> = doc.select(&sel("svg.chart")).collect();
    assert!(charts.len() >= 7, "{}", charts.len());
    for c in &charts {
        assert_eq!(c.value().attr("role"), Some("img"));
        assert!(c.select(&sel("title")).next().is_some() && c.select(&sel("desc")).next().is_some());
    }
    let body: String = doc.select(&sel("main")).flat_map(|m| m.text()).collect();
    assert!(!html.contains("<script src=\"/static/numbers"), "no script needed");
    assert_eq!(
        doc.select(&sel("#table-nights tbody tr")).count(),
        3,
        "a table row per night beside the charts"
    );
    assert!(body.contains("33.3%"), "attendance");
    let figure = |k: &str| {
        doc.select(&sel(&format!("[data-figure=\"{k}\"]")))
            .next()
            .map(|e| e.text().collect::<String>())
            .unwrap_or_default()
    };
    assert_eq!(figure("visitors"), "4");
    assert_eq!(figure("complaints"), "3");
    assert_eq!(figure("leverage"), "7.00");
    assert_eq!(figure("subsidy"), "¥20.00");
    // A bad range on the page is a 422 that says why.
    let r = admin
        .get(app.url("/official/numbers?range=custom&from=2026-11-09&to=2026-11-08"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn admins_browse_filter_and_export_the_audit_trail_and_see_the_chain_verify() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in("nanan", "admin").await;
    let r = admin.get(app.url("/admin/audit")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let status = doc.select(&sel("#chain-status")).next().unwrap();
    assert_eq!(status.value().attr("data-ok"), Some("true"), "{}", status.html());
    let rows: Vec<_> = doc.select(&sel("#audit-rows > tbody > tr")).collect();
    assert_eq!(rows.len(), 50, "a page of 50");
    let seqs: Vec<i64> = rows
        .iter()
        .map(|r| r.value().attr("data-seq").unwrap().parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
    assert!(doc.select(&sel("#audit-older")).next().is_some());

    // Filter by action prefix: only those actions; before/after shown.
    let r = admin.get(app.url("/admin/audit?action=market.")).send().await.unwrap();
    let html = r.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let actions: Vec<String> = doc
        .select(&sel("#audit-rows > tbody > tr"))
        .map(|r| r.value().attr("data-action").unwrap().to_string())
        .collect();
    assert!(!actions.is_empty());
    assert!(actions.iter().all(|a| a.starts_with("market.")), "{actions:?}");
    assert!(
        html.contains("<table class=\"changes\">"),
        "before and after, field by field"
    );

    // Older page continues where the first stopped.
    let last = *seqs.last().unwrap();
    let r = admin
        .get(app.url(&format!("/admin/audit?before={last}")))
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let first: i64 = doc
        .select(&sel("#audit-rows > tbody > tr"))
        .next()
        .unwrap()
        .value()
        .attr("data-seq")
        .unwrap()
        .parse()
        .unwrap();
    assert!(first < last);

    // Export: the same records as CSV.
    let r = admin
        .get(app.url("/admin/audit/csv?action=market."))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (header, rows) = parse_csv(&r.bytes().await.unwrap());
    assert_eq!(header[4], "action");
    assert_eq!(rows.len(), actions.len().max(rows.len()));
    assert!(rows.iter().all(|r| r[4].starts_with("market.")));

    // A bad date is refused; officials and vendors do not see the trail.
    let r = admin.get(app.url("/admin/audit?from=yesterday")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    for role in ["official", "vendor"] {
        let c = app.signed_in("nanan", role).await;
        assert_eq!(
            c.get(app.url("/admin/audit")).send().await.unwrap().status(),
            403,
            "{role}"
        );
        assert_eq!(
            c.get(app.url("/admin/audit/csv")).send().await.unwrap().status(),
            403,
            "{role}"
        );
    }

    // Another tenant's trail is not in this one's.
    let other: i64 = sqlx::query_scalar(
        "select count(*) from audit_log a join tenants t on t.id = a.tenant_id where t.slug = 'shangcheng'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(other > 0);
    let r = admin.get(app.url("/admin/audit/csv")).send().await.unwrap();
    let (_, all) = parse_csv(&r.bytes().await.unwrap());
    let own: i64 = sqlx::query_scalar(
        "select count(*) from audit_log a join tenants t on t.id = a.tenant_id where t.slug = 'nanan'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(all.len() as i64, own);
}

#[tokio::test]
async fn the_audit_page_says_when_the_chain_is_broken() {
    let app = TestApp::spawn().await;
    // The tenant's third record.
    let third: i64 = sqlx::query_scalar(
        "update audit_log set actor_label = 'someone else'
         where seq = (select seq from audit_log where tenant_id = (select id from tenants where slug = 'nanan')
                      order by seq offset 2 limit 1)
         returning seq",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let admin = app.signed_in("nanan", "admin").await;
    let html = admin
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc = scraper::Html::parse_document(&html);
    let status = doc
        .select(&scraper::Selector::parse("#chain-status").unwrap())
        .next()
        .unwrap();
    assert_eq!(status.value().attr("data-ok"), Some("false"));
    assert!(
        status
            .text()
            .collect::<String>()
            .contains(&format!("record {third} was altered"))
    );
}
