//! Ratios shown on dashboards, computed from integers and rounded half up (no floating point on
//! the way: a figure shown twice is the same figure).

/// `num ÷ den` with two decimals ("4.33"), or None when there is nothing to divide by.
pub fn fixed2(num: i64, den: i64) -> Option<String> {
    scaled(num, den, 100).map(|h| format!("{}.{:02}", h / 100, h % 100))
}

/// `part ÷ whole` as a percentage with one decimal ("87.5"), or None when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> Option<String> {
    scaled(part, whole, 1000).map(|t| format!("{}.{}", t / 10, t % 10))
}

/// A duration in seconds as hours with one decimal ("26.5").
pub fn hours(secs: i64) -> String {
    let tenths = scaled(secs.max(0), 3600, 10).unwrap_or(0);
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// `num × scale ÷ den`, rounded half up, for non-negative inputs.
fn scaled(num: i64, den: i64, scale: i128) -> Option<i128> {
    if den <= 0 || num < 0 {
        return None;
    }
    let (num, den) = (i128::from(num), i128::from(den));
    Some((num * scale * 2 + den) / (2 * den))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed2_rounds_half_up() {
        assert_eq!(fixed2(13, 3).as_deref(), Some("4.33"));
        assert_eq!(fixed2(2, 3).as_deref(), Some("0.67"));
        assert_eq!(fixed2(1, 8).as_deref(), Some("0.13"));
        assert_eq!(fixed2(5, 1).as_deref(), Some("5.00"));
        assert_eq!(fixed2(1, 0), None);
        assert_eq!(fixed2(-1, 2), None);
    }

    #[test]
    fn percent_has_one_decimal() {
        assert_eq!(percent(7, 8).as_deref(), Some("87.5"));
        assert_eq!(percent(1, 3).as_deref(), Some("33.3"));
        assert_eq!(percent(2, 3).as_deref(), Some("66.7"));
        assert_eq!(percent(0, 4).as_deref(), Some("0.0"));
        assert_eq!(percent(4, 4).as_deref(), Some("100.0"));
        assert_eq!(percent(0, 0), None);
    }

    #[test]
    fn hours_from_seconds() {
        assert_eq!(hours(0), "0.0");
        assert_eq!(hours(5400), "1.5");
        assert_eq!(hours(95_400), "26.5");
        assert_eq!(hours(179), "0.0");
        assert_eq!(hours(180), "0.1");
    }
}
