//! PDF documents (a credit record to print or e-mail), laid out as lines of text on A4 pages in
//! a CJK font from the system, subset into the file (a few KB instead of megabytes).
//!
//! The font is found once, at first use: `--pdf-font`, else the usual places of Debian's
//! fonts-droid-fallback, fonts-noto-cjk and fonts-wqy packages. Without one, PDFs are refused
//! with a clear message and the HTML page and signed JSON still serve.

use printpdf::{
    BuiltinFont, Mm, Op, ParsedFont, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem,
};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::error::{AppError, AppResult};

/// Where a CJK font is looked for when none is configured.
pub const FONT_CANDIDATES: [&str; 4] = [
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
];

/// The font PDFs are set in, loaded at first use.
#[derive(Clone, Default)]
pub struct PdfFont {
    configured: Option<PathBuf>,
    loaded: Arc<OnceLock<Option<ParsedFont>>>,
}

impl PdfFont {
    pub fn new(configured: Option<PathBuf>) -> PdfFont {
        PdfFont {
            configured,
            loaded: Arc::default(),
        }
    }

    fn get(&self) -> Option<&ParsedFont> {
        self.loaded
            .get_or_init(|| {
                let paths: Vec<PathBuf> = match &self.configured {
                    Some(p) => vec![p.clone()],
                    None => FONT_CANDIDATES.iter().map(PathBuf::from).collect(),
                };
                for path in paths {
                    let Ok(bytes) = std::fs::read(&path) else { continue };
                    match ParsedFont::from_bytes(&bytes, 0, &mut Vec::new()) {
                        Some(font) => {
                            tracing::info!(path = %path.display(), "PDF font loaded");
                            return Some(font);
                        }
                        None => tracing::warn!(path = %path.display(), "PDF font unreadable"),
                    }
                }
                tracing::warn!("no CJK font for PDFs (install fonts-droid-fallback or pass --pdf-font)");
                None
            })
            .as_ref()
    }
}

/// A line of a document.
pub enum Line {
    Title(String),
    Heading(String),
    Text(String),
    /// Small print (signature, key id).
    Small(String),
    Gap,
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;

impl Line {
    fn size(&self) -> f32 {
        match self {
            Line::Title(_) => 18.0,
            Line::Heading(_) => 13.0,
            Line::Text(_) | Line::Gap => 10.5,
            Line::Small(_) => 7.5,
        }
    }
}

/// Splits `text` so each piece fits `width_mm` at `size` points (CJK characters a full em wide,
/// others half).
fn wrap(text: &str, size: f32, width_mm: f32) -> Vec<String> {
    let em_mm = size * 0.3528;
    let max_units = (width_mm / em_mm * 2.0).floor().max(8.0) as usize;
    let mut out = Vec::new();
    let mut line = String::new();
    let mut units = 0;
    for c in text.chars() {
        let w = if c.is_ascii() { 1 } else { 2 };
        if units + w > max_units {
            out.push(std::mem::take(&mut line));
            units = 0;
        }
        line.push(c);
        units += w;
    }
    out.push(line);
    out
}

/// Splits text into runs of printable ASCII (true) and everything else (false).
fn runs(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let latin = c.is_ascii() && !c.is_ascii_control();
        match out.last_mut() {
            Some((l, run)) if *l == latin => run.push(c),
            _ => out.push((latin, c.to_string())),
        }
    }
    out
}

/// Lays the lines out on as many A4 pages as they need.
pub fn document(font: &PdfFont, title: &str, lines: &[Line]) -> AppResult<Vec<u8>> {
    let parsed = font
        .get()
        .ok_or(AppError::NotInstalled(crate::error::Msg::new("pdf.no_font")))?;
    let mut doc = PdfDocument::new(title);
    let id = doc.add_font(parsed);
    let mut pages = Vec::new();
    let mut ops = Vec::new();
    let mut y = PAGE_H - MARGIN;
    for line in lines {
        let size = line.size();
        let text = match line {
            Line::Title(t) | Line::Heading(t) | Line::Text(t) | Line::Small(t) => t.as_str(),
            Line::Gap => "",
        };
        let step = size * 0.3528 * 1.5;
        let before = match line {
            Line::Heading(_) => step * 0.6,
            _ => 0.0,
        };
        for piece in wrap(text, size, PAGE_W - 2.0 * MARGIN) {
            y -= step + before;
            if y < MARGIN {
                pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), std::mem::take(&mut ops)));
                y = PAGE_H - MARGIN - step;
            }
            if piece.is_empty() {
                continue;
            }
            ops.extend([
                Op::StartTextSection,
                Op::SetTextCursor {
                    pos: Point {
                        x: Mm(MARGIN).into(),
                        y: Mm(y).into(),
                    },
                },
            ]);
            // CJK fallback fonts carry no Latin letters or digits: those are set in Helvetica,
            // one of the fonts every PDF reader has; each run continues where the last ended.
            for (latin, run) in runs(&piece) {
                let font = if latin {
                    PdfFontHandle::Builtin(BuiltinFont::Helvetica)
                } else {
                    PdfFontHandle::External(id.clone())
                };
                ops.extend([
                    Op::SetFont { font, size: Pt(size) },
                    Op::ShowText {
                        items: vec![TextItem::Text(run)],
                    },
                ]);
            }
            ops.push(Op::EndTextSection);
        }
    }
    pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    let mut warnings = Vec::new();
    Ok(doc.with_pages(pages).save(&PdfSaveOptions::default(), &mut warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_by_width() {
        let pieces = wrap(&"信".repeat(100), 10.5, 174.0);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| p.chars().count() <= 47));
        assert_eq!(pieces.concat(), "信".repeat(100));
        assert_eq!(wrap("short", 10.5, 174.0), vec!["short".to_string()]);
    }

    #[test]
    fn latin_and_cjk_runs_alternate() {
        assert_eq!(
            runs("核验码 nanan-7K3F：有效"),
            vec![
                (false, "核验码".to_string()),
                (true, " nanan-7K3F".to_string()),
                (false, "：有效".to_string())
            ]
        );
    }

    #[test]
    fn a_missing_font_is_a_clear_refusal() {
        let font = PdfFont::new(Some(PathBuf::from("/nonexistent/font.ttf")));
        assert!(matches!(
            document(&font, "x", &[Line::Text("x".into())]),
            Err(AppError::NotInstalled(_))
        ));
    }
}
