//! A deterministic generator of a fictional region: registry, source
//! profiles, configuration, survey exports in every supported layout, an
//! invitations file and a development plan.
//!
//! It makes the sample region in `data-samples/` (and, scaled up, the
//! benchmark's national dataset). Institutions and people are invented: no
//! real hospital gets invented scores. The same seed gives the same bytes.
//! Stories are built in so reports have something true to find: a
//! department whose climate declines, an RSO that improves after an action, a
//! department too small to publish, the switch from D-RECT 2011 to 2016, an
//! institution that joins an RSO in 2022, and a measurement that is missing.
//!
//! It only writes input files; it never reads the dataset.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;

use opleidingsmonitor::error::{Error, Result};
use opleidingsmonitor::instrument::{Catalogue, Instrument, ItemKind};

mod exports;
mod national;
mod rng;

use exports::*;
pub use national::{write_national, NationalOptions};
pub use rng::Rng;

struct InstitutionDef {
    id: &'static str,
    name: &'static str,
    aliases: &'static [&'static str],
    mail: &'static str,
}

const INSTITUTIONS: &[InstitutionDef] = &[
    InstitutionDef {
        id: "umcl",
        name: "Universitair Medisch Centrum Lindenburg",
        aliases: &["UMC Lindenburg", "UMCL", "Lindenburg UMC"],
        mail: "umclindenburg",
    },
    InstitutionDef {
        id: "heemdaal",
        name: "Ziekenhuis Heemdaal",
        aliases: &["Heemdaal", "ZH Heemdaal"],
        mail: "zhheemdaal",
    },
    InstitutionDef {
        id: "brakelduin",
        name: "Brakelduin Gasthuis",
        aliases: &["Brakelduin", "BDG", "Gasthuis Brakelduin"],
        mail: "brakelduin",
    },
    InstitutionDef {
        id: "meerhaven",
        name: "Meerhaven Medisch Centrum",
        aliases: &["MMC Meerhaven", "Meerhaven MC", "Meerhaven"],
        mail: "meerhavenmc",
    },
    InstitutionDef {
        id: "zonnestede",
        name: "Zonnestede Ziekenhuis",
        aliases: &["Zonnestede", "ZZS", "Ziekenhuis Zonnestede"],
        mail: "zonnestede",
    },
];

struct SpecialtyDef {
    code: &'static str,
    name: &'static str,
    name_en: &'static str,
    aliases: &'static [&'static str],
    rso: &'static str,
    /// The RSO's own `cycle_start`; None: the region's cycles.
    cycle_start: Option<i32>,
}

const SPECIALTIES: &[SpecialtyDef] = &[
    SpecialtyDef {
        code: "anes",
        name: "Anesthesiologie",
        name_en: "Anaesthesiology",
        aliases: &["anesthesie", "ANE", "Anesthesiology"],
        rso: "anes-nv",
        cycle_start: None,
    },
    SpecialtyDef {
        code: "int",
        name: "Interne geneeskunde",
        name_en: "Internal medicine",
        aliases: &["interne", "INT", "Inwendige geneeskunde"],
        rso: "int-nv",
        cycle_start: None,
    },
    SpecialtyDef {
        code: "neu",
        name: "Neurologie",
        name_en: "Neurology",
        aliases: &["NEU", "neuro"],
        rso: "neu-nv",
        // Keeps its own two-year cycles (2020-2021, 2022-2023), to show
        // cycles per RSO: its reports and findings are in them.
        cycle_start: Some(2020),
    },
];

/// (institution, specialty, aios, first year of data, member of the RSO from).
const DEPARTMENTS: &[(&str, &str, usize, i32, &str)] = &[
    ("umcl", "anes", 24, 2019, "2015-01-01"),
    ("heemdaal", "anes", 12, 2019, "2015-01-01"),
    ("brakelduin", "anes", 10, 2019, "2015-01-01"),
    // Trains under another arrangement in 2021, joins the RSO in 2022.
    ("zonnestede", "anes", 7, 2021, "2022-01-01"),
    ("umcl", "int", 28, 2019, "2015-01-01"),
    ("heemdaal", "int", 14, 2019, "2015-01-01"),
    ("meerhaven", "int", 12, 2019, "2015-01-01"),
    ("zonnestede", "int", 8, 2019, "2015-01-01"),
    ("umcl", "neu", 16, 2019, "2015-01-01"),
    // Too small to publish: three aios.
    ("brakelduin", "neu", 3, 2019, "2015-01-01"),
    ("meerhaven", "neu", 9, 2019, "2015-01-01"),
];

