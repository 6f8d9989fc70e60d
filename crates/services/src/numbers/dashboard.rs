//! The dashboard: a tenant's or a market's figures over a range, by night and by market.

use super::*;

/// Figures that add up across nights and markets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    /// Scan page views of the stalls' codes.
    pub scans: i64,
    /// Devices, once per stall per night.
    pub visitors: i64,
    /// Visible ratings.
    pub ratings: i64,
    /// Their stars added up (average = stars ÷ ratings).
    pub stars: i64,
    /// Complaints filed.
    pub complaints: i64,
    /// Stall-nights expected: live codes on nights that had opened.
    pub expected: i64,
    /// Stalls that checked in.
    pub opened: i64,
    /// Of those, late.
    pub late: i64,
    /// Expected and not checked in.
    pub absent: i64,
    pub inspections: i64,
    /// Inspections that found a problem.
    pub failed_inspections: i64,
    /// Penalty points deducted (not cancelled on appeal).
    pub points: i64,
    /// Vouchers used (live redemptions).
    pub redemptions: i64,
    /// Face value of those vouchers: the subsidy paid (fen).
    pub subsidy_fen: i64,
    /// The bills they were used on: the spending driven (fen).
    pub consumption_fen: i64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.scans += o.scans;
        self.visitors += o.visitors;
        self.ratings += o.ratings;
        self.stars += o.stars;
        self.complaints += o.complaints;
        self.expected += o.expected;
        self.opened += o.opened;
        self.late += o.late;
        self.absent += o.absent;
        self.inspections += o.inspections;
        self.failed_inspections += o.failed_inspections;
        self.points += o.points;
        self.redemptions += o.redemptions;
        self.subsidy_fen += o.subsidy_fen;
        self.consumption_fen += o.consumption_fen;
    }

    /// Average stars, two decimals.
    pub fn rating_average(&self) -> Option<String> {
        fixed2(self.stars, self.ratings)
    }

    /// Share of expected stall-nights that opened, percent.
    pub fn attendance(&self) -> Option<String> {
        percent(self.opened.min(self.expected), self.expected)
    }

    pub fn leverage(&self) -> Option<String> {
        voucher::leverage(self.consumption_fen, self.subsidy_fen)
    }
}

/// One night's figures over the dashboard's markets.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NightFigures {
    pub night: NaiveDate,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One market's figures over the range.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketFigures {
    pub market_id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub rating_average: Option<String>,
    /// Percent of expected stall-nights that opened.
    pub attendance: Option<String>,
    /// Complaints closed, or past their deadline.
    pub complaints_due: i64,
    /// Of those, closed by the deadline.
    pub complaints_on_time: i64,
    pub on_time_share: Option<String>,
    pub red_codes: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyCount {
    pub key: String,
    pub count: i64,
}

#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComplaintFigures {
    pub total: i64,
    /// Every category, in a fixed order (zeros included).
    pub by_category: Vec<KeyCount>,
    /// Every state, in a fixed order (zeros included).
    pub by_state: Vec<KeyCount>,
    /// Closed, or past their resolution deadline.
    pub due: i64,
    /// Closed by their resolution deadline.
    pub on_time: i64,
    /// on_time ÷ due, percent with one decimal.
    pub on_time_share: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CauseFigures {
    pub kind: String,
    /// Open now on a live code.
    pub open: i64,
    /// Raised during the range.
    pub raised: i64,
}

