//! Optional GeoIP: the country of a visit, from a MaxMind-format database the operator supplies
//! (GeoLite2-Country, DB-IP country lite, or any City file). Only the country code leaves this module.

use crate::domain::visit::Country;
use anyhow::Context;
use maxminddb::{Reader, path};
use std::net::IpAddr;
use std::path::Path;

/// Country lookup from an MMDB file; cheap to share (Arc) and to call on the hot path (no I/O: the file is read into
/// memory at start).
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

impl GeoIp {
    pub fn open(path: &Path) -> anyhow::Result<GeoIp> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read GeoIP database {}", path.display()))?;
        let reader =
            Reader::from_source(bytes).with_context(|| format!("{} is not a MaxMind DB file", path.display()))?;
        Ok(GeoIp { reader })
    }

    /// Upper-case ISO 3166-1 alpha-2 code; `None` for private or unknown addresses and for any lookup error, since a
    /// visit without a country is better than a failed redirect.
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; the tree files them as plain IPv4.
        let ip = ip.to_canonical();
        if !is_routable(ip) {
            return None;
        }
        // Only the one field is decoded: no names, no allocation until the answer.
        let code: &str = self
            .reader
            .lookup(ip)
            .ok()?
            .decode_path(&path!["country", "iso_code"])
            .ok()??;
        // The column holds two letters; anything else in a third-party file counts as unknown.
        Country::parse(code)
    }
}

/// Addresses no database places in a country; skipping them saves the tree walk.
fn is_routable(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local())
        }
    }
}

// The lookups themselves are tested in tests/api/geo.rs, against databases written by the
// test-only MMDB writer in tests/support/mmdb.rs.
#[cfg(test)]
mod tests {
    use super::GeoIp;
    use tempfile::TempDir;

    #[test]
    fn a_missing_file_is_an_error_naming_the_path() {
        let dir = TempDir::new().unwrap();
        let missing = dir.path().join("absent.mmdb");
        let err = GeoIp::open(&missing).err().expect("a missing file must not open");
        assert!(format!("{err:#}").contains(&missing.display().to_string()), "{err:#}");
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_the_path() {
        let dir = TempDir::new().unwrap();
        let corrupt = dir.path().join("corrupt.mmdb");
        std::fs::write(&corrupt, b"this is not a MaxMind database").unwrap();
        let err = GeoIp::open(&corrupt).err().expect("a corrupt file must not open");
        assert!(format!("{err:#}").contains(&corrupt.display().to_string()), "{err:#}");
    }
}
