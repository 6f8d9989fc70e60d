//! Open311 GeoReport v2: services, requests with a key, their status.

use crate::scan::*;
use crate::supervision::demo_stall;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn open311_serves_services_takes_requests_with_a_key_and_reports_their_status() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let code = &stall.path[3..16];

    let (s, services) = app.get_json("/open311/v2/nanan/services.json", None).await;
    assert_eq!(s, 200);
    let list = services.as_array().unwrap();
    assert_eq!(list.len(), 8);
    for field in [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ] {
        assert!(list[0].get(field).is_some(), "{field}");
    }
    assert!(
        list.iter()
            .any(|s| s["service_code"] == "short_weight" && s["service_name"] == "缺斤短两")
    );
    let (s, def) = app.get_json("/open311/v2/nanan/services/food_safety.json", None).await;
    assert_eq!(s, 200);
    assert_eq!(def["attributes"][0]["code"], "code");
    assert_eq!(def["attributes"][0]["required"], true);
    let (s, body) = app.get_json("/open311/v2/nowhere/services.json", None).await;
    assert_eq!(s, 404);
    assert_eq!(body[0]["code"], 404);

    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let r = app
                .client()
                .post(app.url("/open311/v2/nanan/requests.json"))
                .form(&fields)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let before = app.count("complaints").await;
    // No key, a wrong key, another tenant's key: 403 with the standard's error body.
    for key in [String::new(), "nmk_x.y".to_string(), api_key(&app, "shangcheng")] {
        let (s, body) = post(vec![
            ("api_key", key),
            ("service_code", "short_weight".into()),
            ("attribute[code]", code.into()),
            ("description", "一斤只有八两".into()),
        ])
        .await;
        assert_eq!(s, 403, "{body}");
        assert_eq!(body[0]["code"], 403);
        assert!(body[0]["description"].is_string());
    }
    // Bad input: 400 with the standard's error body.
    let key = api_key(&app, "nanan");
    for (service, stall_code, description) in [
        ("unknown", code.to_string(), "一斤只有八两"),
        ("short_weight", "0000000000000".to_string(), "一斤只有八两"),
        ("short_weight", code.to_string(), "短"),
    ] {
        let (s, body) = post(vec![
            ("api_key", key.clone()),
            ("service_code", service.into()),
            ("attribute[code]", stall_code),
            ("description", description.into()),
        ])
        .await;
        assert_eq!(s, 400, "{body}");
        assert_eq!(body[0]["code"], 400);
    }
    assert_eq!(app.count("complaints").await, before);

    let (s, created) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "short_weight".into()),
        ("attribute[code]", app.url(&stall.path)),
        ("description", "来电反映：一斤只有八两".into()),
        ("phone", "13900139000".into()),
        ("first_name", "先生".into()),
        ("last_name", "王".into()),
    ])
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(created[0].get("service_notice").is_some() && created[0].get("account_id").is_some());
    let source: String = sqlx::query_scalar("select source from complaints where public_id = $1")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(source, "open311");
    // A description of the full 1,000 characters the form allows is taken whole with a caller's
    // name too (the name's note is left out where it would not fit).
    let long = "秤".repeat(1000);
    let (s, created) = post(vec![
        ("api_key", key.clone()),
        ("service_code", "short_weight".into()),
        ("attribute[code]", app.url(&stall.path)),
        ("description", long.clone()),
        ("first_name", "先生".into()),
    ])
    .await;
    assert_eq!(s, 201, "{created}");
    let stored: String = sqlx::query_scalar("select description from complaints where public_id = $1")
        .bind(created[0]["service_request_id"].as_str().unwrap())
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(stored, long);

    let (s, one) = app
        .get_json(&format!("/open311/v2/nanan/requests/{id}.json"), None)
        .await;
    assert_eq!(s, 200);
    let r = &one[0];
    for field in [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ] {
        assert!(r.get(field).is_some(), "{field} in {r}");
    }
    assert_eq!(r["status"], "open");
    assert!(r.get("phone").is_none(), "no contact data in the exchange");
    let (s, open) = app
        .get_json(
            "/open311/v2/nanan/requests.json?status=open&service_code=short_weight",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .any(|x| x["service_request_id"] == id.as_str())
    );
    let (s, body) = app.get_json("/open311/v2/nanan/requests.json?status=maybe", None).await;
    assert_eq!((s, body[0]["code"].clone()), (400, json!(400)));
    let (s, _) = app
        .get_json("/open311/v2/nanan/requests.json?start_date=yesterday", None)
        .await;
    assert_eq!(s, 400);
    let (s, _) = app
        .get_json("/open311/v2/nanan/requests/nanan-zzzzzzzzzzzzzzzzzzzz.json", None)
        .await;
    assert_eq!(s, 404);

    // Closed with a note: closed, and the note is the status_notes.
    let cid: Uuid = sqlx::query_scalar("select id from complaints where public_id = $1")
        .bind(&id)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    let official = app.token("nanan", "official").await;
    let steps = format!("/api/v1/t/nanan/complaints/{cid}/steps");
    let (s, _) = app
        .send_json(Method::POST, &steps, Some(&official), &json!({"action": "acknowledge"}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .send_json(
            Method::POST,
            &steps,
            Some(&official),
            &json!({"action": "resolve", "upheld": true, "note": "已核实并处罚"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, list) = app
        .get_json(
            &format!("/open311/v2/nanan/requests.json?service_request_id={id}"),
            None,
        )
        .await;
    assert_eq!(list[0]["status"], "closed");
    assert_eq!(list[0]["status_notes"], "已核实并处罚");
    let (_, open) = app.get_json("/open311/v2/nanan/requests.json?status=open", None).await;
    assert!(
        !open
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["service_request_id"] == id.as_str())
    );
    // Another tenant's jurisdiction does not know it.
    let (s, _) = app
        .get_json(&format!("/open311/v2/shangcheng/requests/{id}.json"), None)
        .await;
    assert_eq!(s, 404);
}
