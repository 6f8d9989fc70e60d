//! Markets on a map: the plan (API and the form that needs no script), the public map, the
//! officials' live wall and the vendor's own slot; bad input, stale saves, and access from the
//! wrong tenant or role.

use crate::helpers::{TestApp, Who, texts};
use crate::supervision::next_event;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The demo scan URL's code id, path, slot code and market.
async fn demo_code(app: &TestApp) -> (uuid::Uuid, String, String, String) {
    let url = app.demo.samples["nanan_code_url"].as_str().unwrap().to_string();
    let path = url[url.find("/c/").unwrap()..].to_string();
    let code = path[3..16].to_string();
    let (id, slot, market): (uuid::Uuid, String, uuid::Uuid) = sqlx::query_as(
        "select c.id, s.code, c.market_id from codes c join slots s on s.tenant_id = c.tenant_id and s.id = c.slot_id where c.code = $1",
    )
    .bind(&code)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    (id, path, slot, market.to_string())
}

/// Plans and audit records, to show a refused request wrote nothing.
async fn snapshot(app: &TestApp, market: &str) -> (Value, i64) {
    let (_, plan) = app
        .get_json(&format!("/api/v1/t/nanan/markets/{market}/plan"), None)
        .await;
    (plan, app.count("audit_log").await)
}

