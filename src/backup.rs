//! `nightmarket backup` and `nightmarket restore`: PostgreSQL's own `pg_dump` (custom format, one
//! consistent snapshot) and `pg_restore`, through the private cluster or `DATABASE_URL`.
//!
//! The master key is not in a backup, and must be kept apart from it: the backup holds personal
//! data and the tenants' signing keys only sealed with it. A restore therefore checks, before it
//! writes anything, that the configured key opens the backup's sealed signing keys, and refuses
//! with the wrong one; after restoring it brings the schema up to this version and verifies every
//! tenant's audit chains.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::cli::StorageArgs;
use crate::embedded_pg;
use crate::startup::{self, Access};
use nightmarket_db::{self as db, PoolSettings, TenantTx};
use nightmarket_domain::tenant::TenantId;
use nightmarket_services::pii::Place;
use nightmarket_services::secrets::{self, Keys};

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): beside the server programs the private
/// cluster uses (the same version), else on PATH.
fn tool(name: &str) -> anyhow::Result<PathBuf> {
    let beside = embedded_pg::find_binaries()
        .and_then(|b| b.postgres.parent().map(|dir| dir.join(name)))
        .filter(|p| p.is_file());
    let on_path = || {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    };
    beside.or_else(on_path).ok_or_else(|| {
        anyhow::anyhow!(
            "{name} was not found beside PostgreSQL's server programs or on PATH (apt-get install postgresql-client)"
        )
    })
}

/// How a client program reaches the database `storage` opened: `DATABASE_URL` as given, or the
/// private cluster's socket as its superuser.
fn connect(command: &mut Command, args: &StorageArgs, storage: &startup::Storage) {
    match &args.database_url {
        Some(url) => {
            command.arg(format!("--dbname={url}"));
        }
        None => {
            let options = storage.owner.connect_options();
            if let Some(socket) = options.get_socket() {
                command.env("PGHOST", socket);
            }
            command
                .env("PGPORT", options.get_port().to_string())
                .env("PGUSER", options.get_username())
                .env("PGPASSWORD", &storage.secrets.pg_superuser_password)
                .env("PGDATABASE", options.get_database().unwrap_or(startup::DATABASE));
        }
    }
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<Vec<u8>> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(out.stdout)
}

pub async fn backup(args: &StorageArgs, to: &Path) -> anyhow::Result<ExitCode> {
    if to.exists() {
        bail!("{} exists; a backup never overwrites a file", to.display());
    }
    let storage = startup::open(args, Access::Shared, &PoolSettings::default()).await?;
    let result = async {
        let (tenants, records) = db::census(&storage.owner).await?;
        // Written beside the target and renamed when complete: a failed dump leaves no file
        // that looks like a backup.
        let partial = to.with_extension("partial");
        let mut dump = Command::new(tool("pg_dump")?);
        dump.args(["--format=custom", "--no-password"])
            .arg("--file")
            .arg(&partial);
        connect(&mut dump, args, &storage);
        if let Err(e) = run(&mut dump, "pg_dump") {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, to).with_context(|| format!("writing {}", to.display()))?;
        let size = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
        println!(
            "backed up {tenants} tenants ({records} audit records) to {} ({:.1} MB), one consistent snapshot.",
            to.display(),
            size as f64 / 1e6
        );
        println!(
            "The master key is NOT in the backup: keep it apart from it (master_key in {}, or your \
             NIGHTMARKET_MASTER_KEY). Without it the backup's personal data and signing keys cannot be opened; \
             with it, anyone holding the backup can.",
            storage.data_dir.join("secrets.json").display()
        );
        Ok(ExitCode::SUCCESS)
    }
    .await;
    storage.close().await;
    result
}

/// The master key a restore into `args` will run with, read without creating anything: the
/// environment's, else the data directory's own.
fn configured_master_key(args: &StorageArgs) -> anyhow::Result<[u8; 32]> {
    if let Some(hex) = std::env::var("NIGHTMARKET_MASTER_KEY")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        return secrets::parse_master_key(&hex);
    }
    let path = args.data_dir.join("secrets.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let stored: secrets::StoredSecrets =
            serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
        if let Some(hex) = stored.master_key {
            return secrets::parse_master_key(&hex);
        }
    }
    bail!(
        "no master key: set NIGHTMARKET_MASTER_KEY to the master key of the installation the backup \
         came from (master_key in its secrets.json). It is not in the backup."
    )
}

