//! A stall lottery anyone can check: a deterministic draw from a published list of entries and a
//! seed nobody could choose alone. The server draws with this code and `nightmarket lottery
//! verify` re-draws with the same code from the published JSON, so both agree byte for byte.
//!
//! The procedure (version 1), in words a vendor can follow:
//!
//! 1. Before the draw the platform publishes the list of entries (entry number, category,
//!    priority group, masked name) and two hashes: `list_hash`, SHA-256 of the list in its
//!    canonical form ([`list_bytes`]); and `commitment`, SHA-256 of the tenant's secret value.
//! 2. At the draw a public value is entered that nobody knew in advance (the figures two
//!    officials type in at the public draw, or a named lottery's result of a named date). The
//!    seed is SHA-256 of `nightmarket-lottery-v1`, the list hash, the tenant's value and the public
//!    value, each followed by a newline. The tenant's value is published with the result, so
//!    anyone can check it against the commitment.
//! 3. Every entry gets a ticket: SHA-256 of the seed and its entry number (decimal). Entries are
//!    ranked by ticket, lowest first (entry number breaks a tie).
//! 4. Per category, in the order of the priority groups: a group's share of the category's
//!    slots (rounded down, at most what is left) goes to that group's entries in rank order. What
//!    is left then goes to every entry not yet drawn, any group, in rank order.
//! 5. Everyone not drawn forms the waitlist of their category, in rank order.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::market::Category;
use crate::msg::{FieldError, Msg};

pub const VERSION: &str = "nightmarket-lottery-v1";

/// A priority group: low-income households, district residents, vendors displaced last round…
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    /// 1, 2, …: the order groups are served in.
    pub position: u8,
    pub name: String,
    /// Share of each category's slots reserved for the group, in percent (100: all it can take).
    pub share_percent: u8,
}

/// An entry as published: no personal data beyond a masked name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entry {
    /// The public number of the entry (1, 2, …), unique in the round.
    pub number: u32,
    pub category: Category,
    /// The priority group's position; None for the general pool.
    pub group: Option<u8>,
    /// As the scan pages mask names: 张*.
    pub name_masked: String,
}

/// What a category's draw gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryResult {
    pub category: Category,
    pub slots: u32,
    /// Entry numbers drawn, in rank order, each with the group it was drawn for (None: the
    /// general pool).
    pub drawn: Vec<Drawn>,
    /// Entry numbers not drawn, in rank order: who gets the next freed slot.
    pub waitlist: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drawn {
    pub number: u32,
    pub for_group: Option<u8>,
}

/// A round as published: everything the draw needs, and after it, what it gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Published {
    pub version: String,
    pub round: uuid::Uuid,
    pub title: String,
    /// Slots on offer per category.
    pub offer: BTreeMap<Category, u32>,
    pub groups: Vec<Group>,
    pub entries: Vec<Entry>,
    /// SHA-256 (hex) of the list's canonical form.
    pub list_hash: String,
    /// SHA-256 (hex) of the tenant's value, published before the draw.
    pub commitment: String,
    /// Published with the result.
    pub tenant_value: Option<String>,
    /// Entered at the draw.
    pub public_value: Option<String>,
    /// SHA-256 (hex) of the version, the list hash and both values.
    pub seed: Option<String>,
    pub result: Option<Vec<CategoryResult>>,
}

