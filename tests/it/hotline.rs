//! 12345's rules for complaints: each category's GB/T 39666 class (shown, exported, sent over
//! Open311) and deadlines in working days by the tenant's calendar of holidays and 调休.

use crate::numbers::parse_csv;
use crate::scan::*;
use crate::supervision::{at, demo_stall};
use chrono::NaiveDate;
use reqwest::Method;
use serde_json::{Value, json};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn complaints_carry_their_12345_class_and_count_working_days_by_the_tenants_calendar() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    app.state.ctx.clock.set(at(day("2026-09-20"), "12:00"));
    let admin = app.token("nanan", "admin").await;
    let official = app.token("nanan", "official").await;
    let stranger = app.token("shangcheng", "admin").await;
    let rules_path = "/api/v1/t/nanan/complaint-deadlines";
    // The demo lists next year's statutory days off.
    let demo_days = app.count("work_calendar").await;
    let rule = |gbt: &str| json!({"category": "price_fraud", "ack_hours": 4, "resolve_days": 2, "working_days": true, "gbt_code": gbt});
    let written = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from complaint_deadlines d join tenants t on t.id = d.tenant_id
             where t.slug = 'nanan' and d.category = 'price_fraud'",
        )
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };

    // Bad codes, the wrong role, the wrong tenant: refused, nothing written.
    for bad in ["07020", "0702011", "000201", "07-02-01"] {
        let (s, body) = app.send_json(Method::PUT, rules_path, Some(&admin), &rule(bad)).await;
        assert_eq!(s, 422, "{bad}: {body}");
    }
    let (s, _) = app
        .send_json(Method::PUT, rules_path, Some(&official), &rule("070201"))
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .send_json(Method::PUT, rules_path, Some(&stranger), &rule("070201"))
        .await;
    assert!(s == 403 || s == 404, "{s}");
    assert_eq!(written().await, 0);

    let (s, body) = app
        .send_json(Method::PUT, rules_path, Some(&admin), &rule("070201"))
        .await;
    assert_eq!(s, 204, "{body}");
    let (_, rules) = app.get_json(rules_path, Some(&official)).await;
    let price = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "price_fraud")
        .unwrap();
    assert_eq!(price["gbt_code"], "070201");
    assert_eq!(price["working_days"], true);
    let other = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == "noise")
        .unwrap();
    assert_eq!(other["gbt_code"], Value::Null);

    // The calendar: bad days, kinds and names, the wrong role and tenant are refused.
    let cal = |d: &str| format!("/api/v1/t/nanan/calendar/{d}");
    for (d, body) in [
        ("2026-13-01", json!({"kind": "holiday", "name": "国庆节"})),
        ("2031-01-01", json!({"kind": "holiday", "name": "元旦"})),
        ("2026-10-01", json!({"kind": "party", "name": "国庆节"})),
        ("2026-10-01", json!({"kind": "holiday", "name": " "})),
    ] {
        let (s, answer) = app.send_json(Method::PUT, &cal(d), Some(&admin), &body).await;
        assert_eq!(s, 422, "{d} {body}: {answer}");
    }
    let holiday = json!({"kind": "holiday", "name": "国庆节"});
    let (s, _) = app
        .send_json(Method::PUT, &cal("2026-10-01"), Some(&official), &holiday)
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .send_json(Method::PUT, &cal("2026-10-01"), Some(&stranger), &holiday)
        .await;
    assert!(s == 403 || s == 404, "{s}");
    assert_eq!(app.count("work_calendar").await, demo_days, "nothing written");

    // National Day 2026 as announced: 1–7 October off, Sunday 27 September and Saturday 10
    // October worked.
    for n in 1..=7 {
        let (s, body) = app
            .send_json(Method::PUT, &cal(&format!("2026-10-0{n}")), Some(&admin), &holiday)
            .await;
        assert_eq!(s, 200, "{body}");
    }
    for d in ["2026-09-27", "2026-10-10"] {
        let (s, body) = app
            .send_json(
                Method::PUT,
                &cal(d),
                Some(&admin),
                &json!({"kind": "workday", "name": "国庆调休"}),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["kind"], "workday");
    }
    let (_, listed) = app.get_json("/api/v1/t/nanan/calendar", Some(&official)).await;
    let this_year: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["day"].as_str().unwrap().starts_with("2026-"))
        .collect();
    assert_eq!(this_year.len(), 9);
    let (s, _) = app.get_json("/api/v1/t/nanan/calendar", Some(&stranger)).await;
    assert!(s == 403 || s == 404, "{s}");

    // Complaints filed through the hotline's Open311 feed.
    let key = api_key(&app, "nanan");
    let file = |description: &'static str| {
        let (app, key, stall) = (&app, key.clone(), &stall);
        async move {
            let r = app
                .client()
                .post(app.url("/open311/v2/nanan/requests.json"))
                .form(&[
                    ("api_key", key),
                    ("service_code", "price_fraud".into()),
                    ("attribute[code]", app.url(&stall.path)),
                    ("description", description.into()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let body: Value = r.json().await.unwrap();
            let id = body[0]["service_request_id"].as_str().unwrap().to_string();
            let due: chrono::DateTime<chrono::Utc> =
                sqlx::query_scalar("select resolve_due_at from complaints where public_id = $1")
                    .bind(&id)
                    .fetch_one(&app.owner)
                    .await
                    .unwrap();
            (id, due)
        }
    };
    // Filed on the Friday before the holiday's week: the Sunday worked is its first working
    // day, Monday its second; due at the end of Monday.
    app.state.ctx.clock.set(at(day("2026-09-25"), "18:00"));
    let (friday, due) = file("来电反映：标价十元收二十元").await;
    assert_eq!(due, at(day("2026-09-29"), "00:00"));
    // Filed late on the eve of the holiday: the week off does not count; the 8th and 9th do.
    app.state.ctx.clock.set(at(day("2026-09-30"), "23:30"));
    let (_, due) = file("来电反映：节前价格欺诈").await;
    assert_eq!(due, at(day("2026-10-10"), "00:00"));

    // Open311 sends the class: in the service list's keywords and the request's agency.
    let (_, services) = app.get_json("/open311/v2/nanan/services.json", None).await;
    let service = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "price_fraud")
        .unwrap();
    assert!(
        service["keywords"].as_str().unwrap().contains("GB/T 39666-2020:070201"),
        "{service}"
    );
    assert!(
        service["description"].as_str().unwrap().contains("2 working days"),
        "{service}"
    );
    let (_, request) = app
        .get_json(&format!("/open311/v2/nanan/requests/{friday}.json"), None)
        .await;
    assert!(
        request[0]["agency_responsible"]
            .as_str()
            .unwrap()
            .ends_with("(GB/T 39666-2020: 070201)"),
        "{request}"
    );
    let (_, xml) = app.get_text(&format!("/open311/v2/nanan/requests/{friday}.xml")).await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let agency = doc
        .descendants()
        .find(|n| n.has_tag_name("agency_responsible"))
        .unwrap();
    assert!(agency.text().unwrap().contains("070201"));

    // Officials see it on the complaint and in the CSV export.
    let session = app.signed_in("nanan", "official").await;
    let id: uuid::Uuid = sqlx::query_scalar("select id from complaints where public_id = $1")
        .bind(&friday)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let page = session
        .get(app.url(&format!("/official/complaints/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("GB/T 39666 070201"), "{page}");
    let r = session
        .get(app.url("/official/numbers/csv/complaints?range=90"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (header, rows) = parse_csv(&r.bytes().await.unwrap());
    let col = header.iter().position(|h| h == "gbt39666").unwrap();
    let category = header.iter().position(|h| h == "category").unwrap();
    let priced: Vec<&Vec<String>> = rows.iter().filter(|r| r[category] == "price_fraud").collect();
    assert!(!priced.is_empty());
    assert!(priced.iter().all(|r| r[col] == "070201"));

    // Every change audited; a day taken off the calendar follows the week again.
    let (s, _) = app
        .send_json(Method::DELETE, &cal("2026-10-10"), Some(&admin), &json!({}))
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .send_json(Method::DELETE, &cal("2026-10-10"), Some(&admin), &json!({}))
        .await;
    assert_eq!(s, 404);
    let actions: Vec<(String, i64)> = sqlx::query_as(
        "select action, count(*) from audit_log where action in ('calendar.set', 'calendar.remove', 'complaint_deadlines.update')
         group by action order by action",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        actions,
        vec![
            ("calendar.remove".to_string(), 1),
            ("calendar.set".to_string(), 9),
            ("complaint_deadlines.update".to_string(), 1)
        ]
    );
}

#[tokio::test]
async fn the_settings_page_sets_a_categorys_code_and_working_days_and_the_calendar() {
    let app = app().await;
    let admin = app.signed_in("nanan", "admin").await;
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let (app, admin) = (&app, &admin);
        async move {
            admin
                .post(app.url(path))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let deadline = |gbt: &'static str| {
        vec![
            ("category", "hygiene"),
            ("ack_hours", "8"),
            ("resolve_days", "10"),
            ("working_days", "1"),
            ("gbt_code", gbt),
        ]
    };
    assert_eq!(post("/admin/complaint-deadlines", deadline("12")).await, 422);
    assert_eq!(post("/admin/complaint-deadlines", deadline("030405")).await, 303);
    let demo_days = app.count("work_calendar").await;
    assert_eq!(
        post(
            "/admin/calendar",
            vec![("day", "next tuesday"), ("kind", "holiday"), ("name", "x")]
        )
        .await,
        422
    );
    assert_eq!(app.count("work_calendar").await, demo_days);
    let today = app.state.ctx.clock.now().date_naive();
    // A day a month or more ahead that the demo does not list already.
    let mut offset = 30;
    let holiday = loop {
        let day = today + chrono::Duration::days(offset);
        let listed: i64 = sqlx::query_scalar("select count(*) from work_calendar where day = $1")
            .bind(day)
            .fetch_one(&app.owner)
            .await
            .unwrap();
        if listed == 0 {
            break day.to_string();
        }
        offset += 1;
    };
    let holiday: &'static str = Box::leak(holiday.into_boxed_str());
    assert_eq!(
        post(
            "/admin/calendar",
            vec![("day", holiday), ("kind", "holiday"), ("name", "元旦")]
        )
        .await,
        303
    );
    let page = admin
        .get(app.url("/admin/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("value=\"030405\""), "the code is shown");
    assert!(page.contains(holiday) && page.contains("元旦"), "the day is listed");
    assert_eq!(post("/admin/calendar/remove", vec![("day", holiday)]).await, 303);
    assert_eq!(app.count("work_calendar").await, demo_days);
    // Officials may not.
    let official = app.signed_in("nanan", "official").await;
    let r = official
        .post(app.url("/admin/calendar"))
        .form(&[("day", holiday), ("kind", "holiday"), ("name", "元旦")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.count("work_calendar").await, demo_days);
}

#[tokio::test]
async fn a_complaint_passes_the_hotlines_stages_with_escalation_and_follow_up_recorded() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let admin = app.token("nanan", "admin").await;
    let official = app.token("nanan", "official").await;
    let stranger = app.token("shangcheng", "admin").await;
    let r = app
        .client()
        .post(app.url("/open311/v2/nanan/requests.json"))
        .form(&[
            ("api_key", api_key(&app, "nanan")),
            ("service_code", "hygiene".to_string()),
            ("attribute[code]", app.url(&stall.path)),
            ("description", "来电反映：摊位油烟很大，地面很脏".to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let filed: Value = r.json().await.unwrap();
    let tracking = filed[0]["tracking"].as_str().unwrap().to_string();
    let id = complaint_id(&app, &tracking).await;
    let path = |tail: &str| format!("/api/v1/t/nanan/complaints/{id}/{tail}");
    let reached = |view: &Value| -> Vec<String> {
        view["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| !m["at"].is_null())
            .map(|m| m["stage"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, view) = app
        .get_json(&format!("/api/v1/t/nanan/complaints/{id}"), Some(&official))
        .await;
    let view = if view["complaint"].is_object() {
        view["complaint"].clone()
    } else {
        view
    };
    assert_eq!(reached(&view), vec!["accepted"]);
    assert_eq!(view["stages"].as_array().unwrap().len(), 7);

    // 转办: the first official to take it.
    let (s, _) = app
        .send_json(Method::POST, &path("claim"), Some(&official), &json!({}))
        .await;
    assert_eq!(s, 204);
    let step = |action: &str, note: &str| json!({"action": action, "note": note, "upheld": true});
    let (s, view) = app
        .send_json(Method::POST, &path("steps"), Some(&official), &step("acknowledge", ""))
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(reached(&view), vec!["accepted", "transferred", "signed"]);

    // 督办: admins only, with a note; not another tenant's.
    let note = json!({"note": "请今晚闭市前到现场核查并反馈"});
    let (s, _) = app
        .send_json(Method::POST, &path("escalations"), Some(&official), &note)
        .await;
    assert_eq!(s, 403);
    let (s, _) = app
        .send_json(Method::POST, &path("escalations"), Some(&stranger), &note)
        .await;
    assert!(s == 403 || s == 404, "{s}");
    let (s, _) = app
        .send_json(Method::POST, &path("escalations"), Some(&admin), &json!({"note": "快"}))
        .await;
    assert_eq!(s, 422);
    let escalated_at = || async {
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
            "select escalated_at from complaints where id = $1",
        )
        .bind(id)
        .fetch_one(&app.owner)
        .await
        .unwrap()
    };
    assert_eq!(escalated_at().await, None);
    let (s, view) = app
        .send_json(Method::POST, &path("escalations"), Some(&admin), &note)
        .await;
    assert_eq!(s, 200, "{view}");
    assert!(reached(&view).contains(&"supervised".to_string()));

    // 回访: only once closed.
    let outcome = json!({"result": "satisfied", "note": "来电人表示已整改"});
    let (s, _) = app
        .send_json(Method::POST, &path("follow-up"), Some(&official), &outcome)
        .await;
    assert_eq!(s, 409);
    let (s, view) = app
        .send_json(
            Method::POST,
            &path("steps"),
            Some(&official),
            &step("resolve", "已责令整改，现场复查合格"),
        )
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["may_follow_up"], true);
    assert!(
        !reached(&view).contains(&"closed".to_string()),
        "closed for good only after the follow-up"
    );
    let (s, _) = app
        .send_json(
            Method::POST,
            &path("follow-up"),
            Some(&official),
            &json!({"result": "happy"}),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = app
        .send_json(Method::POST, &path("follow-up"), Some(&stranger), &outcome)
        .await;
    assert!(s == 403 || s == 404, "{s}");
    let (s, view) = app
        .send_json(Method::POST, &path("follow-up"), Some(&official), &outcome)
        .await;
    assert_eq!(s, 200, "{view}");
    assert_eq!(view["follow_up"], "satisfied");
    assert_eq!(
        reached(&view),
        vec![
            "accepted",
            "transferred",
            "signed",
            "handling",
            "supervised",
            "followed_up",
            "closed"
        ]
    );
    let (s, _) = app
        .send_json(Method::POST, &path("follow-up"), Some(&official), &outcome)
        .await;
    assert_eq!(s, 409, "once per closing");

    // The complainant's tracking page shows the stages and the timeline's new steps.
    let (s, page) = app.get_text(&format!("/complaints/{tracking}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("data-stage=\"closed\" class=\"reached\""), "{page}");
    assert!(page.contains("请今晚闭市前到现场核查并反馈"));
    // The official's page too, with the result.
    let session = app.signed_in("nanan", "official").await;
    let page = session
        .get(app.url(&format!("/official/complaints/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"follow-up-result\""), "{page}");
    assert!(!page.contains("id=\"escalate-form\""), "closed, and not an admin");

    let actions: Vec<(String, i64)> = sqlx::query_as(
        "select action, count(*) from audit_log where action in ('complaint.escalate', 'complaint.follow_up')
         group by action order by action",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert_eq!(
        actions,
        vec![
            ("complaint.escalate".to_string(), 1),
            ("complaint.follow_up".to_string(), 1)
        ]
    );
    let events: Vec<String> =
        sqlx::query_scalar("select kind from complaint_events where complaint_id = $1 order by at, seq")
            .bind(id)
            .fetch_all(&app.owner)
            .await
            .unwrap();
    assert_eq!(
        events,
        vec![
            "filed",
            "assigned",
            "acknowledged",
            "escalated",
            "resolved",
            "followed_up"
        ]
    );
}
