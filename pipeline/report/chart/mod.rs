//! Inline SVG charts for the reports: trend lines over the cycles, diverging
//! stacked bars for Likert item distributions, and the heatmap cell palette.
//!
//! This module owns how numbers look: colours, layout, legends, the split of a
//! distribution into left and right segments, and the "geen gegevens" chart
//! that stands in when there is nothing to draw. It does not compute
//! statistics (scores and confidence intervals come from `aggregate`), does
//! not decide what may be shown (the privacy floor is applied before data
//! gets here) and does not write the HTML around the SVG (`report`). Every
//! function returns a complete `<svg>` and never panics on odd input: a
//! plotters error becomes a small chart with a message instead.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::error::Error;

mod svg;
use svg::{render, Dashes};

/// One point of a trend line: a period label and its value on the 0-100 (POMP) scale.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrendPoint {
    /// Period label; drawn only if it equals one of [`TrendChart::periods`].
    pub period: String,
    /// Mean on the POMP scale; `None` (or NaN) breaks the line.
    pub value: Option<f64>,
    /// Lower bound of the 95% confidence interval.
    pub ci_low: Option<f64>,
    /// Upper bound of the 95% confidence interval.
    pub ci_high: Option<f64>,
    /// The period has a value, hidden to protect a small group: drawn as a
    /// hollow marker on the axis with the word "niet getoond", never as a
    /// number (and the line breaks there).
    pub hidden: bool,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SeriesStyle {
    /// The unit the report is about: thick blue line with points, drawn on top.
    #[default]
    Primary,
    /// A comparison such as the region or the country: dashed grey line.
    Benchmark,
    /// Another line of interest: thinner solid line in a colour-blind-safe hue.
    Secondary,
}

/// A line over the periods; `band` draws its 95% confidence band
/// (ci_low..ci_high) as a translucent area.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrendSeries {
    /// Name shown in the legend.
    pub label: String,
    /// How the line is drawn.
    pub style: SeriesStyle,
    /// Whether to draw the confidence band.
    pub band: bool,
    /// Points in any order; matched to the periods by label.
    pub points: Vec<TrendPoint>,
}

/// The words a chart draws, in the report's language (the reports fill
/// them from the translation table; the default is Dutch).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartWords {
    /// A chart without data.
    pub no_data: String,
    /// A chart that could not be drawn.
    pub failed: String,
    /// The confidence band in the legend.
    pub band: String,
    /// The same, short, before a series' name.
    pub band_short: String,
    /// "Not applicable", short.
    pub not_applicable: String,
    /// Below a distribution.
    pub caption: String,
    /// Added to the caption for an odd number of points.
    pub middle_note: String,
    /// An item without answers.
    pub no_answers: String,
    /// Below a period whose value is hidden to protect a small group.
    pub hidden: String,
    /// The title of a legend drawn apart from its charts.
    pub legend: String,
}

impl Default for ChartWords {
    fn default() -> Self {
        ChartWords {
            no_data: "geen gegevens".into(),
            failed: "grafiek kon niet worden getekend".into(),
            band: "95%-betrouwbaarheidsinterval".into(),
            band_short: "95%-BI".into(),
            not_applicable: "n.v.t.".into(),
            caption: "% van de antwoorden zonder n.v.t.".into(),
            middle_note: "; middelste categorie half links, half rechts".into(),
            no_answers: "geen antwoorden".into(),
            hidden: "niet getoond".into(),
            legend: "legenda".into(),
        }
    }
}

/// A trend chart: x axis = `periods` in order (e.g. "2019".."2024"), y = 0-100.
/// `version_breaks`: (index into periods where a new instrument version
/// starts, label such as "D-RECT 2016") drawn as a dashed vertical line with
/// the label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrendChart {
    /// Chart title, drawn top left.
    pub title: String,
    /// Y axis description such as "POMP (0-100)"; empty for none.
    pub y_label: String,
    /// X axis categories in display order.
    pub periods: Vec<String>,
    /// Lines to draw.
    pub series: Vec<TrendSeries>,
    /// Instrument version changes; indexes past the last period are ignored.
    pub version_breaks: Vec<(usize, String)>,
    /// Horizontal reference lines (value on 0-100, label, whether it is an
    /// upper one such as the strength threshold), drawn dotted in orange
    /// (lower) or blue (upper) and labelled at the right.
    pub thresholds: Vec<(f64, String, bool)>,
    /// Fit the y axis to the data and thresholds (in steps of 10, at least
    /// 20 wide) instead of 0-100: a drop from 71 to 66 is visible.
    pub fit_y: bool,
    /// The legend is drawn once for all charts of a section ([`legend_svg`])
    /// instead of in this chart; the threshold lines are then named there
    /// too, not beside the lines.
    pub legend_apart: bool,
    /// The scale of the values where it is not 0-100 (a 1-10 grade, shown
    /// on its own scale as everywhere in the reports): values, bands,
    /// thresholds and the axis are on it.
    pub y_domain: Option<(f64, f64)>,
    /// A y range set by the caller, overriding the fit: small multiples
    /// share one ([`shared_y_range`]) so their heights compare.
    pub y_fixed: Option<(f64, f64)>,
    /// The words it draws.
    pub words: ChartWords,
}

