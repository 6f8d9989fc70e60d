//! Ratings: only from a real visit, once a night, filtered and rate-limited.

use crate::scan::*;
use crate::supervision::{at, demo_stall, today};
use chrono::Duration;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn ratings_come_only_from_a_real_visit_once_a_night_filtered_and_rate_limited() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let night = today() + Duration::days(3);
    let shopper = app.client();
    let before = ratings_of(&app, stall.id).await;

    // Not checked in: refused, with the reason, and nothing written.
    app.state.ctx.clock.set(at(night, "19:00"));
    let (status, html) = rate(&app, &shopper, &stall, &[("stars", "5")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("未签到"), "{html}");
    let page = shopper
        .get(app.url(&action(&stall, "rate")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"rating-closed\""), "the form is not offered: {page}");
    assert_eq!(ratings_of(&app, stall.id).await, before);

    // Checked in, but before opening: refused too.
    check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "17:45"));
    let (status, html) = rate(&app, &shopper, &stall, &[("stars", "5")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("尚未开市"), "{html}");

    // Open: bad input is refused field by field, nothing written.
    app.state.ctx.clock.set(at(night, "19:00"));
    let long = "好".repeat(201);
    let (status, html) = rate(
        &app,
        &shopper,
        &stall,
        &[("stars", "9"), ("tags", "tasty"), ("comment", &long)],
    )
    .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("1–5") && html.contains("最多 200"), "{html}");
    assert_eq!(ratings_of(&app, stall.id).await, before);

    // The tenant's word filter (set by its admin) masks words in comments.
    let admin = app.as_admin("nanan").await;
    let (_, mut settings) = admin.get("/api/v1/t/nanan/settings").await;
    settings["word_filter"] = json!(["骗子"]);
    let (status, body) = admin.send(Method::PUT, "/api/v1/t/nanan/settings", &settings).await;
    assert_eq!(status, 200, "{body}");
    // A second page load hands this phone a second ticket, kept for below.
    let spare = app.rating_ticket(&shopper, &stall.path).await.expect("a ticket");
    let (status, _) = rate(
        &app,
        &shopper,
        &stall,
        &[
            ("stars", "2"),
            ("tags", "pricey"),
            ("tags", "slow"),
            ("comment", "老板是骗子，太贵"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (comment, tags): (String, Vec<String>) =
        sqlx::query_as("select comment, tags from ratings where code_id = $1 order by created_at desc limit 1")
            .bind(stall.id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(comment, "老板是＊＊，太贵");
    assert_eq!(tags, vec!["pricey", "slow"]);
    let scan = shopper
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(scan.contains("老板是＊＊，太贵"), "the new rating shows at once");

    // The same device again the same night: its page no longer offers the form, and a ticket it
    // got before is refused by the server too.
    let r = shopper
        .post(app.url(&action(&stall, "rate")))
        .form(&[("stars", "4"), ("ticket", spare.as_str())])
        .send()
        .await
        .unwrap();
    let (status, html) = (r.status().as_u16(), r.text().await.unwrap());
    assert_eq!(status, 409);
    assert!(html.contains("今晚已评价"), "{html}");
    // Another device: accepted; the next night the first device may rate again.
    let (status, _) = rate(&app, &app.client(), &stall, &[("stars", "4")]).await;
    assert_eq!(status, 303);
    assert_eq!(ratings_of(&app, stall.id).await, before + 2);

    // Checked out: refused.
    let vendor = app.token("nanan", "vendor").await;
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{}/check-out", stall.id),
            Some(&vendor),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let (status, html) = rate(&app, &app.client(), &stall, &[("stars", "4")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("已收摊"), "{html}");

    // A forged signature: not a stall at all.
    let forged = action(&stall, "rate").replace("&s=", "&s=AA");
    let r = app
        .client()
        .post(app.url(&forged))
        .form(&[("stars", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Many devices from one address: 429 with Retry-After, before anything is written.
    let next = night + Duration::days(1);
    check_in(&app, &stall, next).await;
    app.state.ctx.clock.set(at(next, "20:00"));
    let mut limited = None;
    for _ in 0..12 {
        let r = app
            .client()
            .post(app.url(&action(&stall, "rate")))
            .form(&[("stars", "3")])
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("the address limit answers 429");
    assert!(limited.headers().get("retry-after").is_some());

    // The vendor replies once; the reply shows on the scan page.
    let (s, list) = app
        .get_json(&format!("/api/v1/t/nanan/codes/{}/ratings", stall.id), Some(&vendor))
        .await;
    assert_eq!(s, 200, "{list}");
    let rating = list[0]["id"].as_str().unwrap().to_string();
    let reply = format!("/api/v1/t/nanan/ratings/{rating}/reply");
    let (s, body) = app
        .send_json(Method::POST, &reply, Some(&vendor), &json!({"reply": ""}))
        .await;
    assert_eq!(s, 422, "{body}");
    let (s, _) = app
        .send_json(Method::POST, &reply, Some(&vendor), &json!({"reply": "谢谢惠顾"}))
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .send_json(Method::POST, &reply, Some(&vendor), &json!({"reply": "再次感谢"}))
        .await;
    assert_eq!(s, 409, "one reply only");
    let scan = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(scan.contains("谢谢惠顾"));
    // Another tenant's official cannot see the stall's ratings nor moderate them.
    let other = app.token("shangcheng", "official").await;
    let (s, _) = app
        .get_json(
            &format!("/api/v1/t/shangcheng/codes/{}/ratings", stall.id),
            Some(&other),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/shangcheng/ratings/{rating}/moderation"),
            Some(&other),
            &json!({"hidden": true, "reason": "跨区操作"}),
        )
        .await;
    assert_eq!(s, 404);

    // An official hides the masked comment: kept, with the reason, audited, gone from the page.
    let masked: Uuid = sqlx::query_scalar("select id from ratings where comment like '老板是%'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let moderation = format!("/api/v1/t/nanan/ratings/{masked}/moderation");
    let (s, _) = app
        .send_json(
            Method::POST,
            &moderation,
            Some(&vendor),
            &json!({"hidden": true, "reason": "辱骂"}),
        )
        .await;
    assert_eq!(s, 403, "vendors do not moderate");
    let official = app.token("nanan", "official").await;
    let (s, _) = app
        .send_json(Method::POST, &moderation, Some(&official), &json!({"hidden": true}))
        .await;
    assert_eq!(s, 422, "a reason is needed");
    let (s, _) = app
        .send_json(
            Method::POST,
            &moderation,
            Some(&official),
            &json!({"hidden": true, "reason": "含辱骂用语"}),
        )
        .await;
    assert_eq!(s, 204);
    let (kept, reason): (String, String) = sqlx::query_as("select comment, hidden_reason from ratings where id = $1")
        .bind(masked)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!((kept.as_str(), reason.as_str()), ("老板是＊＊，太贵", "含辱骂用语"));
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'rating.hide'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let scan = app
        .client()
        .get(app.url(&stall.path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!scan.contains("老板是＊＊"), "hidden from the public");
}