/// The backup's sealed signing keys (tenant, key id, sealed secret), from its `signing_keys`
/// table as pg_restore writes it out (COPY text format).
fn sealed_signing_keys(from: &Path) -> anyhow::Result<Vec<(uuid::Uuid, uuid::Uuid, Vec<u8>)>> {
    let mut list = Command::new(tool("pg_restore")?);
    list.args(["--data-only", "--table=signing_keys", "--file=-"]).arg(from);
    let text = String::from_utf8(run(&mut list, "pg_restore (reading the backup)")?)?;
    let mut rows = Vec::new();
    let mut columns: Option<Vec<String>> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("COPY public.signing_keys (") {
            let names = rest.split(')').next().unwrap_or("");
            columns = Some(names.split(',').map(|c| c.trim().to_string()).collect());
            continue;
        }
        let Some(cols) = &columns else { continue };
        if line == "\\." {
            break;
        }
        let values: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| {
            cols.iter()
                .position(|c| c == name)
                .and_then(|i| values.get(i))
                .copied()
                .ok_or_else(|| anyhow::anyhow!("the backup's signing_keys has no {name}"))
        };
        let tenant: uuid::Uuid = get("tenant_id")?.parse()?;
        let id: uuid::Uuid = get("id")?.parse()?;
        // bytea in COPY text: \\x followed by hex.
        let sealed = hex::decode(get("secret_key_enc")?.trim_start_matches("\\\\x"))
            .context("the backup's signing key is not hex")?;
        rows.push((tenant, id, sealed));
    }
    if columns.is_none() {
        bail!(
            "{} holds no signing_keys table: it is not a nightmarket backup",
            from.display()
        );
    }
    Ok(rows)
}

pub async fn restore(args: &StorageArgs, from: &Path) -> anyhow::Result<ExitCode> {
    if !from.is_file() {
        bail!("no backup at {}", from.display());
    }
    // The key first, before anything is written: the wrong key would restore data nobody can open.
    let keys = Keys::derive(&configured_master_key(args)?);
    let sealed = sealed_signing_keys(from)?;
    let unopened = sealed
        .iter()
        .filter(|(tenant, id, secret)| {
            let place = Place {
                tenant: TenantId(*tenant),
                table: "signing_keys",
                column: "secret_key_enc",
                row: *id,
            };
            keys.open(&place, secret).is_err()
        })
        .count();
    if unopened > 0 {
        eprintln!(
            "refused: the configured master key does not open {unopened} of the backup's {} sealed signing keys. \
             It is not the key of the installation the backup came from; set NIGHTMARKET_MASTER_KEY to that one. \
             Nothing was written.",
            sealed.len()
        );
        return Ok(ExitCode::from(3));
    }
    if sealed.is_empty() {
        eprintln!("note: the backup has no sealed signing key to check the master key against");
    }

    let storage = startup::open_unmigrated(args, &PoolSettings::default()).await?;
    let result = async {
        let objects = db::schema_objects(&storage.owner).await?;
        if objects > 0 {
            eprintln!(
                "refused: the database is not empty ({objects} tables, indexes or sequences); restore into an empty \
                 data directory or database. Nothing was written."
            );
            return Ok(ExitCode::from(3));
        }
        let mut load = Command::new(tool("pg_restore")?);
        load.args(["--no-owner", "--exit-on-error", "--single-transaction", "--no-password"]);
        connect(&mut load, args, &storage);
        if args.database_url.is_none() {
            load.arg("--dbname").arg(startup::DATABASE);
        }
        load.arg(from);
        run(&mut load, "pg_restore")?;
        // A backup of an older version is brought up to this one.
        db::migrate(&storage.owner).await?;
        let mut broken = 0;
        let mut records = 0;
        let tenants = db::tenants::list(&storage.owner).await?;
        for t in &tenants {
            let mut tx = TenantTx::begin(&storage.owner, t.id).await?;
            let v = db::audit::verify(&mut tx).await?;
            tx.commit().await?;
            records += v.records;
            if !v.ok() {
                broken += 1;
                println!("audit chain of {}: BROKEN", t.slug);
                for b in &v.breaks {
                    println!("  {b}");
                }
            }
        }
        println!(
            "restored {} tenants ({records} audit records) from {}; the master key opens all {} sealed signing keys; \
             audit chains: {}",
            tenants.len(),
            from.display(),
            sealed.len(),
            if broken == 0 {
                "all intact".to_string()
            } else {
                format!("{broken} BROKEN (the backup's own)")
            }
        );
        Ok(if broken == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
    .await;
    storage.close().await;
    result
}
