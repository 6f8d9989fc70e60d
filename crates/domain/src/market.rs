//! Markets and stall slots: what an admin may enter, checked once at the boundary.

use serde::{Deserialize, Serialize};

use super::geo::{Geofence, LatLng, RADIUS_RANGE_M};
use super::hours::OpeningHours;
use crate::msg::{FieldError, Msg};

/// Stall categories, as the market's slots are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Category {
    /// 餐饮
    Food,
    /// 零售
    Retail,
    /// 文创
    Culture,
    /// 游艺
    Games,
    /// 农特产品
    Produce,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Food,
        Category::Retail,
        Category::Culture,
        Category::Games,
        Category::Produce,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Food => "food",
            Category::Retail => "retail",
            Category::Culture => "culture",
            Category::Games => "games",
            Category::Produce => "produce",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }

    /// The locale key of the category's name.
    pub fn label_key(self) -> &'static str {
        match self {
            Category::Food => "category.food",
            Category::Retail => "category.retail",
            Category::Culture => "category.culture",
            Category::Games => "category.games",
            Category::Produce => "category.produce",
        }
    }
}

/// A slot code as painted on the ground: upper-case letters and digits in groups joined by
/// single hyphens, at most 16 characters. Input is trimmed and upper-cased.
pub fn parse_slot_code(text: &str) -> Option<String> {
    let code = text.trim().to_ascii_uppercase();
    let ok = !code.is_empty()
        && code.len() <= 16
        && code
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    ok.then_some(code)
}

/// A market as an admin typed it, before checking. Numbers are `None` when absent or unreadable
/// (the form layer has already reported unreadable numbers).
#[derive(Clone, Debug, Default)]
pub struct MarketDraft {
    pub name: String,
    pub address: String,
    pub description: String,
    pub center_lat: Option<f64>,
    pub center_lng: Option<f64>,
    pub radius_m: Option<i64>,
    pub opens_at: String,
    pub closes_at: String,
}

/// A market that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidMarket {
    pub name: String,
    pub address: String,
    pub description: String,
    pub fence: Geofence,
    pub hours: OpeningHours,
}

fn text_field(value: &str, field: &'static str, max: usize, required: bool, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim().to_string();
    if required && value.is_empty() {
        errors.push(FieldError::new(field, "form.required"));
    } else if value.chars().count() > max {
        errors.push(FieldError::with(field, Msg::new("form.too_long").arg("max", max)));
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(FieldError::new(field, "form.control_chars"));
    }
    value
}

impl MarketDraft {
    pub fn validate(&self) -> Result<ValidMarket, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = text_field(&self.name, "name", 100, true, &mut errors);
        let address = text_field(&self.address, "address", 200, true, &mut errors);
        let description = text_field(&self.description, "description", 1000, false, &mut errors);

        let center = match (self.center_lat, self.center_lng) {
            (Some(lat), Some(lng)) => {
                let c = LatLng::new(lat, lng);
                if c.is_none() {
                    errors.push(FieldError::new("center_lat", "market.position_out_of_range"));
                }
                c
            }
            (lat, lng) => {
                if lat.is_none() {
                    errors.push(FieldError::new("center_lat", "form.required_number"));
                }
                if lng.is_none() {
                    errors.push(FieldError::new("center_lng", "form.required_number"));
                }
                None
            }
        };
        let radius = match self.radius_m {
            Some(r) if RADIUS_RANGE_M.contains(&r) => u32::try_from(r).ok(),
            Some(_) => {
                errors.push(FieldError::with(
                    "radius_m",
                    Msg::new("market.radius_range")
                        .arg("min", RADIUS_RANGE_M.start())
                        .arg("max", RADIUS_RANGE_M.end()),
                ));
                None
            }
            None => {
                errors.push(FieldError::new("radius_m", "form.required_number"));
                None
            }
        };
        let hours = match OpeningHours::parse(&self.opens_at, &self.closes_at) {
            Ok(h) => Some(h),
            Err(e) => {
                errors.push(FieldError::new(e.field(), e.key()));
                None
            }
        };

        match (center, radius, hours) {
            (Some(center), Some(radius_m), Some(hours)) if errors.is_empty() => Ok(ValidMarket {
                name,
                address,
                description,
                fence: Geofence { center, radius_m },
                hours,
            }),
            _ => Err(errors),
        }
    }
}

/// A request to add a run of numbered slots: prefix A, 1 to 12 → A-01 … A-12.
#[derive(Clone, Debug)]
pub struct SlotRange {
    pub prefix: String,
    pub from: u32,
    pub to: u32,
}

/// At most this many slots are added in one go.
pub const MAX_SLOTS_PER_REQUEST: u32 = 200;