const FIRST: &[&str] = &[
    "Anouk",
    "Bram",
    "Charlotte",
    "Daan",
    "Eva",
    "Femke",
    "Gijs",
    "Hanna",
    "Ilse",
    "Jesse",
    "Kim",
    "Lars",
    "Maud",
    "Noor",
    "Olaf",
    "Pien",
    "Quinten",
    "Roos",
    "Sem",
    "Tess",
    "Ugo",
    "Vera",
    "Wouter",
    "Yara",
    "Zoë",
    "Aïsha",
    "Björn",
    "Çem",
    "Dieuwke",
    "Eline",
    "Floor",
    "Gert-Jan",
];
const LAST: &[&str] = &[
    "Aalbersberg",
    "Bosschaert",
    "Claassen-Wijn",
    "Dekkerman",
    "Eijsbouts",
    "Frankenhuis",
    "Groeneveldt",
    "Hoogakker",
    "IJzerman",
    "Jonkergouw",
    "Kuipersma",
    "Lammerink",
    "Meulendijks",
    "Nieuwenkamp",
    "Oosterbroek",
    "Plasschaert",
    "Quaedvlieg",
    "Rietbergen",
    "Schuttevaer",
    "Tijssens",
    "Uitdehaag",
    "Verbrugghe",
    "Westerveld",
    "Zwanenburg",
    "Çelikkaya",
    "Brouwër",
];

fn person_name(pid: usize) -> (String, String) {
    let first = FIRST[pid % FIRST.len()];
    let last = LAST[(pid / FIRST.len() + pid * 7) % LAST.len()];
    (
        first.to_string(),
        format!(
            "{last}{}",
            if pid >= FIRST.len() * LAST.len() {
                format!("-{pid}")
            } else {
                String::new()
            }
        ),
    )
}

