//! The dataset on disk: hive-partitioned Parquet, written atomically.
//!
//! This module owns the layout of `dataset/` and is the only place (with
//! `aggregate`) that talks to Polars:
//!
//! ```text
//! dataset/responses/instrument=<id>/year=<yyyy>/part-<batch>-<n>.parquet
//! dataset/comments/instrument=<id>/year=<yyyy>/part-<batch>-<n>.parquet
//! dataset/quarantine/quarantine.parquet   every rejected row or file
//! dataset/manifest/manifest.parquet       one row per export file (sha256)
//! dataset/response_index/part-<batch>.parquet  (instrument, response_id): dedup
//! ```
//!
//! A batch is committed in three steps: every new file is written under
//! `.staging/<batch>/`; a `READY` marker is written and synced; then the files
//! are renamed into place and the staging folder removed. `Dataset::open`
//! finishes a batch that has its marker and discards one that has not, so a
//! crash at any moment leaves either the previous dataset or the new one.
//!
//! It does not decide what a row means: `ingest` does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::error::{Error, Result};
use crate::ingest::{FileOutcome, QuarantineRecord, Response};
use crate::instrument::Instrument;

const STAGING: &str = ".staging";
const READY: &str = "READY";

/// What happened to one export file, as the manifest records it.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    /// The file's SHA-256 (hex): its identity.
    pub source_sha256: String,
    /// The file's path relative to the inbox (or its name).
    pub source_file: String,
    /// Profile used, empty when none applied.
    pub profile: String,
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub instrument_version: String,
    /// `ingested` or `failed`.
    pub status: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows whose response is in the dataset (new or already there).
    pub rows_written: u64,
    /// Rows rejected.
    pub rows_quarantined: u64,
    /// Of `rows_written`, rows already stored from an earlier export.
    pub rows_duplicate: u64,
    /// Encoding and delimiter used.
    pub decoded_as: String,
    /// The file-level error, if the file was rejected.
    pub message: String,
    /// Batch that wrote this entry.
    pub batch_id: String,
    /// When (UTC, ISO 8601).
    pub ingested_at: String,
    /// Fingerprint of the registry, profile and instrument definition the
    /// file was read with: a file with quarantined rows is read again when
    /// they change (the fix the message asked for).
    pub settings: String,
}

/// One processed file, ready to be committed.
#[derive(Debug, Clone)]
pub struct FileBatch {
    /// Manifest entry (counts filled in by `commit`).
    pub entry: ManifestEntry,
    /// Instrument version of the responses.
    pub instrument: Option<Instrument>,
    /// What ingest gave.
    pub outcome: FileOutcome,
}

/// The dataset folder.
#[derive(Debug, Clone)]
pub struct Dataset {
    root: PathBuf,
}

fn pl_err(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::dataset(path, e)
}

impl Dataset {
    /// Opens (and creates) a dataset folder, finishing or discarding an
    /// interrupted batch first.
    pub fn open(root: &Path) -> Result<Dataset> {
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let ds = Dataset {
            root: root.to_path_buf(),
        };
        ds.recover()?;
        Ok(ds)
    }

    /// Opens an existing dataset without writing anything (no recovery, no
    /// folders created): for `validate`.
    pub fn open_read_only(root: &Path) -> Dataset {
        Dataset {
            root: root.to_path_buf(),
        }
    }

