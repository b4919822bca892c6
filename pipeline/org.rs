//! The organisation registry: regions, institutions, specialties and RSOs.
//!
//! This module owns the user-maintained registry file (TOML) and the
//! questions asked of it: which institution an export's spelling means,
//! which specialty, and which RSO a department belonged to on a given date
//! (networks change: a 2019 response belongs to the RSO as it was in 2019).
//! The registry is validated on load and every error names the line.
//!
//! It does not read exports or know about instruments.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    #[serde(default)]
    regions: Vec<RawRegion>,
    #[serde(default)]
    institutions: Vec<RawInstitution>,
    #[serde(default)]
    specialties: Vec<RawSpecialty>,
    #[serde(default)]
    rsos: Vec<RawRso>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    id: Spanned<String>,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstitution {
    id: Spanned<String>,
    name: String,
    region: Spanned<String>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpecialty {
    code: Spanned<String>,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRso {
    id: Spanned<String>,
    name: String,
    specialty: Spanned<String>,
    region: Spanned<String>,
    #[serde(default)]
    cycle_start: Option<Spanned<i64>>,
    members: Vec<Spanned<RawMember>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    institution: String,
    valid_from: toml::value::Datetime,
    #[serde(default)]
    valid_to: Option<toml::value::Datetime>,
}

/// A region (RDO / OOR), whose quality body is the R-COC.
#[derive(Debug, Clone)]
pub struct Region {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A hospital or other training institution.
#[derive(Debug, Clone)]
pub struct Institution {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The region it belongs to.
    pub region: String,
    /// Other spellings found in exports.
    pub aliases: Vec<String>,
}

/// A medical specialty.
#[derive(Debug, Clone)]
pub struct Specialty {
    /// Stable code.
    pub code: String,
    /// Dutch display name.
    pub name: String,
    /// English display name (falls back to the Dutch one).
    pub name_en: String,
    /// Other spellings found in exports.
    pub aliases: Vec<String>,
}

/// An institution's membership of an RSO over a period (both ends
/// inclusive; an open end means "still a member").
#[derive(Debug, Clone)]
pub struct Membership {
    /// The member institution.
    pub institution: String,
    /// First day of membership.
    pub valid_from: NaiveDate,
    /// Last day of membership, if it ended.
    pub valid_to: Option<NaiveDate>,
}

impl Membership {
    /// Whether the membership covers `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        date >= self.valid_from && self.valid_to.is_none_or(|to| date <= to)
    }

    /// Whether the membership overlaps the years `from..=to` at any day.
    pub fn overlaps_years(&self, from: i32, to: i32) -> bool {
        let start = NaiveDate::from_ymd_opt(from, 1, 1).expect("valid year");
        let end = NaiveDate::from_ymd_opt(to, 12, 31).expect("valid year");
        self.valid_from <= end && self.valid_to.is_none_or(|t| t >= start)
    }
}

/// A regional specialty-specific training network.
#[derive(Debug, Clone)]
pub struct Rso {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Specialty code.
    pub specialty: String,
    /// Region id.
    pub region: String,
    /// The first year of one of its two-year cycles, where the RSO keeps
    /// cycles of its own (`cycle_start`); None: the region's
    /// (`scoring.first_cycle_year`).
    pub cycle_start: Option<i32>,
    /// Member institutions over time.
    pub members: Vec<Membership>,
}

/// The validated registry with its alias lookups.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    /// Regions by id.
    pub regions: BTreeMap<String, Region>,
    /// Institutions by id.
    pub institutions: BTreeMap<String, Institution>,
    /// Specialties by code.
    pub specialties: BTreeMap<String, Specialty>,
    /// RSOs by id.
    pub rsos: BTreeMap<String, Rso>,
    institution_alias: HashMap<String, String>,
    specialty_alias: HashMap<String, String>,
}

/// How an export's spelling is compared with ids, names and aliases:
/// case, punctuation and spacing do not count ("UMC-Utrecht" = "umc utrecht").
pub fn normalise_alias(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

fn to_date(dt: &toml::value::Datetime) -> Option<NaiveDate> {
    let d = dt.date?;
    NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)
}

impl Registry {
    /// Reads and validates a registry file.
    pub fn load(path: &Path) -> Result<Registry> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Registry::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates registry text; `file` names it in messages.
    pub fn from_toml(text: &str, file: &str) -> Result<Registry> {
        let line_of = |offset: usize| text[..offset.min(text.len())].lines().count().max(1);
        let err = |offset: usize, message: String| Error::Registry {
            file: file.to_string(),
            line: line_of(offset),
            message,
        };
        let raw: RawRegistry = toml::from_str(text).map_err(|e| Error::Registry {
            file: file.to_string(),
            line: e.span().map(|s| line_of(s.start)).unwrap_or(0),
            message: e.message().to_string(),
        })?;

        let mut reg = Registry::default();
        for r in raw.regions {
            let id = r.id.get_ref().clone();
            if reg.regions.contains_key(&id) {
                return Err(err(
                    r.id.span().start,
                    format!("region {id:?} is defined twice"),
                ));
            }
            reg.regions.insert(id.clone(), Region { id, name: r.name });
        }

        // Aliases: the id, the name and every alias of one institution must
        // point to it alone, or an export's spelling would be ambiguous.
        let mut owner: HashMap<String, (String, usize)> = HashMap::new();
        for inst in raw.institutions {
            let id = inst.id.get_ref().clone();
            if reg.institutions.contains_key(&id) {
                return Err(err(
                    inst.id.span().start,
                    format!("institution {id:?} is defined twice"),
                ));
            }
            if !reg.regions.contains_key(inst.region.get_ref()) {
                return Err(err(
                    inst.region.span().start,
                    format!(
                        "institution {id:?} names region {:?}, which is not in [[regions]]; add it or correct the id",
                        inst.region.get_ref()
                    ),
                ));
            }
            let mut spellings = vec![
                (id.clone(), inst.id.span().start),
                (inst.name.clone(), inst.id.span().start),
            ];
            spellings.extend(
                inst.aliases
                    .iter()
                    .map(|a| (a.get_ref().clone(), a.span().start)),
            );
            for (spelling, at) in spellings {
                let key = normalise_alias(&spelling);
                match owner.get(&key) {
                    Some((other, _)) if *other != id => {
                        return Err(err(
                            at,
                            format!(
                                "alias {spelling:?} of institution {id:?} is already used by institution {other:?}; an alias must name one institution"
                            ),
                        ))
                    }
                    _ => {
                        owner.insert(key, (id.clone(), at));
                    }
                }
            }
            reg.institutions.insert(
                id.clone(),
                Institution {
                    id,
                    name: inst.name,
                    region: inst.region.into_inner(),
                    aliases: inst.aliases.into_iter().map(Spanned::into_inner).collect(),
                },
            );
        }
        reg.institution_alias = owner.into_iter().map(|(k, (id, _))| (k, id)).collect();

        let mut owner: HashMap<String, String> = HashMap::new();
        for sp in raw.specialties {
            let code = sp.code.get_ref().clone();
            if reg.specialties.contains_key(&code) {
                return Err(err(
                    sp.code.span().start,
                    format!("specialty {code:?} is defined twice"),
                ));
            }
            let mut spellings = vec![
                (code.clone(), sp.code.span().start),
                (sp.name.clone(), sp.code.span().start),
            ];
            if let Some(en) = &sp.name_en {
                spellings.push((en.clone(), sp.code.span().start));
            }
            spellings.extend(
                sp.aliases
                    .iter()
                    .map(|a| (a.get_ref().clone(), a.span().start)),
            );
            for (spelling, at) in spellings {
                let key = normalise_alias(&spelling);
                match owner.get(&key) {
                    Some(other) if *other != code => {
                        return Err(err(
                            at,
                            format!(
                                "alias {spelling:?} of specialty {code:?} is already used by specialty {other:?}; an alias must name one specialty"
                            ),
                        ))
                    }
                    _ => {
                        owner.insert(key, code.clone());
                    }
                }
            }
            reg.specialties.insert(
                code.clone(),
                Specialty {
                    code,
                    name_en: sp.name_en.unwrap_or_else(|| sp.name.clone()),
                    name: sp.name,
                    aliases: sp.aliases.into_iter().map(Spanned::into_inner).collect(),
                },
            );
        }
        reg.specialty_alias = owner;

        for rso in raw.rsos {
            let id = rso.id.get_ref().clone();
            if reg.rsos.contains_key(&id) {
                return Err(err(
                    rso.id.span().start,
                    format!("RSO {id:?} is defined twice"),
                ));
            }
            if !reg.specialties.contains_key(rso.specialty.get_ref()) {
                return Err(err(
                    rso.specialty.span().start,
                    format!(
                        "RSO {id:?} names specialty {:?}, which is not in [[specialties]]",
                        rso.specialty.get_ref()
                    ),
                ));
            }
            if !reg.regions.contains_key(rso.region.get_ref()) {
                return Err(err(
                    rso.region.span().start,
                    format!(
                        "RSO {id:?} names region {:?}, which is not in [[regions]]",
                        rso.region.get_ref()
                    ),
                ));
            }
            let cycle_start = match &rso.cycle_start {
                Some(y) if (1900..=2200).contains(y.get_ref()) => Some(*y.get_ref() as i32),
                Some(y) => {
                    return Err(err(
                        y.span().start,
                        format!(
                            "cycle_start {} of RSO {id:?} is not a year like 2020",
                            y.get_ref()
                        ),
                    ))
                }
                None => None,
            };
            let mut members = Vec::new();
            for m in &rso.members {
                let at = m.span().start;
                let m = m.get_ref();
                if !reg.institutions.contains_key(&m.institution) {
                    return Err(err(
                        at,
                        format!(
                            "RSO {id:?} names member institution {:?}, which is not in [[institutions]]",
                            m.institution
                        ),
                    ));
                }
                let valid_from = to_date(&m.valid_from).ok_or_else(|| {
                    err(
                        at,
                        format!("valid_from {} is not a date like 2022-01-01", m.valid_from),
                    )
                })?;
                let valid_to = match &m.valid_to {
                    Some(t) => Some(to_date(t).ok_or_else(|| {
                        err(at, format!("valid_to {t} is not a date like 2024-12-31"))
                    })?),
                    None => None,
                };
                if valid_to.is_some_and(|t| t < valid_from) {
                    return Err(err(
                        at,
                        format!("membership of {:?} ends before it starts", m.institution),
                    ));
                }
                let new = Membership {
                    institution: m.institution.clone(),
                    valid_from,
                    valid_to,
                };
                if let Some(old) = members
                    .iter()
                    .find(|o: &&Membership| o.institution == new.institution && overlap(o, &new))
                {
                    return Err(err(
                        at,
                        format!(
                            "membership of {:?} in RSO {id:?} from {} overlaps its membership from {}; end one with valid_to",
                            new.institution, new.valid_from, old.valid_from
                        ),
                    ));
                }
                members.push(new);
            }
            // A department must belong to at most one RSO on any day, or the
            // RSO of a response would be ambiguous.
            for other in reg
                .rsos
                .values()
                .filter(|o| o.specialty == *rso.specialty.get_ref())
            {
                for a in &members {
                    if let Some(b) = other
                        .members
                        .iter()
                        .find(|b| b.institution == a.institution && overlap(a, b))
                    {
                        return Err(err(
                            rso.id.span().start,
                            format!(
                                "institution {:?} is in RSO {id:?} and in RSO {:?} (same specialty) at the same time (from {}); a department belongs to one RSO at a time",
                                a.institution, other.id, b.valid_from.max(a.valid_from)
                            ),
                        ));
                    }
                }
            }
            reg.rsos.insert(
                id.clone(),
                Rso {
                    id,
                    name: rso.name,
                    specialty: rso.specialty.into_inner(),
                    region: rso.region.into_inner(),
                    cycle_start,
                    members,
                },
            );
        }
        Ok(reg)
    }

    /// The institution an export's spelling names.
    pub fn institution(&self, spelling: &str) -> Option<&Institution> {
        self.institution_alias
            .get(&normalise_alias(spelling))
            .and_then(|id| self.institutions.get(id))
    }

    /// The specialty an export's spelling names.
    pub fn specialty(&self, spelling: &str) -> Option<&Specialty> {
        self.specialty_alias
            .get(&normalise_alias(spelling))
            .and_then(|c| self.specialties.get(c))
    }

    /// The RSO the department (institution, specialty) belonged to on `date`.
    pub fn rso_on(&self, institution: &str, specialty: &str, date: NaiveDate) -> Option<&Rso> {
        self.rsos.values().find(|r| {
            r.specialty == specialty
                && r.members
                    .iter()
                    .any(|m| m.institution == institution && m.covers(date))
        })
    }
}

/// Whose two-year cycles are which: the region's (`scoring.first_cycle_year`)
/// and those of the RSOs that keep their own (`cycle_start`). An RSO's
/// departments follow its cycles (a department that moved between RSOs
/// follows the one it joined last); institutions and regions keep the
/// region's, since they pool specialties. Cycles are two years long, so
/// there are at most two grids: a start of the same parity as the region's
/// is the region's grid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cycles {
    /// The first year of the region's first cycle.
    pub region: i32,
    rso: BTreeMap<String, i32>,
    department: BTreeMap<String, i32>,
}

