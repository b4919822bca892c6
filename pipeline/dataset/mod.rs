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
//! dataset/response_index/part-<batch>-<n>.parquet  (instrument, response_id): dedup
//! ```
//!
//! A batch is committed in three steps: every new file is written under
//! `.staging/<batch>/` (responses in chunks as files are read, see
//! `Staging`, so a batch of any size fits in memory); a `READY` marker is
//! written and synced; then the files are renamed into place, the manifest
//! last, and the staging folder removed. `Dataset::open` finishes a batch
//! that has its marker and discards one that has not, so a crash at any
//! moment leaves either the previous dataset or the new one.
//!
//! Readers see a commit whole (`committed_parts`): batch ids increase, a
//! part file's name carries its batch id (`part-<batch>-<n>.parquet`), and
//! the manifest is renamed into place only after every part of its batch.
//! A reader that reads the manifest first and then only the parts whose
//! batch id is at most the manifest's latest sees exactly the batches the
//! manifest lists, even while the next batch is being moved in.
//!
//! The output of the aggregation lives here too: `tables` writes the four
//! published tables (`aggregates/`, `changes/`, `distributions/`,
//! `sources/`, a Parquet file per group) and `aggregates/GROUPS.json`, and
//! keeps a previous run's unchanged groups; `published` reads them back for
//! the reports.
//!
//! It does not decide what a row means: `ingest` does; nor what a cell
//! holds: `aggregate` and `privacy` do.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::ingest::{FileOutcome, QuarantineRecord, Response};
use crate::instrument::Instrument;

pub mod comments;
pub mod published;
pub mod tables;

pub use comments::{read_comments, CommentRow};

const STAGING: &str = ".staging";
const READY: &str = "READY";
/// The manifest, relative to the dataset: renamed into place last.
const MANIFEST: &str = "manifest/manifest.parquet";

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

pub(crate) fn pl_err(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
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
        let path = self.root.join(MANIFEST);
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

    /// Every stored response id, per instrument.
    pub fn known_responses(&self) -> Result<ResponseIds> {
        let dir = self.root.join("response_index");
        let frames = parquet_files(&dir)?
            .into_par_iter()
            .map(|path| read_parquet(&path).map(|df| (path, df)))
            .collect::<Result<Vec<_>>>()?;
        let mut columns = Vec::with_capacity(frames.len());
        for (path, df) in &frames {
            let e = pl_err(path);
            columns.push((
                df.column("instrument").map_err(&e)?.str().map_err(&e)?,
                df.column("response_id").map_err(&e)?.str().map_err(&e)?,
            ));
        }
        // Each instrument's ids in a set of its own, made with room for all
        // of them (not grown and rehashed step by step), instruments side
        // by side.
        let mut rows: HashMap<&str, usize> = HashMap::new();
        for (inst, _) in &columns {
            for a in inst.iter().flatten() {
                *rows.entry(a).or_default() += 1;
            }
        }
        let sets: Vec<ResponseIds> = rows
            .into_par_iter()
            .map(|(instrument, n)| {
                let mut out = ResponseIds::default();
                let mut set = PlHashSet::with_capacity(n);
                for (inst, id) in &columns {
                    for (a, b) in inst.iter().zip(id.iter()) {
                        let (Some(a), Some(b)) = (a, b) else {
                            continue;
                        };
                        if a != instrument {
                            continue;
                        }
                        match ResponseIds::number(b) {
                            Some(n) => {
                                set.insert(n);
                            }
                            None => {
                                out.other.insert((a.to_string(), b.to_string()));
                            }
                        }
                    }
                }
                out.ids.insert(instrument.to_string(), set);
                out
            })
            .collect();
        let mut out = ResponseIds::default();
        for s in sets {
            out.ids.extend(s.ids);
            out.other.extend(s.other);
        }
        Ok(out)
    }

    /// Starts a batch: files are added one at a time and written to the
    /// staging folder in chunks; nothing is visible until `Staging::finish`.
    pub fn begin(&self, batch_id: &str) -> Result<Staging<'_>> {
        let staging = self.root.join(STAGING).join(batch_id);
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        Ok(Staging {
            dataset: self,
            dir: staging,
            batch_id: batch_id.to_string(),
            known: self.known_responses()?,
            pending: BTreeMap::new(),
            pending_rows: 0,
            flush_rows: flush_rows(),
            part: 0,
        })
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
        for path in committed_parts(&self.root, "responses")? {
            let (inst, year) = partition_of(&path);
            let rows = ParquetReader::new(File::open(&path).map_err(|e| Error::io(&path, e))?)
                .num_rows()
                .map_err(pl_err(&path))?;
            *out.entry((inst, year)).or_insert(0) += rows as u64;
        }
        Ok(out)
    }
}

