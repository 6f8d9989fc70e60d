//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>) for each tenant, so that a
//! city's 12345 hotline system can exchange complaints: the complaint categories are the
//! services, a complaint is a service request, its tracking number the `service_request_id`.
//!
//! Both of the standard's formats, chosen by the file's extension as the standard names it:
//! `.xml` (its primary format: `<services><service>…`, `<service_requests><request>…`,
//! `<service_definition>`, `<discovery>`) and `.json`. Errors use the standard's body in the
//! same format (`<errors><error><code/><description/></error></errors>`, or
//! `[{"code", "description"}]`): 400 for bad input, 403 for a missing or wrong `api_key`, 404
//! for an unknown tenant, service, request or token. Posting needs a tenant API key, sent whole
//! as `api_key={key_id}.{secret}`. `jurisdiction_id` may be sent; it must then name the tenant
//! of the path (each tenant is its own endpoint, as `discovery` says).
//!
//! The GET endpoints are public, as the standard has them: they show a complaint's category,
//! description, state, the officials' public notes, the market and slot, never the
//! complainant's number, name or tracking number (README, "Open311").

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use nightmarket_input::form::fields;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, HttpError};
use crate::http::extract::{Json, Path};
use crate::i18n::Lang;
use crate::state::AppState;
use nightmarket_domain::code::parse_code_url;
use nightmarket_domain::complaint::{Category, CategoryRules};
use nightmarket_domain::tenant::Tenant;
use nightmarket_services::codes;
use nightmarket_services::complaints::{self, Filing, Source};
use nightmarket_services::open311::{self, Report, ReportQuery};

/// The standard's two formats, as a file's extension names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// The name without its extension, and the format the extension asks for.
    fn split(file: &str) -> Option<(&str, Format)> {
        match file.strip_suffix(".json") {
            Some(name) => Some((name, Format::Json)),
            None => file.strip_suffix(".xml").map(|name| (name, Format::Xml)),
        }
    }
}

/// The format of a request, from its path's extension (`services.xml`, `requests/7.json`).
impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Format::split(parts.uri.path()).map_or(Format::Json, |(_, f)| f))
    }
}

/// The standard's error entry.
#[derive(Serialize, ToSchema)]
pub struct Open311Error {
    pub code: u16,
    pub description: String,
}

/// A list in the asked format: a JSON array, or `<root><item>…</item>…</root>`.
fn list<T: Serialize>(format: Format, status: StatusCode, root: &str, item: &str, items: &[T]) -> Response {
    match format {
        Format::Json => (status, Json(items)).into_response(),
        Format::Xml => {
            let mut body = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><{root}>");
            for i in items {
                match quick_xml::se::to_string_with_root(item, i) {
                    Ok(x) => body.push_str(&x),
                    Err(e) => return from_app(format, AppError::Internal(e.into())),
                }
            }
            body.push_str(&format!("</{root}>"));
            xml(status, body)
        }
    }
}

/// One document in the asked format: `value` as JSON, or `xml_value` under `root`.
fn document<J: Serialize, X: Serialize>(format: Format, root: &str, value: &J, xml_value: &X) -> Response {
    match format {
        Format::Json => Json(value).into_response(),
        Format::Xml => match quick_xml::se::to_string_with_root(root, xml_value) {
            Ok(x) => xml(StatusCode::OK, format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{x}")),
            Err(e) => from_app(format, AppError::Internal(e.into())),
        },
    }
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

fn error(format: Format, status: StatusCode, description: impl Into<String>) -> Response {
    let entry = Open311Error {
        code: status.as_u16(),
        description: description.into(),
    };
    list(format, status, "errors", "error", &[entry])
}

/// The application's errors in the standard's shape (messages in Chinese, the tenant's language).
fn from_app(format: Format, e: AppError) -> Response {
    let lang = Lang::Zh;
    match &e {
        AppError::Validation(fields) => {
            let text = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, lang.msg(&f.msg)))
                .collect::<Vec<_>>()
                .join("; ");
            error(format, StatusCode::BAD_REQUEST, text)
        }
        AppError::BadRequest(m) | AppError::Conflict(m) => error(format, StatusCode::BAD_REQUEST, lang.msg(m)),
        AppError::ApiKey(_) | AppError::Unauthorized | AppError::Forbidden => {
            error(format, StatusCode::FORBIDDEN, "api_key missing, unknown or revoked")
        }
        AppError::NotFound => error(format, StatusCode::NOT_FOUND, "not found"),
        AppError::RateLimited { .. } => error(format, StatusCode::TOO_MANY_REQUESTS, "too many requests"),
        _ => {
            // Logged with its cause by the error's own response.
            let e = HttpError(e);
            let status = e.status();
            let _ = e.into_response();
            error(format, status, "internal error")
        }
    }
}

