//! A shopper's pages in a real browser: scan, rate, complain, claim a voucher and pay with it.

use super::*;

/// The shopper's journey through the pages only, on a phone: scan a stall's code, rate it,
/// complain and follow the complaint to its outcome, claim a voucher and pay with it at the stall.
/// What the vendor and officials do in between is set up through HTTP (the vendor's live list of
/// voucher uses is watched in a second browser).
#[tokio::test]
async fn the_shoppers_journey_scan_rate_complain_claim_a_voucher_and_pay_with_it() {
    use crate::scan::check_in;
    use crate::supervision::{app_with_clock, at, demo_stall, today};
    let Some(browser) = browser(Window::Phone).await else {
        return;
    };
    let app = app_with_clock().await;
    let stall = demo_stall(&app).await;
    let night = today() + chrono::Duration::days(4);
    app.state.ctx.clock.set(at(night, "18:00"));
    let admin = app.token("nanan", "admin").await;
    let start = at(night, "17:00");
    let (s, c) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/t/nanan/campaigns",
            Some(&admin),
            &json!({"name": "夜市消费券 浏览器", "value_fen": 1000, "threshold_fen": 5000, "total": 20, "per_person": 1,
                    "claim_start": start, "claim_end": start + chrono::Duration::hours(4), "use_days": 3}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let campaign = c["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/t/nanan/campaigns/{campaign}/steps"),
            Some(&admin),
            &json!({"step": "schedule"}),
        )
        .await;
    assert_eq!(s, 200);
    check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "19:30"));
    let c = &browser.client;
    let code = &stall.path[3..16];

    // The scan page fits a 320 px screen without sideways scrolling.
    c.set_window_size(320, 700).await.expect("resize");
    c.goto(&app.url(&stall.path)).await.expect("scan page");
    wait_for_text(c, "#tonight", "正在营业").await;
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .expect("measure");
    assert!(overflow.as_i64().unwrap_or(1) <= 0, "sideways scroll of {overflow} px");
    c.set_window_size(390, 844).await.expect("resize");
    checkpoint(c, "shopper", "01-scan-page").await;

    // Rate: four stars, a tag, a comment.
    click(c, "#rate-link").await;
    wait_for_path(c, &format!("/c/{code}/rate")).await;
    checkpoint(c, "shopper", "02-rate-form").await;
    click(c, "input[name=stars][value='4']").await;
    click(c, "input[name=tags][value='friendly']").await;
    fill(c, "#comment", "老板很热情，味道不错").await;
    click(c, "#rate-form button[type=submit]").await;
    wait_for_path(c, &format!("/c/{code}")).await;
    wait_for_text(c, ".notice", "谢谢").await;
    wait_for_text(c, "#ratings", "老板很热情").await;
    checkpoint(c, "shopper", "03-rated").await;

    // Complain.
    click(c, "#complain-link").await;
    wait_for_path(c, &format!("/c/{code}/complain")).await;
    checkpoint(c, "shopper", "04-complaint-form").await;
    c.find(Locator::Css("#category"))
        .await
        .expect("category")
        .select_by_value("short_weight")
        .await
        .expect("choose");
    fill(c, "#description", "称重时秤盘上压着东西，一斤少了二两").await;
    click(c, "#complain-form button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let tracking = loop {
        let url = c.current_url().await.expect("url");
        if let Some(t) = url.path().strip_prefix("/complaints/") {
            break t.to_string();
        }
        assert!(Instant::now() < deadline, "still at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_for_text(c, "#filed", "投诉已提交").await;
    assert_eq!(texts(c, "#tracking").await, vec![tracking.clone()]);
    assert_eq!(attr(c, "#state", "data-state").await.as_deref(), Some("open"));
    checkpoint(c, "shopper", "05-complaint-filed").await;

    let id: uuid::Uuid = sqlx::query_scalar("select id from complaints where tracking = $1")
        .bind(&tracking)
        .fetch_one(&app.owner)
        .await
        .unwrap();

    // The vendor answers it (the vendor's pages are the vendor's journey).
    let vendor = app.token("nanan", "vendor").await;
    let (status, body) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/t/nanan/complaints/{id}/answer"),
            Some(&vendor),
            &json!({"answer": "已更换电子秤，欢迎回来复秤"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    // An official acknowledges it and resolves it as upheld (through the API: the
    // official's pages are the official's journey).
    let official = app.token("nanan", "official").await;
    for step in [
        json!({"action": "acknowledge"}),
        json!({"action": "resolve", "upheld": true, "note": "已现场核秤并责令整改"}),
    ] {
        let (status, body) = app
            .send_json(
                reqwest::Method::POST,
                &format!("/api/v1/t/nanan/complaints/{id}/steps"),
                Some(&official),
                &step,
            )
            .await;
        assert_eq!(status, 200, "{step}: {body}");
    }

    // The shopper reads the outcome and reopens it.
    c.refresh().await.expect("reload");
    wait_for_text(c, "#resolution", "责令整改").await;
    checkpoint(c, "shopper", "06-complaint-resolved").await;
    assert_eq!(attr(c, "#state", "data-state").await.as_deref(), Some("resolved"));
    // The 12345 stages: signed for and handled; closed for good only after the follow-up.
    wait_for_text(c, "#stages", "签收").await;
    assert_eq!(
        attr(c, "#stages li[data-stage=handling]", "class").await.as_deref(),
        Some("reached")
    );
    assert_eq!(attr(c, "#stages li[data-stage=closed]", "class").await, None);
    fill(c, "#reason", "第二天去还是缺斤短两").await;
    click(c, "#reopen-form button[type=submit]").await;
    wait_for_text(c, ".notice", "重新处理").await;
    assert_eq!(attr(c, "#state", "data-state").await.as_deref(), Some("open"));

    // Sign in with the SMS code from the campaign's page, then claim.
    c.goto(&app.url(&format!("/t/nanan/vouchers/{campaign}")))
        .await
        .expect("campaign page");
    assert_eq!(
        attr(c, "#campaign-state", "data-state").await.as_deref(),
        Some("running")
    );
    click(c, "#signin-to-claim").await;
    fill(c, "#phone", "13600136000").await;
    click(c, "#shopper-phone-form button[type=submit]").await;
    let code = app.sms_code("136****6000").await;
    fill(c, "#code", &code).await;
    click(c, "#shopper-code-form button[type=submit]").await;
    wait_for_path(c, &format!("/t/nanan/vouchers/{campaign}")).await;
    click(c, "#claim-form button[type=submit]").await;
    wait_for_text(c, "#claim-outcome", "领取成功").await;
    checkpoint(c, "shopper", "07-voucher-claimed").await;

    // The vendor's phone shows the stall page, with tonight's redemptions kept live.
    let vendor_browser = browser_or_skip(Window::Phone).await;
    let v = &vendor_browser.client;
    sign_in(v, &app, "nanan", "vendor").await;
    wait_for_path(v, "/vendor").await;
    let stall_page = format!("/vendor/stalls/{}", stall.id);
    v.goto(&app.url(&stall_page)).await.expect("stall page");
    let deadline = Instant::now() + Duration::from_secs(15);
    while attr(v, "html", "data-live-redemptions").await.as_deref() != Some("live") {
        assert!(
            Instant::now() < deadline,
            "the vendor's redemption list did not go live"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(texts(v, "#redemption-list tr").await.is_empty());

    // At the stall: 用券, a bill of 68 元, the verification number.
    c.goto(&app.url(&stall.path)).await.expect("scan page");
    click(c, "#voucher-link").await;
    fill(c, "#bill", "68").await;
    click(c, "#redeem-form button[type=submit]").await;
    wait_for_text(c, "#pay", "58.00").await;
    checkpoint(c, "shopper", "08-voucher-pay").await;
    let verification = texts(c, "#verification").await.join("");
    assert!(
        verification.len() == 6 && verification.bytes().all(|b| b.is_ascii_digit()),
        "{verification}"
    );
    let stored: String =
        sqlx::query_scalar("select verification from redemptions where code_id = $1 order by created_at desc limit 1")
            .bind(stall.id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(stored, verification, "the same number is stored");

    // The vendor sees the same number appear without reloading, and a reversal strikes it out.
    wait_for_text(v, "#redemption-list tr .verification", &verification).await;
    wait_for_text(v, "#redemption-list tr", "68.00").await;
    checkpoint(v, "vendor", "10-voucher-redemptions").await;
    let redemption: uuid::Uuid =
        sqlx::query_scalar("select id from redemptions where code_id = $1 and verification = $2")
            .bind(stall.id)
            .bind(&verification)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    let official = app.token("nanan", "official").await;
    let (s, body) = app
        .send_json(
            reqwest::Method::POST,
            &format!("/api/v1/t/nanan/redemptions/{redemption}/reversal"),
            Some(&official),
            &json!({"reason": "顾客退货，摊主同意"}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    wait_for_text(v, "#redemption-list tr.reversed", "已撤销").await;
    assert_eq!(
        texts(v, "#redemption-list tr").await.len(),
        1,
        "updated in place, not added"
    );
    vendor_browser.client.clone().close().await.ok();
    browser.client.clone().close().await.ok();
}
