//! Opening an archive without harming it. sled repairs its log when it
//! opens a database, and on a damaged file that repair cuts away everything
//! past the damage (or panics). So an archive is handed to sled only when it
//! is known sound: either its files still match the seal written when it
//! was last closed cleanly, or a copy of it was opened and read through
//! first, in a scratch directory, without losing anything. A damaged
//! archive is left exactly as it was, for `salvage`.

use std::collections::BTreeMap;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Written beside the database on a clean close; removed before sled
/// writes to the database again.
pub(super) const SEAL_FILE: &str = "sealed";
/// Where the trial copy is opened; removed after the trial.
pub(super) const SCRATCH_DIR: &str = ".open-check";
/// sled's page cache, for every database the archive opens. sled holds
/// several times this in decoded nodes; 4 MiB keeps a crawl of a million
/// URLs near 150 MiB (16 MiB: 260) for a writer a few percent slower.
pub(super) const CACHE_BYTES: u64 = 4 * 1024 * 1024;
/// Tries (20 ms apart) at a database this process closed a moment ago.
const LOCK_RETRIES: usize = 100;

/// The size and modification time of each file of the database, as they
/// were when the archive was last closed cleanly.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Seal {
    files: BTreeMap<String, (u64, u128)>,
}

impl Seal {
    /// The database's files as they are now.
    fn of(db_dir: &Path) -> io::Result<Self> {
        let mut seal = Seal::default();
        for (name, path) in files_under(db_dir)? {
            let meta = std::fs::metadata(&path)?;
            let modified = meta
                .modified()?
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            seal.files.insert(name, (meta.len(), modified));
        }
        Ok(seal)
    }
}

/// Why an archive was judged damaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage(pub String);