/// A service: one complaint category.
#[derive(Serialize, ToSchema)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// Always true: requests carry the stall in `attribute[code]`.
    pub metadata: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub keywords: String,
    pub group: String,
}

/// The standard the categories' classification codes come from, as `keywords` and
/// `agency_responsible` name it.
const GBT: &str = "GB/T 39666-2020";

fn service(rules: &CategoryRules) -> Service {
    let (c, d) = (rules.category, &rules.deadlines);
    let mut keywords = "night market,stall,投诉".to_string();
    if let Some(code) = rules.gbt_code {
        keywords.push_str(&format!(",{GBT}:{code}"));
    }
    Service {
        service_code: c.as_str().to_string(),
        service_name: Lang::Zh.t(c.label_key()),
        description: format!(
            "{} / {} (acknowledged within {} h, resolved within {} {})",
            Lang::Zh.t(c.label_key()),
            Lang::En.t(c.label_key()),
            d.ack_hours,
            d.resolve_days,
            if d.working_days { "working days" } else { "d" }
        ),
        metadata: true,
        kind: "batch".into(),
        keywords,
        group: "夜市".into(),
    }
}

/// The tenant of the path; a `jurisdiction_id`, when sent, must name it.
async fn tenant(state: &AppState, slug: &str, format: Format, fields: &[(String, String)]) -> Result<Tenant, Response> {
    let jurisdiction = field(fields, "jurisdiction_id").trim();
    if !jurisdiction.is_empty() && jurisdiction != slug {
        return Err(error(
            format,
            StatusCode::NOT_FOUND,
            format!("jurisdiction_id {jurisdiction:?} is not served at this endpoint (it serves {slug:?})"),
        ));
    }
    match state.ctx.tenant_named(slug).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(error(
            format,
            StatusCode::NOT_FOUND,
            format!("no jurisdiction {slug:?}"),
        )),
        Err(e) => Err(from_app(format, e)),
    }
}

/// The tenant of the path and the name its file (`{name}.xml` or `{name}.json`) asks for.
async fn tenant_and_name<'f>(
    state: &AppState,
    slug: &str,
    format: Format,
    query: Option<&str>,
    file: &'f str,
) -> Result<(Tenant, &'f str), Response> {
    let tenant = tenant(state, slug, format, &fields(query, b"")).await?;
    match Format::split(file) {
        Some((name, _)) => Ok((tenant, name)),
        None => Err(error(format, StatusCode::NOT_FOUND, "served as .xml or .json")),
    }
}

/// `GET /open311/v2/{tenant}/services.json`: the complaint categories.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/services.json", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    responses((status = 200, body = [Service]), (status = 404, body = [Open311Error]))
)]
pub async fn services(
    State(state): State<AppState>,
    format: Format,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let t = match tenant(&state, &slug, format, &fields(query.as_deref(), b"")).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    // The tenant's own deadlines, as its officials are held to them.
    match complaints::published_deadlines(&state.ctx, t.id).await {
        Ok(all) => {
            let services: Vec<Service> = all.iter().map(service).collect();
            list(format, StatusCode::OK, "services", "service", &services)
        }
        Err(e) => from_app(format, e),
    }
}