impl Cycles {
    /// The cycles of a registry's RSOs around the region's first cycle
    /// year.
    pub fn new(registry: &Registry, region: i32) -> Cycles {
        let mut rso = BTreeMap::new();
        let mut department: BTreeMap<String, (NaiveDate, i32)> = BTreeMap::new();
        for r in registry.rsos.values() {
            let start = r.cycle_start.unwrap_or(region);
            rso.insert(r.id.clone(), start);
            for m in &r.members {
                let unit = crate::domain::DepartmentId::new(&m.institution, &r.specialty).unit_id();
                let e = department.entry(unit).or_insert((m.valid_from, start));
                if m.valid_from >= e.0 {
                    *e = (m.valid_from, start);
                }
            }
        }
        Cycles {
            region,
            rso,
            department: department.into_iter().map(|(k, (_, s))| (k, s)).collect(),
        }
    }

    /// Whether two starts give the same cycles.
    pub fn same_grid(a: i32, b: i32) -> bool {
        (a - b).rem_euclid(2) == 0
    }

    /// The start of an RSO's cycles (the region's for an unknown RSO).
    pub fn of_rso(&self, rso: &str) -> i32 {
        self.rso.get(rso).copied().unwrap_or(self.region)
    }

    /// The start of a department's cycles (`institution:specialty`).
    pub fn of_department(&self, unit: &str) -> i32 {
        self.department.get(unit).copied().unwrap_or(self.region)
    }

