//! Every page of the tours on a 390-px phone: no sideways scrolling, each a checkpoint.

use super::*;

/// The pages' widths at 390 px: (path, scrollWidth) of each that scrolls sideways. Each page is
/// also a checkpoint of the `phone-390` tour (a screenshot and axe-core's check).
async fn too_wide(c: &Client, app: &TestApp, paths: &[String]) -> Vec<(String, i64)> {
    let mut wide = Vec::new();
    for path in paths {
        c.goto(&app.url(path)).await.expect("a page");
        let step: String = path
            .split('?')
            .next()
            .unwrap_or(path)
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
            .collect();
        checkpoint(c, "phone-390", step.trim_matches('-')).await;
        let w = c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("the page's width");
        let (scroll, inner) = (w[0].as_i64().unwrap_or(0), w[1].as_i64().unwrap_or(0));
        if scroll > inner {
            wide.push((path.clone(), scroll));
        }
    }
    wide
}

#[tokio::test]
async fn every_page_of_the_tours_fits_a_390_px_phone_without_scrolling_sideways() {
    let Some(browser) = browser(Window::Phone).await else {
        return;
    };
    let c = &browser.client;
    let app = TestApp::spawn().await;
    let tenant = app.tenant_id("nanan").await;
    let one = |sql: &'static str| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(sql)
                .bind(tenant)
                .fetch_one(&owner)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        }
    };
    let application = one("select id from applications where tenant_id = $1 and state = 'submitted' limit 1").await;
    let code = one("select id from codes where tenant_id = $1 and revoked_at is null limit 1").await;
    let campaign = one("select id from campaigns where tenant_id = $1 limit 1").await;
    let market = one("select id from markets where tenant_id = $1 limit 1").await;
    let staff: Vec<String> = [
        "/official".to_string(),
        "/official/review".into(),
        format!("/official/applications/{application}"),
        format!("/official/codes/{code}"),
        "/official/complaints".into(),
        "/official/ratings/held".into(),
        "/official/appeals?all=true".into(),
        "/official/renewals".into(),
        format!("/official/markets/{market}"),
        "/official/numbers?range=7".into(),
        "/official/vouchers/flags".into(),
        "/official/vouchers/redemptions".into(),
        "/official/notices".into(),
        "/admin".into(),
        "/admin/markets".into(),
        format!("/admin/markets/{market}"),
        "/admin/vouchers".into(),
        format!("/admin/vouchers/{campaign}"),
        "/admin/vouchers/settlement".into(),
        "/admin/audit".into(),
        "/admin/settings".into(),
        "/admin/staff".into(),
    ]
    .into();
    // Every complaint's page (their texts and evidence differ in length).
    let complaints: Vec<Uuid> = sqlx::query_scalar("select id from complaints where tenant_id = $1")
        .bind(tenant)
        .fetch_all(&app.owner)
        .await
        .unwrap();
    let mut staff = staff;
    staff.extend(complaints.iter().map(|id| format!("/official/complaints/{id}")));
    sign_in(c, &app, "nanan", "admin").await;
    wait_for_path(c, "/admin").await;
    let mut wide = too_wide(c, &app, &staff).await;

    let phone = browser_or_skip(Window::Phone).await;
    let v = &phone.client;
    sign_in(v, &app, "nanan", "vendor").await;
    wait_for_path(v, "/vendor").await;
    let mine: Vec<String> = sqlx::query_scalar(
        "select '/vendor/stalls/' || c.id from codes c join users u on u.tenant_id = c.tenant_id and u.id = c.vendor_id
         where c.tenant_id = $1 and u.login = $2 and c.revoked_at is null",
    )
    .bind(tenant)
    .bind(app.login_key("nanan", "vendor").await)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let mut vendor_pages: Vec<String> = vec![
        "/vendor".into(),
        "/vendor/inbox".into(),
        "/vendor/records".into(),
        "/vendor/goods".into(),
        "/vendor/payee".into(),
    ];
    vendor_pages.extend(mine.iter().cloned());
    vendor_pages.extend(mine.iter().map(|p| format!("{p}/insights")));
    wide.extend(too_wide(v, &app, &vendor_pages).await);

    let scan = app.demo.samples["nanan_code_url"].as_str().unwrap();
    let scan = &scan[scan.find("/c/").unwrap()..];
    let tracking = app.demo.samples["tracking"].as_str().unwrap();
    let public: Vec<String> = vec![
        "/".into(),
        "/t/nanan".into(),
        format!("/t/nanan/m/{market}"),
        scan.to_string(),
        scan.replacen('?', "/complain?", 1),
        format!("/complaints/{tracking}"),
        "/complaints".into(),
        "/t/nanan/vouchers".into(),
        format!("/t/nanan/vouchers/{campaign}"),
        "/t/nanan/signup".into(),
        "/t/nanan/reset".into(),
        "/login".into(),
    ];
    let stranger = browser_or_skip(Window::Phone).await;
    wide.extend(too_wide(&stranger.client, &app, &public).await);
    assert!(
        wide.is_empty(),
        "pages wider than the phone (path, scrollWidth): {wide:#?}"
    );
}
