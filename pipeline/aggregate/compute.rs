//! The Polars computation of one group: one pass over each year partition
//! (`pass`), then pooled means, standard deviations and alpha by lazy
//! group-bys on numbered keys, participation and response rates, and the
//! finishing of every cell from the formulas in `score`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::NaiveDate;
use polars::prelude::*;

use super::pass::{self, Head, Pass, Row};
use crate::config::Invitation;
use crate::dataset::on;
use crate::dataset::published::scan_files;
use crate::domain::Period;
use crate::error::{Error, Result};
use crate::org::{Cycles, Registry};
use crate::score::{self, ScaleSpec};
use crate::table::{units_of, Atom, Cell, ItemCount, Level, Source};

pub(crate) fn pl(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::dataset(path, e)
}

/// What every cycle's computation shares.
pub(crate) struct Shared {
    /// The response files of each (instrument, year) partition.
    pub(crate) partitions: HashMap<(String, i32), Vec<PathBuf>>,
    pub(crate) path: PathBuf,
    /// The manifest's file name of every export (by SHA-256).
    pub(crate) file_names: HashMap<String, String>,
}

/// The results of the cycles computed so far.
#[derive(Default)]
pub(crate) struct Accumulated {
    pub(crate) data_until: Option<String>,
    pub(crate) data_until_by_cycle: BTreeMap<String, String>,
    pub(crate) item_counts: Vec<ItemCount>,
    pub(crate) cells: Vec<Cell>,
    pub(crate) atoms: Vec<Atom>,
    pub(crate) participation: Participation,
    pub(crate) sources: Vec<Source>,
}

/// The columns the pass reads from the item rows.
pub(crate) const PASS_COLUMNS: [&str; 14] = [
    "response_id",
    "instrument_version",
    "respondent_key",
    "subject_key",
    "institution_id",
    "specialty",
    "rso_id",
    "region_id",
    "source_sha256",
    "scale_id",
    "item_id",
    "value",
    "scale_min",
    "scale_max",
];

/// The cycles a group's cells are computed for: each cycle of each grid
/// in use (`org::Cycles::grids`, the region's first) that holds a year of
/// the group, and whose units follow which grid.
pub(crate) struct GroupCycles<'a> {
    pub(crate) cycles: &'a Cycles,
    /// The grids' starts, the region's first.
    pub(crate) grids: Vec<i32>,
    /// Each cycle with the index of its grid.
    pub(crate) list: Vec<(Period, usize)>,
}