/// The list in the form its hash is taken of: one line per entry, in entry-number order,
/// `number|category|group|name` (group empty for the general pool).
pub fn list_bytes(entries: &[Entry]) -> Vec<u8> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.number);
    let mut out = Vec::new();
    for e in sorted {
        let group = e.group.map(|g| g.to_string()).unwrap_or_default();
        out.extend_from_slice(format!("{}|{}|{}|{}\n", e.number, e.category.as_str(), group, e.name_masked).as_bytes());
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn list_hash(entries: &[Entry]) -> String {
    sha256_hex(&list_bytes(entries))
}

pub fn commitment(tenant_value: &str) -> String {
    sha256_hex(tenant_value.as_bytes())
}

pub fn seed(list_hash: &str, tenant_value: &str, public_value: &str) -> String {
    let mut h = Sha256::new();
    for part in [VERSION, list_hash, tenant_value, public_value] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

fn ticket(seed: &str, number: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update(b"\n");
    h.update(number.to_string().as_bytes());
    h.finalize().into()
}

/// The draw itself: what each category of `offer` gives, from the list and the seed.
pub fn draw(offer: &BTreeMap<Category, u32>, groups: &[Group], entries: &[Entry], seed: &str) -> Vec<CategoryResult> {
    let mut ranked: Vec<(&Entry, [u8; 32])> = entries.iter().map(|e| (e, ticket(seed, e.number))).collect();
    ranked.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.number.cmp(&b.0.number)));
    let mut order: Vec<&Group> = groups.iter().collect();
    order.sort_by_key(|g| g.position);
    offer
        .iter()
        .map(|(&category, &slots)| {
            let mut pool: Vec<&Entry> = ranked
                .iter()
                .filter(|(e, _)| e.category == category)
                .map(|(e, _)| *e)
                .collect();
            let mut drawn = Vec::new();
            let mut left = slots;
            for g in &order {
                let reserved = (u64::from(slots) * u64::from(g.share_percent.min(100)) / 100) as u32;
                let mut take = reserved.min(left);
                pool.retain(|e| {
                    if take > 0 && e.group == Some(g.position) {
                        drawn.push(Drawn {
                            number: e.number,
                            for_group: Some(g.position),
                        });
                        take -= 1;
                        left -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
            let general = (left as usize).min(pool.len());
            drawn.extend(pool.drain(..general).map(|e| Drawn {
                number: e.number,
                for_group: None,
            }));
            CategoryResult {
                category,
                slots,
                drawn,
                waitlist: pool.iter().map(|e| e.number).collect(),
            }
        })
        .collect()
}

/// Where a published round does not hold up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    Version(String),
    ListHash {
        published: String,
        computed: String,
    },
    NotDrawn,
    Commitment {
        published: String,
        computed: String,
    },
    Seed {
        published: String,
        computed: String,
    },
    Result {
        at: String,
        published: String,
        computed: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Version(v) => write!(f, "unknown procedure {v:?} (this verifier knows {VERSION})"),
            Mismatch::ListHash { published, computed } => {
                write!(
                    f,
                    "the list does not match its hash: published {published}, the list hashes to {computed}"
                )
            }
            Mismatch::NotDrawn => write!(f, "the round has not been drawn: no values, seed or result to check"),
            Mismatch::Commitment { published, computed } => write!(
                f,
                "the tenant's value does not match the commitment published before the draw: committed {published}, the value hashes to {computed}"
            ),
            Mismatch::Seed { published, computed } => {
                write!(f, "the seed differs: published {published}, computed {computed}")
            }
            Mismatch::Result {
                at,
                published,
                computed,
            } => {
                write!(
                    f,
                    "the result differs at {at}: published {published}, re-drawn {computed}"
                )
            }
        }
    }
}

/// Re-draws a published round and compares every part: Ok with the re-drawn result (identical,
/// byte for byte, to the published one), or the first place they differ.
pub fn verify(p: &Published) -> Result<Vec<CategoryResult>, Mismatch> {
    if p.version != VERSION {
        return Err(Mismatch::Version(p.version.clone()));
    }
    let computed = list_hash(&p.entries);
    if computed != p.list_hash {
        return Err(Mismatch::ListHash {
            published: p.list_hash.clone(),
            computed,
        });
    }
    let (Some(tenant_value), Some(public_value), Some(seed_published), Some(result)) =
        (&p.tenant_value, &p.public_value, &p.seed, &p.result)
    else {
        return Err(Mismatch::NotDrawn);
    };
    let committed = commitment(tenant_value);
    if committed != p.commitment {
        return Err(Mismatch::Commitment {
            published: p.commitment.clone(),
            computed: committed,
        });
    }
    let seed_computed = seed(&p.list_hash, tenant_value, public_value);
    if &seed_computed != seed_published {
        return Err(Mismatch::Seed {
            published: seed_published.clone(),
            computed: seed_computed,
        });
    }
    let redrawn = draw(&p.offer, &p.groups, &p.entries, &seed_computed);
    let show = |v: &serde_json::Value| v.to_string();
    let a = serde_json::to_value(result).unwrap_or_default();
    let b = serde_json::to_value(&redrawn).unwrap_or_default();
    if a != b {
        let at = first_difference(&a, &b, String::from("result"));
        let pick = |v: &serde_json::Value| pointer(v, &at).map(show).unwrap_or_else(|| "nothing".into());
        return Err(Mismatch::Result {
            published: pick(&a),
            computed: pick(&b),
            at,
        });
    }
    Ok(redrawn)
}

/// The path (`result[0].drawn[2].number`) of the first place two values differ.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: String) -> String {
    use serde_json::Value;
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                match (x.get(i), y.get(i)) {
                    (Some(p), Some(q)) if p == q => continue,
                    (Some(p), Some(q)) => return first_difference(p, q, format!("{at}[{i}]")),
                    _ => return format!("{at}[{i}]"),
                }
            }
            at
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, p) in x {
                match y.get(k) {
                    Some(q) if p == q => continue,
                    Some(q) => return first_difference(p, q, format!("{at}.{k}")),
                    None => return format!("{at}.{k}"),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{at}.{k}"))
                .unwrap_or(at)
        }
        _ => at,
    }
}

