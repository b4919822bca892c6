//! The quality loop (issue #17): the quality register read and checked,
//! findings with stable ids, and the loop in the RSO reports, the region
//! overview and the board summary, on the sample region's stories.

use std::collections::BTreeSet;

use crate::synth;
use crate::util::Dir;
use opleidingsmonitor::instrument::Catalogue;

/// The sample region (with its register), run.
fn sample_run() -> Dir {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    d
}

fn read(d: &Dir, rel: &str) -> String {
    std::fs::read_to_string(d.join(&format!("output/reports/{rel}"))).unwrap()
}

/// The attributes of the element with `data-finding="<id>"` in a follow-up
/// list (the `<li ...>` tag).
fn follow_tag<'a>(html: &'a str, id: &str) -> &'a str {
    // (HTML attributes write "/" as "&#x2f;".)
    let attr = id.replace('/', "&#x2f;");
    let at = html
        .match_indices("<li class=\"follow ")
        .map(|(i, _)| i)
        .find(|&i| html[i..].split('>').next().unwrap().contains(&attr))
        .unwrap_or_else(|| panic!("no follow-up of {id}"));
    html[at..].split('>').next().unwrap()
}

/// The findings of a cycle as published: (id, kind, rso_id), in file order.
fn findings(d: &Dir, cycle: &str) -> Vec<(String, String, Option<String>)> {
    let dir = d.join(&format!("output/reports/{cycle}"));
    assert!(dir.join("findings.parquet").exists());
    // The cycle's folder holds one Parquet file: findings.parquet.
    opleidingsmonitor::dataset::read_table_as_text(&dir)
        .unwrap()
        .into_iter()
        .map(|row| {
            let get = |c: &str| row.get(c).cloned().flatten();
            (get("id").unwrap(), get("kind").unwrap(), get("rso_id"))
        })
        .collect()
}

#[test]
fn the_sample_registers_stories_show_in_the_right_reports_with_the_right_verdicts() {
    let d = sample_run();
    let anes = read(&d, "2023-2024/rso/anes-nv.html");
    let int = read(&d, "2023-2024/rso/int-nv.html");
    // Neurology keeps its own cycles from 2020: its calendar of 2024 is in
    // its 2024-2025 report.
    let neu = read(&d, "2024-2025/rso/neu-nv.html");

    // The evaluation: recorded for anaesthesiology, said plainly missing
    // for internal medicine.
    assert!(anes.contains("Sterk: begeleiding en feedback na actie A1"));
    assert!(!anes.contains("missing-evaluation"));
    assert!(int.contains("class=\"note missing-evaluation\""));

    // Last cycle's points: A1's target (>= 65) met; A5's (+5) not met;
    // Meerhaven's accessibility point had no action; Brakelduin's decline
    // was not recognised, with the group's reason.
    let met = follow_tag(&anes, "2021-2022/anes-nv/d-rect/coaching_assessment/");
    assert!(met.contains("data-verdict=\"met\""), "{met}");
    let not_met = follow_tag(&int, "2021-2022/umcl:int/effect/learning_work/");
    assert!(not_met.contains("data-verdict=\"not_met\""), "{not_met}");
    let none = follow_tag(
        &int,
        "2021-2022/meerhaven:int/d-rect/supervisor_accessibility/low_score",
    );
    assert!(none.contains("data-verdict=\"no_action\""), "{none}");
    let rejected = follow_tag(
        &anes,
        "2021-2022/brakelduin:anes/d-rect/formal_education/decline",
    );
    assert!(rejected.contains("data-verdict=\"not_recognised\""));
    assert!(anes.contains("door een verbouwing tijdelijk verplaatst"));
    // A1's measured change: 2021 against 2024, the caveat beside it.
    assert!(anes.contains("geen bewijs dat de actie het veroorzaakte"));

    // What needs attention: the overdue action A2 and A5's missed target
    // (internal medicine), the action without an indicator (A6).
    let attention = |html: &str| -> String {
        let a = html.find("id=\"attention\"").expect("attention section");
        html[a..a + html[a..].find("</section>").unwrap()].to_string()
    };
    let int_attention = attention(&int);
    assert!(int_attention.contains("A2 Werkdruk bespreken"));
    assert!(int_attention.contains("A5 Het leerwerkplan"));
    assert!(attention(&anes).contains("A6 Jaarlijkse kwaliteitssessie"));
    assert!(int.contains("id=\"action-A2\" class=\"overdue-row\""));

    // The visitation with an open, overdue condition; the escalation at
    // step "bespreking"; the calendar: a missing quality session and the
    // exempted measurement.
    assert!(int.contains("data-visitation=\"V2024-1\" data-open=\"2\""));
    assert!(int.contains("<tr class=\"overdue-row\"><td>voorwaarde</td>"));
    assert!(int.contains("data-signal=\"S1\" data-step=\"bespreking\""));
    assert!(int.contains(
        "data-status=\"missing\"><td>2024</td><td>11</td><td>jaarlijkse kwaliteitssessie"
    ));
    assert!(anes.contains("data-status=\"done\"><td>2024</td><td>11</td>"));
    assert!(neu.contains("data-status=\"exempt\""));

    // The region overview: one row per RSO with where its loop stands.
    let region = read(&d, "2023-2024/region/noorderveld.html");
    let row = |rso: &str| -> String {
        let at = region
            .find(&format!("<tr data-unit=\"{rso}\" data-signals="))
            .unwrap_or_else(|| panic!("loop row of {rso}"));
        region[at..at + region[at..].find("</tr>").unwrap()].to_string()
    };
    let int_row = row("int-nv");
    assert!(int_row.contains("data-evaluated=\"false\""), "{int_row}");
    // A2 (due 2024-09-30), A4 (2025-12-31) and A7 (2025-12-31) on the
    // tests' today, 2026-11-22.
    assert!(int_row.contains("data-overdue=\"3\""), "{int_row}");
    assert!(int_row.contains("data-conditions=\"2\""), "{int_row}");
    assert!(int_row.contains("S1: bespreking"), "{int_row}");
    assert!(row("anes-nv").contains("data-evaluated=\"true\""));
    // Good practice: A1 behind anaesthesiology's rise.
    assert!(region.contains("A1 Na elke dienst een kort feedbackmoment"));

    // The board summary: one page, the same counts.
    let board = read(&d, "2023-2024/board/noorderveld.html");
    assert!(
        board.contains("Geëvalueerd door de R-COC: 1 van 3 RSO&#x27;s."),
        "{board}"
    );
    assert!(board.contains("Open escalaties: 1."));
    assert!(board.contains("bespreking"));
}

