//! Who may act, and how often: password hashing, the session tokens of staff and of shoppers,
//! and the throttles that hold across instances. The HTTP layer reads tokens from requests and
//! asks these to check them; sign-in and voucher sign-in issue them.

pub mod password;
pub mod session;
pub mod shopper;
pub mod throttle;
