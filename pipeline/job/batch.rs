//! A batch of export files: find them, match each to its source profile,
//! skip what the manifest already holds, ingest the rest in parallel and
//! commit them to the dataset as one atomic batch.
//!
//! This module is the glue between `ingest` (one file in memory) and
//! `dataset` (storage). It owns the rules of a batch: a file is known by its
//! SHA-256; a file that failed is tried again next time; a bad file never
//! stops the others. It prints nothing: callers render the `BatchReport`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Config;
use crate::dataset::{Dataset, FileBatch, ManifestEntry};
use crate::error::{Error, Result};
use crate::ingest::pseudonym::PseudonymKey;
use crate::ingest::{self, Context, FileOutcome, QuarantineRecord};

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Ingested now (possibly with quarantined rows).
    New,
    /// Not read: already ingested (the manifest holds the same SHA-256), or
    /// a copy of another file of the same batch. Its counts are all 0:
    /// nothing of it was read or written this time.
    Skipped,
    /// Rejected as a whole (no profile, unreadable, wrong columns).
    Failed,
}

impl FileStatus {
    /// The word used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::New => "new",
            FileStatus::Skipped => "skipped",
            FileStatus::Failed => "failed",
        }
    }
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// Path as given or found.
    pub path: PathBuf,
    /// Name recorded in the dataset (relative to the inbox).
    pub name: String,
    /// SHA-256 of the bytes.
    pub sha256: String,
    /// What happened.
    pub status: FileStatus,
    /// Profile applied.
    pub profile: String,
    /// Data rows read (0 for a skipped file).
    pub rows_read: u64,
    /// Rows whose response is in the dataset after the batch: new ones and
    /// those already stored (`rows_duplicate`). In a validation: the rows
    /// an ingest would write.
    pub rows_written: u64,
    /// Rows rejected.
    pub rows_quarantined: u64,
    /// Of `rows_written`, rows whose response was already stored from an
    /// earlier export or an earlier file of the same batch (a cumulative
    /// re-export): not stored twice.
    pub rows_duplicate: u64,
    /// Why a file was skipped ("already ingested ..."), empty otherwise.
    pub note: String,
    /// The reasons rows (or the file) were rejected.
    pub problems: Vec<QuarantineRecord>,
}

/// The result of a batch.
#[derive(Debug, Clone, Default)]
pub struct BatchReport {
    /// Per file, in name order.
    pub files: Vec<FileReport>,
    /// Whether the dataset was changed.
    pub wrote: bool,
    /// Batch id, when something was written.
    pub batch_id: Option<String>,
}

impl BatchReport {
    /// Whether any file or row was rejected in this batch (files skipped as
    /// already read do not count again).
    pub fn has_quarantine(&self) -> bool {
        self.files.iter().any(|f| {
            f.status == FileStatus::Failed
                || (f.status == FileStatus::New && f.rows_quarantined > 0)
        })
    }
}