/// Live codes by colour as of now, and why codes are red.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeFigures {
    pub green: i64,
    pub yellow: i64,
    pub red: i64,
    pub red_causes: Vec<CauseFigures>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationFigures {
    /// First submitted during the range.
    pub submitted: i64,
    /// Those, by their state now (every state, zeros included).
    pub by_state: Vec<KeyCount>,
    /// Decided (approved or rejected) during the range.
    pub decided: i64,
    /// From first submission to decision, hours with one decimal.
    pub median_review_hours: Option<String>,
    pub p90_review_hours: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoucherFigures {
    /// Claimed during the range (claims belong to the tenant: absent on a market's dashboard).
    pub claimed: Option<i64>,
    pub used: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
    /// consumption ÷ subsidy, two decimals.
    pub leverage: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarketRef {
    pub id: Uuid,
    pub name: String,
}

/// A dashboard: the tenant's (or one market's) figures over a range of nights.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub tenant: String,
    pub timezone: String,
    pub market: Option<MarketRef>,
    pub range: NightRange,
    pub generated_at: DateTime<Utc>,
    pub totals: Counts,
    pub rating_average: Option<String>,
    pub attendance: Option<String>,
    pub complaints: ComplaintFigures,
    pub codes: CodeFigures,
    pub applications: ApplicationFigures,
    pub inspections: i64,
    pub failed_inspections: i64,
    pub points: i64,
    pub vouchers: VoucherFigures,
    /// By night, oldest first (every night of the range, zeros included).
    pub nights: Vec<NightFigures>,
    /// By market (every market of the dashboard).
    pub markets: Vec<MarketFigures>,
}

/// Reads the dashboard an admin or official asked for.
pub async fn dashboard(ctx: &Ctx, user: &Actor, q: &RangeQuery) -> AppResult<Dashboard> {
    user.require_staff()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let d = read(&mut tx, &user.tenant, q, now).await?;
    tx.commit().await?;
    Ok(d)
}

/// The markets of the tenant, for the dashboard's market choice.
pub async fn markets(ctx: &Ctx, user: &Actor) -> AppResult<Vec<MarketRef>> {
    user.require_staff()?;
    let mut tx = ctx.db.tenant(user.tenant_id()).await?;
    let markets = db::markets::list(&mut tx).await?;
    tx.commit().await?;
    Ok(markets
        .into_iter()
        .map(|m| MarketRef { id: m.id, name: m.name })
        .collect())
}

fn market_choice<'a>(markets: &'a [MarketRow], text: &str) -> AppResult<Option<&'a MarketRow>> {
    match text.trim() {
        "" => Ok(None),
        t => {
            let id = Uuid::parse_str(t).map_err(|_| AppError::NotFound)?;
            markets.iter().find(|m| m.id == id).map(Some).ok_or(AppError::NotFound)
        }
    }
}

/// The instant a local wall-clock time names (the earlier one in a repeated hour, the one after
/// a skipped hour).
pub(crate) fn instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| tz.from_local_datetime(&(local + Duration::hours(1))).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// What the queries read for a range: its nights, and the instants around them in the zone.
fn window(range: &NightRange, market: Option<&MarketRow>, tz: Tz) -> Window<'static> {
    Window {
        from: range.from,
        to: range.to,
        market: market.map(|m| m.id),
        tz: tz.name(),
        lo: instant(tz, range.from, NaiveTime::MIN),
        hi: instant(tz, range.to + Duration::days(2), NaiveTime::MIN),
        day_lo: instant(tz, range.from, NaiveTime::MIN),
        day_hi: instant(tz, range.to + Duration::days(1), NaiveTime::MIN),
    }
}

/// The markets, range and query window a request asks for.
pub(super) struct Scope {
    pub(super) markets: Vec<MarketRow>,
    /// The one market asked for, if any.
    pub(super) market: Option<MarketRow>,
    pub(super) range: NightRange,
    pub(super) window: Window<'static>,
}

pub(super) async fn scope(tx: &mut TenantTx, tz: Tz, q: &RangeQuery, now: DateTime<Utc>) -> AppResult<Scope> {
    let markets = db::markets::list(tx).await?;
    let market = market_choice(&markets, &q.market)?.cloned();
    let range = NightRange::parse(q, current_night(&markets, market.as_ref(), tz, now))?;
    let window = window(&range, market.as_ref(), tz);
    Ok(Scope {
        markets,
        market,
        range,
        window,
    })
}

