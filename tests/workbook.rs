//! The cycle's workbook (`tables.xlsx`, `tables.en.xlsx`) as a committee
//! secretary opens it: every table sheet with a frozen header row, an
//! autofilter, fitted column widths and number formats; the numbers equal
//! the aggregates; a hidden cell never shows a number; each workbook in its
//! own language. Read back twice: the values with calamine, the layout
//! from the sheets' XML in the zip.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use calamine::{open_workbook, Data, Range, Reader, Xlsx};
use opleidingsmonitor::config::Config;
use opleidingsmonitor::dataset::published::read_published;
use opleidingsmonitor::table::{Cell, Level};

const CYCLE: &str = "2023-2024";

/// Values are written as f64 and read back from their decimal text: equal
/// to well within this.
const TOLERANCE: f64 = 1e-9;

/// Every part of an xlsx (a zip of XML files), by name.
fn parts(path: &Path) -> BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().map(|n| n.to_string()).unwrap_or_default();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        out.insert(name, text);
    }
    out
}

/// The XML of each sheet, by sheet name (through the workbook's
/// relationships).
fn sheet_xml(parts: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let sheet = regex::Regex::new(r#"<sheet name="([^"]+)" sheetId="\d+" r:id="([^"]+)""#).unwrap();
    let rel =
        regex::Regex::new(r#"<Relationship Id="([^"]+)" Type="[^"]+" Target="([^"]+)""#).unwrap();
    let targets: BTreeMap<String, String> = rel
        .captures_iter(&parts["xl/_rels/workbook.xml.rels"])
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    sheet
        .captures_iter(&parts["xl/workbook.xml"])
        .map(|c| {
            let name = c[1].replace("&apos;", "'");
            let target = format!("xl/{}", targets[&c[2]]);
            (name, parts[&target].clone())
        })
        .collect()
}

/// The number format of each cell style (`s="i"`), as its format code.
fn style_formats(parts: &BTreeMap<String, String>) -> Vec<String> {
    let styles = &parts["xl/styles.xml"];
    let custom: BTreeMap<u32, String> =
        regex::Regex::new(r#"<numFmt numFmtId="(\d+)" formatCode="([^"]*)""#)
            .unwrap()
            .captures_iter(styles)
            .map(|c| (c[1].parse().unwrap(), c[2].replace("&quot;", "\"")))
            .collect();
    let builtin = |id: u32| match id {
        0 => "General",
        1 => "0",
        2 => "0.00",
        9 => "0%",
        10 => "0.00%",
        _ => "?",
    };
    let xfs = &styles[styles.find("<cellXfs").unwrap()..styles.find("</cellXfs>").unwrap()];
    regex::Regex::new(r#"<xf numFmtId="(\d+)""#)
        .unwrap()
        .captures_iter(xfs)
        .map(|c| {
            let id: u32 = c[1].parse().unwrap();
            custom
                .get(&id)
                .cloned()
                .unwrap_or_else(|| builtin(id).to_string())
        })
        .collect()
}

/// A cell's reference ("C7") from zero-based row and column.
fn cell_ref(row: usize, col: usize) -> String {
    let mut c = col + 1;
    let mut letters = Vec::new();
    while c > 0 {
        letters.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8(letters).unwrap(), row + 1)
}

/// A cell's XML element in a sheet: its style index and raw value.
fn cell_xml(xml: &str, row: usize, col: usize) -> (Option<usize>, String, String) {
    let r = cell_ref(row, col);
    let re = regex::Regex::new(&format!(
        r#"<c r="{r}"((?: [a-z]+="[^"]*")*)>(?:<v>([^<]*)</v>)?"#
    ))
    .unwrap();
    let c = re
        .captures(xml)
        .unwrap_or_else(|| panic!("no cell {r} in the sheet"));
    let attrs = c[1].to_string();
    let style = regex::Regex::new(r#" s="(\d+)""#)
        .unwrap()
        .captures(&attrs)
        .map(|s| s[1].parse().unwrap());
    (
        style,
        attrs,
        c.get(2).map(|v| v.as_str().to_string()).unwrap_or_default(),
    )
}

fn open(path: &Path) -> Xlsx<std::io::BufReader<std::fs::File>> {
    open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The header row's texts and the column of each.
fn columns(range: &Range<Data>) -> BTreeMap<String, usize> {
    range
        .rows()
        .next()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_string(), i))
        .collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn float(d: &Data) -> Option<f64> {
    match d {
        Data::Float(x) => Some(*x),
        Data::Int(x) => Some(*x as f64),
        _ => None,
    }
}

fn level_of(word: &str) -> Level {
    match word {
        "afdeling" | "department" => Level::Department,
        "instelling" | "institution" => Level::Institution,
        "RSO" => Level::Rso,
        "regio" | "region" => Level::Region,
        w => panic!("unknown level word {w:?}"),
    }
}

const DUTCH_SHEETS: [&str; 9] = [
    "toelichting",
    "scoreoverzicht",
    "bevindingen",
    "ontwikkelplan",
    "deelname",
    "veranderingen",
    "opmerkingen",
    "visitaties",
    "alle cijfers",
];

#[test]
fn every_table_sheet_has_a_frozen_header_a_filter_widths_and_number_formats() {
    let d = crate::report::region();
    let path = d.join(&format!("output/reports/{CYCLE}/tables.xlsx"));
    if let Ok(k) = std::env::var("WORKBOOK_KEEP") {
        let _ = std::process::Command::new("cp")
            .args(["-r", &d.path().display().to_string(), &k])
            .status();
    }
    let parts = parts(&path);
    let sheets = sheet_xml(&parts);
    assert_eq!(
        sheets.keys().cloned().collect::<BTreeSet<_>>(),
        DUTCH_SHEETS.iter().map(|s| s.to_string()).collect(),
    );
    let frozen = regex::Regex::new(r#"<pane [^>]*ySplit="1"[^>]*state="frozen""#).unwrap();
    let width = regex::Regex::new(r#"<col [^>]*width="([0-9.]+)""#).unwrap();
    for (name, xml) in &sheets {
        if name == "toelichting" {
            // Not a table: an explanation, wrapped in two wide columns.
            assert!(xml.contains("<col ") && xml.contains("width="), "{name}");
            continue;
        }
        assert!(frozen.is_match(xml), "{name}: the header row is frozen");
        assert!(xml.contains("<autoFilter ref=\"A1:"), "{name}: autofilter");
        let widths: Vec<f64> = width
            .captures_iter(xml)
            .map(|c| c[1].parse().unwrap())
            .collect();
        assert!(!widths.is_empty(), "{name}: column widths");
        assert!(
            widths.iter().all(|w| (5.0..=90.0).contains(w)),
            "{name}: widths within the caps: {widths:?}"
        );
        // Text is text: no cell of any sheet is a formula.
        assert!(!xml.contains("<f>"), "{name} holds a formula");
    }
    let formats = style_formats(&parts);
    let mut book = open(&path);

    // The aggregates: a score with one decimal, a response rate as a
    // percentage, the unit's name beside its id.
    let agg = book.worksheet_range("alle cijfers").unwrap();
    let col = columns(&agg);
    let (pomp, rate) = (col["Score (0-100)"], col["Respons"]);
    let row = agg
        .rows()
        .position(|r| float(&r[pomp]).is_some() && float(&r[rate]).is_some())
        .expect("a row with a score and a response rate");
    let xml = &sheets["alle cijfers"];
    let (s, _, _) = cell_xml(xml, row, pomp);
    assert_eq!(formats[s.expect("a styled score")], "0.0");
    let (s, _, _) = cell_xml(xml, row, rate);
    assert_eq!(formats[s.expect("a styled rate")], "0%");
    let named = agg
        .rows()
        .find(|r| text(&r[col["Eenheid (id)"]]) == "heemdaal:int")
        .unwrap();
    assert_eq!(
        text(&named[col["Eenheid"]]),
        "Ziekenhuis Heemdaal – Interne geneeskunde"
    );
    assert_eq!(text(&named[col["Niveau"]]), "afdeling");

    // The plan: a due date is a real date (a number in a date style), and
    // calamine reads it as that date.
    let plan = book.worksheet_range("ontwikkelplan").unwrap();
    let col = columns(&plan);
    let due = col["Deadline"];
    let row = plan
        .rows()
        .position(|r| text(&r[col["Actie (id)"]]) == "A2")
        .expect("action A2");
    let (s, attrs, value) = cell_xml(&sheets["ontwikkelplan"], row, due);
    assert!(!attrs.contains("t="), "a number, not text: {attrs}");
    assert_eq!(value, "45565", "2024-09-30 as Excel counts it");
    assert_eq!(formats[s.unwrap()], "dd-mm-yyyy");
    match &plan.rows().nth(row).unwrap()[due] {
        Data::DateTime(dt) => assert_eq!(
            dt.as_datetime().unwrap().date(),
            chrono::NaiveDate::from_ymd_opt(2024, 9, 30).unwrap()
        ),
        other => panic!("the due date reads as {other:?}"),
    }
    let a2 = plan.rows().nth(row).unwrap();
    assert_eq!(
        text(&a2[col["RSO"]]),
        "Interne geneeskunde, regio Noorderveld"
    );
    assert_eq!(text(&a2[col["Instelling"]]), "Ziekenhuis Heemdaal");
    assert_eq!(text(&a2[col["Status"]]), "lopend");
    assert_eq!(a2[col["Over de deadline"]], Data::Bool(true));

    // The findings: names, the rule and the decision in words, the
    // actions, a decision date as a date.
    let fs = book.worksheet_range("bevindingen").unwrap();
    let col = columns(&fs);
    assert!(fs.height() > 10, "the cycle has findings");
    for r in fs.rows().skip(1) {
        for c in [
            "Bevinding (id)",
            "Soort",
            "Regel",
            "Eenheid",
            "Instrument",
            "Besluit",
        ] {
            assert!(!text(&r[col[c]]).is_empty(), "{c} of {:?}", r[0]);
        }
    }
    let heemdaal = fs
        .rows()
        .find(|r| text(&r[0]) == "2023-2024/heemdaal:int/d-rect/educational_atmosphere/low_score")
        .expect("Heemdaal's improvement point");
    assert_eq!(text(&heemdaal[col["Soort"]]), "verbeterpunt");
    assert_eq!(text(&heemdaal[col["Regel"]]), "score onder de drempel");
    assert!(text(&heemdaal[col["Acties"]]).contains("A2"));
    let dated = fs
        .rows()
        .position(|r| !matches!(r[col["Datum besluit"]], Data::Empty | Data::String(_)))
        .expect("a decision with a date");
    assert!(matches!(
        fs.rows().nth(dated).unwrap()[col["Datum besluit"]],
        Data::DateTime(_)
    ));
    let (s, attrs, _) = cell_xml(&sheets["bevindingen"], dated, col["Datum besluit"]);
    assert!(!attrs.contains("t="));
    assert_eq!(formats[s.unwrap()], "dd-mm-yyyy");
    let (s, _, _) = cell_xml(
        &sheets["bevindingen"],
        fs.rows()
            .position(|r| float(&r[col["Score (0-100)"]]).is_some())
            .unwrap(),
        col["Score (0-100)"],
    );
    assert_eq!(formats[s.unwrap()], "0.0");

    // The visitations: the visitation's date as a date.
    let vis = book.worksheet_range("visitaties").unwrap();
    let col = columns(&vis);
    assert!(vis
        .rows()
        .skip(1)
        .all(|r| matches!(r[col["Datum"]], Data::DateTime(_))));
    assert!(vis.height() >= 4, "the sample register's visitation rows");
}

#[test]
fn the_workbooks_numbers_are_the_aggregates_and_a_hidden_cell_shows_no_number() {
    let d = crate::report::region();
    let config = Config::load(&d.join("opleidingsmonitor.toml")).unwrap();
    let published = read_published(&config.paths.dataset, &config.catalogue).unwrap();
    let path = d.join(&format!("output/reports/{CYCLE}/tables.xlsx"));
    let mut book = open(&path);
    let periods = [CYCLE, "2023", "2024"];
    let key = |c: &Cell| {
        (
            c.level,
            c.unit_id.clone(),
            c.instrument.clone(),
            c.instrument_version.clone(),
            c.scale_id.clone(),
            c.period.clone(),
        )
    };
    let cells: BTreeMap<_, &Cell> = published
        .cells
        .iter()
        .filter(|c| periods.contains(&c.period.as_str()))
        .map(|c| (key(c), c))
        .collect();

    // Every aggregate once, its score the aggregate's; a hidden one with
    // no values, only the reports' word for why.
    let agg = book.worksheet_range("alle cijfers").unwrap();
    let col = columns(&agg);
    assert_eq!(agg.height() - 1, cells.len(), "one row per aggregate");
    let mut hidden = 0;
    for r in agg.rows().skip(1) {
        let k = (
            level_of(&text(&r[col["Niveau"]])),
            text(&r[col["Eenheid (id)"]]),
            text(&r[col["Instrument (id)"]]),
            text(&r[col["Versie"]]),
            text(&r[col["Subschaal (id)"]]),
            text(&r[col["Periode"]]),
        );
        let c = cells
            .get(&k)
            .unwrap_or_else(|| panic!("{k:?} is no aggregate"));
        assert_eq!(r[col["Verborgen"]], Data::Bool(c.suppressed), "{k:?}");
        assert_eq!(float(&r[col["Respondenten"]]), Some(c.n_respondents as f64));
        if c.suppressed {
            hidden += 1;
            for h in [
                "Score (0-100)",
                "Gemiddelde (schaal)",
                "SD",
                "95%-BI laag",
                "95%-BI hoog",
            ] {
                assert_eq!(r[col[h]], Data::Empty, "{k:?} {h}");
            }
            let why = text(&r[col["Waarom verborgen"]]);
            assert!(
                why == "n < 4" || why == "verborgen" || why.starts_with("niet gepubliceerd"),
                "{k:?}: {why}"
            );
        } else {
            match (float(&r[col["Score (0-100)"]]), c.mean_pomp) {
                (Some(a), Some(b)) => assert!((a - b).abs() < TOLERANCE, "{k:?}: {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{k:?}"),
            }
        }
    }
    assert!(
        hidden > 20,
        "the sample has hidden cells to check ({hidden})"
    );

    // The heatmap: each unit's cycle scores, as the reports show them.
    let heat = book.worksheet_range("scoreoverzicht").unwrap();
    let col = columns(&heat);
    // Header "<instrument>: <subscale>" to (instrument, subscale).
    let mut scale_of: BTreeMap<String, (String, String)> = BTreeMap::new();
    for def in config.catalogue.iter() {
        let name = def.display_name("nl").to_string();
        for s in &def.subscales {
            scale_of.insert(format!("{name}: {}", s.nl), (def.id.clone(), s.id.clone()));
        }
        scale_of.insert(format!("{name}: Totaal"), (def.id.clone(), "total".into()));
    }
    let mut checked = (0, 0);
    for (head, &i) in &col {
        let grade = head.ends_with(" (1-10)");
        let Some((instrument, scale)) = scale_of.get(head.trim_end_matches(" (1-10)")) else {
            continue;
        };
        for r in heat.rows().skip(1) {
            let level = level_of(&text(&r[col["Niveau"]]));
            let unit = text(&r[col["Eenheid (id)"]]);
            // The unit's latest version of the instrument in the cycle.
            let c = published
                .cells
                .iter()
                .filter(|c| {
                    c.level == level
                        && c.unit_id == unit
                        && c.instrument == *instrument
                        && c.period == CYCLE
                })
                .max_by(|a, b| a.instrument_version.cmp(&b.instrument_version))
                .and_then(|latest| {
                    published.cells.iter().find(|c| {
                        key(c)
                            == (
                                level,
                                unit.clone(),
                                instrument.clone(),
                                latest.instrument_version.clone(),
                                scale.clone(),
                                CYCLE.to_string(),
                            )
                    })
                });
            let shown = &r[i];
            match c {
                None => assert_eq!(*shown, Data::Empty, "{unit} {head}"),
                Some(c) if c.suppressed => {
                    checked.1 += 1;
                    let word = match shown {
                        Data::String(s) => s.as_str(),
                        other => panic!("{unit} {head}: a hidden cell shows {other:?}"),
                    };
                    assert!(
                        word == "n < 4"
                            || word == "verborgen"
                            || word.starts_with("niet gepubliceerd"),
                        "{unit} {head}: {word}"
                    );
                }
                Some(c) => {
                    checked.0 += 1;
                    let want = if grade { c.mean } else { c.mean_pomp }.unwrap();
                    let got = float(shown).unwrap_or_else(|| panic!("{unit} {head}: {shown:?}"));
                    assert!(
                        (got - want).abs() < TOLERANCE,
                        "{unit} {head}: {got} vs {want}"
                    );
                }
            }
        }
    }
    assert!(
        checked.0 > 100 && checked.1 > 5,
        "heatmap cells checked: {checked:?}"
    );
    assert!(
        col.keys().any(|h| h.ends_with(" (1-10)")),
        "the exit grade on its own scale"
    );

    // Participation per unit and year: the total's respondents and
    // response rate, a hidden cell's count never.
    let part = book.worksheet_range("deelname").unwrap();
    let col = columns(&part);
    let mut rows = 0;
    for r in part.rows().skip(1) {
        rows += 1;
        let k = (
            level_of(&text(&r[col["Niveau"]])),
            text(&r[col["Eenheid (id)"]]),
            text(&r[col["Instrument (id)"]]),
            text(&r[col["Versie"]]),
            "total".to_string(),
            float(&r[col["Jaar"]]).unwrap().to_string(),
        );
        let c = cells[&k];
        if c.suppressed {
            assert_eq!(r[col["Respondenten"]], Data::Empty, "{k:?}");
            assert_eq!(r[col["Respons"]], Data::Empty, "{k:?}");
            assert!(!text(&r[col["Opmerking"]]).is_empty());
        } else {
            assert_eq!(float(&r[col["Respondenten"]]), Some(c.n_respondents as f64));
            match (float(&r[col["Respons"]]), c.response_rate) {
                (Some(a), Some(b)) => assert!((a - b).abs() < TOLERANCE),
                (a, b) => assert_eq!(a, b, "{k:?}"),
            }
        }
    }
    assert!(rows > 20, "{rows} participation rows");
}

#[test]
fn each_workbook_is_in_its_own_language() {
    let d = crate::report::region();
    let r = d.run(&[
        "report",
        "-c",
        "opleidingsmonitor.toml",
        "--lang",
        "en",
        "--cycle",
        CYCLE,
    ]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let nl_path = d.join(&format!("output/reports/{CYCLE}/tables.xlsx"));
    let en_path = d.join(&format!("output/reports/{CYCLE}/tables.en.xlsx"));
    assert_ne!(
        std::fs::read(&nl_path).unwrap(),
        std::fs::read(&en_path).unwrap()
    );
    let mut nl = open(&nl_path);
    let mut en = open(&en_path);
    assert_eq!(
        en.sheet_names(),
        [
            "about",
            "heatmap",
            "findings",
            "development plan",
            "participation",
            "changes",
            "comments",
            "visitations",
            "all figures"
        ]
    );
    assert_eq!(nl.sheet_names(), DUTCH_SHEETS);
    // Headers: English, none of the Dutch ones (a few words are the same
    // in both).
    let same = [
        "RSO",
        "RSO (id)",
        "p",
        "Hedges' g",
        "Instrument",
        "Instrument (id)",
        "SD",
        "Status",
        "Start",
        "Score (0-100)",
    ];
    for (n, e) in DUTCH_SHEETS.iter().zip(en.sheet_names()) {
        if *n == "toelichting" {
            continue;
        }
        let nl_heads: BTreeSet<String> = columns(&nl.worksheet_range(n).unwrap())
            .into_keys()
            .collect();
        let en_heads: BTreeSet<String> = columns(&en.worksheet_range(&e).unwrap())
            .into_keys()
            .collect();
        let shared: Vec<&String> = nl_heads
            .intersection(&en_heads)
            .filter(|h| !same.contains(&h.as_str()) && !h.contains(": "))
            .collect();
        assert!(shared.is_empty(), "{e}: Dutch headers {shared:?}");
    }
    let heat = en.worksheet_range("heatmap").unwrap();
    let words: BTreeSet<String> = heat
        .rows()
        .skip(1)
        .flat_map(|r| r.iter().map(text))
        .collect();
    assert!(words.contains("department") && words.contains("region"));
    assert!(!words.contains("afdeling") && !words.contains("verborgen"));
    assert!(
        words.iter().any(|w| w.contains("Internal medicine")),
        "English specialty names"
    );
    let heads = columns(&heat);
    assert!(heads.keys().any(|h| h.ends_with(": Total")));
    assert!(!heads.keys().any(|h| h.ends_with(": Totaal")));
    let fs = en.worksheet_range("findings").unwrap();
    let col = columns(&fs);
    let kinds: BTreeSet<String> = fs.rows().skip(1).map(|r| text(&r[col["Kind"]])).collect();
    assert!(
        kinds.is_subset(
            &["signal", "point for improvement", "strength"]
                .map(String::from)
                .into()
        ),
        "{kinds:?}"
    );
    let about = en.worksheet_range("about").unwrap();
    assert!(about
        .rows()
        .flat_map(|r| r.iter().map(text))
        .any(|t| t.starts_with("How to read")));
}