impl SlotRange {
    /// The codes of the range, or the problems with it.
    pub fn codes(&self) -> Result<Vec<String>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let prefix = self.prefix.trim().to_ascii_uppercase();
        if prefix.is_empty()
            || prefix.len() > 8
            || !prefix.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            errors.push(FieldError::new("prefix", "slot.prefix_invalid"));
        }
        if self.from == 0 || self.to < self.from {
            errors.push(FieldError::new("to", "slot.range_invalid"));
        } else if self.to - self.from + 1 > MAX_SLOTS_PER_REQUEST {
            errors.push(FieldError::with(
                "to",
                Msg::new("slot.range_too_long").arg("max", MAX_SLOTS_PER_REQUEST),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let width = self.to.to_string().len().max(2);
        let codes: Vec<String> = (self.from..=self.to).map(|n| format!("{prefix}-{n:0width$}")).collect();
        if codes.iter().any(|c| parse_slot_code(c).is_none()) {
            return Err(vec![FieldError::new("prefix", "slot.code_invalid")]);
        }
        Ok(codes)
    }
}

/// As stored (`food`, `retail`, …).
impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> MarketDraft {
        MarketDraft {
            name: "金辉铜元道数字化便民夜市".into(),
            address: "重庆市南岸区南滨路".into(),
            description: String::new(),
            center_lat: Some(29.548),
            center_lng: Some(106.581),
            radius_m: Some(300),
            opens_at: "18:00".into(),
            closes_at: "02:00".into(),
        }
    }

    fn fields(d: &MarketDraft) -> Vec<&'static str> {
        d.validate().err().unwrap_or_default().iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_draft_is_valid() {
        let m = draft().validate().unwrap();
        assert_eq!(m.fence.radius_m, 300);
        assert!(m.hours.crosses_midnight());
    }

    #[test]
    fn each_bad_field_is_named() {
        type Case = (fn(&mut MarketDraft), &'static str);
        let cases: Vec<Case> = vec![
            (|d| d.name = "   ".into(), "name"),
            (|d| d.name = "x".repeat(101), "name"),
            (|d| d.address = String::new(), "address"),
            (|d| d.description = "y".repeat(1001), "description"),
            (|d| d.name = "bad\u{0}name".into(), "name"),
            (|d| d.center_lat = None, "center_lat"),
            (|d| d.center_lng = None, "center_lng"),
            (|d| d.center_lat = Some(95.0), "center_lat"),
            (|d| d.radius_m = Some(0), "radius_m"),
            (|d| d.radius_m = Some(-5), "radius_m"),
            (|d| d.radius_m = Some(5001), "radius_m"),
            (|d| d.radius_m = None, "radius_m"),
            (|d| d.opens_at = "6pm".into(), "opens_at"),
            (|d| d.closes_at = "26:00".into(), "closes_at"),
            (|d| d.closes_at = "18:00".into(), "opens_at"),
        ];
        for (change, field) in cases {
            let mut d = draft();
            change(&mut d);
            assert_eq!(fields(&d), vec![field], "{d:?}");
        }
    }

    #[test]
    fn slot_codes() {
        assert_eq!(parse_slot_code(" a-01 ").as_deref(), Some("A-01"));
        assert_eq!(parse_slot_code("B12").as_deref(), Some("B12"));
        assert_eq!(parse_slot_code("C-1-2").as_deref(), Some("C-1-2"));
        for bad in ["", "-", "A--1", "A-", "-A", "A 1", "甲-01", "A_01", &"A".repeat(17)] {
            assert_eq!(parse_slot_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn slot_ranges_are_zero_padded() {
        let r = SlotRange {
            prefix: "a".into(),
            from: 1,
            to: 3,
        };
        assert_eq!(r.codes().unwrap(), vec!["A-01", "A-02", "A-03"]);
        let r = SlotRange {
            prefix: "B".into(),
            from: 99,
            to: 100,
        };
        assert_eq!(r.codes().unwrap(), vec!["B-099", "B-100"]);
    }

    #[test]
    fn bad_slot_ranges_are_refused() {
        for (prefix, from, to) in [
            ("", 1, 2),
            ("A-", 1, 2),
            ("A", 0, 2),
            ("A", 5, 4),
            ("A", 1, 201),
            ("ABCDEFGHI", 1, 2),
        ] {
            let r = SlotRange {
                prefix: prefix.into(),
                from,
                to,
            };
            assert!(r.codes().is_err(), "{prefix} {from} {to}");
        }
    }

    #[test]
    fn categories_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        assert_eq!(Category::parse("weapons"), None);
    }
}
