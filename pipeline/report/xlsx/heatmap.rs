//! The heatmap sheet: the cycle's scores, unit × instrument subscale, as
//! the reports show them.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Color, Format, Workbook};

use super::super::views::{grade_range, shown, versions_in};
use super::sheet::{Formats, Kind, Sheet, X};
use super::Words;
use crate::score::TOTAL;
use crate::table::{Cell, Level};

/// One instrument's columns in the heatmap.
struct Block {
    instrument: String,
    /// The latest version in the cycle: its subscales and their names.
    version: String,
    /// Subscales, total last.
    scales: Vec<String>,
}

/// The cycle's scores of every unit, one row per unit and a column per
/// instrument subscale (with the instrument's respondents), as the reports
/// show them: a score on 0-100 with one decimal, a grade on its own scale,
/// `*` after an indicative score, and a suppressed cell as the reports'
/// word for it, never a number. Coloured by the region's thresholds.
pub(super) fn heatmap(book: &mut Workbook, w: &Words, cycle: &str, f: &Formats) -> X<()> {
    let ctx = w.ctx;
    let config = ctx.config;
    let of_cycle: Vec<&Cell> = ctx
        .published
        .cells
        .iter()
        .filter(|c| c.period == cycle)
        .collect();
    // Instruments in display order, each with its latest version and
    // every subscale a unit has in the cycle.
    let mut versions: BTreeMap<&str, &str> = BTreeMap::new();
    for c in &of_cycle {
        let v = versions
            .entry(&c.instrument)
            .or_insert(&c.instrument_version);
        if c.instrument_version.as_str() > *v {
            *v = &c.instrument_version;
        }
    }
    let mut blocks: Vec<Block> = versions
        .iter()
        .map(|(i, v)| {
            let seen = |s: &str| {
                of_cycle
                    .iter()
                    .any(|c| c.instrument == *i && c.scale_id == s)
            };
            let mut scales: Vec<String> = config
                .catalogue
                .get(i, v)
                .map(|d| d.subscales.iter().map(|s| s.id.clone()).collect())
                .unwrap_or_default();
            scales.retain(|s| seen(s));
            for c in of_cycle.iter().filter(|c| c.instrument == *i) {
                if c.scale_id != TOTAL && !scales.contains(&c.scale_id) {
                    scales.push(c.scale_id.clone());
                }
            }
            scales.push(TOTAL.into());
            Block {
                instrument: i.to_string(),
                version: v.to_string(),
                scales,
            }
        })
        .collect();
    let order = |id: &str| {
        config
            .catalogue
            .iter()
            .find(|d| d.id == id)
            .map_or(99, |d| d.display_order())
    };
    blocks.sort_by_key(|b| order(&b.instrument));

    let mut columns = vec![
        w.col("level", Kind::Text),
        w.col("unit_id", Kind::Text),
        w.col("unit", Kind::Text),
        w.col("rso", Kind::Text),
    ];
    for b in &blocks {
        let name = w.names.instrument(&b.instrument);
        columns.push((format!("{name}: n"), Kind::Count));
        for s in &b.scales {
            let mut head = format!("{name}: {}", w.names.scale(&b.instrument, &b.version, s));
            if let Some((lo, hi)) = grade_range(ctx.config, &b.instrument, &b.version, s) {
                head.push_str(&format!(" ({lo}-{hi})"));
            }
            columns.push((head, Kind::Score));
        }
    }
    // Rows: departments by RSO, then institutions, RSOs and regions.
    let mut units: Vec<(Level, &str, Option<&str>)> = Vec::new();
    for c in &of_cycle {
        let key = (c.level, c.unit_id.as_str(), c.rso_id.as_deref());
        if units.last().is_none_or(|u| (u.0, u.1) != (key.0, key.1)) {
            units.push(key);
        }
    }
    let mut rows: Vec<(Level, &str, String, String)> = units
        .into_iter()
        .map(|(level, id, rso)| {
            let rso = match level {
                Level::Department | Level::Rso => rso.map(|r| w.names.rso(r)).unwrap_or_default(),
                _ => String::new(),
            };
            (level, id, w.names.unit(level, id), rso)
        })
        .collect();
    rows.dedup_by(|a, b| (a.0, a.1) == (b.0, b.1));
    let rank = |l: Level| Level::ALL.iter().position(|x| *x == l).unwrap_or(0);
    rows.sort_by(|a, b| (rank(a.0), &a.3, &a.2).cmp(&(rank(b.0), &b.3, &b.2)));

    let mut s = Sheet::new(book, &w.word("xl_sheet_heatmap"), &columns, f, 3)?;
    let head_wrap = Format::new().set_bold().set_text_wrap();
    for (i, (head, _)) in columns.iter().enumerate().skip(4) {
        s.ws.write_string_with_format(0, i as u16, head, &head_wrap)?;
    }
    let bands = BandFormats::new();
    let names = &w.names;
    for (level, unit, name, rso) in &rows {
        s.next_row();
        s.text(0, w.level(*level))?;
        s.text(1, unit)?;
        s.text(2, name)?;
        s.text(3, rso)?;
        let mut col = 4u16;
        let unit_versions = versions_in(&config.catalogue, ctx.published, *level, unit, cycle);
        for b in &blocks {
            let version = unit_versions
                .iter()
                .find(|(i, _)| *i == b.instrument)
                .map(|(_, v)| v.as_str());
            let floor = version.map_or(config.privacy_floor, |v| config.floor_of(&b.instrument, v));
            let cell = |scale: &str| {
                version.and_then(|v| {
                    ctx.published
                        .cell(*level, unit, &b.instrument, v, scale, cycle)
                })
            };
            // The instrument's respondents: of its total, where shown.
            let total = cell(TOTAL).map(|c| shown(Some(c), floor, names));
            s.num(col, total.and_then(|t| t.n).map(|n| n as f64))?;
            col += 1;
            for scale in &b.scales {
                if let Some(c) = cell(scale) {
                    let sc = shown(Some(c), floor, names);
                    let grade = grade_range(config, &c.instrument, &c.instrument_version, scale);
                    match sc.value {
                        Some(p) if !sc.suppressed => {
                            let v = if grade.is_some() {
                                c.mean.unwrap_or(p)
                            } else {
                                p
                            };
                            s.ws.write_number_with_format(
                                s.row,
                                col,
                                v,
                                bands.of(&sc.band, sc.indicative),
                            )?;
                        }
                        // The reports' word, never the number.
                        _ => {
                            s.ws.write_string_with_format(s.row, col, &sc.text, &bands.hidden)?;
                        }
                    }
                }
                col += 1;
            }
        }
    }
    s.finish()
}

