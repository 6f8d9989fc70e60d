//! Checking in at the stall: the area, the hours, once a night, never when red; who is open, late and absent.

use crate::helpers::Who;
use crate::supervision::*;
use chrono::{Duration, NaiveDate};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

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