fn ascii_mail(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'ë' | 'é' => Some('e'),
            'ï' => Some('i'),
            'ö' => Some('o'),
            'Ç' | 'ç' => Some('c'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// A person of the fictional region (aios or supervisor).
#[derive(Debug, Clone)]
struct Person {
    first: String,
    last: String,
    email: String,
    effect: f64,
}

/// An institution of the generated world.
#[derive(Debug, Clone)]
struct Inst {
    id: String,
    name: String,
    aliases: Vec<String>,
    mail: String,
}

/// A specialty of the generated world.
#[derive(Debug, Clone)]
struct Spec {
    code: String,
    name: String,
    name_en: String,
    aliases: Vec<String>,
}

/// One department's people over time.
struct Department {
    /// Index into `World::institutions`.
    institution: usize,
    /// Index into `World::specialties`.
    specialty: usize,
    aios_count: usize,
    first_year: i32,
    base: f64,
    /// aios per year (indices into `people`).
    aios_by_year: BTreeMap<i32, Vec<usize>>,
    supervisors: Vec<usize>,
}

/// What the sample generator wrote, for messages and tests.
#[derive(Debug, Clone, Default)]
pub struct SampleSummary {
    /// Export files written (relative paths).
    pub exports: Vec<String>,
    /// Data rows per export file.
    pub rows: BTreeMap<String, usize>,
}

/// The years of the sample region.
pub const SAMPLE_YEARS: std::ops::RangeInclusive<i32> = 2019..=2024;

struct World {
    rng: Rng,
    people: Vec<Person>,
    departments: Vec<Department>,
    institutions: Vec<Inst>,
    specialties: Vec<Spec>,
    /// Folder (relative to the output) the exports are written to.
    inbox: String,
    /// Years simulated.
    years: std::ops::RangeInclusive<i32>,
}

/// (institution index, specialty index, aios, first year of data).
type DepartmentPlan = (usize, usize, usize, i32);

impl World {
    /// The sample region.
    fn new(seed: u64) -> World {
        let institutions: Vec<Inst> = INSTITUTIONS
            .iter()
            .map(|i| Inst {
                id: i.id.into(),
                name: i.name.into(),
                aliases: i.aliases.iter().map(|a| a.to_string()).collect(),
                mail: i.mail.into(),
            })
            .collect();
        let specialties: Vec<Spec> = SPECIALTIES
            .iter()
            .map(|s| Spec {
                code: s.code.into(),
                name: s.name.into(),
                name_en: s.name_en.into(),
                aliases: s.aliases.iter().map(|a| a.to_string()).collect(),
            })
            .collect();
        let plan: Vec<DepartmentPlan> = DEPARTMENTS
            .iter()
            .map(|&(inst, spec, n, first_year, _)| {
                (
                    institutions
                        .iter()
                        .position(|i| i.id == inst)
                        .expect("known institution"),
                    specialties
                        .iter()
                        .position(|s| s.code == spec)
                        .expect("known specialty"),
                    n,
                    first_year,
                )
            })
            .collect();
        World::build(
            Rng::new(seed),
            institutions,
            specialties,
            &plan,
            "inbox".into(),
            SAMPLE_YEARS,
            |n| n / 2 + 3,
        )
    }

    /// A world from its institutions, specialties and departments; people
    /// are drawn in plan order. `supervisors` gives a department's number of
    /// supervisors from its number of aios.
    fn build(
        mut rng: Rng,
        institutions: Vec<Inst>,
        specialties: Vec<Spec>,
        plan: &[DepartmentPlan],
        inbox: String,
        years: std::ops::RangeInclusive<i32>,
        supervisors: impl Fn(usize) -> usize,
    ) -> World {
        let mut people = Vec::new();
        let mut departments = Vec::new();
        let mut next_pid = 0usize;
        let mut new_person =
            |rng: &mut Rng, mail_inst: &str, people: &mut Vec<Person>, title: bool| {
                let (first, last) = person_name(next_pid);
                next_pid += 1;
                let email = format!(
                    "{}.{}@{mail_inst}.example.nl",
                    ascii_mail(&first),
                    ascii_mail(&last)
                );
                let first = if title { format!("Dr. {first}") } else { first };
                people.push(Person {
                    first,
                    last,
                    email,
                    effect: rng.normal(),
                });
                people.len() - 1
            };
        for &(inst, spec, n, first_year) in plan {
            let mail = institutions[inst].mail.as_str();
            let base = 0.15 * rng.normal();
            let supervisors: Vec<usize> = (0..supervisors(n))
                .map(|_| new_person(&mut rng, mail, &mut people, true))
                .collect();
            let mut current: Vec<usize> = (0..n)
                .map(|_| new_person(&mut rng, mail, &mut people, false))
                .collect();
            let mut aios_by_year = BTreeMap::new();
            for year in years.clone() {
                if year > first_year {
                    // About a fifth of the aios leave each year; new ones start.
                    current.retain(|_| !rng.chance(0.2));
                    while current.len() < n {
                        current.push(new_person(&mut rng, mail, &mut people, false));
                    }
                }
                if year >= first_year {
                    aios_by_year.insert(year, current.clone());
                }
            }
            departments.push(Department {
                institution: inst,
                specialty: spec,
                aios_count: n,
                first_year,
                base,
                aios_by_year,
                supervisors,
            });
        }
        World {
            rng,
            people,
            departments,
            institutions,
            specialties,
            inbox,
            years,
        }
    }
}

/// The built-in stories: a shift of the latent score (in points of a
/// 5-point scale) for a department, instrument, subscale and year.
fn story(inst: &str, spec: &str, instrument: &str, subscale: &str, year: i32) -> f64 {
    match (inst, spec) {
        // Learning climate declines at Heemdaal internal medicine.
        ("heemdaal", "int") if instrument == "d-rect" || instrument == "exit" => match year {
            ..=2021 => 0.2,
            2022 => 0.0,
            2023 => -0.5,
            _ => -0.8,
        },
        // Anaesthesiology across the RSO: coaching and feedback were weak;
        // the RSO started an action in March 2022 (development plan A1) and
        // the scores rose.
        (_, "anes")
            if instrument == "d-rect"
                && matches!(subscale, "coaching_assessment" | "feedback" | "supervision") =>
        {
            match year {
                ..=2021 => -0.7,
                2022 => -0.5,
                2023 => 0.0,
                _ => 0.2,
            }
        }
        _ => 0.0,
    }
}

/// Which instruments each specialty runs in which year (the year calendar).
fn calendar(spec: &str, instrument: &str, year: i32) -> bool {
    match instrument {
        "d-rect" | "exit" => true,
        "setq" => matches!(spec, "anes" | "int"),
        "effect" => matches!(spec, "int" | "neu") && year % 2 == 1,
        "mctq" => year % 2 == 0,
        _ => false,
    }
}

/// A response's answers: item index to answer (None = blank).
struct Answered {
    person: usize,
    subject: Option<usize>,
    self_eval: bool,
    date: NaiveDate,
    dept: usize,
    values: Vec<Option<Answer>>,
}

#[derive(Clone, Copy)]
enum Answer {
    Value(f64),
    NotApplicable,
}

fn simulate(
    world: &mut World,
    inst: &Instrument,
    year: i32,
    dept_idx: usize,
    rate: f64,
    per_aios: usize,
) -> Vec<Answered> {
    let (lo, hi) = (inst.scale.min, inst.scale.max);
    let mut out = Vec::new();
    let d = &world.departments[dept_idx];
    let Some(aios) = d.aios_by_year.get(&year).cloned() else {
        return out;
    };
    let supervisors = d.supervisors.clone();
    let (dinst, dspec, base) = (
        world.institutions[d.institution].id.as_str(),
        world.specialties[d.specialty].code.as_str(),
        d.base,
    );
    let rng = &mut world.rng;
    let mut forms: Vec<(usize, Option<usize>, bool)> = Vec::new();
    for &a in &aios {
        if !rng.chance(rate) {
            continue;
        }
        if per_aios == 0 {
            forms.push((a, None, false));
        } else {
            for _ in 0..per_aios {
                forms.push((a, Some(supervisors[rng.below(supervisors.len())]), false));
            }
        }
    }
    if per_aios > 0 && inst.respondent_roles.iter().any(|r| r == "supervisor_self") {
        for &s in supervisors.iter().take(2) {
            forms.push((s, Some(s), true));
        }
    }
    for (person, subject, self_eval) in forms {
        let month = 1 + rng.below(11) as u32;
        let day = 1 + rng.below(28) as u32;
        let date = NaiveDate::from_ymd_opt(year, month, day).expect("valid date");
        let p_eff = 0.3 * world.people[person].effect;
        let s_eff = subject
            .map(|s| 0.25 * world.people[s].effect)
            .unwrap_or(0.0);
        let values = inst
            .items
            .iter()
            .map(|item| {
                if item.kind == ItemKind::Text {
                    return None;
                }
                if rng.chance(0.02) {
                    return None;
                }
                if item.kind == ItemKind::Likert && rng.chance(0.03) {
                    return Some(Answer::NotApplicable);
                }
                let shift = story(dinst, dspec, &inst.id, &item.subscale, year);
                // Latent mean near 3.9 on a 1-5 scale, moved to the item's scale.
                let z = 3.9 + base + shift + p_eff + s_eff + 0.6 * rng.normal();
                let (a, b) = inst.item_scale(item);
                let scaled = a + (z - 1.0) / 4.0 * (b - a);
                let v = if item.kind == ItemKind::Grade {
                    ((scaled * 2.0).round() / 2.0).clamp(a, b)
                } else {
                    scaled.round().clamp(lo, hi)
                };
                Some(Answer::Value(v))
            })
            .collect();
        out.push(Answered {
            person,
            subject,
            self_eval,
            date,
            dept: dept_idx,
            values,
        });
    }
    out
}

/// Different exports spell the same institution differently.
fn spelling(rng: &mut Rng, d: &Inst) -> String {
    let k = rng.below(d.aliases.len() + 1);
    if k == 0 {
        d.name.clone()
    } else {
        d.aliases[k - 1].clone()
    }
}

fn fmt_value(v: f64, decimal_comma: bool) -> String {
    let s = if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    };
    if decimal_comma {
        if v.fract() == 0.0 {
            format!("{v:.0},0")
        } else {
            s.replace('.', ",")
        }
    } else {
        s
    }
}

fn csv_bytes(rows: &[Vec<String>], delimiter: u8, always_quote: bool, crlf: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .quote_style(if always_quote {
            csv::QuoteStyle::Always
        } else {
            csv::QuoteStyle::Necessary
        })
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .flexible(true)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).expect("in-memory write");
    }
    w.into_inner().expect("in-memory write")
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