fn pointer<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut cur = v;
    let rest = path.strip_prefix("result")?;
    let mut chars = rest;
    while !chars.is_empty() {
        if let Some(r) = chars.strip_prefix('[') {
            let end = r.find(']')?;
            cur = cur.get(r[..end].parse::<usize>().ok()?)?;
            chars = &r[end + 1..];
        } else if let Some(r) = chars.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?;
            chars = &r[end..];
        } else {
            return None;
        }
    }
    Some(cur)
}

/// At most this many priority groups in a round.
pub const MAX_GROUPS: usize = 5;

/// A round as an admin typed it. Dates are local calendar dates in the tenant's zone: entries
/// open at the start of `entries_from` and close at the end of `entries_until`.
#[derive(Clone, Debug, Default)]
pub struct RoundDraft {
    pub title: String,
    pub entries_from: String,
    pub entries_until: String,
    pub term_months: Option<i64>,
    pub previous_winners_may_enter: bool,
    /// (category, slots) as typed; a category left blank or at 0 is not offered.
    pub offer: Vec<(String, Option<i64>)>,
    /// (name, share in percent) in serving order; rows with a blank name are skipped.
    pub groups: Vec<(String, Option<i64>)>,
}

/// A round that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidRound {
    pub title: String,
    pub entries_from: chrono::DateTime<chrono::Utc>,
    pub entries_until: chrono::DateTime<chrono::Utc>,
    pub term_months: i32,
    pub previous_winners_may_enter: bool,
    pub offer: BTreeMap<Category, u32>,
    pub groups: Vec<Group>,
}

