//! Consumption vouchers (消费券): a campaign's terms and the states it goes through, in fen.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::msg::{FieldError, Msg};

/// What an admin stores; `Running` is never stored (see [`effective`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = VoucherState))]
pub enum State {
    Draft,
    Scheduled,
    Running,
    Paused,
    Ended,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Scheduled => "scheduled",
            State::Running => "running",
            State::Paused => "paused",
            State::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [
            State::Draft,
            State::Scheduled,
            State::Running,
            State::Paused,
            State::Ended,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            State::Draft => "campaign_state.draft",
            State::Scheduled => "campaign_state.scheduled",
            State::Running => "campaign_state.running",
            State::Paused => "campaign_state.paused",
            State::Ended => "campaign_state.ended",
        }
    }
}

/// An admin's step on a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = CampaignStep))]
pub enum Step {
    /// Makes the vouchers and fixes the terms; claims open at the claim start.
    Schedule,
    Pause,
    Resume,
    End,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Schedule, Step::Pause, Step::Resume, Step::End];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Schedule => "schedule",
            Step::Pause => "pause",
            Step::Resume => "resume",
            Step::End => "end",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The button's label.
    pub fn label_key(self) -> &'static str {
        match self {
            Step::Schedule => "vouchers_admin.schedule",
            Step::Pause => "vouchers_admin.pause",
            Step::Resume => "vouchers_admin.resume",
            Step::End => "vouchers_admin.end",
        }
    }

    /// What was done, for the notice after the step.
    pub fn done_key(self) -> &'static str {
        match self {
            Step::Schedule => "vouchers_admin.done_schedule",
            Step::Pause => "vouchers_admin.done_pause",
            Step::Resume => "vouchers_admin.done_resume",
            Step::End => "vouchers_admin.done_end",
        }
    }
}

/// The steps a campaign in this (effective) state allows, in the order they are offered.
pub fn steps_allowed(effective: State) -> Vec<Step> {
    Step::ALL
        .into_iter()
        .filter(|s| after(effective, *s).is_some())
        .collect()
}

/// The stored state a step leads to from the effective one, if allowed.
pub fn after(effective: State, step: Step) -> Option<State> {
    use State::*;
    match (effective, step) {
        (Draft, Step::Schedule) => Some(Scheduled),
        (Scheduled | Running, Step::Pause) => Some(Paused),
        (Paused, Step::Resume) => Some(Scheduled),
        (Draft | Scheduled | Running | Paused, Step::End) => Some(Ended),
        _ => None,
    }
}

/// The state as of `now`: a scheduled campaign is running inside its claim window, and a
/// scheduled one whose window has passed takes no more claims (shown as ended for claiming, while
/// its vouchers stay usable until they expire).
pub fn effective(stored: State, claim_start: DateTime<Utc>, claim_end: DateTime<Utc>, now: DateTime<Utc>) -> State {
    match stored {
        State::Scheduled if now >= claim_start && now < claim_end => State::Running,
        State::Scheduled if now >= claim_end => State::Ended,
        s => s,
    }
}

/// A campaign's terms: as entered (from a form, or JSON), as stored, and as shown.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Terms {
    /// 2–60 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 2, max_length = 60, pattern = r"\S[\s\S]*\S")
    )]
    pub name: String,
    /// Face value in fen (1000 = 10 元), 1–100,000.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100_000))]
    pub value_fen: i64,
    /// Bill needed, in fen (0: none; else at least the face value). 满50减10 is threshold 5000,
    /// value 1000.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10_000_000))]
    pub threshold_fen: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000_000))]
    pub total: i64,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub per_person: i64,
    pub claim_start: DateTime<Utc>,
    pub claim_end: DateTime<Utc>,
    /// The use window's end (RFC 3339; the pattern knows each month's days, and leaves out
    /// 29 February, which the server accepts in leap years), or
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
        )
    )]
    pub use_until: Option<DateTime<Utc>>,
    /// days after each claim (1–365; exactly one of the two).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    pub use_days: Option<i32>,
    /// Markets where vouchers are taken (empty: all).
    #[serde(default)]
    pub market_ids: Vec<Uuid>,
    /// Stall categories that take them (empty: all).
    #[serde(default)]
    pub categories: Vec<String>,
    /// The most subsidy a day (fen), if any.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub daily_budget_fen: Option<i64>,
}

impl Terms {
    /// Every problem at once, as the database would also refuse.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut e = Vec::new();
        let n = self.name.trim().chars().count();
        if !(2..=60).contains(&n) {
            e.push(FieldError::with(
                "name",
                Msg::new("form.length_between").arg("min", 2).arg("max", 60),
            ));
        }
        if !(1..=100_000).contains(&self.value_fen) {
            e.push(FieldError::new("value_fen", "campaign.value"));
        }
        if self.threshold_fen != 0 && self.threshold_fen < self.value_fen
            || !(0..=10_000_000).contains(&self.threshold_fen)
        {
            e.push(FieldError::new("threshold_fen", "campaign.threshold"));
        }
        if !(1..=10_000_000).contains(&self.total) {
            e.push(FieldError::new("total", "campaign.total"));
        }
        if !(1..=100).contains(&self.per_person) {
            e.push(FieldError::new("per_person", "campaign.per_person"));
        }
        if self.claim_end <= self.claim_start {
            e.push(FieldError::new("claim_end", "campaign.claim_window"));
        }
        match (self.use_until, self.use_days) {
            (Some(u), None) if u > self.claim_start => {}
            (Some(_), None) => e.push(FieldError::new("use_until", "campaign.use_window")),
            (None, Some(d)) if (1..=365).contains(&d) => {}
            _ => e.push(FieldError::new("use_days", "campaign.use_either")),
        }
        for c in &self.categories {
            if crate::market::Category::parse(c).is_none() {
                e.push(FieldError::new("categories", "campaign.category"));
            }
        }
        if self.daily_budget_fen.is_some_and(|b| b <= 0) {
            e.push(FieldError::new("daily_budget_fen", "campaign.budget"));
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }

