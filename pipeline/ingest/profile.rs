//! Source profiles: how one platform's export of one instrument is laid out.
//!
//! A profile is a TOML file the educationalist edits, not code: which files
//! it applies to, the format and encoding, the header layout of the
//! platform, which columns hold the metadata, which columns are items and
//! what the answer labels mean. This module parses and checks profiles and
//! answers "which item is this heading?"; it does not read exports.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::instrument::Catalogue;

/// File format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Delimited text.
    #[default]
    Csv,
    /// Excel workbook.
    Xlsx,
}

/// Text encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// Byte-order mark, else valid UTF-8, else chardetng's guess.
    #[default]
    Auto,
    /// UTF-8 (a BOM is allowed); invalid bytes are an error.
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    /// Windows-1252 (Excel on Dutch Windows).
    #[serde(rename = "windows-1252", alias = "cp1252", alias = "windows1252")]
    Windows1252,
}

/// Header layout of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One header row (at `header_row`), data below.
    #[default]
    Plain,
    /// Qualtrics: export tags, question texts, ImportId JSON; data from row 4.
    Qualtrics,
    /// Qualtrics legacy: export tags and question texts; data from row 3.
    QualtricsLegacy,
    /// LimeSurvey: one header row of codes (`G1Q1[SQ001]`) or full texts
    /// (`Question [subquestion]`).
    Limesurvey,
    /// SurveyMonkey: question row (filled forward over matrix columns) and a
    /// sub-question row; heading becomes `question [sub-question]`.
    Surveymonkey,
}

/// Which column holds which piece of metadata.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// The platform's response id, stable across re-exports.
    pub response_id: Option<String>,
    /// Submission date (or date-time).
    pub submitted_on: String,
    /// Institution name as spelled in the export.
    pub institution: Option<String>,
    /// Specialty as spelled in the export.
    pub specialty: Option<String>,
    /// Respondent identifier (name, e-mail, number): pseudonymised.
    pub respondent: Option<String>,
    /// Rated supervisor identifier: pseudonymised.
    pub subject: Option<String>,
    /// Respondent role.
    pub role: Option<String>,
    /// Other identifying columns: read by nobody, never written.
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Columns to ignore (glob patterns such as `Location*`).
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// Values used when the export has no column for them.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Institution spelling for every row.
    pub institution: Option<String>,
    /// Specialty spelling for every row.
    pub specialty: Option<String>,
    /// Role for every row (default `aios`).
    pub role: Option<String>,
}

/// A heading pattern mapped to an item id template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemPattern {
    /// Regular expression on the heading; its first group is the number.
    pub regex: String,
    /// Item id with `{1}` (or zero-padded `{1:02}`) for the first group.
    pub item: String,
}

/// An answer label's meaning.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    /// A scale value.
    Value(f64),
    /// `"na"`: not applicable.
    Code(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: Option<String>,
    #[serde(default)]
    description: String,
    instrument: String,
    version: String,
    files: Vec<String>,
    #[serde(default)]
    format: Format,
    #[serde(default)]
    encoding: Encoding,
    #[serde(default = "auto")]
    delimiter: String,
    #[serde(default)]
    decimal_comma: bool,
    #[serde(default)]
    layout: Layout,
    #[serde(default = "one")]
    header_row: u32,
    sheet: Option<String>,
    #[serde(default = "default_date_formats")]
    date_formats: Vec<String>,
    #[serde(default)]
    not_applicable: Vec<String>,
    columns: Columns,
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    items: BTreeMap<String, String>,
    #[serde(default)]
    item_patterns: Vec<ItemPattern>,
    #[serde(default)]
    answers: BTreeMap<String, Answer>,
    #[serde(default)]
    roles: BTreeMap<String, String>,
}

