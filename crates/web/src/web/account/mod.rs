//! Signing in and out, changing a password, and the vendor's sign-up and password reset by SMS code.

pub mod session;
pub mod signup;
