//! Checks for fuzzing: each takes arbitrary bytes, runs one of the platform's parsers or
//! validators on them, and panics if it misbehaves — disagrees with a second, straightforward
//! implementation written from the standard (not from the code it checks), breaks a round trip,
//! or panics itself. `fuzz/` runs them under cargo-fuzz for as long as one likes; the unit tests
//! below run each on a few thousand random and well-formed inputs in every `cargo test`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::{code_url as code, credential, form, geo, hours, identity, phone, record_code as record};

/// The day the checks take as today (birth dates after it are refused).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default()
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// GB 11643 resident ID numbers, against a reference that derives the weights (2^(17-i) mod 11)
/// and the check character ((12 - sum mod 11) mod 11, 10 = X) as the standard states them.
pub fn resident_id(data: &[u8]) {
    let input = text(data);
    let ours = identity::ResidentId::parse(&input, today());
    let reference = reference_resident_id(&input);
    assert_eq!(
        ours.as_ref().ok().map(|id| id.as_str().to_string()),
        reference,
        "resident ID {input:?}"
    );
    if let Ok(id) = ours {
        let masked = id.masked();
        assert_eq!(masked.chars().count(), 18);
        assert!(masked.contains("**********"), "{masked}");
    }
}

fn reference_resident_id(input: &str) -> Option<String> {
    let id: String = input
        .trim()
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return None;
    }
    let digits: Vec<u32> = chars[..17].iter().map(|c| c.to_digit(10)).collect::<Option<_>>()?;
    if !chars[..17].iter().all(char::is_ascii_digit) {
        return None;
    }
    let provinces = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62,
        63, 64, 65, 71, 81, 82, 83,
    ];
    if !provinces.contains(&(digits[0] * 10 + digits[1])) {
        return None;
    }
    if digits[2..6] == [0, 0, 0, 0] {
        return None;
    }
    let year = digits[6..10].iter().fold(0, |n, d| n * 10 + d) as i32;
    let month = digits[10] * 10 + digits[11];
    let day = digits[12] * 10 + digits[13];
    let birth = NaiveDate::from_ymd_opt(year, month, day)?;
    if year < 1900 || birth > today() {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| d * (2u32.pow(17 - i as u32) % 11))
        .sum();
    let check = (12 - sum % 11) % 11;
    let expected = if check == 10 { 'X' } else { char::from_digit(check, 10)? };
    (chars[17] == expected).then_some(id)
}

/// GB 32100 unified social credit codes, against a reference with the weights derived as
/// 3^i mod 31 and the check character 31 - (sum mod 31) (31 meaning 0).
pub fn uscc(data: &[u8]) {
    let input = text(data);
    let ours = identity::parse_uscc(&input).ok();
    assert_eq!(ours, reference_uscc(&input), "USCC {input:?}");
}

fn reference_uscc(input: &str) -> Option<String> {
    const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let code = input.trim().to_ascii_uppercase();
    let values: Vec<u32> = code
        .chars()
        .map(|c| ALPHABET.find(c).map(|p| p as u32))
        .collect::<Option<_>>()?;
    if values.len() != 18 {
        return None;
    }
    let sum: u32 = values[..17]
        .iter()
        .enumerate()
        .map(|(i, v)| v * (3u32.pow(i as u32 % 30) % 31))
        .sum();
    let check = (31 - sum % 31) % 31;
    (values[17] == check).then_some(code)
}

/// Mainland mobile numbers: 11 digits starting 13–19 (not the 140–144 data-only blocks), with an
/// optional +86 / 0086 and spaces or dashes anywhere.
pub fn phone(data: &[u8]) {
    let input = text(data);
    let ours = phone::Phone::parse(&input);
    let reference = reference_phone(&input);
    assert_eq!(
        ours.as_ref().map(|p| p.as_str().to_string()),
        reference,
        "phone {input:?}"
    );
    if let Some(p) = ours {
        let masked = p.masked();
        assert_eq!(masked.len(), 11);
        assert_eq!(&masked[3..7], "****");
        // What is stored parses back to itself.
        assert_eq!(
            phone::Phone::parse(p.as_str()).map(|q| q.as_str().to_string()),
            Some(p.as_str().to_string())
        );
    }
}

fn reference_phone(input: &str) -> Option<String> {
    let compact: String = input.trim().chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let rest = if let Some(r) = compact.strip_prefix("+86") {
        r
    } else if let Some(r) = compact.strip_prefix("0086") {
        r
    } else {
        &compact
    };
    let digits: Vec<u32> = rest.chars().map(|c| c.to_digit(10)).collect::<Option<_>>()?;
    if digits.len() != 11 || !rest.is_ascii() || digits[0] != 1 || digits[1] < 3 {
        return None;
    }
    if digits[1] == 4 && digits[2] <= 4 {
        return None;
    }
    Some(rest.to_string())
}

