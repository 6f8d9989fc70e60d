//! Pages that finish the job: what vendors, officials and shoppers stumbled over.

use crate::helpers::{TestApp, http};
use crate::supervision::{app_with_clock, demo_stall, inspect};
use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};

async fn text(client: &reqwest::Client, url: String) -> (u16, String) {
    let r = client.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn an_appeal_goes_to_another_official_unless_the_recorder_is_the_only_one() {
    let app = app_with_clock().await;
    app.state.ctx.clock.set(Utc::now());
    let stall = demo_stall(&app).await;
    let official = app.token("nanan", "official").await;
    let vendor = app.token("nanan", "vendor").await;
    let (s, _) = inspect(&app, &official, "nanan", stall.id, &["hygiene"], "台面油污").await;
    assert_eq!(s, 201);
    let (_, list) = app.get_json("/api/v1/t/nanan/my/deductions", Some(&vendor)).await;
    let deduction = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["problem"] == "卫生不达标" && !d["appeal_until"].is_null() && d["appeal_state"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, appeal) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/deductions/{deduction}/appeal"),
            Some(&vendor),
            &json!({"text": "已经清理干净"}),
        )
        .await;
    assert_eq!(s, 201, "{appeal}");
    let decide = format!("/api/v1/t/nanan/appeals/{}/decision", appeal["id"].as_str().unwrap());
    let body = json!({"cancel": false, "reason": "照片为证，维持扣分"});
    let (s, _) = app.send_json(Method::POST, &decide, Some(&official), &body).await;
    assert_eq!(s, 409, "someone else may decide");
    // The page says so instead of offering the form.
    let desk = app.signed_in("nanan", "official").await;
    let (s, html) = text(&desk, app.url("/official/appeals")).await;
    assert_eq!(s, 200);
    assert!(html.contains("申诉须由其他监管人员决定"), "{html}");

    // With every other member of staff disabled, the recorder is the only one: they may decide,
    // and the audit record says so.
    sqlx::query("update users set disabled_at = now() where role in ('admin', 'official') and login <> 'official'")
        .execute(&app.owner)
        .await
        .unwrap();
    let (_, html) = text(&desk, app.url("/official/appeals")).await;
    assert!(html.contains("本区没有其他可处理申诉的监管人员"), "{html}");
    let (s, b) = app.send_json(Method::POST, &decide, Some(&official), &body).await;
    assert_eq!(s, 204, "{b}");
    let after: Value =
        sqlx::query_scalar("select after from audit_log where action = 'appeal.uphold' order by seq desc limit 1")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(after["decided_by_recorder_as_sole_official"], true, "{after}");
}