impl<'a> GroupCycles<'a> {
    /// The cycles of every grid that hold one of `years`.
    pub(crate) fn new(cycles: &'a Cycles, years: &[i32]) -> GroupCycles<'a> {
        let grids = cycles.grids();
        let mut list: Vec<(Period, usize)> = Vec::new();
        for (g, &start) in grids.iter().enumerate() {
            for &y in years {
                let c = Period::cycle_of(y, start);
                if !list.contains(&(c, g)) {
                    list.push((c, g));
                }
            }
        }
        list.sort_by_key(|&(c, g)| (g, c));
        GroupCycles {
            cycles,
            grids,
            list,
        }
    }

    fn grid_of(&self, start: i32) -> u32 {
        self.grids
            .iter()
            .position(|&g| Cycles::same_grid(g, start))
            .unwrap_or(0) as u32
    }

    /// The grid of an RSO's cycles (by name; none: the region's).
    pub(crate) fn rso_grid(&self, rso: Option<&str>) -> u32 {
        rso.map_or(0, |r| self.grid_of(self.cycles.of_rso(r)))
    }

    /// The grid of a department's cycles.
    pub(crate) fn department_grid(
        &self,
        institution: Option<&str>,
        specialty: Option<&str>,
    ) -> u32 {
        let unit = crate::domain::DepartmentId::new(
            institution.unwrap_or_default(),
            specialty.unwrap_or_default(),
        )
        .unit_id();
        self.grid_of(self.cycles.of_department(&unit))
    }

    /// The levels whose cells a cycle of grid `g` has, each with the rows
    /// it pools: the region, the RSOs and departments on the grid, and on
    /// the region's grid the institutions (they mix specialties and keep
    /// the region's cycles). With one grid, every unit of every level.
    fn levels(&self, g: usize) -> Vec<(Level, Expr)> {
        let one = self.grids.len() == 1;
        let mine = |column: &str| {
            if one {
                lit(true)
            } else {
                col(column).eq(lit(g as u32))
            }
        };
        Level::ALL
            .into_iter()
            .filter_map(|level| match level {
                // The region on every grid: it is the benchmark of every
                // RSO's report, and a region's cycle is the sum of its two
                // years, which are published whole.
                Level::Region => Some((level, lit(true))),
                Level::Institution => (g == 0).then(|| (level, lit(true))),
                Level::Rso => Some((level, mine("rso_grid"))),
                Level::Department => Some((level, mine("dept_grid"))),
            })
            .collect()
    }
}

/// Every cell of one instrument in one group of linked years: its years
/// and its cycles (`GroupCycles`).
///
/// Each year partition is read once, in batches, by `pass::Pass` (scores,
/// alpha's item sums, answer counts, export files); the cells are then
/// pooled from the scores by Polars group-bys, one kind of period at a time.
pub(crate) fn compute_cycle(
    sh: &Shared,
    pass: Pass,
    group_cycles: &GroupCycles,
    years: &[i32],
    acc: &mut Accumulated,
) -> Result<()> {
    let e = pl(&sh.path);
    let instrument = pass.instrument.clone();
    let instrument = instrument.as_str();
    let pass = Arc::new(Mutex::new(pass));
    for &year in years {
        // A group's years are those with files.
        let Some(files) = sh.partitions.get(&(instrument.to_string(), year)) else {
            continue;
        };
        lock(&pass).begin_year(year);
        let mut columns = on(&PASS_COLUMNS);
        columns.push(col("submitted_on").cast(DataType::Int32));
        let reader = Arc::clone(&pass);
        // The partition's own files (the partition's instrument and year
        // are in their path, not in the files).
        scan_files(files)
            .map_err(&e)?
            .filter(col("respondent_role").neq(lit("supervisor_self")))
            .select(columns)
            .sink_batches(
                PlanCallback::new(move |batch: DataFrame| {
                    read_batch(&batch, &mut lock(&reader))?;
                    Ok(false)
                }),
                true,
                None,
            )
            .and_then(|sink| sink.collect_with_engine(Engine::Streaming))
            .map_err(&e)?;
        lock(&pass).end_year();
    }
    let pass = std::mem::replace(&mut *lock(&pass), Pass::new(instrument, &[], []));
    let names = &pass.names;

    // The export files behind each RSO's numbers per cycle (the RSO's
    // own), and the last submission of every cycle.
    let day = |d: i32| {
        NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(d.into())))
            .map(|d| d.format("%Y-%m-%d").to_string())
    };
    if let Some(d) = pass.files.values().flatten().max().and_then(|&d| day(d)) {
        if acc.data_until.as_deref().is_none_or(|u| u < d.as_str()) {
            acc.data_until = Some(d);
        }
    }
    let cycles = group_cycles.cycles;
    for (period, _) in &group_cycles.list {
        let ys = period.years();
        let last = pass
            .files
            .iter()
            .filter(|(k, _)| ys.contains(&k.2))
            .filter_map(|(_, d)| *d)
            .max()
            .and_then(day);
        if let Some(d) = last {
            acc.data_until_by_cycle.insert(period.to_string(), d);
        }
    }
    let mut sources: BTreeSet<(&str, String, &str)> = BTreeSet::new();
    for (rso, sha, year) in pass.files.keys() {
        let (Some(rso), Some(sha)) = (names.name_of(*rso), names.name_of(*sha)) else {
            continue;
        };
        sources.insert((rso, cycles.rso_cycle(rso, *year).to_string(), sha));
    }
    for (rso, period, sha) in sources {
        if let Some(file) = sh.file_names.get(sha) {
            acc.sources.push(Source {
                rso_id: rso.to_string(),
                instrument: instrument.to_string(),
                period,
                source_file: file.clone(),
                source_sha256: sha.to_string(),
            });
        }
    }

    // Answer counts per RSO and item in the RSO's cycles, not-applicable
    // included.
    let text = |id: Option<u32>| names.name_of(id).unwrap_or_default().to_string();
    type Pooled = (
        u32,
        Option<u32>,
        Option<u32>,
        Option<u32>,
        Option<u64>,
        Period,
    );
    let mut pooled: HashMap<Pooled, u64> = HashMap::new();
    for (&(rso, version, scale, item, value, year), &n) in &pass.counts {
        let period = cycles.rso_cycle(names.name(rso), year);
        *pooled
            .entry((rso, version, scale, item, value, period))
            .or_default() += n;
    }
    acc.item_counts.extend(pooled.into_iter().map(
        |((rso, version, scale, item, value, period), n)| ItemCount {
            rso_id: names.name(rso).to_string(),
            instrument: instrument.to_string(),
            instrument_version: text(version),
            scale_id: text(scale),
            item_id: text(item),
            period: period.to_string(),
            value: value.map(f64::from_bits),
            n,
        },
    ));

    acc.atoms
        .extend(pass.atoms().into_iter().map(|(version, scale, u)| Atom {
            block: (
                instrument.to_string(),
                names.name(version).to_string(),
                names.name(scale).to_string(),
            ),
            institution_id: text(u.institution),
            specialty: text(u.specialty),
            rso_id: names.name_of(u.rso).map(str::to_string),
            region_id: text(u.region),
            year: u.year,
        }));

    // Every year of the data belongs to its year and to its cycles: the
    // cells of the years in one pass, then each cycle's (of the units that
    // follow its grid) in a pass of its own.
    let dense = Dense::new(&pass).map_err(&e)?;
    let scores = scores_frame(&pass, &dense, group_cycles).map_err(&e)?;
    let item_sums = item_sums_frame(&pass, &dense, group_cycles).map_err(&e)?;
    let every: Vec<(Level, Expr)> = Level::ALL.into_iter().map(|l| (l, lit(true))).collect();
    // (the period column, the rows it takes, its cycle label, the levels
    // that have it with their filter)
    type PeriodPass = (Expr, Expr, String, Vec<(Level, Expr)>);
    let mut periods: Vec<PeriodPass> = vec![(col("year"), lit(true), String::new(), every)];
    let one = group_cycles.grids.len() == 1;
    for &(cycle, g) in &group_cycles.list {
        // With one grid the group is one cycle: all its rows.
        let rows = if one {
            lit(true)
        } else {
            let [a, b] = [cycle.first_year(), cycle.last_year()];
            col("year").eq(lit(a)).or(col("year").eq(lit(b)))
        };
        periods.push((lit(0i32), rows, cycle.to_string(), group_cycles.levels(g)));
    }
    for (period, rows, cycle, levels) in periods {
        let label = Labels {
            names,
            instrument,
            cycle: &cycle,
            path: &sh.path,
        };
        let scored = scores
            .clone()
            .lazy()
            .filter(rows.clone())
            .with_column(period.clone().alias("period"));
        let item_sums = item_sums
            .clone()
            .lazy()
            .filter(rows)
            .with_column(period.alias("period"));
        level_cells(&scored, &item_sums, &label, &levels, &mut acc.cells)?;
    }

    // Participation per unit, instrument and year, for response rates.
    acc.participation.extend(participation(&pass, instrument));
    Ok(())
}

