//! The results of the aggregation as plain data: cells, changes, item
//! counts and sources, and what the reports read back (`Published`).
//!
//! This module owns the types every stage after `score` shares, and their
//! row order. It holds no Polars and does no I/O: `aggregate` makes these
//! rows, `privacy` suppresses them, `dataset` writes and reads them, `pdca`
//! and `report` consume them.

use std::collections::BTreeMap;

use crate::domain::{DepartmentId, Period, SuppressionReason};

/// Aggregation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One specialty in one institution.
    Department,
    /// All specialties of one institution.
    Institution,
    /// All departments of one RSO.
    Rso,
    /// All responses of a region.
    Region,
}

impl Level {
    /// Every level, finest first.
    pub const ALL: [Level; 4] = [
        Level::Department,
        Level::Institution,
        Level::Rso,
        Level::Region,
    ];

    /// The name used in the `level` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Department => "department",
            Level::Institution => "institution",
            Level::Rso => "rso",
            Level::Region => "region",
        }
    }

    /// Parses the `level` column.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Level::Department => &["institution_id", "specialty"],
            Level::Institution => &["institution_id"],
            Level::Rso => &["rso_id"],
            Level::Region => &["region_id"],
        }
    }
}

/// The finest groups of responses: every published cell is a union of
/// atoms, which is what lets `privacy` see which cells add up to which.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Atom {
    /// Instrument, version and subscale: cells add up only within one
    /// block, so a department without a score in this block is no part of
    /// its institution's cell here.
    pub block: (String, String, String),
    /// Institution.
    pub institution_id: String,
    /// Specialty.
    pub specialty: String,
    /// RSO of the responses (None: outside an RSO).
    pub rso_id: Option<String>,
    /// Region of the responses.
    pub region_id: String,
    /// Year.
    pub year: i32,
}

impl Atom {
    /// The units this atom belongs to at every level: its department,
    /// institution, region and (when in one) RSO.
    pub fn units(&self) -> Vec<(Level, String)> {
        units_of(
            &self.institution_id,
            &self.specialty,
            self.rso_id.as_deref(),
            Some(&self.region_id),
        )
    }
}

/// The units of a department at every level: the department, its
/// institution, its region and (when in one) its RSO.
pub fn units_of(
    institution: &str,
    specialty: &str,
    rso: Option<&str>,
    region: Option<&str>,
) -> Vec<(Level, String)> {
    let mut units = vec![
        (
            Level::Department,
            DepartmentId::new(institution, specialty).unit_id(),
        ),
        (Level::Institution, institution.to_string()),
    ];
    if let Some(r) = region {
        units.push((Level::Region, r.to_string()));
    }
    if let Some(r) = rso {
        units.push((Level::Rso, r.to_string()));
    }
    units
}

/// One row of the aggregates table.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Level.
    pub level: Level,
    /// Unit: `institution:specialty`, an institution, RSO or region id.
    pub unit_id: String,
    /// Institution (department and institution rows).
    pub institution_id: Option<String>,
    /// Specialty (department rows).
    pub specialty: Option<String>,
    /// RSO (department rows: at the end of the period; RSO rows).
    pub rso_id: Option<String>,
    /// Region.
    pub region_id: Option<String>,
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub instrument_version: String,
    /// Subscale or `total`.
    pub scale_id: String,
    /// "2024" or "2023-2024".
    pub period: String,
    /// Distinct respondents (responses, where anonymous).
    pub n_respondents: u64,
    /// Responses with a score.
    pub n_responses: u64,
    /// Mean of the response scores.
    pub mean: Option<f64>,
    /// Sample standard deviation.
    pub sd: Option<f64>,
    /// 95% confidence interval, low end.
    pub ci_low: Option<f64>,
    /// 95% confidence interval, high end.
    pub ci_high: Option<f64>,
    /// Mean on 0-100.
    pub mean_pomp: Option<f64>,
    /// Cronbach's alpha.
    pub alpha: Option<f64>,
    /// Distinct respondents / invited.
    pub response_rate: Option<f64>,
    /// n_respondents at least the reliability minimum.
    pub reliable: bool,
    /// Whether the values are withheld.
    pub suppressed: bool,
    /// Why the values are withheld.
    pub suppression_reason: Option<SuppressionReason>,
    /// Scale minimum (not written: from the definition).
    pub scale_min: f64,
    /// Scale maximum (not written).
    pub scale_max: f64,
    /// The privacy floor that applies (not written).
    pub floor: u32,
    /// The total, or a subscale that counts towards it (not written; see
    /// `score::ScaleSpec::in_total`).
    pub in_total: bool,
    /// Sorted atom indices (not written).
    pub atoms: Vec<u32>,
}

