//! Complaints (投诉): categories with their deadlines, the tracking number, and the states of the
//! 12345 flow in the vocabulary of Open311 (受理 open → 签收 acknowledged → 办理 in_progress →
//! 办结 resolved | rejected; a resolved complaint may be reopened once within seven days).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = ComplaintCategory))]
pub enum Category {
    /// 食品安全
    FoodSafety,
    /// 价格欺诈
    PriceFraud,
    /// 缺斤短两
    ShortWeight,
    /// 卫生
    Hygiene,
    /// 服务态度
    Service,
    /// 占道经营
    RoadOccupation,
    /// 噪音扰民
    Noise,
    /// 其他
    Other,
}

/// How fast a complaint must be acknowledged (hours) and resolved (days: calendar days, or
/// working days of the tenant's calendar when `working_days`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deadlines {
    pub ack_hours: i32,
    pub resolve_days: i32,
    #[serde(default)]
    pub working_days: bool,
}

/// A GB/T 39666-2020 classification code (政府热线服务分类与代码): main, middle and sub class, two
/// digits each, e.g. `070201`. The tenant's admin enters it per category from the standard's
/// table; the platform does not ship the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GbtCode([u8; 6]);

impl GbtCode {
    pub fn parse(s: &str) -> Option<GbtCode> {
        let b = s.as_bytes();
        let ok = b.len() == 6 && b.iter().all(u8::is_ascii_digit) && &b[..2] != b"00";
        ok.then(|| {
            let mut code = [0; 6];
            code.copy_from_slice(b);
            GbtCode(code)
        })
    }

    pub fn as_str(&self) -> &str {
        // Six ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The main, middle and sub class.
    pub fn classes(&self) -> (&str, &str, &str) {
        let s = self.as_str();
        (&s[..2], &s[2..4], &s[4..])
    }
}

impl std::fmt::Display for GbtCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GbtCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GbtCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GbtCode::parse(&s).ok_or_else(|| serde::de::Error::custom("a GB/T 39666 code is six digits, e.g. 070201"))
    }
}

/// What a tenant sets for a category: its deadlines and its GB/T 39666 class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CategoryRules {
    pub category: Category,
    pub deadlines: Deadlines,
    pub gbt_code: Option<GbtCode>,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::FoodSafety,
        Category::PriceFraud,
        Category::ShortWeight,
        Category::Hygiene,
        Category::Service,
        Category::RoadOccupation,
        Category::Noise,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::FoodSafety => "food_safety",
            Category::PriceFraud => "price_fraud",
            Category::ShortWeight => "short_weight",
            Category::Hygiene => "hygiene",
            Category::Service => "service",
            Category::RoadOccupation => "road_occupation",
            Category::Noise => "noise",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Category::FoodSafety => "complaint_category.food_safety",
            Category::PriceFraud => "complaint_category.price_fraud",
            Category::ShortWeight => "complaint_category.short_weight",
            Category::Hygiene => "complaint_category.hygiene",
            Category::Service => "complaint_category.service",
            Category::RoadOccupation => "complaint_category.road_occupation",
            Category::Noise => "complaint_category.noise",
            Category::Other => "complaint_category.other",
        }
    }

    /// The platform's deadlines, until a tenant sets its own: food safety first.
    pub fn default_deadlines(self) -> Deadlines {
        let (ack_hours, resolve_days) = match self {
            Category::FoodSafety => (2, 1),
            Category::PriceFraud | Category::ShortWeight => (4, 3),
            Category::Noise => (4, 2),
            Category::Hygiene | Category::RoadOccupation => (8, 3),
            Category::Service => (24, 5),
            Category::Other => (24, 7),
        };
        Deadlines {
            ack_hours,
            resolve_days,
            working_days: false,
        }
    }
}

impl Deadlines {
    pub fn ack_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        from + Duration::hours(i64::from(self.ack_hours))
    }

    /// When a complaint filed at `from` must be resolved: `resolve_days` later, or the end of
    /// the `resolve_days`-th working day after the local day of filing (None: the calendar has
    /// no working day within a year).
    pub fn resolve_due<Tz: chrono::TimeZone>(
        &self,
        from: DateTime<Utc>,
        tz: &Tz,
        calendar: &crate::calendar::WorkCalendar,
    ) -> Option<DateTime<Utc>> {
        if self.working_days {
            calendar.working_days_after(from, tz, u32::try_from(self.resolve_days).ok()?)
        } else {
            Some(from + Duration::days(i64::from(self.resolve_days)))
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = ComplaintState))]
pub enum State {
    Open,
    Acknowledged,
    InProgress,
    Resolved,
    Rejected,
}

/// What an official (or the shopper, for reopen) does to a complaint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Acknowledge,
    Start,
    Resolve,
    Reject,
    Reopen,
}