/// Files under `dir`, recursively, by their path relative to it.
fn files_under(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                out.push((name, path));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copies every file under the directory `from` into `to` (which must not
/// exist): a database, or the record dictionaries beside it.
pub(super) fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for (name, path) in files_under(from)? {
        let dest = to.join(&name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&path, &dest)?;
    }
    std::fs::create_dir_all(to)
}

/// What the seal says of the database in `db_dir` now.
enum SealCheck {
    /// No seal (the archive was not closed cleanly, or is new).
    Absent,
    /// Every file as it was at the last clean close.
    Intact,
    /// Same sizes, other times: copied or touched, so checked again.
    Touched,
    /// A file grew, shrank, appeared or vanished since the last clean
    /// close: something other than palimpsest changed the database.
    Resized(String),
}

fn check_seal(dir: &Path, db_dir: &Path) -> SealCheck {
    let Ok(text) = std::fs::read(dir.join(SEAL_FILE)) else {
        return SealCheck::Absent;
    };
    let (Ok(sealed), Ok(now)) = (serde_json::from_slice::<Seal>(&text), Seal::of(db_dir)) else {
        return SealCheck::Absent;
    };
    if sealed == now {
        return SealCheck::Intact;
    }
    let sizes = |seal: &Seal| -> BTreeMap<String, u64> {
        seal.files
            .iter()
            .map(|(name, (len, _))| (name.clone(), *len))
            .collect()
    };
    let (then, now) = (sizes(&sealed), sizes(&now));
    let changed = then
        .keys()
        .chain(now.keys())
        .find(|name| then.get(*name) != now.get(*name));
    match changed {
        None => SealCheck::Touched,
        Some(name) => SealCheck::Resized(format!(
            "its file {name} is {} bytes but was {} when it was last closed cleanly (if you replaced it on purpose, delete {})",
            now.get(name).map_or("missing, 0".into(), u64::to_string),
            then.get(name).map_or("absent, 0".into(), u64::to_string),
            dir.join(SEAL_FILE).display()
        )),
    }
}

/// Records the database's files after a clean close.
pub(super) fn seal(dir: &Path, db_dir: &Path) -> io::Result<()> {
    let seal = Seal::of(db_dir)?;
    let tmp = dir.join(format!("{SEAL_FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec(&seal).map_err(io::Error::other)?)?;
    std::fs::rename(tmp, dir.join(SEAL_FILE))
}

/// Forgets the seal: from now on sled writes to the database.
pub(super) fn break_seal(dir: &Path) -> io::Result<()> {
    match std::fs::remove_file(dir.join(SEAL_FILE)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Makes sure that opening the database in `db_dir` with sled loses
/// nothing. An archive not sealed is opened as a copy first and read through.
pub(super) fn ensure_sound(dir: &Path, db_dir: &Path) -> Result<(), Damage> {
    if !db_dir.exists() {
        return Ok(());
    }
    match check_seal(dir, db_dir) {
        SealCheck::Intact => return Ok(()),
        SealCheck::Resized(why) => return Err(Damage(why)),
        SealCheck::Absent | SealCheck::Touched => {}
    }
    tracing::info!(
        "archive {} was not closed cleanly: checking a copy of it before opening it",
        dir.display()
    );
    let scratch = dir.join(SCRATCH_DIR);
    let _ = std::fs::remove_dir_all(&scratch);
    let copy = scratch.join("db");
    copy_tree(db_dir, &copy).map_err(|e| {
        Damage(format!(
            "could not copy it to check it before opening ({e}); free space beside the archive and try again"
        ))
    })?;
    let verdict = trial(&copy);
    let _ = std::fs::remove_dir_all(&scratch);
    verdict
}

/// Opens the copy in `db_dir` and reads every record, checking that sled's
/// repair neither failed, panicked, hung nor cut the files short.
fn trial(db_dir: &Path) -> Result<(), Damage> {
    let before = Seal::of(db_dir).map_err(|e| Damage(e.to_string()))?;
    let bytes: u64 = before.files.values().map(|(len, _)| len).sum();
    let path = db_dir.to_path_buf();
    let read = bounded(budget_for(bytes), move || {
        let db = open_sled(&path)?;
        let mut records = 0u64;
        let mut last_key: Option<sled::IVec> = None;
        for kv in db.iter() {
            match kv {
                Ok((k, _)) => {
                    records += 1;
                    last_key = Some(k);
                }
                Err(e) => {
                    return Err(Damage(format!(
                        "a record after {} cannot be read ({})",
                        describe_key(last_key.as_deref()),
                        storage_error(&e)
                    )));
                }
            }
        }
        drop(db);
        Ok(records)
    })?;
    let after = Seal::of(db_dir).map_err(|e| Damage(e.to_string()))?;
    let kept = before.files.iter().filter(|(name, _)| holds_records(name));
    for (name, (len, _)) in kept {
        let now = after.files.get(name).map_or(0, |(l, _)| *l);
        if now < *len {
            return Err(Damage(format!(
                "opening it would cut its file {name} from {len} to {now} bytes, losing what was stored past the damage ({read} records left readable)"
            )));
        }
    }
    Ok(())
}

/// Whether the database file `name` holds records: sled replaces its
/// snapshot (`snap.*`) on every open; the log and blobs are what count.
fn holds_records(name: &str) -> bool {
    !name.starts_with("snap.")
}

/// The bytes of the database in `db_dir` that hold records.
pub(super) fn record_bytes(db_dir: &Path) -> u64 {
    Seal::of(db_dir).map_or(0, |seal| {
        seal.files
            .iter()
            .filter(|(name, _)| holds_records(name))
            .map(|(_, (len, _))| len)
            .sum()
    })
}

/// How long sled may take to open and read a database of `bytes`: far more
/// than a sound one needs, so only a hang runs past it.
pub(super) fn budget_for(bytes: u64) -> Duration {
    Duration::from_secs(60 + bytes / (10 * 1024 * 1024))
}

/// Opens (or creates) the sled database `config` names, which this process
/// may have closed a moment ago: sled keeps its file locked until its
/// background threads end. Only for a database whose archive lock this
/// process holds, so the lock can be no other process's.
pub(super) fn open_sled_waiting(config: &sled::Config) -> sled::Result<sled::Db> {
    let mut tries = 0;
    loop {
        match config.open() {
            Err(sled::Error::Io(e)) if super::is_lock_error(&e) && tries < LOCK_RETRIES => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Opens a sled database, turning a panic inside sled into [`Damage`].
pub(super) fn open_sled(db_dir: &Path) -> Result<sled::Db, Damage> {
    quietly(|| {
        sled::Config::new()
            .path(db_dir)
            .cache_capacity(CACHE_BYTES)
            .flush_every_ms(None)
            .open()
    })
    .and_then(|r| r.map_err(|e| Damage(format!("sled cannot open it: {e}"))))
}

/// Runs `f`, turning a panic into [`Damage`] without printing it: damage
/// is reported once, as an error, not as a crash.
pub(super) fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, Damage> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Damage(format!("sled failed reading it: {msg}"))
    })
}

/// Runs `f` on a thread of its own and waits at most `budget`: a damaged
/// file must not hang the command (the thread is abandoned past it).
pub(super) fn bounded<T: Send + 'static>(
    budget: Duration,
    f: impl FnOnce() -> Result<T, Damage> + Send + 'static,
) -> Result<T, Damage> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("archive-check".into())
        .spawn(move || {
            let _ = tx.send(quietly(f).and_then(|r| r));
        })
        .map_err(|e| Damage(format!("cannot start the check: {e}")))?;
    rx.recv_timeout(budget).unwrap_or_else(|_| {
        Err(Damage(format!(
            "sled did not finish reading it in {} s",
            budget.as_secs()
        )))
    })
}

/// sled's error without its empty backtrace.
pub(super) fn storage_error(e: &sled::Error) -> String {
    e.to_string().trim_end_matches(" backtrace ()").to_string()
}

/// A key for a damage report: its table tag and length, not its bytes.
pub(super) fn describe_key(key: Option<&[u8]>) -> String {
    match key {
        None => "the start".into(),
        Some(k) => format!(
            "a key of table {:?} ({} bytes)",
            char::from(k.first().copied().unwrap_or(b'?')),
            k.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_tells_intact_touched_and_resized_files_apart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir_all(db.join("blobs")).unwrap();
        std::fs::write(db.join("db"), b"0123456789").unwrap();
        std::fs::write(db.join("blobs/1"), b"blob").unwrap();
        assert!(matches!(check_seal(dir.path(), &db), SealCheck::Absent));
        seal(dir.path(), &db).unwrap();
        assert!(matches!(check_seal(dir.path(), &db), SealCheck::Intact));
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(db.join("blobs/1"), b"bl0b").unwrap();
        assert!(matches!(check_seal(dir.path(), &db), SealCheck::Touched));
        std::fs::write(db.join("db"), b"01234").unwrap();
        let SealCheck::Resized(why) = check_seal(dir.path(), &db) else {
            panic!("a file cut short went unnoticed");
        };
        assert!(why.contains("db is 5 bytes but was 10"), "{why}");
        break_seal(dir.path()).unwrap();
        assert!(matches!(check_seal(dir.path(), &db), SealCheck::Absent));
    }

    #[test]
    fn a_hang_is_reported_as_damage_once_its_budget_runs_out() {
        let verdict = bounded(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        });
        assert!(verdict.unwrap_err().0.contains("did not finish"));
    }

    #[test]
    fn a_panic_is_reported_as_damage() {
        let verdict: Result<(), Damage> = quietly(|| panic!("tried to serialize Uninit"));
        assert!(verdict.unwrap_err().0.contains("serialize Uninit"));
    }
}
