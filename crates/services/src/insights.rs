//! A vendor's insights (经营建议) for one of their stalls over the last 30 nights: their figures
//! against the median of the market's other stalls of the same category, demand by category, and
//! the suggestions the numbers support (domain::insight). No other stall is ever named: peers
//! appear only as medians of at least three stalls, categories only with two stalls or more
//! besides the reader's own.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::Ctx;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use nightmarket_db::codes::CodeRow;
use nightmarket_db::insights::Nights;
use nightmarket_db::{self as db, TenantTx};
use nightmarket_domain::insight::{self, Demand, Own, PeerMedians, StallFigures, Suggestion};
use nightmarket_domain::people::Actor;

/// Nights the insights look back over.
pub const NIGHTS: i64 = 30;

/// One night of the stall.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = InsightNight))]
pub struct Night {
    pub night: NaiveDate,
    pub scans: i64,
    pub visitors: i64,
    /// Checked in that night.
    pub open: bool,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = InsightFigures))]
pub struct Figures {
    pub scans: i64,
    pub visitors: i64,
    pub ratings: i64,
    /// Average stars with two decimals ("4.10"), when rated.
    pub average: Option<String>,
    pub complaints: i64,
    pub nights_open: i64,
    pub redemptions: i64,
    pub subsidy_fen: i64,
    pub consumption_fen: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = InsightMedians))]
pub struct Medians {
    /// The other stalls of the category the medians are over.
    pub stalls: usize,
    pub scans: i64,
    pub visitors: i64,
    pub ratings: i64,
    pub average: Option<String>,
    pub complaints: i64,
    pub nights_open: i64,
    pub redemptions: i64,
    pub consumption_fen: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = InsightCount))]
