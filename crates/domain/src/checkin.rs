//! Nightly check-in (打卡签到): when and where a vendor may check in.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::geo::{Geofence, LatLng};
use super::hours::OpeningHours;

/// Why a check-in is refused (besides "already checked in" and "code suspended", which the
/// database and the code's colour decide).
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// Outside the market's area by this many metres (after allowing for the reported accuracy).
    Outside { by_m: f64 },
    /// Not within the opening hours (nor the early window before them).
    Closed,
    /// The position is not a position.
    BadPosition,
}

/// An accepted check-in: the business night it belongs to, and whether it came late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub business_date: NaiveDate,
    pub late: bool,
}

/// The rules for one market.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    pub hours: OpeningHours,
    pub fence: Geofence,
    /// How early before opening a check-in is accepted.
    pub early: Duration,
    /// After opening + this, a check-in is late.
    pub late_after: Duration,
}

/// The largest accuracy radius trusted: a phone reporting "somewhere within 2 km" is not inside.
pub const MAX_TRUSTED_ACCURACY_M: f64 = 200.0;

impl Rules {
    /// Checks a check-in at local wall-clock time `now` from `position` (reported `accuracy_m`).
    pub fn check(&self, now: NaiveDateTime, lat: f64, lng: f64, accuracy_m: Option<f64>) -> Result<Accepted, Refusal> {
        let point = LatLng::new(lat, lng).ok_or(Refusal::BadPosition)?;
        let accuracy = accuracy_m
            .filter(|a| a.is_finite() && *a >= 0.0)
            .unwrap_or(0.0)
            .min(MAX_TRUSTED_ACCURACY_M);
        let outside = self.fence.outside_by_m(point, accuracy);
        if outside > 0.0 {
            return Err(Refusal::Outside { by_m: outside.ceil() });
        }
        // The night `now` belongs to. The early window lies before opening on the same date, which
        // business_date already gives to the coming night (only the small hours go to the night before).
        let date = self.hours.business_date(now);
        let opens = date.and_time(self.hours.opens);
        let closes_date = if self.hours.crosses_midnight() {
            date + Duration::days(1)
        } else {
            date
        };
        let closes = closes_date.and_time(self.hours.closes);
        if now < opens - self.early || now >= closes {
            return Err(Refusal::Closed);
        }
        Ok(Accepted {
            business_date: date,
            late: now > opens + self.late_after,
        })
    }

    /// The business night a local moment belongs to.
    pub fn night_of(&self, now: NaiveDateTime) -> NaiveDate {
        self.hours.business_date(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::parse_time;

    const CENTRE: LatLng = LatLng {
        lat: 29.548_41,
        lng: 106.581_03,
    };

    fn rules() -> Rules {
        Rules {
            hours: OpeningHours::parse("18:00", "02:00").unwrap(),
            fence: Geofence {
                center: CENTRE,
                radius_m: 300,
            },
            early: Duration::minutes(60),
            late_after: Duration::minutes(30),
        }
    }

    fn at(date: &str, time: &str) -> NaiveDateTime {
        NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .unwrap()
            .and_time(parse_time(time).unwrap())
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn inside_the_area_and_the_hours_is_accepted() {
        let r = rules().check(at("2026-11-04", "18:10"), CENTRE.lat, CENTRE.lng, Some(10.0));
        assert_eq!(
            r,
            Ok(Accepted {
                business_date: d("2026-11-04"),
                late: false
            })
        );
    }

    #[test]
    fn the_early_window_and_lateness() {
        assert_eq!(
            rules().check(at("2026-11-04", "16:59"), CENTRE.lat, CENTRE.lng, None),
            Err(Refusal::Closed)
        );
        assert_eq!(
            rules().check(at("2026-11-04", "17:00"), CENTRE.lat, CENTRE.lng, None),
            Ok(Accepted {
                business_date: d("2026-11-04"),
                late: false
            })
        );
        assert_eq!(
            rules().check(at("2026-11-04", "18:30"), CENTRE.lat, CENTRE.lng, None),
            Ok(Accepted {
                business_date: d("2026-11-04"),
                late: false
            })
        );
        assert_eq!(
            rules().check(at("2026-11-04", "18:31"), CENTRE.lat, CENTRE.lng, None),
            Ok(Accepted {
                business_date: d("2026-11-04"),
                late: true
            })
        );
    }

    #[test]
    fn past_midnight_counts_for_the_night_before() {
        assert_eq!(
            rules().check(at("2026-11-05", "01:30"), CENTRE.lat, CENTRE.lng, None),
            Ok(Accepted {
                business_date: d("2026-11-04"),
                late: true
            })
        );
        assert_eq!(
            rules().check(at("2026-11-05", "02:00"), CENTRE.lat, CENTRE.lng, None),
            Err(Refusal::Closed)
        );
        assert_eq!(
            rules().check(at("2026-11-05", "12:00"), CENTRE.lat, CENTRE.lng, None),
            Err(Refusal::Closed)
        );
    }

    #[test]
    fn a_long_early_window_does_not_pull_the_small_hours_into_the_next_night() {
        let r = Rules {
            early: Duration::minutes(240),
            ..rules()
        };
        assert_eq!(
            r.check(at("2026-11-05", "01:59"), CENTRE.lat, CENTRE.lng, None)
                .map(|a| a.business_date),
            Ok(d("2026-11-04"))
        );
        assert_eq!(
            r.check(at("2026-11-05", "14:00"), CENTRE.lat, CENTRE.lng, None)
                .map(|a| a.business_date),
            Ok(d("2026-11-05"))
        );
        assert_eq!(
            r.check(at("2026-11-05", "13:59"), CENTRE.lat, CENTRE.lng, None),
            Err(Refusal::Closed)
        );
    }

    #[test]
    fn a_market_within_one_day() {
        let r = Rules {
            hours: OpeningHours::parse("09:00", "17:00").unwrap(),
            ..rules()
        };
        assert_eq!(
            r.check(at("2026-11-04", "08:00"), CENTRE.lat, CENTRE.lng, None)
                .map(|a| a.business_date),
            Ok(d("2026-11-04"))
        );
        assert_eq!(
            r.check(at("2026-11-04", "17:00"), CENTRE.lat, CENTRE.lng, None),
            Err(Refusal::Closed)
        );
        assert_eq!(
            r.check(at("2026-11-04", "23:00"), CENTRE.lat, CENTRE.lng, None),
            Err(Refusal::Closed)
        );
    }

    #[test]
    fn outside_the_area_says_by_how_much_allowing_for_accuracy() {
        // About 1,040 m away: 740 m outside a 300 m fence.
        let far = (29.557_12, 106.577_05);
        match rules().check(at("2026-11-04", "19:00"), far.0, far.1, Some(0.0)) {
            Err(Refusal::Outside { by_m }) => assert!((700.0..800.0).contains(&by_m), "{by_m}"),
            other => panic!("{other:?}"),
        }
        // An honest 150 m accuracy narrows the gap; a claimed 5 km accuracy is not trusted.
        match rules().check(at("2026-11-04", "19:00"), far.0, far.1, Some(150.0)) {
            Err(Refusal::Outside { by_m }) => assert!((550.0..650.0).contains(&by_m), "{by_m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            rules().check(at("2026-11-04", "19:00"), far.0, far.1, Some(5000.0)),
            Err(Refusal::Outside { .. })
        ));
        assert_eq!(
            rules().check(at("2026-11-04", "19:00"), 91.0, 0.0, None),
            Err(Refusal::BadPosition)
        );
    }
}
