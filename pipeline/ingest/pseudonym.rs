//! Pseudonymisation of respondents and rated supervisors.
//!
//! Names, e-mail addresses and employee numbers never reach the dataset:
//! they are replaced by a keyed hash (HMAC-SHA256) whose key lives outside
//! the dataset, so the same person gets the same key across files and years
//! while nobody holding only the dataset can reverse or re-compute it. This
//! module owns the key (load, or create with mode 0600, atomically: a first
//! run that dies or fills the disk leaves no key or a whole one, never a
//! short one) and the hashing. It does not decide which columns are
//! identifiers (the source profile does), nor mask names in open answers
//! (`scrub` does).

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Environment variable that holds the key itself (hex), overriding the
/// key file: for schedulers that keep secrets in the environment.
pub const KEY_ENV: &str = "OPLEIDINGSMONITOR_KEY";

/// Test hook (the convention of `dataset`'s fail points):
/// `OPLEIDINGSMONITOR_FAIL_AT=key-write` makes the creation of a new key file
/// fail half-way through writing it, as a full disk does.
const FAIL_ENV: &str = "OPLEIDINGSMONITOR_FAIL_AT";

/// The secret key of the keyed hash.
#[derive(Clone)]
pub struct PseudonymKey {
    /// HMAC-SHA256 already keyed (the key's inner and outer blocks are
    /// hashed once, not for every pseudonym).
    mac: Hmac<Sha256>,
    /// Where the key came from, for messages (never the key itself).
    pub origin: String,
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PseudonymKey({})", self.origin)
    }
}

/// What happened when the key was loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// From the environment variable.
    Environment,
    /// Read from an existing key file.
    File(PathBuf),
    /// A new key file was created.
    Created(PathBuf),
}

impl PseudonymKey {
    fn new(key: &[u8], origin: String) -> PseudonymKey {
        PseudonymKey {
            mac: <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .expect("HMAC takes keys of any length"),
            origin,
        }
    }

    /// A key from raw bytes (tests, benchmarks).
    pub fn from_bytes(key: &[u8]) -> PseudonymKey {
        PseudonymKey::new(key, "given".into())
    }

    /// The key from `OPLEIDINGSMONITOR_KEY`, else from `path`; when neither
    /// exists and `create` is true, a new random key is written to `path`
    /// with mode 0600.
    pub fn load(path: &Path, create: bool) -> Result<(PseudonymKey, KeySource)> {
        if let Ok(hexkey) = std::env::var(KEY_ENV) {
            let key =
                parse_hex_key(hexkey.trim()).map_err(|m| Error::Key(format!("{KEY_ENV}: {m}")))?;
            return Ok((
                PseudonymKey::new(&key, KEY_ENV.into()),
                KeySource::Environment,
            ));
        }
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                if text.trim().is_empty() {
                    return Err(Error::Key(format!(
                        "{} is empty: a first run was interrupted while creating it (disk full?) by a version that did not write it atomically. If nothing was ingested with a key yet, delete the file and run again; otherwise restore the key from your backup (a new key gives everyone new pseudonyms)",
                        path.display()
                    )));
                }
                let key = parse_hex_key(text.trim())
                    .map_err(|m| Error::Key(format!("{}: {m}", path.display())))?;
                Ok((
                    PseudonymKey::new(&key, path.display().to_string()),
                    KeySource::File(path.to_path_buf()),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes)
                    .map_err(|e| Error::Key(format!("no random source: {e}")))?;
                let fail = std::env::var(FAIL_ENV).is_ok_and(|v| v == "key-write");
                match write_key_file(path, &hex::encode(bytes), fail)? {
                    Written::Created => Ok((
                        PseudonymKey::new(&bytes, path.display().to_string()),
                        KeySource::Created(path.to_path_buf()),
                    )),
                    // Another process created it first: its key is the key.
                    Written::Exists => PseudonymKey::load(path, false),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Key(format!(
                "no key file at {} and {KEY_ENV} is not set; run `opleidingsmonitor ingest` once to create it",
                path.display()
            ))),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// The pseudonym of an identifier in a namespace (`respondent`,
    /// `subject`). Case and surrounding spaces do not count, so
    /// `J.Jansen@X.nl ` and `j.jansen@x.nl` are the same person.
    pub fn pseudonym(&self, namespace: &str, identifier: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(namespace.as_bytes());
        mac.update(b"\x1f");
        mac.update(crate::text::lowercase(crate::text::trim(identifier)).as_bytes());
        let out = mac.finalize().into_bytes();
        // 128 bits: no collisions among a country's residents, short to read.
        hex::encode(&out[..16])
    }
}

fn parse_hex_key(text: &str) -> std::result::Result<Vec<u8>, String> {
    let key = hex::decode(text).map_err(|_| "the key must be hexadecimal".to_string())?;
    if key.len() < 16 {
        return Err("the key must be at least 16 bytes (32 hex characters)".into());
    }
    Ok(key)
}

/// Refuses a key file that others than its owner may read: whoever reads
/// the key can re-compute every pseudonym from a list of names.
fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::Key(format!(
                "{} can be read by others than its owner (mode {:04o}): whoever reads the key can re-identify every respondent. Run `chmod 600 {}` (and check who could read it), then run again",
                path.display(),
                mode & 0o7777,
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// How a new key file ended.
enum Written {
    /// This process wrote it.
    Created,
    /// Another process had created it meanwhile (this one's is discarded).
    Exists,
}

/// Writes a new key file atomically: a temporary file beside it (mode 0600
/// from the start), written and synced, then linked to its name (which
/// fails if the name exists, so a key is never replaced), and the folder
/// synced so the name survives a power cut. A failure at any point leaves
/// no key file, never a short one: a 0-byte key made every later run fail.
/// `fail` stops half-way through writing, as a full disk does (tests).
fn write_key_file(path: &Path, hexkey: &str, fail: bool) -> Result<Written> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = write_new(&tmp, hexkey, fail).and_then(|()| publish(&tmp, path));
    // The temporary file is gone after a link (removed) or a rename (moved);
    // after a failure it is removed here, so no half key is left behind.
    let _ = std::fs::remove_file(&tmp);
    let written = result.map_err(|e| {
        Error::Key(format!(
            "cannot create the key file {}: {e}. No key was written; free disk space or fix the folder's permissions and run again",
            path.display()
        ))
    })?;
    sync_dir(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(written)
}

fn write_new(tmp: &Path, hexkey: &str, fail: bool) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(tmp)?;
    let line = format!("{hexkey}\n");
    if fail {
        f.write_all(&line.as_bytes()[..line.len() / 2])?;
        return Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!("{FAIL_ENV}=key-write: no space left on device (simulated)"),
        ));
    }
    f.write_all(line.as_bytes())?;
    f.sync_all()
}

/// Gives the written temporary file the key's name without replacing an
/// existing key: a hard link fails if the name exists. Where links are not
/// supported (some network and FAT file systems) it falls back to a
/// rename after checking the name is free.
fn publish(tmp: &Path, path: &Path) -> std::io::Result<Written> {
    match std::fs::hard_link(tmp, path) {
        Ok(()) => Ok(Written::Created),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Written::Exists),
        Err(_) if path.exists() => Ok(Written::Exists),
        Err(_) => std::fs::rename(tmp, path).map(|()| Written::Created),
    }
}

