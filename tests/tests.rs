//! The one integration test binary (as ripgrep and xsv keep theirs): every
//! end-to-end test is a module here, so Polars is linked once. `util` holds
//! the shared helpers (a temporary folder, the real binary run in it);
//! `synth` is the sample generator, which is not part of the library.

#[allow(dead_code, unused_imports)]
#[path = "../synth/mod.rs"]
mod synth;
mod util;

mod aggregate;
mod architecture;
mod bad_input;
mod cycles;
mod department;
mod hostile;
mod ingest;
mod pdf;
mod register;
mod report;
mod run;
mod workbook;
