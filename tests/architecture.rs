//! The house's rules, kept by a test (as rust-analyzer's `tidy` does): data
//! flows one way through the stages declared in `pipeline/lib.rs`, Polars
//! stays behind `dataset` and `aggregate`, and every source file is one a
//! person reads in one sitting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The stage modules in the order `lib.rs` declares them.
fn declared_order(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').trim().to_string())
        .collect()
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The stage a file of `pipeline/` belongs to (`aggregate/compute.rs` is
/// `aggregate`), or None for the binary (`main.rs`, `cli/`) and `lib.rs`.
fn stage_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let stem = first.trim_end_matches(".rs");
    match stem {
        "main" | "cli" | "lib" => None,
        s => Some(s.to_string()),
    }
}

/// The stages a file's text names as `crate::<stage>` (in `use` lines and
/// in paths alike), skipping comments.
fn stages_named(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((i + 1, name));
            }
            rest = after;
        }
    }
    out
}

/// Every import that runs back up the declared order: (file, line, the
/// file's stage, the stage it names). Names that are not stages (items
/// re-exported at the crate root, such as `crate::Result`) are allowed.
fn backward_imports(
    order: &[String],
    files: &[(PathBuf, String)],
) -> Vec<(PathBuf, usize, String, String)> {
    let rank: BTreeMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut out = Vec::new();
    for (rel, text) in files {
        let Some(stage) = stage_of(rel) else {
            continue;
        };
        let Some(&own) = rank.get(stage.as_str()) else {
            out.push((
                rel.clone(),
                0,
                stage.clone(),
                "<not declared in lib.rs>".into(),
            ));
            continue;
        };
        for (line, named) in stages_named(text) {
            if rank.get(named.as_str()).is_some_and(|&r| r > own) {
                out.push((rel.clone(), line, stage.clone(), named));
            }
        }
    }
    out
}

fn pipeline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline")
}

fn pipeline_files() -> Vec<(PathBuf, String)> {
    let root = pipeline();
    rust_files(&root)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(&root).unwrap().to_path_buf(), text)
        })
        .collect()
}

#[test]
fn data_flows_one_way_through_the_declared_stages() {
    let lib = std::fs::read_to_string(pipeline().join("lib.rs")).unwrap();
    let order = declared_order(&lib);
    assert!(
        order.len() >= 10,
        "lib.rs declares the stages in order: {order:?}"
    );
    for stage in [
        "instrument",
        "ingest",
        "dataset",
        "aggregate",
        "privacy",
        "report",
        "job",
    ] {
        assert!(order.iter().any(|m| m == stage), "{stage} is declared");
    }
    let back = backward_imports(&order, &pipeline_files());
    assert!(
        back.is_empty(),
        "a module reads one declared after it in lib.rs (move the type down, or the code up):\n{}",
        back.iter()
            .map(|(f, l, s, n)| format!("  {}:{l}: {s} uses crate::{n}", f.display()))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_checker_finds_a_backward_import() {
    // The test of the test: a privacy file that reads `report` (declared
    // after it) is caught, one that reads `table` (before it) is not, and a
    // mention in a comment does not count.
    let order: Vec<String> = ["error", "table", "privacy", "report"]
        .map(String::from)
        .to_vec();
    let files = vec![
        (
            PathBuf::from("privacy/mod.rs"),
            "use crate::table::Cell;\n// crate::report is mentioned only here\nfn f() { crate::report::render(); }\n".to_string(),
        ),
        (
            PathBuf::from("report/views.rs"),
            "use crate::privacy::protect;\nuse crate::Result;\n".to_string(),
        ),
        (PathBuf::from("cli/run.rs"), "use crate::report;\n".to_string()),
    ];
    let back = backward_imports(&order, &files);
    assert_eq!(
        back,
        vec![(
            PathBuf::from("privacy/mod.rs"),
            3,
            "privacy".to_string(),
            "report".to_string()
        )]
    );
    // A stage file that lib.rs does not declare is reported too.
    let undeclared = vec![(PathBuf::from("extra.rs"), String::new())];
    assert_eq!(backward_imports(&order, &undeclared).len(), 1);
}

#[test]
fn polars_stays_behind_dataset_and_aggregate() {
    let mut offenders = Vec::new();
    for (rel, text) in pipeline_files() {
        let stage = stage_of(&rel);
        if matches!(stage.as_deref(), Some("dataset" | "aggregate")) {
            continue;
        }
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("polars::") || code.contains("use polars") {
                offenders.push(format!("{}:{}", rel.display(), i + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "Polars outside dataset and aggregate: {offenders:?}"
    );
}

#[test]
fn every_source_file_reads_in_one_sitting() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for dir in ["pipeline", "synth", "tests"] {
        for p in rust_files(&root.join(dir)) {
            let n = std::fs::read_to_string(&p).unwrap().lines().count();
            if n > 1_200 {
                long.push(format!("{} ({n} lines)", p.display()));
            }
        }
    }
    assert!(long.is_empty(), "split these files: {long:?}");
}
