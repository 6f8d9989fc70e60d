//! The market on a map, in a real browser: an admin drags a slot on the plan editor and saves;
//! a shopper finds a stall on the map on a phone and taps through to its scan page; an official's
//! live wall turns a stall red without a reload.

use super::{Window, attr, browser, checkpoint, click, sign_in, texts, wait_for_path, wait_for_text};
use crate::helpers::TestApp;
use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

/// The demo stall's code id, slot code and market.
async fn demo_stall(app: &TestApp) -> (uuid::Uuid, String, String) {
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap().to_string();
    let code = url[url.find("/c/").unwrap() + 3..][..13].to_string();
    let (id, slot, market): (uuid::Uuid, String, uuid::Uuid) = sqlx::query_as(
        "select c.id, s.code, c.market_id from codes c join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id where c.code = $1",
    )
    .bind(&code)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    (id, slot, market.to_string())
}

async fn value(c: &fantoccini::Client, name: &str) -> String {
    c.execute(
        "return document.querySelector('[name=\"' + arguments[0] + '\"]').value;",
        vec![json!(name)],
    )
    .await
    .expect("a field's value")
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
async fn an_admin_drags_a_slot_on_the_plan_and_places_another() {
    let Some(browser) = browser(Window::Desktop).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (_, slot, market) = demo_stall(&app).await;
    let c = &browser.client;
    sign_in(c, &app, "nanan", "admin").await;
    wait_for_path(c, "/admin").await;
    c.goto(&app.url(&format!("/admin/markets/{market}")))
        .await
        .expect("market page");
    click(c, "#plan-link").await;
    wait_for_path(c, &format!("/admin/markets/{market}/plan")).await;
    // The script is running: its hint shows and it drew the slots itself.
    let deadline = Instant::now() + Duration::from_secs(10);
    while attr(c, "#plan-script-hint", "hidden").await.is_some() {
        assert!(Instant::now() < deadline, "the editor did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let y_field = format!("slot.{slot}.y");
    let x_field = format!("slot.{slot}.x");
    let (x0, y0) = (value(c, &x_field).await, value(c, &y_field).await);
    let y0: i64 = y0.parse().expect("the demo slot is placed");

    // Drag the slot one row down (the aisle below it is free): a real pointer, press, move, release.
    let box_ = c
        .find(Locator::Css(&format!(
            "#plan-editor g.slot[data-slot='{slot}'] rect.box"
        )))
        .await
        .expect("the slot drawn");
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: box_,
            duration: None,
            x: -10.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(200)),
            x: 0.0,
            y: 30.0,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(200)),
            x: 0.0,
            y: 28.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(drag).await.expect("dragging");
    assert_eq!(value(c, &y_field).await, (y0 + 1).to_string(), "moved a row down");
    assert_eq!(value(c, &x_field).await, x0, "and not sideways");

    // Take another slot off the plan in the table, then put it back with "Place".
    let rows = texts(c, "#plan-slots th[scope=row]").await;
    let other = rows
        .iter()
        .map(|r| r.split_whitespace().next().unwrap_or_default().to_string())
        .find(|code| *code != slot)
        .expect("a second slot");
    for part in ["x", "y", "w", "h"] {
        let field = c
            .find(Locator::Css(&format!("[name='slot.{other}.{part}']")))
            .await
            .expect("field");
        field.clear().await.expect("cleared");
    }
    c.execute(
        "document.querySelector('[name=\"slot.' + arguments[0] + '.x\"]').dispatchEvent(new Event('input', {bubbles: true}));",
        vec![json!(other)],
    )
    .await
    .expect("input event");
    click(c, &format!("#plan-slots tr[data-code='{other}'] button.place")).await;
    assert!(!value(c, &format!("slot.{other}.x")).await.is_empty(), "placed again");
    checkpoint(c, "admin", "plan-editor").await;

    click(c, "#plan-save").await;
    wait_for_text(c, "#plan-saved", "已保存").await;
    let (_, plan) = app
        .get_json(&format!("/api/v1/t/nanan/markets/{market}/plan"), None)
        .await;
    let saved = plan["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == slot)
        .unwrap();
    assert_eq!(saved["place"]["y"], y0 + 1, "saved where it was dropped");
    let placed = plan["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == other)
        .unwrap();
    assert!(!placed["place"].is_null(), "the placed slot is on the plan");
}

#[tokio::test]
async fn a_shopper_finds_a_stall_on_the_map_on_a_phone_and_opens_its_scan_page() {
    let Some(phone) = browser(Window::Phone).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (_, slot, market) = demo_stall(&app).await;
    let p = &phone.client;
    p.goto(&app.url(&format!("/t/nanan/m/{market}")))
        .await
        .expect("market page");
    click(p, "#map-link").await;
    wait_for_text(p, "h1", "摊位地图").await;
    let sizes = p
        .execute(
            "const s = document.querySelector('.map-scroll');
             const name = document.querySelector('svg.plan .slot .name') || document.querySelector('svg.plan .slot .code');
             return [document.documentElement.scrollWidth <= window.innerWidth + 1,
                     s.scrollWidth > s.clientWidth,
                     parseFloat(getComputedStyle(name).fontSize)];",
            vec![],
        )
        .await
        .expect("sizes");
    assert_eq!(sizes[0], true, "the page itself fits the phone");
    assert_eq!(sizes[1], true, "the map keeps its size and scrolls inside its frame");
    assert!(sizes[2].as_f64().unwrap() >= 12.0, "labels stay legible: {sizes}");
    checkpoint(p, "shopper", "map").await;
    let link = p
        .find(Locator::Css(&format!("a.slot[data-slot='{slot}']")))
        .await
        .expect("the stall on the map");
    p.execute(
        "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
        vec![serde_json::to_value(&link).unwrap()],
    )
    .await
    .expect("scrolled to it");
    link.click().await.expect("tapping the stall");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !p.current_url().await.expect("url").path().starts_with("/c/") {
        assert!(Instant::now() < deadline, "the tap did not open the scan page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_officials_live_wall_turns_a_stall_red_without_a_reload() {
    let Some(browser) = browser(Window::Desktop).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let (code_id, slot, market) = demo_stall(&app).await;
    let c = &browser.client;
    sign_in(c, &app, "nanan", "official").await;
    wait_for_path(c, "/official").await;
    c.goto(&app.url(&format!("/official/markets/{market}")))
        .await
        .expect("market");
    click(c, "#wall-link").await;
    wait_for_path(c, &format!("/official/markets/{market}/live")).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while attr(c, "html", "data-wall").await.as_deref() != Some("live") {
        assert!(Instant::now() < deadline, "the wall did not go live");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.execute("window.sameLoad = true;", vec![]).await.expect("marker");
    let selector = format!("a.slot[data-slot='{slot}']");
    assert!(
        attr(c, &selector, "class")
            .await
            .unwrap_or_default()
            .contains("colour-green")
    );

    let token = app.token("nanan", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code_id}/suspend"),
            Some(&token),
            &json!({"reason": "消防通道被占用"}),
        )
        .await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !attr(c, &selector, "class")
        .await
        .unwrap_or_default()
        .contains("colour-red")
    {
        assert!(Instant::now() < deadline, "the stall did not turn red on the wall");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let same = c
        .execute("return window.sameLoad === true;", vec![])
        .await
        .expect("marker");
    assert_eq!(same, true, "updated in place, not by reloading");
    let label = attr(c, &selector, "aria-label").await.unwrap_or_default();
    assert!(label.contains("红码"), "the colour in words too: {label}");
    checkpoint(c, "official", "live-wall").await;
}
