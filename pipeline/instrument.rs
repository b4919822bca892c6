//! Instrument definitions: one TOML file per instrument version.
//!
//! This module owns the catalogue of questionnaires (D-RECT, SETQ, MCTQ,
//! EFFECT, exit surveys): their items, subscales, response scale,
//! not-applicable codes, reverse-keyed items, what is rated and the minimum
//! numbers of raters, each with its source. The definitions shipped in
//! `instruments/` are embedded in the binary as defaults; a user's
//! `instruments` folder adds versions or replaces shipped ones with the same
//! `id` and `version`. A new version or a local exit survey is a new file,
//! never new code.
//!
//! It does not know about export layouts (see `ingest::profile`) nor about
//! scoring rules (see `score`): it only describes what a questionnaire is.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The definition files shipped with the project, embedded at compile time.
/// Order does not matter; ids and versions come from the files themselves.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "d-rect-2011.toml",
        include_str!("../instruments/d-rect-2011.toml"),
    ),
    (
        "d-rect-2016.toml",
        include_str!("../instruments/d-rect-2016.toml"),
    ),
    (
        "setq-2009.toml",
        include_str!("../instruments/setq-2009.toml"),
    ),
    (
        "setq-smart-2016.toml",
        include_str!("../instruments/setq-smart-2016.toml"),
    ),
    (
        "setq-smart-7pt.toml",
        include_str!("../instruments/setq-smart-7pt.toml"),
    ),
    (
        "mctq-2010.toml",
        include_str!("../instruments/mctq-2010.toml"),
    ),
    (
        "effect-2012.toml",
        include_str!("../instruments/effect-2012.toml"),
    ),
    (
        "exit-example.toml",
        include_str!("../instruments/exit-example.toml"),
    ),
];

/// What one questionnaire form is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rated {
    /// The learning climate of the department (D-RECT, exit surveys).
    Department,
    /// One supervisor per form (SETQ, EFFECT, MCTQ).
    Supervisor,
}

/// How an item is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A point on the instrument's response scale.
    #[default]
    Likert,
    /// A grade on the item's own scale (e.g. 1-10).
    Grade,
    /// An open answer; goes to the comments table, never scored.
    Text,
}

/// A labelled point of the response scale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleLabel {
    /// The value the label stands for.
    pub value: f64,
    /// Dutch label, as on the form.
    pub nl: String,
    /// English label.
    pub en: String,
}

/// The response scale shared by the instrument's Likert items.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Lowest point.
    pub min: f64,
    /// Highest point.
    pub max: f64,
    /// Where the scale comes from.
    #[serde(default)]
    pub source: String,
    /// Answer codes or labels that mean "not applicable" (matched
    /// case-insensitively after trimming); they are stored with a null value.
    #[serde(default)]
    pub not_applicable: Vec<String>,
    /// Labels of the scale points, Dutch and English.
    #[serde(default)]
    pub labels: Vec<ScaleLabel>,
}

/// A subscale (domain, factor, quality) of an instrument.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscale {
    /// Stable id; the same id in two versions means the same subscale.
    pub id: String,
    /// Construct key that links versions for trends.
    pub construct: String,
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
    /// Minimum distinct respondents for a reliable score.
    pub reliability_min: u32,
    /// Whether the subscale's items count towards the total score.
    #[serde(default = "yes")]
    pub in_total: bool,
    /// Whether the subscale applies only in some settings.
    #[serde(default)]
    pub optional: bool,
    /// Where the subscale and its items come from.
    #[serde(default)]
    pub source: String,
    /// Whether the file's item-to-subscale table for this subscale was
    /// checked against the instrument's own item table (the licensed or
    /// published form, named in `source`). `false`, the default, means the
    /// items assigned to it are a placeholder: its scores are computed, but
    /// every report that shows them says they are provisional. The default
    /// is the safe side: a file that does not claim a verified table gets
    /// the disclosure, never silent trust.
    #[serde(default)]
    pub items_verified: bool,
}

fn yes() -> bool {
    true
}

/// A short name of an item for reports (a chart row, a table cell), in
/// Dutch and English: a few words, never the licensed item wording.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemLabel {
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
}