impl Cell {
    /// The block of cells that can add up to each other.
    pub fn block(&self) -> (&str, &str, &str) {
        (&self.instrument, &self.instrument_version, &self.scale_id)
    }

    /// Whether the period is a two-year cycle.
    pub fn is_cycle(&self) -> bool {
        Period::text_is_cycle(&self.period)
    }

    /// Withholds the values, keeping the counts.
    pub fn suppress(&mut self, reason: SuppressionReason) {
        self.suppressed = true;
        self.suppression_reason = Some(reason);
        self.mean = None;
        self.sd = None;
        self.ci_low = None;
        self.ci_high = None;
        self.mean_pomp = None;
        self.alpha = None;
    }
}

/// How often each answer was given to one item in one RSO and cycle: the
/// diverging bars of the RSO report. Not-applicable answers have no value.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemCount {
    /// RSO.
    pub rso_id: String,
    /// Instrument.
    pub instrument: String,
    /// Version.
    pub instrument_version: String,
    /// Subscale of the item.
    pub scale_id: String,
    /// Item.
    pub item_id: String,
    /// Cycle.
    pub period: String,
    /// The answer (None: not applicable).
    pub value: Option<f64>,
    /// How many gave it.
    pub n: u64,
}

/// An export file behind an RSO's numbers in a cycle: the sources its
/// report lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    /// RSO.
    pub rso_id: String,
    /// Instrument.
    pub instrument: String,
    /// Cycle.
    pub period: String,
    /// The file, as the manifest names it.
    pub source_file: String,
    /// Its SHA-256.
    pub source_sha256: String,
}

/// The aggregates of a dataset.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The last submission date in the data (ISO), for the reports' cover.
    pub data_until: Option<String>,
    /// The last submission date of each cycle of the table (of every
    /// grid: an RSO with cycles of its own has its own).
    pub data_until_by_cycle: BTreeMap<String, String>,
    /// Item answer counts per RSO and cycle (privacy removes unpublishable
    /// ones).
    pub item_counts: Vec<ItemCount>,
    /// The cells.
    pub cells: Vec<Cell>,
    /// The atoms the cells are made of.
    pub atoms: Vec<Atom>,
    /// The export files behind each RSO's cells, per cycle.
    pub sources: Vec<Source>,
    /// Set by `privacy::protect`; an unprotected table is never written.
    pub protected: bool,
}

/// The change of one unit and subscale since the previous period of the
/// same kind that has data.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Level.
    pub level: Level,
    /// Unit.
    pub unit_id: String,
    /// Institution (department and institution rows).
    pub institution_id: Option<String>,
    /// Specialty.
    pub specialty: Option<String>,
    /// RSO.
    pub rso_id: Option<String>,
    /// Region.
    pub region_id: Option<String>,
    /// Instrument.
    pub instrument: String,
    /// Subscale (of the current version).
    pub scale_id: String,
    /// Construct linking the two subscales.
    pub construct: String,
    /// Current period.
    pub period: String,
    /// The period compared with.
    pub previous_period: String,
    /// Current version.
    pub instrument_version: String,
    /// Version in the previous period.
    pub previous_version: String,
    /// The versions differ: compare on 0-100 and the construct.
    pub version_changed: bool,
    /// Difference of means on the instrument's scale (same version only).
    pub diff: Option<f64>,
    /// Difference of means on 0-100.
    pub diff_pomp: Option<f64>,
    /// Welch's t-test, two-sided p (on 0-100, so versions compare).
    pub p_value: Option<f64>,
    /// Hedges' g.
    pub hedges_g: Option<f64>,
    /// One of the two cells is suppressed: no numbers.
    pub suppressed: bool,
    /// Both cells are reliable; otherwise the change is indicative and
    /// leads to no conclusion.
    pub reliable: bool,
}

