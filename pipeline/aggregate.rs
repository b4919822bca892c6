//! Aggregation: response scores pooled per department, institution, RSO and
//! region, per year and per two-year cycle.
//!
//! This module owns the Polars pipeline over `dataset/responses` (with
//! `dataset`, the only door to Polars): response scores per subscale with
//! the half rule from one pass over each year partition (`pass`), pooled
//! means and standard deviations by lazy group-bys on numbered keys,
//! Cronbach's alpha from item and total variances, participation for
//! response rates; then confidence intervals, POMP and reliability from the
//! formulas in `score`. It returns plain `Cell`s: `privacy` suppresses them,
//! and only a protected table is written. It also derives the changes
//! between periods. It does not render anything.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

mod pass;
use pass::{Head, Pass, Row};

use chrono::NaiveDate;
use polars::prelude::*;

use crate::config::Config;
use crate::dataset::{parquet_files, partition_of, write_parquet};
use crate::error::{Error, Result};
use crate::instrument::Catalogue;
use crate::org::Registry;
use crate::score::{self, ScaleSpec, Summary, TOTAL};
use sha2::{Digest, Sha256};

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

    fn keys(self) -> &'static [&'static str] {
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
        (Level::Department, format!("{institution}:{specialty}")),
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
    /// `min_n` or `secondary`.
    pub suppression_reason: Option<String>,
    /// Scale minimum (not written: from the definition).
    pub scale_min: f64,
    /// Scale maximum (not written).
    pub scale_max: f64,
    /// The privacy floor that applies (not written).
    pub floor: u32,
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
        self.period.contains('-')
    }

    /// Withholds the values, keeping the counts.
    pub fn suppress(&mut self, reason: &str) {
        self.suppressed = true;
        self.suppression_reason = Some(reason.to_string());
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

fn pl(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::dataset(path, e)
}

/// One row of the invitations file, resolved against the registry.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Instrument id.
    pub instrument: String,
    /// Year.
    pub year: i32,
    /// Institution id.
    pub institution_id: String,
    /// Specialty code.
    pub specialty: String,
    /// Number invited.
    pub invited: u64,
}

/// Reads `instrument,year,institution,specialty,invited`; institutions and
/// specialties may be spelled as in the registry's aliases.
pub fn read_invitations(path: &Path, registry: &Registry) -> Result<Vec<Invitation>> {
    let fail = |row: usize, message: String| Error::Config {
        file: path.display().to_string(),
        message: format!("row {row}: {message}"),
    };
    let mut rdr = csv::Reader::from_path(path).map_err(|e| fail(0, e.to_string()))?;
    let headers = rdr.headers().map_err(|e| fail(1, e.to_string()))?.clone();
    let idx = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| fail(1, format!("column {name:?} is missing; expected instrument,year,institution,specialty,invited")))
    };
    let (i_inst, i_year, i_org, i_spec, i_inv) = (
        idx("instrument")?,
        idx("year")?,
        idx("institution")?,
        idx("specialty")?,
        idx("invited")?,
    );
    let mut out = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let row = n + 2;
        let rec = rec.map_err(|e| fail(row, e.to_string()))?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let inst = registry.institution(get(i_org)).ok_or_else(|| {
            fail(
                row,
                format!(
                    "unknown institution {:?}: add it to the registry's aliases",
                    get(i_org)
                ),
            )
        })?;
        let spec = registry
            .specialty(get(i_spec))
            .ok_or_else(|| fail(row, format!("unknown specialty {:?}", get(i_spec))))?;
        let year = get(i_year)
            .parse()
            .map_err(|_| fail(row, format!("year {:?} is not a year", get(i_year))))?;
        let invited = get(i_inv).parse().map_err(|_| {
            fail(
                row,
                format!("invited {:?} is not a whole number", get(i_inv)),
            )
        })?;
        out.push(Invitation {
            instrument: get(i_inst).to_string(),
            year,
            institution_id: inst.id.clone(),
            specialty: spec.code.clone(),
            invited,
        });
    }
    Ok(out)
}

/// `name` equals one of `values`.
fn any_eq(name: &str, values: impl IntoIterator<Item = Expr>) -> Expr {
    values
        .into_iter()
        .fold(lit(false), |acc, v| acc.or(col(name).eq(v)))
}

fn on(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|n| col(*n)).collect()
}

const VERSION_KEYS: [&str; 3] = ["instrument", "instrument_version", "scale_id"];
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

/// The groups of a dataset and what computing one needs.
pub struct Plan<'a> {
    config: &'a Config,
    /// The groups, by instrument and then cycle (in time order).
    pub groups: Vec<Group>,
    shared: Option<Shared>,
    specs: Vec<ScaleSpec>,
    invited: Invited,
}

/// Finds the dataset's groups and fingerprints them; reads the invitations.
pub fn plan(config: &Config) -> Result<Plan<'_>> {
    let ds = &config.paths.dataset;
    let responses_dir = ds.join("responses");
    let files = parquet_files(&responses_dir)?;
    let mut comments = parquet_files(&ds.join("comments"))?;
    comments.sort();
    let mut by_group: BTreeMap<(String, String), (Vec<i32>, Vec<PathBuf>)> = BTreeMap::new();
    for f in &files {
        let (instrument, year) = partition_of(f);
        let g = by_group
            .entry((instrument, score::cycle_of(year, config.first_cycle_year)))
            .or_default();
        if !g.0.contains(&year) {
            g.0.push(year);
        }
        g.1.push(f.clone());
    }
    let settings = crate::job::settings_fingerprint(config);
    let mut groups = Vec::with_capacity(by_group.len());
    for ((instrument, cycle), (mut years, mut files)) in by_group {
        years.sort_unstable();
        files.extend(
            comments
                .iter()
                .filter(|c| {
                    let (i, y) = partition_of(c);
                    i == instrument && years.contains(&y)
                })
                .cloned(),
        );
        files.sort();
        let mut h = Sha256::new();
        h.update(format!("{}\n{settings}\n", env!("CARGO_PKG_VERSION")).as_bytes());
        let mut bytes = 0;
        for f in &files {
            let size = std::fs::metadata(f).map_err(|e| Error::io(f, e))?.len();
            let rel = f.strip_prefix(ds).unwrap_or(f);
            h.update(format!("{} {size}\n", rel.display()).as_bytes());
            bytes += size;
        }
        groups.push(Group {
            instrument,
            cycle,
            years,
            fingerprint: hex::encode(h.finalize()),
            bytes,
        });
    }
    let specs = score::scale_specs(
        &config.catalogue,
        config.min_answered_fraction,
        config.privacy_floor,
    );
    let invitations = match &config.paths.invitations {
        Some(p) if p.exists() => read_invitations(p, &config.registry)?,
        _ => Vec::new(),
    };
    let invited = invited_per_unit(&invitations, &config.registry);
    let shared = if files.is_empty() {
        None
    } else {
        // Each year of an instrument is read from its own partition's
        // files: chosen here, not found again by every query.
        let mut partitions: HashMap<(String, i32), Vec<PathBuf>> = HashMap::new();
        for f in &files {
            partitions
                .entry(partition_of(f))
                .or_default()
                .push(f.clone());
        }
        Some(Shared {
            partitions,
            path: responses_dir.clone(),
            file_names: crate::dataset::Dataset::open_read_only(ds)
                .manifest()?
                .into_iter()
                .map(|m| (m.source_sha256, m.source_file))
                .collect(),
        })
    };
    Ok(Plan {
        config,
        groups,
        shared,
        specs,
        invited,
    })
}

