//! The integration tests, one binary (ripgrep's layout): each area is a
//! module, so the crate links once.

mod extract;
