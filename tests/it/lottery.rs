//! Stall lotteries over HTTP: a round opened, its list published with a priority group and an
//! exclusion, drawn with a public value (winners approved into slots with codes, the rest on the
//! waitlist), re-drawn offline by `nightmarket lottery verify` byte for byte, a tampered copy
//! refused, a freed slot passed down the waitlist; bad input, the wrong order of steps, the wrong
//! role and the wrong tenant.

use crate::helpers::{TestApp, Who};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// Takes the demo's round away, so a test runs a round of its own from the start.
async fn without_demo_rounds(app: &TestApp) {
    sqlx::query("delete from lottery_entries")
        .execute(&app.owner)
        .await
        .unwrap();
    sqlx::query("delete from lottery_rounds")
        .execute(&app.owner)
        .await
        .unwrap();
}

/// The market with the most applications awaiting review, and how many per category.
async fn busiest_market(app: &TestApp) -> (String, Vec<(String, i64)>) {
    let tenant = app.tenant_id("nanan").await;
    let market: Uuid = sqlx::query_scalar(
        "select market_id from applications where tenant_id = $1 and state in ('submitted', 'resubmitted')
         group by market_id order by count(*) desc limit 1",
    )
    .bind(tenant)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    let per: Vec<(String, i64)> = sqlx::query_as(
        "select category, count(*) from applications where tenant_id = $1 and market_id = $2
           and state in ('submitted', 'resubmitted') group by category order by count(*) desc",
    )
    .bind(tenant)
    .bind(market)
    .fetch_all(&app.owner)
    .await
    .unwrap();
    (market.to_string(), per)
}

fn round_body(category: &str, slots: i64) -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({
        "title": "2027年第一轮摊位摇号",
        "entries_from": (today - chrono::Duration::days(60)).to_string(),
        "entries_until": (today + chrono::Duration::days(1)).to_string(),
        "term_months": 6,
        "previous_winners_may_enter": true,
        "offer": [{"category": category, "slots": slots}],
        "groups": [{"name": "低收入家庭", "share_percent": 50}]
    })
}

async fn snapshot(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        app.count("lottery_rounds").await,
        app.count("lottery_entries").await,
        app.count("codes").await,
        app.count("audit_log").await,
    )
}