/// Response ids already stored, per instrument: the 128-bit pseudonyms as
/// numbers (a tenth of the memory of strings at national scale), any other
/// id as text.
#[derive(Debug, Default)]
pub struct ResponseIds {
    ids: HashMap<String, PlHashSet<u128>>,
    other: HashSet<(String, String)>,
}

impl ResponseIds {
    /// Adds an id; false when it was already there.
    pub fn insert(&mut self, instrument: &str, id: &str) -> bool {
        match ResponseIds::number(id) {
            Some(n) => {
                if let Some(set) = self.ids.get_mut(instrument) {
                    set.insert(n)
                } else {
                    self.ids
                        .entry(instrument.to_string())
                        .or_default()
                        .insert(n)
                }
            }
            None => self.other.insert((instrument.to_string(), id.to_string())),
        }
    }

    /// A 128-bit pseudonym (32 hexadecimal digits) as a number.
    fn number(id: &str) -> Option<u128> {
        match u128::from_str_radix(id, 16) {
            Ok(n) if id.len() == 32 => Some(n),
            _ => None,
        }
    }
}

/// Item rows held in memory before they are written to the staging folder
/// (`OPLEIDINGSMONITOR_FLUSH_ROWS` sets another number: tests use it to
/// write a small batch in many chunks).
const FLUSH_ROWS: usize = 2_000_000;

fn flush_rows() -> usize {
    std::env::var("OPLEIDINGSMONITOR_FLUSH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FLUSH_ROWS)
}

/// Responses of one file in one partition, waiting to be written.
struct Pending {
    instrument: Instrument,
    source_file: String,
    source_sha256: String,
    responses: Vec<Response>,
}

/// A batch being written. `add` drops responses already stored (counting
/// them as duplicates) and keeps the rest until about two million item rows
/// wait, then writes them per partition under `.staging/<batch>/`; `finish`
/// writes the response index, quarantine and manifest and commits. Memory
/// stays bounded however large the batch; a crash before the `READY`
/// marker leaves the dataset as it was.
pub struct Staging<'a> {
    dataset: &'a Dataset,
    dir: PathBuf,
    batch_id: String,
    known: ResponseIds,
    pending: BTreeMap<(String, i32), Vec<Pending>>,
    pending_rows: usize,
    flush_rows: usize,
    part: usize,
}