/// One item (question) of an instrument.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable item id, unique within the instrument version.
    pub id: String,
    /// The subscale this item belongs to.
    pub subscale: String,
    /// How it is answered.
    #[serde(default)]
    pub kind: ItemKind,
    /// Reverse-keyed: stored as `min + max - answer`.
    #[serde(default)]
    pub reverse: bool,
    /// Own scale minimum (grades only).
    pub min: Option<f64>,
    /// Own scale maximum (grades only).
    pub max: Option<f64>,
    /// English text where the source publishes it.
    pub en: Option<String>,
    /// Dutch text where the source publishes it.
    pub nl: Option<String>,
    /// A short label reports name the item by. Give it only where the
    /// file holds the item's own wording (a region's own survey) or a
    /// published text it summarises; without it a report names the item
    /// by its subscale and its place there ("Teamwork, item 2", see
    /// [`Instrument::item_position`]), so no wording is invented.
    pub label: Option<ItemLabel>,
    /// Open answers only: the part of a report they are shown in, `tops`
    /// (what went well) or `tips` (what could be better); other open
    /// answers are kept in the dataset but not shown.
    pub report_as: Option<String>,
}

/// How reports name and order an instrument (the `[display]` table).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Display {
    /// The name reports use (`D-RECT`); default: the id.
    pub name: Option<String>,
    /// The name in English reports, when it differs.
    pub name_en: Option<String>,
    /// Position among the instruments in a report (lowest first; default
    /// 99, then by id).
    pub order: Option<u32>,
}

/// One instrument version, as read from its definition file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Instrument id (`d-rect`, `setq`, ...): the dataset partition key.
    pub id: String,
    /// Version label (`2011`, `smart-2016`, ...).
    pub version: String,
    /// Display name.
    pub name: String,
    /// What one form rates.
    pub rated: Rated,
    /// Roles that fill in this form.
    pub respondent_roles: Vec<String>,
    /// Minimum distinct respondents for a reliable total score.
    pub reliability_min: u32,
    /// Minimum respondents to publish, overriding the region's default.
    pub privacy_floor: Option<u32>,
    /// Full citations for the facts in the file.
    pub sources: Vec<String>,
    /// What is confirmed and what is a placeholder.
    #[serde(default)]
    pub notes: String,
    /// The response scale.
    pub scale: Scale,
    /// Subscales in report order.
    pub subscales: Vec<Subscale>,
    /// Items in form order.
    pub items: Vec<Item>,
    /// How reports name and order the instrument.
    #[serde(default)]
    pub display: Display,
    /// Where the definition was read from (a path, or `embedded:<file>`).
    #[serde(skip)]
    pub origin: String,
}