const TOPS: &[&str] = &[
    "Veel ruimte om zelfstandig te werken",
    "Supervisoren zijn goed bereikbaar, ook 's nachts",
    "Fijne sfeer in de assistentengroep",
    "Goed onderwijsprogramma op dinsdagmiddag",
    "Leerzame casuïstiek en veel variatie",
];
const TIPS: &[&str] = &[
    "Meer feedback na diensten",
    "Roosters eerder bekendmaken",
    "Minder administratieve taken voor aios",
    "Overdracht 's ochtends beter structureren",
    "Meer tijd voor onderwijs naast de kliniek",
];

/// Writes the whole sample region into `out`.
pub fn write_sample_region(out: &Path, catalogue: &Catalogue, seed: u64) -> Result<SampleSummary> {
    let mut world = World::new(seed);
    let mut summary = SampleSummary::default();
    write_file(&out.join("registry.toml"), registry_toml().as_bytes())?;
    write_file(&out.join("opleidingsmonitor.toml"), CONFIG.as_bytes())?;
    for (name, text) in PROFILES {
        write_file(&out.join("profiles").join(name), text.as_bytes())?;
    }
    let get = |id: &str, v: &str| {
        catalogue.get(id, v).ok_or_else(|| Error::Definition {
            file: format!("{id}@{v}"),
            message: "the sample needs this instrument version".into(),
        })
    };
    let mut invitations = vec!["instrument,year,institution,specialty,invited".to_string()];
    for year in SAMPLE_YEARS {
        for si in 0..world.specialties.len() {
            let spec = world.specialties[si].clone();
            let depts: Vec<usize> = (0..world.departments.len())
                .filter(|&i| world.departments[i].specialty == si)
                .collect();
            for instrument in ["d-rect", "setq", "effect", "mctq"] {
                if !calendar(&spec.code, instrument, year) {
                    continue;
                }
                let (inst, rate, per_aios) = match instrument {
                    "d-rect" if year <= 2021 => (get("d-rect", "2011")?, 0.85, 0),
                    "d-rect" => (get("d-rect", "2016")?, 0.85, 0),
                    "setq" if year <= 2022 => (get("setq", "smart-2016")?, 0.75, 3),
                    "setq" => (get("setq", "smart-7pt")?, 0.75, 3),
                    "effect" => (get("effect", "2012")?, 0.7, 2),
                    _ => (get("mctq", "2010")?, 0.7, 2),
                };
                let mut responses = Vec::new();
                for &d in &depts {
                    let dept = &world.departments[d];
                    if year < dept.first_year {
                        continue;
                    }
                    let inst_id = &world.institutions[dept.institution].id;
                    // The missing measurement: Meerhaven neurology did not
                    // run D-RECT in 2024 although the calendar expects it.
                    if instrument == "d-rect"
                        && year == 2024
                        && inst_id == "meerhaven"
                        && spec.code == "neu"
                    {
                        continue;
                    }
                    invitations.push(format!(
                        "{instrument},{year},{inst_id},{},{}",
                        spec.code, dept.aios_count
                    ));
                    responses.extend(simulate(&mut world, inst, year, d, rate, per_aios));
                }
                responses.sort_by_key(|r| r.date);
                let (rel, bytes, rows) =
                    export(&mut world, instrument, inst, &responses, &spec, year);
                write_file(&out.join(&rel), &bytes)?;
                summary.rows.insert(rel.clone(), rows);
                summary.exports.push(rel);
            }
        }
        let exit = get("exit", "example")?;
        let leavers = exit_leavers(&mut world, exit, year, &mut invitations);
        let (rel, bytes, rows) = exit_xlsx(&mut world, exit, &leavers, year)?;
        write_file(&out.join(&rel), &bytes)?;
        summary.rows.insert(rel.clone(), rows);
        summary.exports.push(rel);
    }
    invitations.push(String::new());
    write_file(
        &out.join("invitations.csv"),
        invitations.join("\n").as_bytes(),
    )?;
    for (sheet, text) in REGISTER {
        write_file(
            &out.join("register").join(format!("{sheet}.csv")),
            text.as_bytes(),
        )?;
    }
    Ok(summary)
}