/// `GET /open311/v2/{tenant}/services.xml`: the complaint categories, as `<services>`.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/services.xml", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    responses(
        (status = 200, content_type = "text/xml", body = String, description = "`<services><service>…</service></services>`"),
        (status = 404, content_type = "text/xml", body = String, description = "`<errors>`"),
    )
)]
pub async fn services_xml(state: State<AppState>, format: Format, slug: Path<String>, query: RawQuery) -> Response {
    services(state, format, slug, query).await
}

#[derive(Serialize, ToSchema)]
pub struct Attribute {
    pub variable: bool,
    pub code: String,
    pub datatype: String,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

/// The service definition as XML has it: the attributes in an `<attributes>` element.
#[derive(Serialize)]
struct DefinitionXml<'a> {
    service_code: &'a str,
    attributes: AttributesXml<'a>,
}

#[derive(Serialize)]
struct AttributesXml<'a> {
    attribute: &'a [Attribute],
}

/// `GET /open311/v2/{tenant}/services/{service_code}.xml` or `.json`: the one attribute every
/// request carries, the stall's operating code.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/services/{service_code_file}", tag = "open311",
    params(
        ("tenant" = String, Path, description = "Tenant slug (the jurisdiction)"),
        ("service_code_file" = String, Path, description = "`{service_code}.json` or `{service_code}.xml`"),
    ),
    responses(
        (status = 200, body = ServiceDefinition, description = "JSON, or `<service_definition>` for `.xml`"),
        (status = 404, body = [Open311Error]),
    )
)]
pub async fn service_definition(
    State(state): State<AppState>,
    format: Format,
    Path((slug, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let code = match tenant_and_name(&state, &slug, format, query.as_deref(), &file).await {
        Ok((_, code)) => code,
        Err(r) => return r,
    };
    let Some(category) = Category::parse(code) else {
        return error(
            format,
            StatusCode::NOT_FOUND,
            format!("no service with service_code {code:?}"),
        );
    };
    let definition = ServiceDefinition {
        service_code: category.as_str().to_string(),
        attributes: vec![Attribute {
            variable: true,
            code: "code".into(),
            datatype: "string".into(),
            required: true,
            datatype_description: "The stall's operating code (13 characters), or the URL its QR code holds".into(),
            order: 1,
            description: "经营码 / operating code of the stall".into(),
        }],
    };
    let xml_form = DefinitionXml {
        service_code: &definition.service_code,
        attributes: AttributesXml {
            attribute: &definition.attributes,
        },
    };
    document(format, "service_definition", &definition, &xml_form)
}

/// The answer to a posted request.
#[derive(Serialize, ToSchema)]
#[schema(as = Open311Created)]
pub struct Created {
    /// The request's public id: what `requests.json` and `requests/{id}.json` show it under.
    pub service_request_id: String,
    pub service_notice: String,
    pub account_id: Option<String>,
    /// An extension of this server's: the complainant's tracking number, answered only here to
    /// the keyed hotline, to hand to the caller. It opens the public tracking page and lets the
    /// caller reopen a resolved complaint, so it never appears in the public feed.
    pub tracking: String,
}

/// Added to a hotline complaint whose caller gave a name.
const CALLER_NOTE: &str = "（12345 来电）";

fn field<'a>(f: &'a [(String, String)], name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// A service request as a hotline posts it (form-encoded; a field may also come in the query
/// string). Fields of the standard that are not listed (email, media_url, lat, long, …) are
/// accepted and ignored: the stall's code says where the complaint is.
#[derive(ToSchema)]
pub struct NewServiceRequest {
    /// A tenant API key, whole: `{key_id}.{secret}`.
    #[schema(min_length = 1)]
    pub api_key: String,
    /// The service: a complaint category.
    pub service_code: Category,
    /// The stall: its operating code, or the URL its QR code holds.
    #[schema(rename = "attribute[code]", min_length = 1)]
    pub attribute_code: String,
    /// What happened; 5–1000 characters once trimmed.
    #[schema(min_length = 5, max_length = 1000, pattern = r"\S[\s\S]{3,}\S")]
    pub description: String,
    /// The caller's mobile number, if they gave one (kept encrypted, shown masked).
    #[schema(pattern = "^(1(3[0-9]|4[5-9]|[5-9][0-9])[0-9]{8})?$", example = "13912345678")]
    pub phone: Option<String>,
    /// The caller's name: only that one was given is kept.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The hotline's own reference, kept (first 100 characters) for the exchange.
    pub service_request_ref: Option<String>,
}

/// `POST /open311/v2/{tenant}/requests.json`: files a complaint about the stall named by
/// `attribute[code]` (form-encoded, with `api_key`).
#[utoipa::path(
    post, path = "/open311/v2/{tenant}/requests.json", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    request_body(content_type = "application/x-www-form-urlencoded", content = NewServiceRequest),
    responses(
        (status = 201, body = [Created]),
        (status = 400, description = "Bad input", body = [Open311Error]),
        (status = 403, description = "Missing or wrong api_key", body = [Open311Error]),
        (status = 404, body = [Open311Error]),
    )
)]
pub async fn post_request(
    State(state): State<AppState>,
    format: Format,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let f = fields(query.as_deref(), &body);
    let tenant = match tenant(&state, &slug, format, &f).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let key = field(&f, "api_key");
    if key.is_empty() {
        return error(format, StatusCode::FORBIDDEN, "api_key required");
    }
    // The key first, in a transaction of its own: a wrong key learns nothing else.
    if let Err(e) = open311::check_key(&state.ctx, &tenant, key).await {
        return from_app(format, e);
    }
    let service_code = field(&f, "service_code");
    if Category::parse(service_code).is_none() {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            format!("service_code {service_code:?} is not a service here"),
        );
    }
    let named = field(&f, "attribute[code]").trim();
    let code_text = parse_code_url(named)
        .map(|c| c.code)
        .unwrap_or_else(|| named.to_string());
    let code = match codes::by_code_text(&state.ctx, &tenant, &code_text).await {
        Ok(c) => c,
        Err(AppError::NotFound) => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                "attribute[code] names no stall of this jurisdiction",
            );
        }
        Err(e) => return from_app(format, e),
    };
    let name = format!("{}{}", field(&f, "last_name"), field(&f, "first_name"));
    let mut description = field(&f, "description").trim().to_string();
    if !name.trim().is_empty() {
        // The caller's name stays with the hotline; only that one was given is noted, where the
        // note fits: a description of the full length the standard's form allows is kept whole
        // (the complaint's source still says it came from the hotline).
        let noted = format!("{description}{CALLER_NOTE}");
        if noted.chars().count() <= complaints::MAX_DESCRIPTION_CHARS {
            description = noted;
        }
    }
    let reference = field(&f, "service_request_ref");
    let filing = Filing {
        category: service_code.to_string(),
        description,
        phone: field(&f, "phone").to_string(),
        sms_code: String::new(),
        photos: Vec::new(),
        source_ref: (!reference.is_empty()).then(|| reference.chars().take(100).collect()),
        voucher_shopper: None,
    };
    match complaints::file(&state.ctx, &tenant, &code, Source::Open311, None, filing).await {
        Ok(filed) => list(
            format,
            StatusCode::CREATED,
            "service_requests",
            "request",
            &[Created {
                service_request_id: filed.public_id,
                service_notice: format!("acknowledged by {}", filed.ack_due_at.to_rfc3339()),
                account_id: None,
                tracking: filed.tracking,
            }],
        ),
        Err(e) => from_app(format, e),
    }
}

