//! Configuration: the raw TOML file, then the resolved `Config` every stage
//! receives.
//!
//! `RawConfig` is plain serde data and does no I/O. `Config::load` resolves
//! it once: paths are made absolute relative to the config file, the
//! instrument catalogue, registry and source profiles are loaded and checked.
//! Precedence: defaults < file < environment (`OPLEIDINGSMONITOR_KEY`,
//! `OPLEIDINGSMONITOR_KEY_FILE`) < command line. This module owns settings,
//! not what the stages do with them.

use std::path::{Path, PathBuf};

use serde::Deserialize;

mod invitations;
pub mod register;

pub use invitations::{read_invitations, Invitation};
pub use register::{Action, ActionStatus, Register};

use crate::domain::check_floor;
use crate::error::{Error, Result};
use crate::ingest::limits::Limits;
use crate::ingest::profile::Profile;
use crate::instrument::Catalogue;
use crate::org::Registry;

/// Environment variable naming the key file, overriding `paths.key_file`.
pub const KEY_FILE_ENV: &str = "OPLEIDINGSMONITOR_KEY_FILE";

/// The configuration file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Display name of the region or organisation the reports are for.
    #[serde(default)]
    pub title: Option<String>,
    /// Where things are.
    pub paths: RawPaths,
    /// Privacy settings.
    #[serde(default)]
    pub privacy: RawPrivacy,
    /// Scoring settings.
    #[serde(default)]
    pub scoring: RawScoring,
    /// Thresholds of the strengths, improvement points and signals.
    #[serde(default)]
    pub rules: Rules,
    /// Which instrument each RSO is expected to run in which year.
    #[serde(default)]
    pub calendar: Vec<CalendarEntry>,
    /// How large an export may be before ingest refuses it.
    #[serde(default)]
    pub limits: Limits,
    /// Report settings.
    #[serde(default)]
    pub report: RawReport,
}

/// `[rules]`: the region's settings for strengths, improvement points and
/// signals. No official cut-offs exist for any instrument: these defaults
/// are a starting point for the region to set, never a norm.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// Strength when a reliable cell's mean on 0-100 is at least this.
    pub strength_pomp: f64,
    /// Improvement point when a reliable cell's mean on 0-100 is below this.
    pub improvement_pomp: f64,
    /// p below which a difference counts as significant.
    pub significance: f64,
    /// Improvement point when a significant decline has |Hedges' g| at least
    /// this.
    pub decline_effect: f64,
    /// Signal when a response rate is below this.
    pub min_response_rate: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            strength_pomp: 75.0,
            improvement_pomp: 62.5,
            significance: 0.05,
            decline_effect: 0.5,
            min_response_rate: 0.5,
        }
    }
}

/// `[[calendar]]`: an instrument expected every `every` years from `from`,
/// for the listed specialties (all when empty).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CalendarEntry {
    /// Instrument id.
    pub instrument: String,
    /// Every how many years.
    #[serde(default = "one_year")]
    pub every: i32,
    /// First year it is expected.
    pub from: i32,
    /// Specialty codes it applies to; empty: all.
    #[serde(default)]
    pub specialties: Vec<String>,
}

fn one_year() -> i32 {
    1
}

impl CalendarEntry {
    /// Whether the instrument is expected for `specialty` in `year`.
    pub fn expects(&self, specialty: &str, year: i32) -> bool {
        year >= self.from
            && (year - self.from) % self.every.max(1) == 0
            && (self.specialties.is_empty() || self.specialties.iter().any(|s| s == specialty))
    }
}

/// `[report]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    /// Default language, `nl` or `en`.
    pub language: Option<String>,
    /// Folder with templates that replace the built-in ones.
    pub templates: Option<PathBuf>,
    /// Also write every report as an A4 PDF (default false: about a second
    /// of work per report, see BENCHMARKS.md).
    pub pdf: Option<bool>,
}

/// `[paths]`: every path relative to the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaths {
    /// Folder the exports are dropped in.
    #[serde(default = "d_inbox")]
    pub inbox: PathBuf,
    /// Folder of the Parquet dataset.
    #[serde(default = "d_dataset")]
    pub dataset: PathBuf,
    /// Folder the reports are written to.
    #[serde(default = "d_reports")]
    pub reports: PathBuf,
    /// The organisation registry.
    pub registry: PathBuf,
    /// Folder of source profiles.
    pub profiles: PathBuf,
    /// Folder of extra or replacing instrument definitions.
    pub instruments: Option<PathBuf>,
    /// Invitations per instrument, year and department (CSV).
    pub invitations: Option<PathBuf>,
    /// The development plan (CSV): the acties sheet of the quality
    /// register in a file of its own.
    pub development_plan: Option<PathBuf>,
    /// The quality register: a workbook (`kwaliteitsregister.xlsx`) or a
    /// folder with one CSV per sheet.
    pub register: Option<PathBuf>,
    /// The pseudonymisation key file: keep it outside the dataset and
    /// out of version control.
    #[serde(default = "d_key")]
    pub key_file: PathBuf,
}

