//! Working days: the tenant's calendar of holidays and adjusted working days (调休), and counting
//! a deadline in working days as the 12345 hotlines do.
//!
//! Monday to Friday are working days unless the calendar lists them as a holiday; a Saturday or
//! Sunday the calendar lists as a working day (worked to bridge a holiday) is one. A deadline of
//! `n` working days runs to the end (local midnight) of the `n`-th working day after the day the
//! complaint was filed: the day of filing is not counted, whatever its hour.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = CalendarDayKind))]
pub enum DayKind {
    /// 法定节假日: a day off, even on a weekday.
    Holiday,
    /// 调休上班: a working day, even on a weekend.
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        [DayKind::Holiday, DayKind::Workday]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            DayKind::Holiday => "calendar.holiday",
            DayKind::Workday => "calendar.workday",
        }
    }
}

/// The longest a count may look ahead: past this the calendar has no working days left, which
/// only a mistaken calendar does.
const LOOK_AHEAD_DAYS: i64 = 366;

/// The days a tenant's calendar lists (the rest follow the week).
#[derive(Clone, Debug, Default)]
pub struct WorkCalendar {
    days: BTreeMap<NaiveDate, DayKind>,
}

impl WorkCalendar {
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        WorkCalendar {
            days: days.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        match self.days.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The end of the `n`-th working day after the local day `from` falls on, or None when no such
    /// day comes within a year (a calendar of nothing but holidays).
    pub fn working_days_after<Tz: TimeZone>(&self, from: DateTime<Utc>, tz: &Tz, n: u32) -> Option<DateTime<Utc>> {
        let mut day = from.with_timezone(tz).date_naive();
        let mut left = n;
        for _ in 0..LOOK_AHEAD_DAYS {
            if left == 0 {
                break;
            }
            day = day.succ_opt()?;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        if left > 0 {
            return None;
        }
        end_of_day(day, tz)
    }

    /// The days a count from the local day `from` may need listed: what to read of the calendar.
    pub fn window(from: NaiveDate) -> (NaiveDate, NaiveDate) {
        (from, from + Duration::days(LOOK_AHEAD_DAYS + 1))
    }
}

/// Local midnight after `day`, in UTC (the first instant of the next day that exists there).
fn end_of_day<Tz: TimeZone>(day: NaiveDate, tz: &Tz) -> Option<DateTime<Utc>> {
    let next = day.succ_opt()?.and_hms_opt(0, 0, 0)?;
    tz.from_local_datetime(&next)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(next + Duration::hours(1))).earliest())
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn local(s: &str) -> DateTime<Utc> {
        Shanghai
            .from_local_datetime(&chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
            .unwrap()
            .with_timezone(&Utc)
    }

    /// National Day 2026 as announced: 1–7 October off, Sunday 27 September and Saturday
    /// 10 October worked.
    fn national_day() -> WorkCalendar {
        let mut days: Vec<(NaiveDate, DayKind)> = (1..=7)
            .map(|n| (d(&format!("2026-10-{n:02}")), DayKind::Holiday))
            .collect();
        days.push((d("2026-09-27"), DayKind::Workday));
        days.push((d("2026-10-10"), DayKind::Workday));
        WorkCalendar::new(days)
    }

    #[test]
    fn the_week_decides_unless_the_calendar_says_otherwise() {
        let c = national_day();
        assert!(c.is_working_day(d("2026-09-25"))); // Friday
        assert!(!c.is_working_day(d("2026-09-26"))); // Saturday
        assert!(c.is_working_day(d("2026-09-27"))); // Sunday worked
        assert!(!c.is_working_day(d("2026-10-01"))); // Thursday, a holiday
        assert!(c.is_working_day(d("2026-10-10"))); // Saturday worked
        assert!(!WorkCalendar::default().is_working_day(d("2026-09-27")));
    }

    #[test]
    fn a_complaint_filed_on_the_friday_before_the_holiday_waits_for_it_to_pass() {
        let c = national_day();
        // Filed Wednesday 30 September, late: the 1st–7th are off, the 8th and 9th count.
        assert_eq!(
            c.working_days_after(local("2026-09-30 23:30"), &Shanghai, 2),
            Some(local("2026-10-10 00:00"))
        );
        // The 10th, a Saturday worked, is the third.
        assert_eq!(
            c.working_days_after(local("2026-09-30 09:00"), &Shanghai, 3),
            Some(local("2026-10-11 00:00"))
        );
        // Filed Friday 25 September: Sunday the 27th is worked, so it is the first day.
        assert_eq!(
            c.working_days_after(local("2026-09-25 18:00"), &Shanghai, 1),
            Some(local("2026-09-28 00:00"))
        );
        assert_eq!(
            c.working_days_after(local("2026-09-25 18:00"), &Shanghai, 2),
            Some(local("2026-09-29 00:00"))
        );
        // Without the calendar the weekend is off and the holiday is not.
        assert_eq!(
            WorkCalendar::default().working_days_after(local("2026-09-30 23:30"), &Shanghai, 2),
            Some(local("2026-10-03 00:00"))
        );
    }

    #[test]
    fn the_day_of_filing_is_local_and_never_counted() {
        let c = WorkCalendar::default();
        // 23:59 on Monday in Shanghai is 15:59 UTC: still Monday, so Tuesday is the first day.
        assert_eq!(
            c.working_days_after(local("2026-11-30 23:59"), &Shanghai, 1),
            Some(local("2026-12-02 00:00"))
        );
        // 00:01 on Tuesday: Wednesday is.
        assert_eq!(
            c.working_days_after(local("2026-12-01 00:01"), &Shanghai, 1),
            Some(local("2026-12-03 00:00"))
        );
        // Fifteen working days are three weeks.
        assert_eq!(
            c.working_days_after(local("2026-11-30 10:00"), &Shanghai, 15),
            Some(local("2026-12-22 00:00"))
        );
    }

    #[test]
    fn a_calendar_without_working_days_gives_no_deadline() {
        let start = d("2026-01-01");
        let all_off = WorkCalendar::new((0..400).map(|i| (start + Duration::days(i), DayKind::Holiday)));
        assert_eq!(
            all_off.working_days_after(local("2026-01-01 10:00"), &Shanghai, 1),
            None
        );
    }
}