/// One export file in the layout of the instrument version.
fn export(
    world: &mut World,
    instrument: &str,
    inst: &Instrument,
    responses: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    match (instrument, inst.version.as_str()) {
        ("d-rect", "2011") => drect_plain(world, inst, responses, spec, year),
        ("d-rect", _) => drect_limesurvey(world, inst, responses, spec, year),
        ("setq", v) => setq_qualtrics(world, inst, responses, spec, year, v),
        ("effect", _) => effect_cp1252(world, inst, responses, spec, year),
        _ => mctq_surveymonkey(world, inst, responses, spec, year),
    }
}

/// Those who leave a department this year, about a fifth, fill in the exit
/// survey; their invitations are added to `invitations`.
fn exit_leavers(
    world: &mut World,
    exit: &Instrument,
    year: i32,
    invitations: &mut Vec<String>,
) -> Vec<Answered> {
    let mut leavers = Vec::new();
    for d in 0..world.departments.len() {
        let dept = &world.departments[d];
        if year < dept.first_year {
            continue;
        }
        let n = (dept.aios_count as f64 * 0.25).ceil() as usize;
        invitations.push(format!(
            "exit,{year},{},{},{n}",
            world.institutions[dept.institution].id, world.specialties[dept.specialty].code
        ));
        let mut r = simulate(world, exit, year, d, 1.0, 0);
        r.truncate(n);
        leavers.extend(r);
    }
    leavers.sort_by_key(|r| r.date);
    leavers
}

