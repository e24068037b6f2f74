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

#[cfg(test)]
#[path = "../tests/support/mmdb.rs"]
mod mmdb;

#[cfg(test)]
mod tests {
    use super::{GeoIp, mmdb};
    use tempfile::TempDir;

    fn geo(networks: &[(&str, &str)]) -> (TempDir, GeoIp) {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("country.mmdb");
        mmdb::write_country_db(&file, networks).unwrap();
        let geo = GeoIp::open(&file).unwrap();
        (dir, geo)
    }

    fn country(geo: &GeoIp, ip: &str) -> Option<String> {
        geo.country(ip.parse().unwrap()).map(|c| c.as_str().to_owned())
    }

    const NETWORKS: &[(&str, &str)] = &[("81.2.69.0/24", "GB"), ("2001:db8::/32", "DE"), ("10.0.0.0/8", "FR")];

    #[test]
    fn an_ipv4_address_in_a_listed_network_gets_its_country() {
        let (_dir, geo) = geo(NETWORKS);
        assert_eq!(country(&geo, "81.2.69.142").as_deref(), Some("GB"));
    }

    #[test]
    fn an_address_outside_every_listed_network_has_no_country() {
        let (_dir, geo) = geo(NETWORKS);
        assert_eq!(country(&geo, "81.2.70.1"), None);
        assert_eq!(country(&geo, "2001:db9::1"), None);
    }

    #[test]
    fn an_ipv6_address_in_a_listed_network_gets_its_country() {
        let (_dir, geo) = geo(NETWORKS);
        assert_eq!(country(&geo, "2001:db8:1234::1").as_deref(), Some("DE"));
    }

    #[test]
    fn an_ipv4_client_seen_through_a_dual_stack_socket_gets_its_country() {
        let (_dir, geo) = geo(NETWORKS);
        assert_eq!(country(&geo, "::ffff:81.2.69.142").as_deref(), Some("GB"));
    }

    #[test]
    fn private_and_loopback_addresses_have_no_country_even_when_listed() {
        let (_dir, geo) = geo(NETWORKS);
        for ip in ["10.1.2.3", "127.0.0.1", "::1", "fd00::1", "fe80::1"] {
            assert_eq!(country(&geo, ip), None, "{ip}");
        }
    }

    #[test]
    fn a_narrower_network_overrides_the_wider_one_around_it() {
        let (_dir, geo) = geo(&[("81.2.69.160/27", "IE"), ("81.2.0.0/16", "GB")]);
        assert_eq!(country(&geo, "81.2.69.170").as_deref(), Some("IE"));
        assert_eq!(country(&geo, "81.2.69.142").as_deref(), Some("GB"));
    }

    #[test]
    fn a_lower_case_code_comes_back_upper_case_and_a_malformed_one_as_none() {
        let (_dir, geo) = geo(&[("81.2.69.0/24", "gb"), ("81.2.70.0/24", "Great Britain")]);
        assert_eq!(country(&geo, "81.2.69.1").as_deref(), Some("GB"));
        assert_eq!(country(&geo, "81.2.70.1"), None);
    }

    #[test]
    fn the_test_database_passes_the_readers_own_verification() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("country.mmdb");
        // A long value too, so sizes past the one-byte form are written.
        let long = "a value longer than the twenty-nine bytes a control byte holds";
        mmdb::write_country_db(&file, &[NETWORKS, &[("81.2.70.0/24", long)]].concat()).unwrap();
        maxminddb::Reader::open_readfile(&file).unwrap().verify().unwrap();
    }

    #[test]
    fn one_open_database_answers_every_worker_thread() {
        let (_dir, geo) = geo(NETWORKS);
        let geo = std::sync::Arc::new(geo);
        let workers: Vec<_> = [
            ("81.2.69.142", Some("GB")),
            ("2001:db8::7", Some("DE")),
            ("81.2.70.1", None),
        ]
        .into_iter()
        .map(|(ip, expected)| {
            let geo = geo.clone();
            std::thread::spawn(move || (0..100).all(|_| country(&geo, ip).as_deref() == expected))
        })
        .collect();
        for worker in workers {
            assert!(
                worker.join().expect("a worker"),
                "every lookup on every thread is right"
            );
        }
    }

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

    #[test]
    fn a_truncated_database_is_an_error() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("truncated.mmdb");
        mmdb::write_country_db(&file, NETWORKS).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 20]).unwrap();
        assert!(GeoIp::open(&file).is_err());
    }
}
