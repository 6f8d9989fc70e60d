//! Business insights for a vendor (经营建议): how their stall compares with the median of the same
//! category in their market, and suggestions, each made only when its numbers support it.
//!
//! Everything is integers: averages in hundredths, ratios in tenths, rounded half up. Peers are
//! the *other* live stalls of the category; with fewer than [`MIN_PEERS`] there is no comparison
//! (a median of one or two stalls would show those stalls' own figures).

use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::BTreeMap;

/// Other stalls of the same category needed before anything is compared with them.
pub const MIN_PEERS: usize = 3;
/// Stalls a category needs before its figures are shown (one stall's figures would be its own).
pub const MIN_GROUP: usize = 2;

/// One stall's figures over the window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StallFigures {
    pub category: String,
    pub scans: i64,
    pub visitors: i64,
    pub ratings: i64,
    pub stars: i64,
    pub complaints: i64,
    /// Nights checked in.
    pub nights: i64,
    pub redemptions: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
}

impl StallFigures {
    /// Average stars in hundredths (4.25 → 425), with at least one rating.
    pub fn average(&self) -> Option<i64> {
        ratio(self.stars, self.ratings, 100)
    }
}

/// `num × scale ÷ den`, rounded half up; None when `den` is 0.
pub fn ratio(num: i64, den: i64, scale: i64) -> Option<i64> {
    if den <= 0 || num < 0 {
        return None;
    }
    let (n, d) = (i128::from(num), i128::from(den));
    i64::try_from((n * i128::from(scale) * 2 + d) / (2 * d)).ok()
}

/// The median, the two middle values averaged and rounded half up.
pub fn median(values: &[i64]) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => ratio(v[n / 2 - 1] + v[n / 2], 2, 1),
    }
}

/// Medians of the peers' figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerMedians {
    pub stalls: usize,
    pub scans: i64,
    pub visitors: i64,
    pub ratings: i64,
    /// Of the peers with ratings, in hundredths; None when fewer than MIN_PEERS have any.
    pub average: Option<i64>,
    pub complaints: i64,
    pub nights: i64,
    pub redemptions: i64,
    pub consumption_fen: i64,
}

/// The medians of `peers`, or None when there are too few to compare with.
pub fn peer_medians(peers: &[&StallFigures]) -> Option<PeerMedians> {
    if peers.len() < MIN_PEERS {
        return None;
    }
    let m = |f: fn(&StallFigures) -> i64| median(&peers.iter().map(|p| f(p)).collect::<Vec<_>>()).unwrap_or(0);
    let averages: Vec<i64> = peers.iter().filter_map(|p| p.average()).collect();
    Some(PeerMedians {
        stalls: peers.len(),
        scans: m(|p| p.scans),
        visitors: m(|p| p.visitors),
        ratings: m(|p| p.ratings),
        average: if averages.len() >= MIN_PEERS {
            median(&averages)
        } else {
            None
        },
        complaints: m(|p| p.complaints),
        nights: m(|p| p.nights),
        redemptions: m(|p| p.redemptions),
        consumption_fen: m(|p| p.consumption_fen),
    })
}

/// Demand in a market by category: stalls and scans, and scans per stall in tenths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demand {
    pub category: String,
    pub stalls: i64,
    pub scans: i64,
    pub per_stall_tenths: i64,
    /// Scans per stall against the market's, in tenths (15 = 1.5×).
    pub vs_market_tenths: i64,
}

