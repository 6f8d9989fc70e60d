//! The officials' live wall of a market (`/official/markets/{id}/live`): the plan for a desk or a
//! big screen, with tonight's stalls — check-ins turning slots from grey to open, codes turning
//! red, complaints marked on their stall — and the night's counters beside it.
//!
//! The page is drawn by the server, and so is every update: a server-sent `wall` event carries
//! the whole drawing again, made as soon as a stall of the tenant changes on any instance (the
//! scan pages' channel) or a staff notice arrives (a complaint, a suspension, an approval).
//! Changes arriving together are drawn once (a quarter of a second apart at most), so a burst of
//! check-ins at opening costs one drawing, not one per stall.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::web::layout::{Page, render};
use nightmarket_services::plan::{self, MarketMap};

/// Changes closer together than this are drawn once.
const SETTLE: Duration = Duration::from_millis(250);

#[derive(Template)]
#[template(path = "official/wall.html")]
struct WallPage {
    page: Page,
    map: MarketMap,
    body: String,
}

#[derive(Template)]
#[template(path = "official/wall_body.html")]
struct WallBody<'a> {
    page: &'a Page,
    map: &'a MarketMap,
    svg: String,
}

async fn body(state: &AppState, page: &Page, user: &AuthUser, id: Uuid) -> HttpResult<(MarketMap, String)> {
    let map = plan::wall(&state.ctx, user, id).await?;
    let svg = crate::web::plan::map(page, &user.tenant.slug, "wall-map", &map, None, true).html()?;
    let html = WallBody { page, map: &map, svg }
        .render()
        .map_err(|e| crate::error::HttpError(nightmarket_services::error::AppError::Internal(e.into())))?;
    Ok((map, html))
}

pub async fn live(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Html<String>> {
    let (map, body) = body(&state, &page, &user, id).await?;
    render(&WallPage { page, map, body })
}

/// The wall's updates: `ready` once the stream is live, then a `wall` event with the whole
/// drawing whenever something on it may have changed.
pub async fn events(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Refused here, before the stream starts, when the market is not the official's.
    plan::wall(&state.ctx, &user, id).await?;
    let tenant = user.tenant_id().0;
    let live = state.ctx.live.clone();
    // Subscribed before asking whether the instance listens, so nothing after `ready` is missed.
    let mut notices = live.subscribe();
    let mut changes = live.subscribe_changes();
    let listening = live.ready(Duration::from_secs(5)).await;
    let (tx, rx) = mpsc::channel::<Event>(4);
    tokio::spawn(async move {
        let ready = Event::default()
            .event("ready")
            .data(if listening { "live" } else { "degraded" });
        if tx.send(ready).await.is_err() {
            return;
        }
        // Drawn once now: what changed between the page and the stream is not lost.
        let mut dirty = true;
        loop {
            if dirty {
                tokio::time::sleep(SETTLE).await;
                // Whatever else arrived meanwhile is in this drawing.
                while notices.try_recv().is_ok() {}
                while changes.try_recv().is_ok() {}
                let event = match body(&state, &page, &user, id).await {
                    Ok((_, html)) => Event::default().event("wall").data(html.trim()),
                    // The market is gone or the official lost access: the page reloads and says so.
                    Err(_) => Event::default().event("lagged").data("reload"),
                };
                if tx.send(event).await.is_err() {
                    return;
                }
            }
            dirty = tokio::select! {
                () = tx.closed() => return,
                n = notices.recv() => match n {
                    Ok(n) => n.tenant == tenant && n.code.is_none(),
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                },
                c = changes.recv() => match c {
                    Ok((t, _)) => t == tenant,
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                },
            };
        }
    });
    let stream = futures::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(20))))
}