    /// The cycle of an RSO that a year lies in.
    pub fn rso_cycle(&self, rso: &str, year: i32) -> crate::domain::Period {
        crate::domain::Period::cycle_of(year, self.of_rso(rso))
    }

    /// Whether a cycle (`2020-2021`) is one of the RSO's.
    pub fn rso_has(&self, rso: &str, cycle: &str) -> bool {
        on_grid(cycle, self.of_rso(rso))
    }

    /// Whether a cycle is one of the department's.
    pub fn department_has(&self, unit: &str, cycle: &str) -> bool {
        on_grid(cycle, self.of_department(unit))
    }

    /// Whether a cycle is one of the region's (and so of every institution
    /// and region cell).
    pub fn region_has(&self, cycle: &str) -> bool {
        on_grid(cycle, self.region)
    }

    /// The starts in use, one per grid: the region's first, then another
    /// grid's (the first RSO's of that grid) if any RSO keeps one.
    pub fn grids(&self) -> Vec<i32> {
        let mut out = vec![self.region];
        for &s in self.rso.values().chain(self.department.values()) {
            if !out.iter().any(|&o| Cycles::same_grid(o, s)) {
                out.push(s);
            }
        }
        out
    }

    /// Whether some RSO keeps cycles of its own.
    pub fn mixed(&self) -> bool {
        self.grids().len() > 1
    }

