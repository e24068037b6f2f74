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
