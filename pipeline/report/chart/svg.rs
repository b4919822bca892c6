//! The SVG document of a chart: plotters draws into a string, and the
//! dashed lines are given their dashes afterwards (`Dashes`).

use std::cell::RefCell;

use plotters::prelude::*;

use super::{Area, DrawResult};

/// Draws a chart `w` by `h` pixels; `None` when plotters fails.
pub(super) fn render(
    w: u32,
    h: u32,
    draw: impl FnOnce(&Area<'_>, &Dashes) -> DrawResult,
) -> Option<String> {
    let mut buf = String::new();
    let dashes = Dashes::default();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        draw(&root, &dashes).ok()?;
        root.present().ok()?;
    }
    Some(dashes.apply(buf))
}

/// Dashed lines as one SVG polyline with a `stroke-dasharray` each.
/// plotters draws a dashed line as one polyline per dash: a trend chart's
/// threshold and comparison lines came to hundreds of elements, most of
/// the time spent on a report's charts. A dashed line is drawn solid with
/// an opacity no other element has (`DASH_MARK`); once the SVG is written,
/// `apply` gives the marked lines, in the order they were drawn, their own
/// opacity and their dashes.
#[derive(Default)]
pub(super) struct Dashes(RefCell<Vec<(f64, u32, u32)>>);

/// The opacity that marks a dashed line, as plotters writes it
/// (`format!("{}", alpha)`).
pub(super) const DASH_MARK: &str = "0.99999";

impl Dashes {
    /// Draws the line through `pts` (pixels) in `dash` pixels of line and
    /// `gap` pixels of space.
    pub(super) fn draw(
        &self,
        root: &Area<'_>,
        pts: Vec<(i32, i32)>,
        dash: u32,
        gap: u32,
        style: ShapeStyle,
    ) -> DrawResult {
        let mut marked = style;
        marked.color.3 = DASH_MARK.parse().unwrap_or(1.0);
        root.draw(&PathElement::new(pts, marked))?;
        self.0.borrow_mut().push((style.color.3, dash, gap));
        Ok(())
    }

    /// The SVG with each marked line given its opacity and dashes.
    fn apply(self, mut svg: String) -> String {
        let mark = format!("opacity=\"{DASH_MARK}\"");
        for (opacity, dash, gap) in self.0.into_inner() {
            let to = format!("opacity=\"{opacity}\" stroke-dasharray=\"{dash} {gap}\"");
            svg = svg.replacen(&mark, &to, 1);
        }
        svg
    }
}
