//! End to end: aggregates and changes from the real binary, checked against
//! hand-worked values and the privacy rules.

use std::collections::HashMap;

use crate::synth;
use crate::util::Dir;
use opleidingsmonitor::config::Config;
use opleidingsmonitor::dataset::tables::AGGREGATE_COLUMNS;
use opleidingsmonitor::dataset::{read_parquet, read_table_as_text};
use opleidingsmonitor::instrument::Catalogue;
use opleidingsmonitor::privacy;
use opleidingsmonitor::table::Level;

type Row = HashMap<String, Option<String>>;

fn rows(dir: &Dir, rel: &str) -> Vec<Row> {
    read_table_as_text(&dir.join(rel)).unwrap()
}

fn num(r: &Row, col: &str) -> Option<f64> {
    r[col].as_deref().map(|v| v.parse().unwrap())
}

fn s<'a>(r: &'a Row, col: &str) -> Option<&'a str> {
    r[col].as_deref()
}

const PROFILE: &str = r#"
instrument = "exit"
version = "example"
files = ["exit_*.csv"]
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "Email"
[[item_patterns]]
regex = '^Q(\d+)$'
item = "exit_q{1:02}"
"#;

/// Five aios with every item answered, and a sixth who answered three
/// items only (q03, q05, q06): too few for a total score (half of 8 is 4).
const EXPORT: &str = "Datum,Ziekenhuis,Specialisme,Email,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8
2024-03-01,Ziekenhuis A,Anesthesiologie,r1@x.nl,4,5,4,4,4,4,4,4
2024-03-02,Ziekenhuis A,Anesthesiologie,r2@x.nl,3,4,3,3,3,3,3,3
2024-03-03,Ziekenhuis A,Anesthesiologie,r3@x.nl,5,5,5,5,5,5,5,5
2024-03-04,Ziekenhuis A,Anesthesiologie,r4@x.nl,2,3,2,2,2,2,2,2
2024-03-05,Ziekenhuis A,Anesthesiologie,r5@x.nl,4,4,4,4,4,4,4,4
2024-03-06,Ziekenhuis A,Anesthesiologie,r6@x.nl,,,3,,2,3,,
";

fn fixture() -> Dir {
    let d = Dir::new();
    d.write(
        "opleidingsmonitor.toml",
        "[paths]\nregistry = \"registry.toml\"\nprofiles = \"profiles\"\ninvitations = \"invitations.csv\"\nkey_file = \"k.key\"\n",
    );
    d.write("registry.toml", crate::util::REGISTRY);
    d.write("profiles/exit.toml", PROFILE);
    d.write("inbox/exit_2024.csv", EXPORT);
    d.write(
        "invitations.csv",
        "instrument,year,institution,specialty,invited\nexit,2024,Ziekenhuis A,anes,10\n",
    );
    assert_eq!(d.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(), 0);
    let run = d.run(&["aggregate", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 0, "{}", run.both());
    d
}

fn cell<'a>(rows: &'a [Row], level: &str, scale: &str, period: &str) -> &'a Row {
    rows.iter()
        .find(|r| {
            s(r, "level") == Some(level)
                && s(r, "scale_id") == Some(scale)
                && s(r, "period") == Some(period)
        })
        .unwrap_or_else(|| panic!("no {level} {scale} {period}"))
}

