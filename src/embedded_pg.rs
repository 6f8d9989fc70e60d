//! A private PostgreSQL cluster under `<data-dir>/pg`, used when no `DATABASE_URL` is given.
//!
//! It uses the PostgreSQL server programs installed on the machine (`initdb`, `postgres`, found on
//! PATH or in Debian's `/usr/lib/postgresql/<version>/bin`), listens only on a Unix socket inside
//! `<data-dir>/pg/run` (no TCP port), and authenticates its superuser `postgres` with a generated
//! password. The cluster is created on first start and reused afterwards.
//!
//! PostgreSQL refuses to run as root. When we are root (containers, CI), the cluster runs as the
//! unprivileged `postgres` user that Debian's package creates, and its folders belong to that user.
//!
//! The postmaster is our child, started from a dedicated thread with a parent-death signal: if the
//! server dies without stopping it (kill -9), the kernel sends it SIGINT (fast shutdown), so a
//! crashed server never leaves an orphan holding the data directory. A clean stop sends the same
//! signal and waits.

use anyhow::{Context, anyhow, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The port only names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
const PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes on Linux.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Clone, Debug)]
pub struct PgBinaries {
    pub initdb: PathBuf,
    pub postgres: PathBuf,
}

/// What to tell a person who has no PostgreSQL server programs.
pub const MISSING_POSTGRES_HELP: &str = "PostgreSQL server programs (initdb, postgres) were not found on PATH or in \
/usr/lib/postgresql/*/bin.\nInstall them, e.g. on Debian/Ubuntu: `sudo apt-get install postgresql`, \
or point nightmarket at an existing server with DATABASE_URL=postgres://user:password@host/db.";

/// Finds `initdb` and `postgres`: in `NIGHTMARKET_PG_BINDIR` when set (and only there), else
/// first on PATH (both in one folder), then the newest version in Debian's versioned folders.
pub fn find_binaries() -> Option<PgBinaries> {
    let from_dir = |dir: &Path| {
        let initdb = dir.join("initdb");
        let postgres = dir.join("postgres");
        (is_executable(&initdb) && is_executable(&postgres)).then_some(PgBinaries { initdb, postgres })
    };
    if let Some(dir) = std::env::var_os("NIGHTMARKET_PG_BINDIR") {
        return from_dir(Path::new(&dir));
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(found) = std::env::split_paths(&path).find_map(|dir| from_dir(&dir))
    {
        return Some(found);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .collect();
    versions.sort();
    versions.into_iter().rev().find_map(|(_, dir)| from_dir(&dir))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Settings for a cluster.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// `<data-dir>/pg`
    pub root: PathBuf,
    pub superuser_password: String,
    /// Trade durability for speed (fsync off): for throwaway test clusters only.
    pub throwaway: bool,
}

/// A running cluster. Dropping it without [`RunningCluster::stop`] leaves PostgreSQL running until
/// this process exits (then the parent-death signal stops it).
pub struct RunningCluster {
    socket_dir: PathBuf,
    password: String,
    pid: Pid,
    stop_tx: mpsc::Sender<mpsc::Sender<()>>,
}

impl std::fmt::Debug for RunningCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningCluster")
            .field("socket_dir", &self.socket_dir)
            .field("pid", &self.pid)
            .finish()
    }
}

impl RunningCluster {
    /// Options to connect as the superuser to `database`.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        socket_options(&self.socket_dir, &self.password, database)
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The postmaster's process id when the cluster was started (a restarted one has another).
    pub fn pid(&self) -> i32 {
        self.pid.as_raw()
    }

    /// Fast shutdown: disconnects clients, checkpoints, exits. Waits for it to finish.
    pub async fn stop(self) {
        let (done_tx, done_rx) = mpsc::channel();
        if self.stop_tx.send(done_tx).is_ok() {
            let _ = tokio::task::spawn_blocking(move || done_rx.recv_timeout(Duration::from_secs(60))).await;
        }
    }
}

