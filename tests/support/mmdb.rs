//! A tiny MaxMind DB writer, so GeoIP tests need no downloaded database.
//!
//! Follows the MaxMind DB format 2.0 (https://maxmind.github.io/MaxMind-DB/) only as far as country records need:
//! one IPv6 search tree with 24-bit records, IPv4 networks under `::/96` (where readers look for them), then the
//! 16-byte separator, the data section and the metadata. Identical records are written once and shared.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::path::Path;

const DATA_SECTION_SEPARATOR: [u8; 16] = [0; 16];
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";
const RECORD_LIMIT: usize = 1 << 24;

// Data-section type numbers from the spec; those above 7 are written as "extended" types.
const STRING: u8 = 2;
const UINT16: u8 = 5;
const UINT32: u8 = 6;
const MAP: u8 = 7;
const UINT64: u8 = 9;
const ARRAY: u8 = 11;

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    Data(usize),
}

/// Writes a GeoIP2-Country-shaped database: each network (CIDR, IPv4 or IPv6) maps to
/// `{"country": {"iso_code": .., "names": {"en": ..}}}`. A network inside a listed wider one overrides it there.
pub fn write_country_db(path: &Path, networks: &[(&str, &str)]) -> io::Result<()> {
    let mut parsed = networks
        .iter()
        .map(|&(cidr, iso)| parse_cidr(cidr).map(|(bits, len)| (bits, len, iso)))
        .collect::<io::Result<Vec<_>>>()?;
    // Wider networks first: a narrower one then splits the wider one's leaf instead of being overwritten by it.
    parsed.sort_by_key(|&(_, len, _)| len);

    let mut data = Vec::new();
    let mut offsets = BTreeMap::new();
    let mut tree = vec![[Record::Empty; 2]];
    for (bits, len, iso) in parsed {
        let offset = *offsets.entry(iso).or_insert_with(|| {
            let at = data.len();
            country_record(&mut data, iso);
            at
        });
        insert(&mut tree, bits, len, offset);
    }

    let node_count = tree.len();
    let mut file = Vec::new();
    for node in &tree {
        for record in node {
            let value = match *record {
                Record::Empty => node_count,
                Record::Node(index) => index,
                Record::Data(offset) => node_count + DATA_SECTION_SEPARATOR.len() + offset,
            };
            if value >= RECORD_LIMIT {
                return Err(invalid("too many networks for 24-bit records"));
            }
            file.extend_from_slice(&(value as u32).to_be_bytes()[1..]);
        }
    }
    file.extend_from_slice(&DATA_SECTION_SEPARATOR);
    file.extend_from_slice(&data);
    file.extend_from_slice(METADATA_MARKER);
    metadata(&mut file, node_count as u32);
    std::fs::write(path, file)
}

/// The network as 128 bits and a prefix length in the IPv6 tree.
fn parse_cidr(cidr: &str) -> io::Result<(u128, u32)> {
    let (addr, len) = cidr.split_once('/').ok_or_else(|| invalid(cidr))?;
    let len: u32 = len.parse().map_err(|_| invalid(cidr))?;
    let (bits, len) = match addr.parse::<IpAddr>().map_err(|_| invalid(cidr))? {
        IpAddr::V4(v4) if len <= 32 => (u128::from(u32::from(v4)), 96 + len),
        IpAddr::V6(v6) if len <= 128 => (u128::from(v6), len),
        _ => return Err(invalid(cidr)),
    };
    // The tree's root is a node, so a record cannot cover the whole address space.
    if len == 0 {
        return Err(invalid(cidr));
    }
    Ok((bits, len))
}

fn insert(tree: &mut Vec<[Record; 2]>, bits: u128, len: u32, offset: usize) {
    let mut node = 0;
    for depth in 0..len {
        let bit = ((bits >> (127 - depth)) & 1) as usize;
        if depth + 1 == len {
            tree[node][bit] = Record::Data(offset);
            return;
        }
        node = match tree[node][bit] {
            Record::Node(next) => next,
            // An empty or wider-network leaf on the way down becomes a node whose halves both keep it.
            leaf => {
                tree.push([leaf; 2]);
                tree[node][bit] = Record::Node(tree.len() - 1);
                tree.len() - 1
            }
        };
    }
}

fn country_record(out: &mut Vec<u8>, iso: &str) {
    control(out, MAP, 1);
    string(out, "country");
    control(out, MAP, 2);
    string(out, "iso_code");
    string(out, iso);
    string(out, "names");
    control(out, MAP, 1);
    string(out, "en");
    string(out, &format!("Country {iso}"));
}

fn metadata(out: &mut Vec<u8>, node_count: u32) {
    control(out, MAP, 9);
    string(out, "binary_format_major_version");
    uint(out, UINT16, 2);
    string(out, "binary_format_minor_version");
    uint(out, UINT16, 0);
    string(out, "build_epoch");
    uint(out, UINT64, 1_700_000_000);
    string(out, "database_type");
    string(out, "GeoIP2-Country");
    string(out, "description");
    control(out, MAP, 1);
    string(out, "en");
    string(out, "Test country database");
    string(out, "ip_version");
    uint(out, UINT16, 6);
    string(out, "languages");
    control(out, ARRAY, 1);
    string(out, "en");
    string(out, "node_count");
    uint(out, UINT32, u64::from(node_count));
    string(out, "record_size");
    uint(out, UINT16, 24);
}

/// Control byte: type in the top 3 bits (0 plus a following byte for extended types), then the size.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (head, extended) = if kind > 7 {
        (0, Some(kind - 7))
    } else {
        (kind << 5, None)
    };
    let (small, extra) = match size {
        0..29 => (size as u8, vec![]),
        29..285 => (29, vec![(size - 29) as u8]),
        285..65_821 => (30, (size as u32 - 285).to_be_bytes()[2..].to_vec()),
        _ => (31, (size as u32 - 65_821).to_be_bytes()[1..].to_vec()),
    };
    out.push(head | small);
    out.extend(extended);
    out.extend(extra);
}

fn string(out: &mut Vec<u8>, value: &str) {
    control(out, STRING, value.len());
    out.extend_from_slice(value.as_bytes());
}

/// Unsigned integers are big-endian with leading zero bytes dropped (zero is no bytes at all).
fn uint(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(out, kind, bytes.len() - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("test MMDB: {what}"))
}
