//! Crawl-engine behaviour, proven against local fixture servers.

mod bad_input;
mod bounds;
mod canonical;
mod discovery;
mod exit_codes;
mod format;
mod fuzz;
mod guard;
mod hostile;
mod integrity;
mod lock;
mod passes;
mod politeness;
mod redirects;
mod resume;
mod retries;
mod robots;
mod scope;