/// Demand by category over the market's stalls, busiest per stall first. A category is listed
/// only with at least MIN_GROUP stalls besides the reader's own (`own`, its category): with one,
/// its total would be that stall's figure (or, for the reader's category, the total less their
/// own would be).
pub fn demand(stalls: &[StallFigures], own: &str) -> Vec<Demand> {
    let mut groups: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for s in stalls {
        let g = groups.entry(&s.category).or_default();
        g.0 += 1;
        g.1 += s.scans;
    }
    let total_scans: i64 = stalls.iter().map(|s| s.scans).sum();
    let market_tenths = ratio(total_scans, stalls.len() as i64, 10).unwrap_or(0);
    let mut out: Vec<Demand> = groups
        .into_iter()
        .filter(|(category, (n, _))| n - i64::from(*category == own) >= MIN_GROUP as i64)
        .map(|(category, (n, scans))| {
            let per = ratio(scans, n, 10).unwrap_or(0);
            Demand {
                category: category.to_string(),
                stalls: n,
                scans,
                per_stall_tenths: per,
                vs_market_tenths: ratio(per, market_tenths, 10).unwrap_or(0),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.per_stall_tenths
            .cmp(&a.per_stall_tenths)
            .then(a.category.cmp(&b.category))
    });
    out
}

/// A category is under-supplied when its stalls are scanned at least this much more than the
/// market's average stall (in tenths), over enough scans to mean something.
pub const UNDER_SUPPLIED_TENTHS: i64 = 15;
pub const UNDER_SUPPLIED_MIN_SCANS: i64 = 100;

pub fn under_supplied(d: &Demand) -> bool {
    d.vs_market_tenths >= UNDER_SUPPLIED_TENTHS && d.scans >= UNDER_SUPPLIED_MIN_SCANS
}

/// What the vendor's own stall saw, beyond the figures compared with peers.
#[derive(Clone, Debug, Default)]
pub struct Own {
    pub figures: StallFigures,
    /// Scans per night, for the nights the stall was checked in.
    pub open_nights: Vec<(NaiveDate, i64)>,
    /// Scans by local hour.
    pub hours: [i64; 24],
    /// Tag → times chosen, in visible ratings.
    pub tags: BTreeMap<String, i64>,
    /// Complaint category → count.
    pub complaint_categories: BTreeMap<String, i64>,
    /// Past nights of the window the stall held its code (a stall issued this week could not
    /// have opened on the nights before).
    pub held_nights: i64,
}

/// Average scans per open night by weekday (Monday first), in tenths, with the nights counted.
pub fn weekdays(open_nights: &[(NaiveDate, i64)]) -> Vec<(Weekday, i64, i64)> {
    let mut by: BTreeMap<u32, (i64, i64)> = BTreeMap::new();
    for (night, scans) in open_nights {
        let e = by.entry(night.weekday().num_days_from_monday()).or_default();
        e.0 += 1;
        e.1 += scans;
    }
    by.into_iter()
        .filter_map(|(d, (n, s))| Some((weekday(d), ratio(s, n, 10)?, n)))
        .collect()
}

fn weekday(n: u32) -> Weekday {
    match n {
        0 => Weekday::Mon,
        1 => Weekday::Tue,
        2 => Weekday::Wed,
        3 => Weekday::Thu,
        4 => Weekday::Fri,
        5 => Weekday::Sat,
        _ => Weekday::Sun,
    }
}

/// Tags shoppers choose when they are pleased, and when they are not.
pub const GOOD_TAGS: [&str; 4] = ["clean", "fair_price", "generous", "friendly"];
pub const BAD_TAGS: [&str; 4] = ["short_portions", "pricey", "slow", "not_clean"];

/// The most chosen of `among` (at least `min` times; ties go to the first in `among`).
pub fn top_tag(tags: &BTreeMap<String, i64>, among: &[&str], min: i64) -> Option<(String, i64)> {
    among
        .iter()
        .filter_map(|t| tags.get(*t).map(|n| (t.to_string(), *n)))
        .filter(|(_, n)| *n >= min)
        .fold(None, |best: Option<(String, i64)>, (t, n)| match best {
            Some((_, b)) if b >= n => best,
            _ => Some((t, n)),
        })
}

/// A suggestion with the numbers behind it. Ratios are in tenths, averages in hundredths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suggestion {
    /// Busiest weekday against the quietest, by average scans on open nights.
    Weekday {
        best: Weekday,
        worst: Weekday,
        ratio_tenths: i64,
    },
    /// Rated below the category's median, with the complaint shoppers tag most.
    RatingBelow { mine: i64, peers: i64, tag: Option<String> },
    /// Rated above the median, with what shoppers praise most.
    RatingAbove { mine: i64, peers: i64, tag: Option<String> },
    /// Fewer nights open than the category's median.
    FewerNights { mine: i64, peers: i64 },
    /// Far fewer visitors than the category's median.
    FewVisitors { mine: i64, peers: i64 },
    /// Complaints above the median, with the most common kind.
    Complaints {
        mine: i64,
        peers: i64,
        category: String,
        count: i64,
    },
    /// Most scans come in one hour.
    PeakHour { hour: u32, share_percent: i64 },
    /// Few vouchers used against the category's median.
    Vouchers { mine: i64, peers: i64 },
    /// The vendor's own category is scanned well above the market's average stall.
    OwnCategoryInDemand { category: String, ratio_tenths: i64 },
    /// Another category is under-supplied (进货建议).
    UnderSupplied { category: String, ratio_tenths: i64 },
}

