//! A raw reader of sled 0.34.7's on-disk log, for salvage: the live
//! key/value pairs of a database's default tree, read straight from the
//! bytes of its `db` file and `blobs/` directory without sled. sled's own
//! recovery walks its segments in LSN order and stops at the first missing
//! one, so a file cut short (segments are reused out of order) loses
//! everything after the gap, although most of it is still in the file. This
//! reader looks at every segment, keeps every message whose CRC holds
//! (resyncing past damaged bytes), and rebuilds each page from its newest
//! node plus the updates logged after it; for each key the newest statement
//! by LSN wins. It never trusts a length it has not bounded by the bytes
//! that hold it, and anything unparsable is skipped and counted. On a
//! sound database it reads exactly what sled iterates. On a damaged one an
//! update whose node was lost is placed on the page's older node, or by
//! the range an index node gives the page, only where it fits (the range,
//! sled's leaf size, no newer leaf overlapping): keys are stored without
//! the prefix their node's range shares, so an update placed on a node
//! whose split was lost would come back under a shortened key. Only keys
//! are held in memory; a value is kept as its place on disk and read back
//! when asked for ([`LiveRecords::value`]).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::ops::Bound;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::Serialize;

/// A blob file starts with its CRC (4 bytes) and its message kind.
const BLOB_HEADER_LEN: u64 = 5;
/// sled writes a 20-byte header (CRC, LSN, stable LSN) at each segment start.
const SEGMENT_HEADER_LEN: usize = 20;
/// sled splits a leaf holding more than 16 items before it takes another:
/// a leaf never holds more than 17.
const LEAF_MOST_ITEMS: usize = 17;
/// sled's default segment size, used when `conf` cannot be read.
const DEFAULT_SEGMENT_SIZE: u64 = 512 * 1024;
/// sled refuses segment sizes outside these bounds (and non-powers of two).
const SEGMENT_SIZE_RANGE: std::ops::RangeInclusive<u64> = 256..=(1 << 24);

/// A position in sled's logical log: later statements have larger LSNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Lsn(u64);

/// The page a log message belongs to (one B-tree node and its updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PageId(u64);

/// What the reader found, besides the records.
#[derive(Debug, Default, Clone, Serialize)]
pub struct LogScan {
    /// Segments of the `db` file looked at.
    pub segments: u64,
    /// Messages whose CRC held.
    pub messages: u64,
    /// Damaged stretches skipped between readable messages.
    pub skipped_stretches: u64,
    /// Messages whose CRC held but whose contents did not parse.
    pub unparsable: u64,
    /// Messages pointing to a blob file that is missing or fails its CRC.
    pub missing_blobs: u64,
    /// Pages updated in the log whose node could not be found, so their
    /// updates could not be placed.
    pub orphan_pages: u64,
    /// Leaves overlapping a newer leaf (their newer node was lost), whose
    /// later updates were set aside.
    pub stale_pages: u64,
    /// Updates whose key falls outside their node's range, set aside.
    pub misplaced_updates: u64,
    /// Updates that would grow a leaf past the size sled splits it at (so
    /// they were made after a split whose node was lost), set aside.
    pub unplaced_updates: u64,
}

/// Where a value lies on disk: held as a place rather than as bytes, so
/// that reading a large database costs memory for its keys only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredValue {
    file: StoredIn,
    offset: u64,
    len: u64,
}

/// The file a value lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoredIn {
    /// The `db` file.
    Log,
    /// A file of `blobs/`, named by its id.
    Blob(i64),
}

/// Where the bytes a message body was parsed from lie, to turn a slice of
/// them into a [`StoredValue`].
#[derive(Clone, Copy)]
struct Origin<'a> {
    body: &'a [u8],
    file: StoredIn,
    offset: u64,
}

impl Origin<'_> {
    /// The place of `part`, a slice of the body.
    fn place(&self, part: &[u8]) -> StoredValue {
        let within = part.as_ptr() as usize - self.body.as_ptr() as usize;
        StoredValue {
            file: self.file,
            offset: self.offset + within as u64,
            len: part.len() as u64,
        }
    }
}

/// The live records of a sled database, by key, and how they were found.
#[derive(Debug)]
pub struct LiveRecords {
    /// Each live key with where its newest value lies.
    pub records: BTreeMap<Vec<u8>, StoredValue>,
    /// What the scan met on the way.
    pub scan: LogScan,
    db_dir: std::path::PathBuf,
    log: File,
}

impl LiveRecords {
    /// The bytes of a value, as sled stored them. The database must not have
    /// changed since it was read.
    pub fn value(&self, value: StoredValue) -> io::Result<Vec<u8>> {
        // The length was bounded by the message (or blob) holding it.
        let mut bytes = vec![0; value.len as usize];
        match value.file {
            StoredIn::Log => self.log.read_exact_at(&mut bytes, value.offset)?,
            StoredIn::Blob(id) => File::open(self.db_dir.join("blobs").join(id.to_string()))?
                .read_exact_at(&mut bytes, value.offset)?,
        }
        Ok(bytes)
    }
}