fn d_inbox() -> PathBuf {
    "inbox".into()
}
fn d_dataset() -> PathBuf {
    "dataset".into()
}
fn d_reports() -> PathBuf {
    "reports".into()
}
fn d_key() -> PathBuf {
    "opleidingsmonitor.key".into()
}

/// `[privacy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrivacy {
    /// Minimum distinct respondents to publish a cell (never below 3).
    #[serde(default = "d_floor")]
    pub floor: u32,
    /// The narrowest interval the published sums may leave a too-small
    /// cell's mean in, as a fraction of its scale range (0: only exact
    /// recovery is prevented).
    #[serde(default = "d_min_interval_width")]
    pub min_interval_width: f64,
}

impl Default for RawPrivacy {
    fn default() -> Self {
        RawPrivacy {
            floor: d_floor(),
            min_interval_width: d_min_interval_width(),
        }
    }
}

fn d_min_interval_width() -> f64 {
    crate::domain::MIN_INTERVAL_WIDTH
}

fn d_floor() -> u32 {
    4
}

/// `[scoring]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScoring {
    /// A subscale score exists when at least this fraction of its items is
    /// answered.
    #[serde(default = "d_half")]
    pub min_answered_fraction: f64,
    /// First year of the first two-year cycle.
    #[serde(default = "d_first")]
    pub first_cycle_year: i32,
}

impl Default for RawScoring {
    fn default() -> Self {
        RawScoring {
            min_answered_fraction: d_half(),
            first_cycle_year: d_first(),
        }
    }
}

fn d_half() -> f64 {
    0.5
}
fn d_first() -> i32 {
    2019
}

/// Resolved paths, all absolute.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The config file itself.
    pub config: PathBuf,
    /// Inbox folder.
    pub inbox: PathBuf,
    /// Dataset folder.
    pub dataset: PathBuf,
    /// Reports folder.
    pub reports: PathBuf,
    /// Registry file.
    pub registry: PathBuf,
    /// Profiles folder.
    pub profiles: PathBuf,
    /// Instrument definitions folder, if any.
    pub instruments: Option<PathBuf>,
    /// Invitations CSV, if any.
    pub invitations: Option<PathBuf>,
    /// Development plan CSV, if any.
    pub development_plan: Option<PathBuf>,
    /// The quality register, if any.
    pub register: Option<PathBuf>,
    /// Key file.
    pub key_file: PathBuf,
}

/// The resolved configuration every stage receives.
#[derive(Debug, Clone)]
pub struct Config {
    /// Display title.
    pub title: String,
    /// Paths.
    pub paths: Paths,
    /// Privacy floor (default for instruments without their own).
    pub privacy_floor: u32,
    /// `privacy.min_interval_width`: the narrowest feasible interval of a
    /// too-small cell's mean, as a fraction of its scale range.
    pub min_interval_width: f64,
    /// Minimum fraction of answered items for a score.
    pub min_answered_fraction: f64,
    /// First year of the first cycle.
    pub first_cycle_year: i32,
    /// Instrument definitions.
    pub catalogue: Catalogue,
    /// Organisation registry.
    pub registry: Registry,
    /// Source profiles.
    pub profiles: Vec<Profile>,
    /// Rule thresholds.
    pub rules: Rules,
    /// The year calendar.
    pub calendar: Vec<CalendarEntry>,
    /// The bounds of one export (`[limits]`).
    pub limits: Limits,
    /// Default report language.
    pub language: String,
    /// Folder of replacing templates, if any.
    pub templates: Option<PathBuf>,
    /// Whether every report is also written as an A4 PDF.
    pub pdf: bool,
    /// The invitations file's rows (empty without one), checked against
    /// the registry.
    pub invitations: Vec<Invitation>,
    /// The quality register (and the development plan's actions in it),
    /// checked against the registry and the instruments.
    pub register: Register,
}

