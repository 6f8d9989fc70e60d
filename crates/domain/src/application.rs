//! A vendor's application for a stall: its states and what a vendor must provide.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::geo::{Geofence, LatLng};
use super::identity::{ResidentId, parse_uscc};
use super::market::Category;
use super::people::Phone;
use crate::msg::{FieldError, Msg};

/// `draft → submitted → approved | rejected | returned → resubmitted → …`, and `withdrawn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AppState {
    Draft,
    Submitted,
    Returned,
    Resubmitted,
    Approved,
    Rejected,
    Withdrawn,
}

impl AppState {
    pub const ALL: [AppState; 7] = [
        AppState::Draft,
        AppState::Submitted,
        AppState::Returned,
        AppState::Resubmitted,
        AppState::Approved,
        AppState::Rejected,
        AppState::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Draft => "draft",
            AppState::Submitted => "submitted",
            AppState::Returned => "returned",
            AppState::Resubmitted => "resubmitted",
            AppState::Approved => "approved",
            AppState::Rejected => "rejected",
            AppState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<AppState> {
        AppState::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            AppState::Draft => "app_state.draft",
            AppState::Submitted => "app_state.submitted",
            AppState::Returned => "app_state.returned",
            AppState::Resubmitted => "app_state.resubmitted",
            AppState::Approved => "app_state.approved",
            AppState::Rejected => "app_state.rejected",
            AppState::Withdrawn => "app_state.withdrawn",
        }
    }

    /// Still in play: counts against "one open application per person per market".
    pub fn is_open(self) -> bool {
        matches!(
            self,
            AppState::Draft | AppState::Submitted | AppState::Returned | AppState::Resubmitted
        )
    }

    /// Waiting in the officials' queue.
    pub fn awaits_review(self) -> bool {
        matches!(self, AppState::Submitted | AppState::Resubmitted)
    }

    /// The vendor may change the details.
    pub fn editable(self) -> bool {
        matches!(self, AppState::Draft | AppState::Returned)
    }

    /// Where submitting leads from here, if anywhere.
    pub fn on_submit(self) -> Option<AppState> {
        match self {
            AppState::Draft => Some(AppState::Submitted),
            AppState::Returned => Some(AppState::Resubmitted),
            _ => None,
        }
    }

    pub fn can_withdraw(self) -> bool {
        self.is_open()
    }
}

/// An official's decision on an application waiting for review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    /// Back to the vendor for correction, with notes per field.
    Return,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            "return" => Some(Decision::Return),
            _ => None,
        }
    }

    pub fn target(self) -> AppState {
        match self {
            Decision::Approve => AppState::Approved,
            Decision::Reject => AppState::Rejected,
            Decision::Return => AppState::Returned,
        }
    }
}

/// Fields an official may annotate when returning an application.
pub const FIELDS: [&str; 13] = [
    "stall_name",
    "category",
    "goods",
    "real_name",
    "id_number",
    "phone",
    "uscc",
    "food_licence_no",
    "food_licence_expires",
    "health_cert_no",
    "health_cert_expires",
    "documents",
    "position",
];

/// How far from the market an applying phone may plausibly be.
pub const MAX_DISTANCE_M: f64 = 50_000.0;

/// An application as a vendor typed it.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationInput {
    /// The stall's name as shoppers will see it, e.g. 张记烤苕皮.
    #[serde(default)]
    pub stall_name: String,
    /// food, retail, culture, games or produce
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub goods: String,
    #[serde(default)]
    pub real_name: String,
    /// Resident ID number (18 characters, GB 11643).
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    /// Unified social credit code (optional, GB 32100).
    #[serde(default)]
    pub uscc: String,
    #[serde(default)]
    pub food_licence_no: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub food_licence_expires: String,
    #[serde(default)]
    pub health_cert_no: String,
    /// YYYY-MM-DD
    #[serde(default)]
    pub health_cert_expires: String,
}

