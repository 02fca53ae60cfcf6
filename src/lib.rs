//! palimpsest: a polite, resumable crawler that archives news articles as
//! versioned snapshots. See ARCHITECTURE.md for the map of this crate.
#![warn(missing_docs)]

pub mod archive;
pub mod article;
pub mod canonical;
pub mod clock;
pub mod commands;
pub mod config;
pub mod crawl;
pub mod decode;
pub mod demo;
pub(crate) mod diff;
pub mod digest;
pub mod discover;
pub mod export;
pub mod extract;
pub(crate) mod fetch;
pub mod frontier;
pub mod notify;
pub mod politeness;
pub(crate) mod progress;
pub(crate) mod query;
pub mod search;
pub mod serve;