/// Reads the live records of the sled database in `db_dir`, read-only.
/// Fails only when the `db` file cannot be read at all.
pub fn read_live_records(db_dir: &Path) -> io::Result<LiveRecords> {
    let segment_size = read_segment_size(db_dir)?;
    let file = File::open(db_dir.join("db"))?;
    let file_len = file.metadata()?.len();
    let mut pages = Pages::default();
    let mut scan = LogScan::default();
    let newest_segment = newest_segment_number(&file, file_len, segment_size)?;
    let mut buf = Vec::new();
    let mut base = 0;
    while base < file_len {
        let len = segment_size.min(file_len - base);
        // `len` is at most sled's largest segment size (16 MiB).
        buf.resize(len as usize, 0);
        file.read_exact_at(&mut buf, base)?;
        scan.segments += 1;
        let segment = Segment {
            bytes: &buf,
            offset: base,
            size: segment_size,
            newest: newest_segment,
            blobs: &db_dir.join("blobs"),
        };
        segment.read_messages(&mut pages, &mut scan);
        base += segment_size;
    }
    let records = pages.live_records(&mut scan);
    Ok(LiveRecords {
        records,
        scan,
        db_dir: db_dir.to_path_buf(),
        log: file,
    })
}

/// The segment size from sled's `conf` file; sled's default when the file
/// is missing or damaged. A database sled compressed cannot be read.
fn read_segment_size(db_dir: &Path) -> io::Result<u64> {
    let Ok(bytes) = std::fs::read(db_dir.join("conf")) else {
        return Ok(DEFAULT_SEGMENT_SIZE);
    };
    // The text is followed by a 4-byte CRC.
    let text = String::from_utf8_lossy(&bytes[..bytes.len().saturating_sub(4)]);
    let setting = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
            .map(str::trim)
    };
    if setting("use_compression") == Some("true") {
        return Err(io::Error::other(
            "the database was written with sled's compression, which the raw reader does not undo",
        ));
    }
    Ok(setting("segment_size")
        .and_then(|raw| raw.parse::<u64>().ok())
        .filter(|size| size.is_power_of_two() && SEGMENT_SIZE_RANGE.contains(size))
        .unwrap_or(DEFAULT_SEGMENT_SIZE))
}

/// The highest segment number a message may claim: the highest any intact
/// segment header names, plus one for each segment whose header is
/// damaged (it may hold a later one). A message claiming more is garbage
/// that happened to pass its CRC. `None` when no header is intact (then
/// nothing bounds it).
fn newest_segment_number(file: &File, file_len: u64, segment_size: u64) -> io::Result<Option<u64>> {
    let mut newest: Option<u64> = None;
    let mut damaged_headers = 0;
    let mut base = 0;
    while base + SEGMENT_HEADER_LEN as u64 <= file_len {
        let mut header = [0u8; SEGMENT_HEADER_LEN];
        file.read_exact_at(&mut header, base)?;
        let stored = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) ^ u32::MAX;
        if crc32fast::hash(&header[4..20]) == stored {
            let lsn = u64::from_le_bytes(header[4..12].try_into().expect("8 bytes"))
                ^ 0x7FFF_FFFF_FFFF_FFFF;
            let number = lsn / segment_size;
            newest = Some(newest.map_or(number, |n| n.max(number)));
        } else {
            damaged_headers += 1;
        }
        base += segment_size;
    }
    Ok(newest.map(|n| n.saturating_add(damaged_headers)))
}

/// The kinds of sled log message this reader uses; the rest are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Free,
    InlineNode,
    BlobNode,
    InlineLink,
    BlobLink,
    /// Canceled, padding, batch manifests, counters, the tree directory.
    Other,
}

impl Kind {
    /// sled's kind byte; `None` for bytes sled never writes (0 marks a
    /// torn or unwritten message).
    fn from_byte(byte: u8) -> Option<Kind> {
        Some(match byte {
            1..=3 | 5..=7 => Kind::Other,
            4 => Kind::Free,
            8 => Kind::InlineNode,
            9 => Kind::BlobNode,
            10 => Kind::InlineLink,
            11 => Kind::BlobLink,
            _ => return None,
        })
    }
}

/// A message header as sled writes it: CRC (4 bytes), kind, then varints
/// for the body length, the segment number and the page id.
#[derive(Debug)]
struct MessageHeader {
    kind: Kind,
    body_len: usize,
    pid: PageId,
    header_len: usize,
    /// The segment number times the segment size, plus the offset.
    lsn: Lsn,
}

/// One segment's bytes, read message by message.
struct Segment<'a> {
    bytes: &'a [u8],
    /// Where the segment starts in the `db` file.
    offset: u64,
    size: u64,
    newest: Option<u64>,
    blobs: &'a Path,
}