/// A service request as the standard shows it.
#[derive(Serialize, ToSchema)]
pub struct ServiceRequest {
    pub service_request_id: String,
    /// open or closed.
    pub status: String,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub service_notice: String,
    pub requested_datetime: DateTime<Utc>,
    pub updated_datetime: DateTime<Utc>,
    pub expected_datetime: Option<DateTime<Utc>>,
    pub address: String,
    pub address_id: String,
    pub zipcode: Option<String>,
    pub lat: f64,
    pub long: f64,
    pub media_url: Option<String>,
}

/// A complaint as the standard's service request: texts in Chinese, the state as open/closed.
fn to_request(tenant: &Tenant) -> impl Fn(Report) -> ServiceRequest + '_ {
    move |r| {
        let notes = match (&r.resolution, r.state.is_unresolved()) {
            (Some(resolution), false) => resolution.clone(),
            _ => Lang::Zh.t(r.state.label_key()),
        };
        let (lat, long) = r.position.unwrap_or((0.0, 0.0));
        ServiceRequest {
            // Public: the tracking number is the complainant's key and stays theirs.
            service_request_id: r.public_id,
            status: r.state.open311().to_string(),
            status_notes: notes,
            service_name: Lang::Zh.t(r.category.label_key()),
            service_code: r.category.as_str().to_string(),
            description: r.description,
            // The category's 12345 class rides with the agency, as a note: `{agency} (GB/T
            // 39666-2020: 070201)`.
            agency_responsible: match r.gbt_code {
                Some(code) => format!("{} ({GBT}: {code})", tenant.name),
                None => tenant.name.clone(),
            },
            service_notice: String::new(),
            requested_datetime: r.created_at,
            updated_datetime: r.updated_at,
            expected_datetime: r.state.is_unresolved().then_some(r.resolve_due_at),
            address: format!(
                "{} {} {}",
                r.market_address.as_deref().unwrap_or(""),
                r.market_name,
                r.slot_code
            )
            .trim()
            .to_string(),
            address_id: r.code_id.to_string(),
            zipcode: None,
            lat,
            long,
            media_url: None,
        }
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// `GET /open311/v2/{tenant}/requests.json`: requests by id (`service_request_id`, comma
/// separated), or filtered by `service_code`, `status` (open, closed), `start_date`, `end_date`
/// (the last 90 days and at most 1000 by default, as the standard suggests).
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/requests.json", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    responses((status = 200, body = [ServiceRequest]), (status = 400, body = [Open311Error]), (status = 404, body = [Open311Error]))
)]
pub async fn get_requests(
    State(state): State<AppState>,
    format: Format,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let f = fields(query.as_deref(), b"");
    let tenant = match tenant(&state, &slug, format, &f).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let ids: Vec<String> = field(&f, "service_request_id")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let service = field(&f, "service_code");
    if !service.is_empty() && Category::parse(service).is_none() {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            format!("service_code {service:?} is not a service here"),
        );
    }
    let status = field(&f, "status");
    let wanted: Vec<&str> = status.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if wanted.iter().any(|s| *s != "open" && *s != "closed") {
        return error(format, StatusCode::BAD_REQUEST, "status is open, closed or both");
    }
    let mut bounds = [None, None];
    for (i, name) in ["start_date", "end_date"].iter().enumerate() {
        let v = field(&f, name);
        if !v.is_empty() {
            match parse_time(v) {
                Some(t) => bounds[i] = Some(t),
                None => {
                    return error(
                        format,
                        StatusCode::BAD_REQUEST,
                        format!("{name} is not a W3C date-time"),
                    );
                }
            }
        }
    }
    let query = ReportQuery {
        category: Category::parse(service),
        ids,
        statuses: wanted.iter().map(|s| s.to_string()).collect(),
        start: bounds[0],
        end: bounds[1],
    };
    let result = open311::reports(&state.ctx, &tenant, &query)
        .await
        .map(|reports| reports.into_iter().map(to_request(&tenant)).collect::<Vec<_>>());
    match result {
        Ok(requests) => list(format, StatusCode::OK, "service_requests", "request", &requests),
        Err(e) => from_app(format, e),
    }
}