/// What the reports read: the published cells, changes and item counts.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The aggregates (atoms, floors and scale ends are not stored), sorted
    /// as `sort_cells` sorts them (level, unit, instrument, version, scale,
    /// period): `unit_cells`, `instrument_cells` and `cell` rely on it.
    pub cells: Vec<Cell>,
    /// The changes, sorted like the cells.
    pub changes: Vec<Change>,
    /// Item answer counts per RSO and cycle, sorted by RSO: `rso_counts`
    /// relies on it.
    pub item_counts: Vec<ItemCount>,
    /// The export files behind each RSO's numbers per cycle.
    pub sources: Vec<Source>,
    /// Last submission date in the data.
    pub data_until: Option<String>,
    /// Last submission date per cycle.
    pub data_until_by_cycle: BTreeMap<String, String>,
}

impl Published {
    /// The last submission date of a cycle's data (of all data when the
    /// aggregates predate per-cycle dates).
    pub fn data_until(&self, cycle: &str) -> String {
        self.data_until_by_cycle
            .get(cycle)
            .or(self.data_until.as_ref())
            .cloned()
            .unwrap_or_default()
    }

    /// The cells of one unit (cells are sorted by level and unit).
    pub fn unit_cells(&self, level: Level, unit: &str) -> &[Cell] {
        unit_range(&self.cells, level, unit, |c| (c.level, &c.unit_id))
    }

    /// A unit's cells of one instrument: every version, scale and period
    /// (cells are sorted by level, unit and instrument).
    pub fn instrument_cells(&self, level: Level, unit: &str, instrument: &str) -> &[Cell] {
        sorted_run(
            &self.cells,
            |c| (c.level, c.unit_id.as_str(), c.instrument.as_str()) < (level, unit, instrument),
            |c| c.level == level && c.unit_id == unit && c.instrument == instrument,
        )
    }

    /// One cell by its whole key (the order of `sort_cells`).
    pub fn cell(
        &self,
        level: Level,
        unit: &str,
        instrument: &str,
        version: &str,
        scale: &str,
        period: &str,
    ) -> Option<&Cell> {
        let key = (level, unit, instrument, version, scale, period);
        self.cells
            .binary_search_by(|c| cell_key(c).cmp(&key))
            .ok()
            .map(|i| &self.cells[i])
    }

    /// A unit's cell of one instrument and scale in a year, as a reader can
    /// see it: the year's own cell, or, where that year is left out of the
    /// published tables (`not_published`) because its cycle holds no other
    /// year, the cycle's cell, which pools exactly the same answers (an
    /// instrument run every other year). None where neither is there.
    pub fn year_cell(
        &self,
        level: Level,
        unit: &str,
        instrument: &str,
        scale: &str,
        year: i32,
    ) -> Option<&Cell> {
        let cells = self.instrument_cells(level, unit, instrument);
        let y = year.to_string();
        let of = |c: &&Cell| c.instrument == instrument && c.scale_id == scale;
        let own = cells.iter().filter(of).find(|c| c.period == y)?;
        if own.suppression_reason != Some(SuppressionReason::NotPublished) {
            return Some(own);
        }
        // The same version: a cycle whose version changed has a cell per
        // version, each pooling its own years.
        let same = |c: &&Cell| of(c) && c.instrument_version == own.instrument_version;
        let cycle = cells.iter().filter(same).find(|c| {
            c.is_cycle()
                && crate::domain::Period::parse(&c.period)
                    .is_some_and(|p| p.years().contains(&year))
        })?;
        let alone = crate::domain::Period::parse(&cycle.period)
            .map(|p| p.years())
            .unwrap_or_default()
            .into_iter()
            .filter(|other| *other != year)
            .all(|other| {
                !cells
                    .iter()
                    .filter(same)
                    .any(|c| c.period == other.to_string())
            });
        Some(if alone && cycle.n_respondents == own.n_respondents {
            cycle
        } else {
            own
        })
    }

