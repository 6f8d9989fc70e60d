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

/// Every key of every object in `v`, at any depth.
fn keys_of(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                out.push(k.clone());
                keys_of(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| keys_of(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn a_vendor_downloads_everything_held_about_them_and_nothing_about_anyone_else() {
    let app = TestApp::spawn().await;
    let (vendor, application) = submitted_application(&app, "13712345611", 11).await;
    // Another vendor's data is in the same tables.
    let (_, _) = submitted_application(&app, "13712345612", 12).await;
    let (s, copy) = app.get_json("/api/v1/t/nanan/me/export", Some(&vendor)).await;
    assert_eq!(s, 200, "{copy}");
    assert_eq!(copy["format"], "nightmarket-vendor-export/1");
    let me = copy["vendor_id"].as_str().unwrap().to_string();

    // Complete: every table of the schema with rows about vendors, read from the catalog here too,
    // and the account, its inbox and the applications' documents.
    let mut expected: Vec<String> = sqlx::query_scalar(
        "select c.table_name::text from information_schema.columns c
         join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.column_name = 'vendor_id'",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    expected.extend(["users", "notifications", "application_documents"].map(String::from));
    expected.sort();
    let mut got: Vec<String> = copy["tables"].as_object().unwrap().keys().cloned().collect();
    got.sort();
    assert_eq!(got, expected);

    // Their own values in clear; the documents listed.
    let tables = &copy["tables"];
    assert_eq!(tables["users"][0]["phone"], "13712345611");
    let app_row = &tables["applications"][0];
    assert_eq!(app_row["id"], application.as_str());
    assert_eq!(app_row["real_name"], "张小三");
    assert_eq!(app_row["id_number"], valid_id(11));
    assert_eq!(app_row["phone"], "13912345678");
    assert_eq!(app_row["stall_name"], "张记烤苕皮");
    assert_eq!(tables["application_documents"].as_array().unwrap().len(), 3);
    // Nothing sealed, indexed or hashed; no password; only this vendor's rows.
    let mut keys = Vec::new();
    keys_of(&copy, &mut keys);
    for k in &keys {
        assert!(
            !k.ends_with("_enc") && !k.ends_with("_index") && !k.ends_with("_hash") && k != "login",
            "{k} is in the copy"
        );
    }
    for (table, rows) in tables.as_object().unwrap() {
        for r in rows.as_array().unwrap() {
            if let Some(v) = r.get("vendor_id") {
                assert_eq!(v.as_str(), Some(me.as_str()), "{table} holds another vendor's row");
            }
        }
    }
    let text = copy.to_string();
    assert!(
        !text.contains("13712345612") && !text.contains(&valid_id(12)),
        "another vendor's data"
    );

    // Officials and other tenants' vendors may not; the download is audited.
    let official = app.token("nanan", "official").await;
    let (s, _) = app.get_json("/api/v1/t/nanan/me/export", Some(&official)).await;
    assert_eq!(s, 403);
    let (s, _) = app.get_json("/api/v1/t/shangcheng/me/export", Some(&vendor)).await;
    assert!(s == 403 || s == 404, "{s}");
    let exports: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'vendor.export'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(exports, 1);

    // The vendor's pages offer it as a file.
    let session = app.signed_in("nanan", "vendor").await;
    let home = session
        .get(app.url("/vendor"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("href=\"/vendor/my-data.json\""));
    let r = session.get(app.url("/vendor/my-data.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "a download"
    );
    let file: serde_json::Value = r.json().await.unwrap();
    assert_eq!(file["format"], "nightmarket-vendor-export/1");
    // The demo vendor trades: their stall's code, ratings and check-ins are in it.
    assert!(!file["tables"]["codes"].as_array().unwrap().is_empty());
}

/// The documents of a refused application are kept as long as the tenant chose, then removed by
/// the sweep; the application stays.
#[tokio::test]
async fn a_refused_applications_documents_go_after_the_tenants_period() {
    let app = TestApp::spawn().await;
    let now = app.state.ctx.clock.now();
    let admin = app.token("nanan", "admin").await;
    let (_, settings) = app.get_json("/api/v1/t/nanan/settings", Some(&admin)).await;
    assert_eq!(settings["rejected_documents_days"], 180, "the default");
    // Out of range: refused, nothing saved.
    let mut wanted = settings.clone();
    wanted["rejected_documents_days"] = serde_json::json!(20);
    let (s, _) = app
        .send_json(reqwest::Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &wanted)
        .await;
    assert_eq!(s, 422);
    wanted["rejected_documents_days"] = serde_json::json!(90);
    let (s, body) = app
        .send_json(reqwest::Method::PUT, "/api/v1/t/nanan/settings", Some(&admin), &wanted)
        .await;
    assert_eq!(s, 200, "{body}");

    let (_, old) = submitted_application(&app, "13712345621", 21).await;
    let (_, recent) = submitted_application(&app, "13712345622", 22).await;
    let (_, pending) = submitted_application(&app, "13712345623", 23).await;
    for (id, state, days_ago) in [
        (&old, "rejected", 91),
        (&recent, "withdrawn", 89),
        (&pending, "submitted", 400),
    ] {
        sqlx::query("update applications set state = $2, decided_at = $3, updated_at = $3 where id = $1::uuid")
            .bind(id)
            .bind(state)
            .bind(now - chrono::Duration::days(days_ago))
            .execute(&app.owner)
            .await
            .unwrap();
    }
    let documents = |id: String| {
        let owner = app.owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from application_documents where application_id = $1::uuid")
                .bind(id)
                .fetch_one(&owner)
                .await
                .unwrap()
        }
    };
    assert_eq!(documents(old.clone()).await, 3);

    let report = nightmarket_services::supervision::sweep(&app.state.ctx.db, &app.state.ctx.keys, now)
        .await
        .unwrap();
    assert_eq!(report.removed.rejected_documents, 3);
    assert_eq!(documents(old.clone()).await, 0, "past the tenant's 90 days");
    assert_eq!(documents(recent).await, 3, "within them");
    assert_eq!(documents(pending).await, 3, "still being decided");
    let kept: i64 = sqlx::query_scalar("select count(*) from applications where id = $1::uuid")
        .bind(&old)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(kept, 1, "the application stays");
    let after: serde_json::Value =
        sqlx::query_scalar("select after from audit_log where action = 'retention.apply' and tenant_id = $1")
            .bind(app.tenant_id("nanan").await)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(after["removed"]["rejected_documents"], 3);
    assert_eq!(after["kept_days"]["rejected_documents"], 90);
}

/// PIPL art. 47: a vendor who leaves asks to be forgotten, an admin decides; the personal data
/// goes (the number no longer found by its blind index), the stall's records stay, and the audit
/// trail keeps what happened without the person's values and still verifies.
#[tokio::test]
async fn a_departed_vendors_personal_data_is_erased_on_request_and_the_trail_still_verifies() {
    use reqwest::Method;
    use serde_json::json;
    let app = TestApp::spawn().await;
    let phone = "13712345631";
    let (vendor, application) = submitted_application(&app, phone, 31).await;
    approve(&app, &application).await;
    let code: uuid::Uuid = sqlx::query_scalar("select id from codes where application_id = $1::uuid")
        .bind(&application)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let vendor_id: uuid::Uuid = sqlx::query_scalar("select vendor_id from applications where id = $1::uuid")
        .bind(&application)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let admin = app.token("nanan", "admin").await;
    let official = app.token("nanan", "official").await;
    let stranger = app.token("shangcheng", "admin").await;

    // Asking: vendors only, one at a time.
    let ask = json!({"reason": "不再摆摊了"});
    let (s, _) = app
        .send_json(Method::POST, "/api/v1/t/nanan/me/erasure", Some(&official), &ask)
        .await;
    assert_eq!(s, 403);
    let (s, made) = app
        .send_json(Method::POST, "/api/v1/t/nanan/me/erasure", Some(&vendor), &ask)
        .await;
    assert_eq!(s, 201, "{made}");
    let (s, _) = app
        .send_json(Method::POST, "/api/v1/t/nanan/me/erasure", Some(&vendor), &ask)
        .await;
    assert_eq!(s, 409);
    let request = made["id"].as_str().unwrap().to_string();
    let decision = format!("/api/v1/t/nanan/erasure-requests/{request}/decision");

    // Deciding: admins only, of this tenant; a refusal needs a note; nothing erased meanwhile.
    let (s, _) = app
        .send_json(Method::POST, &decision, Some(&official), &json!({"approve": true}))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .send_json(Method::POST, &decision, Some(&stranger), &json!({"approve": true}))
        .await;
    assert!(s == 403 || s == 404, "{s}");
    let (s, _) = app
        .send_json(Method::POST, &decision, Some(&admin), &json!({"approve": false}))
        .await;
    assert_eq!(s, 422);
    let still: Option<Vec<u8>> = sqlx::query_scalar("select phone_enc from users where id = $1")
        .bind(vendor_id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(still.is_some());
    let (_, listed) = app.get_json("/api/v1/t/nanan/erasure-requests", Some(&admin)).await;
    assert_eq!(
        listed[0]["stalls"][0], "张记烤苕皮",
        "officials know the request by its stall"
    );

    let (s, done) = app
        .send_json(
            Method::POST,
            &decision,
            Some(&admin),
            &json!({"approve": true, "note": "已核实退出经营"}),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["erased"]["account"], 1);
    assert_eq!(done["erased"]["documents"], 3);
    assert_eq!(done["codes_revoked"], 1);
    assert!(done["audit_redacted"].as_i64().unwrap() > 0, "{done}");
    assert_eq!(done["audit_kept_old"], 0);
    let (s, _) = app
        .send_json(Method::POST, &decision, Some(&admin), &json!({"approve": true}))
        .await;
    assert_eq!(s, 404, "decided once");

    // The account is gone: its session, its sign-in, its number.
    let (s, _) = app.get_json("/api/v1/t/nanan/me/export", Some(&vendor)).await;
    assert_eq!(s, 401);
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"tenant": "nanan", "login": phone, "password": "摊主的密码2026"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let key = nightmarket_services::accounts::phone_login_key(
        &app.state.ctx.keys,
        nightmarket_domain::tenant::TenantId(app.tenant_id("nanan").await),
        &nightmarket_domain::people::Phone::parse(phone).unwrap(),
    );
    let found: i64 = sqlx::query_scalar("select count(*) from users where login = $1")
        .bind(&key)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(found, 0, "the number is no longer found by its blind index");
    type Personal = (
        Option<Vec<u8>>,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
        Option<String>,
        String,
        String,
    );
    let row: Personal = sqlx::query_as(
        "select id_number_enc, id_number_index, phone_index, real_name_enc, real_name_masked, stall_name, state
         from applications where id = $1::uuid",
    )
    .bind(&application)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        (&row.0, &row.1, &row.2, &row.3, &row.4),
        (&None, &None, &None, &None, &None)
    );
    assert_eq!(
        (row.5.as_str(), row.6.as_str()),
        ("张记烤苕皮", "approved"),
        "the stall's record stays"
    );
    let revoked: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select revoked_at from codes where id = $1")
            .bind(code)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(revoked.is_some());
    let documents: i64 =
        sqlx::query_scalar("select count(*) from application_documents where application_id = $1::uuid")
            .bind(&application)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(documents, 0);
    // The same number may sign up afresh: no longer "already registered" (the code itself may
    // wait for the number's SMS limit, which the sign-up above used a moment ago).
    let (s, body) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/signup/code",
            None,
            &json!({"phone": phone}),
        )
        .await;
    assert!(s == 202 || s == 429, "{s} {body}");

    // The trail: the vendor's records keep what and when, not the values; nothing of the person is
    // left in it; every chain still verifies.
    let left: i64 = sqlx::query_scalar(
        "select count(*) from audit_log
         where (coalesce(before::text, '') || coalesce(after::text, '') || actor_label) ~ '5631|张小三|张\\*\\*'
           and tenant_id = (select id from tenants where slug = 'nanan')",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(left, 0, "a value of the person is left in the trail");
    let redacted: Vec<(String, Option<serde_json::Value>)> = sqlx::query_as(
        "select action, after from audit_log where redacted_at is not null and (actor_id = $1 or subject_id = $2)",
    )
    .bind(vendor_id)
    .bind(&application)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(redacted.iter().any(|(a, _)| a == "application.create"), "{redacted:?}");
    assert!(redacted.iter().all(|(_, after)| after.is_none()));
    let (ok, out) = crate::audit::verify(&app, "nanan");
    assert!(ok, "{out}");
    // Redaction is the erasure's alone: outside the transaction that approved a request, even
    // that request's, the database refuses it.
    let mut tx = app.owner.begin().await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(app.tenant_id("nanan").await.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let refused =
        sqlx::query("select audit_redact($1::uuid, array(select seq from audit_log where action = 'erasure.approve'))")
            .bind(&request)
            .execute(&mut *tx)
            .await;
    let refused = refused.expect_err("a redaction outside an approval");
    assert!(refused.to_string().contains("approves erasure request"), "{refused}");
    drop(tx);
    // An edit of a record's content is still found after all this.
    sqlx::query(
        "update audit_log set after = '{\"forged\": true}' where seq = (select max(seq) from audit_log where action = 'erasure.approve')",
    )
    .execute(&app.owner)
    .await
    .unwrap();
    let (ok, out) = crate::audit::verify(&app, "nanan");
    assert!(!ok, "{out}");
}

#[tokio::test]
async fn the_erasure_request_and_its_refusal_through_the_pages() {
    let app = TestApp::spawn().await;
    let vendor = app.signed_in("nanan", "vendor").await;
    let home = || async {
        vendor
            .get(app.url("/vendor"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(home().await.contains("id=\"erasure-form\""));
    let post = |form: Vec<(&'static str, &'static str)>| {
        let (app, vendor) = (&app, &vendor);
        async move {
            vendor
                .post(app.url("/vendor/erasure"))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let demo_requests = app.count("erasure_requests").await;
    assert_eq!(post(vec![("reason", "搬家")]).await, 422, "not confirmed");
    assert_eq!(app.count("erasure_requests").await, demo_requests);
    assert_eq!(post(vec![("reason", "搬家"), ("confirm", "yes")]).await, 303);
    let page = home().await;
    assert!(page.contains("data-state=\"pending\"") && !page.contains("id=\"erasure-form\""));

    let admin = app.signed_in("nanan", "admin").await;
    let list = admin
        .get(app.url("/admin/erasure"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("搬家"), "the reason is shown");
    let id: uuid::Uuid = sqlx::query_scalar("select id from erasure_requests where state = 'pending'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let decide = |form: Vec<(&'static str, &'static str)>| {
        let (app, admin) = (&app, &admin);
        async move {
            admin
                .post(app.url(&format!("/admin/erasure/{id}")))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(decide(vec![("decision", "refuse")]).await, 422, "a refusal says why");
    assert_eq!(
        decide(vec![("decision", "refuse"), ("note", "尚有未结算的消费券款项")]).await,
        303
    );
    let page = home().await;
    assert!(page.contains("data-state=\"refused\"") && page.contains("尚有未结算的消费券款项"));
    assert!(page.contains("id=\"erasure-form\""), "may ask again");
    // Officials may not decide.
    let official = app.signed_in("nanan", "official").await;
    let r = official.get(app.url("/admin/erasure")).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