/// The export files under `paths`, sorted. The inbox is untrusted: only
/// regular files are taken. A symbolic link is never followed (one to the
/// key file would put the key into the summary and the quarantine), nor is
/// a FIFO, device or socket read (a FIFO would hang the run while it holds
/// the lock, a device would never end); each is skipped with a warning.
/// Hidden files and folders are skipped; a path given on the command line
/// must itself be a regular file or a folder.
pub fn find_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::symlink_metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))? {
                    let path = e.map_err(|e| Error::io(&d, e))?.path();
                    let hidden = path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                    if hidden {
                        continue;
                    }
                    let kind = std::fs::symlink_metadata(&path)
                        .map_err(|e| Error::io(&path, e))?
                        .file_type();
                    if kind.is_dir() {
                        stack.push(path);
                    } else if kind.is_file() {
                        out.push(path);
                    } else {
                        skip_special(&path, kind);
                    }
                }
            }
        } else if meta.is_file() {
            out.push(p.clone());
        } else {
            skip_special(p, meta.file_type());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Says why a path that is not a regular file or folder is not read.
fn skip_special(path: &Path, kind: std::fs::FileType) {
    let what = if kind.is_symlink() {
        "a symbolic link (links are not followed: copy the export into the inbox)"
    } else {
        "not a regular file (a pipe, device or socket)"
    };
    tracing::warn!("skipped {}: {what}", path.display());
}

fn display_name(path: &Path, inbox: &Path) -> String {
    match path.strip_prefix(inbox) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// Whether to write the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ingest and commit.
    Ingest,
    /// Check only: nothing is written. Every decision is an ingest's (a
    /// known file is skipped, a copy in the batch too, and rows whose
    /// response is already stored count as duplicates), so a validation
    /// and the ingest after it give the same counts for every file.
    Validate,
}

/// Ingests (or validates) the given files into the configured dataset.
/// `profile` names the source profile for every file, whatever the
/// profiles' file-name patterns say (`--profile`); without it each file
/// takes the one profile whose pattern matches its name. `progress` is told
/// the name of every file when it has been read.
pub fn run(
    config: &Config,
    paths: &[PathBuf],
    key: &PseudonymKey,
    mode: Mode,
    profile: Option<&str>,
    progress: Option<&(dyn Fn(&str) + Sync)>,
) -> Result<BatchReport> {
    let forced = match profile {
        None => None,
        Some(name) => Some(
            config
                .profiles
                .iter()
                .find(|p| p.id == name)
                .ok_or_else(|| Error::Profile {
                    file: config.paths.profiles.display().to_string(),
                    message: format!(
                        "there is no source profile {name:?} (--profile): the profiles are {}",
                        crate::text::quoted_list(config.profiles.iter().map(|p| p.id.as_str()), 50)
                    ),
                })?,
        ),
    };
    // Never anything of the program's own: the dataset, the reports or the
    // key, should the inbox hold them (an inbox set to the project folder).
    let own = [
        &config.paths.dataset,
        &config.paths.reports,
        &config.paths.key_file,
    ];
    let files: Vec<PathBuf> = find_files(paths)?
        .into_iter()
        .filter(|f| {
            let theirs = own.iter().any(|o| f.starts_with(o));
            if theirs {
                tracing::warn!(
                    "skipped {}: it is the program's own output or key, not an export",
                    f.display()
                );
            }
            !theirs
        })
        .collect();
    let dataset = match mode {
        Mode::Ingest => Dataset::open(&config.paths.dataset)?,
        Mode::Validate => Dataset::open_read_only(&config.paths.dataset),
    };
    let manifest = dataset.manifest()?;
    // The manifest's entries of each file, in manifest order.
    let mut known: HashMap<&str, Vec<&ManifestEntry>> = HashMap::new();
    for m in &manifest {
        known.entry(m.source_sha256.as_str()).or_default().push(m);
    }
    let entries_of = |sha: &str| known.get(sha).map_or(&[][..], |v| v.as_slice());
    let now = chrono::Utc::now();
    let ingested_at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Later than every batch before it, also when the clock was set back:
    // readers take a part file of a later batch than the manifest's newest
    // for one still being committed.
    let batch_id =
        crate::dataset::next_batch_id(now, manifest.iter().map(|m| m.batch_id.as_str()).max());

    let registry_bytes = std::fs::read(&config.paths.registry).unwrap_or_default();
    let settings_of = |profile_id: &str| -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(&registry_bytes);
        // A new program version reads a refused file again (its reader may
        // have been fixed).
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        // A file refused by a limit is read again once the limit is raised.
        h.update(format!("{:?}", config.limits).as_bytes());
        if let Some(p) = config.profiles.iter().find(|p| p.id == profile_id) {
            h.update(std::fs::read(&p.file).unwrap_or_default());
            if let Some(i) = config.catalogue.get(&p.instrument, &p.version) {
                h.update(format!("{i:?}").as_bytes());
            }
        }
        hex::encode(h.finalize())
    };
    struct Work {
        report: FileReport,
        batch: Option<FileBatch>,
    }
    // `sink`: the file is streamed (`ingest::stream`), its responses handed
    // to the sink a chunk at a time instead of kept in the outcome.
    // `copies`: the files of the batch so far by SHA-256, for a streamed
    // file, which is known by its hash only once it has been scanned.
    let process = |path: &PathBuf,
                   sink: Option<&mut Sink>,
                   copies: Option<&HashMap<String, String>>|
     -> Result<Work> {
        // An unreadable file (permissions, removed while syncing) is a
        // failed file, not the end of the batch.
        let unreadable = |problem| Work {
            report: FileReport {
                path: path.clone(),
                name: display_name(path, &config.paths.inbox),
                sha256: String::new(),
                status: FileStatus::Failed,
                profile: String::new(),
                rows_read: 0,
                rows_written: 0,
                rows_quarantined: 0,
                rows_duplicate: 0,
                note: String::new(),
                problems: ingest::rejected_file(0, problem).quarantine,
            },
            batch: None,
        };
        let (sha, bytes, scan) = if sink.is_some() {
            match ingest::stream::scan(path, &config.limits) {
                Ok(scan) => (scan.sha256.clone(), None, Some(scan)),
                Err(problem) => return Ok(unreadable(problem)),
            }
        } else {
            match ingest::limits::read_export(path, &config.limits) {
                Ok(b) => (ingest::sha256_hex(&b), Some(b), None),
                Err(problem) => return Ok(unreadable(problem)),
            }
        };
        let name = display_name(path, &config.paths.inbox);
        let copy_of = copies.and_then(|c| c.get(&sha));
        let mut report = FileReport {
            path: path.clone(),
            name: name.clone(),
            sha256: sha.clone(),
            status: FileStatus::New,
            profile: String::new(),
            rows_read: 0,
            rows_written: 0,
            rows_quarantined: 0,
            rows_duplicate: 0,
            note: String::new(),
            problems: Vec::new(),
        };
        // Known files are skipped (by an ingest and a validation alike),
        // unless rows were quarantined and the registry, profile or
        // definition changed since: then the fix the message asked for is
        // applied by reading it again.
        if let Some(m) = entries_of(&sha).iter().find(|m| {
            m.status == "ingested"
                && (m.rows_quarantined == 0 || m.settings == settings_of(&m.profile))
        }) {
            report.status = FileStatus::Skipped;
            report.profile = m.profile.clone();
            report.note = format!(
                "already ingested (the same SHA-256 as {}, batch {})",
                m.source_file, m.batch_id
            );
            if let Some(p) = progress {
                p(&report.name);
            }
            return Ok(Work {
                report,
                batch: None,
            });
        }
        // A file refused before, with the same bytes and settings, is not
        // read again (a zip bomb is not unpacked on every run); it stays
        // refused until it or its profile, the registry or the limits
        // change. A file that matched no profile is always tried again: a
        // new profile is the fix.
        if let Some(m) = entries_of(&sha).iter().rev().find(|m| {
            m.status == "failed" && !m.profile.is_empty() && m.settings == settings_of(&m.profile)
        }) {
            report.status = FileStatus::Failed;
            report.profile = m.profile.clone();
            report.note = format!(
                "refused before (batch {}) and not read again until it or the settings change",
                m.batch_id
            );
            report.problems = no_profile(crate::text::echo(&m.message).into_owned()).quarantine;
            return Ok(Work {
                report,
                batch: None,
            });
        }
        if let Some(first) = copy_of {
            report.status = FileStatus::Skipped;
            report.note = format!("a copy of {first} in this batch (the same SHA-256): read once");
            return Ok(Work {
                report,
                batch: None,
            });
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let matching: Vec<_> = match forced {
            Some(p) => vec![p],
            None => config
                .profiles
                .iter()
                .filter(|p| p.matches(&file_name))
                .collect(),
        };
        let mut entry = ManifestEntry {
            source_sha256: sha,
            source_file: name,
            profile: String::new(),
            instrument: String::new(),
            instrument_version: String::new(),
            status: "failed".into(),
            rows_read: 0,
            rows_written: 0,
            rows_quarantined: 0,
            rows_duplicate: 0,
            decoded_as: String::new(),
            message: String::new(),
            batch_id: batch_id.clone(),
            ingested_at: ingested_at.clone(),
            settings: String::new(),
        };
        let (outcome, instrument) = match matching.as_slice() {
                [profile] => {
                    let inst = config
                        .catalogue
                        .get(&profile.instrument, &profile.version)
                        .expect("profiles are checked against the catalogue on load");
                    entry.profile = profile.id.clone();
                    entry.settings = settings_of(&profile.id);
                    entry.instrument = inst.id.clone();
                    entry.instrument_version = inst.version.clone();
                    let ctx = Context {
                        instrument: inst,
                        profile,
                        registry: &config.registry,
                        key,
                    };
                    let outcome = match (bytes, scan, sink) {
                        (Some(bytes), _, _) => {
                            ingest::ingest_file(&file_name, &bytes, &ctx, &config.limits)
                        }
                        (None, Some(scan), Some(sink))
                            if profile.format == ingest::profile::Format::Csv =>
                        {
                            streamed(&file_name, path, &scan, &ctx, &config.limits, &entry, sink)?
                        }
                        // A workbook is read whole (within its limits).
                        _ => match ingest::limits::read_export(path, &config.limits) {
                            Ok(bytes) => {
                                ingest::ingest_file(&file_name, &bytes, &ctx, &config.limits)
                            }
                            Err(problem) => ingest::rejected_file(0, problem),
                        },
                    };
                    (outcome, Some(inst.clone()))
                }
                [] => (
                    no_profile(format!(
                        "no source profile applies to {file_name:?}: add a matching pattern to `files` in the right profile in {}, or name the profile with --profile",
                        config.paths.profiles.display()
                    )),
                    None,
                ),
                many => (
                    no_profile(format!(
                        "{file_name:?} matches several profiles ({}): make their `files` patterns distinct",
                        many.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                    None,
                ),
            };
        report.profile = entry.profile.clone();
        if let Some(p) = progress {
            p(&report.name);
        }
        if outcome.file_error.is_none() {
            entry.status = "ingested".into();
        } else {
            report.status = FileStatus::Failed;
        }
        entry.message = outcome.file_error.clone().unwrap_or_default();
        entry.decoded_as = outcome.decoded_as.clone();
        entry.rows_read = outcome.rows_read;
        entry.rows_quarantined = outcome.rows_quarantined;
        // The responses kept in the outcome, or handed to the sink.
        entry.rows_written = outcome.rows_read.saturating_sub(outcome.rows_quarantined);
        Ok(Work {
            report,
            batch: Some(FileBatch {
                entry,
                instrument,
                outcome,
            }),
        })
    };

    // Files are read in parallel a chunk at a time; each chunk's responses
    // go to the staging folder before the next is read, so memory holds a
    // chunk, not the batch.
    let chunk = 8 * rayon::current_num_threads().max(1);
    let mut staging = None;
    // A validation counts duplicates as the staging would: against the
    // stored responses and the earlier files of the batch.
    let mut known = match mode {
        Mode::Validate => Some(dataset.known_responses()?),
        Mode::Ingest => None,
    };
    let mut reports: Vec<FileReport> = Vec::with_capacity(files.len());
    let mut batches = Vec::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let stream_bytes = stream_bytes();
    // In name order: runs of small files read side by side (up to `chunk`
    // files or GROUP_BYTES), a large CSV file streamed on its own, so that
    // the responses reach the staging in the same order however the files
    // are read (which of two copies of a response is the duplicate).
    let mut rest = &files[..];
    while !rest.is_empty() {
        let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
        let large = size(&rest[0]) >= stream_bytes;
        let mut n = 1;
        if !large {
            let mut bytes = size(&rest[0]);
            while n < rest.len() && n < chunk && bytes < GROUP_BYTES {
                let s = size(&rest[n]);
                if s >= stream_bytes {
                    break;
                }
                bytes += s;
                n += 1;
            }
        }
        let (group, after) = rest.split_at(n);
        rest = after;
        let mut dup_streamed = 0u64;
        let work = if large {
            let mut sink = |entry: &ManifestEntry,
                            inst: &crate::instrument::Instrument,
                            responses: Vec<ingest::Response>|
             -> Result<()> {
                dup_streamed += match known.as_mut() {
                    Some(known) => responses
                        .iter()
                        .filter(|r| !known.insert(&inst.id, &r.response_id))
                        .count() as u64,
                    None => {
                        if staging.is_none() {
                            staging = Some(dataset.begin(&batch_id)?);
                        }
                        let st = staging.as_mut().expect("begun");
                        st.add_responses(entry, inst, responses)?
                    }
                };
                Ok(())
            };
            vec![process(&group[0], Some(&mut sink), Some(&seen))?]
        } else {
            group
                .par_iter()
                .map(|p| process(p, None, None))
                .collect::<Result<Vec<_>>>()?
        };
        for mut w in work {
            // The same bytes under two names: the second is a copy, not
            // read (in name order, so the same one every time).
            if !w.report.sha256.is_empty() {
                match seen.get(&w.report.sha256) {
                    Some(first) if w.report.status != FileStatus::Skipped => {
                        w.batch = None;
                        w.report.status = FileStatus::Skipped;
                        w.report.note = format!(
                            "a copy of {first} in this batch (the same SHA-256): read once"
                        );
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(w.report.sha256.clone(), w.report.name.clone());
                    }
                }
            }
            let Some(mut b) = w.batch else {
                reports.push(w.report);
                continue;
            };
            let mut r = w.report;
            r.problems = b.outcome.quarantine.clone();
            // Responses kept in the outcome (a file read whole); a streamed
            // file's went to the sink, which counted its duplicates.
            match (mode, known.as_mut()) {
                (Mode::Validate, Some(known)) => {
                    if let Some(inst) = &b.instrument {
                        b.entry.rows_duplicate = b
                            .outcome
                            .responses
                            .iter()
                            .filter(|resp| !known.insert(&inst.id, &resp.response_id))
                            .count() as u64;
                    }
                    b.outcome.responses = Vec::new();
                }
                _ => {
                    if !b.outcome.responses.is_empty() {
                        if staging.is_none() {
                            staging = Some(dataset.begin(&batch_id)?);
                        }
                        if let Some(st) = staging.as_mut() {
                            // Fills in the entry's duplicates.
                            st.add(&mut b)?;
                        }
                    }
                }
            }
            b.entry.rows_duplicate += dup_streamed;
            r.rows_read = b.entry.rows_read;
            r.rows_written = b.entry.rows_written;
            r.rows_quarantined = b.entry.rows_quarantined;
            r.rows_duplicate = b.entry.rows_duplicate;
            reports.push(r);
            batches.push(b);
        }
    }

    let mut out = BatchReport::default();
    // A failed file that fails the same way again changes nothing (files
    // with responses were staged).
    let unchanged = staging.is_none()
        && batches.iter().all(|b| {
            entries_of(&b.entry.source_sha256).iter().any(|m| {
                m.status == b.entry.status
                    && m.message == b.entry.message
                    && m.profile == b.entry.profile
                    && m.rows_read == b.entry.rows_read
                    && m.rows_quarantined == b.entry.rows_quarantined
            })
        });
    if mode == Mode::Ingest && !batches.is_empty() && !unchanged {
        out.wrote = true;
        out.batch_id = Some(batch_id.clone());
        // Files without responses (failed, or every row quarantined) get
        // their manifest entry, with the counts `process` gave them.
        let st = match staging {
            Some(st) => st,
            None => dataset.begin(&batch_id)?,
        };
        st.finish(batches)?;
    }
    out.files = reports;
    Ok(out)
}

/// Where a streamed file's responses go, a chunk at a time: the staging
/// (which counts and drops the duplicates) or, in a validation, the count
/// of duplicates. Returns nothing; the caller keeps the counts.
type Sink<'s> = dyn FnMut(&ManifestEntry, &crate::instrument::Instrument, Vec<ingest::Response>) -> Result<()>
    + 's;

/// CSV files of at least this many bytes are streamed
/// (`OPLEIDINGSMONITOR_STREAM_BYTES` sets another size: the tests stream
/// small files to compare the two paths).
const STREAM_BYTES: u64 = 16 << 20;

/// Small files read side by side hold at most about this many bytes of
/// exports (each file takes about 15 times its size while it is read).
const GROUP_BYTES: u64 = 64 << 20;

fn stream_bytes() -> u64 {
    std::env::var("OPLEIDINGSMONITOR_STREAM_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(STREAM_BYTES)
}

/// Streams one CSV export into `sink`. A panic while it is read refuses
/// the file as `ingest::ingest_file` does, if no chunk had left yet;
/// after that, the batch cannot take the chunks back: it stops (nothing of
/// it is committed) with the error.
fn streamed(
    file_name: &str,
    path: &Path,
    scan: &ingest::stream::Scan,
    ctx: &Context,
    limits: &ingest::limits::Limits,
    entry: &ManifestEntry,
    sink: &mut Sink,
) -> Result<FileOutcome> {
    let inst = ctx.instrument;
    let mut handed = false;
    let result = ingest::guard::catch(|| {
        if std::env::var("OPLEIDINGSMONITOR_FAIL_AT")
            .is_ok_and(|v| v.strip_prefix("ingest-panic:") == Some(file_name))
        {
            panic!("OPLEIDINGSMONITOR_FAIL_AT=ingest-panic:{file_name}: panicking on purpose");
        }
        ingest::stream::ingest_csv_file(path, scan, ctx, limits, &mut |chunk| {
            handed = true;
            sink(entry, inst, chunk)
        })
    });
    match result {
        Ok(outcome) => outcome,
        Err(caught) if !handed => Ok(ingest::rejected_file(
            ingest::guard::catch(|| ingest::stream::count_rows_lossy(path, ctx)).unwrap_or(0),
            ingest::decode::FileProblem::file(format!(
                "the file could not be read: internal error in {}: {} (at {}); the other files were read. Export the file again; if it fails again, report this message",
                caught.library,
                crate::text::echo(&caught.message),
                caught.location
            )),
        )),
        Err(caught) => Err(Error::io(
            path,
            std::io::Error::other(format!(
                "internal error in {} while the file was streamed: {}; nothing of this batch was committed",
                caught.library, caught.message
            )),
        )),
    }
}

fn no_profile(message: String) -> FileOutcome {
    FileOutcome {
        file_error: Some(message.clone()),
        quarantine: vec![QuarantineRecord {
            source_row: None,
            column: None,
            value: None,
            reason: format!("file rejected: {message}"),
        }],
        ..Default::default()
    }
}
