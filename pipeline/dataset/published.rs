//! Reading the published tables back for the reports: every row, or only
//! what a scope (a cycle, a region) needs, into the plain `table` types.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::any_eq;

use super::pl_err as pl;
use super::tables::{
    file_cycle, read_group_stamps, sources_of, table_dir, table_files, AGGREGATES, CHANGES, COUNTS,
    SOURCES,
};
use crate::domain::{Period, SuppressionReason};
use crate::error::Result;
use crate::instrument::Catalogue;
use crate::score;
use crate::table::{
    sort_cells, sort_changes, sort_item_counts, Cell, Change, ItemCount, Level, Published,
};

pub(crate) fn texts(df: &DataFrame, n: &str, path: &Path) -> Result<Vec<Option<String>>> {
    crate::dataset::text_column(df, n, path)
}

pub(crate) fn floats(df: &DataFrame, n: &str, path: &Path) -> Result<Vec<Option<f64>>> {
    let e = pl(path);
    let c = df
        .column(n)
        .map_err(&e)?
        .cast(&DataType::Float64)
        .map_err(&e)?;
    Ok(c.f64().map_err(&e)?.iter().collect())
}

pub(crate) fn bools(df: &DataFrame, n: &str, path: &Path) -> Result<Vec<bool>> {
    let e = pl(path);
    Ok(df
        .column(n)
        .map_err(&e)?
        .bool()
        .map_err(&e)?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect())
}

/// Item counts from a frame with the distributions' columns.
pub(crate) fn item_counts_of(df: &DataFrame, path: &Path) -> Result<Vec<ItemCount>> {
    let t = |n: &str| Texts::of(df, n, path);
    let (mut rso, mut inst, mut ver, mut sc, mut item, mut per) = (
        t("rso_id")?,
        t("instrument")?,
        t("instrument_version")?,
        t("scale_id")?,
        t("item_id")?,
        t("period")?,
    );
    let (val, n) = (floats(df, "value", path)?, floats(df, "n", path)?);
    Ok((0..df.height())
        .map(|i| ItemCount {
            rso_id: rso.text(),
            instrument: inst.text(),
            instrument_version: ver.text(),
            scale_id: sc.text(),
            item_id: item.text(),
            period: per.text(),
            value: val[i],
            n: n[i].unwrap_or(0.0) as u64,
        })
        .collect())
}

/// A text column taken value by value, row after row: each value is
/// moved out, not copied.
pub(crate) struct Texts(std::vec::IntoIter<Option<String>>);

impl Texts {
    pub(crate) fn of(df: &DataFrame, n: &str, path: &Path) -> Result<Texts> {
        Ok(Texts(texts(df, n, path)?.into_iter()))
    }

    /// The next row's value (None: null).
    pub(crate) fn value(&mut self) -> Option<String> {
        self.0.next().flatten()
    }

    /// The next row's value, a null as empty text.
    pub(crate) fn text(&mut self) -> String {
        self.value().unwrap_or_default()
    }

    /// The next row's level (a department if unknown).
    pub(crate) fn level(&mut self) -> Level {
        self.value()
            .as_deref()
            .and_then(Level::parse)
            .unwrap_or(Level::Department)
    }
}

