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

mod admin;
mod lottery;
mod map;
mod official;
mod phone;
mod shopper;
mod vendor;

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
