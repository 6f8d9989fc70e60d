//! An admin's pages in a real browser: markets and slots, a voucher campaign, the audit trail.

use super::*;

#[tokio::test]
async fn an_admin_creates_a_market_with_two_slots_and_sees_it_on_the_public_page() {
    let Some(browser) = browser(Window::Desktop).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;

    sign_in(c, &app, "nanan", "admin").await;
    wait_for_path(c, "/admin").await;
    click(c, "a[href='/admin/markets/new']").await;
    wait_for_path(c, "/admin/markets/new").await;

    // First a mistake, to see the form say what is wrong and keep what was typed.
    fill(c, "#name", "长嘉汇夜市").await;
    fill(c, "#address", "重庆市南岸区南滨路长嘉汇").await;
    fill(c, "#center_lat", "29.5531").await;
    fill(c, "#center_lng", "106.5772").await;
    fill(c, "#radius_m", "0").await;
    fill(c, "#opens_at", "18:00").await;
    fill(c, "#closes_at", "01:00").await;
    click(c, "form.stack button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while texts(c, "#form-errors li").await.is_empty() {
        assert!(Instant::now() < deadline, "the form did not show its errors");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(texts(c, "#form-errors li").await[0].contains("10–5000"));
    let kept = c
        .find(Locator::Css("#name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("长嘉汇夜市"));

    fill(c, "#radius_m", "200").await;
    click(c, "form.stack button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let market_path = loop {
        let url = c.current_url().await.unwrap();
        if url.path().starts_with("/admin/markets/")
            && url.path() != "/admin/markets/new"
            && url.path() != "/admin/markets"
        {
            break url.path().to_string();
        }
        assert!(Instant::now() < deadline, "no market page after saving; at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    for code in ["A-01", "A-02"] {
        fill(c, "#code", code).await;
        c.find(Locator::Css("#category"))
            .await
            .unwrap()
            .select_by_value("food")
            .await
            .unwrap();
        click(c, "form[action$='/slots'] button[type=submit]").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !texts(c, "tr[data-slot] td:first-child")
            .await
            .contains(&code.to_string())
        {
            assert!(Instant::now() < deadline, "slot {code} did not appear");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(texts(c, "tr[data-slot] td:first-child").await, vec!["A-01", "A-02"]);

    // The public page, as anyone sees it.
    click(c, "a[href^='/t/nanan/m/']").await;
    let id = market_path.trim_start_matches("/admin/markets/");
    wait_for_path(c, &format!("/t/nanan/m/{id}")).await;
    assert_eq!(texts(c, "h1").await, vec!["长嘉汇夜市"]);
    assert_eq!(texts(c, "tr[data-slot] td:first-child").await, vec!["A-01", "A-02"]);
    assert!(texts(c, ".hours").await[0].starts_with("18:00–01:00"));
    c.goto(&app.url("/t/nanan")).await.unwrap();
    assert!(
        texts(c, ".market-card strong")
            .await
            .contains(&"长嘉汇夜市".to_string())
    );
    browser.client.clone().close().await.ok();
}

#[tokio::test]
async fn an_admin_sets_up_a_campaign_and_an_official_reverses_a_voucher_use() {
    let Some(browser) = browser(Window::Desktop).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    sign_in(c, &app, "nanan", "admin").await;
    wait_for_path(c, "/admin").await;
    c.goto(&app.url("/admin/vouchers")).await.expect("campaigns page");
    let before = app.count("campaigns").await;

    // A bad number is refused next to its field; nothing is made.
    fill(c, "#name", "国庆夜市消费券").await;
    fill(c, "#value_yuan", "十元").await;
    fill(c, "#threshold_yuan", "50").await;
    fill(c, "#total", "500").await;
    set_value(c, "claim_start", "2031-10-01T19:00").await;
    set_value(c, "claim_end", "2031-10-01T21:00").await;
    click(c, "#campaign-form button[type=submit]").await;
    wait_for_text(c, "#form-errors", "数字").await;
    assert_eq!(app.count("campaigns").await, before, "nothing made");

    // Fixed: food stalls only, a daily budget; scheduled from its own page.
    fill(c, "#value_yuan", "10").await;
    fill(c, "#daily_budget_yuan", "2000").await;
    click(c, "#campaign-categories input[value=food]").await;
    click(c, "#campaign-form button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let id: uuid::Uuid = loop {
        let found: Option<uuid::Uuid> = sqlx::query_scalar("select id from campaigns where name = '国庆夜市消费券'")
            .fetch_optional(&app.owner)
            .await
            .unwrap();
        if let Some(id) = found {
            break id;
        }
        assert!(Instant::now() < deadline, "the campaign was not made");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    wait_for_path(c, &format!("/admin/vouchers/{id}")).await;
    assert_eq!(attr(c, "#campaign-state", "data-state").await.as_deref(), Some("draft"));
    assert_eq!(
        attr(c, "#campaign-categories input[value=food]", "checked")
            .await
            .as_deref(),
        Some("true")
    );
    click(c, "#step-schedule").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while attr(c, "#campaign-state", "data-state").await.as_deref() != Some("scheduled") {
        assert!(Instant::now() < deadline, "not scheduled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (budget, categories, vouchers): (Option<i64>, Vec<String>, i64) = sqlx::query_as(
        "select c.daily_budget_fen, c.categories, (select count(*) from vouchers v where v.campaign_id = c.id)
         from campaigns c where c.id = $1",
    )
    .bind(id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        (budget, categories, vouchers),
        (Some(200_000), vec!["food".to_string()], 500)
    );

    // Settlement: the demo's finished round left vendor-days to pay; one is marked paid.
    c.goto(&app.url("/admin/vouchers/settlement"))
        .await
        .expect("settlement page");
    // Paid days show when; the others a button.
    let unpaid = texts(c, "#settlement tbody form button").await.len();
    let settled = app.count("settlements").await;
    assert!(unpaid >= 1, "{:?}", texts(c, "#settlement tbody tr").await);
    click(c, "#settlement tbody form button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while texts(c, "#settlement tbody form button").await.len() != unpaid - 1 {
        assert!(Instant::now() < deadline, "the vendor-day was not marked paid");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.count("settlements").await, settled + 1);
    browser.client.clone().close().await.ok();

    // An official looks a use up by its verification number and reverses it, with a reason.
    let Some(official) = self::browser(Window::Desktop).await else {
        return;
    };
    let o = &official.client;
    sign_in(o, &app, "nanan", "official").await;
    wait_for_path(o, "/official").await;
    // The fraud flags show the demo's bills just over the threshold; the evidence links to the use.
    click(o, "a[href='/official/vouchers/flags']").await;
    wait_for_path(o, "/official/vouchers/flags").await;
    let evidence = "#flags li[data-kind=near_threshold] a[href^='/official/vouchers/redemptions']";
    wait_for_text(o, "#flags li[data-kind=near_threshold]", "元").await;
    let verification = texts(o, evidence).await.into_iter().next().expect("an evidence link");
    click(o, evidence).await;
    wait_for_path(o, "/official/vouchers/redemptions").await;
    wait_for_text(o, "#redemptions li", &verification).await;
    let rid: uuid::Uuid = attr(o, "#redemptions li[data-redemption]", "data-redemption")
        .await
        .expect("a use")
        .parse()
        .unwrap();
    // The search box finds it again from the page itself.
    fill(o, "#verification", &verification).await;
    click(o, "#redemption-search button[type=submit]").await;
    let card = format!("#redemptions li[data-redemption='{rid}']");
    wait_for_text(o, &card, &verification).await;
    click(o, &format!("{card} summary")).await;
    fill(o, &format!("#reason-{rid}"), "顾客退货，摊主同意").await;
    click(o, &format!("{card} form button[type=submit]")).await;
    wait_for_text(o, "#redemptions-notice", "已撤销").await;
    wait_for_text(o, &format!("{card}.reversed"), "顾客退货").await;
    let reversed: Option<String> = sqlx::query_scalar("select reversed_reason from redemptions where id = $1")
        .bind(rid)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(reversed.as_deref(), Some("顾客退货，摊主同意"));
    official.client.clone().close().await.ok();
}

#[tokio::test]
async fn an_admin_filters_the_audit_trail_and_a_citizen_reads_a_markets_record_on_a_phone() {
    let Some(browser) = browser(Window::Desktop).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    sign_in(c, &app, "nanan", "admin").await;
    wait_for_path(c, "/admin").await;
    click(c, "a[href='/admin/audit']").await;
    wait_for_path(c, "/admin/audit").await;
    assert_eq!(attr(c, "#chain-status", "data-ok").await.as_deref(), Some("true"));
    fill(c, "#action", "market.").await;
    click(c, "#audit-filter button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !c.current_url().await.expect("url").as_str().contains("action=market.") {
        assert!(Instant::now() < deadline, "the filter did not apply");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let actions = texts(c, "#audit-rows tbody tr td code").await;
    assert!(
        !actions.is_empty() && actions.iter().all(|a| a.starts_with("market.")),
        "{actions:?}"
    );
    drop(browser);

    let Some(phone) = self::browser(Window::Phone).await else {
        return;
    };
    let p = &phone.client;
    p.goto(&app.url(&format!("/t/nanan/m/{}", app.market_id("nanan"))))
        .await
        .expect("market page");
    click(p, "#stats-link").await;
    wait_for_text(p, "h1", "经营公开数据").await;
    assert!(p.find(Locator::Css("svg#chart-stall-categories desc")).await.is_ok());
    let stalls = texts(p, "[data-figure='stalls']").await;
    assert!(
        stalls.first().is_some_and(|s| s.parse::<i64>().is_ok_and(|n| n > 0)),
        "{stalls:?}"
    );
    // Nothing on the page runs off a phone's screen.
    let wide: bool = p
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .expect("width")
        .as_bool()
        .unwrap_or(true);
    assert!(!wide, "the public record is wider than the phone");
}

#[tokio::test]
async fn a_vendor_asks_to_be_erased_on_a_phone_and_an_admin_enters_a_holiday_and_approves_it() {
    let Some(phone) = browser(Window::Phone).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let p = &phone.client;
    sign_in(p, &app, "nanan", "vendor").await;
    wait_for_path(p, "/vendor").await;
    // The copy of their data is one tap away; then the request.
    assert_eq!(
        attr(p, "#my-data", "href").await.as_deref(),
        Some("/vendor/my-data.json")
    );
    click(p, "section[aria-labelledby=erasure-h] details summary").await;
    fill(p, "#erasure-reason", "回老家了，不再出摊").await;
    click(p, "#erasure-form input[name=confirm]").await;
    click(p, "#erasure-form button[type=submit]").await;
    wait_for_text(p, "#home-notice", "注销申请已提交").await;
    assert_eq!(
        attr(p, "#erasure-state", "data-state").await.as_deref(),
        Some("pending")
    );
    checkpoint(p, "vendor", "10-erasure-asked").await;

    let Some(desk) = browser(Window::Desktop).await else {
        return;
    };
    let c = &desk.client;
    sign_in(c, &app, "nanan", "admin").await;
    wait_for_path(c, "/admin").await;
    // A holiday on the working-day calendar.
    c.goto(&app.url("/admin/settings#calendar")).await.expect("settings");
    set_value(c, "calendar-day", "2027-10-01").await;
    fill(c, "#calendar-name", "国庆节").await;
    click(c, "#calendar-form button[type=submit]").await;
    wait_for_text(c, "#calendar-days", "2027-10-01").await;
    // The request, by its stall, approved.
    click(c, "a[href='/admin/erasure']").await;
    wait_for_path(c, "/admin/erasure").await;
    wait_for_text(c, "body", "回老家了，不再出摊").await;
    checkpoint(c, "admin", "erasure-request").await;
    click(c, "li[data-request] button[value=approve]").await;
    wait_for_text(c, ".notice", "个人信息已删除").await;
    let vendor: uuid::Uuid = sqlx::query_scalar("select vendor_id from erasure_requests where state = 'approved'")
        .fetch_one(&app.owner)
        .await
        .expect("approved");
    let phone_left: Option<Vec<u8>> = sqlx::query_scalar("select phone_enc from users where id = $1")
        .bind(vendor)
        .fetch_one(&app.owner)
        .await
        .expect("user");
    assert!(phone_left.is_none());
    // The vendor's phone is signed out.
    p.refresh().await.expect("reload");
    let deadline = Instant::now() + Duration::from_secs(15);
    while p.current_url().await.expect("url").path() == "/vendor" {
        assert!(Instant::now() < deadline, "the erased vendor is still signed in");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
