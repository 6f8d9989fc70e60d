//! The vendor's insights page (经营建议) for one stall: suggestions first, then the numbers behind
//! them with charts (web::charts) and tables.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::HttpResult;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::web::charts::{self, Series};
use crate::web::filters;
use crate::web::layout::{Page, render};
use nightmarket_services::insights::{self, Insights};

#[derive(Template)]
#[template(path = "vendor/insights.html")]
struct InsightsPage {
    page: Page,
    i: Insights,
    scans_chart: String,
    hours_chart: String,
    demand_chart: String,
    /// Hours with scans, as (label, scans).
    hours: Vec<(String, i64)>,
}

impl InsightsPage {
    fn category_label(&self) -> String {
        self.page.t(&format!("category.{}", self.i.category))
    }

    fn or_dash(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_else(|| "–".into())
    }
}

/// `/vendor/stalls/{id}/insights`
pub async fn page(
    State(state): State<AppState>,
    page: Page,
    user: AuthUser,
    Path(id): Path<Uuid>,
) -> HttpResult<Html<String>> {
    let i = insights::for_stall(&state.ctx, &user, id, page.lang).await?;
    let labels: Vec<String> = i.nights.iter().map(|n| n.night.format("%m-%d").to_string()).collect();
    let scans_chart = charts::line_chart(
        "chart-scans",
        &page.t("insights.chart_scans"),
        &labels,
        &[
            Series {
                name: &page.t("insights.scans"),
                values: i.nights.iter().map(|n| n.scans).collect(),
            },
            Series {
                name: &page.t("insights.visitors"),
                values: i.nights.iter().map(|n| n.visitors).collect(),
            },
        ],
    );
    let hours: Vec<(String, i64)> = (0u32..)
        .zip(&i.hours)
        .filter(|(_, n)| **n > 0)
        .map(|(h, n)| (format!("{h:02}:00"), *n))
        .collect();
    let hours_chart = charts::bar_chart("chart-hours", &page.t("insights.chart_hours"), &hours);
    let demand_bars: Vec<(String, i64)> = i
        .demand
        .iter()
        .map(|d| (d.label.clone(), d.scans / d.stalls.max(1)))
        .collect();
    let demand_chart = charts::bar_chart("chart-demand", &page.t("insights.chart_demand"), &demand_bars);
    render(&InsightsPage {
        page,
        i,
        scans_chart,
        hours_chart,
        demand_chart,
        hours,
    })
}