/// The pass, also after a panic elsewhere (the query then fails anyway).
pub(crate) fn lock(pass: &Mutex<Pass>) -> std::sync::MutexGuard<'_, Pass> {
    pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Gives every row of a batch to the pass. Columns are read by position,
/// and those of a response's head only at its first row.
pub(crate) fn read_batch(batch: &DataFrame, pass: &mut Pass) -> PolarsResult<()> {
    let texts = |name: &str| -> PolarsResult<StringChunked> {
        Ok(batch.column(name)?.str()?.rechunk().into_owned())
    };
    let numbers = |name: &str| -> PolarsResult<Float64Chunked> {
        Ok(batch.column(name)?.f64()?.rechunk().into_owned())
    };
    let [response_id, version, respondent_key, subject_key, institution_id, specialty, rso_id, region_id, source_sha256, scale_id, item_id] =
        [
            "response_id",
            "instrument_version",
            "respondent_key",
            "subject_key",
            "institution_id",
            "specialty",
            "rso_id",
            "region_id",
            "source_sha256",
            "scale_id",
            "item_id",
        ]
        .map(texts);
    let [value, scale_min, scale_max] = ["value", "scale_min", "scale_max"].map(numbers);
    let submitted_on = batch.column("submitted_on")?.i32()?.rechunk().into_owned();
    let (response_id, scale_id, item_id) = (response_id?, scale_id?, item_id?);
    let (version, respondent_key, subject_key) = (version?, respondent_key?, subject_key?);
    let (institution_id, specialty) = (institution_id?, specialty?);
    let (rso_id, region_id, source_sha256) = (rso_id?, region_id?, source_sha256?);
    let (value, scale_min, scale_max) = (value?, scale_min?, scale_max?);
    let t = |c: &StringChunked| c.downcast_as_array().clone();
    let (response_id, scale_id, item_id) = (t(&response_id), t(&scale_id), t(&item_id));
    let (version, respondent_key, subject_key) = (t(&version), t(&respondent_key), t(&subject_key));
    let (institution_id, specialty) = (t(&institution_id), t(&specialty));
    let (rso_id, region_id, source_sha256) = (t(&rso_id), t(&region_id), t(&source_sha256));
    let n = |c: &Float64Chunked| c.downcast_as_array().clone();
    let (value, scale_min, scale_max) = (n(&value), n(&scale_min), n(&scale_max));
    let submitted_on = submitted_on.downcast_as_array().clone();
    for i in 0..batch.height() {
        let row = Row {
            response_id: response_id.get(i),
            scale_id: scale_id.get(i),
            item_id: item_id.get(i),
            value: value.get(i),
            scale_min: scale_min.get(i),
            scale_max: scale_max.get(i),
        };
        pass.add(&row, || Head {
            version: version.get(i),
            respondent_key: respondent_key.get(i),
            subject_key: subject_key.get(i),
            institution_id: institution_id.get(i),
            specialty: specialty.get(i),
            rso_id: rso_id.get(i),
            region_id: region_id.get(i),
            submitted_on: submitted_on.get(i),
            source_sha256: source_sha256.get(i),
        });
    }
    Ok(())
}