impl Staging<'_> {
    /// Takes the file's responses into the batch and fills in its count of
    /// duplicates.
    pub fn add(&mut self, fb: &mut FileBatch) -> Result<()> {
        let responses = std::mem::take(&mut fb.outcome.responses);
        let Some(inst) = fb.instrument.as_ref() else {
            return Ok(());
        };
        fb.entry.rows_duplicate = self.add_responses(&fb.entry, inst, responses)?;
        Ok(())
    }

    /// Takes (some of) a file's responses into the batch, in the order
    /// given; returns how many were already stored (or added before in this
    /// batch), which are dropped. A streamed file comes in several calls.
    pub fn add_responses(
        &mut self,
        entry: &ManifestEntry,
        inst: &Instrument,
        responses: Vec<Response>,
    ) -> Result<u64> {
        let mut dup = 0u64;
        let mut by_year: BTreeMap<i32, Vec<Response>> = BTreeMap::new();
        for r in responses {
            if self.known.insert(&inst.id, &r.response_id) {
                self.pending_rows += r.answers.len().max(1);
                by_year.entry(r.submitted_on.year()).or_default().push(r);
            } else {
                dup += 1;
            }
        }
        for (year, responses) in by_year {
            self.pending
                .entry((inst.id.clone(), year))
                .or_default()
                .push(Pending {
                    instrument: inst.clone(),
                    source_file: entry.source_file.clone(),
                    source_sha256: entry.source_sha256.clone(),
                    responses,
                });
        }
        if self.pending_rows >= self.flush_rows {
            self.flush()?;
        }
        Ok(dup)
    }

    /// Writes what waits: one responses file (and comments file) per
    /// partition, and the part of the response index that goes with it.
    fn flush(&mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        if pending.is_empty() {
            return Ok(());
        }
        // Part numbers in partition order, then the partitions built and
        // written in parallel (one per core: building a partition's frames
        // is work for one thread).
        let parts: Vec<((String, i32), Vec<Pending>, usize)> = pending
            .into_iter()
            .map(|(key, files)| {
                self.part += 1;
                (key, files, self.part)
            })
            .collect();
        let (dir, batch_id) = (&self.dir, &self.batch_id);
        parts
            .par_iter()
            .map(|((inst, year), files, part)| -> Result<()> {
                let name = format!("part-{batch_id}-{part:05}.parquet");
                let sub = format!("instrument={inst}/year={year}");
                let (mut df, comments) = partition_frames(files)?;
                write_parquet(&dir.join("responses").join(&sub).join(&name), &mut df)?;
                if let Some(mut c) = comments {
                    write_parquet(&dir.join("comments").join(&sub).join(&name), &mut c)?;
                }
                Ok(())
            })
            .collect::<Result<()>>()?;
        let mut index_inst: Vec<&str> = Vec::new();
        let mut index_id: Vec<&str> = Vec::new();
        let mut index_sha: Vec<&str> = Vec::new();
        for ((inst, _), files, _) in &parts {
            for p in files {
                for r in &p.responses {
                    index_inst.push(inst);
                    index_id.push(&r.response_id);
                    index_sha.push(&p.source_sha256);
                }
            }
        }
        let mut df = DataFrame::new_infer_height(vec![
            Column::new("instrument".into(), index_inst),
            Column::new("response_id".into(), index_id),
            Column::new("source_sha256".into(), index_sha),
        ])
        .map_err(pl_err(&self.dir))?;
        write_parquet(
            &self
                .dir
                .join("response_index")
                .join(format!("part-{}-{:05}.parquet", self.batch_id, self.part)),
            &mut df,
        )
    }

    /// Writes what still waits, the quarantine and the manifest (the batch's
    /// files replace earlier entries of the same file: a failed file is
    /// tried again on every run), and commits. Returns the manifest entries
    /// written.
    pub fn finish(mut self, files: Vec<FileBatch>) -> Result<Vec<ManifestEntry>> {
        self.flush()?;
        let ds = self.dataset;
        let staging = self.dir.clone();
        let shas: HashSet<&str> = files
            .iter()
            .map(|f| f.entry.source_sha256.as_str())
            .collect();
        let mut quarantine = ds.quarantine_frame()?;
        if let Some(old) = quarantine.take() {
            let mask = old
                .column("source_sha256")
                .map_err(pl_err(&ds.root))?
                .str()
                .map_err(pl_err(&ds.root))?
                .iter()
                .map(|s| !shas.contains(s.unwrap_or("")))
                .collect::<BooleanChunked>();
            quarantine = Some(old.filter(&mask).map_err(pl_err(&ds.root))?);
        }
        let new_q = quarantine_frame(&files, &self.batch_id)?;
        let mut q = match quarantine {
            Some(old) => old.vstack(&new_q).map_err(pl_err(&ds.root))?,
            None => new_q,
        };
        write_parquet(&staging.join("quarantine/quarantine.parquet"), &mut q)?;
        let mut manifest: Vec<ManifestEntry> = ds
            .manifest()?
            .into_iter()
            .filter(|m| !shas.contains(m.source_sha256.as_str()))
            .collect();
        manifest.extend(files.iter().map(|f| f.entry.clone()));
        let mut mdf = manifest_frame(&manifest)?;
        write_parquet(&staging.join(MANIFEST), &mut mdf)?;

        // The commit point.
        fail_point("before_ready");
        let ready = staging.join(READY);
        let f = File::create(&ready).map_err(|e| Error::io(&ready, e))?;
        f.sync_all().map_err(|e| Error::io(&ready, e))?;
        sync_dir(&staging);
        fail_point("after_ready");
        move_into_place(&staging, &ds.root)?;
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        let _ = std::fs::remove_dir(ds.root.join(STAGING));
        Ok(files.into_iter().map(|f| f.entry).collect())
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
/// (creating folders), skipping the READY marker: the manifest last, once
/// every other file is in place and its folder synced, so a reader that
/// sees the new manifest finds every file of its batch (see
/// `committed_parts`). Also used to finish a batch a crash interrupted.
fn move_into_place(staging: &Path, root: &Path) -> Result<()> {
    let mut files = Vec::new();
    let mut stack = vec![staging.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(staging).expect("under staging");
            if rel != Path::new(READY) {
                files.push(rel.to_path_buf());
            }
        }
    }
    // The manifest sorts last; the others in name order.
    files.sort_by_key(|rel| (rel == Path::new(MANIFEST), rel.clone()));
    let mut moved_to: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    for rel in files {
        if rel == Path::new(MANIFEST) {
            // Every folder that received a file is synced before the
            // manifest that lists its batch appears.
            for dir in std::mem::take(&mut moved_to) {
                sync_dir(&dir);
            }
            fail_point("before_manifest");
        }
        let target = root.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::rename(staging.join(&rel), &target).map_err(|e| Error::io(&target, e))?;
        if let Some(parent) = target.parent() {
            moved_to.insert(parent.to_path_buf());
        }
        fail_point("mid_move");
    }
    // Synced before the staging folder (and with it the READY marker) is
    // removed.
    for dir in moved_to {
        sync_dir(&dir);
    }
    Ok(())
}