fn auto() -> String {
    "auto".into()
}
fn one() -> u32 {
    1
}
fn default_date_formats() -> Vec<String> {
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
        "%d-%m-%Y %H:%M:%S",
        "%d-%m-%Y %H:%M",
        "%d-%m-%Y",
        // SurveyMonkey's US form carries AM/PM, which makes it unambiguous;
        // other slashed dates are read the Dutch way, day first.
        "%m/%d/%Y %I:%M:%S %p",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// A checked source profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Profile id (the file stem unless set).
    pub id: String,
    /// What the profile is for.
    pub description: String,
    /// Where it was read from.
    pub file: String,
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub version: String,
    /// File-name patterns this profile applies to.
    pub files: Vec<glob::Pattern>,
    /// CSV or XLSX.
    pub format: Format,
    /// Text encoding.
    pub encoding: Encoding,
    /// Delimiter, or `None` to sniff it.
    pub delimiter: Option<u8>,
    /// Numbers are written with a decimal comma (`4,5`).
    pub decimal_comma: bool,
    /// Header layout.
    pub layout: Layout,
    /// 1-based row of the (first) header row.
    pub header_row: u32,
    /// XLSX sheet name (default: the first sheet).
    pub sheet: Option<String>,
    /// chrono formats tried in order for the submission date.
    pub date_formats: Vec<String>,
    /// Extra not-applicable codes, on top of the instrument's.
    pub not_applicable: Vec<String>,
    /// Metadata columns.
    pub columns: Columns,
    /// Values for columns the export lacks.
    pub defaults: Defaults,
    items: BTreeMap<String, String>,
    item_patterns: Vec<(Regex, String)>,
    ignore: Vec<glob::Pattern>,
    /// Answer labels (lower-cased) and what they mean (`None`: not applicable).
    pub answers: BTreeMap<String, Option<f64>>,
    /// Export role labels (lower-cased) to roles.
    pub roles: BTreeMap<String, String>,
}

/// What one heading of an export is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    /// Platform response id.
    ResponseId,
    /// Submission date.
    SubmittedOn,
    /// Institution.
    Institution,
    /// Specialty.
    Specialty,
    /// Respondent identifier.
    Respondent,
    /// Rated supervisor identifier.
    Subject,
    /// Respondent role.
    Role,
    /// Identifying column never read.
    Identifier,
    /// Ignored column.
    Ignored,
    /// An item with this id.
    Item(String),
    /// Nothing the profile knows.
    Unknown,
}