impl Segment<'_> {
    /// Every message of the segment whose CRC holds, in order. Past damage
    /// (or an unwritten tail) the reader moves on a byte at a time until a
    /// message checks out again.
    fn read_messages(&self, pages: &mut Pages, scan: &mut LogScan) {
        let mut at = SEGMENT_HEADER_LEN;
        let mut in_damage = false;
        while at < self.bytes.len() {
            let Some(header) = self.message_at(at) else {
                in_damage = true;
                at += 1;
                continue;
            };
            if in_damage {
                scan.skipped_stretches += 1;
                in_damage = false;
            }
            scan.messages += 1;
            let body_start = at + header.header_len;
            let body = &self.bytes[body_start..body_start + header.body_len];
            self.take_message(&header, body, pages, scan);
            at = body_start + header.body_len;
        }
    }

    /// The header of a message starting at `at` whose body fits the
    /// segment and whose CRC holds.
    fn message_at(&self, at: usize) -> Option<MessageHeader> {
        let mut cursor = self.bytes.get(at..)?;
        let start_len = cursor.len();
        let crc = u32::from_le_bytes(take(&mut cursor, 4)?.try_into().ok()?);
        let kind = Kind::from_byte(take(&mut cursor, 1)?[0])?;
        let body_len = usize::try_from(varint(&mut cursor)?).ok()?;
        let segment_number = varint(&mut cursor)?;
        let pid = PageId(varint(&mut cursor)?);
        if body_len > cursor.len() || self.newest.is_some_and(|n| segment_number > n) {
            return None;
        }
        let lsn = Lsn(segment_number
            .checked_mul(self.size)?
            .checked_add(at as u64)?);
        let header_len = start_len - cursor.len();
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&cursor[..body_len]);
        hasher.update(&self.bytes[at + 4..at + header_len]);
        if hasher.finalize() ^ u32::MAX != crc {
            return None;
        }
        Some(MessageHeader {
            kind,
            body_len,
            pid,
            header_len,
            lsn,
        })
    }

    /// Records what one message says about its page.
    fn take_message(
        &self,
        header: &MessageHeader,
        body: &[u8],
        pages: &mut Pages,
        scan: &mut LogScan,
    ) {
        let inline = Origin {
            body,
            file: StoredIn::Log,
            offset: self.offset + (body.as_ptr() as usize - self.bytes.as_ptr() as usize) as u64,
        };
        let statement = match header.kind {
            Kind::Other => return,
            Kind::Free => Some(Statement::Free),
            Kind::InlineNode => parse_node(inline).map(Statement::Node),
            Kind::InlineLink => parse_link(inline).map(Statement::Link),
            Kind::BlobNode | Kind::BlobLink => {
                let Some((id, blob)) = self.read_blob(body, header.kind) else {
                    scan.missing_blobs += 1;
                    return;
                };
                let origin = Origin {
                    body: &blob,
                    file: StoredIn::Blob(id),
                    offset: BLOB_HEADER_LEN,
                };
                if header.kind == Kind::BlobNode {
                    parse_node(origin).map(Statement::Node)
                } else {
                    parse_link(origin).map(Statement::Link)
                }
            }
        };
        match statement {
            Some(statement) => pages.record(header.pid, header.lsn, statement),
            None => scan.unparsable += 1,
        }
    }

    /// The contents of the blob a blob message points to (its body is the
    /// blob's id, an 8-byte LSN naming the file), if it exists, holds the
    /// same kind of message and passes its CRC.
    fn read_blob(&self, body: &[u8], kind: Kind) -> Option<(i64, Vec<u8>)> {
        let id = i64::from_le_bytes(body.try_into().ok()?);
        let mut bytes = Vec::new();
        File::open(self.blobs.join(id.to_string()))
            .ok()?
            .read_to_end(&mut bytes)
            .ok()?;
        let (crc, rest) = bytes.split_at_checked(4)?;
        let stored = u32::from_le_bytes(crc.try_into().ok()?);
        if crc32fast::hash(rest) != stored || Kind::from_byte(*rest.first()?) != Some(kind) {
            return None;
        }
        Some((id, rest[1..].to_vec()))
    }
}

/// The first `n` bytes of `cursor`, which moves past them.
fn take<'a>(cursor: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = cursor.split_at_checked(n)?;
    *cursor = rest;
    Some(head)
}

/// sled's variable-length u64: one byte up to 240, two up to 2 287, three
/// up to 67 823, else a length byte (250..=255) and 3 to 8 little-endian
/// bytes.
fn varint(cursor: &mut &[u8]) -> Option<u64> {
    let first = *cursor.first()?;
    let (value, len) = match first {
        0..=240 => (u64::from(first), 1),
        241..=248 => {
            let second = *cursor.get(1)?;
            (240 + 256 * (u64::from(first) - 241) + u64::from(second), 2)
        }
        249 => {
            let bytes = cursor.get(1..3)?;
            (2288 + 256 * u64::from(bytes[0]) + u64::from(bytes[1]), 3)
        }
        _ => {
            let n = usize::from(first) - 247;
            let mut aligned = [0u8; 8];
            aligned[..n].copy_from_slice(cursor.get(1..=n)?);
            (u64::from_le_bytes(aligned), n + 1)
        }
    };
    *cursor = &cursor[len..];
    Some(value)
}

/// A length-prefixed byte string, its length bounded by the bytes left.
fn bytes<'a>(cursor: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(varint(cursor)?).ok()?;
    take(cursor, len)
}

/// What one message says about its page.
#[derive(Debug)]
enum Statement {
    /// A whole node: the page's state as of this message.
    Node(Node),
    /// An update to the page's node.
    Link(Link),
    /// The page was freed.
    Free,
}

/// A consolidated B-tree node: a leaf's items, or an index node's children.
#[derive(Debug)]
enum Node {
    Leaf(Leaf),
    Index(Index),
}

