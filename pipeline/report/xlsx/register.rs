//! The committee's sheets from the quality loop: the cycle's findings with
//! their decisions and actions, the development plan, the visitations, and
//! the open answers the reports show.

use chrono::NaiveDate;
use rust_xlsxwriter::Workbook;

use super::sheet::{Formats, Kind, Sheet, X};
use super::{fit_cell_with, Words};
use crate::score::TOTAL;
use crate::table::Level;

/// Every finding of the cycle once (the same rows, in the same order, as
/// findings.parquet), with names, the rule in words, the group's decision
/// and the actions that answer it. The id stays in the first column: copy
/// it into the quality register.
pub(super) fn findings(
    book: &mut Workbook,
    w: &Words,
    rows: &[crate::table::FindingRow],
    f: &Formats,
) -> X<()> {
    use Kind::*;
    let columns = [
        w.col("finding_id", Text),
        w.col("kind", Text),
        w.col("rule", Text),
        w.col("level", Text),
        w.col("unit_id", Text),
        w.col("unit", Text),
        w.col("rso_id", Text),
        w.col("rso", Text),
        w.col("instrument_id", Text),
        w.col("instrument", Text),
        w.col("scale_id", Text),
        w.col("scale", Text),
        w.col("cycle", Text),
        w.col("year", Count),
        w.col("pomp", Score),
        w.col("previous_pomp", Score),
        w.col("diff_pomp", Score),
        w.col("p_value", P),
        w.col("hedges_g", Scale),
        w.col("respondents", Count),
        w.col("response_rate", Share),
        w.col("decision", Text),
        w.col("decision_date", Date),
        w.col("explanation", Long),
        w.col("actions", Text),
    ];
    let mut s = Sheet::new(book, &w.word("xl_sheet_findings"), &columns, f, 1)?;
    let t = w.ctx.t;
    let label_or = super::super::labels::label_or;
    for r in rows {
        s.next_row();
        s.text(0, &r.id)?;
        s.text(1, &w.word(&format!("xl_kind_{}", r.kind)))?;
        s.text(2, &w.word(&format!("xl_rule_{}", r.rule)))?;
        let level = Level::parse(&r.level);
        s.text(3, level.map_or(r.level.as_str(), |l| w.level(l)))?;
        s.text(4, &r.unit_id)?;
        if let Some(l) = level {
            s.text(5, &w.names.unit(l, &r.unit_id))?;
        }
        if let Some(rso) = &r.rso_id {
            s.text(6, rso)?;
            s.text(7, &w.names.rso(rso))?;
        }
        s.text(8, &r.instrument)?;
        s.text(9, &w.names.instrument(&r.instrument))?;
        s.text(10, &r.scale_id)?;
        s.text(11, &w.scale_any(&r.instrument, &r.scale_id))?;
        s.text(12, &r.cycle)?;
        s.num(13, r.year.map(f64::from))?;
        s.num(14, r.pomp)?;
        s.num(15, r.previous_pomp)?;
        s.num(16, r.diff_pomp)?;
        s.num(17, r.p_value)?;
        s.num(18, r.hedges_g)?;
        s.num(19, r.n.map(|n| n as f64))?;
        s.num(20, r.response_rate)?;
        let decision = match &r.decision {
            Some(d) => label_or(t, &format!("decision_{}", d.replace(' ', "_")), d),
            None => t.get("no_decision").cloned().unwrap_or_else(|| "-".into()),
        };
        s.text(21, &decision)?;
        let date = r.decision_date.as_deref().and_then(parse_date);
        match date {
            Some(d) => s.date(22, Some(d))?,
            // A date the register wrote in another form stays as written.
            None => s.text(22, r.decision_date.as_deref().unwrap_or(""))?,
        }
        s.text(23, r.explanation.as_deref().unwrap_or(""))?;
        s.text(24, &r.actions)?;
    }
    s.finish()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The development plan: every action of the register, with names, its
/// dates as dates and its status in words.
pub(super) fn plan(book: &mut Workbook, w: &Words, f: &Formats) -> X<()> {
    use Kind::*;
    let columns = [
        w.col("action_id", Text),
        w.col("rso_id", Text),
        w.col("rso", Text),
        w.col("institution_id", Text),
        w.col("institution", Text),
        w.col("finding_ids", Text),
        w.col("instrument_id", Text),
        w.col("instrument", Text),
        w.col("scale_id", Text),
        w.col("scale", Text),
        w.col("description", Long),
        w.col("owner", Text),
        w.col("start", Date),
        w.col("due", Date),
        w.col("status", Text),
        w.col("overdue", Bool),
        w.col("target", Text),
    ];
    let mut s = Sheet::new(book, &w.word("xl_sheet_plan"), &columns, f, 1)?;
    let t = w.ctx.t;
    let today = w.ctx.opts.today;
    for a in &w.ctx.config.register.actions {
        s.next_row();
        s.text(0, &a.action_id)?;
        s.text(1, &a.rso_id)?;
        s.text(2, &w.names.rso(&a.rso_id))?;
        if let Some(i) = &a.institution_id {
            s.text(3, i)?;
            s.text(4, &w.names.institution(i))?;
        }
        s.text(5, &a.finding_ids.join(", "))?;
        if let Some(ind) = &a.indicator {
            s.text(6, &ind.instrument)?;
            s.text(7, &w.names.instrument(&ind.instrument))?;
            s.text(8, &ind.scale_id)?;
            s.text(9, &w.scale_any(&ind.instrument, &ind.scale_id))?;
        }
        s.text(10, &a.description)?;
        s.text(11, &a.owner_role)?;
        s.date(12, a.start)?;
        s.date(13, a.due)?;
        let status = super::super::labels::label_or(
            t,
            &format!("status_{}", a.status_text.replace(' ', "_")),
            &a.status_text,
        );
        s.text(14, &status)?;
        s.boolean(15, a.overdue(today))?;
        s.text(16, &a.target)?;
    }
    s.finish()
}

/// The visitations and audits of the register, one row per condition or
/// advice, with their dates as dates.
pub(super) fn visitations(book: &mut Workbook, w: &Words, f: &Formats) -> X<()> {
    use Kind::*;
    let columns = [
        w.col("visitation_id", Text),
        w.col("visitation_kind", Text),
        w.col("rso_id", Text),
        w.col("rso", Text),
        w.col("institution_id", Text),
        w.col("institution", Text),
        w.col("date", Date),
        w.col("outcome", Text),
        w.col("item_kind", Text),
        w.col("item", Long),
        w.col("due", Date),
        w.col("status", Text),
    ];
    let mut s = Sheet::new(book, &w.word("xl_sheet_visitations"), &columns, f, 1)?;
    let t = w.ctx.t;
    let label_or = super::super::labels::label_or;
    for v in &w.ctx.config.register.visitations {
        s.next_row();
        s.text(0, &v.visitation_id)?;
        s.text(1, &v.kind)?;
        s.text(2, &v.rso_id)?;
        s.text(3, &w.names.rso(&v.rso_id))?;
        if let Some(i) = &v.institution_id {
            s.text(4, i)?;
            s.text(5, &w.names.institution(i))?;
        }
        s.date(6, v.date)?;
        s.text(7, &v.outcome)?;
        if !v.item_kind.is_empty() {
            s.text(
                8,
                &label_or(t, &format!("item_{}", v.item_kind), &v.item_kind),
            )?;
        }
        s.text(9, &v.item)?;
        s.date(10, v.due)?;
        if !v.status.is_empty() {
            let key = format!("item_status_{}", v.status.replace(' ', "_"));
            s.text(11, &label_or(t, &key, &v.status))?;
        }
    }
    s.finish()
}

/// The open answers the reports show (items with a `report_as`), of
/// groups that pass the comment gate, as in the reports.
pub(super) fn comments(book: &mut Workbook, w: &Words, cycle: &str, f: &Formats) -> X<()> {
    use Kind::*;
    let ctx = w.ctx;
    let years: Vec<String> = crate::score::years_of(cycle)
        .iter()
        .map(|y| y.to_string())
        .collect();
    let report_as = |instrument: &str, item: &str| {
        ctx.config
            .catalogue
            .iter()
            .filter(|d| d.id == instrument)
            .flat_map(|d| d.items.iter())
            .find(|i| i.id == item)
            .and_then(|i| i.report_as.clone())
    };
    let passes = |instrument: &str, inst: &str, spec: &str| {
        let unit = crate::domain::DepartmentId::new(inst, spec).unit_id();
        ctx.published
            .unit_cells(Level::Department, &unit)
            .iter()
            .any(|c| {
                c.instrument == instrument
                    && c.scale_id == TOTAL
                    && c.period == cycle
                    && crate::privacy::comments_publishable(
                        c,
                        ctx.config.floor_of(instrument, &c.instrument_version),
                    )
            })
    };
    // (department, instrument, year, part, item, text)
    let mut rows: Vec<(String, String, i32, String, String, String)> = ctx
        .comments
        .iter()
        .filter(|c| {
            years.contains(&c.year.to_string())
                && passes(&c.instrument, &c.institution_id, &c.specialty)
        })
        .filter_map(|c| {
            let part = report_as(&c.instrument, &c.item_id)?;
            Some((
                crate::domain::DepartmentId::new(&c.institution_id, &c.specialty).unit_id(),
                c.instrument.clone(),
                c.year,
                part,
                c.item_id.clone(),
                c.text.clone(),
            ))
        })
        .collect();
    rows.sort();
    let columns = [
        w.col("unit_id", Text),
        w.col("department", Text),
        w.col("instrument", Text),
        w.col("year", Count),
        w.col("part", Text),
        w.col("item_label", Text),
        w.col("item_id", Text),
        w.col("text", Long),
    ];
    let mut s = Sheet::new(book, &w.word("xl_sheet_comments"), &columns, f, 2)?;
    let marker = w.word("xl_cut");
    for (unit, instrument, year, part, item, text) in &rows {
        s.next_row();
        s.text(0, unit)?;
        s.text(1, &w.names.unit(Level::Department, unit))?;
        s.text(2, &w.names.instrument(instrument))?;
        s.num(3, Some(f64::from(*year)))?;
        // "tops" or "tips", as the reports head them.
        s.text(4, ctx.t.get(part.as_str()).unwrap_or(part))?;
        // The item's name as the reports give it, its code beside it for
        // the analyst.
        s.text(5, &w.names.item(instrument, "", item))?;
        s.text(6, item)?;
        s.text(7, &fit_cell_with(text, &marker))?;
    }
    s.finish()
}