/// The batch id in a part file's name: `20240301T101112123456` of
/// `part-20240301T101112123456-00003.parquet`.
pub fn batch_of_part(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("part-")?.split('-').next()
}

/// The committed part files of a table (`responses`, `comments`,
/// `response_index`): those of the batches the manifest lists. The manifest
/// is read first; a part of a later batch (one being moved into place
/// while this reads) is left out, so a reader sees every commit whole. The
/// rule for readers outside this program is the same (README, "The
/// dataset"). Without a manifest nothing is committed.
pub fn committed_parts(root: &Path, table: &str) -> Result<Vec<PathBuf>> {
    let latest = Dataset::open_read_only(root)
        .manifest()?
        .into_iter()
        .map(|m| m.batch_id)
        .max();
    let Some(latest) = latest else {
        return Ok(Vec::new());
    };
    Ok(parquet_files(&root.join(table))?
        .into_iter()
        .filter(|p| batch_of_part(p).is_some_and(|b| b <= latest.as_str()))
        .collect())
}

/// A batch id after `latest` (the manifest's newest): `now` as
/// `YYYYMMDDTHHMMSSffffff`, or, when the clock stands at or before `latest`,
/// `latest` with a `0` appended (after it, before any later time).
pub fn next_batch_id(now: chrono::DateTime<chrono::Utc>, latest: Option<&str>) -> String {
    let id = now.format("%Y%m%dT%H%M%S%6f").to_string();
    match latest {
        Some(l) if l >= id.as_str() => format!("{l}0"),
        _ => id,
    }
}