/// The response scores, sorted by the scores themselves, so every group
/// sums the same values in the same order on every run, whatever the
/// pseudonymisation key or the files' order: the same answers give the same
/// bytes. Every text column (version, subscale, institution, specialty,
/// RSO, region) holds the pass's numbers, as do respondents and subjects:
/// `Labels` turns them back into texts per cell.
pub(crate) fn scores_frame(
    pass: &Pass,
    dense: &Dense,
    grids: &GroupCycles,
) -> PolarsResult<DataFrame> {
    // Sort keys made once per score (a lookup per comparison took seconds
    // per group): the block's rank, then the score in `f64::total_cmp`
    // order as an integer.
    let mut keyed: Vec<(u32, u64, &pass::Score)> = pass
        .scores
        .iter()
        .map(|s| {
            (
                dense.block[&(s.version, s.scale)],
                total_order_key(s.score),
                s,
            )
        })
        .collect();
    keyed.sort_unstable_by_key(|&(r, k, _)| (r, k));
    let order: Vec<&pass::Score> = keyed.into_iter().map(|(_, _, s)| s).collect();
    let mut columns = vec![
        column_of("instrument_version", &order, |s| s.version),
        column_of("scale_id", &order, |s| s.scale),
    ];
    columns.extend(unit_columns(&order, |s| &s.unit));
    columns.extend([
        column_of("who", &order, |s| s.who),
        column_of("anonymous", &order, |s| s.anonymous),
        column_of("subject_key", &order, |s| s.subject),
        column_of("score", &order, |s| s.score),
        column_of("tot", &order, |s| s.tot),
        column_of("answered", &order, |s| s.answered),
        column_of("n_items", &order, |s| s.n_items),
        column_of("scale_min", &order, |s| s.scale_min),
        column_of("scale_max", &order, |s| s.scale_max),
        column_of("block", &order, |s| dense.block[&(s.version, s.scale)]),
        column_of("dept", &order, |s| {
            dense.dept[&(s.unit.institution, s.unit.specialty)]
        }),
    ]);
    columns.extend(grid_columns(&order, |s| &s.unit, &pass.names, grids));
    DataFrame::new_infer_height(columns)
}

/// Which grid's cycles each row's RSO and department follow
/// (`GroupCycles::levels` filters on them).
fn grid_columns<R>(
    rows: &[R],
    unit: impl Fn(&R) -> &pass::Unit,
    names: &pass::Names,
    grids: &GroupCycles,
) -> [Column; 2] {
    let mut rso: PlHashMap<Option<u32>, u32> = PlHashMap::new();
    let mut dept: PlHashMap<(Option<u32>, Option<u32>), u32> = PlHashMap::new();
    let mut r = Vec::with_capacity(rows.len());
    let mut d = Vec::with_capacity(rows.len());
    for row in rows {
        let u = unit(row);
        r.push(
            *rso.entry(u.rso)
                .or_insert_with(|| grids.rso_grid(names.name_of(u.rso))),
        );
        d.push(
            *dept.entry((u.institution, u.specialty)).or_insert_with(|| {
                grids.department_grid(names.name_of(u.institution), names.name_of(u.specialty))
            }),
        );
    }
    [
        Column::new("rso_grid".into(), r),
        Column::new("dept_grid".into(), d),
    ]
}

/// Small numbers for the parts of a cell's key: each (version, subscale)
/// block, ranked by their names (as Polars sorts texts: the scores are
/// sorted by it), and each department (institution and specialty) of a
/// group, so that a level's key fits one 64-bit integer (`group_key`):
/// Polars groups on one integer much faster than on six columns.
pub(crate) struct Dense {
    pub(crate) block: PlHashMap<(u32, u32), u32>,
    pub(crate) dept: PlHashMap<(Option<u32>, Option<u32>), u32>,
}

impl Dense {
    pub(crate) fn new(pass: &Pass) -> PolarsResult<Dense> {
        let names = &pass.names;
        let mut blocks: PlHashSet<(u32, u32)> = PlHashSet::new();
        let mut dept = PlHashMap::new();
        let units = pass
            .scores
            .iter()
            .map(|s| (s.version, s.scale, &s.unit))
            .chain(pass.item_sums.keys().map(|k| (k.0, k.2, &k.1)));
        for (version, scale, unit) in units {
            blocks.insert((version, scale));
            let n = dept.len() as u32;
            dept.entry((unit.institution, unit.specialty)).or_insert(n);
        }
        if blocks.len() > usize::from(u16::MAX) {
            polars_bail!(ComputeError: "{} subscale blocks in one group: more than a 64-bit group key holds", blocks.len());
        }
        let mut blocks: Vec<(u32, u32)> = blocks.into_iter().collect();
        blocks.sort_by(|a, b| {
            (names.name(a.0), names.name(a.1)).cmp(&(names.name(b.0), names.name(b.1)))
        });
        let block = blocks
            .into_iter()
            .enumerate()
            .map(|(i, b)| (b, i as u32))
            .collect();
        Ok(Dense { block, dept })
    }
}

/// A cell's key at a level as one integer: the unit (the department's
/// number, or the institution, RSO or region number; null as `u32::MAX`)
/// in the high 32 bits, then the block (16 bits), then the period (a year,
/// or 0 for the cycle; 16 bits).
pub(crate) fn group_key(level: Level) -> Expr {
    let unit = match level {
        Level::Department => col("dept"),
        Level::Institution => col("institution_id"),
        Level::Rso => col("rso_id"),
        Level::Region => col("region_id"),
    };
    let u64 = |e: Expr| e.cast(DataType::UInt64);
    (u64(unit).fill_null(lit(u64::from(u32::MAX))) * lit(1u64 << 32)
        + u64(col("block")) * lit(1u64 << 16)
        + u64(col("period")))
    .alias("g")
}

