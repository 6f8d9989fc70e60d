//! Database access: pools, migrations, the application role, and the tenant-scoped transaction.
//!
//! Every function in the submodules takes the connection or transaction it runs on and knows
//! nothing of HTTP. Functions that touch tenant tables take a [`TenantTx`], which cannot exist
//! without having set `app.tenant_id`, so tenant code that forgets its tenant does not compile.

pub mod applications;
pub mod audit;
pub mod calendar;
pub mod checkins;
pub mod citus;
pub mod codes;
pub mod complaints;
pub mod credentials;
pub mod credit;
pub mod disputes;
pub mod erasure;
pub mod export;
pub mod goods;
pub mod insights;
pub mod inspections;
pub mod lottery;
pub mod markets;
pub mod notifications;
pub mod numbers;
pub mod otp;
pub mod payees;
pub mod photos;
pub mod plans;
pub mod ratings;
pub mod retention;
pub mod scan;
pub mod scan_counts;
pub mod scores;
pub mod settings;
pub mod sms;
pub mod tenants;
pub mod users;
pub mod vouchers;
pub mod watch;

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use uuid::Uuid;

use nightmarket_domain::tenant::TenantId;

/// The role every request runs as (see migrations/0001_tenancy.sql).
pub const APP_ROLE: &str = "nightmarket_app";

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// Limits for the request pool.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// No statement of a request runs longer than this.
    pub statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 32,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(15),
        }
    }
}

/// A pool for the owner connection: migrations, the demo seed and operator commands.
pub async fn owner_pool(options: PgConnectOptions) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.application_name("nightmarket-owner"))
        .await
        .context("connecting to PostgreSQL as the owner")
}

/// The pool requests use, logged in as `nightmarket_app`.
pub async fn app_pool(options: PgConnectOptions, settings: &PoolSettings) -> anyhow::Result<PgPool> {
    let statement_timeout = format!("{}ms", settings.statement_timeout.as_millis());
    let options = options.application_name("nightmarket").options([
        ("statement_timeout", statement_timeout.as_str()),
        ("idle_in_transaction_session_timeout", "60s"),
    ]);
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .min_connections(1)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
        .context("connecting to PostgreSQL as nightmarket_app")
}

/// Makes sure `nightmarket_app` can log in with `password` (derived from the master key, the
/// same on every instance), touching the role as little as possible, so that instances starting,
/// restarting and running operator commands in any order never lock one another out:
/// - the role exists and the password works: nothing is changed;
/// - the role is missing: it is created (the owner needs CREATEROLE); an instance that loses the
///   race to create it finds it made with the same password;
/// - the role exists with another password (a deployment from before the password was derived)
///   or without LOGIN: only LOGIN and the password are set, never the role's attributes, which a non-superuser owner with
///   CREATEROLE may not touch on PostgreSQL 15.
pub async fn ensure_app_role(owner: &PgPool, app: &PgConnectOptions, password: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_roles where rolname = $1)")
        .bind(APP_ROLE)
        .fetch_one(owner)
        .await?;
    if exists {
        match sqlx::PgConnection::connect_with(app).await {
            Ok(conn) => {
                let _ = conn.close().await;
                return Ok(());
            }
            // invalid_password: the role predates the derived password; invalid_authorization_
            // specification: it cannot log in (migration 0001 makes it NOLOGIN when missing).
            Err(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("28P01" | "28000")) => {}
            Err(e) => return Err(e).context("connecting to PostgreSQL as nightmarket_app"),
        }
    }
    // DDL takes no bind parameters; format() with %L quotes the password as a literal.
    let statement: String = sqlx::query_scalar(if exists {
        "select format('alter role nightmarket_app login password %L', $1::text)"
    } else {
        "select format('create role nightmarket_app login password %L nosuperuser nocreatedb nocreaterole \
         nobypassrls noreplication', $1::text)"
    })
    .bind(password)
    .fetch_one(owner)
    .await?;
    match sqlx::query(sqlx::AssertSqlSafe(statement)).execute(owner).await {
        Ok(_) => Ok(()),
        // duplicate_object: another instance created it a moment ago, with the same password.
        Err(sqlx::Error::Database(e)) if !exists && e.code().as_deref() == Some("42710") => Ok(()),
        Err(e) => Err(e).context(if exists {
            "setting the password of the role nightmarket_app (the owner connection needs CREATEROLE and \
             ADMIN OPTION on it, or give DATABASE_APP_URL)"
        } else {
            "creating the role nightmarket_app (the owner connection needs CREATEROLE, or give DATABASE_APP_URL)"
        }),
    }
}

/// How many tables, indexes, sequences and views the schema holds: 0 for a database nothing was
/// created in (what a restore needs).
pub async fn schema_objects(owner: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public'"#
    )
    .fetch_one(owner)
    .await
}