impl Config {
    /// Reads, resolves and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config> {
        Config::resolve(Config::read_raw(path)?, path)
    }

    /// Reads and resolves a configuration file without reading the
    /// quality register (for `register init`, which makes one).
    pub fn load_without_register(path: &Path) -> Result<Config> {
        Config::resolve_with(Config::read_raw(path)?, path, false)
    }

    fn read_raw(path: &Path) -> Result<RawConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            file: path.display().to_string(),
            message: format!("cannot read it: {e}"),
        })?;
        toml::from_str(&text).map_err(|e| Error::Config {
            file: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Resolves a raw configuration read from `path`.
    pub fn resolve(raw: RawConfig, path: &Path) -> Result<Config> {
        Config::resolve_with(raw, path, true)
    }

    fn resolve_with(raw: RawConfig, path: &Path, with_register: bool) -> Result<Config> {
        let file = path.display().to_string();
        let config_path = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
        let base = config_path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let abs = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let key_file = match std::env::var_os(KEY_FILE_ENV) {
            Some(p) => PathBuf::from(p),
            None => abs(&raw.paths.key_file),
        };
        let paths = Paths {
            config: config_path.clone(),
            inbox: abs(&raw.paths.inbox),
            dataset: abs(&raw.paths.dataset),
            reports: abs(&raw.paths.reports),
            registry: abs(&raw.paths.registry),
            profiles: abs(&raw.paths.profiles),
            instruments: raw.paths.instruments.as_deref().map(abs),
            invitations: raw.paths.invitations.as_deref().map(abs),
            development_plan: raw.paths.development_plan.as_deref().map(abs),
            register: raw.paths.register.as_deref().map(abs),
            key_file,
        };
        if paths.key_file.starts_with(&paths.dataset) {
            return Err(Error::Config {
                file,
                message: format!(
                    "key_file {} lies inside the dataset folder: keep the key outside the dataset, or anyone holding the dataset can re-identify people",
                    paths.key_file.display()
                ),
            });
        }
        if let Err(why) = check_floor(raw.privacy.floor) {
            return Err(Error::Config {
                file,
                message: format!("privacy.floor = {why}"),
            });
        }
        let w = raw.privacy.min_interval_width;
        if !(0.0..1.0).contains(&w) {
            return Err(Error::Config {
                file,
                message: format!(
                    "privacy.min_interval_width = {w}: give a fraction of the scale range from 0 (only exact recovery is prevented) to below 1, for example 0.2"
                ),
            });
        }
        if !(raw.scoring.min_answered_fraction > 0.0 && raw.scoring.min_answered_fraction <= 1.0) {
            return Err(Error::Config {
                file,
                message: "scoring.min_answered_fraction must lie in (0, 1]".into(),
            });
        }
        if let Err(why) = raw.limits.check() {
            return Err(Error::Config {
                file,
                message: why.to_string(),
            });
        }
        let catalogue = Catalogue::load(paths.instruments.as_deref())?;
        let registry = Registry::load(&paths.registry)?;
        let profiles = Profile::load_dir(&paths.profiles, &catalogue)?;
        // The plan and invitations are checked now, before any stage runs:
        // a bad row stops the run before anything is written.
        let invitations = match &paths.invitations {
            Some(p) if p.exists() => read_invitations(p, &registry)?,
            _ => Vec::new(),
        };
        let register = if with_register {
            register::load(
                paths.register.as_deref(),
                paths.development_plan.as_deref(),
                &registry,
                &catalogue,
                &raw.limits,
            )?
        } else {
            Register::default()
        };
        let language = raw.report.language.clone().unwrap_or_else(|| "nl".into());
        if language != "nl" && language != "en" {
            return Err(Error::Config {
                file,
                message: format!("report.language {language:?}: use \"nl\" or \"en\""),
            });
        }
        Ok(Config {
            rules: raw.rules,
            limits: raw.limits,
            calendar: raw.calendar,
            language,
            templates: raw.report.templates.as_deref().map(abs),
            pdf: raw.report.pdf.unwrap_or(false),
            title: raw.title.unwrap_or_else(|| "Opleidingsmonitor".into()),
            paths,
            privacy_floor: raw.privacy.floor,
            min_interval_width: raw.privacy.min_interval_width,
            min_answered_fraction: raw.scoring.min_answered_fraction,
            first_cycle_year: raw.scoring.first_cycle_year,
            catalogue,
            registry,
            profiles,
            invitations,
            register,
        })
    }

    /// Whose cycles are which: the region's from `first_cycle_year`, an
    /// RSO's and its departments' from the registry's `cycle_start`.
    pub fn cycles(&self) -> crate::org::Cycles {
        crate::org::Cycles::new(&self.registry, self.first_cycle_year)
    }

    /// The privacy floor of an instrument version (`domain::privacy_floor`
    /// over the region's and the definition's).
    pub fn floor_of(&self, instrument: &str, version: &str) -> u32 {
        crate::domain::privacy_floor(
            self.privacy_floor,
            self.catalogue
                .get(instrument, version)
                .and_then(|i| i.privacy_floor),
        )
    }
}
