//! The audit trail: written with every change, append-only for the application, and a hash
//! chain that `nightmarket audit verify` checks.

use crate::helpers::{TestApp, cluster};
use reqwest::Method;
use serde_json::json;
use std::process::Command;

pub(crate) fn verify(app: &TestApp, tenant: &str) -> (bool, String) {
    let data = tempdir();
    let out = Command::new(env!("CARGO_BIN_EXE_nightmarket"))
        .args(["audit", "verify", "--tenant", tenant, "--data-dir"])
        .arg(&data)
        .env("DATABASE_URL", cluster().url(&app.db_name))
        // Given explicitly: otherwise the CLI would set its own password on the cluster-wide role.
        .env("DATABASE_APP_URL", cluster().app_url(&app.db_name))
        .env("RUST_LOG", "warn")
        .output()
        .expect("running nightmarket");
    let _ = std::fs::remove_dir_all(&data);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

pub fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nm-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn the_chain_of_an_untouched_trail_verifies() {
    let app = TestApp::spawn().await;
    let (ok, out) = verify(&app, "nanan");
    assert!(ok, "{out}");
    assert!(out.contains("intact"), "{out}");
}

#[tokio::test]
async fn audit_verify_detects_an_altered_a_removed_and_a_truncated_record() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "admin").await;
    // A few more records.
    for name in ["一号夜市", "二号夜市", "三号夜市"] {
        let body = json!({"name": name, "address": "某路", "center_lat": 29.5, "center_lng": 106.5, "radius_m": 100, "opens_at": "18:00", "closes_at": "22:00"});
        let (status, _) = app
            .send_json(Method::POST, "/api/v1/t/nanan/markets", Some(&token), &body)
            .await;
        assert_eq!(status, 201);
    }
    let tenant = app.tenant_id("nanan").await;
    let last: i64 = sqlx::query_scalar("select max(seq) from audit_log where tenant_id = $1")
        .bind(tenant)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(last >= 4);

    // Someone with database access edits a record (the tenant's second).
    let second: i64 =
        sqlx::query_scalar("select seq from audit_log where tenant_id = $1 order by seq offset 1 limit 1")
            .bind(tenant)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    sqlx::query("update audit_log set after = '{\"name\": \"改过的\"}' where tenant_id = $1 and seq = $2")
        .bind(tenant)
        .bind(second)
        .execute(&app.owner)
        .await
        .unwrap();
    let (ok, out) = verify(&app, "nanan");
    assert!(!ok, "{out}");
    assert!(out.contains(&format!("record {second} was altered")), "{out}");
    // The other tenant's chain is unaffected.
    assert!(verify(&app, "shangcheng").0);

    // Put it back by re-deriving nothing: remove a middle record instead, on a fresh copy.
    let app = TestApp::spawn().await;
    let tenant = app.tenant_id("nanan").await;
    // A record in the middle of its chain.
    sqlx::query(
        "delete from audit_log a where tenant_id = $1 and link = 2
           and exists (select 1 from audit_log b where b.tenant_id = a.tenant_id and b.chain = a.chain and b.link = 3)",
    )
    .bind(tenant)
    .execute(&app.owner)
    .await
    .unwrap();
    let (ok, out) = verify(&app, "nanan");
    assert!(!ok && out.contains("missing"), "{out}");

    let app = TestApp::spawn().await;
    let tenant = app.tenant_id("nanan").await;
    sqlx::query(
        "delete from audit_log where tenant_id = $1 and seq = (select max(seq) from audit_log where tenant_id = $1)",
    )
    .bind(tenant)
    .execute(&app.owner)
    .await
    .unwrap();
    let (ok, out) = verify(&app, "nanan");
    assert!(!ok && out.contains("newest records were removed"), "{out}");
}

/// Audited changes of one tenant on different connections do not wait for each other: each
/// connection writes to its own chain (of sixty-four), and every chain verifies.
#[tokio::test]
async fn concurrent_audited_changes_of_a_tenant_take_different_chains_and_all_verify() {
    let app = TestApp::spawn().await;
    let tenant = nightmarket_domain::tenant::TenantId(app.tenant_id("nanan").await);
    // Connections until two of them fall in different chains (pid % 64), each in a transaction.
    let (mut open, mut spare) = (Vec::new(), Vec::new());
    let mut shards = std::collections::BTreeSet::new();
    while shards.len() < 2 {
        let mut tx = app.state.ctx.db.tenant(tenant).await.unwrap();
        let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
            .fetch_one(tx.conn())
            .await
            .unwrap();
        if shards.insert(pid % 64) {
            open.push(tx);
        } else {
            // Kept open, so that the pool hands out another connection.
            spare.push(tx);
        }
        assert!(spare.len() < 32, "no two connections in different chains");
    }
    // Both write and hold their records uncommitted: with one head for the tenant the second
    // would wait for the first to commit (and the timeout would fail the test).
    let mut chains = Vec::new();
    for tx in &mut open {
        let chain: i16 = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            sqlx::query_scalar(
                "insert into audit_log (tenant_id, seq, actor_kind, actor_label, action, subject_type, subject_id, prev_hash, hash)
                 values ($1, 0, 'system', 'test', 'test.append', 'x', '1', '\\x00', '\\x00') returning chain",
            )
            .bind(tenant.0)
            .fetch_one(tx.conn()),
        )
        .await
        .expect("an audited change waited for another transaction's commit")
        .unwrap();
        chains.push(chain);
    }
    for tx in open {
        tx.commit().await.unwrap();
    }
    drop(spare);
    chains.dedup();
    assert_eq!(chains.len(), 2, "{chains:?}");
    let (ok, out) = verify(&app, "nanan");
    assert!(ok, "{out}");
}

#[tokio::test]
async fn the_application_can_append_to_the_trail_but_never_change_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant_id("nanan").await;
    let mut tx = app
        .state
        .ctx
        .db
        .tenant(nightmarket_domain::tenant::TenantId(tenant))
        .await
        .unwrap();
    let update = sqlx::query("update audit_log set actor_label = 'someone else'")
        .execute(tx.conn())
        .await;
    assert!(update.is_err(), "update must be refused");
    drop(tx);
    let mut tx = app
        .state
        .ctx
        .db
        .tenant(nightmarket_domain::tenant::TenantId(tenant))
        .await
        .unwrap();
    let delete = sqlx::query("delete from audit_log").execute(tx.conn()).await;
    assert!(delete.is_err(), "delete must be refused");
    drop(tx);
    // A caller cannot choose its own place in the chain: the trigger assigns it.
    let mut tx = app
        .state
        .ctx
        .db
        .tenant(nightmarket_domain::tenant::TenantId(tenant))
        .await
        .unwrap();
    let seq: i64 = sqlx::query_scalar(
        "insert into audit_log (tenant_id, seq, actor_kind, actor_label, action, subject_type, subject_id, prev_hash, hash)
         values ($1, 999999, 'system', 'test', 'test.append', 'x', '1', '\\x00', '\\x00') returning seq",
    )
    .bind(tenant)
    .fetch_one(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(seq < 999999);
    assert!(verify(&app, "nanan").0);
}

#[tokio::test]
async fn a_refused_change_leaves_no_audit_record() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "admin").await;
    let before = app.count("audit_log").await;
    let body = json!({"name": "", "address": "", "radius_m": 0, "opens_at": "x", "closes_at": "y"});
    let (status, _) = app
        .send_json(Method::POST, "/api/v1/t/nanan/markets", Some(&token), &body)
        .await;
    assert_eq!(status, 422);
    assert_eq!(app.count("audit_log").await, before);
}
