//! An official's pages: the workspace, review, codes, inspections and nights, appeals and renewals, complaints and ratings, the numbers.

pub mod complaints;
pub mod numbers;
pub mod oversight;
pub mod patrol;
pub mod review;
pub mod wall;
pub mod workspace;