pub(crate) fn sync_dir(dir: &Path) {
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

/// Writes a small file atomically (a temporary file, then a rename),
/// creating its folder. Unchanged content is not rewritten: a run with
/// nothing new touches nothing.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
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

/// The responses table of one partition (one row per answered or
/// not-applicable item) and its comments table (one row per open answer),
/// from the responses of one or more files. `instrument` and `year` live in
/// the path. The per-response columns are built once and gathered per item
/// row: the strings are not copied again.
fn partition_frames(files: &[Pending]) -> Result<(DataFrame, Option<DataFrame>)> {
    let n_resp: usize = files.iter().map(|p| p.responses.len()).sum();
    let mut c = RowColumns::with_capacity(n_resp);
    let mut item_of: Vec<IdxSize> = Vec::new();
    let (mut item, mut scale, mut value, mut lo, mut hi) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut text_of: Vec<IdxSize> = Vec::new();
    let (mut t_item, mut t_scale, mut text) = (Vec::new(), Vec::new(), Vec::new());
    let (mut t_names, mut t_details) = (Vec::new(), Vec::new());
    for p in files {
        let inst = &p.instrument;
        for r in &p.responses {
            let k = c.len() as IdxSize;
            c.push(r, &inst.version, &p.source_file, &p.source_sha256);
            for &(idx, v) in &r.answers {
                let it = &inst.items[idx];
                let (a, b) = inst.item_scale(it);
                item_of.push(k);
                item.push(it.id.as_str());
                scale.push(it.subscale.as_str());
                value.push(v);
                lo.push(a);
                hi.push(b);
            }
            for (idx, t) in &r.comments {
                let it = &inst.items[*idx];
                text_of.push(k);
                t_item.push(it.id.as_str());
                t_scale.push(it.subscale.as_str());
                text.push(t.text.as_str());
                t_names.push(t.names);
                t_details.push(t.details);
            }
        }
    }
    let e = pl_err(Path::new("responses"));
    let per_response = DataFrame::new(n_resp, c.into_columns()?).map_err(&e)?;
    let gather = |rows: Vec<IdxSize>, own: Vec<Column>| -> Result<DataFrame> {
        let n = rows.len();
        let df = per_response
            .take(&IdxCa::from_vec("row".into(), rows))
            .map_err(&e)?;
        let mut cols = df.columns().to_vec();
        for (i, col) in own.into_iter().enumerate() {
            cols.insert(10 + i, col);
        }
        DataFrame::new(n, cols).map_err(&e)
    };
    let responses = gather(
        item_of,
        vec![
            Column::new("item_id".into(), item),
            Column::new("scale_id".into(), scale),
            Column::new("value".into(), value),
            Column::new("scale_min".into(), lo),
            Column::new("scale_max".into(), hi),
        ],
    )?;
    let comments = if text_of.is_empty() {
        None
    } else {
        Some(gather(
            text_of,
            vec![
                Column::new("item_id".into(), t_item),
                Column::new("scale_id".into(), t_scale),
                Column::new("text".into(), text),
                Column::new(comments::MASKED_NAMES.into(), t_names),
                Column::new(comments::MASKED_DETAILS.into(), t_details),
            ],
        )?)
    };
    Ok((responses, comments))
}

/// The per-response columns shared by responses and comments (borrowed
/// from the responses: Polars copies each text once).
#[derive(Default)]
struct RowColumns<'a> {
    response_id: Vec<&'a str>,
    version: Vec<&'a str>,
    submitted_on: Vec<i32>,
    respondent_key: Vec<Option<&'a str>>,
    role: Vec<&'a str>,
    institution: Vec<&'a str>,
    specialty: Vec<&'a str>,
    rso: Vec<Option<&'a str>>,
    region: Vec<&'a str>,
    subject: Vec<Option<&'a str>>,
    source_file: Vec<&'a str>,
    source_sha256: Vec<&'a str>,
    source_row: Vec<u32>,
}

