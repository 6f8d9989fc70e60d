//! A market's plan drawn as SVG, one drawing for every page that shows it: the public map, the
//! officials' live wall (whose stream sends the same drawing again when something changes), the
//! vendor's own slot and the admin's editor. Drawn at a fixed size per cell so labels stay
//! legible on a phone (the page scrolls and zooms it, never shrinks it to a thumbnail); every
//! slot carries its state in words, so colour is never the only signal.

use askama::Template;
use uuid::Uuid;

use crate::error::{AppError, HttpError, HttpResult};
use crate::web::layout::Page;
use nightmarket_domain::code::Colour;
use nightmarket_domain::market::Category;
use nightmarket_domain::plan::{LandmarkKind, Rect};
use nightmarket_services::checkins::Presence;
use nightmarket_services::plan::{MarketMap, Plan, PlanLandmark};

/// Pixels per grid cell.
pub const CELL: u32 = 56;

/// One slot as drawn.
pub struct SlotItem {
    pub slot_id: Uuid,
    pub code: String,
    pub category: Category,
    pub place: Rect,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// The stall's name cut to what fits the rectangle.
    pub name: Option<String>,
    /// Where tapping the slot leads (its stall's scan page).
    pub href: Option<String>,
    pub colour: Option<Colour>,
    pub presence: Option<Presence>,
    /// The state in words: "营业中 · 红码".
    pub state: String,
    /// Everything a screen reader says about the slot.
    pub label: String,
    pub complaints: i64,
    pub highlighted: bool,
}

pub struct LandmarkItem {
    pub kind: LandmarkKind,
    pub cx: u32,
    pub cy: u32,
    pub glyph: &'static str,
    pub label: String,
    pub cell_x: u16,
    pub cell_y: u16,
    pub raw_label: String,
}

#[derive(Template)]
#[template(path = "plan/svg.html")]
pub struct PlanSvg {
    pub page: Page,
    /// The element id (a page may carry more than one drawing).
    pub id: &'static str,
    pub columns: u16,
    pub rows: u16,
    pub width: u32,
    pub height: u32,
    pub slots: Vec<SlotItem>,
    pub landmarks: Vec<LandmarkItem>,
    /// The admin's editor: slots are not links, and carry their cells for the script.
    pub editor: bool,
    /// The picture of the street under the grid (its URL), if there is one.
    pub background: Option<String>,
}

impl PlanSvg {
    /// The drawing as markup, to put into a page (or a live event) as it is.
    pub fn html(&self) -> HttpResult<String> {
        self.render().map_err(|e| HttpError(AppError::Internal(e.into())))
    }

    fn cell(&self) -> u32 {
        CELL
    }

    /// Grid lines, in pixels, for the editor's background.
    fn grid_xs(&self) -> Vec<u32> {
        (1..u32::from(self.columns)).map(|c| c * CELL).collect()
    }

    fn grid_ys(&self) -> Vec<u32> {
        (1..u32::from(self.rows)).map(|r| r * CELL).collect()
    }
}

fn presence_key(p: Presence, opened: bool) -> &'static str {
    match p {
        Presence::Open => "map.trading",
        Presence::Left => "map.left",
        Presence::Absent if opened => "map.absent",
        Presence::Absent => "map.not_yet",
    }
}

/// The name cut to the characters that fit `width` pixels at the drawing's font size.
fn fit(name: &str, width: u32) -> String {
    // A Chinese character is about 13 px wide at 13 px; a Latin one about half that.
    let budget = width.saturating_sub(8) * 2 / 13;
    let mut used = 0;
    let mut out = String::new();
    for c in name.chars() {
        let cost = if c.is_ascii() { 1 } else { 2 };
        if used + cost > budget {
            out.pop();
            out.push('…');
            return out;
        }
        used += cost;
        out.push(c);
    }
    out
}

fn landmark(page: &Page, l: &PlanLandmark) -> LandmarkItem {
    let kind_name = page.t(l.kind.label_key());
    LandmarkItem {
        kind: l.kind,
        cx: u32::from(l.x) * CELL + CELL / 2,
        cy: u32::from(l.y) * CELL + CELL / 2,
        glyph: l.kind.glyph(),
        label: if l.label.is_empty() {
            kind_name
        } else {
            format!("{kind_name}: {}", l.label)
        },
        cell_x: l.x,
        cell_y: l.y,
        raw_label: l.label.clone(),
    }
}

/// Where the picture under a market's plan is served, versioned by its hash.
pub fn background_url(tenant_slug: &str, market: Uuid, sha: Option<&str>) -> Option<String> {
    sha.map(|sha| {
        format!(
            "/t/{tenant_slug}/m/{market}/map/background?v={}",
            &sha[..sha.len().min(12)]
        )
    })
}

fn frame(page: Page, id: &'static str, columns: u16, rows: u16, editor: bool) -> PlanSvg {
    PlanSvg {
        background: None,
        page,
        id,
        columns,
        rows,
        width: u32::from(columns) * CELL,
        height: u32::from(rows) * CELL,
        slots: Vec::new(),
        landmarks: Vec::new(),
        editor,
    }
}

