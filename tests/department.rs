//! The department report (issue #18): the opleider's and the visitation
//! committee's view of one department, on the sample region.

use crate::synth;
use crate::util::Dir;
use opleidingsmonitor::dataset::published::read_published;
use opleidingsmonitor::instrument::Catalogue;
use opleidingsmonitor::table::Level;

fn sample_run() -> Dir {
    let d = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(d.path(), &cat, 20191).unwrap();
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    d
}

fn page(d: &Dir, cycle: &str, unit: &str) -> String {
    let f = d.join(&format!(
        "output/reports/{cycle}/department/{}.html",
        unit.replace(':', "_")
    ));
    std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()))
}

/// The `<tr data-period="...">` row of a trend table of one instrument.
fn trend_row(html: &str, instrument: &str, period: &str) -> String {
    let at = html
        .find(&format!(
            "<figure class=\"trend\" data-instrument=\"{instrument}\">"
        ))
        .unwrap_or_else(|| panic!("no trend of {instrument}"));
    let fig = &html[at..at + html[at..].find("</figure>").unwrap()];
    let row = fig
        .find(&format!("<tr data-period=\"{period}\">"))
        .unwrap_or_else(|| panic!("no {period} in the trend of {instrument}"));
    fig[row..row + fig[row..].find("</tr>").unwrap()].to_string()
}

/// The text of the `n`th `<td>` of a row.
fn td(row: &str, n: usize) -> String {
    let cell = row.split("<td").nth(n + 1).unwrap();
    let text = &cell[cell.find('>').unwrap() + 1..];
    text[..text.find("</td>").unwrap()].to_string()
}

#[test]
fn every_department_with_data_gets_its_report_and_heemdaal_tells_its_story() {
    let d = sample_run();
    let published =
        read_published(&d.join("output/dataset"), &Catalogue::load(None).unwrap()).unwrap();
    // A report for every department with data in the cycle: the region's
    // 2023-2024, and neurology's own 2022-2023 (it keeps cycles from 2020).
    let mut all = std::collections::BTreeSet::new();
    for cycle in ["2023-2024", "2022-2023"] {
        let with_data: std::collections::BTreeSet<String> = published
            .cells
            .iter()
            .filter(|c| c.level == Level::Department && c.period == cycle)
            .map(|c| c.unit_id.clone())
            .collect();
        for unit in &with_data {
            assert!(page(&d, cycle, unit).contains("Afdelingsrapport"));
        }
        all.extend(with_data);
    }
    assert!(all.len() >= 10, "{all:?}");

    // Heemdaal internal medicine: the D-RECT decline over the years against
    // the RSO and the region, its points, action A2 with its status.
    let h = page(&d, "2023-2024", "heemdaal:int");
    let score = |period: &str, col: usize| -> f64 {
        td(&trend_row(&h, "D-RECT", period), col)
            .replace(',', ".")
            .trim_end_matches('*')
            .parse()
            .unwrap()
    };
    // Second source: the published total cells.
    let cell = |level: Level, unit: &str, period: &str| -> f64 {
        published
            .unit_cells(level, unit)
            .iter()
            .find(|c| c.instrument == "d-rect" && c.scale_id == "total" && c.period == period)
            .and_then(|c| c.mean_pomp)
            .unwrap()
    };
    for (period, col, level, unit) in [
        ("2019", 0, Level::Department, "heemdaal:int"),
        ("2024", 0, Level::Department, "heemdaal:int"),
        ("2024", 1, Level::Rso, "int-nv"),
        ("2024", 2, Level::Region, "noorderveld"),
    ] {
        // Shown with no decimals: within 0.5.
        assert!(
            (score(period, col) - cell(level, unit, period)).abs() <= 0.5,
            "{period} {col}"
        );
    }
    assert!(score("2019", 0) - score("2024", 0) > 10.0, "the decline");
    // 2021 (D-RECT 2011, the only year of its version in 2021-2022) is not
    // published as a year; the report reads it from the cycle of that
    // version, which pools the same respondents.
    let c2021 = published
        .unit_cells(Level::Department, "heemdaal:int")
        .iter()
        .find(|c| {
            c.instrument == "d-rect"
                && c.instrument_version == "2011"
                && c.scale_id == "total"
                && c.period == "2021-2022"
        })
        .unwrap();
    assert!((score("2021", 0) - c2021.mean_pomp.unwrap()).abs() <= 0.5);
    assert!(score("2024", 0) < score("2024", 1), "below its RSO");
    assert!(h.contains("data-rule=\"decline\" data-unit=\"heemdaal:int\""));
    assert!(h.contains("data-rule=\"low_score\" data-unit=\"heemdaal:int\""));
    let a2 = &h[h.find("id=\"action-A2\"").expect("action A2")..];
    let a2 = &a2[..a2.find("</tr>").unwrap()];
    assert!(
        a2.contains("lopend") && a2.contains("over de deadline"),
        "{a2}"
    );
    assert!(h.contains("data-visitation=\"V2024-1\""));
    // Another department's action is not in it.
    assert!(!h.contains("id=\"action-A5\""));
    // The exit grade on its own 1-10 scale.
    assert!(h.contains("Rapportcijfer (1-10)"));
}