    /// The dataset folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn recover(&self) -> Result<()> {
        let staging = self.root.join(STAGING);
        let Ok(rd) = std::fs::read_dir(&staging) else {
            return Ok(());
        };
        for batch in rd.filter_map(|e| e.ok()).map(|e| e.path()) {
            if batch.join(READY).exists() {
                tracing::warn!(batch = %batch.display(), "finishing a batch an interrupted run had committed");
                move_into_place(&batch, &self.root)?;
            } else {
                tracing::warn!(batch = %batch.display(), "discarding a batch an interrupted run had not committed");
            }
            std::fs::remove_dir_all(&batch).map_err(|e| Error::io(&batch, e))?;
        }
        let _ = std::fs::remove_dir(&staging);
        Ok(())
    }

    /// The manifest: one entry per export file ever seen.
    pub fn manifest(&self) -> Result<Vec<ManifestEntry>> {
        let path = self.root.join("manifest/manifest.parquet");
        if !path.exists() {
            return Ok(Vec::new());
        }
        let df = read_parquet(&path)?;
        let e = pl_err(&path);
        let s = |name: &str| -> Result<Vec<String>> {
            Ok(text_column(&df, name, &path)?
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect())
        };
        let n = |name: &str| -> Result<Vec<u64>> {
            Ok(df
                .column(name)
                .map_err(&e)?
                .u64()
                .map_err(&e)?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect())
        };
        let (sha, file, profile, inst, ver, status) = (
            s("source_sha256")?,
            s("source_file")?,
            s("profile")?,
            s("instrument")?,
            s("instrument_version")?,
            s("status")?,
        );
        let (read, written, quar, dup) = (
            n("rows_read")?,
            n("rows_written")?,
            n("rows_quarantined")?,
            n("rows_duplicate")?,
        );
        let (dec, msg, batch, at) = (
            s("decoded_as")?,
            s("message")?,
            s("batch_id")?,
            s("ingested_at")?,
        );
        // Older manifests have no settings column.
        let settings = if df.column("settings").is_ok() {
            s("settings")?
        } else {
            vec![String::new(); df.height()]
        };
        Ok((0..df.height())
            .map(|i| ManifestEntry {
                source_sha256: sha[i].clone(),
                source_file: file[i].clone(),
                profile: profile[i].clone(),
                instrument: inst[i].clone(),
                instrument_version: ver[i].clone(),
                status: status[i].clone(),
                rows_read: read[i],
                rows_written: written[i],
                rows_quarantined: quar[i],
                rows_duplicate: dup[i],
                decoded_as: dec[i].clone(),
                message: msg[i].clone(),
                batch_id: batch[i].clone(),
                ingested_at: at[i].clone(),
                settings: settings[i].clone(),
            })
            .collect())
    }

    /// Every stored response, as `instrument \x1f response_id`.
    pub fn known_responses(&self) -> Result<HashSet<String>> {
        let dir = self.root.join("response_index");
        let mut out = HashSet::new();
        for path in parquet_files(&dir)? {
            let df = read_parquet(&path)?;
            let e = pl_err(&path);
            let inst = df.column("instrument").map_err(&e)?.str().map_err(&e)?;
            let id = df.column("response_id").map_err(&e)?.str().map_err(&e)?;
            for (a, b) in inst.iter().zip(id.iter()) {
                if let (Some(a), Some(b)) = (a, b) {
                    out.insert(format!("{a}\x1f{b}"));
                }
            }
        }
        Ok(out)
    }

    /// Commits processed files as one batch: drops responses already stored
    /// (counting them as duplicates), writes responses, comments, the
    /// response index, the quarantine and the manifest, atomically. Returns
    /// the manifest entries written (with their final counts).
    pub fn commit(&self, mut files: Vec<FileBatch>, batch_id: &str) -> Result<Vec<ManifestEntry>> {
        let mut known = self.known_responses()?;
        let staging = self.root.join(STAGING).join(batch_id);
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        let mut index_inst = Vec::new();
        let mut index_id = Vec::new();
        let mut index_sha = Vec::new();
        // Responses and comments grouped per (instrument, year), per file.
        let mut part = 0usize;
        for fb in files.iter_mut() {
            let Some(inst) = fb.instrument.as_ref() else {
                continue;
            };
            let mut fresh: Vec<&Response> = Vec::new();
            let mut dup = 0u64;
            for r in &fb.outcome.responses {
                if known.insert(format!("{}\x1f{}", inst.id, r.response_id)) {
                    fresh.push(r);
                } else {
                    dup += 1;
                }
            }
            fb.entry.rows_duplicate = dup;
            let mut by_year: BTreeMap<i32, Vec<&Response>> = BTreeMap::new();
            for r in fresh {
                by_year.entry(r.submitted_on.year()).or_default().push(r);
                index_inst.push(inst.id.clone());
                index_id.push(r.response_id.clone());
                index_sha.push(fb.entry.source_sha256.clone());
            }
            for (year, rs) in by_year {
                part += 1;
                let name = format!("part-{batch_id}-{part:05}.parquet");
                let sub = format!("instrument={}/year={year}", inst.id);
                let mut df = responses_frame(&rs, inst, &fb.entry)?;
                write_parquet(&staging.join("responses").join(&sub).join(&name), &mut df)?;
                if rs.iter().any(|r| !r.comments.is_empty()) {
                    let mut df = comments_frame(&rs, inst, &fb.entry)?;
                    write_parquet(&staging.join("comments").join(&sub).join(&name), &mut df)?;
                }
            }
        }
        for fb in files.iter_mut() {
            let o = &fb.outcome;
            fb.entry.rows_read = o.rows_read;
            fb.entry.rows_quarantined = o.rows_quarantined;
            fb.entry.rows_written = o.responses.len() as u64;
            debug_assert_eq!(
                fb.entry.rows_read,
                fb.entry.rows_written + fb.entry.rows_quarantined
            );
        }
        if !index_id.is_empty() {
            let mut df = DataFrame::new_infer_height(vec![
                Column::new("instrument".into(), index_inst),
                Column::new("response_id".into(), index_id),
                Column::new("source_sha256".into(), index_sha),
            ])
            .map_err(pl_err(&staging))?;
            write_parquet(
                &staging
                    .join("response_index")
                    .join(format!("part-{batch_id}.parquet")),
                &mut df,
            )?;
        }
        // Quarantine and manifest: the batch's files replace earlier entries
        // of the same file (a failed file is tried again on every run).
        let shas: HashSet<&str> = files
            .iter()
            .map(|f| f.entry.source_sha256.as_str())
            .collect();
        let mut quarantine = self.quarantine_frame()?;
        if let Some(old) = quarantine.take() {
            let mask = old
                .column("source_sha256")
                .map_err(pl_err(&self.root))?
                .str()
                .map_err(pl_err(&self.root))?
                .iter()
                .map(|s| !shas.contains(s.unwrap_or("")))
                .collect::<BooleanChunked>();
            quarantine = Some(old.filter(&mask).map_err(pl_err(&self.root))?);
        }
        let new_q = quarantine_frame(&files, batch_id)?;
        let mut q = match quarantine {
            Some(old) => old.vstack(&new_q).map_err(pl_err(&self.root))?,
            None => new_q,
        };
        write_parquet(&staging.join("quarantine/quarantine.parquet"), &mut q)?;
        let mut manifest: Vec<ManifestEntry> = self
            .manifest()?
            .into_iter()
            .filter(|m| !shas.contains(m.source_sha256.as_str()))
            .collect();
        manifest.extend(files.iter().map(|f| f.entry.clone()));
        let mut mdf = manifest_frame(&manifest)?;
        write_parquet(&staging.join("manifest/manifest.parquet"), &mut mdf)?;

        // The commit point.
        fail_point("before_ready");
        let ready = staging.join(READY);
        let f = File::create(&ready).map_err(|e| Error::io(&ready, e))?;
        f.sync_all().map_err(|e| Error::io(&ready, e))?;
        sync_dir(&staging);
        fail_point("after_ready");
        move_into_place(&staging, &self.root)?;
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        let _ = std::fs::remove_dir(self.root.join(STAGING));
        Ok(files.into_iter().map(|f| f.entry).collect())
    }

    fn quarantine_frame(&self) -> Result<Option<DataFrame>> {
        let path = self.root.join("quarantine/quarantine.parquet");
        if !path.exists() {
            return Ok(None);
        }
        read_parquet(&path).map(Some)
    }

    /// Counts of stored item rows per `instrument=`/`year=` partition.
    pub fn partition_rows(&self) -> Result<BTreeMap<(String, i32), u64>> {
        let mut out = BTreeMap::new();
        let dir = self.root.join("responses");
        for path in parquet_files(&dir)? {
            let (inst, year) = partition_of(&path);
            let rows = ParquetReader::new(File::open(&path).map_err(|e| Error::io(&path, e))?)
                .num_rows()
                .map_err(pl_err(&path))?;
            *out.entry((inst, year)).or_insert(0) += rows as u64;
        }
        Ok(out)
    }
}

