//! A lottery round's public page: the list and the commitment before the draw, the values, the
//! seed and the result after it, and how anyone re-draws it without trusting the platform.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::error::HttpResult;
use crate::http::extract::Path;
use crate::state::AppState;
use crate::web::layout::{Page, render};
use nightmarket_domain::lottery::Entry;
use nightmarket_domain::tenant::Tenant;
use nightmarket_services::lottery::{self, Round};

#[derive(Template)]
#[template(path = "public/lottery.html")]
struct LotteryPage {
    page: Page,
    tenant: Tenant,
    round: Round,
}

impl LotteryPage {
    fn date(&self, at: &DateTime<Utc>) -> String {
        let tz: Tz = self.tenant.timezone;
        at.with_timezone(&tz).format("%Y-%m-%d").to_string()
    }

    /// The last day entries were taken (the window ends at the start of the next).
    fn last_day(&self) -> String {
        let tz: Tz = self.tenant.timezone;
        (self.round.entries_until.with_timezone(&tz) - chrono::Duration::seconds(1))
            .format("%Y-%m-%d")
            .to_string()
    }

    fn group_name(&self, position: &Option<u8>) -> String {
        match position {
            Some(p) => self
                .round
                .published
                .groups
                .iter()
                .find(|g| g.position == *p)
                .map(|g| g.name.clone())
                .unwrap_or_default(),
            None => self.page.t("lottery.general_pool"),
        }
    }

    fn entry(&self, number: &u32) -> Option<&Entry> {
        self.round.published.entries.iter().find(|e| e.number == *number)
    }

    fn standing(&self, number: &u32) -> String {
        match self.round.standing.iter().find(|s| s.number == *number) {
            Some(s) => {
                let mut text = self.page.t(&format!("lottery.outcome_{}", s.outcome));
                if let Some(p) = s.waitlist_position {
                    text = format!("{text} {p}");
                }
                if let Some(slot) = &s.slot {
                    text = format!("{text} · {slot}");
                }
                text
            }
            None => String::new(),
        }
    }

    fn state_label(&self) -> String {
        self.page.t(&format!("lottery.state_{}", self.round.state))
    }

    fn api_path(&self) -> String {
        format!("/api/v1/t/{}/lotteries/{}/published", self.tenant.slug, self.round.id)
    }
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path((slug, id)): Path<(String, Uuid)>,
) -> HttpResult<Html<String>> {
    let tenant = state.ctx.tenant(&slug).await?;
    let round = lottery::get(&state.ctx, &tenant, id).await?;
    render(&LotteryPage { page, tenant, round })
}