/// An integer that sorts as `f64::total_cmp` sorts the float.
pub(crate) fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Alpha's item sums per department, year, subscale (and total) and item,
/// keyed by the pass's numbers like `scores_frame`.
pub(crate) fn item_sums_frame(
    pass: &Pass,
    dense: &Dense,
    grids: &GroupCycles,
) -> PolarsResult<DataFrame> {
    let rows: Vec<(&pass::ItemKey, &pass::ItemSums)> = pass.item_sums.iter().collect();
    let mut columns = vec![column_of("instrument_version", &rows, |(k, _)| k.0)];
    columns.extend(unit_columns(&rows, |(k, _)| &k.1));
    columns.extend([
        column_of("scale_id", &rows, |(k, _)| k.2),
        column_of("item_id", &rows, |(k, _)| k.3),
        column_of("sx", &rows, |(_, s)| s.sx),
        column_of("sxx", &rows, |(_, s)| s.sxx),
        column_of("n", &rows, |(_, s)| s.n),
        column_of("block", &rows, |(k, _)| dense.block[&(k.0, k.2)]),
        column_of("dept", &rows, |(k, _)| {
            dense.dept[&(k.1.institution, k.1.specialty)]
        }),
    ]);
    columns.extend(grid_columns(&rows, |(k, _)| &k.1, &pass.names, grids));
    DataFrame::new_infer_height(columns)
}

/// A column of one value per row.
pub(crate) fn column_of<R, T>(name: &str, rows: &[R], f: impl Fn(&R) -> T) -> Column
where
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<T>>())
}

/// The unit's columns (numbered institution, specialty, RSO, region; year).
pub(crate) fn unit_columns<R>(rows: &[R], unit: impl Fn(&R) -> &pass::Unit) -> [Column; 5] {
    [
        column_of("institution_id", rows, |r| unit(r).institution),
        column_of("specialty", rows, |r| unit(r).specialty),
        column_of("rso_id", rows, |r| unit(r).rso),
        column_of("region_id", rows, |r| unit(r).region),
        column_of("year", rows, |r| unit(r).year),
    ]
}

/// Turns the numbers of a group's key columns back into texts.
pub(crate) struct Labels<'a> {
    pub(crate) names: &'a pass::Names,
    pub(crate) instrument: &'a str,
    /// The period of the cycle's cells (0 in the `period` column).
    pub(crate) cycle: &'a str,
    pub(crate) path: &'a Path,
}

/// The cells of every level from the response scores and item sums of one
/// kind of period (`period`: years, or the cycle).
pub(crate) fn level_cells(
    scored: &LazyFrame,
    item_sums: &LazyFrame,
    label: &Labels,
    levels: &[(Level, Expr)],
    cells: &mut Vec<Cell>,
) -> Result<()> {
    let e = pl(label.path);
    for (level, rows) in levels {
        let level = *level;
        // Every group by the level's one-integer key; the key's texts are
        // taken from the group's first row (the key determines them).
        let mut labels: Vec<&str> = level.keys().to_vec();
        labels.extend(["instrument_version", "scale_id", "period"]);
        let g = [col("g")];
        let filter = match level {
            Level::Rso => col("rso_id").is_not_null().and(rows.clone()),
            _ => rows.clone(),
        };
        let scored = scored
            .clone()
            .filter(filter.clone())
            .with_column(group_key(level));
        let mut aggs: Vec<Expr> = labels.iter().map(|l| col(*l).first()).collect();
        aggs.extend([
            col("score")
                .count()
                .cast(DataType::UInt64)
                .alias("n_responses"),
            col("who")
                .filter(col("anonymous").not())
                .n_unique()
                .cast(DataType::UInt64)
                .alias("n_keyed"),
            col("score").mean().alias("mean"),
            col("score").std(1).alias("sd"),
            col("scale_min").first(),
            col("scale_max").first(),
        ]);
        let stats = scored.clone().group_by(g.clone()).agg(aggs);
        // Anonymous responses cannot be told apart: the same two aios in
        // 2023 and 2024 are four responses but two people, and one aios
        // rating four supervisors is four forms. Count what is certain: the
        // most anonymous forms of one year about one subject.
        let anonymous = scored
            .clone()
            .filter(col("anonymous"))
            .group_by([col("g"), col("year"), col("subject_key")])
            .agg([len().cast(DataType::UInt64).alias("forms")])
            .group_by(g.clone())
            .agg([col("forms").max().alias("n_anonymous")]);
        let stats = stats
            .join(
                anonymous,
                g.clone(),
                g.clone(),
                JoinArgs::new(JoinType::Left),
            )
            .with_column(
                (col("n_keyed") + col("n_anonymous").fill_null(lit(0u64)))
                    .cast(DataType::UInt64)
                    .alias("n_respondents"),
            );
        // Σ item variances from whole-number sums only (answers are whole or
        // half points, and every item has the same complete responses), so
        // no floating-point sum depends on the order of rows.
        let item_var = item_sums
            .clone()
            .filter(filter.clone())
            .with_column(group_key(level))
            .group_by([col("g"), col("item_id")])
            .agg([
                col("sx").sum().alias("sx"),
                col("sxx").sum().alias("sxx"),
                col("n").sum().alias("n"),
            ])
            .group_by(g.clone())
            .agg([
                col("sxx").sum().alias("sum_sxx"),
                (col("sx") * col("sx")).sum().alias("sum_sx2"),
                col("n").first().alias("n_items_rows"),
                col("item_id").count().cast(DataType::UInt32).alias("k"),
            ])
            .with_column(
                ((col("sum_sxx") - col("sum_sx2") / col("n_items_rows"))
                    / (col("n_items_rows") - lit(1.0)))
                .alias("sum_item_var"),
            );
        let total_var = scored
            .filter(col("answered").eq(col("n_items")))
            .group_by(g.clone())
            .agg([
                exact_var("tot").alias("total_var"),
                col("tot")
                    .count()
                    .cast(DataType::UInt32)
                    .alias("n_complete"),
            ]);
        let left = JoinArgs::new(JoinType::Left);
        let df = stats
            .join(item_var, g.clone(), g.clone(), left.clone())
            .join(total_var, g.clone(), g, left)
            .collect()
            .map_err(&e)?;
        cells.extend(frame_to_cells(&df, level, label)?);
    }
    Ok(())
}

