//! Inspections, the problems they find, the points deducted, and appeals.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::TenantTx;
use nightmarket_domain::case::AppealState;

/// A problem of the tenant's inspection scheme and the points it costs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// Short identifier: lowercase letters, digits and underscores, e.g. `hygiene` (letters are
    /// taken in lower case, surrounding spaces dropped).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*[a-zA-Z][a-zA-Z0-9_]{1,31}\s*$"))]
    pub code: String,
    /// As officials and vendors read it, e.g. 卫生不达标; 1–40 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40, pattern = r"\S"))]
    pub label: String,
    /// Points deducted, 1–100.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub points: i32,
    /// Inactive problems stay on past inspections but cannot be chosen any more.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

pub async fn problems(tx: &mut TenantTx) -> Result<Vec<Problem>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        Problem,
        "select code, label, points, active from inspection_problems where tenant_id = $1 order by points desc, code",
        tenant
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn upsert_problem(tx: &mut TenantTx, p: &Problem) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into inspection_problems (tenant_id, code, label, points, active) values ($1, $2, $3, $4, $5)
         on conflict (tenant_id, code) do update set label = excluded.label, points = excluded.points, active = excluded.active",
        tenant,
        p.code,
        p.label,
        p.points,
        p.active
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub struct NewInspection<'a> {
    pub id: Uuid,
    pub code_id: Uuid,
    pub vendor_id: Uuid,
    pub market_id: Uuid,
    pub official_id: Uuid,
    pub at: DateTime<Utc>,
    pub passed: bool,
    pub notes: &'a str,
    /// Recorded offline on a phone: when it reached the server, and what the phone knew.
    pub synced_at: Option<DateTime<Utc>>,
    pub downloaded_at: Option<DateTime<Utc>>,
}

