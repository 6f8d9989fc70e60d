//! The command line: `nightmarket [serve]` and the platform operator's commands.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "nightmarket",
    version,
    about = "Digital night markets for city and district governments",
    long_about = "Digital night markets for city and district governments.\n\n\
        Without a command, `nightmarket` serves the web application (same as `nightmarket serve`).\n\
        Without DATABASE_URL it runs its own private PostgreSQL under <data-dir>/pg, using the PostgreSQL \
        server programs installed on this machine, and seeds a demo on first start.",
    after_help = "Environment: NIGHTMARKET_MASTER_KEY (64 hex digits; root of every key, generated into \
        <data-dir>/secrets.json when unset), RUST_LOG (log filter, default info), NIGHTMARKET_LOG_FORMAT \
        (text or json), NIGHTMARKET_PG_USER (the user to run the private PostgreSQL as when started as root; \
        default postgres), NIGHTMARKET_PG_BINDIR (where initdb and postgres are, when not on PATH or in \
        /usr/lib/postgresql/*/bin).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of `serve`, also accepted without the word `serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Clone, Debug, Args)]
pub struct StorageArgs {
    /// Folder for the private PostgreSQL cluster (<data-dir>/pg), generated secrets and the demo logins.
    #[arg(long, env = "NIGHTMARKET_DATA", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Use this PostgreSQL instead of a private one. It connects as the owner of the schema (runs
    /// migrations). Example: postgres://nightmarket:secret@db.internal/nightmarket
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// With DATABASE_URL: how requests log in, as the role nightmarket_app (or a member of it).
    /// When not given, the server creates nightmarket_app with a generated password (needs CREATEROLE).
    #[arg(long, env = "DATABASE_APP_URL", global = true, hide_env_values = true)]
    pub database_app_url: Option<String>,
}

