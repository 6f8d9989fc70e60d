//! The dashboards (admins and officials), their CSV exports, and a market's public record.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Response};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{AppError, HttpResult};
use crate::exports::{self, Key, Table};
use crate::http::extract::{Path, Query};
use crate::state::AppState;
use crate::web::charts::{self, Series};
use crate::web::filters;
use crate::web::layout::{Page, render};
use nightmarket_services::numbers::{self, Dashboard, MarketRef, PublicStats, RangeQuery};

#[derive(Template)]
#[template(path = "official/numbers.html")]
struct DashboardPage {
    page: Page,
    d: Dashboard,
    q: RangeQuery,
    markets: Vec<MarketRef>,
    /// The query string of this dashboard, for the export links.
    query: String,
    charts: Charts,
    records: &'static [&'static str],
    is_admin: bool,
    section: &'static str,
    /// For the API address the page shows.
    tenant_slug: String,
}

struct Charts {
    visitors: String,
    ratings: String,
    attendance: String,
    complaints: String,
    vouchers: String,
    categories: String,
    causes: String,
    applications: String,
}

impl DashboardPage {
    fn complaint_category(&self, key: &str) -> String {
        exports::label(self.page.lang, Key::ComplaintCategory, key)
    }

    fn complaint_state(&self, key: &str) -> String {
        exports::label(self.page.lang, Key::ComplaintState, key)
    }

    fn app_state(&self, key: &str) -> String {
        exports::label(self.page.lang, Key::ApplicationState, key)
    }

    fn cause(&self, kind: &str) -> String {
        exports::label(self.page.lang, Key::Cause, kind)
    }

    fn selected_range(&self, kind: &str) -> bool {
        self.d.range.kind == kind
    }

    fn selected_market(&self, id: &Uuid) -> bool {
        self.d.market.as_ref().is_some_and(|m| m.id == *id)
    }

    fn or_dash(&self, v: impl std::borrow::Borrow<Option<String>>) -> String {
        or_dash(v.borrow())
    }
}

fn charts(d: &Dashboard, page: &Page) -> Charts {
    let labels: Vec<String> = d.nights.iter().map(|n| n.night.format("%m-%d").to_string()).collect();
    let series = |name: String, f: fn(&numbers::Counts) -> i64| (name, d.nights.iter().map(|n| f(&n.counts)).collect());
    let line = |id: &str, title: &str, lines: Vec<(String, Vec<i64>)>| {
        let s: Vec<Series<'_>> = lines
            .iter()
            .map(|(name, values)| Series {
                name,
                values: values.clone(),
            })
            .collect();
        charts::line_chart(id, title, &labels, &s)
    };
    let t = |k: &str| page.t(k);
    Charts {
        visitors: line(
            "chart-visitors",
            &t("numbers.chart_visitors"),
            vec![
                series(t("numbers.scans"), |c| c.scans),
                series(t("numbers.visitors"), |c| c.visitors),
            ],
        ),
        ratings: line(
            "chart-ratings",
            &t("numbers.chart_ratings"),
            vec![series(t("numbers.ratings"), |c| c.ratings)],
        ),
        attendance: line(
            "chart-attendance",
            &t("numbers.chart_attendance"),
            vec![
                series(t("numbers.opened"), |c| c.opened),
                series(t("numbers.late"), |c| c.late),
                series(t("numbers.absent"), |c| c.absent),
            ],
        ),
        complaints: line(
            "chart-complaints",
            &t("numbers.chart_complaints"),
            vec![
                series(t("numbers.complaints"), |c| c.complaints),
                series(t("numbers.inspections"), |c| c.inspections),
            ],
        ),
        vouchers: line(
            "chart-vouchers",
            &t("numbers.chart_vouchers"),
            vec![series(t("numbers.used"), |c| c.redemptions)],
        ),
        categories: charts::bar_chart(
            "chart-categories",
            &t("numbers.chart_categories"),
            &d.complaints
                .by_category
                .iter()
                .map(|k| (exports::label(page.lang, Key::ComplaintCategory, &k.key), k.count))
                .collect::<Vec<_>>(),
        ),
        causes: charts::bar_chart(
            "chart-causes",
            &t("numbers.chart_causes"),
            &d.codes
                .red_causes
                .iter()
                .map(|c| (exports::label(page.lang, Key::Cause, &c.kind), c.open))
                .collect::<Vec<_>>(),
        ),
        applications: charts::bar_chart(
            "chart-applications",
            &t("numbers.chart_applications"),
            &d.applications
                .by_state
                .iter()
                .map(|k| (exports::label(page.lang, Key::ApplicationState, &k.key), k.count))
                .collect::<Vec<_>>(),
        ),
    }
}

