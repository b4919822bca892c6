//! The benchmark's national dataset: eight fictional regions with about
//! ninety institutions training thirty specialties, every instrument every
//! year, as CSV exports in the sample's layouts (the exit survey as CSV
//! instead of XLSX, so another engine can read every file).
//!
//! At the default scale ten years hold about 2 million questionnaires and
//! 50 million item answers. Each region is its own world with its own seed,
//! generated in parallel; the same options give the same bytes.

use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;

use super::{
    exit_csv, exit_leavers, export, simulate, write_file, Inst, Rng, SampleSummary, Spec, World,
    PROFILES,
};
use opleidingsmonitor::error::{Error, Result};
use opleidingsmonitor::instrument::Catalogue;

/// What to generate.
#[derive(Debug, Clone)]
pub struct NationalOptions {
    /// Seed of the generator.
    pub seed: u64,
    /// Number of regions (1 to 8).
    pub regions: usize,
    /// First year of data.
    pub first_year: i32,
    /// Number of years.
    pub years: i32,
    /// Multiplies the number of supervisors each aios rates per instrument
    /// and year (1.0: the national default of about 2 million
    /// questionnaires over ten years).
    pub scale: f64,
}

impl Default for NationalOptions {
    fn default() -> NationalOptions {
        NationalOptions {
            seed: 2015,
            regions: 8,
            first_year: 2015,
            years: 10,
            scale: 1.0,
        }
    }
}

const REGIONS: &[(&str, &str)] = &[
    ("noorderveld", "Regio Noorderveld"),
    ("westerkust", "Regio Westerkust"),
    ("oostermark", "Regio Oostermark"),
    ("zuiderhaven", "Regio Zuiderhaven"),
    ("middenland", "Regio Middenland"),
    ("veenstreek", "Regio Veenstreek"),
    ("heuvelland", "Regio Heuvelland"),
    ("rivierenland", "Regio Rivierenland"),
];

/// (code, name, English name, alias): the thirty specialties.
const SPECIALTIES: &[(&str, &str, &str, &str)] = &[
    ("anes", "Anesthesiologie", "Anaesthesiology", "ANE"),
    ("card", "Cardiologie", "Cardiology", "CAR"),
    (
        "cthc",
        "Cardiothoracale chirurgie",
        "Cardiothoracic surgery",
        "CTC",
    ),
    ("derm", "Dermatologie", "Dermatology", "DER"),
    ("chir", "Heelkunde", "Surgery", "CHI"),
    ("int", "Interne geneeskunde", "Internal medicine", "INT"),
    (
        "kno",
        "Keel-, neus- en oorheelkunde",
        "Otorhinolaryngology",
        "KNO",
    ),
    ("kind", "Kindergeneeskunde", "Paediatrics", "KIN"),
    ("kchem", "Klinische chemie", "Clinical chemistry", "KCH"),
    ("kgen", "Klinische genetica", "Clinical genetics", "KGE"),
    ("ger", "Klinische geriatrie", "Clinical geriatrics", "GER"),
    ("long", "Longziekten en tuberculose", "Pulmonology", "LON"),
    ("mdl", "Maag-darm-leverziekten", "Gastroenterology", "MDL"),
    (
        "mmb",
        "Medische microbiologie",
        "Medical microbiology",
        "MMB",
    ),
    (
        "mka",
        "Mondziekten, kaak- en aangezichtschirurgie",
        "Oral and maxillofacial surgery",
        "MKA",
    ),
    ("nch", "Neurochirurgie", "Neurosurgery", "NCH"),
    ("neu", "Neurologie", "Neurology", "NEU"),
    ("nucl", "Nucleaire geneeskunde", "Nuclear medicine", "NUC"),
    (
        "gyn",
        "Obstetrie en gynaecologie",
        "Obstetrics and gynaecology",
        "GYN",
    ),
    ("oog", "Oogheelkunde", "Ophthalmology", "OOG"),
    ("orth", "Orthopedie", "Orthopaedics", "ORT"),
    ("path", "Pathologie", "Pathology", "PAT"),
    ("plas", "Plastische chirurgie", "Plastic surgery", "PLA"),
    ("psy", "Psychiatrie", "Psychiatry", "PSY"),
    ("rad", "Radiologie", "Radiology", "RAD"),
    ("radt", "Radiotherapie", "Radiation oncology", "RTH"),
    ("reum", "Reumatologie", "Rheumatology", "REU"),
    (
        "reva",
        "Revalidatiegeneeskunde",
        "Rehabilitation medicine",
        "REV",
    ),
    (
        "seh",
        "Spoedeisende geneeskunde",
        "Emergency medicine",
        "SEH",
    ),
    ("uro", "Urologie", "Urology", "URO"),
];