fn slot_item(code: &str, category: Category, slot_id: Uuid, place: Rect) -> SlotItem {
    SlotItem {
        slot_id,
        code: code.to_string(),
        category,
        place,
        x: u32::from(place.x) * CELL,
        y: u32::from(place.y) * CELL,
        w: u32::from(place.w) * CELL,
        h: u32::from(place.h) * CELL,
        name: None,
        href: None,
        colour: None,
        presence: None,
        state: String::new(),
        label: String::new(),
        complaints: 0,
        highlighted: false,
    }
}

/// Tonight's map: each slot with its stall's name, colour and state, a link to its scan page.
/// `highlight` marks one slot (the vendor's own); `complaints` draws the open complaints.
pub fn map(
    page: &Page,
    tenant_slug: &str,
    id: &'static str,
    m: &MarketMap,
    highlight: Option<Uuid>,
    complaints: bool,
) -> PlanSvg {
    let mut svg = frame(page.clone(), id, m.columns, m.rows, false);
    svg.background = background_url(tenant_slug, m.market_id, m.background.as_deref());
    svg.slots = m
        .slots
        .iter()
        .map(|s| {
            let mut item = slot_item(&s.code, s.category, s.slot_id, s.place);
            item.highlighted = highlight == Some(s.slot_id);
            let category = page.t(s.category.label_key());
            match &s.stall {
                Some(st) => {
                    let presence = page.t(presence_key(st.presence, m.opened));
                    let colour = page.t(st.colour.label_key());
                    item.state = format!("{presence} · {colour}");
                    item.name = Some(fit(&st.name, item.w));
                    item.href = Some(st.scan_path.clone());
                    item.colour = Some(st.colour);
                    item.presence = Some(st.presence);
                    item.complaints = if complaints { s.open_complaints } else { 0 };
                    item.label = format!("{} {} ({category}): {presence}, {colour}", s.code, st.name);
                    if item.complaints > 0 {
                        item.label
                            .push_str(&format!(", {}", page.tr("map.complaints_open", "n", item.complaints)));
                    }
                }
                None => {
                    item.state = page.t("map.vacant");
                    item.label = format!("{} ({category}): {}", s.code, item.state);
                }
            }
            if item.highlighted {
                item.label.push_str(&format!(" — {}", page.t("map.yours")));
            }
            item
        })
        .collect();
    svg.landmarks = m.landmarks.iter().map(|l| landmark(page, l)).collect();
    svg
}

/// The plan as the admin's editor draws it: every placed slot, no stalls.
pub fn editor(page: &Page, tenant_slug: &str, plan: &Plan) -> PlanSvg {
    let mut svg = frame(page.clone(), "plan-editor", plan.columns, plan.rows, true);
    svg.background = background_url(tenant_slug, plan.market_id, plan.background.as_deref());
    svg.slots = plan
        .placed()
        .map(|(s, place)| {
            let mut item = slot_item(&s.code, s.category, s.id, place);
            item.state = page.t(s.category.label_key());
            item.label = format!("{} ({})", s.code, item.state);
            item
        })
        .collect();
    svg.landmarks = plan.landmarks.iter().map(|l| landmark(page, l)).collect();
    svg
}

impl SlotItem {
    fn classes(&self) -> String {
        let mut c = format!("slot cat-{}", self.category.as_str());
        match (self.colour, self.presence) {
            (Some(colour), Some(p)) => {
                c.push_str(" colour-");
                c.push_str(colour.as_str());
                c.push_str(match p {
                    Presence::Open => " open",
                    Presence::Left => " left",
                    Presence::Absent => " absent",
                });
            }
            _ => c.push_str(" vacant"),
        }
        if self.highlighted {
            c.push_str(" mine");
        }
        if self.complaints > 0 {
            c.push_str(" complained");
        }
        c
    }
}

/// The market's map with the vendor's slot marked, for their application and stall pages; None
/// while the slot is not chosen or not on the plan.
pub async fn vendor_slot(
    state: &crate::state::AppState,
    page: &Page,
    tenant: &nightmarket_domain::tenant::Tenant,
    market: Uuid,
    slot: Option<Uuid>,
) -> HttpResult<Option<String>> {
    let Some(slot) = slot else { return Ok(None) };
    let tonight = nightmarket_services::plan::public_map(&state.ctx, tenant, market).await?;
    if !tonight.slots.iter().any(|s| s.slot_id == slot) {
        return Ok(None);
    }
    let mut svg = map(page, &tenant.slug, "my-slot-map", &tonight, Some(slot), false);
    // The vendor's own pages are not for browsing the others' stalls: no links on this one.
    for s in &mut svg.slots {
        s.href = None;
    }
    Ok(Some(svg.html()?))
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn names_are_cut_to_the_slot() {
        assert_eq!(fit("王记烧烤", 112), "王记烧烤");
        assert_eq!(fit("重庆老火锅串串香", 56), "重庆…");
        assert_eq!(fit("Tea", 56), "Tea");
    }
}