impl TrendChart {
    /// The scale the values are on: 0-100, or the chart's own.
    fn domain(&self) -> (f64, f64) {
        self.y_domain
            .filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo < hi)
            .unwrap_or((0.0, 100.0))
    }

    /// The step the axis is rounded to: 10 on 0-100, 1 on a 1-10 grade.
    fn y_step(&self) -> f64 {
        let (lo, hi) = self.domain();
        ((hi - lo) / 10.0).round().max(1.0)
    }

    /// The y range: the whole scale, or fitted to every value, band and
    /// threshold.
    fn y_range(&self, lines: &[Prepared]) -> (f64, f64) {
        if let Some((lo, hi)) = self.y_fixed.filter(|(lo, hi)| lo < hi) {
            return (lo, hi);
        }
        let (d_lo, d_hi) = self.domain();
        if !self.fit_y {
            return (d_lo, d_hi);
        }
        let all = lines
            .iter()
            .flat_map(|l| l.values.iter().chain(&l.lows).chain(&l.highs))
            .flatten()
            .copied()
            .chain(self.thresholds.iter().map(|t| t.0))
            .filter(|v| v.is_finite());
        let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        if lo > hi {
            return (d_lo, d_hi);
        }
        // On 0-100: padded by 3 and rounded out to tens; the same shares of
        // another scale.
        let (span, step) = (d_hi - d_lo, self.y_step());
        let pad = 0.03 * span;
        let mut lo = ((lo - pad) / step).floor() * step;
        let mut hi = ((hi + pad) / step).ceil() * step;
        // At least 20 points of the 0-100 scale: the fitted axis should
        // show a real change (71 to 66, a significant drop) but not blow a
        // change of one or two points, within the noise of a group of 10
        // respondents, up to the full height of the chart.
        while hi - lo < MIN_SPAN / 100.0 * span - 1e-9 {
            lo -= step / 2.0;
            hi += step / 2.0;
        }
        // Shift a range that runs past the scale's ends back inside,
        // keeping its width.
        if hi > d_hi {
            lo = (lo - (hi - d_hi)).max(d_lo);
            hi = d_hi;
        }
        if lo < d_lo {
            hi = (hi + (d_lo - lo)).min(d_hi);
            lo = d_lo;
        }
        (lo, hi)
    }
}

/// Answer counts of one item, per scale point from low to high, plus not applicable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DistributionRow {
    /// Item text; wrapped to three lines, shortened with "…" beyond that.
    pub label: String,
    /// Count per scale point, lowest first; short rows are padded with zeros.
    pub counts: Vec<u64>,
    /// "Niet van toepassing" answers: printed as a count, not part of the bar.
    pub not_applicable: u64,
}

/// Diverging stacked bars (Likert): bars centred on the neutral point (for an
/// odd number of points the middle category is split half left, half right;
/// for even, none), disagreement to the left, agreement to the right, as
/// percentages of the answers excluding not-applicable. `point_labels` label
/// the scale points for the legend.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Distribution {
    /// Chart title, drawn top left.
    pub title: String,
    /// Legend text per scale point, lowest first.
    pub point_labels: Vec<String>,
    /// One bar per item, top to bottom.
    pub rows: Vec<DistributionRow>,
    /// The words it draws.
    pub words: ChartWords,
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn Error>>;
type Anchor = (HPos, VPos);
const TOP: Anchor = (HPos::Center, VPos::Top);
const TOP_LEFT: Anchor = (HPos::Left, VPos::Top);
const LEFT: Anchor = (HPos::Left, VPos::Center);
const CENTRE: Anchor = (HPos::Center, VPos::Center);

const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
const GRID: RGBColor = RGBColor(0xe0, 0xe0, 0xe0);
const ZEBRA: RGBColor = RGBColor(0xf5, 0xf5, 0xf5);
// Okabe-Ito hues: distinguishable under the common colour-vision deficiencies.
/// Threshold lines: the heatmap's orange (improvement) and blue (strength),
/// dark enough for thin lines.
const THRESHOLD_LOW: RGBColor = RGBColor(0xB3, 0x58, 0x06);
const THRESHOLD_HIGH: RGBColor = RGBColor(0x21, 0x66, 0xAC);
const PRIMARY: [RGBColor; 2] = [RGBColor(0x00, 0x72, 0xb2), RGBColor(0xd5, 0x5e, 0x00)];
const SECONDARY: [RGBColor; 4] = [
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xcc, 0x79, 0xa7),
    RGBColor(0x56, 0xb4, 0xe9),
];
const BENCHMARK: [RGBColor; 2] = [RGBColor(0x5f, 0x5f, 0x5f), RGBColor(0x99, 0x99, 0x99)];
// Orange to blue (ColorBrewer PuOr/RdBu hues) stays apart for red-green
// deficiencies; both ends are kept mid-light so black text passes WCAG AA.
const HEAT_STOPS: [(f64, [u8; 3]); 5] = [
    (0.0, [0xe6, 0x61, 0x01]),
    (25.0, [0xfd, 0xb8, 0x63]),
    (50.0, [0xf7, 0xf7, 0xf7]),
    (75.0, [0x92, 0xc5, 0xde]),
    (100.0, [0x43, 0x93, 0xc3]),
];
// Likert bars: the same hues with stronger ends (their labels turn white) and
// a grey neutral, so the middle category stands out from the white page.
const LIKERT_LOW: [[u8; 3]; 2] = [[0xb3, 0x58, 0x06], [0xfd, 0xb8, 0x63]];
const LIKERT_HIGH: [[u8; 3]; 2] = [[0x92, 0xc5, 0xde], [0x21, 0x66, 0xac]];
const NEUTRAL: [u8; 3] = [0xcc, 0xcc, 0xcc];
/// Average glyph width in em: DejaVu Sans (the Linux default) is about 0.55
/// on mixed-case Dutch text and Arial about 0.5, so layouts from it do not
/// collide. Plotters' own estimate (0.45) is too narrow for this.
const EM_W: f64 = 0.55;
const LEGEND_ROW: i32 = 20;
/// The narrowest fitted y axis, in points of the 0-100 scale.
const MIN_SPAN: f64 = 20.0;
/// How strongly a confidence band is tinted with its line's colour (on
/// white, solid): 0.35 gives the band 1.7:1 against the page, so it stays
/// visible on paper and in greyscale (0.18 gave 1.2:1), while the line on
/// it keeps 3:1 (WCAG's minimum for graphics); a thin edge of the line's
/// colour outlines it besides.
const BAND_TINT: f64 = 0.35;

