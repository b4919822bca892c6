//! The sample's export files, one function per platform layout: plain
//! CSV, LimeSurvey, Qualtrics (two header rows, and the legacy three),
//! Windows-1252 with ';' and decimal commas, SurveyMonkey's two-row header,
//! and an XLSX workbook.

use super::*;

pub(super) fn answer_text(
    a: Option<Answer>,
    labels: Option<&Instrument>,
    na: &str,
    decimal_comma: bool,
) -> String {
    match a {
        None => String::new(),
        Some(Answer::NotApplicable) => na.to_string(),
        Some(Answer::Value(v)) => match labels {
            Some(inst) => inst
                .scale
                .labels
                .iter()
                .find(|l| l.value == v)
                .map(|l| capitalise(&l.nl))
                .unwrap_or_else(|| fmt_value(v, decimal_comma)),
            None => fmt_value(v, decimal_comma),
        },
    }
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub(super) type Export = (String, Vec<u8>, usize);

pub(super) fn drect_plain(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let mut rows = vec![{
        let mut h: Vec<String> = ["Respondent", "Datum", "Ziekenhuis", "Specialisme", "Email"]
            .map(String::from)
            .to_vec();
        h.extend((1..=inst.items.len()).map(|i| format!("Q{i}")));
        h
    }];
    for r in rs {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let mut row = vec![
            format!("{} {}", p.first, p.last),
            r.date.format("%Y-%m-%d").to_string(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            spec.name.clone(),
            p.email.clone(),
        ];
        row.extend(r.values.iter().map(|&a| answer_text(a, None, "NVT", false)));
        rows.push(row);
    }
    (
        format!(
            "{}/{year}/drect-plain_{}_{year}.csv",
            world.inbox, spec.code
        ),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
}

pub(super) fn drect_limesurvey(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let mut header: Vec<String> = [
        "id",
        "submitdate",
        "lastpage",
        "startlanguage",
        "seed",
        "token",
        "firstname",
        "lastname",
        "email",
        "ziekenhuis",
        "specialisme",
    ]
    .map(String::from)
    .to_vec();
    header.extend((1..=inst.items.len()).map(|i| format!("DRECT[SQ{i:03}]")));
    let mut rows = vec![header];
    for (n, r) in rs.iter().enumerate() {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let mut row = vec![
            format!("{}", 1000 * (year - 2000) as usize + n + 1),
            format!(
                "{} {:02}:{:02}:{:02}",
                r.date.format("%Y-%m-%d"),
                8 + n % 10,
                n % 60,
                (n * 7) % 60
            ),
            "4".into(),
            "nl".into(),
            format!("{}", world.rng.below(1_000_000_000)),
            format!("tk{:08x}", world.rng.next_u64() as u32),
            p.first.clone(),
            p.last.clone(),
            p.email.clone(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            spec.aliases[0].clone(),
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, Some(inst), "Niet van toepassing", false)),
        );
        rows.push(row);
    }
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(csv_bytes(&rows, b';', true, true));
    (
        format!(
            "{}/{year}/limesurvey_drect_{}_{year}.csv",
            world.inbox, spec.code
        ),
        bytes,
        rs.len(),
    )
}

pub(super) fn setq_qualtrics(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
    version: &str,
) -> Export {
    let legacy = year <= 2020;
    let meta = [
        "StartDate",
        "EndDate",
        "Status",
        "IPAddress",
        "Progress",
        "Duration (in seconds)",
        "Finished",
        "RecordedDate",
        "ResponseId",
        "RecipientLastName",
        "RecipientFirstName",
        "RecipientEmail",
        "ExternalReference",
        "LocationLatitude",
        "LocationLongitude",
        "DistributionChannel",
        "UserLanguage",
        "Ziekenhuis",
        "Specialisme",
        "Supervisor",
        "Rol",
    ];
    let mut tags: Vec<String> = meta.map(String::from).to_vec();
    tags.extend((1..=inst.items.len()).map(|i| format!("Q1_{i}")));
    let mut texts: Vec<String> = meta.map(String::from).to_vec();
    texts.extend(inst.items.iter().enumerate().map(|(i, it)| {
        format!(
            "Hoe beoordeelt u deze supervisor? - {}",
            it.nl
                .clone()
                .or(it.en.clone())
                .unwrap_or(format!("Stelling {}", i + 1))
        )
    }));
    let mut rows = vec![tags.clone(), texts];
    if !legacy {
        rows.push(
            tags.iter()
                .map(|t| format!("{{\"ImportId\":\"{}\"}}", t.replace("Q1_", "QID1_")))
                .collect(),
        );
    }
    for r in rs {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let s = &world.people[r.subject.expect("rated supervisor")];
        let rng = &mut world.rng;
        let start = r
            .date
            .and_hms_opt(9 + rng.below(8) as u32, rng.below(60) as u32, 0)
            .expect("time");
        let end = start + chrono::Duration::seconds(200 + rng.below(600) as i64);
        let mut row = vec![
            start.format("%Y-%m-%d %H:%M:%S").to_string(),
            end.format("%Y-%m-%d %H:%M:%S").to_string(),
            "IP Address".into(),
            format!(
                "145.{}.{}.{}",
                rng.below(255),
                rng.below(255),
                rng.below(255)
            ),
            "100".into(),
            format!("{}", (end - start).num_seconds()),
            "True".into(),
            end.format("%Y-%m-%d %H:%M:%S").to_string(),
            format!("R_{:016x}", rng.next_u64()),
            p.last.clone(),
            p.first.trim_start_matches("Dr. ").to_string(),
            p.email.clone(),
            String::new(),
            "52.09".into(),
            "5.12".into(),
            "email".into(),
            "NL".into(),
            spelling(rng, &world.institutions[d.institution]),
            spec.name.clone(),
            format!("{} {}", s.first, s.last),
            if r.self_eval {
                "Supervisor (zelfevaluatie)".into()
            } else {
                "AIOS".into()
            },
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, None, "N.v.t.", false)),
        );
        rows.push(row);
    }
    let prefix = if legacy {
        "qualtrics-legacy_setq"
    } else if version == "smart-7pt" {
        "qualtrics_setq7"
    } else {
        "qualtrics_setq"
    };
    (
        format!("{}/{year}/{prefix}_{}_{year}.csv", world.inbox, spec.code),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
}

pub(super) fn effect_cp1252(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let mut header: Vec<String> = [
        "Respondentnummer",
        "Naam",
        "E-mail",
        "Datum",
        "Instelling",
        "Specialisme",
        "Supervisor",
        "Rol",
        "Duur (min)",
    ]
    .map(String::from)
    .to_vec();
    header.extend((1..=inst.items.len()).map(|i| format!("V{i}")));
    let mut rows = vec![header];
    for (n, r) in rs.iter().enumerate() {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let s = &world.people[r.subject.expect("rated supervisor")];
        let minutes = 8.0 + world.rng.below(40) as f64 / 4.0;
        let mut row = vec![
            format!("E{year}-{:04}", n + 1),
            format!("{} {}", p.first, p.last),
            p.email.clone(),
            r.date.format("%d-%m-%Y").to_string(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            spec.name.clone(),
            format!("{} {}", s.first, s.last),
            if r.self_eval {
                "supervisor".into()
            } else {
                "aios".into()
            },
            fmt_value(minutes, true),
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, None, "n.v.t.", true)),
        );
        rows.push(row);
    }
    let text = String::from_utf8(csv_bytes(&rows, b';', false, true)).expect("utf-8");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    debug_assert!(!unmappable, "sample names fit Windows-1252");
    (
        format!("{}/{year}/effect_{}_{year}.csv", world.inbox, spec.code),
        bytes.into_owned(),
        rs.len(),
    )
}