#[test]
fn the_reports_lookups_find_every_published_cell_as_a_scan_does() {
    // `Published::cell` (a binary search over the sorted cells) and
    // `instrument_cells` (a sorted run) against a plain scan of the
    // sample's cells: the same cell, the same run, in the same order.
    let d = sample_run();
    let p = read_published(&d.join("output/dataset"), &Catalogue::load(None).unwrap()).unwrap();
    let mut runs = std::collections::BTreeSet::new();
    for c in &p.cells {
        let found = p
            .cell(
                c.level,
                &c.unit_id,
                &c.instrument,
                &c.instrument_version,
                &c.scale_id,
                &c.period,
            )
            .unwrap();
        assert!(std::ptr::eq(found, c), "{} {}", c.unit_id, c.period);
        runs.insert((c.level, c.unit_id.as_str(), c.instrument.as_str()));
    }
    for &(level, unit, instrument) in &runs {
        let run = p.instrument_cells(level, unit, instrument);
        let scan: Vec<_> = p
            .cells
            .iter()
            .filter(|c| c.level == level && c.unit_id == unit && c.instrument == instrument)
            .collect();
        assert_eq!(run.len(), scan.len(), "{unit} {instrument}");
        assert!(run.iter().zip(scan).all(|(a, b)| std::ptr::eq(a, b)));
    }
    assert!(runs.len() > 50, "{}", runs.len());
    assert!(p
        .cell(Level::Rso, "neu-nv", "d-rect", "none", "total", "2024")
        .is_none());
    assert!(p.instrument_cells(Level::Rso, "neu-nv", "none").is_empty());
}

#[test]
fn a_suppressed_year_shows_no_number_in_the_department_report() {
    let d = sample_run();
    let published =
        read_published(&d.join("output/dataset"), &Catalogue::load(None).unwrap()).unwrap();
    // Every suppressed year total of a department whose report exists.
    let mut checked = 0;
    for c in published.cells.iter().filter(|c| {
        c.level == Level::Department && c.scale_id == "total" && c.suppressed && !c.is_cycle()
    }) {
        let f = d.join(&format!(
            "output/reports/2023-2024/department/{}.html",
            c.unit_id.replace(':', "_")
        ));
        let Ok(html) = std::fs::read_to_string(&f) else {
            continue;
        };
        let name = opleidingsmonitor::config::Config::load(&d.join("opleidingsmonitor.toml"))
            .unwrap()
            .catalogue
            .iter()
            .find(|i| i.id == c.instrument)
            .map(|i| i.display_name("nl").to_string())
            .unwrap();
        let Some(_) = html.find(&format!("data-instrument=\"{name}\"")) else {
            continue;
        };
        let row = trend_row(&html, &name, &c.period);
        let own = td(&row, 0);
        // A year left out only because its cycle holds no other year (of
        // its version) is read from the cycle, which pools the same
        // answers: that number may show, and must be the cycle's.
        let year: i32 = c.period.parse().unwrap();
        let seen = published
            .year_cell(Level::Department, &c.unit_id, &c.instrument, "total", year)
            .unwrap();
        if !seen.suppressed {
            assert!(
                seen.is_cycle() && seen.n_respondents == c.n_respondents,
                "{}",
                c.unit_id
            );
            // (`*`: indicative, below the reliability minimum.)
            assert_eq!(
                own.trim_end_matches('*'),
                format!("{:.0}", seen.mean_pomp.unwrap()).replace('.', ",")
            );
            continue;
        }
        assert!(
            !own.chars().any(|ch| ch.is_ascii_digit()) || own.starts_with("n &lt;"),
            "{} {} {}: {own}",
            c.unit_id,
            c.instrument,
            c.period
        );
        assert!(!own.contains(&c.n_respondents.to_string()) || own.starts_with("n &lt;"));
        checked += 1;
    }
    assert!(checked > 0, "the sample has suppressed department years");
}

