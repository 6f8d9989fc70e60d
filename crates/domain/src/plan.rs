//! A market's plan: the street as a grid of cells, each slot a rectangle on it, landmarks as
//! labelled marks on single cells. What an admin lays out is checked here as a whole: everything
//! inside the grid, no two slots on the same cell, no landmark on a slot.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::RangeInclusive;

use crate::msg::{FieldError, Msg};

/// Columns and rows a plan may have.
pub const GRID_RANGE: RangeInclusive<u16> = 4..=120;
/// A slot's width and height, in cells.
pub const SIDE_RANGE: RangeInclusive<u16> = 1..=20;
/// Landmarks a plan may carry.
pub const MAX_LANDMARKS: usize = 60;
/// Characters a landmark's label may have.
pub const MAX_LABEL: usize = 40;

/// A slot's place: cells from the top-left corner, and its size in cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rect {
    pub x: u16,
    pub y: u16,
    pub w: u16,
    pub h: u16,
}

impl Rect {
    fn right(self) -> u32 {
        u32::from(self.x) + u32::from(self.w)
    }

    fn bottom(self) -> u32 {
        u32::from(self.y) + u32::from(self.h)
    }

    pub fn overlaps(self, other: Rect) -> bool {
        u32::from(self.x) < other.right()
            && u32::from(other.x) < self.right()
            && u32::from(self.y) < other.bottom()
            && u32::from(other.y) < self.bottom()
    }

    pub fn contains(self, x: u16, y: u16) -> bool {
        x >= self.x && u32::from(x) < self.right() && y >= self.y && u32::from(y) < self.bottom()
    }
}

/// What a landmark marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum LandmarkKind {
    /// 入口
    Entrance,
    /// 出口
    Exit,
    /// 公厕
    Toilet,
    /// 服务台
    ServiceDesk,
    /// 医疗点
    FirstAid,
    /// 停车场
    Parking,
    /// 其他（以名称为准）
    Other,
}

impl LandmarkKind {
    pub const ALL: [LandmarkKind; 7] = [
        LandmarkKind::Entrance,
        LandmarkKind::Exit,
        LandmarkKind::Toilet,
        LandmarkKind::ServiceDesk,
        LandmarkKind::FirstAid,
        LandmarkKind::Parking,
        LandmarkKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LandmarkKind::Entrance => "entrance",
            LandmarkKind::Exit => "exit",
            LandmarkKind::Toilet => "toilet",
            LandmarkKind::ServiceDesk => "service_desk",
            LandmarkKind::FirstAid => "first_aid",
            LandmarkKind::Parking => "parking",
            LandmarkKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<LandmarkKind> {
        LandmarkKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// The locale key of the kind's name.
    pub fn label_key(self) -> &'static str {
        match self {
            LandmarkKind::Entrance => "landmark.entrance",
            LandmarkKind::Exit => "landmark.exit",
            LandmarkKind::Toilet => "landmark.toilet",
            LandmarkKind::ServiceDesk => "landmark.service_desk",
            LandmarkKind::FirstAid => "landmark.first_aid",
            LandmarkKind::Parking => "landmark.parking",
            LandmarkKind::Other => "landmark.other",
        }
    }

    /// A letter drawn in the mark, so the kind is never told by a shape or colour alone.
    pub fn glyph(self) -> &'static str {
        match self {
            LandmarkKind::Entrance => "入",
            LandmarkKind::Exit => "出",
            LandmarkKind::Toilet => "WC",
            LandmarkKind::ServiceDesk => "i",
            LandmarkKind::FirstAid => "+",
            LandmarkKind::Parking => "P",
            LandmarkKind::Other => "•",
        }
    }
}

/// A landmark as checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Landmark {
    pub kind: LandmarkKind,
    pub label: String,
    pub x: u16,
    pub y: u16,
}

/// A landmark as typed: the kind's name, a label, a cell.
#[derive(Clone, Debug, Default)]
pub struct LandmarkDraft {
    pub kind: String,
    pub label: String,
    pub x: Option<i64>,
    pub y: Option<i64>,
}

/// A plan as an admin sent it: the grid, a place for each slot that is placed (by slot code), and
/// the landmarks. Numbers are `None` where they were absent or unreadable.
#[derive(Clone, Debug, Default)]
pub struct PlanDraft {
    pub columns: Option<i64>,
    pub rows: Option<i64>,
    pub slots: Vec<(String, Option<[i64; 4]>)>,
    pub landmarks: Vec<LandmarkDraft>,
}

/// A plan that passed every check. `slots` lists only the placed ones, by code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidPlan {
    pub columns: u16,
    pub rows: u16,
    pub slots: Vec<(String, Rect)>,
    pub landmarks: Vec<Landmark>,
}

