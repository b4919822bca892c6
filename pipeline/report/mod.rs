//! Reports: the biennial PDCA report per RSO, the R-COC region overview and
//! the COC institution report, as self-contained HTML, Markdown, and a
//! `tables.xlsx` per cycle, with an `index.html` that links them.
//!
//! This module owns what a reader sees: which numbers go where, labels from
//! one translation table (`reports/i18n.toml`, Dutch by default), number
//! formatting, and the templates (minijinja, HTML autoescaped; built in,
//! replaceable from the config's `report.templates` folder without
//! recompiling). It reads only the published aggregates, changes, item
//! counts and comments, and the development plan: never raw responses. The
//! rules live in `pdca`, the pictures in `chart`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Serialize;

mod board;
pub mod chart;
mod cycle;
mod department;
mod institution;
mod interim;
pub mod labels;
pub mod pdf;
mod region;
mod rso;
mod summary;
mod views;
mod xlsx;

pub use labels::{fill, labels, md_escape, num, p_text, Labels};
use views::{found_for, Ctx, Found};

use crate::config::Config;
use crate::dataset::published::{self as published_io, Scope};
use crate::error::{Error, Result};
use crate::table::Published;
use crate::{pdca, score};

const T_RSO: &str = include_str!("../../reports/rso.html.j2");
const T_REGION: &str = include_str!("../../reports/region.html.j2");
const T_INSTITUTION: &str = include_str!("../../reports/institution.html.j2");
const T_INDEX: &str = include_str!("../../reports/index.html.j2");
const T_BASE: &str = include_str!("../../reports/base.html.j2");
const T_RSO_MD: &str = include_str!("../../reports/rso.md.j2");
const T_REGION_MD: &str = include_str!("../../reports/region.md.j2");
const T_INSTITUTION_MD: &str = include_str!("../../reports/institution.md.j2");
const T_BOARD: &str = include_str!("../../reports/board.html.j2");
const T_DEPARTMENT: &str = include_str!("../../reports/department.html.j2");
const T_DEPARTMENT_MD: &str = include_str!("../../reports/department.md.j2");
const T_INTERIM: &str = include_str!("../../reports/interim.html.j2");
const T_INTERIM_MD: &str = include_str!("../../reports/interim.md.j2");
const T_BOARD_MD: &str = include_str!("../../reports/board.md.j2");
const T_BASE_TYP: &str = include_str!("../../reports/base.typ.j2");
const T_MACROS_TYP: &str = include_str!("../../reports/macros.typ.j2");
const T_RSO_TYP: &str = include_str!("../../reports/rso.typ.j2");
const T_REGION_TYP: &str = include_str!("../../reports/region.typ.j2");
const T_BOARD_TYP: &str = include_str!("../../reports/board.typ.j2");
const T_DEPARTMENT_TYP: &str = include_str!("../../reports/department.typ.j2");
const T_INSTITUTION_TYP: &str = include_str!("../../reports/institution.typ.j2");
const T_INTERIM_TYP: &str = include_str!("../../reports/interim.typ.j2");
const STYLE: &str = include_str!("../../reports/style.css");
const I18N: &str = include_str!("../../reports/i18n.toml");

/// The templates, by name, as shipped.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html.j2", T_BASE),
    ("rso.html.j2", T_RSO),
    ("region.html.j2", T_REGION),
    ("institution.html.j2", T_INSTITUTION),
    ("index.html.j2", T_INDEX),
    ("rso.md.j2", T_RSO_MD),
    ("region.md.j2", T_REGION_MD),
    ("institution.md.j2", T_INSTITUTION_MD),
    ("board.html.j2", T_BOARD),
    ("department.html.j2", T_DEPARTMENT),
    ("department.md.j2", T_DEPARTMENT_MD),
    ("interim.html.j2", T_INTERIM),
    ("interim.md.j2", T_INTERIM_MD),
    ("board.md.j2", T_BOARD_MD),
    ("base.typ.j2", T_BASE_TYP),
    ("macros.typ.j2", T_MACROS_TYP),
    ("rso.typ.j2", T_RSO_TYP),
    ("region.typ.j2", T_REGION_TYP),
    ("board.typ.j2", T_BOARD_TYP),
    ("department.typ.j2", T_DEPARTMENT_TYP),
    ("institution.typ.j2", T_INSTITUTION_TYP),
    ("interim.typ.j2", T_INTERIM_TYP),
    ("style.css", STYLE),
    ("i18n.toml", I18N),
];

