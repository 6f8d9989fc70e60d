//! Starting up: the data directory and its lock, secrets, the database (private or given),
//! migrations, the two pools; and the commands that `main` runs.

use anyhow::{Context, bail};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use tokio::net::TcpListener;

use crate::cli::{AuditCommand, CodeCommand, ServeArgs, SmsCommand, StorageArgs, TenantCommand};
use crate::demo;
use crate::embedded_pg::{self, ClusterOptions, RunningCluster};
use nightmarket_db::{self as db, Db, PoolSettings, TenantTx};
use nightmarket_services as services;
use nightmarket_services::audit::Author;
use nightmarket_services::secrets::{self, Secrets};
use nightmarket_web::app::{self, AppState};
use nightmarket_web::config::Config;

/// The database name of the private cluster.
pub const DATABASE: &str = "nightmarket";

/// Whether this process must be the only one on the data directory (a server), or may share it
/// with a running server (operator commands use that server's PostgreSQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Exclusive,
    Shared,
}

/// An open database: the owner pool (migrations, seeding, operator commands) and the request pool.
pub struct Storage {
    pub owner: PgPool,
    pub app: PgPool,
    pub secrets: Secrets,
    pub data_dir: PathBuf,
    cluster: Option<RunningCluster>,
    _lock: Option<File>,
}

impl Storage {
    /// Closes both pools, then stops the private PostgreSQL if this process started it.
    pub async fn close(self) {
        self.app.close().await;
        self.owner.close().await;
        if let Some(cluster) = self.cluster {
            tracing::info!("stopping the private PostgreSQL");
            cluster.stop().await;
        }
    }
}

/// Takes the data directory's lock; `Ok(None)` when another process holds it.
fn lock_data_dir(dir: &Path) -> anyhow::Result<Option<File>> {
    let path = dir.join("nightmarket.lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            write!(file, "{}", std::process::id())?;
            file.sync_all()?;
            Ok(Some(file))
        }
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
    }
}

fn lock_holder(dir: &Path) -> String {
    let mut text = String::new();
    let _ = File::open(dir.join("nightmarket.lock")).and_then(|mut f| f.read_to_string(&mut text));
    if text.trim().is_empty() {
        "another process".into()
    } else {
        format!("pid {}", text.trim())
    }
}

pub async fn open(args: &StorageArgs, access: Access, pool: &PoolSettings) -> anyhow::Result<Storage> {
    open_with(args, access, pool, true).await
}

/// Opens the database without bringing its schema up to date, for a restore into it (which
/// needs it empty; the restore migrates afterwards). Exclusive: no server may use it meanwhile.
pub async fn open_unmigrated(args: &StorageArgs, pool: &PoolSettings) -> anyhow::Result<Storage> {
    open_with(args, Access::Exclusive, pool, false).await
}

