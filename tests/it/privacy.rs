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

/// The retention schedule (services::retention): a sweep removes what outlived its purpose, keeps
/// what has not, says how much in one audit record per tenant, and removes nothing more when run
/// again.
#[tokio::test]
async fn a_sweep_removes_personal_data_past_its_retention_and_audits_it_in_aggregate() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant_id("nanan").await;
    let now = app.state.ctx.clock.now();
    let today = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let code: uuid::Uuid = sqlx::query_scalar("select id from codes where tenant_id = $1 limit 1")
        .bind(tenant)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let days = chrono::Duration::days;
    let run = |sql: &'static str| sqlx::query(sql).bind(tenant).bind(code);
    run("insert into scan_visitors (tenant_id, code_id, night, device_hash) values ($1, $2, $3, 'old-device'), ($1, $2, $4, 'new-device')")
        .bind(today - days(3))
        .bind(today)
        .execute(&app.owner)
        .await
        .unwrap();
    run("insert into scan_hours (tenant_id, code_id, night, hour, scans) values ($1, $2, $3, 20, 7777), ($1, $2, $4, 20, 7777)
         on conflict do nothing")
        .bind(today - days(401))
        .bind(today - days(399))
        .execute(&app.owner)
        .await
        .unwrap();
    run(
        "insert into otp_codes (tenant_id, id, purpose, phone_index, code_hash, expires_at)
         select $1, gen_random_uuid(), 'complaint', 'retention-' || x, '\\x00', t
         from (values ('old', $3::timestamptz), ('new', $4::timestamptz)) v (x, t) where $2::uuid is not null",
    )
    .bind(now - days(2))
    .bind(now - chrono::Duration::hours(1))
    .execute(&app.owner)
    .await
    .unwrap();
    run(
        "insert into sms_outbox (tenant_id, id, phone_enc, phone_masked, body, status, created_at)
         select $1, gen_random_uuid(), '\\x00', '139****0000', b, s, t
         from (values ('retention old sent', 'sent', $3::timestamptz), ('retention new sent', 'sent', $4::timestamptz),
                      ('retention old queued', 'queued', $3::timestamptz)) v (b, s, t) where $2::uuid is not null",
    )
    .bind(now - days(31))
    .bind(now - days(29))
    .execute(&app.owner)
    .await
    .unwrap();
    // Two closed complaints with a contact number: one closed 181 days ago, one 179.
    let complaints: Vec<uuid::Uuid> =
        sqlx::query_scalar("select id from complaints where tenant_id = $1 order by created_at limit 2")
            .bind(tenant)
            .fetch_all(&app.owner)
            .await
            .unwrap();
    assert_eq!(complaints.len(), 2);
    for (id, days_ago) in complaints.iter().zip([181, 179]) {
        sqlx::query(
            "update complaints set state = 'resolved', closed_at = $2, contact_phone_enc = '\\x01',
                    contact_phone_masked = '139****0001', contact_phone_index = 'retention-contact'
             where id = $1",
        )
        .bind(id)
        .bind(now - days(days_ago))
        .execute(&app.owner)
        .await
        .unwrap();
    }
    let left = |sql: &'static str| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, String>(sql)
                .bind(tenant)
                .fetch_all(&owner)
                .await
                .unwrap()
        }
    };

    let report = nightmarket_services::supervision::sweep(&app.state.ctx.db, &app.state.ctx.keys, now)
        .await
        .unwrap();
    assert!(report.removed.scan_visitors >= 1 && report.removed.scan_hours >= 1);
    assert!(report.removed.otp_codes >= 1 && report.removed.sms_outbox >= 1);
    let visitors =
        left("select device_hash from scan_visitors where tenant_id = $1 and device_hash like '%-device'").await;
    assert_eq!(visitors, ["new-device"]);
    let hours = left("select night::text from scan_hours where tenant_id = $1 and scans = 7777 and hour = 20").await;
    assert_eq!(hours, [(today - days(399)).to_string()]);
    let codes = left("select phone_index from otp_codes where tenant_id = $1 and phone_index like 'retention-%'").await;
    assert_eq!(codes, ["retention-new"]);
    let mut texts = left("select body from sms_outbox where tenant_id = $1 and body like 'retention %'").await;
    texts.sort();
    // A message still waiting to be sent is never removed, however old.
    assert_eq!(texts, ["retention new sent", "retention old queued"]);
    // The older complaint keeps everything but its contact number; the newer keeps that too.
    type Contact = (Option<String>, Option<String>, Option<Vec<u8>>, String);
    let contacts: Vec<Contact> = sqlx::query_as(
        "select contact_phone_masked, contact_phone_index, contact_phone_enc, description from complaints
         where id = any($1) order by closed_at",
    )
    .bind(&complaints)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!((&contacts[0].0, &contacts[0].1, &contacts[0].2), (&None, &None, &None));
    assert!(!contacts[0].3.is_empty());
    assert_eq!(contacts[1].0.as_deref(), Some("139****0001"));
    assert!(report.removed.complaint_contacts >= 1);

    // One audit record for the tenant, with the counts and the schedule; none for a pass that
    // removed nothing.
    let records = || async {
        sqlx::query_scalar::<_, serde_json::Value>(
            "select after from audit_log where tenant_id = $1 and action = 'retention.apply'",
        )
        .bind(tenant)
        .fetch_all(&app.owner)
        .await
        .unwrap()
    };
    let after = records().await;
    assert_eq!(after.len(), 1);
    assert!(after[0]["removed"]["otp_codes"].as_u64() >= Some(1), "{}", after[0]);
    assert_eq!(after[0]["kept_days"]["scan_visitors"], 2);
    assert!(
        !after[0].to_string().contains("old-device"),
        "no removed value in the trail"
    );
    let again = nightmarket_services::supervision::sweep(&app.state.ctx.db, &app.state.ctx.keys, now)
        .await
        .unwrap();
    assert_eq!(
        (
            again.removed.scan_visitors,
            again.removed.scan_hours,
            again.removed.otp_codes,
            again.removed.sms_outbox
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(records().await.len(), 1);
}