/// Every name and e-mail address of the people in the sample region made
/// with `seed`: what must never appear in anything the pipeline writes.
pub fn sample_identifiers(seed: u64) -> Vec<String> {
    let world = World::new(seed);
    let mut out = Vec::new();
    for p in &world.people {
        out.push(p.email.clone());
        out.push(format!("{} {}", p.first, p.last));
        out.push(p.last.clone());
    }
    out.sort();
    out.dedup();
    out
}

fn registry_toml() -> String {
    let mut s = String::from(
        "# Organisation registry of the fictional region Noorderveld (sample data).\n\
         # Institutions, specialties and RSOs with their members over time. Exports\n\
         # spell institutions in many ways: every spelling is an alias here.\n\n\
         [[regions]]\nid = \"noorderveld\"\nname = \"Regio Noorderveld (fictief)\"\n",
    );
    for i in INSTITUTIONS {
        let aliases = i
            .aliases
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(s, "\n[[institutions]]\nid = {:?}\nname = {:?}\nregion = \"noorderveld\"\naliases = [{aliases}]\n", i.id, i.name);
    }
    for sp in SPECIALTIES {
        let aliases = sp
            .aliases
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            s,
            "\n[[specialties]]\ncode = {:?}\nname = {:?}\nname_en = {:?}\naliases = [{aliases}]\n",
            sp.code, sp.name, sp.name_en
        );
    }
    for sp in SPECIALTIES {
        let _ = write!(
            s,
            "\n[[rsos]]\nid = {:?}\nname = \"{}, regio Noorderveld\"\nspecialty = {:?}\nregion = \"noorderveld\"\n",
            sp.rso, sp.name, sp.code
        );
        if let Some(start) = sp.cycle_start {
            let _ = writeln!(
                s,
                "# Its own two-year cycles ({start}-{}, {}-{}, ...), not the region's.\ncycle_start = {start}",
                start + 1,
                start + 2,
                start + 3
            );
        }
        s.push_str("members = [\n");
        for &(inst, spec, _, _, from) in DEPARTMENTS {
            if spec == sp.code {
                let _ = writeln!(s, "  {{ institution = {inst:?}, valid_from = {from} }},");
            }
        }
        s.push_str("]\n");
    }
    s
}

const CONFIG: &str = r#"# Opleidingsmonitor configuration for the fictional sample region Noorderveld.
# Paths are relative to this file.
title = "Regio Noorderveld (fictief voorbeeld)"

[paths]
inbox = "inbox"                      # drop the survey exports here
dataset = "output/dataset"           # the Parquet dataset
reports = "output/reports"           # the reports
registry = "registry.toml"           # institutions, specialties, RSOs
profiles = "profiles"                # one file per export layout
invitations = "invitations.csv"      # invited per instrument, year and department
register = "register"                # the quality register: one CSV per sheet (or kwaliteitsregister.xlsx)
# The pseudonymisation key: created on the first run (mode 0600). Keep it
# outside the dataset and out of version control.
key_file = "output/opleidingsmonitor.key"

[privacy]
floor = 4                            # minimum respondents to publish (never below 3)

[scoring]
min_answered_fraction = 0.5          # a subscale score needs half of its items answered
first_cycle_year = 2019              # cycles: 2019-2020, 2021-2022, 2023-2024 (neu-nv keeps its own: registry.toml)

# Strengths, improvement points and signals. No official cut-offs exist for
# these instruments: these are the region's settings (the defaults shown).
[rules]
strength_pomp = 75.0                 # strength: reliable score at or above this (0-100)
improvement_pomp = 62.5              # improvement point: reliable score below this
significance = 0.05                  # p below which a change is significant
decline_effect = 0.5                 # a significant decline with |Hedges' g| at least this
min_response_rate = 0.5              # signal: response rate below this

[report]
language = "nl"                      # nl or en
# pdf = true                         # also every report as an A4 PDF (0.1-0.2 s per report)

# The year calendar: which instrument each RSO is expected to run when. A
# measurement the calendar expects but the data lack is a signal.
[[calendar]]
instrument = "d-rect"
from = 2019
every = 1

[[calendar]]
instrument = "exit"
from = 2019
every = 1

