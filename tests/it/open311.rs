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

/// The specification's own examples (wiki.open311.org/GeoReport_v2), trimmed to one entry each:
/// what every element of ours is held to.
const SPEC_SERVICES: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<services><service><service_code>001</service_code><service_name>Cans left out 24x7</service_name>
<description>Garbage or recycling cans that have been left out for more than 24 hours after collection.</description>
<metadata>true</metadata><type>realtime</type><keywords>lorem, ipsum, dolor</keywords><group>sanitation</group>
</service></services>"#;
const SPEC_DEFINITION: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<service_definition><service_code>DMV66</service_code><attributes><attribute><variable>true</variable>
<code>WHISHETN</code><datatype>string</datatype><required>true</required><datatype_description></datatype_description>
<order>1</order><description>What is the ticket/tag/DL number?</description></attribute></attributes></service_definition>"#;
const SPEC_CREATED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>293944</service_request_id>
<service_notice>The City will inspect and require the responsible party to correct within 24 hours.</service_notice>
<account_id/></request></service_requests>"#;
const SPEC_REQUESTS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><status>closed</status>
<status_notes>Duplicate request.</status_notes><service_name>Sidewalk and Curb Issues</service_name>
<service_code>006</service_code><description></description><agency_responsible></agency_responsible>
<service_notice></service_notice><requested_datetime>2010-04-19T06:37:38-08:00</requested_datetime>
<updated_datetime>2010-04-19T06:37:38-08:00</updated_datetime><expected_datetime>2010-04-19T06:37:38-08:00</expected_datetime>
<address>8TH AVE and JUDAH ST</address><address_id>545483</address_id><zipcode>94122</zipcode>
<lat>37.762221815</lat><long>-122.4651145</long><media_url>http://city.gov.s3.amazonaws.com/requests/media/638344.jpg</media_url>
</request></service_requests>"#;
const SPEC_TOKEN: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<service_requests><request><service_request_id>638344</service_request_id><token>12345</token></request></service_requests>"#;
const SPEC_DISCOVERY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<discovery><changeset>2011-04-05T17:48:34Z</changeset><contact>You can email or call for assistance api@example.org +1 (555) 555-5555</contact>
<key_service>You can request a key here: http://api.example.org/api_key/request</key_service><endpoints><endpoint>
<specification>http://wiki.open311.org/GeoReport_v2</specification><url>http://open311.example.org/v2</url>
<changeset>2011-04-05T17:48:34Z</changeset><type>production</type><formats><format>text/xml</format>
<format>application/json</format></formats></endpoint></endpoints></discovery>"#;
const SPEC_ERRORS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<errors><error><code>403</code><description>Invalid api_key received -- can't proceed with create_request.</description></error></errors>"#;

/// Every element path of a document (`services/service/service_code`, …), each once.
fn paths(xml: &str) -> std::collections::BTreeSet<String> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML ({e}): {xml}"));
    let mut out = std::collections::BTreeSet::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let path: Vec<&str> = node
            .ancestors()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        out.insert(path.join("/"));
    }
    out
}

/// The text of the first element at `path` (`request/service_request_id`), under the root.
fn text(xml: &str, path: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let mut node = doc.root_element();
    for name in path.split('/') {
        node = node.children().find(|n| n.has_tag_name(name))?;
    }
    Some(node.text().unwrap_or("").to_string())
}

async fn get_xml(app: &crate::helpers::TestApp, path: &str) -> (u16, String, String) {
    let r = app.client().get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, kind, r.text().await.unwrap())
}

