//! Many instances, one truth: three servers on one database behave as one server — limits hold
//! for the deployment, periodic work is done once, and a change through one is seen on the others.

use crate::helpers::TestApp;
use crate::supervision::{demo_stall, scan_colour};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

async fn three() -> (TestApp, TestApp, TestApp) {
    let a = TestApp::spawn().await;
    let b = a.beside(|_| {}).await;
    let c = a.beside(|_| {}).await;
    (a, b, c)
}

#[tokio::test]
async fn limits_hold_for_the_deployment_however_attempts_are_spread_over_instances() {
    let (a, b, c) = three().await;
    let (login, _) = a.password_of("nanan", "official");
    // 30 wrong passwords for one account, round robin: 5 tried, as on one instance.
    let mut tried = 0;
    let mut retry_after = Vec::new();
    for i in 0..30 {
        let app = [&a, &b, &c][i % 3];
        let r = app
            .client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"tenant": "nanan", "login": login, "password": format!("wrong-{i}")}))
            .send()
            .await
            .unwrap();
        match r.status().as_u16() {
            429 => retry_after.push(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap()),
            401 => tried += 1,
            other => panic!("{other}"),
        }
    }
    assert_eq!(tried, 5, "the account's five tries, whichever instance answered");
    assert!(retry_after.iter().all(|s| (1..=60).contains(s)), "{retry_after:?}");

    // SMS codes from one address to 30 numbers: the address's ten.
    let outbox = a.count("sms_outbox").await;
    let mut sent = 0;
    for i in 0..30 {
        let app = [&a, &b, &c][i % 3];
        let (s, body) = app
            .send_json(
                Method::POST,
                "/api/v1/t/nanan/shoppers/code",
                None,
                &json!({"phone": format!("1370000{:04}", 1000 + i)}),
            )
            .await;
        match s {
            204 => sent += 1,
            429 => {}
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(sent, 10);
    assert_eq!(a.count("sms_outbox").await - outbox, 10, "ten messages queued");
    // A shopper's device filing complaints round robin: the device's ten, as on one instance.
    let stall = demo_stall(&a).await;
    let phone = a.client();
    phone.get(a.url(&stall.path)).send().await.unwrap();
    let mut filed = 0;
    for i in 0..15 {
        let app = [&a, &b, &c][i % 3];
        let (s, body) = crate::scan::complain(
            app,
            &phone,
            &stall,
            &[
                ("category", "price_fraud"),
                ("description", &format!("标价10元实收15元，第{i}次")),
            ],
        )
        .await;
        match s {
            303 => filed += 1,
            429 => {}
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(filed, 10, "the device's ten complaints, whichever instance answered");

    // Nothing personal in the shared counts.
    let keys: Vec<Vec<u8>> = sqlx::query_scalar("select key from throttle_slots")
        .fetch_all(&a.owner)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    assert!(
        keys.iter()
            .all(|k| k.len() == 32 && !k.windows(4).any(|w| w == b"1370"))
    );
}

#[tokio::test]
async fn two_sweeps_at_the_same_moment_send_each_weekly_notice_once() {
    let (a, b, _c) = three().await;
    let now = a.state.ctx.clock.now();
    let weekly = |app: &TestApp| {
        let (db, keys) = (app.state.ctx.db.clone(), app.state.ctx.keys.clone());
        async move {
            nightmarket_services::insights::send_weekly(&db, &keys, now, 500)
                .await
                .unwrap()
        }
    };
    let before: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'weekly_insights'")
        .fetch_one(&a.owner)
        .await
        .unwrap();
    let sms_before = a.count("sms_outbox").await;
    let (x, y) = tokio::join!(weekly(&a), weekly(&b));
    let after: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'weekly_insights'")
        .fetch_one(&a.owner)
        .await
        .unwrap();
    assert!(x + y > 0, "the demo's stalls are due");
    assert_eq!((after - before) as usize, x + y, "each sent notice counted once");
    let duplicates: i64 = sqlx::query_scalar(
        "select count(*) - count(distinct (user_id, link, args ->> 'week')) from notifications where kind = 'weekly_insights'",
    )
    .fetch_one(&a.owner)
    .await
    .unwrap();
    assert_eq!(duplicates, 0);
    assert!(
        a.count("sms_outbox").await - sms_before <= (x + y) as i64,
        "no SMS twice"
    );
    // And the periodic job itself: one instance takes each period.
    let every = Duration::from_secs(300);
    let at = chrono::Utc::now();
    let run = |app: &TestApp| {
        let db = app.state.ctx.db.global().clone();
        async move {
            nightmarket_services::jobs::once_per_period(&db, "test-job", every, at, || async { Ok(()) })
                .await
                .unwrap()
        }
    };
    let (x, y) = tokio::join!(run(&a), run(&b));
    assert_eq!(x.is_some() as u8 + y.is_some() as u8, 1, "exactly one instance ran it");
}

#[tokio::test]
async fn a_change_through_one_instance_reaches_the_scan_pages_of_the_others_within_a_second() {
    let (a, b, c) = three().await;
    let stall = demo_stall(&a).await;
    let official = a.token("nanan", "official").await;
    // Every instance has the page cached first.
    for app in [&a, &b, &c] {
        assert_eq!(scan_colour(app, &stall.path).await, "green");
    }
    let mut worst = Duration::ZERO;
    for i in 0..20 {
        let (action, colour) = if i % 2 == 0 {
            ("suspend", "red")
        } else {
            ("restore", "green")
        };
        let via = [&a, &b, &c][i % 3];
        let body = if action == "suspend" {
            json!({"reason": "现场检查发现无证经营"})
        } else {
            json!({})
        };
        let (s, r) = via
            .send_json(
                Method::POST,
                &format!("/api/v1/t/nanan/codes/{}/{action}", stall.id),
                Some(&official),
                &body,
            )
            .await;
        assert_eq!(s, 200, "{r}");
        let changed = Instant::now();
        for other in [&a, &b, &c] {
            loop {
                if scan_colour(other, &stall.path).await == colour {
                    break;
                }
                assert!(
                    changed.elapsed() < Duration::from_secs(1),
                    "change {i} not seen within 1 s"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        worst = worst.max(changed.elapsed());
    }
    eprintln!("worst time for a change to reach every instance's scan page: {worst:?}");
}

#[tokio::test]
async fn an_officials_live_stream_on_one_instance_hears_a_notice_raised_on_another() {
    use crate::supervision::{event, feed_key, next_event, send_event};
    let (a, b, _c) = three().await;
    let stall = demo_stall(&a).await;
    let desk = b.signed_in("nanan", "official").await;
    let mut r = desk.get(b.url("/official/events")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let wait = Duration::from_secs(10);
    let mut buffer = String::new();
    assert_eq!(
        next_event(&mut r, &mut buffer, "ready", wait).await.as_deref(),
        Some("live")
    );
    let raised = Instant::now();
    let (s, _) = send_event(
        &a,
        "nanan",
        &feed_key(&a, "nanan"),
        chrono::Utc::now().timestamp(),
        &event("across-1", stall.vendor, "invalid"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let data = next_event(&mut r, &mut buffer, "notice", wait)
        .await
        .expect("the notice raised on instance A reaches the stream on instance B");
    assert!(data.contains("健康码"), "{data}");
    assert!(raised.elapsed() < Duration::from_secs(2), "{:?}", raised.elapsed());
}

#[tokio::test]
async fn voucher_claims_spread_over_three_instances_never_over_issue() {
    let (a, b, c) = three().await;
    let now = chrono::Utc::now();
    let id = crate::vouchers::campaign(&a, now - chrono::Duration::minutes(1), 100, 1).await;
    let people = crate::vouchers::shoppers(&a, "nanan", 200).await;
    let mut handles = Vec::new();
    for (i, (_, token)) in people.iter().enumerate() {
        for k in ["a", "b"] {
            let app = [&a, &b, &c][(i + k.len() * 7 + handles.len()) % 3];
            let (url, client, token, key) = (
                app.url(&format!("/api/v1/t/nanan/campaigns/{id}/claims")),
                app.client(),
                token.clone(),
                format!("{i}-{k}"),
            );
            handles.push(tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .header("idempotency-key", key)
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            }));
        }
    }
    let mut ok = 0;
    for h in handles {
        let s = h.await.unwrap();
        assert!(s < 500, "{s}");
        if s == 200 || s == 201 {
            ok += 1;
        }
    }
    let claimed: i64 =
        sqlx::query_scalar("select count(*) from vouchers where campaign_id = $1::uuid and shopper_id is not null")
            .bind(&id)
            .fetch_one(&a.owner)
            .await
            .unwrap();
    assert_eq!(claimed, 100);
    assert_eq!(ok, 100, "every voucher acknowledged once");
    let doubled: i64 = sqlx::query_scalar(
        "select count(*) from (select shopper_id from vouchers where campaign_id = $1::uuid and shopper_id is not null
                               group by shopper_id having count(*) > 1) x",
    )
    .bind(&id)
    .fetch_one(&a.owner)
    .await
    .unwrap();
    assert_eq!(doubled, 0);
}

#[tokio::test]
async fn two_instances_dispatching_sms_never_send_one_message_twice() {
    use axum::routing::post;
    use std::sync::{Arc, Mutex};
    // A gateway that records what it was asked to send.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let gateway = axum::Router::new().route(
        "/send",
        post({
            let seen = seen.clone();
            move |body: axum::Json<serde_json::Value>| async move {
                seen.lock().unwrap().push(format!("{} {}", body["to"], body["text"]));
                tokio::time::sleep(Duration::from_millis(5)).await;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gateway).await });
    let a = TestApp::spawn().await;
    sqlx::query("update sms_outbox set status = 'logged' where status = 'queued'")
        .execute(&a.owner)
        .await
        .unwrap();
    // Queue 40 messages, then two dispatchers drain the outbox at once.
    let outbox = a.count("sms_outbox").await;
    for i in 0..40 {
        let (s, _) = a
            .send_json(
                Method::POST,
                "/api/v1/t/shangcheng/shoppers/code",
                None,
                &json!({"phone": format!("1360000{:04}", 2000 + i)}),
            )
            .await;
        assert!(s == 204 || s == 429, "{s}");
    }
    let queued = a.count("sms_outbox").await - outbox;
    assert!(queued >= 10, "{queued}");
    // Two dispatchers, as two instances run them, each with its own connections.
    let b = a.beside(|_| {}).await;
    let sms = nightmarket_services::sms::Gateway::http(url.parse().unwrap(), None).unwrap();
    let one = nightmarket_services::sms::dispatch_with(&a.state.ctx, &sms);
    let two = nightmarket_services::sms::dispatch_with(&b.state.ctx, &sms);
    let (x, y) = tokio::join!(one, two);
    let (x, y) = (x.unwrap(), y.unwrap());
    let texts = seen.lock().unwrap().clone();
    let distinct: std::collections::HashSet<&String> = texts.iter().collect();
    assert_eq!(distinct.len(), texts.len(), "a message sent twice");
    assert_eq!(x + y, queued as usize, "each queued message handled once");
    assert_eq!(texts.len(), queued as usize);
}
