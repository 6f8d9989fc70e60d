//! Tenant isolation is enforced by PostgreSQL itself: the catalog, the RLS matrix run as the
//! application role, and a one-connection pool serving two tenants in turn.

use crate::helpers::{TestApp, cluster};
use sqlx::{Connection, PgConnection, Row};
use uuid::Uuid;

/// Every table of the public schema that has a `tenant_id` column.
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "select c.table_name::text from information_schema.columns c
         join information_schema.tables t using (table_schema, table_name)
         where c.table_schema = 'public' and c.column_name = 'tenant_id' and t.table_type = 'BASE TABLE'
         order by 1",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_tenant_table_forces_row_level_security_and_leads_its_key_with_tenant_id() {
    let app = TestApp::spawn().await;
    let tables = tenant_tables(&app).await;
    assert!(tables.len() >= 5, "found {tables:?}");
    for table in &tables {
        let (rls, forced): (bool, bool) = sqlx::query_as(
            "select relrowsecurity, relforcerowsecurity from pg_class where oid = ('public.' || $1)::regclass",
        )
        .bind(table)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert!(rls && forced, "{table}: row-level security must be enabled and forced");

        let policies: i64 =
            sqlx::query_scalar("select count(*) from pg_policies where schemaname = 'public' and tablename = $1")
                .bind(table)
                .fetch_one(&app.owner)
                .await
                .unwrap();
        assert!(policies >= 1, "{table} has no policy");

        let first_key_column: String = sqlx::query_scalar(
            "select a.attname::text from pg_index i
             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
             where i.indrelid = ('public.' || $1)::regclass and i.indisprimary",
        )
        .bind(table)
        .fetch_one(&app.owner)
        .await
        .unwrap_or_else(|_| panic!("{table} has no primary key"));
        assert_eq!(
            first_key_column, "tenant_id",
            "{table}: tenant_id must lead the primary key"
        );
    }

    // Foreign keys between tenant tables carry tenant_id, so a row can only point inside its tenant.
    let fks: Vec<(String, String, bool)> = sqlx::query_as(
        "select conrelid::regclass::text, confrelid::regclass::text,
                exists (select 1 from unnest(conkey) k join pg_attribute a
                        on a.attrelid = conrelid and a.attnum = k where a.attname = 'tenant_id')
         from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    for (from, to, has_tenant) in fks {
        if tables.contains(&to) {
            assert!(has_tenant, "foreign key {from} -> {to} must include tenant_id");
        }
    }
}