/// An index node: its children's pages, each with the lowest key it holds
/// (stored without the first `prefix_len` bytes of `lo`).
#[derive(Debug)]
struct Index {
    lo: Vec<u8>,
    hi: Vec<u8>,
    prefix_len: usize,
    children: Vec<(Vec<u8>, PageId)>,
}

impl Index {
    /// Each child's page and the range `[lo, hi)` of keys it holds.
    fn child_ranges(&self) -> impl Iterator<Item = (PageId, Vec<u8>, Vec<u8>)> + '_ {
        let prefix = &self.lo[..self.prefix_len];
        self.children
            .iter()
            .enumerate()
            .map(move |(i, (key, pid))| {
                let hi = match self.children.get(i + 1) {
                    Some((next, _)) => [prefix, next].concat(),
                    None => self.hi.clone(),
                };
                (*pid, [prefix, key].concat(), hi)
            })
    }
}

/// How many leading bytes of its keys sled leaves out in a node of range
/// `[lo, hi)`: their common prefix, at most 255 (none without a `hi`).
fn prefix_len_of(lo: &[u8], hi: &[u8]) -> usize {
    lo.iter()
        .zip(hi)
        .take_while(|(a, b)| a == b)
        .count()
        .min(usize::from(u8::MAX))
}

/// A leaf node: the keys in `[lo, hi)` (an empty `hi`: no upper bound),
/// stored without the first `prefix_len` bytes, which all share with `lo`.
#[derive(Debug)]
struct Leaf {
    lo: Vec<u8>,
    hi: Vec<u8>,
    prefix_len: usize,
    items: Vec<(Vec<u8>, StoredValue)>,
}

/// An update logged after a node. Keys are stored without the node's prefix.
#[derive(Debug)]
enum Link {
    Set(Vec<u8>, StoredValue),
    Del(Vec<u8>),
    /// Merge bookkeeping: moves no record by itself.
    Structural,
}

/// sled's `Node`: next and merging child (varints), merging flag, prefix
/// length, lo, hi, then its data (0: leaf keys then values; 1: index).
fn parse_node(origin: Origin) -> Option<Node> {
    let mut cursor = origin.body;
    varint(&mut cursor)?;
    varint(&mut cursor)?;
    take(&mut cursor, 1)?;
    let prefix_len = usize::from(take(&mut cursor, 1)?[0]);
    let lo = bytes(&mut cursor)?.to_vec();
    let hi = bytes(&mut cursor)?.to_vec();
    let discriminant = take(&mut cursor, 1)?[0];
    let count = usize::try_from(varint(&mut cursor)?).ok()?;
    // Each key and value (or child) takes at least its length byte: a
    // count the remaining bytes cannot hold is damage, not an allocation to
    // make.
    if prefix_len > lo.len() || count > cursor.len() / 2 {
        return None;
    }
    let keys: Vec<&[u8]> = (0..count)
        .map(|_| bytes(&mut cursor))
        .collect::<Option<_>>()?;
    match discriminant {
        0 => {}
        1 => {
            let mut children = Vec::with_capacity(count);
            for key in keys {
                children.push((key.to_vec(), PageId(varint(&mut cursor)?)));
            }
            return Some(Node::Index(Index {
                lo,
                hi,
                prefix_len,
                children,
            }));
        }
        _ => return None,
    }
    let mut items = Vec::with_capacity(count);
    for key in keys {
        items.push((key.to_vec(), origin.place(bytes(&mut cursor)?)));
    }
    Some(Node::Leaf(Leaf {
        lo,
        hi,
        prefix_len,
        items,
    }))
}

/// sled's `Link`: 0 Set(key, value), 1 Del(key), 2..=4 merge bookkeeping.
fn parse_link(origin: Origin) -> Option<Link> {
    let mut cursor = origin.body;
    Some(match take(&mut cursor, 1)?[0] {
        0 => {
            let key = bytes(&mut cursor)?.to_vec();
            Link::Set(key, origin.place(bytes(&mut cursor)?))
        }
        1 => Link::Del(bytes(&mut cursor)?.to_vec()),
        2 => {
            varint(&mut cursor)?;
            Link::Structural
        }
        3 | 4 => Link::Structural,
        _ => return None,
    })
}

/// A page's newest known state: its newest node (or free marker) and the
/// updates logged after it.
#[derive(Debug, Default)]
struct Page {
    base: Option<(Lsn, Base)>,
    links: Vec<(Lsn, Link)>,
}

#[derive(Debug)]
enum Base {
    Leaf(Leaf),
    Index(Index),
    Free,
}

/// Every page met in the log, kept to its newest state as messages arrive
/// in file order (not LSN order).
#[derive(Debug, Default)]
struct Pages {
    pages: HashMap<PageId, Page>,
}

/// What a page says about one key: its value (or its deletion) as of an LSN.
#[derive(Debug)]
struct KeyStatement {
    lsn: Lsn,
    value: Option<StoredValue>,
}

/// A leaf's claim that as of `lsn` it held every key of `[lo, hi)`: a key
/// in that range it does not hold was gone by then.
struct Coverage {
    lo: Vec<u8>,
    hi: Vec<u8>,
    lsn: Lsn,
}