/// How long after its resolution a shopper may reopen a complaint.
pub const REOPEN_DAYS: i64 = 7;

impl State {
    pub const ALL: [State; 5] = [
        State::Open,
        State::Acknowledged,
        State::InProgress,
        State::Resolved,
        State::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Acknowledged => "acknowledged",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            State::Open => "complaint_state.open",
            State::Acknowledged => "complaint_state.acknowledged",
            State::InProgress => "complaint_state.in_progress",
            State::Resolved => "complaint_state.resolved",
            State::Rejected => "complaint_state.rejected",
        }
    }

    /// Still waiting for an outcome (counts toward the unresolved-complaints yellow).
    pub fn is_unresolved(self) -> bool {
        matches!(self, State::Open | State::Acknowledged | State::InProgress)
    }

    /// Open311's two states.
    pub fn open311(self) -> &'static str {
        if self.is_unresolved() { "open" } else { "closed" }
    }

    /// The state `action` leads to from here, if it is allowed.
    pub fn after(self, action: Action) -> Option<State> {
        use Action::*;
        use State::*;
        match (self, action) {
            (Open, Acknowledge) => Some(Acknowledged),
            (Open | Acknowledged, Start) => Some(InProgress),
            (Acknowledged | InProgress, Resolve) => Some(Resolved),
            (Open | Acknowledged | InProgress, Reject) => Some(Rejected),
            (Resolved, Reopen) => Some(Open),
            _ => None,
        }
    }
}

/// Whether a shopper may still reopen: resolved, never reopened, within seven days.
pub fn may_reopen(state: State, reopen_count: i16, closed_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    state == State::Resolved && reopen_count == 0 && closed_at.is_some_and(|c| now <= c + Duration::days(REOPEN_DAYS))
}

/// Where a complaint stands against its deadlines `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timing {
    /// The deadline that applies now (acknowledgement while open, then resolution), if any.
    pub due_at: Option<DateTime<Utc>>,
    /// Past that deadline.
    pub overdue: bool,
}

pub fn timing(state: State, ack_due: DateTime<Utc>, resolve_due: DateTime<Utc>, now: DateTime<Utc>) -> Timing {
    let due_at = match state {
        State::Open => Some(ack_due),
        State::Acknowledged | State::InProgress => Some(resolve_due),
        State::Resolved | State::Rejected => None,
    };
    Timing {
        due_at,
        overdue: due_at.is_some_and(|d| now > d),
    }
}

/// The 12345 hotline's stages, in its order. Ours map onto them (docs/ARCHITECTURE.md):
/// 受理 the complaint filed; 转办 first taken by an official (a claim, or any later step);
/// 签收 acknowledged; 办理 started (or resolved straight from acknowledged); 督办 escalated by a
/// supervisor (only when it was); 回访 the follow-up call's result, recorded after it was closed;
/// 办结 closed for good: once followed up, or when the time to reopen it has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", schema(as = HotlineStage))]
pub enum Stage {
    Accepted,
    Transferred,
    Signed,
    Handling,
    Supervised,
    FollowedUp,
    Closed,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Accepted,
        Stage::Transferred,
        Stage::Signed,
        Stage::Handling,
        Stage::Supervised,
        Stage::FollowedUp,
        Stage::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Accepted => "accepted",
            Stage::Transferred => "transferred",
            Stage::Signed => "signed",
            Stage::Handling => "handling",
            Stage::Supervised => "supervised",
            Stage::FollowedUp => "followed_up",
            Stage::Closed => "closed",
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Stage::Accepted => "hotline_stage.accepted",
            Stage::Transferred => "hotline_stage.transferred",
            Stage::Signed => "hotline_stage.signed",
            Stage::Handling => "hotline_stage.handling",
            Stage::Supervised => "hotline_stage.supervised",
            Stage::FollowedUp => "hotline_stage.followed_up",
            Stage::Closed => "hotline_stage.closed",
        }
    }
}

/// One stage and when it was reached (None: not, or not yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = HotlineStageMark))]
pub struct StageMark {
    pub stage: Stage,
    pub at: Option<DateTime<Utc>>,
}

/// What the stages are read from: the complaint's state and the times it keeps.
#[derive(Clone, Copy, Debug)]
pub struct StageTimes {
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub followed_up_at: Option<DateTime<Utc>>,
}

/// The follow-up call's result (回访结果).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    /// 满意
    Satisfied,
    /// 不满意
    Unsatisfied,
    /// 未能联系
    Unreachable,
}

impl FollowUp {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUp::Satisfied => "satisfied",
            FollowUp::Unsatisfied => "unsatisfied",
            FollowUp::Unreachable => "unreachable",
        }
    }

    pub fn parse(s: &str) -> Option<FollowUp> {
        [FollowUp::Satisfied, FollowUp::Unsatisfied, FollowUp::Unreachable]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            FollowUp::Satisfied => "follow_up.satisfied",
            FollowUp::Unsatisfied => "follow_up.unsatisfied",
            FollowUp::Unreachable => "follow_up.unreachable",
        }
    }
}

