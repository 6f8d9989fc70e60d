//! Three server processes behind a real haproxy (Debian's, with the shipped deploy/haproxy.cfg),
//! round robin without stickiness: sessions, cross-site checks and signing out everywhere work
//! whichever instance answers, live notices arrive promptly, and a `kill -9` of one instance under
//! load loses no acknowledged write while the others keep answering.

use crate::helpers::{MASTER_KEY, Processes, TestApp, cluster, http};
use crate::supervision::{demo_stall, event, feed_key, next_event, sign};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// haproxy, or None (said loudly) outside CI when it is not installed.
fn haproxy() -> Option<&'static str> {
    // Debian puts it in /usr/sbin, which a non-root PATH may lack.
    let found = ["haproxy", "/usr/sbin/haproxy"]
        .into_iter()
        .find(|p| Command::new(p).arg("-v").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but haproxy is not installed: apt-get install haproxy"
        );
        eprintln!(
            "\n\n*************************************************************\n\
             *  SKIPPING THE LOAD-BALANCER TEST: haproxy not installed.  *\n\
             *  apt-get install haproxy                                  *\n\
             *************************************************************\n"
        );
        return None;
    }
    found
}

/// The shipped configuration with the three local servers in place of Docker's replicas.
fn proxy_config(ports: &[u16]) -> String {
    let shipped = include_str!("../../deploy/haproxy.cfg");
    let mut out = String::new();
    for line in shipped.lines() {
        if line.trim_start().starts_with("resolvers ") {
            break;
        }
        if line.trim_start().starts_with("server-template ") {
            for (i, p) in ports.iter().enumerate() {
                out.push_str(&format!("    server app{i} 127.0.0.1:{p} check\n"));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(out.contains("option http-no-delay"));
    out
}

async fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = http().get(format!("{url}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{url} never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn browser_like(base: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("origin", base.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn sign_in(app: &TestApp, base: &str, role: &str) -> reqwest::Client {
    let client = browser_like(base);
    let (login, password) = app.password_of("nanan", role);
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("tenant", "nanan"),
            ("login", &login),
            ("password", &password),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    client
}

#[tokio::test]
async fn three_instances_behind_haproxy_behave_as_one_server() {
    let Some(haproxy) = haproxy() else { return };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let app = TestApp::spawn().await;
    let proxy_port = free_port();
    let base = format!("http://127.0.0.1:{proxy_port}");
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let dirs: Vec<std::path::PathBuf> = (0..3).map(|_| crate::audit::tempdir()).collect();
    let mut processes = Processes(Vec::new());
    for (port, dir) in ports.iter().zip(&dirs) {
        let child = Command::new(env!("CARGO_BIN_EXE_nightmarket"))
            .args(["--no-demo", "--trust-proxy", "--sweep-secs", "5", "--addr"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--public-url", &base, "--data-dir"])
            .arg(dir)
            .env_remove("DATABASE_APP_URL")
            .env("DATABASE_URL", cluster().url(&app.db_name))
            .env("NIGHTMARKET_MASTER_KEY", hex::encode(MASTER_KEY))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting nightmarket");
        processes.0.push(child);
    }
    for port in &ports {
        wait_healthy(&format!("http://127.0.0.1:{port}")).await;
    }
    let config = dirs[0].join("haproxy.cfg");
    std::fs::write(&config, proxy_config(&ports)).unwrap();
    let proxy = Command::new(haproxy)
        .arg("-db")
        .arg("-f")
        .arg(&config)
        .env("NIGHTMARKET_PROXY_BIND", format!("127.0.0.1:{proxy_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting haproxy");
    processes.0.push(proxy);
    wait_healthy(&base).await;

    // Sessions: signed in through one instance, every instance knows the session.
    let desk = sign_in(&app, &base, "official").await;
    for _ in 0..9 {
        let r = desk.get(format!("{base}/official")).send().await.unwrap();
        assert_eq!(r.status(), 200, "a session is good on every instance");
    }
    // Cross-site checks: a form posted from another site is refused whichever instance answers.
    for _ in 0..3 {
        let r = desk
            .post(format!("{base}/official/notices/read"))
            .header("origin", "http://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    // Signing out everywhere: a second session of the same official ends on every instance.
    let other = sign_in(&app, &base, "official").await;
    let r = desk.post(format!("{base}/logout")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    for _ in 0..6 {
        let r = other.get(format!("{base}/official")).send().await.unwrap();
        assert_eq!(r.status(), 303, "the other session ended on every instance");
    }

    // Live notices through the proxy, promptly.
    let watcher = sign_in(&app, &base, "official").await;
    let mut stream = watcher.get(format!("{base}/official/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut buffer = String::new();
    let wait = Duration::from_secs(10);
    assert_eq!(
        next_event(&mut stream, &mut buffer, "ready", wait).await.as_deref(),
        Some("live")
    );
    let stall = demo_stall(&app).await;
    let key = feed_key(&app, "nanan");
    let mut delays = Vec::new();
    for i in 0..5 {
        let body = serde_json::to_vec(&event(
            &format!("proxy-{i}"),
            stall.vendor,
            if i % 2 == 0 { "invalid" } else { "valid" },
        ))
        .unwrap();
        let ts = chrono::Utc::now().timestamp().to_string();
        let sent = Instant::now();
        let r = http()
            .post(format!("{base}/api/v1/t/nanan/credential-events"))
            .header("content-type", "application/json")
            .header("x-api-key", &key.0)
            .header("x-timestamp", &ts)
            .header("x-signature", sign(&key.1, &ts, &body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        next_event(&mut stream, &mut buffer, "notice", wait)
            .await
            .expect("a live notice");
        delays.push(sent.elapsed());
        // A valid event after an invalid one raises a second notice (restored): read it too.
        while next_event(&mut stream, &mut buffer, "notice", Duration::from_millis(300))
            .await
            .is_some()
        {}
    }
    delays.sort();
    eprintln!("live notices through haproxy: {delays:?}");
    assert!(delays[2] < Duration::from_millis(150), "median {:?}", delays[2]);

    // kill -9 of one instance under a mixed load of claims and scan pages.
    let campaign = crate::vouchers::campaign(&app, chrono::Utc::now() - chrono::Duration::minutes(1), 150, 1).await;
    let people = crate::vouchers::shoppers(&app, "nanan", 300).await;
    let scan = stall.path.clone();
    let mut tasks = Vec::new();
    let started = Instant::now();
    for (i, (shopper, token)) in people.iter().enumerate() {
        let (url, token, shopper, scan_url) = (
            format!("{base}/api/v1/t/nanan/campaigns/{campaign}/claims"),
            token.clone(),
            *shopper,
            format!("{base}{scan}"),
        );
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10 * i as u64)).await;
            let at = Instant::now();
            let scan_status = http()
                .get(scan_url)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            let r = http()
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", format!("kill-{i}"))
                .send()
                .await;
            let (status, body) = match r {
                Ok(r) => {
                    let s = r.status().as_u16();
                    (s, r.json::<Value>().await.unwrap_or(Value::Null))
                }
                Err(_) => (0, Value::Null),
            };
            (at, shopper, scan_status, status, body)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let killed_at = Instant::now();
    let victim = processes.0[1].id() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim), nix::sys::signal::Signal::SIGKILL).unwrap();
    let mut acknowledged = Vec::new();
    let mut late_failures = Vec::new();
    for t in tasks {
        let (at, shopper, scan_status, status, body) = t.await.unwrap();
        if status == 200 || status == 201 {
            acknowledged.push((shopper, body["seq"].as_i64().unwrap()));
        }
        // Two seconds after the kill haproxy has taken the instance out: nothing fails.
        if at > killed_at + Duration::from_secs(3) && (status >= 500 || status == 0 || scan_status != 200) {
            late_failures.push((status, scan_status));
        }
    }
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(late_failures.is_empty(), "{late_failures:?}");
    assert!(!acknowledged.is_empty());
    for (shopper, seq) in &acknowledged {
        let held: Option<uuid::Uuid> =
            sqlx::query_scalar("select shopper_id from vouchers where campaign_id = $1::uuid and seq = $2")
                .bind(&campaign)
                .bind(*seq as i32)
                .fetch_one(&app.owner)
                .await
                .unwrap();
        assert_eq!(held, Some(*shopper), "an acknowledged claim is in the database");
    }
    let claimed: i64 =
        sqlx::query_scalar("select count(*) from vouchers where campaign_id = $1::uuid and shopper_id is not null")
            .bind(&campaign)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(claimed <= 150 && claimed >= acknowledged.len() as i64, "{claimed}");
    for _ in 0..10 {
        let r = http().get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "the others keep answering");
    }
    for d in &dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}