async fn open_with(args: &StorageArgs, access: Access, pool: &PoolSettings, migrate: bool) -> anyhow::Result<Storage> {
    let data_dir =
        std::path::absolute(&args.data_dir).with_context(|| format!("resolving {}", args.data_dir.display()))?;
    if !data_dir.exists() {
        // Traversable but not listable by others: the private PostgreSQL may run as another user
        // (`postgres`, when we are root) and must reach <data-dir>/pg; every file with a secret
        // in it is itself 0600.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(&data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    }
    let lock = lock_data_dir(&data_dir)?;
    if lock.is_none() && access == Access::Exclusive {
        bail!(
            "another nightmarket server ({}) is already using the data directory {}.\n\
             Stop it first, or start this one with another --data-dir.",
            lock_holder(&data_dir),
            data_dir.display()
        );
    }
    let master_key_env = std::env::var("NIGHTMARKET_MASTER_KEY").ok();
    let secrets = secrets::load_or_create(&data_dir, master_key_env.as_deref())?;

    let (owner_options, cluster) = match &args.database_url {
        Some(url) => (
            PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid PostgreSQL URL")?,
            None,
        ),
        None => {
            let root = data_dir.join("pg");
            if lock.is_some() {
                let bins =
                    embedded_pg::find_binaries().ok_or_else(|| anyhow::anyhow!(embedded_pg::MISSING_POSTGRES_HELP))?;
                let options = ClusterOptions {
                    root,
                    superuser_password: secrets.pg_superuser_password.clone(),
                    throwaway: false,
                };
                let cluster = embedded_pg::start(&bins, &options, DATABASE).await?;
                (cluster.connect_options(DATABASE), Some(cluster))
            } else {
                // A running server holds the directory: use its PostgreSQL.
                (
                    embedded_pg::connect_options_for_running(&root, &secrets.pg_superuser_password, DATABASE),
                    None,
                )
            }
        }
    };

    let owner = db::owner_pool(owner_options.clone()).await?;
    let app_options = match &args.database_app_url {
        Some(url) => PgConnectOptions::from_str(url).context("DATABASE_APP_URL is not a valid PostgreSQL URL")?,
        None => {
            let password = secrets::Keys::derive(&secrets.master_key).app_role_password();
            let options = owner_options.username(db::APP_ROLE).password(&password);
            db::ensure_app_role(&owner, &options, &password).await?;
            options
        }
    };
    if migrate {
        db::migrate(&owner).await?;
    }
    let app = db::app_pool(app_options, pool).await?;
    db::check_app_role(&app).await?;
    Ok(Storage {
        owner,
        app,
        secrets,
        data_dir,
        cluster,
        _lock: lock,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn default_public_url(addr: std::net::SocketAddr) -> anyhow::Result<url::Url> {
    let host = if addr.ip().is_unspecified() {
        "localhost".to_string()
    } else {
        addr.ip().to_string()
    };
    let host = if addr.is_ipv6() && !addr.ip().is_unspecified() {
        format!("[{host}]")
    } else {
        host
    };
    Ok(url::Url::parse(&format!("http://{host}:{}", addr.port()))?)
}

pub async fn serve(storage_args: &StorageArgs, args: &ServeArgs) -> anyhow::Result<()> {
    // Bind first: a port in use is found before PostgreSQL is started for nothing.
    let listener = TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {} (in use? choose another with --addr)", args.addr))?;
    let local = listener.local_addr()?;
    let public_url = match &args.public_url {
        Some(u) => u.clone(),
        None => default_public_url(local)?,
    };

    let pool = PoolSettings {
        max_connections: args.db_max_connections,
        ..PoolSettings::default()
    };
    let storage = open(storage_args, Access::Exclusive, &pool).await?;

    let mut credentials = None;
    let seeded = if args.no_demo {
        None
    } else {
        seed_if_empty(&storage, public_url.as_str()).await?
    };
    if let Some(seeded) = seeded {
        credentials = Some(seeded);
    } else if let Some(mut existing) = demo::load(&storage.data_dir) {
        existing.url = public_url.to_string();
        demo::save(&storage.data_dir, &existing)?;
        credentials = Some(existing);
    }

    let mut config = Config::new(public_url.clone());
    config.trust_proxy = args.trust_proxy;
    config.pdf_font = args.pdf_font.clone();
    config.admission = nightmarket_web::http::admission::AdmissionSettings::for_pool(
        args.db_max_connections,
        args.max_in_flight,
        args.max_queue,
        std::time::Duration::from_millis(args.max_wait_ms),
    );
    if let Some(url) = &args.sms_url {
        config.sms = nightmarket_services::sms::Gateway::http(url.clone(), args.sms_token.clone())?;
    }
    let state = AppState::new(Db::new(storage.app.clone()), config, &storage.secrets.master_key);
    let dispatcher = nightmarket_services::sms::spawn_dispatcher(state.ctx.clone());
    let sweeper = nightmarket_services::supervision::spawn_sweeper(state.ctx.clone(), args.sweep_secs);
    let scan_flusher =
        nightmarket_services::scan_counts::spawn_flusher(state.ctx.clone(), std::time::Duration::from_secs(5));

    println!("\nnightmarket is serving at {public_url}");
    if let Some(c) = &credentials {
        println!(
            "Demo sign-ins ({}):",
            storage.data_dir.join(demo::CREDENTIALS_FILE).display()
        );
        for a in &c.accounts {
            println!("  {:<12} {:<9} {:<14} {}", a.tenant, a.role, a.login, a.password);
        }
    }
    println!("Stop with Ctrl-C.\n");

    app::serve(listener, state.clone(), shutdown_signal()).await?;
    dispatcher.abort();
    sweeper.abort();
    scan_flusher.abort();
    // The last few seconds of scans.
    state.ctx.scan_counts.flush(&state.ctx).await;
    storage.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Seeds the demo into an empty database. Instances starting together on one database take turns
/// (a session advisory lock), so exactly one seeds and the others find the tenants there.
async fn seed_if_empty(storage: &Storage, public_url: &str) -> anyhow::Result<Option<demo::DemoCredentials>> {
    const SEED_LOCK: i64 = 0x6e6d_5eed;
    let mut lock = storage.owner.acquire().await?;
    sqlx::query("select pg_advisory_lock($1)")
        .bind(SEED_LOCK)
        .execute(&mut *lock)
        .await?;
    let seeded = async {
        if db::tenants::count(&storage.owner).await? > 0 {
            return Ok(None);
        }
        tracing::info!("empty database: seeding the demo");
        let keys = secrets::Keys::derive(&storage.secrets.master_key);
        demo::seed(&storage.owner, &keys, public_url, &storage.data_dir)
            .await
            .map(Some)
    }
    .await;
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(SEED_LOCK)
        .execute(&mut *lock)
        .await?;
    seeded
}

pub async fn citus(storage_args: &StorageArgs, cmd: &crate::cli::CitusCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        crate::cli::CitusCommand::Plan => {
            let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
            let plan = db::citus::plan(&storage.owner).await;
            storage.close().await;
            let plan = plan?;
            print!("{}", plan.sql());
            for p in &plan.problems {
                eprintln!("problem: {p}");
            }
            Ok(if plan.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

pub async fn sweep(storage_args: &StorageArgs) -> anyhow::Result<ExitCode> {
    let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
    let keys = secrets::Keys::derive(&storage.secrets.master_key);
    let db = Db::new(storage.app.clone());
    let now = chrono::Utc::now();
    let result = services::supervision::sweep(&db, &keys, now).await;
    let weekly = match &result {
        Ok(_) => services::insights::send_weekly(&db, &keys, now, i64::MAX)
            .await
            .map(Some),
        Err(_) => Ok(None),
    };
    storage.close().await;
    let r = result?;
    println!(
        "swept {} tenants, {} vendors: {} credentials expired, {} codes changed colour, {} weekly insight notices sent",
        r.tenants,
        r.vendors,
        r.expired_credentials,
        r.colour_changes,
        weekly?.unwrap_or(0)
    );
    let gone = &r.removed;
    println!(
        "past their retention period and removed: {} scan visitors' device hashes, {} hourly scan counts, \
         {} one-time codes, {} text messages, {} complainants' contact numbers",
        gone.scan_visitors, gone.scan_hours, gone.otp_codes, gone.sms_outbox, gone.complaint_contacts
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs one of the hidden bench seeds against the data directory's database: hands `seed` the
/// owner pool and keys, closes the database, writes what `output` makes of the result to `out`
/// and says what was seeded and how long it took.
async fn run_bench_seed<T>(
    storage_args: &StorageArgs,
    out: &Path,
    seed: impl AsyncFnOnce(&PgPool, &secrets::Keys) -> anyhow::Result<T>,
    output: impl FnOnce(T) -> anyhow::Result<(Vec<u8>, String)>,
) -> anyhow::Result<ExitCode> {
    let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
    let keys = secrets::Keys::derive(&storage.secrets.master_key);
    let started = std::time::Instant::now();
    let result = seed(&storage.owner, &keys).await;
    storage.close().await;
    let (bytes, what) = output(result?)?;
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "seeded {what} in {:.0} s; written to {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn bench_seed(
    storage_args: &StorageArgs,
    stalls: usize,
    tenants: usize,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let tenants = tenants.max(1);
    run_bench_seed(
        storage_args,
        out,
        async |owner, keys| crate::demo::load::seed(owner, keys, tenants, stalls).await,
        |(paths, admin_password): (Vec<String>, String)| {
            // The first tenant's admin signs in to the page bench/scan.sh measures beside a flood.
            let admin = out.with_extension("admin");
            std::fs::write(&admin, admin_password + "\n").with_context(|| format!("writing {}", admin.display()))?;
            let what = format!(
                "{} stalls in {tenants} tenants (code paths; load-1's admin password in {})",
                paths.len(),
                admin.display()
            );
            Ok(((paths.join("\n") + "\n").into_bytes(), what))
        },
    )
    .await
}

pub async fn bench_numbers_seed(
    storage_args: &StorageArgs,
    load: &crate::demo::load::NumbersLoad,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    run_bench_seed(
        storage_args,
        out,
        async |owner, keys| {
            let password = crate::demo::load::seed_numbers(owner, keys, load).await?;
            sqlx::query("analyze").execute(owner).await?;
            Ok(password)
        },
        |password: String| {
            let what = format!(
                "tenant numbers ({} stalls, {} nights; the admin's password)",
                load.stalls, load.nights
            );
            Ok(((password + "\n").into_bytes(), what))
        },
    )
    .await
}

pub async fn bench_flash_seed(
    storage_args: &StorageArgs,
    vouchers: i64,
    shoppers: usize,
    opens_in: i64,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    run_bench_seed(
        storage_args,
        out,
        async |owner, keys| crate::demo::load::seed_flash(owner, keys, vouchers, shoppers, opens_in).await,
        |(campaign, tokens): (uuid::Uuid, Vec<String>)| {
            // The first line is the campaign, then a shopper's token a line.
            let mut text = String::with_capacity(tokens.len() * 260);
            text.push_str(&campaign.to_string());
            text.push('\n');
            for t in &tokens {
                text.push_str(t);
                text.push('\n');
            }
            let what = format!(
                "campaign {campaign} ({vouchers} vouchers, opens in {opens_in} s) and {} shoppers (tokens)",
                tokens.len()
            );
            Ok((text.into_bytes(), what))
        },
    )
    .await
}

pub async fn bench_chaos_seed(
    storage_args: &StorageArgs,
    stalls: usize,
    vouchers: i64,
    shoppers: usize,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    run_bench_seed(
        storage_args,
        out,
        async |owner, keys| crate::demo::load::seed_chaos(owner, keys, stalls, vouchers, shoppers).await,
        |seed| {
            let what = format!("tenant chaos ({stalls} stalls, {vouchers} vouchers, {shoppers} shoppers; JSON)");
            Ok((serde_json::to_vec(&seed)?, what))
        },
    )
    .await
}

pub async fn tenant(storage_args: &StorageArgs, cmd: &TenantCommand) -> anyhow::Result<ExitCode> {
    let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
    let result = async {
        match cmd {
            TenantCommand::Create {
                slug,
                name,
                admin_login,
                admin_name,
                timezone,
            } => {
                let input = services::tenants::NewTenant {
                    slug: slug.clone(),
                    name: name.clone(),
                    timezone: timezone.clone(),
                    admin_login: admin_login.clone(),
                    admin_name: admin_name.clone(),
                };
                match services::tenants::create(&storage.owner, &Author::operator(), input, true).await {
                    Ok(created) => {
                        println!("Created tenant {slug} ({name}).");
                        println!("First admin: {}", created.admin_login);
                        println!("One-time password: {}", created.admin_password);
                        println!("It must be replaced at the first sign-in; it is not shown again.");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(err) => {
                        eprintln!("{}", describe(&err));
                        Ok(ExitCode::from(2))
                    }
                }
            }
            TenantCommand::List => {
                for t in db::tenants::list(&storage.owner).await? {
                    println!("{:<16} {:<20} {}", t.slug, t.timezone.name(), t.name);
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
    .await;
    storage.close().await;
    result
}

/// An error of a service, told to a person at a terminal (in Chinese and English both would be
/// noisy; operators get English).
fn describe(err: &nightmarket_web::error::AppError) -> String {
    use nightmarket_web::error::AppError;
    let lang = nightmarket_web::i18n::Lang::En;
    match err {
        AppError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, lang.msg(&f.msg)))
            .collect::<Vec<_>>()
            .join("\n"),
        AppError::Conflict(msg) | AppError::BadRequest(msg) => lang.msg(msg),
        other => format!("{other}"),
    }
}

pub async fn audit(storage_args: &StorageArgs, cmd: &AuditCommand) -> anyhow::Result<ExitCode> {
    let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
    let result = async {
        match cmd {
            AuditCommand::Verify { tenant } => {
                let Some(t) = db::tenants::by_slug(&storage.owner, tenant).await? else {
                    eprintln!("no tenant {tenant:?}");
                    return Ok(ExitCode::from(2));
                };
                let mut tx = TenantTx::begin(&storage.owner, t.id).await?;
                let v = db::audit::verify(&mut tx).await?;
                if v.ok() {
                    println!("audit chain of {tenant}: {} records, intact", v.records);
                    Ok(ExitCode::SUCCESS)
                } else {
                    println!("audit chain of {tenant}: {} records, BROKEN:", v.records);
                    for b in &v.breaks {
                        println!("  {b}");
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
    .await;
    storage.close().await;
    result
}

pub async fn sms(storage_args: &StorageArgs, cmd: &SmsCommand) -> anyhow::Result<ExitCode> {
    let SmsCommand::Outbox { tenant, limit } = cmd;
    let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
    let result = async {
        for t in db::tenants::list(&storage.owner).await? {
            if tenant.as_ref().is_some_and(|s| *s != t.slug) {
                continue;
            }
            let mut tx = TenantTx::begin(&storage.owner, t.id).await?;
            for m in db::sms::recent(&mut tx, *limit).await? {
                let at = m.created_at.with_timezone(&t.timezone).format("%Y-%m-%d %H:%M:%S");
                println!("{at}  {:<10} {}  {:<7} {}", t.slug, m.phone_masked, m.status, m.body);
            }
        }
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    }
    .await;
    storage.close().await;
    result
}

pub async fn code(storage_args: &StorageArgs, cmd: &CodeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CodeCommand::Verify { url, keys: Some(path) } => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let doc: nightmarket_services::codes::KeyDocument =
                serde_json::from_str(&text).with_context(|| format!("{} is not a key document", path.display()))?;
            Ok(report_verification(nightmarket_services::codes::verify_offline(
                url, &doc,
            )))
        }
        CodeCommand::Verify { url, keys: None } => {
            let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
            let result = async {
                let Some(parsed) = nightmarket_domain::code::parse_code_url(url) else {
                    return Ok(report_verification(Err("not a code URL")));
                };
                let slug = nightmarket_domain::code::tenant_of_kid(&parsed.kid).unwrap_or_default();
                let Some(t) = db::tenants::by_slug(&storage.owner, slug).await? else {
                    return Ok(report_verification(Err("the URL names an unknown tenant")));
                };
                let mut tx = TenantTx::begin(&storage.owner, t.id).await?;
                let keys = db::codes::keys(&mut tx).await?;
                let doc = nightmarket_services::codes::KeyDocument {
                    tenant: t.slug.clone(),
                    algorithm: "Ed25519".into(),
                    message_format: String::new(),
                    keys: keys
                        .into_iter()
                        .map(|k| nightmarket_services::codes::PublicKey {
                            kid: k.kid,
                            public_key: base64::Engine::encode(
                                &base64::engine::general_purpose::STANDARD,
                                &k.public_key,
                            ),
                            created_at: k.created_at,
                            retired: k.retired_at.is_some(),
                        })
                        .collect(),
                };
                Ok(report_verification(nightmarket_services::codes::verify_offline(
                    url, &doc,
                )))
            }
            .await;
            storage.close().await;
            result
        }
        CodeCommand::RotateKey { tenant } => {
            let storage = open(storage_args, Access::Shared, &PoolSettings::default()).await?;
            let result = async {
                let Some(t) = db::tenants::by_slug(&storage.owner, tenant).await? else {
                    eprintln!("no tenant {tenant:?}");
                    return Ok(ExitCode::from(2));
                };
                let keys = nightmarket_services::secrets::Keys::derive(&storage.secrets.master_key);
                let mut tx = TenantTx::begin(&storage.owner, t.id).await?;
                let key = nightmarket_services::codes::rotate_key(&mut tx, &keys, &t, &Author::operator())
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                tx.commit().await?;
                println!("new signing key {} for {tenant}; earlier codes keep verifying", key.kid);
                Ok(ExitCode::SUCCESS)
            }
            .await;
            storage.close().await;
            result
        }
    }
}

/// `nightmarket record verify`: a credit record checked offline against a key document.
/// `nightmarket lottery verify FILE`: the same draw as the server's (domain::lottery), offline.
pub fn lottery(cmd: &crate::cli::LotteryCommand) -> anyhow::Result<ExitCode> {
    use nightmarket_domain::lottery;
    let crate::cli::LotteryCommand::Verify { file } = cmd;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let published: lottery::Published =
        serde_json::from_str(&text).with_context(|| format!("{} is not a published lottery round", file.display()))?;
    match lottery::verify(&published) {
        Ok(result) => {
            println!(
                "verified: “{}”, {} entries, list hash {}, commitment {} matches the tenant's value, seed {}",
                published.title,
                published.entries.len(),
                published.list_hash,
                published.commitment,
                published.seed.as_deref().unwrap_or_default()
            );
            for c in &result {
                let drawn: Vec<String> = c.drawn.iter().map(|d| d.number.to_string()).collect();
                let waiting: Vec<String> = c.waitlist.iter().map(u32::to_string).collect();
                println!(
                    "{}: {} slots; drawn {}; waitlist {}",
                    c.category.as_str(),
                    c.slots,
                    if drawn.is_empty() {
                        "none".into()
                    } else {
                        drawn.join(" ")
                    },
                    if waiting.is_empty() {
                        "none".into()
                    } else {
                        waiting.join(" ")
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(mismatch) => {
            println!("NOT verified: {mismatch}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn record(cmd: &crate::cli::RecordCommand) -> anyhow::Result<ExitCode> {
    let crate::cli::RecordCommand::Verify { record, keys } = cmd;
    let text = std::fs::read_to_string(keys).with_context(|| format!("reading {}", keys.display()))?;
    let doc: nightmarket_services::codes::KeyDocument =
        serde_json::from_str(&text).with_context(|| format!("{} is not a key document", keys.display()))?;
    let text = std::fs::read_to_string(record).with_context(|| format!("reading {}", record.display()))?;
    let signed: nightmarket_domain::record::SignedRecord =
        serde_json::from_str(&text).with_context(|| format!("{} is not a signed record", record.display()))?;
    match nightmarket_services::credit::verify_offline(&signed, &doc, chrono::Utc::now()) {
        Ok((nightmarket_domain::record::Standing::Valid, payload)) => {
            println!(
                "genuine: record {} issued by {} on {}, valid until {} (signed with key {}); sections: {}",
                payload.code,
                payload.issuer,
                payload.issued_at.format("%Y-%m-%d"),
                payload.expires_at.format("%Y-%m-%d %H:%M UTC"),
                signed.kid,
                shared_sections(&payload).join(", ")
            );
            println!("(a revocation is known only online: /verify/{})", payload.code);
            Ok(ExitCode::SUCCESS)
        }
        Ok((standing, payload)) => {
            println!(
                "genuine but {}: record {} expired {}",
                standing.as_str(),
                payload.code,
                payload.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            Ok(ExitCode::FAILURE)
        }
        Err(why) => {
            println!("NOT GENUINE: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn shared_sections(p: &nightmarket_domain::record::Payload) -> Vec<&'static str> {
    [
        ("trading", p.trading.is_some()),
        ("score", p.score.is_some()),
        ("complaints", p.complaints.is_some()),
        ("inspections", p.inspections.is_some()),
        ("credentials", p.credentials.is_some()),
        ("vouchers", p.vouchers.is_some()),
    ]
    .into_iter()
    .filter(|(_, shared)| *shared)
    .map(|(name, _)| name)
    .collect()
}

fn report_verification(result: Result<(String, String), &'static str>) -> ExitCode {
    match result {
        Ok((code, kid)) => {
            println!("genuine: code {code}, signed with key {kid}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            println!("NOT GENUINE: {why}");
            ExitCode::FAILURE
        }
    }
}
