//! Who the client is: the peer, unless the operator named it a trusted proxy; then the address
//! it forwarded, read from the right so that nothing the client wrote itself is believed. That
//! address feeds the rate limits, the visitor hash and the country.

use crate::helpers::*;
use crate::public::{ORIGIN, PAGE, Site, create_site, public_request};
use serde_json::json;

/// A share button's request as if forwarded for the chain of addresses `forwarded_for`.
async fn mint_for(app: &TestApp, site: &Site, forwarded_for: &str) -> u16 {
    let body = json!({"site": site.key, "url": PAGE, "channel": "whatsapp"}).to_string();
    public_request(app, "shares", Some(ORIGIN), body)
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn forwarding_headers_from_an_untrusted_peer_are_ignored(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.public_rate_per_ip = 2).await;
    let site = create_site(&app).await;

    // Each request claims another address; all come from the same peer, which is the client.
    let statuses = [
        mint_for(&app, &site, "198.51.100.1").await,
        mint_for(&app, &site, "198.51.100.2").await,
        mint_for(&app, &site, "198.51.100.3").await,
    ];

    assert_eq!(statuses, [201, 201, 429]);
}

async fn behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.public_rate_per_ip = 1;
        s.trusted_proxies = "127.0.0.1, 10.0.0.0/8".parse().unwrap();
    })
    .await;
    let site = create_site(&app).await;

    // The client writes what it likes at the left end; the proxies append who they saw.
    let first = mint_for(&app, &site, "6.6.6.6, 198.51.100.9, 10.0.0.3").await;
    let spoofed = mint_for(&app, &site, "7.7.7.7, 198.51.100.9, 10.0.0.3").await;
    let other_client = mint_for(&app, &site, "6.6.6.6, 198.51.100.10, 10.0.0.3").await;

    assert_eq!(first, 201);
    assert_eq!(spoofed, 429, "the same client, whatever it wrote on the left");
    assert_eq!(other_client, 201, "another client has its own allowance");
}

async fn ipv6_clients_share_a_rate_limit_per_64(backend: Backend) {
    let app = spawn_app_with(backend, |s| {
        s.public_rate_per_ip = 1;
        s.trusted_proxies = "127.0.0.1".parse().unwrap();
    })
    .await;
    let site = create_site(&app).await;

    let statuses = [
        mint_for(&app, &site, "2001:db8:1:2::1").await,
        mint_for(&app, &site, "2001:db8:1:2:ffff::9").await,
        mint_for(&app, &site, "2001:db8:1:3::1").await,
    ];

    assert_eq!(
        statuses,
        [201, 429, 201],
        "a new address in the same /64 is the same client"
    );
}

async fn the_visitor_hash_counts_the_forwarded_client(backend: Backend, trusted: bool) -> i64 {
    let app = spawn_app_with(backend, |s| {
        if trusted {
            s.trusted_proxies = "127.0.0.1".parse().unwrap();
        }
    })
    .await;
    let link = app.create_link("https://example.com/", None).await;
    let code = app.share_code(link, "email").await;
    for client in ["198.51.100.1", "198.51.100.2"] {
        let response = app
            .client
            .get(app.url(&format!("/{code}")))
            .header("user-agent", BROWSER_UA)
            .header("x-forwarded-for", client)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
    }
    app.wait_for_visits(2).await;
    app.stats(link).await["unique_visitors"].as_i64().unwrap()
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored_on_sqlite() {
    forwarding_headers_from_an_untrusted_peer_are_ignored(Backend::Sqlite).await;
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored_on_postgres() {
    forwarding_headers_from_an_untrusted_peer_are_ignored(Backend::Postgres).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right_on_sqlite() {
    behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right(Backend::Sqlite).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right_on_postgres() {
    behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right(Backend::Postgres).await;
}

#[tokio::test]
async fn ipv6_clients_share_a_rate_limit_per_64_on_sqlite() {
    ipv6_clients_share_a_rate_limit_per_64(Backend::Sqlite).await;
}

#[tokio::test]
async fn ipv6_clients_share_a_rate_limit_per_64_on_postgres() {
    ipv6_clients_share_a_rate_limit_per_64(Backend::Postgres).await;
}

#[tokio::test]
async fn visitors_behind_a_trusted_proxy_are_told_apart_and_spoofers_are_not() {
    assert_eq!(
        the_visitor_hash_counts_the_forwarded_client(Backend::Sqlite, true).await,
        2
    );
    assert_eq!(
        the_visitor_hash_counts_the_forwarded_client(Backend::Sqlite, false).await,
        1,
        "without a trusted proxy, both requests are the one peer"
    );
}