/// `GET /open311/v2/{tenant}/requests.xml`: as `requests.json`, as `<service_requests>`.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/requests.xml", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    responses(
        (status = 200, content_type = "text/xml", body = String, description = "`<service_requests><request>…</request></service_requests>`"),
        (status = 400, content_type = "text/xml", body = String, description = "`<errors>`"),
        (status = 404, content_type = "text/xml", body = String, description = "`<errors>`"),
    )
)]
pub async fn get_requests_xml(state: State<AppState>, format: Format, slug: Path<String>, query: RawQuery) -> Response {
    get_requests(state, format, slug, query).await
}

/// `POST /open311/v2/{tenant}/requests.xml`: as `requests.json`, answered as `<service_requests>`.
#[utoipa::path(
    post, path = "/open311/v2/{tenant}/requests.xml", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    request_body(content_type = "application/x-www-form-urlencoded", content = NewServiceRequest),
    responses(
        (status = 201, content_type = "text/xml", body = String, description = "`<service_requests><request><service_request_id>…`"),
        (status = 400, content_type = "text/xml", body = String, description = "`<errors>`: bad input"),
        (status = 403, content_type = "text/xml", body = String, description = "`<errors>`: missing or wrong api_key"),
        (status = 404, content_type = "text/xml", body = String, description = "`<errors>`"),
    )
)]
pub async fn post_request_xml(
    state: State<AppState>,
    format: Format,
    slug: Path<String>,
    query: RawQuery,
    body: Bytes,
) -> Response {
    post_request(state, format, slug, query, body).await
}