#[test]
fn statistics_equal_hand_worked_values() {
    let d = fixture();
    let agg = rows(&d, "dataset/aggregates");
    // Supervision (items q01, q02): response scores 4.5, 3.5, 5.0, 2.5, 4.0.
    // mean 19.5 / 5 = 3.9; squared deviations .36 .16 1.21 1.96 .01 = 3.7,
    // variance 3.7 / 4 = 0.925, sd 0.9617692; t(0.975, 4) = 2.7764451
    // (scipy); half width 2.7764451 * 0.9617692 / sqrt 5 = 1.1941942.
    // POMP (3.9 - 1) / 4 * 100 = 72.5. Alpha: item variances 1.3 and 0.7,
    // totals 9 7 10 5 8 have variance 3.7: 2 * (1 - 2.0 / 3.7) = 0.9189189.
    // Response rate: 6 aios took part of 10 invited. Tolerance 1e-6.
    // (The cycle 2023-2024 holds only 2024: its year is not published, the
    // cycle stands for it with the same numbers.)
    let year = cell(&agg, "department", "supervision", "2024");
    assert_eq!(s(year, "suppression_reason"), Some("not_published"));
    assert!(year["mean"].is_none());
    let c = cell(&agg, "department", "supervision", "2023-2024");
    let close = |col: &str, want: f64| {
        let got = num(c, col).unwrap_or_else(|| panic!("{col} is null"));
        assert!((got - want).abs() < 1e-6, "{col}: {got} != {want}");
    };
    close("mean", 3.9);
    close("sd", 0.925f64.sqrt());
    close("ci_low", 3.9 - 1.1941942);
    close("ci_high", 3.9 + 1.1941942);
    close("mean_pomp", 72.5);
    close("alpha", 2.0 * (1.0 - 2.0 / 3.7));
    close("response_rate", 0.6);
    assert_eq!(s(c, "n_responses"), Some("5"));
    assert_eq!(s(c, "n_respondents"), Some("5"));
    assert_eq!(s(c, "unit_id"), Some("a:anes"));
    assert_eq!(s(c, "rso_id"), Some("anes-r"));
    assert_eq!(s(c, "region_id"), Some("r"));
    assert_eq!(s(c, "reliable"), Some("true"));
    assert_eq!(s(c, "suppressed"), Some("false"));
    // The half rule: the sixth aios has an education score (q03 of q03-q04)
    // but no total (3 of 8 items).
    assert_eq!(
        s(cell(&agg, "department", "education", "2024"), "n_responses"),
        Some("6")
    );
    let total = cell(&agg, "department", "total", "2023-2024");
    assert_eq!(s(total, "n_responses"), Some("5"));
    // Totals: 33/8, 25/8, 40/8, 17/8, 32/8 -> mean 147/40 = 3.675.
    assert!((num(total, "mean").unwrap() - 3.675).abs() < 1e-9);
    // One department: RSO and region pool the same responses, in the
    // year and the cycle; the institution's total would be the department
    // again and is not published.
    for level in ["rso", "region"] {
        for period in ["2024", "2023-2024"] {
            assert_eq!(
                num(cell(&agg, level, "supervision", period), "mean"),
                num(c, "mean"),
                "{level} {period}"
            );
        }
    }
    let institution = cell(&agg, "institution", "supervision", "2023-2024");
    assert_eq!(s(institution, "suppression_reason"), Some("not_published"));
}

#[test]
fn aggregates_have_exactly_the_contract_columns_and_are_stable() {
    let d = fixture();
    // One file per group (an instrument in a cycle), each with the columns.
    let tables = crate::util::table_bytes(&d.join("dataset/aggregates"));
    assert!(!tables.is_empty());
    let name = tables.keys().next().unwrap();
    assert!(name.ends_with("_exit.parquet"), "{name}");
    let df = read_parquet(&d.join("dataset/aggregates").join(name)).unwrap();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, AGGREGATE_COLUMNS.map(String::from).to_vec());
    let before = rows(&d, "dataset/aggregates").len();
    let first = crate::util::table_bytes(&d.join("dataset/aggregates"));
    assert_eq!(
        d.run(&["aggregate", "-c", "opleidingsmonitor.toml"]).code(),
        0
    );
    assert_eq!(rows(&d, "dataset/aggregates").len(), before);
    let second = crate::util::table_bytes(&d.join("dataset/aggregates"));
    assert_eq!(
        first, second,
        "running aggregate twice gives the same table"
    );
}