/// Test hook: `OPLEIDINGSMONITOR_FAIL_AT=<point>` aborts the process there,
/// at once (no clean-up), to prove that a crash at that point leaves a
/// consistent dataset.
fn fail_point(name: &str) {
    if std::env::var("OPLEIDINGSMONITOR_FAIL_AT").is_ok_and(|v| v == name) {
        eprintln!("OPLEIDINGSMONITOR_FAIL_AT={name}: stopping on purpose");
        std::process::exit(137);
    }
}

/// The `instrument=` and `year=` of a file below `responses/` or `comments/`.
pub fn partition_of(path: &Path) -> (String, i32) {
    let mut inst = String::new();
    let mut year = 0;
    for c in path.components() {
        let c = c.as_os_str().to_string_lossy();
        if let Some(v) = c.strip_prefix("instrument=") {
            inst = v.to_string();
        } else if let Some(v) = c.strip_prefix("year=") {
            year = v.parse().unwrap_or(0);
        }
    }
    (inst, year)
}

/// Renames every file under `staging` to the same place under `root`
/// (creating folders), skipping the READY marker.
fn move_into_place(staging: &Path, root: &Path) -> Result<()> {
    let mut moved_to: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    let mut stack = vec![staging.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(staging).expect("under staging");
            if rel == Path::new(READY) {
                continue;
            }
            let target = root.join(rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::rename(&path, &target).map_err(|e| Error::io(&target, e))?;
            if let Some(parent) = target.parent() {
                moved_to.insert(parent.to_path_buf());
            }
            fail_point("mid_move");
        }
    }
    // Every folder that received a file is synced before the staging
    // folder (and with it the READY marker) is removed.
    for dir in moved_to {
        sync_dir(&dir);
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Every `*.parquet` below a folder, sorted; none when it does not exist.
pub fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
            let path = entry.map_err(|e| Error::io(&d, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "parquet") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one Parquet file.
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetReader::new(f).finish().map_err(pl_err(path))
}

/// Writes a Parquet file via a temporary name and a rename, synced.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<()> {
    let dir = path.parent().expect("file in a folder");
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = path.with_extension("parquet.tmp");
    let f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    ParquetWriter::new(&f)
        .with_statistics(StatisticsOptions::full())
        .finish(df)
        .map_err(pl_err(path))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    // The rename is durable only once its folder is synced.
    sync_dir(dir);
    Ok(())
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn date_column(name: &str, v: Vec<i32>) -> Result<Column> {
    Column::new(name.into(), v)
        .cast(&DataType::Date)
        .map_err(|e| Error::dataset(Path::new(name), e))
}

/// The responses table of one partition: one row per answered or
/// not-applicable item. `instrument` and `year` live in the path.
fn responses_frame(
    rs: &[&Response],
    inst: &Instrument,
    entry: &ManifestEntry,
) -> Result<DataFrame> {
    let n: usize = rs.iter().map(|r| r.answers.len()).sum();
    let mut c = RowColumns::with_capacity(n);
    let (mut item, mut scale, mut value, mut lo, mut hi) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rs {
        for &(idx, v) in &r.answers {
            let it = &inst.items[idx];
            let (a, b) = inst.item_scale(it);
            c.push(r);
            item.push(it.id.clone());
            scale.push(it.subscale.clone());
            value.push(v);
            lo.push(a);
            hi.push(b);
        }
    }
    let mut cols = c.into_columns(inst, entry, n)?;
    cols.insert(10, Column::new("item_id".into(), item));
    cols.insert(11, Column::new("scale_id".into(), scale));
    cols.insert(12, Column::new("value".into(), value));
    cols.insert(13, Column::new("scale_min".into(), lo));
    cols.insert(14, Column::new("scale_max".into(), hi));
    DataFrame::new(n, cols).map_err(|e| Error::dataset(Path::new("responses"), e))
}

/// The comments table of one partition: one row per open answer.
fn comments_frame(rs: &[&Response], inst: &Instrument, entry: &ManifestEntry) -> Result<DataFrame> {
    let n: usize = rs.iter().map(|r| r.comments.len()).sum();
    let mut c = RowColumns::with_capacity(n);
    let (mut item, mut scale, mut text) = (Vec::new(), Vec::new(), Vec::new());
    for r in rs {
        for (idx, t) in &r.comments {
            let it = &inst.items[*idx];
            c.push(r);
            item.push(it.id.clone());
            scale.push(it.subscale.clone());
            text.push(t.clone());
        }
    }
    let mut cols = c.into_columns(inst, entry, n)?;
    cols.insert(10, Column::new("item_id".into(), item));
    cols.insert(11, Column::new("scale_id".into(), scale));
    cols.insert(12, Column::new("text".into(), text));
    DataFrame::new(n, cols).map_err(|e| Error::dataset(Path::new("comments"), e))
}

/// The per-response columns shared by responses and comments, repeated per
/// item row.
#[derive(Default)]
struct RowColumns {
    response_id: Vec<String>,
    submitted_on: Vec<i32>,
    respondent_key: Vec<Option<String>>,
    role: Vec<String>,
    institution: Vec<String>,
    specialty: Vec<String>,
    rso: Vec<Option<String>>,
    region: Vec<String>,
    subject: Vec<Option<String>>,
    source_row: Vec<u32>,
}

impl RowColumns {
    fn with_capacity(n: usize) -> RowColumns {
        RowColumns {
            response_id: Vec::with_capacity(n),
            submitted_on: Vec::with_capacity(n),
            respondent_key: Vec::with_capacity(n),
            role: Vec::with_capacity(n),
            institution: Vec::with_capacity(n),
            specialty: Vec::with_capacity(n),
            rso: Vec::with_capacity(n),
            region: Vec::with_capacity(n),
            subject: Vec::with_capacity(n),
            source_row: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, r: &Response) {
        self.response_id.push(r.response_id.clone());
        self.submitted_on.push(days(r.submitted_on));
        self.respondent_key.push(r.respondent_key.clone());
        self.role.push(r.respondent_role.clone());
        self.institution.push(r.institution_id.clone());
        self.specialty.push(r.specialty.clone());
        self.rso.push(r.rso_id.clone());
        self.region.push(r.region_id.clone());
        self.subject.push(r.subject_key.clone());
        self.source_row.push(r.source_row);
    }

    /// Columns in contract order; callers insert their own at index 10.
    fn into_columns(
        self,
        inst: &Instrument,
        entry: &ManifestEntry,
        n: usize,
    ) -> Result<Vec<Column>> {
        Ok(vec![
            Column::new("response_id".into(), self.response_id),
            Column::new("instrument_version".into(), vec![inst.version.clone(); n]),
            date_column("submitted_on", self.submitted_on)?,
            Column::new("respondent_key".into(), self.respondent_key),
            Column::new("respondent_role".into(), self.role),
            Column::new("institution_id".into(), self.institution),
            Column::new("specialty".into(), self.specialty),
            Column::new("rso_id".into(), self.rso),
            Column::new("region_id".into(), self.region),
            Column::new("subject_key".into(), self.subject),
            Column::new("source_file".into(), vec![entry.source_file.clone(); n]),
            Column::new("source_sha256".into(), vec![entry.source_sha256.clone(); n]),
            Column::new("source_row".into(), self.source_row),
        ])
    }
}

fn quarantine_frame(files: &[FileBatch], batch_id: &str) -> Result<DataFrame> {
    let mut file = Vec::new();
    let mut sha = Vec::new();
    let mut profile = Vec::new();
    let mut row: Vec<Option<u32>> = Vec::new();
    let mut column: Vec<Option<String>> = Vec::new();
    let mut value: Vec<Option<String>> = Vec::new();
    let mut reason = Vec::new();
    for f in files {
        for q in &f.outcome.quarantine {
            let QuarantineRecord {
                source_row,
                column: c,
                value: v,
                reason: r,
            } = q;
            file.push(f.entry.source_file.clone());
            sha.push(f.entry.source_sha256.clone());
            profile.push(f.entry.profile.clone());
            row.push(*source_row);
            column.push(c.clone());
            value.push(v.clone());
            reason.push(r.clone());
        }
    }
    let n = file.len();
    let at = files
        .first()
        .map(|f| f.entry.ingested_at.clone())
        .unwrap_or_default();
    DataFrame::new(
        n,
        vec![
            Column::new("source_file".into(), file),
            Column::new("source_sha256".into(), sha),
            Column::new("profile".into(), profile),
            Column::new("source_row".into(), row),
            Column::new("column".into(), column),
            Column::new("value".into(), value),
            Column::new("reason".into(), reason),
            Column::new("batch_id".into(), vec![batch_id.to_string(); n]),
            Column::new("quarantined_at".into(), vec![at; n]),
        ],
    )
    .map_err(|e| Error::dataset(Path::new("quarantine"), e))
}

fn manifest_frame(m: &[ManifestEntry]) -> Result<DataFrame> {
    let s = |f: fn(&ManifestEntry) -> &String| m.iter().map(|e| f(e).clone()).collect::<Vec<_>>();
    let n = |f: fn(&ManifestEntry) -> u64| m.iter().map(f).collect::<Vec<_>>();
    DataFrame::new(
        m.len(),
        vec![
            Column::new("source_sha256".into(), s(|e| &e.source_sha256)),
            Column::new("source_file".into(), s(|e| &e.source_file)),
            Column::new("profile".into(), s(|e| &e.profile)),
            Column::new("instrument".into(), s(|e| &e.instrument)),
            Column::new("instrument_version".into(), s(|e| &e.instrument_version)),
            Column::new("status".into(), s(|e| &e.status)),
            Column::new("rows_read".into(), n(|e| e.rows_read)),
            Column::new("rows_written".into(), n(|e| e.rows_written)),
            Column::new("rows_quarantined".into(), n(|e| e.rows_quarantined)),
            Column::new("rows_duplicate".into(), n(|e| e.rows_duplicate)),
            Column::new("decoded_as".into(), s(|e| &e.decoded_as)),
            Column::new("message".into(), s(|e| &e.message)),
            Column::new("batch_id".into(), s(|e| &e.batch_id)),
            Column::new("ingested_at".into(), s(|e| &e.ingested_at)),
            Column::new("settings".into(), s(|e| &e.settings)),
        ],
    )
    .map_err(|e| Error::dataset(Path::new("manifest"), e))
}

/// A small table read back for tests and checks: column name to values as
/// text (null as `None`), from every Parquet file below `dir`, with the
/// hive partition values added as columns.
pub fn read_table_as_text(dir: &Path) -> Result<Vec<HashMap<String, Option<String>>>> {
    let mut rows = Vec::new();
    for path in parquet_files(dir)? {
        let df = read_parquet(&path)?;
        let (inst, year) = partition_of(&path);
        let cols = df.columns();
        for i in 0..df.height() {
            let mut row = HashMap::new();
            for c in cols {
                let v = c.get(i).map_err(pl_err(&path))?;
                let text = match v {
                    AnyValue::Null => None,
                    AnyValue::String(s) => Some(s.to_string()),
                    AnyValue::StringOwned(s) => Some(s.to_string()),
                    other => Some(other.to_string()),
                };
                row.insert(c.name().to_string(), text);
            }
            if !inst.is_empty() {
                row.insert("instrument".into(), Some(inst.clone()));
                row.insert("year".into(), Some(year.to_string()));
            }
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The dataset's run lock: one run at a time per dataset. It is an
/// operating-system lock on a file beside the dataset folder
/// (`dataset.lock` next to `dataset/`), so a killed run's lock is
/// released by the kernel and the next run takes over (and finishes or
/// discards the killed run's batch in `Dataset::open`).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    /// The holder noted in the file by a run that did not finish, if any.
    pub stale: Option<String>,
}

impl RunLock {
    /// Takes the lock of the dataset at `root`, or says who holds it.
    pub fn acquire(root: &Path) -> Result<RunLock> {
        use std::io::{Read, Seek, Write};
        let mut name = root
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".lock");
        let path = root.with_file_name(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim().to_string();
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked(format!(
                    "another opleidingsmonitor run is using the dataset {} ({}); try again when it has finished",
                    root.display(),
                    if holder.is_empty() { "holder unknown".to_string() } else { holder }
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        let stale = (!holder.is_empty()).then_some(holder);
        file.set_len(0).map_err(|e| Error::io(&path, e))?;
        file.rewind().map_err(|e| Error::io(&path, e))?;
        writeln!(
            file,
            "pid {} since {}",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        )
        .map_err(|e| Error::io(&path, e))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        Ok(RunLock { _file: file, stale })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // A clean end empties the note, so the next run sees no stale holder.
        let _ = self._file.set_len(0);
    }
}

/// A fingerprint of what the manifest holds: changes whenever a batch is
/// committed, so derived tables know when they are out of date.
pub fn manifest_fingerprint(entries: &[ManifestEntry]) -> String {
    use sha2::{Digest, Sha256};
    let mut lines: Vec<String> = entries
        .iter()
        .map(|e| format!("{} {} {}", e.source_sha256, e.status, e.batch_id))
        .collect();
    lines.sort();
    hex::encode(Sha256::digest(lines.join("\n").as_bytes()))
}

/// One open answer, as the reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentRow {
    /// Instrument (from the partition).
    pub instrument: String,
    /// Year (from the partition).
    pub year: i32,
    /// Institution.
    pub institution_id: String,
    /// Specialty.
    pub specialty: String,
    /// RSO.
    pub rso_id: Option<String>,
    /// Item.
    pub item_id: String,
    /// The text, identifiers already masked on ingest.
    pub text: String,
}

/// A text column of a frame read from `path`, nulls kept.
pub(crate) fn text_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<Option<String>>> {
    let e = pl_err(path);
    Ok(df
        .column(name)
        .map_err(&e)?
        .str()
        .map_err(&e)?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Every open answer in the dataset.
pub fn read_comments(root: &Path) -> Result<Vec<CommentRow>> {
    let mut out = Vec::new();
    for path in parquet_files(&root.join("comments"))? {
        let (instrument, year) = partition_of(&path);
        let df = read_parquet(&path)?;
        let col = |n: &str| text_column(&df, n, &path);
        let (inst, spec, rso, item, text) = (
            col("institution_id")?,
            col("specialty")?,
            col("rso_id")?,
            col("item_id")?,
            col("text")?,
        );
        for i in 0..df.height() {
            out.push(CommentRow {
                instrument: instrument.clone(),
                year,
                institution_id: inst[i].clone().unwrap_or_default(),
                specialty: spec[i].clone().unwrap_or_default(),
                rso_id: rso[i].clone(),
                item_id: item[i].clone().unwrap_or_default(),
                text: text[i].clone().unwrap_or_default(),
            });
        }
    }
    Ok(out)
}
