//! An official's pages in a real browser: the journey from review to the numbers, live notices.

use super::*;

#[tokio::test]
async fn an_official_page_shows_a_live_notice_when_a_code_turns_red() {
    use crate::supervision::{demo_stall, event, feed_key, send_event};
    let Some(browser) = browser(Window::Desktop).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let stall = demo_stall(&app).await;
    let c = &browser.client;
    sign_in(c, &app, "nanan", "official").await;
    wait_for_path(c, "/official").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while attr(c, "html", "data-live-notices").await.as_deref() != Some("live") {
        assert!(Instant::now() < deadline, "the page did not go live");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let key = feed_key(&app, "nanan");
    let (status, _) = send_event(
        &app,
        "nanan",
        &key,
        chrono::Utc::now().timestamp(),
        &event("live-1", stall.vendor, "invalid"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    wait_for_text(c, "#live-notices li", "健康码系统").await;
    wait_for_text(c, "#live-notices li", "红码").await;
    assert_eq!(texts(c, "#live-count").await, vec!["2"]);
    // The notice links to the code, which shows why it is red.
    click(c, &format!("#live-notices a[href='/official/codes/{}']", stall.id)).await;
    wait_for_path(c, &format!("/official/codes/{}", stall.id)).await;
    assert_eq!(attr(c, "#code-colour", "data-colour").await.as_deref(), Some("red"));
    wait_for_text(c, "#causes li", "健康").await;
    // And the list keeps it after a reload.
    c.goto(&app.url("/official/notices")).await.unwrap();
    wait_for_text(c, "#notice-list li", "健康码系统").await;
    browser.client.clone().close().await.ok();
}

/// The official's journey through the pages only, on a desktop: review and approve a vendor's
/// application, inspect the new stall and deduct points, handle a shopper's complaint, and read the
/// numbers (switch the range, download a table). What other people do (the vendor applying, the
/// shopper complaining) is set up through HTTP.
#[tokio::test]
async fn the_officials_journey_review_inspect_handle_a_complaint_read_the_dashboard() {
    use crate::applications::submitted_application;
    use crate::supervision::demo_stall;
    let Some(browser) = browser(Window::Desktop).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (_vendor, id) = submitted_application(&app, "13712340002", 78).await;
    let stall = demo_stall(&app).await;
    let (status, filed) = crate::scan::complain(
        &app,
        &app.client(),
        &stall,
        &[("category", "price_fraud"), ("description", "标价十元，结账收了十五元")],
    )
    .await;
    assert_eq!(status, 303, "{filed}");
    let c = &browser.client;
    sign_in(c, &app, "nanan", "official").await;
    wait_for_path(c, "/official").await;
    checkpoint(c, "official", "01-home").await;

    // Review: the queue, the application (masked until revealed), approval into a free slot.
    click(c, "a[href='/official/review']").await;
    wait_for_path(c, "/official/review").await;
    checkpoint(c, "official", "02-review-queue").await;
    click(c, &format!("a[href='/official/applications/{id}']")).await;
    wait_for_path(c, &format!("/official/applications/{id}")).await;
    checkpoint(c, "official", "03-application").await;
    assert!(
        texts(c, "[data-field=real_name]").await[0].contains("张**"),
        "masked until revealed"
    );
    assert_eq!(
        c.find_all(Locator::Css(".documents-grid figure")).await.unwrap().len(),
        3
    );
    // Approving issues the code at once: the form states it and asks for a tick first.
    click(c, "#approve-confirm").await;
    click(c, "#approve-form button[type=submit]").await;
    wait_for_text(c, ".notice", "已作出决定").await;
    checkpoint(c, "official", "04-application-approved").await;
    assert_eq!(attr(c, "#app-state", "data-state").await.as_deref(), Some("approved"));

    // Inspect the new stall, found from the market's page: one problem, a note, points deducted.
    let (code_id, market): (Uuid, Uuid) =
        sqlx::query_as("select id, market_id from codes where application_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    c.goto(&app.url("/official")).await.unwrap();
    click(c, &format!("a[href='/official/markets/{market}']")).await;
    wait_for_path(c, &format!("/official/markets/{market}")).await;
    click(c, &format!("a[href='/official/codes/{code_id}']")).await;
    wait_for_path(c, &format!("/official/codes/{code_id}")).await;
    click(c, "#inspect summary").await;
    let problem = attr(c, "#inspect-form input[name=problem]", "value")
        .await
        .expect("the tenant's problem list");
    click(c, &format!("#inspect-form input[name=problem][value='{problem}']")).await;
    fill(c, "#notes", "灭火器过期，已当场告知").await;
    click(c, "#confirm-deduction").await;
    checkpoint(c, "official", "05-inspection-form").await;
    click(c, "#save-inspection").await;
    wait_for_text(c, "#code-inspections", "发现问题").await;
    wait_for_text(c, "#code-inspections", "灭火器过期").await;
    checkpoint(c, "official", "06-inspected").await;
    let deducted: i64 = sqlx::query_scalar(
        "select count(*) from deductions d
         join inspections i on i.tenant_id = d.tenant_id and i.id = d.inspection_id where i.code_id = $1",
    )
    .bind(code_id)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(deducted, 1, "the problem's points were deducted");

    // The shopper's complaint: take it, acknowledge it, resolve it as upheld.
    let complaint: Uuid = sqlx::query_scalar("select id from complaints where code_id = $1")
        .bind(stall.id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    c.goto(&app.url("/official")).await.unwrap();
    click(c, "#complaints-link").await;
    wait_for_path(c, "/official/complaints").await;
    checkpoint(c, "official", "07-complaint-queue").await;
    click(c, &format!("a[href='/official/complaints/{complaint}']")).await;
    wait_for_path(c, &format!("/official/complaints/{complaint}")).await;
    wait_for_text(c, "body", "结账收了十五元").await;
    // What the platform knew when it was filed, in words (not JSON).
    wait_for_text(c, "body", "当时码色：绿码 · 消费券核销：无").await;
    checkpoint(c, "official", "08-complaint").await;
    if c.find(Locator::Css("#claim")).await.is_ok() {
        click(c, "#claim").await;
        // The page comes back at the same address: wait for the claimed page (no claim button),
        // or the next click may land on the page being left.
        let deadline = Instant::now() + Duration::from_secs(15);
        while c.find(Locator::Css("#claim")).await.is_ok() {
            assert!(Instant::now() < deadline, "the complaint was not taken");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    click(c, "#acknowledge").await;
    wait_for_text(c, "#state", "已签收").await;
    click(c, "#resolve-form input[name=upheld][value=yes]").await;
    fill(c, "#resolve-note", "已核实，责令退还差价").await;
    click(c, "#resolve").await;
    wait_for_text(c, "#state", "已办结").await;
    checkpoint(c, "official", "09-complaint-resolved").await;
    // The hotline's follow-up call (回访), recorded once the complaint is closed.
    click(c, "#follow-up-form input[name=result][value=satisfied]").await;
    fill(c, "#follow-up-note", "来电人表示差价已退还").await;
    click(c, "#follow-up-form button[type=submit]").await;
    wait_for_text(c, "#follow-up-result", "满意").await;
    assert_eq!(
        attr(c, "#stages li[data-stage=closed]", "class").await.as_deref(),
        Some("reached"),
        "closed for good once followed up"
    );

    // The numbers: the last seven nights first, then the last 30, and the nights table as CSV.
    c.goto(&app.url("/official")).await.unwrap();
    click(c, "#numbers-link").await;
    wait_for_path(c, "/official/numbers").await;
    checkpoint(c, "official", "10-dashboard").await;
    // The last seven nights first (tonight alone is nearly empty), charts drawn on the server.
    let from = attr(c, "#range-shown", "data-from").await.expect("range shown");
    let to = attr(c, "#range-shown", "data-to").await.expect("range shown");
    let days = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("a date");
    assert_eq!((days(&to) - days(&from)).num_days(), 6, "{from}..{to}");
    assert!(c.find(Locator::Css("svg#chart-visitors desc")).await.is_ok());

    // The last 30 nights.
    c.find(Locator::Css("#range"))
        .await
        .expect("range select")
        .select_by_value("30")
        .await
        .expect("choose 30 nights");
    click(c, "#range-form button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !c.current_url().await.expect("url").as_str().contains("range=30") {
        assert!(Instant::now() < deadline, "the range did not switch");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_text(c, "#range-shown", "30").await;
    let rows = c
        .find_all(Locator::Css("#table-nights tbody tr"))
        .await
        .expect("night rows");
    assert_eq!(rows.len(), 30);
    let visitors_shown = texts(c, "[data-figure='visitors']").await;

    // Download the nights table: a CSV with a row per night. (After a dozen official pages: each
    // opened a live-notice stream, and before streams were closed on leaving a page, the pages
    // kept for "back" held all six connections the browser allows the site, and this waited
    // forever.)
    click(c, "a[href^='/official/numbers/csv/nights']").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let file = loop {
        let done: Vec<_> = std::fs::read_dir(&browser.downloads)
            .expect("downloads")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        if let Some(f) = done.first() {
            break f.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no CSV downloaded into {}: {:?} (page {})",
            browser.downloads.display(),
            std::fs::read_dir(&browser.downloads)
                .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect::<Vec<_>>())
                .unwrap_or_default(),
            c.current_url().await.map(|u| u.to_string()).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (header, rows) = crate::numbers::parse_csv(&std::fs::read(&file).expect("read csv"));
    assert_eq!(header[0], "night");
    assert_eq!(rows.len(), 30);
    let col = header.iter().position(|h| h == "visitors").expect("visitors column");
    let total: i64 = rows.iter().map(|r| r[col].parse::<i64>().expect("a number")).sum();
    assert_eq!(visitors_shown, vec![total.to_string()], "the page and the CSV agree");
    checkpoint(c, "official", "11-dashboard-30-nights").await;
}