/// Syncs a folder, so that a new name in it survives a crash (POSIX needs
/// the folder's own fsync for that). Other systems have no such call.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_keyed_stable_and_case_blind() {
        let k = PseudonymKey::from_bytes(&[7u8; 32]);
        let a = k.pseudonym("respondent", "J.Jansen@example.nl");
        assert_eq!(a, k.pseudonym("respondent", " j.jansen@example.nl "));
        assert_ne!(a, k.pseudonym("subject", "j.jansen@example.nl"));
        assert_ne!(
            a,
            PseudonymKey::from_bytes(&[8u8; 32]).pseudonym("respondent", "j.jansen@example.nl")
        );
        assert_eq!(a.len(), 32);
        // Second source: HMAC-SHA256 test vector from RFC 4231, case 2
        // (key "Jefe", data "what do ya want for nothing?"), checked with the
        // same Mac the pseudonym uses.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/om.key");
        let (k1, s1) = PseudonymKey::load(&path, true).unwrap();
        assert!(matches!(s1, KeySource::Created(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (k2, s2) = PseudonymKey::load(&path, true).unwrap();
        assert!(matches!(s2, KeySource::File(_)));
        assert_eq!(k1.pseudonym("r", "x"), k2.pseudonym("r", "x"));
        let missing = dir.path().join("nope.key");
        assert!(PseudonymKey::load(&missing, false).is_err());
    }

    /// Regression: a first run on a full disk left a 0-byte key file, and
    /// every later run failed on it. Now the failed write leaves nothing.
    #[test]
    fn a_failed_key_write_leaves_no_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("om.key");
        let err = match write_key_file(&path, &"ab".repeat(32), true) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("the simulated full disk must fail"),
        };
        assert!(err.contains("No key was written"), "{err}");
        assert!(!path.exists(), "no key file after a failed write");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "no temporary file left: {left:?}");
        // The next run creates a whole key.
        let (_, source) = PseudonymKey::load(&path, true).unwrap();
        assert!(matches!(source, KeySource::Created(_)));
        assert_eq!(std::fs::read_to_string(&path).unwrap().trim().len(), 64);
    }

    #[test]
    fn an_existing_key_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("om.key");
        let (k1, _) = PseudonymKey::load(&path, true).unwrap();
        // A second writer loses the race and keeps the first key.
        assert!(matches!(
            write_key_file(&path, &"cd".repeat(32), false).unwrap(),
            Written::Exists
        ));
        let (k2, _) = PseudonymKey::load(&path, true).unwrap();
        assert_eq!(k1.pseudonym("r", "x"), k2.pseudonym("r", "x"));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_chmod_to_run() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("om.key");
        PseudonymKey::load(&path, true).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = PseudonymKey::load(&path, true).unwrap_err().to_string();
        assert!(
            err.contains(&format!("chmod 600 {}", path.display())) && err.contains("0644"),
            "{err}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(PseudonymKey::load(&path, true).is_ok());
        // An empty key file (left by an older version) says what to do.
        std::fs::write(&path, "").unwrap();
        let err = PseudonymKey::load(&path, true).unwrap_err().to_string();
        assert!(err.contains("is empty") && err.contains("delete"), "{err}");
    }
}
