//! Credentials (证照) and what they do to a code's colour, and penalty points.

use chrono::{Datelike, Duration, NaiveDate};

pub use nightmarket_input::credential::{Kind, Source, Status};

use super::code::Colour;
use super::market::Category;

/// The credentials a vendor selling in these categories must hold: food stalls need a health
/// certificate and a food business licence; other stalls need none (a business licence is kept
/// when given). The same rule decides what an application must carry.
pub fn required(categories: &[Category]) -> Vec<Kind> {
    if categories.contains(&Category::Food) {
        vec![Kind::Health, Kind::FoodLicence]
    } else {
        Vec::new()
    }
}

/// A credential as held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub kind: Kind,
    pub status: Status,
    pub expires_on: Option<NaiveDate>,
}

/// A reason for a colour, as stored in `code_causes.kind`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cause {
    pub kind: String,
    pub colour: Colour,
}

/// The causes credentials give a code `today`: for each required credential, red if missing,
/// invalid or expired, yellow if it expires within `warning_days`; and for any credential an
/// authority reported invalid, red whether or not the stall's category needs it (the health
/// binding: a vendor whose health status is invalid may not trade at all).
pub fn causes(required: &[Kind], held: &[Held], today: NaiveDate, warning_days: i64) -> Vec<Cause> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let found = held.iter().find(|h| h.kind == kind);
        let is_required = required.contains(&kind);
        let cause = match found {
            None if is_required => Some(("credential_missing", Colour::Red)),
            None => None,
            Some(h) if h.status == Status::Invalid => Some(("credential_invalid", Colour::Red)),
            Some(_) if !is_required => None,
            Some(h) if h.status == Status::Expired || h.expires_on.is_some_and(|e| e < today) => {
                Some(("credential_expired", Colour::Red))
            }
            Some(h) if h.expires_on.is_some_and(|e| e < today + Duration::days(warning_days)) => {
                Some(("credential_expiring", Colour::Yellow))
            }
            Some(_) => None,
        };
        if let Some((prefix, colour)) = cause {
            out.push(Cause {
                kind: format!("{prefix}:{}", kind.as_str()),
                colour,
            });
        }
    }
    out
}

/// The status a credential should have `today` (an external 'invalid' stays until made valid).
pub fn status_on(held: &Held, today: NaiveDate) -> Status {
    match held.status {
        Status::Invalid => Status::Invalid,
        _ if held.expires_on.is_some_and(|e| e < today) => Status::Expired,
        _ => Status::Valid,
    }
}

/// The first day of the month a date falls in: penalty points count per calendar month.
pub fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The cause penalty points give: red once the month's deductions reach the allowance.
pub fn penalty_cause(points_this_month: i64, allowance: i64) -> Option<Cause> {
    (points_this_month >= allowance).then(|| Cause {
        kind: crate::code::cause::PENALTY.to_string(),
        colour: Colour::Red,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn held(kind: Kind, status: Status, expires: &str) -> Held {
        Held {
            kind,
            status,
            expires_on: Some(d(expires)),
        }
    }

    #[test]
    fn only_food_stalls_need_credentials() {
        assert_eq!(required(&[Category::Food]), vec![Kind::Health, Kind::FoodLicence]);
        assert!(required(&[Category::Retail, Category::Culture]).is_empty());
        assert_eq!(required(&[Category::Retail, Category::Food]).len(), 2);
    }

    #[test]
    fn each_state_gives_its_cause() {
        let today = d("2026-11-21");
        let req = [Kind::Health, Kind::FoodLicence];
        let ok = [
            held(Kind::Health, Status::Valid, "2027-06-01"),
            held(Kind::FoodLicence, Status::Valid, "2027-06-01"),
        ];
        assert!(causes(&req, &ok, today, 14).is_empty());
        let kinds = |h: &[Held]| {
            causes(&req, h, today, 14)
                .into_iter()
                .map(|c| (c.kind, c.colour))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&ok[..1]),
            vec![("credential_missing:food_licence".into(), Colour::Red)]
        );
        assert_eq!(
            kinds(&[held(Kind::Health, Status::Invalid, "2027-06-01"), ok[1].clone()]),
            vec![("credential_invalid:health".into(), Colour::Red)]
        );
        assert_eq!(
            kinds(&[held(Kind::Health, Status::Valid, "2026-11-20"), ok[1].clone()]),
            vec![("credential_expired:health".into(), Colour::Red)]
        );
        assert_eq!(
            kinds(&[held(Kind::Health, Status::Valid, "2026-12-04"), ok[1].clone()]),
            vec![("credential_expiring:health".into(), Colour::Yellow)]
        );
    }

    #[test]
    fn a_reported_invalid_credential_is_red_even_when_not_required() {
        let today = d("2026-11-21");
        let h = [held(Kind::Health, Status::Invalid, "2027-06-01")];
        assert_eq!(causes(&[], &h, today, 14)[0].kind, "credential_invalid:health");
        // an optional licence that lapsed is not a reason to stop trading
        assert!(
            causes(
                &[],
                &[held(Kind::BusinessLicence, Status::Expired, "2026-01-01")],
                today,
                14
            )
            .is_empty()
        );
    }

    #[test]
    fn expiry_boundaries() {
        let req = [Kind::Health];
        // valid through its expiry date; expired the day after
        assert_eq!(
            causes(
                &req,
                &[held(Kind::Health, Status::Valid, "2026-11-21")],
                d("2026-11-21"),
                14
            )[0]
            .colour,
            Colour::Yellow
        );
        assert_eq!(
            causes(
                &req,
                &[held(Kind::Health, Status::Valid, "2026-11-21")],
                d("2026-11-22"),
                14
            )[0]
            .colour,
            Colour::Red
        );
        // the warning starts exactly `warning_days` before
        assert!(
            causes(
                &req,
                &[held(Kind::Health, Status::Valid, "2026-12-05")],
                d("2026-11-21"),
                14
            )
            .is_empty()
        );
        assert_eq!(
            causes(
                &req,
                &[held(Kind::Health, Status::Valid, "2026-12-04")],
                d("2026-11-21"),
                14
            )[0]
            .colour,
            Colour::Yellow
        );
    }

    #[test]
    fn statuses_follow_the_calendar_but_invalid_stays() {
        let h = held(Kind::Health, Status::Valid, "2026-11-20");
        assert_eq!(status_on(&h, d("2026-11-20")), Status::Valid);
        assert_eq!(status_on(&h, d("2026-11-21")), Status::Expired);
        let renewed = Held {
            expires_on: Some(d("2027-11-20")),
            status: Status::Expired,
            ..h.clone()
        };
        assert_eq!(status_on(&renewed, d("2026-11-21")), Status::Valid);
        let invalid = Held {
            status: Status::Invalid,
            ..renewed
        };
        assert_eq!(status_on(&invalid, d("2026-11-21")), Status::Invalid);
    }

    #[test]
    fn penalty_points_per_month() {
        assert_eq!(month_of(d("2026-11-21")), d("2026-11-01"));
        assert!(penalty_cause(11, 12).is_none());
        assert_eq!(penalty_cause(12, 12).map(|c| c.colour), Some(Colour::Red));
    }
}
