//! The archive's keyspace: one sled tree, one tag byte per table, big-endian
//! integers so that range scans run in numeric (and so time) order.
//!
//! One tree rather than one per table because `apply_batch` is atomic only
//! within a tree: a capture, its payload, its version, the links it found and
//! the frontier update it completes all land in one batch, or none do.

use crate::digest::ContentDigest;

pub const META: u8 = b'M';
pub const URLS: u8 = b'U';
pub const PAGES: u8 = b'P';
pub const QUEUE: u8 = b'Q';
pub const HOSTS: u8 = b'H';
pub const HOST_IDS: u8 = b'h';
pub const CAPTURES: u8 = b'C';
pub const PAYLOADS: u8 = b'B';
pub const VERSIONS: u8 = b'V';
pub const VERSION_SEEN: u8 = b'S';
pub const ARTICLES: u8 = b'W';
pub const CHANGES: u8 = b'T';
pub const LINKS: u8 = b'L';
pub const CITED_BY: u8 = b'R';
pub const ADMITTED: u8 = b'A';

fn key(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    k.push(tag);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub fn meta(name: &str) -> Vec<u8> {
    key(META, &[name.as_bytes()])
}
/// The sites a seed's scope moved to when the seed redirected off-site.
pub fn scope_moved(seed_host: &str) -> Vec<u8> {
    meta(&format!("scope-moved:{seed_host}"))
}
pub fn scope_moved_prefix() -> Vec<u8> {
    meta("scope-moved:")
}
pub fn url(url: &str) -> Vec<u8> {
    key(URLS, &[url.as_bytes()])
}
pub fn page(id: u64) -> Vec<u8> {
    key(PAGES, &[&id.to_be_bytes()])
}
pub fn host(authority: &str) -> Vec<u8> {
    key(HOSTS, &[authority.as_bytes()])
}
pub fn host_id(id: u64) -> Vec<u8> {
    key(HOST_IDS, &[&id.to_be_bytes()])
}
pub fn queue(host: u64, due: u64, url: u64) -> Vec<u8> {
    key(
        QUEUE,
        &[&host.to_be_bytes(), &due.to_be_bytes(), &url.to_be_bytes()],
    )
}
pub fn queue_host_prefix(host: u64) -> Vec<u8> {
    key(QUEUE, &[&host.to_be_bytes()])
}
pub fn capture(url: u64, at: u64) -> Vec<u8> {
    key(CAPTURES, &[&url.to_be_bytes(), &at.to_be_bytes()])
}
pub fn captures_of(url: u64) -> Vec<u8> {
    key(CAPTURES, &[&url.to_be_bytes()])
}
pub fn payload(digest: &ContentDigest) -> Vec<u8> {
    key(PAYLOADS, &[digest.as_bytes()])
}
pub fn version(url: u64, number: u32) -> Vec<u8> {
    key(VERSIONS, &[&url.to_be_bytes(), &number.to_be_bytes()])
}
pub fn versions_of(url: u64) -> Vec<u8> {
    key(VERSIONS, &[&url.to_be_bytes()])
}
pub fn article(url: u64, number: u32) -> Vec<u8> {
    key(ARTICLES, &[&url.to_be_bytes(), &number.to_be_bytes()])
}
pub fn version_seen(url: u64, number: u32) -> Vec<u8> {
    key(VERSION_SEEN, &[&url.to_be_bytes(), &number.to_be_bytes()])
}
pub fn change(at: u64, url: u64, number: u32) -> Vec<u8> {
    key(
        CHANGES,
        &[&at.to_be_bytes(), &url.to_be_bytes(), &number.to_be_bytes()],
    )
}
pub fn link(from: u64, kind: u8, to: u64) -> Vec<u8> {
    key(LINKS, &[&from.to_be_bytes(), &[kind], &to.to_be_bytes()])
}
pub fn cited_by(to: u64, kind: u8, from: u64) -> Vec<u8> {
    key(CITED_BY, &[&to.to_be_bytes(), &[kind], &from.to_be_bytes()])
}
pub fn cited_by_prefix(to: u64) -> Vec<u8> {
    key(CITED_BY, &[&to.to_be_bytes()])
}
pub fn admitted(pass: u64, host: u64) -> Vec<u8> {
    key(ADMITTED, &[&pass.to_be_bytes(), &host.to_be_bytes()])
}

/// Reads the big-endian u64 at `offset` of a key.
pub fn u64_at(key: &[u8], offset: usize) -> Option<u64> {
    key.get(offset..offset + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}

/// Reads the big-endian u32 at `offset` of a key.
pub fn u32_at(key: &[u8], offset: usize) -> Option<u32> {
    key.get(offset..offset + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
}

pub fn encode_u64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}
