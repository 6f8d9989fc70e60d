//! The time, as the application sees it. Production reads the system clock; tests pin it to a
//! moment (a night past midnight, the day a credential expires, the turn of a month) and move it.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `at` until set or advanced.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(t) => t.lock().map(|t| *t).unwrap_or_else(|p| *p.into_inner()),
        }
    }

    /// Moves a fixed clock (a system clock ignores it).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(t) = &self.0 {
            match t.lock() {
                Ok(mut g) => *g = at,
                Err(p) => *p.into_inner() = at,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_until_moved() {
        let t = DateTime::parse_from_rfc3339("2026-11-04T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = Clock::fixed(t);
        assert_eq!(c.now(), t);
        c.set(t + chrono::Duration::hours(1));
        assert_eq!(c.now(), t + chrono::Duration::hours(1));
        assert!(Clock::system().now() > t - chrono::Duration::days(3650));
    }
}