fn within(value: i64, range: RangeInclusive<u16>) -> Option<u16> {
    u16::try_from(value).ok().filter(|v| range.contains(v))
}

impl PlanDraft {
    /// Checks the plan against the market's slot codes (`known`): every code known and given
    /// once, every rectangle inside the grid and apart from the others, every landmark inside the
    /// grid and off the slots.
    pub fn validate(&self, known: &[String]) -> Result<ValidPlan, Vec<FieldError>> {
        let mut errors = Vec::new();
        let range = |f: &'static str| {
            FieldError::with(
                f,
                Msg::new("plan.grid_range")
                    .arg("min", GRID_RANGE.start())
                    .arg("max", GRID_RANGE.end()),
            )
        };
        let columns = match self.columns {
            None => {
                errors.push(FieldError::new("columns", "form.required_number"));
                None
            }
            Some(c) => within(c, GRID_RANGE).or_else(|| {
                errors.push(range("columns"));
                None
            }),
        };
        let rows = match self.rows {
            None => {
                errors.push(FieldError::new("rows", "form.required_number"));
                None
            }
            Some(r) => within(r, GRID_RANGE).or_else(|| {
                errors.push(range("rows"));
                None
            }),
        };

        let mut placed: Vec<(String, Rect)> = Vec::new();
        let mut seen = HashSet::new();
        for (code, place) in &self.slots {
            let Some(code) = crate::market::parse_slot_code(code).filter(|c| known.contains(c)) else {
                errors.push(FieldError::with(
                    "slots",
                    Msg::new("plan.slot_unknown").arg("code", code.trim()),
                ));
                continue;
            };
            if !seen.insert(code.clone()) {
                errors.push(FieldError::with(
                    "slots",
                    Msg::new("plan.slot_twice").arg("code", &code),
                ));
                continue;
            }
            let Some([x, y, w, h]) = *place else { continue };
            let rect = match (
                u16::try_from(x),
                u16::try_from(y),
                within(w, SIDE_RANGE),
                within(h, SIDE_RANGE),
            ) {
                (Ok(x), Ok(y), Some(w), Some(h)) => Rect { x, y, w, h },
                _ => {
                    errors.push(FieldError::with(
                        "slots",
                        Msg::new("plan.slot_size")
                            .arg("code", &code)
                            .arg("max", SIDE_RANGE.end()),
                    ));
                    continue;
                }
            };
            if let (Some(c), Some(r)) = (columns, rows)
                && (rect.right() > u32::from(c) || rect.bottom() > u32::from(r))
            {
                errors.push(FieldError::with(
                    "slots",
                    Msg::new("plan.slot_outside").arg("code", &code),
                ));
                continue;
            }
            if let Some((other, _)) = placed.iter().find(|(_, r)| r.overlaps(rect)) {
                errors.push(FieldError::with(
                    "slots",
                    Msg::new("plan.slot_overlap").arg("code", &code).arg("other", other),
                ));
                continue;
            }
            placed.push((code, rect));
        }

        if self.landmarks.len() > MAX_LANDMARKS {
            errors.push(FieldError::with(
                "landmarks",
                Msg::new("plan.landmarks_too_many").arg("max", MAX_LANDMARKS),
            ));
        }
        let mut landmarks = Vec::new();
        for (i, l) in self.landmarks.iter().enumerate() {
            let n = i + 1;
            let Some(kind) = LandmarkKind::parse(&l.kind) else {
                errors.push(FieldError::with(
                    "landmarks",
                    Msg::new("plan.landmark_kind").arg("n", n),
                ));
                continue;
            };
            let label = l.label.trim().to_string();
            if label.chars().count() > MAX_LABEL || label.chars().any(char::is_control) {
                errors.push(FieldError::with(
                    "landmarks",
                    Msg::new("plan.landmark_label").arg("n", n).arg("max", MAX_LABEL),
                ));
                continue;
            }
            if kind == LandmarkKind::Other && label.is_empty() {
                errors.push(FieldError::with(
                    "landmarks",
                    Msg::new("plan.landmark_needs_label").arg("n", n),
                ));
                continue;
            }
            let cell = match (l.x.map(u16::try_from), l.y.map(u16::try_from)) {
                (Some(Ok(x)), Some(Ok(y))) => (x, y),
                _ => {
                    errors.push(FieldError::with(
                        "landmarks",
                        Msg::new("plan.landmark_outside").arg("n", n),
                    ));
                    continue;
                }
            };
            if let (Some(c), Some(r)) = (columns, rows)
                && (cell.0 >= c || cell.1 >= r)
            {
                errors.push(FieldError::with(
                    "landmarks",
                    Msg::new("plan.landmark_outside").arg("n", n),
                ));
                continue;
            }
            if let Some((code, _)) = placed.iter().find(|(_, r)| r.contains(cell.0, cell.1)) {
                errors.push(FieldError::with(
                    "landmarks",
                    Msg::new("plan.landmark_on_slot").arg("n", n).arg("code", code),
                ));
                continue;
            }
            landmarks.push(Landmark {
                kind,
                label,
                x: cell.0,
                y: cell.1,
            });
        }

