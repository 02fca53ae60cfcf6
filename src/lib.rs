//! palimpsest: a polite, resumable crawler that archives news articles as
//! versioned snapshots. See ARCHITECTURE.md for the map of this crate.

pub mod article;
pub mod canonical;
pub mod decode;
pub mod digest;
pub mod extract;
pub mod archive;