/// A score cell's formats: one decimal, a `*` after an indicative score,
/// and the region's band as the fill (the reports' colours).
struct BandFormats {
    /// low, mid, high; then the same indicative.
    scores: Vec<Format>,
    hidden: Format,
}

impl BandFormats {
    fn new() -> BandFormats {
        // The reports' band colours (their lightest shade), and underlined
        // outside the neutral band: a second cue besides colour.
        let bands = [(0xFDDBB8, true), (0xF4F4F2, false), (0xD1E5F0, true)];
        let mut scores = Vec::new();
        for indicative in [false, true] {
            for (rgb, underline) in bands {
                let mut f = Format::new()
                    .set_num_format(if indicative { "0.0\"*\"" } else { "0.0" })
                    .set_background_color(Color::RGB(rgb));
                if underline {
                    f = f.set_underline(rust_xlsxwriter::FormatUnderline::Single);
                }
                scores.push(f);
            }
        }
        BandFormats {
            scores,
            hidden: Format::new()
                .set_background_color(Color::RGB(0xEEEEEE))
                .set_font_color(Color::RGB(0x555555)),
        }
    }

    fn of(&self, band: &str, indicative: bool) -> &Format {
        let b = match band {
            "low" => 0,
            "high" => 2,
            _ => 1,
        };
        &self.scores[b + if indicative { 3 } else { 0 }]
    }
}