#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "NIGHTMARKET_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// The URL people use to reach the server (default http://<addr>). With https, cookies become
    /// Secure and __Host- prefixed, and HSTS is sent.
    #[arg(long, env = "NIGHTMARKET_PUBLIC_URL")]
    pub public_url: Option<url::Url>,

    /// Do not seed the demo tenants into an empty database.
    #[arg(long, env = "NIGHTMARKET_NO_DEMO")]
    pub no_demo: bool,

    /// Trust X-Forwarded-For (its last entry) as the client address. Only behind your own proxy.
    #[arg(long, env = "NIGHTMARKET_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// Most database connections requests may use at once.
    #[arg(long, env = "NIGHTMARKET_DB_MAX_CONNECTIONS", default_value_t = 32)]
    pub db_max_connections: u32,

    /// Deliver text messages to this HTTP gateway (POST {"to","text"} as JSON); without it they
    /// go to the log and the outbox (`nightmarket sms outbox`).
    #[arg(long, env = "NIGHTMARKET_SMS_URL")]
    pub sms_url: Option<url::Url>,

    /// Seconds between sweeps (expired credentials, month turns, scores as nights pass); the
    /// first runs at start. 0 turns the sweeper off (then run `nightmarket sweep` from cron).
    #[arg(long, env = "NIGHTMARKET_SWEEP_SECS", default_value_t = 300)]
    pub sweep_secs: u64,

    /// A CJK font (TTF/OTF/TTC) for PDF credit records. By default the usual places of Debian's
    /// fonts-droid-fallback, fonts-wqy-microhei and fonts-noto-cjk are tried.
    #[arg(long, env = "NIGHTMARKET_PDF_FONT")]
    pub pdf_font: Option<PathBuf>,

    /// Requests handled at once; more wait their turn (see --max-queue). [default: twice
    /// --db-max-connections] Beyond what the machine and the database can finish quickly, more
    /// only adds waiting.
    #[arg(long, env = "NIGHTMARKET_MAX_IN_FLIGHT")]
    pub max_in_flight: Option<usize>,

    /// Requests that may wait for a turn; beyond this (or after --max-wait-ms) the server answers
    /// 503 with Retry-After at once rather than letting every request slow down. [default: half
    /// of --max-in-flight]
    #[arg(long, env = "NIGHTMARKET_MAX_QUEUE")]
    pub max_queue: Option<usize>,

    /// The longest a request waits for its turn, in milliseconds.
    #[arg(long, env = "NIGHTMARKET_MAX_WAIT_MS", default_value_t = 1000)]
    pub max_wait_ms: u64,

    /// Bearer token for the SMS gateway.
    #[arg(long, env = "NIGHTMARKET_SMS_TOKEN", hide_env_values = true)]
    pub sms_token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application (the default).
    Serve(ServeArgs),
    /// Manage tenants (platform operator).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Text messages the platform sent.
    #[command(subcommand)]
    Sms(SmsCommand),
    /// Operating codes: check a code's signature, rotate a tenant's signing key.
    #[command(subcommand)]
    Code(CodeCommand),
    /// Vendors' credit records (信用记录): check one offline.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Stall lotteries: re-draw a published round offline.
    #[command(subcommand)]
    Lottery(LotteryCommand),
    /// Citus: how the schema distributes over a cluster.
    #[command(subcommand)]
    Citus(CitusCommand),
    /// Back up the whole database to FILE with PostgreSQL's pg_dump (custom format, one consistent
    /// snapshot), through the private cluster or DATABASE_URL. The master key is NOT in it: keep
    /// it apart (see README, "Backups").
    Backup {
        /// The file to write (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty data directory or database. Needs the backed-up
    /// installation's master key (NIGHTMARKET_MASTER_KEY, or this data directory's secrets.json)
    /// and refuses, writing nothing, when it does not open the backup's sealed values; then
    /// migrates to this version and verifies every tenant's audit chains.
    Restore {
        /// The backup to read (made by `nightmarket backup`).
        #[arg(long)]
        from: PathBuf,
    },
    /// Expire lapsed credentials and bring every code's colour up to date (credentials expiring
    /// or expired, penalty points after the month's turn), and send each stall's weekly insight
    /// notice if this week's is not out yet. The server does this every five minutes; running it
    /// again changes nothing.
    Sweep,
    /// Seed a large data set for load benchmarks into an empty database: tenants load-1…load-N
    /// with one market each and many approved stalls. Writes the path of every code, one a line.
    #[command(hide = true)]
    BenchSeed {
        /// Approved stalls in all.
        #[arg(long, default_value_t = 10_000)]
        stalls: usize,
        /// Tenants to share them.
        #[arg(long, default_value_t = 3)]
        tenants: usize,
        /// Where to write the code paths.
        #[arg(long)]
        out: PathBuf,
    },
    /// Seed a tenant `numbers` with history for the dashboard benchmark into an empty database:
    /// --stalls stalls in one market and --nights nights of scans, ratings, check-ins,
    /// complaints, inspections and voucher uses. Writes the admin's password to --out.
    #[command(hide = true)]
    BenchNumbersSeed {
        #[arg(long, default_value_t = 10_000)]
        stalls: usize,
        #[arg(long, default_value_t = 90)]
        nights: i64,
        #[arg(long, default_value_t = 1_000_000)]
        scans: i64,
        #[arg(long, default_value_t = 100_000)]
        ratings: i64,
        #[arg(long, default_value_t = 10_000)]
        complaints: i64,
        #[arg(long, default_value_t = 100_000)]
        redemptions: i64,
        /// Percent of stall-nights checked in.
        #[arg(long, default_value_t = 60)]
        attendance: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Seed a voucher rush for the flash benchmark into an empty database: tenant `flash`, a
    /// campaign of --vouchers (one per person) whose claims open --opens-in seconds from now, and
    /// --shoppers verified shoppers. Writes the campaign id and one shopper token a line.
    #[command(hide = true)]
    BenchFlashSeed {
        #[arg(long, default_value_t = 100_000)]
        vouchers: i64,
        #[arg(long, default_value_t = 300_000)]
        shoppers: usize,
        #[arg(long, default_value_t = 60)]
        opens_in: i64,
        /// Where to write the tokens (the first line is the campaign id).
        #[arg(long)]
        out: PathBuf,
    },
    /// Seed a tenant `chaos` for bench/chaos.sh into an empty database: a market open now,
    /// --stalls stalls with their vendors' tokens, a campaign of --vouchers opening in 3 s and
    /// --shoppers shoppers with tokens. Writes them as JSON to --out.
    #[command(hide = true)]
    BenchChaosSeed {
        #[arg(long, default_value_t = 1200)]
        stalls: usize,
        #[arg(long, default_value_t = 20_000)]
        vouchers: i64,
        #[arg(long, default_value_t = 30_000)]
        shoppers: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum CitusCommand {
    /// Print the SQL that distributes the schema as it is (every tenant table by tenant_id,
    /// co-located; tenants as a reference table), read from the database's catalog. Exits 1 when
    /// a constraint would stop Citus (a unique key or foreign key without tenant_id).
    Plan,
}

#[derive(Debug, Subcommand)]
pub enum SmsCommand {
    /// List recent messages (numbers masked), newest first.
    Outbox {
        /// Only this tenant (slug); all tenants when omitted.
        #[arg(long)]
        tenant: Option<String>,
        /// How many per tenant.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum CodeCommand {
    /// Check that a code URL was signed by its tenant. With --keys it works offline, from the
    /// document published at /t/{tenant}/code-key; exits 1 if the code is not genuine.
    Verify {
        /// The URL a QR code opens, e.g. https://…/c/0123456789abc?k=nanan-1&s=…
        url: String,
        /// The tenant's key document (JSON from /t/{tenant}/code-key); without it the database is asked.
        #[arg(long)]
        keys: Option<PathBuf>,
    },
    /// Make a new signing key for a tenant; codes signed before keep verifying.
    RotateKey {
        /// Tenant slug
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LotteryCommand {
    /// Re-draw a published lottery round offline and compare: the list against its hash, the
    /// tenant's value against the commitment published before the draw, the seed, and the
    /// result, byte for byte. Prints the result when everything holds; otherwise says where it
    /// differs and exits 1. Needs no database and no network.
    Verify {
        /// The round's published data (JSON from the round's page, or
        /// /api/v1/t/{tenant}/lotteries/{round}/published).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Check a credit record offline: its signature against the tenant's published keys, and its
    /// expiry. Exits 1 unless it is genuine and current. (Only /verify/{code} knows of a
    /// revocation.)
    Verify {
        /// The signed record (record.json, downloaded from /verify/{code} or the vendor's page).
        record: PathBuf,
        /// The tenant's key document (JSON from /t/{tenant}/code-key).
        #[arg(long)]
        keys: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its first admin; prints the admin's one-time password.
    Create {
        /// URL name: lowercase letters, digits and hyphens, e.g. nanan
        #[arg(long)]
        slug: String,
        /// Full name, e.g. 重庆市南岸区
        #[arg(long)]
        name: String,
        /// Sign-in name of the first admin
        #[arg(long)]
        admin_login: String,
        /// Display name of the first admin
        #[arg(long, default_value = "管理员")]
        admin_name: String,
        /// IANA time zone of the tenant
        #[arg(long, default_value = "Asia/Shanghai")]
        timezone: String,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check a tenant's hash chain; exits with status 1 if any record was changed or removed.
    Verify {
        /// Tenant slug
        #[arg(long)]
        tenant: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        let cli = Cli::try_parse_from(["nightmarket", "--addr", "0.0.0.0:9000"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.addr.port(), 9000);
        let cli = Cli::try_parse_from(["nightmarket", "serve", "--no-demo"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Serve(ServeArgs { no_demo: true, .. }))
        ));
    }

    #[test]
    fn storage_options_go_anywhere() {
        let cli = Cli::try_parse_from([
            "nightmarket",
            "audit",
            "verify",
            "--tenant",
            "nanan",
            "--data-dir",
            "/tmp/x",
        ])
        .unwrap();
        assert_eq!(cli.storage.data_dir, PathBuf::from("/tmp/x"));
    }
}
