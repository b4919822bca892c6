//! End to end: the reports of the sample region, checked by content.

use std::collections::BTreeSet;
use std::path::Path;

use crate::synth;
use crate::util::Dir;
use opleidingsmonitor::config::Config;
use opleidingsmonitor::dataset::published::read_published;
use opleidingsmonitor::instrument::Catalogue;
use opleidingsmonitor::pdca;
use opleidingsmonitor::table::Level;

const TODAY: &str = "2026-11-22";

/// Renders one RSO's 2023-2024 report in English and returns its HTML.
fn english_rso_report(d: &Dir, rso: &str) -> String {
    let r = d.run_env(
        &[
            "report",
            "-c",
            "opleidingsmonitor.toml",
            "--lang",
            "en",
            "--cycle",
            "2023-2024",
            "--rso",
            rso,
        ],
        &[("OPLEIDINGSMONITOR_TODAY", TODAY)],
    );
    assert_eq!(r.code(), 0, "{}", r.both());
    read(d, &format!("2023-2024/rso/{rso}.en.html"))
}

/// The sample region with a hostile extra exit export, run once.
pub(crate) fn region() -> Dir {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    // Two more exit answers for UMC Lindenburg internal medicine (a group
    // that passes the floor), whose open answers try to run a script and a
    // spreadsheet formula, and name a supervisor with a phone number. The
    // supervisor's name (Jansen) is in the export only as another row's
    // respondent: it must still be masked.
    let mut book = rust_xlsxwriter::Workbook::new();
    let s = book.add_worksheet();
    s.write_string(0, 0, "Exitenquête — extra").unwrap();
    let head = [
        "Datum",
        "Ziekenhuis",
        "Specialisme",
        "Naam",
        "E-mailadres",
        "Vraag 1",
        "Vraag 2",
        "Vraag 3",
        "Vraag 4",
        "Vraag 5",
        "Vraag 6",
        "Vraag 7",
        "Vraag 8",
        "Rapportcijfer",
        "Tops",
        "Tips",
    ];
    for (c, h) in head.iter().enumerate() {
        s.write_string(1, c as u16, *h).unwrap();
    }
    for (r, (top, tip)) in [
        (
            "<script>alert(1)</script>",
            "=HYPERLINK(\"http://example.org\",\"klik\")",
        ),
        ("Goede sfeer & <b>veel</b> onderwijs", HIDDEN_TIP),
    ]
    .iter()
    .enumerate()
    {
        let r = r as u32 + 2;
        s.write_string(r, 0, "2024-06-0".to_string() + &(r + 1).to_string())
            .unwrap();
        s.write_string(r, 1, "UMCL").unwrap();
        s.write_string(r, 2, "Interne geneeskunde").unwrap();
        s.write_string(r, 3, ["Piet Jansen", "Extra Aios 3"][r as usize - 2])
            .unwrap();
        s.write_string(r, 4, format!("extra{r}@umclindenburg.example.nl"))
            .unwrap();
        for c in 5..13 {
            s.write_number(r, c, 4.0).unwrap();
        }
        s.write_number(r, 13, 8.0).unwrap();
        s.write_string(r, 14, *top).unwrap();
        s.write_string(r, 15, *tip).unwrap();
    }
    d.write(
        "inbox/2024/exit_extra_2024.xlsx",
        book.save_to_buffer().unwrap(),
    );
    let run = d.run_env(
        &["run", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_TODAY", TODAY)],
    );
    assert_eq!(run.code(), 0, "{}", run.both());
    if std::env::var("KEEP_REPORT_FIXTURE").is_ok() {
        let _ = std::fs::remove_dir_all("/tmp/report-fixture");
        let _ = std::process::Command::new("cp")
            .args(["-r", &d.path().display().to_string(), "/tmp/report-fixture"])
            .status();
    }
    d
}

/// The hidden comment: a name the export holds only in another row, and a
/// phone number (the example of issue #20).
const HIDDEN_TIP: &str = "+31 6 bellen. Supervisor Jansen (06-12345678) was vaak afwezig";

fn read(d: &Dir, rel: &str) -> String {
    std::fs::read_to_string(d.join(&format!("output/reports/{rel}")))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The `<td>` cells of the heatmap row of a unit, as (attributes, text).
fn row_cells(html: &str, level: &str, unit: &str, nth: usize) -> Vec<(String, String)> {
    let marker = format!("data-level=\"{level}\" data-unit=\"{unit}\"");
    let start = html
        .match_indices(&marker)
        .nth(nth)
        .unwrap_or_else(|| panic!("no row {marker}"))
        .0;
    let row = &html[start..start + html[start..].find("</tr>").unwrap()];
    // (A value cell prints its n below the value: `<span class="n">`.)
    let re =
        regex::Regex::new(r#"<td ([^>]*)>([^<]*)(?:<span class="n">[^<]*</span>)?</td>"#).unwrap();
    re.captures_iter(row)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

fn data_value(attrs: &str) -> Option<f64> {
    let re = regex::Regex::new(r#"data-value="([^"]+)""#).unwrap();
    re.captures(attrs).map(|c| c[1].parse().unwrap())
}

#[test]
fn every_unit_gets_its_report_with_the_aggregates_numbers_and_its_stories() {
    let d = region();
    let config = Config::load(&d.join("opleidingsmonitor.toml")).unwrap();
    let cycles = ["2019-2020", "2021-2022", "2023-2024"];
    // Neurology keeps its own cycles from 2020 (2019 alone is its
    // 2018-2019, 2024 alone its 2024-2025): its reports are there only.
    let neu_cycles = ["2018-2019", "2020-2021", "2022-2023", "2024-2025"];
    for cycle in neu_cycles {
        for ext in ["html", "md"] {
            let f = format!("output/reports/{cycle}/rso/neu-nv.{ext}");
            assert!(d.join(&f).exists(), "{f}");
        }
    }
    for cycle in cycles {
        for rso in ["anes-nv", "int-nv"] {
            for ext in ["html", "md"] {
                assert!(
                    d.join(&format!("output/reports/{cycle}/rso/{rso}.{ext}"))
                        .exists(),
                    "{cycle} {rso}.{ext}"
                );
            }
        }
        assert!(!d
            .join(&format!("output/reports/{cycle}/rso/neu-nv.html"))
            .exists());
        assert!(d
            .join(&format!("output/reports/{cycle}/region/noorderveld.html"))
            .exists());
        for inst in ["umcl", "heemdaal", "brakelduin", "meerhaven", "zonnestede"] {
            assert!(
                d.join(&format!("output/reports/{cycle}/institution/{inst}.html"))
                    .exists(),
                "{cycle} {inst}"
            );
        }
        // HTML escaping writes "/" in attributes as "&#x2f;": the same link.
        let index = read(&d, &format!("{cycle}/index.html")).replace("&#x2f;", "/");
        for link in [
            "rso/anes-nv.html",
            "region/noorderveld.html",
            "institution/umcl.html",
        ] {
            assert!(
                index.contains(&format!("href=\"{link}\"")),
                "{cycle} index lacks {link}"
            );
        }
        assert!(d
            .join(&format!("output/reports/{cycle}/tables.xlsx"))
            .exists());
    }
    let summary = std::fs::read_to_string(d.join("output/reports/run-summary.json")).unwrap();
    assert!(
        summary.contains("anes-nv.html"),
        "the summary lists the reports"
    );

    // Key numbers: the RSO and region benchmark rows of the D-RECT heatmap
    // equal the aggregates (the total is the last column).
    let published = read_published(&config.paths.dataset, &config.catalogue).unwrap();
    let pomp = |level: Level, unit: &str| {
        published
            .cells
            .iter()
            .find(|c| {
                c.level == level
                    && c.unit_id == unit
                    && c.instrument == "d-rect"
                    && c.instrument_version == "2016"
                    && c.scale_id == "total"
                    && c.period == "2023-2024"
            })
            .unwrap()
            .mean_pomp
            .unwrap()
    };
    let html = read(&d, "2023-2024/rso/anes-nv.html");
    let rso_row = row_cells(&html, "rso", "anes-nv", 0);
    let shown = data_value(&rso_row.last().unwrap().0).unwrap();
    assert!((shown - pomp(Level::Rso, "anes-nv")).abs() < 1e-9);
    assert_eq!(
        rso_row.last().unwrap().1,
        format!("{:.0}", pomp(Level::Rso, "anes-nv"))
    );
    let region_row = row_cells(&html, "region", "noorderveld", 0);
    assert!(
        (data_value(&region_row.last().unwrap().0).unwrap() - pomp(Level::Region, "noorderveld"))
            .abs()
            < 1e-9
    );
    let umcl = row_cells(&html, "department", "umcl:anes", 0);
    assert!(
        (data_value(&umcl.last().unwrap().0).unwrap() - pomp(Level::Department, "umcl:anes")).abs()
            < 1e-9
    );

    // A suppressed cell never shows a number, in any report.
    let cell_re =
        regex::Regex::new(r#"<td class="[^"]*suppressed[^"]*"[^>]*>([^<]*)</td>"#).unwrap();
    let mut suppressed_seen = 0;
    let pages = cycles
        .iter()
        .flat_map(|cycle| {
            [
                "rso/anes-nv.html",
                "rso/int-nv.html",
                "region/noorderveld.html",
                "institution/brakelduin.html",
            ]
            .map(|rel| (*cycle, rel))
        })
        .chain(neu_cycles.iter().map(|cycle| (*cycle, "rso/neu-nv.html")));
    for (cycle, rel) in pages {
        let page = read(&d, &format!("{cycle}/{rel}"));
        for c in cell_re.captures_iter(&page) {
            suppressed_seen += 1;
            let text = c[1].trim();
            assert!(
                text == "n &lt; 4" || text == "verborgen",
                "{cycle}/{rel}: suppressed cell shows {text:?}"
            );
            assert!(!c[0].contains("data-value"), "{cycle}/{rel}: {}", &c[0]);
        }
    }
    assert!(
        suppressed_seen > 20,
        "the sample has suppressed cells to check ({suppressed_seen})"
    );
    // A department at the floor is shown, as indicative: Zonnestede
    // anaesthesiology (joined in 2022) has four D-RECT respondents in
    // 2021-2022. (With neurology on the region's cycles this was the small
    // neurology department in 2023-2024; in neurology's own cycles it has
    // three in each.) The small neurology department, three respondents in
    // 2020-2021 and in 2022-2023: "n < 4".
    let anes_early = read(&d, "2021-2022/rso/anes-nv.html");
    let floor = row_cells(&anes_early, "department", "zonnestede:anes", 0);
    assert!(
        floor.iter().any(|(a, _)| a.contains("data-value"))
            && floor
                .iter()
                .all(|(a, _)| a.contains("title=\"n = 4,") || a.contains("suppressed")),
        "{floor:?}"
    );
    for cycle in ["2020-2021", "2022-2023"] {
        let neu = read(&d, &format!("{cycle}/rso/neu-nv.html"));
        let small = row_cells(&neu, "department", "brakelduin:neu", 0);
        assert!(
            !small.is_empty()
                && small
                    .iter()
                    .all(|(a, t)| a.contains("suppressed") && t == "n &lt; 4"),
            "{cycle}: {small:?}"
        );
    }

    // The stories. The decline at Heemdaal internal medicine: a signal (once,
    // not repeated as a point for improvement) in its RSO report and in the
    // region overview.
    let int = read(&d, "2023-2024/rso/int-nv.html");
    let finding = |page: &str, rule: &str, unit: &str, instrument: &str, scale: &str| {
        let re = regex::Regex::new(&format!(
            r#"<li data-rule="{rule}" data-unit="{}" data-instrument="{instrument}" data-scales="([^"]*)""#,
            regex::escape(unit)
        ))
        .unwrap();
        let found = re
            .captures_iter(page)
            .any(|c| c[1].split(',').any(|s| s == scale));
        found
    };
    let signals = &int[int.find("class=\"finding-list signal\"").expect("signals")..];
    let signals = &signals[..signals.find("</section>").unwrap()];
    assert!(
        finding(signals, "decline", "heemdaal:int", "d-rect", "total"),
        "decline not a signal"
    );
    // Issue #19, item 1: one short line, however many subscales fell. The
    // total and two subscales are named, the other seven counted; all ten
    // stay in the finding's ids below it.
    let line = regex::Regex::new(
        r#"<li data-rule="decline" data-unit="heemdaal:int" data-instrument="d-rect" data-scales="([^"]*)">([^<]*)"#,
    )
    .unwrap();
    let c = line.captures(signals).expect("Heemdaal's D-RECT decline");
    assert_eq!(c[1].split(',').count(), 10, "{}", &c[1]);
    assert_eq!(c[2].matches('→').count(), 3, "{}", &c[2]);
    assert!(
        c[2].contains("Totaal 75 → 60") && c[2].contains("en 7 andere subschalen"),
        "{}",
        &c[2]
    );
    let region_page = read(&d, "2023-2024/region/noorderveld.html");
    assert!(finding(
        &region_page,
        "decline",
        "heemdaal:int",
        "d-rect",
        "total"
    ));
    // The improvement after the action: anaesthesiology's coaching rose.
    let anes = read(&d, "2023-2024/rso/anes-nv.html");
    let strengths = &anes[anes
        .find("class=\"finding-list strength\"")
        .expect("strengths")
        ..anes
            .find("class=\"finding-list improvement\"")
            .unwrap_or(anes.len())];
    assert!(finding(
        strengths,
        "improved",
        "anes-nv",
        "d-rect",
        "coaching_assessment"
    ));
    let a1 = config
        .register
        .actions
        .iter()
        .find(|a| a.action_id == "A1")
        .unwrap()
        .clone();
    let indicator = a1.indicator.clone().expect("A1 names its indicator");
    let effect =
        pdca::effect(&a1, &indicator, &published, &config.registry, 2024).expect("A1 measured");
    // The report of a cycle measures up to its own end: 2021-2022 has no
    // year after A1's start (2022).
    assert!(pdca::effect(&a1, &indicator, &published, &config.registry, 2022).is_none());
    assert!(
        effect.diff_pomp.unwrap() > 5.0 && effect.p_value.unwrap() < 0.05,
        "{effect:?}"
    );
    assert!(anes.contains("data-action=\"A1\""));
    // The missing measurement: Meerhaven neurology ran no D-RECT in 2024,
    // and the quality register exempts it (no aios that year): no signal,
    // and the calendar says why (tests/register.rs removes the exemption).
    assert!(!finding(
        &region_page,
        "missing",
        "meerhaven:neu",
        "d-rect",
        "total"
    ));
    // Neurology's 2024 is in its own cycle 2024-2025.
    let neu = read(&d, "2024-2025/rso/neu-nv.html");
    assert!(
        neu.contains(
            "data-status=\"exempt\"><td>2024</td><td>3</td><td>D-RECT (Meerhaven Medisch Centrum)"
        ),
        "the exemption is in neurology's calendar"
    );
    // The overdue action of Heemdaal is highlighted.
    assert!(int.contains("id=\"action-A2\" class=\"overdue-row\" data-action=\"A2\""));
    // Thresholds are presented as settings, not norms.
    assert!(anes.contains("geen officiële normen"));
}

#[test]
fn hostile_comments_are_inert_in_html_markdown_and_xlsx() {
    let d = region();
    let html = read(&d, "2023-2024/rso/int-nv.html");
    // Shown, escaped (minijinja also writes "/" as "&#x2f;").
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "the comment is shown, escaped"
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(!html.contains("<b>veel</b>"));
    let md = read(&d, "2023-2024/rso/int-nv.md");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!md.contains("<script>"));

    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut book: Xlsx<_> = open_workbook(d.join("output/reports/2023-2024/tables.xlsx")).unwrap();
    let formulas = book.worksheet_formula("opmerkingen").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell of the workbook is a formula"
    );
    let range = book.worksheet_range("opmerkingen").unwrap();
    let texts: Vec<String> = range
        .used_cells()
        .filter_map(|(_, _, c)| {
            if let Data::String(s) = c {
                Some(s.clone())
            } else {
                None
            }
        })
        .collect();
    assert!(
        texts.iter().any(|t| t.starts_with("=HYPERLINK(")),
        "the formula-like text is kept as text"
    );
    assert!(texts.iter().any(|t| t.starts_with("+31")));
}

#[test]
fn english_on_request_and_nothing_rewritten_without_change() {
    let d = region();
    let en = english_rso_report(&d, "anes-nv");
    assert!(en.contains("<h2>Summary</h2>") && en.contains("Strengths"));
    assert!(!en.contains("Samenvatting"));
    assert!(
        !d.join("output/reports/2023-2024/rso/int-nv.en.html")
            .exists(),
        "--rso renders one RSO"
    );
    let bad = d.run(&[
        "report",
        "-c",
        "opleidingsmonitor.toml",
        "--cycle",
        "2031-2032",
    ]);
    assert_eq!(bad.code(), 2);
    assert!(bad.stderr().contains("2023-2024"), "{}", bad.both());
    // The same data on the same day: the report files are not rewritten.
    let p = d.join("output/reports/2023-2024/rso/anes-nv.html");
    let before = std::fs::metadata(&p).unwrap().modified().unwrap();
    let again = d.run_env(
        &["report", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_TODAY", TODAY)],
    );
    assert_eq!(again.code(), 0);
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);
    let _ = Path::new(".");
}

#[test]
fn templates_labels_and_style_are_replaced_without_recompiling() {
    let d = region();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports");
    let i18n = std::fs::read_to_string(shipped.join("i18n.toml")).unwrap();
    assert!(i18n.contains("summary = \"Samenvatting\""));
    d.write(
        "eigen/i18n.toml",
        i18n.replace("summary = \"Samenvatting\"", "summary = \"Kort overzicht\""),
    );
    d.write(
        "eigen/style.css",
        "/* eigen huisstijl */ body { font-family: serif; }",
    );
    let config = std::fs::read_to_string(d.join("opleidingsmonitor.toml")).unwrap();
    let config = config.replace("[report]\n", "[report]\ntemplates = \"eigen\"\n");
    d.write("opleidingsmonitor.toml", config);
    let r = d.run(&[
        "report",
        "-c",
        "opleidingsmonitor.toml",
        "--cycle",
        "2023-2024",
    ]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let html = read(&d, "2023-2024/rso/anes-nv.html");
    assert!(html.contains("<h2>Kort overzicht</h2>"));
    assert!(html.contains("/* eigen huisstijl */"));
    // A broken template is a clear error naming it, not a panic.
    d.write("eigen/rso.html.j2", "{% for x in %}");
    let r = d.run(&[
        "report",
        "-c",
        "opleidingsmonitor.toml",
        "--cycle",
        "2023-2024",
    ]);
    assert_eq!(r.code(), 2, "{}", r.both());
    assert!(r.stderr().contains("rso.html.j2"), "{}", r.both());
}

/// The text of every page of a cycle's reports, by path.
fn pages_of(d: &Dir, cycle: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![d.join(&format!("output/reports/{cycle}"))];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "html" || x == "md") {
                out.insert(
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn one_cycles_reports_read_only_their_rows_and_say_the_same() {
    // The full run made every cycle's reports from every row of each
    // region; a cycle on its own reads less (its changes, item counts,
    // sources, and the department cells of the cycle, its years and the
    // cycle before). What it shows must not change.
    let d = region();
    for cycle in ["2019-2020", "2021-2022", "2023-2024"] {
        let all = pages_of(&d, cycle);
        assert!(all.len() > 10, "{cycle}: {} pages", all.len());
        for p in all.keys() {
            std::fs::remove_file(p).unwrap();
        }
        let r = d.run_env(
            &["report", "-c", "opleidingsmonitor.toml", "--cycle", cycle],
            &[("OPLEIDINGSMONITOR_TODAY", TODAY)],
        );
        assert_eq!(r.code(), 0, "{}", r.both());
        let alone = pages_of(&d, cycle);
        assert_eq!(
            alone.keys().collect::<Vec<_>>(),
            all.keys().collect::<Vec<_>>(),
            "{cycle}: the same pages"
        );
        for (p, text) in &all {
            assert!(
                alone[p] == *text,
                "{p} differs when its cycle is made alone"
            );
        }
    }
}

/// Issue #19, item 4: a change table said "n < 4" for departments of 7-12
/// respondents that were hidden to protect another group. Every change row
/// that says "n < 4" must have a cell below the floor (in the cycle or the
/// one compared with); the others say "verborgen".
#[test]
fn a_change_says_too_few_only_where_a_cell_is_below_the_floor() {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    let r = d.run_env(
        &["run", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_TODAY", TODAY)],
    );
    assert_eq!(r.code(), 0, "{}", r.both());
    let r = d.run_env(
        &["report", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_TODAY", TODAY)],
    );
    assert_eq!(r.code(), 0, "{}", r.both());
    let config = Config::load(&d.join("opleidingsmonitor.toml")).unwrap();
    let published = read_published(&d.join("output/dataset"), &config.catalogue).unwrap();
    // Display names as the Dutch reports write them.
    let unit_of = |name: &str| -> Option<(Level, String)> {
        for c in &published.cells {
            let shown = match c.level {
                Level::Department => {
                    let (i, s) = c.unit_id.split_once(':')?;
                    format!(
                        "{} – {}",
                        config.registry.institutions[i].name, config.registry.specialties[s].name
                    )
                }
                Level::Rso => config.registry.rsos[&c.unit_id].name.clone(),
                _ => continue,
            };
            if shown == name {
                return Some((c.level, c.unit_id.clone()));
            }
        }
        None
    };
    let (mut too_few, mut hidden) = (0, 0);
    // Neurology's reports in its own cycles (from 2020).
    let reports = ["2021-2022", "2023-2024"]
        .iter()
        .flat_map(|c| [(*c, "anes-nv"), (*c, "int-nv")])
        .chain([("2020-2021", "neu-nv"), ("2022-2023", "neu-nv")]);
    for (cycle, rso) in reports {
        let md = read(&d, &format!("{cycle}/rso/{rso}.md"));
        for line in md.lines() {
            let cols: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            // Change rows: unit, subscale, previous cycle, difference, p, g.
            if cols.len() != 6 || !cols[2].contains('-') || !cols[2].starts_with("20") {
                continue;
            }
            let Some((level, unit)) = unit_of(cols[0]) else {
                continue;
            };
            let below_floor = published.unit_cells(level, &unit).iter().any(|c| {
                (c.period == cycle || c.period == cols[2])
                    && c.suppression_reason
                        == Some(opleidingsmonitor::domain::SuppressionReason::MinN)
            });
            match cols[3] {
                "n &lt; 4" => {
                    too_few += 1;
                    assert!(below_floor, "{cycle} {rso}: {line}");
                }
                "verborgen" => {
                    hidden += 1;
                }
                _ => {}
            }
        }
    }
    assert!(
        too_few > 0,
        "the sample has changes hidden for too few respondents"
    );
    eprintln!("change rows: {too_few} too few, {hidden} hidden to protect");
}

#[test]
fn a_supervisor_named_in_another_row_and_a_phone_number_are_not_published() {
    let d = region();
    let scrubbed =
        "+31 6 bellen. Supervisor [naam verwijderd] ([telefoonnummer verwijderd]) was vaak afwezig";
    let comments = opleidingsmonitor::dataset::read_comments(&d.join("output/dataset")).unwrap();
    let row = comments
        .iter()
        .find(|c| c.text.contains("was vaak afwezig"))
        .expect("the hidden comment is stored");
    assert_eq!(row.text, scrubbed);
    // One name and one phone number masked; only the count is kept.
    assert_eq!((row.masked_names, row.masked_details), (1, 1));
    // The sample's comments hold e-mail addresses, all counted.
    let details: u64 = comments.iter().map(|c| c.masked_details as u64).sum();
    let by_hand = comments
        .iter()
        .map(|c| c.text.matches("verwijderd]").count() as u64)
        .sum::<u64>()
        - comments
            .iter()
            .map(|c| c.text.matches("[naam verwijderd]").count() as u64)
            .sum::<u64>();
    assert!(details > 10, "{details}");
    assert_eq!(
        details, by_hand,
        "counts agree with the markers in the texts"
    );
    // The RSO report shows the scrubbed answer and says what is masked.
    let md = read(&d, "2023-2024/rso/int-nv.md");
    // (Markdown escapes the brackets.)
    assert!(
        md.contains(r"Supervisor \[naam verwijderd\] (\[telefoonnummer verwijderd\])"),
        "the answer is shown"
    );
    assert!(md.contains("in open antwoorden worden bij het inlezen vervangen"));
    // And how many were masked in the answers it prints, and so does the
    // report of the department the answer is about.
    let (names, details) = assert_masked_count_matches_markers(&md, "## Exitenquête");
    assert!(names >= 1 && details >= 1, "{names} {details}");
    assert!(row.year == 2023 || row.year == 2024, "{}", row.year);
    let dep = read(
        &d,
        &format!(
            "2023-2024/department/{}_{}.md",
            row.institution_id, row.specialty
        ),
    );
    assert!(dep.contains(r"Supervisor \[naam verwijderd\]"), "{dep}");
    let (names, details) = assert_masked_count_matches_markers(&dep, "## Exitenquête");
    assert!(names >= 1 && details >= 1, "{names} {details}");
    for (rel, bytes) in crate::util::report_files(d.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("Jansen"), "{rel} names Jansen");
        assert!(!text.contains("12345678"), "{rel} has the phone number");
    }
}

/// A report's count of the names and contact details masked in the open
/// answers it prints, counted again from the markers in the texts its
/// exit-survey section (from `heading` to the method section) shows: a
/// second source.
fn assert_masked_count_matches_markers(md: &str, heading: &str) -> (usize, usize) {
    let re = regex::Regex::new(
        r"In de open antwoorden in dit rapport zijn (\d+) namen en (\d+) contactgegevens vervangen",
    )
    .unwrap();
    let caps = re.captures(md).expect("the report's own count");
    let (names, details): (usize, usize) = (caps[1].parse().unwrap(), caps[2].parse().unwrap());
    let exit = &md[md.find(heading).unwrap()..md.find("## Methode").unwrap()];
    // Identical answers print once with a count: the markers of a grouped
    // answer count once per time it was given.
    let grouped: usize = exit
        .lines()
        .filter(|l| l.contains(r"verwijderd\]"))
        .map(|l| {
            let times = regex::Regex::new(r"\((\d+)×\)$")
                .unwrap()
                .captures(l)
                .map_or(1, |c| c[1].parse::<usize>().unwrap());
            let names = l.matches(r"\[naam verwijderd\]").count();
            (times, names, l.matches(r"verwijderd\]").count() - names)
        })
        .map(|(t, n, d)| t * (n * 1000 + d))
        .sum();
    assert_eq!((names, details), (grouped / 1000, grouped % 1000), "{exit}");
    (names, details)
}

/// The text of every file the run wrote below `output/`: HTML, Markdown,
/// SVG and JSON as they are, each part of a workbook unzipped (its strings
/// are XML), each Parquet table read back as text.
fn output_texts(d: &Dir) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in crate::util::files_below(&d.join("output")) {
        let rel = p.display().to_string();
        match p.extension().and_then(|x| x.to_str()) {
            Some("xlsx") => {
                let mut zip = zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
                for i in 0..zip.len() {
                    let mut f = zip.by_index(i).unwrap();
                    let name = f.name().map(|n| n.to_string()).unwrap_or_default();
                    let mut bytes = Vec::new();
                    std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
                    out.push((
                        format!("{rel}:{name}"),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    ));
                }
            }
            Some("parquet") => {}
            // A PDF's text as a reader sees it (its streams are compressed).
            Some("pdf") => out.push((rel, crate::util::pdf_pages(&p).join("\n"))),
            _ => out.push((
                rel,
                String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
            )),
        }
    }
    let tables = opleidingsmonitor::dataset::read_table_as_text(&d.join("output")).unwrap();
    let mut text = String::new();
    for row in &tables {
        for v in row.values().flatten() {
            text.push_str(v);
            text.push('\n');
        }
    }
    out.push(("output/**/*.parquet".into(), text));
    out
}

#[test]
fn no_output_file_holds_a_name_or_phone_number_from_the_exports() {
    let d = region();
    crate::pdf::enable_pdf(&d);
    let mut ids = synth::sample_identifiers(20191);
    ids.extend(
        [
            "Piet Jansen",
            "Jansen",
            "Extra Aios 3",
            "06-12345678",
            "12345678)",
        ]
        .map(String::from),
    );
    // The exports hold them (the test would prove nothing otherwise): the
    // sample's comments carry e-mail addresses, the extra export the name
    // and the phone number.
    let texts = output_texts(&d);
    assert!(texts.iter().any(|(f, _)| f.ends_with(".html")));
    assert!(texts
        .iter()
        .any(|(f, _)| f.contains("tables.xlsx:xl/sharedStrings.xml")));
    assert!(texts.iter().any(|(f, _)| f.ends_with(".md")));
    assert!(texts
        .iter()
        .any(|(f, t)| f.ends_with("rso/int-nv.pdf") && t.contains("Exitenquête")));
    let all: usize = texts.iter().map(|(_, t)| t.len()).sum();
    assert!(all > 1_000_000, "{all} bytes of output read");
    assert!(texts.iter().any(|(_, t)| t.contains("[e-mail verwijderd]")));
    let mut found = Vec::new();
    for (file, text) in &texts {
        for id in &ids {
            if text.contains(id.as_str()) {
                found.push(format!("{id:?} in {file}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} found: {:?}",
        found.len(),
        &found[..found.len().min(20)]
    );
}

/// The unverified-table notes of an HTML report: (instrument id, text).
pub(crate) fn unverified_notes(html: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(
        r#"<p class="note unverified"(?: data-instrument="([^"]*)")?>([^<]*)</p>"#,
    )
    .unwrap();
    re.captures_iter(html)
        .map(|c| {
            let id = c.get(1).map_or("", |m| m.as_str()).to_string();
            (id, c[2].to_string())
        })
        .collect()
}

/// The lines of a department report's note on placeholder item tables:
/// (instrument id, text).
pub(crate) fn unverified_lines(html: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r#"<li class="unverified" data-instrument="([^"]*)">([^<]*)</li>"#)
        .unwrap();
    re.captures_iter(html)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

/// The instrument sections of an HTML report: (id, version from the
/// heading "D-RECT (2016)").
fn sections(html: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(
        r#"<section class="instrument" id="instrument-([^"]+)">\s*<h2>[^<]*\(([^)<]+)\)</h2>"#,
    )
    .unwrap();
    re.captures_iter(html)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

/// Issue #19, item 7: a subscale score that rests on a placeholder item
/// table (`items_verified = false`) is said to be provisional once per
/// instrument, in the reader's language; an instrument whose table is
/// verified carries no such note.
#[test]
fn placeholder_subscale_tables_are_disclosed_once_per_instrument() {
    let d = region();
    let cat = Catalogue::load(None).unwrap();
    let html = read(&d, "2023-2024/rso/int-nv.html");
    let secs = sections(&html);
    let notes = unverified_notes(&html);
    let ids: Vec<&str> = secs.iter().map(|(i, _)| i.as_str()).collect();
    assert!(
        ids.contains(&"d-rect") && ids.contains(&"exit"),
        "sections: {secs:?}"
    );
    for (id, version) in &secs {
        let of_this: Vec<&String> = notes
            .iter()
            .filter(|(n, _)| n == id)
            .map(|(_, t)| t)
            .collect();
        // Every section of this report shows all of its subscales, so it
        // carries the note exactly when its file has an unverified one.
        let placeholder = !cat.unverified(id, version).is_empty();
        assert_eq!(
            of_this.len(),
            usize::from(placeholder),
            "{id} {version}: {of_this:?}"
        );
        if let Some(text) = of_this.first() {
            let def = cat.get(id, version).unwrap();
            assert!(
                text.contains(&format!("{} ({version})", def.display_name("nl"))),
                "{text}"
            );
            assert!(text.contains("nog niet geverifieerd") && text.contains("voorlopig"));
            // The total is the mean over all items: it does not depend on
            // the division, and the note says so.
            assert!(text.contains("De totaalscore hangt niet af"), "{text}");
        }
    }
    // D-RECT's table is a placeholder in both versions: its note is there,
    // once, and nowhere else in the report is the sentence repeated.
    let drect = &secs.iter().find(|(i, _)| i == "d-rect").unwrap().1;
    assert!(!cat.unverified("d-rect", drect).is_empty());
    assert_eq!(notes.iter().filter(|(i, _)| i == "d-rect").count(), 1);
    // The exit survey's table is its own definition: verified, no note.
    assert!(cat.unverified("exit", "example").is_empty());
    assert!(!notes.iter().any(|(i, _)| i == "exit"), "{notes:?}");
    assert_eq!(html.matches("nog niet geverifieerd").count(), notes.len());

    // The Markdown report says the same sentences, once each.
    let md = read(&d, "2023-2024/rso/int-nv.md");
    for (_, text) in &notes {
        // (Markdown escapes nothing in these sentences but the brackets.)
        let plain = text.replace("&#x27;", "'");
        let head: String = plain.chars().take(60).collect();
        assert_eq!(md.matches(head.as_str()).count(), 1, "{head}");
    }
    assert_eq!(md.matches("nog niet geverifieerd").count(), notes.len());

    // In English: the same notes in the reader's language.
    let en = english_rso_report(&d, "int-nv");
    let en_notes = unverified_notes(&en);
    assert_eq!(
        en_notes.iter().map(|(i, _)| i).collect::<Vec<_>>(),
        notes.iter().map(|(i, _)| i).collect::<Vec<_>>()
    );
    for (_, text) in &en_notes {
        assert!(
            text.contains("not yet been verified") && text.contains("provisional"),
            "{text}"
        );
        assert!(!text.contains("voorlopig"), "{text}");
    }

    // Department reports show subscale scores only in their findings: one
    // note, with a line per instrument whose findings name an unverified
    // subscale, and none where the findings name none. (Neurology's
    // departments report in its own cycle 2022-2023.)
    let re = regex::Regex::new(r#"data-instrument="([^"]+)" data-scales="([^"]*)""#).unwrap();
    let mut with_note = 0;
    let mut without = 0;
    let entries = ["2023-2024", "2022-2023"].iter().flat_map(|cycle| {
        let dir = d.join(&format!("output/reports/{cycle}/department"));
        std::fs::read_dir(dir).unwrap()
    });
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".html") || name.ends_with(".en.html") {
            continue;
        }
        let page = std::fs::read_to_string(&path).unwrap();
        let notes = unverified_lines(&page);
        // The instruments whose findings name a subscale that is
        // unverified in every version defining it (surely a note), or in
        // some version (possibly: the page does not name the version).
        let (mut sure, mut maybe) = (BTreeSet::new(), BTreeSet::new());
        for c in re.captures_iter(&page) {
            for scale in c[2].split(',').filter(|s| !s.is_empty() && *s != "total") {
                let unverified: Vec<bool> = cat
                    .iter()
                    .filter(|v| v.id == c[1] && v.subscale(scale).is_some())
                    .map(|v| v.unverified().contains(&scale))
                    .collect();
                if !unverified.is_empty() && unverified.iter().all(|u| *u) {
                    sure.insert(c[1].to_string());
                }
                if unverified.iter().any(|u| *u) {
                    maybe.insert(c[1].to_string());
                }
            }
        }
        let named: BTreeSet<String> = notes.iter().map(|(i, _)| i.clone()).collect();
        assert!(
            sure.is_subset(&named) && named.is_subset(&maybe),
            "{name}: {notes:?} for {sure:?} / {maybe:?}"
        );
        let mut texts: Vec<&String> = notes.iter().map(|(_, t)| t).collect();
        texts.dedup();
        assert_eq!(texts.len(), notes.len(), "{name}: a line repeated");
        // One note, its lead sentence once.
        assert_eq!(
            page.matches("nog niet geverifieerd").count(),
            usize::from(!notes.is_empty()),
            "{name}"
        );
        if notes.is_empty() {
            without += 1;
        } else {
            with_note += 1;
        }
    }
    assert!(
        with_note > 0 && without > 0,
        "{with_note} with, {without} without"
    );
}

/// The item names of the distribution tables of an HTML report, per
/// instrument section id, in order.
fn distribution_items(html: &str) -> Vec<(String, Vec<String>)> {
    let row = regex::Regex::new(r#"<tr><th scope="row">([^<]+)</th>"#).unwrap();
    html.split(r#"<section class="instrument" id="instrument-"#)
        .skip(1)
        .filter_map(|s| {
            let id = s[..s.find('"')?].to_string();
            let fig = &s[s.find(r#"<figure class="wide distribution">"#)?..];
            let fig = &fig[..fig.find("</figure>")?];
            Some((
                id,
                row.captures_iter(fig).map(|c| c[1].to_string()).collect(),
            ))
        })
        .collect()
}

/// Issue #19, item 6: a report names an item by its short label from the
/// instrument file, or, where the file ships no wording (the licensed
/// forms), by its subscale and its place there, and says so; the item code
/// is nowhere a reader sees it, only in the workbook beside the name.
#[test]
fn items_are_named_by_their_label_never_by_their_code() {
    let d = region();
    let cat = Catalogue::load(None).unwrap();
    let code =
        regex::Regex::new(r"\b(d11|d16|eff|exit|mctq|setq|smart7?)_(q\d+|tops|tips)\b").unwrap();
    let html = read(&d, "2023-2024/rso/int-nv.html");
    let items = distribution_items(&html);
    let of = |id: &str| -> &Vec<String> {
        &items
            .iter()
            .find(|(i, _)| i == id)
            .unwrap_or_else(|| panic!("no {id} distribution: {items:?}"))
            .1
    };
    // D-RECT 2016 ships no item wording: its items are named by subscale
    // and place, in form order (teamwork holds the file's first four), one
    // row per item, each name once.
    let drect = of("d-rect");
    let def = cat.get("d-rect", "2016").unwrap();
    assert_eq!(drect.len(), 35, "{drect:?}");
    assert_eq!(
        drect[..4],
        (1..=4)
            .map(|k| format!("Werken in een team, item {k}"))
            .collect::<Vec<_>>()
    );
    for (name, item) in drect.iter().zip(&def.items) {
        let sub = def.subscale(&item.subscale).unwrap();
        assert_eq!(
            name,
            &format!("{}, item {}", sub.nl, def.item_position(item)),
            "{}",
            item.id
        );
    }
    assert_eq!(drect.iter().collect::<BTreeSet<_>>().len(), drect.len());
    // The exit survey's file has its wording: its short labels.
    let exit = of("exit");
    assert!(exit.contains(&"Bruikbare feedback".to_string()), "{exit:?}");
    assert!(
        exit.contains(&"Supervisie beschikbaar".to_string()),
        "{exit:?}"
    );
    // The chart names the same items.
    assert!(html.contains(">\nWerken in een team, item 2\n<"));
    // The way items without a label are named is said under the chart of
    // D-RECT, not under that of the exit survey.
    let note = "Items zonder eigen korte naam";
    let section = |id: &str| {
        let start = html.find(&format!(r#"id="instrument-{id}""#)).unwrap();
        let end = html[start..].find("</section>").unwrap() + start;
        html[start..end].to_string()
    };
    assert_eq!(section("d-rect").matches(note).count(), 1);
    assert_eq!(section("exit").matches(note).count(), 0);
    // No code anywhere a reader sees the report.
    let md = read(&d, "2023-2024/rso/int-nv.md");
    for (name, text) in [("html", &html), ("md", &md)] {
        let found: Vec<&str> = code.find_iter(text).map(|m| m.as_str()).collect();
        assert!(found.is_empty(), "{name}: {found:?}");
    }

    // English: the English names.
    let en = english_rso_report(&d, "int-nv");
    let en_items = distribution_items(&en);
    let en_drect = &en_items.iter().find(|(i, _)| i == "d-rect").unwrap().1;
    assert_eq!(en_drect[1], "Teamwork, item 2");
    let en_exit = &en_items.iter().find(|(i, _)| i == "exit").unwrap().1;
    assert!(
        en_exit.contains(&"Useful feedback".to_string()),
        "{en_exit:?}"
    );
    assert!(en.contains("Items without a short name of their own"));
    assert!(code.find(&en).is_none());

    // The workbook keeps the code for the analyst, beside the name.
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(d.join("output/reports/2023-2024/tables.xlsx")).unwrap();
    let sheet = book.worksheet_range("opmerkingen").unwrap();
    let mut rows = sheet.rows();
    let head: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    let name_col = head
        .iter()
        .position(|h| h == "Vraag")
        .expect("a name column");
    assert_eq!(head[name_col + 1], "Vraag (id)", "{head:?}");
    let mut seen = 0;
    for row in rows {
        let (name, id) = (row[name_col].to_string(), row[name_col + 1].to_string());
        let expected = match id.as_str() {
            "exit_tops" => "Tops",
            "exit_tips" => "Tips",
            other => panic!("an open answer of item {other}"),
        };
        assert_eq!(name, expected);
        seen += 1;
    }
    assert!(seen > 0);
}