#[tokio::test]
async fn the_public_map_shows_tonights_stalls_as_links_without_script() {
    let app = TestApp::spawn().await;
    let (_, scan_path, slot, market) = demo_code(&app).await;
    let (status, html) = app.get_text(&format!("/t/nanan/m/{market}/map")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script"), "the public map needs no script");
    let doc = scraper::Html::parse_document(&html);
    let svg = doc
        .select(&scraper::Selector::parse("svg.plan").unwrap())
        .next()
        .expect("the plan is drawn");
    let (_, plan) = app
        .get_json(&format!("/api/v1/t/nanan/markets/{market}/plan"), None)
        .await;
    let columns = plan["columns"].as_u64().unwrap();
    assert_eq!(
        svg.value().attr("width"),
        Some((columns * 56).to_string().as_str()),
        "drawn at its own size, scrolled on a phone, never shrunk to a thumbnail"
    );
    // The demo stall is a link to its scan page, named in words: code, name, state and colour.
    let link = doc
        .select(&scraper::Selector::parse(&format!("a.slot[data-slot=\"{slot}\"]")).unwrap())
        .next()
        .expect("the stall's slot is a link");
    let path_only = scan_path.split('#').next().unwrap();
    assert_eq!(link.value().attr("href"), Some(path_only));
    let label = link.value().attr("aria-label").unwrap();
    assert!(label.starts_with(&slot), "{label}");
    assert!(label.contains("绿码"), "the colour in words: {label}");
    assert!(
        ["营业中", "未开摊", "未出摊", "已收摊"]
            .iter()
            .any(|s| label.contains(s)),
        "tonight's state in words: {label}"
    );
    // Vacant slots are drawn but lead nowhere; the landmarks carry their names.
    assert!(!texts(&html, "g.slot.vacant title").is_empty());
    let landmarks = texts(&html, "g.landmark title");
    assert!(landmarks.contains(&"入口".to_string()), "{landmarks:?}");
    // The market page links to it; the JSON says the same.
    let (_, market_page) = app.get_text(&format!("/t/nanan/m/{market}")).await;
    assert!(market_page.contains(&format!("/t/nanan/m/{market}/map")));
    let (status, map) = app
        .get_json(&format!("/api/v1/t/nanan/markets/{market}/map"), None)
        .await;
    assert_eq!(status, 200);
    let on_map = map["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == slot)
        .unwrap();
    assert_eq!(on_map["stall"]["colour"], "green");
    assert_eq!(on_map["open_complaints"], 0, "the public never sees complaint counts");
    // Another tenant's market is not found under this one.
    let other = app.market_id("shangcheng");
    assert_eq!(app.get_text(&format!("/t/nanan/m/{other}/map")).await.0, 404);
}

#[tokio::test]
async fn an_admin_lays_out_the_plan_over_the_api_and_bad_plans_write_nothing() {
    let app = TestApp::spawn().await;
    let market = app.market_id("nanan");
    let path = format!("/api/v1/t/nanan/markets/{market}/plan");
    let token = app.token("nanan", "admin").await;
    let (_, plan) = app.get_json(&path, None).await;
    let codes: Vec<String> = plan["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect();
    assert!(codes.len() >= 3);
    let version = plan["version"].as_i64().unwrap();
    let good = json!({
        "version": version,
        "columns": 12, "rows": 6,
        "slots": [
            {"code": codes[0], "x": 0, "y": 0, "w": 2, "h": 2},
            {"code": codes[1].to_lowercase(), "x": 2, "y": 0, "w": 3, "h": 1}
        ],
        "landmarks": [{"kind": "entrance", "label": "南门", "x": 11, "y": 5}]
    });
    let (status, saved) = app.send_json(Method::PUT, &path, Some(&token), &good).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], version + 1);
    assert_eq!(saved["columns"], 12);
    let placed: Vec<&Value> = saved["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["place"].is_null())
        .collect();
    assert_eq!(placed.len(), 2, "every slot not listed is taken off the plan");
    assert_eq!(placed[1]["place"], json!({"x": 2, "y": 0, "w": 3, "h": 1}));
    assert_eq!(saved["landmarks"][0]["label"], "南门");
    let (before, after): (Value, Value) = sqlx::query_as(
        "select before, after from audit_log where action = 'market.plan' and subject_id = $1 order by seq desc limit 1",
    )
    .bind(&market)
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert_eq!(before["version"], version);
    assert_eq!(after["columns"], 12);

    let version = version + 1;
    let patched = |patch: Value| {
        let mut body = good.clone();
        body["version"] = json!(version);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "overlapping slots",
            patched(
                json!({"slots": [{"code": codes[0], "x": 0, "y": 0, "w": 2, "h": 2}, {"code": codes[1], "x": 1, "y": 1, "w": 2, "h": 1}]}),
            ),
            422,
            "重叠",
        ),
        (
            "a slot outside the grid",
            patched(json!({"slots": [{"code": codes[0], "x": 11, "y": 0, "w": 2, "h": 1}]})),
            422,
            "超出",
        ),
        (
            "a slot of no such code",
            patched(json!({"slots": [{"code": "ZZ-99", "x": 0, "y": 0, "w": 1, "h": 1}]})),
            422,
            "ZZ-99",
        ),
        (
            "a slot of no size",
            patched(json!({"slots": [{"code": codes[0], "x": 0, "y": 0, "w": 0, "h": 1}]})),
            422,
            "宽和高",
        ),
        (
            "a landmark on a slot",
            patched(json!({"landmarks": [{"kind": "toilet", "x": 1, "y": 1}]})),
            422,
            "压在摊位",
        ),
        (
            "a landmark of no known kind",
            patched(json!({"landmarks": [{"kind": "fountain", "x": 8, "y": 4}]})),
            422,
            "类型无效",
        ),
        ("a grid too small", patched(json!({"columns": 2})), 422, "之间"),
        ("columns as text", patched(json!({"columns": "wide"})), 400, ""),
        (
            "saved meanwhile",
            patched(json!({"version": version - 1})),
            409,
            "他人修改",
        ),
    ];
    let before = snapshot(&app, &market).await;
    for (name, body, want, text) in cases {
        let (status, answer) = app.send_json(Method::PUT, &path, Some(&token), &body).await;
        assert_eq!(status, want, "{name}: {answer}");
        assert!(answer.to_string().contains(text), "{name}: {answer}");
        assert_eq!(snapshot(&app, &market).await, before, "{name} wrote nothing");
    }

    app.ladder(
        Method::PUT,
        &path,
        &patched(json!({})),
        &[
            (Who::Nobody, 401),
            (Who::Official("nanan"), 403),
            (Who::Vendor("nanan"), 403),
            (Who::Admin("shangcheng"), 404),
        ],
    )
    .await;
    assert_eq!(snapshot(&app, &market).await, before, "nobody else changed it");
}

#[tokio::test]
async fn the_plan_form_saves_without_script_and_keeps_what_was_typed_when_refused() {
    let app = TestApp::spawn().await;
    let market = app.market_id("nanan");
    let admin = app.signed_in("nanan", "admin").await;
    let page = admin
        .get(app.url(&format!("/admin/markets/{market}/plan")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let version = page
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let codes = texts(&page, "#plan-slots th[scope=row]");
    assert!(codes.len() >= 2, "{codes:?}");
    let x0 = format!("slot.{}.x", codes[0]);
    let y0 = format!("slot.{}.y", codes[0]);
    let w0 = format!("slot.{}.w", codes[0]);
    let h0 = format!("slot.{}.h", codes[0]);
    let x1 = format!("slot.{}.x", codes[1]);
    let y1 = format!("slot.{}.y", codes[1]);
    let w1 = format!("slot.{}.w", codes[1]);
    let h1 = format!("slot.{}.h", codes[1]);
    let overlapping = [
        ("version", version.as_str()),
        ("columns", "10"),
        ("rows", "8"),
        (&x0, "0"),
        (&y0, "0"),
        (&w0, "2"),
        (&h0, "1"),
        (&x1, "1"),
        (&y1, "0"),
        (&w1, "2"),
        (&h1, "1"),
        ("landmark.0.kind", "service_desk"),
        ("landmark.0.label", "志愿者服务台"),
        ("landmark.0.x", "9"),
        ("landmark.0.y", "7"),
        ("landmark.1.kind", ""),
        ("landmark.1.label", ""),
        ("landmark.1.x", ""),
        ("landmark.1.y", ""),
    ];
    let before = snapshot(&app, &market).await;
    let r = admin
        .post(app.url(&format!("/admin/markets/{market}/plan")))
        .form(&overlapping)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(texts(&html, "#plan-errors li")[0].contains("重叠"), "{html}");
    assert!(
        html.contains(&format!("name=\"{x1}\" value=\"1\"")),
        "what was typed is kept"
    );
    assert!(html.contains("志愿者服务台"));
    assert_eq!(snapshot(&app, &market).await, before, "nothing written");

    let mut fixed = overlapping.to_vec();
    fixed[7] = (&x1, "2");
    let r = admin
        .post(app.url(&format!("/admin/markets/{market}/plan")))
        .form(&fixed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, plan) = app
        .get_json(&format!("/api/v1/t/nanan/markets/{market}/plan"), None)
        .await;
    assert_eq!(plan["columns"], 10);
    let placed: Vec<&Value> = plan["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["place"].is_null())
        .collect();
    assert_eq!(placed.len(), 2);
    assert_eq!(plan["landmarks"][0]["kind"], "service_desk");

    // The same version again is stale now: refused, not overwritten.
    let r = admin
        .post(app.url(&format!("/admin/markets/{market}/plan")))
        .form(&fixed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // An official has no plan page.
    let official = app.signed_in("nanan", "official").await;
    let r = official
        .get(app.url(&format!("/admin/markets/{market}/plan")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_live_wall_redraws_when_a_code_turns_red_and_only_for_its_own_tenant() {
    let app = TestApp::spawn().await;
    let (code_id, _, slot, market) = demo_code(&app).await;
    let wait = std::time::Duration::from_secs(10);
    let official = app.signed_in("nanan", "official").await;
    let page = official
        .get(app.url(&format!("/official/markets/{market}/live")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let selector = format!("a.slot[data-slot=\"{slot}\"]");
    let doc = scraper::Html::parse_document(&page);
    let before = doc
        .select(&scraper::Selector::parse(&selector).unwrap())
        .next()
        .expect("the stall on the wall");
    assert!(before.value().attr("class").unwrap().contains("colour-green"));
    assert!(!texts(&page, "#wall-counts [data-count=stalls]").is_empty());

    let mut r = official
        .get(app.url(&format!("/official/markets/{market}/live/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut buffer = String::new();
    assert_eq!(
        next_event(&mut r, &mut buffer, "ready", wait).await.as_deref(),
        Some("live")
    );
    next_event(&mut r, &mut buffer, "wall", wait)
        .await
        .expect("the first drawing");
    let token = app.token("nanan", "official").await;
    let (status, _) = app
        .send_json(
            Method::POST,
            &format!("/api/v1/t/nanan/codes/{code_id}/suspend"),
            Some(&token),
            &json!({"reason": "油烟扰民，暂停整改"}),
        )
        .await;
    assert_eq!(status, 200);
    let mut red = false;
    for _ in 0..5 {
        let Some(html) = next_event(&mut r, &mut buffer, "wall", wait).await else {
            break;
        };
        let doc = scraper::Html::parse_fragment(&html);
        let class = doc
            .select(&scraper::Selector::parse(&selector).unwrap())
            .next()
            .and_then(|a| a.value().attr("class").map(str::to_string))
            .unwrap_or_default();
        if class.contains("colour-red") {
            red = true;
            break;
        }
    }
    assert!(red, "the wall turned the stall red");

    // The other district's official cannot open it; a vendor has no wall.
    let other = app.signed_in("shangcheng", "official").await;
    for path in [
        format!("/official/markets/{market}/live"),
        format!("/official/markets/{market}/live/events"),
    ] {
        let r = other.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let vendor = app.signed_in("nanan", "vendor").await;
    let r = vendor
        .get(app.url(&format!("/official/markets/{market}/live")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_vendor_sees_their_slot_on_the_plan() {
    let app = TestApp::spawn().await;
    let (code_id, _, slot, _) = demo_code(&app).await;
    let vendor = app.signed_in("nanan", "vendor").await;
    let r = vendor
        .get(app.url(&format!("/vendor/stalls/{code_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let mine = texts(&html, "#my-slot .slot.mine title");
    assert_eq!(mine.len(), 1, "exactly one slot is marked");
    assert!(mine[0].starts_with(&slot), "{mine:?}");
    assert!(mine[0].contains("您的摊位"));
    assert!(
        texts(&html, "#my-slot a").is_empty(),
        "the vendor's page does not lead off to other stalls"
    );
}

#[tokio::test]
async fn a_picture_of_the_street_goes_under_the_plan_and_bad_pictures_are_refused() {
    let app = TestApp::spawn().await;
    let market = app.market_id("nanan");
    let path = format!("/api/v1/t/nanan/markets/{market}/plan/background");
    let admin = app.token("nanan", "admin").await;
    let mut png = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(40, 20, image::Rgb([200, 190, 170]))
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let png = png.into_inner();
    let upload = |token: Option<String>, bytes: Vec<u8>| {
        let url = app.url(&path);
        let client = app.client();
        async move {
            let form = reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(bytes).file_name("street.png"));
            let mut req = client.post(url).multipart(form);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, plan) = upload(Some(admin.clone()), png.clone()).await;
    assert_eq!(status, 200, "{plan}");
    let sha = plan["background"].as_str().unwrap().to_string();
    let r = app
        .client()
        .get(app.url(&format!("/t/nanan/m/{market}/map/background?v={}", &sha[..12])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);
    let (_, html) = app.get_text(&format!("/t/nanan/m/{market}/map")).await;
    assert!(
        html.contains(&format!("map/background?v={}", &sha[..12])),
        "drawn under the map"
    );

    // Not a picture, or from the wrong people: refused, nothing changed.
    let before = snapshot(&app, &market).await;
    let (status, answer) = upload(Some(admin.clone()), b"%PDF-1.4 not a street".to_vec()).await;
    assert_eq!(status, 422, "{answer}");
    for (who, want) in [("official", 403), ("vendor", 403)] {
        let token = app.token("nanan", who).await;
        assert_eq!(upload(Some(token), png.clone()).await.0, want, "{who}");
    }
    let other = app.token("shangcheng", "admin").await;
    assert_eq!(upload(Some(other), png.clone()).await.0, 404);
    assert_eq!(upload(None, png.clone()).await.0, 401);
    assert_eq!(snapshot(&app, &market).await, before, "nothing written");

    let (status, plan) = app.send_json(Method::DELETE, &path, Some(&admin), &json!({})).await;
    assert_eq!(status, 200, "{plan}");
    assert!(plan["background"].is_null());
    assert_eq!(
        app.get_text(&format!("/t/nanan/m/{market}/map/background")).await.0,
        404
    );
    let (status, _) = app.send_json(Method::DELETE, &path, Some(&admin), &json!({})).await;
    assert_eq!(status, 404, "no picture left to take away");
}