    /// When a voucher claimed at `at` stops being usable.
    pub fn expires(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        expires(self.use_until, self.use_days, at)
    }
}

pub fn expires(use_until: Option<DateTime<Utc>>, use_days: Option<i32>, at: DateTime<Utc>) -> DateTime<Utc> {
    match (use_until, use_days) {
        (Some(u), _) => u,
        (None, Some(d)) => at + Duration::days(i64::from(d)),
        (None, None) => at,
    }
}

/// "10.00" for 1000 fen.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    format!("{sign}{}.{:02}", f / 100, f % 100)
}

/// Gross leverage: consumption ÷ subsidy, to two decimals (half up), in integers only; `None`
/// without subsidy.
pub fn leverage(consumption_fen: i64, subsidy_fen: i64) -> Option<String> {
    super::figures::fixed2(consumption_fen, subsidy_fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn terms() -> Terms {
        Terms {
            name: "夜市消费券 第一轮".into(),
            value_fen: 1000,
            threshold_fen: 5000,
            total: 100_000,
            per_person: 1,
            claim_start: t("2026-12-01T12:00:00Z"),
            claim_end: t("2026-12-01T14:00:00Z"),
            use_until: None,
            use_days: Some(7),
            ..Terms::default()
        }
    }

    #[test]
    fn terms_are_checked_together() {
        assert!(terms().check().is_ok());
        let bad = Terms {
            name: "x".into(),
            value_fen: 0,
            threshold_fen: 500,
            total: 0,
            per_person: 101,
            claim_end: t("2026-12-01T11:00:00Z"),
            use_days: None,
            categories: vec!["drinks".into()],
            ..terms()
        };
        let fields: Vec<&str> = bad.check().unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "value_fen",
                "total",
                "per_person",
                "claim_end",
                "use_days",
                "categories"
            ]
        );
        let below = Terms {
            threshold_fen: 500,
            ..terms()
        };
        assert_eq!(below.check().unwrap_err()[0].field, "threshold_fen");
        let none = Terms {
            threshold_fen: 0,
            ..terms()
        };
        assert!(none.check().is_ok(), "no threshold is allowed");
    }

    #[test]
    fn a_scheduled_campaign_runs_inside_its_window() {
        let (a, b) = (t("2026-12-01T12:00:00Z"), t("2026-12-01T14:00:00Z"));
        assert_eq!(
            effective(State::Scheduled, a, b, t("2026-12-01T11:59:59Z")),
            State::Scheduled
        );
        assert_eq!(effective(State::Scheduled, a, b, a), State::Running);
        assert_eq!(effective(State::Scheduled, a, b, b), State::Ended);
        assert_eq!(effective(State::Paused, a, b, a), State::Paused);
        assert_eq!(after(State::Running, Step::Pause), Some(State::Paused));
        assert_eq!(after(State::Paused, Step::Resume), Some(State::Scheduled));
        assert_eq!(after(State::Ended, Step::Resume), None);
        assert_eq!(after(State::Running, Step::Schedule), None);
    }

    #[test]
    fn use_windows_and_money() {
        let claimed = t("2026-12-01T12:00:30Z");
        assert_eq!(terms().expires(claimed), t("2026-12-08T12:00:30Z"));
        let fixed = Terms {
            use_until: Some(t("2026-12-31T16:00:00Z")),
            use_days: None,
            ..terms()
        };
        assert_eq!(fixed.expires(claimed), t("2026-12-31T16:00:00Z"));
        assert_eq!(yuan(1000), "10.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-1234), "-12.34");
    }

    #[test]
    fn leverage_is_consumption_over_subsidy_to_two_decimals() {
        // Hangzhou's figure: 10 元 of subsidy moving 100–130 元 of spending.
        assert_eq!(leverage(11_950, 1_000).as_deref(), Some("11.95"));
        assert_eq!(leverage(6_800, 1_000).as_deref(), Some("6.80"));
        // 2/3 = 0.666… → 0.67 (half up); 1/8 = 0.125 → 0.13.
        assert_eq!(leverage(2, 3).as_deref(), Some("0.67"));
        assert_eq!(leverage(1, 8).as_deref(), Some("0.13"));
        assert_eq!(leverage(5, 0), None);
        // No overflow for a city's totals.
        assert_eq!(leverage(9_000_000_000_000, 700_000_000_000).as_deref(), Some("12.86"));
    }
}