/// The sample variance (n - 1) from the sums of x and x². Answers are whole
/// or half points, so both sums are exact in floating point whatever the
/// order of the rows: the result is the same on every run.
pub(crate) fn exact_var(name: &str) -> Expr {
    let n = col(name).count().cast(DataType::Float64);
    let sx = col(name).sum();
    let sxx = (col(name) * col(name)).sum();
    (sxx - sx.clone() * sx / n.clone()) / (n - lit(1.0))
}

/// (level, unit_id, instrument, year) -> distinct respondents.
pub(crate) type Participation = HashMap<(Level, String, String, i32), u64>;

pub(crate) fn participation(pass: &Pass, instrument: &str) -> Participation {
    let names = &pass.names;
    let people: HashSet<(pass::Unit, u32)> = pass.scores.iter().map(|s| (s.unit, s.who)).collect();
    let mut sets: HashMap<(Level, String, String, i32), HashSet<u32>> = HashMap::new();
    for (u, who) in people {
        let (Some(ins), Some(sp)) = (names.name_of(u.institution), names.name_of(u.specialty))
        else {
            continue;
        };
        let units = units_of(ins, sp, names.name_of(u.rso), names.name_of(u.region));
        for (l, unit) in units {
            sets.entry((l, unit, instrument.to_string(), u.year))
                .or_default()
                .insert(who);
        }
    }
    sets.into_iter().map(|(k, v)| (k, v.len() as u64)).collect()
}

/// (level, unit, instrument in lower case, year) -> invited.
pub(crate) type Invited = HashMap<(Level, String, String, i32), u64>;

/// Sums the invitations per unit at every level, instrument and year (the
/// RSO and region as of the middle of the year).
pub(crate) fn invited_per_unit(invitations: &[Invitation], registry: &Registry) -> Invited {
    let mut out = Invited::new();
    for i in invitations {
        let Some(mid) = NaiveDate::from_ymd_opt(i.year, 7, 1) else {
            continue;
        };
        let rso = registry.rso_on(&i.institution_id, &i.specialty, mid);
        let region = rso.map(|r| r.region.clone()).or_else(|| {
            registry
                .institutions
                .get(&i.institution_id)
                .map(|x| x.region.clone())
        });
        let units = units_of(
            &i.institution_id,
            &i.specialty,
            rso.map(|r| r.id.as_str()),
            region.as_deref(),
        );
        for (level, unit) in units {
            *out.entry((level, unit, i.instrument.to_lowercase(), i.year))
                .or_default() += i.invited;
        }
    }
    out
}

pub(crate) fn response_rate(c: &Cell, part: &Participation, invited: &Invited) -> Option<f64> {
    let mut all_invited = 0u64;
    let mut took_part = 0u64;
    let instrument = c.instrument.to_lowercase();
    for year in score::years_of(&c.period) {
        let inv = invited
            .get(&(c.level, c.unit_id.clone(), instrument.clone(), year))
            .copied()
            .unwrap_or(0);
        if inv > 0 {
            all_invited += inv;
            took_part += part
                .get(&(c.level, c.unit_id.clone(), c.instrument.clone(), year))
                .copied()
                .unwrap_or(0);
        }
    }
    (all_invited > 0).then(|| took_part as f64 / all_invited as f64)
}