impl Plan<'_> {
    /// Every cell of one group (not yet protected), finished and sorted;
    /// only the group's partitions are read (partition pruning on the hive
    /// paths), so memory stays bounded by one group.
    pub fn compute(&self, group: &Group) -> Result<Table> {
        let Some(shared) = &self.shared else {
            return Ok(Table::default());
        };
        let mut acc = Accumulated::default();
        tracing::debug!(
            instrument = group.instrument,
            cycle = group.cycle,
            "aggregating"
        );
        // The subscales that count towards the instrument's total.
        let in_total = self
            .config
            .catalogue
            .iter()
            .filter(|i| i.id == group.instrument)
            .flat_map(|i| {
                i.subscales
                    .iter()
                    .filter(|s| s.in_total)
                    .map(move |s| (i.version.as_str(), s.id.as_str()))
            });
        let pass = Pass::new(&group.instrument, &self.specs, in_total);
        compute_cycle(shared, pass, &group.cycle, &group.years, &mut acc)?;
        let Accumulated {
            data_until,
            item_counts,
            mut cells,
            mut atoms,
            participation,
            mut sources,
        } = acc;
        atoms.sort();
        sources.sort();
        let spec_of: HashMap<(&str, &str, &str), &ScaleSpec> = self
            .specs
            .iter()
            .map(|s| {
                (
                    (
                        s.instrument.as_str(),
                        s.version.as_str(),
                        s.scale_id.as_str(),
                    ),
                    s,
                )
            })
            .collect();
        let index = AtomIndex::new(&atoms);
        for c in cells.iter_mut() {
            let spec = spec_of
                .get(&(
                    c.instrument.as_str(),
                    c.instrument_version.as_str(),
                    c.scale_id.as_str(),
                ))
                .copied();
            finish_cell(c, spec, &self.config.registry, &index);
            c.response_rate = response_rate(c, &participation, &self.invited);
        }
        sort_cells(&mut cells);
        Ok(Table {
            data_until,
            item_counts,
            cells,
            atoms,
            sources,
            protected: false,
        })
    }
}