/// Options to reach a cluster that another process (a running server) started in `root`.
pub fn connect_options_for_running(root: &Path, password: &str, database: &str) -> PgConnectOptions {
    socket_options(&root.join("run"), password, database)
}

fn socket_options(socket_dir: &Path, password: &str, database: &str) -> PgConnectOptions {
    PgConnectOptions::new()
        .socket(socket_dir)
        .port(PORT)
        .username("postgres")
        .password(password)
        .database(database)
        .log_statements(tracing::log::LevelFilter::Trace)
}

/// The unprivileged user to run PostgreSQL as, when we are root.
fn run_as_user() -> anyhow::Result<Option<User>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let name = std::env::var("NIGHTMARKET_PG_USER").unwrap_or_else(|_| "postgres".to_string());
    match User::from_name(&name) {
        Ok(Some(user)) if !user.uid.is_root() => Ok(Some(user)),
        _ => bail!(
            "PostgreSQL refuses to run as root, and there is no unprivileged user {name:?} to run it as.\n\
             Create one (Debian's postgresql package creates `postgres`), set NIGHTMARKET_PG_USER to another, \
             run nightmarket as a normal user, or set DATABASE_URL."
        ),
    }
}

/// Fails with a clear message if `user` cannot enter every folder on the way to `dir`.
fn check_reachable(dir: &Path, user: &User) -> anyhow::Result<()> {
    let mut ancestors: Vec<&Path> = dir.ancestors().skip(1).collect();
    ancestors.reverse();
    for ancestor in ancestors {
        let Ok(meta) = std::fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.mode();
        let can_enter = if meta.uid() == user.uid.as_raw() {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid.as_raw() {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !can_enter {
            bail!(
                "PostgreSQL runs as user {:?}, which cannot enter {} (mode {:o}).\n\
                 Choose a --data-dir that user can reach (e.g. under /var/lib or /srv), or set DATABASE_URL.",
                user.name,
                ancestor.display(),
                mode & 0o777
            );
        }
    }
    Ok(())
}

fn make_private_dir(dir: &Path, owner: Option<&User>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if let Some(user) = owner {
        nix::unistd::chown(dir, Some(user.uid), Some(user.gid)).with_context(|| format!("chown {}", dir.display()))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn apply_user(cmd: &mut Command, user: Option<&User>) {
    if let Some(user) = user {
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        cmd.env("HOME", &user.dir).env("USER", &user.name);
    }
}

/// Creates the cluster if needed, starts it and waits until it accepts connections; ensures the
/// `database` exists.
pub async fn start(bins: &PgBinaries, opts: &ClusterOptions, database: &str) -> anyhow::Result<RunningCluster> {
    let user = run_as_user()?;
    let root = std::path::absolute(&opts.root).with_context(|| format!("resolving {}", opts.root.display()))?;
    let data = root.join("data");
    let socket_dir = root.join("run");
    let socket_path = socket_dir.join(format!(".s.PGSQL.{PORT}"));
    if socket_path.as_os_str().len() > MAX_SOCKET_PATH {
        bail!(
            "the data directory path is too long for a Unix socket ({} > {MAX_SOCKET_PATH} bytes): {}\n\
             Choose a shorter --data-dir.",
            socket_path.as_os_str().len(),
            socket_path.display()
        );
    }
    if let Some(user) = &user {
        check_reachable(&root, user)?;
    }
    make_private_dir(&root, user.as_ref())?;
    make_private_dir(&socket_dir, user.as_ref())?;

    if !data.join("PG_VERSION").exists() {
        init_cluster(bins, &root, &data, &opts.superuser_password, user.as_ref())?;
    }
    wait_for_previous_postmaster(&data).await?;

    let log_path = root.join("postgres.log");
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
    if let Some(user) = &user {
        nix::unistd::chown(&log_path, Some(user.uid), Some(user.gid))?;
    }

    let mut cmd = Command::new(&bins.postgres);
    cmd.arg("-D").arg(&data);
    for (name, value) in server_settings(&socket_dir, opts.throwaway) {
        cmd.arg("-c").arg(format!("{name}={value}"));
    }
    cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
    // Own process group: a Ctrl-C in the terminal reaches only us, and we stop PostgreSQL after
    // HTTP has drained.
    cmd.process_group(0);
    apply_user(&mut cmd, user.as_ref());
    let parent = nix::unistd::getpid();
    // SAFETY: between fork and exec only async-signal-safe calls are made (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from)?;
            if nix::unistd::getppid() != parent {
                // The parent died before the death signal was armed.
                return Err(std::io::Error::other("parent exited"));
            }
            Ok(())
        });
    }

    let (pid, stop_tx) = supervise(cmd)?;
    let cluster = RunningCluster {
        socket_dir,
        password: opts.superuser_password.clone(),
        pid,
        stop_tx,
    };

    wait_until_ready(&cluster, &log_path).await?;
    ensure_database(&cluster, database).await?;
    Ok(cluster)
}

fn server_settings(socket_dir: &Path, throwaway: bool) -> Vec<(&'static str, String)> {
    let mut settings = vec![
        ("listen_addresses", String::new()),
        ("port", PORT.to_string()),
        ("unix_socket_directories", socket_dir.display().to_string()),
        ("unix_socket_permissions", "0700".into()),
        ("max_connections", "200".into()),
        ("log_min_messages", "warning".into()),
    ];
    if throwaway {
        settings.extend([
            ("fsync", "off".into()),
            ("synchronous_commit", "off".into()),
            ("full_page_writes", "off".into()),
        ]);
    }
    settings
}

fn init_cluster(
    bins: &PgBinaries,
    root: &Path,
    data: &Path,
    password: &str,
    user: Option<&User>,
) -> anyhow::Result<()> {
    let pwfile = root.join("initdb-password");
    std::fs::write(&pwfile, password)?;
    std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600))?;
    if let Some(user) = user {
        nix::unistd::chown(&pwfile, Some(user.uid), Some(user.gid))?;
    }
    let mut cmd = Command::new(&bins.initdb);
    cmd.arg("-D")
        .arg(data)
        .args([
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-instructions",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdin(Stdio::null());
    apply_user(&mut cmd, user);
    let output = cmd
        .output()
        .with_context(|| format!("running {}", bins.initdb.display()));
    let _ = std::fs::remove_file(&pwfile);
    let output = output?;
    if !output.status.success() {
        bail!(
            "initdb failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    tracing::info!(data = %data.display(), "created a private PostgreSQL cluster");
    Ok(())
}

/// A postmaster of an earlier run that is still shutting down (its parent was killed a moment ago)
/// holds the data directory; give it time to finish rather than failing.
async fn wait_for_previous_postmaster(data: &Path) -> anyhow::Result<()> {
    let pid_file = data.join("postmaster.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let Ok(text) = std::fs::read_to_string(&pid_file) else {
            return Ok(());
        };
        let Some(pid) = text.lines().next().and_then(|l| l.trim().parse::<i32>().ok()) else {
            return Ok(());
        };
        if kill(Pid::from_raw(pid), None).is_err() {
            return Ok(()); // stale file; PostgreSQL removes it itself
        }
        if Instant::now() > deadline {
            bail!(
                "PostgreSQL (pid {pid}) from an earlier run still uses {}. Stop it, then start again.",
                data.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Spawns the postmaster from a thread that lives until it is told to stop, so that the
/// parent-death signal fires only when the process ends or the cluster is stopped.
fn supervise(mut cmd: Command) -> anyhow::Result<(Pid, mpsc::Sender<mpsc::Sender<()>>)> {
    let (started_tx, started_rx) = mpsc::channel::<std::io::Result<Child>>();
    let (stop_tx, stop_rx) = mpsc::channel::<mpsc::Sender<()>>();
    let (pid_tx, pid_rx) = mpsc::channel::<std::io::Result<u32>>();
    std::thread::Builder::new()
        .name("postgres-supervisor".into())
        .spawn(move || {
            let child = match cmd.spawn() {
                Ok(child) => child,
                Err(e) => {
                    let _ = pid_tx.send(Err(e));
                    return;
                }
            };
            let _ = pid_tx.send(Ok(child.id()));
            drop(started_tx);
            let mut child = child;
            let mut backoff = Duration::from_millis(250);
            let mut started = Instant::now();
            loop {
                // A stop request, or a dropped sender (the handle went away): stop for good.
                match stop_rx.recv_timeout(Duration::from_millis(250)) {
                    Ok(done) => {
                        shutdown_child(&mut child);
                        let _ = done.send(());
                        return;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        shutdown_child(&mut child);
                        return;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                // PostgreSQL ended on its own (killed, crashed, out of memory): start it again.
                // It recovers from its write-ahead log, so every committed transaction is there;
                // until then requests are answered 503. A start that fails (the old backends may
                // still hold its shared memory for a moment) is retried with a growing pause.
                if let Ok(Some(status)) = child.try_wait() {
                    // One that ended soon after starting waits longer before the next try.
                    backoff = if started.elapsed() < Duration::from_secs(30) {
                        (backoff * 2).min(Duration::from_secs(5))
                    } else {
                        Duration::from_millis(250)
                    };
                    tracing::error!(%status, "PostgreSQL exited unexpectedly; starting it again");
                    std::thread::sleep(backoff);
                    match cmd.spawn() {
                        Ok(next) => {
                            tracing::warn!(pid = next.id(), "PostgreSQL started again");
                            child = next;
                            started = Instant::now();
                        }
                        Err(e) => tracing::error!(error = %e, "PostgreSQL could not be started again"),
                    }
                }
            }
        })?;
    drop(started_rx);
    let pid = pid_rx
        .recv()
        .map_err(|_| anyhow!("the PostgreSQL supervisor thread ended early"))??;
    let pid = i32::try_from(pid).map_err(|_| anyhow!("pid out of range"))?;
    Ok((Pid::from_raw(pid), stop_tx))
}

fn shutdown_child(child: &mut Child) {
    let Ok(raw) = i32::try_from(child.id()) else {
        return;
    };
    let pid = Pid::from_raw(raw);
    for (signal, grace) in [(Signal::SIGINT, 30), (Signal::SIGQUIT, 10), (Signal::SIGKILL, 5)] {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = kill(pid, signal);
        let deadline = Instant::now() + Duration::from_secs(grace);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

async fn wait_until_ready(cluster: &RunningCluster, log_path: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let options = cluster.connect_options("postgres");
    loop {
        match sqlx::PgConnection::connect_with(&options).await {
            Ok(conn) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Err(err) => {
                let exited = kill(cluster.pid, None).is_err();
                if exited || Instant::now() > deadline {
                    let log = std::fs::read_to_string(log_path).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(15).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    bail!(
                        "PostgreSQL did not start ({}; last error: {err}). From {}:\n{}",
                        if exited { "it exited" } else { "timed out" },
                        log_path.display(),
                        tail.join("\n")
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn ensure_database(cluster: &RunningCluster, database: &str) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect_with(&cluster.connect_options("postgres")).await?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(database)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let quoted = format!("\"{}\"", database.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {quoted}")))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_listen_only_on_the_socket() {
        let s = server_settings(Path::new("/x/run"), false);
        assert!(s.contains(&("listen_addresses", String::new())));
        assert!(!s.iter().any(|(k, _)| *k == "fsync"));
        assert!(server_settings(Path::new("/x/run"), true).contains(&("fsync", "off".into())));
    }
}
