//! Cycles per RSO (issue #18): the sample region itself keeps neurology
//! on its own two-year cycles from 2020 (`cycle_start = 2020` in its
//! registry), the region and the other RSOs on the region's from 2019. Its
//! cells, findings and reports are in its cycles; the region overview
//! shows it at the cycle that ended last.

use std::collections::{BTreeMap, BTreeSet};

use crate::synth;
use crate::util::Dir;
use opleidingsmonitor::instrument::Catalogue;

fn sample_run() -> Dir {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    // The sample's own registry, as generated (and committed): neurology
    // keeps cycles from 2020, the region's first cycle is 2019.
    let registry = opleidingsmonitor::org::Registry::load(&d.join("registry.toml")).unwrap();
    assert_eq!(registry.rsos["neu-nv"].cycle_start, Some(2020));
    assert_eq!(registry.rsos["anes-nv"].cycle_start, None);
    assert_eq!(registry.rsos["int-nv"].cycle_start, None);
    let config = std::fs::read_to_string(d.join("opleidingsmonitor.toml")).unwrap();
    assert!(config.contains("\nfirst_cycle_year = 2019 "));
    let r = d.run_env(
        &["run", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_TODAY", "2025-06-30")],
    );
    assert_eq!(r.code(), 0, "{}", r.both());
    d
}

fn report(d: &Dir, rel: &str) -> Option<String> {
    std::fs::read_to_string(d.join(&format!("output/reports/{rel}"))).ok()
}

type Row = std::collections::HashMap<String, Option<String>>;

fn rows(d: &Dir, rel: &str) -> Vec<Row> {
    opleidingsmonitor::dataset::read_table_as_text(&d.join(rel)).unwrap()
}

fn get<'a>(r: &'a Row, c: &str) -> &'a str {
    r.get(c).and_then(|v| v.as_deref()).unwrap_or("")
}