    /// The changes of one unit (sorted like the cells).
    pub fn unit_changes(&self, level: Level, unit: &str) -> &[Change] {
        unit_range(&self.changes, level, unit, |c| (c.level, &c.unit_id))
    }

    /// The cells of the units of one level whose id starts with `prefix`:
    /// `institution:` gives an institution's departments.
    pub fn cells_starting(&self, level: Level, prefix: &str) -> &[Cell] {
        sorted_run(
            &self.cells,
            |c| (c.level, c.unit_id.as_str()) < (level, prefix),
            |c| c.level == level && c.unit_id.starts_with(prefix),
        )
    }

    /// The item counts of one RSO (item counts are sorted by RSO).
    pub fn rso_counts(&self, rso: &str) -> &[ItemCount] {
        sorted_run(
            &self.item_counts,
            |k| k.rso_id.as_str() < rso,
            |k| k.rso_id == rso,
        )
    }
}

/// The run of rows of one unit in rows sorted by level and unit.
fn unit_range<'a, T>(
    rows: &'a [T],
    level: Level,
    unit: &str,
    key: impl Fn(&T) -> (Level, &String),
) -> &'a [T] {
    sorted_run(
        rows,
        |r| {
            let (l, u) = key(r);
            (l, u.as_str()) < (level, unit)
        },
        |r| {
            let (l, u) = key(r);
            l == level && u == unit
        },
    )
}

/// The rows in `rows` (sorted) that `within` selects: they follow those
/// `before` selects and come together.
fn sorted_run<T>(rows: &[T], before: impl Fn(&T) -> bool, within: impl Fn(&T) -> bool) -> &[T] {
    let lo = rows.partition_point(before);
    let n = rows[lo..].partition_point(within);
    &rows[lo..lo + n]
}

/// Cells by level and unit, then as within a group's file (`group_order`).
pub fn sort_cells(cells: &mut [Cell]) {
    cells.sort_by(|a, b| cell_key(a).cmp(&cell_key(b)));
}

/// What cells are sorted by: level, unit, instrument, version, scale,
/// period.
fn cell_key(c: &Cell) -> (Level, &str, &str, &str, &str, &str) {
    (
        c.level,
        &c.unit_id,
        &c.instrument,
        &c.instrument_version,
        &c.scale_id,
        &c.period,
    )
}

/// Changes in the order of `group_order` (years before cycles), by level
/// and unit first.
pub fn sort_changes(changes: &mut [Change]) {
    fn key(c: &Change) -> (Level, &str, &str, &str, bool, &str, &str) {
        (
            c.level,
            &c.unit_id,
            &c.instrument,
            &c.construct,
            Period::text_is_cycle(&c.period),
            &c.period,
            &c.instrument_version,
        )
    }
    changes.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Item counts by RSO, then as within a group's file (`group_order`).
pub fn sort_item_counts(item_counts: &mut [ItemCount]) {
    fn key(c: &ItemCount) -> (&str, &str, &str, &str, &str) {
        (
            &c.rso_id,
            &c.instrument,
            &c.instrument_version,
            &c.item_id,
            &c.period,
        )
    }
    item_counts.sort_by(|a, b| {
        key(a).cmp(&key(b)).then_with(|| match (a.value, b.value) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (x, y) => x.is_some().cmp(&y.is_some()),
        })
    });
}