/// A licence or certificate: number and expiry date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Licence {
    pub number: String,
    pub expires: NaiveDate,
}

/// What passed the checks. Optional parts are `None` when not given (allowed in drafts).
#[derive(Clone, Debug)]
pub struct ValidApplication {
    pub stall_name: String,
    pub category: Category,
    pub goods: String,
    pub real_name: Option<String>,
    pub id_number: Option<ResidentId>,
    pub phone: Option<Phone>,
    pub uscc: Option<String>,
    pub food_licence: Option<Licence>,
    pub health_cert: Option<Licence>,
}

fn parse_name(text: &str) -> Result<String, &'static str> {
    let name = text.trim();
    let n = name.chars().count();
    if !(2..=20).contains(&n) {
        return Err("application.name_length");
    }
    if !name
        .chars()
        .all(|c| c.is_alphabetic() || c == '·' || c == ' ' || c == '•')
    {
        return Err("application.name_characters");
    }
    Ok(name.to_string())
}

fn parse_licence_number(text: &str) -> Option<String> {
    let n = text.trim().to_ascii_uppercase();
    let ok = (4..=40).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(n)
}

impl ApplicationInput {
    /// Checks what was typed. A draft may leave things out; a submission (`complete`) needs
    /// everything, and for food stalls a food licence and health certificate that have not expired
    /// by `today`.
    pub fn validate(&self, today: NaiveDate, complete: bool) -> Result<ValidApplication, Vec<FieldError>> {
        let mut errors = Vec::new();
        let need = |value: &str, field: &'static str, errors: &mut Vec<FieldError>| {
            if complete && value.trim().is_empty() {
                errors.push(FieldError::new(field, "form.required"));
                false
            } else {
                !value.trim().is_empty()
            }
        };

        let stall_name = self.stall_name.trim().to_string();
        if need(&stall_name, "stall_name", &mut errors) && stall_name.chars().count() > 40 {
            errors.push(FieldError::with("stall_name", Msg::new("form.too_long").arg("max", 40)));
        }
        let category = Category::parse(&self.category);
        if category.is_none() {
            errors.push(FieldError::new("category", "slot.category_invalid"));
        }
        let goods = self.goods.trim().to_string();
        if need(&goods, "goods", &mut errors) && goods.chars().count() > 500 {
            errors.push(FieldError::with("goods", Msg::new("form.too_long").arg("max", 500)));
        }

        let real_name = if need(&self.real_name, "real_name", &mut errors) {
            parse_name(&self.real_name)
                .map_err(|k| errors.push(FieldError::new("real_name", k)))
                .ok()
        } else {
            None
        };
        let id_number = if need(&self.id_number, "id_number", &mut errors) {
            ResidentId::parse(&self.id_number, today)
                .map_err(|e| errors.push(FieldError::new("id_number", e.key())))
                .ok()
        } else {
            None
        };
        let phone = if need(&self.phone, "phone", &mut errors) {
            let p = Phone::parse(&self.phone);
            if p.is_none() {
                errors.push(FieldError::new("phone", "phone.invalid"));
            }
            p
        } else {
            None
        };
        let uscc = if self.uscc.trim().is_empty() {
            None
        } else {
            parse_uscc(&self.uscc)
                .map_err(|e| errors.push(FieldError::new("uscc", e.key())))
                .ok()
        };

        let is_food = category == Some(Category::Food);
        let licence =
            |number: &str, expires: &str, nf: &'static str, ef: &'static str, errors: &mut Vec<FieldError>| {
                let required = complete && is_food;
                let number = number.trim();
                let expires = expires.trim();
                if number.is_empty() && expires.is_empty() {
                    if required {
                        errors.push(FieldError::new(nf, "application.food_requires"));
                    }
                    return None;
                }
                let n = parse_licence_number(number);
                if n.is_none() {
                    errors.push(FieldError::new(nf, "application.licence_number"));
                }
                let e = NaiveDate::parse_from_str(expires, "%Y-%m-%d").ok();
                match e {
                    None => errors.push(FieldError::new(ef, "application.date_format")),
                    Some(d) if d < today => {
                        errors.push(FieldError::with(ef, Msg::new("application.expired").arg("date", d)));
                    }
                    _ => {}
                }
                Some(Licence {
                    number: n?,
                    expires: e.filter(|d| *d >= today)?,
                })
            };
        let food_licence = licence(
            &self.food_licence_no,
            &self.food_licence_expires,
            "food_licence_no",
            "food_licence_expires",
            &mut errors,
        );
        let health_cert = licence(
            &self.health_cert_no,
            &self.health_cert_expires,
            "health_cert_no",
            "health_cert_expires",
            &mut errors,
        );