const TOWN_START: &[&str] = &[
    "Aal", "Bree", "Dal", "Eem", "Gelder", "Haver", "Kamp", "Lin", "Mol", "Oud", "Ros", "Stein",
    "Ter", "Vlie", "Wad", "Zand",
];
const TOWN_END: &[&str] = &[
    "dam", "dorp", "hoven", "veen", "wijk", "haven", "stede", "burg", "lo", "drecht", "zijl",
];

/// Institutions per region (the first is the academic centre).
const INSTITUTIONS_PER_REGION: usize = 11;

/// Writes the national dataset's inputs into `out`: registry, profiles,
/// configuration, invitations and `inbox/<region>/<year>/` exports.
pub fn write_national(
    out: &Path,
    catalogue: &Catalogue,
    opt: &NationalOptions,
) -> Result<SampleSummary> {
    if !(1..=REGIONS.len()).contains(&opt.regions) || opt.years < 1 || opt.scale <= 0.0 {
        return Err(Error::Definition {
            file: "bench".into(),
            message: format!(
                "regions must be 1 to {}, years at least 1 and scale above 0",
                REGIONS.len()
            ),
        });
    }
    for (id, v) in [
        ("d-rect", "2011"),
        ("d-rect", "2016"),
        ("setq", "smart-2016"),
        ("setq", "smart-7pt"),
        ("effect", "2012"),
        ("mctq", "2010"),
        ("exit", "example"),
    ] {
        if catalogue.get(id, v).is_none() {
            return Err(Error::Definition {
                file: format!("{id}@{v}"),
                message: "the benchmark needs this instrument version".into(),
            });
        }
    }
    let specialties: Vec<Spec> = SPECIALTIES
        .iter()
        .map(|&(code, name, name_en, alias)| Spec {
            code: code.into(),
            name: name.into(),
            name_en: name_en.into(),
            aliases: vec![alias.into(), name.to_lowercase()],
        })
        .collect();
    // Town names, shuffled once: unique institution ids across regions.
    let mut towns: Vec<String> = TOWN_START
        .iter()
        .flat_map(|a| TOWN_END.iter().map(move |b| format!("{a}{b}")))
        .collect();
    let mut rng = Rng::new(opt.seed);
    for i in (1..towns.len()).rev() {
        towns.swap(i, rng.below(i + 1));
    }
    let years = opt.first_year..=opt.first_year + opt.years - 1;
    let worlds: Vec<World> = (0..opt.regions)
        .map(|r| {
            let (region, _) = REGIONS[r];
            let mut rng = Rng::new(opt.seed.wrapping_add(1 + r as u64));
            let institutions: Vec<Inst> = (0..INSTITUTIONS_PER_REGION)
                .map(|k| {
                    let town = &towns[r * INSTITUTIONS_PER_REGION + k];
                    let (name, short) = match k {
                        0 => (
                            format!("Universitair Medisch Centrum {town}"),
                            format!("UMC {town}"),
                        ),
                        k if k % 3 == 1 => (format!("Ziekenhuis {town}"), format!("ZH {town}")),
                        k if k % 3 == 2 => (format!("{town} Gasthuis"), format!("Gasthuis {town}")),
                        _ => (format!("Medisch Centrum {town}"), format!("MC {town}")),
                    };
                    Inst {
                        id: town.to_lowercase(),
                        name,
                        aliases: vec![town.clone(), short],
                        mail: town.to_lowercase(),
                    }
                })
                .collect();
            // The academic centre trains every specialty; each other
            // institution about one in five.
            let mut plan = Vec::new();
            for s in 0..specialties.len() {
                for i in 0..institutions.len() {
                    let n = if i == 0 {
                        8 + rng.below(12)
                    } else if rng.chance(0.2) {
                        3 + rng.below(10)
                    } else {
                        continue;
                    };
                    plan.push((i, s, n, opt.first_year));
                }
            }
            World::build(
                rng,
                institutions,
                specialties.clone(),
                &plan,
                format!("inbox/{region}"),
                years.clone(),
                |n| n + 5,
            )
        })
        .collect();

    write_file(
        &out.join("registry.toml"),
        registry(&worlds, opt).as_bytes(),
    )?;
    write_file(&out.join("opleidingsmonitor.toml"), config(opt).as_bytes())?;
    for (name, text) in PROFILES.iter().filter(|(n, _)| *n != "exit-xlsx.toml") {
        write_file(&out.join("profiles").join(name), text.as_bytes())?;
    }
    write_file(
        &out.join("profiles/exit-csv.toml"),
        EXIT_CSV_PROFILE.as_bytes(),
    )?;

    let parts: Vec<(SampleSummary, Vec<String>)> = worlds
        .into_par_iter()
        .map(|mut world| region_exports(&mut world, out, catalogue, opt))
        .collect::<Result<_>>()?;
    let mut summary = SampleSummary::default();
    let mut invitations = vec!["instrument,year,institution,specialty,invited".to_string()];
    for (s, inv) in parts {
        summary.exports.extend(s.exports);
        summary.rows.extend(s.rows);
        invitations.extend(inv);
    }
    invitations.push(String::new());
    write_file(
        &out.join("invitations.csv"),
        invitations.join("\n").as_bytes(),
    )?;
    Ok(summary)
}

