//! A stall lottery in a real browser: an applicant on a phone finds the round from the market
//! page and sees the published list and the commitment; an admin draws it at the desk with the
//! value made in public; the applicant reloads, sees the values, the seed and the result, and
//! checks in the browser itself that the tenant's value hashes to the commitment published before.

use super::{Window, attr, browser, checkpoint, click, fill, sign_in, texts, wait_for_path, wait_for_text};
use crate::helpers::TestApp;
use std::time::{Duration, Instant};

#[tokio::test]
async fn an_applicant_sees_the_list_and_commitment_then_the_draw_and_checks_it() {
    let Some(phone) = browser(Window::Phone).await else {
        return;
    };
    let app = TestApp::spawn().await;
    let market = app.market_id("nanan");
    let p = &phone.client;
    p.goto(&app.url(&format!("/t/nanan/m/{market}")))
        .await
        .expect("market page");
    click(p, "#market-lotteries a").await;
    wait_for_text(p, "#lottery-state", "待开奖").await;
    let commitment = texts(p, "#lottery-commitment").await.remove(0);
    assert_eq!(commitment.len(), 64);
    let listed = texts(p, "#lottery-list tbody tr").await;
    assert!(!listed.is_empty(), "the published list");
    assert!(texts(p, "#lottery-seed").await.is_empty(), "no seed before the draw");
    checkpoint(p, "shopper", "lottery-published").await;
    let round_path = p.current_url().await.expect("url").path().to_string();

    // The admin draws it at the desk.
    {
        let Some(desk) = browser(Window::Desktop).await else {
            return;
        };
        let c = &desk.client;
        sign_in(c, &app, "nanan", "admin").await;
        wait_for_path(c, "/admin").await;
        click(c, "a[href='/admin/lotteries']").await;
        wait_for_path(c, "/admin/lotteries").await;
        click(c, "#lottery-rounds tbody a").await;
        wait_for_text(c, "#admin-lottery-state", "待开奖").await;
        checkpoint(c, "admin", "lottery-draw").await;
        fill(c, "#public_value", "现场两名工作人员写下：3817、0562").await;
        click(c, "#lottery-draw-button").await;
        let deadline = Instant::now() + Duration::from_secs(15);
        while attr(c, "#admin-lottery-state", "data-state").await.as_deref() != Some("drawn") {
            assert!(Instant::now() < deadline, "the draw did not happen");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!texts(c, "#lottery-standing tbody tr").await.is_empty());
    }

    // Back on the phone: the result, and a check in the browser that nothing was swapped.
    p.goto(&app.url(&round_path)).await.expect("round page");
    wait_for_text(p, "#lottery-state", "已开奖").await;
    assert!(!texts(p, "ol.drawn li").await.is_empty(), "who was drawn");
    assert_eq!(
        texts(p, "#lottery-commitment").await.remove(0),
        commitment,
        "the commitment did not change"
    );
    let checked = p
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const value = document.getElementById('lottery-tenant-value').textContent.trim();
             crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)).then(h => {
               const hex = Array.from(new Uint8Array(h)).map(b => b.toString(16).padStart(2, '0')).join('');
               done(hex === document.getElementById('lottery-commitment').textContent.trim());
             }).catch(e => done(String(e)));",
            vec![],
        )
        .await
        .expect("hashing in the page");
    assert_eq!(checked, true, "the tenant's value hashes to the commitment");
    assert!(texts(p, "#lottery-public-value").await[0].contains("3817"));
    let wide = p
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .expect("width");
    assert_eq!(wide, false, "the long hashes wrap on a phone");
    checkpoint(p, "shopper", "lottery-drawn").await;
}
