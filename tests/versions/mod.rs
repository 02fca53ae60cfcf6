//! Versions, diffs and scheduled watching, proven against the real
//! binary and local fixture servers.

mod changes;
mod cli;
mod conditional;
mod diffs;
mod edits;
mod errors;
mod formats;
mod fronts;
mod news;
mod notify;
mod records;
mod reextract;
mod tour;
mod watch;
