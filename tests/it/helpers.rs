//! The test harness: a private PostgreSQL cluster for this test process (started the same way the
//! server starts its own), two template databases made once (migrated; migrated + demo), and for
//! each test a fresh database copied from a template, served over real HTTP on a free port.

use nightmarket::demo::{self, DemoCredentials};
use nightmarket::embedded_pg::{self, ClusterOptions};
use nightmarket_db::{self as db, Db, PoolSettings};
use nightmarket_services::secrets::Keys;
use nightmarket_web::app::{self, AppState};
use nightmarket_web::config::Config;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};
use std::path::PathBuf;
use std::sync::OnceLock;
use tokio::sync::oneshot;

/// A plain HTTP client (TLS for reqwest is ring, installed once per process as in main.rs).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Every test database uses this master key, so blind indexes in the templates stay valid.
pub const MASTER_KEY: [u8; 32] = [42u8; 32];
pub const TEMPLATE_EMPTY: &str = "nm_template_empty";
pub const TEMPLATE_DEMO: &str = "nm_template_demo";

pub struct Cluster {
    pub socket_dir: PathBuf,
    pub password: String,
    pub app_password: String,
    pub demo: DemoCredentials,
}

impl Cluster {
    pub fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .port(5432)
            .username("postgres")
            .password(&self.password)
            .database(database)
            .log_statements(tracing::log::LevelFilter::Trace)
    }

    pub fn app_options(&self, database: &str) -> PgConnectOptions {
        self.options(database)
            .username(db::APP_ROLE)
            .password(&self.app_password)
    }

    /// A URL for programs (the CLI) to reach `database` as the application role.
    pub fn app_url(&self, database: &str) -> String {
        format!(
            "postgres://{}:{}@localhost/{database}?host={}&port=5432",
            db::APP_ROLE,
            self.app_password,
            self.socket_dir.display()
        )
    }

    /// A URL for programs (the CLI) to reach `database` as the owner.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@localhost/{database}?host={}&port=5432",
            self.password,
            self.socket_dir.display()
        )
    }
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// Removes clusters left by earlier test runs whose process is gone.
fn remove_stale_clusters(base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name.strip_prefix("run-").and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        let pg_running = std::fs::read_to_string(entry.path().join("pg/data/postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
            .is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive && !pg_running {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        // Made on its own thread and runtime: tests run on many runtimes, and blocking on a
        // runtime from inside another is not allowed.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(start_cluster())
        })
        .join()
        .expect("the cluster thread")
    })
}

async fn start_cluster() -> Cluster {
    let bins = embedded_pg::find_binaries().unwrap_or_else(|| panic!("{}", embedded_pg::MISSING_POSTGRES_HELP));
    let base = std::env::temp_dir().join("nightmarket-tests");
    std::fs::create_dir_all(&base).expect("test base dir");
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o711));
    remove_stale_clusters(&base);
    let root = base.join(format!("run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("test cluster dir");
    let _ = std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711));
    let password = nightmarket_services::secrets::random_password(24);
    // As the server derives it, so a server started on this cluster finds it working.
    let app_password = Keys::derive(&MASTER_KEY).app_role_password();
    let options = ClusterOptions {
        root: root.join("pg"),
        superuser_password: password.clone(),
        throwaway: true,
    };
    let running = embedded_pg::start(&bins, &options, "postgres")
        .await
        .expect("starting the test cluster");
    let socket_dir = running.socket_dir().to_path_buf();
    // Deliberately never stopped: it lives as long as this process, then the parent-death signal ends it.
    std::mem::forget(running);

    let mut cluster = Cluster {
        socket_dir,
        password,
        app_password,
        demo: DemoCredentials::default(),
    };
    let mut admin = PgConnection::connect_with(&cluster.options("postgres"))
        .await
        .expect("connect");
    for template in [TEMPLATE_EMPTY, TEMPLATE_DEMO] {
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {template}")))
            .execute(&mut admin)
            .await
            .expect("create template");
        let owner = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(cluster.options(template))
            .await
            .expect("owner pool");
        db::ensure_app_role(&owner, &cluster.app_options(template), &cluster.app_password)
            .await
            .expect("app role");
        db::migrate(&owner).await.expect("migrations");
        if template == TEMPLATE_DEMO {
            let keys = Keys::derive(&MASTER_KEY);
            cluster.demo = demo::seed(&owner, &keys, "http://test", &root)
                .await
                .expect("demo seed");
        }
        owner.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter database {template} is_template true"
        )))
        .execute(&mut admin)
        .await
        .expect("mark template");
    }
    admin.close().await.ok();
    cluster
}