impl Pages {
    /// Each page some index node points to, with the range of keys it
    /// holds, from the newest index node naming it.
    fn child_ranges(&self) -> HashMap<PageId, (Lsn, Vec<u8>, Vec<u8>)> {
        let mut ranges: HashMap<PageId, (Lsn, Vec<u8>, Vec<u8>)> = HashMap::new();
        for page in self.pages.values() {
            let Some((lsn, Base::Index(index))) = &page.base else {
                continue;
            };
            for (child, lo, hi) in index.child_ranges() {
                if ranges.get(&child).is_none_or(|(known, _, _)| known < lsn) {
                    ranges.insert(child, (*lsn, lo, hi));
                }
            }
        }
        ranges
    }

    fn record(&mut self, pid: PageId, lsn: Lsn, statement: Statement) {
        let page = self.pages.entry(pid).or_default();
        let base = match statement {
            Statement::Link(link) => {
                if page.base.as_ref().is_none_or(|(base, _)| *base < lsn) {
                    page.links.push((lsn, link));
                }
                return;
            }
            Statement::Node(Node::Leaf(leaf)) => Base::Leaf(leaf),
            Statement::Node(Node::Index(index)) => Base::Index(index),
            Statement::Free => Base::Free,
        };
        if page.base.as_ref().is_none_or(|(newest, _)| *newest < lsn) {
            page.links.retain(|(link_lsn, _)| *link_lsn > lsn);
            page.base = Some((lsn, base));
        }
    }

    /// The live records: each leaf page's node with its later updates
    /// applied, then for each key the newest statement of any page, unless
    /// a newer leaf covering the key no longer holds it.
    fn live_records(self, scan: &mut LogScan) -> BTreeMap<Vec<u8>, StoredValue> {
        let ranges = self.child_ranges();
        let mut leaves = Vec::new();
        for (pid, page) in self.pages {
            match page.base {
                Some((lsn, Base::Leaf(leaf))) => leaves.push(LeafPage {
                    lsn,
                    leaf,
                    links: page.links,
                    node_known: true,
                }),
                Some(_) => {}
                None => match ranges.get(&pid) {
                    // The node is lost, but an index node says which keys
                    // the page held, so its updates can still be placed.
                    // Only updates logged after that index node: before
                    // it, the page may have had another range, and so
                    // another prefix left out of its keys.
                    Some((lsn, lo, hi)) => leaves.push(LeafPage {
                        lsn: *lsn,
                        leaf: Leaf {
                            prefix_len: prefix_len_of(lo, hi),
                            lo: lo.clone(),
                            hi: hi.clone(),
                            items: Vec::new(),
                        },
                        links: page.links.into_iter().filter(|(at, _)| at > lsn).collect(),
                        node_known: false,
                    }),
                    None => scan.orphan_pages += 1,
                },
            }
        }
        set_aside_stale_updates(&mut leaves, scan);
        let mut newest: BTreeMap<Vec<u8>, KeyStatement> = BTreeMap::new();
        let mut coverage = Vec::new();
        for page in leaves {
            let (keys, covers) = leaf_state(page, scan);
            for (key, statement) in keys {
                match newest.get(&key) {
                    Some(known) if known.lsn >= statement.lsn => {}
                    _ => {
                        newest.insert(key, statement);
                    }
                }
            }
            coverage.extend(covers);
        }
        for covers in coverage {
            let range = newest.range_mut::<[u8], _>((
                Bound::Included(covers.lo.as_slice()),
                upper_bound(&covers.hi),
            ));
            for (_, statement) in range {
                if statement.lsn < covers.lsn {
                    statement.value = None;
                }
            }
        }
        newest
            .into_iter()
            .filter_map(|(key, statement)| Some((key, statement.value?)))
            .collect()
    }
}

/// A leaf page's newest node and the updates logged after it.
struct LeafPage {
    lsn: Lsn,
    leaf: Leaf,
    links: Vec<(Lsn, Link)>,
    /// False when the node is lost and only its range is known (from an
    /// index node): its updates count, its absence of keys does not.
    node_known: bool,
}

/// A node's `hi` as a range bound: empty means no upper bound.
fn upper_bound(hi: &[u8]) -> Bound<&[u8]> {
    if hi.is_empty() {
        Bound::Unbounded
    } else {
        Bound::Excluded(hi)
    }
}

/// Drops the updates of every leaf whose range overlaps a newer leaf's.
/// In a sound tree leaves never overlap: such a leaf is an old node whose
/// newer one (from a split or merge) was lost, and updates logged after
/// that split store their keys without a prefix this old node does not
/// know, so they cannot be placed. The old node's own records stay (they
/// are genuine, and older than anything that replaced them).
fn set_aside_stale_updates(leaves: &mut [LeafPage], scan: &mut LogScan) {
    leaves.sort_by(|a, b| a.leaf.lo.cmp(&b.leaf.lo));
    let mut stale = vec![false; leaves.len()];
    for (i, page) in leaves.iter().enumerate() {
        // Each overlapping pair is met here from the one with the lower `lo`.
        for (j, later) in leaves.iter().enumerate().skip(i + 1) {
            if !range_holds(&later.leaf.lo, &page.leaf.lo, &page.leaf.hi) {
                break;
            }
            if later.lsn > page.lsn {
                stale[i] = true;
            } else {
                stale[j] = true;
            }
        }
    }
    for (page, stale) in leaves.iter_mut().zip(stale) {
        if stale && !page.links.is_empty() {
            scan.stale_pages += 1;
            page.links.clear();
        }
    }
}

