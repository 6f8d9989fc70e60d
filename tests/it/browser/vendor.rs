//! A vendor's pages in a real browser: the journey from sign-up to a complaint answered, insights
//! and the credit record, a goods declaration.

use super::*;

/// The vendor's journey through the pages only, on a phone: sign up, apply with documents and the
/// phone's position, get the operating code once approved, check in at the stall and leave, and
/// answer a shopper's complaint. The official's approval and the shopper's complaint are set up
/// through HTTP.
#[tokio::test]
async fn the_vendors_journey_sign_up_apply_get_the_code_check_in_answer_a_complaint() {
    use crate::applications::{NEAR, png, valid_id};
    use crate::supervision::{app_with_clock, at, stall_at, today};
    let Some(browser) = browser(Window::Phone).await else {
        return;
    };
    let app = app_with_clock().await;
    let c = &browser.client;

    // Sign up with a mobile number and the code sent to it.
    c.goto(&app.url("/t/nanan/signup")).await.unwrap();
    fill(c, "#phone", "13712340001").await;
    click(c, "form[action='/t/nanan/signup'] button[type=submit]").await;
    wait_for_text(c, "#code-sent", "137****0001").await;
    checkpoint(c, "vendor", "01-signup-code-sent").await;
    let code = app.sms_code("137****0001").await;
    fill(c, "#code", &code).await;
    fill(c, "#password", "夜市摊主2026").await;
    fill(c, "#confirm_password", "夜市摊主2026").await;
    click(c, "form[action='/t/nanan/signup/verify'] button[type=submit]").await;
    wait_for_path(c, "/vendor").await;
    checkpoint(c, "vendor", "02-home").await;

    // Apply to the main market.
    click(c, "a[href='/vendor/apply']").await;
    wait_for_path(c, "/vendor/apply").await;
    click(c, &format!("a[href='/vendor/apply/{}']", app.market_id("nanan"))).await;
    fill(c, "#stall_name", "王记冰粉").await;
    c.find(Locator::Css("#category"))
        .await
        .unwrap()
        .select_by_value("food")
        .await
        .unwrap();
    fill(c, "#goods", "手搓冰粉、凉糕").await;
    fill(c, "#real_name", "王小二").await;
    fill(c, "#id_number", &valid_id(77)).await;
    fill(c, "#phone", "13712340001").await;
    fill(c, "#food_licence_no", "JY15001080099887").await;
    set_value(c, "food_licence_expires", "2030-06-30").await;
    fill(c, "#health_cert_no", "JK2026-0777").await;
    set_value(c, "health_cert_expires", "2030-01-31").await;
    click(c, "form[action^='/vendor/apply/'] button[type=submit]").await;
    wait_for_text(c, ".notice", "已保存").await;
    checkpoint(c, "vendor", "03-application-saved").await;

    // Photos of the documents, from the phone's files.
    let photo = std::env::temp_dir().join(format!("nm-photo-{}.png", uuid::Uuid::new_v4().simple()));
    std::fs::write(&photo, png()).unwrap();
    for (n, kind) in ["id_card", "food_licence", "health_cert"].into_iter().enumerate() {
        c.find(Locator::Css("#kind"))
            .await
            .unwrap()
            .select_by_value(kind)
            .await
            .unwrap();
        c.find(Locator::Css("#file"))
            .await
            .unwrap()
            .send_keys(&photo.display().to_string())
            .await
            .unwrap();
        click(c, "form[enctype='multipart/form-data'] button[type=submit]").await;
        // The notice reads the same after every upload: wait for this upload's row instead.
        let deadline = Instant::now() + Duration::from_secs(15);
        while c
            .find_all(Locator::Css(".documents li"))
            .await
            .map(|l| l.len())
            .unwrap_or(0)
            < n + 1
        {
            assert!(Instant::now() < deadline, "upload {kind} did not show");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait_for_text(c, ".notice", "已上传").await;
    }
    let _ = std::fs::remove_file(&photo);
    assert_eq!(c.find_all(Locator::Css(".documents li")).await.unwrap().len(), 3);

    // Submit at the market: the page asks the (mocked) browser for the position.
    mock_position(c, NEAR.0, NEAR.1).await;
    click(c, "#submit-application").await;
    wait_for_text(c, ".notice", "已提交").await;
    checkpoint(c, "vendor", "04-application-submitted").await;
    assert_eq!(attr(c, "#app-state", "data-state").await.as_deref(), Some("submitted"));
    let app_path = c.current_url().await.unwrap().path().to_string();
    let id = app_path.trim_start_matches("/vendor/applications/").to_string();
    let distance: f64 = sqlx::query_scalar("select position_distance_m from applications where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(distance < 100.0, "the mocked position was recorded ({distance} m)");

    // An official approves it (the official's own journey is its own test).
    crate::applications::approve(&app, &id).await;
    c.refresh().await.unwrap();
    wait_for_text(c, "#app-state", "已通过").await;
    assert_eq!(attr(c, "#app-state", "data-state").await.as_deref(), Some("approved"));
    checkpoint(c, "vendor", "05-application-approved").await;

    // The stall now has a green code, on the public market page too.
    c.goto(&app.url(&format!("/t/nanan/m/{}", app.market_id("nanan"))))
        .await
        .unwrap();
    let link = attr(c, "a[href^='/c/']:not([href=''])", "href").await;
    assert!(link.is_some());
    let stalls = texts(c, "tr[data-slot] td:nth-child(3) a").await;
    checkpoint(c, "public", "01-market-page").await;
    assert!(stalls.contains(&"王记冰粉".to_string()), "{stalls:?}");

    // The vendor's own stall page: the operating code, and checking in.
    let code_id: Uuid = sqlx::query_scalar("select id from codes where application_id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    c.goto(&app.url("/vendor")).await.unwrap();
    let page = format!("/vendor/stalls/{code_id}");
    click(c, &format!("a[href='{page}']")).await;
    wait_for_path(c, &page).await;
    let scan_path = attr(c, "a[href^='/c/']", "href")
        .await
        .expect("the operating code's link");
    let stall = stall_at(&app, &scan_path).await;
    let (lat, lng) = (stall.lat, stall.lng);
    app.state
        .config
        .clock
        .set(at(today() + chrono::Duration::days(6), "18:10"));
    c.refresh().await.unwrap();
    assert_eq!(attr(c, "#checkin-state", "data-state").await.as_deref(), Some("absent"));
    checkpoint(c, "vendor", "06-stall").await;

    // From across the river: refused, saying how far.
    mock_position(c, lat + 0.012, lng).await;
    click(c, "#check-in").await;
    wait_for_text(c, "#checkin-errors", "米").await;

    // At the stall.
    mock_position(c, lat + 0.0003, lng - 0.0002).await;
    click(c, "#check-in").await;
    wait_for_text(c, "#stall-notice", "打卡成功").await;
    checkpoint(c, "vendor", "07-checked-in").await;
    assert_eq!(attr(c, "#checkin-state", "data-state").await.as_deref(), Some("open"));
    let (distance, late): (f64, bool) =
        sqlx::query_as("select distance_m, late from check_ins where code_id = $1 order by checked_in_at desc limit 1")
            .bind(code_id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(distance < 60.0, "the mocked position was used ({distance} m)");
    assert!(!late);

    // Leaving for the night.
    click(c, "#check-out").await;
    wait_for_text(c, "#stall-notice", "签退").await;
    assert_eq!(attr(c, "#checkin-state", "data-state").await.as_deref(), Some("left"));

    // A shopper complains about the stall; the vendor answers from the stall page.
    let (status, filed) = crate::scan::complain(
        &app,
        &app.client(),
        &stall,
        &[
            ("category", "short_weight"),
            ("description", "称重时秤盘上压着东西，一斤少了二两"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{filed}");
    let complaint: Uuid = sqlx::query_scalar("select id from complaints where code_id = $1")
        .bind(code_id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    c.refresh().await.unwrap();
    wait_for_text(c, &format!("[data-complaint='{complaint}']"), "称重").await;
    checkpoint(c, "vendor", "08-complaint-to-answer").await;
    fill(c, &format!("#answer-{complaint}"), "已更换电子秤，欢迎回来复秤").await;
    click(
        c,
        &format!("[data-complaint='{complaint}'] .answer-form button[type=submit]"),
    )
    .await;
    wait_for_text(c, &format!("[data-complaint='{complaint}'] blockquote"), "已更换电子秤").await;
    checkpoint(c, "vendor", "09-complaint-answered").await;
    browser.client.clone().close().await.ok();
}

#[tokio::test]
async fn a_vendor_reads_insights_on_a_phone_issues_a_credit_record_and_a_bank_checks_it() {
    let Some(browser) = browser(Window::Phone).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    let tenant = app.tenant_id("nanan").await;
    let stall: Uuid = sqlx::query_scalar(
        "select c.id from codes c join users u on u.tenant_id = c.tenant_id and u.id = c.vendor_id
         where c.tenant_id = $1 and u.role = 'vendor' and c.revoked_at is null and u.login = $2
         order by c.created_at limit 1",
    )
    .bind(tenant)
    .bind(app.login_key("nanan", "vendor").await)
    .fetch_one(&app.owner)
    .await
    .expect("the demo vendor's stall");
    sign_in(c, &app, "nanan", "vendor").await;
    wait_for_path(c, "/vendor").await;
    let page = format!("/vendor/stalls/{stall}");
    click(c, &format!("a[href='{page}']")).await;
    wait_for_path(c, &page).await;

    // Insights: suggestions (or the note that there are none), the comparison, charts.
    click(c, "#insights-link").await;
    wait_for_path(c, &format!("{page}/insights")).await;
    wait_for_text(c, "h1", "经营建议").await;
    assert!(c.find(Locator::Css("#suggestions")).await.is_ok());
    assert!(c.find(Locator::Css("svg#chart-scans title")).await.is_ok());
    let rows = texts(c, "#table-compare tbody tr").await;
    assert_eq!(rows.len(), 8, "{rows:?}");
    let wide: bool = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .expect("width")
        .as_bool()
        .unwrap_or(true);
    assert!(!wide, "the insights page is wider than the phone");

    // A credit record for a bank: trading and complaints only, for a week.
    c.goto(&app.url(&page)).await.expect("stall page");
    click(c, "#records-link").await;
    wait_for_path(c, "/vendor/records").await;
    for s in ["score", "inspections", "credentials", "vouchers"] {
        click(c, &format!("input[name='section'][value='{s}']")).await;
    }
    set_value(c, "days", "7").await;
    click(c, "#issue").await;
    wait_for_text(c, "#record-notice", "已生成").await;
    let code = texts(c, "#share-code").await.remove(0);
    assert!(code.starts_with("nanan-"), "{code}");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where tenant_id = $1 and action = 'credit_record.issue'")
            .bind(tenant)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(audited >= 1);

    // The bank types the code in on its own.
    let Some(bank) = self::browser(Window::Desktop).await else {
        return;
    };
    let b = &bank.client;
    b.goto(&app.url("/verify")).await.expect("verify page");
    fill(b, "#code", &code.to_lowercase()).await;
    click(b, "#verify-form button[type=submit]").await;
    wait_for_text(b, "#standing", "真实有效").await;
    assert!(b.find(Locator::Css("[data-section='trading']")).await.is_ok());
    assert!(b.find(Locator::Css("[data-section='complaints']")).await.is_ok());
    assert!(
        b.find(Locator::Css("[data-section='vouchers']")).await.is_err(),
        "not chosen"
    );

    // The vendor revokes it; the bank sees that on reload.
    click(c, "#revoke-confirm").await;
    click(c, "#revoke").await;
    wait_for_text(c, "#record-notice", "已撤销").await;
    b.refresh().await.expect("reload");
    wait_for_text(b, "#standing", "撤销").await;
    assert!(b.find(Locator::Css("[data-section='trading']")).await.is_err());
}

#[tokio::test]
async fn a_vendor_declares_a_delivery_on_a_phone_and_the_scan_page_shows_it() {
    let Some(browser) = browser(Window::Phone).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let c = &browser.client;
    let tenant = app.tenant_id("nanan").await;
    let (stall, code, kid, sig): (Uuid, String, String, String) = sqlx::query_as(
        "select c.id, c.code, c.kid, c.signature from codes c join users u on u.tenant_id = c.tenant_id and u.id = c.vendor_id
         where c.tenant_id = $1 and u.login = $2 and c.revoked_at is null and c.category = 'food'
         order by c.created_at limit 1",
    )
    .bind(tenant)
    .bind(app.login_key("nanan", "vendor").await)
    .fetch_one(&app.owner)
    .await
    .expect("the demo vendor's food stall");
    sign_in(c, &app, "nanan", "vendor").await;
    wait_for_path(c, "/vendor").await;
    c.goto(&app.url(&format!("/vendor/stalls/{stall}")))
        .await
        .expect("stall page");
    click(c, "#goods-link").await;
    wait_for_path(c, "/vendor/goods").await;
    // Neither a batch number nor a photo: refused, saying what is missing.
    fill(c, "#supplier", "渝鲜冷链配送").await;
    fill(c, "#place", "重庆市綦江区").await;
    click(c, "#declare").await;
    wait_for_text(c, "#goods-errors", "批次号").await;
    fill(c, "#batch", "QJ-20261121").await;
    click(c, "#declare").await;
    wait_for_text(c, "#goods-notice", "已申报").await;
    let rows = texts(c, "#goods-history tbody tr").await;
    assert!(rows.first().is_some_and(|r| r.contains("重庆市綦江区")), "{rows:?}");

    // A shopper's phone scanning the stall's code sees the declaration.
    let path = nightmarket_domain::code::code_path(&code, &kid, &sig);
    c.goto(&app.url(&path)).await.expect("scan page");
    wait_for_text(c, "#goods-source", "进货来源已申报").await;
    wait_for_text(c, "#goods-source", "重庆市綦江区").await;
}