impl Instrument {
    /// Parses and checks one definition; `origin` names it in messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Instrument> {
        let mut inst: Instrument = toml::from_str(text).map_err(|e| Error::Definition {
            file: origin.to_string(),
            message: e.to_string(),
        })?;
        inst.origin = origin.to_string();
        inst.check()?;
        Ok(inst)
    }

    fn check(&self) -> Result<()> {
        let fail = |message: String| {
            Err(Error::Definition {
                file: self.origin.clone(),
                message,
            })
        };
        let id_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        // Every message names the field as it is written in the file
        // (`[[items]] "q3": subscale = "b"`), so the line is found by search.
        if !id_ok(&self.id) {
            return fail(format!(
                "field `id` = {:?}: use lowercase letters, digits and '-' only (it names the dataset's partition folder)",
                self.id
            ));
        }
        if self.version.is_empty() || self.version.contains(['/', '\\', '=']) {
            return fail(format!(
                "field `version` = {:?}: give a non-empty version without / \\ or = (it is part of file names)",
                self.version
            ));
        }
        if self.scale.min >= self.scale.max {
            return fail(format!(
                "[scale]: `min` = {} must be below `max` = {}",
                self.scale.min, self.scale.max
            ));
        }
        if let Some(l) = self
            .scale
            .labels
            .iter()
            .find(|l| l.value < self.scale.min || l.value > self.scale.max)
        {
            return fail(format!(
                "[scale]: label {:?} has `value` = {}, outside `min` = {} .. `max` = {}",
                l.nl, l.value, self.scale.min, self.scale.max
            ));
        }
        let mut subs = HashSet::new();
        for s in &self.subscales {
            if s.items_verified && s.source.trim().is_empty() {
                return fail(format!(
                    "[[subscales]] {:?}: `items_verified` = true needs a `source` naming the item table it was checked against",
                    s.id
                ));
            }
            if s.id == "total" {
                return fail(
                    "[[subscales]]: `id` = \"total\" is not allowed: that id is the total score; choose another".into(),
                );
            }
            if !subs.insert(s.id.as_str()) {
                return fail(format!(
                    "[[subscales]]: `id` = {:?} is defined twice: give each subscale its own id",
                    s.id
                ));
            }
        }
        let mut items = HashSet::new();
        let mut used = HashSet::new();
        for it in &self.items {
            if let Some(l) = &it.label {
                if l.nl.trim().is_empty() || l.en.trim().is_empty() {
                    return fail(format!(
                        "[[items]] {:?}: `label` needs both `nl` and `en`, each a few words",
                        it.id
                    ));
                }
            }
            if !items.insert(it.id.as_str()) {
                return fail(format!(
                    "[[items]]: `id` = {:?} is defined twice: give each item its own id",
                    it.id
                ));
            }
            if !subs.contains(it.subscale.as_str()) {
                return fail(format!(
                    "[[items]] {:?}: `subscale` = {:?} is not defined; add a [[subscales]] entry with that id",
                    it.id, it.subscale
                ));
            }
            used.insert(it.subscale.as_str());
            if it.kind == ItemKind::Grade && (it.min.is_none() || it.max.is_none()) {
                return fail(format!(
                    "[[items]] {:?}: `kind` = \"grade\" needs the item's own `min` and `max` (e.g. 1 and 10)",
                    it.id
                ));
            }
        }
        for s in &self.subscales {
            if !used.contains(s.id.as_str()) {
                return fail(format!(
                    "[[subscales]] {:?} has no items: give items `subscale` = {:?}, or remove the subscale",
                    s.id, s.id
                ));
            }
        }
        if let Some(floor) = self.privacy_floor {
            if let Err(why) = crate::domain::check_floor(floor) {
                return fail(format!("field `privacy_floor` = {why}"));
            }
        }
        Ok(())
    }

    /// The name reports use, in `lang` (`nl` or `en`).
    pub fn display_name(&self, lang: &str) -> &str {
        let en = self.display.name_en.as_deref().filter(|_| lang == "en");
        en.or(self.display.name.as_deref()).unwrap_or(&self.id)
    }

    /// Where reports put the instrument among others (lower first).
    pub fn display_order(&self) -> u32 {
        self.display.order.unwrap_or(99)
    }

    /// The subscale of the instrument's grade item (an exit survey's 1-10
    /// grade), if it has one.
    pub fn grade_subscale(&self) -> Option<&str> {
        self.items
            .iter()
            .find(|i| i.kind == ItemKind::Grade)
            .map(|i| i.subscale.as_str())
    }

    /// The open-answer items a report shows as `part` (`tops`, `tips`).
    pub fn open_items<'a>(&'a self, part: &'a str) -> impl Iterator<Item = &'a Item> {
        self.items
            .iter()
            .filter(move |i| i.kind == ItemKind::Text && i.report_as.as_deref() == Some(part))
    }

    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// An item's place among the items of its subscale, from 1, in form
    /// order: what names an item that has no `label` ("Teamwork, item 2").
    pub fn item_position(&self, item: &Item) -> usize {
        self.items
            .iter()
            .filter(|i| i.subscale == item.subscale)
            .position(|i| i.id == item.id)
            .map_or(0, |p| p + 1)
    }

    /// The subscale with this id.
    pub fn subscale(&self, id: &str) -> Option<&Subscale> {
        self.subscales.iter().find(|s| s.id == id)
    }

    /// The scale an item's values are on: its own for grades, else the
    /// instrument's.
    pub fn item_scale(&self, item: &Item) -> (f64, f64) {
        match (item.kind, item.min, item.max) {
            (ItemKind::Grade, Some(lo), Some(hi)) => (lo, hi),
            _ => (self.scale.min, self.scale.max),
        }
    }

    /// Whether an answer text means "not applicable" for this instrument.
    pub fn is_not_applicable(&self, answer: &str) -> bool {
        let a = crate::text::trim(answer);
        self.scale
            .not_applicable
            .iter()
            .any(|na| crate::text::trim(na).eq_ignore_ascii_case(a))
    }

    /// The value of a scale label (Dutch or English, case-insensitive).
    pub fn label_value(&self, answer: &str) -> Option<f64> {
        use crate::text::trim;
        let a = trim(answer);
        self.scale
            .labels
            .iter()
            .find(|l| trim(&l.nl).eq_ignore_ascii_case(a) || trim(&l.en).eq_ignore_ascii_case(a))
            .map(|l| l.value)
    }

    /// The subscales whose item-to-subscale table is not verified
    /// (`items_verified = false`), in report order. Their scores rest on a
    /// placeholder table; the total does not depend on it where they all
    /// count towards the total (see [`Instrument::total_unaffected`]).
    pub fn unverified(&self) -> Vec<&str> {
        self.subscales
            .iter()
            .filter(|s| !s.items_verified)
            .map(|s| s.id.as_str())
            .collect()
    }

    /// Whether the total score is the same whatever the true division of
    /// the items over the unverified subscales: true when every unverified
    /// subscale counts towards the total, since the total is the mean over
    /// all items of the subscales in the total.
    pub fn total_unaffected(&self) -> bool {
        self.subscales
            .iter()
            .filter(|s| !s.items_verified)
            .all(|s| s.in_total)
    }

    /// `id@version`, how an instrument version is named in messages.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// All instrument versions known to a run, keyed by (id, version).
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    versions: BTreeMap<(String, String), Instrument>,
}