#[tokio::test]
async fn a_shopper_types_a_tracking_number_in_and_the_district_page_links_to_it() {
    let app = TestApp::spawn().await;
    let (s, home) = text(&http(), app.url("/t/nanan")).await;
    assert_eq!(s, 200);
    assert!(home.contains("href=\"/complaints\"") && home.contains("href=\"/t/nanan/vouchers\""));
    let (s, form) = text(&http(), app.url("/complaints")).await;
    assert_eq!(s, 200);
    assert!(form.contains("id=\"lookup-form\""));
    let tracking = app.demo.samples["tracking"].as_str().unwrap().to_string();
    let shopper = app.client();
    let r = shopper
        .post(app.url("/complaints"))
        .form(&[("tracking", format!("  {}  ", tracking.to_uppercase()))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/complaints/{tracking}").as_str());
    let r = shopper
        .post(app.url("/complaints"))
        .form(&[("tracking", "nanan-00000000000000000000")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("没有找到这个编号的投诉"));
}

#[tokio::test]
async fn error_pages_show_who_is_signed_in() {
    let app = TestApp::spawn().await;
    let desk = app.signed_in("nanan", "official").await;
    let (s, html) = text(&desk, app.url("/admin/markets")).await;
    assert_eq!(s, 403);
    assert!(
        !html.contains("href=\"/login"),
        "no sign-in link for someone signed in: {html}"
    );
    let (s, html) = text(&desk, app.url("/no/such/page")).await;
    assert_eq!(s, 404);
    assert!(!html.contains("href=\"/login"), "{html}");
    let (s, html) = text(&http(), app.url("/no/such/page")).await;
    assert_eq!(s, 404);
    assert!(
        html.contains("href=\"/login"),
        "a stranger is offered to sign in: {html}"
    );
}

#[tokio::test]
async fn a_campaign_page_offers_only_the_steps_its_state_allows_and_says_what_was_done() {
    let app = TestApp::spawn().await;
    let admin = app.token("nanan", "admin").await;
    let start = Utc::now() + chrono::Duration::hours(2);
    let (s, c) = app
        .send_json(
            Method::POST,
            "/api/v1/t/nanan/campaigns",
            Some(&admin),
            &json!({
                "name": "测试券", "value_fen": 1000, "threshold_fen": 5000, "total": 10, "per_person": 1,
                "claim_start": start, "claim_end": start + chrono::Duration::hours(1), "use_days": 3
            }),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap();
    let desk = app.signed_in("nanan", "admin").await;
    let (_, html) = text(&desk, app.url(&format!("/admin/vouchers/{id}"))).await;
    assert!(html.contains("id=\"step-schedule\"") && html.contains("id=\"step-end\""));
    assert!(
        !html.contains("id=\"step-pause\"") && !html.contains("id=\"step-resume\""),
        "a draft cannot be paused"
    );
    let r = desk
        .post(app.url(&format!("/admin/vouchers/{id}/step")))
        .header("origin", app.url(""))
        .form(&[("step", "schedule")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = text(&desk, app.url(&location)).await;
    assert!(html.contains("已排期"), "the notice says what was done: {html}");
    assert!(html.contains("id=\"step-pause\"") && !html.contains("id=\"step-schedule\""));
    assert!(
        html.contains("<svg") && html.contains("claim-curve"),
        "the claim curve is drawn"
    );
}

#[tokio::test]
async fn a_slot_of_another_category_needs_a_stated_reason_and_approving_from_the_page_needs_a_tick() {
    let app = TestApp::spawn().await;
    let (_, id) = crate::applications::submitted_application(&app, "13712345688", 88).await;
    let official = app.token("nanan", "official").await;
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{id}"), Some(&official))
        .await;
    let version = review["application"]["version"].clone();
    let games = review["free_slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] != "food")
        .expect("a free slot of another category")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/t/nanan/review/applications/{id}/decision");
    let (s, b) = app
        .send_json(
            Method::POST,
            &path,
            Some(&official),
            &json!({"decision": "approve", "version": version, "slot_id": games}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(b["error"]["message"].as_str().unwrap().contains("破例理由"), "{b}");
    let codes = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from codes where application_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.owner)
            .await
            .unwrap()
    };
    assert_eq!(codes().await, 0, "nothing issued");

    // From the page: without the tick nothing happens; with it and a food slot, approved.
    let desk = app.signed_in("nanan", "official").await;
    let food = crate::applications::free_food_slot(&app, &official, &id).await;
    let version = version.as_i64().unwrap().to_string();
    let form = |confirm: bool| {
        let mut f = vec![
            ("decision", "approve".to_string()),
            ("version", version.clone()),
            ("slot_id", food.clone()),
        ];
        if confirm {
            f.push(("confirm", "yes".to_string()));
        }
        f
    };
    let r = desk
        .post(app.url(&format!("/official/applications/{id}/decision")))
        .header("origin", app.url(""))
        .form(&form(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("不能撤回"));
    assert_eq!(codes().await, 0);
    let r = desk
        .post(app.url(&format!("/official/applications/{id}/decision")))
        .header("origin", app.url(""))
        .form(&form(true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(codes().await, 1);

    // An exception with its reason is allowed, and the reason is kept.
    let (_, other) = crate::applications::submitted_application(&app, "13712345689", 89).await;
    let (_, review) = app
        .get_json(&format!("/api/v1/t/nanan/review/applications/{other}"), Some(&official))
        .await;
    let slot = review["free_slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] != "food")
        .unwrap()["id"]
        .clone();
    let (s, b) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/review/applications/{other}/decision"),
            Some(&official),
            &json!({"decision": "approve", "version": review["application"]["version"], "slot_id": slot,
                    "category_override": "本月餐饮区已满，临时安排在游艺区"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let after: Value =
        sqlx::query_scalar("select after from audit_log where action = 'application.approve' and subject_id = $1")
            .bind(&other)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!(after["category_override"], "本月餐饮区已满，临时安排在游艺区");
}

#[tokio::test]
async fn a_look_up_at_half_past_three_defaults_to_the_night_that_just_ended() {
    use crate::supervision::{at, today};
    let app = app_with_clock().await;
    let night = today() + chrono::Duration::days(1);
    app.state
        .config
        .clock
        .set(at(night + chrono::Duration::days(1), "03:28"));
    let desk = app.signed_in("nanan", "official").await;
    let (s, html) = text(&desk, app.url("/official/vouchers/redemptions")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!("id=\"night\" name=\"night\" type=\"date\" value=\"{night}\"")),
        "{html}"
    );
    assert!(html.contains("凌晨的核销属于前一晚"));
    // In the evening it is that evening's night.
    app.state.ctx.clock.set(at(night, "19:00"));
    let (_, html) = text(&desk, app.url("/official/vouchers/redemptions")).await;
    assert!(html.contains(&format!("value=\"{night}\"")));
}

#[tokio::test]
async fn a_phone_that_rated_tonight_is_told_before_filling_the_form_again() {
    use crate::supervision::{at, today};
    let app = app_with_clock().await;
    let stall = demo_stall(&app).await;
    let night = today() + chrono::Duration::days(3);
    crate::scan::check_in(&app, &stall, night).await;
    app.state.ctx.clock.set(at(night, "20:00"));
    let phone = app.client();
    let ticket = app.rating_ticket(&phone, &stall.path).await.unwrap();
    let rate = stall.path.replacen('?', "/rate?", 1);
    let (_, form) = text(&phone, app.url(&rate)).await;
    assert!(form.contains("id=\"rate-form\""), "{form}");
    let r = phone
        .post(app.url(&rate))
        .form(&[("stars", "5"), ("ticket", ticket.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, form) = text(&phone, app.url(&rate)).await;
    assert!(!form.contains("id=\"rate-form\""));
    assert!(
        app.rating_ticket(&phone, &stall.path).await.is_none(),
        "no ticket without a form"
    );
    assert!(form.contains("今晚已评价"), "{form}");
    // Not checked in: the scan page shows the button disabled with the reason.
    app.state
        .config
        .clock
        .set(at(night + chrono::Duration::days(1), "20:00"));
    let (_, scan) = text(&phone, app.url(&stall.path)).await;
    assert!(
        scan.contains("id=\"rate-closed\"") && scan.contains("aria-disabled=\"true\""),
        "{scan}"
    );
}

#[tokio::test]
async fn a_vendor_who_forgot_the_password_resets_it_by_sms_and_other_sessions_end() {
    let app = TestApp::spawn().await;
    let phone = "13712345700";
    let old_session = crate::applications::sign_up(&app, "nanan", phone).await;
    let (s, _) = app.get_json("/api/v1/me", Some(&old_session)).await;
    assert_eq!(s, 200);
    // The sign-in page and the "already registered" answer lead here.
    let (_, login) = text(&http(), app.url("/login")).await;
    assert!(login.contains("href=\"/t/nanan/reset\""), "{login}");
    let phone_page = app.client();
    // A number not registered here is told so; nothing is sent.
    let r = phone_page
        .post(app.url("/t/nanan/reset"))
        .form(&[("phone", "13712345701")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("还没有在本区注册"));
    let r = phone_page
        .post(app.url("/t/nanan/reset"))
        .form(&[("phone", phone)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"code-sent\""));
    let code = app.sms_code("137****5700").await;
    // A wrong code changes nothing.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = phone_page
        .post(app.url("/t/nanan/reset/verify"))
        .form(&[
            ("phone", phone),
            ("code", wrong),
            ("password", "新的密码2026ab"),
            ("confirm_password", "新的密码2026ab"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let (s, _) = app.get_json("/api/v1/me", Some(&old_session)).await;
    assert_eq!(s, 200, "still signed in after a wrong code");
    let r = phone_page
        .post(app.url("/t/nanan/reset/verify"))
        .form(&[
            ("phone", phone),
            ("code", code.as_str()),
            ("password", "新的密码2026ab"),
            ("confirm_password", "新的密码2026ab"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/vendor?notice=password_reset");
    let (_, home) = text(&phone_page, app.url("/vendor?notice=password_reset")).await;
    assert!(home.contains("密码已重设"), "signed in on this phone: {home}");
    let (s, _) = app.get_json("/api/v1/me", Some(&old_session)).await;
    assert_eq!(s, 401, "the other session ended");
    let (s, b) = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"tenant": "nanan", "login": phone, "password": "新的密码2026ab"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'vendor.password_reset'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn queues_give_the_facts_to_decide_and_settlement_states_its_zone() {
    use crate::supervision::today;
    let app = TestApp::spawn().await;
    let desk = app.signed_in("nanan", "admin").await;
    // The renewal waiting in the demo: whose stall, what is on record, what was sent.
    let (s, html) = text(&desk, app.url("/official/renewals")).await;
    assert_eq!(s, 200);
    assert!(html.contains("现登记的证照") && html.contains("新提交的证照"), "{html}");
    assert!(
        html.contains("href=\"/official/codes/"),
        "a link to the vendor's stall: {html}"
    );
    // The appeal waiting: what the inspection found, with its time.
    let (_, html) = text(&desk, app.url("/official/appeals?all=true")).await;
    assert!(html.contains("巡查于"), "{html}");
    // Settlement: times in the district's zone, the CSV with its offset.
    let from = today() - chrono::Duration::days(10);
    let to = today();
    let (s, csv) = text(
        &desk,
        app.url(&format!("/admin/vouchers/settlement.csv?from={from}&to={to}")),
    )
    .await;
    assert_eq!(s, 200);
    let settled: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .filter(|t| !t.is_empty())
        .collect();
    assert!(!settled.is_empty(), "the demo's settled vendor-day: {csv}");
    assert!(settled.iter().all(|t| t.ends_with("+08:00")), "{settled:?}");
    let (_, page) = text(
        &desk,
        app.url(&format!("/admin/vouchers/settlement?from={from}&to={to}")),
    )
    .await;
    assert!(page.contains("Asia/Shanghai"), "{page}");
}

#[tokio::test]
async fn the_audit_trail_reads_in_words_links_its_subjects_and_finds_actions_by_name() {
    let app = TestApp::spawn().await;
    // Every action the demo wrote is known and has a name in both languages.
    let actions: Vec<String> = sqlx::query_scalar("select distinct action from audit_log")
        .fetch_all(&app.owner)
        .await
        .unwrap();
    for a in &actions {
        assert!(
            nightmarket_domain::audit::ACTIONS.contains(&a.as_str()),
            "{a} is not in domain::audit::ACTIONS"
        );
    }
    for a in nightmarket_domain::audit::ACTIONS {
        let key = nightmarket_domain::audit::label_key(a);
        for lang in [nightmarket_web::i18n::Lang::Zh, nightmarket_web::i18n::Lang::En] {
            assert_ne!(lang.t(&key), key, "{a} has no name in {lang:?}");
        }
    }
    let desk = app.signed_in("nanan", "admin").await;
    let (s, html) = text(&desk, app.url("/admin/audit")).await;
    assert_eq!(s, 200);
    let labels = crate::helpers::texts(&html, "#audit-rows > tbody > tr > td:nth-child(4)");
    assert!(!labels.is_empty());
    for l in &labels {
        assert!(
            l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "an action in words: {l}"
        );
    }
    assert!(
        html.contains("href=\"/official/applications/") || html.contains("href=\"/official/codes/"),
        "subjects linked"
    );
    assert!(html.contains("class=\"changes\""), "changes as fields");
    // Words find actions: the name of one the demo wrote finds its records, and only them.
    let action = "code.issue";
    assert!(actions.iter().any(|a| a == action));
    let name = nightmarket_web::i18n::Lang::Zh.t(&nightmarket_domain::audit::label_key(action));
    let q: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let (_, html) = text(&desk, app.url(&format!("/admin/audit?action={q}"))).await;
    let rows = crate::helpers::texts(&html, "#audit-rows > tbody > tr");
    assert!(!rows.is_empty(), "{name} finds the demo's issued codes");
    assert_eq!(
        html.matches("data-action=\"code.issue\"").count(),
        rows.len(),
        "only them"
    );
    // A word nothing is named with finds nothing (not everything).
    let (_, html) = text(&desk, app.url("/admin/audit?action=%E9%A3%9E%E8%88%B9")).await;
    assert!(!html.contains("audit-rows"), "{html}");
}

#[tokio::test]
async fn a_vendor_disputes_a_feeds_report_and_an_official_decides_it_seeing_the_event() {
    use crate::supervision::{event, feed_key, scan_colour, send_event};
    let app = app_with_clock().await;
    app.state.ctx.clock.set(Utc::now());
    let stall = demo_stall(&app).await;
    let key = feed_key(&app, "nanan");
    let (s, b) = send_event(
        &app,
        "nanan",
        &key,
        Utc::now().timestamp(),
        &event("hc-dispute-1", stall.vendor, "invalid"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(scan_colour(&app, &stall.path).await, "red");
    let phone = app.signed_in("nanan", "vendor").await;
    let page = format!("/vendor/stalls/{}", stall.id);
    let (_, html) = text(&phone, app.url(&page)).await;
    assert!(
        html.contains("id=\"dispute-form-health\""),
        "the vendor is offered a dispute: {html}"
    );
    let post = |text: &'static str| {
        let phone = phone.clone();
        let url = app.url(&format!("{page}/disputes"));
        let origin = app.url("");
        async move {
            phone
                .post(url)
                .header("origin", origin)
                .form(&[("kind", "health"), ("text", text)])
                .send()
                .await
                .unwrap()
        }
    };
    let disputes = app.count("credential_disputes").await;
    assert_eq!(post("错").await.status(), 422, "a reason is needed");
    assert_eq!(app.count("credential_disputes").await, disputes, "nothing written");
    assert_eq!(post("我昨天已复检合格，报告有误").await.status(), 303);
    assert_eq!(post("再提交一次").await.status(), 409, "one dispute waits at a time");
    let (_, html) = text(&phone, app.url(&page)).await;
    assert!(html.contains("id=\"dispute-pending-health\""));

    // The official sees the feed's event beside the vendor's word.
    let desk = app.signed_in("nanan", "official").await;
    let (_, html) = text(&desk, app.url("/official/renewals")).await;
    assert!(
        html.contains("hc-dispute-1") && html.contains("我昨天已复检合格"),
        "{html}"
    );
    let id: uuid::Uuid = sqlx::query_scalar("select id from credential_disputes where vendor_id = $1")
        .bind(stall.vendor)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let decide = |client: reqwest::Client, verdict: &'static str, reason: &'static str| {
        let url = app.url(&format!("/official/disputes/{id}/decision"));
        let origin = app.url("");
        async move {
            client
                .post(url)
                .header("origin", origin)
                .form(&[("verdict", verdict), ("reason", reason)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(decide(phone.clone(), "uphold", "自己批准").await, 403, "not the vendor");
    let stranger = app.signed_in("shangcheng", "official").await;
    assert_eq!(decide(stranger, "uphold", "跨区").await, 404, "not another district");
    assert_eq!(decide(desk.clone(), "uphold", "").await, 422, "a reason is needed");
    assert_eq!(decide(desk.clone(), "uphold", "已电话核实复检报告").await, 303);
    assert_eq!(decide(desk.clone(), "reject", "再次决定").await, 409, "decided once");
    let (status, source): (String, String) =
        sqlx::query_as("select status, source from credentials where vendor_id = $1 and kind = 'health'")
            .bind(stall.vendor)
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!((status.as_str(), source.as_str()), ("valid", "official"));
    assert_ne!(scan_colour(&app, &stall.path).await, "red");
    let told: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'dispute_decided'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(told, 1);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action in ('credential.dispute', 'credential.dispute_uphold')
           and subject_id = $1",
    )
    .bind(stall.vendor.to_string())
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn an_official_dismisses_a_fraud_flag_with_a_reason_and_it_is_kept() {
    let app = TestApp::spawn().await;
    let desk = app.signed_in("nanan", "official").await;
    let (s, html) = text(&desk, app.url("/official/vouchers/flags")).await;
    assert_eq!(s, 200);
    // The demo's near-threshold card for a stall names no single shopper.
    let key = html
        .split("data-flag=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the demo raises a flag")
        .to_string();
    let dismiss = |reason: &'static str, key: String| {
        let desk = desk.clone();
        let url = app.url("/official/vouchers/flags/dismiss");
        let origin = app.url("");
        async move {
            desk.post(url)
                .header("origin", origin)
                .form(&[("key", key.as_str()), ("reason", reason)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(dismiss("", key.clone()).await, 422, "a reason is needed");
    assert_eq!(dismiss("已核实", "0".repeat(64)).await, 404, "only a flag raised now");
    assert_eq!(dismiss("已电话核实，同一家人分别用券", key.clone()).await, 303);
    assert_eq!(dismiss("再次排除", key.clone()).await, 409);
    let (_, html) = text(&desk, app.url("/official/vouchers/flags")).await;
    assert!(
        html.contains("已电话核实，同一家人分别用券") && html.contains("data-dismissed=\"true\""),
        "{html}"
    );
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'voucher_flag.dismiss'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let vendor = app.signed_in("nanan", "vendor").await;
    let r = vendor
        .post(app.url("/official/vouchers/flags/dismiss"))
        .header("origin", app.url(""))
        .form(&[("key", key.as_str()), ("reason", "我自己排除")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "not a vendor");
}

#[tokio::test]
async fn a_vendor_backs_an_appeal_with_a_photo_that_the_deciding_official_opens() {
    let app = app_with_clock().await;
    app.state.ctx.clock.set(Utc::now());
    let stall = demo_stall(&app).await;
    let official = app.token("nanan", "official").await;
    let vendor = app.token("nanan", "vendor").await;
    let (s, _) = inspect(&app, &official, "nanan", stall.id, &["hygiene"], "台面油污").await;
    assert_eq!(s, 201);
    let (_, list) = app.get_json("/api/v1/t/nanan/my/deductions", Some(&vendor)).await;
    let deduction = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["problem"] == "卫生不达标" && !d["appeal_until"].is_null() && d["appeal_state"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let phone = app.signed_in("nanan", "vendor").await;
    let (_, page) = text(&phone, app.url(&format!("/vendor/stalls/{}", stall.id))).await;
    assert!(
        page.contains("enctype=\"multipart/form-data\"") && page.contains("name=\"photo\""),
        "the appeal form takes a photo: {page}"
    );
    let action = app.url(&format!("/vendor/stalls/{}/deductions/{deduction}/appeal", stall.id));
    let appeals = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from appeals where deduction_id = $1::uuid")
            .bind(&deduction)
            .fetch_one(&app.owner)
            .await
            .unwrap()
    };

    // Not a photo: a clear message on the page and nothing filed.
    let form = reqwest::multipart::Form::new().text("text", "台面当时已清理").part(
        "photo",
        reqwest::multipart::Part::bytes(b"#!/bin/sh\necho hi\n".to_vec()).file_name("a.jpg"),
    );
    let r = phone.post(&action).multipart(form).send().await.unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert!((400..500).contains(&status), "{status}");
    assert!(body.contains("照片须为 JPEG 或 PNG"), "{body}");
    assert_eq!(appeals().await, 0, "nothing written");

    // A PNG: the appeal is filed with it.
    let png = crate::applications::png();
    let form = reqwest::multipart::Form::new()
        .text("text", "台面当时已清理，见照片")
        .part("photo", reqwest::multipart::Part::bytes(png.clone()).file_name("p.png"));
    let r = phone.post(&action).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(appeals().await, 1);
    let id: uuid::Uuid = sqlx::query_scalar("select id from appeals where deduction_id = $1::uuid")
        .bind(&deduction)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select photo_enc from appeals where id = $1")
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert!(!stored.windows(4).any(|w| w == b"IHDR"), "sealed at rest");

    // The official deciding it sees the link and opens the photo; so does the vendor.
    let desk = app.signed_in("nanan", "admin").await;
    let (_, html) = text(&desk, app.url("/official/appeals")).await;
    let link = format!("/appeal-photos/{id}");
    assert!(html.contains(&link) && html.contains("摊主附上的照片"), "{html}");
    for client in [&desk, &phone] {
        let r = client.get(app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    }
    // Another district's official: no such photo.
    let elsewhere = app.signed_in("shangcheng", "official").await;
    let r = elsewhere.get(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // Signed out: sent to sign in, nothing shown.
    let r = app.client().get(app.url(&link)).send().await.unwrap();
    assert_ne!(r.status(), 200);
    let audited: Value = sqlx::query_scalar(
        "select after from audit_log where action = 'appeal.file' and subject_id = $1 order by seq desc limit 1",
    )
    .bind(&deduction)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(audited["photo"], true, "{audited}");
}

#[tokio::test]
async fn a_vendor_gives_a_payout_account_and_only_an_admin_paying_sees_it_in_full_audited() {
    use crate::supervision::today;
    let app = TestApp::spawn().await;
    // Settlement as the demo left it: masked names and accounts, and a vendor who gave none.
    let admin = app.signed_in("nanan", "admin").await;
    let (from, to) = (today() - chrono::Duration::days(30), today());
    let url = |extra: &str| app.url(&format!("/admin/vouchers/settlement?from={from}&to={to}{extra}"));
    let (_, page) = text(&admin, url("")).await;
    assert!(page.contains("王**") && page.contains("**** "), "{page}");
    assert!(!page.contains("王秀英") && page.contains("未填写收款账户"), "{page}");
    let phone = app.signed_in("nanan", "vendor").await;
    let (s, page) = text(&phone, app.url("/vendor/payee")).await;
    assert_eq!(s, 200);
    assert!(page.contains("id=\"payee-form\""), "{page}");
    let rows = || async { app.count("payee_accounts").await };
    let before = rows().await;

    // Letters in the number, a one-character name: clear messages, nothing written.
    let r = phone
        .post(app.url("/vendor/payee"))
        .form(&[
            ("holder", "王"),
            ("bank", "农行城关支行"),
            ("account", "6228 48O0 1234 5678"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("账号只能包含数字") && body.contains("2–30"), "{body}");
    assert_eq!(rows().await, before);

    let r = phone
        .post(app.url("/vendor/payee"))
        .form(&[
            ("holder", "赵小摊"),
            ("bank", "农行城关支行"),
            ("account", "6228 4800 1234 5678 901"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, page) = text(&phone, app.url("/vendor/payee?notice=saved")).await;
    assert!(page.contains("赵**") && page.contains("**** 8901"), "{page}");
    assert!(
        !page.contains("6228480012345678901") && !page.contains("赵小摊"),
        "masked: {page}"
    );
    let clear: i64 = sqlx::query_scalar(
        "select count(*) from payee_accounts where position('8901'::bytea in account_enc) > 0 or account_masked like '%5678%'",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(clear, 0, "sealed at rest");
    // The API answers the same, masked; a staff member has no payout account.
    let vendor = app.token("nanan", "vendor").await;
    let (s, p) = app.get_json("/api/v1/me/payee", Some(&vendor)).await;
    assert_eq!((s, p["account"].as_str()), (200, Some("**** 8901")), "{p}");
    let official = app.token("nanan", "official").await;
    let (s, _) = app
        .send_json(
            Method::PUT,
            "/api/v1/me/payee",
            Some(&official),
            &json!({"holder": "赵小摊", "bank": "农行", "account": "622848001234567890"}),
        )
        .await;
    assert_eq!(s, 403);

    // The full names and accounts on request, audited.
    let audits = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from audit_log where action = 'settlement.reveal'")
            .fetch_one(&app.owner)
            .await
            .unwrap()
    };
    assert_eq!(audits().await, 0);
    let (_, page) = text(&admin, url("&reveal=1")).await;
    assert!(page.contains("王秀英") && page.contains("622848"), "{page}");
    assert_eq!(audits().await, 1);
    let (_, csv) = text(
        &admin,
        app.url(&format!("/admin/vouchers/settlement.csv?from={from}&to={to}&reveal=1")),
    )
    .await;
    assert!(
        csv.lines().next().unwrap().contains("payee_account") && csv.contains("王秀英"),
        "{csv}"
    );
    assert_eq!(audits().await, 2);
    // An official may not see settlement at all; another district's admin sees none of these.
    let desk = app.signed_in("nanan", "official").await;
    let (s, _) = text(&desk, url("&reveal=1")).await;
    assert_eq!(s, 403);
    let elsewhere = app.signed_in("shangcheng", "admin").await;
    let (_, page) = text(&elsewhere, url("&reveal=1")).await;
    assert!(!page.contains("赵小摊"));
    assert_eq!(audits().await, 3, "the other district's viewing is its own record");
}
