//! Admission control: the server takes on only as much work as it can finish quickly, and
//! answers the rest at once with 503 `overloaded` and `Retry-After`, so that on the worst night
//! (a voucher rush, a flood of junk) the requests it does take are served in normal time and its
//! memory stays bounded.
//!
//! At most `max_in_flight` requests are handled at a time. A request beyond that waits its turn
//! (first come, first served) — but only while fewer than `max_queue` are already waiting, and
//! for at most `max_wait`. A queue shorter than the requests in hand means an admitted request
//! waits less than one service time, so its latency stays within twice the latency at full load
//! however much more is offered (bench/overload.sh measures it: figures in BENCHMARKS.md).
//!
//! Health checks and metrics are never shed: operators must see an overloaded server. Voucher
//! claims pass by: their own queue sheds the rush with 429 (services::vouchers).
//!
//! While the database does not answer (db::watch), an admitted request that still waits for it
//! after [`DOWN_GRACE`] is answered 503 `unavailable` with Retry-After rather than left hanging;
//! what needs no database (a cached scan page) is served as usual.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

pub use crate::config::AdmissionSettings;
use crate::error::{AppError, HttpError};
use nightmarket_services::DbWatch;

/// How long a request may go on once the database is found down (time to finish from a cache).
pub const DOWN_GRACE: Duration = Duration::from_millis(200);

/// The live counts behind [`admit`].
pub struct Admission {
    settings: AdmissionSettings,
    permits: Semaphore,
    waiting: AtomicUsize,
}

impl Admission {
    pub fn new(settings: AdmissionSettings) -> Admission {
        Admission {
            settings,
            permits: Semaphore::new(settings.max_in_flight.clamp(1, Semaphore::MAX_PERMITS)),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> usize {
        self.settings
            .max_in_flight
            .saturating_sub(self.permits.available_permits())
    }

    /// Requests waiting for a turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// A turn, or None when the server should refuse the request.
    async fn turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Some(permit);
        }
        let _place = Place::take(&self.waiting, self.settings.max_queue)?;
        match tokio::time::timeout(self.settings.max_wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => None,
        }
    }
}

/// A place in the queue, given back when the request leaves it (admitted, refused, or its client
/// gone).
struct Place<'a>(&'a AtomicUsize);

