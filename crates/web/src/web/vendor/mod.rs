//! A vendor's pages: applications, stalls (check-in, renewals, appeals, disputes, answers), goods, payee, insights, credit records.

pub mod applications;
pub mod goods;
pub mod insights;
pub mod payee;
pub mod records;
pub mod stall;