pub(crate) fn frame_to_cells(df: &DataFrame, level: Level, label: &Labels) -> Result<Vec<Cell>> {
    let path = label.path;
    let e = &pl(path);
    // Key columns hold the pass's numbers for texts.
    let s = |n: &str| -> Result<Vec<Option<String>>> {
        let c = df.column(n).map_err(e)?.u32().map_err(e)?;
        Ok(c.iter()
            .map(|id| label.names.name_of(id).map(str::to_string))
            .collect())
    };
    let f = |n: &str| -> Result<Vec<Option<f64>>> {
        let c = df
            .column(n)
            .map_err(e)?
            .cast(&DataType::Float64)
            .map_err(e)?;
        Ok(c.f64().map_err(e)?.iter().collect())
    };
    let u = |n: &str| -> Result<Vec<Option<u64>>> {
        let c = df
            .column(n)
            .map_err(e)?
            .cast(&DataType::UInt64)
            .map_err(e)?;
        Ok(c.u64().map_err(e)?.iter().collect())
    };
    let key = |n: &str| -> Result<Vec<Option<String>>> {
        if level.keys().contains(&n) {
            s(n)
        } else {
            Ok(vec![None; df.height()])
        }
    };
    let (inst, spec, rso, region) = (
        key("institution_id")?,
        key("specialty")?,
        key("rso_id")?,
        key("region_id")?,
    );
    let (version, scale) = (s("instrument_version")?, s("scale_id")?);
    // The period: a year, or 0 for the cycle.
    let period: Vec<String> = df
        .column("period")
        .map_err(e)?
        .i32()
        .map_err(e)?
        .iter()
        .map(|p| match p {
            Some(0) | None => label.cycle.to_string(),
            Some(year) => year.to_string(),
        })
        .collect();
    let (n_resp, n_who) = (u("n_responses")?, u("n_respondents")?);
    let (mean, sd, lo, hi) = (f("mean")?, f("sd")?, f("scale_min")?, f("scale_max")?);
    let (siv, k, tv, nc) = (
        f("sum_item_var")?,
        u("k")?,
        f("total_var")?,
        u("n_complete")?,
    );
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let unit_id = match level {
            Level::Department => format!(
                "{}:{}",
                inst[i].clone().unwrap_or_default(),
                spec[i].clone().unwrap_or_default()
            ),
            Level::Institution => inst[i].clone().unwrap_or_default(),
            Level::Rso => rso[i].clone().unwrap_or_default(),
            Level::Region => region[i].clone().unwrap_or_default(),
        };
        let alpha = match (siv[i], k[i], tv[i], nc[i]) {
            (Some(siv), Some(k), Some(tv), Some(n)) if n >= 3 => {
                score::cronbach_alpha(k as u32, siv, tv)
            }
            _ => None,
        };
        out.push(Cell {
            level,
            unit_id,
            institution_id: inst[i].clone(),
            specialty: spec[i].clone(),
            rso_id: rso[i].clone(),
            region_id: region[i].clone(),
            instrument: label.instrument.to_string(),
            instrument_version: version[i].clone().unwrap_or_default(),
            scale_id: scale[i].clone().unwrap_or_default(),
            period: period[i].clone(),
            n_respondents: n_who[i].unwrap_or(0),
            n_responses: n_resp[i].unwrap_or(0),
            mean: mean[i],
            sd: sd[i],
            ci_low: None,
            ci_high: None,
            mean_pomp: None,
            alpha,
            response_rate: None,
            reliable: false,
            suppressed: false,
            suppression_reason: None,
            scale_min: lo[i].unwrap_or(0.0),
            scale_max: hi[i].unwrap_or(1.0),
            floor: 0,
            in_total: false,
            atoms: Vec::new(),
        });
    }
    Ok(out)
}

/// Atoms by level key and year, to find a cell's atoms quickly.
pub(crate) struct AtomIndex {
    pub(crate) by_key: HashMap<(String, Level, String, i32), Vec<u32>>,
}

pub(crate) fn block_key(b: (&str, &str, &str)) -> String {
    format!("{}\x1f{}\x1f{}", b.0, b.1, b.2)
}

impl AtomIndex {
    pub(crate) fn new(atoms: &[Atom]) -> AtomIndex {
        let mut by_key: HashMap<(String, Level, String, i32), Vec<u32>> = HashMap::new();
        for (i, a) in atoms.iter().enumerate() {
            let i = i as u32;
            let b = block_key((&a.block.0, &a.block.1, &a.block.2));
            for (level, unit) in a.units() {
                by_key
                    .entry((b.clone(), level, unit, a.year))
                    .or_default()
                    .push(i);
            }
        }
        AtomIndex { by_key }
    }

