//! The four output tables (`aggregates/`, `changes/`, `distributions/`,
//! `sources/`), one Parquet file per group, and `aggregates/GROUPS.json`:
//! writing a run's new groups atomically, and keeping the unchanged groups
//! of the previous run (`Previous`, `Kept`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{on, VERSION_KEYS};

use super::pl_err as pl;
use super::published::scan_files;
use super::published::{cells_of_frame, item_counts_of, texts, Texts};
use super::write_parquet;
use crate::domain::{Period, SuppressionReason};
use crate::error::{Error, Result};
use crate::instrument::Catalogue;
use crate::score::TOTAL;
use crate::table::{Cell, Change, Group, ItemCount, Level, Source, Table};

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

pub(crate) fn aggregates_frame(cells: &[Cell]) -> PolarsResult<DataFrame> {
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
        o(|c| c.suppression_reason.map(|r| r.as_str())),
    ];
    let cols = cols
        .into_iter()
        .zip(AGGREGATE_COLUMNS)
        .map(|(c, n)| c.with_name(n.into()))
        .collect();
    DataFrame::new(cells.len(), cols)
}

pub(crate) fn changes_frame(ch: &[Change]) -> PolarsResult<DataFrame> {
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
pub(crate) fn table_dir(dataset: &Path, table: usize) -> PathBuf {
    dataset.join(TABLES[table])
}

/// The layout of the output tables: 2 since they hold a file per group
/// (before, one file per table). Part of the run's stamp (`job`), so that
/// the first run of a version with another layout aggregates again.
pub const OUTPUT_LAYOUT: u32 = 2;

/// The folder names of the four tables.
pub(crate) const TABLES: [&str; 4] = ["aggregates", "changes", "distributions", "sources"];

/// A group's file of a table.
pub(crate) fn group_file_name(instrument: &str, cycle: &str) -> String {
    format!("{cycle}_{instrument}.parquet")
}

/// A group's file of each table under a root: the dataset, or the scratch
/// folder, which holds the new files in the same layout.
pub(crate) fn group_files(root: &Path, instrument: &str, cycle: &str) -> [PathBuf; 4] {
    let name = group_file_name(instrument, cycle);
    TABLES.map(|t| root.join(t).join(&name))
}

/// The files of a table (every group's), sorted; none when there are none.
pub(crate) fn table_files(dataset: &Path, table: usize) -> Result<Vec<PathBuf>> {
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
pub(crate) fn file_cycle(path: &Path) -> Option<&str> {
    let stem = path.file_stem()?.to_str()?;
    stem.split_once('_').map(|(cycle, _)| cycle)
}

pub(crate) fn counts_frame(c: &[ItemCount]) -> PolarsResult<DataFrame> {
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
    /// The last submission date of each of its cycles, for a group of
    /// years linked across the region's cycles (an RSO with cycles of its
    /// own); empty for a group of one cycle (`data_until` is its).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data_until_by_cycle: BTreeMap<String, String>,
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

pub(crate) fn sources_frame(rows: &[Source]) -> PolarsResult<DataFrame> {
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

pub(crate) fn sources_of(df: &DataFrame, path: &Path) -> Result<Vec<Source>> {
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
pub(crate) const CYCLE_KEY: &str = "_is_cycle";

/// Adds `CYCLE_KEY`: whether the row's period is a cycle (`Cell::is_cycle`).
pub(crate) fn with_cycle_key(df: &mut DataFrame, path: &Path) -> Result<()> {
    let key: Vec<bool> = texts(df, "period", path)?
        .iter()
        .map(|p| p.as_deref().is_some_and(Period::text_is_cycle))
        .collect();
    df.with_column(Column::new(CYCLE_KEY.into(), key))
        .map_err(pl(path))?;
    Ok(())
}

/// The rank of the `level` column in `Level`'s order (not alphabetical:
/// RSOs come before regions).
pub(crate) fn level_rank() -> Expr {
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
pub(crate) fn group_order(table: usize, mut df: DataFrame) -> Result<DataFrame> {
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
pub(crate) const AGGREGATES: usize = 0;
pub(crate) const CHANGES: usize = 1;
pub(crate) const COUNTS: usize = 2;
pub(crate) const SOURCES: usize = 3;

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
                data_until_by_cycle: if table.data_until_by_cycle.len() > 1 {
                    table.data_until_by_cycle.clone()
                } else {
                    BTreeMap::new()
                },
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
pub(crate) fn constructs_frame(catalogue: &Catalogue) -> PolarsResult<DataFrame> {
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

    /// Cells suppressed for a reason.
    pub fn suppressed(&self, reason: SuppressionReason) -> usize {
        self.suppressed.get(reason.as_str()).copied().unwrap_or(0)
    }

    /// The group's published table, for a group whose changes must be made
    /// again (an earlier group of its instrument changed).
    pub fn into_table(self, catalogue: &Catalogue) -> Result<Table> {
        let read = |t: usize| crate::dataset::read_parquet(&self.files[t]);
        Ok(Table {
            data_until: self.stamp.data_until.clone(),
            data_until_by_cycle: self.stamp.data_until_by_cycle.clone(),
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
    pub(crate) fn same_stamp(&self, group: &Group) -> Option<&GroupStamp> {
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
