//! Shared helpers for the end-to-end tests: a temporary folder with fixture
//! files, and the real binary run in it (after ripgrep's `Dir`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary working folder; removed when dropped.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    /// A new empty folder.
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temporary folder"),
        }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// A path inside the folder.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    /// Runs the binary with arguments in this folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs the binary with arguments and extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_opleidingsmonitor"));
        cmd.args(args).current_dir(self.path());
        cmd.env_remove("OPLEIDINGSMONITOR_KEY");
        cmd.env_remove("OPLEIDINGSMONITOR_KEY_FILE");
        cmd.env_remove("OPLEIDINGSMONITOR_FAIL_AT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run(cmd.output().expect("binary runs"))
    }
}

/// The result of one run of the binary.
pub struct Run(pub Output);

impl Run {
    /// The exit code (-1 when killed by a signal).
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }

    /// Standard output.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    /// Standard error.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// Both, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        )
    }
}

/// Every file below a folder, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