    /// The RSO's cycle that ended most recently by the end of `cycle` (any
    /// grid's): the cycle itself where it is one of the RSO's, else the one
    /// that ended a year before it.
    pub fn rso_latest_ended(&self, rso: &str, cycle: &str) -> String {
        match crate::domain::Period::parse(cycle) {
            Some(p) => {
                let last = p.last_year();
                let c = self.rso_cycle(rso, last);
                if c.last_year() == last {
                    c.to_string()
                } else {
                    c.previous().to_string()
                }
            }
            None => cycle.to_string(),
        }
    }
}

/// Whether a cycle's text lies on the grid of cycles starting in `start`.
fn on_grid(cycle: &str, start: i32) -> bool {
    crate::domain::Period::parse(cycle)
        .is_some_and(|p| p.is_cycle() && Cycles::same_grid(p.first_year(), start))
}

fn overlap(a: &Membership, b: &Membership) -> bool {
    let a_end = a.valid_to.unwrap_or(NaiveDate::MAX);
    let b_end = b.valid_to.unwrap_or(NaiveDate::MAX);
    a.valid_from <= b_end && b.valid_from <= a_end
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[regions]]
id = "nv"
name = "Noorderveld"

[[institutions]]
id = "a"
name = "Ziekenhuis A"
region = "nv"
aliases = ["ZHA", "Zkh. A"]

