//! Consumption vouchers: campaigns, shoppers, and the claim under contention.

use crate::fixtures::{Redemption, RefusedRedemption, Shopper, Stall};
use crate::helpers::{Options, TestApp, Who};
use chrono::{DateTime, Duration, Utc};
use nightmarket_domain::tenant::TenantId;
use nightmarket_services::clock::Clock;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        configure: |c| c.clock = Clock::fixed(Utc::now()),
        app_max_connections: 8,
        ..Options::default()
    })
    .await
}

fn terms(start: DateTime<Utc>, total: i64, per_person: i64) -> Value {
    json!({
        "name": "夜市消费券 第一轮", "value_fen": 1000, "threshold_fen": 5000, "total": total,
        "per_person": per_person, "claim_start": start, "claim_end": start + Duration::hours(2),
        "use_days": 7
    })
}

/// A scheduled campaign whose claims open at `start`.
pub(crate) async fn campaign(app: &TestApp, start: DateTime<Utc>, total: i64, per_person: i64) -> String {
    let admin = app.token("nanan", "admin").await;
    let (s, c) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/campaigns",
            Some(&admin),
            &terms(start, total, per_person),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    let (s, c) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/campaigns/{id}/steps"),
            Some(&admin),
            &json!({"step": "schedule"}),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    id
}

/// `n` shoppers of a tenant, made directly, with their tokens.
pub(crate) async fn shoppers(app: &TestApp, tenant: &str, n: usize) -> Vec<(Uuid, String)> {
    let tid = app.tenant_id(tenant).await;
    let mut out = Vec::new();
    for i in 0..n {
        let shopper = Shopper::new(format!("test-{i}-{}", Uuid::new_v4()), "139****0000");
        shopper.insert(&app.owner, tid).await;
        let id = shopper.id;
        let token = app
            .state
            .ctx
            .shopper_keys
            .issue(TenantId(tid), id, "139****0000")
            .unwrap();
        out.push((id, token));
    }
    out
}

