//! A vendor's pages: applications, stalls (check-in, renewals, appeals, disputes, answers), goods, payee, insights, credit records.

pub mod applications;
pub mod goods;
pub mod insights;
pub mod payee;
pub mod records;
pub mod stall;

/// The position the browser filled in (see static/geo.js), for submitting an application from
/// the stall and for checking in; a blank or unreadable number is no position.
#[derive(serde::Deserialize)]
pub struct PositionForm {
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lng: String,
    #[serde(default)]
    accuracy: String,
}

impl PositionForm {
    pub fn lat(&self) -> Option<f64> {
        number(&self.lat)
    }

    pub fn lng(&self) -> Option<f64> {
        number(&self.lng)
    }

    pub fn accuracy(&self) -> Option<f64> {
        number(&self.accuracy)
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}
