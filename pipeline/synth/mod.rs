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

use crate::error::{Error, Result};
use crate::instrument::{Catalogue, Instrument, ItemKind};

mod national;
pub use national::{write_national, NationalOptions};

/// A small deterministic random generator (SplitMix64): the sample must not
/// change when a dependency's generator does.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// True with probability p.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

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
}

const SPECIALTIES: &[SpecialtyDef] = &[
    SpecialtyDef {
        code: "anes",
        name: "Anesthesiologie",
        name_en: "Anaesthesiology",
        aliases: &["anesthesie", "ANE", "Anesthesiology"],
        rso: "anes-nv",
    },
    SpecialtyDef {
        code: "int",
        name: "Interne geneeskunde",
        name_en: "Internal medicine",
        aliases: &["interne", "INT", "Inwendige geneeskunde"],
        rso: "int-nv",
    },
    SpecialtyDef {
        code: "neu",
        name: "Neurologie",
        name_en: "Neurology",
        aliases: &["NEU", "neuro"],
        rso: "neu-nv",
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
    write_file(&out.join("ontwikkelplan.csv"), DEVELOPMENT_PLAN.as_bytes())?;
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

fn answer_text(
    a: Option<Answer>,
    labels: Option<&Instrument>,
    na: &str,
    decimal_comma: bool,
) -> String {
    match a {
        None => String::new(),
        Some(Answer::NotApplicable) => na.to_string(),
        Some(Answer::Value(v)) => match labels {
            Some(inst) => inst
                .scale
                .labels
                .iter()
                .find(|l| l.value == v)
                .map(|l| capitalise(&l.nl))
                .unwrap_or_else(|| fmt_value(v, decimal_comma)),
            None => fmt_value(v, decimal_comma),
        },
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

type Export = (String, Vec<u8>, usize);

fn drect_plain(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let mut rows = vec![{
        let mut h: Vec<String> = ["Respondent", "Datum", "Ziekenhuis", "Specialisme", "Email"]
            .map(String::from)
            .to_vec();
        h.extend((1..=inst.items.len()).map(|i| format!("Q{i}")));
        h
    }];
    for r in rs {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let mut row = vec![
            format!("{} {}", p.first, p.last),
            r.date.format("%Y-%m-%d").to_string(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            spec.name.clone(),
            p.email.clone(),
        ];
        row.extend(r.values.iter().map(|&a| answer_text(a, None, "NVT", false)));
        rows.push(row);
    }
    (
        format!(
            "{}/{year}/drect-plain_{}_{year}.csv",
            world.inbox, spec.code
        ),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
}

fn drect_limesurvey(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let mut header: Vec<String> = [
        "id",
        "submitdate",
        "lastpage",
        "startlanguage",
        "seed",
        "token",
        "firstname",
        "lastname",
        "email",
        "ziekenhuis",
        "specialisme",
    ]
    .map(String::from)
    .to_vec();
    header.extend((1..=inst.items.len()).map(|i| format!("DRECT[SQ{i:03}]")));
    let mut rows = vec![header];
    for (n, r) in rs.iter().enumerate() {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let mut row = vec![
            format!("{}", 1000 * (year - 2000) as usize + n + 1),
            format!(
                "{} {:02}:{:02}:{:02}",
                r.date.format("%Y-%m-%d"),
                8 + n % 10,
                n % 60,
                (n * 7) % 60
            ),
            "4".into(),
            "nl".into(),
            format!("{}", world.rng.below(1_000_000_000)),
            format!("tk{:08x}", world.rng.next_u64() as u32),
            p.first.clone(),
            p.last.clone(),
            p.email.clone(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            spec.aliases[0].clone(),
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, Some(inst), "Niet van toepassing", false)),
        );
        rows.push(row);
    }
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(csv_bytes(&rows, b';', true, true));
    (
        format!(
            "{}/{year}/limesurvey_drect_{}_{year}.csv",
            world.inbox, spec.code
        ),
        bytes,
        rs.len(),
    )
}

fn setq_qualtrics(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
    version: &str,
) -> Export {
    let legacy = year <= 2020;
    let meta = [
        "StartDate",
        "EndDate",
        "Status",
        "IPAddress",
        "Progress",
        "Duration (in seconds)",
        "Finished",
        "RecordedDate",
        "ResponseId",
        "RecipientLastName",
        "RecipientFirstName",
        "RecipientEmail",
        "ExternalReference",
        "LocationLatitude",
        "LocationLongitude",
        "DistributionChannel",
        "UserLanguage",
        "Ziekenhuis",
        "Specialisme",
        "Supervisor",
        "Rol",
    ];
    let mut tags: Vec<String> = meta.map(String::from).to_vec();
    tags.extend((1..=inst.items.len()).map(|i| format!("Q1_{i}")));
    let mut texts: Vec<String> = meta.map(String::from).to_vec();
    texts.extend(inst.items.iter().enumerate().map(|(i, it)| {
        format!(
            "Hoe beoordeelt u deze supervisor? - {}",
            it.nl
                .clone()
                .or(it.en.clone())
                .unwrap_or(format!("Stelling {}", i + 1))
        )
    }));
    let mut rows = vec![tags.clone(), texts];
    if !legacy {
        rows.push(
            tags.iter()
                .map(|t| format!("{{\"ImportId\":\"{}\"}}", t.replace("Q1_", "QID1_")))
                .collect(),
        );
    }
    for r in rs {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let s = &world.people[r.subject.expect("rated supervisor")];
        let rng = &mut world.rng;
        let start = r
            .date
            .and_hms_opt(9 + rng.below(8) as u32, rng.below(60) as u32, 0)
            .expect("time");
        let end = start + chrono::Duration::seconds(200 + rng.below(600) as i64);
        let mut row = vec![
            start.format("%Y-%m-%d %H:%M:%S").to_string(),
            end.format("%Y-%m-%d %H:%M:%S").to_string(),
            "IP Address".into(),
            format!(
                "145.{}.{}.{}",
                rng.below(255),
                rng.below(255),
                rng.below(255)
            ),
            "100".into(),
            format!("{}", (end - start).num_seconds()),
            "True".into(),
            end.format("%Y-%m-%d %H:%M:%S").to_string(),
            format!("R_{:016x}", rng.next_u64()),
            p.last.clone(),
            p.first.trim_start_matches("Dr. ").to_string(),
            p.email.clone(),
            String::new(),
            "52.09".into(),
            "5.12".into(),
            "email".into(),
            "NL".into(),
            spelling(rng, &world.institutions[d.institution]),
            spec.name.clone(),
            format!("{} {}", s.first, s.last),
            if r.self_eval {
                "Supervisor (zelfevaluatie)".into()
            } else {
                "AIOS".into()
            },
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, None, "N.v.t.", false)),
        );
        rows.push(row);
    }
    let prefix = if legacy {
        "qualtrics-legacy_setq"
    } else if version == "smart-7pt" {
        "qualtrics_setq7"
    } else {
        "qualtrics_setq"
    };
    (
        format!("{}/{year}/{prefix}_{}_{year}.csv", world.inbox, spec.code),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
}

fn effect_cp1252(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let mut header: Vec<String> = [
        "Respondentnummer",
        "Naam",
        "E-mail",
        "Datum",
        "Instelling",
        "Specialisme",
        "Supervisor",
        "Rol",
        "Duur (min)",
    ]
    .map(String::from)
    .to_vec();
    header.extend((1..=inst.items.len()).map(|i| format!("V{i}")));
    let mut rows = vec![header];
    for (n, r) in rs.iter().enumerate() {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let s = &world.people[r.subject.expect("rated supervisor")];
        let minutes = 8.0 + world.rng.below(40) as f64 / 4.0;
        let mut row = vec![
            format!("E{year}-{:04}", n + 1),
            format!("{} {}", p.first, p.last),
            p.email.clone(),
            r.date.format("%d-%m-%Y").to_string(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            spec.name.clone(),
            format!("{} {}", s.first, s.last),
            if r.self_eval {
                "supervisor".into()
            } else {
                "aios".into()
            },
            fmt_value(minutes, true),
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, None, "n.v.t.", true)),
        );
        rows.push(row);
    }
    let text = String::from_utf8(csv_bytes(&rows, b';', false, true)).expect("utf-8");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    debug_assert!(!unmappable, "sample names fit Windows-1252");
    (
        format!("{}/{year}/effect_{}_{year}.csv", world.inbox, spec.code),
        bytes.into_owned(),
        rs.len(),
    )
}

fn mctq_surveymonkey(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let meta = [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "End Date",
        "IP Address",
        "Email Address",
        "First Name",
        "Last Name",
        "Ziekenhuis",
        "Specialisme",
        "Supervisor",
    ];
    let mut q: Vec<String> = meta.map(String::from).to_vec();
    let mut sub: Vec<String> = vec![String::new(); meta.len()];
    q[8..]
        .iter_mut()
        .zip(sub[8..].iter_mut())
        .for_each(|(_, s)| *s = "Response".into());
    let mut first_matrix = true;
    for (i, it) in inst.items.iter().enumerate() {
        if it.kind == ItemKind::Grade {
            q.push("Eindcijfer voor deze supervisor".into());
            sub.push("Response".into());
        } else {
            // SurveyMonkey writes the matrix question once, above its first column.
            q.push(if first_matrix {
                "MCTQ stellingen".into()
            } else {
                String::new()
            });
            first_matrix = false;
            sub.push(format!("Stelling {:02}", i + 1));
        }
    }
    let mut rows = vec![q, sub];
    for r in rs {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let s = &world.people[r.subject.expect("rated supervisor")];
        let rng = &mut world.rng;
        let t = r
            .date
            .and_hms_opt(
                8 + rng.below(10) as u32,
                rng.below(60) as u32,
                rng.below(60) as u32,
            )
            .expect("time");
        let mut row = vec![
            format!("{}", 11_000_000_000u64 + rng.below(1_000_000_000) as u64),
            "431234567".into(),
            t.format("%m/%d/%Y %I:%M:%S %p").to_string(),
            (t + chrono::Duration::minutes(6))
                .format("%m/%d/%Y %I:%M:%S %p")
                .to_string(),
            format!(
                "84.{}.{}.{}",
                rng.below(255),
                rng.below(255),
                rng.below(255)
            ),
            p.email.clone(),
            p.first.clone(),
            p.last.clone(),
            spelling(rng, &world.institutions[d.institution]),
            spec.name.clone(),
            format!("{} {}", s.first, s.last),
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, None, "N.v.t.", false)),
        );
        rows.push(row);
    }
    (
        format!(
            "{}/{year}/surveymonkey_mctq_{}_{year}.csv",
            world.inbox, spec.code
        ),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
}

fn exit_xlsx(world: &mut World, inst: &Instrument, rs: &[Answered], year: i32) -> Result<Export> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    // A fixed creation time: the same seed must give the same bytes.
    let created = ExcelDateTime::from_ymd(year as u16, 12, 31)
        .map_err(|e| Error::dataset(Path::new("exit.xlsx"), e))?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let sheet = book.add_worksheet();
    sheet
        .set_name("Exitenquête")
        .map_err(|e| Error::dataset(Path::new("exit.xlsx"), e))?;
    let xerr = |e: rust_xlsxwriter::XlsxError| Error::dataset(Path::new("exit.xlsx"), e);
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("dd-mm-yyyy");
    sheet
        .write_string_with_format(
            0,
            0,
            format!("Exitenquête aios regio Noorderveld — export {year}"),
            &bold,
        )
        .map_err(xerr)?;
    let header = exit_header(inst);
    for (c, h) in header.iter().enumerate() {
        sheet
            .write_string_with_format(1, c as u16, h, &bold)
            .map_err(xerr)?;
    }
    for (n, r) in rs.iter().enumerate() {
        let row = n as u32 + 2;
        let p = world.people[r.person].clone();
        let d = &world.departments[r.dept];
        let (inst_idx, spec_idx) = (d.institution, d.specialty);
        let date = ExcelDateTime::from_ymd(
            year as u16,
            r.date.format("%m").to_string().parse().unwrap_or(1),
            r.date.format("%d").to_string().parse().unwrap_or(1),
        )
        .map_err(xerr)?;
        sheet
            .write_datetime_with_format(row, 0, &date, &date_fmt)
            .map_err(xerr)?;
        let spelled = spelling(&mut world.rng, &world.institutions[inst_idx]);
        sheet.write_string(row, 1, spelled).map_err(xerr)?;
        sheet
            .write_string(row, 2, &world.specialties[spec_idx].name)
            .map_err(xerr)?;
        sheet
            .write_string(row, 3, format!("{} {}", p.first, p.last))
            .map_err(xerr)?;
        sheet.write_string(row, 4, &p.email).map_err(xerr)?;
        for (i, it) in inst.items.iter().enumerate() {
            let col = 5 + i as u16;
            match (it.kind, r.values[i]) {
                (ItemKind::Text, _) => {
                    let text = exit_comment(&mut world.rng, &it.id, &p.email);
                    sheet.write_string(row, col, text).map_err(xerr)?;
                }
                (_, Some(Answer::Value(v))) => {
                    sheet.write_number(row, col, v).map_err(xerr)?;
                }
                (_, Some(Answer::NotApplicable)) => {
                    sheet.write_string(row, col, "n.v.t.").map_err(xerr)?;
                }
                (_, None) => {}
            }
        }
    }
    let bytes = book.save_to_buffer().map_err(xerr)?;
    Ok((
        format!("{}/{year}/exit_{year}.xlsx", world.inbox),
        bytes,
        rs.len(),
    ))
}

/// The exit survey's column headings.
fn exit_header(inst: &Instrument) -> Vec<String> {
    let mut header: Vec<String> = ["Datum", "Ziekenhuis", "Specialisme", "Naam", "E-mailadres"]
        .map(String::from)
        .to_vec();
    for it in &inst.items {
        header.push(match it.kind {
            ItemKind::Grade => "Rapportcijfer".into(),
            ItemKind::Text if it.id.ends_with("tops") => "Tops".into(),
            ItemKind::Text => "Tips".into(),
            ItemKind::Likert => format!(
                "Vraag {}",
                it.id.trim_start_matches("exit_q").trim_start_matches('0')
            ),
        });
    }
    header
}

/// An exit survey's open answer (tops or tips).
fn exit_comment(rng: &mut Rng, item_id: &str, email: &str) -> String {
    let list = if item_id.ends_with("tops") {
        TOPS
    } else {
        TIPS
    };
    let mut text = list[rng.below(list.len())].to_string();
    // Now and then an aios leaves an address: it must be masked.
    if rng.chance(0.15) {
        let _ = write!(text, " (mail me gerust: {email})");
    }
    text
}

/// The exit survey as a plain CSV (the national benchmark's layout: every
/// benchmark export is CSV, so another engine can read the same files).
fn exit_csv(world: &mut World, inst: &Instrument, rs: &[Answered], year: i32) -> Export {
    let mut rows = vec![exit_header(inst)];
    for r in rs {
        let p = world.people[r.person].clone();
        let d = &world.departments[r.dept];
        let mut row = vec![
            r.date.format("%Y-%m-%d").to_string(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            world.specialties[d.specialty].name.clone(),
            format!("{} {}", p.first, p.last),
            p.email.clone(),
        ];
        for (i, it) in inst.items.iter().enumerate() {
            row.push(match it.kind {
                ItemKind::Text => exit_comment(&mut world.rng, &it.id, &p.email),
                _ => answer_text(r.values[i], None, "n.v.t.", false),
            });
        }
        rows.push(row);
    }
    (
        format!("{}/{year}/exit-csv_{year}.csv", world.inbox),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
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
            "\n[[rsos]]\nid = {:?}\nname = \"{}, regio Noorderveld\"\nspecialty = {:?}\nregion = \"noorderveld\"\nmembers = [\n",
            sp.rso, sp.name, sp.code
        );
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
development_plan = "ontwikkelplan.csv"
# The pseudonymisation key: created on the first run (mode 0600). Keep it
# outside the dataset and out of version control.
key_file = "output/opleidingsmonitor.key"

[privacy]
floor = 4                            # minimum respondents to publish (never below 3)

[scoring]
min_answered_fraction = 0.5          # a subscale score needs half of its items answered
first_cycle_year = 2019              # cycles: 2019-2020, 2021-2022, 2023-2024

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

const DEVELOPMENT_PLAN: &str = "action_id,rso_id,institution_id,instrument,scale_id,description,owner_role,start,due,status,target
A1,anes-nv,,d-rect,coaching_assessment,\"Na elke dienst een kort feedbackmoment met de supervisor; supervisoren volgen de training 'feedback geven'\",RSO-opleidingscommissie,2022-03-01,2023-03-01,afgerond,\"begeleiden en toetsen minstens 70 op 0-100\"
A2,int-nv,heemdaal,d-rect,educational_atmosphere,\"Werkdruk bespreken in de vakgroep; extra supervisor in de avonddienst\",opleidingsgroep,2024-01-15,2024-09-30,lopend,\"opleidingssfeer terug op het niveau van 2021\"
A3,neu-nv,,mctq,coaching,\"Regionale training coaching voor alle supervisoren neurologie\",RSO-opleidingscommissie,2023-09-01,2025-06-30,lopend,\"coaching op of boven het regiogemiddelde\"
A4,int-nv,,exit,workload,\"Exitgesprekken structureel met de opleider voeren\",opleider,2025-01-01,2025-12-31,gepland,\"\"
";

const PROFILES: &[(&str, &str)] = &[
    (
        "drect2011-plain.toml",
        r#"# D-RECT 2011 from the region's own survey tool: plain UTF-8 CSV with ','.
description = "D-RECT 2011, plain CSV export"
instrument = "d-rect"
version = "2011"
files = ["drect-plain_*.csv"]
format = "csv"
encoding = "utf-8"
delimiter = ","
layout = "plain"

[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "Email"
identifiers = ["Respondent"]

[[item_patterns]]
regex = '^Q(\d+)$'
item = "d11_q{1:02}"
"#,
    ),
    (
        "drect2016-limesurvey.toml",
        r#"# D-RECT 2016 from LimeSurvey: BOM, ';', every field quoted, CRLF, code
# headings with [subquestion] suffixes, full-text answers.
description = "D-RECT 2016, LimeSurvey CSV export (codes, full answers)"
instrument = "d-rect"
version = "2016"
files = ["limesurvey_drect_*.csv"]
format = "csv"
encoding = "auto"
delimiter = "auto"
layout = "limesurvey"

[columns]
response_id = "id"
submitted_on = "submitdate"
institution = "ziekenhuis"
specialty = "specialisme"
respondent = "email"
identifiers = ["token", "firstname", "lastname"]
ignore = ["lastpage", "startlanguage", "seed"]

[[item_patterns]]
regex = '^DRECT\[SQ0*(\d+)\]$'
item = "d16_q{1:02}"
"#,
    ),
    (
        "setq-qualtrics-legacy.toml",
        r#"# SETQ smart from Qualtrics, legacy export: 2 header rows (export tags, question texts).
description = "SETQ smart (5-point), Qualtrics legacy 2-row CSV"
instrument = "setq"
version = "smart-2016"
files = ["qualtrics-legacy_setq_*.csv"]
layout = "qualtrics-legacy"

[columns]
response_id = "ResponseId"
submitted_on = "EndDate"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "RecipientEmail"
subject = "Supervisor"
role = "Rol"
identifiers = ["RecipientFirstName", "RecipientLastName", "IPAddress", "ExternalReference"]
ignore = ["StartDate", "Status", "Progress", "Duration (in seconds)", "Finished", "RecordedDate", "Location*", "DistributionChannel", "UserLanguage"]

[roles]
"AIOS" = "aios"
"Supervisor (zelfevaluatie)" = "supervisor_self"

[[item_patterns]]
regex = '^Q1_(\d+)$'
item = "smart_q{1:02}"
"#,
    ),
    (
        "setq-qualtrics.toml",
        r#"# SETQ smart from Qualtrics: 3 header rows (export tags, question texts, ImportId JSON).
description = "SETQ smart (5-point), Qualtrics 3-row CSV"
instrument = "setq"
version = "smart-2016"
files = ["qualtrics_setq_*.csv"]
layout = "qualtrics"

[columns]
response_id = "ResponseId"
submitted_on = "EndDate"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "RecipientEmail"
subject = "Supervisor"
role = "Rol"
identifiers = ["RecipientFirstName", "RecipientLastName", "IPAddress", "ExternalReference"]
ignore = ["StartDate", "Status", "Progress", "Duration (in seconds)", "Finished", "RecordedDate", "Location*", "DistributionChannel", "UserLanguage"]

[roles]
"AIOS" = "aios"
"Supervisor (zelfevaluatie)" = "supervisor_self"

[[item_patterns]]
regex = '^Q1_(\d+)$'
item = "smart_q{1:02}"
"#,
    ),
    (
        "setq7-qualtrics.toml",
        r#"# SETQ smart on the 7-point scale, Qualtrics 3-row CSV.
description = "SETQ smart (7-point), Qualtrics 3-row CSV"
instrument = "setq"
version = "smart-7pt"
files = ["qualtrics_setq7_*.csv"]
layout = "qualtrics"

[columns]
response_id = "ResponseId"
submitted_on = "EndDate"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "RecipientEmail"
subject = "Supervisor"
role = "Rol"
identifiers = ["RecipientFirstName", "RecipientLastName", "IPAddress", "ExternalReference"]
ignore = ["StartDate", "Status", "Progress", "Duration (in seconds)", "Finished", "RecordedDate", "Location*", "DistributionChannel", "UserLanguage"]

[roles]
"AIOS" = "aios"
"Supervisor (zelfevaluatie)" = "supervisor_self"

[[item_patterns]]
regex = '^Q1_(\d+)$'
item = "smart7_q{1:02}"
"#,
    ),
    (
        "effect-cp1252.toml",
        r#"# EFFECT from the department's spreadsheet: Windows-1252, ';', decimal comma.
description = "EFFECT, Windows-1252 CSV with ';' and decimal comma"
instrument = "effect"
version = "2012"
files = ["effect_*.csv"]
encoding = "windows-1252"
delimiter = ";"
decimal_comma = true
date_formats = ["%d-%m-%Y"]

[columns]
response_id = "Respondentnummer"
submitted_on = "Datum"
institution = "Instelling"
specialty = "Specialisme"
respondent = "E-mail"
subject = "Supervisor"
role = "Rol"
identifiers = ["Naam"]
ignore = ["Duur (min)"]

[roles]
"supervisor" = "supervisor_self"

[[item_patterns]]
regex = '^V(\d+)$'
item = "eff_q{1:02}"
"#,
    ),
    (
        "mctq-surveymonkey.toml",
        r#"# MCTQ from SurveyMonkey: 2 header rows; the matrix question is filled
# forward, so headings read "MCTQ stellingen [Stelling 01]".
description = "MCTQ, SurveyMonkey 2-row CSV"
instrument = "mctq"
version = "2010"
files = ["surveymonkey_mctq_*.csv"]
layout = "surveymonkey"

[columns]
response_id = "Respondent ID"
submitted_on = "End Date"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "Email Address"
subject = "Supervisor"
identifiers = ["First Name", "Last Name", "IP Address"]
ignore = ["Collector ID", "Start Date"]

[defaults]
role = "aios"

[items]
"Eindcijfer voor deze supervisor" = "mctq_q16"

[[item_patterns]]
regex = '^MCTQ stellingen \[Stelling 0*(\d+)\]$'
item = "mctq_q{1:02}"
"#,
    ),
    (
        "exit-xlsx.toml",
        r#"# The region's exit survey as an Excel workbook with a title row above the header.
description = "Exit survey, XLSX with a title row"
instrument = "exit"
version = "example"
files = ["exit_*.xlsx"]
format = "xlsx"
header_row = 2

[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "E-mailadres"
identifiers = ["Naam"]

[items]
"Rapportcijfer" = "exit_q09"
"Tops" = "exit_tops"
"Tips" = "exit_tips"

[[item_patterns]]
regex = '^Vraag (\d+)$'
item = "exit_q{1:02}"
"#,
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
        let reg = crate::org::Registry::from_toml(&registry_toml(), "sample").unwrap();
        assert_eq!(reg.rsos.len(), 3);
        assert_eq!(reg.institutions.len(), 5);
    }
}