/// Background colour ("#rrggbb") for a heatmap cell on the 0-100 scale: a
/// colour-blind-safe diverging palette centred on 50 (orange below, near-white
/// at 50, blue above), readable with black text at every value. Values outside
/// 0-100 are clamped; NaN (no score) gives neutral grey "#dddddd".
pub fn heat_colour(pomp: f64) -> String {
    hex(heat_rgb(pomp))
}

/// Background colour of a heatmap cell by the region's own thresholds:
/// below `improvement` an orange that deepens over the 20 points below it,
/// at or above `strength` a blue that deepens over the 15 points above it,
/// between them a near-white grey. Colour-blind safe (orange and blue), and
/// black text reads on every shade.
pub fn band_colour(pomp: f64, improvement: f64, strength: f64) -> String {
    if !pomp.is_finite() {
        return "#dddddd".into();
    }
    let mix = |a: (u8, u8, u8), b: (u8, u8, u8), t: f64| {
        let t = t.clamp(0.0, 1.0);
        let c = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
        format!("#{:02x}{:02x}{:02x}", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
    };
    if pomp < improvement {
        mix(
            (0xfd, 0xdb, 0xb8),
            (0xf1, 0xa3, 0x40),
            (improvement - pomp) / 20.0,
        )
    } else if pomp >= strength {
        mix(
            (0xd1, 0xe5, 0xf0),
            (0x67, 0xa9, 0xcf),
            (pomp - strength) / 15.0,
        )
    } else {
        "#f4f4f2".into()
    }
}

/// Whether dark or light text reads best on `heat_colour(pomp)` ("#000000" or
/// "#ffffff"), by WCAG contrast; with this palette it is always black.
pub fn heat_text_colour(pomp: f64) -> String {
    let dark = dark_text_on(heat_rgb(pomp));
    if dark { "#000000" } else { "#ffffff" }.to_string()
}

/// Draws a trend chart as an SVG of `width` x `height` pixels (at least
/// 320 x 200; 720 x 360 suits an A4 report column). With no drawable value it
/// returns a 100 px high "geen gegevens" chart; when the legend would leave
/// too little room (many series in a small chart) or plotters fails, a chart
/// saying "grafiek kon niet worden getekend".
pub fn trend_svg(chart: &TrendChart, width: u32, height: u32) -> String {
    let decimals = usize::from(chart.y_step() < 10.0);
    // A text alternative: each line's first and last value.
    let desc: Vec<String> = chart
        .series
        .iter()
        .filter_map(|s| {
            let pts: Vec<(&str, f64)> = chart
                .periods
                .iter()
                .filter_map(|p| {
                    let v = s.points.iter().find(|x| x.period == *p)?;
                    Some((p.as_str(), finite(v.value)?))
                })
                .collect();
            let hidden: Vec<&str> = chart
                .periods
                .iter()
                .filter(|p| s.points.iter().any(|x| x.period == **p && x.hidden))
                .map(String::as_str)
                .collect();
            let hidden = match hidden.is_empty() {
                true => String::new(),
                false => format!(" ({} {})", chart.words.hidden, hidden.join(", ")),
            };
            match (pts.first(), pts.last()) {
                // (A grade keeps its decimal: 7.4, not 7.)
                (Some(first), Some(last)) => Some(format!(
                    "{}: {} {:.*}, {} {:.*}{hidden}",
                    s.label, first.0, decimals, first.1, last.0, decimals, last.1
                )),
                _ if !hidden.is_empty() => Some(format!("{}:{hidden}", s.label)),
                _ => None,
            }
        })
        .collect();
    accessible(
        trend_svg_inner(chart, width, height),
        &chart.title,
        &desc.join("; "),
    )
}

/// Gives an SVG `role="img"`, a `<title>` and a `<desc>`: screen readers
/// read them, and a browser shows the title on hover.
fn accessible(svg: String, title: &str, desc: &str) -> String {
    let Some(end) = svg.find('>') else {
        return svg;
    };
    let (head, rest) = svg.split_at(end);
    let title = if title.trim().is_empty() {
        "grafiek"
    } else {
        title
    };
    format!(
        "{head} role=\"img\"><title>{}</title><desc>{}</desc>{}",
        esc(title),
        esc(desc),
        &rest[1..]
    )
}

fn trend_svg_inner(chart: &TrendChart, width: u32, height: u32) -> String {
    let (w, h) = (width.max(320), height.max(200));
    // A hidden value is drawn too (as a marker that says so).
    let drawable = |p: &TrendPoint| {
        (finite(p.value).is_some() || p.hidden) && chart.periods.contains(&p.period)
    };
    if !chart.series.iter().flat_map(|s| &s.points).any(drawable) {
        return message_svg(w, 100, &chart.title, &chart.words.no_data);
    }
    render(w, h, |root, dashes| draw_trend(root, dashes, chart, w, h))
        .unwrap_or_else(|| message_svg(w, h, &chart.title, &chart.words.failed))
}

/// Draws diverging Likert bars `width` pixels wide (at least 320; 720 suits an
/// A4 report column); the height follows from the rows and their labels.
pub fn diverging_svg(d: &Distribution, width: u32) -> String {
    let desc = format!("{} items; {}", d.rows.len(), d.point_labels.join(", "));
    accessible(diverging_svg_inner(d, width), &d.title, &desc)
}

fn diverging_svg_inner(d: &Distribution, width: u32) -> String {
    let w = width.max(320);
    let k = d.rows.iter().map(|r| r.counts.len()).max().unwrap_or(0);
    let k = k.max(d.point_labels.len());
    if d.rows.is_empty() || k == 0 {
        return message_svg(w, 100, &d.title, &d.words.no_data);
    }
    let lay = DivLayout::new(d, k, w as f64);
    render(w, lay.height, |root, dashes| {
        draw_diverging(root, dashes, d, k, &lay)
    })
    .unwrap_or_else(|| message_svg(w, 100, &d.title, &d.words.failed))
}

fn heat_rgb(pomp: f64) -> [u8; 3] {
    if pomp.is_nan() {
        return [0xdd; 3];
    }
    let v = pomp.clamp(0.0, 100.0);
    let i = HEAT_STOPS.iter().rposition(|s| s.0 <= v);
    let i = i.unwrap_or(0).min(3);
    let ((a, ca), (b, cb)) = (HEAT_STOPS[i], HEAT_STOPS[i + 1]);
    mix(ca, cb, (v - a) / (b - a))
}

/// Start and end of each category on a -100..100 axis, as percentages of the
/// answers given; `None` when there are no answers.
fn diverging_segments(counts: &[u64]) -> Option<Vec<(f64, f64)>> {
    // Summed as f64: a u64 sum could overflow, and the shares are fractions anyway.
    let total: f64 = counts.iter().map(|&c| c as f64).sum();
    if total == 0.0 {
        return None;
    }
    let pct: Vec<f64> = counts.iter().map(|&c| 100.0 * c as f64 / total).collect();
    let half = pct.len() / 2;
    let middle = pct.get(half).filter(|_| pct.len() % 2 == 1).unwrap_or(&0.0);
    let mut start = -pct[..half].iter().sum::<f64>() - middle / 2.0;
    let mut out = Vec::new();
    for p in pct {
        out.push((start, start + p));
        start += p;
    }
    Some(out)
}

/// Colour of scale point `i` of `k`: orange shades low, grey middle, blue high.
fn likert_colour(i: usize, k: usize) -> RGBColor {
    let half = k / 2;
    // With one shade per side (3- or 4-point scales) take the middle one.
    let t = |j: usize| j as f64 / (half.max(2) - 1) as f64 + if half > 1 { 0.0 } else { 0.5 };
    let c = match i {
        _ if k % 2 == 1 && i == half => NEUTRAL,
        _ if i < half => mix(LIKERT_LOW[0], LIKERT_LOW[1], t(i)),
        _ => mix(LIKERT_HIGH[0], LIKERT_HIGH[1], t(i - (k - half))),
    };
    RGBColor(c[0], c[1], c[2])
}

fn mix(a: [u8; 3], b: [u8; 3], t: f64) -> [u8; 3] {
    let f = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t.clamp(0.0, 1.0)).round() as u8;
    [f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2])]
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// WCAG 2 relative luminance.
fn luminance(c: [u8; 3]) -> f64 {
    let lin = |v: u8| match v as f64 / 255.0 {
        s if s <= 0.03928 => s / 12.92,
        s => ((s + 0.055) / 1.055).powf(2.4),
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// True when black contrasts more with `bg` than white does (WCAG ratio).
fn dark_text_on(bg: [u8; 3]) -> bool {
    let l = luminance(bg);
    (l + 0.05) / 0.05 >= 1.05 / (l + 0.05)
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// Control characters are invalid in XML 1.0 even when escaped. `< > & " '`
/// are left alone: plotters-svg 0.3.7 escapes text itself (`escape_and_push`),
/// and escaping twice would show "&amp;lt;" to the reader.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Escapes for the hand-written message SVG, which plotters never sees.
fn esc(s: &str) -> String {
    let s = clean(s).replace('&', "&amp;").replace('<', "&lt;");
    s.replace('>', "&gt;").replace('"', "&quot;")
}

fn text_w(px: f64, s: &str) -> f64 {
    s.chars().count() as f64 * px * EM_W
}

/// Shortens `s` with "…" so it fits `max_w` pixels at `px`.
fn fit(s: &str, px: f64, max_w: f64) -> String {
    let (s, max) = (clean(s), (max_w / (px * EM_W)).max(1.0) as usize);
    match s.chars().count() <= max {
        true => s,
        false => s.chars().take(max - 1).chain(['…']).collect(),
    }
}

/// Word-wraps `s` into at most `lines` lines of `max_w` pixels; text beyond
/// the last line is cut off with "…".
fn wrap(s: &str, px: f64, max_w: f64, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in clean(s).split_whitespace() {
        if !cur.is_empty() && text_w(px, &format!("{cur} {word}")) > max_w {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    out.push(cur);
    if out.len() > lines {
        let rest = out.split_off(lines - 1).join(" ");
        out.push(rest);
    }
    out.iter().map(|l| fit(l, px, max_w)).collect()
}

/// Text style whose rendered `font-size` is `px` (plotters divides by 1.24).
fn font(px: f64, ink: &RGBColor) -> TextStyle<'static> {
    ("sans-serif", px * 1.24).into_font().color(ink)
}

fn text(root: &Area, s: &str, at: (i32, i32), px: f64, ink: RGBColor, a: Anchor) -> DrawResult {
    let style = font(px, &ink).pos(Pos::new(a.0, a.1));
    root.draw(&Text::new(s.to_string(), at, style))?;
    Ok(())
}

fn rect(root: &Area<'_>, a: (i32, i32), b: (i32, i32), fill: impl Color) -> DrawResult {
    root.draw(&Rectangle::new([a, b], fill.filled()))?;
    Ok(())
}

/// White background and the bold title at the top left.
fn frame(root: &Area<'_>, title: &str) -> DrawResult {
    root.fill(&WHITE)?;
    let w = root.dim_in_pixel().0 as f64;
    let bold = ("sans-serif", 15.0 * 1.24, FontStyle::Bold).into_font();
    let style = bold.color(&INK).pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(fit(title, 16.5, w - 20.0), (10, 8), style))?;
    Ok(())
}

/// The stand-in chart that cannot fail: title plus a centred message.
fn message_svg(w: u32, h: u32, title: &str, message: &str) -> String {
    let (title, message) = (esc(&fit(title, 16.5, w as f64 - 20.0)), esc(message));
    let (cx, cy) = (w / 2, h / 2 + 14);
    format!(
        r##"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif"><rect width="{w}" height="{h}" fill="#ffffff" stroke="#e0e0e0"/><text x="10" y="22" font-size="15" font-weight="bold" fill="#333333">{title}</text><text x="{cx}" y="{cy}" font-size="13" text-anchor="middle" fill="#666666">{message}</text></svg>"##
    )
}

/// The shape drawn at a line's points: the second cue besides colour, so
/// lines stay apart in greyscale and for every colour vision.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Marker {
    /// A filled circle (the line the report is about).
    Dot,
    Square,
    Triangle,
    Diamond,
    /// No marker on a run of points (benchmarks: their dashes are the cue).
    Plain,
}

/// How a trend line looks: colour, stroke width, dash length (0 = solid)
/// and the marker at its points.
#[derive(Clone, Copy)]
struct Look {
    colour: RGBColor,
    width: u32,
    dash: u32,
    marker: Marker,
}

/// A legend symbol.
enum Mark {
    /// A line with its marker.
    Line(Look),
    /// A filled box (a band, a scale point).
    Fill(RGBAColor),
    /// A dotted threshold line.
    Threshold(RGBColor),
    /// The hollow marker of a hidden value.
    Hidden,
}

/// Places legend entries left to right, wrapping at `max_w`: (x, row, text)
/// per entry, and the number of rows.
fn legend_layout(items: &[(Mark, String)], max_w: f64) -> (Vec<(i32, i32, String)>, i32) {
    let (mut x, mut row, mut out) = (0.0, 0, Vec::new());
    for (_, label) in items {
        let label = fit(label, 12.0, max_w - 32.0);
        let w = 48.0 + text_w(12.0, &label);
        if x > 0.0 && x + w > max_w {
            (x, row) = (0.0, row + 1);
        }
        out.push((x as i32, row, label));
        x += w;
    }
    (out, row + 1)
}

/// Draws a marker centred on a pixel.
fn marker(root: &Area<'_>, at: (i32, i32), m: Marker, colour: RGBColor, r: i32) -> DrawResult {
    let (x, y) = at;
    let fill = colour.filled();
    match m {
        Marker::Dot => root.draw(&Circle::new(at, r, fill))?,
        Marker::Square => {
            let r = r - 1;
            root.draw(&Rectangle::new([(x - r, y - r), (x + r, y + r)], fill))?
        }
        Marker::Triangle => {
            let pts = vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)];
            root.draw(&Polygon::new(pts, fill))?
        }
        Marker::Diamond => {
            let pts = vec![
                (x, y - r - 1),
                (x + r + 1, y),
                (x, y + r + 1),
                (x - r - 1, y),
            ];
            root.draw(&Polygon::new(pts, fill))?
        }
        Marker::Plain => root.draw(&Circle::new(at, r - 1, fill))?,
    }
    Ok(())
}