impl StageTimes {
    /// The follow-up of the latest closing (one made before a reopening does not count).
    fn follow_up(&self) -> Option<DateTime<Utc>> {
        let closed = self.closed_at.filter(|_| !self.state.is_unresolved())?;
        self.followed_up_at.filter(|f| *f >= closed)
    }

    /// Whether the follow-up call may be recorded now: closed and not yet followed up since.
    pub fn may_follow_up(&self) -> bool {
        !self.state.is_unresolved() && self.follow_up().is_none()
    }

    /// Every stage in the hotline's order, with when each was reached `now`.
    pub fn stages(&self, now: DateTime<Utc>) -> Vec<StageMark> {
        let closed = self.closed_at.filter(|_| !self.state.is_unresolved());
        let follow_up = self.follow_up();
        let at = |stage: Stage| match stage {
            Stage::Accepted => Some(self.created_at),
            Stage::Transferred => self.assigned_at.or(self.acknowledged_at).or(self.started_at).or(closed),
            Stage::Signed => self.acknowledged_at.or(self.started_at),
            Stage::Handling => self.started_at.or(closed.filter(|_| self.state == State::Resolved)),
            Stage::Supervised => self.escalated_at,
            Stage::FollowedUp => follow_up,
            Stage::Closed => follow_up.or(closed.filter(|c| now > *c + Duration::days(REOPEN_DAYS))),
        };
        Stage::ALL
            .into_iter()
            .map(|stage| StageMark { stage, at: at(stage) })
            .collect()
    }
}

pub const TRACKING_RANDOM_LEN: usize = 20;

/// A new tracking number: the tenant's slug and 100 of the random bits, e.g. `nanan-7k2m…`.
pub fn new_tracking(slug: &str, random: super::code::RandomBits) -> String {
    format!("{slug}-{}", super::code::base32(random, TRACKING_RANDOM_LEN))
}