impl<'a> RowColumns<'a> {
    fn with_capacity(n: usize) -> RowColumns<'a> {
        RowColumns {
            response_id: Vec::with_capacity(n),
            version: Vec::with_capacity(n),
            submitted_on: Vec::with_capacity(n),
            respondent_key: Vec::with_capacity(n),
            role: Vec::with_capacity(n),
            institution: Vec::with_capacity(n),
            specialty: Vec::with_capacity(n),
            rso: Vec::with_capacity(n),
            region: Vec::with_capacity(n),
            subject: Vec::with_capacity(n),
            source_file: Vec::with_capacity(n),
            source_sha256: Vec::with_capacity(n),
            source_row: Vec::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.response_id.len()
    }

    fn push(&mut self, r: &'a Response, version: &'a str, file: &'a str, sha: &'a str) {
        self.response_id.push(&r.response_id);
        self.version.push(version);
        self.submitted_on.push(days(r.submitted_on));
        self.respondent_key.push(r.respondent_key.as_deref());
        self.role.push(&r.respondent_role);
        self.institution.push(&r.institution_id);
        self.specialty.push(&r.specialty);
        self.rso.push(r.rso_id.as_deref());
        self.region.push(&r.region_id);
        self.subject.push(r.subject_key.as_deref());
        self.source_file.push(file);
        self.source_sha256.push(sha);
        self.source_row.push(r.source_row);
    }

    /// Columns in contract order; callers insert their own at index 10.
    fn into_columns(self) -> Result<Vec<Column>> {
        Ok(vec![
            Column::new("response_id".into(), self.response_id),
            Column::new("instrument_version".into(), self.version),
            date_column("submitted_on", self.submitted_on)?,
            Column::new("respondent_key".into(), self.respondent_key),
            Column::new("respondent_role".into(), self.role),
            Column::new("institution_id".into(), self.institution),
            Column::new("specialty".into(), self.specialty),
            Column::new("rso_id".into(), self.rso),
            Column::new("region_id".into(), self.region),
            Column::new("subject_key".into(), self.subject),
            Column::new("source_file".into(), self.source_file),
            Column::new("source_sha256".into(), self.source_sha256),
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
        // The lock belongs to the dataset, not to the path as written: the
        // same folder reached through a symbolic link takes the same lock.
        let parent = root.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let root = match std::fs::canonicalize(root) {
            Ok(real) => real,
            Err(_) => std::fs::canonicalize(parent)
                .map_err(|e| Error::io(parent, e))?
                .join(root.file_name().unwrap_or_default()),
        };
        let mut name = root
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".lock");
        let path = root.with_file_name(name);
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

/// `name` equals one of `values`.
pub(crate) fn any_eq(name: &str, values: impl IntoIterator<Item = Expr>) -> Expr {
    values
        .into_iter()
        .fold(lit(false), |acc, v| acc.or(col(name).eq(v)))
}

pub(crate) fn on(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|n| col(*n)).collect()
}

pub(crate) const VERSION_KEYS: [&str; 3] = ["instrument", "instrument_version", "scale_id"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_increase_and_parts_name_theirs() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-03-01T10:11:12.123456Z")
            .unwrap()
            .to_utc();
        assert_eq!(next_batch_id(t, None), "20240301T101112123456");
        assert_eq!(
            next_batch_id(t, Some("20240301T101112123455")),
            "20240301T101112123456"
        );
        // The clock set back: after the latest, before any later time.
        let later = next_batch_id(t, Some("20240302T000000000000"));
        assert_eq!(later, "20240302T0000000000000");
        assert!(
            later.as_str() > "20240302T000000000000" && later.as_str() < "20240302T000000000001"
        );
        let p =
            Path::new("responses/instrument=x/year=2024/part-20240301T101112123456-00003.parquet");
        assert_eq!(batch_of_part(p), Some("20240301T101112123456"));
        assert_eq!(batch_of_part(Path::new("GROUPS.json")), None);
    }
}