/// Cells from a frame with the aggregates' columns; scale ends come from
/// the catalogue (floors and atoms are not stored).
pub(crate) fn cells_of_frame(
    df: &DataFrame,
    path: &Path,
    catalogue: &Catalogue,
) -> Result<Vec<Cell>> {
    let t = |n: &str| Texts::of(df, n, path);
    let f = |n: &str| floats(df, n, path);
    let (mut level, mut unit, mut inst, mut spec, mut rso, mut region) = (
        t("level")?,
        t("unit_id")?,
        t("institution_id")?,
        t("specialty")?,
        t("rso_id")?,
        t("region_id")?,
    );
    let (mut instrument, mut version, mut scale, mut period, mut reason) = (
        t("instrument")?,
        t("instrument_version")?,
        t("scale_id")?,
        t("period")?,
        t("suppression_reason")?,
    );
    let (nr, nn, mean, sd, lo, hi, pomp, alpha, rate) = (
        f("n_respondents")?,
        f("n_responses")?,
        f("mean")?,
        f("sd")?,
        f("ci_low")?,
        f("ci_high")?,
        f("mean_pomp")?,
        f("alpha")?,
        f("response_rate")?,
    );
    let (reliable, suppressed) = (bools(df, "reliable", path)?, bools(df, "suppressed", path)?);
    // Scale ends per (instrument, version, scale): a unit's periods follow
    // each other, so most rows ask what the row before asked.
    let mut last: Option<(String, String, String, (f64, f64))> = None;
    let mut cells = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let (level, unit_id, institution_id, specialty, rso_id, region_id) = (
            level.level(),
            unit.text(),
            inst.value(),
            spec.value(),
            rso.value(),
            region.value(),
        );
        let (ins, ver, sc) = (instrument.text(), version.text(), scale.text());
        let (smin, smax) = match &last {
            Some((i, v, s, e)) if (i, v, s) == (&ins, &ver, &sc) => *e,
            _ => {
                let e = score::scale_range(catalogue, &ins, &ver, &sc);
                last = Some((ins.clone(), ver.clone(), sc.clone(), e));
                e
            }
        };
        cells.push(Cell {
            level,
            unit_id,
            institution_id,
            specialty,
            rso_id,
            region_id,
            instrument: ins,
            instrument_version: ver,
            scale_id: sc,
            period: period.text(),
            n_respondents: nr[i].unwrap_or(0.0) as u64,
            n_responses: nn[i].unwrap_or(0.0) as u64,
            mean: mean[i],
            sd: sd[i],
            ci_low: lo[i],
            ci_high: hi[i],
            mean_pomp: pomp[i],
            alpha: alpha[i],
            response_rate: rate[i],
            reliable: reliable[i],
            suppressed: suppressed[i],
            suppression_reason: reason.value().and_then(|r| SuppressionReason::parse(&r)),
            scale_min: smin,
            scale_max: smax,
            floor: 0,
            in_total: false,
            atoms: Vec::new(),
        });
    }
    Ok(cells)
}

/// Changes from a frame with the changes' columns.
pub(crate) fn changes_of_frame(df: &DataFrame, path: &Path) -> Result<Vec<Change>> {
    let t = |n: &str| Texts::of(df, n, path);
    let f = |n: &str| floats(df, n, path);
    let (mut level, mut unit, mut inst, mut spec, mut rso, mut region) = (
        t("level")?,
        t("unit_id")?,
        t("institution_id")?,
        t("specialty")?,
        t("rso_id")?,
        t("region_id")?,
    );
    let (mut instrument, mut scale, mut cons, mut period, mut prev, mut ver, mut pver) = (
        t("instrument")?,
        t("scale_id")?,
        t("construct")?,
        t("period")?,
        t("previous_period")?,
        t("instrument_version")?,
        t("previous_version")?,
    );
    let (diff, dp, p, g) = (f("diff")?, f("diff_pomp")?, f("p_value")?, f("hedges_g")?);
    let (vc, sup, rel) = (
        bools(df, "version_changed", path)?,
        bools(df, "suppressed", path)?,
        bools(df, "reliable", path)?,
    );
    Ok((0..df.height())
        .map(|i| Change {
            level: level.level(),
            unit_id: unit.text(),
            institution_id: inst.value(),
            specialty: spec.value(),
            rso_id: rso.value(),
            region_id: region.value(),
            instrument: instrument.text(),
            scale_id: scale.text(),
            construct: cons.text(),
            period: period.text(),
            previous_period: prev.text(),
            instrument_version: ver.text(),
            previous_version: pver.text(),
            version_changed: vc[i],
            diff: diff[i],
            diff_pomp: dp[i],
            p_value: p[i],
            hedges_g: g[i],
            suppressed: sup[i],
            reliable: rel[i],
        })
        .collect())
}