/// Reads every figure of a dashboard in one transaction.
pub async fn read(tx: &mut TenantTx, tenant: &Tenant, q: &RangeQuery, now: DateTime<Utc>) -> AppResult<Dashboard> {
    let tz = tenant.timezone;
    let Scope {
        markets,
        market,
        range,
        window,
    } = scope(tx, tz, q, now).await?;
    let market = market.as_ref();
    let shown: Vec<&MarketRow> = match market {
        Some(m) => vec![m],
        None => markets.iter().collect(),
    };

    // Additive figures per (market, night).
    let mut cells: BTreeMap<(Uuid, NaiveDate), Counts> = BTreeMap::new();
    let mut put = |rows: Vec<MarketNight>, f: fn(&mut Counts, &MarketNight)| {
        for r in rows {
            f(cells.entry((r.market_id, r.night)).or_default(), &r);
        }
    };
    put(db::numbers::scans(tx, &window).await?, |c, r| {
        c.scans += r.a;
        c.visitors += r.b;
    });
    put(db::numbers::inspections(tx, &window).await?, |c, r| {
        c.inspections += r.a;
        c.failed_inspections += r.b;
        c.points += r.c;
    });
    for r in db::numbers::counters(tx, &window).await? {
        let c = cells.entry((r.market_id, r.night)).or_default();
        c.opened += r.opened;
        c.late += r.late;
        c.ratings += r.ratings;
        c.stars += r.stars;
        c.redemptions += r.redemptions;
        c.subsidy_fen += r.subsidy_fen;
        c.consumption_fen += r.consumption_fen;
    }

    let complaints = db::numbers::complaints(tx, &window, now).await?;
    let mut due_by_market: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
    let mut by_category: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
    for g in &complaints {
        cells.entry((g.market_id, g.night)).or_default().complaints += g.count;
        *by_category.entry(g.category.clone()).or_default() += g.count;
        *by_state.entry(g.state.clone()).or_default() += g.count;
        let due = due_by_market.entry(g.market_id).or_default();
        if g.due {
            due.0 += g.count;
        }
        if g.on_time {
            due.1 += g.count;
        }
    }

    // Stall-nights expected: codes live at a night's opening, for nights that have opened.
    let lives = db::numbers::code_lives(tx, &window).await?;
    for m in &shown {
        let mine: Vec<_> = lives.iter().filter(|l| l.market_id == m.id).collect();
        for night in range.dates() {
            let (opens, _) = m.hours().night_window(night, &tz);
            if opens > now {
                // Not opened yet: nobody is absent, but a stall that checked in early was
                // expected (tonight never reads as more stalls open than expected).
                if let Some(cell) = cells.get_mut(&(m.id, night)) {
                    cell.expected = cell.opened;
                }
                continue;
            }
            let expected = mine
                .iter()
                .filter(|l| l.created_at <= opens && l.revoked_at.is_none_or(|r| r > opens))
                .count() as i64;
            let cell = cells.entry((m.id, night)).or_default();
            // A stall that opened was expected, whatever its code's issue date says: a night
            // with check-ins never reads as "no figure".
            cell.expected = expected.max(cell.opened);
            cell.absent = cell.expected - cell.opened;
        }
    }

    let nights: Vec<NightFigures> = range
        .dates()
        .map(|night| {
            let mut counts = Counts::default();
            for m in &shown {
                if let Some(c) = cells.get(&(m.id, night)) {
                    counts.add(c);
                }
            }
            NightFigures { night, counts }
        })
        .collect();
    let mut totals = Counts::default();
    for n in &nights {
        totals.add(&n.counts);
    }

    let colours = db::numbers::colours(tx, &window).await?;
    let causes = db::numbers::red_causes(tx, &window).await?;
    let mut codes = CodeFigures::default();
    for c in &colours {
        match c.key.as_str() {
            "green" => codes.green += c.count,
            "yellow" => codes.yellow += c.count,
            _ => codes.red += c.count,
        }
    }
    let mut cause_kinds: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for c in &causes {
        let e = cause_kinds.entry(c.kind.clone()).or_default();
        e.0 += c.open;
        e.1 += c.raised;
    }
    codes.red_causes = cause_kinds
        .into_iter()
        .map(|(kind, (open, raised))| CauseFigures { kind, open, raised })
        .collect();
    codes
        .red_causes
        .sort_by(|a, b| b.open.cmp(&a.open).then(b.raised.cmp(&a.raised)));

    let market_rows = shown
        .iter()
        .map(|m| {
            let mut counts = Counts::default();
            for (_, c) in cells.range((m.id, range.from)..=(m.id, range.to)) {
                counts.add(c);
            }
            let (due, on_time) = due_by_market.get(&m.id).copied().unwrap_or_default();
            MarketFigures {
                market_id: m.id,
                name: m.name.clone(),
                rating_average: counts.rating_average(),
                attendance: counts.attendance(),
                counts,
                complaints_due: due,
                complaints_on_time: on_time,
                on_time_share: percent(on_time, due),
                red_codes: colours
                    .iter()
                    .filter(|c| c.market_id == m.id && c.key == "red")
                    .map(|c| c.count)
                    .sum(),
            }
        })
        .collect();

    let (due, on_time) = due_by_market.values().fold((0, 0), |(d, o), (d2, o2)| (d + d2, o + o2));
    let complaint_figures = ComplaintFigures {
        total: totals.complaints,
        by_category: nightmarket_domain::complaint::Category::ALL
            .iter()
            .map(|c| KeyCount {
                key: c.as_str().to_string(),
                count: by_category.get(c.as_str()).copied().unwrap_or(0),
            })
            .collect(),
        by_state: nightmarket_domain::complaint::State::ALL
            .iter()
            .map(|s| KeyCount {
                key: s.as_str().to_string(),
                count: by_state.get(s.as_str()).copied().unwrap_or(0),
            })
            .collect(),
        due,
        on_time,
        on_time_share: percent(on_time, due),
    };

    let apps = db::numbers::applications(tx, &window).await?;
    let times = db::numbers::review_times(tx, &window).await?;
    let overall = times.iter().find(|t| t.market_id.is_none());
    let applications = ApplicationFigures {
        submitted: apps.iter().map(|a| a.count).sum(),
        by_state: nightmarket_domain::application::AppState::ALL
            .iter()
            .filter(|s| s.as_str() != "draft")
            .map(|s| KeyCount {
                key: s.as_str().to_string(),
                count: apps.iter().filter(|a| a.key == s.as_str()).map(|a| a.count).sum(),
            })
            .collect(),
        decided: overall.map(|t| t.decided).unwrap_or(0),
        median_review_hours: overall.and_then(|t| t.median_secs).map(hours),
        p90_review_hours: overall.and_then(|t| t.p90_secs).map(hours),
    };

    let claimed = match market {
        Some(_) => None,
        None => Some(db::numbers::claimed(tx, &window).await?),
    };
    let vouchers = VoucherFigures {
        claimed,
        used: totals.redemptions,
        subsidy_fen: totals.subsidy_fen,
        consumption_fen: totals.consumption_fen,
        leverage: totals.leverage(),
    };

    Ok(Dashboard {
        tenant: tenant.name.clone(),
        timezone: tz.name().to_string(),
        market: market.map(|m| MarketRef {
            id: m.id,
            name: m.name.clone(),
        }),
        range,
        generated_at: now,
        rating_average: totals.rating_average(),
        attendance: totals.attendance(),
        inspections: totals.inspections,
        failed_inspections: totals.failed_inspections,
        points: totals.points,
        totals,
        complaints: complaint_figures,
        codes,
        applications,
        vouchers,
        nights,
        markets: market_rows,
    })
}
