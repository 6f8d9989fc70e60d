//! Opening hours and business nights (营业日).
//!
//! A market's hours are local wall-clock times in the tenant's zone and may cross midnight
//! (18:00–02:00). A business night runs from opening to closing and belongs to the date on which
//! it started: a check-in at 01:30 on the 5th belongs to the night of the 4th.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpeningHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

/// Why a pair of times is not valid opening hours; a key of locales/app.yml.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoursError {
    OpensMalformed,
    ClosesMalformed,
    Equal,
}

impl HoursError {
    pub fn field(self) -> &'static str {
        match self {
            HoursError::OpensMalformed | HoursError::Equal => "opens_at",
            HoursError::ClosesMalformed => "closes_at",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            HoursError::OpensMalformed | HoursError::ClosesMalformed => "market.hours_malformed",
            HoursError::Equal => "market.hours_equal",
        }
    }
}

/// Parses "HH:MM" (24-hour clock, leading zero optional).
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

impl OpeningHours {
    pub fn parse(opens: &str, closes: &str) -> Result<OpeningHours, HoursError> {
        let opens = parse_time(opens).ok_or(HoursError::OpensMalformed)?;
        let closes = parse_time(closes).ok_or(HoursError::ClosesMalformed)?;
        OpeningHours::new(opens, closes)
    }

    pub fn new(opens: NaiveTime, closes: NaiveTime) -> Result<OpeningHours, HoursError> {
        if opens == closes {
            return Err(HoursError::Equal);
        }
        Ok(OpeningHours { opens, closes })
    }

    pub fn crosses_midnight(&self) -> bool {
        self.closes < self.opens
    }

    /// Whether the market is open at a local wall-clock time (opening inclusive, closing exclusive).
    pub fn is_open_at(&self, t: NaiveTime) -> bool {
        if self.crosses_midnight() {
            t >= self.opens || t < self.closes
        } else {
            t >= self.opens && t < self.closes
        }
    }

    /// The business night a local moment belongs to: for a market that runs past midnight, the
    /// small hours up to closing time belong to the previous date.
    pub fn business_date(&self, local: NaiveDateTime) -> NaiveDate {
        if self.crosses_midnight() && local.time() < self.closes {
            local.date() - Duration::days(1)
        } else {
            local.date()
        }
    }

    /// Start and end of the business night of `date`, as instants.
    pub fn night_window<Tz: TimeZone>(&self, date: NaiveDate, tz: &Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let end_date = if self.crosses_midnight() {
            date + Duration::days(1)
        } else {
            date
        };
        (
            local_instant(tz, date.and_time(self.opens)),
            local_instant(tz, end_date.and_time(self.closes)),
        )
    }

    pub fn label(&self) -> String {
        format!("{}–{}", self.opens.format("%H:%M"), self.closes.format("%H:%M"))
    }
}

/// The instant of a local wall-clock time; in a DST gap, the first valid instant after it.
fn local_instant<Tz: TimeZone>(tz: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..4 {
        if let Some(at) = tz.from_local_datetime(&probe).earliest() {
            return at.with_timezone(&Utc);
        }
        probe += Duration::minutes(30);
    }
    // No zone has a gap longer than two hours; fall back to reading the time as UTC.
    Utc.from_utc_datetime(&local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;

    fn t(s: &str) -> NaiveTime {
        parse_time(s).unwrap()
    }

    fn at(date: &str, time: &str) -> NaiveDateTime {
        NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap().and_time(t(time))
    }

    #[test]
    fn times_are_parsed_strictly() {
        assert_eq!(parse_time("18:00"), NaiveTime::from_hms_opt(18, 0, 0));
        assert_eq!(parse_time(" 9:05 "), NaiveTime::from_hms_opt(9, 5, 0));
        for bad in [
            "",
            "18",
            "18:0",
            "24:00",
            "18:60",
            "-1:00",
            "18:00:00",
            "1800",
            "ab:cd",
            "１８:００",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?} should be refused");
        }
    }

    #[test]
    fn equal_times_are_not_hours() {
        assert_eq!(OpeningHours::parse("18:00", "18:00"), Err(HoursError::Equal));
        assert_eq!(OpeningHours::parse("xx", "18:00"), Err(HoursError::OpensMalformed));
        assert_eq!(OpeningHours::parse("18:00", "25:00"), Err(HoursError::ClosesMalformed));
    }

    #[test]
    fn a_night_market_past_midnight_is_open_in_the_small_hours() {
        let h = OpeningHours::parse("18:00", "02:00").unwrap();
        assert!(h.crosses_midnight());
        assert!(h.is_open_at(t("18:00")));
        assert!(h.is_open_at(t("23:59")));
        assert!(h.is_open_at(t("01:59")));
        assert!(!h.is_open_at(t("02:00")));
        assert!(!h.is_open_at(t("12:00")));
        assert!(!h.is_open_at(t("17:59")));
    }

    #[test]
    fn a_market_within_one_day() {
        let h = OpeningHours::parse("09:00", "17:30").unwrap();
        assert!(!h.crosses_midnight());
        assert!(h.is_open_at(t("09:00")));
        assert!(!h.is_open_at(t("17:30")));
        assert!(!h.is_open_at(t("01:00")));
        assert_eq!(
            h.business_date(at("2026-11-05", "01:00")),
            NaiveDate::from_ymd_opt(2026, 11, 5).unwrap()
        );
    }

    #[test]
    fn the_small_hours_belong_to_the_night_before() {
        let h = OpeningHours::parse("18:00", "02:00").unwrap();
        let nov4 = NaiveDate::from_ymd_opt(2026, 11, 4).unwrap();
        let nov5 = NaiveDate::from_ymd_opt(2026, 11, 5).unwrap();
        assert_eq!(h.business_date(at("2026-11-05", "01:30")), nov4);
        assert_eq!(h.business_date(at("2026-11-05", "00:00")), nov4);
        assert_eq!(h.business_date(at("2026-11-05", "02:00")), nov5);
        assert_eq!(h.business_date(at("2026-11-05", "19:00")), nov5);
        // across a month and a year boundary
        assert_eq!(
            h.business_date(at("2027-01-01", "01:00")),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn the_window_of_a_night_in_shanghai() {
        let h = OpeningHours::parse("18:00", "02:00").unwrap();
        let (start, end) = h.night_window(NaiveDate::from_ymd_opt(2026, 11, 4).unwrap(), &Shanghai);
        assert_eq!(start.to_rfc3339(), "2026-11-04T10:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-04T18:00:00+00:00");
    }

    #[test]
    fn a_window_over_a_dst_gap_starts_after_it() {
        // New York springs forward at 02:00 on 2026-03-08; 02:30 does not exist.
        let h = OpeningHours::parse("02:30", "06:00").unwrap();
        let (start, _) = h.night_window(
            NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
            &chrono_tz::America::New_York,
        );
        assert_eq!(start.to_rfc3339(), "2026-03-08T07:00:00+00:00");
    }
}