/// Reads what `write` wrote. Scale ends come from the catalogue.
pub fn read_published(dataset: &Path, catalogue: &Catalogue) -> Result<Published> {
    read_published_scoped(dataset, catalogue, &Scope::All)
}

/// Which published rows to read: reports of one region need only that
/// region's rows, the tables of a cycle only the cycle's.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Everything.
    All,
    /// What the reports of some cycles in a region show: the region's
    /// cells (department cells only of `department_periods`; every period
    /// of the other levels, for the trends), its changes of `cycles`, and
    /// the item counts and sources of its RSOs in `cycles`.
    Region {
        /// The region.
        region: String,
        /// Its RSOs.
        rsos: Vec<String>,
        /// The cycles whose reports are made.
        cycles: Vec<String>,
        /// The periods whose department cells the reports use.
        department_periods: Vec<String>,
    },
    /// The cells and changes of a cycle and its years.
    Cycle(String),
}

/// The filters of a scope, one per table (None: not read).
pub(crate) struct Filters {
    pub(crate) cells: Expr,
    pub(crate) changes: Expr,
    pub(crate) item_counts: Option<Expr>,
    pub(crate) sources: Option<Expr>,
}

impl Scope {
    pub(crate) fn filters(&self) -> Filters {
        let periods = |ps: &[String]| any_eq("period", ps.iter().map(|p| lit(p.as_str())));
        match self {
            Scope::All => Filters {
                cells: lit(true),
                changes: lit(true),
                item_counts: Some(lit(true)),
                sources: Some(lit(true)),
            },
            Scope::Region {
                region,
                rsos,
                cycles,
                department_periods,
            } => {
                let in_region = col("region_id").eq(lit(region.as_str()));
                let of_rsos = any_eq("rso_id", rsos.iter().map(|r| lit(r.as_str())));
                Filters {
                    cells: in_region.clone().and(
                        col("level")
                            .neq(lit(Level::Department.as_str()))
                            .or(periods(department_periods)),
                    ),
                    changes: in_region.and(periods(cycles)),
                    item_counts: Some(of_rsos.clone().and(periods(cycles))),
                    sources: Some(of_rsos.and(periods(cycles))),
                }
            }
            // A cycle's tables show neither item counts nor sources.
            Scope::Cycle(cycle) => {
                let mut ps: Vec<String> = score::years_of(cycle)
                    .into_iter()
                    .map(|y| y.to_string())
                    .collect();
                ps.push(cycle.clone());
                Filters {
                    cells: periods(&ps),
                    changes: periods(&ps),
                    item_counts: None,
                    sources: None,
                }
            }
        }
    }

    /// The cycles whose group files hold a table's rows in this scope
    /// (None: every file). A period's rows are in the files of its cycle.
    pub(crate) fn cycles(&self, table: usize) -> Option<Vec<String>> {
        match self {
            Scope::All => None,
            // The other levels' cells of every period (the trends).
            Scope::Region { .. } if table == AGGREGATES => None,
            Scope::Region { cycles, .. } => Some(cycles.clone()),
            Scope::Cycle(cycle) => Some(vec![cycle.clone()]),
        }
    }
}

/// Parquet files as one lazy frame, without hive partitions (a path's
/// `key=value` folders are not read as columns).
pub(crate) fn scan_files(files: &[PathBuf]) -> PolarsResult<LazyFrame> {
    let paths = files
        .iter()
        .map(|f| PlRefPath::new(f.display().to_string().as_str()))
        .collect();
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_disabled(),
        ..Default::default()
    };
    LazyFrame::scan_parquet_files(paths, args)
}