/// Every export of one region, written as it is made (one file in memory).
fn region_exports(
    world: &mut World,
    out: &Path,
    catalogue: &Catalogue,
    opt: &NationalOptions,
) -> Result<(SampleSummary, Vec<String>)> {
    let get = |id: &str, v: &str| catalogue.get(id, v).expect("checked above");
    // Supervisors rated per aios, instrument and year: about 2 million
    // questionnaires and 50 million item answers at scale 1.
    let per = |n: f64| ((n * opt.scale).round() as usize).max(1);
    let mut summary = SampleSummary::default();
    let mut invitations = Vec::new();
    for year in world.years.clone() {
        for si in 0..world.specialties.len() {
            let spec = world.specialties[si].clone();
            let depts: Vec<usize> = (0..world.departments.len())
                .filter(|&i| world.departments[i].specialty == si)
                .collect();
            for instrument in ["d-rect", "setq", "effect", "mctq"] {
                let (inst, rate, per_aios) = match instrument {
                    "d-rect" if year <= 2021 => (get("d-rect", "2011"), 0.85, 0),
                    "d-rect" => (get("d-rect", "2016"), 0.85, 0),
                    "setq" if year <= 2022 => (get("setq", "smart-2016"), 0.75, per(16.0)),
                    "setq" => (get("setq", "smart-7pt"), 0.75, per(16.0)),
                    "effect" => (get("effect", "2012"), 0.7, per(4.0)),
                    _ => (get("mctq", "2010"), 0.7, per(18.0)),
                };
                let mut responses = Vec::new();
                for &d in &depts {
                    let dept = &world.departments[d];
                    invitations.push(format!(
                        "{instrument},{year},{},{},{}",
                        world.institutions[dept.institution].id, spec.code, dept.aios_count
                    ));
                    responses.extend(simulate(world, inst, year, d, rate, per_aios));
                }
                responses.sort_by_key(|r| r.date);
                let (rel, bytes, rows) = export(world, instrument, inst, &responses, &spec, year);
                write_file(&out.join(&rel), &bytes)?;
                summary.rows.insert(rel.clone(), rows);
                summary.exports.push(rel);
            }
        }
        let exit = get("exit", "example");
        let leavers = exit_leavers(world, exit, year, &mut invitations);
        let (rel, bytes, rows) = exit_csv(world, exit, &leavers, year);
        write_file(&out.join(&rel), &bytes)?;
        summary.rows.insert(rel.clone(), rows);
        summary.exports.push(rel);
    }
    Ok((summary, invitations))
}

