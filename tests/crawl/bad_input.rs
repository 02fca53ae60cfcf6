//! Bad input fails fast with a one-line error naming the problem: exit ≠ 0,
//! never a panic, before any network traffic.

use std::path::Path;
use std::time::Duration;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(30);

/// `--resolve` pins for the host names the bad inputs mention, to a loopback
/// port where nothing listens: should a bad input be accepted, the crawl
/// still sends nothing anywhere (not even a DNS query).
fn pins() -> Vec<String> {
    let port = dead_port();
    ["a.test", "b.test"]
        .iter()
        .flat_map(|h| ["--resolve".to_string(), format!("{h}:{port}:127.0.0.1")])
        .collect()
}

fn crawl_with_seeds(archive: &Archive, seeds: &Path) -> Output {
    let mut args = vec![
        "crawl".to_string(),
        "--archive".into(),
        archive.path(),
        "--no-progress".into(),
        "--timeout".into(),
        "2".into(),
        "--seeds".into(),
        seeds.display().to_string(),
    ];
    args.extend(pins());
    run(&args, DEADLINE)
}

/// Fails unless the run failed with exactly one line on stderr.
fn one_line_error(out: &Output, what: &str) -> String {
    assert!(
        !out.success(),
        "{what}: expected a failure, got exit 0\nstderr:\n{}",
        out.stderr
    );
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected a one-line error, got:\n{}",
        out.stderr
    );
    lines[0].to_string()
}

/// Fails unless the run failed and the first line of stderr names the
/// problem (argument-parser errors may add usage hints below it).
fn first_line_error(out: &Output, what: &str) -> String {
    assert!(
        !out.success(),
        "{what}: expected a failure, got exit 0\nstderr:\n{}",
        out.stderr
    );
    out.stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("{what}: failed with nothing on stderr"))
        .to_string()
}

fn names_line(error: &str, line: u32) -> bool {
    let e = error.to_lowercase();
    e.contains(&format!("line {line}"))
        || e.contains(&format!(":{line}:"))
        || e.contains(&format!(":{line} "))
        || e.ends_with(&format!(":{line}"))
}

#[test]
fn unreadable_seed_file_is_named_in_a_one_line_error() {
    let archive = Archive::new();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-seeds.toml");
    let out = crawl_with_seeds(&archive, &missing);
    let error = one_line_error(&out, "missing seed file");
    assert!(
        error.contains("no-such-seeds.toml"),
        "the error should name the file: {error}"
    );

    // A path that exists but cannot be read as a file.
    let folder = dir.path().join("seeds-folder.toml");
    std::fs::create_dir(&folder).unwrap();
    let out = crawl_with_seeds(&archive, &folder);
    let error = one_line_error(&out, "seed file that is a directory");
    assert!(
        error.contains("seeds-folder.toml"),
        "the error should name the file: {error}"
    );

    // Not UTF-8.
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80, b'\n']).unwrap();
    let out = crawl_with_seeds(&archive, &binary);
    let error = one_line_error(&out, "seed file that is not UTF-8");
    assert!(
        error.contains("binary.toml"),
        "the error should name the file: {error}"
    );
}

#[test]
fn malformed_toml_seed_file_names_the_file_and_line() {
    let archive = Archive::new();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("broken.toml");
    std::fs::write(
        &seeds,
        "[[seed]]\nurl = \"http://a.test/\"\ndepth = = 3\n\n[[seed]]\nurl = \"http://b.test/\"\n",
    )
    .unwrap();
    let out = crawl_with_seeds(&archive, &seeds);
    let error = one_line_error(&out, "malformed TOML");
    assert!(
        error.contains("broken.toml"),
        "should name the file: {error}"
    );
    assert!(names_line(&error, 3), "should name line 3: {error}");
}

#[test]
fn unknown_key_in_seed_file_names_the_key_and_line() {
    let archive = Archive::new();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("typo.toml");
    std::fs::write(
        &seeds,
        "[crawl]\nrate = \"1/s\"\n\n[[seed]]\nurl = \"http://a.test/\"\nfrobnicate = true\n",
    )
    .unwrap();
    let out = crawl_with_seeds(&archive, &seeds);
    let error = one_line_error(&out, "unknown seed key");
    assert!(error.contains("typo.toml"), "should name the file: {error}");
    assert!(error.contains("frobnicate"), "should name the key: {error}");
    assert!(names_line(&error, 6), "should name line 6: {error}");
}

#[test]
fn bad_value_in_seed_file_names_the_file_and_line() {
    let archive = Archive::new();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("badrate.toml");
    std::fs::write(
        &seeds,
        "[crawl]\ndepth = 2\nrate = \"very fast\"\n\n[[seed]]\nurl = \"http://a.test/\"\n",
    )
    .unwrap();
    let out = crawl_with_seeds(&archive, &seeds);
    let error = one_line_error(&out, "bad rate in seed file");
    assert!(
        error.contains("badrate.toml"),
        "should name the file: {error}"
    );
    assert!(names_line(&error, 3), "should name line 3: {error}");
}