/// What to render.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only these cycles (empty: every cycle in the data).
    pub cycles: Vec<String>,
    /// Only this RSO's report (and the overviews).
    pub rso: Option<String>,
    /// `nl` or `en`.
    pub lang: String,
    /// The date reports are made on (overdue actions are judged by it).
    pub today: NaiveDate,
}

pub(super) fn template_text(config: &Config, name: &str) -> Result<String> {
    if let Some(dir) = &config.templates {
        let p = dir.join(name);
        if p.exists() {
            return std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e));
        }
    }
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| Error::Config {
            file: name.into(),
            message: "no such template".into(),
        })
}

fn environment(config: &Config) -> Result<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    env.add_filter("md", |s: String| md_escape(&s));
    // A chart (SVG) as a Typst string literal, for `image(bytes(...))`.
    env.add_filter("typst_string", |s: String| {
        minijinja::Value::from_safe_string(labels::typst_string(&s))
    });
    // (Set before the templates are added: each is compiled with its
    // escaping.) .html.j2 autoescapes as HTML, .typ.j2 as Typst markup (every value
    // escaped unless marked safe); Markdown escapes with the md filter.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else if name.ends_with(".typ.j2") {
            minijinja::AutoEscape::Custom("typst".into())
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), minijinja::AutoEscape::Custom(name) if name == "typst")
            && !value.is_safe()
            && !value.is_none()
        {
            let text = match value.as_str() {
                Some(s) => labels::typst_escape(s),
                None => labels::typst_escape(&value.to_string()),
            };
            out.write_str(&text).map_err(minijinja::Error::from)
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    for (name, _) in TEMPLATES.iter().filter(|(n, _)| n.ends_with(".j2")) {
        let text = template_text(config, name)?;
        env.add_template_owned(name.to_string(), text)
            .map_err(|e| Error::Render {
                template: name.to_string(),
                message: format!("{e:#}"),
            })?;
    }
    Ok(env)
}

/// A report as its templates see it: its fields and the inlined style sheet.
fn page_value<T: Serialize>(report: &T, style: &str) -> minijinja::Value {
    minijinja::context! { style => style, ..minijinja::Value::from(minijinja::value::Serde(report)) }
}

enum Job {
    Rso(String, String),
    Department(String, String),
    Interim(String, String, i32),
    Region(String, String),
    Institution(String, String),
}

/// Does `work` for every job on as many plain threads as rayon's pool has
/// workers; returns the results in job order, or the first error in job
/// order (after an error no further job is started).
///
/// Plain threads, not rayon tasks: Typst and `typst-pdf` (krilla) wait for
/// their own parallel work with `rayon::yield_now`, and a rayon worker that
/// yields takes on any pending rayon task, here a whole other report. Reports
/// were then made inside each other's PDF export: a thread held several
/// half-made reports, and each report's measured PDF time held the reports
/// made inside it (BENCHMARKS.md, "The PDF edition"). A plain thread that
/// waits for rayon just waits, so at most one report per thread is in the
/// making, and its time is its own.
fn on_plain_threads<J: Sync, T: Send>(
    jobs: &[J],
    work: impl Fn(&J) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Vec<std::sync::Mutex<Option<Result<T>>>> =
        jobs.iter().map(|_| Default::default()).collect();
    let workers = rayon::current_num_threads().clamp(1, jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Relaxed);
                let Some(job) = jobs.get(i) else { break };
                if failed.load(Relaxed) {
                    break;
                }
                let r = work(job);
                if r.is_err() {
                    failed.store(true, Relaxed);
                }
                *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            });
        }
    });
    let mut made = Vec::with_capacity(jobs.len());
    for r in results {
        // A job is left undone only after another failed, whose error is
        // then returned.
        if let Some(r) = r.into_inner().unwrap_or_else(|p| p.into_inner()) {
            made.push(r?);
        }
    }
    debug_assert_eq!(made.len(), jobs.len());
    Ok(made)
}