impl Catalogue {
    /// The embedded defaults, then every `*.toml` in `user_dir` (if given),
    /// which replaces a default with the same id and version.
    pub fn load(user_dir: Option<&Path>) -> Result<Catalogue> {
        let mut cat = Catalogue::default();
        for (name, text) in EMBEDDED {
            cat.insert(Instrument::from_toml(text, &format!("embedded:{name}"))?);
        }
        if let Some(dir) = user_dir {
            for path in toml_files(dir)? {
                let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                cat.insert(Instrument::from_toml(&text, &path.display().to_string())?);
            }
        }
        Ok(cat)
    }

    fn insert(&mut self, inst: Instrument) {
        self.versions
            .insert((inst.id.clone(), inst.version.clone()), inst);
    }

    /// One instrument version.
    pub fn get(&self, id: &str, version: &str) -> Option<&Instrument> {
        self.versions.get(&(id.to_string(), version.to_string()))
    }

    /// The construct a subscale measures, which links versions: `total` for
    /// the total, the subscale id itself where the catalogue has none.
    pub fn construct<'a>(&'a self, instrument: &str, version: &str, scale: &'a str) -> &'a str {
        if scale == crate::domain::TOTAL {
            return crate::domain::TOTAL;
        }
        self.get(instrument, version)
            .and_then(|i| i.subscale(scale))
            .map_or(scale, |s| s.construct.as_str())
    }