pub(super) fn mctq_surveymonkey(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    spec: &Spec,
    year: i32,
) -> Export {
    let meta = [
        "Respondent ID",
        "Collector ID",
        "Start Date",
        "End Date",
        "IP Address",
        "Email Address",
        "First Name",
        "Last Name",
        "Ziekenhuis",
        "Specialisme",
        "Supervisor",
    ];
    let mut q: Vec<String> = meta.map(String::from).to_vec();
    let mut sub: Vec<String> = vec![String::new(); meta.len()];
    q[8..]
        .iter_mut()
        .zip(sub[8..].iter_mut())
        .for_each(|(_, s)| *s = "Response".into());
    let mut first_matrix = true;
    for (i, it) in inst.items.iter().enumerate() {
        if it.kind == ItemKind::Grade {
            q.push("Eindcijfer voor deze supervisor".into());
            sub.push("Response".into());
        } else {
            // SurveyMonkey writes the matrix question once, above its first column.
            q.push(if first_matrix {
                "MCTQ stellingen".into()
            } else {
                String::new()
            });
            first_matrix = false;
            sub.push(format!("Stelling {:02}", i + 1));
        }
    }
    let mut rows = vec![q, sub];
    for r in rs {
        let p = &world.people[r.person];
        let d = &world.departments[r.dept];
        let s = &world.people[r.subject.expect("rated supervisor")];
        let rng = &mut world.rng;
        let t = r
            .date
            .and_hms_opt(
                8 + rng.below(10) as u32,
                rng.below(60) as u32,
                rng.below(60) as u32,
            )
            .expect("time");
        let mut row = vec![
            format!("{}", 11_000_000_000u64 + rng.below(1_000_000_000) as u64),
            "431234567".into(),
            t.format("%m/%d/%Y %I:%M:%S %p").to_string(),
            (t + chrono::Duration::minutes(6))
                .format("%m/%d/%Y %I:%M:%S %p")
                .to_string(),
            format!(
                "84.{}.{}.{}",
                rng.below(255),
                rng.below(255),
                rng.below(255)
            ),
            p.email.clone(),
            p.first.clone(),
            p.last.clone(),
            spelling(rng, &world.institutions[d.institution]),
            spec.name.clone(),
            format!("{} {}", s.first, s.last),
        ];
        row.extend(
            r.values
                .iter()
                .map(|&a| answer_text(a, None, "N.v.t.", false)),
        );
        rows.push(row);
    }
    (
        format!(
            "{}/{year}/surveymonkey_mctq_{}_{year}.csv",
            world.inbox, spec.code
        ),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
}

pub(super) fn exit_xlsx(
    world: &mut World,
    inst: &Instrument,
    rs: &[Answered],
    year: i32,
) -> Result<Export> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    // A fixed creation time: the same seed must give the same bytes.
    let created = ExcelDateTime::from_ymd(year as u16, 12, 31)
        .map_err(|e| Error::dataset(Path::new("exit.xlsx"), e))?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let sheet = book.add_worksheet();
    sheet
        .set_name("Exitenquête")
        .map_err(|e| Error::dataset(Path::new("exit.xlsx"), e))?;
    let xerr = |e: rust_xlsxwriter::XlsxError| Error::dataset(Path::new("exit.xlsx"), e);
    let bold = Format::new().set_bold();
    let date_fmt = Format::new().set_num_format("dd-mm-yyyy");
    sheet
        .write_string_with_format(
            0,
            0,
            format!("Exitenquête aios regio Noorderveld — export {year}"),
            &bold,
        )
        .map_err(xerr)?;
    let header = exit_header(inst);
    for (c, h) in header.iter().enumerate() {
        sheet
            .write_string_with_format(1, c as u16, h, &bold)
            .map_err(xerr)?;
    }
    for (n, r) in rs.iter().enumerate() {
        let row = n as u32 + 2;
        let p = world.people[r.person].clone();
        let d = &world.departments[r.dept];
        let (inst_idx, spec_idx) = (d.institution, d.specialty);
        let date = ExcelDateTime::from_ymd(
            year as u16,
            r.date.format("%m").to_string().parse().unwrap_or(1),
            r.date.format("%d").to_string().parse().unwrap_or(1),
        )
        .map_err(xerr)?;
        sheet
            .write_datetime_with_format(row, 0, &date, &date_fmt)
            .map_err(xerr)?;
        let spelled = spelling(&mut world.rng, &world.institutions[inst_idx]);
        sheet.write_string(row, 1, spelled).map_err(xerr)?;
        sheet
            .write_string(row, 2, &world.specialties[spec_idx].name)
            .map_err(xerr)?;
        sheet
            .write_string(row, 3, format!("{} {}", p.first, p.last))
            .map_err(xerr)?;
        sheet.write_string(row, 4, &p.email).map_err(xerr)?;
        for (i, it) in inst.items.iter().enumerate() {
            let col = 5 + i as u16;
            match (it.kind, r.values[i]) {
                (ItemKind::Text, _) => {
                    let text = exit_comment(&mut world.rng, &it.id, &p.email);
                    sheet.write_string(row, col, text).map_err(xerr)?;
                }
                (_, Some(Answer::Value(v))) => {
                    sheet.write_number(row, col, v).map_err(xerr)?;
                }
                (_, Some(Answer::NotApplicable)) => {
                    sheet.write_string(row, col, "n.v.t.").map_err(xerr)?;
                }
                (_, None) => {}
            }
        }
    }
    let bytes = book.save_to_buffer().map_err(xerr)?;
    Ok((
        format!("{}/{year}/exit_{year}.xlsx", world.inbox),
        bytes,
        rs.len(),
    ))
}

