//! The binary as an operator uses it: serving on a fresh data directory with its own PostgreSQL,
//! refusing a second server, explaining a missing PostgreSQL, and the tenant command.

use crate::audit::tempdir;
use crate::helpers::{TestApp, cluster};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn nightmarket() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nightmarket"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("DATABASE_APP_URL")
        .env_remove("NIGHTMARKET_MASTER_KEY")
        .env("RUST_LOG", "warn");
    cmd
}

/// Starts `nightmarket` on a free port and returns it with the URL it printed.
fn start_server(data: &std::path::Path) -> (Child, String) {
    let mut child = nightmarket()
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting nightmarket");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("nightmarket is serving at ") {
                let _ = tx.send(url.trim_end_matches('/').to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server printed its URL");
    (child, url)
}

fn stop(child: &mut Child) -> std::process::ExitStatus {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn postmaster_running(data: &std::path::Path) -> bool {
    std::fs::read_to_string(data.join("pg/data/postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        .is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
}

#[tokio::test]
async fn the_run_command_serves_the_seeded_demo_on_its_own_postgres_and_stops_it() {
    let data = tempdir();
    let (mut child, url) = start_server(&data);
    let client = crate::helpers::http();
    assert_eq!(client.get(format!("{url}/healthz")).send().await.unwrap().status(), 200);

    // The demo logins are written for a newcomer, with the URL.
    let creds = demo_credentials(&data);
    assert_eq!(creds["url"].as_str().unwrap().trim_end_matches('/'), url);
    assert!(creds["api_keys"].is_array() && creds["samples"].is_object());
    let accounts = creds["accounts"].as_array().unwrap();
    for role in ["admin", "official", "vendor"] {
        assert!(
            accounts.iter().any(|a| a["tenant"] == "nanan" && a["role"] == role),
            "a demo {role}"
        );
    }
    let admin = demo_account(&creds, "admin");
    let r = client
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"tenant": "nanan", "login": admin["login"], "password": admin["password"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tenants: Value = client
        .get(format!("{url}/api/v1/tenants"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tenants.as_array().unwrap().len(), 2);
    assert!(postmaster_running(&data));

    // A second server on the same data directory is refused, clearly.
    let out = nightmarket()
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already using the data directory"), "{err}");

    // An operator command works beside the running server, through its PostgreSQL.
    let out = nightmarket()
        .args(["tenant", "list", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nanan"));

    let status = stop(&mut child);
    assert!(status.success(), "{status}");
    assert!(!postmaster_running(&data), "PostgreSQL stops with the server");

    // Started again: the same cluster, no second seed, the same passwords.
    let (mut child, url) = start_server(&data);
    let r = client
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"tenant": "nanan", "login": admin["login"], "password": admin["password"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tenants: Value = client
        .get(format!("{url}/api/v1/tenants"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tenants.as_array().unwrap().len(), 2);

    // Killed outright, it still takes its PostgreSQL down with it.
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while postmaster_running(&data) {
        assert!(Instant::now() < deadline, "PostgreSQL outlived a killed server");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn without_postgresql_programs_it_says_what_to_install() {
    let data = tempdir();
    let empty = tempdir();
    let out = nightmarket()
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("NIGHTMARKET_PG_BINDIR", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("apt-get install postgresql") && err.contains("DATABASE_URL"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn help_explains_the_commands_and_settings() {
    let out = nightmarket().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "serve",
        "tenant",
        "audit",
        "--data-dir",
        "DATABASE_URL",
        "NIGHTMARKET_ADDR",
        "NIGHTMARKET_MASTER_KEY",
    ] {
        assert!(help.contains(word), "--help lacks {word}");
    }
}

#[tokio::test]
async fn the_operator_creates_a_tenant_whose_admin_must_choose_a_password() {
    let app = TestApp::spawn().await;
    let data = tempdir();
    let run = |args: &[&str]| {
        nightmarket()
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("DATABASE_URL", cluster().url(&app.db_name))
            .env("DATABASE_APP_URL", cluster().app_url(&app.db_name))
            .output()
            .unwrap()
    };
    let out = run(&[
        "tenant",
        "create",
        "--slug",
        "xihu",
        "--name",
        "杭州市西湖区",
        "--admin-login",
        "chief",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("One-time password: "))
        .expect("a password")
        .trim()
        .to_string();

    let (status, session) = app
        .send_json(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"tenant": "xihu", "login": "chief", "password": password}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session["must_change_password"], true);

    let out = run(&[
        "tenant",
        "create",
        "--slug",
        "xihu",
        "--name",
        "重复",
        "--admin-login",
        "chief",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already taken"));
    let out = run(&[
        "tenant",
        "create",
        "--slug",
        "Bad Slug",
        "--name",
        "x",
        "--admin-login",
        "chief",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("slug"));

    // Recorded as the operator's action.
    let actor: String = sqlx::query_scalar("select actor_kind from audit_log where action = 'tenant.create' and subject_id = (select id::text from tenants where slug = 'xihu')")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(actor, "operator");
    let _ = std::fs::remove_dir_all(&data);
}

/// Chaos: PostgreSQL killed outright under the server. The server answers 503 while it is gone,
/// starts it again by itself, and every committed change is still there.
#[tokio::test]
async fn the_server_restarts_its_postgresql_after_a_kill_and_nothing_committed_is_lost() {
    let data = tempdir();
    let (mut child, url) = start_server(&data);
    let client = crate::helpers::http();
    assert_eq!(client.get(format!("{url}/healthz")).send().await.unwrap().status(), 200);
    // A committed change before the kill: an admin signs in (audited sign-ins are not needed;
    // the session's token version is a row) and creates a market.
    let creds = demo_credentials(&data);
    let password = demo_account(&creds, "admin")["password"].as_str().unwrap().to_string();
    let login = client
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"tenant": "nanan", "login": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let created = client
        .post(format!("{url}/api/v1/t/nanan/markets"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "混沌测试夜市", "address": "测试路 1 号", "center_lat": 29.5, "center_lng": 106.5,
            "radius_m": 300, "opens_at": "18:00", "closes_at": "23:00"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let pid = postmaster_pid(&data);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).unwrap();

    // While it is gone: quick answers, 503 or (once it is back) 200; never a hang.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut statuses = Vec::new();
    loop {
        let asked = Instant::now();
        let status = client
            .get(format!("{url}/healthz"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert!(asked.elapsed() < Duration::from_secs(10), "a request hung");
        assert!(status == 200 || status == 503, "{status}");
        statuses.push(status);
        if status == 200 && statuses.len() > 1 {
            break;
        }
        assert!(Instant::now() < deadline, "PostgreSQL did not come back: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(postmaster_running(&data));
    assert_ne!(postmaster_pid(&data), pid, "a new postmaster");
    // The market made before the kill is there, and the session still works.
    let deadline = Instant::now() + Duration::from_secs(30);
    let markets = loop {
        let r = client
            .get(format!("{url}/api/v1/t/nanan/markets"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break r.json::<Value>().await.unwrap();
        }
        assert!(Instant::now() < deadline, "the API did not recover: {}", r.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(markets.to_string().contains("混沌测试夜市"));
    assert!(stop(&mut child).success());
    assert!(!postmaster_running(&data), "stopped with the server");
}

/// What the server wrote into the data directory for a newcomer: the demo's sign-ins and samples.
fn demo_credentials(data: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data.join("demo-credentials.json")).unwrap()).unwrap()
}

/// The demo tenant nanan's account with this role.
fn demo_account<'a>(creds: &'a Value, role: &str) -> &'a Value {
    creds["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["tenant"] == "nanan" && a["role"] == role)
        .unwrap()
}

fn postmaster_pid(data: &std::path::Path) -> i32 {
    std::fs::read_to_string(data.join("pg/data/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// PostgreSQL's processes stopped (SIGSTOP): it neither answers nor refuses, as when it is cut off
/// by the network. Continued when dropped, whatever the test's outcome.
struct Frozen(Vec<nix::unistd::Pid>);

impl Frozen {
    fn postgresql(data: &std::path::Path) -> Frozen {
        let postmaster = postmaster_pid(data);
        let mut pids = vec![postmaster];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // The parent's pid is the second field after the command's closing parenthesis.
            let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
            if after.split_whitespace().nth(1).and_then(|p| p.parse::<i32>().ok()) == Some(postmaster) {
                pids.push(pid);
            }
        }
        let pids: Vec<_> = pids.into_iter().map(nix::unistd::Pid::from_raw).collect();
        for pid in &pids {
            let _ = nix::sys::signal::kill(*pid, nix::sys::signal::Signal::SIGSTOP);
        }
        Frozen(pids)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = nix::sys::signal::kill(*pid, nix::sys::signal::Signal::SIGCONT);
        }
    }
}

/// Chaos: PostgreSQL stops answering (frozen, as behind a network partition) for some seconds.
/// Requests that need it are answered 503 with Retry-After within a few seconds — none hangs —,
/// a scan page already cached is still served, health says 503, and once PostgreSQL answers again
/// everything works without a hand on the server.
#[tokio::test]
async fn while_postgresql_does_not_answer_requests_get_quick_503s_and_the_server_recovers() {
    let data = tempdir();
    let (mut child, url) = start_server(&data);
    let client = crate::helpers::http();
    let creds = demo_credentials(&data);
    let code_url = creds["samples"]["nanan_code_url"].as_str().unwrap();
    let scan = format!("{url}{}", &code_url[code_url.find("/c/").unwrap()..]);
    // Read twice: the first read may come before the server's listener connected (which empties
    // the cache, since changes may have been missed).
    for _ in 0..2 {
        assert_eq!(client.get(&scan).send().await.unwrap().status(), 200, "cached before");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        client
            .get(format!("{url}/api/v1/t/nanan/markets"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let frozen = Frozen::postgresql(&data);
    let frozen_at = Instant::now();
    let mut saw_503 = false;
    while frozen_at.elapsed() < Duration::from_secs(6) {
        let asked = Instant::now();
        let r = client
            .get(format!("{url}/api/v1/t/nanan/markets"))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap();
        let took = asked.elapsed();
        assert!(
            took < Duration::from_secs(4),
            "a request waited {took:?} on a database that does not answer"
        );
        // Once the database is known to be down, requests that need it do not wait at all.
        assert!(
            !saw_503 || took < Duration::from_secs(1),
            "a request waited {took:?} though the database was known to be down"
        );
        assert!(r.status() == 200 || r.status() == 503, "{}", r.status());
        if r.status() == 503 {
            assert!(r.headers().contains_key("retry-after"));
            saw_503 = true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_503, "the database was never found down");
    let asked = Instant::now();
    assert_eq!(client.get(format!("{url}/healthz")).send().await.unwrap().status(), 503);
    assert!(asked.elapsed() < Duration::from_secs(1), "health knows at once");
    let r = client.get(&scan).send().await.unwrap();
    assert_eq!(r.status(), 200, "a cached scan page needs no database");

    drop(frozen);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client
            .get(format!("{url}/api/v1/t/nanan/markets"))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the API did not recover: {}", r.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Health follows the watcher, which pings twice a second: it may say 503 for a moment after
    // a request already got through (seen under a loaded CI machine), never for long.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = client.get(format!("{url}/healthz")).send().await.unwrap().status();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "health did not recover: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stop(&mut child).success());
}

/// Many instances, one truth: with an owner that is not a superuser but has CREATEROLE (what
/// managed PostgreSQL services give) and no DATABASE_APP_URL, instances and operator commands
/// start in any order, on password authentication, and none locks another out.
#[tokio::test]
async fn instances_and_commands_with_a_createrole_owner_never_lock_one_another_out() {
    use nightmarket_services::secrets::Keys;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (owner, database) = (
        format!("nm_owner_{}", &suffix[..8]),
        format!("nm_many_{}", &suffix[..8]),
    );
    let mut admin = sqlx::PgConnection::connect_with(&cluster().options("postgres"))
        .await
        .unwrap();
    use sqlx::Connection;
    for statement in [
        format!("create role {owner} login createrole password 'owner-pw-{suffix}'"),
        format!("create database {database} owner {owner}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let url = format!(
        "postgres://{owner}:owner-pw-{suffix}@localhost/{database}?host={}&port=5432",
        cluster().socket_dir.display()
    );
    let key = hex::encode(crate::helpers::MASTER_KEY);
    let data = tempdir();
    let run = |args: &[&str]| {
        nightmarket()
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("DATABASE_URL", &url)
            .env("NIGHTMARKET_MASTER_KEY", &key)
            .output()
            .unwrap()
    };
    // Commands first (the first migrates), again, and another kind.
    for args in [&["sweep"][..], &["sweep"], &["sms", "outbox"]] {
        let out = run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Two servers on the same database, then a command while they run: every one still answers.
    let serve = |port_file: &std::path::Path| {
        let mut child = nightmarket()
            .args(["--addr", "127.0.0.1:0", "--sweep-secs", "0", "--data-dir"])
            .arg(port_file)
            .env("DATABASE_URL", &url)
            .env("NIGHTMARKET_MASTER_KEY", &key)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("nightmarket is serving at ") {
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(120)).expect("serving");
        (child, base)
    };
    let (d1, d2) = (tempdir(), tempdir());
    let (one, base1) = serve(&d1);
    let (two, base2) = serve(&d2);
    let mut servers = crate::helpers::Processes(vec![one, two]);
    let out = run(&["sweep"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let client = crate::helpers::http();
    for base in [&base1, &base2] {
        // A fresh connection of each instance's pool: log in again as the app role.
        let r = client.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{base}");
        let r = client.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{base}");
    }
    // The app role's password is the one every instance derives; no instance changed it.
    let app = cluster()
        .options(&database)
        .username(nightmarket_db::APP_ROLE)
        .password(&Keys::derive(&crate::helpers::MASTER_KEY).app_role_password());
    sqlx::PgConnection::connect_with(&app)
        .await
        .expect("the app role logs in");
    for server in &mut servers.0 {
        stop(server);
    }
    for d in [&data, &d1, &d2] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Ready for Citus, checked rather than hoped: the plan comes from the catalog, covers every
/// table with a tenant_id, orders parents first, and finds no constraint Citus would refuse.
#[tokio::test]
async fn the_citus_plan_distributes_every_tenant_table_and_finds_no_constraint_citus_refuses() {
    let app = TestApp::spawn().await;
    let plan = nightmarket_db::citus::plan(&app.owner).await.unwrap();
    assert!(plan.problems.is_empty(), "{:#?}", plan.problems);
    let with_tenant: Vec<String> = sqlx::query_scalar(
        "select distinct table_name::text from information_schema.columns
         where table_schema = 'public' and column_name = 'tenant_id' order by 1",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(with_tenant.len() >= 44, "{with_tenant:?}");
    for t in &with_tenant {
        assert!(plan.distributed.contains(t), "{t} is not distributed");
    }
    assert_eq!(plan.distributed.len(), with_tenant.len());
    assert_eq!(plan.reference, vec!["tenants".to_string()]);
    // Parents before children, for every foreign key between tenant tables.
    let keys: Vec<(String, String)> = sqlx::query_as(
        "select t.relname::text, r.relname::text from pg_constraint k
         join pg_class t on t.oid = k.conrelid join pg_class r on r.oid = k.confrelid
         where k.contype = 'f' and t.relname <> r.relname and r.relname <> 'tenants'",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    let at = |t: &str| plan.distributed.iter().position(|d| d == t).unwrap();
    for (child, parent) in &keys {
        assert!(at(parent) < at(child), "{parent} must come before {child}");
    }
    let sql = plan.sql();
    assert!(sql.contains("select create_reference_table('tenants');"));
    assert!(sql.contains("citus.propagate_set_commands = 'local'"));
    assert_eq!(sql.matches("create_distributed_table(").count(), with_tenant.len());
    assert!(!sql.contains("PROBLEM"));

    // The command prints the same.
    let data = tempdir();
    let out = nightmarket()
        .args(["citus", "plan", "--data-dir"])
        .arg(&data)
        .env("DATABASE_URL", cluster().url(&app.db_name))
        .env("DATABASE_APP_URL", cluster().app_url(&app.db_name))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), sql);
    let _ = std::fs::remove_dir_all(&data);
}

/// Every table's row count and every audit chain head, of a database on the test cluster.
async fn census(database: &str) -> (Vec<(String, i64)>, Vec<(uuid::Uuid, i16, i64, Vec<u8>)>) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&cluster().url(database)).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("select tablename::text from pg_tables where schemaname = 'public' order by 1")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mut counts = Vec::new();
    for t in tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from \"{t}\"")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        counts.push((t, n));
    }
    if counts.is_empty() {
        return (counts, Vec::new());
    }
    let heads = sqlx::query_as("select tenant_id, chain, link, hash from audit_chain_heads order by 1, 2")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    (counts, heads)
}

#[tokio::test]
async fn backup_and_restore_round_trip_the_demo_and_refuse_the_wrong_key() {
    let app = TestApp::spawn().await;
    let dir = tempdir();
    let file = dir.join("night.backup");
    let run = |args: &[&str], database: &str, key: [u8; 32]| {
        let out = nightmarket()
            .args(args)
            .arg("--data-dir")
            .arg(dir.join("cli"))
            .env("DATABASE_URL", cluster().url(database))
            .env("DATABASE_APP_URL", cluster().app_url(database))
            .env("NIGHTMARKET_MASTER_KEY", hex::encode(key))
            .output()
            .expect("running nightmarket");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let key = crate::helpers::MASTER_KEY;
    let file_arg = file.to_str().unwrap();

    let (code, out) = run(&["backup", "--to", file_arg], &app.db_name, key);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("master key is NOT in the backup"), "{out}");
    assert!(file.is_file());
    let (code, out) = run(&["backup", "--to", file_arg], &app.db_name, key);
    assert_ne!(code, Some(0), "a backup never overwrites: {out}");

    // An empty database to restore into.
    let target = format!("r_{}", uuid::Uuid::new_v4().simple());
    {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&cluster().url("postgres")).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {target}")))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    // The wrong key: refused, nothing written.
    let (code, out) = run(&["restore", "--from", file_arg], &target, [7u8; 32]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("does not open") && out.contains("Nothing was written"),
        "{out}"
    );
    assert!(census(&target).await.0.is_empty(), "the wrong key wrote nothing");
    // No backup there: a clear refusal.
    let (code, out) = run(&["restore", "--from", "/nonexistent.backup"], &target, key);
    assert_ne!(code, Some(0));
    assert!(out.contains("no backup at"), "{out}");

    // The right key: every table's rows and every chain head as they were, every chain intact.
    let (code, out) = run(&["restore", "--from", file_arg], &target, key);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("audit chains: all intact"), "{out}");
    // (Less the instances' own bookkeeping, which the running test server may add to meanwhile.)
    let bookkeeping = |(counts, heads): (Vec<(String, i64)>, _)| {
        let data: Vec<(String, i64)> = counts
            .into_iter()
            .filter(|(t, _)| t != "job_runs" && t != "throttle_slots")
            .collect();
        (data, heads)
    };
    let (before, after) = (
        bookkeeping(census(&app.db_name).await),
        bookkeeping(census(&target).await),
    );
    assert!(before.0.iter().any(|(t, n)| t == "audit_log" && *n > 0));
    assert_eq!(before.0, after.0, "row counts");
    assert_eq!(before.1, after.1, "audit chain heads");
    let (code, out) = run(&["audit", "verify", "--tenant", "nanan"], &target, key);
    assert_eq!(code, Some(0), "{out}");

    // The restored database serves: the application's role reads it under row-level security.
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&cluster().app_url(&target)).await.unwrap();
        let visible: i64 = sqlx::query_scalar("select count(*) from markets")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(visible, 0, "no tenant set, no rows: isolation survived the restore");
    }
    // Not into a database that holds something.
    let (code, out) = run(&["restore", "--from", file_arg], &target, key);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("not empty"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