        match category {
            Some(category) if errors.is_empty() => Ok(ValidApplication {
                stall_name,
                category,
                goods,
                real_name,
                id_number,
                phone,
                uscc,
                food_licence,
                health_cert,
            }),
            _ => Err(errors),
        }
    }
}

/// Where the applying phone was: checked for sense and for distance from the market.
pub fn check_position(
    lat: Option<f64>,
    lng: Option<f64>,
    accuracy_m: Option<f64>,
    market: &Geofence,
) -> Result<(LatLng, f64, Option<f64>), FieldError> {
    let (Some(lat), Some(lng)) = (lat, lng) else {
        return Err(FieldError::new("position", "application.position_required"));
    };
    let point = LatLng::new(lat, lng).ok_or_else(|| FieldError::new("position", "market.position_out_of_range"))?;
    let accuracy = accuracy_m.filter(|a| a.is_finite() && *a >= 0.0);
    let distance = market.center.distance_m(point);
    if distance > MAX_DISTANCE_M {
        let km = format!("{:.0}", distance / 1000.0);
        return Err(FieldError::with(
            "position",
            Msg::new("application.position_too_far").arg("km", km),
        ));
    }
    Ok((point, distance, accuracy))
}

/// Checks an official's notes for a return: known fields, at least one, each short.
pub fn check_return_notes(notes: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, FieldError> {
    let cleaned: BTreeMap<String, String> = notes
        .iter()
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if cleaned.is_empty() {
        return Err(FieldError::new("notes", "decision.notes_required"));
    }
    if let Some((field, _)) = cleaned.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
        return Err(FieldError::with(
            "notes",
            Msg::new("decision.notes_unknown_field").arg("field", field),
        ));
    }
    if cleaned.values().any(|v| v.chars().count() > 200) {
        return Err(FieldError::with("notes", Msg::new("form.too_long").arg("max", 200)));
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::resident_id_check_char;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn id() -> String {
        let first = "50010819880615123";
        format!("{first}{}", resident_id_check_char(first.as_bytes()).unwrap())
    }

    fn food() -> ApplicationInput {
        ApplicationInput {
            stall_name: "张记烤苕皮".into(),
            category: "food".into(),
            goods: "烤苕皮、烤豆干".into(),
            real_name: "张三".into(),
            id_number: id(),
            phone: "13812345678".into(),
            uscc: String::new(),
            food_licence_no: "JY15001080012345".into(),
            food_licence_expires: "2027-06-30".into(),
            health_cert_no: "JK2026-0098".into(),
            health_cert_expires: "2027-01-31".into(),
        }
    }

    fn failing_fields(input: &ApplicationInput, complete: bool) -> Vec<&'static str> {
        input
            .validate(today(), complete)
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_complete_food_application_is_valid() {
        let v = food().validate(today(), true).unwrap();
        assert_eq!(v.category, Category::Food);
        assert_eq!(
            v.food_licence.unwrap().expires,
            NaiveDate::from_ymd_opt(2027, 6, 30).unwrap()
        );
    }

    #[test]
    fn each_problem_names_its_field() {
        type Case = (fn(&mut ApplicationInput), &'static str);
        let cases: Vec<Case> = vec![
            (|a| a.stall_name = String::new(), "stall_name"),
            (|a| a.stall_name = "摊".repeat(41), "stall_name"),
            (|a| a.category = "weapons".into(), "category"),
            (|a| a.goods = " ".into(), "goods"),
            (|a| a.real_name = "张".into(), "real_name"),
            (|a| a.real_name = "张3".into(), "real_name"),
            (|a| a.id_number = "500108198806151230".into(), "id_number"),
            (|a| a.phone = "12345".into(), "phone"),
            (|a| a.uscc = "91350100M000100Y44".into(), "uscc"),
            (|a| a.food_licence_no = String::new(), "food_licence_no"),
            (|a| a.food_licence_expires = "2026-11-20".into(), "food_licence_expires"),
            (|a| a.health_cert_expires = "31/01/2027".into(), "health_cert_expires"),
            (|a| a.health_cert_no = "?".into(), "health_cert_no"),
        ];
        for (change, field) in cases {
            let mut a = food();
            change(&mut a);
            let fields = failing_fields(&a, true);
            assert!(fields.contains(&field), "{field}: {fields:?}");
        }
    }

    #[test]
    fn a_licence_expiring_today_is_still_valid() {
        let mut a = food();
        a.health_cert_expires = "2026-11-21".into();
        assert!(a.validate(today(), true).is_ok());
    }

    #[test]
    fn a_draft_may_be_incomplete_but_not_wrong() {
        let draft = ApplicationInput {
            category: "retail".into(),
            ..Default::default()
        };
        assert!(draft.validate(today(), false).is_ok());
        assert!(draft.validate(today(), true).is_err());
        let wrong = ApplicationInput {
            category: "retail".into(),
            id_number: "123".into(),
            ..Default::default()
        };
        assert_eq!(failing_fields(&wrong, false), vec!["id_number"]);
    }

    #[test]
    fn licences_are_only_required_of_food_stalls() {
        let mut a = food();
        a.category = "retail".into();
        a.food_licence_no = String::new();
        a.food_licence_expires = String::new();
        a.health_cert_no = String::new();
        a.health_cert_expires = String::new();
        assert!(a.validate(today(), true).is_ok());
    }

    #[test]
    fn state_transitions() {
        assert_eq!(AppState::Draft.on_submit(), Some(AppState::Submitted));
        assert_eq!(AppState::Returned.on_submit(), Some(AppState::Resubmitted));
        assert_eq!(AppState::Submitted.on_submit(), None);
        assert!(AppState::Resubmitted.awaits_review() && !AppState::Returned.awaits_review());
        assert!(!AppState::Approved.can_withdraw() && AppState::Returned.can_withdraw());
        for s in AppState::ALL {
            assert_eq!(AppState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn positions_far_from_the_market_are_refused_with_the_distance() {
        let fence = Geofence {
            center: LatLng {
                lat: 29.548,
                lng: 106.581,
            },
            radius_m: 300,
        };
        assert!(check_position(Some(29.55), Some(106.58), Some(20.0), &fence).is_ok());
        // Chengdu is about 270 km away.
        let err = check_position(Some(30.66), Some(104.06), None, &fence).unwrap_err();
        assert_eq!(err.field, "position");
        assert_eq!(err.msg.key(), "application.position_too_far");
        let distance = err.msg.arg_value("km").unwrap_or_default();
        assert!(distance.starts_with("27"), "{err:?}");
        assert!(check_position(None, Some(1.0), None, &fence).is_err());
        assert!(check_position(Some(99.0), Some(1.0), None, &fence).is_err());
    }

    #[test]
    fn return_notes_need_a_known_field() {
        let ok = BTreeMap::from([
            ("id_number".to_string(), "照片模糊".to_string()),
            ("goods".into(), " ".into()),
        ]);
        assert_eq!(check_return_notes(&ok).unwrap().len(), 1);
        assert!(check_return_notes(&BTreeMap::new()).is_err());
        assert!(check_return_notes(&BTreeMap::from([("password".into(), "x".into())])).is_err());
    }
}