/// A table's files (of some cycles) as one lazy frame; None when the
/// table has no such files.
pub(crate) fn scan_table(
    dataset: &Path,
    table: usize,
    cycles: Option<&[String]>,
) -> Result<Option<LazyFrame>> {
    // A group's file is named by its span: one cycle (`2023-2024`), or the
    // years an RSO's own cycles link (`2019-2024`), which hold the rows of
    // every cycle within.
    let files: Vec<PathBuf> = table_files(dataset, table)?
        .into_iter()
        .filter(|f| {
            cycles.is_none_or(|cs| file_cycle(f).is_none_or(|c| cs.iter().any(|x| overlap(x, c))))
        })
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    scan_files(&files)
        .map(Some)
        .map_err(pl(&table_dir(dataset, table)))
}

/// Whether two spans of years (`2023-2024`, `2019-2024`, `2024`) share a
/// year; a text that is not a span shares every year (its file is read).
fn overlap(a: &str, b: &str) -> bool {
    let span = |t: &str| -> Option<(i32, i32)> {
        let (from, to) = t.split_once('-').unwrap_or((t, t));
        Some((from.parse().ok()?, to.parse().ok()?))
    };
    match (span(a), span(b)) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
        _ => true,
    }
}

/// The rows of a table's files (of some cycles) that pass a filter; None
/// when the table has no such files.
pub(crate) fn read_where(
    dataset: &Path,
    table: usize,
    cycles: Option<&[String]>,
    filter: Expr,
) -> Result<Option<DataFrame>> {
    match scan_table(dataset, table, cycles)? {
        Some(lf) => lf
            .filter(filter)
            .collect()
            .map(Some)
            .map_err(pl(&table_dir(dataset, table))),
        None => Ok(None),
    }
}

/// The cycles with published cells.
pub fn published_cycles(dataset: &Path) -> Result<Vec<String>> {
    let agg = table_dir(dataset, AGGREGATES);
    let Some(lf) = scan_table(dataset, AGGREGATES, None)? else {
        return Ok(Vec::new());
    };
    let df = lf
        .select([col("period")])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .map_err(pl(&agg))?;
    let set: std::collections::BTreeSet<String> = texts(&df, "period", &agg)?
        .into_iter()
        .flatten()
        .filter(|p| Period::text_is_cycle(p))
        .collect();
    Ok(set.into_iter().collect())
}

/// Reads what was written, in a scope.
pub fn read_published_scoped(
    dataset: &Path,
    catalogue: &Catalogue,
    scope: &Scope,
) -> Result<Published> {
    if table_files(dataset, AGGREGATES)?.is_empty() {
        return Ok(Published::default());
    }
    let filters = scope.filters();
    let read = |table: usize, filter: &Expr| {
        read_where(
            dataset,
            table,
            scope.cycles(table).as_deref(),
            filter.clone(),
        )
    };
    let dir = |table: usize| table_dir(dataset, table);
    // The four tables are read and made into rows side by side: making
    // the rows (every text its own string) is most of the work.
    let cells = || match read(AGGREGATES, &filters.cells)? {
        Some(df) => cells_of_frame(&df, &dir(AGGREGATES), catalogue),
        None => Ok(Vec::new()),
    };
    let changes = || match read(CHANGES, &filters.changes)? {
        Some(df) => changes_of_frame(&df, &dir(CHANGES)),
        None => Ok(Vec::new()),
    };
    let item_counts = || match &filters.item_counts {
        Some(f) => match read(COUNTS, f)? {
            Some(df) => item_counts_of(&df, &dir(COUNTS)),
            None => Ok(Vec::new()),
        },
        None => Ok(Vec::new()),
    };
    let sources = || match &filters.sources {
        Some(f) => match read(SOURCES, f)? {
            Some(df) => sources_of(&df, &dir(SOURCES)),
            None => Ok(Vec::new()),
        },
        None => Ok(Vec::new()),
    };
    let ((cells, changes), (item_counts, sources)) = rayon::join(
        || rayon::join(cells, changes),
        || rayon::join(item_counts, sources),
    );
    let (mut cells, mut changes, mut item_counts, mut sources) =
        (cells?, changes?, item_counts?, sources?);
    let data_until = std::fs::read_to_string(dataset.join("aggregates/DATA_UNTIL"))
        .ok()
        .map(|s| s.trim().to_string());
    let mut data_until_by_cycle: BTreeMap<String, String> = BTreeMap::new();
    for g in read_group_stamps(dataset) {
        for (cycle, d) in g.data_until_by_cycle {
            let e = data_until_by_cycle.entry(cycle).or_default();
            if *e < d {
                *e = d;
            }
        }
        if let Some(d) = g.data_until {
            let e = data_until_by_cycle.entry(g.cycle).or_default();
            if *e < d {
                *e = d;
            }
        }
    }
    // Sorted by level and unit (for `unit_cells` and `unit_changes`), then
    // as within a group in the files (`group_order`), across groups.
    sort_cells(&mut cells);
    sort_changes(&mut changes);
    sort_item_counts(&mut item_counts);
    sources.sort();
    Ok(Published {
        cells,
        changes,
        item_counts,
        sources,
        data_until,
        data_until_by_cycle,
    })
}

