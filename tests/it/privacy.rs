//! Personal data: masked everywhere, revealed only with an audit record, never in clear in a dump.

use crate::applications::*;
use crate::helpers::{TestApp, cluster};

#[tokio::test]
async fn personal_data_is_masked_everywhere_and_revealed_only_with_an_audit_record() {
    let app = TestApp::spawn().await;
    let (vendor, id) = submitted_application(&app, "13712345610", 10).await;
    let (_, mine) = app
        .get_json(&format!("/api/v1/t/nanan/applications/{id}"), Some(&vendor))
        .await;
    let id_number = valid_id(10);
    assert_eq!(mine["real_name"], "张**");
    assert_eq!(mine["phone"], "139****5678");
    assert_eq!(
        mine["id_number"],
        format!("{}**********{}", &id_number[..4], &id_number[14..])
    );
    assert_eq!(mine["food_licence_no"], "JY************45");

    let official = app.token("nanan", "official").await;
    let reveals = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from audit_log where action = 'application.reveal' and subject_id = $1",
        )
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };
    let (_, masked) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    assert_eq!(masked["application"]["id_number"], mine["id_number"]);
    assert_eq!(reveals().await, 0);
    let (_, full) = app
        .get_json(
            &format!("/api/v1/t/nanan/review/applications/{id}?reveal=true"),
            Some(&official),
        )
        .await;
    assert_eq!(full["application"]["real_name"], "张小三");
    assert_eq!(full["application"]["id_number"], id_number.as_str());
    assert_eq!(full["application"]["phone"], "13912345678");
    assert_eq!(reveals().await, 1);
    // Documents: the vendor's own, and reviewing officials (audited); nobody else.
    let doc = mine["documents"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/t/nanan/applications/{id}/documents/{doc}");
    let r = app
        .client()
        .get(app.url(&path))
        .bearer_auth(&official)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    let other = sign_up(&app, "nanan", "13712345611").await;
    assert_eq!(
        app.client()
            .get(app.url(&path))
            .bearer_auth(&other)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn a_database_dump_holds_no_id_number_phone_or_name_in_clear() {
    let app = TestApp::spawn().await;
    let (_, _id) = submitted_application(&app, "13712345612", 12).await;
    let bins = nightmarket::embedded_pg::find_binaries().unwrap();
    let pg_dump = std::fs::canonicalize(&bins.initdb).unwrap().with_file_name("pg_dump");
    let c = cluster();
    let out = std::process::Command::new(&pg_dump)
        .args(["--no-owner", "--data-only", "-h"])
        .arg(&c.socket_dir)
        .args(["-p", "5432", "-U", "postgres", "-d", &app.db_name])
        .env("PGPASSWORD", &c.password)
        .output()
        .expect("pg_dump");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(dump.len() > 10_000, "the dump has the demo in it");
    for secret in [
        valid_id(12).as_str(),
        "13912345678",
        "13712345612",
        "张小三",
        "13983330101",
        "陈小红",
    ] {
        assert!(!dump.contains(secret), "{secret} is in the dump");
    }
    // …while the masked forms are there, for lists.
    assert!(dump.contains("137****5612"));
}