#[test]
fn every_institution_report_has_its_departments_findings_and_actions() {
    let d = sample_run();
    let config =
        opleidingsmonitor::config::Config::load(&d.join("opleidingsmonitor.toml")).unwrap();
    for inst in config.registry.institutions.keys() {
        let f = d.join(&format!("output/reports/2023-2024/institution/{inst}.html"));
        let html = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{inst}: {e}"));
        assert!(html.contains("id=\"overview\""), "{inst}");
        assert!(html.contains("<section class=\"department\""), "{inst}");
        assert!(html.contains("data-kind=\""), "{inst}: findings");
        let own: Vec<&str> = config
            .register
            .actions
            .iter()
            .filter(|a| a.institution_id.as_deref() == Some(inst.as_str()))
            .map(|a| a.action_id.as_str())
            .collect();
        assert!(
            !own.is_empty(),
            "the sample register has an action for {inst}"
        );
        for a in own {
            assert!(
                html.contains(&format!("data-action=\"{a}\"")),
                "{inst}: {a}"
            );
        }
        // Only its own departments' actions.
        for a in config
            .register
            .actions
            .iter()
            .filter(|a| a.institution_id.as_deref().is_some_and(|i| i != inst))
        {
            assert!(
                !html.contains(&format!("data-action=\"{}\"", a.action_id)),
                "{inst}"
            );
        }
    }
    // Heemdaal: the overdue action, the open visitation condition and the
    // escalation at its step; a link to each department's report.
    let h = std::fs::read_to_string(d.join("output/reports/2023-2024/institution/heemdaal.html"))
        .unwrap();
    assert!(h.contains("data-action=\"A2\" class=\"overdue-row\""));
    assert!(h.contains("data-signal=\"S1\""));
    assert!(h.contains("href=\"../department/heemdaal_int.html\""));
    // The overview counts signals and points for improvement as the
    // department's block lists them (a finding over ten subscales is one).
    let row = &h[h.find("<tr data-unit=\"heemdaal:int\">").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    let block = &h[h.find("id=\"dept-heemdaal_int\"").unwrap()..];
    let block = &block[..block.find("</section>").unwrap()];
    let listed = |kind: &str| block.matches(&format!("<li class=\"{kind}\"")).count();
    assert_eq!((listed("signal"), listed("improvement")), (2, 2), "{block}");
    assert!(
        row.ends_with("<td class=\"num flag\">2</td><td class=\"num\">2</td>"),
        "{row}"
    );
    assert!(
        h.contains("2024 ↓") || h.contains("60 ↓"),
        "the decline's arrow"
    );
}

#[test]
fn an_interim_report_per_rso_per_year_marked_as_interim() {
    let d = sample_run();
    let published =
        read_published(&d.join("output/dataset"), &Catalogue::load(None).unwrap()).unwrap();
    // Neurology keeps its own cycles: 2023 is in its 2022-2023, 2024 in
    // its 2024-2025.
    for (rso, year, cycle) in [
        ("anes-nv", 2023, "2023-2024"),
        ("anes-nv", 2024, "2023-2024"),
        ("int-nv", 2023, "2023-2024"),
        ("int-nv", 2024, "2023-2024"),
        ("neu-nv", 2023, "2022-2023"),
        ("neu-nv", 2024, "2024-2025"),
    ] {
        let base = format!("output/reports/{cycle}/interim/{rso}-{year}");
        let html = std::fs::read_to_string(d.join(&format!("{base}.html"))).unwrap();
        let md = std::fs::read_to_string(d.join(&format!("{base}.md"))).unwrap();
        let banner = format!("Tussenrapportage {year} (cyclus {cycle}, lopend): niet de formele tweejaarlijkse evaluatie");
        assert!(
            html.contains(&format!(
                "<div class=\"interim-banner\" role=\"note\">{banner}</div>"
            )),
            "{rso} {year}"
        );
        assert!(md.contains(&banner), "{rso} {year}");
        // The RSO's total this year against last year, as published.
        let total = |y: i32| {
            published
                .unit_cells(Level::Rso, rso)
                .iter()
                .find(|c| {
                    c.instrument == "d-rect" && c.scale_id == "total" && c.period == y.to_string()
                })
                .and_then(|c| c.mean_pomp)
                .unwrap()
        };
        let row = format!(
            "<tr><td>RSO (gemiddelde)</td><td>D-RECT</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            format!("{:.0}", total(year - 1)).replace('.', ","),
            format!("{:.0}", total(year)).replace('.', ",")
        );
        assert!(html.contains(&row), "{rso} {year}: {row}");
    }
}

/// A department's only year of its cycle is not published as a year (the
/// cycle stands for it, pooling the same answers): the interim report of
/// that year reads it from the cycle, with its number, instead of saying
/// "niet gepubliceerd".
#[test]
fn an_interim_report_reads_a_lone_year_from_its_cycle() {
    use opleidingsmonitor::domain::SuppressionReason;
    let d = sample_run();
    let published =
        read_published(&d.join("output/dataset"), &Catalogue::load(None).unwrap()).unwrap();
    let interim = |rso: &str, year: &str| -> Option<String> {
        crate::util::files_below(&d.join("output/reports"))
            .into_iter()
            .find(|f| f.ends_with(format!("interim/{rso}-{year}.html")))
            .map(|f| std::fs::read_to_string(f).unwrap())
    };
    let department_rows = |html: &str| -> Vec<String> {
        html.split("data-level=\"department\">")
            .skip(1)
            .map(|r| r[..r.find("</tr>").unwrap()].to_string())
            .collect()
    };
    // Neurology's 2024 is so far the only year of its cycle 2024-2025:
    // no department of it is "not published" in that year's report.
    let neu = interim("neu-nv", "2024").unwrap();
    let rows = department_rows(&neu);
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(!r.contains("niet gepubliceerd"), "{r}");
    }
    // Every department year left out because its cycle holds no other
    // year, whose cycle is published: its interim report shows the
    // cycle's number and respondents.
    let mut shown = 0;
    for year in published.cells.iter().filter(|c| {
        c.level == Level::Department
            && c.scale_id == "total"
            && !c.is_cycle()
            && c.suppression_reason == Some(SuppressionReason::NotPublished)
    }) {
        let y: i32 = year.period.parse().unwrap();
        let cycle = published
            .year_cell(
                Level::Department,
                &year.unit_id,
                &year.instrument,
                "total",
                y,
            )
            .unwrap();
        if cycle.is_cycle() {
            assert_eq!(cycle.n_respondents, year.n_respondents);
        }
        let (Some(rso), Some(mean), false, true) = (
            year.rso_id.as_deref(),
            cycle.mean,
            cycle.suppressed,
            cycle.is_cycle(),
        ) else {
            continue;
        };
        let Some(html) = interim(rso, &year.period) else {
            continue;
        };
        let title = format!(
            "title=\"n = {}, huidige = {}",
            cycle.n_respondents,
            format!("{mean:.2}").replace('.', ",")
        );
        assert!(
            department_rows(&html).iter().any(|r| r.contains(&title)),
            "{} {} {}: {title}",
            year.unit_id,
            year.instrument,
            year.period
        );
        shown += 1;
    }
    assert!(shown > 0, "the sample has a lone year in an interim report");
}