/// The tenant slug of a well-formed tracking number.
pub fn tenant_of_tracking(tracking: &str) -> Option<&str> {
    let (slug, random) = tracking.rsplit_once('-')?;
    let random_ok = random.len() == TRACKING_RANDOM_LEN && random.bytes().all(|b| super::code::ALPHABET.contains(&b));
    (random_ok && super::tenant::parse_slug(slug).as_deref() == Some(slug)).then_some(slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_flow_allows_what_the_hotline_does_and_nothing_else() {
        use Action::*;
        use State::*;
        assert_eq!(Open.after(Acknowledge), Some(Acknowledged));
        assert_eq!(Acknowledged.after(Start), Some(InProgress));
        assert_eq!(InProgress.after(Resolve), Some(Resolved));
        assert_eq!(Acknowledged.after(Resolve), Some(Resolved));
        assert_eq!(Open.after(Reject), Some(Rejected));
        assert_eq!(Resolved.after(Reopen), Some(Open));
        for (from, action) in [
            (Open, Resolve),
            (Resolved, Acknowledge),
            (Rejected, Reopen),
            (Rejected, Start),
            (InProgress, Acknowledge),
        ] {
            assert_eq!(from.after(action), None, "{from:?} {action:?}");
        }
        assert_eq!(Acknowledged.open311(), "open");
        assert_eq!(Rejected.open311(), "closed");
    }

    #[test]
    fn reopening_is_once_and_within_seven_days() {
        let closed = t("2026-11-01T12:00:00Z");
        assert!(may_reopen(State::Resolved, 0, Some(closed), t("2026-11-08T12:00:00Z")));
        assert!(!may_reopen(State::Resolved, 0, Some(closed), t("2026-11-08T12:00:01Z")));
        assert!(!may_reopen(State::Resolved, 1, Some(closed), t("2026-11-02T12:00:00Z")));
        assert!(!may_reopen(State::Rejected, 0, Some(closed), t("2026-11-02T12:00:00Z")));
    }

    #[test]
    fn deadlines_and_overdue() {
        let filed = t("2026-11-21T20:00:00Z");
        let d = Category::FoodSafety.default_deadlines();
        assert_eq!(d.ack_due(filed), t("2026-11-21T22:00:00Z"));
        let calendar = crate::calendar::WorkCalendar::default();
        let res = d.resolve_due(filed, &Utc, &calendar).unwrap();
        assert_eq!(res, t("2026-11-22T20:00:00Z"));
        let ack = d.ack_due(filed);
        assert!(!timing(State::Open, ack, res, t("2026-11-21T22:00:00Z")).overdue);
        assert!(timing(State::Open, ack, res, t("2026-11-21T22:00:01Z")).overdue);
        assert!(!timing(State::Acknowledged, ack, res, t("2026-11-21T23:00:00Z")).overdue);
        assert!(timing(State::InProgress, ack, res, t("2026-11-23T00:00:00Z")).overdue);
        assert_eq!(
            timing(State::Resolved, ack, res, t("2026-12-30T00:00:00Z")),
            Timing {
                due_at: None,
                overdue: false
            }
        );
        assert!(Category::ALL.iter().all(|c| c.default_deadlines().ack_hours >= 1));
    }

    #[test]
    fn the_hotlines_stages_follow_our_states() {
        let filed = t("2026-11-21T20:00:00Z");
        let mut c = StageTimes {
            state: State::Open,
            created_at: filed,
            assigned_at: None,
            acknowledged_at: None,
            started_at: None,
            escalated_at: None,
            closed_at: None,
            followed_up_at: None,
        };
        let reached = |c: &StageTimes, now: DateTime<Utc>| -> Vec<Stage> {
            c.stages(now)
                .into_iter()
                .filter(|m| m.at.is_some())
                .map(|m| m.stage)
                .collect()
        };
        use Stage::*;
        assert_eq!(reached(&c, filed), vec![Accepted]);
        c.assigned_at = Some(t("2026-11-21T20:05:00Z"));
        c.state = State::Acknowledged;
        c.acknowledged_at = Some(t("2026-11-21T20:10:00Z"));
        c.escalated_at = Some(t("2026-11-22T09:00:00Z"));
        assert_eq!(reached(&c, filed), vec![Accepted, Transferred, Signed, Supervised]);
        // Resolved straight from acknowledged: it was handled; not closed for good until the
        // follow-up or the end of the time to reopen.
        let closed = t("2026-11-22T10:00:00Z");
        c.state = State::Resolved;
        c.closed_at = Some(closed);
        assert!(c.may_follow_up());
        assert_eq!(
            reached(&c, closed),
            vec![Accepted, Transferred, Signed, Handling, Supervised]
        );
        let later = closed + Duration::days(REOPEN_DAYS) + Duration::seconds(1);
        assert_eq!(reached(&c, later).last(), Some(&Closed));
        c.followed_up_at = Some(t("2026-11-23T10:00:00Z"));
        assert!(!c.may_follow_up());
        let all = c.stages(closed);
        assert_eq!(all.iter().map(|m| m.stage).collect::<Vec<_>>(), Stage::ALL.to_vec());
        assert!(all.iter().all(|m| m.at.is_some()));
        assert_eq!(all[6].at, c.followed_up_at);
        // Reopened and closed again: the earlier follow-up no longer counts.
        c.closed_at = Some(t("2026-11-25T10:00:00Z"));
        assert!(c.may_follow_up());
        assert_eq!(c.stages(t("2026-11-25T11:00:00Z"))[5].at, None);
        // Rejected while open: never signed or handled, but transferred and closed.
        let rejected = StageTimes {
            state: State::Rejected,
            closed_at: Some(closed),
            assigned_at: None,
            acknowledged_at: None,
            escalated_at: None,
            followed_up_at: Some(t("2026-11-22T11:00:00Z")),
            ..c
        };
        assert_eq!(
            reached(&rejected, closed),
            vec![Accepted, Transferred, FollowedUp, Closed]
        );
        assert_eq!(FollowUp::parse("satisfied"), Some(FollowUp::Satisfied));
        assert_eq!(FollowUp::parse("happy"), None);
    }

    #[test]
    fn gbt_codes_are_six_digits_with_a_main_class() {
        let c = GbtCode::parse("070201").unwrap();
        assert_eq!(c.classes(), ("07", "02", "01"));
        assert_eq!(c.to_string(), "070201");
        for bad in ["", "07020", "0702011", "07 02 01", "00xx01", "000201", "０７０２０１"] {
            assert_eq!(GbtCode::parse(bad), None, "{bad}");
        }
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"070201\"");
        assert!(serde_json::from_str::<GbtCode>("\"x\"").is_err());
    }

    #[test]
    fn tracking_numbers_name_their_tenant_and_are_unguessable() {
        let a = new_tracking("nanan", [1; 16]);
        let b = new_tracking("xi-hu", [2; 16]);
        assert_eq!(tenant_of_tracking(&a), Some("nanan"));
        assert_eq!(tenant_of_tracking(&b), Some("xi-hu"));
        assert_ne!(a, new_tracking("nanan", [3; 16]));
        for bad in [
            "nanan",
            "nanan-",
            "nanan-short",
            "Nanan-0123456789abcdefghjk",
            "nanan-0123456789abcdefghjl",
            "-0123456789abcdefghjk",
        ] {
            assert_eq!(tenant_of_tracking(bad), None, "{bad}");
        }
    }
}