/// The hollow marker of a hidden value: a white circle with a ring.
fn hollow(root: &Area<'_>, at: (i32, i32), colour: RGBColor) -> DrawResult {
    root.draw(&Circle::new(at, 5, WHITE.filled()))?;
    root.draw(&Circle::new(at, 5, colour.stroke_width(2)))?;
    Ok(())
}

fn draw_legend(
    root: &Area<'_>,
    dashes: &Dashes,
    items: &[(Mark, String)],
    at: (i32, i32),
    w: f64,
) -> DrawResult {
    for ((mark, _), (dx, row, label)) in items.iter().zip(legend_layout(items, w).0) {
        let (x, y) = (at.0 + dx, at.1 + row * LEGEND_ROW + LEGEND_ROW / 2);
        match mark {
            Mark::Line(look) => {
                let pts = vec![(x, y), (x + 24, y)];
                let style = look.colour.stroke_width(look.width);
                match look.dash {
                    0 => root.draw(&PathElement::new(pts, style))?,
                    d => dashes.draw(root, pts, d, 4, style)?,
                }
                if look.marker != Marker::Plain {
                    marker(root, (x + 12, y), look.marker, look.colour, 4)?;
                }
            }
            Mark::Fill(fill) => rect(root, (x, y - 6), (x + 24, y + 6), *fill)?,
            Mark::Threshold(colour) => {
                let pts = vec![(x, y), (x + 24, y)];
                dashes.draw(root, pts, 2, 3, colour.stroke_width(2))?
            }
            Mark::Hidden => hollow(root, (x + 12, y), INK)?,
        }
        text(root, &label, (x + 30, y), 12.0, INK, LEFT)?;
    }
    Ok(())
}

