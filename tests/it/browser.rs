//! Real-browser tests in headless Chromium, driven over WebDriver (chromedriver + fantoccini).
//!
//! Where Chromium or chromedriver is missing these tests say so loudly and pass, except under
//! `CI=true`, where a missing browser is a failure (CI installs Debian's `chromium` and
//! `chromium-driver`).

use crate::helpers::TestApp;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn which(names: &[&str]) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .find_map(|name| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// Desktop-sized windows (phone-sized ones come with the vendor and shopper pages).
#[derive(Clone, Copy)]
pub enum Window {
    Desktop,
}

/// A headless Chromium, or `None` (after a loud warning) when none is installed outside CI.
pub async fn browser(window: Window) -> Option<Browser> {
    let chrome = which(&["chromium", "chromium-browser", "google-chrome"]);
    let driver = which(&["chromedriver"]);
    let (Some(chrome), Some(driver)) = (chrome, driver) else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "CI=true but Chromium/chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "\n\n*************************************************************************\n\
             *  SKIPPING REAL-BROWSER TEST: chromium and chromedriver not found.     *\n\
             *  Install them (apt-get install chromium chromium-driver) to run it.   *\n\
             *************************************************************************\n"
        );
        return None;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("addr").port()
    };
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    let profile = std::env::temp_dir().join(format!("nm-chrome-{}", uuid::Uuid::new_v4().simple()));
    let size = match window {
        Window::Desktop => "--window-size=1280,900",
    };
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-quic", "--lang=zh-CN", size, format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {"intl.accept_languages": "zh-CN,zh"}
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.clone());
        match builder.connect(&url).await {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("chromedriver did not accept a session: {e}"),
        }
    };
    Some(Browser {
        client,
        driver: child,
        profile,
    })
}

/// Waits until the current URL's path is `path` (navigation after a form submit).
pub async fn wait_for_path(c: &Client, path: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = c.current_url().await.expect("current url");
        if url.path() == path {
            return url;
        }
        assert!(Instant::now() < deadline, "expected {path}, still at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn fill(c: &Client, css: &str, value: &str) {
    let field = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no field {css}"));
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .click()
        .await
        .expect("click");
}

pub async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.expect("find_all") {
        out.push(e.text().await.expect("text").trim().to_string());
    }
    out
}

pub async fn sign_in(c: &Client, app: &TestApp, tenant: &str, role: &str) {
    let (login, password) = app.password_of(tenant, role);
    c.goto(&app.url("/login")).await.expect("login page");
    c.find(Locator::Css("#tenant"))
        .await
        .expect("tenant select")
        .select_by_value(tenant)
        .await
        .expect("select tenant");
    fill(c, "#login", &login).await;
    fill(c, "#password", &password).await;
    click(c, "form[action='/login'] button[type=submit]").await;
}

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