pub struct Count {
    pub key: String,
    /// In the reader's language.
    pub label: String,
    pub count: i64,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryDemand {
    pub category: String,
    pub label: String,
    pub stalls: i64,
    pub scans: i64,
    /// Scans per stall, one decimal.
    pub per_stall: String,
    /// Against the market's average stall ("1.5" = half as much again).
    pub vs_market: String,
    pub under_supplied: bool,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestionView {
    /// What kind of suggestion (weekday, rating_below, rating_above, fewer_nights, few_visitors,
    /// complaints, peak_hour, vouchers, own_category_in_demand, under_supplied).
    pub kind: String,
    /// The suggestion in the reader's language, with its numbers.
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insights {
    pub code_id: Uuid,
    pub stall_name: String,
    pub category: String,
    pub market_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub mine: Figures,
    /// The median of the market's other stalls of the same category; absent with fewer than three.
    pub peers: Option<Medians>,
    /// Every night of the range, oldest first.
    pub nights: Vec<Night>,
    /// Scans by local hour, 0–23.
    pub hours: Vec<i64>,
    /// Average scans on open nights by weekday (Monday first), one decimal, with the nights.
    pub weekdays: Vec<WeekdayFigure>,
    pub tags: Vec<Count>,
    pub complaint_categories: Vec<Count>,
    pub demand: Vec<CategoryDemand>,
    pub suggestions: Vec<SuggestionView>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekdayFigure {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u32,
    pub label: String,
    pub average_scans: String,
    pub nights: i64,
}

/// The insights of the vendor's stall `code_id` (another vendor's stall, or a revoked one, is
/// not found).
pub async fn for_stall(ctx: &Ctx, vendor: &Actor, code_id: Uuid, lang: Lang) -> AppResult<Insights> {
    vendor.require_vendor()?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.tenant(vendor.tenant_id()).await?;
    let code = db::codes::get(&mut tx, code_id)
        .await?
        .filter(|c| c.vendor_id == vendor.id && c.revoked_at.is_none())
        .ok_or(AppError::NotFound)?;
    let (insights, _) = compute(&mut tx, vendor.tenant.timezone, &code, now, lang).await?;
    tx.commit().await?;
    Ok(insights)
}

/// The insights of a stall as of `now`, with the suggestions as the domain made them.
async fn compute(
    tx: &mut TenantTx,
    tz: Tz,
    code: &CodeRow,
    now: DateTime<Utc>,
    lang: Lang,
) -> AppResult<(Insights, Vec<Suggestion>)> {
    let code_id = code.id;
    let to = code.hours().business_date(now.with_timezone(&tz).naive_local());
    let from = to - Duration::days(NIGHTS - 1);
    let n = Nights {
        market: code.market_id,
        from,
        to,
        tz: tz.name(),
        lo: super::numbers::instant(tz, from, NaiveTime::MIN),
        hi: super::numbers::instant(tz, to + Duration::days(2), NaiveTime::MIN),
    };
    let stalls = db::insights::stalls(tx, &n).await?;
    let figures = |r: &db::insights::StallRow| StallFigures {
        category: r.category.clone(),
        scans: r.scans,
        visitors: r.visitors,
        ratings: r.ratings,
        stars: r.stars,
        complaints: r.complaints,
        nights: r.nights,
        redemptions: r.redemptions,
        subsidy_fen: r.subsidy_fen,
        consumption_fen: r.consumption_fen,
    };
    let all: Vec<StallFigures> = stalls.iter().map(figures).collect();
    let mine = stalls
        .iter()
        .find(|r| r.code_id == code_id)
        .map(figures)
        .unwrap_or_default();
    let peers: Vec<&StallFigures> = stalls
        .iter()
        .zip(&all)
        .filter(|(r, f)| r.code_id != code_id && f.category == code.category.as_str())
        .map(|(_, f)| f)
        .collect();
    let medians = insight::peer_medians(&peers);
    let demand = insight::demand(&all, code.category.as_str());

    let night_rows = db::insights::nights(tx, code_id, &n).await?;
    let mut hours = [0i64; 24];
    for (h, scans) in db::insights::hours(tx, code_id, &n).await? {
        if let Some(slot) = usize::try_from(h).ok().and_then(|h| hours.get_mut(h)) {
            *slot += scans;
        }
    }
    let tags: BTreeMap<String, i64> = db::insights::tags(tx, code_id, &n).await?.into_iter().collect();
    let complaint_categories: BTreeMap<String, i64> = db::insights::complaint_categories(tx, code_id, &n)
        .await?
        .into_iter()
        .collect();

    let own = Own {
        figures: mine.clone(),
        open_nights: night_rows
            .iter()
            .filter(|r| r.open)
            .map(|r| (r.night, r.scans))
            .collect(),
        hours,
        tags: tags.clone(),
        complaint_categories: complaint_categories.clone(),
        // The window's past nights since the code's issue (tonight not yet over).
        held_nights: (to - from.max(code.created_at.with_timezone(&tz).date_naive()))
            .num_days()
            .max(0),
    };
    let raw = insight::suggest(&own, medians.as_ref(), &demand);
    let suggestions = raw.iter().map(|s| view(s, lang)).collect();

    let by_night: BTreeMap<NaiveDate, &db::insights::NightRow> = night_rows.iter().map(|r| (r.night, r)).collect();
    let nights = (0..NIGHTS)
        .map(|i| from + Duration::days(i))
        .map(|night| match by_night.get(&night) {
            Some(r) => Night {
                night,
                scans: r.scans,
                visitors: r.visitors,
                open: r.open,
            },
            None => Night {
                night,
                scans: 0,
                visitors: 0,
                open: false,
            },
        })
        .collect();
    let mut tags: Vec<Count> = tags
        .into_iter()
        .map(|(key, count)| Count {
            label: lang.t(&format!("tag.{key}")),
            key,
            count,
        })
        .collect();
    tags.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    let mut complaint_categories: Vec<Count> = complaint_categories
        .into_iter()
        .map(|(key, count)| Count {
            label: category_label(lang, "complaint_category", &key),
            key,
            count,
        })
        .collect();
    complaint_categories.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));

    let insights = Insights {
        code_id,
        stall_name: code.stall_name.clone(),
        category: code.category.as_str().to_string(),
        market_name: code.market_name.clone(),
        from,
        to,
        mine: Figures {
            scans: mine.scans,
            visitors: mine.visitors,
            ratings: mine.ratings,
            average: nightmarket_domain::figures::fixed2(mine.stars, mine.ratings),
            complaints: mine.complaints,
            nights_open: mine.nights,
            redemptions: mine.redemptions,
            subsidy_fen: mine.subsidy_fen,
            consumption_fen: mine.consumption_fen,
        },
        peers: medians.map(|m| medians_view(&m)),
        nights,
        hours: hours.to_vec(),
        weekdays: insight::weekdays(&own.open_nights)
            .into_iter()
            .map(|(d, tenths, n)| WeekdayFigure {
                weekday: d.number_from_monday(),
                label: weekday_label(lang, d),
                average_scans: insight::tenths(tenths),
                nights: n,
            })
            .collect(),
        tags,
        complaint_categories,
        demand: demand.iter().map(|d| demand_view(d, lang)).collect(),
        suggestions,
    };
    Ok((insights, raw))
}

/// Once a week (a week starts on Monday in the tenant's zone), each live stall's vendor gets a
/// notice (and, with a phone on file, a text) with the stall's first suggestion, or its figures
/// when there is nothing to change. Idempotent: a stall that had this week's notice gets none.
/// Runs with the sweeper; at most `batch` stalls a tenant per run, so a large tenant is spread
/// over a few runs. Returns the notices sent.
pub async fn send_weekly(
    database: &db::Db,
    keys: &crate::secrets::Keys,
    now: DateTime<Utc>,
    batch: i64,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for tenant in db::tenants::list(database.global()).await? {
        let today = now.with_timezone(&tenant.timezone).date_naive();
        let week = today.iso_week();
        let week = format!("{}-W{:02}", week.year(), week.week());
        let mut tx = database.tenant(tenant.id).await?;
        let due = db::insights::weekly_due(&mut tx, &week, batch).await?;
        tx.commit().await?;
        for code_id in due {
            let mut tx = database.tenant(tenant.id).await?;
            if !db::insights::claim_weekly(&mut tx, code_id, &week).await? {
                continue;
            }
            let Some(code) = db::codes::get(&mut tx, code_id)
                .await?
                .filter(|c| c.revoked_at.is_none())
            else {
                continue;
            };
            let (zh, raw) = compute(&mut tx, tenant.timezone, &code, now, Lang::Zh)
                .await
                .map_err(|e| anyhow::anyhow!("insights of {code_id}: {e}"))?;
            let (tip_zh, tip_en) = match raw.first() {
                Some(s) => (view(s, Lang::Zh).text, view(s, Lang::En).text),
                None => {
                    let summary = |lang: Lang| {
                        lang.tr(
                            "insights.weekly_steady",
                            &[
                                ("scans", &zh.mine.scans.to_string()),
                                ("visitors", &zh.mine.visitors.to_string()),
                                ("nights", &zh.mine.nights_open.to_string()),
                            ],
                        )
                    };
                    (summary(Lang::Zh), summary(Lang::En))
                }
            };
            crate::notices::notify(
                &mut tx,
                keys,
                code.vendor_id,
                nightmarket_domain::notice::NoticeKind::WeeklyInsights,
                &[
                    ("stall", &code.stall_name),
                    ("tip", &tip_zh),
                    ("tip_en", &tip_en),
                    ("week", &week),
                ],
                Some(&format!("/vendor/stalls/{code_id}/insights")),
            )
            .await?;
            tx.commit().await?;
            sent += 1;
        }
    }
    Ok(sent)
}

fn medians_view(m: &PeerMedians) -> Medians {
    Medians {
        stalls: m.stalls,
        scans: m.scans,
        visitors: m.visitors,
        ratings: m.ratings,
        average: m.average.map(|h| format!("{}.{:02}", h / 100, h % 100)),
        complaints: m.complaints,
        nights_open: m.nights,
        redemptions: m.redemptions,
        consumption_fen: m.consumption_fen,
    }
}

fn demand_view(d: &Demand, lang: Lang) -> CategoryDemand {
    CategoryDemand {
        category: d.category.clone(),
        label: category_label(lang, "category", &d.category),
        stalls: d.stalls,
        scans: d.scans,
        per_stall: insight::tenths(d.per_stall_tenths),
        vs_market: insight::tenths(d.vs_market_tenths),
        under_supplied: insight::under_supplied(d),
    }
}

/// `{prefix}.{key}` in the reader's language (a stall category, a complaint category).
fn category_label(lang: Lang, prefix: &str, key: &str) -> String {
    lang.t(&format!("{prefix}.{key}"))
}

pub fn weekday_label(lang: Lang, d: Weekday) -> String {
    lang.t(&format!("insights.weekday_{}", d.number_from_monday()))
}

/// A suggestion in the reader's language.
pub fn view(s: &Suggestion, lang: Lang) -> SuggestionView {
    let avg = insight::hundredths_one_decimal;
    let (kind, text) = match s {
        Suggestion::Weekday {
            best,
            worst,
            ratio_tenths,
        } => (
            "weekday",
            lang.tr(
                "insights.s_weekday",
                &[
                    ("best", &weekday_label(lang, *best)),
                    ("worst", &weekday_label(lang, *worst)),
                    ("ratio", &insight::tenths(*ratio_tenths)),
                ],
            ),
        ),
        Suggestion::RatingBelow { mine, peers, tag } => {
            let base = lang.tr(
                "insights.s_rating_below",
                &[("mine", &avg(*mine)), ("peers", &avg(*peers))],
            );
            let text = match tag {
                Some(t) => format!(
                    "{base}{}",
                    lang.tr("insights.s_rating_below_tag", &[("tag", &lang.t(&format!("tag.{t}")))])
                ),
                None => base,
            };
            ("rating_below", text)
        }
        Suggestion::RatingAbove { mine, peers, tag } => {
            let base = lang.tr(
                "insights.s_rating_above",
                &[("mine", &avg(*mine)), ("peers", &avg(*peers))],
            );
            let text = match tag {
                Some(t) => format!(
                    "{base}{}",
                    lang.tr("insights.s_rating_above_tag", &[("tag", &lang.t(&format!("tag.{t}")))])
                ),
                None => base,
            };
            ("rating_above", text)
        }
        Suggestion::FewerNights { mine, peers } => (
            "fewer_nights",
            lang.tr(
                "insights.s_fewer_nights",
                &[("mine", &mine.to_string()), ("peers", &peers.to_string())],
            ),
        ),
        Suggestion::FewVisitors { mine, peers } => (
            "few_visitors",
            lang.tr(
                "insights.s_few_visitors",
                &[("mine", &mine.to_string()), ("peers", &peers.to_string())],
            ),
        ),
        Suggestion::Complaints {
            mine,
            peers,
            category,
            count,
        } => (
            "complaints",
            lang.tr(
                "insights.s_complaints",
                &[
                    ("mine", &mine.to_string()),
                    ("peers", &peers.to_string()),
                    ("category", &category_label(lang, "complaint_category", category)),
                    ("count", &count.to_string()),
                ],
            ),
        ),
        Suggestion::PeakHour { hour, share_percent } => (
            "peak_hour",
            lang.tr(
                "insights.s_peak_hour",
                &[
                    ("from", &format!("{hour:02}:00")),
                    ("to", &format!("{:02}:00", (hour + 1) % 24)),
                    ("share", &share_percent.to_string()),
                ],
            ),
        ),
        Suggestion::Vouchers { mine, peers } => (
            "vouchers",
            lang.tr(
                "insights.s_vouchers",
                &[("mine", &mine.to_string()), ("peers", &peers.to_string())],
            ),
        ),
        Suggestion::OwnCategoryInDemand { category, ratio_tenths } => (
            "own_category_in_demand",
            lang.tr(
                "insights.s_own_category",
                &[
                    ("category", &category_label(lang, "category", category)),
                    ("ratio", &insight::tenths(*ratio_tenths)),
                ],
            ),
        ),
        Suggestion::UnderSupplied { category, ratio_tenths } => (
            "under_supplied",
            lang.tr(
                "insights.s_under_supplied",
                &[
                    ("category", &category_label(lang, "category", category)),
                    ("ratio", &insight::tenths(*ratio_tenths)),
                ],
            ),
        ),
    };
    SuggestionView {
        kind: kind.to_string(),
        text,
    }
}