/// Splits values aligned to the periods into runs of consecutive present
/// points, (index, value); a gap ends a run.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match (v, out.last_mut()) {
            (Some(y), Some(run)) if i > 0 && values[i - 1].is_some() => run.push((i as f64, *y)),
            (Some(y), _) => out.push(vec![(i as f64, *y)]),
            (None, _) => {}
        }
    }
    out
}

/// One series made ready to draw: values and bands aligned to the periods.
struct Prepared {
    look: Look,
    style: SeriesStyle,
    values: Vec<Option<f64>>,
    lows: Vec<Option<f64>>,
    highs: Vec<Option<f64>>,
    /// Periods whose value is hidden (and so not in `values`).
    hidden: Vec<bool>,
}

/// The solid tint of a confidence band in its line's colour.
fn band_rgb(c: RGBColor) -> RGBColor {
    let [r, g, b] = mix([0xff; 3], [c.0, c.1, c.2], BAND_TINT);
    RGBColor(r, g, b)
}

/// The look of the `i`th series of a style.
fn look_of(style: SeriesStyle, i: usize) -> Look {
    let (colour, width, dash, marker) = match style {
        SeriesStyle::Primary => (PRIMARY[i % 2], 3, 0, Marker::Dot),
        // Colour and marker shape change together, and every other line is
        // dashed: three cues, so even the fifth line differs from the first.
        SeriesStyle::Secondary => (
            SECONDARY[i % 4],
            2,
            [0, 6][i / 3 % 2],
            [Marker::Square, Marker::Triangle, Marker::Diamond][i % 3],
        ),
        // Region and country differ in dash length as well as in grey.
        SeriesStyle::Benchmark => (BENCHMARK[i % 2], 2, [8, 3][i % 2], Marker::Plain),
    };
    Look {
        colour,
        width,
        dash,
        marker,
    }
}

