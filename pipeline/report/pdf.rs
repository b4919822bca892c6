//! PDF: every report also as a paginated A4 PDF, made by the program itself
//! with Typst as a library (no browser, no system fonts).
//!
//! A report's `.typ.j2` template (minijinja, every value escaped for Typst
//! markup by `labels::typst_escape`) gives Typst source; Typst lays it out
//! with the fonts it ships (`typst-assets`, embedded in the binary) and
//! `typst-pdf` writes the PDF. Charts are the reports' own SVGs, placed as
//! images (`image(bytes(...))`), so a chart never splits across pages.
//! Templates are data a user edits, like the HTML templates.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::layout::Frame;
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

/// The fonts Typst ships, parsed once per process.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// Every report is the same one file to Typst: file ids are interned for
/// the life of the process (at most 65,535), so one id serves them all.
static MAIN: LazyLock<FileId> = LazyLock::new(|| {
    RootedPath::new(
        VirtualRoot::Project,
        VirtualPath::new("/report.typ").expect("a valid virtual path"),
    )
    .intern()
});

/// One report's Typst world: its source and the day it is made.
struct Report {
    source: Source,
    today: NaiveDate,
}

impl World for Report {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        *MAIN
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == *MAIN {
            Ok(self.source.clone())
        } else {
            // A template reads no files: charts come inline.
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.source(id)
            .map(|s| Bytes::from_string(s.text().to_string()))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Datetime::from_ymd(
            self.today.year(),
            self.today.month() as u8,
            self.today.day() as u8,
        )
    }
}

/// A laid-out report: its pages, and the PDF made from them.
pub struct Laid {
    document: PagedDocument,
}

impl Laid {
    /// Number of pages.
    pub fn pages(&self) -> usize {
        self.document.pages().len()
    }

    /// The text of each page, in reading order of the layout (for tests
    /// and for the run's checks: what a reader of the PDF sees).
    pub fn page_texts(&self) -> Vec<String> {
        fn walk(frame: &Frame, out: &mut String) {
            for (_, item) in frame.items() {
                match item {
                    typst::layout::FrameItem::Group(g) => walk(&g.frame, out),
                    typst::layout::FrameItem::Text(t) => {
                        out.push_str(&t.text);
                        out.push(' ');
                    }
                    _ => {}
                }
            }
        }
        self.document
            .pages()
            .iter()
            .map(|p| {
                let mut s = String::new();
                walk(&p.frame, &mut s);
                s
            })
            .collect()
    }

    /// The PDF file's bytes.
    pub fn pdf(&self) -> Result<Vec<u8>, String> {
        // Untagged: tagging (structure for screen readers) doubled the
        // time of every PDF; the HTML report is the accessible edition.
        let options = typst_pdf::PdfOptions {
            tagged: false,
            ..Default::default()
        };
        typst_pdf::pdf(&self.document, &options).map_err(|errors| describe(None, &errors))
    }
}

/// Lays out Typst source made by a report template. An error names the
/// line of the generated source and Typst's message.
pub fn lay_out(source: &str, today: NaiveDate) -> Result<Laid, String> {
    let world = Report {
        source: Source::new(*MAIN, source.to_string()),
        today,
    };
    let warned = typst::compile::<PagedDocument>(&world);
    match warned.output {
        Ok(document) => Ok(Laid { document }),
        Err(errors) => Err(describe(Some(&world), &errors)),
    }
}

/// Typst remembers the work of every layout (to lay out a changed
/// document fast): for a batch of different reports that is memory that
/// only grows. Forgets what the last few layouts did not use.
pub fn forget_old() {
    typst::comemo::evict(4);
}

fn describe(world: Option<&Report>, errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .filter(|e| e.severity == Severity::Error)
        .map(|e| {
            let line = world.and_then(|w| {
                let range = w.range(e.span)?;
                let line = w.source.lines().byte_to_line(range.start)?;
                let text = w.source.text().lines().nth(line).unwrap_or("");
                let snippet: String = text.chars().take(120).collect();
                Some(format!(
                    " (line {} of the Typst source: {snippet})",
                    line + 1
                ))
            });
            format!("{}{}", e.message, line.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::labels::{typst_escape, typst_string};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn escaped_data_stays_text() {
        // Every markup character a comment could hold, as a reader sees it.
        let hostile =
            "#set page(width: 1cm) *vet* _schuin_ $x$ <l> @r [a] = - + / 1. `c` \\ ~ // x";
        let laid = lay_out(&format!("= Titel\n{}\n", typst_escape(hostile)), today()).unwrap();
        assert_eq!(laid.pages(), 1);
        let text = laid.page_texts().join("");
        for part in [
            "#set", "*vet*", "_schuin_", "$x$", "@r", "[a]", "`c`", "// x",
        ] {
            assert!(text.contains(part), "{part} missing from {text:?}");
        }
    }

    #[test]
    fn a_chart_is_placed_and_the_pdf_is_made() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100" height="50" fill="#123456"/><text x="5" y="30">Trend "A"</text></svg>"##;
        let src = format!(
            "#set page(numbering: \"1 / 1\")\n= Grafiek\n#image(bytes({}), width: 5cm)\n#pagebreak()\nTwee\n",
            typst_string(svg)
        );
        let laid = lay_out(&src, today()).unwrap();
        assert_eq!(laid.pages(), 2);
        let texts = laid.page_texts();
        assert!(texts[1].contains("2 / 2"), "{texts:?}");
        let pdf = laid.pdf().unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn a_template_error_names_the_line() {
        let err = lay_out("= Titel\n\n#nosuchfunction()\n", today())
            .err()
            .unwrap();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("nosuchfunction"), "{err}");
    }
}
