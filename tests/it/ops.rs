//! What a service needs: health, metrics, headers, request ids, limits, error shapes, static
//! files, languages, and the OpenAPI document.

use crate::helpers::{Options, TestApp, texts};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json("/healthz", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn health_answers_503_quickly_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.ctx.db.close().await;
    let started = std::time::Instant::now();
    let (status, body) = app.get_json("/healthz", None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let r = app.client().get(app.url("/t/nanan")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/", "/api/v1/tenants", "/nowhere", "/static/app.css"] {
        let r = app.client().get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-request-id"].len(), 36, "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(!h.contains_key("strict-transport-security"), "no HSTS over plain http");
    }
    // A request id sent by a proxy is kept.
    let r = app
        .client()
        .get(app.url("/"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn metrics_are_exposed_in_prometheus_text() {
    let app = TestApp::spawn().await;
    app.client().get(app.url("/t/nanan")).send().await.unwrap();
    let r = app.client().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(
        text.contains("http_requests_total{") && text.contains("route=\"/t/{tenant}\""),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::spawn_with(Options {
        configure: |c| c.body_limit = 64 * 1024,
        ..Default::default()
    })
    .await;
    let token = app.token("nanan", "admin").await;
    let big = "x".repeat(200 * 1024);
    let r = app
        .client()
        .post(app.url("/api/v1/t/nanan/markets"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{big}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    let admin = app.signed_in("nanan", "admin").await;
    let r = admin
        .post(app.url("/admin/markets"))
        .form(&[("name", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("提交的内容太大"));
}

#[tokio::test]
async fn errors_are_json_for_the_api_and_pages_for_people() {
    let app = TestApp::spawn().await;
    let r = app.client().get(app.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    let r = app.client().delete(app.url("/api/v1/tenants")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");

    let r = app.client().get(app.url("/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert_eq!(texts(&html, "h1"), vec!["找不到页面"]);

    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");

    let r = app
        .client()
        .get(app.url("/api/v1/t/nanan/markets/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn english_is_one_switch_away() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let r = client.get(app.url("/lang/en?back=/t/nanan")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/t/nanan");
    let html = client
        .get(app.url("/t/nanan"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Night markets"),
        "English after the switch"
    );
    assert!(
        html.contains("href=\"/lang/zh-CN?back=%2Ft%2Fnanan\""),
        "and a way back"
    );
    // The API follows Accept-Language.
    let r = app
        .client()
        .get(app.url("/api/v1/t/atlantis/markets"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "What you are looking for does not exist or was removed."
    );
    // An off-site "back" is not followed.
    let r = client
        .get(app.url("/lang/en?back=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn static_files_are_cached_by_version_and_the_file_system_is_out_of_reach() {
    let app = TestApp::spawn().await;
    let (_, home) = app.get_text("/").await;
    let css = texts(&home, "title"); // page renders
    assert!(!css.is_empty());
    let href = home
        .split("href=\"/static/app.css?v=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .client()
        .get(app.url(&format!("/static/app.css?v={href}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let plain = r.bytes().await.unwrap();
    // Compressed once at start: the gzipped file is the same file, tagged as its own representation.
    let r = app
        .client()
        .get(app.url("/static/app.css"))
        .header("accept-encoding", "gzip, deflate")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["vary"], "accept-encoding");
    let gz_etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(gz_etag, etag);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain);
    let r = app
        .client()
        .get(app.url("/static/app.css"))
        .header("accept-encoding", "gzip;q=0")
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("content-encoding"), "gzip;q=0 is a refusal");
    let r = app
        .client()
        .get(app.url("/static/app.css"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = app.client().get(app.url("/static/app.css?v=old")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2f..%2fetc%2fpasswd",
        "/static//etc/passwd",
    ] {
        let r = app.client().get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// Whether a schema has the property `field`, its own or one of those it is composed of
/// (`allOf`, as `#[serde(flatten)]` describes a struct that embeds another).
fn has_property(doc: &serde_json::Value, schema: &serde_json::Value, field: &str) -> bool {
    let resolved = match schema["$ref"].as_str() {
        Some(r) => doc.pointer(&r[1..]).cloned().unwrap_or_default(),
        None => schema.clone(),
    };
    resolved["properties"].get(field).is_some()
        || resolved["allOf"]
            .as_array()
            .is_some_and(|parts| parts.iter().any(|p| has_property(doc, p, field)))
}

/// Links tell clients (and schemathesis' stateful phase) which operation a created thing's id feeds:
/// each must point at an operation of this document and name only parameters it has.
#[tokio::test]
async fn every_openapi_link_points_at_an_operation_and_its_parameters() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.get_json("/api/openapi.json", None).await;
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                let Some(links) = response["links"].as_object() else {
                    continue;
                };
                for (name, link) in links {
                    let from = format!("{method} {path} {status} {name}");
                    let reference = link["operationRef"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{from}: no operationRef"));
                    let pointer = reference
                        .strip_prefix('#')
                        .unwrap_or_else(|| panic!("{from}: {reference}"));
                    let target = doc
                        .pointer(pointer)
                        .unwrap_or_else(|| panic!("{from}: {reference} is no operation of the document"));
                    let (target_path, _) = pointer.trim_start_matches("/paths/").rsplit_once('/').unwrap();
                    let target_path = target_path.replace("~1", "/").replace("~0", "~");
                    for (param, value) in link["parameters"].as_object().unwrap() {
                        let known = target["parameters"]
                            .as_array()
                            .is_some_and(|ps| ps.iter().any(|p| p["name"] == param.as_str()));
                        assert!(known, "{from}: {target_path} has no parameter {param}");
                        let value = value.as_str().unwrap();
                        assert!(
                            value.starts_with("$request.path.") || value.starts_with("$response.body#/"),
                            "{from}: {value}"
                        );
                        if let Some(field) = value.strip_prefix("$response.body#/") {
                            let schema = &response["content"]["application/json"]["schema"]["$ref"];
                            let schema = schema.as_str().unwrap_or_else(|| panic!("{from}: no response schema"));
                            assert!(
                                has_property(&doc, &doc.pointer(&schema[1..]).unwrap().clone(), field),
                                "{from}: the response has no {field}"
                            );
                        }
                    }
                    seen += 1;
                }
            }
        }
    }
    assert!(seen >= 14, "links declared: {seen}");
}

#[tokio::test]
async fn the_openapi_document_covers_every_api_route() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.get_json("/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/healthz", "get"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/password", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/tenants", "get"),
        ("/api/v1/t/{tenant}/markets", "get"),
        ("/api/v1/t/{tenant}/markets", "post"),
        ("/api/v1/t/{tenant}/markets/{market}", "get"),
        ("/api/v1/t/{tenant}/markets/{market}", "put"),
        ("/api/v1/t/{tenant}/markets/{market}/map", "get"),
        ("/api/v1/t/{tenant}/markets/{market}/lotteries", "post"),
        ("/api/v1/t/{tenant}/lotteries", "get"),
        ("/api/v1/t/{tenant}/patrol/markets/{market}", "get"),
        ("/api/v1/t/{tenant}/patrol/inspections", "post"),
        ("/api/v1/t/{tenant}/lotteries/{round}", "get"),
        ("/api/v1/t/{tenant}/lotteries/{round}/published", "get"),
        ("/api/v1/t/{tenant}/lotteries/{round}/candidates", "get"),
        ("/api/v1/t/{tenant}/lotteries/{round}/publication", "post"),
        ("/api/v1/t/{tenant}/lotteries/{round}/draw", "post"),
        ("/api/v1/t/{tenant}/markets/{market}/plan", "get"),
        ("/api/v1/t/{tenant}/markets/{market}/plan", "put"),
        ("/api/v1/t/{tenant}/markets/{market}/plan/background", "post"),
        ("/api/v1/t/{tenant}/markets/{market}/plan/background", "delete"),
        ("/api/v1/t/{tenant}/markets/{market}/slots", "post"),
        ("/api/v1/t/{tenant}/markets/{market}/slots/{slot}", "delete"),
        ("/api/v1/t/{tenant}/staff", "get"),
        ("/api/v1/t/{tenant}/staff", "post"),
        ("/api/v1/t/{tenant}/staff/{user}/permissions", "put"),
        ("/api/v1/t/{tenant}/staff/{user}/reset-password", "post"),
        ("/api/v1/t/{tenant}/staff/{user}/disabled", "put"),
        ("/api/v1/me/notifications", "get"),
        ("/api/v1/me/notifications/read", "post"),
        ("/api/v1/me/payee", "get"),
        ("/api/v1/me/payee", "put"),
        ("/api/v1/t/{tenant}/settings", "get"),
        ("/api/v1/t/{tenant}/settings", "put"),
        ("/api/v1/t/{tenant}/signup/code", "post"),
        ("/api/v1/t/{tenant}/signup", "post"),
        ("/api/v1/t/{tenant}/applications", "get"),
        ("/api/v1/t/{tenant}/applications", "post"),
        ("/api/v1/t/{tenant}/applications/{id}", "get"),
        ("/api/v1/t/{tenant}/applications/{id}", "put"),
        ("/api/v1/t/{tenant}/applications/{id}/documents", "post"),
        ("/api/v1/t/{tenant}/applications/{id}/documents/{doc}", "get"),
        ("/api/v1/t/{tenant}/applications/{id}/documents/{doc}", "delete"),
        ("/api/v1/t/{tenant}/applications/{id}/submit", "post"),
        ("/api/v1/t/{tenant}/applications/{id}/withdraw", "post"),
        ("/api/v1/t/{tenant}/review/queue", "get"),
        ("/api/v1/t/{tenant}/review/applications/{id}", "get"),
        ("/api/v1/t/{tenant}/review/applications/{id}/claim", "post"),
        ("/api/v1/t/{tenant}/review/applications/{id}/decision", "post"),
        ("/api/v1/t/{tenant}/markets/{market}/stalls", "get"),
        ("/api/v1/t/{tenant}/codes/{id}", "get"),
        ("/api/v1/t/{tenant}/my/codes", "get"),
        ("/api/v1/t/{tenant}/codes/{id}/suspend", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/restore", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/revoke", "post"),
        ("/api/v1/t/{tenant}/code-key", "get"),
        ("/api/v1/t/{tenant}/codes/{id}/check-in", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/check-out", "post"),
        ("/api/v1/t/{tenant}/markets/{market}/night", "get"),
        ("/api/v1/t/{tenant}/credential-events", "post"),
        ("/api/v1/t/{tenant}/my/credentials", "get"),
        ("/api/v1/t/{tenant}/vendors/{id}/credentials", "get"),
        ("/api/v1/t/{tenant}/my/renewals", "post"),
        ("/api/v1/t/{tenant}/renewals", "get"),
        ("/api/v1/t/{tenant}/renewals/{id}/decision", "post"),
        ("/api/v1/t/{tenant}/inspection-problems", "get"),
        ("/api/v1/t/{tenant}/inspection-problems", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/inspections", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/inspections", "get"),
        ("/api/v1/t/{tenant}/my/deductions", "get"),
        ("/api/v1/t/{tenant}/deductions/{id}/appeal", "post"),
        ("/api/v1/t/{tenant}/appeals", "get"),
        ("/api/v1/t/{tenant}/appeals/{id}/decision", "post"),
        ("/api/v1/t/{tenant}/api-keys", "get"),
        ("/api/v1/t/{tenant}/api-keys", "post"),
        ("/api/v1/t/{tenant}/api-keys/{id}/revoke", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/score", "get"),
        ("/api/v1/t/{tenant}/codes/{id}/ratings", "get"),
        ("/api/v1/t/{tenant}/ratings/{id}/reply", "post"),
        ("/api/v1/t/{tenant}/ratings/{id}/moderation", "post"),
        ("/api/v1/t/{tenant}/complaints", "get"),
        ("/api/v1/t/{tenant}/complaints/{id}", "get"),
        ("/api/v1/t/{tenant}/complaints/{id}/claim", "post"),
        ("/api/v1/t/{tenant}/complaints/{id}/steps", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/complaints", "get"),
        ("/api/v1/t/{tenant}/complaints/{id}/answer", "post"),
        ("/api/v1/t/{tenant}/complaint-deadlines", "get"),
        ("/api/v1/t/{tenant}/complaint-deadlines", "put"),
        ("/open311/v2/{tenant}/services.json", "get"),
        ("/open311/v2/{tenant}/services/{service_code_file}", "get"),
        ("/open311/v2/{tenant}/services.xml", "get"),
        ("/open311/v2/{tenant}/requests.json", "post"),
        ("/open311/v2/{tenant}/requests.json", "get"),
        ("/open311/v2/{tenant}/requests.xml", "post"),
        ("/open311/v2/{tenant}/requests.xml", "get"),
        ("/open311/v2/{tenant}/requests/{request_file}", "get"),
        ("/open311/v2/{tenant}/tokens/{token_file}", "get"),
        ("/open311/v2/{tenant}/discovery.json", "get"),
        ("/open311/v2/{tenant}/discovery.xml", "get"),
        ("/api/v1/t/{tenant}/campaigns", "get"),
        ("/api/v1/t/{tenant}/campaigns", "post"),
        ("/api/v1/t/{tenant}/campaigns/{id}", "get"),
        ("/api/v1/t/{tenant}/campaigns/{id}", "put"),
        ("/api/v1/t/{tenant}/campaigns/{id}/steps", "post"),
        ("/api/v1/t/{tenant}/campaigns/{id}/claims", "post"),
        ("/api/v1/t/{tenant}/shoppers/campaigns", "get"),
        ("/api/v1/t/{tenant}/shoppers/code", "post"),
        ("/api/v1/t/{tenant}/shoppers/session", "post"),
        ("/api/v1/t/{tenant}/shoppers/me/vouchers", "get"),
        ("/api/v1/t/{tenant}/redemptions", "post"),
        ("/api/v1/t/{tenant}/codes/{id}/redemptions", "get"),
        ("/api/v1/t/{tenant}/redemptions/{id}/reversal", "post"),
        ("/api/v1/t/{tenant}/campaigns/{id}/stats", "get"),
        ("/api/v1/t/{tenant}/voucher-figures", "get"),
        ("/api/v1/t/{tenant}/settlement", "get"),
        ("/api/v1/t/{tenant}/settlement/{vendor}/{date}", "post"),
        ("/api/v1/t/{tenant}/voucher-flags", "get"),
        ("/api/v1/t/{tenant}/numbers", "get"),
        ("/api/v1/t/{tenant}/numbers/tables/{name}", "get"),
        ("/api/v1/t/{tenant}/markets/{market}/stats", "get"),
        ("/api/v1/t/{tenant}/me/stalls/{id}/insights", "get"),
        ("/api/v1/t/{tenant}/me/credit-records", "get"),
        ("/api/v1/t/{tenant}/me/credit-records", "post"),
        ("/api/v1/t/{tenant}/me/credit-records/{id}", "get"),
        ("/api/v1/t/{tenant}/me/credit-records/{id}/revoke", "post"),
        ("/api/v1/verify/{code}", "get"),
        ("/api/v1/t/{tenant}/me/goods-sources", "get"),
        ("/api/v1/t/{tenant}/me/goods-sources", "post"),
        ("/api/v1/t/{tenant}/ratings/held", "get"),
        ("/api/v1/t/{tenant}/ratings/{id}/decision", "post"),
        ("/api/v1/t/{tenant}/calendar", "get"),
        ("/api/v1/t/{tenant}/calendar/{day}", "put"),
        ("/api/v1/t/{tenant}/calendar/{day}", "delete"),
        ("/api/v1/t/{tenant}/complaints/{id}/escalations", "post"),
        ("/api/v1/t/{tenant}/complaints/{id}/follow-up", "post"),
        ("/api/v1/t/{tenant}/me/export", "get"),
        ("/api/v1/t/{tenant}/me/erasure", "post"),
        ("/api/v1/t/{tenant}/erasure-requests", "get"),
        ("/api/v1/t/{tenant}/erasure-requests/{id}/decision", "post"),
    ];
    for (path, method) in expected {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path} has no responses"
        );
    }
    // Nothing documented that the server does not serve, and every API route is documented:
    // each documented operation answers something other than 404/405 for a plausible request.
    let total: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        total,
        expected.len(),
        "documented operations: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["name"], "X-Api-Key");
}

#[tokio::test]
async fn responses_are_compressed_for_clients_that_ask() {
    let app = TestApp::spawn().await;
    let r = app
        .client()
        .get(app.url(&format!("/t/nanan/m/{}", app.market_id("nanan"))))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let r = app
        .client()
        .get(app.url(&format!("/t/nanan/m/{}", app.market_id("nanan"))))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "br");
    // Static files are compressed once, with gzip, which every browser takes.
    let r = app
        .client()
        .get(app.url("/static/app.css"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

/// The Content-Security-Policy forbids inline script and style, so no template may contain them.
#[test]
fn no_template_has_inline_script_or_style() {
    let mut offenders = Vec::new();
    for (path, text) in files_under(&["templates"], "") {
        let lower = text.to_lowercase();
        let inline_script = lower
            .match_indices("<script")
            .any(|(i, _)| !lower[i..].split('>').next().unwrap_or("").contains("src="));
        if inline_script
            || lower.contains(" style=")
            || lower.contains("<style")
            || lower.contains(" onclick=")
            || lower.contains("javascript:")
        {
            offenders.push(path.display().to_string());
        }
    }
    assert!(offenders.is_empty(), "inline script or style in {offenders:?}");
}

/// OpenAPI schemas are named by their type's name (or `#[schema(as = …)]`): two types of one name
/// silently become one schema, and clients are told the wrong shape (found by schemathesis: the
/// complaint categories stood in for the stall categories). Every name must be unique.
#[test]
fn api_schema_names_are_unique() {
    let mut names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (path, text) in files_under(&["src", "crates"], ".rs") {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if !((t.starts_with("#[derive(") || t.starts_with("#[cfg_attr(")) && line.contains("ToSchema")) {
                continue;
            }
            let mut renamed = None;
            for next in &lines[i + 1..] {
                let t = next.trim_start();
                if let Some(rest) = t
                    .strip_prefix("#[schema(as = ")
                    .or_else(|| t.strip_prefix("#[cfg_attr(feature = \"openapi\", schema(as = "))
                {
                    renamed = rest.split(')').next().map(str::to_string);
                }
                if let Some(rest) = t.strip_prefix("pub struct ").or_else(|| t.strip_prefix("pub enum ")) {
                    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    names
                        .entry(renamed.take().unwrap_or(name))
                        .or_default()
                        .push(path.display().to_string());
                    break;
                }
            }
        }
    }
    let clashes: Vec<_> = names.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(clashes.is_empty(), "schema names used twice: {clashes:?}");
    assert!(names.len() > 100, "the scan found the schemas ({})", names.len());
}

/// Admission control (http::admission): with one request in hand and no room to wait, the next
/// is refused at once with 503 `overloaded` and Retry-After — as JSON for the API and as a page
/// for people — while health and metrics are still answered; once the first finishes, requests
/// are served again.
#[tokio::test]
async fn beyond_what_it_takes_on_the_server_answers_503_with_retry_after_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Options {
        configure: |c| {
            c.admission = nightmarket_web::http::admission::AdmissionSettings {
                max_in_flight: 1,
                max_queue: 0,
                max_wait: std::time::Duration::from_millis(100),
            }
        },
        ..Default::default()
    })
    .await;
    // Hold the one turn: a sign-in whose body arrives only in part.
    let addr = app
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let body = format!("{:<64}", r#"{"tenant":"nanan","login":"x","password":"y"}"#);
    let mut held = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head =
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n";
    held.write_all(format!("{head}{}", &body[..10]).as_bytes())
        .await
        .unwrap();
    let mut shed = None;
    for _ in 0..100 {
        let r = app
            .client()
            .get(app.url("/api/v1/t/nanan/markets"))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let r = shed.expect("the second request was never refused while the first was in hand");
    assert_eq!(r.headers()["retry-after"], "1");
    let started = std::time::Instant::now();
    let refusal: Value = r.json().await.unwrap();
    assert_eq!(refusal["error"]["code"], "overloaded", "{refusal}");
    let page = app.client().get(app.url("/t/nanan")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.headers().contains_key("x-request-id") && page.headers().contains_key("content-security-policy"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refusals are quick"
    );
    let (status, _) = app.get_json("/healthz", None).await;
    assert_eq!(status, 200, "health is never shed");
    let (_, metrics) = app.get_text("/metrics").await;
    assert!(
        metrics.contains("http_requests_shed_total"),
        "shed requests are counted"
    );

    // The held request finishes (a bad sign-in), and the turn is free again.
    held.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = vec![0u8; 12];
    held.read_exact(&mut answer).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 4"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    drop(held);
    let r = app
        .client()
        .get(app.url("/api/v1/t/nanan/markets"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// An extractor's own plain-text rejection (here a multipart body without a boundary) reaches
/// API clients in the API's error shape, with the same status.
#[tokio::test]
async fn a_malformed_multipart_body_is_answered_as_a_json_error() {
    let app = TestApp::spawn().await;
    let token = app.token("nanan", "vendor").await;
    let r = app
        .client()
        .post(app.url("/api/v1/t/nanan/my/renewals"))
        .bearer_auth(&token)
        .header("content-type", "multipart/form-data")
        .body("not multipart at all")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
}

/// The layers the compiler cannot hold, held here. The crates hold that the domain, the database
/// layer and the use cases cannot import what is above them; these hold that they do not start
/// depending on HTTP (a use case answers in `AppError`, never a status or a response), and that
/// handlers — pages, the JSON API, extractors and middleware — never run a query or open a transaction themselves: they call one use case.
#[test]
fn the_layers_hold() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in ["domain", "db", "services", "input"] {
        let manifest = std::fs::read_to_string(root.join("crates").join(krate).join("Cargo.toml")).unwrap();
        let dependencies = manifest.split("[dependencies]").nth(1).unwrap_or("");
        let dependencies = dependencies.split("\n[").next().unwrap_or("");
        for http in ["axum", "tower", "hyper", "askama", "http ="] {
            assert!(
                !dependencies.lines().any(|l| l.trim_start().starts_with(http)),
                "crates/{krate} depends on {http}: what it answers must not know how it is sent"
            );
        }
        // The API's schemas may be described below the HTTP layer, but only behind the feature
        // the HTTP layer turns on: built alone, these crates know nothing of the API.
        if let Some(utoipa) = dependencies.lines().find(|l| l.trim_start().starts_with("utoipa")) {
            assert!(
                utoipa.contains("optional = true"),
                "crates/{krate} needs utoipa only behind its `openapi` feature"
            );
        }
    }
    // The HTTP layer reaches the database only through the use cases: it does not even
    // depend on the crates that could run a query.
    let web = std::fs::read_to_string(root.join("crates/web/Cargo.toml")).unwrap();
    for db in ["nightmarket-db", "sqlx"] {
        assert!(
            !web.lines().any(|l| l.trim_start().starts_with(db)),
            "crates/web depends on {db}: handlers must reach the database through a use case"
        );
    }
    let mut offenders = Vec::new();
    let handlers = [
        "crates/web/src/web",
        "crates/web/src/api",
        "crates/web/src/http",
        "crates/web/src/auth",
    ];
    for (path, text) in files_under(&handlers, ".rs") {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for query in ["sqlx::", ".db.tenant(", ".db.global(", "tx.commit("] {
                if code.contains(query) {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "handlers that run queries themselves: {offenders:#?}"
    );
    // Permissions are the use case's to check (and who may enter an audience's pages the route
    // table's, through `auth::gates`): a handler that checks again is a second truth.
    let mut checks = Vec::new();
    for (path, text) in files_under(&["crates/web/src/web", "crates/web/src/api"], ".rs") {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains(".require(")
                || code.contains(".require_vendor(")
                || code.contains(".require_staff(")
                || code.contains(".require_admin(")
            {
                checks.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        checks.is_empty(),
        "handlers that check permissions themselves: {checks:#?}"
    );
}

/// Every file under the given folders of the repository whose name ends in `suffix`, with its text.
fn files_under(folders: &[&str], suffix: &str) -> Vec<(std::path::PathBuf, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack: Vec<_> = folders.iter().map(|f| root.join(f)).collect();
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    assert!(!files.is_empty(), "nothing found under {folders:?}");
    files
}