fn quoted(list: &[String]) -> String {
    list.iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn registry(worlds: &[World], opt: &NationalOptions) -> String {
    let mut s =
        String::from("# Organisation registry of the benchmark's fictional country (generated).\n");
    for (region, name) in REGIONS.iter().take(opt.regions) {
        let _ = write!(
            s,
            "\n[[regions]]\nid = {region:?}\nname = \"{name} (fictief)\"\n"
        );
    }
    for (w, (region, _)) in worlds.iter().zip(REGIONS) {
        for i in &w.institutions {
            let _ = write!(
                s,
                "\n[[institutions]]\nid = {:?}\nname = {:?}\nregion = {region:?}\naliases = [{}]\n",
                i.id,
                i.name,
                quoted(&i.aliases)
            );
        }
    }
    for sp in &worlds[0].specialties {
        let _ = write!(
            s,
            "\n[[specialties]]\ncode = {:?}\nname = {:?}\nname_en = {:?}\naliases = [{}]\n",
            sp.code,
            sp.name,
            sp.name_en,
            quoted(&sp.aliases)
        );
    }
    for (w, (region, region_name)) in worlds.iter().zip(REGIONS) {
        for (si, sp) in w.specialties.iter().enumerate() {
            let _ = write!(
                s,
                "\n[[rsos]]\nid = \"{}-{region}\"\nname = \"{}, {}\"\nspecialty = {:?}\nregion = {region:?}\nmembers = [\n",
                sp.code, sp.name, region_name.to_lowercase(), sp.code
            );
            for d in w.departments.iter().filter(|d| d.specialty == si) {
                let _ = writeln!(
                    s,
                    "  {{ institution = {:?}, valid_from = 2010-01-01 }},",
                    w.institutions[d.institution].id
                );
            }
            s.push_str("]\n");
        }
    }
    s
}

fn config(opt: &NationalOptions) -> String {
    let mut s = format!(
        r#"# Opleidingsmonitor configuration for the benchmark's fictional country.
title = "Landelijke benchmark (fictief)"

[paths]
inbox = "inbox"
dataset = "output/dataset"
reports = "output/reports"
registry = "registry.toml"
profiles = "profiles"
invitations = "invitations.csv"
key_file = "output/opleidingsmonitor.key"

[privacy]
floor = 4

[scoring]
min_answered_fraction = 0.5
first_cycle_year = {}

[report]
language = "nl"
"#,
        opt.first_year
    );
    for inst in ["d-rect", "exit", "setq", "effect", "mctq"] {
        let _ = write!(
            s,
            "\n[[calendar]]\ninstrument = {inst:?}\nfrom = {}\nevery = 1\n",
            opt.first_year
        );
    }
    s
}

const EXIT_CSV_PROFILE: &str = r#"# The exit survey as a plain CSV (the benchmark's layout).
description = "Exit survey, plain CSV"
instrument = "exit"
version = "example"
files = ["exit-csv_*.csv"]
format = "csv"
encoding = "utf-8"
delimiter = ","
layout = "plain"

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
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_country_is_valid_and_deterministic() {
        let cat = Catalogue::load(None).unwrap();
        let opt = NationalOptions {
            regions: 2,
            years: 2,
            scale: 0.1,
            ..Default::default()
        };
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sa = write_national(a.path(), &cat, &opt).unwrap();
        let sb = write_national(b.path(), &cat, &opt).unwrap();
        assert_eq!(sa.exports, sb.exports);
        // 2 regions x 2 years x (30 specialties x 4 instruments + 1 exit file).
        assert_eq!(sa.exports.len(), 2 * 2 * (30 * 4 + 1));
        for rel in &sa.exports {
            let x = std::fs::read(a.path().join(rel)).unwrap();
            let y = std::fs::read(b.path().join(rel)).unwrap();
            assert!(x == y, "{rel} differs between two runs");
        }
        let text = std::fs::read_to_string(a.path().join("registry.toml")).unwrap();
        let reg = opleidingsmonitor::org::Registry::from_toml(&text, "registry.toml").unwrap();
        assert_eq!(reg.institutions.len(), 2 * INSTITUTIONS_PER_REGION);
        assert_eq!(reg.rsos.len(), 2 * 30);
        let cfg = opleidingsmonitor::config::Config::load(&a.path().join("opleidingsmonitor.toml"))
            .unwrap();
        assert_eq!(cfg.profiles.len(), 8);
    }
}