/// The exit survey's column headings.
pub(super) fn exit_header(inst: &Instrument) -> Vec<String> {
    let mut header: Vec<String> = ["Datum", "Ziekenhuis", "Specialisme", "Naam", "E-mailadres"]
        .map(String::from)
        .to_vec();
    for it in &inst.items {
        header.push(match it.kind {
            ItemKind::Grade => "Rapportcijfer".into(),
            ItemKind::Text if it.id.ends_with("tops") => "Tops".into(),
            ItemKind::Text => "Tips".into(),
            ItemKind::Likert => format!(
                "Vraag {}",
                it.id.trim_start_matches("exit_q").trim_start_matches('0')
            ),
        });
    }
    header
}

/// An exit survey's open answer (tops or tips).
pub(super) fn exit_comment(rng: &mut Rng, item_id: &str, email: &str) -> String {
    let list = if item_id.ends_with("tops") {
        TOPS
    } else {
        TIPS
    };
    let mut text = list[rng.below(list.len())].to_string();
    // Now and then an aios leaves an address: it must be masked.
    if rng.chance(0.15) {
        let _ = write!(text, " (mail me gerust: {email})");
    }
    text
}

/// The exit survey as a plain CSV (the national benchmark's layout: every
/// benchmark export is CSV, so another engine can read the same files).
pub(super) fn exit_csv(world: &mut World, inst: &Instrument, rs: &[Answered], year: i32) -> Export {
    let mut rows = vec![exit_header(inst)];
    for r in rs {
        let p = world.people[r.person].clone();
        let d = &world.departments[r.dept];
        let mut row = vec![
            r.date.format("%Y-%m-%d").to_string(),
            spelling(&mut world.rng, &world.institutions[d.institution]),
            world.specialties[d.specialty].name.clone(),
            format!("{} {}", p.first, p.last),
            p.email.clone(),
        ];
        for (i, it) in inst.items.iter().enumerate() {
            row.push(match it.kind {
                ItemKind::Text => exit_comment(&mut world.rng, &it.id, &p.email),
                _ => answer_text(r.values[i], None, "n.v.t.", false),
            });
        }
        rows.push(row);
    }
    (
        format!("{}/{year}/exit-csv_{year}.csv", world.inbox),
        csv_bytes(&rows, b',', false, false),
        rs.len(),
    )
}
