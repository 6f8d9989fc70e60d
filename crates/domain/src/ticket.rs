//! Rating tickets: what the scan page hands a device so that it may rate the stall it scanned.
//!
//! A ticket is `{issued}.{nonce}.{mac}`: the Unix second it was issued, 64 random bits, and an
//! HMAC-SHA256 (first 128 bits) over the tenant, the code, the device's cookie id, the second and
//! the nonce. So it is bound to one stall and one device, expires, cannot be made without the
//! server's key, and (its nonce stored with the rating under a unique constraint) is spent once.
//! A script that never opened the scan page has none.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// How long after a scan its ticket may be used: a meal, a queue and a walk.
pub const TICKET_SECONDS: i64 = 3 * 60 * 60;
/// Clock skew between instances that a ticket's issue time may show.
const SKEW_SECONDS: i64 = 60;
const MAC_BYTES: usize = 16;

/// Why a ticket was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketError {
    /// None given, or not of the ticket's form.
    Missing,
    /// Made for another stall or device, or not by this server.
    Forged,
    /// Older than [`TICKET_SECONDS`].
    Expired,
}

fn mac(key: &[u8; 32], tenant: Uuid, code: Uuid, device: &str, issued: i64, nonce: &str) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(b"nightmarket:rating-ticket:v1\0");
    m.update(tenant.as_bytes());
    m.update(code.as_bytes());
    m.update(device.as_bytes());
    m.update(b"\0");
    m.update(&issued.to_be_bytes());
    m.update(nonce.as_bytes());
    m
}

/// A ticket for `device` to rate `code`, issued at `issued` (Unix seconds) with a random nonce
/// (16 hex digits, drawn by the caller).
pub fn issue(key: &[u8; 32], tenant: Uuid, code: Uuid, device: &str, issued: i64, nonce: &str) -> String {
    let tag = mac(key, tenant, code, device, issued, nonce).finalize().into_bytes();
    format!("{issued}.{nonce}.{}", hex::encode(&tag[..MAC_BYTES]))
}

/// Checks a ticket for `device` rating `code` at `now` (Unix seconds); its nonce when it holds.
pub fn verify<'a>(
    key: &[u8; 32],
    text: &'a str,
    tenant: Uuid,
    code: Uuid,
    device: &str,
    now: i64,
) -> Result<&'a str, TicketError> {
    let mut parts = text.trim().splitn(3, '.');
    let (Some(issued), Some(nonce), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TicketError::Missing);
    };
    let issued: i64 = issued.parse().map_err(|_| TicketError::Missing)?;
    let well_formed = nonce.len() == 16 && nonce.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    let tag = hex::decode(tag).map_err(|_| TicketError::Missing)?;
    if !well_formed || tag.len() != MAC_BYTES {
        return Err(TicketError::Missing);
    }
    mac(key, tenant, code, device, issued, nonce)
        .verify_truncated_left(&tag)
        .map_err(|_| TicketError::Forged)?;
    if issued > now + SKEW_SECONDS || now - issued > TICKET_SECONDS {
        return Err(TicketError::Expired);
    }
    Ok(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9; 32];
    const NONCE: &str = "0123456789abcdef";

    fn ids() -> (Uuid, Uuid) {
        (Uuid::from_u128(1), Uuid::from_u128(2))
    }

    #[test]
    fn a_ticket_holds_for_its_stall_and_device_until_it_expires() {
        let (t, c) = ids();
        let ticket = issue(&KEY, t, c, "DEVICE", 1_000, NONCE);
        assert_eq!(verify(&KEY, &ticket, t, c, "DEVICE", 1_000), Ok(NONCE));
        assert_eq!(verify(&KEY, &ticket, t, c, "DEVICE", 1_000 + TICKET_SECONDS), Ok(NONCE));
        assert_eq!(
            verify(&KEY, &ticket, t, c, "DEVICE", 1_001 + TICKET_SECONDS),
            Err(TicketError::Expired)
        );
        assert_eq!(
            verify(&KEY, &ticket, t, c, "DEVICE", 1_000 - 120),
            Err(TicketError::Expired)
        );
    }

    #[test]
    fn a_ticket_is_worth_nothing_for_another_stall_device_tenant_or_key() {
        let (t, c) = ids();
        let ticket = issue(&KEY, t, c, "DEVICE", 1_000, NONCE);
        assert_eq!(
            verify(&KEY, &ticket, t, Uuid::from_u128(3), "DEVICE", 1_000),
            Err(TicketError::Forged)
        );
        assert_eq!(verify(&KEY, &ticket, t, c, "OTHER", 1_000), Err(TicketError::Forged));
        assert_eq!(verify(&KEY, &ticket, c, c, "DEVICE", 1_000), Err(TicketError::Forged));
        assert_eq!(
            verify(&[8; 32], &ticket, t, c, "DEVICE", 1_000),
            Err(TicketError::Forged)
        );
        // A later issue time written over the signed one.
        let moved = ticket.replacen("1000.", "1500.", 1);
        assert_eq!(verify(&KEY, &moved, t, c, "DEVICE", 1_000), Err(TicketError::Forged));
    }

    #[test]
    fn what_is_not_a_ticket_is_missing() {
        let (t, c) = ids();
        for text in [
            "",
            "x",
            "1.2",
            "1.0123456789abcdef.zz",
            "a.0123456789abcdef.00",
            "1.0123456789ABCDEF.00",
        ] {
            assert_eq!(
                verify(&KEY, text, t, c, "DEVICE", 1),
                Err(TicketError::Missing),
                "{text:?}"
            );
        }
    }
}