/// Thresholds: below them a difference is noise, and nothing is said.
pub const MIN_RATINGS: i64 = 5;
pub const RATING_GAP_HUNDREDTHS: i64 = 30;
pub const NIGHTS_GAP: i64 = 4;
pub const MIN_WEEKDAY_NIGHTS: i64 = 2;
pub const WEEKDAY_RATIO_TENTHS: i64 = 15;
pub const MIN_WEEKDAY_SCANS_TENTHS: i64 = 100;
pub const PEAK_MIN_SCANS: i64 = 30;
pub const PEAK_MIN_PERCENT: i64 = 25;
pub const MIN_PEER_VISITORS: i64 = 20;
pub const MIN_PEER_REDEMPTIONS: i64 = 3;

/// The suggestions the numbers support, most actionable first.
pub fn suggest(own: &Own, peers: Option<&PeerMedians>, demand: &[Demand]) -> Vec<Suggestion> {
    let mut out = Vec::new();
    let mine = &own.figures;
    if let Some(p) = peers {
        if let (Some(avg), Some(peer_avg)) = (mine.average(), p.average)
            && mine.ratings >= MIN_RATINGS
        {
            if avg + RATING_GAP_HUNDREDTHS <= peer_avg {
                out.push(Suggestion::RatingBelow {
                    mine: avg,
                    peers: peer_avg,
                    tag: top_tag(&own.tags, &BAD_TAGS, 2).map(|t| t.0),
                });
            } else if avg >= peer_avg + RATING_GAP_HUNDREDTHS {
                out.push(Suggestion::RatingAbove {
                    mine: avg,
                    peers: peer_avg,
                    tag: top_tag(&own.tags, &GOOD_TAGS, 2).map(|t| t.0),
                });
            }
        }
        if mine.complaints >= 2
            && mine.complaints > p.complaints
            && let Some((category, count)) =
                own.complaint_categories
                    .iter()
                    .fold(None, |best: Option<(&String, i64)>, (c, n)| match best {
                        Some((_, b)) if b >= *n => best,
                        _ => Some((c, *n)),
                    })
        {
            out.push(Suggestion::Complaints {
                mine: mine.complaints,
                peers: p.complaints,
                category: category.clone(),
                count,
            });
        }
        // Only nights the stall could have opened count against it: a code issued 15 minutes
        // ago has missed nothing.
        if p.nights - mine.nights >= NIGHTS_GAP && own.held_nights - mine.nights >= NIGHTS_GAP {
            out.push(Suggestion::FewerNights {
                mine: mine.nights,
                peers: p.nights,
            });
        }
        if p.visitors >= MIN_PEER_VISITORS && mine.visitors * 2 <= p.visitors {
            out.push(Suggestion::FewVisitors {
                mine: mine.visitors,
                peers: p.visitors,
            });
        }
        if p.redemptions >= MIN_PEER_REDEMPTIONS && mine.redemptions * 2 <= p.redemptions {
            out.push(Suggestion::Vouchers {
                mine: mine.redemptions,
                peers: p.redemptions,
            });
        }
    }
    let days: Vec<_> = weekdays(&own.open_nights)
        .into_iter()
        .filter(|(_, _, n)| *n >= MIN_WEEKDAY_NIGHTS)
        .collect();
    let best = days.iter().max_by_key(|(_, avg, _)| *avg);
    let worst = days.iter().min_by_key(|(_, avg, _)| *avg);
    if let (Some(best), Some(worst)) = (best, worst)
        && best.0 != worst.0
        && best.1 >= MIN_WEEKDAY_SCANS_TENTHS
        && let Some(r) = ratio(best.1, worst.1, 10)
        && r >= WEEKDAY_RATIO_TENTHS
    {
        out.push(Suggestion::Weekday {
            best: best.0,
            worst: worst.0,
            ratio_tenths: r,
        });
    }
    let total: i64 = own.hours.iter().sum();
    if total >= PEAK_MIN_SCANS
        && let Some((hour, n)) = (0u32..).zip(own.hours).max_by_key(|(h, n)| (*n, -i64::from(*h)))
        && let Some(share) = ratio(n, total, 100)
        && share >= PEAK_MIN_PERCENT
    {
        out.push(Suggestion::PeakHour {
            hour,
            share_percent: share,
        });
    }
    for d in demand.iter().filter(|d| under_supplied(d)) {
        if d.category == mine.category {
            out.push(Suggestion::OwnCategoryInDemand {
                category: d.category.clone(),
                ratio_tenths: d.vs_market_tenths,
            });
        } else {
            out.push(Suggestion::UnderSupplied {
                category: d.category.clone(),
                ratio_tenths: d.vs_market_tenths,
            });
        }
    }
    out
}