fn local_start(date: chrono::NaiveDate, tz: chrono_tz::Tz) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl RoundDraft {
    pub fn validate(&self, tz: chrono_tz::Tz) -> Result<ValidRound, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = self.title.trim().to_string();
        if title.is_empty() {
            errors.push(FieldError::new("title", "form.required"));
        } else if title.chars().count() > 100 || title.chars().any(char::is_control) {
            errors.push(FieldError::with("title", Msg::new("form.too_long").arg("max", 100)));
        }
        let date = |text: &str, field: &'static str, errors: &mut Vec<FieldError>| {
            let parsed = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
            if parsed.is_none() {
                errors.push(FieldError::new(field, "application.date_format"));
            }
            parsed
        };
        let from = date(&self.entries_from, "entries_from", &mut errors);
        let until = date(&self.entries_until, "entries_until", &mut errors);
        let window = match (from, until) {
            (Some(f), Some(u)) if u < f => {
                errors.push(FieldError::new("entries_until", "lottery.window_backwards"));
                None
            }
            (Some(f), Some(u)) => match (local_start(f, tz), u.succ_opt().and_then(|n| local_start(n, tz))) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => {
                    errors.push(FieldError::new("entries_from", "application.date_format"));
                    None
                }
            },
            _ => None,
        };
        let term = match self.term_months {
            Some(t @ 1..=36) => i32::try_from(t).ok(),
            Some(_) => {
                errors.push(FieldError::with(
                    "term_months",
                    Msg::new("lottery.term_range").arg("max", 36),
                ));
                None
            }
            None => {
                errors.push(FieldError::new("term_months", "form.required_number"));
                None
            }
        };
        let mut offer = BTreeMap::new();
        for (category, slots) in &self.offer {
            let Some(n) = slots.filter(|n| *n != 0) else { continue };
            let Some(c) = Category::parse(category) else {
                errors.push(FieldError::new("offer", "slot.category_invalid"));
                continue;
            };
            match u32::try_from(n) {
                Ok(n) if n <= 1000 && !offer.contains_key(&c) => {
                    offer.insert(c, n);
                }
                _ => errors.push(FieldError::new("offer", "lottery.offer_invalid")),
            }
        }
        if offer.is_empty() && !errors.iter().any(|e| e.field == "offer") {
            errors.push(FieldError::new("offer", "lottery.offer_none"));
        }
        let mut groups = Vec::new();
        for (name, share) in &self.groups {
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let position = groups.len() + 1;
            if name.chars().count() > 40 || name.chars().any(char::is_control) {
                errors.push(FieldError::with(
                    "groups",
                    Msg::new("lottery.group_name").arg("n", position),
                ));
                continue;
            }
            match share
                .and_then(|s| u8::try_from(s).ok())
                .filter(|s| (1..=100).contains(s))
            {
                Some(share_percent) => groups.push(Group {
                    position: position as u8,
                    name: name.to_string(),
                    share_percent,
                }),
                None => errors.push(FieldError::with(
                    "groups",
                    Msg::new("lottery.group_share").arg("n", position),
                )),
            }
        }
        if groups.len() > MAX_GROUPS {
            errors.push(FieldError::with(
                "groups",
                Msg::new("lottery.groups_too_many").arg("max", MAX_GROUPS),
            ));
        }
        match (window, term) {
            (Some((entries_from, entries_until)), Some(term_months)) if errors.is_empty() => Ok(ValidRound {
                title,
                entries_from,
                entries_until,
                term_months,
                previous_winners_may_enter: self.previous_winners_may_enter,
                offer,
                groups,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        (1..=20)
            .map(|n| Entry {
                number: n,
                category: if n % 4 == 0 { Category::Retail } else { Category::Food },
                group: match n % 5 {
                    0 => Some(1),
                    1 => Some(2),
                    _ => None,
                },
                name_masked: format!("摊{n}*"),
            })
            .collect()
    }

    fn groups() -> Vec<Group> {
        vec![
            Group {
                position: 1,
                name: "低收入家庭".into(),
                share_percent: 40,
            },
            Group {
                position: 2,
                name: "本区居民".into(),
                share_percent: 20,
            },
        ]
    }

    fn offer() -> BTreeMap<Category, u32> {
        BTreeMap::from([(Category::Food, 5), (Category::Retail, 2)])
    }

    fn published() -> Published {
        let entries = entries();
        let list_hash = list_hash(&entries);
        let tenant_value = "c0ffee".to_string();
        let public_value = "福彩3D 2027001: 4 7 1".to_string();
        let seed = seed(&list_hash, &tenant_value, &public_value);
        let result = draw(&offer(), &groups(), &entries, &seed);
        Published {
            version: VERSION.into(),
            round: uuid::Uuid::nil(),
            title: "2027年1月".into(),
            offer: offer(),
            groups: groups(),
            entries,
            list_hash,
            commitment: commitment(&tenant_value),
            tenant_value: Some(tenant_value),
            public_value: Some(public_value),
            seed: Some(seed),
            result: Some(result),
        }
    }

    #[test]
    fn the_same_inputs_always_give_the_same_draw_whatever_the_list_order() {
        let p = published();
        let mut shuffled = p.entries.clone();
        shuffled.reverse();
        let seed = p.seed.clone().unwrap();
        assert_eq!(draw(&p.offer, &p.groups, &shuffled, &seed), p.result.clone().unwrap());
        assert_eq!(list_hash(&shuffled), p.list_hash);
        assert_eq!(verify(&p), Ok(p.result.unwrap()));
    }

    #[test]
    fn every_slot_is_given_once_and_the_rest_wait_in_rank_order() {
        let p = published();
        let result = p.result.unwrap();
        let food = &result[0];
        assert_eq!(food.category, Category::Food);
        assert_eq!(food.drawn.len(), 5);
        let food_entries = p.entries.iter().filter(|e| e.category == Category::Food).count();
        assert_eq!(food.drawn.len() + food.waitlist.len(), food_entries);
        let mut all: Vec<u32> = food
            .drawn
            .iter()
            .map(|d| d.number)
            .chain(food.waitlist.clone())
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), food_entries, "nobody drawn twice or lost");
    }

    #[test]
    fn priority_groups_get_their_share_first() {
        let p = published();
        let food = &p.result.unwrap()[0];
        // 40% of 5 = 2 for group 1, 20% of 5 = 1 for group 2, both have enough entrants.
        assert_eq!(food.drawn.iter().filter(|d| d.for_group == Some(1)).count(), 2);
        assert_eq!(food.drawn.iter().filter(|d| d.for_group == Some(2)).count(), 1);
        assert!(food.drawn[..2].iter().all(|d| d.for_group == Some(1)));
        // A group with all the share and order: strict priority.
        let strict = vec![Group {
            position: 1,
            name: "x".into(),
            share_percent: 100,
        }];
        let r = draw(&offer(), &strict, &entries(), "seed");
        let group1_food = entries()
            .iter()
            .filter(|e| e.category == Category::Food && e.group == Some(1))
            .count();
        assert_eq!(
            r[0].drawn.iter().filter(|d| d.for_group == Some(1)).count(),
            group1_food.min(5)
        );
    }

    #[test]
    fn a_changed_list_seed_value_or_result_is_found() {
        let p = published();
        let mut changed = p.clone();
        changed.entries[3].name_masked = "李*".into();
        assert!(matches!(verify(&changed), Err(Mismatch::ListHash { .. })));
        let mut changed = p.clone();
        changed.public_value = Some("福彩3D 2027001: 4 7 2".into());
        assert!(matches!(verify(&changed), Err(Mismatch::Seed { .. })));
        let mut changed = p.clone();
        changed.tenant_value = Some("c0ffef".into());
        assert!(matches!(verify(&changed), Err(Mismatch::Commitment { .. })));
        let mut changed = p.clone();
        if let Some(r) = changed.result.as_mut() {
            r[0].waitlist.swap(0, 1);
        }
        match verify(&changed) {
            Err(Mismatch::Result { at, .. }) => assert_eq!(at, "result[0].waitlist[0]"),
            other => panic!("{other:?}"),
        }
        // Another public value gives another draw.
        let other = seed(&p.list_hash, "c0ffee", "福彩3D 2027001: 4 7 2");
        assert_ne!(draw(&p.offer, &p.groups, &p.entries, &other), p.result.unwrap());
    }

    #[test]
    fn a_round_needs_a_window_a_term_and_something_on_offer() {
        let tz = chrono_tz::Asia::Shanghai;
        let good = RoundDraft {
            title: "2027年1月摊位摇号".into(),
            entries_from: "2027-01-01".into(),
            entries_until: "2027-01-10".into(),
            term_months: Some(6),
            previous_winners_may_enter: false,
            offer: vec![("food".into(), Some(3)), ("retail".into(), None)],
            groups: vec![("低收入家庭".into(), Some(30)), ("".into(), None)],
        };
        let round = good.validate(tz).unwrap();
        assert_eq!(round.offer, BTreeMap::from([(Category::Food, 3)]));
        assert_eq!(round.groups.len(), 1);
        assert_eq!(round.entries_from.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        assert_eq!(
            round.entries_until.to_rfc3339(),
            "2027-01-10T16:00:00+00:00",
            "to the end of the last day"
        );
        let mut bad = good.clone();
        bad.entries_until = "2026-12-01".into();
        bad.term_months = Some(0);
        bad.offer = vec![("food".into(), Some(-1))];
        bad.groups = vec![("x".into(), Some(120))];
        let fields: Vec<&str> = bad.validate(tz).unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["entries_until", "term_months", "offer", "groups"]);
    }
}
