//! Real-browser tests in headless Chromium, driven over WebDriver (chromedriver + fantoccini).
//!
//! Where Chromium or chromedriver is missing these tests say so loudly and pass, except under
//! `CI=true`, where a missing browser is a failure (CI installs Debian's `chromium` and
//! `chromium-driver`).

use crate::helpers::TestApp;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
    /// Where downloads land.
    pub downloads: std::path::PathBuf,
}

impl Drop for Browser {
    /// Ends chromedriver and every Chromium process it started, also when the test failed or
    /// panicked: they share a process group of their own (killing only chromedriver would leave
    /// the browser running, with its profile, after the suite).
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.driver.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
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

/// Phone-sized (390×844) or desktop-sized windows.
#[derive(Clone, Copy)]
pub enum Window {
    Desktop,
    Phone,
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
        // A process group of its own, which Chromium joins: Drop ends them all.
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    let profile = std::env::temp_dir().join(format!("nm-chrome-{}", uuid::Uuid::new_v4().simple()));
    let downloads = profile.join("downloads");
    std::fs::create_dir_all(&downloads).expect("download folder");
    let size = match window {
        Window::Desktop => "--window-size=1280,900",
        Window::Phone => "--window-size=390,844",
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
            "prefs": {
                "intl.accept_languages": "zh-CN,zh",
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false
            }
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
        downloads,
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

/// The texts of the elements matching `css`. A page that is navigating away answers with what it
/// had (or nothing); the waiting helpers simply look again.
pub async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.unwrap_or_default() {
        match e.text().await {
            Ok(t) => out.push(t.trim().to_string()),
            Err(_) => return Vec::new(),
        }
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

/// Another browser, in a test that already has one (so Chromium is there).
pub async fn browser_or_skip(window: Window) -> Browser {
    browser(window).await.expect("a second browser")
}

/// axe-core's script (tests/browser: `npm ci --prefix tests/browser`), or None outside CI when
/// it is not installed (said loudly once).
fn axe_source() -> Option<&'static str> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/node_modules/axe-core/axe.min.js"
        );
        match std::fs::read_to_string(path) {
            Ok(source) => Some(source),
            Err(_) => {
                let ci = std::env::var("CI").is_ok_and(|v| v == "true");
                assert!(
                    !ci,
                    "CI=true but axe-core is not installed: npm ci --prefix tests/browser"
                );
                eprintln!(
                    "\n\n*************************************************************************\n\
                     *  SKIPPING ACCESSIBILITY CHECKS: axe-core not installed.               *\n\
                     *  Run `npm ci --prefix tests/browser` to check pages with it.          *\n\
                     *************************************************************************\n"
                );
                None
            }
        }
    })
    .as_deref()
}

/// A stop on an actor's journey: a screenshot of the page as it is into
/// `target/tour/{journey}/{step}.png` (steps are numbered in the journey's order, for people to
/// review), and axe-core's accessibility check of the page
/// against WCAG 2.1 A and AA, failing on any serious or critical violation (lesser ones are
/// printed).
pub async fn checkpoint(c: &Client, journey: &str, step: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tour")
        .join(journey);
    std::fs::create_dir_all(&dir).expect("the tour folder");
    let png = c.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(format!("{step}.png")), png).expect("writing the screenshot");

    let Some(axe) = axe_source() else { return };
    c.execute(axe, vec![]).await.expect("loading axe-core into the page");
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                 .then(r => done(r.violations.map(v => ({
                     id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').split(String.fromCharCode(10)).slice(1, 2).join(''))
                 }))))
                 .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));"#,
            vec![],
        )
        .await
        .expect("running axe-core");
    let violations = found.as_array().cloned().unwrap_or_default();
    let url = c.current_url().await.map(|u| u.to_string()).unwrap_or_default();
    // A campaign's waiting page reloads itself when claims open: WCAG 2.2.1's real-time
    // exception (a voucher rush is a real-time event, like an auction), and the page says when
    // it will reload. Reported, not failed, there only.
    let real_time = |v: &&Value| v["id"] == "meta-refresh" && url.contains("/vouchers/");
    let (bad, lesser): (Vec<_>, Vec<_>) = violations
        .iter()
        .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")) && !real_time(v));
    for v in &lesser {
        eprintln!(
            "accessibility ({journey} {step}, {url}): {} {}: {}",
            v["impact"], v["id"], v["help"]
        );
    }
    assert!(
        bad.is_empty(),
        "serious accessibility violations on {url} ({journey} {step}):\n{}",
        serde_json::to_string_pretty(&bad).unwrap_or_default()
    );
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

/// Replaces the browser's geolocation with a fixed position (as a phone at the market would report).
pub async fn mock_position(c: &Client, lat: f64, lng: f64) {
    let script = format!(
        "navigator.geolocation.getCurrentPosition = function (ok) {{ ok({{ coords: {{ latitude: {lat}, longitude: {lng}, accuracy: 12 }} }}); }};"
    );
    c.execute(&script, vec![]).await.expect("mock geolocation");
}

/// Sets an input's value directly (date inputs take typing in the browser's locale format).
pub async fn set_value(c: &Client, id: &str, value: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![json!(id), json!(value)],
    )
    .await
    .expect("set value");
}

pub async fn wait_for_text(c: &Client, css: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if texts(c, css).await.iter().any(|t| t.contains(needle)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {css} containing {needle:?}; at {}",
            c.current_url().await.map(|u| u.to_string()).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.attr(name).await.ok()?
}

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