#[tokio::test]
async fn a_round_is_published_drawn_verified_offline_and_its_waitlist_fills_a_freed_slot() {
    let app = TestApp::spawn().await;
    without_demo_rounds(&app).await;
    let (market, per) = busiest_market(&app).await;
    let (category, waiting) = per[0].clone();
    assert!(waiting >= 3, "the demo has applications to draw from: {per:?}");
    let admin = app.token("nanan", "admin").await;
    let official = app.token("nanan", "official").await;

    // Open: one slot fewer than will enter (one is left off below), so somebody waits.
    let body = round_body(&category, waiting - 2);
    let (status, round) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/markets/{market}/lotteries"),
            Some(&admin),
            &body,
        )
        .await;
    assert_eq!(status, 201, "{round}");
    let id = round["id"].as_str().unwrap().to_string();
    assert_eq!(round["state"], "open");
    let commitment = round["published"]["commitment"].as_str().unwrap().to_string();
    assert_eq!(commitment.len(), 64);
    assert!(
        round["published"]["tenant_value"].is_null(),
        "the value stays secret until the draw"
    );

    // The candidates, for staff: an official may see them, a vendor may not.
    let (status, candidates) = app
        .get_json(&format!("/api/v1/t/nanan/lotteries/{id}/candidates"), Some(&official))
        .await;
    assert_eq!(status, 200, "{candidates}");
    let eligible: Vec<&Value> = candidates
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["barred"].is_null())
        .collect();
    assert_eq!(eligible.len() as i64, waiting);
    let vendor = app.token("nanan", "vendor").await;
    let (status, _) = app
        .get_json(&format!("/api/v1/t/nanan/lotteries/{id}/candidates"), Some(&vendor))
        .await;
    assert_eq!(status, 403);

    // Drawing before publishing is refused; so is a group that does not exist.
    let before = snapshot(&app).await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/lotteries/{id}/draw"),
            Some(&admin),
            &json!({"public_value": "1 2 3"}),
        )
        .await;
    assert_eq!(status, 409);
    let first = eligible[0]["application_id"].as_str().unwrap().to_string();
    let (status, answer) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/lotteries/{id}/publication"),
            Some(&admin),
            &json!({"groups": {first.clone(): 9}}),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(snapshot(&app).await, before, "nothing written");

    // Publish: the first in the low-income group, the last left off as ineligible.
    let last = eligible.last().unwrap()["application_id"].as_str().unwrap().to_string();
    let publication = json!({"groups": {first.clone(): 1}, "excluded": [last.clone()]});
    app.ladder(
        Method::POST,
        &format!("/api/v1/t/nanan/lotteries/{id}/publication"),
        &publication,
        &[
            (Who::Nobody, 401),
            (Who::Official("nanan"), 403),
            (Who::Vendor("nanan"), 403),
            (Who::Admin("shangcheng"), 404),
        ],
    )
    .await;
    let (status, round) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/lotteries/{id}/publication"),
            Some(&admin),
            &publication,
        )
        .await;
    assert_eq!(status, 200, "{round}");
    assert_eq!(round["state"], "published");
    let entries = round["published"]["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len() as i64, waiting - 1, "the excluded one is off the list");
    assert_eq!(entries[0]["group"], 1);
    assert_eq!(
        round["published"]["commitment"],
        commitment.as_str(),
        "the commitment never changes"
    );
    // Everyone on the list was told their number.
    let told: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'lottery_entered'")
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(told, entries.len() as i64);
    // Publishing again is refused.
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/lotteries/{id}/publication"),
            Some(&admin),
            &publication,
        )
        .await;
    assert_eq!(status, 409);

    // The draw: an empty public value is refused and writes nothing.
    let before = snapshot(&app).await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/lotteries/{id}/draw"),
            Some(&admin),
            &json!({"public_value": "  "}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(snapshot(&app).await, before, "nothing written");
    let (status, round) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/lotteries/{id}/draw"),
            Some(&admin),
            &json!({"public_value": "福彩3D 2027010期：4 7 1"}),
        )
        .await;
    assert_eq!(status, 200, "{round}");
    assert_eq!(round["state"], "drawn");
    let result = round["published"]["result"][0].clone();
    let drawn = result["drawn"].as_array().unwrap().clone();
    let waitlist = result["waitlist"].as_array().unwrap().clone();
    assert_eq!(drawn.len() as i64, waiting - 2);
    assert_eq!(waitlist.len(), 1, "one waits");
    assert_eq!(drawn.len() + waitlist.len(), entries.len());
    // The low-income entrant had half the slots reserved for its group: drawn first.
    if drawn.len() >= 2 {
        assert_eq!(drawn[0]["number"], 1);
        assert_eq!(drawn[0]["for_group"], 1);
    }
    // Winners were approved into slots with codes, as an official approves.
    for d in &drawn {
        let n = d["number"].as_i64().unwrap() as i32;
        let (state, code): (String, Option<String>) = sqlx::query_as(
            "select a.state, c.code from lottery_entries e join applications a on a.tenant_id = e.tenant_id and a.id = e.application_id
             left join codes c on c.tenant_id = a.tenant_id and c.application_id = a.id and c.revoked_at is null
             where e.round_id = $1::uuid and e.number = $2",
        )
        .bind(&id)
        .bind(n)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        assert_eq!(state, "approved");
        assert!(code.is_some(), "entry {n} has a code");
    }
    // Drawing again is refused.
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/lotteries/{id}/draw"),
            Some(&admin),
            &json!({"public_value": "another"}),
        )
        .await;
    assert_eq!(status, 409);

    // Anyone re-draws it offline from the published JSON, and gets the same, byte for byte.
    let (status, published) = app
        .get_json(&format!("/api/v1/t/nanan/lotteries/{id}/published"), None)
        .await;
    assert_eq!(status, 200);
    let parsed: nightmarket_domain::lottery::Published = serde_json::from_value(published.clone()).unwrap();
    let redrawn = nightmarket_domain::lottery::verify(&parsed).expect("the server's draw verifies");
    assert_eq!(serde_json::to_value(&redrawn).unwrap(), published["result"]);
    let dir = crate::audit::tempdir();
    let file = dir.join("round.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&published).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nightmarket"))
        .args(["lottery", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.starts_with("verified"), "{said}");
    // A list changed after publication is found.
    let mut tampered = published.clone();
    tampered["entries"][0]["name_masked"] = json!("王*");
    std::fs::write(&file, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nightmarket"))
        .args(["lottery", "verify"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(said.contains("list does not match its hash"), "{said}");

    // A winner's code is revoked: the slot goes to the first still waiting, approved and audited.
    {
        let next = &waitlist[0];
        let winner = drawn[0]["number"].as_i64().unwrap() as i32;
        let (code_id, slot): (Uuid, Uuid) = sqlx::query_as(
            "select c.id, c.slot_id from lottery_entries e join codes c on c.tenant_id = e.tenant_id and c.application_id = e.application_id
             where e.round_id = $1::uuid and e.number = $2",
        )
        .bind(&id)
        .bind(winner)
        .fetch_one(&app.owner)
        .await
        .unwrap();
        let (status, answer) = app
            .send_json(
                Method::POST,
                &format!("/api/v1/t/nanan/codes/{code_id}/revoke"),
                Some(&official),
                &json!({"reason": "摊主主动退出夜市"}),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let given = nightmarket_services::lottery::fill_waitlists(&app.state.ctx)
            .await
            .unwrap();
        assert_eq!(given, 1);
        let (outcome, got): (String, Option<Uuid>) =
            sqlx::query_as("select outcome, slot_id from lottery_entries where round_id = $1::uuid and number = $2")
                .bind(&id)
                .bind(next.as_i64().unwrap() as i32)
                .fetch_one(&app.owner)
                .await
                .unwrap();
        assert_eq!(outcome, "won");
        assert_eq!(got, Some(slot), "the freed slot itself");
        let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'lottery.waitlist'")
            .fetch_one(&app.owner)
            .await
            .unwrap();
        assert_eq!(audited, 1);
        // Running again changes nothing.
        assert_eq!(
            nightmarket_services::lottery::fill_waitlists(&app.state.ctx)
                .await
                .unwrap(),
            0
        );
    }
    // The public page shows the values, the seed and the result.
    let (status, html) = app.get_text(&format!("/t/nanan/lotteries/{id}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&commitment));
    assert!(html.contains(published["seed"].as_str().unwrap()));
    assert!(html.contains("福彩3D 2027010期"));
    // Not under another tenant.
    assert_eq!(app.get_text(&format!("/t/shangcheng/lotteries/{id}")).await.0, 404);
}

#[tokio::test]
async fn opening_a_round_refuses_bad_input_and_the_wrong_people_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (market, per) = busiest_market(&app).await;
    let category = per[0].0.clone();
    let admin = app.token("nanan", "admin").await;
    let path = format!("/api/v1/t/nanan/markets/{market}/lotteries");
    let patched = |patch: Value| {
        let mut body = round_body(&category, 1);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("no title", patched(json!({"title": " "})), 422, "title"),
        (
            "window backwards",
            patched(json!({"entries_from": "2027-02-01", "entries_until": "2027-01-01"})),
            422,
            "entries_until",
        ),
        (
            "not a date",
            patched(json!({"entries_from": "next week"})),
            422,
            "entries_from",
        ),
        ("no term", patched(json!({"term_months": 0})), 422, "term_months"),
        ("nothing offered", patched(json!({"offer": []})), 422, "offer"),
        (
            "more than are free",
            patched(json!({"offer": [{"category": category, "slots": 1000}]})),
            422,
            "offer",
        ),
        (
            "a share over 100%",
            patched(json!({"groups": [{"name": "居民", "share_percent": 150}]})),
            422,
            "groups",
        ),
        ("slots as text", patched(json!({"term_months": "six"})), 400, ""),
    ];
    let before = snapshot(&app).await;
    for (name, body, want, field) in cases {
        let (status, answer) = app.send_json(Method::POST, &path, Some(&admin), &body).await;
        assert_eq!(status, want, "{name}: {answer}");
        if want == 422 {
            let fields: Vec<&str> = answer["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|f| f["field"].as_str())
                .collect();
            assert!(fields.contains(&field), "{name}: {answer}");
        }
        assert_eq!(snapshot(&app).await, before, "{name} wrote nothing");
    }
    app.ladder(
        Method::POST,
        &path,
        &round_body(&category, 1),
        &[
            (Who::Nobody, 401),
            (Who::Official("nanan"), 403),
            (Who::Vendor("nanan"), 403),
            (Who::Admin("shangcheng"), 404),
        ],
    )
    .await;
    assert_eq!(snapshot(&app).await, before);
}