pub async fn insert(tx: &mut TenantTx, i: &NewInspection<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into inspections (tenant_id, id, code_id, vendor_id, market_id, official_id, inspected_at, passed, notes,
                                  synced_at, downloaded_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        tenant,
        i.id,
        i.code_id,
        i.vendor_id,
        i.market_id,
        i.official_id,
        i.at,
        i.passed,
        i.notes,
        i.synced_at,
        i.downloaded_at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn insert_photo(
    tx: &mut TenantTx,
    id: Uuid,
    inspection: Uuid,
    content_type: &str,
    size: i32,
    data_enc: &[u8],
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into inspection_photos (tenant_id, id, inspection_id, content_type, size_bytes, data_enc)
         values ($1, $2, $3, $4, $5, $6)",
        tenant,
        id,
        inspection,
        content_type,
        size,
        data_enc
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_deduction(
    tx: &mut TenantTx,
    id: Uuid,
    inspection: Uuid,
    vendor: Uuid,
    problem_code: &str,
    problem_label: &str,
    points: i32,
    month: NaiveDate,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query!(
        "insert into deductions (tenant_id, id, inspection_id, vendor_id, problem_code, problem_label, points, month, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tenant,
        id,
        inspection,
        vendor,
        problem_code,
        problem_label,
        points,
        month,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Points a vendor has lost in a month (cancelled deductions given back).
pub async fn points_in_month(tx: &mut TenantTx, vendor: Uuid, month: NaiveDate) -> Result<i64, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_scalar!(
        r#"select coalesce(sum(points), 0)::bigint as "n!" from deductions
           where tenant_id = $1 and vendor_id = $2 and month = $3 and cancelled_at is null"#,
        tenant,
        vendor,
        month
    )
    .fetch_one(tx.conn())
    .await
}

/// An inspection with its deductions, as the vendor and officials see it.
#[derive(Clone, Debug)]
pub struct InspectionRow {
    pub id: Uuid,
    pub code_id: Uuid,
    pub inspected_at: DateTime<Utc>,
    pub passed: bool,
    pub notes: String,
    pub official_name: String,
    pub photo_ids: Vec<Uuid>,
}

pub async fn for_code(tx: &mut TenantTx, code: Uuid, limit: i64) -> Result<Vec<InspectionRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        InspectionRow,
        r#"select i.id, i.code_id, i.inspected_at, i.passed, i.notes, u.display_name as official_name,
                  coalesce(array_agg(p.id) filter (where p.id is not null), '{}') as "photo_ids!"
           from inspections i
           join users u on u.tenant_id = i.tenant_id and u.id = i.official_id
           left join inspection_photos p on p.tenant_id = i.tenant_id and p.inspection_id = i.id
           where i.tenant_id = $1 and i.code_id = $2
           group by i.tenant_id, i.id, u.display_name
           order by i.inspected_at desc
           limit $3"#,
        tenant,
        code,
        limit
    )
    .fetch_all(tx.conn())
    .await
}

#[derive(Clone, Debug)]
pub struct DeductionRow {
    pub id: Uuid,
    pub inspection_id: Uuid,
    pub vendor_id: Uuid,
    pub problem_label: String,
    pub points: i32,
    pub month: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub appeal_id: Option<Uuid>,
    pub appeal_state: Option<AppealState>,
    pub appeal_reason: Option<String>,
}

/// Deductions of a vendor (or of one inspection), newest first, with any appeal.
pub async fn deductions(
    tx: &mut TenantTx,
    vendor: Option<Uuid>,
    inspection: Option<Uuid>,
) -> Result<Vec<DeductionRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        DeductionRow,
        r#"select d.id, d.inspection_id, d.vendor_id, d.problem_label, d.points, d.month, d.created_at, d.cancelled_at,
                  a.id as "appeal_id?", a.state as "appeal_state?: AppealState", a.reason as "appeal_reason?"
           from deductions d
           left join appeals a on a.tenant_id = d.tenant_id and a.deduction_id = d.id
           where d.tenant_id = $1 and ($2::uuid is null or d.vendor_id = $2) and ($3::uuid is null or d.inspection_id = $3)
           order by d.created_at desc"#,
        tenant,
        vendor,
        inspection
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn cancel_deduction(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update deductions set cancelled_at = $3 where tenant_id = $1 and id = $2 and cancelled_at is null",
        tenant,
        id,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct NewAppeal<'a> {
    pub id: Uuid,
    pub deduction: Uuid,
    pub vendor: Uuid,
    pub text: &'a str,
    pub at: DateTime<Utc>,
    /// Content type, size and sealed bytes of the photo backing the appeal.
    pub photo: Option<(&'a str, i32, &'a [u8])>,
}

/// Files an appeal; a second appeal of the same deduction violates `appeals_one_per_deduction`.
pub async fn insert_appeal(tx: &mut TenantTx, a: &NewAppeal<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant().0;
    let (photo_type, photo_size, photo_enc) = match a.photo {
        Some((t, size, sealed)) => (Some(t), Some(size), Some(sealed)),
        None => (None, None, None),
    };
    sqlx::query!(
        "insert into appeals (tenant_id, id, deduction_id, vendor_id, text, filed_at, photo_type, photo_size, photo_enc)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tenant,
        a.id,
        a.deduction,
        a.vendor,
        a.text,
        a.at,
        photo_type,
        photo_size,
        photo_enc
    )
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct AppealRow {
    pub id: Uuid,
    pub deduction_id: Uuid,
    pub vendor_id: Uuid,
    pub vendor_name: String,
    pub text: String,
    pub filed_at: DateTime<Utc>,
    pub state: AppealState,
    pub reason: String,
    pub problem_label: String,
    pub points: i32,
    pub inspection_id: Uuid,
    pub code_id: Uuid,
    pub stall_name: String,
    /// The official who recorded the deduction (an appeal goes to another one).
    pub inspector_id: Uuid,
    pub inspector_name: String,
    /// What the inspection found, as its notes and photos say: what the appeal is against.
    pub inspection_notes: String,
    pub inspected_at: DateTime<Utc>,
    pub photo_ids: Vec<Uuid>,
    /// Whether the vendor backed the appeal with a photo.
    pub has_photo: bool,
}

/// Appeals (pending ones when asked), oldest first; `id` narrows to one.
pub async fn appeals(tx: &mut TenantTx, pending_only: bool, id: Option<Uuid>) -> Result<Vec<AppealRow>, sqlx::Error> {
    let tenant = tx.tenant().0;
    sqlx::query_as!(
        AppealRow,
        "select a.id, a.deduction_id, a.vendor_id, u.display_name as vendor_name, a.text, a.filed_at, a.state as \"state: AppealState\", a.reason,
                d.problem_label, d.points, d.inspection_id, i.code_id, c.stall_name,
                i.official_id as inspector_id, o.display_name as inspector_name, i.notes as inspection_notes,
                i.inspected_at,
                array(select p.id from inspection_photos p where p.tenant_id = i.tenant_id and p.inspection_id = i.id
                      order by p.id) as \"photo_ids!\",
                a.photo_enc is not null as \"has_photo!\"
         from appeals a
         join deductions d on d.tenant_id = a.tenant_id and d.id = a.deduction_id
         join inspections i on i.tenant_id = d.tenant_id and i.id = d.inspection_id
         join codes c on c.tenant_id = i.tenant_id and c.id = i.code_id
         join users u on u.tenant_id = a.tenant_id and u.id = a.vendor_id
         join users o on o.tenant_id = i.tenant_id and o.id = i.official_id
         where a.tenant_id = $1 and (not $2 or a.state = 'pending') and ($3::uuid is null or a.id = $3)
         order by a.filed_at",
        tenant,
        pending_only,
        id
    )
    .fetch_all(tx.conn())
    .await
}

pub async fn lock_appeal(tx: &mut TenantTx, id: Uuid) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let found = sqlx::query_scalar!(
        r#"select true as "found!" from appeals where tenant_id = $1 and id = $2 for update"#,
        tenant,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(found.is_some())
}

pub async fn decide_appeal(
    tx: &mut TenantTx,
    id: Uuid,
    state: AppealState,
    by: Uuid,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant().0;
    let done = sqlx::query!(
        "update appeals set state = $3, decided_by = $4, reason = $5, decided_at = $6
         where tenant_id = $1 and id = $2 and state = 'pending'",
        tenant,
        id,
        state as AppealState,
        by,
        reason,
        at
    )
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who recorded the inspection `id`, if there is one (an offline upload sent again finds it).
pub async fn recorded_by(tx: &mut TenantTx, id: Uuid) -> Result<Option<(Uuid, Uuid, bool)>, sqlx::Error> {
    let row = sqlx::query!(
        "select official_id, code_id, passed from inspections where tenant_id = $1 and id = $2",
        tx.tenant().0,
        id
    )
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(|r| (r.official_id, r.code_id, r.passed)))
}