/// Whether `key` lies in `[lo, hi)` (an empty `hi`: no upper bound).
fn range_holds(key: &[u8], lo: &[u8], hi: &[u8]) -> bool {
    key >= lo && (hi.is_empty() || key < hi)
}

/// The keys a leaf holds (deletions are statements too, not items).
fn live_items(keys: &BTreeMap<Vec<u8>, KeyStatement>) -> usize {
    keys.values().filter(|s| s.value.is_some()).count()
}

/// A leaf page's keys (full keys, prefix restored) after its updates, and
/// the range its node covers. An update whose key falls outside the node's
/// range, or that would grow it past the size sled splits at, belongs to a
/// newer node that was lost, and is set aside.
fn leaf_state(
    page: LeafPage,
    scan: &mut LogScan,
) -> (BTreeMap<Vec<u8>, KeyStatement>, Option<Coverage>) {
    let LeafPage {
        lsn,
        leaf,
        mut links,
        node_known,
    } = page;
    let prefix = &leaf.lo[..leaf.prefix_len];
    let full = |suffix: Vec<u8>| [prefix, &suffix].concat();
    let mut keys: BTreeMap<Vec<u8>, KeyStatement> = leaf
        .items
        .into_iter()
        .map(|(key, value)| {
            let statement = KeyStatement {
                lsn,
                value: Some(value),
            };
            (full(key), statement)
        })
        .collect();
    links.sort_by_key(|(lsn, _)| *lsn);
    for (at, link) in links {
        let (key, value) = match link {
            Link::Set(key, value) => (full(key), Some(value)),
            Link::Del(key) => (full(key), None),
            Link::Structural => continue,
        };
        if !range_holds(&key, &leaf.lo, &leaf.hi) {
            scan.misplaced_updates += 1;
            continue;
        }
        if value.is_some() && !keys.contains_key(&key) && live_items(&keys) >= LEAF_MOST_ITEMS {
            // This and every later update came after a split: their keys
            // are stored without a longer prefix this node does not know.
            scan.unplaced_updates += 1;
            break;
        }
        keys.insert(key, KeyStatement { lsn: at, value });
    }
    let covers = node_known.then_some(Coverage {
        lo: leaf.lo,
        hi: leaf.hi,
        lsn,
    });
    (keys, covers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A reading with its values read back from disk.
    struct Reading {
        records: BTreeMap<Vec<u8>, Vec<u8>>,
        scan: LogScan,
    }

    fn read_values(dir: &Path) -> io::Result<Reading> {
        let live = read_live_records(dir)?;
        let records = live
            .records
            .iter()
            .map(|(k, v)| (k.clone(), live.value(*v).unwrap()))
            .collect();
        Ok(Reading {
            records,
            scan: live.scan,
        })
    }

    /// sled's background threads may hold a dropped database's file (and
    /// its lock) a moment longer: opening it again waits for them.
    fn open(dir: &Path, segment_size: usize) -> sled::Db {
        let config = sled::Config::new().path(dir).segment_size(segment_size);
        crate::archive::guard::open_sled_waiting(&config).unwrap()
    }

    /// Everything sled's own iteration of the default tree yields.
    fn sled_records(dir: &Path, segment_size: usize) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let db = open(dir, segment_size);
        db.iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect()
    }

    /// How a raw reading differs from sled's: keys it lacks, keys it has
    /// that sled does not, keys whose values differ (the first of each).
    #[derive(Debug, Default, PartialEq)]
    struct Mismatch {
        missing: Vec<Vec<u8>>,
        extra: Vec<Vec<u8>>,
        differing: Vec<Vec<u8>>,
    }

    impl Mismatch {
        fn between(
            raw: &BTreeMap<Vec<u8>, Vec<u8>>,
            sled: &BTreeMap<Vec<u8>, Vec<u8>>,
        ) -> Mismatch {
            let first = |keys: Vec<&Vec<u8>>| keys.into_iter().take(3).cloned().collect();
            Mismatch {
                missing: first(sled.keys().filter(|k| !raw.contains_key(*k)).collect()),
                extra: first(raw.keys().filter(|k| !sled.contains_key(*k)).collect()),
                differing: first(
                    sled.iter()
                        .filter(|(k, v)| raw.get(*k).is_some_and(|r| r != *v))
                        .map(|(k, _)| k)
                        .collect(),
                ),
            }
        }
    }

    /// A key of a one-byte table and a long shared prefix, so sled's
    /// leaves store keys without their common prefix.
    fn key(table: u8, n: u64) -> Vec<u8> {
        let mut k = vec![table];
        k.extend_from_slice(b"http://news.test/story/");
        k.extend_from_slice(&n.to_be_bytes());
        k
    }

    /// A value of `len` bytes that differs by key and by round.
    fn value(n: u64, round: u64, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (n.wrapping_mul(31) ^ round.wrapping_mul(7) ^ i as u64) as u8)
            .collect()
    }

    /// Writes rounds of inserts, overwrites and deletes, closing and
    /// reopening between rounds; values past `blob_len` are over sled's
    /// blob threshold for `segment_size`.
    fn build(dir: &Path, segment_size: usize, rounds: u64, keys: u64, blob_len: usize) {
        for round in 0..rounds {
            let db = open(dir, segment_size);
            for n in 0..keys {
                let table = (n % 3) as u8 + 1;
                match (n + round) % 7 {
                    // Deleted this round (present in some earlier one).
                    0 => {
                        db.remove(key(table, n)).unwrap();
                    }
                    // Big enough to be stored as a blob.
                    1 if n % 50 == 1 => {
                        db.insert(key(table, n), value(n, round, blob_len)).unwrap();
                    }
                    // Left as the last round wrote it.
                    2 | 3 if round > 0 => {}
                    _ => {
                        db.insert(key(table, n), value(n, round, 40 + (n % 200) as usize))
                            .unwrap();
                    }
                }
            }
            if round % 2 == 1 {
                db.flush().unwrap();
            }
            drop(db);
        }
    }

    #[test]
    fn an_undamaged_database_reads_exactly_as_sled_iterates_it() {
        for (segment_size, blob_len) in [(512 * 1024, 200 * 1024), (64 * 1024, 20 * 1024)] {
            let dir = tempfile::tempdir().unwrap();
            build(dir.path(), segment_size, 5, 4_000, blob_len);
            let raw = read_values(dir.path()).unwrap();
            let expected = sled_records(dir.path(), segment_size);
            assert!(expected.len() > 3_000, "{}", expected.len());
            assert!(
                expected.values().any(|v| v.len() == blob_len),
                "no value over the blob threshold"
            );
            assert!(
                std::fs::read_dir(dir.path().join("blobs")).unwrap().count() > 0,
                "sled stored no blob"
            );
            assert_eq!(
                Mismatch::between(&raw.records, &expected),
                Mismatch::default(),
                "segment size {segment_size}: {:?}",
                raw.scan
            );
            assert!(raw.scan.segments > 1, "{:?}", raw.scan);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6))]

        /// Any mix of writes, deletes and reopens: the raw reading and
        /// sled's agree.
        #[test]
        fn random_histories_read_as_sled_iterates_them(
            ops in proptest::collection::vec((0u64..600, 0usize..3_000, any::<bool>(), 0u8..40), 1..2_000)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut db = Some(open(dir.path(), 64 * 1024));
            for (i, (n, len, delete, reopen)) in ops.iter().enumerate() {
                let writing = db.as_ref().unwrap();
                if *delete {
                    writing.remove(key(1, *n)).unwrap();
                } else {
                    // Every ninth value is past the 16 KiB blob threshold.
                    let len = if n % 9 == 0 { 17 * 1024 + len } else { *len };
                    writing.insert(key(1, *n), value(*n, i as u64, len)).unwrap();
                }
                if *reopen == 0 {
                    drop(db.take());
                    db = Some(open(dir.path(), 64 * 1024));
                }
            }
            drop(db);
            let raw = read_values(dir.path()).unwrap();
            let expected = sled_records(dir.path(), 64 * 1024);
            prop_assert_eq!(
                Mismatch::between(&raw.records, &expected),
                Mismatch::default(),
                "{} raw, {} in sled, {:?}",
                raw.records.len(),
                expected.len(),
                raw.scan
            );
        }
    }

    /// A value saying which key and round wrote it, padded to `len`, so a
    /// salvaged value can be told genuine (some round's) or made up.
    fn stamped(n: u64, round: u64, len: usize) -> Vec<u8> {
        let mut v = format!("{n}:{round}:").into_bytes();
        v.extend((0..len).map(|i| b'a' + ((n + round + i as u64) % 26) as u8));
        v
    }

    /// Whether `value` is one some round wrote under `key`.
    fn genuine(key: &[u8], value: &[u8]) -> bool {
        let Some(n) = key
            .get(key.len().saturating_sub(8)..)
            .and_then(|b| b.try_into().ok())
        else {
            return false;
        };
        let n = u64::from_be_bytes(n);
        let text = String::from_utf8_lossy(value);
        let mut parts = text.splitn(3, ':');
        let (Some(written_n), Some(round)) = (parts.next(), parts.next()) else {
            return false;
        };
        let Ok(round) = round.parse::<u64>() else {
            return false;
        };
        written_n == n.to_string()
            && round < ROUNDS
            && key == key_of(n).as_slice()
            && value == stamped(n, round, value.len() - format!("{n}:{round}:").len()).as_slice()
    }

    /// How a damaged reading's records compare with what was written.
    #[derive(Debug)]
    struct Verdict {
        /// Records under a key that was written, with a value no round
        /// wrote under it: never acceptable.
        wrong_values: usize,
        /// Records under a key never written: an update placed on an old
        /// node whose split was lost keeps its key without the longer
        /// prefix sled left out. Rare, and never under a real key.
        unknown_keys: usize,
    }

    impl Verdict {
        fn of(records: &BTreeMap<Vec<u8>, Vec<u8>>) -> Verdict {
            let real = |k: &[u8]| {
                k.len() >= 8
                    && u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap()) < DAMAGE_KEYS
                    && k == key_of(u64::from_be_bytes(k[k.len() - 8..].try_into().unwrap()))
            };
            Verdict {
                wrong_values: records
                    .iter()
                    .filter(|(k, v)| real(k) && !genuine(k, v))
                    .count(),
                unknown_keys: records.keys().filter(|k| !real(k)).count(),
            }
        }

        /// No wrong value, and unknown keys at most 1% of the records (and
        /// two more).
        fn acceptable(&self, records: usize) -> bool {
            self.wrong_values == 0 && self.unknown_keys <= 2 + records / 100
        }
    }

    const ROUNDS: u64 = 3;
    const DAMAGE_KEYS: u64 = 3_000;

    fn key_of(n: u64) -> Vec<u8> {
        key((n % 3) as u8 + 1, n)
    }

    /// A database of [`DAMAGE_KEYS`] keys written over [`ROUNDS`] rounds
    /// (each overwrites a third of them, deletes a few), closed cleanly.
    struct Template {
        dir: tempfile::TempDir,
        /// What sled reads from it.
        records: BTreeMap<Vec<u8>, Vec<u8>>,
    }

    fn damage_template() -> &'static Template {
        static TEMPLATE: std::sync::OnceLock<Template> = std::sync::OnceLock::new();
        TEMPLATE.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            for round in 0..ROUNDS {
                let db = open(dir.path(), 512 * 1024);
                for n in (0..DAMAGE_KEYS).filter(|n| round == 0 || n % 3 == round % 3) {
                    if n % 97 == round {
                        db.remove(key_of(n)).unwrap();
                    } else {
                        db.insert(key_of(n), stamped(n, round, 600 + (n % 700) as usize))
                            .unwrap();
                    }
                }
                drop(db);
            }
            let records = sled_records(dir.path(), 512 * 1024);
            Template { dir, records }
        })
    }

    /// A copy of the template's database with its `db` file replaced.
    fn damaged_copy(bytes: &[u8]) -> tempfile::TempDir {
        let copy = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(damage_template().dir.path()).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_file() {
                std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
            }
        }
        std::fs::write(copy.path().join("db"), bytes).unwrap();
        copy
    }

    /// How many records sled itself gives back from a damaged copy.
    fn sled_salvages(dir: &Path) -> usize {
        let opened = crate::archive::guard::open_sled(dir);
        opened.map_or(0, |db| {
            crate::archive::guard::quietly(|| db.iter().take_while(Result::is_ok).count())
                .unwrap_or(0)
        })
    }

    #[test]
    fn a_database_cut_in_half_still_gives_most_of_its_records() {
        let Template {
            dir,
            records: expected,
        } = damage_template();
        let bytes = std::fs::read(dir.path().join("db")).unwrap();
        // Where sled lays segments out varies from run to run: in twenty
        // runs a cut at 50% kept 64-79% of the keys, at 75% 82-94%; sled
        // itself gave back none.
        for (share, least) in [(0.5, 0.5), (0.75, 0.7)] {
            let cut = damaged_copy(&bytes[..(bytes.len() as f64 * share) as usize]);
            let raw = read_values(cut.path()).unwrap();
            let verdict = Verdict::of(&raw.records);
            assert!(verdict.acceptable(raw.records.len()), "{verdict:?}");
            let current = raw
                .records
                .iter()
                .filter(|(k, v)| expected.get(*k) == Some(*v))
                .count();
            let kept = raw
                .records
                .keys()
                .filter(|k| expected.contains_key(*k))
                .count();
            let by_sled = sled_salvages(cut.path());
            eprintln!(
                "cut at {share}: raw reader {kept} of {} keys ({current} at their newest value), sled {by_sled}; {:?}",
                expected.len(),
                raw.scan
            );
            assert!(
                by_sled < kept,
                "sled gave back {by_sled}, the raw reader {kept}"
            );
            assert!(
                kept as f64 >= least * expected.len() as f64,
                "cut at {share}: only {kept} of {} keys",
                expected.len()
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Cut, zeroed, flipped or random bytes: the reader never panics,
        /// never gives a value no round wrote under a key, and rarely a
        /// key that was never written.
        #[test]
        fn damaged_bytes_never_panic_nor_give_wrong_values(
            damage in 0u8..4,
            at in 0.0f64..1.0,
            len in 1usize..70_000,
            flips in proptest::collection::vec((0.0f64..1.0, 1u8..=255), 1..40),
            seed in any::<u64>(),
        ) {
            let mut bytes = std::fs::read(damage_template().dir.path().join("db")).unwrap();
            let start = (bytes.len() as f64 * at) as usize;
            match damage {
                0 => bytes.truncate(start),
                1 => {
                    let end = (start + len).min(bytes.len());
                    bytes[start..end].fill(0);
                }
                2 => {
                    for (share, mask) in &flips {
                        let i = ((bytes.len() - 1) as f64 * share) as usize;
                        bytes[i] ^= mask;
                    }
                }
                _ => {
                    let mut state = seed | 1;
                    bytes = (0..len * 8)
                        .map(|_| {
                            state ^= state << 13;
                            state ^= state >> 7;
                            state ^= state << 17;
                            state as u8
                        })
                        .collect();
                }
            }
            let copy = damaged_copy(&bytes);
            let raw = read_values(copy.path()).unwrap();
            if damage < 3 {
                let verdict = Verdict::of(&raw.records);
                prop_assert!(verdict.acceptable(raw.records.len()), "{:?}", verdict);
            }
        }
    }
}