#[test]
fn the_sample_region_is_protected_and_tells_its_stories() {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    assert_eq!(d.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(), 0);
    let run = d.run(&["aggregate", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 0, "{}", run.both());
    let agg = rows(&d, "output/dataset/aggregates");
    assert!(agg.len() > 1000);
    // The command's account counts what the rows say, each rule apart.
    let reason = |r: &str| {
        agg.iter()
            .filter(|row| s(row, "suppression_reason") == Some(r))
            .count()
    };
    let account = format!(
        "Aggregates: {} cells ({} suppressed below the privacy floor, {} to protect them, {} not published",
        agg.len(),
        reason("min_n"),
        reason("secondary"),
        reason("not_published")
    );
    assert!(reason("not_published") > 0);
    assert!(run.stdout().contains(&account), "{account}\n{}", run.both());
    // Running it again writes the same bytes (sums in a fixed order).
    let bytes = |d: &Dir| crate::util::table_bytes(&d.join("output/dataset/aggregates"));
    let first = bytes(&d);
    assert_eq!(
        d.run(&["aggregate", "-c", "opleidingsmonitor.toml"]).code(),
        0
    );
    assert!(first == bytes(&d), "a second aggregate changed the table");

    // No published cell below the floor; suppressed cells show no values.
    for r in &agg {
        let n: u64 = s(r, "n_respondents").unwrap().parse().unwrap();
        let suppressed = s(r, "suppressed") == Some("true");
        assert!(suppressed || n >= 4, "{r:?}");
        if suppressed {
            for col in ["mean", "sd", "ci_low", "ci_high", "mean_pomp", "alpha"] {
                assert!(r[col].is_none(), "{col} of a suppressed cell: {r:?}");
            }
        }
    }
    // How much the complements hide, per level: of the cells that pass the
    // floor, the share suppressed to protect another (issue #20's figures;
    // counted here from the written rows, a second count beside DuckDB's in
    // the README). Complements are chosen institution totals first, then
    // departments, RSOs and the region last (`privacy::cost`).
    let share = |level: &str| {
        let of_level = agg.iter().filter(|r| s(r, "level") == Some(level));
        let (mut passing, mut secondary, mut min_n, mut left_out) = (0usize, 0, 0, 0);
        for r in of_level {
            match s(r, "suppression_reason") {
                Some("min_n") => min_n += 1,
                Some("not_published") => left_out += 1,
                Some("secondary") => {
                    passing += 1;
                    secondary += 1;
                }
                _ => passing += 1,
            }
        }
        eprintln!(
            "{level}: {} cells, {min_n} too small, {left_out} not published, {secondary} complements of {passing} published-table cells that pass the floor ({:.1}%)",
            passing + min_n + left_out,
            100.0 * secondary as f64 / passing as f64
        );
        secondary as f64 / passing as f64
    };
    let (dep, inst, rso, region) = (
        share("department"),
        share("institution"),
        share("rso"),
        share("region"),
    );
    // Of the cells of the published tables (institution totals and
    // department years left out by `privacy::publish` are not in them).
    // Measured at this commit: 8.4%, 0%, 1.6% and 0% (155 of 1,844, 0 of
    // 372, 14 of 874, 0 of 478), with neurology on its own cycles from
    // 2020 (every RSO on the region's cycles: 8.1%, 0%, 1.6%, 0%; 12.8%,
    // 32.6%, 2.7%, 2.1% before the publication rules; 44.8%, 9.9%, 4.4%,
    // 0% before the cost order). Issue #20's targets: 10% for departments, 5% for
    // institutions and RSOs; the bounds keep what was reached.
    assert!(dep <= 0.10, "department complements {dep:.3}");
    assert!(inst <= 0.0, "institution complements {inst:.3}");
    assert!(rso <= 0.02, "RSO complements {rso:.3}");
    assert!(region <= 0.0, "region complements {region:.3}");

    // The small department (three aios) is suppressed for its size.
    let small = agg
        .iter()
        .find(|r| {
            s(r, "unit_id") == Some("brakelduin:neu")
                && s(r, "period") == Some("2024")
                && s(r, "scale_id") == Some("total")
        })
        .unwrap();
    assert_eq!(s(small, "suppression_reason"), Some("min_n"));

    // The checker recovers nothing from what was written: recompute the
    // cells in process, protect them, check they equal the written table,
    // and run the checker.
    let config = Config::load(&d.join("opleidingsmonitor.toml")).unwrap();
    let mut table = opleidingsmonitor::aggregate::compute(&config).unwrap();
    privacy::protect(&mut table);
    // The lower bound: relations in which a too-small cell is the only
    // hidden member once the publication rules are applied need one more
    // hidden member each; the fewest cells that meet them all (relaxed to
    // fractions, so below the true minimum).
    {
        use opleidingsmonitor::domain::SuppressionReason;
        let bound = privacy::bound::complement_lower_bound(&table.cells, 0.2);
        // Cells hidden beyond the rules' own: the complements, and what the
        // rules leave out because of them.
        let hidden = |level: Option<Level>, reason: SuppressionReason| {
            table
                .cells
                .iter()
                .filter(|c| {
                    level.is_none_or(|l| c.level == l) && c.suppression_reason == Some(reason)
                })
                .count()
        };
        let dep = Some(Level::Department);
        let (complements, dep_complements) = (
            hidden(None, SuppressionReason::Secondary),
            hidden(dep, SuppressionReason::Secondary),
        );
        let beyond = complements + hidden(None, SuppressionReason::NotPublished) - bound.left_out;
        let dep_beyond = dep_complements + hidden(dep, SuppressionReason::NotPublished)
            - bound.left_out_departments;
        eprintln!(
            "lower bound: {} relations with a lone too-small cell after the rules ({} left out by them, {} departments); any protection hides at least {:.1} more cells ({:.1} departments if only departments are hidden; {} relations have no published department). Chosen: {beyond} more ({complements} complements), departments {dep_beyond} ({dep_complements} complements)",
            bound.relations,
            bound.left_out,
            bound.left_out_departments,
            bound.any_level,
            bound.departments,
            bound.without_department,
        );
        // Measured at this commit: 202 relations; at least 180 cells
        // (173 departments).
        assert!(bound.relations > 200, "{bound:?}");
        assert!(bound.any_level <= beyond as f64 + 1e-6, "{bound:?}");
        assert!(bound.departments <= dep_beyond as f64 + 1e-6, "{bound:?}");
        // With the complements' intervals protected too (README, Privacy):
        // measured at this commit at least 215 cells at any level and 206
        // departments if only departments are hidden, 11.0% of the 1,878
        // department cells that pass the floor and that the rules keep:
        // above issue #20's 10% before a single chain of complements is
        // counted. The README's case for not protecting complements so
        // rests on this.
        let kept = table
            .cells
            .iter()
            .filter(|c| c.level == Level::Department && c.n_respondents >= c.floor as u64)
            .count()
            - bound.left_out_departments;
        eprintln!(
            "strict lower bound: {:.1} cells at any level, {:.1} departments ({:.1}% of {kept}), {} relations without a department that suffices",
            bound.strict.any_level,
            bound.strict.departments,
            100.0 * bound.strict.departments / kept as f64,
            bound.strict.without_department,
        );
        assert!(
            bound.strict.departments / kept as f64 > 0.10,
            "{:?} of {kept}",
            bound.strict
        );
        assert!(bound.strict.any_level > bound.any_level, "{bound:?}");
    }
    // Across subscales: a unit's total is (near) the item-weighted mean of
    // its subscales, so of a unit's total and in-total subscales (one
    // version and period) never exactly one is hidden.
    let mut profiles: HashMap<(String, String, String, String, String), usize> = HashMap::new();
    for c in table.cells.iter().filter(|c| c.in_total) {
        let hidden = profiles
            .entry((
                c.level.as_str().to_string(),
                c.unit_id.clone(),
                c.instrument.clone(),
                c.instrument_version.clone(),
                c.period.clone(),
            ))
            .or_default();
        *hidden += c.suppressed as usize;
    }
    assert!(profiles.len() > 500);
    // The interval auditor (linear programming over the published sums and
    // every response's scale bounds): how narrowly can a hidden mean be
    // pinned down?
    {
        use opleidingsmonitor::domain::SuppressionReason;
        use opleidingsmonitor::privacy::audit;
        let rels = privacy::relations(&table.cells);
        let intervals = audit::feasible_intervals(&table.cells, &rels);
        let narrow = audit::too_narrow(&intervals, audit::MIN_WIDTH_FRACTION);
        let count = |r: SuppressionReason| {
            narrow
                .iter()
                .filter(|&&i| table.cells[i].suppression_reason == Some(r))
                .count()
        };
        eprintln!(
            "auditor: {} hidden cells, {} narrower than 20% of the scale ({} too small, {} complements)",
            intervals.len(),
            narrow.len(),
            count(SuppressionReason::MinN),
            count(SuppressionReason::Secondary)
        );
        // Too-small cells that can be pinned to less than a fifth of their
        // scale: none since the interval protection (6 before it, 38
        // before the publication rules). This auditor solves the whole
        // set of unknowns; the protection only looked at neighbourhoods.
        assert_eq!(count(SuppressionReason::MinN), 0, "{narrow:?}");
        // Complements are not protected so (README, Privacy): 42 on the
        // sample at this commit, all in neurology. More would mean the
        // choice of complements got worse.
        assert!(count(SuppressionReason::Secondary) <= 42, "{narrow:?}");
        assert!(intervals.len() > 1000);
    }
    let lone: Vec<_> = profiles.iter().filter(|(_, &h)| h == 1).collect();
    assert!(
        lone.is_empty(),
        "one hidden cell among a unit's subscales: {lone:?}"
    );
    let written: HashMap<(String, String, String, String, String, String), bool> = agg
        .iter()
        .map(|r| {
            let k = [
                "level",
                "unit_id",
                "instrument",
                "instrument_version",
                "scale_id",
                "period",
            ]
            .map(|c| s(r, c).unwrap().to_string());
            (
                (
                    k[0].clone(),
                    k[1].clone(),
                    k[2].clone(),
                    k[3].clone(),
                    k[4].clone(),
                    k[5].clone(),
                ),
                s(r, "suppressed") == Some("true"),
            )
        })
        .collect();
    assert_eq!(written.len(), table.cells.len());
    for c in &table.cells {
        let k = (
            c.level.as_str().to_string(),
            c.unit_id.clone(),
            c.instrument.clone(),
            c.instrument_version.clone(),
            c.scale_id.clone(),
            c.period.clone(),
        );
        assert_eq!(written[&k], c.suppressed, "{k:?}");
    }
    let rels = privacy::relations(&table.cells);
    assert!(rels.len() > 1000);
    assert!(privacy::recover(&table.cells, &rels).is_empty());
    // Nor does any combination of relations (the stronger, linear checker).
    assert!(privacy::recover_linear(&table.cells, &rels).is_empty());

    // Benchmarks: every department row joins its RSO's and region's row of
    // the same instrument, version, subscale and period by keys.
    let key = |r: &Row, unit: &str| {
        (
            unit.to_string(),
            ["instrument", "instrument_version", "scale_id", "period"]
                .map(|c| s(r, c).unwrap().to_string()),
        )
    };
    let by_unit: HashMap<_, &Row> = agg
        .iter()
        .filter(|r| matches!(s(r, "level"), Some("rso") | Some("region")))
        .map(|r| (key(r, s(r, "unit_id").unwrap()), r))
        .collect();
    let mut joined = 0;
    for r in agg.iter().filter(|r| s(r, "level") == Some("department")) {
        assert!(
            by_unit.contains_key(&key(r, s(r, "region_id").unwrap())),
            "{r:?}"
        );
        if let Some(rso) = s(r, "rso_id") {
            if by_unit.contains_key(&key(r, rso)) {
                joined += 1;
            }
        }
    }
    assert!(joined > 500, "{joined}");

    // The decline built into the sample: Heemdaal internal medicine's
    // learning climate (D-RECT total) fell from cycle 2021-2022 to 2023-2024,
    // significantly and with a large effect.
    let changes = rows(&d, "output/dataset/changes");
    let decline = changes
        .iter()
        .find(|c| {
            s(c, "unit_id") == Some("heemdaal:int")
                && s(c, "instrument") == Some("d-rect")
                && s(c, "scale_id") == Some("total")
                && s(c, "period") == Some("2023-2024")
        })
        .expect("a change row for the decline");
    assert_eq!(s(decline, "previous_period"), Some("2021-2022"));
    assert!(num(decline, "p_value").unwrap() < 0.05, "{decline:?}");
    assert!(num(decline, "hedges_g").unwrap() < -0.5, "{decline:?}");
    // From D-RECT 2011 to 2016 the versions differ: compared on 0-100 only.
    let switch = changes
        .iter()
        .find(|c| {
            s(c, "level") == Some("region")
                && s(c, "instrument") == Some("d-rect")
                && s(c, "period") == Some("2022")
                && s(c, "scale_id") == Some("teamwork")
        })
        .expect("a change across the version switch");
    assert_eq!(s(switch, "version_changed"), Some("true"));
    assert_eq!(s(switch, "previous_version"), Some("2011"));
    assert!(switch["diff"].is_none() && switch["diff_pomp"].is_some());
    assert_eq!(Level::parse("rso"), Some(Level::Rso));
}

/// Regression: in an anonymous export every form counted as a respondent,
/// so the same two aios answering in 2023 and 2024 were published as a
/// cycle of "4 respondents".
#[test]
fn anonymous_forms_are_not_counted_as_more_people_than_certain() {
    let d = Dir::new();
    d.write(
        "opleidingsmonitor.toml",
        "[paths]\nregistry = \"registry.toml\"\nprofiles = \"profiles\"\nkey_file = \"k.key\"\n",
    );
    d.write("registry.toml", crate::util::REGISTRY);
    d.write(
        "profiles/exit.toml",
        PROFILE.replace("respondent = \"Email\"\n", ""),
    );
    let rows = "Datum,Ziekenhuis,Specialisme,Email,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8\n\
        2023-03-01,Ziekenhuis A,Anesthesiologie,,4,4,4,4,4,4,4,4\n\
        2023-03-02,Ziekenhuis A,Anesthesiologie,,3,3,3,3,3,3,3,3\n\
        2024-03-01,Ziekenhuis A,Anesthesiologie,,4,5,4,5,4,5,4,5\n\
        2024-03-02,Ziekenhuis A,Anesthesiologie,,2,3,2,3,2,3,2,3\n";
    d.write(
        "profiles/exit.toml",
        PROFILE.replace("respondent = \"Email\"", "ignore = [\"Email\"]"),
    );
    d.write("inbox/exit_anon.csv", rows);
    let ingest = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(ingest.code(), 0, "{}", ingest.both());
    assert_eq!(
        d.run(&["aggregate", "-c", "opleidingsmonitor.toml"]).code(),
        0
    );
    let agg = rows_of(&d);
    let cycle = cell(&agg, "department", "total", "2023-2024");
    assert_eq!(s(cycle, "n_responses"), Some("4"));
    assert_eq!(
        s(cycle, "n_respondents"),
        Some("2"),
        "two forms a year: two people for certain"
    );
    assert_eq!(s(cycle, "suppressed"), Some("true"));
}

fn rows_of(d: &Dir) -> Vec<Row> {
    rows(d, "dataset/aggregates")
}

/// A minimum interval width outside [0, 1) stops the run before anything
/// is read, with the setting, the value and what to write instead.
#[test]
fn a_minimum_interval_width_outside_its_range_is_refused() {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    let text = std::fs::read_to_string(d.join("opleidingsmonitor.toml")).unwrap();
    let bad = text.replacen("[privacy]\n", "[privacy]\nmin_interval_width = 1.5\n", 1);
    assert_ne!(bad, text);
    d.write("opleidingsmonitor.toml", bad);
    let run = d.run(&["aggregate", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 2, "{}", run.both());
    assert!(
        run.stderr().contains("privacy.min_interval_width = 1.5")
            && run.stderr().contains("for example 0.2"),
        "{}",
        run.both()
    );
    assert!(!d.join("output/dataset/aggregates").exists());
}
