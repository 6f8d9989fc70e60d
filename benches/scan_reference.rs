//! The yardstick of `bench/scan.sh`: a bare axum + tokio server, with the product's allocator and
//! release profile and the same PostgreSQL driver, that serves what small web frameworks are
//! usually compared by. Not part of the product; `bench/scan.sh` builds and starts it beside
//! nightmarket on the same private PostgreSQL and measures both in one run.
//!
//! * `GET /fixed`: a fixed body of the scan page's size, gzip-compressed once at start and sent
//!   compressed to a client that accepts gzip. `--body-file` gives the body (`bench/scan.sh` passes
//!   a scan page as served, so that both its size and its compressed size are the page's);
//!   without it, `--body-bytes` of page-like text, which compresses far better than a page.
//! * `GET /one-query`: a page rendered from one indexed query of a dozen rows (of a table of
//!   10,000 this server seeds in its own schema, `scan_reference`), HTML-escaped by askama.
//!
//! ```text
//! cargo build --release --bench scan_reference   # then run the executable cargo names:
//! scan_reference --data-dir DIR --addr 127.0.0.1:9000 --body-file page.html
//! ```
//! `--data-dir` is a running nightmarket's data directory: the server connects to its private
//! PostgreSQL (over the Unix socket, as the owner) the way the operator commands do.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rows in the table, and rows a page shows (one group).
const ROWS: i32 = 10_000;
const PER_PAGE: i32 = 12;

#[derive(Clone)]
struct Ref {
    pool: PgPool,
    fixed_gzip: axum::body::Bytes,
    fixed_plain: axum::body::Bytes,
}

#[derive(sqlx::FromRow)]
struct Item {
    id: i32,
    name: String,
    note: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Items</title></head><body><table><tr><th>id</th><th>name</th><th>note</th></tr>{% for i in items %}<tr><td>{{ i.id }}</td><td>{{ i.name }}</td><td>{{ i.note }}</td></tr>{% endfor %}</table></body></html>"#
)]
struct Page {
    items: Vec<Item>,
}

struct Args {
    data_dir: PathBuf,
    addr: SocketAddr,
    body_bytes: usize,
    body_file: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut data_dir = None;
    let mut addr: SocketAddr = "127.0.0.1:9000".parse()?;
    let mut body_bytes = 5_000;
    let mut body_file = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data-dir" => data_dir = it.next().map(PathBuf::from),
            "--addr" => addr = it.next().unwrap_or_default().parse()?,
            "--body-bytes" => body_bytes = it.next().unwrap_or_default().parse()?,
            "--body-file" => body_file = it.next().map(PathBuf::from),
            // `cargo bench` passes --bench; nothing to do.
            "--bench" => {}
            other => anyhow::bail!("unknown argument {other} (see the file's comment)"),
        }
    }
    let data_dir = data_dir.ok_or_else(|| anyhow::anyhow!("--data-dir of a running nightmarket is required"))?;
    Ok(Args {
        data_dir,
        addr,
        body_bytes,
        body_file,
    })
}

/// Creates and fills `scan_reference.items` (10,000 rows, an index on the group a page shows).
async fn seed(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("drop schema if exists scan_reference cascade")
        .execute(&mut *tx)
        .await?;
    sqlx::query("create schema scan_reference").execute(&mut *tx).await?;
    sqlx::query(
        "create table scan_reference.items (id int primary key, grp int not null, name text not null, note text not null)",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into scan_reference.items
         select i, i % ($1 / $2), '摊位 ' || i || ' <烧烤> & \"小吃\"', md5(i::text) || ' 夜市 ' || repeat('好', i % 7)
         from generate_series(1, $1) as i",
    )
    .bind(ROWS)
    .bind(PER_PAGE)
    .execute(&mut *tx)
    .await?;
    sqlx::query("create index on scan_reference.items (grp)")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query("analyze scan_reference.items").execute(pool).await?;
    Ok(())
}

async fn fixed(State(r): State<Ref>, headers: HeaderMap) -> Response {
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let mut res = if gzip {
        let mut res = r.fixed_gzip.clone().into_response();
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res
    } else {
        r.fixed_plain.clone().into_response()
    };
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

async fn one_query(State(r): State<Ref>) -> Result<Html<String>, (axum::http::StatusCode, String)> {
    let fail = |e: &dyn std::fmt::Display| (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let grp = rand::random_range(0..ROWS / PER_PAGE);
    let items: Vec<Item> = sqlx::query_as("select id, name, note from scan_reference.items where grp = $1 order by id")
        .bind(grp)
        .fetch_all(&r.pool)
        .await
        .map_err(|e| fail(&e))?;
    Page { items }.render().map(Html).map_err(|e| fail(&e))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let data_dir = std::path::absolute(&args.data_dir)?;
    let secrets = nightmarket_services::secrets::load_or_create(&data_dir, None)?;
    let options = nightmarket::embedded_pg::connect_options_for_running(
        &data_dir.join("pg"),
        &secrets.pg_superuser_password,
        nightmarket::startup::DATABASE,
    );
    let pool = PgPoolOptions::new()
        .max_connections(nightmarket_services::PoolSettings::default().max_connections)
        .connect_with(options)
        .await?;
    seed(&pool).await?;

    // A body of the scan page's size: a page as served, or text a page would hold, repeated.
    let plain: Vec<u8> = match &args.body_file {
        Some(file) => std::fs::read(file)?,
        None => {
            let text = "<p>夜市 摊位 经营码 — 老王烧烤 · A-01 · 食品经营许可证 有效期至 2027-06-30</p>\n";
            text.chars()
                .cycle()
                .take(args.body_bytes)
                .collect::<String>()
                .into_bytes()
        }
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain)?;
    let state = Ref {
        pool,
        fixed_gzip: gz.finish()?.into(),
        fixed_plain: plain.into(),
    };
    let app = Router::new()
        .route("/fixed", get(fixed))
        .route("/one-query", get(one_query))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    eprintln!("scan_reference listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