#[test]
fn an_rso_with_its_own_cycle_start_has_its_cells_findings_and_reports_in_its_cycles() {
    let d = sample_run();
    let cells = rows(&d, "output/dataset/aggregates");
    let cycles_of = |level: &str, unit: &str| -> BTreeSet<String> {
        cells
            .iter()
            .filter(|r| get(r, "level") == level && get(r, "unit_id") == unit)
            .map(|r| get(r, "period").to_string())
            .filter(|p| p.contains('-'))
            .collect()
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    // Neurology's cycles: 2019 alone in 2018-2019, 2024 alone in 2024-2025.
    let neu = set(&["2018-2019", "2020-2021", "2022-2023", "2024-2025"]);
    let region = set(&["2019-2020", "2021-2022", "2023-2024"]);
    assert_eq!(cycles_of("rso", "neu-nv"), neu);
    assert_eq!(cycles_of("department", "umcl:neu"), neu);
    assert_eq!(cycles_of("department", "brakelduin:neu"), neu);
    assert_eq!(cycles_of("rso", "anes-nv"), region);
    assert_eq!(cycles_of("department", "umcl:anes"), region);
    // Institutions pool specialties: the region's cycles only.
    assert_eq!(cycles_of("institution", "umcl"), region);
    // The region, every RSO report's benchmark, in both.
    assert_eq!(
        cycles_of("region", "noorderveld"),
        neu.union(&region).cloned().collect()
    );

    // A cycle cell pools exactly its two years: neurology's D-RECT total
    // in 2022-2023 counts the responses of 2022 and of 2023.
    let responses = |period: &str| -> u64 {
        cells
            .iter()
            .filter(|r| {
                get(r, "level") == "rso"
                    && get(r, "unit_id") == "neu-nv"
                    && get(r, "instrument") == "d-rect"
                    && get(r, "scale_id") == "total"
                    && get(r, "period") == period
            })
            .map(|r| get(r, "n_responses").parse::<u64>().unwrap())
            .sum()
    };
    assert!(responses("2022") > 0 && responses("2023") > 0);
    assert_eq!(
        responses("2022-2023"),
        responses("2022") + responses("2023")
    );
    // The answer counts and the source files of neurology, in its cycles.
    for table in ["distributions", "sources"] {
        let periods: BTreeSet<String> = rows(&d, &format!("output/dataset/{table}"))
            .iter()
            .filter(|r| get(r, "rso_id") == "neu-nv")
            .map(|r| get(r, "period").to_string())
            .collect();
        assert!(
            !periods.is_empty() && periods.is_subset(&neu),
            "{table}: {periods:?}"
        );
    }

    // Its reports in its cycles, none in the region's; the others' the
    // other way round.
    for c in ["2020-2021", "2022-2023"] {
        assert!(report(&d, &format!("{c}/rso/neu-nv.html")).is_some(), "{c}");
        assert!(report(&d, &format!("{c}/department/umcl_neu.html")).is_some());
        assert!(report(&d, &format!("{c}/rso/anes-nv.html")).is_none());
        assert!(report(&d, &format!("{c}/region/noorderveld.html")).is_none());
        assert!(report(&d, &format!("{c}/institution/umcl.html")).is_none());
    }
    assert!(report(&d, "2022-2023/interim/neu-nv-2023.html").is_some());
    for c in ["2019-2020", "2021-2022", "2023-2024"] {
        assert!(report(&d, &format!("{c}/rso/neu-nv.html")).is_none(), "{c}");
        assert!(report(&d, &format!("{c}/department/umcl_neu.html")).is_none());
        assert!(report(&d, &format!("{c}/interim/neu-nv-2023.html")).is_none());
        assert!(report(&d, &format!("{c}/rso/anes-nv.html")).is_some());
    }
    let neu_report = report(&d, "2022-2023/rso/neu-nv.html").unwrap();
    assert!(neu_report.contains("2022-2023"));

    // Findings: ids carry the cycle of their RSO; neurology's are only in
    // its cycles, the others' only in the region's.
    let mut by_rso: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for dir in std::fs::read_dir(d.join("output/reports")).unwrap() {
        let dir = dir.unwrap().path();
        let cycle = dir.file_name().unwrap().to_string_lossy().to_string();
        if !dir.join("findings.parquet").exists() {
            continue;
        }
        for r in opleidingsmonitor::dataset::read_table_as_text(&dir).unwrap() {
            let id = get(&r, "id");
            assert!(id.starts_with(&format!("{cycle}/")), "{id} in {cycle}");
            assert_eq!(get(&r, "cycle"), cycle);
            by_rso
                .entry(get(&r, "rso_id").to_string())
                .or_default()
                .insert(cycle.clone());
            ids.insert(id.to_string());
        }
    }
    // Changes are read from the groups' files, which neurology's cycles
    // name by the years they link (`2019-2024_d-rect.parquet`): the
    // others' declines and neurology's are found in their cycles.
    for id in [
        "2023-2024/heemdaal:int/d-rect/total/decline",
        "2023-2024/brakelduin:anes/setq/learner_centeredness/decline",
        "2022-2023/neu-nv/effect/supervisor_characteristics/decline",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    assert!(
        by_rso["neu-nv"].is_subset(&neu) && by_rso["neu-nv"].len() >= 2,
        "{by_rso:?}"
    );
    assert!(by_rso["anes-nv"].is_subset(&region), "{by_rso:?}");
    assert!(by_rso["int-nv"].is_subset(&region), "{by_rso:?}");

    // The region overview of 2023-2024 shows neurology at 2022-2023, the
    // cycle that ended last for it, and links that cycle's report; the
    // other RSOs at 2023-2024.
    let overview = report(&d, "2023-2024/region/noorderveld.html").unwrap();
    assert!(
        overview.contains("Neurologie, regio Noorderveld (2022-2023)"),
        "the overview names neurology's cycle"
    );
    assert!(
        overview.contains("href=\"..&#x2f;..&#x2f;2022-2023&#x2f;rso&#x2f;neu-nv.html\"")
            || overview.contains("href=\"../../2022-2023/rso/neu-nv.html\"")
    );
    assert!(overview.contains("Anesthesiologie, regio Noorderveld<"));
    assert!(!overview.contains("Anesthesiologie, regio Noorderveld ("));
    let early = report(&d, "2021-2022/region/noorderveld.html").unwrap();
    assert!(early.contains("Neurologie, regio Noorderveld (2020-2021)"));
    // The institution report (the COC) too, for its neurology department.
    let umcl = report(&d, "2023-2024/institution/umcl.html").unwrap();
    assert!(
        umcl.contains("(2022-2023)"),
        "umcl's neurology at 2022-2023"
    );
}