/// Opening hours and business nights: parsing "HH:MM", being open at a time, and which night a
/// moment belongs to, against the plain definitions.
pub fn opening_hours(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let minute = |hi: u8, lo: u8| u32::from(u16::from_le_bytes([hi, lo]) % 1440);
    let (o, c, t) = (
        minute(data[0], data[1]),
        minute(data[2], data[3]),
        minute(data[4], data[5]),
    );
    let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let parsed = hours::OpeningHours::parse(&hm(o), &hm(c));
    if o == c {
        assert!(parsed.is_err(), "equal opening and closing times are refused");
        return;
    }
    let Ok(h) = parsed else {
        panic!("{} – {} refused", hm(o), hm(c));
    };
    let time = NaiveTime::from_hms_opt(t / 60, t % 60, 0).unwrap_or_default();
    let open = if o < c { o <= t && t < c } else { t >= o || t < c };
    assert_eq!(h.is_open_at(time), open, "{}–{} at {}", hm(o), hm(c), hm(t));
    let day = i64::from(u16::from_le_bytes([data[6], data[7]]));
    let date = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default() + chrono::Duration::days(day);
    let night = h.business_date(NaiveDateTime::new(date, time));
    let expected = if c < o && t < c {
        date.pred_opt().unwrap_or(date)
    } else {
        date
    };
    assert_eq!(night, expected, "{}–{} at {} on {date}", hm(o), hm(c), hm(t));
    // Text round trip of the times.
    assert_eq!(hours::parse_time(&hm(o)).map(|x| x.hour() * 60 + x.minute()), Some(o));
    // Free text never panics.
    let _ = hours::parse_time(&text(data));
}

/// The geofence: positions in range, distances that behave like distances.
pub fn geofence(data: &[u8]) {
    if data.len() < 40 {
        return;
    }
    let f = |i: usize| f64::from_le_bytes(data[i..i + 8].try_into().unwrap_or([0; 8]));
    let (lat1, lng1, lat2, lng2, acc) = (f(0), f(8), f(16), f(24), f(32));
    let a = geo::LatLng::new(lat1, lng1);
    assert_eq!(
        a.is_some(),
        lat1.is_finite() && lng1.is_finite() && lat1.abs() <= 90.0 && lng1.abs() <= 180.0
    );
    let (Some(a), Some(b)) = (a, geo::LatLng::new(lat2, lng2)) else {
        return;
    };
    let d = a.distance_m(b);
    assert!(d.is_finite() && d >= 0.0, "{d}");
    assert!(
        d <= std::f64::consts::PI * 6_371_008.8 + 1.0,
        "no further than half the earth: {d}"
    );
    assert!((d - b.distance_m(a)).abs() < 1e-6 * d.max(1.0), "symmetric");
    assert!(a.distance_m(a) < 1e-6, "zero to itself");
    let fence = geo::Geofence {
        center: a,
        radius_m: 300,
    };
    let out = fence.outside_by_m(b, acc);
    assert!(out.is_finite() && out >= 0.0);
    if d <= 300.0 {
        assert_eq!(out, 0.0, "inside the fence");
    }
    // A worse accuracy never puts a position further outside.
    assert!(fence.outside_by_m(b, 1000.0) <= fence.outside_by_m(b, 0.0));
}

/// Signed code URLs: never panics, and what it accepts prints back to a URL that parses to the
/// same code, key and signature.
pub fn code_url(data: &[u8]) {
    let input = text(data);
    if let Some(parsed) = code::parse_code_url(&input) {
        assert!(code::is_code(&parsed.code));
        assert_eq!(parsed.signature.len(), 64);
        let path = code::code_path(&parsed.code, &parsed.kid, &code::encode_signature(&parsed.signature));
        assert_eq!(code::parse_code_url(&path), Some(parsed.clone()), "{input:?}");
        assert_eq!(
            code::parse_code_url(&format!("https://example.org{path}")),
            Some(parsed),
            "with a host"
        );
    }
}

/// Credit-record verification codes as typed: what is accepted shows and reads back the same.
pub fn record_code(data: &[u8]) {
    let input = text(data);
    if let Some((slug, code)) = record::parse_code(&input) {
        assert_eq!(code.len(), record::CODE_LEN);
        let shown = record::display_code(&slug, &code);
        assert_eq!(record::parse_code(&shown), Some((slug, code)), "{input:?}");
    }
}

/// The Open311 form parser: pairs read from a body and a query string re-encode to the same pairs.
pub fn open311_form(data: &[u8]) {
    let split = data.first().map(|b| usize::from(*b)).unwrap_or(0).min(data.len());
    let (query, body) = data.split_at(split);
    let query = String::from_utf8_lossy(query);
    let pairs = form::fields(Some(&query), body);
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter())
        .finish();
    assert_eq!(form::fields(None, encoded.as_bytes()), pairs);
}