/// Aligns each series to the periods (points of unknown periods are dropped,
/// values clamped to 0-100) and picks its look; also builds the legend.
fn prepare(c: &TrendChart) -> (Vec<Prepared>, Vec<(Mark, String)>) {
    let (mut out, mut legend, mut bands) = (Vec::new(), Vec::new(), Vec::new());
    let mut nth = [0usize; 3];
    for s in &c.series {
        let i = nth[s.style as usize];
        nth[s.style as usize] += 1;
        let look = look_of(s.style, i);
        let (mut values, mut lows, mut highs, mut hidden) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for period in &c.periods {
            let p = s.points.iter().find(|q| q.period == *period);
            let get = |f: fn(&TrendPoint) -> Option<f64>| finite(p.and_then(f));
            let (d_lo, d_hi) = c.domain();
            let pct = |v: f64| v.clamp(d_lo, d_hi);
            let gone = p.is_some_and(|p| p.hidden);
            values.push(get(|p| p.value).map(pct).filter(|_| !gone));
            let ci = get(|p| p.ci_low).zip(get(|p| p.ci_high)).filter(|_| s.band);
            let ci = ci.filter(|_| !gone);
            lows.push(ci.map(|(a, b)| pct(a.min(b))));
            highs.push(ci.map(|(a, b)| pct(a.max(b))));
            hidden.push(gone);
        }
        legend.push((Mark::Line(look), s.label.clone()));
        if s.band {
            bands.push((look, s.label.clone()));
        }
        let style = s.style;
        out.push(Prepared {
            look,
            style,
            values,
            lows,
            highs,
            hidden,
        });
    }
    for (look, label) in &bands {
        let label = match bands.len() {
            1 => c.words.band.clone(),
            _ => format!("{} {label}", c.words.band_short),
        };
        legend.push((Mark::Fill(band_rgb(look.colour).to_rgba()), label));
    }
    (out, legend)
}

/// One y range that holds every chart's own (fitted) range: set it as
/// their `y_fixed` so small multiples are read against the same axis.
pub fn shared_y_range(charts: &[&TrendChart]) -> Option<(f64, f64)> {
    charts
        .iter()
        .map(|c| c.y_range(&prepare(c).0))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)))
}

/// The legend of a set of charts drawn with `legend_apart`, once, `width`
/// pixels wide: the lines of the first chart (the others have the same
/// kinds of line), the band, the thresholds, and the hidden-value marker
/// where any chart has a hidden value. An image with a title like every
/// chart; empty when there are no charts.
pub fn legend_svg(charts: &[&TrendChart], width: u32) -> String {
    let Some(first) = charts.first() else {
        return String::new();
    };
    let w = width.max(320);
    let mut items = prepare(first).1;
    for (_, label, upper) in &first.thresholds {
        let colour = if *upper {
            THRESHOLD_HIGH
        } else {
            THRESHOLD_LOW
        };
        items.push((Mark::Threshold(colour), label.clone()));
    }
    let hidden = charts
        .iter()
        .flat_map(|c| &c.series)
        .flat_map(|s| &s.points)
        .any(|p| p.hidden);
    if hidden {
        items.push((Mark::Hidden, first.words.hidden.clone()));
    }
    let rows = legend_layout(&items, w as f64 - 20.0).1;
    let h = (rows * LEGEND_ROW + 8) as u32;
    let desc: Vec<&str> = items.iter().map(|(_, l)| l.as_str()).collect();
    let svg = render(w, h, |root, dashes| {
        root.fill(&WHITE)?;
        draw_legend(root, dashes, &items, (10, 4), w as f64 - 20.0)
    })
    .unwrap_or_else(|| message_svg(w, 60, &first.words.legend, &first.words.failed));
    accessible(svg, &first.words.legend, &desc.join("; "))
}

