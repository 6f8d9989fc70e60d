//! The stall score (0–100): ratings with a tenant-wide prior, check-in attendance, upheld
//! complaints and inspection points. docs/SCORE.md explains it to people; the tests below are
//! its worked examples.

use serde::{Deserialize, Serialize};

/// Points each component is worth at best.
pub const RATINGS_MAX: f64 = 50.0;
pub const ATTENDANCE_MAX: f64 = 20.0;
pub const COMPLAINTS_MAX: f64 = 15.0;
pub const INSPECTIONS_MAX: f64 = 15.0;
/// What one upheld complaint costs, and one inspection penalty point.
pub const PER_UPHELD_COMPLAINT: f64 = 5.0;
pub const PER_PENALTY_POINT: f64 = 1.0;
/// The prior mean when a tenant has no ratings at all yet.
pub const DEFAULT_MEAN: f64 = 4.0;
/// Attendance looks at this many nights before tonight; complaints and inspections at this many days.
pub const ATTENDANCE_NIGHTS: i64 = 30;
pub const LOOKBACK_DAYS: i64 = 90;

/// What the score is computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inputs {
    /// The stall's ratings: how many, and their stars added up.
    pub rating_count: i64,
    pub rating_sum: i64,
    /// The mean of every rating in the tenant (None when there are none).
    pub tenant_mean: Option<f64>,
    /// How many ratings' worth of weight that mean carries.
    pub prior_weight: i64,
    /// Nights in the attendance window during which the stall held its code, and how many of
    /// them it checked in.
    pub nights: i64,
    pub checked_in: i64,
    /// Complaints resolved as upheld, and penalty points kept, in the lookback window.
    pub upheld_complaints: i64,
    pub penalty_points: i64,
}

/// The score and its parts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Score {
    /// 0–100, the sum of the four parts, rounded.
    pub score: i32,
    pub ratings: f64,
    pub attendance: f64,
    pub complaints: f64,
    pub inspections: f64,
    /// The stall's own average stars (None without ratings) and the weighted one the score uses.
    pub average: Option<f64>,
    pub weighted_average: f64,
    pub inputs: Inputs,
}

pub fn compute(i: Inputs) -> Score {
    let mean = i
        .tenant_mean
        .filter(|m| (1.0..=5.0).contains(m))
        .unwrap_or(DEFAULT_MEAN);
    let w = i.prior_weight.max(0) as f64;
    let n = i.rating_count.max(0) as f64;
    let sum = i.rating_sum.max(0) as f64;
    let weighted = if w + n > 0.0 { (w * mean + sum) / (w + n) } else { mean };
    let ratings = RATINGS_MAX * ((weighted - 1.0) / 4.0).clamp(0.0, 1.0);
    let attendance = if i.nights <= 0 {
        ATTENDANCE_MAX
    } else {
        ATTENDANCE_MAX * (i.checked_in.clamp(0, i.nights) as f64 / i.nights as f64)
    };
    let complaints = (COMPLAINTS_MAX - PER_UPHELD_COMPLAINT * i.upheld_complaints.max(0) as f64).max(0.0);
    let inspections = (INSPECTIONS_MAX - PER_PENALTY_POINT * i.penalty_points.max(0) as f64).max(0.0);
    let total = (ratings + attendance + complaints + inspections)
        .round()
        .clamp(0.0, 100.0) as i32;
    Score {
        score: total,
        ratings,
        attendance,
        complaints,
        inspections,
        average: (n > 0.0).then(|| sum / n),
        weighted_average: weighted,
        inputs: i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.005
    }

    #[test]
    fn a_new_stall_starts_from_the_tenant_mean_and_full_marks_elsewhere() {
        // weighted = mean 4.5 → ratings 50 × 3.5/4 = 43.75; 20 + 15 + 15 → 93.75 → 94
        let s = compute(Inputs {
            tenant_mean: Some(4.5),
            prior_weight: 10,
            ..Inputs::default()
        });
        assert!(close(s.ratings, 43.75));
        assert_eq!((s.attendance, s.complaints, s.inspections), (20.0, 15.0, 15.0));
        assert_eq!(s.score, 94);
        assert_eq!(s.average, None);
    }

    #[test]
    fn three_fives_do_not_beat_three_hundred_four_point_eights() {
        let few = compute(Inputs {
            rating_count: 3,
            rating_sum: 15,
            tenant_mean: Some(4.0),
            prior_weight: 10,
            ..Inputs::default()
        });
        let many = compute(Inputs {
            rating_count: 300,
            rating_sum: 1440,
            tenant_mean: Some(4.0),
            prior_weight: 10,
            ..Inputs::default()
        });
        // few: (10×4 + 15) / 13 = 4.2308 → 50 × 3.2308/4 = 40.38
        assert!(close(few.weighted_average, 55.0 / 13.0));
        assert!(close(few.ratings, 40.38));
        // many: (40 + 1440) / 310 = 4.7742 → 47.18
        assert!(close(many.ratings, 47.18));
        assert!(many.score > few.score);
        assert_eq!(few.average, Some(5.0));
    }

    #[test]
    fn attendance_complaints_and_points_take_their_share() {
        // 100 ratings of 4.0 with mean 4.0 → weighted 4.0 → 37.5; 21 of 30 nights → 14;
        // two upheld complaints → 15 − 10 = 5; 6 points → 9. Total 65.5 → 66.
        let s = compute(Inputs {
            rating_count: 100,
            rating_sum: 400,
            tenant_mean: Some(4.0),
            prior_weight: 10,
            nights: 30,
            checked_in: 21,
            upheld_complaints: 2,
            penalty_points: 6,
        });
        assert!(close(s.ratings, 37.5));
        assert!(close(s.attendance, 14.0));
        assert_eq!((s.complaints, s.inspections), (5.0, 9.0));
        assert_eq!(s.score, 66);
    }

    #[test]
    fn parts_never_go_below_zero_and_the_worst_is_zero() {
        let s = compute(Inputs {
            rating_count: 1000,
            rating_sum: 1000,
            tenant_mean: Some(1.0),
            prior_weight: 10,
            nights: 10,
            checked_in: 0,
            upheld_complaints: 9,
            penalty_points: 40,
        });
        assert_eq!(
            (s.ratings, s.attendance, s.complaints, s.inspections),
            (0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!(s.score, 0);
        // and the best is 100
        let best = compute(Inputs {
            rating_count: 50,
            rating_sum: 250,
            tenant_mean: Some(5.0),
            prior_weight: 1,
            ..Inputs::default()
        });
        assert_eq!(best.score, 100);
    }

    #[test]
    fn a_tenant_without_ratings_uses_the_default_mean() {
        let s = compute(Inputs {
            prior_weight: 10,
            ..Inputs::default()
        });
        assert!(close(s.weighted_average, DEFAULT_MEAN));
        assert!(close(s.ratings, 37.5));
        assert_eq!(s.score, 88);
    }
}
