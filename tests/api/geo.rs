//! Country per visit from an operator-supplied MMDB file; the address itself is never stored.

use crate::helpers::*;

#[path = "../support/mmdb.rs"]
mod mmdb;

async fn visits_carry_the_country_and_never_the_address(backend: Backend) {
    let dir = tempfile::Builder::new().prefix("sharetrail-geo-").tempdir().unwrap();
    let geo_db = dir.path().join("country.mmdb");
    mmdb::write_country_db(&geo_db, &[("81.2.69.0/24", "GB"), ("2001:db8::/32", "DE")]).unwrap();
    let app = spawn_app_with(backend, |settings| {
        settings.geoip_db = Some(geo_db.clone());
        settings.trusted_proxies = "127.0.0.1".parse().unwrap();
    })
    .await;
    let link = app.create_link("https://example.com/", None).await;
    let code = app.share_code(link, "email").await;

    for client_ip in ["81.2.69.160", "2001:db8::1", "198.51.100.7"] {
        app.client
            .get(app.url(&format!("/{code}")))
            .header("user-agent", BROWSER_UA)
            .header("x-forwarded-for", client_ip)
            .send()
            .await
            .unwrap();
    }
    app.wait_for_visits(3).await;

    let mut countries = app.db.strings("SELECT country FROM visits").await;
    countries.sort();
    assert_eq!(countries, [None, Some("DE".to_owned()), Some("GB".to_owned())]);
    let visitors = app.db.strings("SELECT visitor FROM visits").await;
    assert!(
        visitors
            .iter()
            .flatten()
            .all(|v| v.len() == 32 && !v.contains("81.2.69")),
        "{visitors:?}"
    );
}

mod visits_carry_the_country_of_their_address_and_never_the_address {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        visits_carry_the_country_and_never_the_address(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        visits_carry_the_country_and_never_the_address(Backend::Postgres).await;
    }
}

/// `GeoIp` itself on databases the MMDB writer makes: which addresses get which country, and
/// which files it refuses.
mod lookups {
    use super::mmdb;
    use sharetrail::geo::GeoIp;
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
    fn a_truncated_database_is_an_error() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("truncated.mmdb");
        mmdb::write_country_db(&file, NETWORKS).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 20]).unwrap();
        assert!(GeoIp::open(&file).is_err());
    }
}
