//! Stall lotteries: rounds and their entries.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::market::Category;

#[derive(Clone, Debug)]
pub struct RoundRow {
    pub id: Uuid,
    pub market_id: Uuid,
    pub market_name: String,
    pub title: String,
    pub state: String,
    pub entries_from: DateTime<Utc>,
    pub entries_until: DateTime<Utc>,
    pub term_months: i32,
    pub previous_winners_may_enter: bool,
    pub offer: Value,
    pub groups: Value,
    pub tenant_value: String,
    pub commitment: String,
    pub list_hash: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub public_value: Option<String>,
    pub seed: Option<String>,
    pub result: Option<Value>,
    pub drawn_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct EntryRow {
    pub number: i32,
    pub application_id: Uuid,
    pub vendor_id: Uuid,
    pub category: Category,
    pub group_position: Option<i16>,
    pub name_masked: String,
    pub outcome: String,
    pub waitlist_position: Option<i32>,
    pub slot_id: Option<Uuid>,
    pub slot_code: Option<String>,
}

/// An application that may enter a round.
#[derive(Clone, Debug)]
pub struct CandidateRow {
    pub application_id: Uuid,
    pub vendor_id: Uuid,
    pub category: Category,
    pub stall_name: String,
    pub name_masked: Option<String>,
    pub first_submitted_at: Option<DateTime<Utc>>,
}

pub struct NewRound<'a> {
    pub market_id: Uuid,
    pub title: &'a str,
    pub entries_from: DateTime<Utc>,
    pub entries_until: DateTime<Utc>,
    pub term_months: i32,
    pub previous_winners_may_enter: bool,
    pub offer: Value,
    pub groups: Value,
    pub tenant_value: &'a str,
    pub commitment: &'a str,
    pub created_by: Uuid,
}

pub async fn insert_round(tx: &mut TenantTx, r: &NewRound<'_>) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into lottery_rounds (tenant_id, market_id, title, entries_from, entries_until, term_months,
                                     previous_winners_may_enter, offer, groups, tenant_value, commitment, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id",
        tx.tenant().0,
        r.market_id,
        r.title,
        r.entries_from,
        r.entries_until,
        r.term_months,
        r.previous_winners_may_enter,
        r.offer,
        r.groups,
        r.tenant_value,
        r.commitment,
        r.created_by
    )
    .fetch_one(tx.conn())
    .await
}

pub async fn rounds(tx: &mut TenantTx, market: Option<Uuid>) -> Result<Vec<RoundRow>, sqlx::Error> {
    sqlx::query_as!(
        RoundRow,
        r#"select r.id, r.market_id, m.name as market_name, r.title, r.state, r.entries_from, r.entries_until,
                  r.term_months, r.previous_winners_may_enter, r.offer, r.groups, r.tenant_value, r.commitment,
                  r.list_hash, r.published_at, r.public_value, r.seed, r.result, r.drawn_at, r.created_at
           from lottery_rounds r join markets m on m.tenant_id = r.tenant_id and m.id = r.market_id
           where r.tenant_id = $1 and ($2::uuid is null or r.market_id = $2)
           order by r.created_at desc"#,
        tx.tenant().0,
        market
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn round(tx: &mut TenantTx, id: Uuid) -> Result<Option<RoundRow>, sqlx::Error> {
    sqlx::query_as!(
        RoundRow,
        r#"select r.id, r.market_id, m.name as market_name, r.title, r.state, r.entries_from, r.entries_until,
                  r.term_months, r.previous_winners_may_enter, r.offer, r.groups, r.tenant_value, r.commitment,
                  r.list_hash, r.published_at, r.public_value, r.seed, r.result, r.drawn_at, r.created_at
           from lottery_rounds r join markets m on m.tenant_id = r.tenant_id and m.id = r.market_id
           where r.tenant_id = $1 and r.id = $2"#,
        tx.tenant().0,
        id
    )
    .fetch_optional(tx.conn())
    .await
}

/// Locks a round for the rest of the transaction; false when there is none.
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        r#"select true as "found!" from lottery_rounds where tenant_id = $1 and id = $2 for update"#,
        tx.tenant().0,
        id
    )
    .fetch_optional(tx.conn())
    .await?
    .is_some())
}

/// Applications of the round's market awaiting review, first submitted in its window and in no
/// other round still deciding them, oldest first.
pub async fn candidates(
    tx: &mut TenantTx,
    market: Uuid,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<CandidateRow>, sqlx::Error> {
    sqlx::query_as!(
        CandidateRow,
        r#"select id as application_id, vendor_id, category as "category: Category", stall_name,
                  real_name_masked as name_masked, first_submitted_at
           from applications
           where tenant_id = $1 and market_id = $2 and state in ('submitted', 'resubmitted')
             and first_submitted_at >= $3 and first_submitted_at < $4
             -- Not already in a round that has not decided it (entered, or on a waitlist).
             and not exists (select 1 from lottery_entries e
                             where e.tenant_id = applications.tenant_id and e.application_id = applications.id
                               and e.outcome in ('entered', 'waiting'))
           order by first_submitted_at, id"#,
        tx.tenant().0,
        market,
        from,
        until
    )
    .fetch_all(tx.conn())
    .await
}

/// The vendors who won in the market's last round drawn before `before`.
pub async fn previous_winners(
    tx: &mut TenantTx,
    market: Uuid,
    before: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select e.vendor_id as "vendor_id!" from lottery_entries e
           where e.tenant_id = $1 and e.outcome in ('won', 'freed') and e.round_id = (
               select id from lottery_rounds where tenant_id = $1 and market_id = $2 and state = 'drawn' and drawn_at < $3
               order by drawn_at desc limit 1)"#,
        tx.tenant().0,
        market,
        before
    )
    .fetch_all(tx.conn())
    .await
}

