//! The one listener of an instance on PostgreSQL's notifications: live notices for officials'
//! pages (`live`) and the scan pages' cache invalidations (`scan`), on one connection of its own.

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::time::Duration;

use crate::live::{self, Live, LiveNotice};
use crate::scan::{self, ScanCache};

/// Listens on both channels until the server stops, reconnecting after a lost connection. The
/// listener holds a connection of its own, made with the request pool's settings but outside it,
/// so a small pool is never one connection short.
pub fn spawn_listener(requests: &PgPool, live: Live, scans: ScanCache) -> tokio::task::JoinHandle<()> {
    let options = requests.connect_options().as_ref().clone();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    tokio::spawn(async move {
        loop {
            match listen(&pool, &live, &scans).await {
                Ok(()) => return,
                Err(e) => {
                    live.listening.send_replace(false);
                    // Changes may be missed while disconnected.
                    scans.forget_all();
                    tracing::warn!(error = %e, "live notices: listener lost, reconnecting");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    })
}

async fn listen(pool: &PgPool, live: &Live, scans: &ScanCache) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all([live::CHANNEL, scan::CHANNEL]).await?;
    scans.forget_all();
    live.listening.send_replace(true);
    loop {
        let n = listener.recv().await?;
        if n.channel() == scan::CHANNEL {
            if let Some((tenant, code)) = scans.forget_payload(n.payload()) {
                live.publish_change(tenant, code);
            }
            continue;
        }
        match serde_json::from_str::<LiveNotice>(n.payload()) {
            Ok(notice) => live.publish(notice),
            Err(e) => tracing::warn!(error = %e, "live notices: unreadable payload"),
        }
    }
}