pub(crate) async fn claim(
    app: &TestApp,
    client: &reqwest::Client,
    campaign: &str,
    token: &str,
    key: &str,
) -> (u16, Value) {
    let r = client
        .post(app.url(&format!("/api/v1/t/nanan/campaigns/{campaign}/claims")))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn admins_make_schedule_and_fix_campaigns_and_nobody_else_can() {
    let app = app().await;
    let now = app.state.ctx.clock.now();
    let admin = app.token("nanan", "admin").await;
    let official = app.token("nanan", "official").await;
    // Bad terms: every problem at once, nothing written.
    let before = app.count("campaigns").await;
    let mut bad = terms(now + Duration::hours(1), 0, 0);
    bad["threshold_fen"] = json!(500);
    bad["use_days"] = Value::Null;
    let (s, body) = app
        .send_json(Method::POST, "/api/v1/t/nanan/campaigns", Some(&admin), &bad)
        .await;
    assert_eq!(s, 422, "{body}");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["threshold_fen", "total", "per_person", "use_days"]);
    app.ladder(
        Method::POST,
        "/api/v1/t/nanan/campaigns",
        &terms(now, 10, 1),
        &[
            (Who::Official("nanan"), 403),
            (Who::Vendor("nanan"), 403),
            (Who::Admin("shangcheng"), 404),
            (Who::Nobody, 401),
        ],
    )
    .await;
    assert_eq!(app.count("campaigns").await, before);

    // Scheduling makes every voucher; the terms may change until claims open, then not.
    let id = campaign(&app, now + Duration::hours(1), 50, 2).await;
    let made: i64 = sqlx::query_scalar("select count(*) from vouchers where campaign_id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(made, 50);
    let path = format!("/api/v1/t/nanan/campaigns/{id}");
    let (s, c) = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin),
            &terms(now + Duration::hours(1), 80, 2),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["state"], "scheduled");
    let made: i64 = sqlx::query_scalar("select count(*) from vouchers where campaign_id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(made, 80, "the vouchers follow the count before opening");
    app.state
        .config
        .clock
        .set(now + Duration::hours(1) + Duration::minutes(1));
    let (s, c) = app.get_json(&path, Some(&official)).await;
    assert_eq!((s, c["state"].as_str()), (200, Some("running")));
    let (s, body) = app
        .send_json(
            Method::PUT,
            &path,
            Some(&admin),
            &terms(now + Duration::hours(1), 90, 2),
        )
        .await;
    assert_eq!(s, 409, "{body}");
    let mut renamed = terms(now + Duration::hours(1), 80, 2);
    renamed["name"] = json!("夜市消费券 第一轮（更正）");
    let (s, _) = app.send_json(Method::PUT, &path, Some(&admin), &renamed).await;
    assert_eq!(s, 200, "the name may still change");
    // Pause, resume, end; nothing after the end.
    let steps = format!("{path}/steps");
    for (step, state) in [("pause", "paused"), ("resume", "running"), ("end", "ended")] {
        let (s, c) = app
            .send_json(Method::POST, &steps, Some(&admin), &json!({"step": step}))
            .await;
        assert_eq!((s, c["state"].as_str()), (200, Some(state)), "{step}: {c}");
    }
    let (s, _) = app
        .send_json(Method::POST, &steps, Some(&admin), &json!({"step": "resume"}))
        .await;
    assert_eq!(s, 409);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where subject_id = $1 and action like 'campaign.%'")
            .bind(&id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(audited, 7, "create, schedule, two updates, pause, resume, end");
}

#[tokio::test]
async fn a_shopper_signs_in_with_an_sms_code_and_claims_once_per_request_id() {
    let app = app().await;
    let now = app.state.ctx.clock.now();
    let id = campaign(&app, now + Duration::minutes(10), 10, 3).await;
    let client = app.client();
    let r = client
        .post(app.url("/api/v1/t/nanan/shoppers/code"))
        .json(&json!({"phone": "13700137000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let code = app.sms_code("137****7000").await;
    let r = client
        .post(app.url("/api/v1/t/nanan/shoppers/session"))
        .json(&json!({"phone": "13700137000", "code": "000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = client
        .post(app.url("/api/v1/t/nanan/shoppers/session"))
        .json(&json!({"phone": "13700137000", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let session: Value = r.json().await.unwrap();
    let token = session["token"].as_str().unwrap().to_string();
    assert_eq!(session["phone_masked"], "137****7000");

    // Before the window: 425 with Retry-After.
    let r = client
        .post(app.url(&format!("/api/v1/t/nanan/campaigns/{id}/claims")))
        .bearer_auth(&token)
        .header("idempotency-key", "a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 425);
    assert_eq!(r.headers()["retry-after"], "600");
    app.state.ctx.clock.set(now + Duration::minutes(11));
    // No request id, no token, another tenant's token.
    let r = client
        .post(app.url(&format!("/api/v1/t/nanan/campaigns/{id}/claims")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (s, _) = claim(&app, &app.client(), &id, "nonsense", "a").await;
    assert_eq!(s, 401);
    let (_, other) = shoppers(&app, "shangcheng", 1).await.remove(0);
    let (s, _) = claim(&app, &app.client(), &id, &other, "a").await;
    assert_eq!(s, 404);

    // The cookie works as well as the bearer token; a repeated id gets the same voucher.
    let (s, first) = claim(&app, &client, &id, &token, "req-1").await;
    assert_eq!(s, 201, "{first}");
    let (s, again) = claim(&app, &client, &id, &token, "req-1").await;
    assert_eq!(s, 200);
    assert_eq!(first["seq"], again["seq"]);
    // The limit of 3.
    for k in ["req-2", "req-3"] {
        let (s, _) = claim(&app, &client, &id, &token, k).await;
        assert_eq!(s, 201);
    }
    let (s, body) = claim(&app, &client, &id, &token, "req-4").await;
    assert_eq!((s, body["error"]["code"].as_str()), (409, Some("limit_reached")));
    let (s, mine) = app.get_json("/api/v1/t/nanan/shoppers/me/vouchers", Some(&token)).await;
    assert_eq!(s, 200);
    assert_eq!(mine.as_array().unwrap().len(), 3);
    assert_eq!(mine[0]["status"], "claimed");
    // After the window: closed.
    app.state.ctx.clock.set(now + Duration::hours(3));
    let (_, fresh) = shoppers(&app, "nanan", 1).await.remove(0);
    let (s, body) = claim(&app, &client, &id, &fresh, "late").await;
    assert_eq!((s, body["error"]["code"].as_str()), (409, Some("closed")));
}

#[tokio::test]
async fn two_thousand_concurrent_claims_for_two_hundred_vouchers_give_exactly_two_hundred() {
    let app = app().await;
    let now = app.state.ctx.clock.now();
    let id = campaign(&app, now - Duration::minutes(1), 200, 1).await;
    let people = shoppers(&app, "nanan", 400).await;
    let client = app.client();
    // Each person claims five times: three with their own ids and twice repeating the first.
    let mut handles = Vec::new();
    for (i, (_, token)) in people.iter().enumerate() {
        for k in ["a", "b", "c", "a", "a"] {
            let (app_url, token, client, id) = (app.url(""), token.clone(), client.clone(), id.clone());
            let key = format!("{i}-{k}");
            handles.push(tokio::spawn(async move {
                let r = client
                    .post(format!("{app_url}/api/v1/t/nanan/campaigns/{id}/claims"))
                    .bearer_auth(&token)
                    .header("idempotency-key", key.clone())
                    .send()
                    .await
                    .unwrap();
                let s = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                (token, key, s, body)
            }));
        }
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut acknowledged = std::collections::HashMap::<String, i64>::new();
    for h in handles {
        let (_, key, s, body) = h.await.unwrap();
        *statuses.entry(s).or_default() += 1;
        assert!(s < 500, "no 5xx in the rush: {s} {body}");
        if s == 200 || s == 201 {
            let seq = body["seq"].as_i64().unwrap();
            if let Some(prev) = acknowledged.insert(key.clone(), seq) {
                assert_eq!(prev, seq, "a repeated id got another voucher");
            }
        }
    }
    let claimed: i64 =
        sqlx::query_scalar("select count(*) from vouchers where campaign_id = $1::uuid and shopper_id is not null")
            .bind(&id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(claimed, 200, "{statuses:?}");
    let doubled: i64 = sqlx::query_scalar(
        "select count(*) from (select shopper_id from vouchers where campaign_id = $1::uuid and shopper_id is not null
                               group by shopper_id having count(*) > 1) x",
    )
    .bind(&id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(doubled, 0);
    // Every acknowledged voucher is in the database, held under that request id.
    let distinct: std::collections::HashSet<i64> = acknowledged.values().copied().collect();
    assert_eq!(distinct.len(), 200, "{statuses:?}");
    for (key, seq) in &acknowledged {
        let held: Option<String> =
            sqlx::query_scalar("select request_key from vouchers where campaign_id = $1::uuid and seq = $2")
                .bind(&id)
                .bind(*seq as i32)
                .fetch_one(&app.owner)
                .await
                .unwrap();
        assert!(held.unwrap().ends_with(&format!(":{key}")));
    }
    assert_eq!(statuses.get(&201).copied().unwrap_or(0), 200);
    assert!(statuses.get(&410).copied().unwrap_or(0) > 0, "{statuses:?}");
    // The campaign's count, kept by the batches side by side (one shard per connection), adds up.
    let admin = app.token("nanan", "admin").await;
    let (_, c) = app
        .get_json(&format!("/api/v1/t/nanan/campaigns/{id}"), Some(&admin))
        .await;
    assert_eq!(c["claimed"].as_i64(), Some(200), "{c}");
}

pub(crate) async fn redeem(app: &TestApp, token: &str, code: &str, bill_fen: i64, key: &str) -> (u16, Value) {
    let r = app
        .client()
        .post(app.url("/api/v1/t/nanan/redemptions"))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(&json!({"code": code, "bill_fen": bill_fen}))
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn vouchers_are_redeemed_at_a_trading_green_stall_once_and_may_be_reversed() {
    use crate::scan::check_in;
    use crate::supervision::{at, demo_stall, today};
    let app = app().await;
    let stall = demo_stall(&app).await;
    let code = stall.path[3..16].to_string();
    let night = today() + Duration::days(2);
    app.state.ctx.clock.set(at(night, "18:00"));
    let id = campaign(&app, at(night, "17:00"), 100, 2).await;
    let (shopper, token) = shoppers(&app, "nanan", 1).await.remove(0);
    let client = app.client();
    for k in ["x", "y"] {
        let (s, _) = claim(&app, &client, &id, &token, k).await;
        assert_eq!(s, 201);
    }
    let used = |app: &TestApp| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from vouchers where shopper_id = $1 and used_at is not null")
                .bind(shopper)
                .fetch_one(&owner)
                .await
                .unwrap()
        }
    };

    // Not checked in: refused and counted as an attempt.
    app.state.ctx.clock.set(at(night, "19:00"));
    let (s, body) = redeem(&app, &token, &code, 6800, "r0").await;
    assert_eq!(s, 409, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("签到"), "{body}");
    let attempts: i64 = sqlx::query_scalar("select count(*) from redemption_attempts where shopper_id = $1")
        .bind(shopper)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(attempts, 1);
    check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "19:30"));

    // Bad bills and a bill under the threshold (满50减10).
    for bill in [0, -5, 5_000_001] {
        let (s, _) = redeem(&app, &token, &code, bill, &format!("bad{bill}")).await;
        assert_eq!(s, 422, "{bill}");
    }
    let (s, body) = redeem(&app, &token, &code, 4999, "r1").await;
    assert_eq!(s, 409);
    assert!(body["error"]["message"].as_str().unwrap().contains("50.00"), "{body}");
    assert_eq!(used(&app).await, 0, "refusals use nothing");

    // 68.00 元: the voucher takes 10.00 off; repeating the request id changes nothing.
    let (s, r) = redeem(&app, &token, &code, 6800, "r2").await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (r["bill_fen"].as_i64(), r["value_fen"].as_i64(), r["pay_fen"].as_i64()),
        (Some(6800), Some(1000), Some(5800))
    );
    assert_eq!(r["verification"].as_str().unwrap().len(), 6);
    let (s, again) = redeem(&app, &token, &code, 6800, "r2").await;
    assert_eq!((s, &again["id"]), (200, &r["id"]));
    assert_eq!(used(&app).await, 1);
    // A complaint from this shopper's phone carries the night's redemption at this stall.
    let form = reqwest::multipart::Form::new()
        .text("category", "price_fraud")
        .text("description", "用券后实付金额不对");
    let filed = app
        .client()
        .post(app.url(&stall.path.replacen('?', "/complain?", 1)))
        .header("cookie", format!("nm_shopper={token}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 303);
    let evidence: Value = sqlx::query_scalar("select evidence from complaints order by created_at desc limit 1")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(
        evidence["redemptions"][0]["verification"], r["verification"],
        "{evidence}"
    );
    // The vendor sees it tonight; another tenant's staff do not.
    let vendor = app.token("nanan", "vendor").await;
    let (s, list) = app
        .get_json(
            &format!("/api/v1/t/nanan/codes/{}/redemptions", stall.id),
            Some(&vendor),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["verification"], r["verification"]);
    let stranger = app.token("shangcheng", "official").await;
    let (s, _) = app
        .get_json(
            &format!("/api/v1/t/shangcheng/codes/{}/redemptions", stall.id),
            Some(&stranger),
        )
        .await;
    assert_eq!(s, 404);
    // The stall's live list is its vendor's (and staff's): not another tenant's people.
    for who in [&stranger, &app.token("shangcheng", "admin").await] {
        let r = app
            .client()
            .get(app.url(&format!("/vendor/stalls/{}/redemptions/live", stall.id)))
            .bearer_auth(who)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }

    // Two at once with the second voucher: one wins; nothing is used twice.
    let (a, b) = tokio::join!(
        redeem(&app, &token, &code, 5000, "c1"),
        redeem(&app, &token, &code, 5000, "c2")
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    assert_eq!(used(&app).await, 2);
    let (s, _) = redeem(&app, &token, &code, 9000, "r3").await;
    assert_eq!(s, 409, "no voucher left");

    // An official reverses the first, with a reason; the voucher is usable again.
    let official = app.token("nanan", "official").await;
    let rid = r["id"].as_str().unwrap();
    let path = format!("/api/v1/t/nanan/redemptions/{rid}/reversal");
    let (s, _) = app
        .send_json(Method::POST, &path, Some(&vendor), &json!({"reason": "误操作"}))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .send_json(Method::POST, &path, Some(&official), &json!({"reason": ""}))
        .await;
    assert_eq!(s, 422);
    let (s, body) = app
        .send_json(
            Method::POST,
            &path,
            Some(&official),
            &json!({"reason": "摊主误操作，顾客未消费"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert!(body["reversed_at"].is_string());
    let (s, _) = app
        .send_json(Method::POST, &path, Some(&official), &json!({"reason": "再来一次"}))
        .await;
    assert_eq!(s, 409);
    assert_eq!(used(&app).await, 1);

    // Officials find the other one on their page by its verification number and reverse it there.
    let (other, digits, business): (Uuid, String, chrono::NaiveDate) = sqlx::query_as(
        "select id, verification, business_date from redemptions
         where code_id = $1 and shopper_id = $2 and reversed_at is null",
    )
    .bind(stall.id)
    .bind(shopper)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let list = format!("/official/vouchers/redemptions?night={business}&verification={digits}");
    let official_web = app.signed_in("nanan", "official").await;
    let html = official_web
        .get(app.url(&list))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("data-redemption=\"{other}\"")), "{html}");
    let reverse_path = format!("/official/vouchers/redemptions/{other}/reverse");
    let reverse_form = |reason: &'static str| {
        vec![
            ("reason", reason.to_string()),
            ("night", business.to_string()),
            ("verification", digits.clone()),
        ]
    };
    let r = official_web
        .post(app.url(&reverse_path))
        .form(&reverse_form("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("class=\"field-error\""));
    assert_eq!(used(&app).await, 1, "a short reason reverses nothing");
    let vendor_web = app.signed_in("nanan", "vendor").await;
    let r = vendor_web
        .post(app.url(&reverse_path))
        .form(&reverse_form("顾客退货"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(vendor_web.get(app.url(&list)).send().await.unwrap().status(), 403);
    let stranger_web = app.signed_in("shangcheng", "official").await;
    let r = stranger_web
        .post(app.url(&reverse_path))
        .form(&reverse_form("顾客退货"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(used(&app).await, 1, "nobody else reversed it");
    let r = official_web
        .post(app.url(&reverse_path))
        .form(&reverse_form("顾客退货，摊主同意"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(used(&app).await, 0);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'voucher.reverse' and subject_id = $1::text")
            .bind(other)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(audited, 1);
    // Back with the shopper, it is used again.
    let (s, body) = redeem(&app, &token, &code, 5000, "again").await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(used(&app).await, 1);

    // The stall turns red: refused. A market the campaign does not take: refused.
    sqlx::query("update codes set colour = 'red' where id = $1")
        .bind(stall.id)
        .execute(&app.owner)
        .await
        .unwrap();
    let (s, body) = redeem(&app, &token, &code, 6000, "r4").await;
    assert_eq!(s, 409, "{body}");
    sqlx::query("update codes set colour = 'green' where id = $1")
        .bind(stall.id)
        .execute(&app.owner)
        .await
        .unwrap();
    sqlx::query("update campaigns set market_ids = array[gen_random_uuid()] where id = $1::uuid")
        .bind(&id)
        .execute(&app.owner)
        .await
        .unwrap();
    let (s, body) = redeem(&app, &token, &code, 6000, "r5").await;
    assert_eq!(s, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("没有可在此摊位使用"),
        "{body}"
    );
    sqlx::query("update campaigns set market_ids = '{}' where id = $1::uuid")
        .bind(&id)
        .execute(&app.owner)
        .await
        .unwrap();
    // Expired: a week and a day later, nothing is usable.
    let later = night + Duration::days(8);
    check_in(&app, &stall, later).await;
    app.state.ctx.clock.set(at(later, "19:30"));
    let (s, _) = redeem(&app, &token, &code, 6000, "r6").await;
    assert_eq!(s, 409);
    let (_, mine) = app.get_json("/api/v1/t/nanan/shoppers/me/vouchers", Some(&token)).await;
    let statuses: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"used") && statuses.contains(&"expired"),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_waiting_page_asks_the_browser_to_come_back_instead_of_hammering() {
    let app = app().await;
    let now = app.state.ctx.clock.now();
    let id = campaign(&app, now + Duration::minutes(10), 10, 1).await;
    let html = app
        .client()
        .get(app.url(&format!("/t/nanan/vouchers/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.to_lowercase().contains("<script"), "no script on the rush page");
    let refresh: i64 = html
        .split("http-equiv=\"refresh\" content=\"")
        .nth(1)
        .expect("a refresh")
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (600..=720).contains(&refresh),
        "comes back at the opening, spread: {refresh}"
    );
    assert!(!html.contains("id=\"claim-form\""), "nothing to claim yet");
    // Drafts are not shown to shoppers.
    let admin = app.token("nanan", "admin").await;
    let (_, draft) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/campaigns",
            Some(&admin),
            &terms(now, 5, 1),
        )
        .await;
    let r = app
        .client()
        .get(app.url(&format!("/t/nanan/vouchers/{}", draft["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Nor is one tenant's campaign under another tenant's address.
    let r = app
        .client()
        .get(app.url(&format!("/t/shangcheng/vouchers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn settlement_sums_what_each_vendor_took_and_the_numbers_come_out_in_fen() {
    use crate::scan::check_in;
    use crate::supervision::{at, demo_stall, today};
    let app = app().await;
    let stall = demo_stall(&app).await;
    let code = stall.path[3..16].to_string();
    let night = today() + Duration::days(2);
    app.state.ctx.clock.set(at(night, "18:00"));
    let id = campaign(&app, at(night, "17:00"), 10, 1).await;
    let people = shoppers(&app, "nanan", 3).await;
    let client = app.client();
    for (i, (_, token)) in people.iter().enumerate() {
        let (s, _) = claim(&app, &client, &id, token, &format!("k{i}")).await;
        assert_eq!(s, 201);
    }
    // The campaign's page (one call of shopper_campaign): what is left, and what this shopper holds.
    let page = |cookie: Option<String>| {
        let mut r = client.get(app.url(&format!("/t/nanan/vouchers/{id}")));
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        async move { r.send().await.unwrap().text().await.unwrap() }
    };
    let html = page(Some(format!("nm_shopper={}", people[0].1))).await;
    assert!(html.contains("id=\"left\">7 / 10"), "{html}");
    assert!(html.contains("id=\"held-here\""), "{html}");
    let html = page(None).await;
    assert!(
        html.contains("id=\"left\">7 / 10") && !html.contains("id=\"held-here\""),
        "{html}"
    );
    let official = app.token("nanan", "official").await;
    let total_subsidy = |f: &Value| f.as_array().unwrap().last().unwrap()["subsidy_fen"].as_i64().unwrap();
    let (_, before) = app.get_json("/api/v1/t/nanan/voucher-figures", Some(&official)).await;
    check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "20:00"));
    for ((_, token), bill) in people.iter().zip([6800, 5000, 12345]) {
        let (s, body) = redeem(&app, token, &code, bill, "pay").await;
        assert_eq!(s, 201, "{body}");
    }
    // One is reversed: it no longer counts.
    let rid: Uuid = sqlx::query_scalar("select id from redemptions where bill_fen = 12345")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/redemptions/{rid}/reversal"),
            Some(&official),
            &json!({"reason": "顾客退单"}),
        )
        .await;
    assert_eq!(s, 200);

    let (s, st) = app
        .get_json(&format!("/api/v1/t/nanan/campaigns/{id}/stats"), Some(&official))
        .await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(
        (st["issued"].as_i64(), st["claimed"].as_i64(), st["used"].as_i64()),
        (Some(10), Some(3), Some(2))
    );
    assert_eq!(
        (st["subsidy_fen"].as_i64(), st["consumption_fen"].as_i64()),
        (Some(2000), Some(11800))
    );
    assert_eq!(st["leverage"], "5.90");
    // The campaign's own counts (kept by the database as vouchers change) agree, the reversal too.
    let (s, c) = app
        .get_json(&format!("/api/v1/t/nanan/campaigns/{id}"), Some(&official))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!((c["claimed"].as_i64(), c["used"].as_i64()), (Some(3), Some(2)));
    assert_eq!(st["claim_curve"].as_array().unwrap().len(), 30);
    let (_, figures) = app.get_json("/api/v1/t/nanan/voucher-figures", Some(&official)).await;
    assert_eq!(
        total_subsidy(&figures) - total_subsidy(&before),
        2000,
        "the demo's own redemptions aside"
    );

    let admin = app.token("nanan", "admin").await;
    let path = format!("/api/v1/t/nanan/settlement?from={night}&to={night}");
    // Admins settle.
    app.ladder(Method::GET, &path, &json!(null), &[(Who::Token(&official), 403)])
        .await;
    let (s, days) = app.get_json(&path, Some(&admin)).await;
    assert_eq!(s, 200, "{days}");
    let day = &days[0];
    assert_eq!(
        (
            day["vouchers"].as_i64(),
            day["subsidy_fen"].as_i64(),
            day["consumption_fen"].as_i64()
        ),
        (Some(2), Some(2000), Some(11800))
    );
    assert!(day["settled_at"].is_null());
    let settle = format!("/api/v1/t/nanan/settlement/{}/{night}", stall.vendor);
    let (s, body) = app.send_json(Method::POST, &settle, Some(&admin), &json!({})).await;
    assert_eq!(s, 200, "{body}");
    assert!(body["settled_at"].is_string());
    let (s, _) = app.send_json(Method::POST, &settle, Some(&admin), &json!({})).await;
    assert_eq!(s, 409);
    let other = app.token("shangcheng", "admin").await;
    let (s, _) = app
        .send_json(
            Method::POST,
            &settle.replace("/nanan/", "/shangcheng/"),
            Some(&other),
            &json!({}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get_json(
            &format!(
                "/api/v1/t/nanan/settlement?from={night}&to={}",
                night - Duration::days(1)
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(s, 422);
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'settlement.settle'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn admins_run_campaigns_and_settlement_from_their_pages() {
    let app = app().await;
    let admin = app.signed_in("nanan", "admin").await;
    let form = |name: &'static str, value: &'static str| {
        vec![
            ("name", name),
            ("value_yuan", value),
            ("threshold_yuan", "50"),
            ("total", "300"),
            ("per_person", "1"),
            ("claim_start", "2031-05-01T12:00"),
            ("claim_end", "2031-05-01T14:00"),
            ("use_days", "7"),
        ]
    };
    let before = app.count("campaigns").await;
    let r = admin
        .post(app.url("/admin/vouchers"))
        .form(&form("五一消费券", "abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"form-errors\""));
    assert_eq!(app.count("campaigns").await, before);
    let r = admin
        .post(app.url("/admin/vouchers"))
        .form(&form("五一消费券", "10"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (id, value, start): (Uuid, i32, DateTime<Utc>) =
        sqlx::query_as("select id, value_fen, claim_start from campaigns where name = '五一消费券'")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(value, 1000);
    assert_eq!(start.to_rfc3339(), "2031-05-01T04:00:00+00:00", "12:00 in Shanghai");
    let r = admin
        .post(app.url(&format!("/admin/vouchers/{id}/step")))
        .form(&[("step", "schedule")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = admin
        .get(app.url("/admin/vouchers"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("data-campaign=\"{id}\"")) && page.contains("待开抢"),
        "{page}"
    );

    // Its own page changes the terms: where it is taken, a daily budget, a fixed use window.
    let market: Uuid = sqlx::query_scalar(
        "select m.id from markets m join tenants t on t.id = m.tenant_id where t.slug = 'nanan' limit 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let foreign: Uuid = sqlx::query_scalar(
        "select m.id from markets m join tenants t on t.id = m.tenant_id where t.slug = 'shangcheng' limit 1",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let page_path = format!("/admin/vouchers/{id}");
    let page = admin
        .get(app.url(&page_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("value=\"2031-05-01T12:00\"") && page.contains("id=\"campaign-markets\""),
        "{page}"
    );
    let edit = |market: Uuid, use_days: &'static str, use_until: &'static str| {
        let mut f: Vec<(&str, String)> = form("五一消费券", "10")
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        f.retain(|(k, _)| *k != "use_days");
        f.extend([
            ("use_days", use_days.to_string()),
            ("use_until", use_until.to_string()),
            ("daily_budget_yuan", "500".to_string()),
            ("market_ids", market.to_string()),
            ("categories", "food".to_string()),
        ]);
        f
    };
    let terms = || async {
        sqlx::query_as::<_, (Vec<Uuid>, Vec<String>, Option<i64>, Option<i32>, Option<DateTime<Utc>>, i32)>(
            "select market_ids, categories, daily_budget_fen, use_days, use_until, value_fen from campaigns where id = $1",
        )
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };
    let untouched = terms().await;
    for (bad, field) in [
        (edit(market, "7", "2031-05-31T23:00"), "use_days"),
        (edit(foreign, "", "2031-05-31T23:00"), "market_ids"),
    ] {
        let r = admin.post(app.url(&page_path)).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422, "{field}");
        assert!(r.text().await.unwrap().contains("class=\"field-error\""), "{field}");
        assert_eq!(terms().await, untouched, "nothing written for a bad {field}");
    }
    let r = admin
        .post(app.url(&page_path))
        .form(&edit(market, "", "2031-05-31T23:00"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (markets, categories, budget, days, until, _) = terms().await;
    assert_eq!(
        (markets, categories, budget, days),
        (vec![market], vec!["food".to_string()], Some(50_000), None)
    );
    assert_eq!(until.unwrap().to_rfc3339(), "2031-05-31T15:00:00+00:00");
    // Another tenant's admin does not see it; an official may not change it.
    let stranger = app.signed_in("shangcheng", "admin").await;
    assert_eq!(stranger.get(app.url(&page_path)).send().await.unwrap().status(), 404);
    let official = app.signed_in("nanan", "official").await;
    let r = official
        .post(app.url(&page_path))
        .form(&edit(market, "", "2031-05-31T23:00"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Once claims open, the face value is fixed: refused with the reason, nothing written.
    app.state.ctx.clock.set("2031-05-01T04:30:00Z".parse().unwrap());
    let mut dearer = edit(market, "", "2031-05-31T23:00");
    dearer.retain(|(k, _)| *k != "value_yuan");
    dearer.push(("value_yuan", "20".to_string()));
    let r = admin.post(app.url(&page_path)).form(&dearer).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("id=\"form-errors\""));
    assert_eq!(terms().await.5, 1000);
    app.state.ctx.clock.set(Utc::now());

    // Settlement: the demo's finished round has redemptions three days ago.
    let page = admin
        .get(app.url("/admin/vouchers/settlement"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"settlement\""));
    let r = admin
        .get(app.url("/admin/vouchers/settlement.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = r.bytes().await.unwrap();
    assert!(body.starts_with(&[0xEF, 0xBB, 0xBF]), "a BOM for spreadsheets");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.starts_with("date,vendor_id,vendor,payee_holder,payee_bank,payee_account,stalls,vouchers,subsidy_yuan,consumption_yuan,settled_at"));
    assert!(text.lines().count() > 1, "{text}");
    let official = app.signed_in("nanan", "official").await;
    let r = official
        .get(app.url("/admin/vouchers/settlement.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn each_fraud_flag_is_raised_by_its_pattern_with_the_evidence() {
    use crate::supervision::demo_stall;
    let app = app().await;
    let stall = demo_stall(&app).await;
    let now = app.state.ctx.clock.now();
    let tid = app.tenant_id("nanan").await;
    let id = campaign(&app, now - Duration::minutes(1), 50, 10).await;
    let (a, a_token) = shoppers(&app, "nanan", 1).await.remove(0);
    // B's number is a vendor's (the blind index of an application's phone).
    let vendors_index: String = sqlx::query_scalar(
        "select phone_index from applications where tenant_id = $1 and phone_index is not null limit 1",
    )
    .bind(tid)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let b = Shopper::new(vendors_index, "138****0101");
    b.insert(&app.owner, tid).await;
    let b = b.id;
    let b_token = app
        .state
        .ctx
        .shopper_keys
        .issue(TenantId(tid), b, "138****0101")
        .unwrap();
    let client = app.client();
    for k in 0..4 {
        let (s, _) = claim(&app, &client, &id, &a_token, &format!("a{k}")).await;
        assert_eq!(s, 201);
    }
    let (s, _) = claim(&app, &client, &id, &b_token, "b0").await;
    assert_eq!(s, 201);
    // A uses four vouchers at one stall within four minutes, each just over 50 元; B uses one.
    let seqs: Vec<(i32, Uuid)> = sqlx::query_as(
        "select seq, shopper_id from vouchers where campaign_id = $1::uuid and shopper_id is not null order by seq",
    )
    .bind(&id)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut a_bills = [5100, 5200, 5050, 5300].into_iter();
    let at_stall = Stall {
        tenant: tid,
        code: stall.id,
        vendor: stall.vendor,
        market: Some(stall.market),
    };
    for (i, (seq, who)) in seqs.iter().enumerate() {
        let bill = if *who == a { a_bills.next().unwrap() } else { 9900 };
        Redemption {
            campaign: id.parse().unwrap(),
            seq: *seq,
            shopper: *who,
            night: now.date_naive(),
            bill_fen: bill,
            request_key: format!("{who}:crafted-{i}"),
            at: Some(now + Duration::minutes(i as i64)),
            reversed: false,
        }
        .insert(&app.owner, &at_stall)
        .await;
    }
    RefusedRedemption {
        shopper: a,
        bill_fen: 6000,
        reason: "redeem.not_trading",
    }
    .insert(&app.owner, &at_stall)
    .await;
    // Five redemptions within five minutes is a burst when the tenant says more than four is.
    sqlx::query("update tenant_settings set flag_burst_count = 4 where tenant_id = $1")
        .bind(tid)
        .execute(&app.owner)
        .await
        .unwrap();

    let official = app.token("nanan", "official").await;
    let (s, flags) = app
        .get_json(&format!("/api/v1/t/nanan/voucher-flags?campaign={id}"), Some(&official))
        .await;
    assert_eq!(s, 200, "{flags}");
    let of = |kind: &str| -> Vec<Value> {
        flags
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == kind)
            .cloned()
            .collect()
    };
    let pair = of("same_pair");
    assert_eq!(pair.len(), 1, "{flags}");
    assert_eq!(pair[0]["count"], 4);
    assert_eq!(pair[0]["evidence"].as_array().unwrap().len(), 4);
    let near = of("near_threshold");
    assert_eq!(near.len(), 2, "by shopper and by stall: {near:?}");
    assert!(near.iter().all(|f| f["count"] == 4));
    let vendor = of("vendor_shopper");
    assert_eq!((vendor.len(), vendor[0]["shopper"].as_str()), (1, Some("138****0101")));
    let refused = of("refused_attempts");
    assert!(
        refused
            .iter()
            .any(|f| f["code_id"] == stall.id.to_string() && f["reasons"][0] == "redeem.not_trading")
    );
    let burst = of("burst");
    assert_eq!((burst.len(), burst[0]["count"].as_i64()), (1, Some(5)));
    let v = app.token("nanan", "vendor").await;
    let (s, _) = app.get_json("/api/v1/t/nanan/voucher-flags", Some(&v)).await;
    assert_eq!(s, 403);
    let page = app
        .signed_in("nanan", "official")
        .await
        .get(app.url("/official/vouchers/flags"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-kind=\"burst\"") && page.contains("用券手机号属于本区摊主"),
        "{page}"
    );
}

/// A redemption without an Idempotency-Key is refused as the request's own fault (400), before
/// the stall's code is looked up, and nothing is written.
#[tokio::test]
async fn a_redemption_without_an_idempotency_key_is_a_bad_request() {
    let app = app().await;
    let (_, token) = shoppers(&app, "nanan", 1).await.remove(0);
    let count = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from redemptions")
            .fetch_one(&app.owner)
            .await
            .unwrap()
    };
    let before = count().await;
    for code in ["nosuchcode000", ""] {
        let r = app
            .client()
            .post(app.url("/api/v1/t/nanan/redemptions"))
            .bearer_auth(&token)
            .json(&json!({"code": code, "bill_fen": 5000}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{body}");
    }
    let (s, _) = redeem(&app, &token, "nosuchcode000", 5000, "k-1").await;
    assert_eq!(s, 404, "with a key, an unknown code is not found");
    assert_eq!(count().await, before, "nothing written");
}