/// A dashboard: the tenant's or a market's figures over tonight, a night or a range.
pub async fn dashboard(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Query(mut q): Query<RangeQuery>,
) -> HttpResult<Html<String>> {
    // The page opens on the last seven nights (tonight alone is nearly empty before the market
    // fills); the API's default stays tonight.
    if q.range.trim().is_empty() {
        q.range = "7".into();
    }
    let d = numbers::dashboard(&state.ctx, &user, &q).await?;
    let markets = numbers::markets(&state.ctx, &user).await?;
    render(&DashboardPage {
        query: q.to_query(&d.range),
        charts: charts(&d, &page),
        d,
        q,
        markets,
        records: &exports::RECORD_TABLES,
        is_admin: user.role == nightmarket_domain::people::Role::Admin,
        section: "numbers",
        tenant_slug: user.tenant.slug.clone(),
        page,
    })
}

/// A CSV download: a table of the dashboard, or the records behind it, over the same range.
pub async fn export(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(name): Path<String>,
    Query(q): Query<RangeQuery>,
) -> HttpResult<Response> {
    let table = exports::by_name(&state, page.lang, &user, &name, &q).await?;
    csv_response(&table, &format!("{}-{}", table.name, q.range.trim()))
}

/// Answers with a table as a CSV attachment.
pub fn csv_response(table: &Table, stem: &str) -> HttpResult<Response> {
    Ok(crate::web::layout::csv_attachment(
        exports::csv(&table.columns, &table.rows)?,
        stem,
    ))
}

/// A ratio, or a dash where there is nothing to divide by.
fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "—".to_string())
}

#[derive(Template)]
#[template(path = "public/stats.html")]
struct StatsPage {
    page: Page,
    s: PublicStats,
    slug: String,
    chart: String,
    categories: String,
}

impl StatsPage {
    fn category(&self, key: &str) -> String {
        exports::label(self.page.lang, Key::StallCategory, key)
    }

    fn or_dash(&self, v: impl std::borrow::Borrow<Option<String>>) -> String {
        or_dash(v.borrow())
    }
}

/// A market's public record over the last 30 nights (open data, nothing personal).
pub async fn public_stats(
    State(state): State<AppState>,
    page: Page,
    Path((slug, market)): Path<(String, String)>,
) -> HttpResult<Html<String>> {
    let market = Uuid::parse_str(&market).map_err(|_| AppError::NotFound)?;
    let s = numbers::public_stats(&state.ctx, &slug, market).await?;
    let labels: Vec<String> = s.nights.iter().map(|n| n.night.format("%m-%d").to_string()).collect();
    let visitors = page.t("numbers.visitors");
    let complaints = page.t("numbers.complaints");
    let chart = charts::line_chart(
        "chart-public",
        &page.t("stats.chart"),
        &labels,
        &[
            Series {
                name: &visitors,
                values: s.nights.iter().map(|n| n.visitors).collect(),
            },
            Series {
                name: &complaints,
                values: s.nights.iter().map(|n| n.complaints).collect(),
            },
        ],
    );
    let categories = charts::bar_chart(
        "chart-stall-categories",
        &page.t("stats.by_category"),
        &s.stalls_by_category
            .iter()
            .map(|c| (exports::label(page.lang, Key::StallCategory, &c.category), c.stalls))
            .collect::<Vec<_>>(),
    );
    render(&StatsPage {
        page,
        s,
        slug,
        chart,
        categories,
    })
}
