//! Whether this instance can serve: the database answers.

use nightmarket_db::watch::{PING_TIMEOUT, answers};

use crate::Ctx;
use crate::error::{AppError, AppResult};

/// The database answers a trivial query, and no later than the watcher would wait; otherwise
/// `Unavailable` (logged).
pub async fn database_answers(ctx: &Ctx) -> AppResult<()> {
    match tokio::time::timeout(PING_TIMEOUT, answers(ctx.db.global())).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "health check: database unavailable");
            Err(AppError::Unavailable)
        }
        Err(_) => {
            tracing::warn!("health check: the database did not answer in time");
            Err(AppError::Unavailable)
        }
    }
}
