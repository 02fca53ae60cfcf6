//! What a new user meets first: every argument of every command explains
//! itself in `--help`, README's extract example runs as written from the
//! repository, and `show` picks a version with `-n`/`--number` (not only
//! with `--version`, which elsewhere means "print the program's version").

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const DEADLINE: Duration = Duration::from_secs(60);

/// The entries of the help sections (`Arguments:`, `Options:`, `Commands:`)
/// as (entry line, the line after it).
fn help_entries(help: &str) -> Vec<(String, Option<String>)> {
    let lines: Vec<&str> = help.lines().collect();
    let mut entries = Vec::new();
    let mut in_section = false;
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with(' ') {
            in_section = line.ends_with(':') && !line.trim().is_empty();
            continue;
        }
        if in_section && is_entry(line) {
            entries.push((line.to_string(), lines.get(i + 1).map(|l| l.to_string())));
        }
    }
    entries
}

/// An entry line, not a continuation of the one before: a flag, a
/// positional argument or a command name, indented by two to six spaces.
fn is_entry(line: &str) -> bool {
    let indent = line.len() - line.trim_start().len();
    (2..=6).contains(&indent) && !line.trim().is_empty()
}

/// The entry says what it is for: text after its name on the same line,
/// or (clap's next-line layout) on a deeper-indented line below it.
fn has_description(entry: &str, next: Option<&str>) -> bool {
    let rest = entry.trim_start();
    if rest
        .split_once("  ")
        .is_some_and(|(_, d)| !d.trim().is_empty())
    {
        return true;
    }
    next.is_some_and(|n| n.len() - n.trim_start().len() > 6 && !n.trim().is_empty())
}

/// The subcommands `palimpsest --help` lists.
fn subcommands() -> Vec<String> {
    let out = run(&["--help"], DEADLINE);
    out.assert_success("--help");
    let section = out
        .stdout
        .split("Commands:")
        .nth(1)
        .expect("--help lists commands");
    section
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| is_entry(l))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn every_argument_of_every_command_has_a_help_description() {
    let commands = subcommands();
    assert!(commands.len() >= 15, "too few commands found: {commands:?}");
    let mut blank = Vec::new();
    let mut helps = vec![(String::new(), run(&["--help"], DEADLINE))];
    for c in &commands {
        helps.push((c.clone(), run(&[c.as_str(), "--help"], DEADLINE)));
    }
    for (command, out) in &helps {
        out.assert_success(&format!("{command} --help"));
        for (entry, next) in help_entries(&out.stdout) {
            if !has_description(&entry, next.as_deref()) {
                blank.push(format!("{command}: {}", entry.trim()));
            }
        }
    }
    assert!(
        blank.is_empty(),
        "arguments without a description in --help:\n{}",
        blank.join("\n")
    );
}

/// README's "Extracting saved pages" example: its command and the record
/// it shows (the text shortened with `…`).
fn readme_extract_example() -> (Vec<String>, Value) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.starts_with("$ palimpsest extract "));
    let command = lines.next().expect("README shows `$ palimpsest extract …`");
    let shown = lines.next().expect("and the record it prints");
    let args = command
        .trim_start_matches("$ palimpsest ")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let record = serde_json::from_str(shown)
        .unwrap_or_else(|e| panic!("README's extract record is not JSON ({e}): {shown}"));
    (args, record)
}

#[test]
fn readme_extract_example_runs_as_written_from_the_repository() {
    let (args, shown) = readme_extract_example();
    let out = Command::new(bin())
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run palimpsest extract");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "palimpsest {args:?}: {stderr}");
    let got: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("extract printed no single JSON record ({e}): {stderr}"));
    let shown = shown.as_object().expect("an object");
    for (key, value) in shown {
        if key == "text" {
            let prefix = value.as_str().expect("text").trim_end_matches('…');
            let text = got[key].as_str().unwrap_or_default();
            assert!(
                text.starts_with(prefix),
                "README's text is not how the extracted text begins:\n{text}"
            );
        } else {
            assert_eq!(&got[key], value, "README shows a different {key:?}");
        }
    }
    assert_eq!(got.as_object().map(|o| o.len()), Some(shown.len()));
}

#[test]
fn show_picks_a_version_with_n_or_number_and_still_accepts_version() {
    let server = Site::new()
        .page("cli.test", "/", page("The only story", &[]))
        .serve();
    let archive = Archive::new();
    archive.crawl_site(&server, "cli.test", "20/s", DEADLINE);
    let url = server.url("cli.test", "/");
    let path = archive.path();
    let show = |pick: &[&str]| {
        let mut args = vec!["show", url.as_str(), "--json", "--archive", &path];
        args.extend(pick);
        let out = run(&args, DEADLINE);
        out.assert_success(&format!("show {pick:?}"));
        out.stdout
    };
    let latest = show(&[]);
    assert!(latest.contains("The only story"), "{latest}");
    for pick in [&["-n", "1"][..], &["--number", "1"], &["--version", "1"]] {
        assert_eq!(show(pick), latest, "show {pick:?}");
    }
    // The program's own --version is untouched.
    let out = run(&["--version"], DEADLINE);
    out.assert_success("--version");
    assert!(out.stdout.starts_with("palimpsest "), "{}", out.stdout);
}