[[calendar]]
instrument = "setq"
from = 2019
every = 1
specialties = ["anes", "int"]

[[calendar]]
instrument = "effect"
from = 2019
every = 2
specialties = ["int", "neu"]

[[calendar]]
instrument = "mctq"
from = 2020
every = 2
"#;

/// The sample region's quality register (`register/<sheet>.csv`): the
/// built-in stories answered, see the README's "The quality loop".
const REGISTER: &[(&str, &str)] = &[
    (
        "acties",
        "actie,rso,instelling,bevindingen,instrument,subschaal,omschrijving,eigenaar,start,deadline,status,doel
A1,anes-nv,,2021-2022/anes-nv/d-rect/coaching_assessment/low_score,d-rect,coaching_assessment,\"Na elke dienst een kort feedbackmoment met de supervisor; supervisoren volgen de training 'feedback geven'\",RSO-opleidingscommissie,2022-03-01,2023-03-01,afgerond,>= 65
A2,int-nv,heemdaal,2023-2024/heemdaal:int/d-rect/educational_atmosphere/low_score,d-rect,educational_atmosphere,\"Werkdruk bespreken in de vakgroep; extra supervisor in de avonddienst\",opleidingsgroep,2024-01-15,2024-09-30,lopend,opleidingssfeer terug op het niveau van 2021
A3,neu-nv,,,mctq,coaching,\"Regionale training coaching voor alle supervisoren neurologie\",RSO-opleidingscommissie,2023-09-01,2025-06-30,lopend,coaching op of boven het regiogemiddelde
A4,int-nv,,,exit,workload,\"Exitgesprekken structureel met de opleider voeren\",opleider,2025-01-01,2025-12-31,gepland,
A5,int-nv,umcl,2021-2022/umcl:int/effect/learning_work/low_score,effect,learning_work,\"Het leerwerkplan van elke aios bespreken in het opleidingsoverleg\",opleider,2022-01-10,2023-06-30,afgerond,+5
A6,anes-nv,,,,,\"Jaarlijkse kwaliteitssessie met alle opleiders en aios-vertegenwoordigers\",RSO-opleidingscommissie,2024-01-01,2024-12-31,afgerond,
A7,int-nv,meerhaven,2023-2024/meerhaven:int/effect/assessment/low_score,effect,assessment,\"Beoordelingsgesprekken volgens het nieuwe format; opleider en aios bereiden samen voor\",opleider,2025-02-01,2025-12-31,lopend,>= 65
A8,anes-nv,brakelduin,2023-2024/brakelduin:anes/setq/learner_centeredness/decline,setq,learner_centeredness,\"SETQ-uitkomsten per supervisor bespreken in de vakgroep\",opleider,2025-03-01,2025-10-31,gepland,+5
A9,anes-nv,zonnestede,2023-2024/zonnestede:anes/setq/total/decline,setq,total,\"Supervisoren volgen de cursus 'teach the teacher'\",opleidingsgroep,2025-01-15,2025-09-30,lopend,>= 72
",
    ),
    (
        "besluiten",
        "bevinding,besluit,datum,toelichting
2021-2022/anes-nv/d-rect/coaching_assessment/low_score,erkend,2022-02-15,Herkend in de RSO-opleidingscommissie; actie A1
2021-2022/umcl:int/effect/learning_work/low_score,erkend,2022-01-10,Leerwerkplannen komen in het opleidingsoverleg te weinig aan bod; actie A5
2021-2022/brakelduin:anes/d-rect/formal_education/decline,niet herkend,2022-03-20,Het onderwijsprogramma was dat jaar door een verbouwing tijdelijk verplaatst; de groep ziet geen blijvend probleem
2023-2024/heemdaal:int/d-rect/educational_atmosphere/low_score,in behandeling,2024-12-10,Besproken met de vakgroep; de werkdruk in de avonddiensten is de belangrijkste oorzaak
",
    ),
    (
        "evaluaties",
        "rso,cyclus,zelfevaluatie,context,vergaderdatum,conclusies,advies,gesprekken
anes-nv,2023-2024,\"Feedback en begeleiding zijn na de acties van 2022 duidelijk verbeterd; de SETQ-dalingen in Brakelduin en Zonnestede hebben we nog niet verklaard.\",Zonnestede is sinds 2022 lid van het RSO.,2025-03-18,\"Sterk: begeleiding en feedback na actie A1. Verbeterpunt: SETQ in Brakelduin en Zonnestede.\",\"Bespreek de SETQ-uitkomsten per supervisor in de vakgroepen en leg acties vast in het register.\",Gesprek met de aios-vertegenwoordigers op 2025-02-20.
",
    ),
    (
        "visitaties",
        "visitatie,soort,rso,instelling,datum,uitkomst,punt,omschrijving,deadline,status
V2024-1,RGS-visitatie,int-nv,heemdaal,2024-05-14,\"Positief, met voorwaarden\",voorwaarde,Werkdruk in de avonddiensten verlagen; een plan met tijdlijn naar de RGS,2025-05-01,open
V2024-1,RGS-visitatie,int-nv,heemdaal,2024-05-14,\"Positief, met voorwaarden\",advies,Supervisoren trainen in feedback geven,2025-12-31,in behandeling
V2023-1,interne audit,anes-nv,,2023-10-02,Op orde,,,,
",
    ),
    (
        "signalen",
        "signaal,bron,rso,instelling,ontvangen,omschrijving,stap,eigenaar,volgende_datum,status
S1,werkvloer,int-nv,heemdaal,2024-02-10,Aios melden structureel te weinig supervisie in de avonddienst,bespreking,opleider,2025-09-01,open
S2,kwaliteitsinstrument,neu-nv,,2023-11-05,Daling van de EFFECT-scores van de RSO,monitoring,RSO-opleidingscommissie,2025-03-01,gesloten
",
    ),
    (
        "jaarkalender",
        "rso,instelling,jaar,maand,activiteit,eigenaar,uitgevoerd,vrijstelling
anes-nv,,2023,3,d-rect,onderwijskundige,,
anes-nv,,2024,3,d-rect,onderwijskundige,,
anes-nv,,2024,11,kwaliteitssessie,RSO-opleidingscommissie,2024-11-12,
int-nv,,2024,3,d-rect,onderwijskundige,,
int-nv,,2024,10,mctq,onderwijskundige,,
int-nv,,2024,11,kwaliteitssessie,RSO-opleidingscommissie,,
neu-nv,,2024,3,d-rect,onderwijskundige,,
neu-nv,meerhaven,2024,3,d-rect,onderwijskundige,,In 2024 geen aios in opleiding bij Meerhaven neurologie
",
    ),
];