/// `GET /open311/v2/{tenant}/requests/{service_request_id}.xml` or `.json`: one request, in a
/// list as the standard has it.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/requests/{request_file}", tag = "open311",
    params(
        ("tenant" = String, Path, description = "Tenant slug (the jurisdiction)"),
        ("request_file" = String, Path, description = "`{service_request_id}.json` or `{service_request_id}.xml`"),
    ),
    responses((status = 200, body = [ServiceRequest]), (status = 404, body = [Open311Error]))
)]
pub async fn get_request(
    State(state): State<AppState>,
    format: Format,
    Path((slug, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let (tenant, id) = match tenant_and_name(&state, &slug, format, query.as_deref(), &file).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let result = open311::report(&state.ctx, &tenant, id).await.map(to_request(&tenant));
    match result {
        Ok(r) => list(format, StatusCode::OK, "service_requests", "request", &[r]),
        Err(e) => from_app(format, e),
    }
}

/// What a token stands for. Requests are filed at once, so a request's token is its
/// `service_request_id`: a client that asks the standard's way gets the id it already has.
#[derive(Serialize, ToSchema)]
pub struct TokenAnswer {
    pub service_request_id: String,
    pub token: String,
}

/// `GET /open311/v2/{tenant}/tokens/{token}.xml` or `.json`: the request a token stands for.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/tokens/{token_file}", tag = "open311",
    params(
        ("tenant" = String, Path, description = "Tenant slug (the jurisdiction)"),
        ("token_file" = String, Path, description = "`{token}.json` or `{token}.xml`"),
    ),
    responses((status = 200, body = [TokenAnswer]), (status = 404, body = [Open311Error]))
)]
pub async fn token(
    State(state): State<AppState>,
    format: Format,
    Path((slug, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let (tenant, token) = match tenant_and_name(&state, &slug, format, query.as_deref(), &file).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match open311::report(&state.ctx, &tenant, token).await {
        Ok(r) => list(
            format,
            StatusCode::OK,
            "service_requests",
            "request",
            &[TokenAnswer {
                service_request_id: r.public_id,
                token: token.to_string(),
            }],
        ),
        Err(AppError::NotFound) => error(
            format,
            StatusCode::NOT_FOUND,
            format!("no request with token {token:?}"),
        ),
        Err(e) => from_app(format, e),
    }
}

/// The standard's discovery document: where the endpoint is, in which formats, whom to ask.
#[derive(Serialize, ToSchema)]
pub struct Discovery {
    pub changeset: DateTime<Utc>,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Clone, Serialize, ToSchema)]
pub struct Endpoint {
    pub specification: String,
    pub url: String,
    pub changeset: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: String,
    pub formats: Vec<String>,
}

/// Discovery as XML has it: `<endpoints><endpoint>…<formats><format>…`.
#[derive(Serialize)]
struct DiscoveryXml<'a> {
    changeset: DateTime<Utc>,
    contact: &'a str,
    key_service: &'a str,
    endpoints: EndpointsXml<'a>,
}

