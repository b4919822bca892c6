//! A panic while one file is read stops that file, not the run.
//!
//! The libraries that read exports (calamine for workbooks, csv, the zip
//! reader, encoding detection) are mature, but a hostile file is exactly
//! the input their authors did not foresee, and a panic in one of them
//! would otherwise end the whole batch with a stack trace ("thread
//! panicked at ...") and exit code 101, the good files unread and the lock
//! released mid-way. Here the reading of one file runs under
//! `std::panic::catch_unwind`: a panic becomes a `Caught` naming the
//! library (from the panic's source location: a path in the cargo registry
//! names its crate) and its message, and `ingest::ingest_file` quarantines
//! the file with it. The batch goes on.
//!
//! While a guarded call runs on a thread, the process's panic hook records
//! the panic's message and place instead of printing it (other threads and
//! other panics are printed as before, by the hook that was installed
//! first). This module does not decide what happens to the file: `ingest`
//! does.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A panic caught while a file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caught {
    /// The crate the panic came from (`calamine`, `csv`, ...), or
    /// `opleidingsmonitor` for this program's own code, or `the Rust
    /// standard library`.
    pub library: String,
    /// The panic's message.
    pub message: String,
    /// Where: `file:line`, as the panic reported it.
    pub location: String,
}

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    static LAST: RefCell<Option<Caught>> = const { RefCell::new(None) };
}

/// Installs the hook that records a guarded thread's panic, once per
/// process; the hook found is kept for every other panic.
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                return previous(info);
            }
            let (file, line) = info
                .location()
                .map(|l| (l.file().to_string(), l.line()))
                .unwrap_or_default();
            let message = payload_text(info.payload());
            tracing::debug!(%file, line, %message, "panic while reading a file");
            LAST.with(|l| {
                *l.borrow_mut() = Some(Caught {
                    library: library_of(&file),
                    message,
                    location: format!("{file}:{line}"),
                })
            });
        }));
    });
}

/// Resets the flag when the guarded call ends, also by unwinding.
struct Guarded(bool);

impl Drop for Guarded {
    fn drop(&mut self) {
        GUARDED.with(|g| g.set(self.0));
    }
}

/// Runs `f`; a panic inside it is caught and described instead of ending
/// the program. `f` should only read what it is given: what it was
/// building when it panicked is dropped.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Caught> {
    install_hook();
    let outer = GUARDED.with(|g| g.replace(true));
    let result = {
        let _reset = Guarded(outer);
        panic::catch_unwind(AssertUnwindSafe(f))
    };
    result.map_err(|payload| {
        LAST.with(|l| l.borrow_mut().take())
            .unwrap_or_else(|| Caught {
                library: "an unknown library".into(),
                message: payload_text(payload.as_ref()),
                location: String::new(),
            })
    })
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a
/// `String`).
fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".into()
    }
}

/// The crate a source path belongs to. A dependency's sources live in
/// cargo's registry as `.../registry/src/<index>/<crate>-<version>/src/...`
/// (or in a vendored `<crate>-<version>` folder), the standard library's
/// under `/rustc/<hash>/library/` or `.../lib/rustlib/src/`; anything else
/// is this program's own code.
pub fn library_of(file: &str) -> String {
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    if parts.first() == Some(&"") && parts.get(1) == Some(&"rustc")
        || file.contains("/rustlib/src/")
        || parts.first() == Some(&"library")
    {
        return "the Rust standard library".into();
    }
    for part in &parts {
        if let Some(name) = crate_of_folder(part) {
            return name.to_string();
        }
    }
    "opleidingsmonitor".into()
}

/// `calamine` of `calamine-0.38.0`, `zip` of `zip-9.8.1-pre.1`: the name
/// before the first `-<digits>.<digits>.<digits>`.
fn crate_of_folder(folder: &str) -> Option<&str> {
    let bytes = folder.as_bytes();
    (1..bytes.len()).find_map(|i| {
        if bytes[i - 1] != b'-' {
            return None;
        }
        let mut parts = folder[i..].splitn(3, '.');
        let numeric = |p: Option<&str>| {
            p.is_some_and(|p| {
                let digits = p.split(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
                !digits.is_empty() && p.starts_with(digits)
            })
        };
        (numeric(parts.next()) && numeric(parts.next()) && numeric(parts.next()))
            .then(|| &folder[..i - 1])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_is_named_from_the_panics_place() {
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        assert_eq!(
            library_of(&format!("{registry}/calamine-0.38.0/src/xlsx/mod.rs")),
            "calamine"
        );
        assert_eq!(
            library_of(&format!("{registry}/encoding_rs-0.8.44/src/lib.rs")),
            "encoding_rs"
        );
        assert_eq!(
            library_of(&format!("{registry}/polars-core-0.55.2/src/frame/mod.rs")),
            "polars-core"
        );
        assert_eq!(
            library_of("/rustc/abc123/library/core/src/slice/index.rs"),
            "the Rust standard library"
        );
        assert_eq!(library_of("pipeline/ingest/decode.rs"), "opleidingsmonitor");
        assert_eq!(library_of(""), "opleidingsmonitor");
        assert_eq!(crate_of_folder("zip-9.8.1-pre.1"), Some("zip"));
        assert_eq!(crate_of_folder("wt-a"), None);
    }

    #[test]
    fn a_panic_is_caught_and_described_and_the_next_call_is_clean() {
        let caught = catch(|| -> u32 { panic!("kapot: {}", 42) }).unwrap_err();
        assert_eq!(caught.message, "kapot: 42");
        assert_eq!(caught.library, "opleidingsmonitor");
        assert!(caught.location.contains("guard.rs"), "{caught:?}");
        assert_eq!(catch(|| 7), Ok(7));
        // Nested: the inner catch does not unguard the outer one.
        let outer = catch(|| {
            let inner = catch(|| -> u8 { panic!("binnen") });
            assert!(inner.is_err());
            panic!("buiten")
        });
        assert_eq!(outer.unwrap_err().message, "buiten");
        assert!(!GUARDED.with(Cell::get));
    }

    #[test]
    fn a_panic_of_the_standard_library_keeps_its_message() {
        let s = String::from("é");
        let caught = catch(|| s.split_at(1).0.len()).unwrap_err();
        assert!(caught.message.contains("char boundary"), "{caught:?}");
    }
}