/// Tenths as text: 23 → "2.3".
pub fn tenths(t: i64) -> String {
    format!("{}.{}", t / 10, t % 10)
}

/// Hundredths as a one-decimal average: 425 → "4.3" (half up).
pub fn hundredths_one_decimal(h: i64) -> String {
    tenths(ratio(h, 10, 1).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stall(category: &str, scans: i64) -> StallFigures {
        StallFigures {
            category: category.into(),
            scans,
            ..Default::default()
        }
    }

    #[test]
    fn medians_round_half_up() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3]), Some(3));
        assert_eq!(median(&[5, 1, 3]), Some(3));
        assert_eq!(median(&[1, 2, 3, 4]), Some(3)); // 2.5 → 3
        assert_eq!(median(&[10, 20]), Some(15));
    }

    #[test]
    fn too_few_peers_compare_nothing() {
        let a = stall("food", 10);
        let b = stall("food", 20);
        assert_eq!(peer_medians(&[&a, &b]), None);
        let c = stall("food", 30);
        let m = peer_medians(&[&a, &b, &c]).unwrap();
        assert_eq!((m.stalls, m.scans), (3, 20));
        // No ratings among them: no average to compare with.
        assert_eq!(m.average, None);
    }

    #[test]
    fn demand_hides_single_stall_categories_and_finds_the_under_supplied() {
        let stalls = vec![
            stall("food", 100),
            stall("food", 100),
            stall("food", 100),
            stall("food", 100),
            stall("culture", 300),
            stall("culture", 300),
            stall("games", 50),
        ];
        // Market: 1050 scans over 7 stalls = 150 a stall.
        let d = demand(&stalls, "food");
        assert_eq!(d.len(), 2, "games has one stall and is left out");
        assert_eq!(d[0].category, "culture");
        assert_eq!((d[0].per_stall_tenths, d[0].vs_market_tenths), (3000, 20));
        assert!(under_supplied(&d[0]));
        assert_eq!((d[1].category.as_str(), d[1].vs_market_tenths), ("food", 7));
        assert!(!under_supplied(&d[1]));
        // To a culture vendor, culture's total less their own would be the other stall's.
        let d = demand(&stalls, "culture");
        assert_eq!(d.iter().map(|x| x.category.as_str()).collect::<Vec<_>>(), ["food"]);
    }

    fn own_with(figures: StallFigures) -> Own {
        Own {
            figures,
            // The whole window held: every night could have been opened.
            held_nights: 29,
            ..Default::default()
        }
    }

    #[test]
    fn a_stall_issued_today_is_not_told_it_opened_too_few_nights() {
        let new = Own {
            held_nights: 0,
            ..own_with(StallFigures::default())
        };
        let told = suggest(&new, Some(&medians()), &[]);
        assert!(
            !told.iter().any(|s| matches!(s, Suggestion::FewerNights { .. })),
            "{told:?}"
        );
        let old = own_with(StallFigures::default());
        assert!(
            suggest(&old, Some(&medians()), &[])
                .iter()
                .any(|s| matches!(s, Suggestion::FewerNights { .. }))
        );
    }

    fn medians() -> PeerMedians {
        PeerMedians {
            stalls: 4,
            scans: 400,
            visitors: 200,
            ratings: 10,
            average: Some(460),
            complaints: 0,
            nights: 20,
            redemptions: 10,
            consumption_fen: 100_000,
        }
    }

    #[test]
    fn a_suggestion_needs_its_numbers() {
        // Rated 4.1 over 10 ratings against 4.6, short portions tagged three times.
        let mut own = own_with(StallFigures {
            category: "food".into(),
            ratings: 10,
            stars: 41,
            nights: 20,
            visitors: 150,
            redemptions: 8,
            ..Default::default()
        });
        own.tags.insert("short_portions".into(), 3);
        own.tags.insert("slow".into(), 1);
        let s = suggest(&own, Some(&medians()), &[]);
        assert_eq!(
            s,
            vec![Suggestion::RatingBelow {
                mine: 410,
                peers: 460,
                tag: Some("short_portions".into())
            }]
        );
        // Four ratings are too few to say anything; so is a 0.2 gap.
        own.figures.ratings = 4;
        own.figures.stars = 16;
        assert_eq!(suggest(&own, Some(&medians()), &[]), vec![]);
        own.figures.ratings = 10;
        own.figures.stars = 44;
        assert_eq!(suggest(&own, Some(&medians()), &[]), vec![]);
        // Without peers nothing is compared.
        own.figures.stars = 30;
        assert_eq!(suggest(&own, None, &[]), vec![]);
    }

    #[test]
    fn nights_visitors_vouchers_and_complaints() {
        let mut own = own_with(StallFigures {
            category: "food".into(),
            nights: 15,
            visitors: 100,
            redemptions: 5,
            complaints: 3,
            ..Default::default()
        });
        own.complaint_categories.insert("short_weight".into(), 2);
        own.complaint_categories.insert("service".into(), 1);
        let s = suggest(&own, Some(&medians()), &[]);
        assert_eq!(
            s,
            vec![
                Suggestion::Complaints {
                    mine: 3,
                    peers: 0,
                    category: "short_weight".into(),
                    count: 2
                },
                Suggestion::FewerNights { mine: 15, peers: 20 },
                Suggestion::FewVisitors { mine: 100, peers: 200 },
                Suggestion::Vouchers { mine: 5, peers: 10 },
            ]
        );
        // One night short, 101 visitors, 6 vouchers, one complaint: nothing to say.
        own.figures = StallFigures {
            category: "food".into(),
            nights: 17,
            visitors: 101,
            redemptions: 6,
            complaints: 1,
            ..Default::default()
        };
        assert_eq!(suggest(&own, Some(&medians()), &[]), vec![]);
    }

    #[test]
    fn busy_weekdays_and_peak_hours() {
        let friday = NaiveDate::from_ymd_opt(2026, 11, 6).unwrap();
        let tuesday = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let week = chrono::Duration::days(7);
        let mut own = own_with(StallFigures::default());
        own.open_nights = vec![(friday, 46), (friday + week, 46), (tuesday, 20), (tuesday + week, 20)];
        own.hours[20] = 20;
        own.hours[21] = 10;
        own.hours[19] = 10;
        let s = suggest(&own, None, &[]);
        assert_eq!(
            s,
            vec![
                Suggestion::Weekday {
                    best: Weekday::Fri,
                    worst: Weekday::Tue,
                    ratio_tenths: 23
                },
                Suggestion::PeakHour {
                    hour: 20,
                    share_percent: 50
                },
            ]
        );
        // A weekday seen once is not a pattern; an even spread has no peak.
        own.open_nights.pop();
        own.hours = [0; 24];
        for h in 17..23 {
            own.hours[h] = 10;
        }
        assert_eq!(suggest(&own, None, &[]), vec![]);
    }

    #[test]
    fn demand_suggests_for_the_own_category_and_others() {
        let own = own_with(stall("food", 10));
        let d = vec![
            Demand {
                category: "culture".into(),
                stalls: 2,
                scans: 600,
                per_stall_tenths: 3000,
                vs_market_tenths: 20,
            },
            Demand {
                category: "food".into(),
                stalls: 4,
                scans: 90,
                per_stall_tenths: 225,
                vs_market_tenths: 16,
            },
        ];
        assert_eq!(
            suggest(&own, None, &d),
            vec![Suggestion::UnderSupplied {
                category: "culture".into(),
                ratio_tenths: 20
            }],
            "food's 90 scans are too few to call it under-supplied"
        );
    }

    #[test]
    fn number_formats() {
        assert_eq!(tenths(23), "2.3");
        assert_eq!(hundredths_one_decimal(425), "4.3");
        assert_eq!(hundredths_one_decimal(410), "4.1");
        assert_eq!(ratio(46, 20, 10), Some(23));
    }
}