#[derive(Serialize)]
struct EndpointsXml<'a> {
    endpoint: Vec<EndpointXml<'a>>,
}

#[derive(Serialize)]
struct EndpointXml<'a> {
    specification: &'a str,
    url: &'a str,
    changeset: DateTime<Utc>,
    #[serde(rename = "type")]
    kind: &'a str,
    formats: FormatsXml<'a>,
}

#[derive(Serialize)]
struct FormatsXml<'a> {
    format: &'a [String],
}

/// When this endpoint last changed what it serves (the XML format and discovery came then).
const CHANGESET: &str = "2026-12-07T00:00:00Z";

/// `GET /open311/v2/{tenant}/discovery.json`: the tenant's endpoint, its formats and contact.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/discovery.json", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    responses((status = 200, body = Discovery), (status = 404, body = [Open311Error]))
)]
pub async fn discovery(
    State(state): State<AppState>,
    format: Format,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let tenant = match tenant(&state, &slug, format, &fields(query.as_deref(), b"")).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let hotline = match open311::hotline(&state.ctx, &tenant).await {
        Ok(h) => h,
        Err(e) => return from_app(format, e),
    };
    let changeset = parse_time(CHANGESET).unwrap_or_default();
    let document_value = Discovery {
        changeset,
        contact: format!("{}：投诉热线 {hotline}", tenant.name),
        key_service: format!(
            "API keys (api_key) are issued by {}'s administrators on the platform (Admin → API keys).",
            tenant.name
        ),
        endpoints: vec![Endpoint {
            specification: "http://wiki.open311.org/GeoReport_v2".into(),
            url: format!("{}/open311/v2/{}", state.config.public_origin(), tenant.slug),
            changeset,
            kind: "production".into(),
            formats: vec!["text/xml".into(), "application/json".into()],
        }],
    };
    let endpoints = document_value
        .endpoints
        .iter()
        .map(|e| EndpointXml {
            specification: &e.specification,
            url: &e.url,
            changeset: e.changeset,
            kind: &e.kind,
            formats: FormatsXml { format: &e.formats },
        })
        .collect();
    let xml_form = DiscoveryXml {
        changeset,
        contact: &document_value.contact,
        key_service: &document_value.key_service,
        endpoints: EndpointsXml { endpoint: endpoints },
    };
    document(format, "discovery", &document_value, &xml_form)
}

/// `GET /open311/v2/{tenant}/discovery.xml`: as `discovery.json`, as `<discovery>`.
#[utoipa::path(
    get, path = "/open311/v2/{tenant}/discovery.xml", tag = "open311",
    params(("tenant" = String, Path, description = "Tenant slug (the jurisdiction)")),
    responses(
        (status = 200, content_type = "text/xml", body = String, description = "`<discovery>`"),
        (status = 404, content_type = "text/xml", body = String, description = "`<errors>`"),
    )
)]
pub async fn discovery_xml(state: State<AppState>, format: Format, slug: Path<String>, query: RawQuery) -> Response {
    discovery(state, format, slug, query).await
}
