//! Extraction against pages written for this project: the sample
//! Indonesian article in a realistic page, structured-data-only and
//! metadata-free pages, profiles, legacy encodings, broken markup, the
//! `extract --input-jsonl` contract, and a never-panics property.

mod authors;
mod command;
mod dates;
mod encodings;
mod hostile_pages;
mod lead;
mod never_panics;
mod pages;
mod prose;
mod sample;
mod unclosed_headings;

use std::path::{Path, PathBuf};

use palimpsest::extract::{Extraction, Profile, extract};
use url::Url;

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extract")
        .join(name)
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

pub fn run(html: &str, url: &str, profile: Option<&Profile>) -> Extraction {
    extract(html, &Url::parse(url).expect("test URL"), profile)
}