/// Tenants and audit records in all: what an operator is told a backup holds.
pub async fn census(owner: &PgPool) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        r#"select (select count(*) from tenants) as "tenants!", (select count(*) from audit_log) as "records!""#
    )
    .fetch_one(owner)
    .await?;
    Ok((row.tenants, row.records))
}

pub async fn migrate(owner: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(owner).await.context("running migrations")
}

/// Refuses to serve when the request connection could escape row-level security: it must not be
/// a superuser, must not bypass RLS, and must own no table (owners can disable RLS).
pub async fn check_app_role(app: &PgPool) -> anyhow::Result<()> {
    let (user, superuser, bypass, owned): (String, bool, bool, i64) = sqlx::query_as(
        "select r.rolname::text, r.rolsuper, r.rolbypassrls,
                (select count(*) from pg_class c where c.relowner = r.oid)
         from pg_roles r where r.rolname = current_user",
    )
    .fetch_one(app)
    .await?;
    if superuser || bypass || owned > 0 {
        bail!(
            "the request connection logs in as {user:?}, which {}; tenant isolation needs a role without \
             SUPERUSER/BYPASSRLS that owns nothing (nightmarket_app)",
            if superuser {
                "is a superuser"
            } else if bypass {
                "has BYPASSRLS"
            } else {
                "owns tables"
            }
        );
    }
    let is_member: bool = sqlx::query_scalar("select pg_has_role(current_user, 'nightmarket_app', 'usage')")
        .fetch_one(app)
        .await?;
    if !is_member {
        bail!("the request connection logs in as {user:?}, which is not nightmarket_app nor a member of it");
    }
    Ok(())
}

/// Told, after a transaction commits, which codes it changed something about that a scan page
/// shows (their colour, causes, check-ins, ratings, score): the scan page cache of this instance
/// forgets them at once. Other instances learn it from the `nightmarket_scan` channel.
pub type CommitHook = Arc<dyn Fn(TenantId, &[Uuid]) + Send + Sync>;

/// The request-side database handle.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    on_commit: Arc<OnceLock<CommitHook>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("pool", &self.pool).finish_non_exhaustive()
    }
}

impl Db {
    pub fn new(pool: PgPool) -> Db {
        Db {
            pool,
            on_commit: Arc::default(),
        }
    }

    /// Sets the hook told about changed codes at commit (once; later calls are ignored).
    pub fn set_commit_hook(&self, hook: CommitHook) {
        let _ = self.on_commit.set(hook);
    }

    /// For tables that belong to no tenant (the tenant registry). Tenant tables read through this
    /// pool show no rows, because no tenant is set.
    pub fn global(&self) -> &PgPool {
        &self.pool
    }

    /// Opens a transaction scoped to `tenant`.
    pub async fn tenant(&self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        let mut tx = TenantTx::begin(&self.pool, tenant).await?;
        tx.on_commit = self.on_commit.get().cloned();
        Ok(tx)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `SET LOCAL app.tenant_id` for `tenant`, after `prefix`: the only way the tenant reaches the
/// database. The id is a UUID the server holds, never text from a request.
fn set_tenant(prefix: &str, tenant: TenantId) -> String {
    format!("{prefix}set local app.tenant_id = '{}'", tenant.0.hyphenated())
}

/// A transaction in which `app.tenant_id` is set: row-level security shows and accepts only this
/// tenant's rows. The setting is transaction-local, so a pooled connection carries nothing over
/// to the next request.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
    /// Codes whose scan page this transaction changed.
    touched: Vec<Uuid>,
    on_commit: Option<CommitHook>,
}

impl TenantTx {
    pub async fn begin(pool: &PgPool, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        // One round trip: BEGIN and the setting travel together. `SET LOCAL` rather than
        // set_config(), because Citus forwards SET LOCAL (citus.propagate_set_commands = 'local')
        // to the workers, where row-level security reads it. A Uuid formats as hex digits and
        // hyphens only, so it is safe inside the literal.
        let tx = pool
            .begin_with(sqlx::AssertSqlSafe(set_tenant("begin; ", tenant)))
            .await?;
        Ok(TenantTx {
            tx,
            tenant,
            touched: Vec::new(),
            on_commit: None,
        })
    }

    /// Scopes a transaction already under way (e.g. one that has just created the tenant).
    pub async fn scope(mut tx: Transaction<'static, Postgres>, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        sqlx::query(sqlx::AssertSqlSafe(set_tenant("", tenant)))
            .execute(&mut *tx)
            .await?;
        Ok(TenantTx {
            tx,
            tenant,
            touched: Vec::new(),
            on_commit: None,
        })
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Notes that what the scan page of `code` shows changes with this transaction.
    pub fn touch(&mut self, code: Uuid) {
        if !self.touched.contains(&code) {
            self.touched.push(code);
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        if let (Some(hook), false) = (&self.on_commit, self.touched.is_empty()) {
            hook(self.tenant, &self.touched);
        }
        Ok(())
    }
}