    /// The atoms of a cell: those of its block, unit and years.
    pub(crate) fn of(
        &self,
        block: (&str, &str, &str),
        level: Level,
        unit: &str,
        period: &str,
    ) -> Vec<u32> {
        let b = block_key(block);
        let mut v: Vec<u32> = score::years_of(period)
            .into_iter()
            .flat_map(|y| {
                self.by_key
                    .get(&(b.clone(), level, unit.to_string(), y))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        v.sort_unstable();
        v
    }
}

pub(crate) fn finish_cell(
    c: &mut Cell,
    spec: Option<&ScaleSpec>,
    registry: &Registry,
    index: &AtomIndex,
) {
    if let (Some(m), Some(sd)) = (c.mean, c.sd) {
        if let Some((lo, hi)) = score::mean_ci(m, sd, c.n_responses) {
            c.ci_low = Some(lo);
            c.ci_high = Some(hi);
        }
    }
    c.mean_pomp = c.mean.map(|m| score::pomp(m, c.scale_min, c.scale_max));
    c.reliable = spec.is_some_and(|s| c.n_respondents >= s.reliability_min as u64);
    c.floor = spec.map(|s| s.privacy_floor).unwrap_or(u32::MAX);
    c.in_total = spec.is_some_and(|s| s.in_total);
    c.atoms = index.of(
        (&c.instrument, &c.instrument_version, &c.scale_id),
        c.level,
        &c.unit_id,
        &c.period,
    );
    // Keys that apply to the level: a department's RSO at the end of the
    // period, and every unit's region.
    let last_day = score::years_of(&c.period)
        .last()
        .and_then(|y| NaiveDate::from_ymd_opt(*y, 12, 31));
    match c.level {
        Level::Department => {
            let (inst, spec) = (
                c.institution_id.clone().unwrap_or_default(),
                c.specialty.clone().unwrap_or_default(),
            );
            let rso = last_day.and_then(|d| registry.rso_on(&inst, &spec, d));
            c.rso_id = rso.map(|r| r.id.clone());
            c.region_id = rso
                .map(|r| r.region.clone())
                .or_else(|| registry.institutions.get(&inst).map(|i| i.region.clone()));
        }
        Level::Institution => {
            c.region_id = c
                .institution_id
                .as_ref()
                .and_then(|i| registry.institutions.get(i))
                .map(|i| i.region.clone());
        }
        Level::Rso => {
            c.specialty = registry.rsos.get(&c.unit_id).map(|r| r.specialty.clone());
            c.region_id = registry.rsos.get(&c.unit_id).map(|r| r.region.clone());
        }
        Level::Region => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_levels_key_is_unit_block_and_period_in_one_integer() {
        let df = df! {
            "dept" => [0u32, 1, 1, 1],
            "region_id" => [Some(7u32), Some(7), None, Some(7)],
            "block" => [0u32, 0, 3, 3],
            "period" => [2023i32, 2023, 0, 2024],
        }
        .expect("frame");
        let keys = |level: Level| -> Vec<u64> {
            df.clone()
                .lazy()
                .select([group_key(level)])
                .collect()
                .expect("keys")
                .column("g")
                .expect("g")
                .u64()
                .expect("u64")
                .into_no_null_iter()
                .collect()
        };
        // By hand: unit × 2^32 + block × 2^16 + period.
        let k = |unit: u64, block: u64, period: u64| (unit << 32) + (block << 16) + period;
        assert_eq!(
            keys(Level::Department),
            vec![k(0, 0, 2023), k(1, 0, 2023), k(1, 3, 0), k(1, 3, 2024)]
        );
        // A missing region is a group of its own, as Polars groups nulls.
        assert_eq!(
            keys(Level::Region),
            vec![
                k(7, 0, 2023),
                k(7, 0, 2023),
                k(u64::from(u32::MAX), 3, 0),
                k(7, 3, 2024)
            ]
        );
    }

    #[test]
    fn score_keys_sort_as_total_cmp() {
        let xs = [
            3.5,
            -0.0,
            0.0,
            -2.25,
            f64::INFINITY,
            1e-300,
            -1e300,
            4.0,
            f64::NEG_INFINITY,
            7.0 / 3.0,
            -7.0 / 3.0,
        ];
        let mut by_cmp = xs.to_vec();
        by_cmp.sort_by(f64::total_cmp);
        let mut by_key = xs.to_vec();
        by_key.sort_by_key(|&x| total_order_key(x));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&by_cmp), bits(&by_key));
        assert_eq!(
            by_key.first().copied(),
            Some(f64::NEG_INFINITY),
            "the smallest first"
        );
    }

    fn atom(block: &str, inst: &str, spec: &str, year: i32) -> Atom {
        Atom {
            block: (block.into(), "v".into(), "total".into()),
            institution_id: inst.into(),
            specialty: spec.into(),
            rso_id: None,
            region_id: "r".into(),
            year,
        }
    }

    /// Regression: atoms were shared by every instrument, so an institution's
    /// D-RECT cell also held the atoms of a department that had only SETQ
    /// data; "institution = its departments" never matched and a small
    /// department could be subtracted from its institution unprotected.
    #[test]
    fn regression_atoms_are_per_block() {
        let mut atoms = vec![
            atom("d-rect", "h", "chir", 2024),
            atom("d-rect", "h", "int", 2024),
            atom("setq", "h", "kind", 2024),
        ];
        atoms.sort();
        let index = AtomIndex::new(&atoms);
        let inst = index.of(("d-rect", "v", "total"), Level::Institution, "h", "2024");
        assert_eq!(inst.len(), 2);
        let chir = index.of(
            ("d-rect", "v", "total"),
            Level::Department,
            "h:chir",
            "2024",
        );
        let int = index.of(("d-rect", "v", "total"), Level::Department, "h:int", "2024");
        let mut parts: Vec<u32> = chir.iter().chain(int.iter()).copied().collect();
        parts.sort_unstable();
        assert_eq!(
            parts, inst,
            "the institution is exactly its two D-RECT departments"
        );
        assert!(index
            .of(
                ("d-rect", "v", "total"),
                Level::Department,
                "h:kind",
                "2024"
            )
            .is_empty());
    }
}