/// The source profiles of the sample region: the committed files in
/// `data-samples/noorderveld/profiles/` are the one copy (a layout is a data
/// file a user edits, not code).
const PROFILES: &[(&str, &str)] = &[
    (
        "drect2011-plain.toml",
        include_str!("../data-samples/noorderveld/profiles/drect2011-plain.toml"),
    ),
    (
        "drect2016-limesurvey.toml",
        include_str!("../data-samples/noorderveld/profiles/drect2016-limesurvey.toml"),
    ),
    (
        "setq-qualtrics-legacy.toml",
        include_str!("../data-samples/noorderveld/profiles/setq-qualtrics-legacy.toml"),
    ),
    (
        "setq-qualtrics.toml",
        include_str!("../data-samples/noorderveld/profiles/setq-qualtrics.toml"),
    ),
    (
        "setq7-qualtrics.toml",
        include_str!("../data-samples/noorderveld/profiles/setq7-qualtrics.toml"),
    ),
    (
        "effect-cp1252.toml",
        include_str!("../data-samples/noorderveld/profiles/effect-cp1252.toml"),
    ),
    (
        "mctq-surveymonkey.toml",
        include_str!("../data-samples/noorderveld/profiles/mctq-surveymonkey.toml"),
    ),
    (
        "exit-xlsx.toml",
        include_str!("../data-samples/noorderveld/profiles/exit-xlsx.toml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_roughly_normal() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        assert_eq!(a.next_u64(), b.next_u64());
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| a.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // Standard error of the mean is 1/sqrt(20000) = 0.007: 5 SE = 0.035.
        assert!(mean.abs() < 0.035, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn registry_of_the_sample_is_valid() {
        let reg = opleidingsmonitor::org::Registry::from_toml(&registry_toml(), "sample").unwrap();
        assert_eq!(reg.rsos.len(), 3);
        assert_eq!(reg.institutions.len(), 5);
        // Neurology keeps its own cycles from 2020, the others the region's.
        let starts: Vec<(&str, Option<i32>)> = ["anes-nv", "int-nv", "neu-nv"]
            .iter()
            .map(|&id| (id, reg.rsos[id].cycle_start))
            .collect();
        assert_eq!(
            starts,
            [("anes-nv", None), ("int-nv", None), ("neu-nv", Some(2020))]
        );
    }
}