/// One piece of the aggregation: one instrument in one two-year cycle.
/// Every cell's period (a year or a cycle) lies within one cycle, every
/// cell belongs to one instrument, and every relation `privacy` checks joins
/// cells of one block, region and cycle: a group's published rows depend on
/// its own partitions and the settings only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Instrument id.
    pub instrument: String,
    /// The cycle, `2023-2024`.
    pub cycle: String,
    /// The years of the cycle that have data.
    pub years: Vec<i32>,
    /// Of the program version, the settings (`job::settings_fingerprint`)
    /// and the names and sizes of the group's partition files (responses
    /// and comments; they are only ever added, never rewritten): the same
    /// fingerprint, the same published rows.
    pub fingerprint: String,
    /// The bytes of those files (how much work the group is).
    pub bytes: u64,
}

/// The columns of `findings.parquet` and the workbook's findings sheet,
/// in `FindingRow::values` order.
pub const FINDING_COLUMNS: [&str; 21] = [
    "id",
    "kind",
    "rule",
    "level",
    "unit_id",
    "rso_id",
    "instrument",
    "scale_id",
    "cycle",
    "year",
    "pomp",
    "previous_pomp",
    "diff_pomp",
    "p_value",
    "hedges_g",
    "n",
    "response_rate",
    "decision",
    "decision_date",
    "explanation",
    "actions",
];

/// A value of a published row, for writers that are not typed per column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// Text.
    Text(&'a str),
    /// A number.
    Number(f64),
    /// Nothing.
    Empty,
}

impl FindingRow {
    /// The row's values in `FINDING_COLUMNS` order.
    pub fn values(&self) -> [Value<'_>; 21] {
        fn t(s: &str) -> Value<'_> {
            Value::Text(s)
        }
        fn o(s: Option<&str>) -> Value<'_> {
            s.map_or(Value::Empty, Value::Text)
        }
        fn x(v: Option<f64>) -> Value<'static> {
            v.map_or(Value::Empty, Value::Number)
        }
        [
            t(&self.id),
            t(&self.kind),
            t(&self.rule),
            t(&self.level),
            t(&self.unit_id),
            o(self.rso_id.as_deref()),
            t(&self.instrument),
            t(&self.scale_id),
            t(&self.cycle),
            x(self.year.map(f64::from)),
            x(self.pomp),
            x(self.previous_pomp),
            x(self.diff_pomp),
            x(self.p_value),
            x(self.hedges_g),
            x(self.n.map(|n| n as f64)),
            x(self.response_rate),
            o(self.decision.as_deref()),
            o(self.decision_date.as_deref()),
            o(self.explanation.as_deref()),
            t(&self.actions),
        ]
    }
}

/// One finding as published in `reports/<cycle>/findings.parquet` and the
/// workbook's findings sheet: what fired, on which numbers, and what the
/// quality register says about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FindingRow {
    /// The stable id (`domain::FindingId`).
    pub id: String,
    /// `signal`, `improvement` or `strength`.
    pub kind: String,
    /// The rule.
    pub rule: String,
    /// Level of the unit.
    pub level: String,
    /// Unit id.
    pub unit_id: String,
    /// RSO.
    pub rso_id: Option<String>,
    /// Instrument.
    pub instrument: String,
    /// Subscale or total.
    pub scale_id: String,
    /// The cycle.
    pub cycle: String,
    /// Year of a missing measurement.
    pub year: Option<i32>,
    /// Score on 0-100.
    pub pomp: Option<f64>,
    /// Previous score on 0-100.
    pub previous_pomp: Option<f64>,
    /// Change on 0-100.
    pub diff_pomp: Option<f64>,
    /// p.
    pub p_value: Option<f64>,
    /// Hedges' g.
    pub hedges_g: Option<f64>,
    /// Respondents.
    pub n: Option<u64>,
    /// Response rate.
    pub response_rate: Option<f64>,
    /// The group's decision.
    pub decision: Option<String>,
    /// Its date.
    pub decision_date: Option<String>,
    /// Its explanation.
    pub explanation: Option<String>,
    /// Ids of the actions that answer it, comma-separated.
    pub actions: String,
}