/// Credential events: the JSON parser never panics, and the HMAC check accepts exactly the
/// signature the sender's formula gives.
pub fn credential_event(data: &[u8]) {
    let _ = serde_json::from_slice::<credential::CredentialEvent>(data);
    let split = data.first().map(|b| usize::from(*b)).unwrap_or(0).min(data.len());
    let (head, body) = data.split_at(split);
    let (secret, timestamp) = head.split_at(head.len() / 2);
    let (secret, timestamp) = (String::from_utf8_lossy(secret), String::from_utf8_lossy(timestamp));
    let good = credential::signature(&secret, &timestamp, body);
    assert!(credential::signature_ok(&secret, &timestamp, body, &good));
    let mut bad = good.clone().into_bytes();
    if let Some(first) = bad.first_mut() {
        *first = if *first == b'0' { b'1' } else { b'0' };
    }
    assert!(!credential::signature_ok(
        &secret,
        &timestamp,
        body,
        &String::from_utf8_lossy(&bad)
    ));
    assert!(!credential::signature_ok(&secret, &timestamp, body, &text(body)) || text(body) == good);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    type Check = fn(&[u8]);

    /// A few thousand random inputs each, from a fixed seed (so a failure repeats).
    fn run(check: Check, make: impl Fn(&mut rand::rngs::StdRng) -> Vec<u8>) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5EED);
        for _ in 0..3000 {
            let input = make(&mut rng);
            check(&input);
        }
    }

    fn random_bytes(rng: &mut rand::rngs::StdRng) -> Vec<u8> {
        let n = rng.random_range(0..64);
        (0..n).map(|_| rng.random()).collect()
    }

    fn digits(rng: &mut rand::rngs::StdRng, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
    }

    #[test]
    fn resident_ids_agree_with_the_reference() {
        run(resident_id, random_bytes);
        // Well-formed ones: a real area, a real date, every check character.
        run(resident_id, |rng| {
            let year = rng.random_range(1890..2030);
            let s = format!(
                "5001{}{year}{:02}{:02}{}{}",
                digits(rng, 2),
                rng.random_range(1..13),
                rng.random_range(1..32),
                digits(rng, 3),
                ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "x"][rng.random_range(0..12)]
            );
            s.into_bytes()
        });
    }

    #[test]
    fn usccs_agree_with_the_reference() {
        run(uscc, random_bytes);
        run(uscc, |rng| {
            const A: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
            (0..18).map(|_| A[rng.random_range(0..A.len())]).collect()
        });
        // Known good codes from the standard's examples.
        uscc(b"91350100M000100Y43");
    }

    #[test]
    fn phones_agree_with_the_reference() {
        run(phone, random_bytes);
        run(phone, |rng| {
            let prefix = ["", "+86", "0086", " +86 "][rng.random_range(0..4)];
            let mut n = format!("1{}", digits(rng, 10));
            if rng.random_bool(0.3) {
                n.insert(3, '-');
            }
            format!("{prefix}{n}").into_bytes()
        });
    }

    #[test]
    fn opening_hours_follow_their_definition() {
        run(opening_hours, |rng| (0..8).map(|_| rng.random()).collect());
    }

    #[test]
    fn geofence_distances_behave() {
        run(geofence, |rng| {
            let mut out = Vec::new();
            for _ in 0..5 {
                let v: f64 = if rng.random_bool(0.1) {
                    f64::from_bits(rng.random())
                } else {
                    rng.random_range(-200.0..200.0)
                };
                out.extend_from_slice(&v.to_le_bytes());
            }
            out
        });
    }

    #[test]
    fn code_urls_round_trip() {
        run(code_url, random_bytes);
        run(code_url, |rng| {
            let sig: Vec<u8> = (0..64).map(|_| rng.random()).collect();
            let fresh: String = (0..code::CODE_LEN)
                .map(|_| char::from(code::ALPHABET[rng.random_range(0..32)]))
                .collect();
            let path = code::code_path(
                &fresh,
                &format!("nanan-{}", rng.random_range(1..9)),
                &code::encode_signature(&sig),
            );
            let mut b = path.into_bytes();
            if rng.random_bool(0.5) && !b.is_empty() {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            b
        });
    }

    #[test]
    fn record_codes_round_trip() {
        run(record_code, random_bytes);
        run(record_code, |rng| {
            let fresh: String = (0..record::CODE_LEN)
                .map(|_| char::from(record::ALPHABET[rng.random_range(0..32)]))
                .collect();
            let mut s = record::display_code("nanan", &fresh);
            if rng.random_bool(0.5) {
                s = s
                    .to_lowercase()
                    .replace('-', if rng.random_bool(0.5) { " " } else { "" });
                s.insert(5, '-');
            }
            s.into_bytes()
        });
    }

    #[test]
    fn open311_forms_round_trip() {
        run(open311_form, random_bytes);
        open311_form(b"\x05a=1&bapi_key=k&attribute%5Bcode%5D=x&description=%E6%B1%A4");
    }

    #[test]
    fn credential_event_signatures_check() {
        run(credential_event, random_bytes);
        credential_event(br#"{"event_id":"e1","vendor_id":"00000000-0000-0000-0000-000000000000","credential":"health","status":"invalid","occurred_at":"2026-11-20T10:00:00Z"}"#);
    }
}