/// A fresh database copied from `template`, with its name.
pub async fn fresh_database(template: &str) -> String {
    let c = cluster();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect_with(&c.options("postgres"))
        .await
        .expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create database {name} template {template}"
    )))
    .execute(&mut admin)
    .await
    .expect("create test database");
    admin.close().await.ok();
    name
}

pub struct TestApp {
    pub base: String,
    pub db_name: String,
    /// Superuser on the test database: for arranging and inspecting, never for the app's work.
    pub owner: PgPool,
    pub state: AppState,
    pub demo: DemoCredentials,
    shutdown: Option<oneshot::Sender<()>>,
}

pub struct Options {
    pub template: &'static str,
    pub app_max_connections: u32,
    pub configure: fn(&mut Config),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            template: TEMPLATE_DEMO,
            app_max_connections: 4,
            configure: |_| {},
        }
    }
}

impl TestApp {
    /// The application on the demo data.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(opts: Options) -> TestApp {
        // Logs go through the test harness's capture (shown for failing tests); RUST_LOG filters.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .try_init();
        let db_name = fresh_database(opts.template).await;
        TestApp::start(db_name, opts).await
    }

    /// Another instance of the server on this one's database (several instances are the normal
    /// case): its own port, pools, caches and listener.
    pub async fn beside(&self, configure: fn(&mut Config)) -> TestApp {
        TestApp::start(
            self.db_name.clone(),
            Options {
                configure,
                ..Options::default()
            },
        )
        .await
    }

    async fn start(db_name: String, opts: Options) -> TestApp {
        let c = cluster();
        let owner = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(c.options(&db_name))
            .await
            .expect("owner pool");
        let settings = PoolSettings {
            max_connections: opts.app_max_connections,
            ..PoolSettings::default()
        };
        let app_pool = db::app_pool(c.app_options(&db_name), &settings)
            .await
            .expect("app pool");
        db::check_app_role(&app_pool).await.expect("the app role is safe");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let mut config = Config::new(base.parse().expect("url"));
        (opts.configure)(&mut config);
        let state = AppState::new(Db::new(app_pool), config, &MASTER_KEY);
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        TestApp {
            base,
            db_name,
            owner,
            state,
            demo: c.demo.clone(),
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that keeps cookies and does not follow redirects (so tests can see them).
    pub fn client(&self) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client")
    }

    /// Opens a code's scan page as `client` (which keeps its device cookie), follows its link to
    /// rate, and returns the rating ticket the form carries, when the page offers to rate.
    pub async fn rating_ticket(&self, client: &reqwest::Client, scan_path: &str) -> Option<String> {
        let html = client.get(self.url(scan_path)).send().await.ok()?.text().await.ok()?;
        let start = html.find("id=\"rate-link\" href=\"")? + "id=\"rate-link\" href=\"".len();
        let href = html[start..][..html[start..].find('"')?]
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        let form = client.get(self.url(&href)).send().await.ok()?.text().await.ok()?;
        let start = form.find("name=\"ticket\" value=\"")? + "name=\"ticket\" value=\"".len();
        let ticket = &form[start..][..form[start..].find('"')?];
        (!ticket.is_empty()).then(|| ticket.to_string())
    }

    pub fn password_of(&self, tenant: &str, role: &str) -> (String, String) {
        let a = self
            .demo
            .accounts
            .iter()
            .find(|a| a.tenant == tenant && a.role == role)
            .unwrap_or_else(|| panic!("no demo {role} in {tenant}"));
        (a.login.clone(), a.password.clone())
    }

    /// A client signed in through the login form, as a browser would be.
    pub async fn signed_in(&self, tenant: &str, role: &str) -> reqwest::Client {
        let (login, password) = self.password_of(tenant, role);
        let client = self.client();
        let r = client
            .post(self.url("/login"))
            .form(&[
                ("tenant", tenant),
                ("login", &login),
                ("password", &password),
                ("next", ""),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "signing in as {role} of {tenant}");
        client
    }

    /// A bearer token from the JSON login.
    pub async fn token(&self, tenant: &str, role: &str) -> String {
        let (login, password) = self.password_of(tenant, role);
        let r = self
            .client()
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"tenant": tenant, "login": login, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client().get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A GET without a session: the status and the body as text.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.client().get(self.url(path)).send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (u16, Value) {
        let mut req = self.client().request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// How the demo account with this role is stored in `users.login`: a vendor's phone number as
    /// its keyed blind index, a staff login as typed.
    pub async fn login_key(&self, tenant: &str, role: &str) -> String {
        let (login, _) = self.password_of(tenant, role);
        match nightmarket_domain::people::Phone::parse(&login) {
            Some(phone) if role == "vendor" => nightmarket_services::accounts::phone_login_key(
                &self.state.ctx.keys,
                nightmarket_domain::tenant::TenantId(self.tenant_id(tenant).await),
                &phone,
            ),
            _ => login,
        }
    }

    pub async fn tenant_id(&self, slug: &str) -> uuid::Uuid {
        sqlx::query_scalar("select id from tenants where slug = $1")
            .bind(slug)
            .fetch_one(&self.owner)
            .await
            .expect("tenant")
    }

    /// Rows of a table, counted by the superuser (row-level security does not apply to it).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&self.owner)
            .await
            .expect("count")
    }

    /// Signed in over the API as the tenant's demo admin, official or vendor.
    pub async fn as_admin(&self, tenant: &str) -> Session<'_> {
        self.as_role(tenant, "admin").await
    }

    pub async fn as_official(&self, tenant: &str) -> Session<'_> {
        self.as_role(tenant, "official").await
    }

    pub async fn as_vendor(&self, tenant: &str) -> Session<'_> {
        self.as_role(tenant, "vendor").await
    }

    async fn as_role(&self, tenant: &str, role: &str) -> Session<'_> {
        Session {
            app: self,
            token: Some(self.token(tenant, role).await),
        }
    }

    /// No one signed in.
    pub fn anonymous(&self) -> Session<'_> {
        Session { app: self, token: None }
    }

    /// A status ladder: the same request sent by each of `who`, each answered with its status.
    pub async fn ladder(&self, method: reqwest::Method, path: &str, body: &Value, who: &[(Who<'_>, u16)]) {
        for (sender, expected) in who {
            let session = match sender {
                Who::Nobody => self.anonymous(),
                Who::Admin(t) => self.as_admin(t).await,
                Who::Official(t) => self.as_official(t).await,
                Who::Vendor(t) => self.as_vendor(t).await,
                Who::Token(token) => Session {
                    app: self,
                    token: Some(token.to_string()),
                },
            };
            let (status, answer) = session.send(method.clone(), path, body).await;
            assert_eq!(status, *expected, "{sender:?}: {method} {path}: {answer}");
            let code = match status {
                401 => "unauthorized",
                403 => "forbidden",
                404 => "not_found",
                _ => continue,
            };
            assert_eq!(answer["error"]["code"], code, "{sender:?}: {method} {path}");
        }
    }

    /// The one-time code in the newest SMS to the masked number (waits for the outbox).
    pub async fn sms_code(&self, masked: &str) -> String {
        for _ in 0..50 {
            let body: Option<String> = sqlx::query_scalar(
                "select body from sms_outbox where phone_masked = $1 and body like '%验证码%' order by created_at desc limit 1",
            )
            .bind(masked)
            .fetch_optional(&self.owner)
            .await
            .unwrap();
            if let Some(body) = body {
                let i = body.find("验证码 ").expect("the code in the text") + "验证码 ".len();
                return body[i..i + 6].to_string();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no code sent to {masked}");
    }

    pub fn market_id(&self, tenant: &str) -> String {
        self.demo.samples[&format!("{tenant}_market_id")]
            .as_str()
            .expect("sample market")
            .to_string()
    }
}

/// Who sends a request in a status ladder: no one, a tenant's demo admin, official or vendor, or
/// whoever holds a token the test already has.
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    Nobody,
    Admin(&'static str),
    Official(&'static str),
    Vendor(&'static str),
    Token(&'a str),
}

/// Someone signed in over the API (or no one), sending JSON requests.
pub struct Session<'a> {
    app: &'a TestApp,
    pub token: Option<String>,
}

impl Session<'_> {
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.app.get_json(path, self.token.as_deref()).await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        self.app.send_json(method, path, self.token.as_deref(), body).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let name = self.db_name.clone();
        let c = cluster();
        let options = c.options("postgres");
        // Drop the database on a thread of its own: Drop cannot await, and the test's runtime
        // may be shutting down. WITH (FORCE) ends connections that are still open. The thread is
        // not joined: the runtime must go on to close this app's sockets (a connection caught
        // half-way through signing in would otherwise hold the drop for PostgreSQL's
        // authentication timeout).
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = PgConnection::connect_with(&options).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "drop database if exists {name} with (force)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        });
    }
}

/// A minimal HTML check: the document parsed and the text of the elements matching `selector`.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).expect("selector");
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

/// Child processes (servers, a proxy) killed when the test ends, however it ends: a failing or
/// panicking test leaves nothing running behind it.
pub struct Processes(pub Vec<std::process::Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