/// Writes a cycle's findings (`reports/<cycle>/findings.parquet`),
/// atomically, in the order given.
pub fn write_findings(path: &Path, rows: &[crate::table::FindingRow]) -> Result<()> {
    let s = |f: fn(&crate::table::FindingRow) -> &str| {
        Column::new("".into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let o = |f: fn(&crate::table::FindingRow) -> Option<&str>| {
        Column::new("".into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let x = |f: fn(&crate::table::FindingRow) -> Option<f64>| {
        Column::new("".into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let names = crate::table::FINDING_COLUMNS;
    let cols = vec![
        s(|r| &r.id),
        s(|r| &r.kind),
        s(|r| &r.rule),
        s(|r| &r.level),
        s(|r| &r.unit_id),
        o(|r| r.rso_id.as_deref()),
        s(|r| &r.instrument),
        s(|r| &r.scale_id),
        s(|r| &r.cycle),
        Column::new("".into(), rows.iter().map(|r| r.year).collect::<Vec<_>>()),
        x(|r| r.pomp),
        x(|r| r.previous_pomp),
        x(|r| r.diff_pomp),
        x(|r| r.p_value),
        x(|r| r.hedges_g),
        Column::new("".into(), rows.iter().map(|r| r.n).collect::<Vec<_>>()),
        x(|r| r.response_rate),
        o(|r| r.decision.as_deref()),
        o(|r| r.decision_date.as_deref()),
        o(|r| r.explanation.as_deref()),
        s(|r| &r.actions),
    ];
    let cols = cols
        .into_iter()
        .zip(names)
        .map(|(c, n)| c.with_name(n.into()))
        .collect();
    let mut df = DataFrame::new(rows.len(), cols).map_err(super::pl_err(path))?;
    super::write_parquet(path, &mut df)
}

#[cfg(test)]
mod tests {
    use super::overlap;

    /// A linked group's file (`2019-2024_d-rect.parquet`, with an RSO on
    /// its own cycles) holds the rows of every cycle and year in its span.
    #[test]
    fn a_group_file_is_read_for_every_cycle_in_its_span() {
        assert!(overlap("2023-2024", "2023-2024"));
        assert!(overlap("2023-2024", "2019-2024"));
        assert!(overlap("2020-2021", "2019-2024"));
        assert!(overlap("2020-2021", "2021-2022"));
        assert!(overlap("2024", "2023-2024"));
        assert!(!overlap("2023-2024", "2019-2020"));
        assert!(!overlap("2022-2023", "2024-2025"));
    }
}
