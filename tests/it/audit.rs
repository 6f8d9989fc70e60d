//! The audit trail: written with every change, append-only for the application, and a hash
//! chain that `nightmarket audit verify` checks.

use crate::helpers::{TestApp, cluster};
use reqwest::Method;
use serde_json::json;
use std::process::Command;

fn verify(app: &TestApp, tenant: &str) -> (bool, String) {
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

    // Someone with database access edits a record.
    sqlx::query("update audit_log set after = '{\"name\": \"改过的\"}' where tenant_id = $1 and seq = 2")
        .bind(tenant)
        .execute(&app.owner)
        .await
        .unwrap();
    let (ok, out) = verify(&app, "nanan");
    assert!(!ok, "{out}");
    assert!(out.contains("record 2 was altered"), "{out}");
    // The other tenant's chain is unaffected.
    assert!(verify(&app, "shangcheng").0);

    // Put it back by re-deriving nothing: remove a middle record instead, on a fresh copy.
    let app = TestApp::spawn().await;
    let tenant = app.tenant_id("nanan").await;
    sqlx::query("delete from audit_log where tenant_id = $1 and seq = 2")
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
