//! A shopper: anonymous, known only by a device cookie (kept as a keyed hash, per tenant) and the
//! client address, which together carry the one-rating-a-night rule and the rate limits.

use std::net::IpAddr;

use crate::secrets::Keys;
use crate::secrets::random_base32;
use nightmarket_domain::tenant::TenantId;

/// The cookie that names a shopper's device (random; no personal data).
pub const DEVICE_COOKIE: &str = "nm_device";
const DEVICE_ID_LEN: usize = 25;

#[derive(Clone, Debug)]
pub struct Shopper {
    /// The keyed hash of the device id, as stored with ratings and complaints.
    pub device_hash: String,
    pub address: IpAddr,
}

impl Shopper {
    pub fn new(keys: &Keys, tenant: TenantId, device_id: &str, address: IpAddr) -> Shopper {
        Shopper {
            device_hash: device_hash(keys, tenant, device_id),
            address,
        }
    }
}

/// How a device is known at rest: a keyed hash of its cookie, per tenant.
pub fn device_hash(keys: &Keys, tenant: TenantId, device_id: &str) -> String {
    keys.blind_index(tenant, "device", device_id)
}

/// A fresh device id (125 random bits).
pub fn new_device_id() -> String {
    random_base32(DEVICE_ID_LEN)
}

/// Whether a cookie value looks like a device id this server made.
pub fn is_device_id(s: &str) -> bool {
    s.len() == DEVICE_ID_LEN && s.bytes().all(|b| nightmarket_domain::code::ALPHABET.contains(&b))
}
