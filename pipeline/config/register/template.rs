//! `register init`: an empty quality register with the right columns, one
//! example row per sheet (its first cell starts with VOORBEELD, so it is
//! never read as data), drop-down lists from the registry and the
//! instruments, frozen headings and a note on every heading.

use std::collections::BTreeSet;
use std::path::Path;

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, ExcelDateTime, Format, Formula, Note,
    Workbook, XlsxError,
};

use super::sheet::{Holds, SheetSpec, EXAMPLE_MARK};
use super::sheets::SHEETS;
use crate::error::{Error, Result};
use crate::instrument::Catalogue;
use crate::org::Registry;

/// The name of the sheet with the drop-down lists.
pub const LISTS: &str = "keuzelijsten";

/// Rows that get drop-down lists and formats.
const ROWS: u32 = 2000;

/// The example value of a column.
fn example(spec: &SheetSpec, key: &str, registry: &Registry, catalogue: &Catalogue) -> String {
    let rso = registry.rsos.values().next();
    let institution = rso
        .and_then(|r| r.members.first())
        .map(|m| m.institution.clone())
        .unwrap_or_default();
    let (instrument, scale) = catalogue
        .iter()
        .find_map(|d| Some((d.id.clone(), d.subscales.first()?.id.clone())))
        .unwrap_or_default();
    let unit = rso
        .map(|r| format!("{institution}:{}", r.specialty))
        .unwrap_or_default();
    let finding = format!("2021-2022/{unit}/{instrument}/{scale}/low_score");
    let v = match (spec.name, key) {
        ("acties", "action_id") => "A1",
        ("acties", "finding_ids") | ("besluiten", "finding_id") => &finding,
        ("acties", "description") => "Feedbackmoment na elke dienst",
        ("acties", "owner_role") => "opleidingsgroep",
        ("acties", "status") => "lopend",
        ("acties", "target") => ">= 70",
        ("besluiten", "decision") => "erkend",
        ("besluiten", "explanation") => "Herkend in de vakgroep; actie A1",
        ("evaluaties", "cycle") => "2023-2024",
        ("evaluaties", "conclusions") => "Goed leerklimaat; aandacht voor feedback",
        ("visitaties", "visitation_id") => "V2024-1",
        ("visitaties", "kind") => "RGS-visitatie",
        ("visitaties", "outcome") => "positief met voorwaarden",
        ("visitaties", "item_kind") => "voorwaarde",
        ("visitaties", "item") => "Opleidingsplan actualiseren",
        ("visitaties", "status") | ("signalen", "status") => "open",
        ("signalen", "signal_id") => "S1",
        ("signalen", "source") => "werkvloer",
        ("signalen", "description") => "Hoge werkdruk in de avonddiensten",
        ("signalen", "step") => "bespreking",
        ("signalen", "owner") => "opleider",
        ("jaarkalender", "year") => "2025",
        ("jaarkalender", "month") => "3",
        ("jaarkalender", "event") => &instrument,
        ("jaarkalender", "owner") => "onderwijskundige",
        (_, "rso_id") => return rso.map(|r| r.id.clone()).unwrap_or_default(),
        (_, "institution_id") => return institution,
        (_, "instrument") => &instrument,
        (_, "scale_id") => &scale,
        _ => "",
    };
    v.to_string()
}

/// The example date of a date column, if any.
fn example_date(key: &str) -> Option<(u16, u8, u8)> {
    match key {
        "start" | "date" | "received" | "meeting_date" => Some((2024, 3, 1)),
        "due" | "next_date" => Some((2024, 12, 31)),
        _ => None,
    }
}

