//! Positions on the earth and the circular geofence of a market.

use serde::{Deserialize, Serialize};

/// Mean earth radius in metres (IUGG), the usual constant for haversine distances.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 position in degrees, as browsers' geolocation reports it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

impl LatLng {
    /// A position, if both coordinates are finite and in range.
    pub fn new(lat: f64, lng: f64) -> Option<LatLng> {
        let ok = lat.is_finite() && lng.is_finite() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng);
        ok.then_some(LatLng { lat, lng })
    }

    /// Great-circle distance in metres (haversine; error well under 0.5 % at market scale).
    pub fn distance_m(self, other: LatLng) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = (other.lat - self.lat).to_radians();
        let dl = (other.lng - self.lng).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }
}

/// A market's area: a circle around a centre.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Geofence {
    pub center: LatLng,
    pub radius_m: u32,
}

/// Smallest and largest radius a market may have, in metres.
pub const RADIUS_RANGE_M: std::ops::RangeInclusive<i64> = 10..=5000;

impl Geofence {
    /// How far `point` lies outside the fence, in metres (0 when inside). A position reported with
    /// an accuracy of `accuracy_m` may be that much closer than it looks, so that is allowed for.
    pub fn outside_by_m(&self, point: LatLng, accuracy_m: f64) -> f64 {
        let slack = if accuracy_m.is_finite() {
            accuracy_m.max(0.0)
        } else {
            0.0
        };
        (self.center.distance_m(point) - f64::from(self.radius_m) - slack).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 金辉铜元道 on 南滨路, Chongqing, and 解放碑 across the river.
    const JINHUI: LatLng = LatLng {
        lat: 29.548_41,
        lng: 106.581_03,
    };
    const JIEFANGBEI: LatLng = LatLng {
        lat: 29.557_12,
        lng: 106.577_05,
    };

    #[test]
    fn distance_between_known_points() {
        // About 1.04 km apart (checked against a map).
        let d = JINHUI.distance_m(JIEFANGBEI);
        assert!((1000.0..1100.0).contains(&d), "{d}");
        assert_eq!(JINHUI.distance_m(JINHUI), 0.0);
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = LatLng { lat: 0.0, lng: 0.0 }.distance_m(LatLng { lat: 1.0, lng: 0.0 });
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
    }

    #[test]
    fn positions_out_of_range_are_refused() {
        assert!(LatLng::new(91.0, 0.0).is_none());
        assert!(LatLng::new(0.0, -180.5).is_none());
        assert!(LatLng::new(f64::NAN, 0.0).is_none());
        assert!(LatLng::new(29.5, 106.5).is_some());
    }

    #[test]
    fn accuracy_widens_the_fence() {
        let fence = Geofence {
            center: JINHUI,
            radius_m: 300,
        };
        let far = JIEFANGBEI; // ~1040 m away
        let outside = fence.outside_by_m(far, 0.0);
        assert!((700.0..800.0).contains(&outside), "{outside}");
        assert_eq!(fence.outside_by_m(far, 2000.0), 0.0);
        assert_eq!(fence.outside_by_m(JINHUI, 0.0), 0.0);
        assert_eq!(fence.outside_by_m(far, f64::NAN), outside);
    }
}