fn draw_trend(root: &Area<'_>, dashes: &Dashes, c: &TrendChart, w: u32, h: u32) -> DrawResult {
    frame(root, &c.title)?;
    let (n, max_w) = (c.periods.len(), w as f64 - 20.0);
    let (lines, legend) = prepare(c);
    let legend_h = match c.legend_apart {
        true => 0,
        false => legend_layout(&legend, max_w).1 * LEGEND_ROW + 6,
    };
    if h as i32 - legend_h < 150 {
        // The legend would leave no room for the plot: say so rather than draw a mess.
        return Err("legend too tall for the chart height".into());
    }
    if !c.legend_apart {
        draw_legend(root, dashes, &legend, (10, h as i32 - legend_h), max_w)?;
    }
    let any_hidden = lines.iter().any(|l| l.hidden.iter().any(|h| *h));

    let (y_lo, y_hi) = c.y_range(&lines);
    let has_y_label = !c.y_label.trim().is_empty();
    let y_area = if has_y_label { 56 } else { 36 };
    let plot_w = w as f64 - y_area as f64 - 24.0;
    let area = root.margin(34, legend_h + 4, 8, 16);
    // Room for a second line under the periods: the word for a hidden value.
    let x_area = if any_hidden { 40 } else { 26 };
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y_lo..y_hi)?;
    let y_fmt = |y: &f64| format!("{y:.0}");
    // One label per step of the axis (every 10 on 0-100, every point of a
    // grade), at most 7.
    let y_labels = (((y_hi - y_lo) / c.y_step()).round() as usize + 1).clamp(2, 7);
    let mut mesh = chart.configure_mesh();
    // Period labels are drawn by hand below: plotters puts f64 axis ticks on
    // "nice" numbers, not on every category.
    mesh.disable_x_mesh().x_labels(0).y_labels(y_labels);
    mesh.y_label_formatter(&y_fmt).axis_style(MUTED);
    mesh.light_line_style(TRANSPARENT).bold_line_style(GRID);
    mesh.label_style(font(12.0, &INK));
    mesh.axis_desc_style(font(12.0, &INK));
    if has_y_label {
        mesh.y_desc(fit(&c.y_label, 12.0, h as f64 - 120.0));
    }
    mesh.draw()?;

    // Thin out period labels that would touch; counting back from the last
    // keeps the most recent period labelled.
    let mut label_w: f64 = 0.0;
    for p in &c.periods {
        label_w = label_w.max(text_w(12.0, &clean(p))).min(plot_w);
    }
    let step = (n as f64 * (label_w + 10.0) / plot_w).ceil().max(1.0);
    for i in (0..n).rev().step_by(step as usize) {
        let (px, py) = chart.backend_coord(&(i as f64, y_lo));
        root.draw(&PathElement::new(vec![(px, py), (px, py + 4)], MUTED))?;
        let label = fit(&c.periods[i], 12.0, label_w);
        // Keep the outermost labels inside the canvas rather than cut off.
        let half = (text_w(12.0, &label) / 2.0) as i32 + 6;
        let x = px.min(w as i32 - half).max(half);
        text(root, &label, (x, py + 7), 12.0, INK, TOP)?;
    }

    for line in &lines {
        let fill = band_rgb(line.look.colour).filled();
        let c = line.look.colour;
        let [r, g, b] = mix([0xff; 3], [c.0, c.1, c.2], 0.7);
        let edge = RGBColor(r, g, b).stroke_width(1);
        for (lo, hi) in runs(&line.lows).into_iter().zip(runs(&line.highs)) {
            if let [(x, y0)] = lo[..] {
                // A lone interval has no width as an area: draw it as a bar.
                let bar = [(x - 0.06, y0), (x + 0.06, hi[0].1)];
                chart.draw_series([Rectangle::new(bar, fill)])?;
            } else {
                let poly: Vec<_> = hi.iter().chain(lo.iter().rev()).copied().collect();
                chart.draw_series([Polygon::new(poly, fill)])?;
                // The band's edges: it keeps its outline in greyscale.
                chart.draw_series([PathElement::new(hi, edge), PathElement::new(lo, edge)])?;
            }
        }
    }

    let mut breaks = Vec::new();
    for (i, label) in c.version_breaks.iter().filter(|b| b.0 < n) {
        let x = (*i as f64 - 0.5).max(-0.5);
        let pts = vec![
            chart.backend_coord(&(x, y_lo)),
            chart.backend_coord(&(x, y_hi)),
        ];
        dashes.draw(root, pts, 5, 4, INK.into())?;
        breaks.push((x, fit(label, 11.0, plot_w / 2.0)));
    }

    // The thresholds: dotted, in the heatmap's colours; labelled at the
    // right unless the legend apart names them.
    for (v, label, upper) in c.thresholds.iter().filter(|t| t.0 > y_lo && t.0 < y_hi) {
        let colour = if *upper {
            THRESHOLD_HIGH
        } else {
            THRESHOLD_LOW
        };
        let pts = vec![
            chart.backend_coord(&(-0.5, *v)),
            chart.backend_coord(&(n as f64 - 0.5, *v)),
        ];
        dashes.draw(root, pts, 2, 3, colour.stroke_width(2))?;
        if c.legend_apart {
            continue;
        }
        let (px, py) = chart.backend_coord(&(n as f64 - 0.5, *v));
        let label = fit(label, 10.0, plot_w / 3.0);
        // (TOP centres the text on x.)
        let x = px - (text_w(10.0, &label) / 2.0) as i32 - 4;
        text(root, &label, (x, py - 12), 10.0, colour, TOP)?;
    }

    // Benchmarks first and Primary last, so the line the report is about lies on top.
    let order = [
        SeriesStyle::Benchmark,
        SeriesStyle::Secondary,
        SeriesStyle::Primary,
    ];
    for style in order {
        for line in lines.iter().filter(|l| l.style == style) {
            let look = line.look;
            let stroke = look.colour.stroke_width(look.width);
            for run in runs(&line.values) {
                if run.len() > 1 && look.dash > 0 {
                    let pts = run.iter().map(|p| chart.backend_coord(p)).collect();
                    dashes.draw(root, pts, look.dash, 4, stroke)?;
                } else if run.len() > 1 {
                    chart.draw_series(LineSeries::new(run.clone(), stroke))?;
                }
                // Lines with a marker show it at every point; the others
                // only an isolated point, which would otherwise not be
                // drawn at all.
                if look.marker != Marker::Plain || run.len() == 1 {
                    let r = if style == SeriesStyle::Primary { 4 } else { 3 };
                    for p in &run {
                        let at = chart.backend_coord(p);
                        marker(root, at, look.marker, look.colour, r)?;
                    }
                }
            }
        }
    }

    // Hidden values: a hollow marker on the axis in the line's colour (side
    // by side where several lines hide the same period), and the word under
    // the period. Never a number.
    for i in 0..n {
        let of_period: Vec<&Prepared> = lines.iter().filter(|l| l.hidden[i]).collect();
        if of_period.is_empty() {
            continue;
        }
        let (px, py) = chart.backend_coord(&(i as f64, y_lo));
        let k = of_period.len() as i32;
        for (j, line) in of_period.iter().enumerate() {
            let x = px - 6 * (k - 1) + 12 * j as i32;
            hollow(root, (x, py - 7), line.look.colour)?;
        }
        text(root, &c.words.hidden, (px, py + 22), 10.0, MUTED, TOP)?;
    }

    // Break labels last, on a white backing; a label that would run past the
    // plot goes left of its line, and one that would overlap steps down.
    let right = chart.plotting_area().get_pixel_range().0.end;
    let mut placed: Vec<(i32, i32, i32)> = Vec::new();
    for (x, label) in breaks {
        let (px, top) = chart.backend_coord(&(x, y_hi));
        let tw = text_w(11.0, &label) as i32;
        let x0 = if px + 4 + tw > right {
            px - 4 - tw
        } else {
            px + 4
        };
        let mut y = top + 3;
        let overlaps = |y: i32, &(a, b, py): &(i32, i32, i32)| py == y && x0 < b && a < x0 + tw;
        while placed.iter().any(|p| overlaps(y, p)) {
            y += 15;
        }
        placed.push((x0, x0 + tw, y));
        rect(
            root,
            (x0 - 2, y - 1),
            (x0 + tw + 2, y + 13),
            WHITE.mix(0.85),
        )?;
        text(root, &label, (x0, y), 11.0, INK, TOP_LEFT)?;
    }
    Ok(())
}

