//! Telling a crowd from a script: what anonymous input (ratings, complaints) may count at once and
//! what is held for an official. One rule for both, so a rival cannot go round one by the other.

/// How many ratings (or complaints) of one stall a night one client address may have counted
/// before more from it are held, when that address also makes up most of the stall's that night.
pub const ADDRESS_ALLOWANCE: i64 = 3;
/// More counted ratings than this at one stall within [`BURST_MINUTES`] are held.
pub const STALL_BURST: i64 = 10;
pub const BURST_MINUTES: i64 = 10;
/// Ratings a stall may have counted beyond its distinct visitors of the night (scans are counted
/// in memory and written every few seconds, so the visitors lag a little behind).
pub const VISITOR_SLACK: i64 = 5;

/// What the platform knows, as a rating arrives, that tells a crowd from a script.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BurstSignals {
    /// Ratings of this stall tonight (any standing) from the same client address.
    pub same_address: i64,
    /// Counted ratings of this stall tonight.
    pub counted_tonight: i64,
    /// Counted ratings of this stall within the last [`BURST_MINUTES`].
    pub counted_recently: i64,
    /// Distinct devices that opened the stall's scan page tonight.
    pub visitors: i64,
    /// Ratings of this stall already held tonight (officials are told of the first).
    pub held_tonight: i64,
}

/// Why a rating was held for an official instead of counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// Many ratings of one stall from one address, making up most of its ratings tonight.
    AddressBurst,
    /// Far more ratings at one stall than a crowd gives: in a few minutes, or beyond its visitors.
    StallBurst,
}

impl Held {
    pub fn as_str(self) -> &'static str {
        match self {
            Held::AddressBurst => "address_burst",
            Held::StallBurst => "stall_burst",
        }
    }

    pub fn parse(s: &str) -> Option<Held> {
        [Held::AddressBurst, Held::StallBurst]
            .into_iter()
            .find(|h| h.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Held::AddressBurst => "rating.held_address_burst",
            Held::StallBurst => "rating.held_stall_burst",
        }
    }
}

/// Whether a rating arriving with these signals counts now or is held for an official.
///
/// Signals are combined rather than trusted alone: a mobile carrier puts many real phones behind
/// one address, so an address is held back only past its allowance *and* when it makes up most of
/// the stall's ratings tonight (a popular stall rated by a crowd on one carrier is not); a stall
/// is held back when ratings come faster than a crowd gives them, or outnumber its visitors.
pub fn standing(s: BurstSignals) -> Result<(), Held> {
    let others = s.counted_tonight - s.same_address.min(s.counted_tonight);
    if s.same_address >= ADDRESS_ALLOWANCE && s.same_address >= others {
        return Err(Held::AddressBurst);
    }
    if s.counted_recently >= STALL_BURST || s.counted_tonight >= s.visitors + VISITOR_SLACK {
        return Err(Held::StallBurst);
    }
    Ok(())
}

#[cfg(test)]
mod burst_tests {
    use super::*;

    fn signals(same_address: i64, counted_tonight: i64, counted_recently: i64, visitors: i64) -> BurstSignals {
        BurstSignals {
            same_address,
            counted_tonight,
            counted_recently,
            visitors,
            held_tonight: 0,
        }
    }

    #[test]
    fn a_script_on_one_address_gets_its_allowance_and_the_rest_is_held() {
        // The 1st, 2nd and 3rd from one address count; from the 4th on they are held.
        for n in 0..ADDRESS_ALLOWANCE {
            assert_eq!(standing(signals(n, n, n, 100)), Ok(()), "{n}");
        }
        assert_eq!(
            standing(signals(ADDRESS_ALLOWANCE, ADDRESS_ALLOWANCE, ADDRESS_ALLOWANCE, 100)),
            Err(Held::AddressBurst)
        );
        assert_eq!(standing(signals(29, 3, 3, 100)), Err(Held::AddressBurst));
    }

    #[test]
    fn a_crowd_behind_one_carrier_address_at_a_popular_stall_is_counted() {
        // Five phones on one carrier address among forty ratings tonight.
        assert_eq!(standing(signals(5, 40, 4, 300)), Ok(()));
    }

    #[test]
    fn ratings_faster_than_a_crowd_or_beyond_the_visitors_are_held() {
        assert_eq!(standing(signals(0, 12, STALL_BURST, 300)), Err(Held::StallBurst));
        assert_eq!(standing(signals(0, 20, 1, 15)), Err(Held::StallBurst));
        assert_eq!(standing(signals(0, 20, 1, 16)), Ok(()));
    }

    #[test]
    fn held_reasons_read_back() {
        for h in [Held::AddressBurst, Held::StallBurst] {
            assert_eq!(Held::parse(h.as_str()), Some(h));
        }
        assert_eq!(Held::parse("nope"), None);
    }
}
