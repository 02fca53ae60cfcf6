//! `export -o PATH` by what is at PATH: a regular file or a new path is
//! replaced whole; a FIFO or a device is written to, never replaced; a
//! symbolic link stays a link (its regular target is replaced, a FIFO it
//! points to is written to).

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use super::{MIN, crawled, lines};
use crate::support::{Archive, Output, run};

fn export_to(archive: &Archive, target: &Path) -> Output {
    let path = archive.path();
    run(
        &[
            "export",
            "--archive",
            &path,
            "--format",
            "jsonl",
            "-o",
            target.to_str().unwrap(),
        ],
        MIN,
    )
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Reads `fifo` to its end on another thread; what it read arrives on the
/// channel (nothing arrives if no writer ever opens it).
fn read_in_background(fifo: PathBuf) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok(bytes) = std::fs::read(&fifo) {
            let _ = tx.send(bytes);
        }
    });
    rx
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn export_to_a_fifo_streams_to_its_reader_and_leaves_the_fifo() {
    let (_server, archive) = crawled();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let got = read_in_background(fifo.clone());
    export_to(&archive, &fifo).assert_success("export to a FIFO");
    let bytes = got
        .recv_timeout(Duration::from_secs(20))
        .expect("the FIFO's reader got the export");
    assert_eq!(lines(&String::from_utf8_lossy(&bytes)).len(), 5);
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO is still a FIFO: {kind:?}");
    assert_eq!(names_in(dir.path()), ["pipe"], "no temporary file left");

    // A WARC too: one stream, every capture in it.
    let got = read_in_background(fifo.clone());
    let path = archive.path();
    let fifo_arg = fifo.to_str().unwrap();
    run(
        &[
            "export",
            "--archive",
            &path,
            "--format",
            "warc",
            "--all-pages",
            "-o",
            fifo_arg,
        ],
        MIN,
    )
    .assert_success("WARC export to a FIFO");
    let bytes = got
        .recv_timeout(Duration::from_secs(20))
        .expect("the FIFO's reader got the WARC");
    let copy = dir.path().join("copy.warc.gz");
    std::fs::write(&copy, bytes).unwrap();
    let fresh = Archive::new();
    let fresh_path = fresh.path();
    run(
        &[
            "import-warc",
            "--archive",
            &fresh_path,
            copy.to_str().unwrap(),
        ],
        MIN,
    )
    .assert_success("import of what the FIFO carried");
    assert_eq!(
        crate::support::num(&fresh.stats(), "captures"),
        crate::support::num(&archive.stats(), "captures")
    );
}

#[test]
fn export_through_a_symlink_replaces_its_target_and_keeps_the_link() {
    let (_server, archive) = crawled();
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.jsonl");
    std::fs::write(&real, "old contents\n").unwrap();
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    export_to(&archive, &link).assert_success("export through a symlink");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), real);
    assert_eq!(
        lines(&std::fs::read_to_string(&real).unwrap()).len(),
        5,
        "its target holds the export"
    );

    // A link to a FIFO: written through, both kept.
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let to_fifo = dir.path().join("to-pipe");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    let got = read_in_background(fifo.clone());
    export_to(&archive, &to_fifo).assert_success("export through a symlink to a FIFO");
    let bytes = got
        .recv_timeout(Duration::from_secs(20))
        .expect("the FIFO's reader got the export");
    assert_eq!(lines(&String::from_utf8_lossy(&bytes)).len(), 5);
    assert!(
        std::fs::symlink_metadata(&to_fifo)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    // A dangling link is refused, not replaced by a file.
    let dangling = dir.path().join("dangling.jsonl");
    std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
    let out = export_to(&archive, &dangling);
    assert!(!out.success(), "a dangling link is refused");
    assert!(out.stderr.contains("symbolic link"), "{}", out.stderr);
    assert!(
        std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        names_in(dir.path()),
        [
            "dangling.jsonl",
            "link.jsonl",
            "pipe",
            "real.jsonl",
            "to-pipe"
        ],
        "no temporary file left"
    );
}

#[test]
fn export_to_a_character_device_writes_to_it_and_leaves_the_device() {
    let (_server, archive) = crawled();
    // Under the target directory, never a system path; not in a tmpfs that
    // may be mounted nodev.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let device = dir.path().join("null-device");
    // Major 1, minor 3: a node of the null device, made in the temp dir.
    let made = Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .output();
    let usable = match &made {
        Ok(out) if out.status.success() => std::fs::OpenOptions::new()
            .write(true)
            .open(&device)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(why) = usable {
        eprintln!(
            "SKIPPED export_to_a_character_device_writes_to_it_and_leaves_the_device: \
             cannot make a usable character device in {} (mknod needs root): {why}",
            dir.path().display()
        );
        return;
    }
    export_to(&archive, &device).assert_success("export to a character device");
    let kind = std::fs::symlink_metadata(&device).unwrap().file_type();
    assert!(
        kind.is_char_device(),
        "the device is still a device: {kind:?}"
    );
    assert_eq!(
        names_in(dir.path()),
        ["null-device"],
        "no temporary file left"
    );
}

/// Seen from the system calls (with `strace`, when installed): the
/// temporary file is opened with `O_EXCL` (never following a symlink or
/// reusing a file), and after the rename the directory is synced.
#[test]
fn an_export_file_is_created_exclusively_and_its_directory_synced() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!(
            "SKIPPED an_export_file_is_created_exclusively_and_its_directory_synced: strace is not installed"
        );
        return;
    }
    let (_server, archive) = crawled();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.jsonl");
    let trace = dir.path().join("trace");
    let path = archive.path();
    let out = Command::new("strace")
        .args([
            "-f",
            "-e",
            "trace=openat,rename,renameat,renameat2,fsync",
            "-o",
        ])
        .arg(&trace)
        .arg(crate::support::bin())
        .args(["export", "--archive", &path, "--format", "jsonl", "-o"])
        .arg(&target)
        .output()
        .expect("strace runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&trace).unwrap();
    let calls: Vec<&str> = trace.lines().collect();
    let position = |what: &dyn Fn(&str) -> bool, name: &str| {
        calls
            .iter()
            .position(|l| what(l))
            .unwrap_or_else(|| panic!("no {name} in the trace:\n{trace}"))
    };
    let temp_open = position(
        &|l: &str| l.contains(".out.jsonl.partial-"),
        "temporary file",
    );
    assert!(
        calls[temp_open].contains("O_EXCL") && calls[temp_open].contains("O_CREAT"),
        "created exclusively: {}",
        calls[temp_open]
    );
    let renamed = position(
        &|l: &str| l.contains("rename") && l.contains("out.jsonl\""),
        "rename into place",
    );
    let dir_name = format!("\"{}\"", dir.path().display());
    let dir_open = position(
        &|l: &str| l.contains("openat(") && l.contains(&dir_name),
        "open of the directory",
    );
    let fd = calls[dir_open]
        .rsplit("= ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let synced = calls[dir_open..]
        .iter()
        // A traced thread's call may be split: `fsync(4 <unfinished ...>`.
        .any(|l| {
            l.contains(&format!("fsync({fd})")) || l.contains(&format!("fsync({fd} <unfinished"))
        });
    assert!(
        renamed < dir_open,
        "the directory is opened after the rename"
    );
    assert!(synced, "and synced:\n{trace}");
    assert_eq!(lines(&std::fs::read_to_string(&target).unwrap()).len(), 5);
}