#[test]
fn bad_url_in_text_seed_file_names_the_file_and_line() {
    let archive = Archive::new();
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("list.txt");
    std::fs::write(
        &seeds,
        "# news sites\nhttp://a.test/\nnot a url at all\nhttp://b.test/\n",
    )
    .unwrap();
    let out = crawl_with_seeds(&archive, &seeds);
    let error = one_line_error(&out, "bad URL in .txt seeds");
    assert!(error.contains("list.txt"), "should name the file: {error}");
    assert!(names_line(&error, 3), "should name line 3: {error}");
}

#[test]
fn malformed_url_argument_is_a_one_line_error() {
    for bad in ["not-a-url", "http://exa mple.test/", "ftp://files.test/x"] {
        let archive = Archive::new();
        let out = run(
            &[
                "crawl",
                "--archive",
                &archive.path(),
                "--no-progress",
                "--timeout",
                "2",
                bad,
            ],
            DEADLINE,
        );
        let error = one_line_error(&out, bad);
        assert!(
            error.contains(bad),
            "the error should quote the URL {bad:?}: {error}"
        );
    }
}

#[test]
fn unknown_flag_is_an_error_naming_the_flag() {
    let archive = Archive::new();
    let mut args: Vec<String> = ["crawl", "--archive", &archive.path(), "--bogus-flag"]
        .map(String::from)
        .to_vec();
    args.extend(pins());
    args.push("http://a.test/".into());
    let out = run(&args, DEADLINE);
    let error = first_line_error(&out, "unknown flag");
    assert!(error.contains("--bogus-flag"), "{error}");
}

#[test]
fn bad_flag_values_are_errors_naming_the_value() {
    for (flag, value) in [
        ("--rate", "fast"),
        ("--max-body", "lots"),
        ("--depth", "-3"),
        ("--resolve", "a.test:notaport:127.0.0.1"),
    ] {
        let archive = Archive::new();
        let mut args: Vec<String> = ["crawl", "--archive", &archive.path(), "--no-progress"]
            .map(String::from)
            .to_vec();
        args.extend(pins());
        args.extend([flag, value, "http://a.test/"].map(String::from));
        let out = run(&args, DEADLINE);
        let error = first_line_error(&out, flag);
        assert!(
            error.contains(value) || error.contains(flag),
            "{flag} {value}: the error should name the flag or the value: {error}"
        );
    }
}

#[test]
fn zero_rate_concurrency_or_timeout_is_refused_or_harmless() {
    // Each value is nonsense: refusing it (an error naming the flag) is
    // right; accepting it is fine only if the crawl still works. Hanging
    // (a zero-permit semaphore, a zero rate) or failing every page is not.
    let host = "zero.test";
    let server = Site::new().page(host, "/", page("Home", &[])).serve();
    for (flag, value) in [
        ("--rate", "0/s"),
        ("--concurrency", "0"),
        ("--timeout", "0"),
        ("--rate", "-2/s"),
    ] {
        let archive = Archive::new();
        server.clear_log();
        let out = archive
            .crawl(&server, &[host])
            .arg(format!("{flag}={value}"))
            .arg(server.url(host, "/"))
            .run(Duration::from_secs(20));
        if out.success() {
            let entry = archive.entry(&server.url(host, "/"));
            assert_eq!(
                entry["state"], "fetched",
                "{flag} {value} was accepted, and then the crawl failed its page: {entry:#}"
            );
        } else {
            let error = first_line_error(&out, &format!("{flag} {value}"));
            assert!(
                error.contains(flag)
                    || error.contains(value)
                    || error.contains(flag.trim_start_matches('-')),
                "{flag} {value}: the error should name the flag or value: {error}"
            );
        }
    }
}

#[test]
fn archive_path_that_is_a_file_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "hello").unwrap();
    let path = file.display().to_string();
    for args in [
        vec!["stats", "--archive", &path],
        vec!["list", "--json", "--archive", &path],
        vec!["verify", "--archive", &path],
    ] {
        let out = run(&args, DEADLINE);
        let error = one_line_error(&out, &format!("{args:?}"));
        assert!(error.contains("not-a-dir"), "{args:?}: {error}");
    }
    let mut args: Vec<String> = ["crawl", "--archive", &path, "--no-progress"]
        .map(String::from)
        .to_vec();
    args.extend(pins());
    args.push("http://a.test/".into());
    let out = run(&args, DEADLINE);
    let error = one_line_error(&out, "crawl into a file");
    assert!(error.contains("not-a-dir"), "{error}");
}
