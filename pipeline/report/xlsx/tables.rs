//! The analysts' sheets: every aggregate of the cycle and its years, and
//! every change, with names beside the ids.

use rust_xlsxwriter::Workbook;

use super::sheet::{Formats, Kind, Sheet, X};
use super::{periods_of, NameCache, Words};

/// Every cell of the cycle and its years, at every level. A suppressed
/// cell keeps its counts (as in the aggregates table) but no value: its
/// reason is the reports' word for it.
pub(super) fn aggregates(book: &mut Workbook, w: &Words, cycle: &str, f: &Formats) -> X<()> {
    use Kind::*;
    let columns = [
        w.col("level", Text),
        w.col("unit_id", Text),
        w.col("unit", Text),
        w.col("institution_id", Text),
        w.col("specialty", Text),
        w.col("rso_id", Text),
        w.col("region_id", Text),
        w.col("instrument_id", Text),
        w.col("instrument", Text),
        w.col("version", Text),
        w.col("scale_id", Text),
        w.col("scale", Text),
        w.col("period", Text),
        w.col("respondents", Count),
        w.col("responses", Count),
        w.col("mean", Scale),
        w.col("sd", Scale),
        w.col("ci_low", Scale),
        w.col("ci_high", Scale),
        w.col("pomp", Score),
        w.col("alpha", Scale),
        w.col("response_rate", Share),
        w.col("reliable", Bool),
        w.col("suppressed", Bool),
        w.col("suppression_reason", Text),
    ];
    let mut s = Sheet::new(book, &w.word("xl_sheet_aggregates"), &columns, f, 3)?;
    let periods = periods_of(cycle);
    let mut names = NameCache::default();
    for c in w
        .ctx
        .published
        .cells
        .iter()
        .filter(|c| periods.contains(&c.period))
    {
        s.next_row();
        s.text(0, w.level(c.level))?;
        s.text(1, &c.unit_id)?;
        s.text(2, names.unit(w, c.level, &c.unit_id))?;
        for (i, t) in [&c.institution_id, &c.specialty, &c.rso_id, &c.region_id]
            .iter()
            .enumerate()
        {
            if let Some(t) = t {
                s.text(3 + i as u16, t)?;
            }
        }
        s.text(7, &c.instrument)?;
        s.text(8, names.instrument(w, &c.instrument))?;
        s.text(9, &c.instrument_version)?;
        s.text(10, &c.scale_id)?;
        s.text(
            11,
            names.scale(w, &c.instrument, &c.instrument_version, &c.scale_id),
        )?;
        s.text(12, &c.period)?;
        s.num(13, Some(c.n_respondents as f64))?;
        s.num(14, Some(c.n_responses as f64))?;
        // (`Cell::suppress` clears the values; a suppressed cell writes
        // none even so.)
        let values = [c.mean, c.sd, c.ci_low, c.ci_high, c.mean_pomp, c.alpha];
        for (j, v) in values.iter().enumerate() {
            s.num(15 + j as u16, v.filter(|_| !c.suppressed))?;
        }
        s.num(21, c.response_rate)?;
        s.boolean(22, c.reliable)?;
        s.boolean(23, c.suppressed)?;
        if c.suppressed {
            s.text(24, &w.hidden(c))?;
        }
    }
    s.finish()
}

/// Every change of the cycle and its years; a change of a suppressed cell
/// has no numbers.
pub(super) fn changes(book: &mut Workbook, w: &Words, cycle: &str, f: &Formats) -> X<()> {
    use Kind::*;
    let columns = [
        w.col("level", Text),
        w.col("unit_id", Text),
        w.col("unit", Text),
        w.col("instrument_id", Text),
        w.col("instrument", Text),
        w.col("scale_id", Text),
        w.col("scale", Text),
        w.col("period", Text),
        w.col("previous_period", Text),
        w.col("version", Text),
        w.col("previous_version", Text),
        w.col("version_changed", Bool),
        w.col("diff", Scale),
        w.col("diff_pomp", Score),
        w.col("p_value", P),
        w.col("hedges_g", Scale),
        w.col("reliable", Bool),
        w.col("suppressed", Bool),
    ];
    let mut s = Sheet::new(book, &w.word("xl_sheet_changes"), &columns, f, 3)?;
    let periods = periods_of(cycle);
    let mut names = NameCache::default();
    for c in w
        .ctx
        .published
        .changes
        .iter()
        .filter(|c| periods.contains(&c.period))
    {
        s.next_row();
        s.text(0, w.level(c.level))?;
        s.text(1, &c.unit_id)?;
        s.text(2, names.unit(w, c.level, &c.unit_id))?;
        s.text(3, &c.instrument)?;
        s.text(4, names.instrument(w, &c.instrument))?;
        s.text(5, &c.scale_id)?;
        s.text(
            6,
            names.scale(w, &c.instrument, &c.instrument_version, &c.scale_id),
        )?;
        s.text(7, &c.period)?;
        s.text(8, &c.previous_period)?;
        s.text(9, &c.instrument_version)?;
        s.text(10, &c.previous_version)?;
        s.boolean(11, c.version_changed)?;
        for (j, v) in [c.diff, c.diff_pomp, c.p_value, c.hedges_g]
            .iter()
            .enumerate()
        {
            s.num(12 + j as u16, v.filter(|_| !c.suppressed))?;
        }
        s.boolean(16, c.reliable)?;
        s.boolean(17, c.suppressed)?;
    }
    s.finish()
}