/// An entry as it is published.
pub struct NewEntry {
    pub number: i32,
    pub application_id: Uuid,
    pub vendor_id: Uuid,
    pub category: Category,
    pub group_position: Option<i16>,
    pub name_masked: String,
}

/// Freezes the round's list: its entries and its hash.
pub async fn publish(
    tx: &mut TenantTx,
    round: Uuid,
    list_hash: &str,
    entries: &[NewEntry],
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update lottery_rounds set state = 'published', list_hash = $3, published_at = $4
         where tenant_id = $1 and id = $2 and state = 'open'",
        tenant,
        round,
        list_hash,
        at
    )
    .execute(tx.conn())
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    let numbers: Vec<i32> = entries.iter().map(|e| e.number).collect();
    let apps: Vec<Uuid> = entries.iter().map(|e| e.application_id).collect();
    let vendors: Vec<Uuid> = entries.iter().map(|e| e.vendor_id).collect();
    let categories: Vec<String> = entries.iter().map(|e| e.category.as_str().to_string()).collect();
    let groups: Vec<Option<i16>> = entries.iter().map(|e| e.group_position).collect();
    let names: Vec<String> = entries.iter().map(|e| e.name_masked.clone()).collect();
    sqlx::query!(
        "insert into lottery_entries (tenant_id, round_id, number, application_id, vendor_id, category, group_position, name_masked)
         select $1, $2, * from unnest($3::int[], $4::uuid[], $5::uuid[], $6::text[], $7::smallint[], $8::text[])",
        tenant,
        round,
        &numbers,
        &apps,
        &vendors,
        &categories,
        &groups as &[Option<i16>],
        &names
    )
    .execute(tx.conn())
    .await?;
    Ok(true)
}

pub async fn entries(tx: &mut TenantTx, round: Uuid) -> Result<Vec<EntryRow>, sqlx::Error> {
    sqlx::query_as!(
        EntryRow,
        r#"select e.number, e.application_id, e.vendor_id, e.category as "category: Category", e.group_position,
                  e.name_masked, e.outcome, e.waitlist_position, e.slot_id, s.code as "slot_code?"
           from lottery_entries e
           left join slots s on s.tenant_id = e.tenant_id and s.id = e.slot_id
           where e.tenant_id = $1 and e.round_id = $2
           order by e.number"#,
        tx.tenant().0,
        round
    )
    .fetch_all(tx.conn())
    .await
}

/// Records the draw: the public value, the seed and the result.
pub async fn drawn(
    tx: &mut TenantTx,
    round: Uuid,
    public_value: &str,
    seed: &str,
    result: &Value,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update lottery_rounds set state = 'drawn', public_value = $3, seed = $4, result = $5, drawn_at = $6
         where tenant_id = $1 and id = $2 and state = 'published'",
        tx.tenant().0,
        round,
        public_value,
        seed,
        result,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets an entry's outcome (and its slot or place on the waitlist).
pub async fn set_outcome(
    tx: &mut TenantTx,
    round: Uuid,
    number: i32,
    outcome: &str,
    waitlist_position: Option<i32>,
    slot: Option<Uuid>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update lottery_entries set outcome = $4, waitlist_position = $5, slot_id = coalesce($6, slot_id), decided_at = $7
         where tenant_id = $1 and round_id = $2 and number = $3",
        tx.tenant().0,
        round,
        number,
        outcome,
        waitlist_position,
        slot,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Drawn rounds whose term has not ended at `now` (their waitlists may still fill).
pub async fn in_term(tx: &mut TenantTx, now: DateTime<Utc>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select id from lottery_rounds
           where tenant_id = $1 and state = 'drawn' and drawn_at + make_interval(months => term_months) > $2"#,
        tx.tenant().0,
        now
    )
    .fetch_all(tx.conn())
    .await
}

/// An application's places in lottery rounds, newest first.
#[derive(Clone, Debug)]
pub struct MyEntryRow {
    pub round_id: Uuid,
    pub title: String,
    pub state: String,
    pub number: i32,
    pub outcome: String,
    pub waitlist_position: Option<i32>,
}

pub async fn of_application(tx: &mut TenantTx, application: Uuid) -> Result<Vec<MyEntryRow>, sqlx::Error> {
    sqlx::query_as!(
        MyEntryRow,
        r#"select e.round_id, r.title, r.state, e.number, e.outcome, e.waitlist_position
           from lottery_entries e join lottery_rounds r on r.tenant_id = e.tenant_id and r.id = e.round_id
           where e.tenant_id = $1 and e.application_id = $2
           order by r.created_at desc"#,
        tx.tenant().0,
        application
    )
    .fetch_all(tx.conn())
    .await
}