/// Renders every report of the selected cycles; returns the files written
/// (or found unchanged).
pub fn render_all(config: &Config, opts: &Options) -> Result<Vec<PathBuf>> {
    let started = std::time::Instant::now();
    let ds = &config.paths.dataset;
    // The published table is not read whole: each region's reports are
    // made from the region's rows, each cycle's tables from the cycle's.
    let nothing = Published::default();
    let comments = crate::dataset::read_comments(&config.paths.dataset)?;
    let t = labels(config, &opts.lang)?;
    let env = environment(config)?;
    let style = template_text(config, "style.css")?;
    let none_found = Found::new();
    let ctx = Ctx {
        config,
        published: &nothing,
        found: &none_found,
        comments: &comments,
        opts,
        t: &t,
    };
    let all_cycles = published_io::published_cycles(ds)?;
    if let Some(c) = opts.cycles.iter().find(|c| !all_cycles.contains(c)) {
        return Err(Error::Config {
            file: "--cycle".into(),
            message: format!(
                "cycle {c:?} has no data; cycles with data: {}",
                all_cycles.join(", ")
            ),
        });
    }
    let selected: Vec<String> = if opts.cycles.is_empty() {
        all_cycles
    } else {
        opts.cycles.clone()
    };
    let suffix = if opts.lang == "nl" {
        String::new()
    } else {
        format!(".{}", opts.lang)
    };
    // Every report is about units of one region: each region's reports are
    // made from the region's share of the data.
    let reg = &config.registry;
    let mut by_region: BTreeMap<&str, Vec<Job>> = BTreeMap::new();
    // Each RSO's reports in its own cycles; the region's and the
    // institutions' in the region's (`org::Cycles`).
    let cycles = config.cycles();
    for cycle in &selected {
        for (id, r) in &reg.rsos {
            if opts.rso.as_ref().is_none_or(|x| x == id) && cycles.rso_has(id, cycle) {
                let jobs = by_region.entry(&r.region).or_default();
                jobs.push(Job::Rso(cycle.clone(), id.clone()));
                // An interim report for each year of the cycle with data.
                for year in score::years_of(cycle) {
                    jobs.push(Job::Interim(cycle.clone(), id.clone(), year));
                }
                // Its departments' reports (a department without data in
                // the cycle gets none).
                for m in &r.members {
                    let unit = crate::domain::DepartmentId::new(&m.institution, &r.specialty);
                    let job = Job::Department(cycle.clone(), unit.unit_id());
                    if !jobs.iter().any(|j| matches!((j, &job), (Job::Department(c, u), Job::Department(c2, u2)) if c == c2 && u == u2)) {
                        jobs.push(job);
                    }
                }
            }
        }
        if !cycles.region_has(cycle) {
            continue;
        }
        for id in reg.regions.keys() {
            by_region
                .entry(id)
                .or_default()
                .push(Job::Region(cycle.clone(), id.clone()));
        }
        if opts.rso.is_none() {
            for (id, i) in &reg.institutions {
                by_region
                    .entry(&i.region)
                    .or_default()
                    .push(Job::Institution(cycle.clone(), id.clone()));
            }
        }
    }
    let render = |name: &str, value: minijinja::Value| -> Result<String> {
        env.get_template(name)
            .and_then(|t| t.render(value))
            .map_err(|e| Error::Render {
                template: name.to_string(),
                message: format!("{e:#}"),
            })
    };
    let out_root = &config.paths.reports;
    // A report's three editions (HTML, Markdown and the A4 PDF) in
    // `<cycle>/<kind>/`.
    let page = |kind: &str, cycle: &str, id: &str, v: minijinja::Value| -> Result<Vec<PathBuf>> {
        let dir = out_root.join(cycle).join(kind);
        let h = dir.join(format!("{id}{suffix}.html"));
        let m = dir.join(format!("{id}{suffix}.md"));
        let html = render(&format!("{kind}.html.j2"), v.clone())?;
        crate::dataset::write_file_atomic(&h, html.as_bytes())?;
        let md = render(&format!("{kind}.md.j2"), v.clone())?;
        crate::dataset::write_file_atomic(&m, md.as_bytes())?;
        let mut files = vec![h, m];
        if config.pdf {
            let p = dir.join(format!("{id}{suffix}.pdf"));
            let name = format!("{kind}.typ.j2");
            let typ = render(&name, v)?;
            let t0 = std::time::Instant::now();
            let laid = pdf::lay_out(&typ, opts.today);
            let t1 = t0.elapsed().as_secs_f64();
            let pdf = laid
                .and_then(|laid| laid.pdf())
                .map_err(|message| Error::Render {
                    template: name,
                    message,
                })?;
            tracing::debug!(
                kind,
                id,
                layout = t1,
                pdf = t0.elapsed().as_secs_f64() - t1,
                "PDF made"
            );
            pdf::forget_old();
            crate::dataset::write_file_atomic(&p, &pdf)?;
            files.push(p);
        }
        Ok(files)
    };
    // The findings the reports use: of each cycle, and of the cycle before
    // (its points are followed up), each made from the same rows as in its
    // own report.
    // The region overview and the institution reports show an RSO with
    // cycles of its own at the cycle that ended last for it.
    let finding_cycles: Vec<String> = selected
        .iter()
        .flat_map(|c| {
            let latest = reg
                .rsos
                .keys()
                .filter(|_| cycles.region_has(c))
                .map(|r| cycles.rso_latest_ended(r, c));
            std::iter::once(c.clone()).chain(latest).collect::<Vec<_>>()
        })
        .flat_map(|c| std::iter::once(c.clone()).chain(pdca::previous_cycle(&c)))
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    // The department cells they need: of a cycle, its years, and the cycle
    // before (improvement points two cycles running); and every year up to
    // the last cycle's end, for the department reports' trends (30 years
    // back at most).
    let last_year = selected
        .iter()
        .filter_map(|c| score::years_of(c).last().copied())
        .max()
        .unwrap_or(0);
    let department_periods: Vec<String> = finding_cycles
        .iter()
        .flat_map(|c| {
            let years = score::years_of(c).into_iter().map(|y| y.to_string());
            std::iter::once(c.clone())
                .chain(pdca::previous_cycle(c))
                .chain(years)
        })
        .chain((last_year - 30..=last_year).map(|y| y.to_string()))
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    // Findings per cycle, and per year for the interim reports: each made
    // once for all reports of the region.
    let periods: Vec<String> = finding_cycles
        .iter()
        .cloned()
        .chain(
            selected
                .iter()
                .flat_map(|c| score::years_of(c).into_iter().map(|y| y.to_string())),
        )
        .collect();
    // A region's rows and their findings in every period: made on the
    // thread that reads ahead, while the region before is rendered.
    let read_region = |region: &str| -> Result<(Published, Found)> {
        let scope = Scope::Region {
            region: region.to_string(),
            rsos: reg
                .rsos
                .iter()
                .filter(|(_, x)| x.region == region)
                .map(|(id, _)| id.clone())
                .collect(),
            cycles: finding_cycles.clone(),
            department_periods: department_periods.clone(),
        };
        let published = published_io::read_published_scoped(ds, &config.catalogue, &scope)?;
        let found = found_for(&periods);
        let ctx = Ctx {
            published: &published,
            found: &found,
            ..ctx
        };
        for p in &periods {
            ctx.findings(p);
        }
        Ok((published, found))
    };
    // Every region's findings per cycle, for findings.parquet and the
    // workbooks.
    let found_rows: std::sync::Mutex<BTreeMap<String, Vec<crate::table::FindingRow>>> =
        std::sync::Mutex::new(BTreeMap::new());
    let render_region =
        |(scoped, found): &(Published, Found), jobs: &[Job]| -> Result<Vec<PathBuf>> {
            let ctx = Ctx {
                published: scoped,
                found,
                ..ctx
            };
            let ctx = &ctx;
            for cycle in &selected {
                let rows = cycle::finding_rows(ctx, cycle);
                found_rows
                    .lock()
                    .expect("no panic while holding it")
                    .entry(cycle.clone())
                    .or_default()
                    .extend(rows);
            }
            let part: Vec<Vec<PathBuf>> = on_plain_threads(jobs, |job| -> Result<Vec<PathBuf>> {
                match job {
                    Job::Rso(cycle, id) => match rso::rso_report(ctx, id, cycle) {
                        Some(r) => page("rso", cycle, id, page_value(&r, &style)),
                        None => Ok(Vec::new()),
                    },
                    Job::Interim(cycle, id, year) => {
                        match interim::interim_report(ctx, id, *year, cycle) {
                            Some(r) => page(
                                "interim",
                                cycle,
                                &format!("{id}-{year}"),
                                page_value(&r, &style),
                            ),
                            None => Ok(Vec::new()),
                        }
                    }
                    Job::Department(cycle, unit) => {
                        match department::department_report(ctx, unit, cycle) {
                            // `institution_specialty`: no colon in a file name.
                            Some(r) => page(
                                "department",
                                cycle,
                                &unit.replace(':', "_"),
                                page_value(&r, &style),
                            ),
                            None => Ok(Vec::new()),
                        }
                    }
                    Job::Region(cycle, id) => {
                        let r = region::region_report(ctx, id, cycle);
                        let mut files = page("region", cycle, id, page_value(&r, &style))?;
                        let b = board::board_report(&r);
                        files.extend(page("board", cycle, id, page_value(&b, &style))?);
                        Ok(files)
                    }
                    Job::Institution(cycle, id) => {
                        match institution::institution_report(ctx, id, cycle) {
                            Some(r) if !r.instruments.is_empty() => {
                                page("institution", cycle, id, page_value(&r, &style))
                            }
                            _ => Ok(Vec::new()),
                        }
                    }
                }
            })?;
            Ok(part.into_iter().flatten().collect())
        };
    // One region after the other, the next region's rows read (and its
    // findings made) while this region's reports are made: at most two
    // regions' rows in memory.
    let pages = || -> Result<Vec<PathBuf>> {
        let regions: Vec<(&str, &Vec<Job>)> = by_region.iter().map(|(r, j)| (*r, j)).collect();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut next = regions.first().map(|(r, _)| read_region(r));
        for (k, (region, jobs)) in regions.iter().enumerate() {
            let scoped = next.take().expect("read ahead for every region")?;
            // (A plain thread reads ahead: see `on_plain_threads`.)
            let (made, following) = std::thread::scope(|s| {
                let ahead = s.spawn(|| regions.get(k + 1).map(|(r, _)| read_region(r)));
                let made = render_region(&scoped, jobs);
                let following = ahead
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (made, following)
            });
            files.extend(made?);
            next = following;
            tracing::debug!(
                seconds = started.elapsed().as_secs_f64(),
                region,
                "region rendered"
            );
        }
        Ok(files)
    };
    // A cycle's findings and workbook (each sheet written row by row to a
    // temporary file, so two cycles at a time stay small).
    let workbook = |cycle: &String,
                    of_cycle_findings: &[crate::table::FindingRow]|
     -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        let f = out_root.join(cycle).join("findings.parquet");
        if suffix.is_empty() {
            published_io::write_findings(&f, of_cycle_findings)?;
            files.push(f);
        }
        let x = out_root.join(cycle).join(format!("tables{suffix}.xlsx"));
        let of_cycle = published_io::read_published_scoped(
            ds,
            &config.catalogue,
            &Scope::Cycle(cycle.clone()),
        )?;
        let found = found_for(std::slice::from_ref(cycle));
        let ctx = Ctx {
            published: &of_cycle,
            found: &found,
            ..ctx
        };
        crate::dataset::write_file_atomic(&x, &xlsx::tables_xlsx(&ctx, cycle, of_cycle_findings)?)?;
        files.push(x);
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            cycle,
            "workbook written"
        );
        Ok(files)
    };
    // The regions' pages (each region's in parallel), then the cycles'
    // findings and workbooks, which list the findings the pages found.
    let mut files = pages()?;
    let mut findings = found_rows.into_inner().expect("no panic while holding it");
    for rows in findings.values_mut() {
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows.dedup_by(|a, b| a.id == b.id);
    }
    let none = Vec::new();
    let books: Vec<PathBuf> = on_plain_threads(&selected, |cycle| {
        workbook(cycle, findings.get(cycle).unwrap_or(&none))
    })?
    .into_iter()
    .flatten()
    .collect();
    for cycle in &selected {
        let dir = out_root.join(cycle);
        let mut links: Vec<(String, String, String)> = files
            .iter()
            .filter(|f| f.starts_with(&dir) && f.extension().is_some_and(|e| e == "html"))
            .map(|f| {
                let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
                let kind = rel.split('/').next().unwrap_or("").to_string();
                let id = f
                    .file_stem()
                    .map(|s| s.to_string_lossy().trim_end_matches(&suffix).to_string())
                    .unwrap_or_default();
                let label = match kind.as_str() {
                    "rso" => config.registry.rsos.get(&id).map(|r| r.name.clone()),
                    "interim" => id.rsplit_once('-').and_then(|(r, y)| {
                        config
                            .registry
                            .rsos
                            .get(r)
                            .map(|r| format!("{} {y}", r.name))
                    }),
                    "region" | "board" => config.registry.regions.get(&id).map(|r| r.name.clone()),
                    "department" => id.split_once('_').map(|(i, s)| {
                        let names = labels::Names {
                            config,
                            lang: &opts.lang,
                            t: &t,
                        };
                        format!("{} – {}", names.institution(i), names.specialty(s))
                    }),
                    _ => config
                        .registry
                        .institutions
                        .get(&id)
                        .map(|r| r.name.clone()),
                }
                .unwrap_or(id);
                (kind, label, rel)
            })
            .collect();
        links.sort();
        let index = render(
            "index.html.j2",
            minijinja::context! { t => &t, lang => &opts.lang, style => &style, title => &config.title, cycle => cycle, links => links, pdf => config.pdf, generated_on => opts.today.to_string() },
        )?;
        let p = dir.join(format!("index{suffix}.html"));
        crate::dataset::write_file_atomic(&p, index.as_bytes())?;
        files.push(p);
    }
    files.extend(books);
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_threads_keep_job_order_and_stop_at_an_error() {
        let jobs: Vec<u32> = (0..50).collect();
        let squares = on_plain_threads(&jobs, |&j| Ok(j * j)).unwrap();
        assert_eq!(squares, jobs.iter().map(|j| j * j).collect::<Vec<_>>());
        let err = on_plain_threads(&jobs, |&j| {
            if j == 7 {
                Err(Error::Render {
                    template: format!("job {j}"),
                    message: String::new(),
                })
            } else {
                Ok(j)
            }
        })
        .unwrap_err();
        assert!(err.to_string().contains("job 7"), "{err}");
    }

    #[test]
    fn a_report_job_is_no_rayon_task() {
        // Typst and krilla yield to rayon while they wait; on a plain
        // thread nothing else is taken on (see `on_plain_threads`).
        let on_pool = on_plain_threads(&[0; 4], |_| Ok(rayon::current_thread_index())).unwrap();
        assert!(on_pool.iter().all(Option::is_none), "{on_pool:?}");
    }

    #[test]
    fn every_label_exists_in_both_languages() {
        let all: BTreeMap<String, Labels> = toml::from_str(I18N).unwrap();
        let nl: BTreeSet<&String> = all["nl"].keys().collect();
        let en: BTreeSet<&String> = all["en"].keys().collect();
        assert_eq!(nl, en);
        assert!(nl.len() > 50);
    }

    #[test]
    fn numbers_and_markdown() {
        assert_eq!(num(78.456, 1, "nl"), "78,5");
        assert_eq!(num(78.456, 1, "en"), "78.5");
        assert_eq!(
            md_escape("<script>alert(1)</script> *x* | y"),
            "&lt;script&gt;alert(1)&lt;/script&gt; \\*x\\* \\| y"
        );
        assert_eq!(
            fill("{a} en {b}", &[("a", "1".into()), ("b", "2".into())]),
            "1 en 2"
        );
    }
}
