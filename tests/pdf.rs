//! The PDF edition of every report, read back with poppler's `pdftotext`.

use crate::report::{region, unverified_lines, unverified_notes};
use crate::util::{files_below, pdf_pages, Dir};

/// Turns the PDFs on (`[report] pdf = true`) and runs again: with the
/// data unchanged, the setting alone makes the reports (and their PDFs)
/// again.
pub(crate) fn enable_pdf(d: &Dir) {
    let config = std::fs::read_to_string(d.join("opleidingsmonitor.toml")).unwrap();
    assert!(config.contains("[report]\n"));
    d.write(
        "opleidingsmonitor.toml",
        config.replace("[report]\n", "[report]\npdf = true\n"),
    );
    let r = d.run_env(
        &["run", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_TODAY", "2026-11-22")],
    );
    assert_eq!(r.code(), 0, "{}", r.both());
}

#[test]
fn every_report_is_also_a_paginated_pdf_with_contents_and_page_numbers() {
    let d = region();
    enable_pdf(&d);
    let dir = d.join("output/reports/2023-2024");
    // Every report kind, every report: an HTML page has its PDF beside it.
    let html: Vec<_> = files_below(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .filter(|p| p.file_name().is_some_and(|n| n != "index.html"))
        .collect();
    for kind in [
        "rso",
        "department",
        "interim",
        "region",
        "board",
        "institution",
    ] {
        assert!(
            html.iter().any(|p| p.parent().unwrap().ends_with(kind)),
            "{kind} reports exist"
        );
    }
    for h in &html {
        let pdf = h.with_extension("pdf");
        let bytes = std::fs::read(&pdf).unwrap_or_else(|e| panic!("{}: {e}", pdf.display()));
        assert!(bytes.starts_with(b"%PDF-"), "{}", pdf.display());
    }

    // The internal medicine RSO report: at most 15 A4 pages, none blank,
    // each numbered "Pagina i van n"; the first holds the summary, signals
    // first; a table of contents names the sections with their pages.
    let pages = pdf_pages(&dir.join("rso/int-nv.pdf"));
    let n = pages.len();
    assert!((3..=15).contains(&n), "{n} pages");
    for (i, p) in pages.iter().enumerate() {
        assert!(
            p.split_whitespace().count() > 20,
            "page {} is (nearly) blank: {p:?}",
            i + 1
        );
        assert!(
            p.contains(&format!("Pagina {} van {n}", i + 1)),
            "page {} has its number: {p}",
            i + 1
        );
    }
    // A chart legend stays with its charts: a page that holds the heading
    // of a set of small multiples holds a chart after it (its y axis,
    // "0-100"). The departments' legend once stood alone at the foot of a
    // page, under its heading, with its charts on the next page (#19).
    let mut headings = 0;
    for (i, p) in pages.iter().enumerate() {
        for heading in ["Totaalscore per afdeling", "Trends per subschaal"] {
            for (at, _) in p.match_indices(heading) {
                headings += 1;
                let after = &p[at..];
                let after = &after[after.find('\n').unwrap_or(after.len())..];
                assert!(
                    after.split_whitespace().any(|w| w == "0-100"),
                    "page {}: {heading:?} and its legend without their charts:\n{after}",
                    i + 1
                );
            }
        }
    }
    assert!(headings >= 6, "{headings} chart headings");
    let first = &pages[0];
    let at = |s: &str| {
        first
            .find(s)
            .unwrap_or_else(|| panic!("{s:?} on the first page:\n{first}"))
    };
    assert!(at("PDCA-rapport") < at("Samenvatting"));
    assert!(at("Samenvatting") < at("Signalen"));
    assert!(at("Signalen") < at("Verbeterpunten"));
    // The strengths follow (on the first page or the next).
    let two = pages[..2].join("\n");
    assert!(
        two.find("Verbeterpunten") < two.find("Sterke punten"),
        "{two}"
    );
    // Heemdaal's D-RECT decline is a signal, in the summary.
    let signals = &first[at("Signalen")..at("Verbeterpunten")];
    assert!(signals.contains("Heemdaal"), "{signals}");
    assert!(signals.contains("daling"), "{signals}");
    // The plain legend of 0-100, significance and effect size.
    assert!(first.contains("Leeswijzer"), "{first}");
    // The table of contents: section titles with their page numbers.
    let toc = pages[..2].join("\n");
    let toc = &toc[toc.find("Inhoud").expect("a table of contents")..];
    for section in [
        "Opvolging vorige cyclus",
        "Deelname",
        "Ontwikkelplan",
        "Methode",
    ] {
        let line = toc
            .lines()
            .find(|l| l.contains(section))
            .unwrap_or_else(|| panic!("{section} in the contents:\n{toc}"));
        let page: usize = line
            .split_whitespace()
            .last()
            // (Typst puts a word joiner before the number.)
            .and_then(|w| w.trim_start_matches('\u{2060}').parse().ok())
            .unwrap_or_else(|| panic!("a page number in {line:?}"));
        assert!((1..=n).contains(&page), "{line}");
        assert!(
            pages[page - 1].contains(section),
            "{section} is on page {page}"
        );
    }

    // An interim report says it is one on every page.
    let interim = files_below(&dir.join("interim"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "pdf"))
        .unwrap();
    for (i, p) in pdf_pages(&interim).iter().enumerate() {
        assert!(
            p.contains("niet de formele tweejaarlijkse evaluatie"),
            "interim page {}: {p}",
            i + 1
        );
    }

    // The board summary is one page.
    assert_eq!(pdf_pages(&dir.join("board/noorderveld.pdf")).len(), 1);

    // A subscale resting on a placeholder item table is disclosed in the
    // PDF as in the HTML: once per instrument for the RSO, the interim and
    // the institution reports; in one note with a line per instrument for
    // the department report.
    let html = std::fs::read_to_string(dir.join("department/heemdaal_int.html")).unwrap();
    let lines = unverified_lines(&html);
    assert!(lines.iter().any(|(i, _)| i == "d-rect"), "{lines:?}");
    let text = pdf_pages(&dir.join("department/heemdaal_int.pdf")).join(" ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(text.matches("nog niet geverifieerd").count(), 1);
    // Every instrument there counts all its subscales towards its total:
    // said once, under the lines.
    assert_eq!(html.matches("hangt niet af van die indeling").count(), 1);
    assert_eq!(text.matches("hangt niet af van die indeling").count(), 1);
    for (_, line) in &lines {
        // (The PDF's text breaks lines where the page does.)
        let start: String = line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(&start), "{start}");
    }
    for report in ["rso/int-nv", "interim/int-nv-2024", "institution/heemdaal"] {
        let html = std::fs::read_to_string(dir.join(format!("{report}.html"))).unwrap();
        let notes = unverified_notes(&html);
        assert!(
            !notes.is_empty(),
            "{report}: D-RECT's table is a placeholder"
        );
        let text = pdf_pages(&dir.join(format!("{report}.pdf"))).join(" ");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            text.matches("nog niet geverifieerd").count(),
            notes.len(),
            "{report}: {notes:?}"
        );
    }
}