#[tokio::test]
async fn the_application_role_owns_nothing_and_cannot_bypass_row_level_security() {
    let app = TestApp::spawn().await;
    let (superuser, bypass, createrole, createdb): (bool, bool, bool, bool) = sqlx::query_as(
        "select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles where rolname = 'nightmarket_app'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(!superuser && !bypass && !createrole && !createdb);
    let owned: i64 = sqlx::query_scalar(
        "select (select count(*) from pg_class where relowner = r.oid)
              + (select count(*) from pg_proc where proowner = r.oid)
              + (select count(*) from pg_namespace where nspowner = r.oid)
              + (select count(*) from pg_type where typowner = r.oid)
              + (select count(*) from pg_database where datdba = r.oid)
         from pg_roles r where rolname = 'nightmarket_app'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(owned, 0);

    // The requests' pool really logs in as that role (not the owner with SET ROLE).
    let user: String = sqlx::query_scalar("select session_user::text")
        .fetch_one(app.state.ctx.db.global())
        .await
        .unwrap();
    assert_eq!(user, "nightmarket_app");
    let reset = sqlx::query("reset role").execute(app.state.ctx.db.global()).await;
    assert!(reset.is_ok());
    let after: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(app.state.ctx.db.global())
        .await
        .unwrap();
    assert_eq!(after, "nightmarket_app", "RESET ROLE cannot escape a real login");
}

async fn app_connection(app: &TestApp) -> PgConnection {
    PgConnection::connect_with(&cluster().app_options(&app.db_name))
        .await
        .unwrap()
}

async fn set_tenant(conn: &mut PgConnection, tenant: Option<Uuid>) {
    sqlx::query("select set_config('app.tenant_id', $1, false)")
        .bind(tenant.map(|t| t.to_string()).unwrap_or_default())
        .execute(&mut *conn)
        .await
        .unwrap();
}

fn is_refused(result: Result<sqlx::postgres::PgQueryResult, sqlx::Error>) -> bool {
    match result {
        Ok(done) => done.rows_affected() == 0,
        // 42501: insufficient privilege / new row violates row-level security policy
        Err(sqlx::Error::Database(e)) => e.code().as_deref() == Some("42501"),
        Err(other) => panic!("unexpected error {other}"),
    }
}

#[tokio::test]
async fn the_rls_matrix_shows_no_row_of_another_tenant_and_refuses_writes_into_it() {
    let app = TestApp::spawn().await;
    let a = app.tenant_id("nanan").await;
    let b = app.tenant_id("shangcheng").await;
    let tables = tenant_tables(&app).await;
    let mut conn = app_connection(&app).await;

    for table in &tables {
        let owned_by = |t: Uuid| {
            let table = table.clone();
            let owner = app.owner.clone();
            async move {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                    "select count(*) from {table} where tenant_id = $1"
                )))
                .bind(t)
                .fetch_one(&owner)
                .await
                .unwrap()
            }
        };
        let (rows_a, rows_b) = (owned_by(a).await, owned_by(b).await);
        assert!(
            rows_a > 0 && rows_b > 0,
            "{table}: the demo must hold rows of both tenants for this test to mean anything"
        );

        // Tables the application may not read at all (the audit chain's heads) are isolated more
        // strictly still: every read is refused.
        let readable: bool = sqlx::query_scalar("select has_table_privilege('nightmarket_app', $1, 'select')")
            .bind(format!("public.{table}"))
            .fetch_one(&app.owner)
            .await
            .unwrap();
        for (scope, own) in [(None, None), (Some(a), Some((a, rows_a))), (Some(b), Some((b, rows_b)))] {
            set_tenant(&mut conn, scope).await;
            let read = sqlx::query(sqlx::AssertSqlSafe(format!("select tenant_id from {table}")))
                .fetch_all(&mut conn)
                .await;
            if !readable {
                assert!(
                    matches!(&read, Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42501")),
                    "{table}"
                );
                continue;
            }
            let visible: Vec<Uuid> = read.unwrap().iter().map(|r| r.get::<Uuid, _>(0)).collect();
            match own {
                None => assert!(visible.is_empty(), "{table}: rows visible with no tenant set"),
                Some((t, n)) => {
                    assert!(
                        visible.iter().all(|v| *v == t),
                        "{table}: another tenant's row visible to {t}"
                    );
                    assert_eq!(visible.len() as i64, n, "{table}: {t} does not see all its own rows");
                }
            }
        }

        // Writes into the other tenant, from inside tenant A.
        set_tenant(&mut conn, Some(a)).await;
        let insert = sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into {table} (tenant_id) values ($1)"
        )))
        .bind(b)
        .execute(&mut conn)
        .await;
        assert!(is_refused(insert), "{table}: insert into another tenant accepted");
        let moved = sqlx::query(sqlx::AssertSqlSafe(format!(
            "update {table} set tenant_id = $1 where tenant_id = $2"
        )))
        .bind(b)
        .bind(a)
        .execute(&mut conn)
        .await;
        assert!(is_refused(moved), "{table}: a row was moved into another tenant");
        let update = sqlx::query(sqlx::AssertSqlSafe(format!(
            "update {table} set tenant_id = tenant_id where tenant_id = $1"
        )))
        .bind(b)
        .execute(&mut conn)
        .await;
        assert!(is_refused(update), "{table}: another tenant's rows updated");
        let delete = sqlx::query(sqlx::AssertSqlSafe(format!("delete from {table} where tenant_id = $1")))
            .bind(b)
            .execute(&mut conn)
            .await;
        assert!(is_refused(delete), "{table}: another tenant's rows deleted");

        // And with no tenant at all.
        set_tenant(&mut conn, None).await;
        let insert = sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into {table} (tenant_id) values ($1)"
        )))
        .bind(a)
        .execute(&mut conn)
        .await;
        assert!(is_refused(insert), "{table}: insert with no tenant set accepted");

        assert_eq!(owned_by(b).await, rows_b, "{table}: tenant B's rows changed");
        assert_eq!(owned_by(a).await, rows_a, "{table}: tenant A's rows changed");
    }
}

#[tokio::test]
async fn a_transaction_local_tenant_does_not_outlive_its_transaction() {
    let app = TestApp::spawn().await;
    let a = app.tenant_id("nanan").await;
    let mut conn = app_connection(&app).await;
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(a.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let inside: i64 = sqlx::query_scalar("select count(*) from markets")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(inside > 0);
    // The setting now reads '' (not NULL): the policy must still see "no tenant".
    let setting: String = sqlx::query_scalar("select current_setting('app.tenant_id', true)")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(setting, "");
    let after: i64 = sqlx::query_scalar("select count(*) from markets")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(after, 0);
}

#[tokio::test]
async fn one_pooled_connection_serving_two_tenants_in_turn_never_shows_the_other() {
    let app = TestApp::spawn_with(crate::helpers::Options {
        app_max_connections: 1,
        ..Default::default()
    })
    .await;
    let client = app.client();
    let names = |tenant: &str| {
        let url = app.url(&format!("/api/v1/t/{tenant}/markets"));
        let client = client.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let body: Vec<serde_json::Value> = r.json().await.unwrap();
            body.iter()
                .map(|m| m["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let nanan = names("nanan").await;
    let shangcheng = names("shangcheng").await;
    assert!(!nanan.is_empty() && !shangcheng.is_empty());
    assert!(nanan.iter().all(|n| !shangcheng.contains(n)));
    for i in 0..1000 {
        let (tenant, want) = if i % 2 == 0 {
            ("nanan", &nanan)
        } else {
            ("shangcheng", &shangcheng)
        };
        assert_eq!(&names(tenant).await, want, "request {i} for {tenant}");
    }
}