impl<'a> Place<'a> {
    fn take(waiting: &'a AtomicUsize, max: usize) -> Option<Place<'a>> {
        waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1))
            .ok()
            .map(|_| Place(waiting))
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How a request is let in.
#[derive(Debug, PartialEq, Eq)]
enum Door {
    /// Liveness and metrics: always served, as they are.
    Open,
    /// Voucher claims have an admission of their own — a bounded queue per campaign that answers
    /// the excess 429 with Retry-After (services::vouchers), made for the rush at a campaign's
    /// opening — but are still answered 503 while the database is down.
    OwnQueue,
    /// Everything else takes a turn.
    Turn,
}

/// The routes whose requests have a queue of their own (voucher claims, by API and by page).
const OWN_QUEUE: [&str; 2] = [
    "/api/v1/t/{tenant}/campaigns/{id}/claims",
    "/t/{tenant}/vouchers/{id}/claim",
];

/// The door for a request to `route` (the matched route's template; None for no route).
fn door(method: &axum::http::Method, route: Option<&str>) -> Door {
    match route {
        Some("/healthz" | "/metrics") => Door::Open,
        Some(r) if method == axum::http::Method::POST && OWN_QUEUE.contains(&r) => Door::OwnQueue,
        _ => Door::Turn,
    }
}

/// What the middleware works with: the counts, and whether the database answers.
#[derive(Clone)]
pub struct Gate {
    pub admission: Arc<Admission>,
    pub db_watch: DbWatch,
}

/// The middleware: admit the request, or answer 503 `overloaded` with Retry-After.
pub async fn admit(State(state): State<Gate>, request: Request, next: Next) -> Response {
    // This layer runs after routing, so the matched route's template is known.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str());
    match door(request.method(), route) {
        Door::Open => next.run(request).await,
        Door::OwnQueue => unless_database_down(&state.db_watch, next.run(request)).await,
        Door::Turn => match state.admission.turn().await {
            Some(_permit) => unless_database_down(&state.db_watch, next.run(request)).await,
            None => {
                metrics::counter!("http_requests_shed_total").increment(1);
                HttpError(AppError::Overloaded).into_response()
            }
        },
    }
}

/// The request's answer, or 503 if the database is (or goes) down and the request has not
/// finished [`DOWN_GRACE`] later. Dropping the request's work rolls back its transaction; a
/// commit that went through before is kept, unacknowledged (clients retry with their
/// idempotency keys).
async fn unless_database_down(watch: &DbWatch, work: impl Future<Output = Response>) -> Response {
    let mut work = std::pin::pin!(work);
    tokio::select! {
        biased;
        response = &mut work => response,
        () = watch.down() => match tokio::time::timeout(DOWN_GRACE, &mut work).await {
            Ok(response) => response,
            Err(_) => {
                metrics::counter!("http_requests_cut_database_down_total").increment(1);
                HttpError(AppError::Unavailable).into_response()
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn admission(in_flight: usize, queue: usize, wait_ms: u64) -> Admission {
        Admission::new(AdmissionSettings {
            max_in_flight: in_flight,
            max_queue: queue,
            max_wait: Duration::from_millis(wait_ms),
        })
    }

    #[tokio::test]
    async fn beyond_the_limit_and_a_full_queue_requests_are_refused_at_once() {
        let a = admission(2, 0, 1000);
        let first = a.turn().await;
        let second = a.turn().await;
        assert!(first.is_some() && second.is_some());
        assert_eq!(a.in_flight(), 2);
        let started = std::time::Instant::now();
        assert!(a.turn().await.is_none(), "a third request with no queue is refused");
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "refused at once, not after waiting"
        );
        drop(first);
        assert!(a.turn().await.is_some(), "a turn given back is taken again");
    }

    #[tokio::test]
    async fn a_queued_request_gets_the_next_turn_and_one_waits_no_longer_than_max_wait() {
        let a = std::sync::Arc::new(admission(1, 1, 2000));
        let held = a.turn().await;
        assert!(held.is_some());
        let waiter = tokio::spawn({
            let a = a.clone();
            async move { a.turn().await.is_some() }
        });
        // Let the waiter queue up, then a third finds the queue full.
        while a.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        assert!(a.turn().await.is_none(), "the queue holds one");
        drop(held);
        assert!(waiter.await.unwrap_or(false), "the queued request was admitted");
        assert_eq!(a.waiting(), 0);

        let a = admission(1, 4, 50);
        let _held = a.turn().await;
        let started = std::time::Instant::now();
        assert!(a.turn().await.is_none());
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(50) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        assert_eq!(a.waiting(), 0, "the place is given back after a timeout");
    }

    #[tokio::test]
    async fn while_the_database_is_down_waiting_requests_get_503_and_quick_ones_are_served() {
        let watch = DbWatch::default();
        let quick = unless_database_down(&watch, async { StatusCode::OK.into_response() }).await;
        assert_eq!(quick.status(), StatusCode::OK);

        let hanging = tokio::spawn({
            let watch = watch.clone();
            async move {
                let started = std::time::Instant::now();
                let r = unless_database_down(&watch, std::future::pending::<Response>()).await;
                (r.status(), started.elapsed())
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        watch.set_down(true);
        let (status, took) = hanging.await.unwrap_or((StatusCode::OK, Duration::ZERO));
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "a request waiting on the database is cut"
        );
        assert!(took < Duration::from_secs(1), "{took:?}");

        // Down already: a request that finishes within the grace is still answered.
        let cached = unless_database_down(&watch, async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            StatusCode::OK.into_response()
        })
        .await;
        assert_eq!(cached.status(), StatusCode::OK);
        let waiting = unless_database_down(&watch, std::future::pending::<Response>()).await;
        assert_eq!(waiting.status(), StatusCode::SERVICE_UNAVAILABLE);
        watch.set_down(false);
        let slow_but_up = unless_database_down(&watch, async {
            tokio::time::sleep(DOWN_GRACE * 2).await;
            StatusCode::OK.into_response()
        })
        .await;
        assert_eq!(
            slow_but_up.status(),
            StatusCode::OK,
            "nothing is cut while the database answers"
        );
    }

    #[test]
    fn health_and_metrics_pass_by_and_voucher_claims_use_their_own_queue() {
        use axum::http::Method;
        assert_eq!(door(&Method::GET, Some("/healthz")), Door::Open);
        assert_eq!(door(&Method::GET, Some("/metrics")), Door::Open);
        assert_eq!(
            door(&Method::POST, Some("/api/v1/t/{tenant}/campaigns/{id}/claims")),
            Door::OwnQueue
        );
        assert_eq!(
            door(&Method::POST, Some("/t/{tenant}/vouchers/{id}/claim")),
            Door::OwnQueue
        );
        assert_eq!(
            door(&Method::GET, Some("/api/v1/t/{tenant}/campaigns/{id}/claims")),
            Door::Turn
        );
        assert_eq!(door(&Method::POST, Some("/api/v1/t/{tenant}/markets")), Door::Turn);
        assert_eq!(door(&Method::GET, Some("/t/{tenant}/vouchers/{id}")), Door::Turn);
        assert_eq!(
            door(&Method::GET, None),
            Door::Turn,
            "an unknown path takes a turn like any other"
        );
        // The claim route is named as the API declares it.
        let (_, doc) = crate::api::router();
        assert!(
            doc.paths.paths.contains_key(OWN_QUEUE[0]),
            "{} is no route",
            OWN_QUEUE[0]
        );
    }

    #[tokio::test]
    async fn a_client_that_goes_away_gives_its_place_back() {
        let a = admission(1, 1, 10_000);
        let _held = a.turn().await;
        {
            let waiting = a.turn();
            let _ = tokio::time::timeout(Duration::from_millis(20), waiting).await;
        }
        assert_eq!(a.waiting(), 0);
    }
}
