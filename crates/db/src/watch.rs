//! Whether the database answers. A database that is gone refuses connections at once, but one
//! that is cut off (a network partition, a stalled host) simply does not answer, and every
//! request waiting on it would hang. A dedicated connection (outside the request pool, so that a
//! busy pool is not mistaken for a dead database) is asked `select 1` twice a second; when it
//! gets no answer within [`PING_TIMEOUT`] the database is marked down, and http::admission
//! answers the requests that still wait on it 503 at once (those that need no database, such as
//! a cached scan page, are still served). The first answer marks it up again.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Between two pings.
pub const PING_INTERVAL: Duration = Duration::from_millis(500);
/// Longest wait for a connection or an answer before the database counts as down.
pub const PING_TIMEOUT: Duration = Duration::from_millis(1500);

/// Shared state: `true` while the database is down.
#[derive(Clone)]
pub struct DbWatch(Arc<watch::Sender<bool>>);

impl Default for DbWatch {
    fn default() -> Self {
        DbWatch(Arc::new(watch::Sender::new(false)))
    }
}

impl DbWatch {
    pub fn is_down(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the database is down (at once if it is now).
    pub async fn down(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = rx.wait_for(|down| *down).await;
    }

    /// Marks the database down or up (the watcher; tests).
    pub fn set_down(&self, down: bool) {
        self.0.send_if_modified(|now| {
            let changed = *now != down;
            *now = down;
            changed
        });
    }

    /// Pings the database behind `options` until the process ends.
    pub fn spawn(&self, options: PgConnectOptions) -> tokio::task::JoinHandle<()> {
        let watch = self.clone();
        tokio::spawn(async move {
            let mut conn: Option<PgConnection> = None;
            let mut tick = tokio::time::interval(PING_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let answered = tokio::time::timeout(PING_TIMEOUT, ping(&mut conn, &options)).await;
                let up = matches!(answered, Ok(Ok(())));
                if !up {
                    // A connection that did not answer may answer late: start afresh.
                    conn = None;
                }
                if up == watch.is_down() {
                    if up {
                        tracing::info!("the database answers again");
                    } else {
                        let why = match answered {
                            Ok(Err(e)) => e.to_string(),
                            _ => format!("no answer within {PING_TIMEOUT:?}"),
                        };
                        tracing::warn!(why, "the database does not answer: requests that need it get 503");
                    }
                }
                metrics::gauge!("database_up").set(if up { 1.0 } else { 0.0 });
                watch.set_down(!up);
            }
        })
    }
}

async fn ping(conn: &mut Option<PgConnection>, options: &PgConnectOptions) -> Result<(), sqlx::Error> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(PgConnection::connect_with(options).await?),
    };
    sqlx::query("select 1").execute(&mut *c).await?;
    Ok(())
}

/// Asks the pool's database a trivial question (the health check).
pub async fn answers(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar::<_, i32>("select 1").fetch_one(pool).await.map(drop)
}