/// Pixel geometry of a diverging chart, computed first so the height is known.
struct DivLayout {
    labels: Vec<Vec<String>>,
    bar_x: (f64, f64),
    /// Top and height of each row; a row grows with its label's line count.
    rows: Vec<(i32, i32)>,
    bottom: i32,
    height: u32,
}

impl DivLayout {
    fn new(d: &Distribution, k: usize, w: f64) -> Self {
        let label_w = (w * 0.34).clamp(100.0, 340.0);
        let (mut labels, mut rows, mut n_w, mut y) = (Vec::new(), Vec::new(), 0.0, 36);
        for r in &d.rows {
            let label = wrap(&r.label, 12.0, label_w - 8.0, 3);
            let h = 16 + 14 * label.len() as i32;
            (n_w, y) = (text_w(11.0, &n_text(r, &d.words)).max(n_w), y + h);
            rows.push((y - h, h));
            labels.push(label);
        }
        let legend_rows = legend_layout(&legend_items(d, k), w - 20.0).1;
        let height = (y + 48 + legend_rows * LEGEND_ROW) as u32;
        let bar_x = (label_w + 16.0, w - n_w - 14.0);
        DivLayout {
            labels,
            bar_x,
            rows,
            bottom: y,
            height,
        }
    }
}

fn n_text(r: &DistributionRow, words: &ChartWords) -> String {
    let n = r.counts.iter().fold(0u64, |a, &c| a.saturating_add(c));
    match r.not_applicable {
        0 => format!("n={n}"),
        nvt => format!("n={n} ({} {nvt})", words.not_applicable),
    }
}

fn legend_items(d: &Distribution, k: usize) -> Vec<(Mark, String)> {
    let label = |i: usize| d.point_labels.get(i).cloned();
    let item = |i| {
        (
            likert_colour(i, k).to_rgba(),
            label(i).unwrap_or((i + 1).to_string()),
        )
    };
    (0..k).map(item).map(|(c, l)| (Mark::Fill(c), l)).collect()
}

fn draw_diverging(
    root: &Area<'_>,
    dashes: &Dashes,
    d: &Distribution,
    k: usize,
    lay: &DivLayout,
) -> DrawResult {
    frame(root, &d.title)?;
    let w = root.dim_in_pixel().0 as i32;
    let ((bx0, bx1), bottom) = (lay.bar_x, lay.bottom);
    let x_of = |p: f64| ((bx0 + bx1) / 2.0 + p / 100.0 * (bx1 - bx0) / 2.0).round() as i32;

    // Backgrounds and grid first: the centre line stays behind the bars so it
    // never strikes through a percentage on the neutral segment.
    for &(y0, h) in lay.rows.iter().skip(1).step_by(2) {
        // Zebra rows help the eye follow a wrapped label to its bar.
        rect(root, (4, y0), (w - 4, y0 + h), ZEBRA)?;
    }
    for p in [-100.0_f64, -50.0, 0.0, 50.0, 100.0] {
        let (line, label) = match p {
            0.0 => (INK, "0".to_string()),
            _ => (GRID, format!("{}%", p.abs())),
        };
        let x = x_of(p);
        root.draw(&PathElement::new(vec![(x, 32), (x, bottom + 2)], line))?;
        text(root, &label, (x, bottom + 5), 11.0, MUTED, TOP)?;
    }
    let note = match k % 2 {
        1 => d.words.middle_note.as_str(),
        _ => "",
    };
    let caption = format!("{}{note}", d.words.caption);
    let caption = fit(&caption, 11.0, w as f64 - 20.0);
    text(root, &caption, (w / 2, bottom + 21), 11.0, MUTED, TOP)?;

    for (i, row) in d.rows.iter().enumerate() {
        let ((y0, h), label) = (lay.rows[i], &lay.labels[i]);
        let mid = y0 + h / 2;
        for (j, line) in label.iter().enumerate() {
            let y = mid - 7 * (label.len() as i32 - 1) + 14 * j as i32;
            text(root, line, (10, y), 12.0, INK, LEFT)?;
        }
        text(
            root,
            &n_text(row, &d.words),
            (bx1 as i32 + 8, mid),
            11.0,
            MUTED,
            LEFT,
        )?;
        let mut counts = row.counts.clone();
        counts.resize(k, 0);
        let Some(segs) = diverging_segments(&counts) else {
            let (x, half) = (
                x_of(0.0),
                (text_w(11.0, &d.words.no_answers) / 2.0) as i32 + 4,
            );
            let bg = if i % 2 == 1 { ZEBRA } else { WHITE };
            rect(root, (x - half, mid - 8), (x + half, mid + 8), bg)?;
            text(root, &d.words.no_answers, (x, mid), 11.0, MUTED, CENTRE)?;
            continue;
        };
        for (j, &(a, b)) in segs.iter().enumerate() {
            let (xa, xb, colour) = (x_of(a), x_of(b), likert_colour(j, k));
            if xb <= xa {
                continue;
            }
            rect(root, (xa, mid - 9), (xb, mid + 9), colour)?;
            let pct = format!("{:.0}%", b - a);
            if (xb - xa) as f64 >= text_w(10.0, &pct) + 4.0 {
                let dark = dark_text_on([colour.0, colour.1, colour.2]);
                let ink = if dark { BLACK } else { WHITE };
                text(root, &pct, ((xa + xb) / 2, mid), 10.0, ink, CENTRE)?;
            }
        }
    }
    draw_legend(
        root,
        dashes,
        &legend_items(d, k),
        (10, bottom + 40),
        w as f64 - 20.0,
    )
}

#[cfg(test)]
mod tests;