#[test]
fn every_finding_is_in_its_rso_report_and_every_signal_in_the_region_overview() {
    let d = sample_run();
    // Neurology keeps its own cycles: the region overview lists it at the
    // cycle that ended last for it, with that cycle's signals.
    for (cycle, neu_cycle) in [("2021-2022", "2020-2021"), ("2023-2024", "2022-2023")] {
        let fs = findings(&d, cycle);
        assert!(fs.len() > 20, "{cycle}: {}", fs.len());
        let ids: BTreeSet<&String> = fs.iter().map(|f| &f.0).collect();
        assert_eq!(ids.len(), fs.len(), "{cycle}: every id once");
        let region = read(&d, &format!("{cycle}/region/noorderveld.html"));
        let mut signals = 0;
        let neu: Vec<_> = findings(&d, neu_cycle)
            .into_iter()
            .filter(|f| f.2.as_deref() == Some("neu-nv"))
            .collect();
        assert!(!neu.is_empty(), "{neu_cycle}");
        for (id, kind, rso) in fs.iter().chain(&neu) {
            let Some(rso) = rso else { continue };
            assert_eq!(rso == "neu-nv", id.starts_with(neu_cycle), "{id}");
            let own = &id[..id.find('/').unwrap()];
            let page = read(&d, &format!("{own}/rso/{rso}.html"));
            // (HTML attributes write "/" as "&#x2f;".)
            let attr = id.replace('/', "&#x2f;");
            assert!(
                page.contains(&format!("id=\"{attr}\"")),
                "{id} in {rso}'s report"
            );
            if kind == "signal" {
                signals += 1;
                let listed = region.match_indices("data-findings=\"").any(|(i, m)| {
                    let rest = &region[i + m.len()..];
                    rest[..rest.find('"').unwrap()]
                        .split(' ')
                        .any(|x| x == attr)
                });
                assert!(listed, "{id} in the region overview");
            }
        }
        // The overview's per-RSO counts add up to the lines it lists (a
        // line groups a unit's signals of one instrument and rule), as the
        // COC's institution overview counts.
        let counted: usize = region
            .match_indices("data-signals=\"")
            .map(|(i, m)| {
                let rest = &region[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse::<usize>().unwrap()
            })
            .sum();
        let lines = region.matches("data-findings=\"").count();
        assert_eq!(counted, lines, "{cycle}");
        assert!(
            lines > 0 && lines <= signals,
            "{cycle}: {lines} of {signals}"
        );
        // "Without an action" counts the lines its RSO report lists under
        // that heading, not the finding ids in them.
        for rso in ["anes-nv", "int-nv", "neu-nv"] {
            let own = if rso == "neu-nv" { neu_cycle } else { cycle };
            let page = read(&d, &format!("{own}/rso/{rso}.html"));
            let listed = page.find("id=\"attention\"").map_or(0, |i| {
                let section = &page[i..];
                let section = &section[..section.find("</section>").unwrap()];
                let heading = "Verbeterpunten en signalen zonder actie</h3><ul>";
                section.find(heading).map_or(0, |j| {
                    let list = &section[j + heading.len()..];
                    list[..list.find("</ul>").unwrap()].matches("<li ").count()
                })
            });
            let tag = format!("<tr data-unit=\"{rso}\" data-signals=");
            let row = &region[region.find(&tag).unwrap()..];
            let row = &row[..row.find("</tr>").unwrap()];
            assert!(
                row.contains(&format!("data-without-action=\"{listed}\"")),
                "{cycle} {rso}: {listed} listed; {row}"
            );
        }
        // The workbook's findings sheet holds the same ids, in the same order.
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook(d.join(&format!("output/reports/{cycle}/tables.xlsx")))
                .unwrap();
        let sheet = book.worksheet_range("bevindingen").unwrap();
        let in_book: Vec<String> = sheet.rows().skip(1).map(|r| r[0].to_string()).collect();
        let in_parquet: Vec<String> = fs.iter().map(|f| f.0.clone()).collect();
        assert_eq!(in_book, in_parquet, "{cycle}");
    }
}

#[test]
fn finding_ids_stay_the_same_across_runs_and_when_a_later_year_arrives() {
    // The region without its last two years, then with them.
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    let later = Dir::new();
    for year in ["2023", "2024"] {
        std::fs::rename(d.join(&format!("inbox/{year}")), later.join(year)).unwrap();
    }
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let before = findings(&d, "2021-2022");
    // A second run over the same data: the same findings.
    std::fs::remove_dir_all(d.join("output/reports")).unwrap();
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    assert_eq!(findings(&d, "2021-2022"), before);
    // 2023 and 2024 arrive: 2021-2022's findings keep their ids.
    for year in ["2023", "2024"] {
        std::fs::rename(later.join(year), d.join(&format!("inbox/{year}"))).unwrap();
    }
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let after: Vec<String> = findings(&d, "2021-2022").into_iter().map(|f| f.0).collect();
    let before: Vec<String> = before.into_iter().map(|f| f.0).collect();
    assert_eq!(after, before);
    assert!(!after.is_empty());
}

#[test]
fn a_register_with_errors_gives_one_message_per_error_and_writes_nothing() {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    let reg = |sheet: &str| d.join(&format!("register/{sheet}.csv"));
    let append = |sheet: &str, row: &str| {
        let mut text = std::fs::read_to_string(reg(sheet)).unwrap();
        text.push_str(row);
        text.push('\n');
        std::fs::write(reg(sheet), text).unwrap();
    };
    // Unknown RSO; duplicate action id; bad date.
    append(
        "acties",
        "A97,zzz-nv,,,,,x,opleider,2024-01-01,2024-12-31,lopend,",
    );
    append(
        "acties",
        "A1,anes-nv,,,,,x,opleider,2024-01-01,2024-12-31,lopend,",
    );
    append(
        "acties",
        "A98,anes-nv,,,,,x,opleider,31-02-2024x,2024-12-31,lopend,",
    );
    // Unknown finding id (an instrument that does not exist).
    append(
        "besluiten",
        "2023-2024/anes-nv/geen-instrument/total/low_score,erkend,2024-01-01,",
    );
    // Unknown step.
    append(
        "signalen",
        "S9,werkvloer,anes-nv,,2024-01-01,x,escalatie naar de koning,opleider,,open",
    );
    for command in ["run", "validate"] {
        let r = d.run(&[command, "-c", "opleidingsmonitor.toml"]);
        assert_eq!(r.code(), 2, "{}", r.both());
        let out = r.both();
        for expected in [
            "acties.csv, row 11, column rso, value \"zzz-nv\": unknown RSO",
            "acties.csv, row 12, column actie, value \"A1\": this action id is used twice",
            "acties.csv, row 13, column start, value \"31-02-2024x\": not a date",
            "besluiten.csv, row 6, column bevinding, value \"2023-2024/anes-nv/geen-instrument/total/low_score\"",
            "signalen.csv, row 4, column stap, value \"escalatie naar de koning\": write one of",
        ] {
            assert!(out.contains(expected), "{command}: {expected}\n{out}");
        }
        assert!(out.contains("5 problems"), "{out}");
        assert!(!d.join("output/dataset").exists(), "nothing written");
        assert!(!d.join("output/reports").exists(), "nothing written");
    }
}

#[test]
fn register_init_writes_a_workbook_that_reads_back_and_never_overwrites() {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    let r = d.run(&["register", "init", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let book = d.join("kwaliteitsregister.xlsx");
    let bytes = std::fs::read(&book).unwrap();
    // Every sheet, frozen headings and drop-down lists.
    let mut zip = ::zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    let mut sheets = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut sheets)
        .unwrap();
    for s in [
        "acties",
        "besluiten",
        "evaluaties",
        "visitaties",
        "signalen",
        "jaarkalender",
        "keuzelijsten",
    ] {
        assert!(sheets.contains(&format!("name=\"{s}\"")), "{s}");
    }
    let mut first = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut first,
    )
    .unwrap();
    assert!(first.contains("state=\"frozen\""));
    assert!(first.contains("<dataValidation type=\"list\""));
    assert!(first.contains("keuzelijsten!$A$2:$A$4"), "the RSO list");
    // Used as the register as it is: the example rows are not data.
    let config = std::fs::read_to_string(d.join("opleidingsmonitor.toml"))
        .unwrap()
        .replace(
            "register = \"register\"",
            "register = \"kwaliteitsregister.xlsx\"",
        );
    std::fs::write(d.join("opleidingsmonitor.toml"), config).unwrap();
    let r = d.run(&["validate", "-c", "opleidingsmonitor.toml"]);
    assert!(r.code() == 0 || r.code() == 1, "{}", r.both());
    // Never overwritten, also when asked for by name.
    let r = d.run(&["register", "init", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 2, "{}", r.both());
    assert!(r.both().contains("never overwritten"), "{}", r.both());
    assert_eq!(std::fs::read(&book).unwrap(), bytes);

    // A filled workbook is read like the CSVs: an unknown step names the
    // sheet, row, column and value.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let s = wb.add_worksheet().set_name("signalen").unwrap();
    for (c, h) in [
        "signaal",
        "bron",
        "rso",
        "instelling",
        "ontvangen",
        "omschrijving",
        "stap",
        "eigenaar",
        "volgende_datum",
        "status",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in [
        "S1",
        "werkvloer",
        "anes-nv",
        "",
        "2024-03-01",
        "x",
        "bespreking",
        "opleider",
        "",
        "open",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(1, c as u16, *v).unwrap();
    }
    for (c, v) in [
        "S2",
        "werkvloer",
        "anes-nv",
        "",
        "2024-03-01",
        "x",
        "naar de rechter",
        "opleider",
        "",
        "open",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(2, c as u16, *v).unwrap();
    }
    // A stray value far to the right costs nothing and is named.
    s.write_string(3, 16000, "weg").unwrap();
    std::fs::write(d.join("filled.xlsx"), wb.save_to_buffer().unwrap()).unwrap();
    let config = std::fs::read_to_string(d.join("opleidingsmonitor.toml"))
        .unwrap()
        .replace(
            "register = \"kwaliteitsregister.xlsx\"",
            "register = \"filled.xlsx\"",
        );
    std::fs::write(d.join("opleidingsmonitor.toml"), config).unwrap();
    let r = d.run(&["validate", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 2, "{}", r.both());
    assert!(
        r.both()
            .contains("filled.xlsx, sheet signalen, row 3, column stap, value \"naar de rechter\""),
        "{}",
        r.both()
    );
    assert!(r.both().contains("row 4, column WQK"), "{}", r.both());
}

#[test]
fn an_exemption_removes_the_missing_signal_and_only_that_one() {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    // Without the exemption, Meerhaven neurology's missing D-RECT of 2024
    // is a signal again, in neurology's own cycle 2024-2025.
    let path = d.join("register/jaarkalender.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("meerhaven")).collect();
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let ids: Vec<String> = findings(&d, "2024-2025").into_iter().map(|f| f.0).collect();
    assert!(ids.contains(&"2024-2025/meerhaven:neu/d-rect/total/missing-2024".to_string()));
    let with = sample_run();
    let with_ids: Vec<String> = findings(&with, "2024-2025")
        .into_iter()
        .map(|f| f.0)
        .collect();
    let gone: Vec<&String> = ids.iter().filter(|i| !with_ids.contains(i)).collect();
    assert_eq!(
        gone,
        vec!["2024-2025/meerhaven:neu/d-rect/total/missing-2024"]
    );
}