/// Cells by level and unit, then as within a group's file (`group_order`).
fn sort_cells(cells: &mut [Cell]) {
    fn key(c: &Cell) -> (Level, &str, &str, &str, &str, &str) {
        (
            c.level,
            &c.unit_id,
            &c.instrument,
            &c.instrument_version,
            &c.scale_id,
            &c.period,
        )
    }
    cells.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Changes in the order of `group_order` (years before cycles), by level
/// and unit first.
fn sort_changes(changes: &mut [Change]) {
    fn key(c: &Change) -> (Level, &str, &str, &str, bool, &str, &str) {
        (
            c.level,
            &c.unit_id,
            &c.instrument,
            &c.construct,
            c.period.contains('-'),
            &c.period,
            &c.instrument_version,
        )
    }
    changes.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Item counts by RSO, then as within a group's file (`group_order`).
fn sort_item_counts(item_counts: &mut [ItemCount]) {
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

/// Computes every cell of the dataset (not yet protected): every group's,
/// one after the other, in one table.
pub fn compute(config: &Config) -> Result<Table> {
    let plan = plan(config)?;
    let mut all = Table::default();
    for g in &plan.groups {
        let t = plan.compute(g)?;
        let offset = all.atoms.len() as u32;
        all.atoms.extend(t.atoms);
        all.cells.extend(t.cells.into_iter().map(|mut c| {
            c.atoms.iter_mut().for_each(|a| *a += offset);
            c
        }));
        all.item_counts.extend(t.item_counts);
        all.sources.extend(t.sources);
        if t.data_until > all.data_until {
            all.data_until = t.data_until;
        }
    }
    sort_cells(&mut all.cells);
    sort_item_counts(&mut all.item_counts);
    Ok(all)
}

/// What every cycle's computation shares.
struct Shared {
    /// The response files of each (instrument, year) partition.
    partitions: HashMap<(String, i32), Vec<PathBuf>>,
    path: PathBuf,
    /// The manifest's file name of every export (by SHA-256).
    file_names: HashMap<String, String>,
}

/// The results of the cycles computed so far.
#[derive(Default)]
struct Accumulated {
    data_until: Option<String>,
    item_counts: Vec<ItemCount>,
    cells: Vec<Cell>,
    atoms: Vec<Atom>,
    participation: Participation,
    sources: Vec<Source>,
}

/// The columns the pass reads from the item rows.
const PASS_COLUMNS: [&str; 14] = [
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

/// Every cell of one instrument in one cycle (its years and the cycle).
///
/// Each year partition is read once, in batches, by `pass::Pass` (scores,
/// alpha's item sums, answer counts, export files); the cells are then
/// pooled from the scores by Polars group-bys, one kind of period at a time.
fn compute_cycle(
    sh: &Shared,
    pass: Pass,
    cycle: &str,
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

    // The export files behind each RSO's numbers, and the last submission.
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
    for (rso, sha) in pass.files.keys() {
        let (Some(rso), Some(sha)) = (names.name_of(*rso), names.name_of(*sha)) else {
            continue;
        };
        if let Some(file) = sh.file_names.get(sha) {
            acc.sources.push(Source {
                rso_id: rso.to_string(),
                instrument: instrument.to_string(),
                period: cycle.to_string(),
                source_file: file.clone(),
                source_sha256: sha.to_string(),
            });
        }
    }

    // Answer counts per RSO and item in the cycle, not-applicable included.
    let text = |id: Option<u32>| names.name_of(id).unwrap_or_default().to_string();
    acc.item_counts.extend(
        pass.counts
            .iter()
            .map(|(&(rso, version, scale, item, value), &n)| ItemCount {
                rso_id: names.name(rso).to_string(),
                instrument: instrument.to_string(),
                instrument_version: text(version),
                scale_id: text(scale),
                item_id: text(item),
                period: cycle.to_string(),
                value: value.map(f64::from_bits),
                n,
            }),
    );

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

    // Every year of the data belongs to its year and to its cycle: the
    // cells of each kind of period in a pass of their own.
    let dense = Dense::new(&pass).map_err(&e)?;
    let scores = scores_frame(&pass, &dense).map_err(&e)?;
    let item_sums = item_sums_frame(&pass, &dense).map_err(&e)?;
    let label = Labels {
        names,
        instrument,
        cycle,
        path: &sh.path,
    };
    for period in [col("year"), lit(0i32)] {
        let scored = scores
            .clone()
            .lazy()
            .with_column(period.clone().alias("period"));
        let item_sums = item_sums.clone().lazy().with_column(period.alias("period"));
        level_cells(&scored, &item_sums, &label, &mut acc.cells)?;
    }

    // Participation per unit, instrument and year, for response rates.
    acc.participation.extend(participation(&pass, instrument));
    Ok(())
}

/// The pass, also after a panic elsewhere (the query then fails anyway).
fn lock(pass: &Mutex<Pass>) -> std::sync::MutexGuard<'_, Pass> {
    pass.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Gives every row of a batch to the pass. Columns are read by position,
/// and those of a response's head only at its first row.
fn read_batch(batch: &DataFrame, pass: &mut Pass) -> PolarsResult<()> {
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
fn scores_frame(pass: &Pass, dense: &Dense) -> PolarsResult<DataFrame> {
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
    DataFrame::new_infer_height(columns)
}

/// Small numbers for the parts of a cell's key: each (version, subscale)
/// block, ranked by their names (as Polars sorts texts: the scores are
/// sorted by it), and each department (institution and specialty) of a
/// group, so that a level's key fits one 64-bit integer (`group_key`):
/// Polars groups on one integer much faster than on six columns.
struct Dense {
    block: PlHashMap<(u32, u32), u32>,
    dept: PlHashMap<(Option<u32>, Option<u32>), u32>,
}

impl Dense {
    fn new(pass: &Pass) -> PolarsResult<Dense> {
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
fn group_key(level: Level) -> Expr {
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
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Alpha's item sums per department, year, subscale (and total) and item,
/// keyed by the pass's numbers like `scores_frame`.
fn item_sums_frame(pass: &Pass, dense: &Dense) -> PolarsResult<DataFrame> {
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
    DataFrame::new_infer_height(columns)
}

/// A column of one value per row.
fn column_of<R, T>(name: &str, rows: &[R], f: impl Fn(&R) -> T) -> Column
where
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<T>>())
}

/// The unit's columns (numbered institution, specialty, RSO, region; year).
fn unit_columns<R>(rows: &[R], unit: impl Fn(&R) -> &pass::Unit) -> [Column; 5] {
    [
        column_of("institution_id", rows, |r| unit(r).institution),
        column_of("specialty", rows, |r| unit(r).specialty),
        column_of("rso_id", rows, |r| unit(r).rso),
        column_of("region_id", rows, |r| unit(r).region),
        column_of("year", rows, |r| unit(r).year),
    ]
}

/// Turns the numbers of a group's key columns back into texts.
struct Labels<'a> {
    names: &'a pass::Names,
    instrument: &'a str,
    /// The period of the cycle's cells (0 in the `period` column).
    cycle: &'a str,
    path: &'a Path,
}

/// The cells of every level from the response scores and item sums of one
/// kind of period (`period`: years, or the cycle).
fn level_cells(
    scored: &LazyFrame,
    item_sums: &LazyFrame,
    label: &Labels,
    cells: &mut Vec<Cell>,
) -> Result<()> {
    let e = pl(label.path);
    for level in Level::ALL {
        // Every group by the level's one-integer key; the key's texts are
        // taken from the group's first row (the key determines them).
        let mut labels: Vec<&str> = level.keys().to_vec();
        labels.extend(["instrument_version", "scale_id", "period"]);
        let g = [col("g")];
        let filter = match level {
            Level::Rso => col("rso_id").is_not_null(),
            _ => lit(true),
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
fn exact_var(name: &str) -> Expr {
    let n = col(name).count().cast(DataType::Float64);
    let sx = col(name).sum();
    let sxx = (col(name) * col(name)).sum();
    (sxx - sx.clone() * sx / n.clone()) / (n - lit(1.0))
}

/// (level, unit_id, instrument, year) -> distinct respondents.
type Participation = HashMap<(Level, String, String, i32), u64>;

fn participation(pass: &Pass, instrument: &str) -> Participation {
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
type Invited = HashMap<(Level, String, String, i32), u64>;

/// Sums the invitations per unit at every level, instrument and year (the
/// RSO and region as of the middle of the year).
fn invited_per_unit(invitations: &[Invitation], registry: &Registry) -> Invited {
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

fn response_rate(c: &Cell, part: &Participation, invited: &Invited) -> Option<f64> {
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

fn frame_to_cells(df: &DataFrame, level: Level, label: &Labels) -> Result<Vec<Cell>> {
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
            atoms: Vec::new(),
        });
    }
    Ok(out)
}

/// Atoms by level key and year, to find a cell's atoms quickly.
struct AtomIndex {
    by_key: HashMap<(String, Level, String, i32), Vec<u32>>,
}

fn block_key(b: (&str, &str, &str)) -> String {
    format!("{}\x1f{}\x1f{}", b.0, b.1, b.2)
}

impl AtomIndex {
    fn new(atoms: &[Atom]) -> AtomIndex {
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
    fn of(&self, block: (&str, &str, &str), level: Level, unit: &str, period: &str) -> Vec<u32> {
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

fn finish_cell(c: &mut Cell, spec: Option<&ScaleSpec>, registry: &Registry, index: &AtomIndex) {
    if let (Some(m), Some(sd)) = (c.mean, c.sd) {
        if let Some((lo, hi)) = score::mean_ci(m, sd, c.n_responses) {
            c.ci_low = Some(lo);
            c.ci_high = Some(hi);
        }
    }
    c.mean_pomp = c.mean.map(|m| score::pomp(m, c.scale_min, c.scale_max));
    c.reliable = spec.is_some_and(|s| c.n_respondents >= s.reliability_min as u64);
    c.floor = spec.map(|s| s.privacy_floor).unwrap_or(u32::MAX);
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

/// The construct a subscale measures (its id when the catalogue has none).
fn construct_of(catalogue: &Catalogue, inst: &str, ver: &str, scale: &str) -> String {
    if scale == TOTAL {
        return TOTAL.into();
    }
    catalogue
        .get(inst, ver)
        .and_then(|i| i.subscale(scale))
        .map(|s| s.construct.clone())
        .unwrap_or_else(|| scale.to_string())
}

/// A series of cells that changes compare: one unit, instrument and
/// construct, years or cycles.
type SeriesKey = (Level, String, String, String, bool);

fn series_key(c: &Cell, catalogue: &Catalogue) -> SeriesKey {
    (
        c.level,
        c.unit_id.clone(),
        c.instrument.clone(),
        construct_of(catalogue, &c.instrument, &c.instrument_version, &c.scale_id),
        c.is_cycle(),
    )
}

/// Changes between consecutive periods of the same kind that have data, per
/// unit and subscale, linked across versions by construct; only published
/// numbers are used (a change involving a suppressed cell has none).
/// Computed group by group, in time order: the chain remembers the last
/// cell of every series, so a group's first period is compared with the
/// latest earlier period that has data, as if all cells were at hand.
#[derive(Debug, Default)]
pub struct ChangeChain {
    last: HashMap<SeriesKey, Cell>,
}

impl ChangeChain {
    /// Takes the last cells of series (`Previous::series_ends`) as if their
    /// groups had gone through the chain.
    pub fn seed(&mut self, ends: Vec<Cell>, catalogue: &Catalogue) {
        for c in ends {
            self.last.insert(series_key(&c, catalogue), c);
        }
    }

    /// The changes into the periods of `cells` (one group, or any set of
    /// cells later than every one seen before).
    pub fn next(&mut self, cells: &[Cell], catalogue: &Catalogue) -> Vec<Change> {
        let mut series: BTreeMap<SeriesKey, Vec<&Cell>> = BTreeMap::new();
        for c in cells {
            series.entry(series_key(c, catalogue)).or_default().push(c);
        }
        let mut out = Vec::new();
        let mut lasts = Vec::with_capacity(series.len());
        for (key, mut cells) in series {
            cells.sort_by(|a, b| {
                a.period
                    .cmp(&b.period)
                    .then(a.instrument_version.cmp(&b.instrument_version))
            });
            if let Some(prev) = self.last.get(&key) {
                cells.insert(0, prev);
            }
            out.extend(series_changes(&key.3, &cells));
            if let Some(last) = cells.last() {
                lasts.push((key, (*last).clone()));
            }
        }
        self.last.extend(lasts);
        out
    }
}

/// The changes along one series, sorted by period and version.
fn series_changes(cons: &str, cells: &[&Cell]) -> Vec<Change> {
    let mut out = Vec::new();
    for w in cells.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        if prev.period == cur.period {
            continue;
        }
        let summary = |c: &Cell| -> Option<Summary> {
            let range = c.scale_max - c.scale_min;
            Some(Summary {
                mean: score::pomp(c.mean?, c.scale_min, c.scale_max),
                sd: c.sd? / range * 100.0,
                n: c.n_responses,
            })
        };
        let suppressed = prev.suppressed || cur.suppressed;
        let version_changed = prev.instrument_version != cur.instrument_version;
        let (a, b) = if suppressed {
            (None, None)
        } else {
            (summary(prev), summary(cur))
        };
        let (p_value, g, diff_pomp) = match (a, b) {
            (Some(a), Some(b)) => (
                score::welch(a, b).map(|x| x.2),
                score::hedges_g(a, b),
                Some(b.mean - a.mean),
            ),
            _ => (None, None, None),
        };
        let diff = match (suppressed, version_changed, prev.mean, cur.mean) {
            (false, false, Some(p), Some(c)) => Some(c - p),
            _ => None,
        };
        out.push(Change {
            level: cur.level,
            unit_id: cur.unit_id.clone(),
            institution_id: cur.institution_id.clone(),
            specialty: cur.specialty.clone(),
            rso_id: cur.rso_id.clone(),
            region_id: cur.region_id.clone(),
            instrument: cur.instrument.clone(),
            scale_id: cur.scale_id.clone(),
            construct: cons.to_string(),
            period: cur.period.clone(),
            previous_period: prev.period.clone(),
            instrument_version: cur.instrument_version.clone(),
            previous_version: prev.instrument_version.clone(),
            version_changed,
            diff,
            diff_pomp,
            p_value,
            hedges_g: g,
            suppressed,
            reliable: prev.reliable && cur.reliable,
        });
    }
    out
}

/// The aggregates table's columns, in order: the data contract.
pub const AGGREGATE_COLUMNS: [&str; 22] = [
    "level",
    "unit_id",
    "institution_id",
    "specialty",
    "rso_id",
    "region_id",
    "instrument",
    "instrument_version",
    "scale_id",
    "period",
    "n_respondents",
    "n_responses",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "mean_pomp",
    "alpha",
    "response_rate",
    "reliable",
    "suppressed",
    "suppression_reason",
];

fn aggregates_frame(cells: &[Cell]) -> PolarsResult<DataFrame> {
    // Texts borrowed from the cells, not copied twice.
    let s = |f: fn(&Cell) -> &str| Column::new("".into(), cells.iter().map(f).collect::<Vec<_>>());
    let o = |f: fn(&Cell) -> Option<&str>| {
        Column::new("".into(), cells.iter().map(f).collect::<Vec<_>>())
    };
    let x = |f: fn(&Cell) -> Option<f64>| {
        Column::new("".into(), cells.iter().map(f).collect::<Vec<_>>())
    };
    let cols = vec![
        s(|c| c.level.as_str()),
        s(|c| &c.unit_id),
        o(|c| c.institution_id.as_deref()),
        o(|c| c.specialty.as_deref()),
        o(|c| c.rso_id.as_deref()),
        o(|c| c.region_id.as_deref()),
        s(|c| &c.instrument),
        s(|c| &c.instrument_version),
        s(|c| &c.scale_id),
        s(|c| &c.period),
        Column::new(
            "".into(),
            cells.iter().map(|c| c.n_respondents).collect::<Vec<_>>(),
        ),
        Column::new(
            "".into(),
            cells.iter().map(|c| c.n_responses).collect::<Vec<_>>(),
        ),
        x(|c| c.mean),
        x(|c| c.sd),
        x(|c| c.ci_low),
        x(|c| c.ci_high),
        x(|c| c.mean_pomp),
        x(|c| c.alpha),
        x(|c| c.response_rate),
        Column::new(
            "".into(),
            cells.iter().map(|c| c.reliable).collect::<Vec<_>>(),
        ),
        Column::new(
            "".into(),
            cells.iter().map(|c| c.suppressed).collect::<Vec<_>>(),
        ),
        o(|c| c.suppression_reason.as_deref()),
    ];
    let cols = cols
        .into_iter()
        .zip(AGGREGATE_COLUMNS)
        .map(|(c, n)| c.with_name(n.into()))
        .collect();
    DataFrame::new(cells.len(), cols)
}

fn changes_frame(ch: &[Change]) -> PolarsResult<DataFrame> {
    let s = |n: &str, f: fn(&Change) -> &str| {
        Column::new(n.into(), ch.iter().map(f).collect::<Vec<_>>())
    };
    let o = |n: &str, f: fn(&Change) -> Option<&str>| {
        Column::new(n.into(), ch.iter().map(f).collect::<Vec<_>>())
    };
    let x = |n: &str, f: fn(&Change) -> Option<f64>| {
        Column::new(n.into(), ch.iter().map(f).collect::<Vec<_>>())
    };
    DataFrame::new(
        ch.len(),
        vec![
            s("level", |c| c.level.as_str()),
            s("unit_id", |c| &c.unit_id),
            o("institution_id", |c| c.institution_id.as_deref()),
            o("specialty", |c| c.specialty.as_deref()),
            o("rso_id", |c| c.rso_id.as_deref()),
            o("region_id", |c| c.region_id.as_deref()),
            s("instrument", |c| &c.instrument),
            s("scale_id", |c| &c.scale_id),
            s("construct", |c| &c.construct),
            s("period", |c| &c.period),
            s("previous_period", |c| &c.previous_period),
            s("instrument_version", |c| &c.instrument_version),
            s("previous_version", |c| &c.previous_version),
            Column::new(
                "version_changed".into(),
                ch.iter().map(|c| c.version_changed).collect::<Vec<_>>(),
            ),
            x("diff", |c| c.diff),
            x("diff_pomp", |c| c.diff_pomp),
            x("p_value", |c| c.p_value),
            x("hedges_g", |c| c.hedges_g),
            Column::new(
                "suppressed".into(),
                ch.iter().map(|c| c.suppressed).collect::<Vec<_>>(),
            ),
            Column::new(
                "reliable".into(),
                ch.iter().map(|c| c.reliable).collect::<Vec<_>>(),
            ),
        ],
    )
}

/// The folders of the four output tables, in `Output`'s table order:
/// `aggregates/`, `changes/`, `distributions/` and `sources/`, each with one
/// file per group, `<cycle>_<instrument>.parquet`.
fn table_dir(dataset: &Path, table: usize) -> PathBuf {
    dataset.join(TABLES[table])
}

/// The layout of the output tables: 2 since they hold a file per group
/// (before, one file per table). Part of the run's stamp (`job`), so that
/// the first run of a version with another layout aggregates again.
pub const OUTPUT_LAYOUT: u32 = 2;

/// The folder names of the four tables.
const TABLES: [&str; 4] = ["aggregates", "changes", "distributions", "sources"];

/// A group's file of a table.
fn group_file_name(instrument: &str, cycle: &str) -> String {
    format!("{cycle}_{instrument}.parquet")
}

/// A group's file of each table under a root: the dataset, or the scratch
/// folder, which holds the new files in the same layout.
fn group_files(root: &Path, instrument: &str, cycle: &str) -> [PathBuf; 4] {
    let name = group_file_name(instrument, cycle);
    TABLES.map(|t| root.join(t).join(&name))
}

/// The files of a table (every group's), sorted; none when there are none.
fn table_files(dataset: &Path, table: usize) -> Result<Vec<PathBuf>> {
    let dir = table_dir(dataset, table);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(&dir, e))?.path();
        if path.extension().is_some_and(|x| x == "parquet") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The cycle in a group file's name (`<cycle>_<instrument>.parquet`).
fn file_cycle(path: &Path) -> Option<&str> {
    let stem = path.file_stem()?.to_str()?;
    stem.split_once('_').map(|(cycle, _)| cycle)
}

fn counts_frame(c: &[ItemCount]) -> PolarsResult<DataFrame> {
    DataFrame::new(
        c.len(),
        vec![
            Column::new(
                "rso_id".into(),
                c.iter().map(|x| x.rso_id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "instrument".into(),
                c.iter().map(|x| x.instrument.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "instrument_version".into(),
                c.iter()
                    .map(|x| x.instrument_version.as_str())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "scale_id".into(),
                c.iter().map(|x| x.scale_id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "item_id".into(),
                c.iter().map(|x| x.item_id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "period".into(),
                c.iter().map(|x| x.period.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "value".into(),
                c.iter().map(|x| x.value).collect::<Vec<_>>(),
            ),
            Column::new("n".into(), c.iter().map(|x| x.n).collect::<Vec<_>>()),
        ],
    )
}

/// What the reports read: the published cells, changes and item counts.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The aggregates (atoms, floors and scale ends are not stored), sorted
    /// by level and unit: `unit_cells` relies on it.
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

fn texts(df: &DataFrame, n: &str, path: &Path) -> Result<Vec<Option<String>>> {
    crate::dataset::text_column(df, n, path)
}

fn floats(df: &DataFrame, n: &str, path: &Path) -> Result<Vec<Option<f64>>> {
    let e = pl(path);
    let c = df
        .column(n)
        .map_err(&e)?
        .cast(&DataType::Float64)
        .map_err(&e)?;
    Ok(c.f64().map_err(&e)?.iter().collect())
}

fn bools(df: &DataFrame, n: &str, path: &Path) -> Result<Vec<bool>> {
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
fn item_counts_of(df: &DataFrame, path: &Path) -> Result<Vec<ItemCount>> {
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
struct Texts(std::vec::IntoIter<Option<String>>);

impl Texts {
    fn of(df: &DataFrame, n: &str, path: &Path) -> Result<Texts> {
        Ok(Texts(texts(df, n, path)?.into_iter()))
    }

    /// The next row's value (None: null).
    fn value(&mut self) -> Option<String> {
        self.0.next().flatten()
    }

    /// The next row's value, a null as empty text.
    fn text(&mut self) -> String {
        self.value().unwrap_or_default()
    }

    /// The next row's level (a department if unknown).
    fn level(&mut self) -> Level {
        self.value()
            .as_deref()
            .and_then(Level::parse)
            .unwrap_or(Level::Department)
    }
}

/// Cells from a frame with the aggregates' columns; scale ends come from
/// the catalogue (floors and atoms are not stored).
fn cells_of_frame(df: &DataFrame, path: &Path, catalogue: &Catalogue) -> Result<Vec<Cell>> {
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
            suppression_reason: reason.value(),
            scale_min: smin,
            scale_max: smax,
            floor: 0,
            atoms: Vec::new(),
        });
    }
    Ok(cells)
}

/// Changes from a frame with the changes' columns.
fn changes_of_frame(df: &DataFrame, path: &Path) -> Result<Vec<Change>> {
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
struct Filters {
    cells: Expr,
    changes: Expr,
    item_counts: Option<Expr>,
    sources: Option<Expr>,
}

impl Scope {
    fn filters(&self) -> Filters {
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
    fn cycles(&self, table: usize) -> Option<Vec<String>> {
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
fn scan_files(files: &[PathBuf]) -> PolarsResult<LazyFrame> {
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
fn scan_table(
    dataset: &Path,
    table: usize,
    cycles: Option<&[String]>,
) -> Result<Option<LazyFrame>> {
    let files: Vec<PathBuf> = table_files(dataset, table)?
        .into_iter()
        .filter(|f| cycles.is_none_or(|cs| file_cycle(f).is_none_or(|c| cs.iter().any(|x| x == c))))
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    scan_files(&files)
        .map(Some)
        .map_err(pl(&table_dir(dataset, table)))
}

/// The rows of a table's files (of some cycles) that pass a filter; None
/// when the table has no such files.
fn read_where(
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
        .filter(|p| p.contains('-'))
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

/// What the aggregation wrote per group: read back by the next one to keep
/// what did not change, and by `job` to tell which cycles' reports changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupStamp {
    /// Instrument.
    pub instrument: String,
    /// Cycle.
    pub cycle: String,
    /// The group's fingerprint (`Group::fingerprint`).
    pub fingerprint: String,
    /// The last submission date in the group.
    pub data_until: Option<String>,
}

/// Where the group stamps are kept.
pub fn groups_path(dataset: &Path) -> PathBuf {
    dataset.join("aggregates/GROUPS.json")
}

/// The group stamps of the aggregates on disk; none when there are none
/// (or they cannot be read: then nothing is kept and everything is made
/// again).
pub fn read_group_stamps(dataset: &Path) -> Vec<GroupStamp> {
    std::fs::read(groups_path(dataset))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn sources_frame(rows: &[Source]) -> PolarsResult<DataFrame> {
    let col_of = |n: &str, f: fn(&Source) -> &String| {
        Column::new(
            n.into(),
            rows.iter().map(|r| f(r).as_str()).collect::<Vec<_>>(),
        )
    };
    DataFrame::new(
        rows.len(),
        vec![
            col_of("rso_id", |r| &r.rso_id),
            col_of("instrument", |r| &r.instrument),
            col_of("period", |r| &r.period),
            col_of("source_file", |r| &r.source_file),
            col_of("source_sha256", |r| &r.source_sha256),
        ],
    )
}

fn sources_of(df: &DataFrame, path: &Path) -> Result<Vec<Source>> {
    let t = |n: &str| Texts::of(df, n, path);
    let (mut rso, mut inst, mut per, mut file, mut sha) = (
        t("rso_id")?,
        t("instrument")?,
        t("period")?,
        t("source_file")?,
        t("source_sha256")?,
    );
    Ok((0..df.height())
        .map(|_| Source {
            rso_id: rso.text(),
            instrument: inst.text(),
            period: per.text(),
            source_file: file.text(),
            source_sha256: sha.text(),
        })
        .collect())
}

/// A sort key of the changes: years before cycles.
const CYCLE_KEY: &str = "_is_cycle";

/// Adds `CYCLE_KEY`: whether the row's period is a cycle (`Cell::is_cycle`).
fn with_cycle_key(df: &mut DataFrame, path: &Path) -> Result<()> {
    let key: Vec<bool> = texts(df, "period", path)?
        .iter()
        .map(|p| p.as_deref().is_some_and(|p| p.contains('-')))
        .collect();
    df.with_column(Column::new(CYCLE_KEY.into(), key))
        .map_err(pl(path))?;
    Ok(())
}

/// The rank of the `level` column in `Level`'s order (not alphabetical:
/// RSOs come before regions).
fn level_rank() -> Expr {
    let is = |l: Level| col("level").eq(lit(l.as_str()));
    when(is(Level::Department))
        .then(lit(0u32))
        .when(is(Level::Institution))
        .then(lit(1u32))
        .when(is(Level::Rso))
        .then(lit(2u32))
        .otherwise(lit(3u32))
}

/// A group's rows of a table in their order in its file: by level
/// (`Level`'s order) and unit, then by what tells the unit's rows apart.
fn group_order(table: usize, mut df: DataFrame) -> Result<DataFrame> {
    let path = Path::new(TABLES[table]);
    let by = match table {
        AGGREGATES => vec![
            level_rank(),
            col("unit_id"),
            col("instrument"),
            col("instrument_version"),
            col("scale_id"),
            col("period"),
        ],
        CHANGES => {
            with_cycle_key(&mut df, path)?;
            vec![
                level_rank(),
                col("unit_id"),
                col("instrument"),
                col("construct"),
                col(CYCLE_KEY),
                col("period"),
                col("instrument_version"),
            ]
        }
        COUNTS => on(&[
            "rso_id",
            "instrument",
            "instrument_version",
            "item_id",
            "period",
            "value",
        ]),
        _ => on(&[
            "rso_id",
            "instrument",
            "period",
            "source_file",
            "source_sha256",
        ]),
    };
    let mut df = df
        .lazy()
        .sort_by_exprs(by, SortMultipleOptions::default().with_maintain_order(true))
        .collect()
        .map_err(pl(path))?;
    if table == CHANGES {
        df = df.drop(CYCLE_KEY).map_err(pl(path))?;
    }
    Ok(df)
}

/// The four tables of the output, as numbered in `TABLES`.
const AGGREGATES: usize = 0;
const CHANGES: usize = 1;
const COUNTS: usize = 2;
const SOURCES: usize = 3;

/// The aggregation's output, built group by group: each computed group's
/// four files are written to a scratch folder as the group is made (memory
/// holds one group at a time), kept groups' files stay where they are, and
/// `write` moves the new files into place.
pub struct Output {
    dir: PathBuf,
    /// Every group's stamp, and whether it was computed (its files are in
    /// the scratch folder).
    groups: Vec<(GroupStamp, bool)>,
}

/// A group's rows for the output, made on any thread (`Output::computed`,
/// `Output::kept`) and added in the groups' order (`Output::add`).
pub struct Added {
    stamp: GroupStamp,
    /// Computed (its files are in the scratch folder), or kept.
    computed: bool,
}

impl Output {
    /// An empty output; the scratch folder `dataset/.aggregate-parts` is
    /// emptied first (what a killed aggregation left there is of no use).
    pub fn new(dataset: &Path) -> Result<Output> {
        let dir = dataset.join(".aggregate-parts");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Output {
            dir,
            groups: Vec::new(),
        })
    }

    /// A computed group's protected table and the changes into its periods,
    /// written to the scratch folder as the group's four files. Refuses an
    /// unprotected table.
    pub fn computed(&self, group: &Group, table: &Table, changes: &[Change]) -> Result<Added> {
        if !table.protected {
            return Err(Error::dataset(
                Path::new(&group.instrument),
                "refusing to write aggregates that have not been through privacy::protect",
            ));
        }
        let e = pl(Path::new("aggregates"));
        let frames = [
            group_order(AGGREGATES, aggregates_frame(&table.cells).map_err(&e)?)?,
            group_order(CHANGES, changes_frame(changes).map_err(&e)?)?,
            group_order(COUNTS, counts_frame(&table.item_counts).map_err(&e)?)?,
            group_order(SOURCES, sources_frame(&table.sources).map_err(&e)?)?,
        ];
        let paths = group_files(&self.dir, &group.instrument, &group.cycle);
        for (path, mut df) in paths.iter().zip(frames) {
            // One chunk: the file's row groups do not depend on how the
            // rows came together.
            df.rechunk_mut_par();
            write_parquet(path, &mut df)?;
        }
        Ok(Added {
            computed: true,
            stamp: GroupStamp {
                instrument: group.instrument.clone(),
                cycle: group.cycle.clone(),
                fingerprint: group.fingerprint.clone(),
                data_until: table.data_until.clone(),
            },
        })
    }

    /// An unchanged group: its files stay as they are.
    pub fn kept(kept: Kept) -> Added {
        Added {
            stamp: kept.stamp,
            computed: false,
        }
    }

    /// Adds a group; groups are added in the plan's order.
    pub fn add(&mut self, added: Added) {
        self.groups.push((added.stamp, added.computed));
    }

    /// Moves the computed groups' files into place (each a rename, after
    /// it was written and synced), removes the files of groups that are no
    /// longer there, and writes the group stamps. The stamps go first
    /// (removed) and last (written), so after a crash in between nothing is
    /// kept from a mixed output.
    pub fn write(self, dataset: &Path) -> Result<()> {
        let stamps = groups_path(dataset);
        if stamps.exists() {
            std::fs::remove_file(&stamps).map_err(|e| Error::io(&stamps, e))?;
        }
        for t in 0..TABLES.len() {
            let dir = table_dir(dataset, t);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        for (g, _) in self.groups.iter().filter(|(_, computed)| *computed) {
            let from = group_files(&self.dir, &g.instrument, &g.cycle);
            let to = group_files(dataset, &g.instrument, &g.cycle);
            for (from, to) in from.iter().zip(&to) {
                std::fs::rename(from, to).map_err(|e| Error::io(to, e))?;
            }
        }
        // Files of groups no longer in the plan (and the single files of
        // earlier versions) go.
        let names: HashSet<String> = self
            .groups
            .iter()
            .map(|(g, _)| group_file_name(&g.instrument, &g.cycle))
            .collect();
        for t in 0..TABLES.len() {
            for f in table_files(dataset, t)? {
                let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if !names.contains(name) {
                    std::fs::remove_file(&f).map_err(|e| Error::io(&f, e))?;
                }
            }
            crate::dataset::sync_dir(&table_dir(dataset, t));
        }
        let until = self
            .groups
            .iter()
            .filter_map(|(g, _)| g.data_until.clone())
            .max();
        crate::dataset::write_file_atomic(
            &dataset.join("aggregates/DATA_UNTIL"),
            until.unwrap_or_default().as_bytes(),
        )?;
        let stamped: Vec<&GroupStamp> = self.groups.iter().map(|(g, _)| g).collect();
        let json = serde_json::to_vec_pretty(&stamped).map_err(|e| Error::Config {
            file: stamps.display().to_string(),
            message: e.to_string(),
        })?;
        crate::dataset::write_file_atomic(&stamps, &json)?;
        std::fs::remove_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))
    }
}

/// Which construct each subscale of each instrument version measures (the
/// total: `total`), as `ChangeChain` links series across versions.
fn constructs_frame(catalogue: &Catalogue) -> PolarsResult<DataFrame> {
    let (mut i, mut v, mut s, mut c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for inst in catalogue.iter() {
        for (scale, construct) in inst
            .subscales
            .iter()
            .map(|x| (x.id.clone(), x.construct.clone()))
            .chain([(TOTAL.to_string(), TOTAL.to_string())])
        {
            i.push(inst.id.clone());
            v.push(inst.version.clone());
            s.push(scale);
            c.push(construct);
        }
    }
    DataFrame::new_infer_height(vec![
        Column::new("instrument".into(), i),
        Column::new("instrument_version".into(), v),
        Column::new("scale_id".into(), s),
        Column::new("construct".into(), c),
    ])
}

/// An unchanged group's output as written before: its four files, left
/// where they are.
pub struct Kept {
    stamp: GroupStamp,
    /// The group's file of each table.
    files: [PathBuf; 4],
    /// Its cells, changes and cells suppressed per reason.
    cells: usize,
    changes: usize,
    suppressed: HashMap<String, usize>,
}

impl Kept {
    /// Cells.
    pub fn cells(&self) -> usize {
        self.cells
    }

    /// Changes.
    pub fn changes(&self) -> usize {
        self.changes
    }

    /// Cells suppressed for a reason (`privacy::MIN_N`, `SECONDARY`).
    pub fn suppressed(&self, reason: &str) -> usize {
        self.suppressed.get(reason).copied().unwrap_or(0)
    }

    /// The group's published table, for a group whose changes must be made
    /// again (an earlier group of its instrument changed).
    pub fn into_table(self, catalogue: &Catalogue) -> Result<Table> {
        let read = |t: usize| crate::dataset::read_parquet(&self.files[t]);
        Ok(Table {
            data_until: self.stamp.data_until.clone(),
            item_counts: item_counts_of(&read(COUNTS)?, &self.files[COUNTS])?,
            cells: cells_of_frame(&read(AGGREGATES)?, &self.files[AGGREGATES], catalogue)?,
            atoms: Vec::new(),
            sources: sources_of(&read(SOURCES)?, &self.files[SOURCES])?,
            protected: true,
        })
    }
}

/// The output of the previous aggregation, to keep the groups that did not
/// change.
pub struct Previous {
    /// The stamps of the groups whose four files are there.
    stamps: HashMap<(String, String), GroupStamp>,
    dataset: PathBuf,
}

impl Previous {
    /// The previous output's group stamps; None when there are none to
    /// keep from. A group counts only when its four files are there.
    pub fn open(dataset: &Path) -> Result<Option<Previous>> {
        let stamps: HashMap<(String, String), GroupStamp> = read_group_stamps(dataset)
            .into_iter()
            .filter(|s| {
                group_files(dataset, &s.instrument, &s.cycle)
                    .iter()
                    .all(|f| f.is_file())
            })
            .map(|s| ((s.instrument.clone(), s.cycle.clone()), s))
            .collect();
        if stamps.is_empty() {
            return Ok(None);
        }
        Ok(Some(Previous {
            stamps,
            dataset: dataset.to_path_buf(),
        }))
    }

    /// Whether a group's fingerprint is the one written last time (its
    /// rows can be kept: `kept`).
    pub fn is_kept(&self, group: &Group) -> bool {
        self.same_stamp(group).is_some()
    }

    /// The group's stamp as written last time, if its fingerprint is the
    /// same now.
    fn same_stamp(&self, group: &Group) -> Option<&GroupStamp> {
        self.stamps
            .get(&(group.instrument.clone(), group.cycle.clone()))
            .filter(|s| s.fingerprint == group.fingerprint)
    }

    /// A group's files as written before, changes included, when its
    /// fingerprint is the same as then (computing it again would give the
    /// same rows). Its changes are right as long as no earlier group of
    /// its instrument was computed again.
    pub fn kept(&self, group: &Group) -> Result<Option<Kept>> {
        let Some(stamp) = self.same_stamp(group) else {
            return Ok(None);
        };
        let files = group_files(&self.dataset, &stamp.instrument, &stamp.cycle);
        let path = &files[AGGREGATES];
        let reasons = scan_files(std::slice::from_ref(path))
            .and_then(|lf| lf.select([col("suppression_reason")]).collect())
            .map_err(pl(path))?;
        let mut suppressed: HashMap<String, usize> = HashMap::new();
        for r in texts(&reasons, "suppression_reason", path)?
            .into_iter()
            .flatten()
        {
            *suppressed.entry(r).or_default() += 1;
        }
        let changes = scan_files(&files[CHANGES..=CHANGES])
            .and_then(|lf| lf.select([len()]).collect())
            .and_then(|df| df.column("len")?.u32().map(|c| c.get(0).unwrap_or(0)))
            .map_err(pl(&files[CHANGES]))?;
        Ok(Some(Kept {
            stamp: stamp.clone(),
            cells: reasons.height(),
            changes: changes as usize,
            suppressed,
            files,
        }))
    }

    /// The last cell of every series (unit, instrument, construct; years or
    /// cycles) in the periods of these groups of one instrument, as written
    /// before: what a `ChangeChain` needs to go on after them.
    pub fn series_ends(&self, groups: &[Group], catalogue: &Catalogue) -> Result<Vec<Cell>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let e = pl(&self.dataset);
        let mut rows = aggregates_frame(&[]).map_err(&e)?;
        for g in groups {
            let [path, ..] = group_files(&self.dataset, &g.instrument, &g.cycle);
            rows.vstack_mut(&crate::dataset::read_parquet(&path)?)
                .map_err(&e)?;
        }
        with_cycle_key(&mut rows, &self.dataset)?;
        let keys = ["level", "unit_id", "instrument", "construct", CYCLE_KEY];
        let last: Vec<Expr> = AGGREGATE_COLUMNS
            .iter()
            .filter(|c| !keys.contains(c))
            .map(|c| col(*c).last())
            .collect();
        let on3 = on(&VERSION_KEYS);
        let ends = rows
            .lazy()
            .join(
                constructs_frame(catalogue).map_err(&e)?.lazy(),
                on3.clone(),
                on3,
                JoinArgs::new(JoinType::Left),
            )
            .with_column(col("construct").fill_null(col("scale_id")))
            .sort_by_exprs(
                [col("period"), col("instrument_version")],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .group_by(on(&keys))
            .agg(last)
            .collect()
            .map_err(&e)?;
        cells_of_frame(&ends, &self.dataset, catalogue)
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