/// The workbook's bytes.
pub fn workbook(
    registry: &Registry,
    catalogue: &Catalogue,
) -> std::result::Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let heading = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDCE6F1))
        .set_text_wrap();
    let example_fmt = Format::new()
        .set_italic()
        .set_font_color(Color::RGB(0x595959));
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let example_date_fmt = example_fmt.clone().set_num_format("yyyy-mm-dd");
    let text_fmt = Format::new().set_num_format("@").set_text_wrap();

    // The lists, one column each, on their own sheet.
    let mut lists: Vec<(String, Vec<String>)> = vec![
        ("rso".into(), registry.rsos.keys().cloned().collect()),
        (
            "instelling".into(),
            registry.institutions.keys().cloned().collect(),
        ),
        (
            "instrument".into(),
            catalogue
                .iter()
                .map(|d| d.id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        ),
        (
            "subschaal".into(),
            std::iter::once(crate::domain::TOTAL.to_string())
                .chain(
                    catalogue
                        .iter()
                        .flat_map(|d| d.subscales.iter().map(|s| s.id.clone()))
                        .collect::<BTreeSet<_>>(),
                )
                .collect(),
        ),
    ];
    let list_of = |holds: Holds| -> Option<usize> {
        match holds {
            Holds::Rso => Some(0),
            Holds::Institution => Some(1),
            Holds::Instrument => Some(2),
            Holds::Scale => Some(3),
            _ => None,
        }
    };
    let mut word_lists: Vec<&'static [&'static str]> = Vec::new();
    for spec in SHEETS {
        for c in spec.columns {
            if let Holds::OneOf(words) = c.holds {
                if !word_lists.contains(&words) {
                    word_lists.push(words);
                    lists.push((
                        format!("{} {}", spec.name, c.heading),
                        words.iter().map(|w| w.to_string()).collect(),
                    ));
                }
            }
        }
    }
    let range = |i: usize, n: usize| {
        let letter = crate::ingest::decode::column_letters(i as u32);
        Formula::new(format!("={LISTS}!${letter}$2:${letter}${}", n.max(1) + 1))
    };

    for spec in SHEETS {
        let sheet = book.add_worksheet();
        sheet.set_name(spec.name)?;
        for (i, c) in spec.columns.iter().enumerate() {
            let col = i as u16;
            sheet.write_string_with_format(0, col, c.heading, &heading)?;
            let wide = matches!(
                c.key,
                "description"
                    | "explanation"
                    | "item"
                    | "outcome"
                    | "self_evaluation"
                    | "context"
                    | "conclusions"
                    | "advice"
                    | "conversations"
                    | "finding_ids"
                    | "finding_id"
                    | "exempt"
            );
            sheet.set_column_width(col, if wide { 44 } else { 16 })?;
            let note = format!("{}{}", c.help, if c.required { " (verplicht)" } else { "" });
            sheet.insert_note(0, col, &Note::new(note).set_author("Opleidingsmonitor"))?;
            let mut validation = match (c.holds, list_of(c.holds)) {
                (Holds::OneOf(words), _) => {
                    let k = word_lists.iter().position(|w| *w == words).unwrap_or(0) + 4;
                    Some(DataValidation::new().allow_list_formula(range(k, words.len())))
                }
                (_, Some(k)) => {
                    Some(DataValidation::new().allow_list_formula(range(k, lists[k].1.len())))
                }
                (Holds::Date, _) => {
                    sheet.set_column_format(col, &date_fmt)?;
                    None
                }
                _ => {
                    sheet.set_column_format(col, &text_fmt)?;
                    None
                }
            };
            if let Some(v) = validation.take() {
                let v = v
                    .set_error_title("Onbekende waarde")?
                    .set_error_message(format!("Kies uit de lijst op blad {LISTS}: {}", c.help))?
                    .set_error_style(DataValidationErrorStyle::Warning);
                sheet.add_data_validation(1, col, ROWS, col, &v)?;
            }
            // The example row.
            match example_date(c.key).filter(|_| c.holds == Holds::Date) {
                Some((y, m, d)) => {
                    let date = ExcelDateTime::from_ymd(y, m, d)?;
                    sheet.write_datetime_with_format(1, col, &date, &example_date_fmt)?;
                }
                None => {
                    let mut value = example(&spec, c.key, registry, catalogue);
                    if i == 0 {
                        value = format!("{EXAMPLE_MARK} {value}");
                    }
                    if !value.is_empty() {
                        sheet.write_string_with_format(1, col, &value, &example_fmt)?;
                    }
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, ROWS, spec.columns.len() as u16 - 1)?;
        sheet.set_row_height(0, 30)?;
    }

    let sheet = book.add_worksheet();
    sheet.set_name(LISTS)?;
    for (i, (name, values)) in lists.iter().enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, name, &heading)?;
        sheet.set_column_width(col, 24)?;
        for (r, v) in values.iter().enumerate() {
            sheet.write_string(r as u32 + 1, col, v)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// Writes an empty register to `path`; never overwrites a file.
pub fn init(path: &Path, registry: &Registry, catalogue: &Catalogue) -> Result<()> {
    let fail = |message: String| Error::Output {
        path: path.to_path_buf(),
        message,
    };
    if path.exists() {
        return Err(fail(
            "the file exists and is never overwritten: choose another name with --output, or move the file away".into(),
        ));
    }
    let bytes = workbook(registry, catalogue).map_err(|e| fail(e.to_string()))?;
    // Written next to its place and linked in: the link fails (and nothing
    // is replaced) when a file of that name appeared meanwhile.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("register"),
        std::process::id()
    ));
    std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked.map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            fail("the file exists and is never overwritten".into())
        }
        _ => Error::io(path, e),
    })
}