#[tokio::test]
async fn open311_speaks_xml_as_the_specification_writes_it_and_round_trips_a_request() {
    let app = app().await;
    let stall = demo_stall(&app).await;
    let code = &stall.path[3..16];

    // Services and a service's definition: the specification's elements, nothing missing.
    let (s, kind, xml) = get_xml(&app, "/open311/v2/nanan/services.xml").await;
    assert_eq!((s, kind.starts_with("text/xml")), (200, true), "{kind}");
    assert_eq!(paths(&xml), paths(SPEC_SERVICES), "{xml}");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.root_element()
            .children()
            .filter(|n| n.has_tag_name("service"))
            .count(),
        8
    );
    assert!(xml.contains("<service_code>short_weight</service_code><service_name>缺斤短两</service_name>"));
    let (s, _, xml) = get_xml(&app, "/open311/v2/nanan/services/food_safety.xml").await;
    assert_eq!(s, 200);
    assert_eq!(paths(&xml), paths(SPEC_DEFINITION), "{xml}");
    assert_eq!(text(&xml, "attributes/attribute/code").as_deref(), Some("code"));

    // Errors in XML: the standard's <errors> document and status, for each kind of refusal.
    for (path, status) in [
        ("/open311/v2/nowhere/services.xml", 404),
        ("/open311/v2/nanan/services/nothing.xml", 404),
        ("/open311/v2/nanan/requests.xml?status=maybe", 400),
        ("/open311/v2/nanan/requests.xml?start_date=yesterday", 400),
        ("/open311/v2/nanan/requests/nanan-zzzzzzzzzzzzzzzzzzzz.xml", 404),
        ("/open311/v2/nanan/tokens/nanan-zzzzzzzzzzzzzzzzzzzz.xml", 404),
        // A jurisdiction_id must be the endpoint's own.
        ("/open311/v2/nanan/services.xml?jurisdiction_id=shangcheng", 404),
    ] {
        let (s, kind, xml) = get_xml(&app, path).await;
        assert_eq!(s, status, "{path}: {xml}");
        assert!(kind.starts_with("text/xml"), "{path}: {kind}");
        assert_eq!(paths(&xml), paths(SPEC_ERRORS), "{path}: {xml}");
        assert_eq!(text(&xml, "error/code"), Some(status.to_string()), "{xml}");
    }
    let (s, _, _) = get_xml(&app, "/open311/v2/nanan/services.xml?jurisdiction_id=nanan").await;
    assert_eq!(s, 200);
    // JSON errors keep their shape.
    let (s, body) = app
        .get_json("/open311/v2/nanan/services.json?jurisdiction_id=shangcheng", None)
        .await;
    assert_eq!((s, body[0]["code"].clone()), (404, json!(404)));

    // Posting in XML: refusals as <errors>, nothing written; then a request taken.
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let r = app
                .client()
                .post(app.url("/open311/v2/nanan/requests.xml"))
                .form(&fields)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let before = app.count("complaints").await;
    let key = api_key(&app, "nanan");
    for (fields, status) in [
        (vec![("service_code", "short_weight".to_string())], 403),
        (
            vec![
                ("api_key", api_key(&app, "shangcheng")),
                ("service_code", "short_weight".into()),
            ],
            403,
        ),
        (
            vec![
                ("api_key", key.clone()),
                ("service_code", "unknown".into()),
                ("attribute[code]", code.into()),
                ("description", "一斤只有八两".into()),
            ],
            400,
        ),
        (
            vec![
                ("api_key", key.clone()),
                ("service_code", "short_weight".into()),
                ("attribute[code]", code.into()),
                ("description", "短".into()),
            ],
            400,
        ),
    ] {
        let (s, xml) = post(fields).await;
        assert_eq!(s, status, "{xml}");
        assert_eq!(paths(&xml), paths(SPEC_ERRORS), "{xml}");
    }
    assert_eq!(app.count("complaints").await, before);
    let (s, xml) = post(vec![
        ("api_key", key.clone()),
        ("jurisdiction_id", "nanan".into()),
        ("service_code", "short_weight".into()),
        ("attribute[code]", code.into()),
        ("description", "来电反映：一斤只有八两".into()),
        ("phone", "13900139000".into()),
    ])
    .await;
    assert_eq!(s, 201, "{xml}");
    // Ours adds <tracking> (the caller's, to the keyed hotline only): the spec's, and that one.
    let mut expected = paths(SPEC_CREATED);
    expected.insert("service_requests/request/tracking".into());
    assert_eq!(paths(&xml), expected, "{xml}");
    let id = text(&xml, "request/service_request_id").unwrap();
    let tracking = text(&xml, "request/tracking").unwrap();
    assert_eq!(app.count("complaints").await, before + 1);

    // Read back in both formats: the same request, the same fields, no personal data.
    let (s, _, xml) = get_xml(&app, &format!("/open311/v2/nanan/requests/{id}.xml")).await;
    assert_eq!(s, 200);
    assert_eq!(paths(&xml), paths(SPEC_REQUESTS), "{xml}");
    let (s, json) = app
        .get_json(&format!("/open311/v2/nanan/requests/{id}.json"), None)
        .await;
    assert_eq!(s, 200);
    let r = &json[0];
    let fields: std::collections::BTreeSet<String> = r.as_object().unwrap().keys().cloned().collect();
    let elements: std::collections::BTreeSet<String> = paths(&xml)
        .into_iter()
        .filter_map(|p| p.strip_prefix("service_requests/request/").map(str::to_string))
        .collect();
    assert_eq!(fields, elements);
    for f in [
        "service_request_id",
        "status",
        "service_code",
        "description",
        "address",
        "address_id",
    ] {
        assert_eq!(text(&xml, &format!("request/{f}")).as_deref(), r[f].as_str(), "{f}");
    }
    assert_eq!(text(&xml, "request/status").as_deref(), Some("open"));
    assert_eq!(
        text(&xml, "request/description").as_deref(),
        Some("来电反映：一斤只有八两")
    );
    let listed = get_xml(&app, &format!("/open311/v2/nanan/requests.xml?service_request_id={id}"))
        .await
        .2;
    assert_eq!(text(&listed, "request/service_request_id"), Some(id.clone()));
    for body in [&xml, &listed, &json.to_string()] {
        assert!(!body.contains("13900139000") && !body.contains("139****9000"), "{body}");
        assert!(
            !body.contains(&tracking),
            "the tracking number stays the caller's: {body}"
        );
    }

    // A token: the request it stands for.
    let (s, _, xml) = get_xml(&app, &format!("/open311/v2/nanan/tokens/{id}.xml")).await;
    assert_eq!(s, 200);
    assert_eq!(paths(&xml), paths(SPEC_TOKEN), "{xml}");
    assert_eq!(text(&xml, "request/service_request_id"), Some(id.clone()));
    let (s, json) = app.get_json(&format!("/open311/v2/nanan/tokens/{id}.json"), None).await;
    assert_eq!((s, json[0]["service_request_id"].as_str()), (200, Some(id.as_str())));

    // Discovery: the endpoint, both formats and the tenant's hotline.
    let (s, _, xml) = get_xml(&app, "/open311/v2/nanan/discovery.xml").await;
    assert_eq!(s, 200);
    assert_eq!(paths(&xml), paths(SPEC_DISCOVERY), "{xml}");
    assert!(
        text(&xml, "endpoints/endpoint/url")
            .unwrap()
            .ends_with("/open311/v2/nanan")
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let formats: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("format"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(formats, ["text/xml", "application/json"]);
    assert!(text(&xml, "contact").unwrap().contains("12345"), "{xml}");
    let (s, json) = app.get_json("/open311/v2/nanan/discovery.json", None).await;
    assert_eq!(s, 200);
    assert_eq!(json["endpoints"][0]["formats"], json!(["text/xml", "application/json"]));
    assert_eq!(json["endpoints"][0]["type"], "production");
    let (s, _) = app.get_json("/open311/v2/nowhere/discovery.json", None).await;
    assert_eq!(s, 404);
}