/// Issue #19 (accessibility, comments): every chart in every HTML report is
/// an image with a title for screen readers, and identical open answers are
/// grouped with a count.
#[test]
fn every_chart_has_a_title_and_identical_answers_are_grouped() {
    let d = sample_run();
    let mut charts = 0;
    for f in crate::util::files_below(&d.join("output/reports")) {
        if f.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let html = std::fs::read_to_string(&f).unwrap();
        for (i, _) in html.match_indices("<svg") {
            let tag_end = i + html[i..].find('>').unwrap();
            let tag = &html[i..tag_end];
            assert!(tag.contains("role=\"img\""), "{}: {tag}", f.display());
            let rest = &html[tag_end + 1..];
            assert!(rest.starts_with("<title>"), "{}", f.display());
            let title = &rest[7..rest.find("</title>").unwrap()];
            assert!(!title.trim().is_empty(), "{}", f.display());
            charts += 1;
        }
    }
    assert!(charts > 100, "{charts}");
    // The generator gives the same top to several leavers of a clinic: one
    // line with a count, never the same line twice.
    let int = std::fs::read_to_string(d.join("output/reports/2023-2024/rso/int-nv.html")).unwrap();
    let exit = &int[int.find("id=\"exit\"").unwrap()..];
    let exit = &exit[..exit.find("</section>").unwrap()];
    assert!(exit.contains("×)</span></li>"), "a grouped answer");
    for list in exit.split("<ul>").skip(1) {
        let items: Vec<&str> = list[..list.find("</ul>").unwrap()]
            .split("<li>")
            .skip(1)
            .map(|li| {
                li.split("<span")
                    .next()
                    .unwrap()
                    .trim_end_matches("</li>")
                    .trim()
            })
            .collect();
        let unique: std::collections::BTreeSet<&&str> = items.iter().collect();
        assert_eq!(unique.len(), items.len(), "{items:?}");
    }
}

