//! The tables the numbers are exported as (CSV downloads and the API's JSON tables): stable
//! column names, text cells, labels in the reader's language. The use cases give the figures and
//! records; how they are written out is the HTTP layer's.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use nightmarket_domain::figures::hours;
use nightmarket_domain::people::Actor;
use nightmarket_domain::voucher;
use nightmarket_services::audit::FullRow;
use nightmarket_services::i18n::Lang;
use nightmarket_services::numbers::{self, Counts, Dashboard, KeyCount, RangeQuery, RecordKind, Records};
use nightmarket_services::vouchers::VendorDay;
use serde_json::Value;

/// A dashboard table or a record table by name, for the CSV and JSON exports.
pub async fn by_name(state: &AppState, lang: Lang, user: &Actor, name: &str, q: &RangeQuery) -> AppResult<Table> {
    if DASHBOARD_TABLES.contains(&name) {
        let d = numbers::dashboard(&state.ctx, user, q).await?;
        dashboard_table(&d, name, lang)
    } else {
        let kind = RecordKind::parse(name).ok_or(AppError::NotFound)?;
        let records = numbers::records(&state.ctx, user, kind, q).await?;
        Ok(record_table(records, user.tenant.timezone, lang))
    }
}

/// A table as exported: stable column names (snake_case, what a statistics platform keys on) and
/// text cells. Money is in yuan with two decimals; labels are in the reader's language.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The tables a dashboard shows, by name (the CSV and JSON exports).
pub const DASHBOARD_TABLES: [&str; 7] = [
    "nights",
    "markets",
    "complaint_categories",
    "complaint_states",
    "colours",
    "red_causes",
    "application_states",
];