        match (columns, rows) {
            (Some(columns), Some(rows)) if errors.is_empty() => Ok(ValidPlan {
                columns,
                rows,
                slots: placed,
                landmarks,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["A-01", "A-02", "A-03"].iter().map(|s| s.to_string()).collect()
    }

    fn draft(slots: &[(&str, Option<[i64; 4]>)]) -> PlanDraft {
        PlanDraft {
            columns: Some(10),
            rows: Some(6),
            slots: slots.iter().map(|(c, p)| (c.to_string(), *p)).collect(),
            landmarks: Vec::new(),
        }
    }

    fn keys(errors: Vec<FieldError>) -> Vec<&'static str> {
        errors.iter().map(|e| e.msg.key()).collect()
    }

    #[test]
    fn slots_side_by_side_are_a_plan() {
        let plan = draft(&[
            ("a-01", Some([0, 0, 2, 2])),
            ("A-02", Some([2, 0, 2, 2])),
            ("A-03", None),
        ])
        .validate(&known())
        .unwrap();
        assert_eq!(plan.slots.len(), 2, "an unplaced slot is simply not on the plan");
        assert_eq!(plan.slots[0], ("A-01".into(), Rect { x: 0, y: 0, w: 2, h: 2 }));
    }

    #[test]
    fn overlapping_outside_unknown_and_repeated_slots_are_refused() {
        let e = draft(&[("A-01", Some([0, 0, 3, 2])), ("A-02", Some([2, 1, 2, 2]))]).validate(&known());
        assert_eq!(keys(e.unwrap_err()), ["plan.slot_overlap"]);
        let e = draft(&[("A-01", Some([9, 0, 2, 1]))]).validate(&known());
        assert_eq!(keys(e.unwrap_err()), ["plan.slot_outside"]);
        let e = draft(&[("A-01", Some([0, 0, 0, 1])), ("A-02", Some([-1, 0, 1, 1]))]).validate(&known());
        assert_eq!(keys(e.unwrap_err()), ["plan.slot_size", "plan.slot_size"]);
        let e = draft(&[("Z-09", Some([0, 0, 1, 1])), ("A-01", None), ("a-01", None)]).validate(&known());
        assert_eq!(keys(e.unwrap_err()), ["plan.slot_unknown", "plan.slot_twice"]);
    }

    #[test]
    fn the_grid_has_bounds() {
        let mut d = draft(&[]);
        d.columns = Some(3);
        d.rows = None;
        assert_eq!(
            keys(d.validate(&known()).unwrap_err()),
            ["plan.grid_range", "form.required_number"]
        );
    }

    #[test]
    fn landmarks_sit_inside_the_grid_and_off_the_slots() {
        let mut d = draft(&[("A-01", Some([0, 0, 2, 2]))]);
        d.landmarks = vec![
            LandmarkDraft {
                kind: "entrance".into(),
                label: "北入口".into(),
                x: Some(5),
                y: Some(0),
            },
            LandmarkDraft {
                kind: "toilet".into(),
                label: String::new(),
                x: Some(1),
                y: Some(1),
            },
            LandmarkDraft {
                kind: "fountain".into(),
                label: String::new(),
                x: Some(3),
                y: Some(3),
            },
            LandmarkDraft {
                kind: "other".into(),
                label: String::new(),
                x: Some(3),
                y: Some(3),
            },
            LandmarkDraft {
                kind: "parking".into(),
                label: String::new(),
                x: Some(10),
                y: Some(0),
            },
        ];
        assert_eq!(
            keys(d.validate(&known()).unwrap_err()),
            [
                "plan.landmark_on_slot",
                "plan.landmark_kind",
                "plan.landmark_needs_label",
                "plan.landmark_outside"
            ]
        );
        d.landmarks.truncate(1);
        let plan = d.validate(&known()).unwrap();
        assert_eq!(plan.landmarks[0].kind, LandmarkKind::Entrance);
        assert_eq!(plan.landmarks[0].label, "北入口");
    }

    #[test]
    fn rectangles_touching_at_an_edge_do_not_overlap() {
        let a = Rect { x: 0, y: 0, w: 2, h: 2 };
        assert!(!a.overlaps(Rect { x: 2, y: 0, w: 1, h: 1 }));
        assert!(!a.overlaps(Rect { x: 0, y: 2, w: 1, h: 1 }));
        assert!(a.overlaps(Rect { x: 1, y: 1, w: 5, h: 5 }));
        assert!(a.contains(1, 1) && !a.contains(2, 1));
    }
}