/// Issue #19: the heatmap follows the region's thresholds (with a second
/// cue besides colour) and prints n in every cell with a value.
#[test]
fn heatmap_cells_follow_the_thresholds_and_show_their_n() {
    let d = sample_run();
    let html = std::fs::read_to_string(d.join("output/reports/2023-2024/rso/int-nv.html")).unwrap();
    let re = regex::Regex::new(
        r#"<td class="cell([^"]*)" style="background:(#[0-9a-f]{6});[^"]*" title="[^"]*" data-value="([^"]+)">[^<]*<span class="n">n = (\d+)</span></td>"#,
    )
    .unwrap();
    let (mut low, mut high) = (0, 0);
    for c in re.captures_iter(&html) {
        let v: f64 = c[3].parse().unwrap();
        let n: u64 = c[4].parse().unwrap();
        assert!(n >= 4, "a shown value has at least the floor's respondents");
        let class = &c[1];
        if v < 62.5 {
            assert!(class.contains("band-low"), "{v}: {class}");
            assert!(
                c[2].starts_with("#f") && &c[2] != "#f4f4f2",
                "{v}: orange, {}",
                &c[2]
            );
            low += 1;
        } else if v >= 75.0 {
            assert!(class.contains("band-high"), "{v}: {class}");
            high += 1;
        } else {
            assert!(class.contains("band-mid"), "{v}: {class}");
            assert_eq!(&c[2], "#f4f4f2", "{v}: neutral");
        }
    }
    assert!(low > 5 && high > 5, "{low} {high}");
    // The exit grade is on its own 1-10 scale (one decimal), its colour and
    // data-value on 0-100: the two agree (second source: the conversion
    // by hand, within the display's rounding of 0.05).
    let grade =
        regex::Regex::new(r#"data-value="([^"]+)">(\d+,\d)\*?<span class="n">n = (\d+)</span>"#)
            .unwrap();
    let mut grades = 0;
    for c in grade.captures_iter(&html) {
        let v: f64 = c[1].parse().unwrap();
        let g: f64 = c[2].replace(',', ".").parse().unwrap();
        assert!((1.0 + v / 100.0 * 9.0 - g).abs() <= 0.05 + 1e-9, "{v} {g}");
        assert!((1.0..=10.0).contains(&g));
        grades += 1;
    }
    assert!(grades >= 3, "{grades}");
    // In the findings too: the grade on 1-10, its 0-100 beside it, and its
    // own n (5 graded; 6 answered the other subscales of the line), as in
    // the heatmap.
    assert!(html.contains("Rapportcijfer 5,7 (1-10) = 52 (n = 5); Feedback 56 (n = 6)"));
    assert!(html.contains(">5,7<span class=\"n\">n = 5</span>"));
}

/// Issue #19: English reports carry no Dutch chart words (from the one
/// translation table, charts included).
#[test]
fn english_reports_and_their_charts_have_no_dutch_chart_words() {
    let d = sample_run();
    let config = std::fs::read_to_string(d.join("opleidingsmonitor.toml")).unwrap();
    d.write(
        "opleidingsmonitor.toml",
        config.replace("[report]\n", "[report]\npdf = true\n"),
    );
    let r = d.run(&["report", "-c", "opleidingsmonitor.toml", "--lang", "en"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let dutch = [
        "betrouwbaarheidsinterval",
        "geen gegevens",
        "n.v.t.",
        "middelste categorie",
        "geen antwoorden",
        "van de antwoorden",
        "kon niet worden getekend",
        "drempel",
        "verborgen",
        "niet getoond",
        "Legenda",
        "minimale respons",
        "respons (%)",
        "Respons per jaar",
        "Totaalscore per afdeling",
        "Vraag",
        "Items zonder",
    ];
    let (mut pages, mut pdfs) = (0, 0);
    for f in crate::util::files_below(&d.join("output/reports")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = if name.ends_with(".en.html") {
            // (The index of a cycle is a list of links, not a report.)
            pages += usize::from(!name.starts_with("index"));
            std::fs::read_to_string(&f).unwrap()
        } else if name.ends_with(".en.pdf") {
            pdfs += 1;
            crate::util::pdf_pages(&f).join("\n")
        } else {
            continue;
        };
        for w in dutch {
            assert!(!text.contains(w), "{name} holds {w:?}");
        }
    }
    assert!(pages > 20, "{pages}");
    assert_eq!(pdfs, pages, "every English report also as PDF");
    let pdf = crate::util::pdf_pages(&d.join("output/reports/2023-2024/rso/int-nv.en.pdf"));
    assert!(pdf[0].contains("Summary") && pdf[0].contains("How to read"));
    assert!(pdf[0].contains(&format!("Page 1 of {}", pdf.len())));
    let rso =
        std::fs::read_to_string(d.join("output/reports/2023-2024/rso/int-nv.en.html")).unwrap();
    assert!(rso.contains("95% confidence interval") && rso.contains("improvement threshold"));
    assert!(rso.contains(">\nLegend\n<") || rso.contains("<title>Legend</title>"));
    assert!(rso.contains("minimum response rate") && rso.contains("Teamwork, item 2"));
}

/// The `<figure ...>` blocks of a report that open with `open`.
fn figures<'a>(html: &'a str, open: &str) -> Vec<&'a str> {
    html.match_indices(open)
        .map(|(i, _)| &html[i..i + html[i..].find("</figure>").unwrap()])
        .collect()
}

/// The numbers a chart writes as text on its own line (tick labels,
/// periods): plotters puts each text between newlines.
fn svg_numbers(svg: &str) -> Vec<f64> {
    let re = regex::Regex::new(r">\n(-?\d+(?:\.\d+)?)\n<").unwrap();
    re.captures_iter(svg)
        .map(|c| c[1].parse().unwrap())
        .collect()
}

/// The rows of a chart's table: (period, cells).
fn table_rows(fig: &str) -> Vec<(String, Vec<String>)> {
    let row =
        regex::Regex::new(r#"<tr data-period="([^"]+)"><th scope="row">[^<]*</th>(.*?)</tr>"#)
            .unwrap();
    let cell = regex::Regex::new(r#"<td[^>]*>([^<]*)</td>"#).unwrap();
    row.captures_iter(fig)
        .map(|c| {
            let cells = cell
                .captures_iter(&c[2])
                .map(|x| x[1].to_string())
                .collect();
            (c[1].to_string(), cells)
        })
        .collect()
}

/// Issue #19, item 3: trend charts fit their y axis to the data, draw the
/// region's thresholds, mark a hidden year without its number, show each
/// department against its RSO, carry their legend once per section, and the
/// response rate has its chart over the years.
#[test]
fn trend_charts_fit_the_axis_mark_hidden_years_and_show_departments_and_response() {
    let d = sample_run();
    let rso = std::fs::read_to_string(d.join("output/reports/2023-2024/rso/int-nv.html")).unwrap();
    let lowest_tick = |svg: &str| -> f64 {
        svg_numbers(svg)
            .into_iter()
            .filter(|v| *v <= 100.0)
            .fold(f64::MAX, f64::min)
    };
    // Every score chart whose numbers (in its table) lie above 40 has an
    // axis that does not start at 0; by hand, the sample's internal
    // medicine scores lie between about 55 and 80.
    let mut fitted = 0;
    let mut with_threshold = 0;
    for fig in figures(&rso, "<figure class=\"trend") {
        let values: Vec<f64> = table_rows(fig)
            .iter()
            .flat_map(|(_, cells)| cells.clone())
            .filter_map(|c| c.trim_end_matches('*').replace(',', ".").parse().ok())
            .collect();
        if values.is_empty() {
            continue;
        }
        let min = values.iter().copied().fold(f64::MAX, f64::min);
        let tick = lowest_tick(fig);
        assert!(tick <= min, "the axis holds every value: {tick} > {min}");
        if min > 40.0 {
            assert!(tick > 0.0, "a fitted axis: {tick}");
            fitted += 1;
        }
        // The improvement threshold (62.5) as a dotted orange line.
        with_threshold += usize::from(fig.contains("stroke=\"#B35806\""));
    }
    assert!(
        fitted > 10 && with_threshold > 5,
        "{fitted} {with_threshold}"
    );
    // The legend once per section, not in every chart: the RSO's name is
    // in the D-RECT trend legend and the table heads, not drawn in a chart.
    let drect = &rso[rso.find("id=\"instrument-d-rect\"").unwrap()..];
    let drect = &drect[..drect.find("</section>").unwrap()];
    assert_eq!(drect.matches("<figure class=\"legend\">").count(), 2);
    for fig in figures(drect, "<figure class=\"trend\">") {
        let svg = &fig[..fig.find("</svg>").unwrap()];
        assert!(!svg.contains("\nInterne geneeskunde, regio Noorderveld\n"));
    }
    // Small multiples: each department against the RSO; Heemdaal's fall
    // from about 75 to about 60 is in its own chart (second source: the
    // department report's table, which the next test checks against the
    // aggregates).
    let small = figures(&rso, "<figure class=\"trend department\"");
    assert!(small.len() >= 4, "{}", small.len());
    let heemdaal = small
        .iter()
        .find(|f| f.contains("data-department=\"Ziekenhuis Heemdaal\""))
        .expect("Heemdaal's own chart");
    let dept =
        std::fs::read_to_string(d.join("output/reports/2023-2024/department/heemdaal_int.html"))
            .unwrap();
    for period in ["2019", "2024"] {
        let own = table_rows(heemdaal)
            .into_iter()
            .find(|(p, _)| p == period)
            .unwrap()
            .1;
        assert_eq!(
            own[0],
            td(&trend_row(&dept, "D-RECT", period), 0),
            "{period}"
        );
        assert_eq!(own.len(), 3, "department, RSO, region");
    }
    // The response rate over the years, in the RSO and the department
    // report, with the region's minimum and the same numbers as the
    // participation table.
    for html in [&rso, &dept] {
        let resp = figures(html, "<figure class=\"response\"");
        assert!(!resp.is_empty());
        for fig in &resp {
            assert!(fig.contains("<title>") && fig.contains("respons (%)"));
            for (_, cells) in table_rows(fig) {
                for c in cells {
                    assert!(
                        c == "–"
                            || c.contains('%')
                            || !c.chars().any(|x| x.is_ascii_digit())
                            || c.starts_with("n &lt;"),
                        "{c}"
                    );
                }
            }
        }
        assert!(html.contains("minimale respons"));
    }
    // A hidden year: in every chart whose table says a year is hidden,
    // the chart marks it with the word and no number of it.
    let mut hidden = 0;
    for f in crate::util::files_below(&d.join("output/reports/2023-2024")) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".html") || name.ends_with(".en.html") {
            continue;
        }
        let html = std::fs::read_to_string(&f).unwrap();
        for fig in figures(&html, "<figure class=\"trend")
            .into_iter()
            .chain(figures(&html, "<figure class=\"response\""))
        {
            let rows = table_rows(fig);
            let gone: Vec<&String> = rows
                .iter()
                .filter(|(_, c)| {
                    c.first().is_some_and(|x| {
                        x == "verborgen"
                            || x.starts_with("n &lt;")
                            || x.starts_with("niet gepubliceerd")
                    })
                })
                .map(|(p, _)| p)
                .collect();
            if gone.is_empty() {
                continue;
            }
            let svg = &fig[..fig.find("</svg>").unwrap()];
            assert!(svg.contains(">\nniet getoond\n<"), "{name}: {gone:?}");
            let desc = &svg[svg.find("<desc>").unwrap()..svg.find("</desc>").unwrap()];
            for p in &gone {
                assert!(desc.contains(p.as_str()), "{name}: {desc}");
            }
            hidden += 1;
        }
    }
    assert!(hidden > 0, "the sample has hidden department years");
}

/// Issue #19, item 5: no open answer of a group below the floor. Every
/// department's exit-survey total of a cycle with fewer than 4 respondents
/// (from the published aggregates, a second source) has no answers under
/// its name in its RSO report of that cycle; a group at the floor has.
#[test]
fn no_open_answer_of_a_group_below_the_floor_is_printed() {
    let d = sample_run();
    let config =
        opleidingsmonitor::config::Config::load(&d.join("opleidingsmonitor.toml")).unwrap();
    let published =
        read_published(&d.join("output/dataset"), &Catalogue::load(None).unwrap()).unwrap();
    let (mut small, mut shown) = (0, 0);
    for c in published.cells.iter().filter(|c| {
        c.level == Level::Department
            && c.instrument == "exit"
            && c.scale_id == "total"
            && c.is_cycle()
    }) {
        let (Some(rso), Some(inst)) = (&c.rso_id, &c.institution_id) else {
            continue;
        };
        let f = d.join(&format!("output/reports/{}/rso/{rso}.html", c.period));
        let Ok(html) = std::fs::read_to_string(&f) else {
            continue;
        };
        let exit = &html[html.find("id=\"exit\"").unwrap()..];
        let exit = &exit[..exit.find("</section>").unwrap()];
        let name = &config.registry.institutions[inst].name;
        let heading = format!("<h3>{name}</h3>");
        if c.n_respondents < 4 {
            assert!(
                !exit.contains(&heading),
                "{} {}: {exit}",
                c.period,
                c.unit_id
            );
            small += 1;
        } else if exit.contains(&heading) {
            shown += 1;
        }
    }
    assert!(small >= 2 && shown >= 2, "{small} small, {shown} shown");
}