    /// The ids of an instrument version's subscales whose item table is an
    /// unverified placeholder (`items_verified = false`), in report order;
    /// empty for a version the catalogue does not hold. Reports that show
    /// these subscales say once that their scores are provisional.
    pub fn unverified(&self, instrument: &str, version: &str) -> Vec<String> {
        self.get(instrument, version)
            .map(|i| i.unverified().into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Every version, ordered by id then version.
    pub fn iter(&self) -> impl Iterator<Item = &Instrument> {
        self.versions.values()
    }
}

/// The `*.toml` files of a folder, sorted by name. A missing folder is an
/// error: the configuration named it.
pub fn toml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_loads_and_matches_published_item_counts() {
        let cat = Catalogue::load(None).unwrap();
        // Counts from the papers cited in the files: Boor 2011 (50 items, 11
        // subscales), Silkens 2016 (35, 9), Lombarts 2009 / van der Leeuw 2011
        // (22 items in 5 scales), SETQ smart 2016 (25 items, 6 qualities),
        // Fluit 2012 (58 items, 7 domains).
        let likert = |id: &str, v: &str| {
            cat.get(id, v)
                .unwrap_or_else(|| panic!("{id}@{v} missing"))
                .items
                .iter()
                .filter(|i| i.kind == ItemKind::Likert)
                .count()
        };
        assert_eq!(likert("d-rect", "2011"), 50);
        assert_eq!(cat.get("d-rect", "2011").unwrap().subscales.len(), 11);
        assert_eq!(likert("d-rect", "2016"), 35);
        assert_eq!(cat.get("d-rect", "2016").unwrap().subscales.len(), 9);
        let setq = cat.get("setq", "2009").unwrap();
        let core: usize = setq
            .items
            .iter()
            .filter(|i| setq.subscale(&i.subscale).unwrap().in_total)
            .count();
        assert_eq!(core, 22);
        assert_eq!(likert("setq", "smart-2016"), 25);
        assert_eq!(cat.get("setq", "smart-7pt").unwrap().scale.max, 7.0);
        assert_eq!(likert("effect", "2012"), 58);
        let effect = cat.get("effect", "2012").unwrap();
        assert_eq!(effect.subscales.len(), 7);
        assert_eq!(effect.subscales.iter().filter(|s| s.optional).count(), 1);
        let exit = cat.get("exit", "example").unwrap();
        assert!(exit.items.iter().any(|i| i.kind == ItemKind::Grade));
        assert_eq!(
            exit.items
                .iter()
                .filter(|i| i.kind == ItemKind::Text)
                .count(),
            2
        );
        for inst in cat.iter() {
            assert!(!inst.sources.is_empty(), "{} cites no source", inst.key());
        }
    }

    #[test]
    fn placeholder_item_tables_are_marked_as_the_files_notes_say() {
        let cat = Catalogue::load(None).unwrap();
        let un = |i: &str, v: &str| cat.unverified(i, v);
        // D-RECT 2011: a source shows supervision's items (1-3) only;
        // coaching and assessment lacks item 12's place, the rest are blocks.
        let d11 = un("d-rect", "2011");
        assert_eq!(d11.len(), 10, "{d11:?}");
        assert!(!d11.contains(&"supervision".to_string()));
        assert_eq!(d11[0], "coaching_assessment");
        assert_eq!(un("d-rect", "2016").len(), 9);
        // SETQ 2009: Q01-Q19 in van der Leeuw 2011 Table 2; Q21-Q22 inferred.
        assert_eq!(un("setq", "2009"), ["feedback"]);
        assert_eq!(un("setq", "smart-2016").len(), 6);
        assert_eq!(un("setq", "smart-7pt").len(), 6);
        assert_eq!(un("effect", "2012").len(), 7);
        assert_eq!(
            un("mctq", "2010"),
            [
                "modelling",
                "coaching",
                "articulation",
                "exploration",
                "safe_learning_environment"
            ]
        );
        assert!(un("exit", "example").is_empty());
        assert!(un("no-such", "1").is_empty());
        // Every unverified subscale counts towards its total, so no total
        // rests on a placeholder division.
        for inst in cat.iter() {
            assert!(inst.total_unaffected(), "{}", inst.key());
        }
    }

    #[test]
    fn the_corrections_from_the_sources_are_applied() {
        let cat = Catalogue::load(None).unwrap();
        // EFFECT: five points in the Dutch version (Fluit 2015, AHSE).
        let effect = cat.get("effect", "2012").unwrap();
        assert_eq!((effect.scale.min, effect.scale.max), (1.0, 5.0));
        assert!(effect
            .sources
            .iter()
            .any(|s| s.contains("10.1007/s10459-014-9559-8")));
        // D-RECT 2011, subscale 3: 'observatieformulieren' (ROGO Oost).
        let d11 = cat.get("d-rect", "2011").unwrap();
        assert_eq!(d11.subscales[2].id, "feedback");
        assert_eq!(d11.subscales[2].nl, "Observatieformulieren");
        assert_eq!(d11.subscales[2].en, "Feedback");
        // SETQ 2009: the Dutch names of NTvG 2010.
        let setq: Vec<&str> = cat
            .get("setq", "2009")
            .unwrap()
            .subscales
            .iter()
            .map(|s| s.nl.as_str())
            .collect();
        assert_eq!(
            setq,
            [
                "Opleidingsklimaat",
                "Bejegening van de aios",
                "Communicatie over leerdoelen",
                "Toetsing van de aios",
                "Feedback aan de aios"
            ]
        );
    }

    #[test]
    fn a_table_is_unverified_unless_the_file_says_so_and_names_its_source() {
        let file = |extra: &str, source: &str| {
            format!(
                r#"
id = "x"
version = "1"
name = "X"
rated = "department"
respondent_roles = ["aios"]
reliability_min = 3
sources = ["none"]
[scale]
min = 1
max = 5
labels = [{{ value = 5, nl = "hoog", en = "high" }}]
[[subscales]]
id = "a"
construct = "a"
nl = "A"
en = "A"
reliability_min = 3
source = "{source}"
{extra}
[[subscales]]
id = "b"
construct = "b"
nl = "B"
en = "B"
reliability_min = 3
[[items]]
id = "q1"
subscale = "a"
[[items]]
id = "q2"
subscale = "b"
"#
            )
        };
        // No field: both subscales are placeholders.
        let inst = Instrument::from_toml(&file("", "Table 1"), "x.toml").unwrap();
        assert_eq!(inst.unverified(), ["a", "b"]);
        let inst =
            Instrument::from_toml(&file("items_verified = true", "Table 1"), "x.toml").unwrap();
        assert_eq!(inst.unverified(), ["b"]);
        let err = Instrument::from_toml(&file("items_verified = true", " "), "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("items_verified") && err.contains("\"a\""),
            "{err}"
        );
        // A scale label outside the scale (a 6 on a 1-5 scale) is refused.
        let six = file("", "Table 1").replace("value = 5", "value = 6");
        let err = Instrument::from_toml(&six, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside"), "{err}");
    }

    #[test]
    fn items_carry_a_short_label_only_where_the_file_has_their_wording() {
        let cat = Catalogue::load(None).unwrap();
        // The fictional exit survey is its own item table: every item has
        // a short label in both languages.
        let exit = cat.get("exit", "example").unwrap();
        assert!(exit.items.iter().all(|i| i.label.is_some()));
        let q08 = exit.item("exit_q08").unwrap().label.as_ref().unwrap();
        assert_eq!(
            (q08.nl.as_str(), q08.en.as_str()),
            ("Bruikbare feedback", "Useful feedback")
        );
        // The licensed forms ship no wording, so no labels: reports name
        // their items by subscale and place.
        for (id, v) in [
            ("d-rect", "2016"),
            ("d-rect", "2011"),
            ("setq", "smart-7pt"),
            ("effect", "2012"),
        ] {
            let inst = cat.get(id, v).unwrap();
            assert!(inst.items.iter().all(|i| i.label.is_none()), "{id}@{v}");
            assert!(inst.notes.contains("ITEM LABELS"), "{id}@{v} notes say why");
        }
        // D-RECT 2016 teamwork holds d16_q01..q04 (the file's blocks): q02
        // is its second item; handover's first item is its first.
        let d16 = cat.get("d-rect", "2016").unwrap();
        assert_eq!(d16.item_position(d16.item("d16_q02").unwrap()), 2);
        let first_handover = d16.items.iter().find(|i| i.subscale == "handover").unwrap();
        assert_eq!(d16.item_position(first_handover), 1);
        // A label needs both languages.
        let shipped = EMBEDDED
            .iter()
            .find(|(n, _)| *n == "exit-example.toml")
            .unwrap()
            .1;
        let half = shipped.replacen("en = \"Useful feedback\"", "en = \" \"", 1);
        assert_ne!(half, shipped);
        let err = Instrument::from_toml(&half, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("exit_q08") && err.contains("label"), "{err}");
    }

    #[test]
    fn d_rect_versions_share_constructs_for_trends() {
        let cat = Catalogue::load(None).unwrap();
        let c = |v: &str| -> HashSet<String> {
            cat.get("d-rect", v)
                .unwrap()
                .subscales
                .iter()
                .map(|s| s.construct.clone())
                .collect()
        };
        let shared = c("2011").intersection(&c("2016")).count();
        assert!(
            shared >= 5,
            "only {shared} constructs continue from 2011 to 2016"
        );
    }

    #[test]
    fn a_users_file_replaces_a_shipped_version_and_adds_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = EMBEDDED
            .iter()
            .find(|(n, _)| *n == "exit-example.toml")
            .unwrap()
            .1;
        let replaced = shipped.replacen("reliability_min = 4", "reliability_min = 6", 1);
        std::fs::write(dir.path().join("exit.toml"), &replaced).unwrap();
        let local = shipped.replacen("version = \"example\"", "version = \"regio-2025\"", 1);
        std::fs::write(dir.path().join("exit-2025.toml"), &local).unwrap();
        let cat = Catalogue::load(Some(dir.path())).unwrap();
        assert_eq!(cat.get("exit", "example").unwrap().reliability_min, 6);
        assert!(cat
            .get("exit", "example")
            .unwrap()
            .origin
            .ends_with("exit.toml"));
        assert!(cat.get("exit", "regio-2025").is_some());
        assert!(cat.get("d-rect", "2016").is_some());
    }

    #[test]
    fn definition_errors_name_the_problem() {
        let bad = r#"
id = "x"
version = "1"
name = "X"
rated = "department"
respondent_roles = ["aios"]
reliability_min = 3
sources = ["none"]
[scale]
min = 1
max = 5
[[subscales]]
id = "a"
construct = "a"
nl = "A"
en = "A"
reliability_min = 3
[[items]]
id = "q1"
subscale = "b"
"#;
        let err = Instrument::from_toml(bad, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.toml"), "{err}");
        assert!(err.contains("\"b\""), "{err}");
        let typo = bad.replace("rated =", "rates =");
        let err = Instrument::from_toml(&typo, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rates"), "{err}");
    }
}