/// The records behind the figures, exported over a range.
pub const RECORD_TABLES: [&str; 4] = {
    let k = RecordKind::ALL;
    [k[0].as_str(), k[1].as_str(), k[2].as_str(), k[3].as_str()]
};

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn table(name: &str, columns: &[&str], rows: Vec<Vec<String>>) -> Table {
    Table {
        name: name.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

const COUNT_COLUMNS: [&str; 19] = [
    "scans",
    "visitors",
    "ratings",
    "rating_average",
    "complaints",
    "expected_stalls",
    "opened",
    "late",
    "absent",
    "attendance_percent",
    "inspections",
    "failed_inspections",
    "points",
    "vouchers_used",
    "subsidy_yuan",
    "consumption_yuan",
    "leverage",
    "subsidy_fen",
    "consumption_fen",
];

fn count_cells(c: &Counts) -> Vec<String> {
    vec![
        c.scans.to_string(),
        c.visitors.to_string(),
        c.ratings.to_string(),
        opt(&c.rating_average()),
        c.complaints.to_string(),
        c.expected.to_string(),
        c.opened.to_string(),
        c.late.to_string(),
        c.absent.to_string(),
        opt(&c.attendance()),
        c.inspections.to_string(),
        c.failed_inspections.to_string(),
        c.points.to_string(),
        c.redemptions.to_string(),
        voucher::yuan(c.subsidy_fen),
        voucher::yuan(c.consumption_fen),
        opt(&c.leverage()),
        c.subsidy_fen.to_string(),
        c.consumption_fen.to_string(),
    ]
}

/// What a key in a dashboard table names.
#[derive(Clone, Copy, Debug)]
pub enum Key {
    ComplaintCategory,
    ComplaintState,
    ApplicationState,
    Cause,
    Colour,
    StallCategory,
}

/// A key's name in the reader's language (the key itself when it is not one the platform knows).
pub fn label(lang: Lang, kind: Key, key: &str) -> String {
    use nightmarket_domain::{application, code, complaint, market};
    let locale_key = match kind {
        Key::ComplaintCategory => complaint::Category::parse(key).map(|c| c.label_key()),
        Key::ComplaintState => complaint::State::parse(key).map(|c| c.label_key()),
        Key::ApplicationState => application::AppState::parse(key).map(|c| c.label_key()),
        Key::Cause => Some(code::cause::label_key(key)),
        Key::Colour => code::Colour::parse(key).map(|c| c.label_key()),
        Key::StallCategory => market::Category::parse(key).map(|c| c.label_key()),
    };
    locale_key.map(|k| lang.t(k)).unwrap_or_else(|| key.to_string())
}

/// A table of counts by key: the key, its label, the count.
fn counts_table(name: &str, key_column: &str, count_column: &str, kind: Key, counts: &[KeyCount], lang: Lang) -> Table {
    table(
        name,
        &[key_column, "label", count_column],
        counts
            .iter()
            .map(|k| vec![k.key.clone(), label(lang, kind, &k.key), k.count.to_string()])
            .collect(),
    )
}

/// One of a dashboard's tables (DASHBOARD_TABLES).
pub fn dashboard_table(d: &Dashboard, name: &str, lang: Lang) -> AppResult<Table> {
    Ok(match name {
        "nights" => {
            let mut cols = vec!["night"];
            cols.extend_from_slice(&COUNT_COLUMNS);
            table(
                name,
                &cols,
                d.nights
                    .iter()
                    .map(|n| {
                        let mut r = vec![n.night.to_string()];
                        r.extend(count_cells(&n.counts));
                        r
                    })
                    .collect(),
            )
        }
        "markets" => {
            let mut cols = vec!["market_id", "market"];
            cols.extend_from_slice(&COUNT_COLUMNS);
            cols.extend_from_slice(&["complaints_due", "complaints_on_time", "on_time_percent", "red_codes"]);
            table(
                name,
                &cols,
                d.markets
                    .iter()
                    .map(|m| {
                        let mut r = vec![m.market_id.to_string(), m.name.clone()];
                        r.extend(count_cells(&m.counts));
                        r.extend([
                            m.complaints_due.to_string(),
                            m.complaints_on_time.to_string(),
                            opt(&m.on_time_share),
                            m.red_codes.to_string(),
                        ]);
                        r
                    })
                    .collect(),
            )
        }
        "complaint_categories" => counts_table(
            name,
            "category",
            "complaints",
            Key::ComplaintCategory,
            &d.complaints.by_category,
            lang,
        ),
        "complaint_states" => counts_table(
            name,
            "state",
            "complaints",
            Key::ComplaintState,
            &d.complaints.by_state,
            lang,
        ),
        "colours" => {
            let colours = [
                ("green", d.codes.green),
                ("yellow", d.codes.yellow),
                ("red", d.codes.red),
            ]
            .map(|(key, count)| KeyCount {
                key: key.to_string(),
                count,
            });
            counts_table(name, "colour", "codes", Key::Colour, &colours, lang)
        }
        "red_causes" => table(
            name,
            &["cause", "label", "open_now", "raised_in_range"],
            d.codes
                .red_causes
                .iter()
                .map(|c| {
                    vec![
                        c.kind.clone(),
                        label(lang, Key::Cause, &c.kind),
                        c.open.to_string(),
                        c.raised.to_string(),
                    ]
                })
                .collect(),
        ),
        "application_states" => counts_table(
            name,
            "state",
            "applications",
            Key::ApplicationState,
            &d.applications.by_state,
            lang,
        ),
        _ => return Err(AppError::NotFound),
    })
}

/// A table as CSV: UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese right.
pub fn csv(columns: &[String], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let csv_err = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(columns).map_err(csv_err)?;
    for r in rows {
        w.write_record(r).map_err(csv_err)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

/// The records of a kind as a table, times in the tenant's zone, labels in the reader's language.
pub fn record_table(records: Records, tz: Tz, lang: Lang) -> Table {
    let time = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string();
    let otime = |t: Option<DateTime<Utc>>| t.map(time).unwrap_or_default();
    match records {
        Records::Applications(rows) => {
            let name = "applications";
            table(
                name,
                &[
                    "application_id",
                    "market",
                    "stall_name",
                    "category",
                    "vendor",
                    "state",
                    "first_submitted_at",
                    "decided_at",
                    "review_hours",
                ],
                rows.into_iter()
                    .map(|r| {
                        let review = match (r.first_submitted_at, r.decided_at) {
                            (Some(s), Some(d)) => hours((d - s).num_seconds()),
                            _ => String::new(),
                        };
                        vec![
                            r.id.to_string(),
                            r.market,
                            r.stall_name,
                            r.category,
                            r.vendor.unwrap_or_default(),
                            r.state,
                            otime(r.first_submitted_at),
                            otime(r.decided_at),
                            review,
                        ]
                    })
                    .collect(),
            )
        }
        Records::Complaints(rows) => {
            let name = "complaints";
            table(
                name,
                &[
                    "tracking",
                    "night",
                    "market",
                    "slot",
                    "stall_name",
                    "category",
                    "label",
                    "gbt39666",
                    "state",
                    "source",
                    "filed_at",
                    "resolve_due_at",
                    "closed_at",
                    "on_time",
                    "upheld",
                ],
                rows.into_iter()
                    .map(|r| {
                        let label = label(lang, Key::ComplaintCategory, &r.category);
                        vec![
                            r.tracking,
                            r.night.to_string(),
                            r.market,
                            r.slot,
                            r.stall_name,
                            r.category,
                            label,
                            r.gbt_code.unwrap_or_default(),
                            r.state,
                            r.source,
                            time(r.created_at),
                            time(r.resolve_due_at),
                            otime(r.closed_at),
                            r.closed_at
                                .map(|c| (c <= r.resolve_due_at).to_string())
                                .unwrap_or_default(),
                            r.upheld.map(|u| u.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect(),
            )
        }
        Records::Inspections(rows) => {
            let name = "inspections";
            table(
                name,
                &[
                    "inspection_id",
                    "night",
                    "inspected_at",
                    "market",
                    "slot",
                    "stall_name",
                    "passed",
                    "points",
                    "problems",
                ],
                rows.into_iter()
                    .map(|r| {
                        vec![
                            r.id.to_string(),
                            r.night.to_string(),
                            time(r.inspected_at),
                            r.market,
                            r.slot,
                            r.stall_name,
                            r.passed.to_string(),
                            r.points.to_string(),
                            r.problems.join(" / "),
                        ]
                    })
                    .collect(),
            )
        }
        Records::Settlements(days) => table(
            "settlements",
            &SETTLEMENT_COLUMNS,
            days.iter().map(|d| settlement_row(d, tz)).collect(),
        ),
    }
}

/// The columns of the settlement export (what to pay, one row per vendor-day).
pub const SETTLEMENT_COLUMNS: [&str; 11] = [
    "date",
    "vendor_id",
    "vendor",
    "payee_holder",
    "payee_bank",
    "payee_account",
    "stalls",
    "vouchers",
    "subsidy_yuan",
    "consumption_yuan",
    "settled_at",
];

/// One vendor-day as a CSV row; `settled_at` in the tenant's zone with its offset (as the page
/// shows it), so the two never disagree.
pub fn settlement_row(d: &VendorDay, tz: chrono_tz::Tz) -> Vec<String> {
    vec![
        d.business_date.to_string(),
        d.vendor_id.to_string(),
        d.vendor.clone(),
        d.payee.as_ref().map(|p| p.holder.clone()).unwrap_or_default(),
        d.payee.as_ref().map(|p| p.bank.clone()).unwrap_or_default(),
        d.payee.as_ref().map(|p| p.account.clone()).unwrap_or_default(),
        d.stalls.join(" / "),
        d.vouchers.to_string(),
        voucher::yuan(d.subsidy_fen),
        voucher::yuan(d.consumption_fen),
        d.settled_at
            .map(|t| t.with_timezone(&tz).to_rfc3339())
            .unwrap_or_default(),
    ]
}

/// What to pay, as CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese right).
pub fn settlement_csv(days: &[VendorDay], tz: chrono_tz::Tz) -> AppResult<Vec<u8>> {
    let columns: Vec<String> = SETTLEMENT_COLUMNS.iter().map(|c| c.to_string()).collect();
    let rows: Vec<Vec<String>> = days.iter().map(|d| settlement_row(d, tz)).collect();
    csv(&columns, &rows)
}

/// The audit records as CSV, times in the tenant's zone with their offset.
pub fn audit_csv(rows: &[FullRow], tz: Tz) -> AppResult<Vec<u8>> {
    let columns: Vec<String> = [
        "seq",
        "at",
        "actor_kind",
        "actor",
        "action",
        "subject_type",
        "subject_id",
        "before",
        "after",
        "request_id",
    ]
    .iter()
    .map(|c| c.to_string())
    .collect();
    let json = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.seq.to_string(),
                r.at.with_timezone(&tz).to_rfc3339(),
                r.actor_kind.clone(),
                r.actor_label.clone(),
                r.action.clone(),
                r.subject_type.clone(),
                r.subject_id.clone(),
                json(&r.before),
                json(&r.after),
                r.request_id.clone().unwrap_or_default(),
            ]
        })
        .collect();
    csv(&columns, &rows)
}
