//! The integration-test binary: one binary (one link step) whose modules
//! group the behaviours it proves.

mod archive;
mod crawl;
mod export;
mod extract;
mod search;
mod serve;
mod support;
mod versions;