[[institutions]]
id = "b"
name = "Ziekenhuis B"
region = "nv"

[[specialties]]
code = "anes"
name = "Anesthesiologie"
aliases = ["anesthesie"]

[[rsos]]
id = "anes-nv"
name = "Anesthesiologie Noorderveld"
specialty = "anes"
region = "nv"
members = [
  { institution = "a", valid_from = 2015-01-01 },
  { institution = "b", valid_from = 2022-01-01 },
]
"#;

    #[test]
    fn aliases_resolve_whatever_the_spelling() {
        let reg = Registry::from_toml(GOOD, "r.toml").unwrap();
        assert_eq!(reg.institution("zha").unwrap().id, "a");
        assert_eq!(reg.institution("ZKH A").unwrap().id, "a");
        assert_eq!(reg.institution("Ziekenhuis  B").unwrap().id, "b");
        assert!(reg.institution("Ziekenhuis C").is_none());
        assert_eq!(reg.specialty("ANESTHESIE").unwrap().code, "anes");
    }

    #[test]
    fn rso_is_resolved_as_of_the_date() {
        let reg = Registry::from_toml(GOOD, "r.toml").unwrap();
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(reg.rso_on("b", "anes", d(2021, 12, 31)).is_none());
        assert_eq!(
            reg.rso_on("b", "anes", d(2022, 1, 1)).unwrap().id,
            "anes-nv"
        );
        assert_eq!(
            reg.rso_on("a", "anes", d(2019, 6, 1)).unwrap().id,
            "anes-nv"
        );
    }

    fn line_of_error(text: &str) -> (usize, String) {
        match Registry::from_toml(text, "r.toml").unwrap_err() {
            Error::Registry { line, message, .. } => (line, message),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn unknown_reference_names_the_line() {
        let bad = GOOD.replace("{ institution = \"b\"", "{ institution = \"c\"");
        let (line, msg) = line_of_error(&bad);
        assert!(msg.contains("\"c\""), "{msg}");
        let expected = bad.lines().position(|l| l.contains("\"c\"")).unwrap() + 1;
        assert_eq!(line, expected);
    }

    #[test]
    fn alias_used_twice_names_the_line() {
        let bad = GOOD.replacen(
            "name = \"Ziekenhuis B\"",
            "name = \"Ziekenhuis B\"\naliases = [\"zha\"]",
            1,
        );
        let (line, msg) = line_of_error(&bad);
        assert!(msg.contains("already used by institution \"a\""), "{msg}");
        let expected = bad.lines().position(|l| l.contains("[\"zha\"]")).unwrap() + 1;
        assert_eq!(line, expected);
    }

    #[test]
    fn overlapping_membership_is_refused() {
        let bad = GOOD.replace(
            "{ institution = \"b\", valid_from = 2022-01-01 },",
            "{ institution = \"b\", valid_from = 2022-01-01 },\n  { institution = \"b\", valid_from = 2023-01-01 },",
        );
        let (line, msg) = line_of_error(&bad);
        assert!(msg.contains("overlaps"), "{msg}");
        assert_eq!(
            line,
            bad.lines().position(|l| l.contains("2023-01-01")).unwrap() + 1
        );
        // Ending the first membership makes it valid.
        let ok = bad.replace(
            "{ institution = \"b\", valid_from = 2022-01-01 }",
            "{ institution = \"b\", valid_from = 2022-01-01, valid_to = 2022-12-31 }",
        );
        assert!(Registry::from_toml(&ok, "r.toml").is_ok());
    }

    #[test]
    fn syntax_error_names_the_line() {
        let (line, _) = line_of_error("[[regions]]\nid = \"x\"\nname = \n");
        assert_eq!(line, 3);
    }

    /// Neurology keeps cycles from 2020, anaesthesiology the region's from
    /// 2019; a department follows its RSO, institutions the region.
    #[test]
    fn an_rso_keeps_its_own_cycles() {
        let text = format!(
            "{GOOD}\n[[specialties]]\ncode = \"neu\"\nname = \"Neurologie\"\n\n[[rsos]]\nid = \"neu-nv\"\nname = \"Neurologie\"\nspecialty = \"neu\"\nregion = \"nv\"\ncycle_start = 2020\nmembers = [{{ institution = \"b\", valid_from = 2015-01-01 }}]\n"
        );
        let reg = Registry::from_toml(&text, "r.toml").unwrap();
        assert_eq!(reg.rsos["neu-nv"].cycle_start, Some(2020));
        let c = Cycles::new(&reg, 2019);
        assert!(c.mixed());
        assert_eq!(c.grids(), vec![2019, 2020]);
        assert_eq!(c.rso_cycle("neu-nv", 2023).to_string(), "2022-2023");
        assert_eq!(c.rso_cycle("anes-nv", 2023).to_string(), "2023-2024");
        assert!(c.rso_has("neu-nv", "2020-2021") && !c.rso_has("neu-nv", "2021-2022"));
        assert!(c.department_has("b:neu", "2022-2023") && !c.department_has("b:neu", "2023-2024"));
        // Departments of the region's RSOs and unknown ones: the region's.
        assert!(c.department_has("b:anes", "2023-2024") && c.department_has("x:y", "2023-2024"));
        assert!(c.region_has("2023-2024") && !c.region_has("2022-2023"));
        // The cycle that ended last by a region cycle's end.
        assert_eq!(c.rso_latest_ended("neu-nv", "2023-2024"), "2022-2023");
        assert_eq!(c.rso_latest_ended("neu-nv", "2019-2020"), "2018-2019");
        assert_eq!(c.rso_latest_ended("anes-nv", "2023-2024"), "2023-2024");
        // A start of the region's parity is the region's grid.
        assert!(!Cycles::new(&reg, 2018).rso_has("anes-nv", "2019-2020"));
        assert!(!Cycles::new(&Registry::from_toml(GOOD, "r").unwrap(), 2019).mixed());
        // Not a year: refused, naming the line.
        let bad = text.replace("cycle_start = 2020", "cycle_start = 20");
        let (line, message) = line_of_error(&bad);
        assert!(message.contains("cycle_start 20"), "{message}");
        assert_eq!(bad.lines().nth(line - 1), Some("cycle_start = 20"));
    }
}