impl Profile {
    /// Parses and checks one profile against the instrument catalogue.
    pub fn from_toml(text: &str, file: &Path, catalogue: &Catalogue) -> Result<Profile> {
        let name = file.display().to_string();
        let fail = |message: String| Error::Profile {
            file: name.clone(),
            message,
        };
        let raw: RawProfile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        let inst = catalogue
            .get(&raw.instrument, &raw.version)
            .ok_or_else(|| {
                fail(format!(
                    "instrument {:?} version {:?} is not defined; known: {}",
                    raw.instrument,
                    raw.version,
                    catalogue
                        .iter()
                        .map(|i| i.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let delimiter = match raw.delimiter.as_str() {
            "auto" => None,
            "," => Some(b','),
            ";" => Some(b';'),
            "\t" | "tab" => Some(b'\t'),
            "|" => Some(b'|'),
            other => {
                return Err(fail(format!(
                    "delimiter {other:?} is not one of \"auto\", \",\", \";\", \"tab\", \"|\""
                )))
            }
        };
        if raw.header_row == 0 {
            return Err(fail("header_row counts from 1".into()));
        }
        let pattern = |p: &str, what: &str| {
            glob::Pattern::new(p).map_err(|e| fail(format!("{what} pattern {p:?}: {e}")))
        };
        let files = raw
            .files
            .iter()
            .map(|p| pattern(p, "files"))
            .collect::<Result<Vec<_>>>()?;
        let ignore = raw
            .columns
            .ignore
            .iter()
            .map(|p| pattern(p, "columns.ignore"))
            .collect::<Result<Vec<_>>>()?;
        for (heading, item) in &raw.items {
            if inst.item(item).is_none() {
                return Err(fail(format!(
                    "[items] maps {heading:?} to {item:?}, which is not an item of {}",
                    inst.key()
                )));
            }
        }
        let mut item_patterns = Vec::new();
        for p in &raw.item_patterns {
            let re = Regex::new(&p.regex)
                .map_err(|e| fail(format!("item_patterns regex {:?}: {e}", p.regex)))?;
            if re.captures_len() < 2 && (p.item.contains("{1")) {
                return Err(fail(format!(
                    "item_patterns regex {:?} has no group for {{1}} in {:?}",
                    p.regex, p.item
                )));
            }
            item_patterns.push((re, p.item.clone()));
        }
        let mut answers = BTreeMap::new();
        for (label, a) in raw.answers {
            let v = match a {
                Answer::Value(v) => Some(v),
                Answer::Code(c) if c.eq_ignore_ascii_case("na") => None,
                Answer::Code(c) => {
                    return Err(fail(format!(
                        "[answers] {label:?} = {c:?}: give a number or \"na\" (not applicable)"
                    )))
                }
            };
            answers.insert(label.trim().to_lowercase(), v);
        }
        let id = raw.id.unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        Ok(Profile {
            id,
            description: raw.description,
            file: name,
            instrument: raw.instrument,
            version: raw.version,
            files,
            format: raw.format,
            encoding: raw.encoding,
            delimiter,
            decimal_comma: raw.decimal_comma,
            layout: raw.layout,
            header_row: raw.header_row,
            sheet: raw.sheet,
            date_formats: raw.date_formats,
            not_applicable: raw.not_applicable,
            columns: raw.columns,
            defaults: raw.defaults,
            items: raw.items,
            item_patterns,
            ignore,
            answers,
            roles: raw
                .roles
                .into_iter()
                .map(|(k, v)| (k.trim().to_lowercase(), v))
                .collect(),
        })
    }

    /// Reads every `*.toml` profile of a folder.
    pub fn load_dir(dir: &Path, catalogue: &Catalogue) -> Result<Vec<Profile>> {
        let mut out = Vec::new();
        for path in crate::instrument::toml_files(dir)? {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            out.push(Profile::from_toml(&text, &path, catalogue)?);
        }
        let mut seen = std::collections::HashSet::new();
        for p in &out {
            if !seen.insert(p.id.clone()) {
                return Err(Error::Profile {
                    file: p.file.clone(),
                    message: format!("profile id {:?} is used by two files", p.id),
                });
            }
        }
        Ok(out)
    }

    /// Whether this profile applies to a file name.
    pub fn matches(&self, file_name: &str) -> bool {
        let opts = glob::MatchOptions {
            case_sensitive: false,
            ..Default::default()
        };
        self.files.iter().any(|p| p.matches_with(file_name, opts))
    }

    /// What a heading is. Metadata columns win over item mappings.
    pub fn column_role(&self, heading: &str) -> ColumnRole {
        let h = heading.trim();
        let c = &self.columns;
        let is = |o: &Option<String>| o.as_deref().is_some_and(|n| n.trim() == h);
        if is(&c.response_id) {
            return ColumnRole::ResponseId;
        }
        if c.submitted_on.trim() == h {
            return ColumnRole::SubmittedOn;
        }
        if is(&c.institution) {
            return ColumnRole::Institution;
        }
        if is(&c.specialty) {
            return ColumnRole::Specialty;
        }
        if is(&c.respondent) {
            return ColumnRole::Respondent;
        }
        if is(&c.subject) {
            return ColumnRole::Subject;
        }
        if is(&c.role) {
            return ColumnRole::Role;
        }
        if c.identifiers.iter().any(|i| i.trim() == h) {
            return ColumnRole::Identifier;
        }
        if let Some(item) = self.items.get(h) {
            return ColumnRole::Item(item.clone());
        }
        for (re, template) in &self.item_patterns {
            if let Some(caps) = re.captures(h) {
                return ColumnRole::Item(fill_template(template, &caps));
            }
        }
        if self.ignore.iter().any(|p| p.matches(h)) {
            return ColumnRole::Ignored;
        }
        ColumnRole::Unknown
    }

    /// The meaning of an answer label from `[answers]`, if it has one:
    /// `Some(Some(v))` a value, `Some(None)` not applicable.
    pub fn answer(&self, text: &str) -> Option<Option<f64>> {
        if self.answers.is_empty() {
            return None;
        }
        let key = crate::text::lowercase(crate::text::trim(text));
        self.answers.get(key.as_ref()).copied()
    }

    /// Whether the text is one of the profile's extra not-applicable codes.
    pub fn is_not_applicable(&self, text: &str) -> bool {
        let t = crate::text::trim(text);
        self.not_applicable
            .iter()
            .any(|n| crate::text::trim(n).eq_ignore_ascii_case(t))
    }

    /// The role for an export's role label (identity when not mapped).
    pub fn role(&self, label: &str) -> String {
        let l = label.trim().to_lowercase();
        self.roles.get(&l).cloned().unwrap_or(l)
    }
}

/// Replaces `{1}` / `{1:02}` in an item id template with the first group,
/// read as a number when padding is asked for.
fn fill_template(template: &str, caps: &regex::Captures) -> String {
    let group = caps.get(1).map(|m| m.as_str()).unwrap_or("");
    static PLACEHOLDER: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"\{1(?::0(\d+))?\}").expect("static regex"));
    PLACEHOLDER
        .replace_all(template, |c: &regex::Captures| match c.get(1) {
            Some(width) => {
                let w: usize = width.as_str().parse().unwrap_or(0);
                match group.parse::<u64>() {
                    Ok(n) => format!("{n:0w$}"),
                    Err(_) => group.to_string(),
                }
            }
            None => group.to_string(),
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(extra: &str) -> Result<Profile> {
        let cat = Catalogue::load(None).unwrap();
        let text = format!(
            r#"
instrument = "d-rect"
version = "2016"
files = ["drect_*.csv"]
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
ignore = ["Location*"]
[[item_patterns]]
regex = '^DRECT\[SQ0*(\d+)\]$'
item = "d16_q{{1:02}}"
{extra}
"#
        );
        Profile::from_toml(&text, Path::new("p/limesurvey.toml"), &cat)
    }

    #[test]
    fn headings_map_to_items_and_metadata() {
        let p = profile("").unwrap();
        assert_eq!(p.id, "limesurvey");
        assert_eq!(
            p.column_role("DRECT[SQ007]"),
            ColumnRole::Item("d16_q07".into())
        );
        assert_eq!(p.column_role(" Datum "), ColumnRole::SubmittedOn);
        assert_eq!(p.column_role("LocationLatitude"), ColumnRole::Ignored);
        assert_eq!(p.column_role("Q99"), ColumnRole::Unknown);
        assert!(p.matches("DRECT_2024.csv"));
        assert!(!p.matches("setq_2024.csv"));
    }

    #[test]
    fn unknown_item_in_mapping_is_refused() {
        let err = profile("[items]\n\"X\" = \"d16_q99\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("d16_q99") && err.contains("limesurvey.toml"),
            "{err}"
        );
    }

    #[test]
    fn answers_accept_values_and_na() {
        let p = profile("[answers]\n\"Helemaal mee eens\" = 5\n\"n.v.t.\" = \"na\"").unwrap();
        assert_eq!(p.answer("helemaal MEE eens"), Some(Some(5.0)));
        assert_eq!(p.answer("N.V.T."), Some(None));
        assert_eq!(p.answer("misschien"), None);
        let err = profile("[answers]\n\"x\" = \"maybe\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"na\""), "{err}");
    }
}
